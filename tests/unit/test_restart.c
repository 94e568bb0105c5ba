/*
 * test_restart.c: the restart policy (supervisor/restart.c): what follows
 * each class of exit under each restart mode, failure counting, max_retries,
 * start and runtime failures, and the throttle of short clean runs.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

static const enum restart_mode modes[] = { RESTART_ALWAYS,
	RESTART_ON_FAILURE, RESTART_NEVER };

/* The classes that count as failures and are not fatal. */
static const enum corral_exit_class retryable[] = { CORRAL_EXIT_TRANSIENT,
	CORRAL_EXIT_ERROR, CORRAL_EXIT_CRASH, CORRAL_EXIT_KILLED,
	CORRAL_EXIT_HANG };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A run of 60 s, healthy after 10 s, that reached RUNNING. */
static struct restart_in
input(enum restart_mode mode, enum corral_exit_class cls, unsigned failures)
{
	struct restart_in in;

	memset(&in, 0, sizeof(in));
	in.mode = mode;
	in.max_retries = 0;
	in.healthy_after_ms = 10000;
	in.backoff_initial_ms = 2000;
	in.cls = cls;
	in.was_healthy = true;
	in.run_ms = 60000;
	in.failures = failures;
	return in;
}

static struct restart_plan
decide(const struct restart_in *in)
{
	struct restart_plan out;

	/* Garbage in every field: restart_decide must set them all. */
	memset(&out, 0xa5, sizeof(out));
	restart_decide(in, &out);
	assert_non_null(out.why);
	return out;
}

static void
test_success(void **state)
{
	struct restart_in in;
	struct restart_plan out;
	size_t m;

	(void)state;
	for (m = 0; m < NELEM(modes); m++) {
		in = input(modes[m], CORRAL_EXIT_SUCCESS, 3);
		out = decide(&in);
		assert_int_equal(out.next, modes[m] == RESTART_ALWAYS ?
		    W_BACKOFF : W_EXITED);
		assert_false(out.failure);
		assert_false(out.start_failure);
		assert_true(out.chain_closed);
		assert_int_equal(out.failures, 0);
		assert_false(out.throttle); /* a long run */
		assert_int_equal(out.backoff_k, 0);
	}
}

static void
test_failures_backoff_or_exit(void **state)
{
	struct restart_in in;
	struct restart_plan out;
	size_t m, c;

	(void)state;
	for (m = 0; m < NELEM(modes); m++) {
		for (c = 0; c < NELEM(retryable); c++) {
			in = input(modes[m], retryable[c], 2);
			out = decide(&in);
			assert_int_equal(out.next, modes[m] == RESTART_NEVER ?
			    W_EXITED : W_BACKOFF);
			assert_true(out.failure);
			assert_false(out.start_failure);
			assert_false(out.chain_closed);
			assert_int_equal(out.failures, 3);
			assert_false(out.throttle);
			assert_int_equal(out.backoff_k,
			    modes[m] == RESTART_NEVER ? 0 : 2);
		}
	}
}

static void
test_fatal(void **state)
{
	struct restart_in in;
	struct restart_plan out;
	size_t m;

	(void)state;
	/* Whatever the mode: FATAL, which needs an operator. */
	for (m = 0; m < NELEM(modes); m++) {
		in = input(modes[m], CORRAL_EXIT_FATAL, 0);
		out = decide(&in);
		assert_int_equal(out.next, W_FATAL);
		assert_true(out.failure);
		assert_false(out.chain_closed);
		assert_int_equal(out.failures, 1);
		assert_int_equal(out.backoff_k, 0);
		assert_string_equal(out.why, "fatal exit");
	}
}

static void
test_stopped(void **state)
{
	struct restart_in in;
	struct restart_plan out;
	size_t m;

	(void)state;
	/* An operator's stop: not a failure, not a success; count kept. */
	for (m = 0; m < NELEM(modes); m++) {
		in = input(modes[m], CORRAL_EXIT_STOPPED, 4);
		in.was_healthy = false;
		in.run_ms = 5;
		in.max_retries = 1;
		out = decide(&in);
		assert_int_equal(out.next, W_STOPPED);
		assert_false(out.failure);
		assert_false(out.start_failure);
		assert_false(out.chain_closed);
		assert_false(out.throttle);
		assert_int_equal(out.failures, 4);
		assert_int_equal(out.backoff_k, 0);
	}
}

/*
 * The operator spoke while corrald stopped the run for its own reason
 * (watchdog, max_memory, max_age): the exit keeps its class, a failure
 * still, but a restart starts it again at once with its count reset, and
 * a stop leaves it STOPPED, whatever the class or the mode would do.
 */
static void
test_operator_during_stop(void **state)
{
	static const enum corral_exit_class classes[] = { CORRAL_EXIT_HANG,
		CORRAL_EXIT_MEMORY, CORRAL_EXIT_ERROR, CORRAL_EXIT_FATAL,
		CORRAL_EXIT_SUCCESS, CORRAL_EXIT_STORAGE };
	struct restart_in in;
	struct restart_plan out, plain;
	size_t m, c;

	(void)state;
	for (m = 0; m < NELEM(modes); m++)
		for (c = 0; c < NELEM(classes); c++) {
			in = input(modes[m], classes[c], 4);
			in.max_retries = 2;
			plain = decide(&in);
			in.restart_asked = true;
			out = decide(&in);
			assert_int_equal(out.next, W_STOPPED);
			/* The exit is what it was: a failure is counted. */
			assert_int_equal(out.failure, plain.failure);
			assert_int_equal(out.start_failure,
			    plain.start_failure);
			assert_int_equal(out.failures, 0);
			assert_true(out.chain_closed);
			assert_false(out.throttle);
			assert_int_equal(out.backoff_k, 0);
			assert_non_null(strstr(out.why, "operator's restart"));

			in.restart_asked = false;
			in.held = true;
			out = decide(&in);
			assert_int_equal(out.next, W_STOPPED);
			assert_int_equal(out.failure, plain.failure);
			assert_int_equal(out.failures, plain.failures);
			assert_int_equal(out.chain_closed, plain.chain_closed);
			assert_false(out.throttle);
			assert_int_equal(out.backoff_k, 0);
			assert_non_null(strstr(out.why, "stopped by the "
			    "operator"));
		}
	/* Before RUNNING, a start failure all the same. */
	in = input(RESTART_ON_FAILURE, CORRAL_EXIT_HANG, 0);
	in.was_healthy = false;
	in.restart_asked = true;
	out = decide(&in);
	assert_true(out.start_failure);
	/* The operator's own stop's exit: as before, the count kept. */
	in = input(RESTART_ALWAYS, CORRAL_EXIT_STOPPED, 3);
	in.restart_asked = true;
	out = decide(&in);
	assert_int_equal(out.next, W_STOPPED);
	assert_int_equal(out.failures, 3);
	assert_string_equal(out.why, "stopped");
}

/* Feed each plan's count back in, as corrald does between runs. */
static void
test_max_retries(void **state)
{
	struct restart_in in;
	struct restart_plan out;
	unsigned failures = 0, i;

	(void)state;
	for (i = 1; i <= 3; i++) {
		in = input(RESTART_ON_FAILURE, CORRAL_EXIT_CRASH, failures);
		in.max_retries = 3;
		out = decide(&in);
		assert_int_equal(out.next, W_BACKOFF);
		assert_int_equal(out.failures, i);
		assert_int_equal(out.backoff_k, i - 1);
		failures = out.failures;
	}
	/* The 4th consecutive failure: the 3 retries are spent. */
	in = input(RESTART_ON_FAILURE, CORRAL_EXIT_CRASH, failures);
	in.max_retries = 3;
	out = decide(&in);
	assert_int_equal(out.next, W_FATAL);
	assert_true(out.failure);
	assert_int_equal(out.failures, 4);
	assert_string_equal(out.why, "max_retries reached");

	/* max_retries = 1: one retry, then FATAL; same under always. */
	in = input(RESTART_ALWAYS, CORRAL_EXIT_ERROR, 0);
	in.max_retries = 1;
	assert_int_equal(decide(&in).next, W_BACKOFF);
	in.failures = 1;
	assert_int_equal(decide(&in).next, W_FATAL);

	/* 0: no limit of its own. */
	in = input(RESTART_ALWAYS, CORRAL_EXIT_ERROR, 100000);
	out = decide(&in);
	assert_int_equal(out.next, W_BACKOFF);
	assert_int_equal(out.failures, 100001);
	assert_int_equal(out.backoff_k, 100000);

	/* restart = never exits; it does not turn FATAL on the count. */
	in = input(RESTART_NEVER, CORRAL_EXIT_ERROR, 5);
	in.max_retries = 3;
	assert_int_equal(decide(&in).next, W_EXITED);

	/* A success in between closes the chain: the count starts over. */
	in = input(RESTART_ON_FAILURE, CORRAL_EXIT_SUCCESS, 3);
	in.max_retries = 3;
	out = decide(&in);
	assert_int_equal(out.failures, 0);
	in = input(RESTART_ALWAYS, CORRAL_EXIT_CRASH, out.failures);
	in.max_retries = 3;
	out = decide(&in);
	assert_int_equal(out.next, W_BACKOFF);
	assert_int_equal(out.failures, 1);
}

static void
test_start_vs_runtime_failure(void **state)
{
	struct restart_in in;
	struct restart_plan out;
	size_t c;

	(void)state;
	for (c = 0; c < NELEM(retryable); c++) {
		in = input(RESTART_ALWAYS, retryable[c], 0);
		in.was_healthy = false;
		in.run_ms = 300;
		out = decide(&in);
		assert_true(out.failure);
		assert_true(out.start_failure);
		assert_int_equal(out.next, W_BACKOFF);
		assert_int_equal(out.failures, 1);

		/* A runtime failure: it reached RUNNING before dying. */
		in.was_healthy = true;
		in.run_ms = 3600000;
		out = decide(&in);
		assert_true(out.failure);
		assert_false(out.start_failure);
		assert_int_equal(out.failures, 1);
	}
	/* What decides is RUNNING, not the run time. */
	in = input(RESTART_ALWAYS, CORRAL_EXIT_CRASH, 0);
	in.was_healthy = false;
	in.run_ms = 3600000;
	assert_true(decide(&in).start_failure);
	in.was_healthy = true;
	in.run_ms = 1;
	assert_false(decide(&in).start_failure);

	/* A fatal exit before RUNNING is a start failure too. */
	in = input(RESTART_ON_FAILURE, CORRAL_EXIT_FATAL, 0);
	in.was_healthy = false;
	out = decide(&in);
	assert_true(out.start_failure);
	assert_int_equal(out.next, W_FATAL);

	/* A clean exit before RUNNING is no failure of any kind. */
	in = input(RESTART_ON_FAILURE, CORRAL_EXIT_SUCCESS, 0);
	in.was_healthy = false;
	in.run_ms = 10;
	out = decide(&in);
	assert_false(out.failure);
	assert_false(out.start_failure);
}

static void
test_chain_closed(void **state)
{
	struct restart_in in;
	struct restart_plan out;
	size_t m;

	(void)state;
	for (m = 0; m < NELEM(modes); m++) {
		in = input(modes[m], CORRAL_EXIT_SUCCESS, 7);
		in.was_healthy = false;
		in.run_ms = 50;
		out = decide(&in);
		assert_true(out.chain_closed);
		assert_int_equal(out.failures, 0);

		in = input(modes[m], CORRAL_EXIT_TRANSIENT, 7);
		assert_false(decide(&in).chain_closed);
		in = input(modes[m], CORRAL_EXIT_FATAL, 7);
		assert_false(decide(&in).chain_closed);
		in = input(modes[m], CORRAL_EXIT_STOPPED, 7);
		assert_false(decide(&in).chain_closed);
	}
}

static void
test_throttle(void **state)
{
	struct restart_in in;
	struct restart_plan out;

	(void)state;
	/* restart = always, clean exit before healthy_after: one step. */
	in = input(RESTART_ALWAYS, CORRAL_EXIT_SUCCESS, 0);
	in.run_ms = 200;
	out = decide(&in);
	assert_int_equal(out.next, W_BACKOFF);
	assert_true(out.throttle);
	assert_false(out.failure);
	assert_int_equal(out.backoff_k, 0);
	assert_int_equal(out.failures, 0);

	/* Even after a chain of failures: the first step, not the k-th. */
	in.failures = 6;
	out = decide(&in);
	assert_true(out.throttle);
	assert_int_equal(out.backoff_k, 0);

	in.run_ms = 9999;
	assert_true(decide(&in).throttle);
	/* healthy_after itself is long enough. */
	in.run_ms = 10000;
	out = decide(&in);
	assert_int_equal(out.next, W_BACKOFF);
	assert_false(out.throttle);
	in.run_ms = 10001;
	assert_false(decide(&in).throttle);

	/* healthy_after = 0: a run shorter than backoff_initial is still
	 * throttled, so that a clean exit cannot respawn in a tight loop. */
	in.healthy_after_ms = 0;
	in.run_ms = 0;
	assert_true(decide(&in).throttle);
	in.run_ms = 1999;
	assert_true(decide(&in).throttle);
	in.run_ms = 2000;
	assert_false(decide(&in).throttle);

	/* Other modes do not restart a clean exit, so nothing to throttle. */
	in = input(RESTART_ON_FAILURE, CORRAL_EXIT_SUCCESS, 0);
	in.run_ms = 200;
	out = decide(&in);
	assert_int_equal(out.next, W_EXITED);
	assert_false(out.throttle);
	in.mode = RESTART_NEVER;
	out = decide(&in);
	assert_int_equal(out.next, W_EXITED);
	assert_false(out.throttle);

	/* A failure is never a throttle: it has its own backoff step. */
	in = input(RESTART_ALWAYS, CORRAL_EXIT_ERROR, 0);
	in.run_ms = 200;
	out = decide(&in);
	assert_false(out.throttle);
	assert_true(out.failure);
}

static void
test_backoff_k(void **state)
{
	static const unsigned before[] = { 0, 1, 2, 3, 4, 10, 1000 };
	struct restart_in in;
	struct restart_plan out;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(before); i++) {
		in = input(RESTART_ON_FAILURE, CORRAL_EXIT_TRANSIENT,
		    before[i]);
		out = decide(&in);
		assert_int_equal(out.failures, before[i] + 1);
		assert_int_equal(out.backoff_k, out.failures - 1);
		assert_int_equal(out.backoff_k, before[i]);
	}
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(wstate_name(W_STOPPED), "STOPPED");
	assert_string_equal(wstate_name(W_STARTING), "STARTING");
	assert_string_equal(wstate_name(W_RUNNING), "RUNNING");
	assert_string_equal(wstate_name(W_BACKOFF), "BACKOFF");
	assert_string_equal(wstate_name(W_STOPPING), "STOPPING");
	assert_string_equal(wstate_name(W_EXITED), "EXITED");
	assert_string_equal(wstate_name(W_FATAL), "FATAL");
	assert_string_equal(wstate_name(W_HELD), "HELD");
	assert_string_equal(wstate_name(W_DEGRADED), "DEGRADED");
	assert_string_equal(wstate_name(W_LIMITED), "LIMITED");
	assert_string_equal(wstate_name((enum wstate)99), "?");
}

/*
 * A storage exit: restarted (when is storage_decide's), in the chain and
 * counted, but it spends no max_retries.
 */
static void
test_storage(void **state)
{
	struct restart_in in;
	struct restart_plan out;
	size_t m;

	(void)state;
	for (m = 0; m < NELEM(modes); m++) {
		in = input(modes[m], CORRAL_EXIT_STORAGE, 4);
		in.max_retries = 2;
		out = decide(&in);
		assert_true(out.failure);
		assert_false(out.chain_closed);
		assert_int_equal(out.failures, 5);
		assert_int_equal(out.next, modes[m] == RESTART_NEVER ?
		    W_EXITED : W_BACKOFF);
		assert_non_null(strstr(out.why, "storage"));
	}
	/* Before RUNNING: a start failure, as any other. */
	in = input(RESTART_ALWAYS, CORRAL_EXIT_STORAGE, 0);
	in.was_healthy = false;
	out = decide(&in);
	assert_true(out.start_failure);
	assert_int_equal(out.failures, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_failures_backoff_or_exit),
		cmocka_unit_test(test_fatal),
		cmocka_unit_test(test_stopped),
		cmocka_unit_test(test_operator_during_stop),
		cmocka_unit_test(test_max_retries),
		cmocka_unit_test(test_start_vs_runtime_failure),
		cmocka_unit_test(test_chain_closed),
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_backoff_k),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_storage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
