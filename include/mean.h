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
#define MEAN_ABI_VERSION 6
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
/* The exact sum rounded once (ties to even, ±inf beyond the range); 0 if empty, NaN for NULL. */
float mean_acc_sum_f32(const mean_acc *acc);
double mean_acc_sum_f64(const mean_acc *acc);
/* Serialized state: mean_acc_serialized_size() bytes, versioned and checksummed (README,
 * "The accumulator's bytes"); deserialize returns NULL for anything this library did not
 * write, every single flipped bit included. */
size_t mean_acc_serialized_size(void);
int mean_acc_serialize(const mean_acc *acc, uint8_t *out, size_t len);
mean_acc *mean_acc_deserialize(const uint8_t *bytes, size_t len);

/* Means and sums along any axes of any strided array (the reduction engine). A view is numpy's:
 * the element at index (i0, i1, ...) is at byte memory + offset + i0*strides[0] + i1*strides[1]
 * ...; strides may be negative or zero, and every element must lie in memory[0..len) and be
 * aligned for its component type. Each output element is the exact mean (or sum) of its input
 * elements (those where `where` is true, if given; the NaN-skipping operations also leave out
 * NaNs) rounded once to the output's type, ties to even; a mean of no element is NaN, a sum of
 * none is the initial value (0 by default). Integer and bool sums into an integer output are
 * exact, or MEAN_E_OVERFLOW. Complex: each component so. Nothing is copied or allocated (up
 * to ~160 KiB of the caller's stack is used). */
#define MEAN_MAX_DIMS 32

enum mean_type {
    MEAN_BOOL = 1, MEAN_INT8 = 2, MEAN_UINT8 = 3, MEAN_INT16 = 4, MEAN_UINT16 = 5,
    MEAN_INT32 = 6, MEAN_UINT32 = 7, MEAN_INT64 = 8, MEAN_UINT64 = 9,
    MEAN_FLOAT16 = 10, MEAN_FLOAT32 = 11, MEAN_FLOAT64 = 12,
    MEAN_COMPLEX64 = 13, MEAN_COMPLEX128 = 14
};

enum mean_operation { MEAN_OP_MEAN = 0, MEAN_OP_NANMEAN = 1, MEAN_OP_SUM = 2, MEAN_OP_NANSUM = 3 };

/* mean_reduce's result: MEAN_OK, or why nothing was written (MEAN_E_OVERFLOW: the output
 * elements before the one that overflowed may have been written). */
enum mean_status {
    MEAN_OK = 0,
    MEAN_E_NULL = -1,         /* a NULL descriptor, memory (with len > 0), shape or strides */
    MEAN_E_NDIM = -2,         /* ndim < 0 or > MEAN_MAX_DIMS */
    MEAN_E_SHAPE = -3,        /* a negative length, or more elements than memory can hold */
    MEAN_E_BOUNDS = -4,       /* an element outside memory[0..len) */
    MEAN_E_MISALIGNED = -5,   /* an element not aligned for its component type */
    MEAN_E_TYPE = -6,         /* an unknown type; an output not float/complex (integer: sums of
                                 integers only); complex in, real out; initial not of the output's type */
    MEAN_E_AXES = -7,         /* an axis out of range or repeated */
    MEAN_E_OUTPUT_SHAPE = -8, /* output shape != input shape without the axes (or with them as 1) */
    MEAN_E_OVERLAP = -9,      /* output memory overlaps the input's or where's */
    MEAN_E_OPERATION = -10,   /* an unknown operation, or an initial value for a mean */
    MEAN_E_MASK = -11,        /* `where` not MEAN_BOOL, or not of the input's shape */
    MEAN_E_OVERFLOW = -12,    /* an integer sum does not fit the integer output type; a merged
                                 count would pass 2^64 - 1 */
    MEAN_E_STATE = -13        /* bytes that are not an exact state this library wrote */
};

struct mean_array {
    void *memory;           /* the memory the view may touch (NULL only if len is 0) */
    size_t len;             /* its length in bytes */
    size_t offset;          /* byte offset of element (0, ..., 0) from memory */
    int32_t type;           /* enum mean_type */
    int32_t swapped;        /* nonzero: stored in the byte order opposite to this CPU's */
    int32_t ndim;           /* 0 to MEAN_MAX_DIMS */
    const int64_t *shape;   /* ndim lengths (NULL if ndim is 0) */
    const int64_t *strides; /* ndim byte strides (NULL if ndim is 0) */
};

/* output = operation (enum mean_operation) of input over axes[0..naxes), counting the elements
 * where `where` (NULL: all) is true. `initial` (NULL: zero; sums only) is one element of the
 * output's type added once to every output element's sum (MEAN_E_SHAPE if it has more or fewer
 * elements). Returns enum mean_status. `threads` is reserved (the engine runs on the caller's
 * thread). */
int mean_reduce(int operation, const struct mean_array *input, const struct mean_array *where,
                const struct mean_array *output, const int *axes, int naxes,
                const struct mean_array *initial, size_t threads);

/* mean_reduce's arguments in one struct. */
struct mean_call {
    int32_t operation;
    int32_t naxes;
    const struct mean_array *input;
    const struct mean_array *where; /* NULL: every element counts */
    const struct mean_array *output;
    const int *axes;
    const struct mean_array *initial; /* NULL: zero */
    size_t threads;
};

/* mean_reduce(call->operation, call->input, ...): the same writes and status; MEAN_E_NULL if
 * call is NULL. For callers that pay per argument (ctypes), who keep one struct and change its
 * pointers between calls. */
int mean_reduce_call(const struct mean_call *call);

/* Exact partial states, for reductions cut into parts (dask chunks, files read in pieces): the
 * state of an output element is the serialized accumulator (mean_acc_serialized_size() bytes)
 * of the values mean_reduce would count for it. mean_reduce_states writes one per output element
 * and component (elements in C order of the kept axes, components innermost; `len` must be
 * exactly that many bytes, else MEAN_E_OUTPUT_SHAPE); the states of the parts of an array,
 * merged, are the states of the whole, and mean_states_finish rounds them to what mean_reduce
 * gives, however the array was cut. Every copy of a broadcast value counts. */
int mean_reduce_states(int operation, const struct mean_array *input, const struct mean_array *where,
                       const int *axes, int naxes, uint8_t *states, size_t len, size_t threads);
/* Merges each of `count` states at `from` into the one at the same place of `into` (into == from
 * doubles them). MEAN_E_STATE, MEAN_E_OVERFLOW: the states before the bad one are merged. */
int mean_states_merge(uint8_t *into, const uint8_t *from, size_t count);
/* The operation's result of each of `count` states, into `output` (one dimension of `count`
 * elements of a float type, or of an integer type for sums: MEAN_E_TYPE if a state is not an
 * integer, MEAN_E_OVERFLOW if it does not fit). A complex result: its components as a real
 * array of twice the elements, from the two states per element. */
int mean_states_finish(int operation, const uint8_t *states, size_t count, const struct mean_array *output);

#ifdef __cplusplus
}
#endif

#endif /* LIBMEAN_H */
