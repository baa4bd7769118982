/* The tunables per op and dtype: copies of the device's defaults (ctx->tune, tunables.c) whose
 * vector width, vectors per work-item and work-group size the per-user tuning cache overrides at
 * context creation, or lcl_context_create_tuned; and the cache file itself.
 *
 * The cache is text, one section per device:
 *
 *     leakycl-tuning 1
 *     device NAME|DRIVER VERSION|DEVICE VERSION
 *     forward f32 vw=8 vpt=16 wgs=64
 *     ...
 *
 * Blank lines and lines starting with '#' are skipped. Any other line that does not parse, a
 * foreign first line, a NUL or a control character, or a last line without its '\n' (a write
 * cut short) makes the whole file corrupt: reading then ignores it, and storing replaces it. A
 * section whose entries do not fit its device is ignored whole when read. */
#include "opencl.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LCL__TUNE_DTYPE_COUNT LCL__FLOAT_DTYPE_COUNT

/* What one entry sets in an op's copy of the tunables for one dtype. */
struct shape {
    unsigned vector_width;     /* LCL_VEC: elements per vector, 2, 4, 8 or 16 */
    unsigned vectors_per_item; /* LCL_CHUNK: a power of two up to 64; 1 in the GPU shape */
    size_t work_group_size;    /* LCL_WG: a power of two up to the device's limit */
};

#define CACHE_HEADER "leakycl-tuning 1"
#define CACHE_MAX_BYTES ((size_t)1 << 20) /* a larger file is not ours */
#define DEVICE_PREFIX "device "
#define KEY_SIZE 800
#define ENTRY_SIZE 96
#define VALUE_MAX ((size_t)1 << 20)

static const char *const op_names[LCL__TUNE_OP_COUNT] = {
    [LCL__TUNE_FORWARD] = "forward",
    [LCL__TUNE_BACKWARD] = "backward",
    [LCL__TUNE_FORWARD_BATCH] = "forward_batch",
    [LCL__TUNE_BACKWARD_BATCH] = "backward_batch",
    [LCL__TUNE_PRELU_FORWARD] = "prelu_forward",
    [LCL__TUNE_PRELU_BACKWARD] = "prelu_backward",
    [LCL__TUNE_FORWARD_MASKED] = "forward_masked",
    [LCL__TUNE_BACKWARD_MASKED] = "backward_masked",
    [LCL__TUNE_DENSE] = "dense",
};

/* ---- the table ------------------------------------------------------------------------------ */

enum lcl__tune_op lcl__kernel_tune_op(enum lcl__kernel_id id) {
    static const enum lcl__tune_op op_of[LCL__KERNEL_COUNT] = {
        [LCL__K_FORWARD] = LCL__TUNE_FORWARD,
        [LCL__K_BACKWARD] = LCL__TUNE_BACKWARD,
        [LCL__K_FORWARD_BATCH] = LCL__TUNE_FORWARD_BATCH,
        [LCL__K_BACKWARD_BATCH] = LCL__TUNE_BACKWARD_BATCH,
        [LCL__K_PRELU_FORWARD] = LCL__TUNE_PRELU_FORWARD,
        [LCL__K_PRELU_BACKWARD] = LCL__TUNE_PRELU_BACKWARD,
        [LCL__K_PRELU_BACKWARD_PARTIAL] = LCL__TUNE_PRELU_BACKWARD,
        [LCL__K_PRELU_BACKWARD_COLUMNS] = LCL__TUNE_PRELU_BACKWARD,
        [LCL__K_PRELU_DALPHA] = LCL__TUNE_PRELU_BACKWARD,
        [LCL__K_PRELU_FOLD] = LCL__TUNE_PRELU_BACKWARD,
        [LCL__K_FORWARD_MASKED] = LCL__TUNE_FORWARD_MASKED,
        [LCL__K_BACKWARD_MASKED] = LCL__TUNE_BACKWARD_MASKED,
        [LCL__K_DENSE_FORWARD] = LCL__TUNE_DENSE,
        [LCL__K_DENSE_BACKWARD] = LCL__TUNE_DENSE,
    };
    return op_of[id];
}

const struct lcl__tunables *lcl__kernel_tunables(const lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id) {
    return &ctx->tuning.table[lcl__kernel_tune_op(id)][dtype];
}

static struct shape shape_of(const struct lcl__tunables *t, lcl_dtype dtype) {
    return (struct shape){t->vector_width[dtype], t->chunk, t->work_group_size};
}

static void reset_table(lcl_context *ctx) {
    for (size_t op = 0; op < LCL__TUNE_OP_COUNT; ++op)
        for (size_t d = 0; d < LCL__TUNE_DTYPE_COUNT; ++d)
            ctx->tuning.table[op][d] = ctx->tune;
    ctx->tuning.from_cache = 0;
}

static int is_pow2(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

/* Why op's entry t for dtype cannot shape kernels on ctx's device, or NULL when it can.
 * The limits are the kernels' own: vector types of 2 to 16 lanes, and the GPU shapes (a chunk of
 * one vector) building a mask word within a work-group of a multiple of 16. The sign-mask
 * kernels of the CPU shape take no chunk (a line of mask words each, tunables.c). The shape
 * family stays the device's: tuning picks among the shapes its defaults chose, so
 * LEAKYCL_KERNEL_SHAPE keeps meaning what it says. The one op-specific rule: prelu_backward
 * keeps the default vector width, because its slope gradient sums each block's products in
 * LCL_VEC lane sums (prelu.cl), so the width sets the summation order and thus dalpha's bits;
 * its other values only distribute the fixed blocks over work-items. */
static const char *unfit_reason(const lcl_context *ctx, enum lcl__tune_op op, lcl_dtype dtype, const struct shape *t) {
    struct shape def = shape_of(&ctx->tune, dtype);
    size_t max_wg = ctx->tuning.max_work_group_size;
    if (op == LCL__TUNE_PRELU_BACKWARD && t->vector_width != def.vector_width)
        return "prelu_backward's vw must stay the device's default (it orders the slope gradient's sums)";
    if (!is_pow2(t->vector_width) || t->vector_width < 2 || t->vector_width > 16)
        return "vw must be 2, 4, 8 or 16";
    if (!is_pow2(t->vectors_per_item) || t->vectors_per_item > 64)
        return "vpt must be a power of two up to 64";
    if (t->vector_width * t->vectors_per_item > 512)
        return "vw * vpt must be at most 512";
    if ((t->vectors_per_item == 1) != (def.vectors_per_item == 1))
        return def.vectors_per_item == 1 ? "vpt must be 1 on this device (its GPU shapes)"
                                         : "vpt must be above 1 on this device (its CPU shapes)";
    if (!is_pow2(t->work_group_size) || t->work_group_size > max_wg)
        return "wgs must be a power of two within the device's work-group limit";
    if (t->vectors_per_item == 1 && t->work_group_size % 16 != 0)
        return "wgs must be a multiple of 16 when vpt is 1";
    return NULL;
}

/* ---- entries ---------------------------------------------------------------------------------- */

struct entry {
    enum lcl__tune_op op;
    lcl_dtype dtype;
    struct shape t;
};

/* Entries for one device, at most one per op and dtype. */
struct overlay {
    struct shape t[LCL__TUNE_OP_COUNT][LCL__TUNE_DTYPE_COUNT];
    unsigned char set[LCL__TUNE_OP_COUNT][LCL__TUNE_DTYPE_COUNT];
    size_t count;
};

/* The next space-separated token of [*p, end), never empty. */
static int take_token(const char **p, const char *end, const char **tok, size_t *len) {
    const char *s = *p;
    if (s >= end)
        return 0;
    const char *e = memchr(s, ' ', (size_t)(end - s));
    if (!e)
        e = end;
    if (e == s)
        return 0;
    *tok = s;
    *len = (size_t)(e - s);
    *p = e < end ? e + 1 : end;
    return 1;
}

static int token_is(const char *tok, size_t len, const char *word) {
    return strlen(word) == len && memcmp(tok, word, len) == 0;
}

/* "NAME=DIGITS", at most VALUE_MAX. */
static int parse_field(const char *tok, size_t len, const char *name, size_t *out) {
    size_t name_len = strlen(name);
    if (len <= name_len + 1 || len > name_len + 8 || memcmp(tok, name, name_len) != 0 || tok[name_len] != '=')
        return 0;
    size_t v = 0;
    for (size_t i = name_len + 1; i < len; ++i) {
        if (tok[i] < '0' || tok[i] > '9')
            return 0;
        v = v * 10 + (size_t)(tok[i] - '0');
    }
    if (v > VALUE_MAX)
        return 0;
    *out = v;
    return 1;
}

/* "OP DTYPE vw=V vpt=P wgs=W", exactly. */
static int parse_entry(const char *line, size_t len, struct entry *e) {
    const char *p = line, *end = line + len, *tok = NULL;
    size_t tlen = 0, vw = 0, vpt = 0, wgs = 0;
    int op = -1, dtype = -1;
    if (!take_token(&p, end, &tok, &tlen))
        return 0;
    for (int i = 0; i < LCL__TUNE_OP_COUNT; ++i)
        if (token_is(tok, tlen, op_names[i]))
            op = i;
    if (op < 0 || !take_token(&p, end, &tok, &tlen))
        return 0;
    for (int d = 0; d < LCL__TUNE_DTYPE_COUNT; ++d)
        if (token_is(tok, tlen, lcl_dtype_name((lcl_dtype)d)))
            dtype = d;
    if (dtype < 0 || !take_token(&p, end, &tok, &tlen) || !parse_field(tok, tlen, "vw", &vw) ||
        !take_token(&p, end, &tok, &tlen) || !parse_field(tok, tlen, "vpt", &vpt) ||
        !take_token(&p, end, &tok, &tlen) || !parse_field(tok, tlen, "wgs", &wgs) || p != end)
        return 0;
    *e = (struct entry){(enum lcl__tune_op)op, (lcl_dtype)dtype, {(unsigned)vw, (unsigned)vpt, wgs}};
    return 1;
}

static int format_entry(char *buf, size_t size, enum lcl__tune_op op, lcl_dtype dtype, const struct shape *t) {
    int n = snprintf(buf, size, "%s %s vw=%u vpt=%u wgs=%zu", op_names[op], lcl_dtype_name(dtype), t->vector_width,
                     t->vectors_per_item, t->work_group_size);
    return n >= 0 && (size_t)n < size;
}

/* Adds e; 0 when its op and dtype are already there. */
static int overlay_add(struct overlay *ov, const struct entry *e) {
    if (ov->set[e->op][e->dtype])
        return 0;
    ov->set[e->op][e->dtype] = 1;
    ov->t[e->op][e->dtype] = e->t;
    ov->count++;
    return 1;
}

/* Whether every entry of ov fits ctx's device. */
static bool overlay_fits(const struct overlay *ov, const lcl_context *ctx) {
    for (int op = 0; op < LCL__TUNE_OP_COUNT; ++op)
        for (int d = 0; d < LCL__TUNE_DTYPE_COUNT; ++d)
            if (ov->set[op][d] && unfit_reason(ctx, (enum lcl__tune_op)op, (lcl_dtype)d, &ov->t[op][d]))
                return false;
    return true;
}

static void overlay_apply(const struct overlay *ov, lcl_context *ctx) {
    reset_table(ctx);
    for (size_t op = 0; op < LCL__TUNE_OP_COUNT; ++op)
        for (size_t d = 0; d < LCL__TUNE_DTYPE_COUNT; ++d)
            if (ov->set[op][d]) {
                struct lcl__tunables *t = &ctx->tuning.table[op][d];
                t->vector_width[d] = ov->t[op][d].vector_width;
                t->chunk = ov->t[op][d].vectors_per_item;
                t->work_group_size = ov->t[op][d].work_group_size;
            }
}

/* ---- lines ------------------------------------------------------------------------------------- */

struct lines {
    const char *p, *end;
    size_t number;
};

/* The next line without its '\n'; 0 at the end. */
static int next_line(struct lines *ls, const char **line, size_t *len) {
    if (ls->p >= ls->end)
        return 0;
    const char *nl = memchr(ls->p, '\n', (size_t)(ls->end - ls->p));
    const char *e = nl ? nl : ls->end;
    *line = ls->p;
    *len = (size_t)(e - ls->p);
    ls->p = nl ? nl + 1 : ls->end;
    ls->number++;
    return 1;
}

static int has_control(const char *line, size_t len) {
    for (size_t i = 0; i < len; ++i)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            return 1;
    return 0;
}

static int skippable(const char *line, size_t len) { return len == 0 || line[0] == '#'; }

/* Parameter text from an app or the tuner, strictly: every line an entry or blank. */
static lcl_status parse_params(const char *fn, const lcl_context *ctx, const char *params, struct overlay *ov) {
    memset(ov, 0, sizeof *ov);
    struct lines ls = {params, params + strlen(params), 0};
    const char *line = NULL;
    size_t len = 0;
    while (next_line(&ls, &line, &len)) {
        if (skippable(line, len))
            continue;
        struct entry e;
        if (len > ENTRY_SIZE || has_control(line, len) || !parse_entry(line, len, &e))
            return lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                             "%s: line %zu (\"%.*s\") is not \"OP DTYPE vw=V vpt=P wgs=W\" with a known op and dtype",
                             fn, ls.number, (int)(len > ENTRY_SIZE ? ENTRY_SIZE : len), line);
        const char *why = unfit_reason(ctx, e.op, e.dtype, &e.t);
        if (why)
            return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: line %zu (\"%.*s\"): %s", fn, ls.number, (int)len, line,
                             why);
        if (!overlay_add(ov, &e))
            return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: line %zu (\"%.*s\") repeats an op and dtype", fn,
                             ls.number, (int)len, line);
    }
    return LCL_SUCCESS;
}

/* ---- the cache file ---------------------------------------------------------------------------- */

/* What scanning a cache looks for: the section `key` (its entries into `mine`), and the other
 * sections' lines, verbatim, into `others` (when not NULL). */
struct scan {
    const char *key;
    struct overlay mine;
    int found;
    FILE *others;
};

/* 0 when the text is not a well-formed cache. */
static int scan_cache(const char *text, size_t size, struct scan *s) {
    struct lines ls = {text, text + size, 0};
    const char *line = NULL;
    size_t len = 0;
    if (size == 0 || text[size - 1] != '\n' || memchr(text, '\0', size) || !next_line(&ls, &line, &len) ||
        !token_is(line, len, CACHE_HEADER))
        return 0;
    int in_section = 0, in_mine = 0;
    size_t prefix = strlen(DEVICE_PREFIX);
    while (next_line(&ls, &line, &len)) {
        if (has_control(line, len))
            return 0;
        if (skippable(line, len))
            continue;
        if (len > prefix && memcmp(line, DEVICE_PREFIX, prefix) == 0) {
            in_section = 1;
            in_mine = token_is(line + prefix, len - prefix, s->key);
            if (in_mine && s->found++)
                return 0; /* the same device twice */
        } else {
            struct entry e;
            if (!in_section || len > ENTRY_SIZE || !parse_entry(line, len, &e))
                return 0;
            if (in_mine && !overlay_add(&s->mine, &e))
                return 0;
        }
        if (!in_mine && s->others)
            fprintf(s->others, "%.*s\n", (int)len, line);
    }
    return 1;
}

/* The cache's path: $LEAKYCL_TUNING_FILE, $XDG_CACHE_HOME/leakycl/tuning (absolute only, as the
 * XDG spec says) or $HOME/.cache/leakycl/tuning. 0 when none fits buf. */
static int cache_path(char *buf, size_t size) {
    const char *file = getenv("LEAKYCL_TUNING_FILE");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n = -1;
    if (file && *file)
        n = snprintf(buf, size, "%s", file);
    else if (xdg && xdg[0] == '/')
        n = snprintf(buf, size, "%s/leakycl/tuning", xdg);
    else if (home && *home)
        n = snprintf(buf, size, "%s/.cache/leakycl/tuning", home);
    return n > 0 && (size_t)n < size;
}

/* A string property of the device with control characters and '|' (the key's separator)
 * replaced, so that the key is one line. */
static int device_text(cl_device_id device, cl_device_info param, char *buf, size_t size) {
    size_t got = 0;
    if (clGetDeviceInfo(device, param, size - 1, buf, &got) != CL_SUCCESS)
        return 0;
    buf[got < size ? got : size - 1] = '\0';
    for (char *c = buf; *c; ++c)
        if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '|')
            *c = '?';
    return 1;
}

/* "NAME|DRIVER VERSION|DEVICE VERSION": a driver update or another device is another key. */
static int device_key(cl_device_id device, char *key, size_t size) {
    char name[256], driver[256], version[256];
    if (!device_text(device, CL_DEVICE_NAME, name, sizeof name) ||
        !device_text(device, CL_DRIVER_VERSION, driver, sizeof driver) ||
        !device_text(device, CL_DEVICE_VERSION, version, sizeof version))
        return 0;
    int n = snprintf(key, size, "%s|%s|%s", name, driver, version);
    return n > 0 && (size_t)n < size;
}

/* The cache's section for ctx's device, when it is there and fits the device. */
static void load_cache(lcl_context *ctx) {
    char path[4096], key[KEY_SIZE];
    size_t size = 0;
    char *text = NULL;
    const char *disabled = getenv("LEAKYCL_TUNING");
    if ((disabled && strcmp(disabled, "0") == 0) || !cache_path(path, sizeof path) ||
        !device_key(ctx->device, key, sizeof key) || !(text = lcl__read_file(path, CACHE_MAX_BYTES, &size)))
        return;
    struct scan s = {.key = key};
    if (scan_cache(text, size, &s) && s.found && overlay_fits(&s.mine, ctx)) {
        overlay_apply(&s.mine, ctx);
        ctx->tuning.from_cache = s.mine.count;
    }
    free(text);
}

void lcl__tuning_init(lcl_context *ctx, size_t max_wg) {
    ctx->tuning.max_work_group_size = max_wg > ctx->tune.work_group_size ? max_wg : ctx->tune.work_group_size;
    reset_table(ctx);
    load_cache(ctx);
}

/* Creates the folders above path (mkdir -p of its dirname). */
static void make_parents(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(dir, 0755); /* an existing folder is fine; a real failure shows at open */
        *slash = '/';
    }
}

/* The new cache into f: the old one's other sections (none when it is missing or corrupt), then
 * ov as key's section. */
static void compose_cache(FILE *f, const char *path, const char *key, const struct overlay *ov) {
    fputs(CACHE_HEADER "\n", f);
    size_t size = 0;
    char *old = lcl__read_file(path, CACHE_MAX_BYTES, &size);
    struct scan check = {.key = key}, copy = {.key = key, .others = f};
    if (old && scan_cache(old, size, &check)) /* a corrupt cache is not copied from at all */
        scan_cache(old, size, &copy);
    free(old);
    fprintf(f, "%s%s\n", DEVICE_PREFIX, key);
    char line[ENTRY_SIZE + 1];
    for (int op = 0; op < LCL__TUNE_OP_COUNT; ++op)
        for (int d = 0; d < LCL__TUNE_DTYPE_COUNT; ++d)
            if (ov->set[op][d] && format_entry(line, sizeof line, (enum lcl__tune_op)op, (lcl_dtype)d, &ov->t[op][d]))
                fprintf(f, "%s\n", line);
}

/* Composes the new cache in a file of its own beside path and renames it over path, so that a
 * reader sees the old cache or the new one, never a mix. */
static lcl_status store_cache(const char *path, const char *key, const struct overlay *ov) {
    static atomic_uint serial;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.%u.tmp", path, (long)getpid(), atomic_fetch_add(&serial, 1));
    make_parents(path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tuning_store: cannot create %s", tmp);
    }
    compose_cache(f, path, key, ov);
    int ok = fflush(f) == 0 && !ferror(f) && fsync(fd) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tuning_store: cannot write %s", path);
    }
    return LCL_SUCCESS;
}

/* ---- the public functions ---------------------------------------------------------------------- */

static int params_empty(const char *params) { return !params || params[strspn(params, " \n")] == '\0'; }

static lcl_status check_opencl(const char *fn, const lcl_context *ctx) {
    if (!ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    if (ctx->backend != LCL_BACKEND_OPENCL)
        return lcl__fail(LCL_ERROR_UNSUPPORTED, "%s: the CPU backend has no kernel parameters", fn);
    return LCL_SUCCESS;
}

lcl_status lcl_context_create_tuned(const char *device, const char *params, lcl_context **out) {
    static const char fn[] = "lcl_context_create_tuned";
    if (!out)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    lcl_context *ctx = NULL;
    lcl_status st = lcl_context_create(device, &ctx);
    if (st != LCL_SUCCESS)
        return st;
    if (ctx->backend == LCL_BACKEND_OPENCL || !params_empty(params)) {
        struct overlay ov;
        st = check_opencl(fn, ctx);
        if (st == LCL_SUCCESS && (st = parse_params(fn, ctx, params ? params : "", &ov)) == LCL_SUCCESS)
            overlay_apply(&ov, ctx);
    }
    if (st != LCL_SUCCESS) {
        lcl_context_release(ctx);
        return st;
    }
    *out = ctx;
    return LCL_SUCCESS;
}

lcl_status lcl_context_tuning(const lcl_context *ctx, const char *op, lcl_dtype dtype, char *buf, size_t size) {
    static const char fn[] = "lcl_context_tuning";
    lcl_status st = check_opencl(fn, ctx);
    if (st != LCL_SUCCESS)
        return st;
    int found = -1;
    for (int i = 0; op && i < LCL__TUNE_OP_COUNT; ++i)
        if (strcmp(op, op_names[i]) == 0)
            found = i;
    if (found < 0)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: unknown op \"%s\"", fn, op ? op : "(NULL)");
    if (!lcl__dtype_is_float(dtype))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: dtype %d is not a float dtype", fn, (int)dtype);
    struct shape in_force = shape_of(&ctx->tuning.table[found][dtype], dtype);
    if (!buf || !format_entry(buf, size, (enum lcl__tune_op)found, dtype, &in_force))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: buf is NULL or too small", fn);
    return LCL_SUCCESS;
}

size_t lcl_context_tuned(const lcl_context *ctx) {
    return ctx && ctx->backend == LCL_BACKEND_OPENCL ? ctx->tuning.from_cache : 0;
}

lcl_status lcl_tuning_store(const lcl_context *ctx, const char *params) {
    static const char fn[] = "lcl_tuning_store";
    char path[4096], key[KEY_SIZE];
    struct overlay ov;
    lcl_status st = check_opencl(fn, ctx);
    if (st == LCL_SUCCESS)
        st = parse_params(fn, ctx, params ? params : "", &ov);
    if (st != LCL_SUCCESS)
        return st;
    if (!cache_path(path, sizeof path))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: no cache path (set LEAKYCL_TUNING_FILE or HOME)", fn);
    if (!device_key(ctx->device, key, sizeof key))
        return lcl__fail(LCL_ERROR_OPENCL, "%s: cannot read the device's name and versions", fn);
    return store_cache(path, key, &ov);
}

lcl_status lcl_tuning_path(char *buf, size_t size) {
    if (!buf || !cache_path(buf, size))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                         "lcl_tuning_path: buf is NULL or too small, or no path can be formed (no "
                         "LEAKYCL_TUNING_FILE, XDG_CACHE_HOME or HOME)");
    return LCL_SUCCESS;
}
