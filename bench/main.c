/* leakycl-bench: see bench.h and --help. */
#include "bench.h"

int main(int argc, char **argv) { return leakycl_bench_main(argc, argv); }
