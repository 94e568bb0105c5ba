/*
 * test_resume.c: rollback_decide(), the pure rule of rollback: failures in
 * a row right after resuming from one checkpoint, reset by progress, up to
 * max_rollback steps back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "corrald.h"

/* One run: failed?, neutral?, wrote?, resumed?, same? */
#define RUN(f, n, w, r, s) rollback_decide(3, 2, f, n, w, r, s, &count, &steps)

static void
test_threshold_then_rollback(void **state)
{
	unsigned count = 0, steps = 0;

	(void)state;
	assert_int_equal(RUN(true, false, false, true, false), RB_NONE);
	assert_int_equal(count, 1);
	assert_int_equal(RUN(true, false, false, true, true), RB_NONE);
	assert_int_equal(RUN(true, false, false, true, true), RB_ROLLBACK);
	assert_int_equal(count, 0);
	assert_int_equal(steps, 1);
	/* Again from the parent: one step further. */
	assert_int_equal(RUN(true, false, false, true, false), RB_NONE);
	assert_int_equal(RUN(true, false, false, true, true), RB_NONE);
	assert_int_equal(RUN(true, false, false, true, true), RB_ROLLBACK);
	assert_int_equal(steps, 2);
	/* max_rollback reached. */
	assert_int_equal(RUN(true, false, false, true, false), RB_NONE);
	assert_int_equal(RUN(true, false, false, true, true), RB_NONE);
	assert_int_equal(RUN(true, false, false, true, true), RB_LIMIT);
	assert_int_equal(steps, 2);
}

static void
test_resets(void **state)
{
	unsigned count = 0, steps = 1;

	(void)state;
	RUN(true, false, false, true, false);
	RUN(true, false, false, true, true);
	/* Neutral exits (transient, stopped) neither count nor break. */
	assert_int_equal(RUN(false, true, false, true, true), RB_NONE);
	assert_int_equal(count, 2);
	/* A success breaks the row. */
	assert_int_equal(RUN(false, false, false, true, true), RB_NONE);
	assert_int_equal(count, 0);
	assert_int_equal(steps, 1);
	/* Another checkpoint: the count starts again. */
	RUN(true, false, false, true, false);
	RUN(true, false, false, true, true);
	assert_int_equal(RUN(true, false, false, true, false), RB_NONE);
	assert_int_equal(count, 1);
	/* A newer checkpoint written: no poison, no rollback in force. */
	assert_int_equal(RUN(true, false, true, true, true), RB_NONE);
	assert_int_equal(count, 0);
	assert_int_equal(steps, 0);
	/* Nothing resumed: nothing to roll back from. */
	RUN(true, false, false, false, false);
	RUN(true, false, false, false, false);
	assert_int_equal(RUN(true, false, false, false, false), RB_NONE);
	assert_int_equal(count, 0);
}

static void
test_off(void **state)
{
	unsigned count = 0, steps = 0, i;

	(void)state;
	/* poison_threshold 0: off. */
	for (i = 0; i < 10; i++)
		assert_int_equal(rollback_decide(0, 3, true, false, false, true,
		    true, &count, &steps), RB_NONE);
	/* max_rollback 0: never, only said. */
	for (i = 0; i < 2; i++)
		assert_int_equal(rollback_decide(3, 0, true, false, false, true,
		    true, &count, &steps), RB_NONE);
	assert_int_equal(rollback_decide(3, 0, true, false, false, true, true,
	    &count, &steps), RB_LIMIT);
	assert_int_equal(steps, 0);
	/* Threshold 1: the first failure rolls back. */
	count = 0;
	assert_int_equal(rollback_decide(1, 1, true, false, false, true, false,
	    &count, &steps), RB_ROLLBACK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold_then_rollback),
		cmocka_unit_test(test_resets),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
