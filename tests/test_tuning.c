/* Kernel tuning: the per-user tuning cache (a round trip through lcl_tuning_store and context
 * creation, other devices' sections kept, corrupt, foreign and unfit files ignored, written
 * atomically), lcl_context_create_tuned's checks, and tuned contexts giving the very bits of
 * untuned ones on every op and dtype, in the CPU shapes and in the GPU shapes.
 *
 * Every test points LEAKYCL_TUNING_FILE at a file in a fresh folder of its own (Criterion runs
 * each test in a process of its own). The cache tests need an OpenCL device, whichever backend
 * the suite is registered for: the CPU backend has no kernel parameters. */
#include "common.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENTRY_SIZE 128

static char folder[256];
static char cache[300];

static void use_fresh_cache(void) {
    snprintf(folder, sizeof folder, "/tmp/leakycl-tuning-XXXXXX");
    cr_assert(mkdtemp(folder) != NULL, "mkdtemp failed");
    snprintf(cache, sizeof cache, "%s/sub/tuning", folder); /* the folder above is created on store */
    cr_assert(setenv("LEAKYCL_TUNING_FILE", cache, 1) == 0);
    unsetenv("LEAKYCL_TUNING");
}

static void remove_cache(void) {
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", folder);
    if (folder[0] && system(command) != 0)
        fprintf(stderr, "could not remove %s\n", folder);
}

TestSuite(tuning, .init = use_fresh_cache, .fini = remove_cache);

static const char *const ops[] = {"forward",        "backward",        "forward_batch",
                                  "backward_batch", "prelu_forward",   "prelu_backward",
                                  "forward_masked", "backward_masked", "dense"};
#define OP_COUNT (sizeof ops / sizeof ops[0])

static lcl_context *opencl_context(void) {
    lcl_context *ctx = NULL;
    OK(lcl_context_create("opencl", &ctx));
    cr_assert(lcl_context_backend(ctx) == LCL_BACKEND_OPENCL, "no OpenCL device: is PoCL installed?");
    return ctx;
}

struct shape {
    unsigned vw, vpt;
    size_t wgs;
};

static struct shape read_shape(const lcl_context *ctx, const char *op, lcl_dtype dtype) {
    char entry[ENTRY_SIZE];
    struct shape s = {0, 0, 0};
    OK(lcl_context_tuning(ctx, op, dtype, entry, sizeof entry));
    const char *values = strstr(entry, " vw=");
    cr_assert(values && sscanf(values, " vw=%u vpt=%u wgs=%zu", &s.vw, &s.vpt, &s.wgs) == 3, "entry \"%s\"", entry);
    return s;
}

/* Two shapes other than the defaults d, in d's family (vpt 1 stays 1): A doubles the vector
 * width and the vectors per work-item and halves the work-group; B halves the first two. */
static struct shape shape_a(struct shape d) {
    struct shape s = {d.vw == 16 ? 8 : d.vw * 2, d.vpt > 1 ? d.vpt * 2 : 1, d.wgs / 2 >= 16 ? d.wgs / 2 : d.wgs};
    while (s.vw * s.vpt > 512)
        s.vpt /= 2;
    return s;
}

static struct shape shape_b(struct shape d) {
    return (struct shape){d.vw > 2 ? d.vw / 2 : 4, d.vpt > 2 ? d.vpt / 2 : d.vpt, d.wgs};
}

/* Every op but dense gets A or B in turn (prelu_backward with the default vector width, the
 * one value it must keep): a cache whose every entry differs from the defaults. */
static void tuned_params(const lcl_context *ctx, char *buf, size_t size) {
    size_t at = 0;
    buf[0] = '\0';
    for (int d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        struct shape def = read_shape(ctx, "forward", dtype);
        for (size_t op = 0; op + 1 < OP_COUNT; ++op) {
            struct shape s = op % 2 ? shape_b(def) : shape_a(def);
            if (strcmp(ops[op], "prelu_backward") == 0)
                s.vw = def.vw;
            at += (size_t)snprintf(buf + at, size - at, "%s %s vw=%u vpt=%u wgs=%zu\n", ops[op], dtype_label(dtype),
                                   s.vw, s.vpt, s.wgs);
            cr_assert(at < size);
        }
    }
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    static char text[1 << 16];
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[got] = '\0';
    return text;
}

static void write_file(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL, "cannot create %s", path);
    cr_assert(fwrite(text, 1, len, f) == len);
    fclose(f);
}

/* The "device ..." line lcl_tuning_store wrote for the OpenCL device. */
static void device_line(char *buf, size_t size) {
    lcl_context *ctx = opencl_context();
    OK(lcl_tuning_store(ctx, ""));
    lcl_context_release(ctx);
    const char *text = read_file(cache);
    const char *line = strstr(text, "\ndevice ");
    cr_assert(line != NULL, "no device line in:\n%s", text);
    size_t len = strcspn(line + 1, "\n");
    cr_assert(len < size);
    memcpy(buf, line + 1, len);
    buf[len] = '\0';
}

/* Whether every op and dtype of ctx has the defaults of an untuned context. */
static void assert_defaults(const lcl_context *ctx, const char *why) {
    lcl_context *plain = NULL;
    OK(lcl_context_create_tuned("opencl", NULL, &plain));
    for (size_t op = 0; op < OP_COUNT; ++op)
        for (int d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
            char want[ENTRY_SIZE], got[ENTRY_SIZE];
            OK(lcl_context_tuning(plain, ops[op], test_float_dtypes[d], want, sizeof want));
            OK(lcl_context_tuning(ctx, ops[op], test_float_dtypes[d], got, sizeof got));
            cr_assert_str_eq(got, want, "%s: \"%s\" is not the default \"%s\"", why, got, want);
        }
    lcl_context_release(plain);
}

/* The values of shapes A and B of the f32 defaults ("vw=.. vpt=.. wgs=.."): entries that fit
 * the device at hand, whichever shapes it uses. */
static void values_text(char which, char *buf, size_t size) {
    lcl_context *ctx = opencl_context();
    struct shape d = read_shape(ctx, "forward", LCL_F32);
    struct shape s = which == 'A' ? shape_a(d) : shape_b(d);
    snprintf(buf, size, "vw=%u vpt=%u wgs=%zu", s.vw, s.vpt, s.wgs);
    lcl_context_release(ctx);
}

/* ---- the CPU backend ------------------------------------------------------------------------ */

Test(tuning, cpu_backend_has_no_parameters) {
    lcl_context *ctx = NULL;
    EXPECT_STATUS(lcl_context_create_tuned("cpu", "forward f32 vw=8 vpt=16 wgs=64", &ctx), LCL_ERROR_UNSUPPORTED);
    cr_assert(ctx == NULL);
    OK(lcl_context_create_tuned("cpu", "", &ctx));
    char entry[ENTRY_SIZE];
    EXPECT_STATUS(lcl_context_tuning(ctx, "forward", LCL_F32, entry, sizeof entry), LCL_ERROR_UNSUPPORTED);
    EXPECT_STATUS(lcl_tuning_store(ctx, ""), LCL_ERROR_UNSUPPORTED);
    cr_assert_eq(lcl_context_tuned(ctx), 0);
    lcl_context_release(ctx);
    cr_assert_eq(lcl_context_tuned(NULL), 0);
}

/* ---- the cache ------------------------------------------------------------------------------ */

Test(tuning, path_follows_the_environment) {
    char path[512];
    OK(lcl_tuning_path(path, sizeof path));
    cr_assert_str_eq(path, cache);
    unsetenv("LEAKYCL_TUNING_FILE");
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    OK(lcl_tuning_path(path, sizeof path));
    cr_assert_str_eq(path, "/xdg/leakycl/tuning");
    setenv("XDG_CACHE_HOME", "relative", 1); /* not absolute: ignored, as the XDG spec says */
    setenv("HOME", "/home/someone", 1);
    OK(lcl_tuning_path(path, sizeof path));
    cr_assert_str_eq(path, "/home/someone/.cache/leakycl/tuning");
    EXPECT_STATUS(lcl_tuning_path(path, 5), LCL_ERROR_INVALID_ARGUMENT);
}

Test(tuning, round_trip) {
    lcl_context *ctx = opencl_context();
    cr_assert_eq(lcl_context_tuned(ctx), 0, "a fresh cache tunes nothing");
    static char params[8192];
    tuned_params(ctx, params, sizeof params);
    OK(lcl_tuning_store(ctx, params));
    lcl_context *tuned = opencl_context();
    cr_assert_eq(lcl_context_tuned(tuned), (OP_COUNT - 1) * TEST_FLOAT_DTYPE_COUNT);
    for (const char *line = params; *line; line = strchr(line, '\n') + 1) {
        char op[32], dtype_name[8], got[ENTRY_SIZE];
        cr_assert(sscanf(line, "%31s %7s", op, dtype_name) == 2);
        lcl_dtype dtype = LCL_F32;
        for (int d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
            if (strcmp(dtype_label(test_float_dtypes[d]), dtype_name) == 0)
                dtype = test_float_dtypes[d];
        OK(lcl_context_tuning(tuned, op, dtype, got, sizeof got));
        cr_assert(strncmp(line, got, strlen(got)) == 0 && line[strlen(got)] == '\n', "stored \"%.*s\", read \"%s\"",
                  (int)strcspn(line, "\n"), line, got);
    }
    char dense[ENTRY_SIZE], dense_default[ENTRY_SIZE];
    OK(lcl_context_tuning(tuned, "dense", LCL_F32, dense, sizeof dense));
    OK(lcl_context_tuning(ctx, "dense", LCL_F32, dense_default, sizeof dense_default));
    cr_assert_str_eq(dense, dense_default, "an op the cache does not name keeps its defaults");
    lcl_context_release(tuned);
    setenv("LEAKYCL_TUNING", "0", 1);
    lcl_context *ignoring = opencl_context();
    cr_assert_eq(lcl_context_tuned(ignoring), 0, "LEAKYCL_TUNING=0 ignores the cache");
    assert_defaults(ignoring, "LEAKYCL_TUNING=0");
    lcl_context_release(ignoring);
    lcl_context_release(ctx);
}

Test(tuning, wrapped_queues_read_the_cache) {
    app_cl app;
    app_cl_open(&app);
    lcl_context *ctx = NULL;
    OK(lcl_context_wrap_cl(app.queue, &ctx));
    cr_assert_eq(lcl_context_tuned(ctx), 0);
    char a[64], params[128];
    values_text('A', a, sizeof a);
    snprintf(params, sizeof params, "backward f32 %s\n", a);
    OK(lcl_tuning_store(ctx, params));
    lcl_context_release(ctx);
    OK(lcl_context_wrap_cl(app.queue, &ctx));
    cr_assert_eq(lcl_context_tuned(ctx), 1, "a wrapped queue's context did not read the cache");
    lcl_context_release(ctx);
    app_cl_close(&app);
}

Test(tuning, store_keeps_other_devices_and_replaces_its_own) {
    char mkdir_command[400];
    snprintf(mkdir_command, sizeof mkdir_command, "mkdir -p '%s/sub'", folder);
    cr_assert(system(mkdir_command) == 0);
    const char *foreign = "leakycl-tuning 1\n"
                          "device Some GPU|999.1|OpenCL 3.0 CUDA\n"
                          "forward f32 vw=4 vpt=1 wgs=512\n"
                          "# a comment\n";
    write_file(cache, foreign, strlen(foreign));
    lcl_context *ctx = opencl_context();
    cr_assert_eq(lcl_context_tuned(ctx), 0, "another device's section tunes nothing here");
    char a[64], b[64], first[160], second[160];
    values_text('A', a, sizeof a);
    values_text('B', b, sizeof b);
    snprintf(first, sizeof first, "forward f32 %s\nbackward f32 %s\n", a, b);
    snprintf(second, sizeof second, "backward f32 %s\n", b);
    OK(lcl_tuning_store(ctx, first));
    OK(lcl_tuning_store(ctx, second));
    const char *text = read_file(cache);
    cr_assert(strstr(text, "device Some GPU|999.1|OpenCL 3.0 CUDA\nforward f32 vw=4 vpt=1 wgs=512\n") != NULL,
              "the other device's section is gone:\n%s", text);
    const char *ours = text;
    for (const char *d = strstr(text, "\ndevice "); d; d = strstr(d + 1, "\ndevice "))
        ours = d; /* the section stored last */
    cr_assert(strstr(ours, "forward f32 ") == NULL, "the second store did not replace the first:\n%s", text);
    cr_assert(strstr(text, second) != NULL, "the second store is not there:\n%s", text);
    lcl_context *tuned = opencl_context();
    cr_assert_eq(lcl_context_tuned(tuned), 1);
    lcl_context_release(tuned);
    lcl_context_release(ctx);
    char listing[400];
    snprintf(listing, sizeof listing, "test $(ls '%s/sub' | wc -l) -eq 1", folder);
    cr_assert(system(listing) == 0, "a temporary file was left beside the cache");
}

/* Writes the cache as `text` with the device's own line in place of "@DEVICE" and shape A's
 * and B's values in place of "@A" and "@B". */
static void write_with_device(const char *device, const char *text, size_t len) {
    static char expanded[1 << 21];
    char a[64], b[64];
    values_text('A', a, sizeof a);
    values_text('B', b, sizeof b);
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        const char *with = NULL;
        size_t skip = 0;
        if (len - i >= 7 && memcmp(text + i, "@DEVICE", 7) == 0)
            with = device, skip = 7;
        else if (len - i >= 2 && (memcmp(text + i, "@A", 2) == 0 || memcmp(text + i, "@B", 2) == 0))
            with = text[i + 1] == 'A' ? a : b, skip = 2;
        if (with) {
            memcpy(expanded + out, with, strlen(with));
            out += strlen(with);
            i += skip;
        } else {
            expanded[out++] = text[i++];
        }
    }
    write_file(cache, expanded, out);
}

static void assert_ignored(const char *device, const char *text, size_t len, const char *what) {
    write_with_device(device, text, len);
    lcl_context *ctx = opencl_context();
    cr_assert_eq(lcl_context_tuned(ctx), 0, "%s: the cache was not ignored", what);
    assert_defaults(ctx, what);
    lcl_context_release(ctx);
}

#define GOOD "forward f32 @A\n"

Test(tuning, corrupt_and_foreign_files_are_ignored) {
    char device[600];
    device_line(device, sizeof device);
    /* First, that the valid form is read, so the cases below fail for their one flaw. */
    const char valid[] = "leakycl-tuning 1\n@DEVICE\n" GOOD;
    write_with_device(device, valid, sizeof valid - 1);
    lcl_context *ctx = opencl_context();
    cr_assert_eq(lcl_context_tuned(ctx), 1, "the well-formed cache was not read");
    lcl_context_release(ctx);
    static const struct {
        const char *what, *text;
    } cases[] = {
        {"empty", ""},
        {"garbage", "\x7f"
                    "ELF\x01\x02 binary junk\n"},
        {"another header", "leakycl-tuning 2\n@DEVICE\n" GOOD},
        {"no header", "@DEVICE\n" GOOD},
        {"an entry before any device", "leakycl-tuning 1\n" GOOD "@DEVICE\n" GOOD},
        {"an unknown op", "leakycl-tuning 1\n@DEVICE\n" GOOD "sideways f32 vw=8 vpt=16 wgs=64\n"},
        {"an unknown dtype", "leakycl-tuning 1\n@DEVICE\n" GOOD "forward f128 vw=8 vpt=16 wgs=64\n"},
        {"a letter in a number", "leakycl-tuning 1\n@DEVICE\n" GOOD "backward f32 vw=8 vpt=1x wgs=64\n"},
        {"a negative number", "leakycl-tuning 1\n@DEVICE\n" GOOD "backward f32 vw=-8 vpt=16 wgs=64\n"},
        {"a huge number", "leakycl-tuning 1\n@DEVICE\n" GOOD "backward f32 vw=8 vpt=16 wgs=99999999999999999999\n"},
        {"a truncated line", "leakycl-tuning 1\n@DEVICE\n" GOOD "backward f32 vw=8 vpt="},
        {"no newline after the last line", "leakycl-tuning 1\n@DEVICE\nforward f32 @A"},
        {"fields out of order", "leakycl-tuning 1\n@DEVICE\n" GOOD "backward f32 vpt=16 vw=8 wgs=64\n"},
        {"a double space", "leakycl-tuning 1\n@DEVICE\n" GOOD "backward f32  vw=8 vpt=16 wgs=64\n"},
        {"a repeated entry", "leakycl-tuning 1\n@DEVICE\n" GOOD GOOD},
        {"the device twice", "leakycl-tuning 1\n@DEVICE\n" GOOD "@DEVICE\n" GOOD},
        {"a control character", "leakycl-tuning 1\n@DEVICE\n" GOOD "backward f32 vw=8\tvpt=16 wgs=64\n"},
        {"a carriage return", "leakycl-tuning 1\r\n@DEVICE\n" GOOD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        assert_ignored(device, cases[i].text, strlen(cases[i].text), cases[i].what);
    const char with_nul[] = "leakycl-tuning 1\n@DEVICE\n" GOOD "#\0 after a NUL\n";
    assert_ignored(device, with_nul, sizeof with_nul - 1, "a NUL byte");
    /* Larger than any cache we write (1 MiB): not ours. */
    static char huge[(1 << 20) + 200];
    size_t head = strlen(valid);
    memcpy(huge, valid, head);
    memset(huge + head, '#', sizeof huge - head);
    for (size_t i = head + 100; i < sizeof huge; i += 100)
        huge[i] = '\n';
    assert_ignored(device, huge, sizeof huge, "a file over 1 MiB");
}

/* Every prefix of a valid cache, and random bytes written over it: never a crash; a prefix is
 * read only when it ends between lines (a valid, shorter cache), and then as written; the
 * defaults whenever nothing is read. */
Test(tuning, damaged_caches_never_crash, .timeout = 300) {
    lcl_context *ctx = opencl_context();
    struct shape a = shape_a(read_shape(ctx, "forward", LCL_F32)), b = shape_b(read_shape(ctx, "forward", LCL_F64));
    char params[256];
    snprintf(params, sizeof params, "forward f32 vw=%u vpt=%u wgs=%zu\nbackward f64 vw=%u vpt=%u wgs=%zu\n", a.vw,
             a.vpt, a.wgs, b.vw, b.vpt, b.wgs);
    OK(lcl_tuning_store(ctx, params));
    static char valid[4096];
    snprintf(valid, sizeof valid, "%s", read_file(cache));
    size_t len = strlen(valid);
    for (size_t cut = 0; cut < len; ++cut) {
        write_file(cache, valid, cut);
        lcl_context *damaged = opencl_context();
        size_t tuned = lcl_context_tuned(damaged);
        cr_assert(tuned <= 2, "a prefix of %zu bytes gave %zu entries", cut, tuned);
        if (tuned == 0)
            assert_defaults(damaged, "a prefix read as nothing");
        cr_assert(tuned == 0 || valid[cut - 1] == '\n', "a prefix cut inside a line (%zu bytes) was read", cut);
        if (tuned >= 1) {
            struct shape got = read_shape(damaged, "forward", LCL_F32);
            cr_assert(got.vw == a.vw && got.vpt == a.vpt && got.wgs == a.wgs, "a prefix of %zu bytes misread", cut);
        }
        if (tuned == 2) {
            struct shape got = read_shape(damaged, "backward", LCL_F64);
            cr_assert(got.vw == b.vw && got.vpt == b.vpt && got.wgs == b.wgs, "a prefix of %zu bytes misread", cut);
        }
        lcl_context_release(damaged);
    }
    test_rng rng;
    rng_init(&rng, 7);
    static char copy[4096];
    for (int round = 0; round < 200; ++round) {
        memcpy(copy, valid, len);
        for (int k = 0; k < 1 + round % 3; ++k)
            copy[rng_below(&rng, len)] = (char)rng_below(&rng, 256);
        write_file(cache, copy, len);
        lcl_context *damaged = opencl_context();
        cr_assert(lcl_context_tuned(damaged) <= 2);
        if (lcl_context_tuned(damaged) == 0)
            assert_defaults(damaged, "a damaged cache read as nothing");
        lcl_context_release(damaged);
    }
    lcl_context_release(ctx);
}

Test(tuning, entries_the_device_cannot_take_are_ignored) {
    char device[600];
    device_line(device, sizeof device);
    lcl_context *probe = opencl_context();
    struct shape def = read_shape(probe, "forward", LCL_F32);
    lcl_context_release(probe);
    char other_family[64];
    snprintf(other_family, sizeof other_family, "vpt=%u", def.vpt == 1 ? 16 : 1);
    char lines[8][96];
    snprintf(lines[0], sizeof lines[0], "forward f32 vw=3 vpt=%u wgs=%zu", def.vpt, def.wgs);
    snprintf(lines[1], sizeof lines[1], "forward f32 vw=32 vpt=%u wgs=%zu", def.vpt, def.wgs);
    snprintf(lines[2], sizeof lines[2], "forward f32 vw=%u %s wgs=%zu", def.vw, other_family, def.wgs);
    snprintf(lines[3], sizeof lines[3], "forward f32 vw=%u vpt=%u wgs=1048576", def.vw, def.vpt);
    snprintf(lines[4], sizeof lines[4], "forward f32 vw=%u vpt=%u wgs=48", def.vw, def.vpt);
    if (def.vpt == 1)
        snprintf(lines[5], sizeof lines[5], "forward f32 vw=%u vpt=1 wgs=8", def.vw);
    else
        snprintf(lines[5], sizeof lines[5], "forward f32 vw=16 vpt=64 wgs=%zu", def.wgs);
    snprintf(lines[6], sizeof lines[6], "prelu_backward f32 vw=%u vpt=%u wgs=%zu", def.vw == 16 ? 8 : def.vw * 2,
             def.vpt, def.wgs);
    snprintf(lines[7], sizeof lines[7], "forward f32 vw=%u vpt=128 wgs=%zu", def.vw, def.wgs);
    for (size_t i = 0; i < 8; ++i) {
        char text[1024];
        int len = snprintf(text, sizeof text, "leakycl-tuning 1\n@DEVICE\n%s\nbackward f32 @B\n", lines[i]);
        assert_ignored(device, text, (size_t)len, lines[i]);
        lcl_context *ctx = NULL;
        char params[1024];
        snprintf(params, sizeof params, "%s\n", lines[i]);
        EXPECT_STATUS(lcl_context_create_tuned("opencl", params, &ctx), LCL_ERROR_INVALID_ARGUMENT);
        cr_assert(ctx == NULL);
        cr_assert(strstr(lcl_last_error(), "line 1") != NULL, "the message names the line: %s", lcl_last_error());
    }
}

Test(tuning, create_tuned_rejects_malformed_params) {
    static const char *const bad[] = {
        "forward f32",
        "forward f32 vw=8 vpt=16 wgs=64 extra",
        "forwards f32 vw=8 vpt=16 wgs=64",
        "forward mask vw=8 vpt=16 wgs=64",
        "forward f32 vw=8 vpt=16 wgs=64\nforward f32 vw=8 vpt=16 wgs=64",
    };
    lcl_context *probe = opencl_context();
    struct shape def = read_shape(probe, "forward", LCL_F32);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        char params[256];
        /* The defaults' values, so only the flaw is wrong. */
        snprintf(params, sizeof params, "%s", bad[i]);
        char values[64];
        snprintf(values, sizeof values, "vw=%u vpt=%u wgs=%zu", def.vw, def.vpt, def.wgs);
        for (char *v = strstr(params, "vw=8 vpt=16 wgs=64"); v; v = strstr(v + 1, "vw=8 vpt=16 wgs=64")) {
            memmove(v + strlen(values), v + 18, strlen(v + 18) + 1);
            memcpy(v, values, strlen(values));
        }
        lcl_context *ctx = (lcl_context *)probe; /* must stay as it was */
        EXPECT_STATUS(lcl_context_create_tuned("opencl", params, &ctx), LCL_ERROR_INVALID_ARGUMENT);
        cr_assert(ctx == probe, "a rejected call wrote *out (\"%s\")", params);
        EXPECT_STATUS(lcl_tuning_store(probe, params), LCL_ERROR_INVALID_ARGUMENT);
    }
    cr_assert(access(cache, F_OK) != 0, "a rejected store wrote the cache");
    char entry[ENTRY_SIZE];
    EXPECT_STATUS(lcl_context_tuning(probe, "sideways", LCL_F32, entry, sizeof entry), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_context_tuning(probe, "forward", LCL_MASK, entry, sizeof entry), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_context_tuning(probe, "forward", LCL_F32, entry, 10), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_context_create_tuned("opencl", "", NULL), LCL_ERROR_INVALID_ARGUMENT);
    lcl_context_release(probe);
}

Test(tuning, store_replaces_a_corrupt_file) {
    char mkdir_command[400];
    snprintf(mkdir_command, sizeof mkdir_command, "mkdir -p '%s/sub'", folder);
    cr_assert(system(mkdir_command) == 0);
    write_file(cache, "not a cache\n", 12);
    lcl_context *ctx = opencl_context();
    struct shape def = read_shape(ctx, "forward", LCL_F32);
    struct shape a = shape_a(def);
    char params[128];
    snprintf(params, sizeof params, "forward f32 vw=%u vpt=%u wgs=%zu\n", a.vw, a.vpt, a.wgs);
    OK(lcl_tuning_store(ctx, params));
    lcl_context *tuned = opencl_context();
    cr_assert_eq(lcl_context_tuned(tuned), 1);
    struct shape got = read_shape(tuned, "forward", LCL_F32);
    cr_assert(got.vw == a.vw && got.vpt == a.vpt && got.wgs == a.wgs);
    lcl_context_release(tuned);
    lcl_context_release(ctx);
    cr_assert(strncmp(read_file(cache), "leakycl-tuning 1\n", 17) == 0);
}

/* ---- tuned results are the untuned ones ----------------------------------------------------- */

#define N 33033 /* odd: every op has a ragged tail */
#define ALPHA (-0.3)
#define MAX_RESULTS 16

struct results {
    void *out[MAX_RESULTS];
    size_t n[MAX_RESULTS];
    lcl_dtype dtype[MAX_RESULTS];
    const char *label[MAX_RESULTS];
    size_t count;
};

static void keep(struct results *r, const char *label, const lcl_tensor *t) {
    cr_assert(r->count < MAX_RESULTS);
    r->out[r->count] = tensor_fetch(t);
    r->n[r->count] = lcl_tensor_size(t);
    r->dtype[r->count] = lcl_tensor_dtype(t);
    r->label[r->count] = label;
    r->count++;
}

static lcl_tensor *mask_poisoned(lcl_context *ctx, size_t n) {
    lcl_tensor *m = tensor_new(ctx, LCL_MASK, n);
    size_t words = n / 32 + 1;
    uint32_t *poison = malloc(words * sizeof *poison);
    cr_assert(poison != NULL);
    memset(poison, 0xA5, words * sizeof *poison);
    OK(lcl_tensor_write(m, poison));
    free(poison);
    return m;
}

/* The inputs: x and dy from fill_random (negatives, +-0, NaN, +-inf, subnormals); px and pdy the
 * same with NaN, inf and huge values replaced, so that the slope gradient stays finite and its
 * bits are worth comparing. */
struct inputs {
    lcl_dtype dtype;
    void *x, *dy, *px, *pdy, *slopes;
};

static void make_inputs(struct inputs *in, lcl_dtype dtype) {
    test_rng rng;
    rng_init(&rng, (uint64_t)dtype);
    in->dtype = dtype;
    in->x = test_alloc(dtype, N);
    in->dy = test_alloc(dtype, N);
    in->px = test_alloc(dtype, N);
    in->pdy = test_alloc(dtype, N);
    in->slopes = test_alloc(dtype, 5);
    fill_random(dtype, in->x, N, ALPHA, &rng);
    fill_random(dtype, in->dy, N, ALPHA, &rng);
    fill_random(dtype, in->px, N, ALPHA, &rng);
    fill_random(dtype, in->pdy, N, ALPHA, &rng);
    for (size_t i = 0; i < N; ++i)
        for (void *a = in->px; a; a = a == in->px ? in->pdy : NULL) {
            uint64_t b = bits_get(dtype, a, i);
            double v = bits_value(dtype, b);
            if (bits_is_nan(dtype, b) || !(v > -1e4 && v < 1e4))
                bits_set(dtype, a, i, bits_of(dtype, 0.5));
        }
    for (size_t c = 0; c < 5; ++c)
        bits_set(dtype, in->slopes, c, bits_of(dtype, 0.375 * (double)c - 0.5));
}

static void free_inputs(struct inputs *in) {
    free(in->x);
    free(in->dy);
    free(in->px);
    free(in->pdy);
    free(in->slopes);
}

static void run_eltwise(lcl_context *ctx, const struct inputs *in, struct results *r) {
    lcl_dtype d = in->dtype;
    lcl_tensor *x = tensor_with(ctx, d, N, in->x), *dy = tensor_with(ctx, d, N, in->dy);
    lcl_tensor *y = tensor_poisoned(ctx, d, N), *dx = tensor_poisoned(ctx, d, N), *yo = tensor_poisoned(ctx, d, N);
    OK(lcl_forward(ctx, ALPHA, x, y));
    OK(lcl_backward(ctx, ALPHA, x, dy, dx));
    OK(lcl_backward_from_output(ctx, 0.2, x, dy, yo));
    keep(r, "forward", y);
    keep(r, "backward", dx);
    keep(r, "backward_from_output", yo);
    lcl_tensor *my = tensor_poisoned(ctx, d, N), *mdx = tensor_poisoned(ctx, d, N), *mask = mask_poisoned(ctx, N);
    OK(lcl_forward_masked(ctx, ALPHA, x, my, mask));
    OK(lcl_backward_masked(ctx, ALPHA, mask, dy, mdx));
    keep(r, "forward_masked y", my);
    keep(r, "forward_masked mask", mask);
    keep(r, "backward_masked", mdx);
    lcl_tensor *all[] = {x, dy, y, dx, yo, my, mdx, mask};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        lcl_tensor_release(all[i]);
}

/* Five items of uneven lengths (one of a single element) over one parent buffer each. */
static void run_batches(lcl_context *ctx, const struct inputs *in, struct results *r) {
    static const size_t bounds[] = {0, 1, 4097, 9000, 20001, N};
    const double alphas[] = {0.01, -2.5, 0.0, 1.5, ALPHA};
    lcl_dtype d = in->dtype;
    lcl_tensor *x = tensor_with(ctx, d, N, in->x), *dy = tensor_with(ctx, d, N, in->dy);
    lcl_tensor *y = tensor_poisoned(ctx, d, N), *dx = tensor_poisoned(ctx, d, N);
    lcl_tensor *xs[5], *dys[5], *ys[5], *dxs[5];
    for (size_t i = 0; i < 5; ++i) {
        size_t len = bounds[i + 1] - bounds[i];
        xs[i] = view_new(x, bounds[i], len);
        dys[i] = view_new(dy, bounds[i], len);
        ys[i] = view_new(y, bounds[i], len);
        dxs[i] = view_new(dx, bounds[i], len);
    }
    OK(lcl_forward_batch(ctx, 5, alphas, (const lcl_tensor *const *)xs, ys));
    OK(lcl_backward_batch(ctx, 5, alphas, (const lcl_tensor *const *)xs, (const lcl_tensor *const *)dys, dxs));
    keep(r, "forward_batch", y);
    keep(r, "backward_batch", dx);
    for (size_t i = 0; i < 5; ++i) {
        lcl_tensor_release(xs[i]);
        lcl_tensor_release(dys[i]);
        lcl_tensor_release(ys[i]);
        lcl_tensor_release(dxs[i]);
    }
    lcl_tensor_release(x);
    lcl_tensor_release(dy);
    lcl_tensor_release(y);
    lcl_tensor_release(dx);
}

/* PReLU on [11, 3, 1001] (blocks of a channel) and [300, 5, 3] (columns), with the slope gradient. */
static void run_prelu(lcl_context *ctx, const struct inputs *in, struct results *r) {
    static const size_t layouts[2][2] = {{3, 1001}, {5, 3}};
    static const char *const labels[2][3] = {
        {"prelu_forward", "prelu_backward dx", "prelu_backward dalpha"},
        {"prelu_forward (columns)", "prelu_backward dx (columns)", "prelu_backward dalpha (columns)"}};
    lcl_dtype d = in->dtype;
    for (size_t l = 0; l < 2; ++l) {
        size_t channels = layouts[l][0], inner = layouts[l][1];
        size_t n = l == 0 ? N : 300 * channels * inner;
        lcl_tensor *slopes = tensor_with(ctx, d, channels, in->slopes);
        lcl_tensor *x = tensor_with(ctx, d, n, in->px), *dy = tensor_with(ctx, d, n, in->pdy);
        lcl_tensor *y = tensor_poisoned(ctx, d, n), *dx = tensor_poisoned(ctx, d, n);
        lcl_tensor *dalpha = tensor_poisoned(ctx, d, channels);
        OK(lcl_prelu_forward(ctx, channels, inner, slopes, x, y));
        OK(lcl_prelu_backward(ctx, channels, inner, slopes, x, dy, dx, dalpha));
        keep(r, labels[l][0], y);
        keep(r, labels[l][1], dx);
        keep(r, labels[l][2], dalpha);
        lcl_tensor *all[] = {slopes, x, dy, y, dx, dalpha};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
            lcl_tensor_release(all[i]);
    }
}

static void run_all(lcl_context *ctx, const struct inputs *in, struct results *r) {
    memset(r, 0, sizeof *r);
    run_eltwise(ctx, in, r);
    run_batches(ctx, in, r);
    run_prelu(ctx, in, r);
}

static void assert_same_results(const struct results *want, const struct results *got, lcl_dtype dtype) {
    cr_assert_eq(want->count, got->count);
    for (size_t k = 0; k < want->count; ++k) {
        if (want->dtype[k] == LCL_MASK) {
            size_t words = want->n[k] / 32 + (want->n[k] % 32 != 0);
            cr_assert(memcmp(want->out[k], got->out[k], words * 4) == 0, "%s %s: the tuned sign mask differs",
                      want->label[k], dtype_label(dtype));
            continue;
        }
        for (size_t i = 0; i < want->n[k]; ++i) {
            uint64_t a = bits_get(dtype, want->out[k], i), b = bits_get(dtype, got->out[k], i);
            cr_assert(bits_same(dtype, a, b), "%s %s, element %zu: tuned 0x%llx, untuned 0x%llx (seed %llu)",
                      want->label[k], dtype_label(dtype), i, (unsigned long long)b, (unsigned long long)a,
                      (unsigned long long)test_seed());
        }
    }
}

static void free_results(struct results *r) {
    for (size_t k = 0; k < r->count; ++k)
        free(r->out[k]);
}

/* A cache that changes every op's every value gives the bits of the defaults on every op. */
static void tuned_equals_untuned(void) {
    lcl_context *plain = NULL;
    OK(lcl_context_create_tuned("opencl", NULL, &plain));
    static char params[8192];
    tuned_params(plain, params, sizeof params);
    OK(lcl_tuning_store(plain, params));
    lcl_context *tuned = opencl_context();
    cr_assert_eq(lcl_context_tuned(tuned), (OP_COUNT - 1) * TEST_FLOAT_DTYPE_COUNT, "the cache was not read");
    for (int d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        if (!lcl_context_supports(plain, dtype))
            continue; /* fp64 without cl_khr_fp64: nothing to tune */
        struct inputs in;
        struct results want, got;
        make_inputs(&in, dtype);
        run_all(plain, &in, &want);
        run_all(tuned, &in, &got);
        assert_same_results(&want, &got, dtype);
        free_results(&want);
        free_results(&got);
        free_inputs(&in);
    }
    lcl_context_release(tuned);
    lcl_context_release(plain);
}

Test(tuning, tuned_results_are_bit_identical, .timeout = 600) { tuned_equals_untuned(); }

/* The same in the GPU kernels' shapes (a vector per work-item), run on the device at hand. */
Test(tuning, tuned_gpu_shapes_are_bit_identical, .timeout = 600) {
    setenv("LEAKYCL_KERNEL_SHAPE", "gpu", 1);
    tuned_equals_untuned();
}
