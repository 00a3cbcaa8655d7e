/* The classic tutorial's mean, the benchmark's baseline: one float accumulator, in order.
 * Built by `make bench` with plain -O2 (no -ffast-math, so the adds stay sequential, as written).
 */
float classic_mean_f32(const float *a, long n) {
    float sum = 0.0f;
    for (long i = 0; i < n; i++) {
        sum += a[i];
    }
    return sum / (float)n;
}

/* The same loop for doubles. */
double classic_mean_f64(const double *a, long n) {
    double sum = 0.0;
    for (long i = 0; i < n; i++) {
        sum += a[i];
    }
    return sum / (double)n;
}
