/*
 * test_log.c: the rate limit of corrald's repeating log lines
 * (supervisor/log.c), on a fake clock: a line's shape (numbers masked),
 * the burst, the refill, the summary when the window ends and only then,
 * a different line never hidden by another's flood, the first lines of a
 * new problem always written, a full set of slots, and the final flush.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

static struct log_rl rl; /* large: not on the stack */

struct summary {
	int level;
	char shape[LOG_SHAPE_MAX];
	uint64_t n, ms;
};
static struct summary got[16];
static size_t ngot;

static void
collect(void *arg, int level, const char *shape, uint64_t n, uint64_t ms)
{
	(void)arg;
	assert_true(ngot < 16);
	got[ngot].level = level;
	snprintf(got[ngot].shape, sizeof(got[ngot].shape), "%s", shape);
	got[ngot].n = n;
	got[ngot].ms = ms;
	ngot++;
}

/* Admit a line of text at level warn, at now. */
static bool
line(const char *text, uint64_t now)
{
	char shape[LOG_SHAPE_MAX];
	uint64_t key = log_shape(text, LOG_LVL_WARN, shape, sizeof(shape));

	return log_rl_admit(&rl, key, LOG_LVL_WARN, shape, now);
}

static int
setup(void **state)
{
	(void)state;
	log_rl_init(&rl, 5, 2, 10000);
	ngot = 0;
	return 0;
}

static void
test_shape(void **state)
{
	char a[LOG_SHAPE_MAX], b[LOG_SHAPE_MAX], c[8];
	uint64_t ka, kb;

	(void)state;
	ka = log_shape("agent w.12 (pid 4121): cannot open log", 1, a,
	    sizeof(a));
	kb = log_shape("agent w.3 (pid 977): cannot open log", 1, b,
	    sizeof(b));
	assert_string_equal(a, "agent w.# (pid #): cannot open log");
	assert_string_equal(a, b);
	assert_true(ka == kb);
	/* Another agent, another reason, another level: another shape. */
	assert_true(log_shape("agent x.3 (pid 977): cannot open log", 1, b,
	    sizeof(b)) != ka);
	assert_true(log_shape("agent w.3 (pid 977): cannot open lag", 1, b,
	    sizeof(b)) != ka);
	assert_true(log_shape("agent w.3 (pid 977): cannot open log", 2, b,
	    sizeof(b)) != ka);
	/* The key is the whole text's, though the shape kept is cut. */
	ka = log_shape("0123456789 abcdefgh 1", 1, c, sizeof(c));
	kb = log_shape("0123456789 abcdefgh 2 x", 1, c, sizeof(c));
	assert_string_equal(c, "# abcde");
	assert_true(ka != kb);
	assert_true(log_shape("", 0, c, sizeof(c)) != 0);
}

static void
test_burst_then_summary(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_true(line("agent w.1: disk slow", 0));
	/* The sixth line of the same shape within the burst is counted. */
	for (i = 0; i < 15; i++)
		assert_false(line("agent w.2: disk slow", 0));
	assert_int_equal(rl.total, 15);
	/* Not before the window ends... */
	assert_int_equal(log_rl_due(&rl, 9999, false, collect, NULL), 0);
	assert_int_equal(ngot, 0);
	/* ...then once, with the count and the time since the first. */
	assert_int_equal(log_rl_due(&rl, 10000, false, collect, NULL), 1);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].n, 15);
	assert_int_equal(got[0].ms, 10000);
	assert_int_equal(got[0].level, LOG_LVL_WARN);
	assert_string_equal(got[0].shape, "agent w.#: disk slow");
	assert_int_equal(log_rl_due(&rl, 20000, false, collect, NULL), 0);
	assert_int_equal(ngot, 1);
}

static void
test_refill(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_true(line("x 1", 0));
	assert_false(line("x 1", 0));
	/* Two lines a second: one every 500 ms. */
	assert_false(line("x 1", 499));
	assert_true(line("x 1", 500));
	assert_false(line("x 1", 500));
	assert_true(line("x 1", 1000));
	/* An hour idle refills the burst, no more. */
	for (i = 0; i < 5; i++)
		assert_true(line("x 1", 3600000));
	assert_false(line("x 1", 3600000));
}

/* A flood of one shape neither hides another nor its first lines. */
static void
test_other_lines_pass(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		line("agent flood.7 (pid 12): reported error E1: slow", 0);
	assert_int_equal(rl.total, 995);
	for (i = 0; i < 5; i++)
		assert_true(line("agent other.0: STARTING -> BACKOFF", 1));
	assert_true(line("agent flood.1: RUNNING -> BACKOFF", 1));
	assert_false(line("agent flood.2 (pid 13): reported error E2: slow",
	    2));
}

static void
test_windows_per_shape(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 7; i++)
		line("a", 0);
	for (i = 0; i < 9; i++)
		line("b", 4000);
	assert_int_equal(rl.next_due_ms, 10000);
	assert_int_equal(log_rl_due(&rl, 10000, false, collect, NULL), 1);
	assert_string_equal(got[0].shape, "a");
	assert_int_equal(got[0].n, 2);
	assert_int_equal(rl.next_due_ms, 14000);
	assert_int_equal(log_rl_due(&rl, 14000, false, collect, NULL), 1);
	assert_string_equal(got[1].shape, "b");
	assert_int_equal(got[1].n, 4);
	assert_int_equal(rl.next_due_ms, UINT64_MAX);
	/* Still flooding after its summary: a new window starts. */
	line("a", 14001); /* a has refilled 5 (capped) by now */
	for (i = 0; i < 10; i++)
		line("a", 14001);
	assert_int_equal(rl.next_due_ms, 24001);
}

static void
test_flush_all(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		line("c", 100);
	assert_int_equal(log_rl_due(&rl, 200, true, collect, NULL), 1);
	assert_int_equal(got[0].n, 3);
	assert_int_equal(got[0].ms, 100);
	assert_int_equal(log_rl_due(&rl, 300, true, collect, NULL), 0);
}

/* Keys of one set: k * LOG_RL_SETS + 1. */
static bool
key_line(uint64_t k, uint64_t now)
{
	return log_rl_admit(&rl, k * LOG_RL_SETS + 1, LOG_LVL_INFO, "k", now);
}

static void
test_full_set(void **state)
{
	uint64_t k;
	int i;

	(void)state;
	/* Every way of one set suppressing: a ninth key is not limited. */
	for (k = 1; k <= LOG_RL_WAYS; k++)
		for (i = 0; i < 6; i++)
			key_line(k, 0);
	assert_int_equal(rl.total, LOG_RL_WAYS);
	for (i = 0; i < 20; i++)
		assert_true(key_line(LOG_RL_WAYS + 1, 0));
	/* Once summed up, ways are taken again, the least lately used. */
	assert_int_equal(log_rl_due(&rl, 10000, false, collect, NULL), 8);
	for (i = 0; i < 5; i++)
		assert_true(key_line(LOG_RL_WAYS + 2, 10000));
	assert_false(key_line(LOG_RL_WAYS + 2, 10000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_shape, setup),
		cmocka_unit_test_setup(test_burst_then_summary, setup),
		cmocka_unit_test_setup(test_refill, setup),
		cmocka_unit_test_setup(test_other_lines_pass, setup),
		cmocka_unit_test_setup(test_windows_per_shape, setup),
		cmocka_unit_test_setup(test_flush_all, setup),
		cmocka_unit_test_setup(test_full_set, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
