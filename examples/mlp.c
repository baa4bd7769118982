/*
 * A two-layer perceptron that learns the two-spirals problem with leakycl's dense layer, the way
 * an app would use it: 2 inputs -> a hidden layer with a leaky ReLU -> 2 logits (a dense layer
 * with alpha = 1, whose activation is the identity), softmax and cross-entropy on the host, and
 * plain minibatch SGD. The data, the initial weights and the batch order come from --seed alone,
 * on the host, so the CPU backend and an OpenCL device start from the same bits and their losses
 * differ only by the rounding of their GEMMs.
 *
 *   mlp [--device SPEC] [--epochs N] [--seed S] [--lr RATE] [--min-accuracy A]
 *
 * Prints "epoch E loss L" per epoch, then the training accuracy; exits 1 if the loss did not
 * fall, or the accuracy is below --min-accuracy.
 */
#include <leakycl.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POINTS_PER_CLASS 256
#define POINTS (2 * POINTS_PER_CLASS)
#define BATCH 64
#define IN 2
#define HIDDEN 64
#define OUT 2
#define SLOPE 0.01 /* the hidden layer's leaky ReLU */

struct options {
    const char *device;
    int epochs;
    uint64_t seed;
    double lr;
    double min_accuracy;
};

/* ---- host-side randomness, the same on every machine ----------------------------------------- */

static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (double)(next_u64(s) >> 11) * 0x1p-53; } /* [0, 1) */

/* Two interleaved spirals of 1.75 turns, with a little noise; class k is rotated by k * pi. */
static void make_spirals(uint64_t *s, float *x, int *label) {
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < POINTS; i++) {
        int k = i % 2;
        double t = (double)(i / 2) / POINTS_PER_CLASS;
        double angle = t * 3.5 * pi + k * pi;
        double r = 2 * (0.1 + 0.9 * t); /* radius up to 2: sharper features for the first layer */
        x[i * IN] = (float)(r * cos(angle) + 0.02 * (uniform(s) - 0.5));
        x[i * IN + 1] = (float)(r * sin(angle) + 0.02 * (uniform(s) - 0.5));
        label[i] = k;
    }
}

static void init_uniform(uint64_t *s, float *w, size_t n, double limit) {
    for (size_t i = 0; i < n; i++) {
        w[i] = (float)((2 * uniform(s) - 1) * limit);
    }
}

/* ---- the model -------------------------------------------------------------------------------- */

/* Host copies of the parameters, and the device tensors of one batch. */
struct model {
    float w1[HIDDEN * IN], b1[HIDDEN], w2[OUT * HIDDEN], b2[OUT];
    lcl_tensor *t_w1, *t_b1, *t_w2, *t_b2;     /* parameters */
    lcl_tensor *x, *h, *logits, *dlogits, *dh; /* activations and their gradients */
    lcl_tensor *dw1, *db1, *dw2, *db2;         /* parameter gradients */
};

static void check(lcl_status status, const char *what) {
    if (status != LCL_SUCCESS) {
        fprintf(stderr, "mlp: %s: %s: %s\n", what, lcl_status_string(status), lcl_last_error());
        exit(1);
    }
}

static lcl_tensor *tensor(lcl_context *ctx, size_t n) {
    lcl_tensor *t = NULL;
    check(lcl_tensor_create(ctx, LCL_F32, n, &t), "lcl_tensor_create");
    return t;
}

static void model_create(lcl_context *ctx, struct model *m, size_t batch) {
    m->t_w1 = tensor(ctx, HIDDEN * IN);
    m->t_b1 = tensor(ctx, HIDDEN);
    m->t_w2 = tensor(ctx, OUT * HIDDEN);
    m->t_b2 = tensor(ctx, OUT);
    m->x = tensor(ctx, batch * IN);
    m->h = tensor(ctx, batch * HIDDEN);
    m->logits = tensor(ctx, batch * OUT);
    m->dlogits = tensor(ctx, batch * OUT);
    m->dh = tensor(ctx, batch * HIDDEN);
    m->dw1 = tensor(ctx, HIDDEN * IN);
    m->db1 = tensor(ctx, HIDDEN);
    m->dw2 = tensor(ctx, OUT * HIDDEN);
    m->db2 = tensor(ctx, OUT);
}

static void model_release(struct model *m) {
    lcl_tensor *all[] = {m->t_w1,    m->t_b1, m->t_w2, m->t_b2, m->x,   m->h,  m->logits,
                         m->dlogits, m->dh,   m->dw1,  m->db1,  m->dw2, m->db2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        lcl_tensor_release(all[i]);
    }
}

static void upload_parameters(struct model *m) {
    check(lcl_tensor_write(m->t_w1, m->w1), "write w1");
    check(lcl_tensor_write(m->t_b1, m->b1), "write b1");
    check(lcl_tensor_write(m->t_w2, m->w2), "write w2");
    check(lcl_tensor_write(m->t_b2, m->b2), "write b2");
}

/* logits of the `batch` rows already in m->x. */
static void forward(lcl_context *ctx, struct model *m, size_t batch, float *logits) {
    check(lcl_dense_forward(ctx, batch, IN, HIDDEN, SLOPE, m->x, m->t_w1, m->t_b1, m->h), "hidden layer");
    check(lcl_dense_forward(ctx, batch, HIDDEN, OUT, 1.0, m->h, m->t_w2, m->t_b2, m->logits), "output layer");
    check(lcl_tensor_read(m->logits, logits), "read logits");
}

/* Mean cross-entropy of softmax(logits) against the labels; dlogits gets its gradient. */
static double softmax_cross_entropy(const float *logits, const int *label, size_t batch, float *dlogits) {
    double loss = 0;
    for (size_t r = 0; r < batch; r++) {
        double a = logits[r * OUT], b = logits[r * OUT + 1];
        double top = a > b ? a : b;
        double ea = exp(a - top), eb = exp(b - top);
        double p[OUT] = {ea / (ea + eb), eb / (ea + eb)};
        loss -= log(p[label[r]]);
        for (int k = 0; k < OUT; k++) {
            dlogits[r * OUT + k] = (float)((p[k] - (label[r] == k)) / (double)batch);
        }
    }
    return loss / (double)batch;
}

static void sgd(float *w, const lcl_tensor *grad, size_t n, double lr) {
    float g[HIDDEN * IN > OUT * HIDDEN ? HIDDEN * IN : OUT * HIDDEN];
    check(lcl_tensor_read(grad, g), "read a gradient");
    for (size_t i = 0; i < n; i++) {
        w[i] -= (float)(lr * g[i]);
    }
}

/* One SGD step on the `batch` rows already in m->x; returns their loss before the step. */
static double step(lcl_context *ctx, struct model *m, const int *label, double lr) {
    float logits[BATCH * OUT], dlogits[BATCH * OUT];
    forward(ctx, m, BATCH, logits);
    double loss = softmax_cross_entropy(logits, label, BATCH, dlogits);
    check(lcl_tensor_write(m->dlogits, dlogits), "write dlogits");
    /* Output layer: alpha 1, so dz = dlogits; dh = dz . w2. Hidden layer: dx is not needed. */
    check(lcl_dense_backward(ctx, BATCH, HIDDEN, OUT, 1.0, m->h, m->t_w2, m->logits, m->dlogits, m->dh, m->dw2, m->db2),
          "output layer backward");
    check(lcl_dense_backward(ctx, BATCH, IN, HIDDEN, SLOPE, m->x, m->t_w1, m->h, m->dh, NULL, m->dw1, m->db1),
          "hidden layer backward");
    sgd(m->w1, m->dw1, HIDDEN * IN, lr);
    sgd(m->b1, m->db1, HIDDEN, lr);
    sgd(m->w2, m->dw2, OUT * HIDDEN, lr);
    sgd(m->b2, m->db2, OUT, lr);
    upload_parameters(m);
    return loss;
}

static void shuffle(uint64_t *s, int *order) {
    for (int i = POINTS - 1; i > 0; i--) {
        int j = (int)(next_u64(s) % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* Mean loss over each epoch's batches, per epoch; returns the first and the last. */
static void train(lcl_context *ctx, struct model *m, const float *x, const int *label, const struct options *opt,
                  uint64_t *s, double *first, double *last) {
    int order[POINTS];
    for (int i = 0; i < POINTS; i++) {
        order[i] = i;
    }
    for (int e = 0; e < opt->epochs; e++) {
        shuffle(s, order);
        double sum = 0;
        for (int b = 0; b < POINTS / BATCH; b++) {
            float xb[BATCH * IN];
            int lb[BATCH];
            for (int r = 0; r < BATCH; r++) {
                int i = order[b * BATCH + r];
                memcpy(xb + r * IN, x + i * IN, IN * sizeof(float));
                lb[r] = label[i];
            }
            check(lcl_tensor_write(m->x, xb), "write a batch");
            sum += step(ctx, m, lb, opt->lr);
        }
        double loss = sum / (POINTS / BATCH);
        printf("epoch %d loss %.9g\n", e + 1, loss);
        if (e == 0) {
            *first = loss;
        }
        *last = loss;
    }
}

/* The share of all points classified right, in batches of BATCH. */
static double accuracy(lcl_context *ctx, struct model *m, const float *x, const int *label) {
    int right = 0;
    for (int b = 0; b < POINTS / BATCH; b++) {
        float logits[BATCH * OUT];
        check(lcl_tensor_write(m->x, x + b * BATCH * IN), "write a batch");
        forward(ctx, m, BATCH, logits);
        for (int r = 0; r < BATCH; r++) {
            int guess = logits[r * OUT + 1] > logits[r * OUT];
            right += guess == label[b * BATCH + r];
        }
    }
    return (double)right / POINTS;
}

/* ---- the command line ----------------------------------------------------------------------- */

static int parse(int argc, char **argv, struct options *opt) {
    *opt = (struct options){NULL, 200, 1, 1.0, 0.0};
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (value == NULL) {
            return -1;
        } else if (strcmp(argv[i], "--device") == 0) {
            opt->device = value;
        } else if (strcmp(argv[i], "--epochs") == 0) {
            opt->epochs = (int)strtol(value, &end, 10);
        } else if (strcmp(argv[i], "--seed") == 0) {
            opt->seed = strtoull(value, &end, 10);
        } else if (strcmp(argv[i], "--lr") == 0) {
            opt->lr = strtod(value, &end);
        } else if (strcmp(argv[i], "--min-accuracy") == 0) {
            opt->min_accuracy = strtod(value, &end);
        } else {
            return -1;
        }
        if (end != NULL && (*end != '\0' || end == value)) {
            return -1;
        }
        i++;
    }
    return opt->epochs >= 1 ? 0 : -1;
}

int main(int argc, char **argv) {
    struct options opt;
    if (parse(argc, argv, &opt) != 0) {
        fprintf(stderr, "usage: mlp [--device SPEC] [--epochs N>=1] [--seed S] [--lr RATE] [--min-accuracy A]\n");
        return 2;
    }
    lcl_context *ctx = NULL;
    check(lcl_context_create(opt.device, &ctx), "lcl_context_create");
    printf("device %s, seed %llu, %d epochs, lr %g, %d points, %d-%d-%d\n", lcl_context_device_name(ctx),
           (unsigned long long)opt.seed, opt.epochs, opt.lr, POINTS, IN, HIDDEN, OUT);

    static struct model m;
    float x[POINTS * IN];
    int label[POINTS];
    uint64_t s = opt.seed;
    make_spirals(&s, x, label);
    init_uniform(&s, m.w1, HIDDEN * IN, sqrt(6.0 / IN));
    init_uniform(&s, m.w2, OUT * HIDDEN, sqrt(6.0 / HIDDEN));
    memset(m.b1, 0, sizeof m.b1);
    memset(m.b2, 0, sizeof m.b2);
    model_create(ctx, &m, BATCH);
    upload_parameters(&m);

    double first = 0, last = 0;
    train(ctx, &m, x, label, &opt, &s, &first, &last);
    double acc = accuracy(ctx, &m, x, label);
    printf("training accuracy %.4f\n", acc);
    int rc = 0;
    if (!(last < first)) {
        printf("the loss did not fall: %.9g -> %.9g\n", first, last);
        rc = 1;
    } else {
        printf("loss fell from %.9g to %.9g\n", first, last);
    }
    if (acc < opt.min_accuracy) {
        printf("accuracy %.4f is below %.4f\n", acc, opt.min_accuracy);
        rc = 1;
    }
    model_release(&m);
    lcl_context_release(ctx);
    return rc;
}
