/*
 * leakycl — the command-line tool: `leakycl devices`, `leakycl check`, help and version.
 * A subcommand is one entry in the table below and one file (cmd_<name>.c).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A new subcommand (e.g. `leakycl bench`): a tools/cmd_<name>.c that defines
 * `const struct cli_command cli_cmd_<name>`, declared in cli.h, listed here, and added to the
 * leakycl_cli sources in CMakeLists.txt. Help, --help and unknown-command handling come free. */
static const struct cli_command *const commands[] = {
    &cli_cmd_devices,
    &cli_cmd_check,
    &cli_cmd_bench,
    &cli_cmd_tune,
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

void cli_error(const char *fmt, ...) {
    fputs("leakycl: ", stderr);
    va_list args;
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
}

int cli_option(int argc, char **argv, int *i, const char *command, const char *name, const char **value) {
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0) {
        return 0;
    }
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0') {
        return 0;
    }
    if (*i + 1 >= argc) {
        cli_error("%s: option '%s' needs a value (see 'leakycl %s --help')", command, name, command);
        return -1;
    }
    *i += 1;
    *value = argv[*i];
    return 1;
}

int cli_parse_u64(const char *command, const char *option, const char *text, uint64_t max, uint64_t *out) {
    /* strtoull accepts leading spaces and a sign (and wraps "-1" around): allow digits only. */
    if (!isdigit((unsigned char)text[0])) {
        cli_error("%s: %s wants a non-negative integer, not '%s'", command, option, text);
        return -1;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long value = strtoull(text, &end, 10);
    if (*end != '\0') {
        cli_error("%s: %s wants a non-negative integer, not '%s'", command, option, text);
        return -1;
    }
    if (errno == ERANGE || value > max) {
        cli_error("%s: %s %s is too large (at most %llu)", command, option, text, (unsigned long long)max);
        return -1;
    }
    *out = (uint64_t)value;
    return 0;
}

int cli_parse_double(const char *command, const char *option, const char *text, double *out) {
    errno = 0;
    char *end = NULL;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || isspace((unsigned char)text[0])) {
        cli_error("%s: %s wants a number, not '%s'", command, option, text);
        return -1;
    }
    if (!isfinite(value) || (errno == ERANGE && fabs(value) > 1.0)) {
        cli_error("%s: %s wants a finite number, not '%s'", command, option, text);
        return -1;
    }
    *out = value;
    return 0;
}

int cli_parse_dtype(const char *command, const char *option, const char *text, lcl_dtype *out) {
    static const lcl_dtype dtypes[] = {LCL_F32, LCL_F16, LCL_BF16, LCL_F64};
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
        if (strcmp(text, lcl_dtype_name(dtypes[i])) == 0) {
            *out = dtypes[i];
            return 0;
        }
    }
    cli_error("%s: %s wants one of f32, f16, bf16, f64, not '%s'", command, option, text);
    return -1;
}

const char *cli_format_bytes(uint64_t bytes, char *buf, size_t size) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = (double)bytes;
    size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < sizeof units / sizeof units[0]) {
        value /= 1024.0;
        unit++;
    }
    if (unit == 0) {
        snprintf(buf, size, "%llu B", (unsigned long long)bytes);
    } else {
        snprintf(buf, size, "%.1f %s", value, units[unit]);
    }
    return buf;
}

static void print_usage(FILE *out) {
    fprintf(out, "usage: leakycl <command> [options]\n"
                 "\n"
                 "Leaky ReLU, forward and backward, on OpenCL devices and on the CPU.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    }
    fprintf(out, "  %-10s %s\n", "help", "show this text, or a command's (leakycl help <command>)");
    fprintf(out, "\n"
                 "options:\n"
                 "  -h, --help     show this text\n"
                 "  -V, --version  print the version\n"
                 "\n"
                 "Device specs: auto, cpu, opencl, gpu, opencl:P:D (see 'leakycl devices').\n"
                 "Environment: LEAKYCL_DEVICE (the default spec), LEAKYCL_VERIFY=1 (check every OpenCL op\n"
                 "on the CPU backend), LEAKYCL_KERNEL_DIR (load kernel sources from a folder),\n"
                 "LEAKYCL_TUNING_FILE (the tuning cache 'leakycl tune' writes), LEAKYCL_TUNING=0 (ignore it).\n");
}

static const struct cli_command *find_command(const char *name) {
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(commands[i]->name, name) == 0) {
            return commands[i];
        }
    }
    return NULL;
}

static int is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }

int main(int argc, char **argv) {
    if (argc < 2) {
        cli_error("no command given (see 'leakycl --help')");
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (is_help(name)) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("leakycl %d.%d.%d\n", LEAKYCL_VERSION_MAJOR, LEAKYCL_VERSION_MINOR, LEAKYCL_VERSION_PATCH);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc == 2) {
            print_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (argc > 3) {
            cli_error("help: takes at most one command name (see 'leakycl --help')");
            return CLI_EXIT_USAGE;
        }
        const struct cli_command *cmd = find_command(argv[2]);
        if (cmd == NULL) {
            cli_error("help: unknown command '%s' (see 'leakycl --help')", argv[2]);
            return CLI_EXIT_USAGE;
        }
        fputs(cmd->usage, stdout);
        return CLI_EXIT_OK;
    }
    if (name[0] == '-') {
        cli_error("unknown option '%s' (see 'leakycl --help')", name);
        return CLI_EXIT_USAGE;
    }
    const struct cli_command *cmd = find_command(name);
    if (cmd == NULL) {
        cli_error("unknown command '%s' (see 'leakycl --help')", name);
        return CLI_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
        if (is_help(argv[i])) {
            fputs(cmd->usage, stdout);
            return CLI_EXIT_OK;
        }
    }
    return cmd->run(argc - 1, argv + 1);
}
