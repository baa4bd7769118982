/* leakycl-bench's outputs: the table, the crossovers, CSV, JSON and the gnuplot chart. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void format_size(size_t n, char *buf, size_t size) {
    if (n && (n & (n - 1)) == 0) {
        int k = 0;
        while (((size_t)1 << k) != n)
            ++k;
        snprintf(buf, size, "2^%d", k);
    } else {
        snprintf(buf, size, "%zu", n);
    }
}

static void format_time(double s, char *buf, size_t size) {
    if (s < 1e-3)
        snprintf(buf, size, "%8.2f us", s * 1e6);
    else if (s < 1)
        snprintf(buf, size, "%8.3f ms", s * 1e3);
    else
        snprintf(buf, size, "%8.3f s ", s);
}

void bench_print_table(FILE *out, const struct bench_rows *rows) {
    fprintf(out, "%-12s %-9s %-21s %-5s %6s %11s %6s %8s %7s %7s\n", "device", "view", "op", "dtype", "n", "time",
            "spread", "GB/s", "%copy", "vs CPU");
    const char *last_device = "";
    for (size_t i = 0; i < rows->count; ++i) {
        const struct bench_row *r = &rows->rows[i];
        if (strcmp(r->device, last_device) != 0)
            fprintf(out, "# %s: %s\n", r->device, r->device_name);
        last_device = r->device;
        char n[24];
        char t[24];
        char vs[16] = "-";
        format_size(r->n, n, sizeof n);
        format_time(r->seconds, t, sizeof t);
        if (r->cpu_seconds > 0 && strcmp(r->device, "cpu") != 0)
            snprintf(vs, sizeof vs, "%.2fx", r->cpu_seconds / r->seconds);
        fprintf(out, "%-12s %-9s %-21s %-5s %6s %11s %5.0f%% %8.2f %6.0f%% %7s\n", r->device, bench_view_name(r->view),
                bench_op_name(r->op), lcl_dtype_name(r->dtype), n, t, 100 * r->spread, bench_gbps(r),
                100 * bench_copy_share(r), vs);
    }
}

static bool same_series(const struct bench_row *a, const struct bench_row *b) {
    return strcmp(a->device, b->device) == 0 && a->view == b->view && a->op == b->op && a->dtype == b->dtype;
}

/* The smallest measured size from which the device beats the CPU backend at every larger
 * measured size too; 0 when it does not beat it at the largest. */
static size_t crossover(const struct bench_rows *rows, const struct bench_row *series) {
    size_t from = 0;
    for (size_t i = 0; i < rows->count; ++i) {
        const struct bench_row *r = &rows->rows[i];
        if (!same_series(r, series) || r->cpu_seconds <= 0)
            continue;
        if (r->seconds < r->cpu_seconds) {
            if (from == 0)
                from = r->n;
        } else {
            from = 0;
        }
    }
    return from;
}

void bench_print_crossovers(FILE *out, const struct bench_rows *rows) {
    bool header = false;
    for (size_t i = 0; i < rows->count; ++i) {
        const struct bench_row *r = &rows->rows[i];
        bool first_of_series = true;
        for (size_t j = 0; j < i && first_of_series; ++j)
            first_of_series = !same_series(&rows->rows[j], r);
        if (!first_of_series || strcmp(r->device, "cpu") == 0)
            continue;
        if (!header) {
            fprintf(out, "\ncrossover: the size from which the device beats the CPU backend\n");
            header = true;
        }
        size_t from = crossover(rows, r);
        char n[24] = "never";
        if (from)
            format_size(from, n, sizeof n);
        fprintf(out, "  %-12s %-9s %-21s %-5s %s\n", r->device, bench_view_name(r->view), bench_op_name(r->op),
                lcl_dtype_name(r->dtype), n);
    }
}

/* Offload rows against the bus: on a discrete GPU the op can at best overlap its uploads with
 * its downloads, so the slower direction is its floor. */
void bench_print_transfers(FILE *out, const struct bench_rows *rows) {
    bool header = false;
    for (size_t i = 0; i < rows->count; ++i) {
        const struct bench_row *r = &rows->rows[i];
        if (r->view != BENCH_OFFLOAD || r->h2d_seconds <= 0 || r->d2h_seconds <= 0)
            continue;
        if (!header) {
            fprintf(out, "\noffload against the bus (pinned host memory <-> device, one array each way; a device "
                         "that shares host memory\nruns the host API zero-copy, not over this bus, and can pass "
                         "100%%)\n");
            fprintf(out, "  %-12s %-9s %-5s %6s %9s %9s %11s %6s\n", "device", "op", "dtype", "n", "H2D GB/s",
                    "D2H GB/s", "op GB/s", "%bus");
            header = true;
        }
        double array = (double)r->n * (double)lcl_dtype_size(r->dtype);
        char n[24];
        format_size(r->n, n, sizeof n);
        fprintf(out, "  %-12s %-9s %-5s %6s %9.2f %9.2f %11.2f %5.0f%%\n", r->device, bench_op_name(r->op),
                lcl_dtype_name(r->dtype), n, array / r->h2d_seconds / 1e9, array / r->d2h_seconds / 1e9, bench_gbps(r),
                100 * bench_bus_share(r));
    }
}

static FILE *open_output(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "leakycl-bench: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int close_output(FILE *f, const char *path) {
    if (fclose(f) != 0) {
        fprintf(stderr, "leakycl-bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int bench_write_csv(const char *path, const struct bench_rows *rows) {
    FILE *f = open_output(path);
    if (!f)
        return -1;
    fprintf(f, "device,device_name,view,op,dtype,n,bytes,seconds,spread,samples,gbps,copy_seconds,copy_share,"
               "cpu_seconds,speedup_vs_cpu,h2d_seconds,d2h_seconds,bus_share\n");
    for (size_t i = 0; i < rows->count; ++i) {
        const struct bench_row *r = &rows->rows[i];
        fprintf(f, "%s,\"%s\",%s,%s,%s,%zu,%zu,%.9g,%.4f,%d,%.4f,%.9g,%.4f,%.9g,%.4f,%.9g,%.9g,%.4f\n", r->device,
                r->device_name, bench_view_name(r->view), bench_op_name(r->op), lcl_dtype_name(r->dtype), r->n,
                r->bytes, r->seconds, r->spread, r->samples, bench_gbps(r), r->copy_seconds, bench_copy_share(r),
                r->cpu_seconds, r->cpu_seconds > 0 ? r->cpu_seconds / r->seconds : 0.0, r->h2d_seconds, r->d2h_seconds,
                bench_bus_share(r));
    }
    return close_output(f, path);
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; ++s) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

int bench_write_json(const char *path, const struct bench_rows *rows) {
    FILE *f = open_output(path);
    if (!f)
        return -1;
    fputs("[\n", f);
    for (size_t i = 0; i < rows->count; ++i) {
        const struct bench_row *r = &rows->rows[i];
        fputs("  {\"device\": ", f);
        json_string(f, r->device);
        fputs(", \"device_name\": ", f);
        json_string(f, r->device_name);
        fprintf(f,
                ", \"view\": \"%s\", \"op\": \"%s\", \"dtype\": \"%s\", \"n\": %zu, \"bytes\": %zu, "
                "\"seconds\": %.9g, \"spread\": %.4f, \"samples\": %d, \"gbps\": %.4f, \"copy_seconds\": %.9g, "
                "\"copy_share\": %.4f, \"cpu_seconds\": %.9g, \"h2d_seconds\": %.9g, \"d2h_seconds\": %.9g, "
                "\"bus_share\": %.4f}%s\n",
                bench_view_name(r->view), bench_op_name(r->op), lcl_dtype_name(r->dtype), r->n, r->bytes, r->seconds,
                r->spread, r->samples, bench_gbps(r), r->copy_seconds, bench_copy_share(r), r->cpu_seconds,
                r->h2d_seconds, r->d2h_seconds, bench_bus_share(r), i + 1 < rows->count ? "," : "");
    }
    fputs("]\n", f);
    return close_output(f, path);
}

static bool have_gnuplot(void) {
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char candidate[4200];
        snprintf(candidate, sizeof candidate, "%s/gnuplot", dir);
        if (access(candidate, X_OK) == 0)
            return true;
    }
    return false;
}

/* One gnuplot data block per series (device, view, op, dtype), GB/s against n. */
static void write_plot_data(FILE *f, const struct bench_rows *rows, int *series_count) {
    *series_count = 0;
    for (size_t i = 0; i < rows->count; ++i) {
        const struct bench_row *r = &rows->rows[i];
        bool first_of_series = true;
        for (size_t j = 0; j < i && first_of_series; ++j)
            first_of_series = !same_series(&rows->rows[j], r);
        if (!first_of_series)
            continue;
        fprintf(f, "$s%d << EOD\n", (*series_count)++);
        for (size_t j = i; j < rows->count; ++j)
            if (same_series(&rows->rows[j], r))
                fprintf(f, "%zu %.4f\n", rows->rows[j].n, bench_gbps(&rows->rows[j]));
        fprintf(f, "EOD\n");
    }
}

int bench_plot(const char *path, const struct bench_rows *rows) {
    if (!have_gnuplot()) {
        fprintf(stderr, "leakycl-bench: --plot needs gnuplot, which is not on PATH (Debian: apt-get install "
                        "gnuplot-nox); the table, CSV and JSON are unaffected\n");
        return -1;
    }
    FILE *g = popen("gnuplot", "w"); /* NOLINT(cert-env33-c): a fixed command, found on PATH */
    if (!g) {
        fprintf(stderr, "leakycl-bench: cannot start gnuplot: %s\n", strerror(errno));
        return -1;
    }
    int series = 0;
    write_plot_data(g, rows, &series);
    fprintf(g, "set terminal pngcairo size 1400,900 noenhanced\nset output '%s'\n", path);
    fprintf(g, "set logscale x 2\nset format x '2^%%L'\nset xlabel 'elements'\nset ylabel 'GB/s (bytes the op "
               "must move / time)'\nset key outside right\nset grid\n");
    fprintf(g, "set title 'leakycl: leaky ReLU throughput against size'\nplot ");
    int s = 0;
    for (size_t i = 0; i < rows->count; ++i) {
        const struct bench_row *r = &rows->rows[i];
        bool first_of_series = true;
        for (size_t j = 0; j < i && first_of_series; ++j)
            first_of_series = !same_series(&rows->rows[j], r);
        if (!first_of_series)
            continue;
        fprintf(g, "%s$s%d with linespoints title '%s %s %s %s'", s ? ", " : "", s, r->device, bench_view_name(r->view),
                bench_op_name(r->op), lcl_dtype_name(r->dtype));
        ++s;
    }
    fprintf(g, "\n");
    int rc = pclose(g);
    if (rc != 0) {
        fprintf(stderr, "leakycl-bench: gnuplot failed (status %d) drawing %s\n", rc, path);
        return -1;
    }
    (void)series;
    return 0;
}
