/*
 * Internal to the leakycl command-line tool: the command table entry, exit codes and the
 * shared helpers for option parsing and error reporting (defined in leakycl.c).
 */
#ifndef LEAKYCL_TOOLS_CLI_H
#define LEAKYCL_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "leakycl.h"

/** Exit codes of every subcommand. */
enum {
    CLI_EXIT_OK = 0,      /**< did what was asked, every check passed */
    CLI_EXIT_FAILURE = 1, /**< ran, but something failed (a check, a device, an allocation) */
    CLI_EXIT_USAGE = 2    /**< bad command line: unknown command or option, bad or missing value */
};

/** One subcommand. run() gets argv with argv[0] = the command's name and parses the rest;
 * "--help" among them is handled by the caller before run() is called. */
struct cli_command {
    const char *name;
    const char *summary;               /**< one line for `leakycl --help` */
    const char *usage;                 /**< full text for `leakycl CMD --help` */
    int (*run)(int argc, char **argv); /**< returns a CLI_EXIT_* code */
};

/* The subcommands (one file each). */
extern const struct cli_command cli_cmd_devices;
extern const struct cli_command cli_cmd_check;
extern const struct cli_command cli_cmd_bench;
extern const struct cli_command cli_cmd_tune;

/** Prints "leakycl: <message>\n" to stderr: one line, nothing else. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/** Whether argv[*i] is the option @p name ("--n"), given as "--n VALUE" or "--n=VALUE".
 * Returns 1 and sets *value (advancing *i past a separate value), 0 when argv[*i] is another
 * argument, -1 after reporting a missing value with cli_error. */
int cli_option(int argc, char **argv, int *i, const char *command, const char *name, const char **value);

/** Parses a whole decimal unsigned integer ("123"; no sign, no spaces, no suffix) no larger than
 * @p max. Returns 0, or -1 after reporting the bad value with cli_error. */
int cli_parse_u64(const char *command, const char *option, const char *text, uint64_t max, uint64_t *out);

/** Parses a whole finite floating-point number ("0.01", "-2.5e-3"). Returns 0, or -1 after
 * reporting the bad value with cli_error. */
int cli_parse_double(const char *command, const char *option, const char *text, double *out);

/** Parses a float dtype name ("f32", "f16", "bf16", "f64"). Returns 0, or -1 after reporting the
 * bad value with cli_error. */
int cli_parse_dtype(const char *command, const char *option, const char *text, lcl_dtype *out);

/** Writes "12.5 GiB"-style text for a byte count into @p buf. */
const char *cli_format_bytes(uint64_t bytes, char *buf, size_t size);

#endif /* LEAKYCL_TOOLS_CLI_H */
