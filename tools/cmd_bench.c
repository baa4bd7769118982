/* `leakycl bench`: leakycl-bench under the tool's roof (bench/bench.c does the work). */
#include "bench.h"
#include "cli.h"

static int run_bench(int argc, char **argv) { return leakycl_bench_main(argc, argv); }

const struct cli_command cli_cmd_bench = {
    .name = "bench",
    .summary = "time every op against the device's copy bandwidth and the CPU backend",
    .usage = leakycl_bench_usage,
    .run = run_bench,
};
