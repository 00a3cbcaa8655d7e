/* libmean: the mean of a float array, correctly rounded (the exact mean rounded once to the
 * result type, ties to even). README.md, "C ABI contract", has the whole contract in a table;
 * tests/python/test_header.py checks this header against src/ffi.rs and the library's symbols.
 *
 * Means: NULL, a length of 0 (or below, for compute_mean), or a pointer not aligned for its
 * element type gives NaN, and nothing is read. Any NaN in the input, or +inf together with
 * -inf, gives NaN; otherwise an infinity gives that infinity. Sums never overflow.
 *
 * Every function is reentrant and thread-safe (one accumulator handle must not be used by two
 * threads at once), never panics or unwinds, and does not depend on the caller's
 * floating-point environment (rounding mode, flush-to-zero). Allocation: mean_acc_new and
 * mean_acc_deserialize allocate the handle they return; a *_threads call that starts threads
 * allocates them for the length of the call; the first call in a process reads NPMEAN_SIMD,
 * NPMEAN_NUM_THREADS, NPMEAN_CERTIFICATE and NPMEAN_PREFETCH from the
 * environment once (std's getenv copies).
 * Nothing else allocates.
 */
#ifndef LIBMEAN_H
#define LIBMEAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The C ABI version this header describes; mean_abi_version() returns the library's. */
#define MEAN_ABI_VERSION 2
uint32_t mean_abi_version(void);

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

/* 1 if the level in use certifies sums exact by the CPU's inexact flag (a self-test on first
 * use found the flag reliable), 0 if it runs without (same means, slower on exact ties):
 * emulators such as valgrind, NPMEAN_CERTIFICATE=off, CPUs other than x86_64. */
int mean_certificate_trusted(void);

/* 1 if the kernels issue software prefetches on this host, 0 if not (decided once from the
 * CPU: off on AMD Zen 4; NPMEAN_PREFETCH=on|off overrides). */
int mean_software_prefetch(void);

/* Each thread of a *_threads call gets at least this many bytes of input. */
size_t mean_min_bytes_per_thread(void);

/* An exact, mergeable accumulator: the correctly rounded mean of everything added, in any
 * chunks, merged from any number of accumulators, saved and restored as bytes. At most
 * 2^64 - 1 values. int results: 0 for success, -1 (changing nothing) for bad arguments or a
 * count that would pass 2^64 - 1. */
typedef struct mean_acc mean_acc;
mean_acc *mean_acc_new(void);
void mean_acc_free(mean_acc *acc);                     /* NULL is ignored */
int mean_acc_add_f32(mean_acc *acc, const float *a, size_t n);
int mean_acc_add_f64(mean_acc *acc, const double *a, size_t n);
int mean_acc_merge(mean_acc *into, const mean_acc *from);   /* into == from doubles it */
uint64_t mean_acc_count(const mean_acc *acc);          /* 0 for NULL */
float mean_acc_mean_f32(const mean_acc *acc);          /* NaN for NULL or no values */
double mean_acc_mean_f64(const mean_acc *acc);
/* Serialized state: mean_acc_serialized_size() bytes, versioned and checksummed (README,
 * "The accumulator's bytes"); deserialize returns NULL for anything this library did not
 * write, every single flipped bit included. */
size_t mean_acc_serialized_size(void);
int mean_acc_serialize(const mean_acc *acc, uint8_t *out, size_t len);
mean_acc *mean_acc_deserialize(const uint8_t *bytes, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* LIBMEAN_H */
