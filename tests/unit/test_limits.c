/*
 * test_limits.c: the descriptor plan (supervisor/limits.c): what one worker
 * costs corrald by its output modes, and which workers fit under a limit:
 * in start order, none jumping ahead, running ones always, at the limit
 * exactly, and the counts that the message and status report.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static unsigned
per_worker(enum out_mode out, enum out_mode err)
{
	struct agent_conf a;

	memset(&a, 0, sizeof(a));
	a.out[0] = out;
	a.out[1] = err;
	return fd_per_worker(&a);
}

static void
test_per_worker(void **state)
{
	(void)state;
	/* Each pipe's read end and each log file; the exec leaves none. */
	assert_int_equal(per_worker(OUT_FILE, OUT_FILE), 4);
	assert_int_equal(per_worker(OUT_INHERIT, OUT_INHERIT), 2);
	assert_int_equal(per_worker(OUT_NULL, OUT_NULL), 0);
	assert_int_equal(per_worker(OUT_FILE, OUT_NULL), 2);
	assert_int_equal(per_worker(OUT_NULL, OUT_INHERIT), 1);
}

/* n workers of per descriptors each, none running. */
static void
plan(struct fd_plan *p, uint64_t fixed, uint64_t limit, unsigned per,
    size_t n, bool *fits)
{
	unsigned pers[128];
	bool live[128];
	size_t i;

	assert_true(n <= 128);
	for (i = 0; i < n; i++) {
		pers[i] = per;
		live[i] = false;
	}
	fd_plan_make(p, fixed, limit, pers, live, n, fits);
}

static void
test_all_fit(void **state)
{
	struct fd_plan p;
	bool fits[100];
	size_t i;

	(void)state;
	plan(&p, 43, 20000, 5, 100, fits);
	assert_int_equal(p.need, 543);
	assert_int_equal(p.fixed, 43);
	assert_int_equal(p.limit, 20000);
	assert_int_equal(p.workers, 100);
	assert_int_equal(p.fit, 100);
	for (i = 0; i < 100; i++)
		assert_true(fits[i]);
}

/* The case: a hard limit of 64, 100 workers logging to files. */
static void
test_low_limit(void **state)
{
	struct fd_plan p;
	bool fits[100];
	size_t i;

	(void)state;
	plan(&p, 43, 64, 5, 100, fits);
	assert_int_equal(p.need, 543);
	assert_int_equal(p.fit, 4); /* 43 + 4 x 5 = 63; a fifth makes 68 */
	for (i = 0; i < 100; i++)
		assert_int_equal(fits[i], i < 4);
}

static void
test_exactly_at_limit(void **state)
{
	struct fd_plan p;
	bool fits[10];

	(void)state;
	plan(&p, 44, 64, 5, 10, fits);
	assert_int_equal(p.fit, 4); /* 44 + 20 = 64: the limit itself fits */
	assert_true(fits[3]);
	assert_false(fits[4]);
	plan(&p, 45, 64, 5, 10, fits);
	assert_int_equal(p.fit, 3);
}

static void
test_fixed_over_limit(void **state)
{
	struct fd_plan p;
	bool fits[3];

	(void)state;
	plan(&p, 70, 64, 1, 3, fits);
	assert_int_equal(p.fit, 0);
	assert_int_equal(p.need, 73);
	assert_false(fits[0] || fits[1] || fits[2]);
	/* No worker at all: nothing to fit, the need is corrald's own. */
	plan(&p, 30, 64, 5, 0, fits);
	assert_int_equal(p.fit, 0);
	assert_int_equal(p.workers, 0);
	assert_int_equal(p.need, 30);
}

/* A small worker after one that does not fit does not jump ahead. */
static void
test_start_order(void **state)
{
	static const unsigned per[] = { 5, 5, 5, 1, 1 };
	static const bool live[] = { false, false, false, false, false };
	struct fd_plan p;
	bool fits[NELEM(per)];

	(void)state;
	fd_plan_make(&p, 50, 61, per, live, NELEM(per), fits);
	assert_int_equal(p.fit, 2);
	assert_true(fits[0] && fits[1]);
	assert_false(fits[2] || fits[3] || fits[4]);
	assert_int_equal(p.need, 50 + 17);
}

/*
 * A running worker keeps running whatever the plan (at a reload that grew
 * the fleet ahead of it): its descriptors are taken first.
 */
static void
test_live_counts_first(void **state)
{
	static const unsigned per[] = { 5, 5, 5, 5 };
	static const bool live[] = { false, false, false, true };
	struct fd_plan p;
	bool fits[NELEM(per)];

	(void)state;
	fd_plan_make(&p, 50, 60, per, live, NELEM(per), fits);
	assert_true(fits[0]);  /* 50 + 5 (live) + 5 = 60 */
	assert_false(fits[1]);
	assert_false(fits[2]);
	assert_true(fits[3]);  /* live */
	assert_int_equal(p.fit, 2);
	/* Live workers over the limit already: they stay, nothing joins. */
	fd_plan_make(&p, 58, 60, per, live, NELEM(per), fits);
	assert_false(fits[0]);
	assert_true(fits[3]);
	assert_int_equal(p.fit, 1);
}

static void
test_no_overflow(void **state)
{
	static const unsigned per[] = { UINT_MAX, UINT_MAX, 1 };
	static const bool live[] = { false, false, false };
	struct fd_plan p;
	bool fits[NELEM(per)];

	(void)state;
	fd_plan_make(&p, UINT64_MAX - 10, UINT64_MAX, per, live, NELEM(per),
	    fits);
	assert_int_equal(p.fit, 0);
	fd_plan_make(&p, 10, UINT64_MAX, per, live, NELEM(per), fits);
	assert_int_equal(p.fit, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_worker),
		cmocka_unit_test(test_all_fit),
		cmocka_unit_test(test_low_limit),
		cmocka_unit_test(test_exactly_at_limit),
		cmocka_unit_test(test_fixed_over_limit),
		cmocka_unit_test(test_start_order),
		cmocka_unit_test(test_live_counts_first),
		cmocka_unit_test(test_no_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
