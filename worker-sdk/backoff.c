/*
 * backoff.c: restart delays with exponential growth, a cap and jitter, and
 * the seedable generator that draws the jitter.
 */
#include <math.h>

#include "corral.h"

void
corral_rng_seed(struct corral_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t
corral_rng_next(struct corral_rng *r)
{
	uint64_t z;

	z = (r->state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double
corral_rng_uniform(struct corral_rng *r)
{
	/* 53 random bits: every double in [0, 1) on the 2^-53 grid. */
	return (double)(corral_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t
corral_backoff_base(const struct corral_backoff *b, unsigned k)
{
	double d;

	/* min(0 * m^k, max) is 0; computed, 0 * inf would be NaN. */
	if (b->initial_ms == 0)
		return 0;
	/*
	 * Computed in double so that a large k saturates at the cap instead
	 * of overflowing; pow() of a multiplier >= 1 is monotonic in k.
	 */
	d = (double)b->initial_ms * pow(b->multiplier, (double)k);
	if (!(d < (double)b->max_ms))
		return b->max_ms < b->initial_ms ? b->initial_ms : b->max_ms;
	return (uint64_t)d;
}

/*
 * The delay is the floor of the real value, saturated at UINT64_MAX: a cap
 * near UINT64_MAX ("no cap") times 1 + jitter does not fit, and converting
 * such a double to uint64_t is undefined (x86-64 gives 0: no delay at all).
 */
uint64_t
corral_backoff_delay(const struct corral_backoff *b, unsigned k, double u)
{
	double base, f, d, hi;

	base = (double)corral_backoff_base(b, k);
	f = 1.0 - b->jitter + 2.0 * b->jitter * u;
	d = base * f;
	/*
	 * u < 1, yet 1 - j + 2j * u can round up to 1 + j (u = 1 - 2^-53):
	 * keep the upper bound open, as promised.
	 */
	hi = base * (1.0 + b->jitter);
	if (d >= hi && b->jitter > 0 && hi > 0)
		d = nextafter(hi, 0.0);
	if (!(d > 0))
		return 0;
	if (!(d < 0x1.0p64))
		return UINT64_MAX;
	return (uint64_t)d;
}
