/* leakycl-bench: every op on every device against the device's own copy bandwidth, the CPU
 * backend and (in bench/peers/) other libraries. Internal to bench/ and the leakycl tool. */
#ifndef LEAKYCL_BENCH_H
#define LEAKYCL_BENCH_H

#include "leakycl.h"

/* Runs the benchmark with leakycl-bench's command line (argv[0] is the program or command
 * name); returns the process exit code: 0, 1 when something failed, 2 for a bad command line. */
int leakycl_bench_main(int argc, char **argv);

/* The --help text. */
extern const char leakycl_bench_usage[];

#endif /* LEAKYCL_BENCH_H */
