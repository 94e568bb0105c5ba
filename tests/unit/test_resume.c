/*
 * test_resume.c: rollback_decide(), the pure rule of rollback: failures in
 * a row right after resuming from one checkpoint, reset by progress, up to
 * max_rollback steps back; and storage_decide(), what a failure of the
 * checkpoint storage itself leads to: a hold for a human, a slow retry, or
 * nothing of its own, and never a rollback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

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

/* A storage exit is neutral: it neither counts nor breaks the row. */
static void
test_storage_neutral(void **state)
{
	unsigned count = 0, steps = 0, i;

	(void)state;
	RUN(true, false, false, true, false);
	RUN(true, false, false, true, true);
	/* A full disk for a night: never the third failure. */
	for (i = 0; i < 100; i++)
		assert_int_equal(RUN(false, true, false, true, true), RB_NONE);
	assert_int_equal(count, 2);
	assert_int_equal(steps, 0);
}

static enum storage_action
after_exit(enum corral_exit_class cls, bool restarts, enum storage_kind said,
    enum storage_kind found)
{
	struct storage_in in;

	memset(&in, 0, sizeof(in));
	in.cls = cls;
	in.restarts = restarts;
	in.said = said;
	in.found = found;
	return storage_decide(&in);
}

static void
test_storage_after_exit(void **state)
{
	(void)state;
	/* A full disk or an I/O error: retried slowly, no human needed. */
	assert_int_equal(after_exit(CORRAL_EXIT_STORAGE, true, SK_FULL,
	    SK_NONE), SA_RETRY);
	assert_int_equal(after_exit(CORRAL_EXIT_STORAGE, true, SK_IO,
	    SK_NONE), SA_RETRY);
	/* Exit 74 without a word: the same. */
	assert_int_equal(after_exit(CORRAL_EXIT_STORAGE, true, SK_NONE,
	    SK_NONE), SA_RETRY);
	/* Replaced by a file that has the thread's rows: retried too. */
	assert_int_equal(after_exit(CORRAL_EXIT_STORAGE, true, SK_MOVED,
	    SK_NONE), SA_RETRY);
	/* Damaged pages, said or found: held, whatever the class. */
	assert_int_equal(after_exit(CORRAL_EXIT_STORAGE, true, SK_DAMAGED,
	    SK_NONE), SA_HOLD);
	assert_int_equal(after_exit(CORRAL_EXIT_STORAGE, true, SK_FULL,
	    SK_DAMAGED), SA_HOLD);
	assert_int_equal(after_exit(CORRAL_EXIT_CRASH, true, SK_NONE,
	    SK_DAMAGED), SA_HOLD);
	assert_int_equal(after_exit(CORRAL_EXIT_ERROR, true, SK_DAMAGED,
	    SK_NONE), SA_HOLD);
	/* Checkpoints lost with a deleted file: a crash must not restart
	 * it from nothing. */
	assert_int_equal(after_exit(CORRAL_EXIT_KILLED, true, SK_NONE,
	    SK_LOST), SA_HOLD);
	assert_int_equal(after_exit(CORRAL_EXIT_SUCCESS, true, SK_NONE,
	    SK_LOST), SA_HOLD);
	assert_int_equal(after_exit(CORRAL_EXIT_STORAGE, true, SK_MOVED,
	    SK_LOST), SA_HOLD);
	/* Not restarted anyway (stopped, exited, fatal): nothing to do. */
	assert_int_equal(after_exit(CORRAL_EXIT_STORAGE, false, SK_DAMAGED,
	    SK_LOST), SA_NONE);
	assert_int_equal(after_exit(CORRAL_EXIT_STOPPED, false, SK_NONE,
	    SK_LOST), SA_NONE);
	/* No storage trouble: the restart policy alone. */
	assert_int_equal(after_exit(CORRAL_EXIT_CRASH, true, SK_NONE,
	    SK_NONE), SA_NONE);
	assert_int_equal(after_exit(CORRAL_EXIT_TRANSIENT, true, SK_FULL,
	    SK_NONE), SA_NONE);
}

static void
test_storage_at_spawn(void **state)
{
	struct storage_in in;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.at_spawn = true;
	assert_int_equal(storage_decide(&in), SA_NONE);
	in.found = SK_DAMAGED;
	assert_int_equal(storage_decide(&in), SA_HOLD);
	in.found = SK_LOST;
	assert_int_equal(storage_decide(&in), SA_HOLD);
	/* The operator's start or reset goes on past it. */
	in.ack = true;
	assert_int_equal(storage_decide(&in), SA_NONE);
	in.found = SK_DAMAGED;
	assert_int_equal(storage_decide(&in), SA_NONE);
	/* What a worker says is for its exit, not the next spawn. */
	memset(&in, 0, sizeof(in));
	in.at_spawn = true;
	in.said = SK_DAMAGED;
	assert_int_equal(storage_decide(&in), SA_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold_then_rollback),
		cmocka_unit_test(test_resets),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_storage_neutral),
		cmocka_unit_test(test_storage_after_exit),
		cmocka_unit_test(test_storage_at_spawn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
