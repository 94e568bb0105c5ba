/*
 * test_usage.c: what a run costs and what it may use (supervisor/usage.c,
 * supervisor/rlimit.c): /proc/PID/stat read from sample text (a comm with
 * spaces and parentheses, a zombie, malformed lines), CPU percent and the
 * counter that never goes back, the max_memory decision, an exit over
 * max_memory restarted as a failure, and the limit_* values parsed,
 * refused and printed back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

/* A line as Linux 6 writes it (52 fields). */
static const char stat_line[] =
    "4121 (python3) S 4100 4121 4121 0 -1 4194560 2231 0 0 0 "
    "150 25 3 2 20 0 1 0 987654 123457536 2048 18446744073709551615 "
    "1 1 0 0 0 0 0 16781312 2 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

static void
test_stat_parse(void **state)
{
	struct proc_sample ps;

	(void)state;
	assert_int_equal(proc_stat_parse(stat_line, strlen(stat_line), &ps),
	    0);
	assert_int_equal(ps.pid, 4121);
	assert_int_equal(ps.pgrp, 4121);
	assert_false(ps.zombie);
	assert_int_equal(ps.ticks, 150 + 25 + 3 + 2);
	assert_int_equal(ps.start_ticks, 987654);
	assert_int_equal(ps.rss_pages, 2048);
}

/* comm is the program's to choose: spaces and ')' in it change nothing. */
static void
test_stat_comm(void **state)
{
	static const char odd[] =
	    "77 (a b) c)) Z 1 70 70 0 -1 0 0 0 0 0 9 1 0 0 20 0 1 0 500 0 "
	    "0 0\n";
	struct proc_sample ps;

	(void)state;
	assert_int_equal(proc_stat_parse(odd, strlen(odd), &ps), 0);
	assert_int_equal(ps.pid, 77);
	assert_int_equal(ps.pgrp, 70);
	assert_true(ps.zombie);
	assert_int_equal(ps.ticks, 10);
	assert_int_equal(ps.start_ticks, 500);
	assert_int_equal(ps.rss_pages, 0);
}

static void
test_stat_malformed(void **state)
{
	static const char *bad[] = {
		"",
		"4121",
		"4121 (python3",
		"4121 (python3) S 4100 4121",
		"abc (x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 9",
		"0 (x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 9",
		"12 (x)S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 9",
		"12 (x) S 1 1 1 0 -1 0 0 0 0 0 x 1 0 0 20 0 1 0 5 0 9",
	};
	struct proc_sample ps;
	char big[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proc_stat_parse(bad[i], strlen(bad[i]), &ps),
		    -1);
	/* Longer than any stat line: refused, not cut. */
	memset(big, 'x', sizeof(big));
	assert_int_equal(proc_stat_parse(big, sizeof(big), &ps), -1);
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(proc_stat_parse(stat_line, 20, &ps), -1);
}

static void
test_cpu_percent(void **state)
{
	struct run_usage u;

	(void)state;
	memset(&u, 0, sizeof(u));
	/* The first sample: over the run's life, from 0 at its start. */
	usage_update(&u, 1 << 20, 500, 11000, 10000);
	assert_int_equal(u.at_ms, 11000);
	assert_int_equal(u.rss, 1 << 20);
	assert_int_equal(u.cpu_ms, 500);
	assert_true(u.pct_known);
	assert_true(u.pct > 49.9 && u.pct < 50.1);
	/* Then over the interval since the last sample: 2 CPUs busy. */
	usage_update(&u, 2 << 20, 4500, 13000, 10000);
	assert_true(u.pct > 199.9 && u.pct < 200.1);
	assert_int_equal(u.rss, 2 << 20);
	/*
	 * A process that left the group took its CPU with it: the counter
	 * stays where it was, and the interval shows none.
	 */
	usage_update(&u, 1 << 20, 3000, 14000, 10000);
	assert_int_equal(u.cpu_ms, 4500);
	assert_true(u.pct < 0.001);
	/* No time passed: the last percent stands. */
	u.pct = 12.0;
	usage_update(&u, 1 << 20, 4600, 14000, 10000);
	assert_true(u.pct > 11.9 && u.pct < 12.1);
	assert_int_equal(u.cpu_ms, 4600);
	/* A sample at the run's very start has no interval. */
	memset(&u, 0, sizeof(u));
	usage_update(&u, 4096, 0, 10000, 10000);
	assert_false(u.pct_known);
	assert_int_equal(u.at_ms, 10000);
}

static void
test_over_memory(void **state)
{
	struct run_usage u;

	(void)state;
	memset(&u, 0, sizeof(u));
	u.rss = 100 << 20;
	/* Never sampled: nothing is known. */
	assert_false(usage_over_memory(50 << 20, &u, W_RUNNING, false));
	u.at_ms = 1;
	assert_true(usage_over_memory(50 << 20, &u, W_RUNNING, false));
	assert_true(usage_over_memory(50 << 20, &u, W_STARTING, false));
	/* At the limit is not above it. */
	assert_false(usage_over_memory(100 << 20, &u, W_RUNNING, false));
	assert_true(usage_over_memory((100 << 20) - 1, &u, W_RUNNING, false));
	/* 0: no limit. */
	assert_false(usage_over_memory(0, &u, W_RUNNING, false));
	/* Stopping already, for this or any reason: once is enough. */
	assert_false(usage_over_memory(50 << 20, &u, W_STOPPING, false));
	assert_false(usage_over_memory(50 << 20, &u, W_RUNNING, true));
	assert_false(usage_over_memory(50 << 20, &u, W_BACKOFF, false));
}

/* A run stopped over max_memory is a failure: backoff, max_retries. */
static void
test_memory_restart(void **state)
{
	struct restart_in in;
	struct restart_plan out;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.mode = RESTART_ON_FAILURE;
	in.healthy_after_ms = 1000;
	in.backoff_initial_ms = 100;
	in.cls = CORRAL_EXIT_MEMORY;
	in.was_healthy = true;
	in.run_ms = 60000;
	restart_decide(&in, &out);
	assert_int_equal(out.next, W_BACKOFF);
	assert_true(out.failure);
	assert_false(out.start_failure);
	assert_int_equal(out.failures, 1);
	in.max_retries = 2;
	in.failures = 2;
	restart_decide(&in, &out);
	assert_int_equal(out.next, W_FATAL);
	in.mode = RESTART_NEVER;
	in.failures = 0;
	restart_decide(&in, &out);
	assert_int_equal(out.next, W_EXITED);
}

static void
check_limit(enum rlim_key k, const char *in, uint64_t soft, uint64_t hard,
    const char *out)
{
	struct agent_rlimit r;
	const char *why = NULL;
	char buf[64];

	if (rlim_parse(k, in, &r, &why) != 0)
		fail_msg("%s = %s: %s", rlim_key_name(k), in, why);
	assert_true(r.set);
	assert_int_equal(r.soft, soft);
	assert_int_equal(r.hard, hard);
	rlim_format(k, &r, buf, sizeof(buf));
	assert_string_equal(buf, out);
}

static void
test_limit_values(void **state)
{
	(void)state;
	check_limit(RL_NOFILE, "4096", 4096, 4096, "4096");
	check_limit(RL_NOFILE, "1024:4096", 1024, 4096, "1024:4096");
	check_limit(RL_NOFILE, "1024:infinity", 1024, RLIM_VALUE_INFINITY,
	    "1024:infinity");
	check_limit(RL_NPROC, "infinity", RLIM_VALUE_INFINITY,
	    RLIM_VALUE_INFINITY, "infinity");
	check_limit(RL_CORE, "0", 0, 0, "0");
	check_limit(RL_CORE, "1M", 1 << 20, 1 << 20, "1M");
	check_limit(RL_AS, "512M:2G", 512ULL << 20, 2ULL << 30, "512M:2G");
	check_limit(RL_STACK, "8M:infinity", 8 << 20, RLIM_VALUE_INFINITY,
	    "8M:infinity");
	check_limit(RL_FSIZE, "1500", 1500, 1500, "1500");
	check_limit(RL_MEMLOCK, "64K", 64 << 10, 64 << 10, "64K");
	/* CPU: seconds, bare or as a duration of whole seconds. */
	check_limit(RL_CPU, "30", 30, 30, "30");
	check_limit(RL_CPU, "2m", 120, 120, "120");
	check_limit(RL_CPU, "1m:1h", 60, 3600, "60:3600");
	check_limit(RL_CPU, "infinity", RLIM_VALUE_INFINITY,
	    RLIM_VALUE_INFINITY, "infinity");
}

static void
refused(enum rlim_key k, const char *in, const char *why_has)
{
	struct agent_rlimit r = { false, 7, 7 };
	const char *why = NULL;

	assert_int_equal(rlim_parse(k, in, &r, &why), -1);
	assert_non_null(why);
	if (strstr(why, why_has) == NULL)
		fail_msg("%s = %s: '%s' lacks '%s'", rlim_key_name(k), in, why,
		    why_has);
	/* Nothing is changed by a refused value. */
	assert_false(r.set);
	assert_int_equal(r.soft, 7);
}

static void
test_limit_refused(void **state)
{
	(void)state;
	refused(RL_NOFILE, "", "whole number");
	refused(RL_NOFILE, "-1", "whole number");
	refused(RL_NOFILE, "1K", "whole number");
	refused(RL_NOFILE, "lots", "whole number");
	refused(RL_NOFILE, "4096:1024", "above the hard");
	refused(RL_NOFILE, "infinity:1024", "above the hard");
	refused(RL_NOFILE, "1024:", "whole number");
	refused(RL_NOFILE, ":1024", "whole number");
	refused(RL_NOFILE, "1:2:3", "whole number");
	refused(RL_CORE, "1T", "size unit");
	refused(RL_CORE, "big", "not a size");
	refused(RL_AS, "2G:1G", "above the hard");
	refused(RL_CPU, "1.5s", "whole seconds");
	refused(RL_CPU, "250ms", "whole seconds");
	refused(RL_CPU, "soon", "duration");
	refused(RL_STACK, "Infinity", "not a size");
}

static void
test_limit_names(void **state)
{
	int k;

	(void)state;
	for (k = 0; k < RL_N; k++)
		assert_int_equal(rlim_key_of(rlim_key_name((enum rlim_key)k)),
		    k);
	assert_int_equal(rlim_key_of("limit_nofile"), RL_NOFILE);
	assert_int_equal(rlim_key_of("limit_memlock"), RL_MEMLOCK);
	assert_int_equal(rlim_key_of("exec"), -1);
	assert_int_equal(rlim_key_of("limit_rss"), -1);
}

static void
test_limit_above(void **state)
{
	struct agent_rlimit r = { true, 1024, 4096 };

	(void)state;
	assert_false(rlim_above(&r, 4096));
	assert_true(rlim_above(&r, 4095));
	assert_false(rlim_above(&r, RLIM_VALUE_INFINITY));
	r.hard = RLIM_VALUE_INFINITY;
	assert_true(rlim_above(&r, 1048576));
	assert_false(rlim_above(&r, RLIM_VALUE_INFINITY));
	/* A limit not set asks for nothing. */
	r.set = false;
	assert_false(rlim_above(&r, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_parse),
		cmocka_unit_test(test_stat_comm),
		cmocka_unit_test(test_stat_malformed),
		cmocka_unit_test(test_cpu_percent),
		cmocka_unit_test(test_over_memory),
		cmocka_unit_test(test_memory_restart),
		cmocka_unit_test(test_limit_values),
		cmocka_unit_test(test_limit_refused),
		cmocka_unit_test(test_limit_names),
		cmocka_unit_test(test_limit_above),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
