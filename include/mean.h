/* libmean: the mean of a float array, correctly rounded (the exact mean rounded once to the
 * result type, ties to even). See README.md, "C ABI contract".
 *
 * Every function returns NaN for NULL, a length of 0 (or below), or a pointer not aligned for
 * its element type, and then reads nothing. Any NaN in the input, or +inf together with -inf,
 * gives NaN; otherwise an infinity gives that infinity. Sums never overflow. Every function is
 * reentrant and thread-safe, and never allocates, panics or unwinds.
 */
#ifndef LIBMEAN_H
#define LIBMEAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The classic ctypes tutorial's signature, with a correctly rounded result. */
float compute_mean(const float *a, int n);

/* Mean of n floats. */
float mean_f32(const float *a, size_t n);

/* Mean of n doubles. */
double mean_f64(const double *a, size_t n);

/* Mean of the n values whose address is stored at *data (for a caller holding the array's data
 * pointer in a struct field). NaN also when data itself is NULL or misaligned. */
float mean_f32_indirect(const float *const *data, size_t n);
double mean_f64_indirect(const double *const *data, size_t n);

/* The same on up to `threads` threads (0: NPMEAN_NUM_THREADS, else every CPU). Threads start
 * only for arrays of 12 MiB and more (6 MiB per thread); starting them allocates. */
float mean_f32_threads(const float *a, size_t n, size_t threads);
double mean_f64_threads(const double *a, size_t n, size_t threads);

/* The SIMD level in use ("scalar", "sse2", "avx2", "avx512") and the best this CPU has
 * (static strings: do not free). NPMEAN_SIMD forces a lower level. */
const char *mean_simd_level(void);
const char *mean_simd_best(void);
size_t mean_min_bytes_per_thread(void);

/* Benchmark aid, not a mean: a plain convert-and-add pass over the floats. */
double mean_bench_read_f32(const float *a, size_t n, size_t threads);

/* An exact, mergeable accumulator: the correctly rounded mean of everything added, in any
 * chunks, merged from any number of accumulators, saved and restored as bytes. A handle must
 * not be used by two threads at once. int results: 0 for success, -1 for bad arguments. */
typedef struct mean_acc mean_acc;
mean_acc *mean_acc_new(void);
void mean_acc_free(mean_acc *acc);                     /* NULL is ignored */
int mean_acc_add_f32(mean_acc *acc, const float *a, size_t n);
int mean_acc_add_f64(mean_acc *acc, const double *a, size_t n);
int mean_acc_merge(mean_acc *into, const mean_acc *from);
uint64_t mean_acc_count(const mean_acc *acc);          /* 0 for NULL */
float mean_acc_mean_f32(const mean_acc *acc);          /* NaN for NULL or no values */
double mean_acc_mean_f64(const mean_acc *acc);
size_t mean_acc_serialized_size(void);
int mean_acc_serialize(const mean_acc *acc, uint8_t *out, size_t len);
mean_acc *mean_acc_deserialize(const uint8_t *bytes, size_t len);  /* NULL if invalid */

#ifdef __cplusplus
}
#endif

#endif /* LIBMEAN_H */
