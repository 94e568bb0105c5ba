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

	/*
	 * Computed in double so that a large k saturates at the cap instead
	 * of overflowing; pow() of a multiplier >= 1 is monotonic in k.
	 */
	d = (double)b->initial_ms * pow(b->multiplier, (double)k);
	if (!(d < (double)b->max_ms))
		return b->max_ms < b->initial_ms ? b->initial_ms : b->max_ms;
	return (uint64_t)d;
}

uint64_t
corral_backoff_delay(const struct corral_backoff *b, unsigned k, double u)
{
	double base, f;

	base = (double)corral_backoff_base(b, k);
	f = 1.0 - b->jitter + 2.0 * b->jitter * u;
	return (uint64_t)(base * f);
}
