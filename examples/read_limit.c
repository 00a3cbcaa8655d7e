/* The benchmark's read limit: plain passes over an array that only load, convert (float32) and
 * add, in several ways, so that the limit does not share the kernels' own choices. Each pass
 * is one of {128-, 256-, 512-bit loads} x {no software prefetch, prefetch 8 KiB ahead} x
 * {float32 convert-and-add into doubles, float64 add}, on one thread or split in contiguous
 * parts over several (pthreads). examples/bench.py takes the fastest pass per array and thread
 * count as "the read limit" and shows numpy.mean's own rate beside it.
 *
 * Built by the benchmark with `cc -O3 -shared -fPIC -pthread`; each width is compiled
 * for its own instruction set (target attributes) and run only if the CPU has it.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define PREFETCH_AHEAD 8192

typedef double (*pass_fn)(const void *, size_t);

/* The eight accumulators' statements written out, so that they stay in registers at any -O. */
#define UNROLL8(stmt)                                                                             \
    do {                                                                                          \
        { enum { k = 0 }; stmt; } { enum { k = 1 }; stmt; } { enum { k = 2 }; stmt; }             \
        { enum { k = 3 }; stmt; } { enum { k = 4 }; stmt; } { enum { k = 5 }; stmt; }             \
        { enum { k = 6 }; stmt; } { enum { k = 7 }; stmt; }                                       \
    } while (0)

/* 8 independent accumulators, as a kernel would; the head (up to the first 64-byte boundary)
 * and the tail (fewer than a vector group) scalar. PF: prefetch the line PREFETCH_AHEAD bytes
 * ahead of each 64 bytes read. One pass over elements of type T, loaded by `load`. */
#define ONE_PASS(fname, attr, vec, zero, T, load, add, lanes64, reduce, PF)                        \
    __attribute__((target(attr))) static double fname(const void *p, size_t n) {                \
        const T *a = p;                                                                           \
        vec acc[8];                                                                               \
        for (int k = 0; k < 8; k++) acc[k] = zero;                                                \
        double head = 0;                                                                          \
        size_t step = 8 * lanes64, i = 0;                                                         \
        /* From the first 64-byte boundary on, no load straddles two cache lines. */              \
        for (; i < n && ((uintptr_t)(a + i) & 63) != 0; i++) head += a[i];                        \
        for (; i + step <= n; i += step) {                                                        \
            if (PF)                                                                               \
                for (size_t b = 0; b < step * sizeof(T); b += 64)                                 \
                    _mm_prefetch((const char *)(a + i) + PREFETCH_AHEAD + b, _MM_HINT_T0);        \
            UNROLL8(acc[k] = add(acc[k], load(a + i + k * lanes64)));                             \
        }                                                                                         \
        double s = head;                                                                          \
        for (int k = 0; k < 8; k++) s += reduce(acc[k]);                                          \
        for (; i < n; i++) s += a[i];                                                             \
        return s;                                                                                 \
    }

/* A width's two passes: float32 converted to doubles, and float64. */
#define PASS(name, attr, vec, zero, load_f32, load_f64, add, lanes64, reduce, PF)                 \
    ONE_PASS(name##_f32, attr, vec, zero, float, load_f32, add, lanes64, reduce, PF)              \
    ONE_PASS(name##_f64, attr, vec, zero, double, load_f64, add, lanes64, reduce, PF)

__attribute__((target("sse2"))) static inline __m128d load2_f32(const float *a) {
    return _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)a)));
}
__attribute__((target("sse2"))) static inline double sum2(__m128d v) {
    double t[2];
    _mm_storeu_pd(t, v);
    return t[0] + t[1];
}
__attribute__((target("avx2"))) static inline __m256d load4_f32(const float *a) {
    return _mm256_cvtps_pd(_mm_loadu_ps(a));
}
__attribute__((target("avx2"))) static inline double sum4(__m256d v) {
    double t[4];
    _mm256_storeu_pd(t, v);
    return t[0] + t[1] + t[2] + t[3];
}
__attribute__((target("avx512f"))) static inline __m512d load8_f32(const float *a) {
    return _mm512_cvtps_pd(_mm256_loadu_ps(a));
}
__attribute__((target("avx512f"))) static inline double sum8(__m512d v) {
    return _mm512_reduce_add_pd(v);
}

PASS(w128, "sse2", __m128d, _mm_setzero_pd(), load2_f32, _mm_loadu_pd, _mm_add_pd, 2, sum2, 0)
PASS(w128_pf, "sse2", __m128d, _mm_setzero_pd(), load2_f32, _mm_loadu_pd, _mm_add_pd, 2, sum2, 1)
PASS(w256, "avx2", __m256d, _mm256_setzero_pd(), load4_f32, _mm256_loadu_pd, _mm256_add_pd, 4, sum4, 0)
PASS(w256_pf, "avx2", __m256d, _mm256_setzero_pd(), load4_f32, _mm256_loadu_pd, _mm256_add_pd, 4, sum4, 1)
PASS(w512, "avx512f", __m512d, _mm512_setzero_pd(), load8_f32, _mm512_loadu_pd, _mm512_add_pd, 8, sum8, 0)
PASS(w512_pf, "avx512f", __m512d, _mm512_setzero_pd(), load8_f32, _mm512_loadu_pd, _mm512_add_pd, 8, sum8, 1)

/* Pass k: width (k / 2: 128, 256, 512 bits), prefetch (k % 2). */
static const pass_fn PASSES_F32[6] = {w128_f32, w128_pf_f32, w256_f32, w256_pf_f32, w512_f32, w512_pf_f32};
static const pass_fn PASSES_F64[6] = {w128_f64, w128_pf_f64, w256_f64, w256_pf_f64, w512_f64, w512_pf_f64};
static const char *const NAMES[6] = {"128-bit", "128-bit + prefetch", "256-bit", "256-bit + prefetch",
                                     "512-bit", "512-bit + prefetch"};

/* How many passes this CPU can run (they are ordered by the instruction set they need). */
int read_limit_passes(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 6;
    if (__builtin_cpu_supports("avx2")) return 4;
    return 2;
}

const char *read_limit_name(int pass) { return pass >= 0 && pass < 6 ? NAMES[pass] : "?"; }

struct part {
    pass_fn fn;
    const char *start;
    size_t n;
    double sum;
};

static void *run_part(void *arg) {
    struct part *p = arg;
    p->sum = p->fn(p->start, p->n);
    return NULL;
}

/* One pass over n elements (elem_size 4: float32, 8: float64) split into `threads`
 * contiguous parts (at most 64), each on its own thread but the first, on this one. */
double read_limit(int pass, int elem_size, const void *a, size_t n, int threads) {
    if (pass < 0 || pass >= read_limit_passes() || (elem_size != 4 && elem_size != 8)) return -1;
    pass_fn fn = elem_size == 4 ? PASSES_F32[pass] : PASSES_F64[pass];
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    struct part parts[64];
    pthread_t ids[64];
    size_t per = n / threads;
    for (int t = 0; t < threads; t++) {
        size_t begin = t * per, end = t == threads - 1 ? n : begin + per;
        parts[t] = (struct part){fn, (const char *)a + begin * elem_size, end - begin, 0};
    }
    for (int t = 1; t < threads; t++) pthread_create(&ids[t], NULL, run_part, &parts[t]);
    run_part(&parts[0]);
    double s = parts[0].sum;
    for (int t = 1; t < threads; t++) {
        pthread_join(ids[t], NULL);
        s += parts[t].sum;
    }
    return s;
}
