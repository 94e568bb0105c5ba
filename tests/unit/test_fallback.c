/*
 * test_fallback.c: the fallback chain (worker-sdk/fallback.c) with three
 * scripted alternatives A, B, C and a fake clock: calls go to the first
 * healthy one, failures move a call on, an open breaker skips its
 * alternative without calling it, a half-open trial brings it back or
 * reopens it for longer; all failing, all refusing, exact counters, init
 * and free, and a windowed policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corral.h"

/* An arbitrary origin for the fake clock, far from 0. */
#define T0 1000000ULL

#define CLOSED CORRAL_BREAKER_CLOSED
#define OPEN CORRAL_BREAKER_OPEN
#define HALF_OPEN CORRAL_BREAKER_HALF_OPEN

#define MAX_DRAWS 64

struct fake {
	uint64_t now;
	uint64_t slept;
	unsigned nsleeps;
	double draws[MAX_DRAWS];
	unsigned ndraws, drawn;
};

static uint64_t
fake_now(void *arg)
{
	return ((struct fake *)arg)->now;
}

static void
fake_sleep(void *arg, uint64_t ms)
{
	struct fake *f = arg;

	f->nsleeps++;
	f->slept += ms;
	f->now += ms;
}

static double
fake_uniform(void *arg)
{
	struct fake *f = arg;

	assert_true(f->drawn < f->ndraws);
	return f->draws[f->drawn++];
}

/* Every draw is u (the chain draws one per failure). */
static void
fake_init(struct fake *f, struct corral_clock *c, double u)
{
	unsigned i;

	memset(f, 0, sizeof(*f));
	f->now = T0;
	for (i = 0; i < MAX_DRAWS; i++)
		f->draws[i] = u;
	f->ndraws = MAX_DRAWS;
	c->now_ms = fake_now;
	c->sleep_ms = fake_sleep;
	c->uniform = fake_uniform;
	c->arg = f;
}

/* An alternative: returns result (set by the test), counts its calls. */
struct script {
	int result;
	unsigned made;
};

static int
alt_call(void *arg)
{
	struct script *s = arg;

	s->made++;
	return s->result;
}

/*
 * Threshold 2 consecutive; open 1 s, x2 up to 8 s, +-50 %; 1 trial.  With
 * u = 0.75 a reopening lasts 2000 * 1.25 = 2500 ms.
 */
static const struct corral_breaker_policy POL = {
	2, 0, 1000, 8000, 2.0, 0.5, 1
};

struct env {
	struct fake f;
	struct corral_clock clk;
	struct script s[3];
	struct corral_fallback_alt alts[3];
	struct corral_fallback_chain ch;
};

static void
env_init(struct env *e, const struct corral_breaker_policy *p)
{
	static const char *const names[] = { "A", "B", "C" };
	size_t i;

	memset(e, 0, sizeof(*e));
	fake_init(&e->f, &e->clk, 0.75);
	for (i = 0; i < 3; i++) {
		e->alts[i].name = names[i];
		e->alts[i].fn = alt_call;
		e->alts[i].arg = &e->s[i];
		/* init must clear whatever was there. */
		e->alts[i].calls = e->alts[i].failures = 99;
		e->alts[i].refusals = 99;
	}
	assert_int_equal(corral_fallback_init(&e->ch, e->alts, 3, p), 0);
	assert_ptr_equal(e->ch.alts, e->alts);
	assert_int_equal(e->ch.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(e->alts[i].calls, 0);
		assert_int_equal(e->alts[i].failures, 0);
		assert_int_equal(e->alts[i].refusals, 0);
		assert_int_equal(e->alts[i].breaker.state, CLOSED);
	}
}

/* One call through the chain: the index and *err expected. */
static void
expect_call(struct env *e, int want, int want_err)
{
	int err = -12345;

	assert_int_equal(corral_fallback_call(&e->ch, &e->clk, &err), want);
	assert_int_equal(err, want_err);
}

static void
expect_counts(const struct env *e, size_t i, uint64_t calls,
    uint64_t failures, uint64_t refusals)
{
	assert_int_equal(e->alts[i].calls, calls);
	assert_int_equal(e->alts[i].failures, failures);
	assert_int_equal(e->alts[i].refusals, refusals);
	/* A counted call is a real call of fn. */
	assert_int_equal(e->s[i].made, calls);
}

/* A fails twice (B succeeding): A's breaker opens at the current time. */
static void
open_a(struct env *e)
{
	e->s[0].result = 11;
	expect_call(e, 1, 0);
	assert_int_equal(e->alts[0].breaker.state, CLOSED);
	expect_call(e, 1, 0);
	assert_int_equal(e->alts[0].breaker.state, OPEN);
	assert_int_equal(e->alts[0].breaker.opened_at_ms, e->f.now);
	assert_int_equal(e->alts[0].breaker.open_until_ms, e->f.now + 1000);
}

static void
test_healthy_first(void **state)
{
	struct env e;
	int i;

	(void)state;
	env_init(&e, &POL);
	for (i = 0; i < 3; i++)
		expect_call(&e, 0, 0);
	expect_counts(&e, 0, 3, 0, 0);
	expect_counts(&e, 1, 0, 0, 0);
	expect_counts(&e, 2, 0, 0, 0);
	assert_int_equal(e.f.nsleeps, 0);
	corral_fallback_free(&e.ch);
}

static void
test_failure_moves_on(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, &POL);
	e.s[0].result = 11;
	/* B answers; A's error is not the call's. */
	expect_call(&e, 1, 0);
	expect_counts(&e, 0, 1, 1, 0);
	expect_counts(&e, 1, 1, 0, 0);
	expect_counts(&e, 2, 0, 0, 0);
	assert_int_equal(e.alts[0].breaker.state, CLOSED);
	assert_int_equal(e.alts[0].breaker.failures, 1);

	/* A succeeds again: its consecutive count starts over. */
	e.s[0].result = 0;
	expect_call(&e, 0, 0);
	assert_int_equal(e.alts[0].breaker.failures, 0);
	e.s[0].result = 11;
	expect_call(&e, 1, 0);
	assert_int_equal(e.alts[0].breaker.state, CLOSED);
	expect_counts(&e, 0, 3, 2, 0);
	expect_counts(&e, 1, 2, 0, 0);

	/* A and B failing: C answers, *err still 0. */
	e.s[1].result = 12;
	expect_call(&e, 2, 0);
	expect_counts(&e, 2, 1, 0, 0);
	corral_fallback_free(&e.ch);
}

static void
test_open_skips(void **state)
{
	struct env e;
	int i;

	(void)state;
	env_init(&e, &POL);
	open_a(&e);
	expect_counts(&e, 0, 2, 2, 0);
	expect_counts(&e, 1, 2, 0, 0);
	/* A is not called while open, only refused. */
	for (i = 0; i < 3; i++) {
		e.f.now += 333;
		expect_call(&e, 1, 0);
	}
	expect_counts(&e, 0, 2, 2, 3);
	expect_counts(&e, 1, 5, 0, 0);
	expect_counts(&e, 2, 0, 0, 0);
	assert_int_equal(e.alts[0].breaker.state, OPEN);
	corral_fallback_free(&e.ch);
}

static void
test_recovered_comes_back(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, &POL);
	open_a(&e);
	e.s[0].result = 0; /* healthy again, but nobody knows yet */
	e.f.now = T0 + 999;
	expect_call(&e, 1, 0);
	expect_counts(&e, 0, 2, 2, 1);
	/* The timeout is over: a half-open trial, which succeeds. */
	e.f.now = T0 + 1000;
	expect_call(&e, 0, 0);
	assert_int_equal(e.alts[0].breaker.state, CLOSED);
	assert_int_equal(e.alts[0].breaker.reopenings, 0);
	expect_counts(&e, 0, 3, 2, 1);
	expect_counts(&e, 1, 3, 0, 0);
	/* And A takes the calls again. */
	expect_call(&e, 0, 0);
	expect_call(&e, 0, 0);
	expect_counts(&e, 0, 5, 2, 1);
	expect_counts(&e, 1, 3, 0, 0);
	corral_fallback_free(&e.ch);
}

static void
test_failed_trial_reopens_longer(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, &POL);
	open_a(&e);
	/* The trial at T0 + 1000 fails: B answers, A reopens for 2.5 s. */
	e.f.now = T0 + 1000;
	expect_call(&e, 1, 0);
	expect_counts(&e, 0, 3, 3, 0);
	expect_counts(&e, 1, 3, 0, 0);
	assert_int_equal(e.alts[0].breaker.state, OPEN);
	assert_int_equal(e.alts[0].breaker.reopenings, 1);
	assert_int_equal(e.alts[0].breaker.opened_at_ms, T0 + 1000);
	assert_int_equal(e.alts[0].breaker.open_until_ms, T0 + 3500);
	/* Past the first timeout's length, still skipped. */
	e.f.now = T0 + 2000;
	expect_call(&e, 1, 0);
	e.f.now = T0 + 3499;
	expect_call(&e, 1, 0);
	expect_counts(&e, 0, 3, 3, 2);
	/* At T0 + 3500 the next trial; A has recovered. */
	e.s[0].result = 0;
	e.f.now = T0 + 3500;
	expect_call(&e, 0, 0);
	assert_int_equal(e.alts[0].breaker.state, CLOSED);
	assert_int_equal(e.alts[0].breaker.reopenings, 0);
	expect_counts(&e, 0, 4, 3, 2);
	expect_counts(&e, 1, 5, 0, 0);
	expect_counts(&e, 2, 0, 0, 0);
	corral_fallback_free(&e.ch);
}

static void
test_all_failing(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, &POL);
	e.s[0].result = 11;
	e.s[1].result = 12;
	e.s[2].result = 13;
	expect_call(&e, -1, 13);
	expect_counts(&e, 0, 1, 1, 0);
	expect_counts(&e, 1, 1, 1, 0);
	expect_counts(&e, 2, 1, 1, 0);
	/* C recovers: the call ends there. */
	e.s[2].result = 0;
	expect_call(&e, 2, 0);
	expect_counts(&e, 0, 2, 2, 0);
	expect_counts(&e, 1, 2, 2, 0);
	expect_counts(&e, 2, 2, 1, 0);
	corral_fallback_free(&e.ch);
}

static void
test_all_refusing(void **state)
{
	struct env e;
	size_t i;

	(void)state;
	env_init(&e, &POL);
	e.s[0].result = 11;
	e.s[1].result = 12;
	e.s[2].result = 13;
	expect_call(&e, -1, 13);
	expect_call(&e, -1, 13);
	for (i = 0; i < 3; i++)
		assert_int_equal(e.alts[i].breaker.state, OPEN);
	/* Nothing is called: -1 with no error. */
	e.f.now += 10;
	expect_call(&e, -1, 0);
	expect_call(&e, -1, 0);
	for (i = 0; i < 3; i++)
		expect_counts(&e, i, 2, 2, 2);

	/* Only B half-opens (a fatal failure keeps A and C shut): B fails,
	 * its error is the last one though C refused after it. */
	corral_breaker_fatal(&e.alts[0].breaker, e.f.now);
	corral_breaker_fatal(&e.alts[2].breaker, e.f.now);
	e.f.now = T0 + 1000;
	expect_call(&e, -1, 12);
	expect_counts(&e, 0, 2, 2, 3);
	expect_counts(&e, 1, 3, 3, 2);
	expect_counts(&e, 2, 2, 2, 3);
	corral_fallback_free(&e.ch);
}

static void
test_init_bad_policy(void **state)
{
	struct corral_breaker_policy p = POL;
	struct corral_fallback_alt alts[3];
	struct corral_fallback_chain ch;

	(void)state;
	memset(alts, 0, sizeof(alts));
	p.failure_threshold = 0;
	ch.n = 77;
	assert_int_equal(corral_fallback_init(&ch, alts, 3, &p), -1);
	assert_int_equal(ch.n, 0);
	corral_fallback_free(&ch);

	/* A windowed policy (it allocates) that is bad elsewhere. */
	p = POL;
	p.failure_window_ms = 5000;
	p.multiplier = 0.5;
	ch.n = 77;
	assert_int_equal(corral_fallback_init(&ch, alts, 3, &p), -1);
	assert_int_equal(ch.n, 0);
	corral_fallback_free(&ch);

	p = POL;
	p.failure_window_ms = 5000;
	p.recovery_timeout_max_ms = p.recovery_timeout_ms - 1;
	assert_int_equal(corral_fallback_init(&ch, alts, 3, &p), -1);
	assert_int_equal(ch.n, 0);

	/* An empty chain: every call refused, no error. */
	assert_int_equal(corral_fallback_init(&ch, alts, 0, &POL), 0);
	{
		int err = 5;

		assert_int_equal(corral_fallback_call(&ch, NULL, &err), -1);
		assert_int_equal(err, 0);
	}
	corral_fallback_free(&ch);
}

static void
test_free_twice(void **state)
{
	struct env e;
	struct corral_breaker_policy p = POL;
	size_t i;

	(void)state;
	p.failure_window_ms = 5000; /* every breaker allocates its ring */
	env_init(&e, &p);
	for (i = 0; i < 3; i++)
		assert_non_null(e.alts[i].breaker.ring);
	corral_fallback_free(&e.ch);
	assert_int_equal(e.ch.n, 0);
	for (i = 0; i < 3; i++)
		assert_null(e.alts[i].breaker.ring);
	corral_fallback_free(&e.ch);
	assert_int_equal(e.ch.n, 0);
	corral_fallback_free(NULL);
}

static void
test_windowed_policy(void **state)
{
	struct env e;
	struct corral_breaker_policy p = POL;

	(void)state;
	p.failure_window_ms = 1000; /* 2 failures within 1 s */
	env_init(&e, &p);
	e.s[0].result = 11;
	expect_call(&e, 1, 0);
	/* 1500 ms later: the two failures are not within the window. */
	e.f.now = T0 + 1500;
	expect_call(&e, 1, 0);
	assert_int_equal(e.alts[0].breaker.state, CLOSED);
	/* A success in between does not clear a window's count. */
	e.s[0].result = 0;
	e.f.now = T0 + 1600;
	expect_call(&e, 0, 0);
	e.s[0].result = 11;
	e.f.now = T0 + 2499;
	expect_call(&e, 1, 0); /* 999 ms after the one at 1500: opens */
	assert_int_equal(e.alts[0].breaker.state, OPEN);
	assert_int_equal(e.alts[0].breaker.open_until_ms, T0 + 3499);
	expect_counts(&e, 0, 4, 3, 0);
	/* Skipped while open. */
	e.f.now = T0 + 3498;
	expect_call(&e, 1, 0);
	expect_counts(&e, 0, 4, 3, 1);
	/* Trial at T0 + 3499 succeeds: back to A. */
	e.s[0].result = 0;
	e.f.now = T0 + 3499;
	expect_call(&e, 0, 0);
	assert_int_equal(e.alts[0].breaker.state, CLOSED);
	expect_call(&e, 0, 0);
	expect_counts(&e, 0, 6, 3, 1);
	expect_counts(&e, 1, 4, 0, 0);
	expect_counts(&e, 2, 0, 0, 0);
	corral_fallback_free(&e.ch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_first),
		cmocka_unit_test(test_failure_moves_on),
		cmocka_unit_test(test_open_skips),
		cmocka_unit_test(test_recovered_comes_back),
		cmocka_unit_test(test_failed_trial_reopens_longer),
		cmocka_unit_test(test_all_failing),
		cmocka_unit_test(test_all_refusing),
		cmocka_unit_test(test_init_bad_policy),
		cmocka_unit_test(test_free_twice),
		cmocka_unit_test(test_windowed_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
