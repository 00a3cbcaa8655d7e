/* A C program calling libmean.so: the classic signature, the 64-bit-length ones, and a mean
 * along an axis of a strided view with mean_reduce. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mean.h"

int main(void) {
    /* 2^25 values of 0.1f: a float accumulator would stall at 2^24 and report about 0.5x. */
    size_t n = (size_t)1 << 25;
    float *a = malloc(n * sizeof *a);
    double *d = malloc(n * sizeof *d);
    if (a == NULL || d == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    float naive = 0.0f;
    for (size_t i = 0; i < n; i++) {
        a[i] = 0.1f;
        d[i] = (double)i;
        naive += a[i];
    }
    printf("naive float loop:     %.9g\n", naive / (float)n);
    printf("compute_mean(a, n):   %.9g\n", compute_mean(a, (int)n));
    printf("mean_f32(a, n):       %.9g\n", mean_f32(a, n));
    printf("mean_f64(0..n-1):     %.17g (exact: %.17g)\n", mean_f64(d, n), (n - 1) / 2.0);
    printf("mean_f32(NULL, 5):    %g\n", mean_f32(NULL, 5));
    printf("compute_mean(a, -1):  %g\n", compute_mean(a, -1));

    int flat_ok = mean_f32(a, n) == 0.1f && compute_mean(a, (int)n) == 0.1f &&
                  mean_f64(d, n) == (n - 1) / 2.0 && isnan(mean_f32(NULL, 5)) &&
                  isnan(compute_mean(a, -1));

    /* The means down the columns of a 2^24 x 2 float32 matrix (the same memory, now ones) of ones, read through a view of
     * every other row backwards (negative stride): numpy's float32 row sums give 0.5 here. */
    int64_t rows = (int64_t)1 << 24, shape[2] = {rows / 2, 2};
    int64_t strides[2] = {-2 * 2 * (int64_t)sizeof(float), sizeof(float)};
    for (size_t i = 0; i < (size_t)rows * 2; i++) a[i] = 1.0f;
    struct mean_array in = {a, (size_t)rows * 2 * sizeof(float), (size_t)(rows - 2) * 2 * sizeof(float),
                            MEAN_FLOAT32, 0, 2, shape, strides};
    double columns[2] = {0, 0};
    int64_t out_shape[1] = {2}, out_strides[1] = {sizeof(double)};
    struct mean_array out = {columns, sizeof columns, 0, MEAN_FLOAT64, 0, 1, out_shape, out_strides};
    int axis = 0;
    int status = mean_reduce(MEAN_OP_MEAN, &in, NULL, &out, &axis, 1, NULL, 0);
    printf("mean_reduce(axis 0):  %d, [%g, %g]\n", status, columns[0], columns[1]);
    int64_t far[2] = {-2 * 2 * (int64_t)sizeof(float), 4 * sizeof(float)}; /* columns past the row */
    struct mean_array outside = in;
    outside.strides = far;
    int refused = mean_reduce(MEAN_OP_MEAN, &outside, NULL, &out, &axis, 1, NULL, 0);
    printf("a view past memory:   %d (MEAN_E_BOUNDS is %d)\n", refused, MEAN_E_BOUNDS);

    int ok = flat_ok && status == MEAN_OK && columns[0] == 1.0 && columns[1] == 1.0 &&
             refused == MEAN_E_BOUNDS;
    free(a);
    free(d);
    printf("%s\n", ok ? "c_caller: all results as expected" : "c_caller: UNEXPECTED RESULT");
    return ok ? 0 : 1;
}
