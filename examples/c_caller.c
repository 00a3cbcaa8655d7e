/* A C program calling libmean.so: the classic signature and the 64-bit-length ones. */
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

    int ok = mean_f32(a, n) == 0.1f && compute_mean(a, (int)n) == 0.1f &&
             mean_f64(d, n) == (n - 1) / 2.0 && isnan(mean_f32(NULL, 5)) &&
             isnan(compute_mean(a, -1));
    free(a);
    free(d);
    printf("%s\n", ok ? "c_caller: all results as expected" : "c_caller: UNEXPECTED RESULT");
    return ok ? 0 : 1;
}
