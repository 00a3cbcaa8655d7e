/* libmean: the mean of a float array. See README.md, "C ABI contract".
 *
 * Every function returns NaN for NULL, a length of 0 (or below), or a pointer not aligned for
 * its element type, and then reads nothing. Any NaN in the input, or +inf together with -inf,
 * gives NaN; otherwise an infinity gives that infinity. Sums never overflow. Every function is
 * reentrant and thread-safe, and never allocates, panics or unwinds.
 */
#ifndef LIBMEAN_H
#define LIBMEAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The classic ctypes tutorial's signature, with an accurate result. */
float compute_mean(const float *a, int n);

/* Mean of n floats, summed in f64 and better. */
float mean_f32(const float *a, size_t n);

/* Mean of n doubles, summed in double-double. */
double mean_f64(const double *a, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* LIBMEAN_H */
