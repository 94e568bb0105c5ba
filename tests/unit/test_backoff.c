/*
 * test_backoff.c: restart delays (worker-sdk/backoff.c): the sequence, the
 * cap, saturation, the jitter's bounds and spread, and the generator.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corral.h"

#define DRAWS 10000

/* Just below 1: the largest u that corral_rng_uniform() can return. */
#define U_TOP 0x1.fffffffffffffp-1

static void
test_default_sequence(void **state)
{
	static const uint64_t want[] = { 2000, 4000, 8000, 16000, 16000,
		16000, 16000 };
	struct corral_backoff b = CORRAL_BACKOFF_DEFAULT;
	unsigned k;

	(void)state;
	assert_int_equal(b.initial_ms, 2000);
	assert_int_equal(b.max_ms, 16000);
	assert_true(b.multiplier == 2.0);
	assert_true(b.jitter == 0.25);
	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		assert_int_equal(corral_backoff_base(&b, k), want[k]);
	assert_int_equal(corral_backoff_base(&b, 40), 16000);
	assert_int_equal(corral_backoff_base(&b, 1000), 16000);
}

static void
test_cap(void **state)
{
	struct corral_backoff b = { 1000, 5000, 3.0, 0.0 };
	struct corral_backoff frac = { 1000, 100000, 1.5, 0.0 };
	struct corral_backoff exact = { 1000, 8000, 2.0, 0.0 };

	(void)state;
	assert_int_equal(corral_backoff_base(&b, 0), 1000);
	assert_int_equal(corral_backoff_base(&b, 1), 3000);
	assert_int_equal(corral_backoff_base(&b, 2), 5000); /* 9000 capped */
	assert_int_equal(corral_backoff_base(&b, 3), 5000);
	/* Fractions of a millisecond are dropped, not rounded. */
	assert_int_equal(corral_backoff_base(&frac, 1), 1500);
	assert_int_equal(corral_backoff_base(&frac, 2), 2250);
	assert_int_equal(corral_backoff_base(&frac, 3), 3375);
	assert_int_equal(corral_backoff_base(&frac, 4), 5062);
	/* Reaching the cap exactly gives the cap. */
	assert_int_equal(corral_backoff_base(&exact, 2), 4000);
	assert_int_equal(corral_backoff_base(&exact, 3), 8000);
	assert_int_equal(corral_backoff_base(&exact, 4), 8000);
	/* Without jitter the delay is the base, whatever u is. */
	assert_int_equal(corral_backoff_delay(&b, 1, 0.0), 3000);
	assert_int_equal(corral_backoff_delay(&b, 1, 0.5), 3000);
	assert_int_equal(corral_backoff_delay(&b, 1, U_TOP), 3000);
	assert_int_equal(corral_backoff_delay(&b, 7, U_TOP), 5000);
}

static void
test_multiplier_one(void **state)
{
	struct corral_backoff b = { 500, 16000, 1.0, 0.25 };
	unsigned k;

	(void)state;
	for (k = 0; k < 100; k++)
		assert_int_equal(corral_backoff_base(&b, k), 500);
	assert_int_equal(corral_backoff_base(&b, 1000000), 500);
	assert_int_equal(corral_backoff_base(&b, UINT_MAX), 500);
	assert_int_equal(corral_backoff_delay(&b, UINT_MAX, 0.0), 375);
	assert_int_equal(corral_backoff_delay(&b, UINT_MAX, 0.5), 500);
}

static void
test_huge_k_saturates(void **state)
{
	struct corral_backoff def = CORRAL_BACKOFF_DEFAULT;
	struct corral_backoff fast = { 2000, 16000, 1000.0, 0.25 };
	struct corral_backoff nocap = { 1, UINT64_MAX, 2.0, 0.25 };
	struct corral_backoff nocap0 = { 1, UINT64_MAX, 2.0, 0.0 };
	struct corral_backoff zero = { 0, 16000, 2.0, 0.25 };

	(void)state;
	assert_int_equal(corral_backoff_base(&def, UINT_MAX), 16000);
	assert_int_equal(corral_backoff_base(&def, UINT_MAX - 1), 16000);
	assert_int_equal(corral_backoff_delay(&def, UINT_MAX, 0.0), 12000);
	assert_int_equal(corral_backoff_delay(&def, UINT_MAX, 0.5), 16000);
	assert_int_equal(corral_backoff_delay(&def, UINT_MAX, U_TOP), 19999);
	assert_int_equal(corral_backoff_base(&fast, 1), 16000);
	assert_int_equal(corral_backoff_base(&fast, UINT_MAX), 16000);

	/* Without a real cap, the base doubles up to 2^63 and then stops. */
	assert_int_equal(corral_backoff_base(&nocap, 10), 1024);
	assert_int_equal(corral_backoff_base(&nocap, 63), 1ULL << 63);
	assert_int_equal(corral_backoff_base(&nocap, 64), UINT64_MAX);
	assert_int_equal(corral_backoff_base(&nocap, 5000), UINT64_MAX);
	assert_int_equal(corral_backoff_base(&nocap, UINT_MAX), UINT64_MAX);
	/* ... and the jittered delay saturates too, never wraps to 0. */
	assert_int_equal(corral_backoff_delay(&nocap, UINT_MAX, 0.0),
	    13835058055282163712ULL); /* 0.75 * 2^64 */
	assert_int_equal(corral_backoff_delay(&nocap, UINT_MAX, 0.99),
	    UINT64_MAX);
	assert_int_equal(corral_backoff_delay(&nocap, UINT_MAX, U_TOP),
	    UINT64_MAX);
	assert_int_equal(corral_backoff_delay(&nocap0, UINT_MAX, 0.5),
	    UINT64_MAX);
	assert_int_equal(corral_backoff_delay(&nocap, 62, 0.0),
	    3458764513820540928ULL); /* 0.75 * 2^62 */

	/* An initial delay of 0 stays 0 (0 * 2^k must not become NaN). */
	assert_int_equal(corral_backoff_base(&zero, 0), 0);
	assert_int_equal(corral_backoff_base(&zero, 5), 0);
	assert_int_equal(corral_backoff_base(&zero, 2000), 0);
	assert_int_equal(corral_backoff_base(&zero, UINT_MAX), 0);
	assert_int_equal(corral_backoff_delay(&zero, UINT_MAX, U_TOP), 0);
}

static void
test_delay_exact(void **state)
{
	struct corral_backoff b = CORRAL_BACKOFF_DEFAULT;

	(void)state;
	assert_int_equal(corral_backoff_delay(&b, 0, 0.0), 1500);
	assert_int_equal(corral_backoff_delay(&b, 0, 0.25), 1750);
	assert_int_equal(corral_backoff_delay(&b, 0, 0.5), 2000);
	assert_int_equal(corral_backoff_delay(&b, 0, 0.75), 2250);
	/* The upper bound is open, even where rounding would reach it. */
	assert_int_equal(corral_backoff_delay(&b, 0, U_TOP), 2499);
	assert_int_equal(corral_backoff_delay(&b, 1, 0.0), 3000);
	assert_int_equal(corral_backoff_delay(&b, 1, U_TOP), 4999);
	assert_int_equal(corral_backoff_delay(&b, 2, 0.0), 6000);
	assert_int_equal(corral_backoff_delay(&b, 3, 0.0), 12000);
	assert_int_equal(corral_backoff_delay(&b, 3, 0.5), 16000);
	assert_int_equal(corral_backoff_delay(&b, 3, U_TOP), 19999);
}

struct spread {
	uint64_t min, max;
	double mean;
	unsigned tenths[10]; /* draws per tenth of [lo, hi) */
};

/* DRAWS delays for step k; every one must lie in [lo, hi). */
static void
draw(const struct corral_backoff *b, unsigned k, uint64_t seed, uint64_t lo,
    uint64_t hi, struct spread *s)
{
	struct corral_rng r;
	double sum = 0;
	uint64_t d;
	int i;

	corral_rng_seed(&r, seed);
	s->min = UINT64_MAX;
	s->max = 0;
	for (i = 0; i < 10; i++)
		s->tenths[i] = 0;
	for (i = 0; i < DRAWS; i++) {
		d = corral_backoff_delay(b, k, corral_rng_uniform(&r));
		assert_true(d >= lo);
		assert_true(d < hi);
		if (d < s->min)
			s->min = d;
		if (d > s->max)
			s->max = d;
		sum += (double)d;
		s->tenths[(d - lo) * 10 / (hi - lo)]++;
	}
	s->mean = sum / DRAWS;
}

static void
check_spread(const struct spread *s, uint64_t lo, uint64_t hi)
{
	uint64_t width = hi - lo, base = (lo + hi) / 2;
	int i;

	/* Uniform: the extremes come within 1 % of the bounds ... */
	assert_true(s->min <= lo + width / 100);
	assert_true(s->max >= hi - 1 - width / 100);
	/* ... the mean within 1.5 % of the width of base (sd 0.29 %) ... */
	assert_true(fabs(s->mean - (double)base) < (double)width * 0.015);
	/* ... and each tenth holds 1000 +- 150 of the draws (sd 30). */
	for (i = 0; i < 10; i++)
		assert_in_range(s->tenths[i], 850, 1150);
}

static void
test_jitter_bounds_and_spread(void **state)
{
	struct corral_backoff def = CORRAL_BACKOFF_DEFAULT;
	struct corral_backoff wide = { 1000, 60000, 2.0, 0.9 };
	struct spread s;

	(void)state;
	draw(&def, 0, 42, 1500, 2500, &s);
	check_spread(&s, 1500, 2500);
	draw(&def, 3, 7, 12000, 20000, &s);
	check_spread(&s, 12000, 20000);
	draw(&def, 100, 0xdeadbeef, 12000, 20000, &s);
	check_spread(&s, 12000, 20000);
	/* base 4000, +-90 %: [400, 7600) */
	draw(&wide, 2, 1, 400, 7600, &s);
	check_spread(&s, 400, 7600);
}

static void
test_same_seed_same_delays(void **state)
{
	struct corral_backoff b = CORRAL_BACKOFF_DEFAULT;
	struct corral_rng r1, r2, r3;
	uint64_t d1, d2, d3;
	int i, same = 0;

	(void)state;
	corral_rng_seed(&r1, 12345);
	corral_rng_seed(&r2, 12345);
	corral_rng_seed(&r3, 12346);
	for (i = 0; i < 1000; i++) {
		d1 = corral_backoff_delay(&b, (unsigned)i % 5,
		    corral_rng_uniform(&r1));
		d2 = corral_backoff_delay(&b, (unsigned)i % 5,
		    corral_rng_uniform(&r2));
		d3 = corral_backoff_delay(&b, (unsigned)i % 5,
		    corral_rng_uniform(&r3));
		assert_int_equal(d1, d2);
		same += d1 == d3;
	}
	/* Another seed is another sequence (a few equal values by chance). */
	assert_true(same < 20);
	/* Reseeding starts the sequence over. */
	corral_rng_seed(&r1, 12345);
	corral_rng_seed(&r2, 12345);
	assert_int_equal(corral_rng_next(&r1), corral_rng_next(&r2));
}

/* The published splitmix64 outputs, so the generator is the real one. */
static void
test_rng_known_values(void **state)
{
	struct corral_rng r;

	(void)state;
	corral_rng_seed(&r, 0);
	assert_int_equal(corral_rng_next(&r), 0xe220a8397b1dcdafULL);
	assert_int_equal(corral_rng_next(&r), 0x6e789e6aa1b965f4ULL);
	assert_int_equal(corral_rng_next(&r), 0x06c45d188009454fULL);
	corral_rng_seed(&r, 1234567);
	assert_int_equal(corral_rng_next(&r), 6457827717110365317ULL);
	assert_int_equal(corral_rng_next(&r), 3203168211198807973ULL);
	assert_int_equal(corral_rng_next(&r), 9817491932198370423ULL);
}

/* The inverse of x ^= x >> s. */
static uint64_t
unxorshift(uint64_t y, unsigned s)
{
	uint64_t x = y;
	unsigned i;

	for (i = 0; i < 64 / s + 1; i++)
		x = y ^ (x >> s);
	return x;
}

/* The inverse of an odd number mod 2^64, by Newton's iteration. */
static uint64_t
inverse(uint64_t c)
{
	uint64_t x = c;
	int i;

	for (i = 0; i < 6; i++)
		x *= 2 - c * x;
	return x;
}

/* A seed whose first corral_rng_next() is out: splitmix64 run backwards. */
static uint64_t
seed_for(uint64_t out)
{
	uint64_t z = unxorshift(out, 31);

	z = unxorshift(z * inverse(0x94d049bb133111ebULL), 27);
	z = unxorshift(z * inverse(0xbf58476d1ce4e5b9ULL), 30);
	return z - 0x9e3779b97f4a7c15ULL;
}

static void
test_rng_uniform_range(void **state)
{
	struct corral_rng r;
	double u, lo = 1, hi = 0;
	int i;

	(void)state;
	/* The extreme raw outputs give exactly 0 and exactly 1 - 2^-53. */
	corral_rng_seed(&r, seed_for(0));
	assert_true(corral_rng_uniform(&r) == 0.0);
	corral_rng_seed(&r, seed_for(UINT64_MAX));
	u = corral_rng_uniform(&r);
	assert_true(u < 1.0);
	assert_true(u == U_TOP);
	corral_rng_seed(&r, seed_for(1ULL << 63));
	assert_true(corral_rng_uniform(&r) == 0.5);

	corral_rng_seed(&r, 99);
	for (i = 0; i < 100000; i++) {
		u = corral_rng_uniform(&r);
		assert_true(u >= 0.0);
		assert_true(u < 1.0);
		if (u < lo)
			lo = u;
		if (u > hi)
			hi = u;
	}
	assert_true(lo < 0.0001);
	assert_true(hi > 0.9999);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_sequence),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_multiplier_one),
		cmocka_unit_test(test_huge_k_saturates),
		cmocka_unit_test(test_delay_exact),
		cmocka_unit_test(test_jitter_bounds_and_spread),
		cmocka_unit_test(test_same_seed_same_delays),
		cmocka_unit_test(test_rng_known_values),
		cmocka_unit_test(test_rng_uniform_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
