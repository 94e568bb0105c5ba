/*
 * test_breaker.c: the circuit breaker (worker-sdk/breaker.c) driven through
 * every transition with a fake clock (plain millisecond values) and chosen
 * jitter draws: policies, consecutive and window counting, OPEN, HALF_OPEN
 * and its trial limit, reopening with a lengthened timeout, fatal failures
 * and reset, and a round trip of the fields the state database keeps.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corral.h"

/* Just below 1: the largest u that corral_rng_uniform() can return. */
#define U_TOP 0x1.fffffffffffffp-1

/* An arbitrary origin for the fake clock, far from 0. */
#define T0 1000000ULL

#define TEN_YEARS_MS (3653ULL * 24 * 3600 * 1000)

#define CLOSED CORRAL_BREAKER_CLOSED
#define OPEN CORRAL_BREAKER_OPEN
#define HALF_OPEN CORRAL_BREAKER_HALF_OPEN

static const struct corral_breaker_policy DEF = CORRAL_BREAKER_DEFAULT;

/* Threshold 3 within 10 s; 5 s open, x2 up to 40 s, +-50 %, 2 trials. */
static const struct corral_breaker_policy WIN = {
	3, 10000, 5000, 40000, 2.0, 0.5, 2
};

static void
init_ok(struct corral_breaker *b, const struct corral_breaker_policy *p)
{
	assert_int_equal(corral_breaker_init(b, p), 0);
	assert_int_equal(b->state, CLOSED);
	assert_false(b->reset_required);
	assert_int_equal(b->failures, 0);
	assert_int_equal(b->reopenings, 0);
	assert_int_equal(b->trials, 0);
}

/* allow() at now, expecting the answer and whether the state changed. */
static void
expect_allow(struct corral_breaker *b, uint64_t now, bool want,
    bool want_changed)
{
	bool changed = !want_changed;

	assert_int_equal(corral_breaker_allow(b, now, &changed), want);
	assert_int_equal(changed, want_changed);
}

/* threshold failures at now: a CLOSED breaker opens on the last one. */
static void
trip_at(struct corral_breaker *b, uint64_t now, double u)
{
	unsigned i;

	for (i = 1; i < b->policy.failure_threshold; i++) {
		assert_false(corral_breaker_failure(b, now, u));
		assert_int_equal(b->state, CLOSED);
	}
	assert_true(corral_breaker_failure(b, now, u));
	assert_int_equal(b->state, OPEN);
	assert_string_equal(b->reason, "failure threshold reached");
	assert_int_equal(b->opened_at_ms, now);
	assert_int_equal(b->reopenings, 0);
	assert_int_equal(b->trials, 0);
}

/* From OPEN: wait it out, move to HALF_OPEN with one trial admitted. */
static void
half_open(struct corral_breaker *b, uint64_t *now)
{
	assert_int_equal(b->state, OPEN);
	assert_false(b->reset_required);
	*now = b->open_until_ms;
	expect_allow(b, *now - 1, false, false);
	assert_int_equal(b->state, OPEN);
	expect_allow(b, *now, true, true);
	assert_int_equal(b->state, HALF_OPEN);
	assert_string_equal(b->reason, "recovery timeout over");
	assert_int_equal(b->trials, 1);
}

/* From OPEN: half-open, fail the trial; returns the new open period. */
static uint64_t
reopen(struct corral_breaker *b, uint64_t *now, double u)
{
	unsigned k = b->reopenings;

	half_open(b, now);
	*now += 7; /* the trial fails a little later */
	assert_true(corral_breaker_failure(b, *now, u));
	assert_int_equal(b->state, OPEN);
	assert_string_equal(b->reason, "trial failed");
	assert_int_equal(b->reopenings, k + 1);
	assert_int_equal(b->trials, 0);
	assert_int_equal(b->opened_at_ms, *now);
	assert_true(b->open_until_ms >= *now);
	return b->open_until_ms - *now;
}

/* ---- init and free ---- */

static void
test_defaults(void **state)
{
	struct corral_breaker b;

	(void)state;
	assert_int_equal(DEF.failure_threshold, 5);
	assert_int_equal(DEF.failure_window_ms, 0);
	assert_int_equal(DEF.recovery_timeout_ms, 60000);
	assert_int_equal(DEF.recovery_timeout_max_ms, 600000);
	assert_true(DEF.multiplier == 2.0);
	assert_true(DEF.jitter == 0.25);
	assert_int_equal(DEF.half_open_max_calls, 3);

	memset(&b, 0xa5, sizeof(b));
	init_ok(&b, &DEF);
	assert_memory_equal(&b.policy, &DEF, sizeof(DEF));
	assert_null(b.ring); /* consecutive mode has no ring */
	assert_int_equal(b.ring_next, 0);
	assert_int_equal(b.opened_at_ms, 0);
	assert_int_equal(b.open_until_ms, 0);
	assert_string_equal(b.reason, "new");
	assert_int_equal(corral_breaker_remaining_ms(&b, T0), 0);
	expect_allow(&b, T0, true, false);
	expect_allow(&b, 0, true, false);
	expect_allow(&b, UINT64_MAX, true, false);
	assert_int_equal(b.state, CLOSED);
	assert_int_equal(b.trials, 0); /* CLOSED counts no trials */

	/* Freeing a breaker without a ring, twice, and NULL: no-ops. */
	corral_breaker_free(&b);
	assert_null(b.ring);
	corral_breaker_free(&b);
	assert_null(b.ring);
	corral_breaker_free(NULL);
}

static void
test_free_window(void **state)
{
	struct corral_breaker b;

	(void)state;
	init_ok(&b, &WIN);
	assert_non_null(b.ring);
	assert_int_equal(b.ring[0], 0);
	assert_int_equal(b.ring[2], 0);
	corral_breaker_free(&b);
	assert_null(b.ring);
	/* A second free must not free the ring again (ASan would tell). */
	corral_breaker_free(&b);
	assert_null(b.ring);
}

static void
test_init_rejects(void **state)
{
	struct corral_breaker b;
	struct corral_breaker_policy p;

	(void)state;
	p = DEF;
	p.failure_threshold = 0;
	assert_int_equal(corral_breaker_init(&b, &p), -1);
	p.failure_window_ms = 1000; /* with a window too: no 0-slot ring */
	assert_int_equal(corral_breaker_init(&b, &p), -1);

	p = DEF;
	p.failure_threshold = CORRAL_BREAKER_MAX_THRESHOLD + 1;
	assert_int_equal(corral_breaker_init(&b, &p), -1);
	p.failure_threshold = UINT_MAX;
	assert_int_equal(corral_breaker_init(&b, &p), -1);
	p.failure_window_ms = 1000;
	assert_int_equal(corral_breaker_init(&b, &p), -1);

	p = DEF;
	p.half_open_max_calls = 0;
	assert_int_equal(corral_breaker_init(&b, &p), -1);

	p = DEF;
	p.multiplier = 0.999;
	assert_int_equal(corral_breaker_init(&b, &p), -1);
	p.multiplier = 0.0;
	assert_int_equal(corral_breaker_init(&b, &p), -1);
	p.multiplier = -2.0;
	assert_int_equal(corral_breaker_init(&b, &p), -1);
	p.multiplier = NAN;
	assert_int_equal(corral_breaker_init(&b, &p), -1);

	p = DEF;
	p.jitter = -0.01;
	assert_int_equal(corral_breaker_init(&b, &p), -1);
	p.jitter = 1.0;
	assert_int_equal(corral_breaker_init(&b, &p), -1);
	p.jitter = 1.5;
	assert_int_equal(corral_breaker_init(&b, &p), -1);
	p.jitter = NAN;
	assert_int_equal(corral_breaker_init(&b, &p), -1);

	p = DEF;
	p.recovery_timeout_max_ms = p.recovery_timeout_ms - 1;
	assert_int_equal(corral_breaker_init(&b, &p), -1);
	p.recovery_timeout_max_ms = 0;
	assert_int_equal(corral_breaker_init(&b, &p), -1);

	/* The edges of every range are accepted. */
	p = DEF;
	p.failure_threshold = 1;
	init_ok(&b, &p);
	corral_breaker_free(&b);
	p.failure_threshold = CORRAL_BREAKER_MAX_THRESHOLD;
	init_ok(&b, &p);
	corral_breaker_free(&b);
	p.failure_window_ms = 1; /* the biggest ring */
	init_ok(&b, &p);
	assert_non_null(b.ring);
	assert_int_equal(b.ring[CORRAL_BREAKER_MAX_THRESHOLD - 1], 0);
	corral_breaker_free(&b);

	p = DEF;
	p.half_open_max_calls = 1;
	p.multiplier = 1.0;
	p.jitter = 0.0;
	p.recovery_timeout_max_ms = p.recovery_timeout_ms;
	init_ok(&b, &p);
	corral_breaker_free(&b);
	p.jitter = nextafter(1.0, 0.0);
	p.recovery_timeout_ms = 0;
	p.recovery_timeout_max_ms = 0;
	init_ok(&b, &p);
	corral_breaker_free(&b);
}

/* ---- consecutive mode ---- */

static void
test_threshold_opens(void **state)
{
	struct corral_breaker b;
	unsigned i;

	(void)state;
	init_ok(&b, &DEF);
	for (i = 1; i <= 4; i++) {
		assert_false(corral_breaker_failure(&b, T0 + i, 0.5));
		assert_int_equal(b.state, CLOSED);
		assert_int_equal(b.failures, i);
		assert_string_equal(b.reason, "new");
		expect_allow(&b, T0 + i, true, false);
	}
	/* The 5th opens it; the first opening ignores the jitter draw. */
	assert_true(corral_breaker_failure(&b, T0 + 5, U_TOP));
	assert_int_equal(b.state, OPEN);
	assert_string_equal(b.reason, "failure threshold reached");
	assert_false(b.reset_required);
	assert_int_equal(b.failures, 5);
	assert_int_equal(b.opened_at_ms, T0 + 5);
	assert_int_equal(b.open_until_ms, T0 + 5 + 60000);
	assert_int_equal(corral_breaker_remaining_ms(&b, T0 + 5), 60000);
	corral_breaker_free(&b);

	/* The same with u = 0: exactly recovery_timeout too. */
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.0);
	assert_int_equal(b.open_until_ms, T0 + 60000);
	corral_breaker_free(&b);
}

static void
test_success_restarts_count(void **state)
{
	struct corral_breaker b;
	unsigned i;

	(void)state;
	init_ok(&b, &DEF);
	for (i = 0; i < 4; i++)
		assert_false(corral_breaker_failure(&b, T0 + i, 0.5));
	assert_int_equal(b.failures, 4);
	assert_false(corral_breaker_success(&b, T0 + 10));
	assert_int_equal(b.state, CLOSED);
	assert_int_equal(b.failures, 0);
	for (i = 0; i < 4; i++) {
		assert_false(corral_breaker_failure(&b, T0 + 20 + i, 0.5));
		assert_int_equal(b.state, CLOSED);
	}
	assert_int_equal(b.failures, 4);
	assert_true(corral_breaker_failure(&b, T0 + 30, 0.5));
	assert_int_equal(b.state, OPEN);
	assert_int_equal(b.open_until_ms, T0 + 30 + 60000);
	corral_breaker_free(&b);

	/* Threshold 1: the first failure opens it. */
	{
		struct corral_breaker_policy p = DEF;

		p.failure_threshold = 1;
		init_ok(&b, &p);
		assert_true(corral_breaker_failure(&b, T0, 0.5));
		assert_int_equal(b.state, OPEN);
		corral_breaker_free(&b);
	}
}

static void
test_open_refuses_and_counts_down(void **state)
{
	struct corral_breaker b;
	uint64_t until;

	(void)state;
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	until = T0 + 60000;
	assert_int_equal(b.open_until_ms, until);

	assert_int_equal(corral_breaker_remaining_ms(&b, T0), 60000);
	assert_int_equal(corral_breaker_remaining_ms(&b, T0 + 1), 59999);
	assert_int_equal(corral_breaker_remaining_ms(&b, T0 + 30000), 30000);
	assert_int_equal(corral_breaker_remaining_ms(&b, until - 1), 1);
	assert_int_equal(corral_breaker_remaining_ms(&b, until), 0);
	assert_int_equal(corral_breaker_remaining_ms(&b, until + 5000), 0);

	expect_allow(&b, T0, false, false);
	expect_allow(&b, T0 + 1, false, false);
	expect_allow(&b, T0 + 59999, false, false);
	assert_int_equal(b.state, OPEN);
	assert_int_equal(b.trials, 0);
	/* Refusals do not move the deadline. */
	assert_int_equal(b.open_until_ms, until);
	assert_string_equal(b.reason, "failure threshold reached");

	expect_allow(&b, until, true, true);
	assert_int_equal(b.state, HALF_OPEN);
	assert_string_equal(b.reason, "recovery timeout over");
	assert_int_equal(corral_breaker_remaining_ms(&b, until), 0);
	assert_int_equal(corral_breaker_remaining_ms(&b, T0), 0);
	corral_breaker_free(&b);

	/* A late first allow() (long after the timeout) half-opens too. */
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	expect_allow(&b, T0 + TEN_YEARS_MS, true, true);
	assert_int_equal(b.state, HALF_OPEN);
	corral_breaker_free(&b);
}

static void
test_half_open_trial_limit(void **state)
{
	struct corral_breaker b;
	struct corral_breaker_policy p = DEF;
	uint64_t now;

	(void)state;
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	half_open(&b, &now);
	expect_allow(&b, now + 1, true, false);
	assert_int_equal(b.trials, 2);
	expect_allow(&b, now + 2, true, false);
	assert_int_equal(b.trials, 3);
	/* Three trials out: everything else is refused, whenever. */
	expect_allow(&b, now + 3, false, false);
	expect_allow(&b, now + 60000, false, false);
	expect_allow(&b, now + TEN_YEARS_MS, false, false);
	assert_int_equal(b.trials, 3);
	assert_int_equal(b.state, HALF_OPEN);
	assert_string_equal(b.reason, "recovery timeout over");
	corral_breaker_free(&b);

	/* One trial only. */
	p.half_open_max_calls = 1;
	init_ok(&b, &p);
	trip_at(&b, T0, 0.5);
	half_open(&b, &now);
	expect_allow(&b, now, false, false);
	assert_int_equal(b.trials, 1);
	/* Reopened and half-open again: the trial count starts over. */
	assert_true(corral_breaker_failure(&b, now + 1, 0.5));
	assert_int_equal(b.open_until_ms, now + 1 + 120000);
	half_open(&b, &now);
	expect_allow(&b, now, false, false);
	corral_breaker_free(&b);
}

static void
test_half_open_success_closes(void **state)
{
	struct corral_breaker b;
	uint64_t now;

	(void)state;
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	half_open(&b, &now);
	expect_allow(&b, now, true, false);
	assert_true(corral_breaker_success(&b, now + 100));
	assert_int_equal(b.state, CLOSED);
	assert_string_equal(b.reason, "trial succeeded");
	assert_int_equal(b.failures, 0);
	assert_int_equal(b.reopenings, 0);
	assert_false(b.reset_required);
	assert_int_equal(corral_breaker_remaining_ms(&b, now + 100), 0);
	expect_allow(&b, now + 100, true, false);
	expect_allow(&b, now + 101, true, false);

	/* The other trial's success, now in CLOSED: no change. */
	assert_false(corral_breaker_success(&b, now + 200));
	assert_string_equal(b.reason, "trial succeeded");

	/* Counting starts from zero: 4 failures stay CLOSED, the 5th opens. */
	trip_at(&b, now + 1000, U_TOP);
	assert_int_equal(b.open_until_ms, now + 1000 + 60000);
	corral_breaker_free(&b);
}

static void
test_half_open_failure_reopens(void **state)
{
	struct corral_breaker b;
	uint64_t now, at;

	(void)state;
	/* Reopening 1: base 120 s, +-25 %: [90 s, 150 s). */
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	assert_int_equal(reopen(&b, &now, 0.0), 90000);
	assert_int_equal(now, T0 + 60000 + 7);
	assert_int_equal(b.open_until_ms, now + 90000);
	assert_int_equal(corral_breaker_remaining_ms(&b, now), 90000);
	assert_int_equal(corral_breaker_remaining_ms(&b, now + 89999), 1);
	expect_allow(&b, now + 89999, false, false);
	at = now + 90000;
	expect_allow(&b, at, true, true);
	assert_int_equal(b.state, HALF_OPEN);
	assert_int_equal(b.reopenings, 1); /* kept until it closes */
	corral_breaker_free(&b);

	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	assert_int_equal(reopen(&b, &now, U_TOP), 149999);
	corral_breaker_free(&b);

	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	assert_int_equal(reopen(&b, &now, 0.5), 120000);
	corral_breaker_free(&b);

	/* The first of several trials to fail reopens; the rest are late. */
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	half_open(&b, &now);
	expect_allow(&b, now, true, false);
	assert_true(corral_breaker_failure(&b, now + 1, 0.5));
	assert_int_equal(b.open_until_ms, now + 1 + 120000);
	assert_false(corral_breaker_failure(&b, now + 2, 0.0));
	assert_false(corral_breaker_success(&b, now + 3));
	assert_int_equal(b.state, OPEN);
	assert_int_equal(b.reopenings, 1);
	assert_int_equal(b.open_until_ms, now + 1 + 120000);
	corral_breaker_free(&b);
}

static void
test_reopenings_grow_and_cap(void **state)
{
	/* base = min(60 s * 2^k, 600 s) */
	static const uint64_t mid[] = { 120000, 240000, 480000, 600000,
		600000, 600000 };
	static const uint64_t lo[] = { 90000, 180000, 360000, 450000,
		450000 };
	static const uint64_t hi[] = { 149999, 299999, 599999, 749999,
		749999 };
	struct corral_breaker b;
	uint64_t now, d, prev;
	unsigned k;

	(void)state;
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	for (k = 0; k < sizeof(mid) / sizeof(mid[0]); k++)
		assert_int_equal(reopen(&b, &now, 0.5), mid[k]);
	assert_int_equal(b.reopenings, 6);
	corral_breaker_free(&b);

	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	for (k = 0; k < sizeof(lo) / sizeof(lo[0]); k++)
		assert_int_equal(reopen(&b, &now, 0.0), lo[k]);
	corral_breaker_free(&b);

	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	for (k = 0; k < sizeof(hi) / sizeof(hi[0]); k++)
		assert_int_equal(reopen(&b, &now, U_TOP), hi[k]);
	corral_breaker_free(&b);

	/* Any draw: within [base (1 - j), base (1 + j)), growing. */
	{
		struct corral_breaker_policy p = { 2, 0, 1000, 20000, 3.0,
			0.1, 1 };
		static const uint64_t base[] = { 3000, 9000, 20000, 20000 };
		struct corral_rng r;
		int i;

		corral_rng_seed(&r, 4);
		for (i = 0; i < 200; i++) {
			init_ok(&b, &p);
			trip_at(&b, T0, corral_rng_uniform(&r));
			assert_int_equal(b.open_until_ms, T0 + 1000);
			prev = 1000;
			for (k = 0; k < 4; k++) {
				d = reopen(&b, &now, corral_rng_uniform(&r));
				assert_true(d >= base[k] - base[k] / 10);
				assert_true(d < base[k] + base[k] / 10);
				/* x3 outgrows +-10 % until the cap. */
				if (k < 3)
					assert_true(d > prev);
				prev = d;
			}
			corral_breaker_free(&b);
		}
	}
}

static void
test_close_resets_lengthening(void **state)
{
	struct corral_breaker b;
	uint64_t now;

	(void)state;
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	reopen(&b, &now, 0.5);
	reopen(&b, &now, 0.5);
	assert_int_equal(reopen(&b, &now, 0.5), 480000);
	assert_int_equal(b.reopenings, 3);
	half_open(&b, &now);
	assert_true(corral_breaker_success(&b, now));
	assert_int_equal(b.reopenings, 0);
	/* Opens for exactly 60 s again; the next reopening is the first. */
	trip_at(&b, now + 10, U_TOP);
	assert_int_equal(b.open_until_ms, now + 10 + 60000);
	assert_int_equal(reopen(&b, &now, 0.5), 120000);
	corral_breaker_free(&b);
}

static void
test_open_ignores_calls(void **state)
{
	struct corral_breaker b, before;

	(void)state;
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	memcpy(&before, &b, sizeof(b));
	assert_false(corral_breaker_failure(&b, T0 + 1, 0.0));
	assert_false(corral_breaker_failure(&b, T0 + 2, U_TOP));
	assert_false(corral_breaker_success(&b, T0 + 3));
	/* Even after its time is up, until allow() half-opens it. */
	assert_false(corral_breaker_failure(&b, T0 + 70000, 0.5));
	assert_false(corral_breaker_success(&b, T0 + 70000));
	assert_memory_equal(&b, &before, sizeof(b));
	assert_int_equal(corral_breaker_remaining_ms(&b, T0 + 1), 59999);
	corral_breaker_free(&b);
}

static void
test_zero_recovery_timeout(void **state)
{
	struct corral_breaker_policy p = DEF;
	struct corral_breaker b;
	uint64_t now;

	(void)state;
	p.recovery_timeout_ms = 0;
	p.recovery_timeout_max_ms = 0;
	init_ok(&b, &p);
	trip_at(&b, T0, 0.5);
	assert_int_equal(b.open_until_ms, T0);
	assert_int_equal(corral_breaker_remaining_ms(&b, T0), 0);
	expect_allow(&b, T0, true, true);
	assert_int_equal(b.state, HALF_OPEN);
	assert_true(corral_breaker_failure(&b, T0, 0.5));
	assert_int_equal(b.open_until_ms, T0);
	assert_int_equal(reopen(&b, &now, U_TOP), 0);
	corral_breaker_free(&b);
}

/* ---- overflow: timeouts near UINT64_MAX saturate, never wrap ---- */

static void
test_huge_timeouts_saturate(void **state)
{
	struct corral_breaker_policy p = DEF;
	struct corral_breaker b;
	uint64_t now;

	(void)state;
	/* A first timeout that does not fit after now: open "for ever". */
	p.recovery_timeout_ms = UINT64_MAX - 10;
	p.recovery_timeout_max_ms = UINT64_MAX;
	init_ok(&b, &p);
	trip_at(&b, T0, 0.5);
	assert_int_equal(b.open_until_ms, UINT64_MAX);
	expect_allow(&b, T0, false, false);
	expect_allow(&b, T0 + TEN_YEARS_MS, false, false);
	expect_allow(&b, UINT64_MAX - 1, false, false);
	assert_int_equal(corral_breaker_remaining_ms(&b, T0),
	    UINT64_MAX - T0);
	assert_int_equal(b.state, OPEN);
	corral_breaker_free(&b);

	/* No cap: the 70th reopening's 60 s * 2^70 saturates too. */
	p = DEF;
	p.recovery_timeout_max_ms = UINT64_MAX;
	init_ok(&b, &p);
	trip_at(&b, T0, 0.5);
	half_open(&b, &now);
	b.reopenings = 69;
	assert_true(corral_breaker_failure(&b, now, 0.5));
	assert_int_equal(b.reopenings, 70);
	assert_int_equal(b.open_until_ms, UINT64_MAX);
	expect_allow(&b, now + TEN_YEARS_MS, false, false);
	corral_breaker_free(&b);

	/* A clock near its end: the default timeout saturates. */
	init_ok(&b, &DEF);
	trip_at(&b, UINT64_MAX - 1000, 0.5);
	assert_int_equal(b.open_until_ms, UINT64_MAX);
	assert_int_equal(corral_breaker_remaining_ms(&b, UINT64_MAX - 1000),
	    1000);
	corral_breaker_free(&b);

	/* The reopening count saturates: it never drops back to 0. */
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	half_open(&b, &now);
	b.reopenings = UINT_MAX;
	assert_true(corral_breaker_failure(&b, now, 0.5));
	assert_int_equal(b.reopenings, UINT_MAX);
	assert_int_equal(b.open_until_ms, now + 600000); /* the cap */
	corral_breaker_free(&b);
}

/* ---- fatal and reset ---- */

/* A fatal OPEN: refuses for ever, counts nothing down, ignores calls. */
static void
check_fatal(struct corral_breaker *b, uint64_t at)
{
	assert_int_equal(b->state, OPEN);
	assert_true(b->reset_required);
	assert_string_equal(b->reason, "fatal failure: reset required");
	assert_int_equal(b->opened_at_ms, at);
	assert_int_equal(b->open_until_ms, UINT64_MAX);
	assert_int_equal(b->trials, 0);
	expect_allow(b, at, false, false);
	expect_allow(b, at + 60000, false, false);
	expect_allow(b, at + 600000, false, false);
	expect_allow(b, at + TEN_YEARS_MS, false, false);
	expect_allow(b, UINT64_MAX, false, false);
	assert_int_equal(corral_breaker_remaining_ms(b, at), 0);
	assert_int_equal(corral_breaker_remaining_ms(b, at + TEN_YEARS_MS),
	    0);
	assert_false(corral_breaker_failure(b, at + 1, 0.5));
	assert_false(corral_breaker_success(b, at + 2));
	/* A second fatal failure changes nothing, not even opened_at. */
	assert_false(corral_breaker_fatal(b, at + 3));
	assert_int_equal(b->opened_at_ms, at);
	assert_int_equal(b->state, OPEN);
	assert_true(b->reset_required);
	assert_string_equal(b->reason, "fatal failure: reset required");
}

/* Reset a fatal OPEN: CLOSED, everything cleared, counting from 0. */
static void
check_reset(struct corral_breaker *b, uint64_t now)
{
	assert_true(corral_breaker_reset(b));
	assert_int_equal(b->state, CLOSED);
	assert_false(b->reset_required);
	assert_string_equal(b->reason, "reset");
	assert_int_equal(b->failures, 0);
	assert_int_equal(b->reopenings, 0);
	assert_int_equal(b->trials, 0);
	assert_int_equal(corral_breaker_remaining_ms(b, now), 0);
	expect_allow(b, now, true, false);
	assert_false(corral_breaker_reset(b));
	assert_string_equal(b->reason, "reset");
	trip_at(b, now, U_TOP);
	assert_int_equal(b->open_until_ms, now + 60000);
}

static void
test_fatal_from_closed(void **state)
{
	struct corral_breaker b;

	(void)state;
	init_ok(&b, &DEF);
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_true(corral_breaker_fatal(&b, T0 + 5));
	check_fatal(&b, T0 + 5);
	check_reset(&b, T0 + TEN_YEARS_MS);
	corral_breaker_free(&b);
}

static void
test_fatal_from_open(void **state)
{
	struct corral_breaker b;
	uint64_t now;

	(void)state;
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	assert_true(corral_breaker_fatal(&b, T0 + 100));
	check_fatal(&b, T0 + 100);
	/* The old timeout is over, and still it does not half-open. */
	expect_allow(&b, T0 + 60000, false, false);
	check_reset(&b, T0 + 200000);
	corral_breaker_free(&b);

	/* From a reopened OPEN: reset forgets the reopenings too. */
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	reopen(&b, &now, 0.5);
	reopen(&b, &now, 0.5);
	assert_true(corral_breaker_fatal(&b, now + 1));
	check_fatal(&b, now + 1);
	check_reset(&b, now + 2);
	assert_int_equal(reopen(&b, &now, 0.5), 120000);
	corral_breaker_free(&b);
}

static void
test_fatal_from_half_open(void **state)
{
	struct corral_breaker b;
	uint64_t now;

	(void)state;
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	half_open(&b, &now);
	expect_allow(&b, now, true, false);
	assert_int_equal(b.trials, 2);
	assert_true(corral_breaker_fatal(&b, now + 1));
	check_fatal(&b, now + 1);
	check_reset(&b, now + 2);
	corral_breaker_free(&b);
}

static void
test_reset(void **state)
{
	struct corral_breaker b;
	uint64_t now;

	(void)state;
	/* From CLOSED: no change, though the count starts over. */
	init_ok(&b, &DEF);
	assert_false(corral_breaker_reset(&b));
	assert_int_equal(b.state, CLOSED);
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_reset(&b));
	assert_int_equal(b.failures, 0);
	trip_at(&b, T0 + 1, 0.5);

	/* From a timed OPEN. */
	assert_true(corral_breaker_reset(&b));
	assert_int_equal(b.state, CLOSED);
	assert_string_equal(b.reason, "reset");
	assert_int_equal(b.failures, 0);
	expect_allow(&b, T0 + 2, true, false);

	/* From HALF_OPEN, after two reopenings. */
	trip_at(&b, T0 + 3, 0.5);
	reopen(&b, &now, 0.5);
	reopen(&b, &now, 0.5);
	half_open(&b, &now);
	assert_true(corral_breaker_reset(&b));
	assert_int_equal(b.state, CLOSED);
	assert_int_equal(b.reopenings, 0);
	assert_int_equal(b.trials, 0);
	trip_at(&b, now, 0.5);
	assert_int_equal(b.open_until_ms, now + 60000);
	assert_int_equal(reopen(&b, &now, 0.5), 120000);
	corral_breaker_free(&b);
}

/* ---- window mode ---- */

static void
test_window_opens_inside(void **state)
{
	struct corral_breaker b;

	(void)state;
	init_ok(&b, &WIN);
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 4000, 0.5));
	assert_int_equal(b.failures, 2);
	assert_true(corral_breaker_failure(&b, T0 + 9999, U_TOP));
	assert_int_equal(b.state, OPEN);
	assert_string_equal(b.reason, "failure threshold reached");
	assert_int_equal(b.opened_at_ms, T0 + 9999);
	assert_int_equal(b.open_until_ms, T0 + 9999 + 5000); /* no jitter */
	corral_breaker_free(&b);

	/* All at the same instant. */
	init_ok(&b, &WIN);
	trip_at(&b, T0, 0.5);
	corral_breaker_free(&b);
}

static void
test_window_spread_wider(void **state)
{
	struct corral_breaker b;
	unsigned i;

	(void)state;
	/* One failure every 5 s: never 3 within 10 s, however many. */
	init_ok(&b, &WIN);
	for (i = 0; i < 50; i++) {
		assert_false(corral_breaker_failure(&b, T0 + 5000 * i, 0.5));
		assert_int_equal(b.state, CLOSED);
	}
	assert_int_equal(b.failures, 3); /* saturates at the threshold */
	/* Then one 4.999 s after the last: the last 3 span 9.999 s. */
	assert_true(corral_breaker_failure(&b, T0 + 5000 * 49 + 4999, 0.5));
	assert_int_equal(b.state, OPEN);
	corral_breaker_free(&b);
}

static void
test_window_sliding(void **state)
{
	struct corral_breaker b;

	(void)state;
	init_ok(&b, &WIN);
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 6000, 0.5));
	/* T0 is 12 s old: [T0, T0+6, T0+12] spans 12 s. */
	assert_false(corral_breaker_failure(&b, T0 + 12000, 0.5));
	/* T0 has fallen out: [T0+6, T0+12, T0+13] spans 7 s. */
	assert_true(corral_breaker_failure(&b, T0 + 13000, 0.5));
	assert_int_equal(b.state, OPEN);
	corral_breaker_free(&b);

	/* Two old ones and one new do not add up; two more new ones do. */
	init_ok(&b, &WIN);
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 1, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 20000, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 20001, 0.5));
	assert_true(corral_breaker_failure(&b, T0 + 20002, 0.5));
	corral_breaker_free(&b);
}

static void
test_window_boundary(void **state)
{
	struct corral_breaker b;

	(void)state;
	/* Exactly the window length apart: outside. */
	init_ok(&b, &WIN);
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 5000, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 10000, 0.5));
	assert_int_equal(b.state, CLOSED);
	/* Now [T0+5, T0+10, T0+10.001]: inside. */
	assert_true(corral_breaker_failure(&b, T0 + 10001, 0.5));
	corral_breaker_free(&b);

	/* One millisecond less: inside. */
	init_ok(&b, &WIN);
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 5000, 0.5));
	assert_true(corral_breaker_failure(&b, T0 + 9999, 0.5));
	corral_breaker_free(&b);

	/* A window of 1 ms: only failures at the same instant count. */
	{
		struct corral_breaker_policy p = WIN;

		p.failure_window_ms = 1;
		init_ok(&b, &p);
		assert_false(corral_breaker_failure(&b, T0, 0.5));
		assert_false(corral_breaker_failure(&b, T0, 0.5));
		assert_false(corral_breaker_failure(&b, T0 + 1, 0.5));
		assert_false(corral_breaker_failure(&b, T0 + 1, 0.5));
		assert_true(corral_breaker_failure(&b, T0 + 1, 0.5));
		corral_breaker_free(&b);
	}
}

static void
test_window_success_keeps_count(void **state)
{
	struct corral_breaker b;

	(void)state;
	init_ok(&b, &WIN);
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 1000, 0.5));
	assert_false(corral_breaker_success(&b, T0 + 1500));
	assert_int_equal(b.failures, 2);
	assert_int_equal(b.state, CLOSED);
	assert_true(corral_breaker_failure(&b, T0 + 2000, 0.5));
	assert_int_equal(b.state, OPEN);
	corral_breaker_free(&b);
}

static void
test_window_reset_clears(void **state)
{
	struct corral_breaker b;
	unsigned i;

	(void)state;
	init_ok(&b, &WIN);
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 1, 0.5));
	assert_false(corral_breaker_reset(&b)); /* CLOSED: no change */
	assert_int_equal(b.failures, 0);
	assert_int_equal(b.ring_next, 0);
	for (i = 0; i < WIN.failure_threshold; i++)
		assert_int_equal(b.ring[i], 0);
	/* The two before the reset are forgotten. */
	assert_false(corral_breaker_failure(&b, T0 + 2, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 3, 0.5));
	assert_true(corral_breaker_failure(&b, T0 + 4, 0.5));

	/* From OPEN (the ring full of recent failures). */
	assert_true(corral_breaker_reset(&b));
	assert_int_equal(b.failures, 0);
	for (i = 0; i < WIN.failure_threshold; i++)
		assert_int_equal(b.ring[i], 0);
	assert_false(corral_breaker_failure(&b, T0 + 5, 0.5));
	assert_false(corral_breaker_failure(&b, T0 + 6, 0.5));
	assert_true(corral_breaker_failure(&b, T0 + 7, 0.5));
	corral_breaker_free(&b);
}

static void
test_window_half_open(void **state)
{
	struct corral_breaker b, before;
	uint64_t now, ring[3];
	unsigned i;

	(void)state;
	init_ok(&b, &WIN);
	trip_at(&b, T0, 0.5);
	assert_int_equal(b.open_until_ms, T0 + 5000);
	/* Failures while OPEN are not recorded in the ring. */
	memcpy(&before, &b, sizeof(b));
	memcpy(ring, b.ring, sizeof(ring));
	assert_int_equal(ring[0], T0);
	assert_false(corral_breaker_failure(&b, T0 + 1, 0.5));
	assert_memory_equal(&b, &before, sizeof(b));
	assert_memory_equal(b.ring, ring, sizeof(ring));

	/* Reopening 1: base 10 s, +-50 %: [5 s, 15 s). */
	assert_int_equal(reopen(&b, &now, 0.0), 5000);
	assert_int_equal(reopen(&b, &now, 0.5), 20000);
	assert_int_equal(reopen(&b, &now, U_TOP), 59999); /* 40 s cap */
	half_open(&b, &now);
	expect_allow(&b, now, true, false);
	expect_allow(&b, now, false, false); /* 2 trials */

	/* A trial's success closes it and empties the ring. */
	assert_true(corral_breaker_success(&b, now + 1));
	assert_int_equal(b.state, CLOSED);
	assert_string_equal(b.reason, "trial succeeded");
	assert_int_equal(b.failures, 0);
	assert_int_equal(b.ring_next, 0);
	for (i = 0; i < WIN.failure_threshold; i++)
		assert_int_equal(b.ring[i], 0);
	assert_false(corral_breaker_failure(&b, now + 2, 0.5));
	assert_false(corral_breaker_failure(&b, now + 3, 0.5));
	assert_true(corral_breaker_failure(&b, now + 4, U_TOP));
	assert_int_equal(b.open_until_ms, now + 4 + 5000);
	corral_breaker_free(&b);
}

static void
test_window_threshold_one(void **state)
{
	struct corral_breaker_policy p = WIN;
	struct corral_breaker b;
	uint64_t now;

	(void)state;
	p.failure_threshold = 1;
	init_ok(&b, &p);
	assert_true(corral_breaker_failure(&b, T0, 0.5));
	half_open(&b, &now);
	assert_true(corral_breaker_success(&b, now));
	assert_true(corral_breaker_failure(&b, now + TEN_YEARS_MS, 0.5));
	corral_breaker_free(&b);
}

/* ---- persistence: the scalar fields the state database keeps ---- */

static void
restore(struct corral_breaker *to, const struct corral_breaker *from)
{
	to->state = from->state;
	to->reset_required = from->reset_required;
	to->failures = from->failures;
	to->reopenings = from->reopenings;
	to->trials = from->trials;
	to->opened_at_ms = from->opened_at_ms;
	to->open_until_ms = from->open_until_ms;
}

static void
check_same(const struct corral_breaker *a, const struct corral_breaker *b)
{
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->reset_required, b->reset_required);
	assert_int_equal(a->failures, b->failures);
	assert_int_equal(a->reopenings, b->reopenings);
	assert_int_equal(a->trials, b->trials);
	assert_int_equal(a->opened_at_ms, b->opened_at_ms);
	assert_int_equal(a->open_until_ms, b->open_until_ms);
}

enum op { ALLOW, SUCCESS, FAILURE, FATAL, RESET };

struct step {
	enum op op;
	uint64_t dt; /* ms after the previous step */
	double u;
};

/* Run script on both breakers from now; they must agree at every step. */
static void
run_both(struct corral_breaker *a, struct corral_breaker *b, uint64_t now,
    const struct step *script, size_t n)
{
	bool ca, cb, ra = false, rb = false;
	size_t i;

	for (i = 0; i < n; i++) {
		now += script[i].dt;
		ca = cb = false;
		switch (script[i].op) {
		case ALLOW:
			ra = corral_breaker_allow(a, now, &ca);
			rb = corral_breaker_allow(b, now, &cb);
			break;
		case SUCCESS:
			ra = ca = corral_breaker_success(a, now);
			rb = cb = corral_breaker_success(b, now);
			break;
		case FAILURE:
			ra = ca = corral_breaker_failure(a, now, script[i].u);
			rb = cb = corral_breaker_failure(b, now, script[i].u);
			break;
		case FATAL:
			ra = ca = corral_breaker_fatal(a, now);
			rb = cb = corral_breaker_fatal(b, now);
			break;
		case RESET:
			ra = ca = corral_breaker_reset(a);
			rb = cb = corral_breaker_reset(b);
			break;
		}
		assert_int_equal(ra, rb);
		assert_int_equal(ca, cb);
		if (ca)
			assert_string_equal(a->reason, b->reason);
		check_same(a, b);
		assert_int_equal(corral_breaker_remaining_ms(a, now),
		    corral_breaker_remaining_ms(b, now));
	}
}

/*
 * Every transition, from wherever the round trip happened: allow through
 * the timeout, trials, a failed trial, a success, fresh failures, a fatal
 * failure, a reset.
 */
static const struct step SCRIPT[] = {
	{ ALLOW, 0, 0 }, { FAILURE, 1, 0.3 }, { ALLOW, 1000, 0 },
	{ ALLOW, 30000, 0 }, { ALLOW, 30000, 0 }, { ALLOW, 100000, 0 },
	{ ALLOW, 1, 0 }, { ALLOW, 1, 0 }, { ALLOW, 1, 0 },
	{ FAILURE, 5, 0.9 }, { ALLOW, 200000, 0 }, { ALLOW, 200000, 0 },
	{ FAILURE, 1, 0.1 }, { ALLOW, 700000, 0 }, { SUCCESS, 10, 0 },
	{ FAILURE, 1, 0.5 }, { SUCCESS, 1, 0 }, { FAILURE, 1, 0.5 },
	{ FAILURE, 1, 0.5 }, { FAILURE, 1, 0.5 }, { FAILURE, 1, 0.5 },
	{ FAILURE, 1, 0.5 }, { FAILURE, 1, 0.5 }, { ALLOW, 70000, 0 },
	{ FATAL, 1, 0 }, { ALLOW, TEN_YEARS_MS, 0 }, { RESET, 1, 0 },
	{ ALLOW, 1, 0 }, { FAILURE, 1, 0.5 },
};

/* Snapshot orig into a fresh breaker, then run the script on both. */
static void
round_trip(struct corral_breaker *orig, uint64_t now)
{
	struct corral_breaker copy;

	init_ok(&copy, &orig->policy);
	restore(&copy, orig);
	check_same(&copy, orig);
	assert_int_equal(corral_breaker_remaining_ms(&copy, now),
	    corral_breaker_remaining_ms(orig, now));
	run_both(orig, &copy, now, SCRIPT, sizeof(SCRIPT) / sizeof(SCRIPT[0]));
	corral_breaker_free(&copy);
}

static void
test_round_trip(void **state)
{
	struct corral_breaker b, copy;
	uint64_t now;

	(void)state;
	/* CLOSED, fresh. */
	init_ok(&b, &DEF);
	round_trip(&b, T0);
	corral_breaker_free(&b);

	/* CLOSED with 3 failures counted: 2 more open it. */
	init_ok(&b, &DEF);
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	assert_false(corral_breaker_failure(&b, T0, 0.5));
	init_ok(&copy, &DEF);
	restore(&copy, &b);
	assert_false(corral_breaker_failure(&copy, T0 + 1, 0.5));
	assert_true(corral_breaker_failure(&copy, T0 + 2, 0.5));
	corral_breaker_free(&copy);
	round_trip(&b, T0 + 1);
	corral_breaker_free(&b);

	/*
	 * OPEN, restored half-way through its timeout (corrald restarted):
	 * still open for exactly the rest of it.
	 */
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	init_ok(&copy, &DEF);
	restore(&copy, &b);
	assert_int_equal(corral_breaker_remaining_ms(&copy, T0 + 25000),
	    35000);
	expect_allow(&copy, T0 + 25000, false, false);
	expect_allow(&copy, T0 + 59999, false, false);
	expect_allow(&copy, T0 + 60000, true, true);
	assert_int_equal(copy.state, HALF_OPEN);
	corral_breaker_free(&copy);
	round_trip(&b, T0 + 25000);
	corral_breaker_free(&b);

	/* HALF_OPEN with 2 of 3 trials out: one more, then refusals. */
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	half_open(&b, &now);
	expect_allow(&b, now, true, false);
	init_ok(&copy, &DEF);
	restore(&copy, &b);
	expect_allow(&copy, now + 1, true, false);
	expect_allow(&copy, now + 2, false, false);
	corral_breaker_free(&copy);
	round_trip(&b, now + 1);
	corral_breaker_free(&b);

	/* Reopened twice: the next reopening is the third (x8). */
	init_ok(&b, &DEF);
	trip_at(&b, T0, 0.5);
	reopen(&b, &now, 0.5);
	reopen(&b, &now, 0.5);
	init_ok(&copy, &DEF);
	restore(&copy, &b);
	assert_int_equal(reopen(&copy, &now, 0.5), 480000);
	corral_breaker_free(&copy);
	round_trip(&b, now + 1);
	corral_breaker_free(&b);

	/* Fatal: still needs its reset, ten years on. */
	init_ok(&b, &DEF);
	assert_true(corral_breaker_fatal(&b, T0));
	init_ok(&copy, &DEF);
	restore(&copy, &b);
	expect_allow(&copy, T0 + TEN_YEARS_MS, false, false);
	assert_int_equal(corral_breaker_remaining_ms(&copy, T0 + 1), 0);
	assert_false(corral_breaker_fatal(&copy, T0 + 2));
	assert_true(corral_breaker_reset(&copy));
	corral_breaker_free(&copy);
	round_trip(&b, T0 + 1);
	corral_breaker_free(&b);

	/* A window breaker restored OPEN (its ring is not persisted). */
	init_ok(&b, &WIN);
	trip_at(&b, T0, 0.5);
	round_trip(&b, T0 + 100);
	corral_breaker_free(&b);
	init_ok(&b, &WIN);
	trip_at(&b, T0, 0.5);
	reopen(&b, &now, 0.5);
	round_trip(&b, now);
	corral_breaker_free(&b);
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(corral_breaker_state_name(CLOSED), "CLOSED");
	assert_string_equal(corral_breaker_state_name(OPEN), "OPEN");
	assert_string_equal(corral_breaker_state_name(HALF_OPEN),
	    "HALF_OPEN");
	assert_string_equal(
	    corral_breaker_state_name((enum corral_breaker_state)42), "?");
}

/* tick: OPEN half-opens on time with no trial admitted yet. */
static void
test_tick(void **state)
{
	struct corral_breaker b;
	bool changed;
	int i;

	(void)state;
	assert_int_equal(corral_breaker_init(&b, &DEF), 0);
	assert_false(corral_breaker_tick(&b, 1000)); /* CLOSED: nothing */
	for (i = 0; i < 5; i++)
		corral_breaker_failure(&b, 1000, 0.5);
	assert_int_equal(b.state, CORRAL_BREAKER_OPEN);
	assert_false(corral_breaker_tick(&b, 1000 + 59999));
	assert_int_equal(b.state, CORRAL_BREAKER_OPEN);
	assert_true(corral_breaker_tick(&b, 1000 + 60000));
	assert_int_equal(b.state, CORRAL_BREAKER_HALF_OPEN);
	assert_int_equal(b.trials, 0);
	assert_string_equal(b.reason, "recovery timeout over");
	assert_false(corral_breaker_tick(&b, 1000 + 60001)); /* already */
	/* The trials are all still to admit. */
	assert_true(corral_breaker_allow(&b, 1000 + 60001, &changed));
	assert_false(changed);
	assert_int_equal(b.trials, 1);
	/* A fatal breaker never ticks open. */
	corral_breaker_fatal(&b, 2000);
	assert_false(corral_breaker_tick(&b, UINT64_MAX));
	assert_int_equal(b.state, CORRAL_BREAKER_OPEN);
	corral_breaker_free(&b);
}

/* trial_void: a slot comes back in HALF_OPEN only, never below zero. */
static void
test_trial_void(void **state)
{
	struct corral_breaker b;
	bool changed;
	int i;

	(void)state;
	assert_int_equal(corral_breaker_init(&b, &DEF), 0);
	corral_breaker_trial_void(&b); /* CLOSED: nothing */
	assert_int_equal(b.trials, 0);
	for (i = 0; i < 5; i++)
		corral_breaker_failure(&b, 0, 0.5);
	corral_breaker_tick(&b, 60000);
	for (i = 0; i < 3; i++)
		assert_true(corral_breaker_allow(&b, 60000, &changed));
	assert_false(corral_breaker_allow(&b, 60000, &changed));
	corral_breaker_trial_void(&b);
	assert_int_equal(b.trials, 2);
	assert_int_equal(b.state, CORRAL_BREAKER_HALF_OPEN);
	assert_true(corral_breaker_allow(&b, 60000, &changed));
	assert_false(corral_breaker_allow(&b, 60000, &changed));
	for (i = 0; i < 5; i++)
		corral_breaker_trial_void(&b);
	assert_int_equal(b.trials, 0);
	corral_breaker_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_free_window),
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test(test_threshold_opens),
		cmocka_unit_test(test_success_restarts_count),
		cmocka_unit_test(test_open_refuses_and_counts_down),
		cmocka_unit_test(test_half_open_trial_limit),
		cmocka_unit_test(test_half_open_success_closes),
		cmocka_unit_test(test_half_open_failure_reopens),
		cmocka_unit_test(test_reopenings_grow_and_cap),
		cmocka_unit_test(test_close_resets_lengthening),
		cmocka_unit_test(test_open_ignores_calls),
		cmocka_unit_test(test_zero_recovery_timeout),
		cmocka_unit_test(test_huge_timeouts_saturate),
		cmocka_unit_test(test_fatal_from_closed),
		cmocka_unit_test(test_fatal_from_open),
		cmocka_unit_test(test_fatal_from_half_open),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_window_opens_inside),
		cmocka_unit_test(test_window_spread_wider),
		cmocka_unit_test(test_window_sliding),
		cmocka_unit_test(test_window_boundary),
		cmocka_unit_test(test_window_success_keeps_count),
		cmocka_unit_test(test_window_reset_clears),
		cmocka_unit_test(test_window_half_open),
		cmocka_unit_test(test_window_threshold_one),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_tick),
		cmocka_unit_test(test_trial_void),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
