/* leakycl-bench's output: the table, crossovers, transfers, CSV, JSON and a plot (report.c). */
#ifndef LEAKYCL_BENCH_REPORT_H
#define LEAKYCL_BENCH_REPORT_H

#include <stdio.h>

#include "rows.h"

void bench_print_table(FILE *out, const struct bench_rows *rows);
void bench_print_crossovers(FILE *out, const struct bench_rows *rows);
void bench_print_transfers(FILE *out, const struct bench_rows *rows);
int bench_write_csv(const char *path, const struct bench_rows *rows);
int bench_write_json(const char *path, const struct bench_rows *rows);
int bench_plot(const char *path, const struct bench_rows *rows);

#endif /* LEAKYCL_BENCH_REPORT_H */
