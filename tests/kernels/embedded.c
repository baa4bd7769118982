/* The kernels built into the library are the files in kernels/, byte for byte: every row of the
 * generated table equals its kernels/<name>.cl, and every kernels/NAME.cl has a row.
 *
 * usage: embedded KERNELS_DIR      exits 0 when they all match */
#include "opencl/program.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DIR/NAME.cl's bytes, NUL-terminated, and its length; NULL when it cannot be read. */
static char *read_file(const char *dir, const char *name, size_t *length) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.cl", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)size + 1)) != NULL) {
        *length = fread(text, 1, (size_t)size, f);
        text[*length] = '\0';
    }
    fclose(f);
    return text;
}

static int has_row(const char *name) {
    for (const struct lcl__kernel_source *k = lcl__kernel_sources; k->name; ++k)
        if (strcmp(k->name, name) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: embedded KERNELS_DIR\n");
        return 2;
    }
    int problems = 0, rows = 0;
    for (const struct lcl__kernel_source *k = lcl__kernel_sources; k->name; ++k, ++rows) {
        size_t length = 0;
        char *file = read_file(argv[1], k->name, &length);
        if (!file) {
            fprintf(stderr, "embedded: %s is in the table but %s/%s.cl cannot be read\n", k->name, argv[1], k->name);
            problems++;
            continue;
        }
        size_t embedded = strlen(k->source);
        if (embedded != length || memcmp(file, k->source, length) != 0) {
            size_t i = 0;
            while (i < length && i < embedded && file[i] == k->source[i])
                ++i;
            fprintf(stderr, "embedded: %s differs from %s.cl at byte %zu (embedded %zu bytes, file %zu)\n", k->name,
                    k->name, i, embedded, length);
            problems++;
        }
        free(file);
    }
    DIR *dir = opendir(argv[1]);
    if (!dir) {
        fprintf(stderr, "embedded: cannot list %s\n", argv[1]);
        return 1;
    }
    int files = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len <= 3 || strcmp(e->d_name + len - 3, ".cl") != 0)
            continue;
        files++;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(len - 3), e->d_name);
        if (!has_row(name)) {
            fprintf(stderr, "embedded: %s is not in the library's table\n", e->d_name);
            problems++;
        }
    }
    closedir(dir);
    if (rows == 0 || files == 0) {
        fprintf(stderr, "embedded: %d table rows, %d files\n", rows, files);
        problems++;
    }
    if (problems == 0)
        printf("embedded: %d kernels, each byte for byte its file\n", rows);
    return problems ? 1 : 0;
}
