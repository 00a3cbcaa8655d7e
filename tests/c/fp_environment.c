/* libmean's results do not depend on the caller's floating-point environment: a library built
 * with -ffast-math sets flush-to-zero and denormals-are-zero in every process that loads it,
 * and a caller may change the rounding mode. Each result must be bit-identical to the one in
 * the default environment, and the caller's environment must be given back. x86_64 only. */
#include <pmmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmmintrin.h>

#include "mean.h"

#define COUNT 9

/* Bits, not values: under denormals-are-zero the caller's own compares see subnormals as 0. */
static uint64_t bits32(float x) { uint32_t u; memcpy(&u, &x, sizeof u); return u; }
static uint64_t bits64(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }

static float sub32[4], mixed32[3], third32[3];
static double sub64[2];
static float *big;                     /* enough subnormals for two threads */
static const size_t big_n = (size_t)1 << 23;

static void results(uint64_t out[COUNT]) {
    mean_acc *acc = mean_acc_new();
    mean_acc_add_f32(acc, sub32, 4);
    out[0] = bits32(mean_f32(sub32, 4));
    out[1] = bits64(mean_f64(sub64, 2));
    out[2] = bits32(mean_f32(mixed32, 3));
    out[3] = bits32(mean_f32(third32, 3));
    out[4] = bits32(compute_mean(sub32, 4));
    out[5] = bits32(mean_f32_threads(big, big_n, 2));
    out[6] = bits32(mean_acc_mean_f32(acc));
    out[7] = bits64(mean_acc_mean_f64(acc));
    out[8] = bits64(mean_f64_threads(sub64, 2, 2));
    mean_acc_free(acc);
}

int main(void) {
    /* Built from bit patterns: the values must not pass through this process's FPU. */
    uint32_t s[4] = {7, 21, 7, 21}, m[3] = {0x3f800000u, 0x0001116cu, 0xbf800000u};
    uint32_t t[3] = {0x3f800000u, 0x3f800000u, 0x40000000u};
    uint64_t d[2] = {0x000b8157268fdaf6ull, 0x0022a405f0c80b3eull};
    memcpy(sub32, s, sizeof s);
    memcpy(mixed32, m, sizeof m);
    memcpy(third32, t, sizeof t);
    memcpy(sub64, d, sizeof d);
    big = malloc(big_n * sizeof *big);
    if (big == NULL) return 1;
    for (size_t i = 0; i < big_n; i++) {
        uint32_t b = 1 + (uint32_t)(i % 1000);
        memcpy(&big[i], &b, sizeof b);
    }

    uint64_t expected[COUNT], got[COUNT];
    results(expected);
    if (expected[0] == 0 || expected[1] == 0 || expected[5] == 0) {
        printf("fp_environment: the default environment already lost the subnormals\n");
        return 1;
    }
    unsigned int modes[] = {
        _MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON,
        _MM_ROUND_UP,
        _MM_ROUND_DOWN | _MM_FLUSH_ZERO_ON,
        _MM_ROUND_TOWARD_ZERO | _MM_DENORMALS_ZERO_ON,
    };
    int ok = 1;
    unsigned int initial = _mm_getcsr();
    for (size_t k = 0; k < sizeof modes / sizeof *modes; k++) {
        unsigned int caller = (initial & ~0xE040u) | modes[k];
        _mm_setcsr(caller);
        results(got);
        unsigned int after = _mm_getcsr();
        _mm_setcsr(initial);
        for (int i = 0; i < COUNT; i++) {
            if (got[i] != expected[i]) {
                printf("fp_environment: mode %#x, result %d: bits %#llx, expected %#llx\n", modes[k], i,
                       (unsigned long long)got[i], (unsigned long long)expected[i]);
                ok = 0;
            }
        }
        if ((after & 0xFFC0u) != (caller & 0xFFC0u)) {
            printf("fp_environment: mode %#x: the caller's control bits came back as %#x\n", modes[k], after);
            ok = 0;
        }
    }
    free(big);
    printf("%s\n", ok ? "fp_environment: results independent of the caller's FP environment"
                      : "fp_environment: FAILED");
    return ok ? 0 : 1;
}
