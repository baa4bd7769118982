/* A program outside the project, built against the installed leakycl (CMake package or
 * pkg-config): creates a CPU-backend context, runs lcl_forward and lcl_forward_host on a few
 * values and checks them exactly. Exits 0 when all is well. */
#include <leakycl.h>
#include <stdio.h>
#include <string.h>

#define N 6

static int fail(const char *what, lcl_status status) {
    fprintf(stderr, "consumer: %s: %s: %s\n", what, lcl_status_string(status), lcl_last_error());
    return 1;
}

/* y = f(x . I + 0.5) with alpha 0.25 on 2 x 2: exact in fp32. */
static lcl_status dense(lcl_context *ctx) {
    const float x[4] = {1.0f, -2.0f, 3.0f, 4.0f}, w[4] = {1.0f, 0.0f, 0.0f, 1.0f}, b[2] = {0.5f, 0.5f};
    const float want[4] = {1.5f, -0.375f, 3.5f, 4.5f};
    float y[4];
    lcl_tensor *t[4] = {NULL, NULL, NULL, NULL};
    lcl_status status = LCL_SUCCESS;
    for (int i = 0; i < 4 && status == LCL_SUCCESS; ++i)
        status = lcl_tensor_create(ctx, LCL_F32, i == 2 ? 2 : 4, &t[i]);
    if (status == LCL_SUCCESS && (status = lcl_tensor_write(t[0], x)) == LCL_SUCCESS &&
        (status = lcl_tensor_write(t[1], w)) == LCL_SUCCESS && (status = lcl_tensor_write(t[2], b)) == LCL_SUCCESS &&
        (status = lcl_dense_forward(ctx, 2, 2, 2, 0.25, t[0], t[1], t[2], t[3])) == LCL_SUCCESS &&
        (status = lcl_tensor_read(t[3], y)) == LCL_SUCCESS && memcmp(y, want, sizeof want) != 0) {
        fprintf(stderr, "consumer: dense: y[1] = %g, want -0.375\n", (double)y[1]);
        status = LCL_ERROR_INVALID_ARGUMENT;
    }
    for (int i = 0; i < 4; ++i)
        lcl_tensor_release(t[i]);
    return status;
}

int main(void) {
    const float x[N] = {-2.0f, -0.5f, -0.0f, 0.0f, 1.5f, 3.0f};
    const float want[N] = {-0.5f, -0.125f, -0.0f, 0.0f, 1.5f, 3.0f}; /* alpha = 0.25 */
    float y[N];
    float y_host[N];
    lcl_context *ctx = NULL;
    lcl_tensor *tx = NULL;
    lcl_tensor *ty = NULL;
    int rc = 1;

    lcl_status status = lcl_context_create("cpu", &ctx);
    if (status != LCL_SUCCESS) {
        return fail("lcl_context_create", status);
    }
    if ((status = lcl_tensor_create(ctx, LCL_F32, N, &tx)) != LCL_SUCCESS ||
        (status = lcl_tensor_create(ctx, LCL_F32, N, &ty)) != LCL_SUCCESS) {
        rc = fail("lcl_tensor_create", status);
        goto cleanup;
    }
    if ((status = lcl_tensor_write(tx, x)) != LCL_SUCCESS || (status = lcl_forward(ctx, 0.25, tx, ty)) != LCL_SUCCESS ||
        (status = lcl_tensor_read(ty, y)) != LCL_SUCCESS) {
        rc = fail("lcl_forward", status);
        goto cleanup;
    }
    if ((status = lcl_forward_host(ctx, LCL_F32, N, 0.25, x, y_host)) != LCL_SUCCESS) {
        rc = fail("lcl_forward_host", status);
        goto cleanup;
    }
    if (memcmp(y, want, sizeof want) != 0 || memcmp(y_host, want, sizeof want) != 0) {
        fprintf(stderr, "consumer: wrong values: y[0] = %g, y[1] = %g (want -0.5, -0.125)\n", (double)y[0],
                (double)y[1]);
        goto cleanup;
    }
    /* The dense layer pulls the BLAS libraries into a static link (UNSUPPORTED: built without). */
    if ((status = dense(ctx)) != LCL_SUCCESS && status != LCL_ERROR_UNSUPPORTED) {
        rc = fail("lcl_dense_forward", status);
        goto cleanup;
    }
    printf("consumer: ok on %s, leakycl %d.%d.%d\n", lcl_context_device_name(ctx), LEAKYCL_VERSION_MAJOR,
           LEAKYCL_VERSION_MINOR, LEAKYCL_VERSION_PATCH);
    rc = 0;
cleanup:
    lcl_tensor_release(ty);
    lcl_tensor_release(tx);
    lcl_context_release(ctx);
    return rc;
}
