/*
 * test_order.c: the pure decisions of supervisor/order.c: whether a worker
 * may start given the instances it comes after (order_admit), the steps of
 * a rolling restart on a fake clock (roll_step: down ones first, never a
 * second instance down, a new run late or gone stops it, one the operator
 * stops is let go, a recycling roll takes only the runs of its start), and which
 * instances corralctl scale adds or removes (scale_plan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct dep_view
dep(const char *name, enum wstate st, bool up)
{
	struct dep_view d;

	memset(&d, 0, sizeof(d));
	d.name = name;
	d.state = st;
	d.up = up;
	return d;
}

static void
test_admit(void **state)
{
	struct dep_view v[3];
	char why[256];

	(void)state;
	/* Nothing to wait for. */
	assert_int_equal(order_admit(NULL, 0, why, sizeof(why)), ORDER_GO);
	assert_string_equal(why, "");
	v[0] = dep("db.0", W_RUNNING, true);
	v[1] = dep("db.1", W_RUNNING, true);
	assert_int_equal(order_admit(v, 2, why, sizeof(why)), ORDER_GO);
	/* One starting: wait, naming it. */
	v[1] = dep("db.1", W_STARTING, false);
	assert_int_equal(order_admit(v, 2, why, sizeof(why)), ORDER_WAIT);
	assert_string_equal(why, "waiting for db.1 (STARTING)");
	/* RUNNING without READY=1, for ready = notify. */
	v[1] = dep("db.1", W_RUNNING, false);
	v[1].notify = true;
	assert_int_equal(order_admit(v, 2, why, sizeof(why)), ORDER_WAIT);
	assert_string_equal(why, "waiting for db.1 (RUNNING, no READY=1 yet)");
	/* Backing off, or queued: on its way. */
	v[0] = dep("db.0", W_BACKOFF, false);
	v[1] = dep("db.1", W_STOPPED, false);
	v[1].on_way = true;
	assert_int_equal(order_admit(v, 2, why, sizeof(why)), ORDER_WAIT);
	assert_string_equal(why, "waiting for db.0 (BACKOFF) and others");
	/* Stopped by the operator: blocked, and named before the others. */
	v[2] = dep("cache.0", W_STOPPED, false);
	v[2].held = true;
	assert_int_equal(order_admit(v, 3, why, sizeof(why)), ORDER_BLOCKED);
	assert_string_equal(why, "waiting for cache.0 (STOPPED, stopped by the "
	    "operator: corralctl start cache starts it) and others");
	/* FATAL and EXITED do not come back by themselves. */
	v[0] = dep("db.0", W_FATAL, false);
	assert_int_equal(order_admit(v, 1, why, sizeof(why)), ORDER_BLOCKED);
	v[0] = dep("db.0", W_EXITED, false);
	assert_int_equal(order_admit(v, 1, why, sizeof(why)), ORDER_BLOCKED);
	/* ...unless restarted already (queued). */
	v[0].on_way = true;
	assert_int_equal(order_admit(v, 1, why, sizeof(why)), ORDER_WAIT);
	/* A short buffer is cut, not overrun. */
	v[0] = dep("db.0", W_STARTING, false);
	assert_int_equal(order_admit(v, 1, why, 8), ORDER_WAIT);
	assert_string_equal(why, "waiting");
}

static void
plan_init(struct roll_plan *p, struct roll_inst *in, size_t n)
{
	memset(p, 0, sizeof(*p));
	memset(in, 0, n * sizeof(*in));
	p->inst = in;
	p->n = n;
	p->cur = -1;
	p->timeout_ms = 1000;
}

static void
test_roll_in_order(void **state)
{
	struct roll_inst in[3];
	struct roll_plan p;
	uint64_t now = 5000;
	size_t pick = 99, i, k;

	(void)state;
	plan_init(&p, in, 3);
	for (i = 0; i < 3; i++)
		in[i].up = true;
	for (k = 0; k < 3; k++) {
		assert_int_equal(roll_step(&p, now, &pick), ROLL_RESTART);
		assert_int_equal(pick, k);
		assert_int_equal(p.cur, (ssize_t)k);
		assert_int_equal(p.deadline_ms, now + 1000);
		/* Its new run is not up yet: wait, however often asked. */
		in[k].up = false;
		now += 400;
		assert_int_equal(roll_step(&p, now, &pick), ROLL_WAIT);
		assert_int_equal(p.blocker, (ssize_t)k);
		assert_int_equal(roll_step(&p, now, &pick), ROLL_WAIT);
		/* Never a second one down meanwhile. */
		for (i = 0; i < 3; i++)
			assert_true(i == k || in[i].up);
		in[k].up = true;
		now += 100;
	}
	assert_int_equal(roll_step(&p, now, &pick), ROLL_DONE);
	assert_int_equal(p.just_done, 2);
	for (i = 0; i < 3; i++)
		assert_true(in[i].done);
}

static void
test_roll_down_first_and_skip(void **state)
{
	struct roll_inst in[4];
	struct roll_plan p;
	size_t pick = 99;

	(void)state;
	plan_init(&p, in, 4);
	in[0].up = in[2].up = true;
	in[1].held = true;  /* stopped by the operator */
	in[3].up = false;   /* down already (crash loop) */
	/* The one down goes first: it takes nothing down. */
	assert_int_equal(roll_step(&p, 0, &pick), ROLL_RESTART);
	assert_int_equal(pick, 3);
	in[3].up = true;
	assert_int_equal(roll_step(&p, 10, &pick), ROLL_RESTART);
	assert_int_equal(p.just_done, 3);
	assert_int_equal(pick, 0);
	in[0].up = true;
	assert_int_equal(roll_step(&p, 20, &pick), ROLL_RESTART);
	assert_int_equal(pick, 2);
	in[2].up = true;
	/* The skipped one is never taken. */
	assert_int_equal(roll_step(&p, 30, &pick), ROLL_DONE);
	assert_true(in[1].skip);
	assert_false(in[1].done);
}

static void
test_roll_cur_held(void **state)
{
	struct roll_inst in[3];
	struct roll_plan p;
	size_t pick = 99;

	(void)state;
	/* The operator stops the one being restarted: the roll goes on. */
	plan_init(&p, in, 3);
	in[0].up = in[1].up = in[2].up = true;
	assert_int_equal(roll_step(&p, 0, &pick), ROLL_RESTART);
	assert_int_equal(pick, 0);
	in[0].up = false;
	assert_int_equal(roll_step(&p, 10, &pick), ROLL_WAIT);
	in[0].held = true;
	assert_int_equal(roll_step(&p, 20, &pick), ROLL_RESTART);
	assert_int_equal(pick, 1);
	assert_int_equal(p.just_done, -1);
	assert_false(in[0].done);
	/* Its deadline is the new step's, not the one let go. */
	assert_int_equal(p.deadline_ms, 1020);
	in[1].up = true;
	assert_int_equal(roll_step(&p, 30, &pick), ROLL_RESTART);
	assert_int_equal(pick, 2);
	in[2].up = true;
	assert_int_equal(roll_step(&p, 40, &pick), ROLL_DONE);
	assert_false(in[0].done);
}

static void
test_roll_recycle(void **state)
{
	struct roll_inst in[4];
	struct roll_plan p;
	size_t pick = 99;

	(void)state;
	plan_init(&p, in, 4);
	p.recycle = true;
	in[0].up = in[1].up = in[3].up = true;
	in[0].same = in[1].same = in[3].same = true;
	in[2].up = in[2].same = false; /* not running at the firing */
	assert_int_equal(roll_step(&p, 0, &pick), ROLL_RESTART);
	/* A recycle starts nothing: the one down is not taken first. */
	assert_int_equal(pick, 0);
	assert_true(in[2].skip);
	in[0].same = false; /* its new run */
	in[0].up = true;
	/* in[2] came back meanwhile: a fresh run, left alone for good. */
	in[2].up = in[2].same = true;
	/* in[1] crashed and restarted by itself: fresh too. */
	in[1].same = false;
	assert_int_equal(roll_step(&p, 10, &pick), ROLL_RESTART);
	assert_int_equal(p.just_done, 0);
	assert_int_equal(pick, 3);
	assert_true(in[1].skip && in[2].skip);
	in[3].up = true;
	assert_int_equal(roll_step(&p, 20, &pick), ROLL_DONE);
	assert_false(in[1].done || in[2].done);
	assert_true(in[0].done && in[3].done);
	/* Without recycle, the one down goes first. */
	plan_init(&p, in, 2);
	in[0].up = true;
	assert_int_equal(roll_step(&p, 0, &pick), ROLL_RESTART);
	assert_int_equal(pick, 1);
	/* The one being recycled is not left alone for its new run. */
	plan_init(&p, in, 2);
	p.recycle = true;
	in[0].up = in[1].up = in[0].same = in[1].same = true;
	assert_int_equal(roll_step(&p, 0, &pick), ROLL_RESTART);
	in[0].up = in[0].same = false; /* STOPPING */
	assert_int_equal(roll_step(&p, 10, &pick), ROLL_WAIT);
	assert_false(in[0].skip);
	assert_int_equal(roll_step(&p, 1000, &pick), ROLL_FAIL);
	assert_int_equal(p.blocker, 0);
}

static void
test_roll_fail(void **state)
{
	struct roll_inst in[3];
	struct roll_plan p;
	size_t pick = 99;

	(void)state;
	/* The new run is late: fail at the deadline, not before. */
	plan_init(&p, in, 3);
	in[0].up = in[1].up = in[2].up = true;
	assert_int_equal(roll_step(&p, 100, &pick), ROLL_RESTART);
	in[0].up = false;
	assert_int_equal(roll_step(&p, 1099, &pick), ROLL_WAIT);
	assert_int_equal(roll_step(&p, 1100, &pick), ROLL_FAIL);
	assert_int_equal(p.blocker, 0);
	/* It will not come up by itself (FATAL, held): fail at once. */
	plan_init(&p, in, 3);
	in[0].up = in[1].up = in[2].up = true;
	assert_int_equal(roll_step(&p, 0, &pick), ROLL_RESTART);
	in[0].up = false;
	p.cur_gone = true;
	assert_int_equal(roll_step(&p, 1, &pick), ROLL_FAIL);
	/* One done goes down again: no other is taken; fail if it stays. */
	plan_init(&p, in, 3);
	in[0].up = in[1].up = in[2].up = true;
	assert_int_equal(roll_step(&p, 0, &pick), ROLL_RESTART);
	assert_int_equal(roll_step(&p, 10, &pick), ROLL_RESTART);
	assert_int_equal(pick, 1);
	in[0].up = false; /* crashed after it came up */
	assert_int_equal(roll_step(&p, 20, &pick), ROLL_WAIT);
	assert_int_equal(p.just_done, 1);
	assert_int_equal(p.blocker, 0);
	assert_int_equal(roll_step(&p, 500, &pick), ROLL_WAIT);
	in[0].up = true;
	assert_int_equal(roll_step(&p, 600, &pick), ROLL_RESTART);
	assert_int_equal(pick, 2);
	/* A fresh wait gets a fresh deadline. */
	plan_init(&p, in, 2);
	in[0].up = in[1].up = true;
	in[0].done = true;
	in[0].up = false;
	assert_int_equal(roll_step(&p, 0, &pick), ROLL_WAIT);
	assert_int_equal(roll_step(&p, 999, &pick), ROLL_WAIT);
	assert_int_equal(roll_step(&p, 1000, &pick), ROLL_FAIL);
	assert_int_equal(p.blocker, 0);
}

static void
test_scale_plan(void **state)
{
	struct scale_change c;

	(void)state;
	scale_plan(2, 5, &c);
	assert_int_equal(c.first_new, 2);
	assert_int_equal(c.nnew, 3);
	assert_int_equal(c.ngone, 0);
	scale_plan(5, 1, &c);
	assert_int_equal(c.nnew, 0);
	assert_int_equal(c.first_gone, 1);
	assert_int_equal(c.ngone, 4);
	scale_plan(3, 3, &c);
	assert_int_equal(c.nnew + c.ngone, 0);
	scale_plan(1, SCALE_MAX, &c);
	assert_int_equal(c.first_new, 1);
	assert_int_equal(c.nnew, SCALE_MAX - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_roll_in_order),
		cmocka_unit_test(test_roll_down_first_and_skip),
		cmocka_unit_test(test_roll_cur_held),
		cmocka_unit_test(test_roll_recycle),
		cmocka_unit_test(test_roll_fail),
		cmocka_unit_test(test_scale_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
