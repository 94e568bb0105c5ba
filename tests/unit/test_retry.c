/*
 * test_retry.c: corral_retry (worker-sdk/retry.c) with a fake clock whose
 * sleep advances its time and records each wait, and whose jitter draws
 * are scripted: success at once and after retries, max_attempts, the
 * retry predicate, the deadline (both sides of its boundary, with the time
 * the calls themselves take), and a short run on the real clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "corral.h"

/* An arbitrary origin for the fake clock, far from 0. */
#define T0 1000000ULL

#define MAX_EVENTS 16

struct fake {
	uint64_t now;
	uint64_t sleeps[MAX_EVENTS];
	unsigned nsleeps;
	double draws[MAX_EVENTS];
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

	assert_true(f->nsleeps < MAX_EVENTS);
	f->sleeps[f->nsleeps++] = ms;
	f->now += ms;
}

static double
fake_uniform(void *arg)
{
	struct fake *f = arg;

	/* A draw that was not scripted is a failure of the test. */
	assert_true(f->drawn < f->ndraws);
	return f->draws[f->drawn++];
}

static void
fake_init(struct fake *f, struct corral_clock *c)
{
	memset(f, 0, sizeof(*f));
	f->now = T0;
	c->now_ms = fake_now;
	c->sleep_ms = fake_sleep;
	c->uniform = fake_uniform;
	c->arg = f;
}

static void
script_draws(struct fake *f, unsigned n, const double *u)
{
	assert_true(n <= MAX_EVENTS);
	memcpy(f->draws, u, n * sizeof(*u));
	f->ndraws = n;
	f->drawn = 0;
}

/* The scripted call: results[i] for the i-th call, which takes cost ms. */
struct calls {
	struct fake *clk;
	int results[MAX_EVENTS];
	unsigned n, made;
	uint64_t cost;
	int refuse;       /* the error the predicate refuses */
	unsigned preds;   /* predicate calls */
	int last_pred_err;
};

static int
call(void *arg)
{
	struct calls *c = arg;

	assert_true(c->made < c->n);
	c->clk->now += c->cost;
	return c->results[c->made++];
}

static bool
pred(int err, void *arg)
{
	struct calls *c = arg;

	c->preds++;
	c->last_pred_err = err;
	return err != c->refuse;
}

/* 100 ms, x2 up to 1 s, +-50 %: delay(k, u) = 100 * 2^k * (0.5 + u). */
static const struct corral_retry_policy JIT = {
	{ 100, 1000, 2.0, 0.5 }, 5, 0
};

/* No jitter: 100, 200, 400, 800 ms, whatever the draw. */
static const struct corral_retry_policy FLAT = {
	{ 100, 1000, 2.0, 0.0 }, 5, 0
};

static void
calls_init(struct calls *c, struct fake *f, unsigned n, const int *r)
{
	memset(c, 0, sizeof(*c));
	c->clk = f;
	c->n = n;
	memcpy(c->results, r, n * sizeof(*r));
}

static void
test_first_call_succeeds(void **state)
{
	struct fake f;
	struct corral_clock clk;
	struct calls c;
	static const int r[] = { 0 };
	unsigned attempts = 77;

	(void)state;
	fake_init(&f, &clk);
	calls_init(&c, &f, 1, r);
	assert_int_equal(corral_retry(&JIT, &clk, call, pred, &c, &attempts),
	    0);
	assert_int_equal(attempts, 1);
	assert_int_equal(c.made, 1);
	assert_int_equal(f.nsleeps, 0);
	assert_int_equal(f.drawn, 0);
	assert_int_equal(c.preds, 0); /* a success is not judged */
	assert_int_equal(f.now, T0);
}

static void
test_third_call_succeeds(void **state)
{
	struct fake f;
	struct corral_clock clk;
	struct calls c;
	static const int r[] = { 5, 6, 0 };
	static const double u[] = { 0.25, 0.75 };
	unsigned attempts = 0;

	(void)state;
	fake_init(&f, &clk);
	script_draws(&f, 2, u);
	calls_init(&c, &f, 3, r);
	assert_int_equal(corral_retry(&JIT, &clk, call, pred, &c, &attempts),
	    0);
	assert_int_equal(attempts, 3);
	assert_int_equal(c.made, 3);
	assert_int_equal(f.drawn, 2);
	/* k = 0: 100 * (0.5 + 0.25); k = 1: 200 * (0.5 + 0.75). */
	assert_int_equal(f.nsleeps, 2);
	assert_int_equal(f.sleeps[0], 75);
	assert_int_equal(f.sleeps[1], 250);
	assert_int_equal(f.sleeps[0], corral_backoff_delay(&JIT.backoff, 0,
	    0.25));
	assert_int_equal(f.sleeps[1], corral_backoff_delay(&JIT.backoff, 1,
	    0.75));
	assert_int_equal(f.now, T0 + 325);
	assert_int_equal(c.preds, 2);
	assert_int_equal(c.last_pred_err, 6);
}

static void
test_max_attempts_reached(void **state)
{
	struct fake f;
	struct corral_clock clk;
	struct calls c;
	struct corral_retry_policy p = FLAT;
	static const int r[] = { 11, 12, 13 };
	static const double u[] = { 0.1, 0.2 };
	unsigned attempts = 0;

	(void)state;
	p.max_attempts = 3;
	fake_init(&f, &clk);
	script_draws(&f, 2, u);
	calls_init(&c, &f, 3, r);
	/* NULL predicate: every error is retryable. */
	assert_int_equal(corral_retry(&p, &clk, call, NULL, &c, &attempts),
	    13);
	assert_int_equal(attempts, 3);
	assert_int_equal(c.made, 3);
	/* No wait after the last attempt. */
	assert_int_equal(f.nsleeps, 2);
	assert_int_equal(f.sleeps[0], 100);
	assert_int_equal(f.sleeps[1], 200);
	assert_int_equal(f.now, T0 + 300);
}

static void
test_max_attempts_zero_is_one(void **state)
{
	struct fake f;
	struct corral_clock clk;
	struct calls c;
	struct corral_retry_policy p = FLAT;
	static const int r[] = { 42 };
	unsigned attempts = 0;

	(void)state;
	p.max_attempts = 0;
	fake_init(&f, &clk);
	calls_init(&c, &f, 1, r);
	assert_int_equal(corral_retry(&p, &clk, call, pred, &c, &attempts),
	    42);
	assert_int_equal(attempts, 1);
	assert_int_equal(c.made, 1);
	assert_int_equal(f.nsleeps, 0);

	/* And 1 is the same: no retry. */
	p.max_attempts = 1;
	calls_init(&c, &f, 1, r);
	assert_int_equal(corral_retry(&p, &clk, call, pred, &c, &attempts),
	    42);
	assert_int_equal(attempts, 1);
	assert_int_equal(c.made, 1);
	assert_int_equal(f.nsleeps, 0);
}

static void
test_predicate_refuses(void **state)
{
	struct fake f;
	struct corral_clock clk;
	struct calls c;
	static const int r[] = { 5, 99, 0 };
	static const double u[] = { 0.5 };
	unsigned attempts = 0;

	(void)state;
	fake_init(&f, &clk);
	script_draws(&f, 1, u);
	calls_init(&c, &f, 3, r);
	c.refuse = 99;
	assert_int_equal(corral_retry(&JIT, &clk, call, pred, &c, &attempts),
	    99);
	assert_int_equal(attempts, 2);
	assert_int_equal(c.made, 2);
	assert_int_equal(c.preds, 2);
	assert_int_equal(c.last_pred_err, 99);
	assert_int_equal(f.nsleeps, 1); /* only the wait after error 5 */
	assert_int_equal(f.sleeps[0], 100);

	/* Refused at the first error: one call, no wait, no draw. */
	calls_init(&c, &f, 1, (const int[]){ 99 });
	c.refuse = 99;
	f.nsleeps = 0;
	script_draws(&f, 0, u);
	assert_int_equal(corral_retry(&JIT, &clk, call, pred, &c, &attempts),
	    99);
	assert_int_equal(attempts, 1);
	assert_int_equal(c.made, 1);
	assert_int_equal(f.nsleeps, 0);
}

/* Always failing; 100, 200, 400 ms waits; deadline d; calls take cost. */
static void
run_deadline(uint64_t deadline, uint64_t cost, unsigned want_attempts,
    unsigned want_sleeps, uint64_t want_elapsed)
{
	struct fake f;
	struct corral_clock clk;
	struct calls c;
	struct corral_retry_policy p = FLAT;
	static const int r[] = { 1, 2, 3, 4, 5 };
	static const double u[] = { 0.5, 0.5, 0.5, 0.5 };
	static const uint64_t waits[] = { 100, 200, 400, 800 };
	unsigned attempts = 0, i;

	p.deadline_ms = deadline;
	fake_init(&f, &clk);
	script_draws(&f, 4, u);
	calls_init(&c, &f, 5, r);
	c.cost = cost;
	assert_int_equal(corral_retry(&p, &clk, call, pred, &c, &attempts),
	    (int)want_attempts);
	assert_int_equal(attempts, want_attempts);
	assert_int_equal(c.made, want_attempts);
	assert_int_equal(f.nsleeps, want_sleeps);
	for (i = 0; i < want_sleeps; i++)
		assert_int_equal(f.sleeps[i], waits[i]);
	assert_int_equal(f.now - T0, want_elapsed);
}

static void
test_deadline_boundary(void **state)
{
	(void)state;
	/* 100 + 200 = 300 would end at the deadline: not taken. */
	run_deadline(300, 0, 2, 1, 100);
	/* One ms more and it fits; then 300 + 400 does not. */
	run_deadline(301, 0, 3, 2, 300);
	/* The first wait ends exactly at the deadline: not taken. */
	run_deadline(100, 0, 1, 0, 0);
	run_deadline(101, 0, 2, 1, 100);
	/* 0: no deadline, all five attempts. */
	run_deadline(0, 0, 5, 4, 1500);
}

static void
test_deadline_counts_call_time(void **state)
{
	(void)state;
	/* Calls of 1 ms: 1 + 100 + 1 = 102, and 102 + 200 > 301. */
	run_deadline(301, 1, 2, 1, 102);
	/* 1 + 100 + 1 + 200 = 302 < 303: taken; then 303 + 400 is not. */
	run_deadline(303, 1, 3, 2, 303);
	run_deadline(302, 1, 2, 1, 102);
	/* A first call of 200 ms: 200 + 100 = 300 at the deadline. */
	run_deadline(300, 200, 1, 0, 200);
	run_deadline(301, 200, 2, 1, 500);
}

static void
test_attempts_null(void **state)
{
	struct fake f;
	struct corral_clock clk;
	struct calls c;
	static const int r[] = { 5, 0 };
	static const double u[] = { 0.5 };

	(void)state;
	fake_init(&f, &clk);
	script_draws(&f, 1, u);
	calls_init(&c, &f, 2, r);
	assert_int_equal(corral_retry(&JIT, &clk, call, pred, &c, NULL), 0);
	assert_int_equal(c.made, 2);
	assert_int_equal(f.nsleeps, 1);
	assert_int_equal(f.sleeps[0], 100);
}

static int
real_fail(void *arg)
{
	(*(unsigned *)arg)++;
	return 7;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
test_real_clock(void **state)
{
	/* 1 ms waits, no jitter, 3 attempts: 2 ms of sleep. */
	static const struct corral_retry_policy p = {
		{ 1, 1, 1.0, 0.0 }, 3, 0
	};
	unsigned made = 0, attempts = 0;
	uint64_t t;

	(void)state;
	t = mono_ns();
	assert_int_equal(corral_retry(&p, corral_clock_real(), real_fail,
	    NULL, &made, &attempts), 7);
	t = mono_ns() - t;
	assert_int_equal(attempts, 3);
	assert_int_equal(made, 3);
	assert_true(t >= 2000000ULL);

	/* NULL is the real clock too. */
	made = 0;
	t = mono_ns();
	assert_int_equal(corral_retry(&p, NULL, real_fail, NULL, &made,
	    &attempts), 7);
	t = mono_ns() - t;
	assert_int_equal(attempts, 3);
	assert_int_equal(made, 3);
	assert_true(t >= 2000000ULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_call_succeeds),
		cmocka_unit_test(test_third_call_succeeds),
		cmocka_unit_test(test_max_attempts_reached),
		cmocka_unit_test(test_max_attempts_zero_is_one),
		cmocka_unit_test(test_predicate_refuses),
		cmocka_unit_test(test_deadline_boundary),
		cmocka_unit_test(test_deadline_counts_call_time),
		cmocka_unit_test(test_attempts_null),
		cmocka_unit_test(test_real_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
