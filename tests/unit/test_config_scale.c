/*
 * test_config_scale.c: loading a fleet file takes time linear in its
 * sections (config.c).  A file of 16 times the agents must load in less
 * than 60 times the processor time: linear work gives 16 (caches, missed
 * more often in the tables of a big file, make it up to about 32 here),
 * quadratic work 256 (a quadratic load took over 100 times as long).
 * Processor time of this process, not wall time, and the best of a few
 * runs (the first pays for fresh memory), so that a busy machine does not
 * decide.  A good file (clusters, fallbacks, [defaults]), one with errors
 * in every agent (each message said once, in line order, with its
 * did-you-mean), and an env of 16 times the variables (each checked for a
 * duplicate, merged with [defaults]' by name).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "corrald.h"

#define SMALL 2500
#define TIMES 16
#define RATIO_MAX 60.0
enum { GOOD, ERRORS, ENV };
/* Each load is bounded: a quadratic one fails here instead of hanging. */
#define DEADLINE_S 300

/* A fleet of n agents; with errors, three mistakes in each.  Caller frees. */
static char *
fleet_text(unsigned n, bool errors, size_t *len)
{
	unsigned i, nc = n / 100 > 0 ? n / 100 : 1;
	char *text = NULL;
	FILE *f;

	if ((f = open_memstream(&text, len)) == NULL)
		fail_msg("open_memstream");
	fprintf(f, "[corrald]\nlog_level = info\n\n[defaults]\n"
	    "backoff_initial = 1s\nenv = A=1, B=2\n\n");
	for (i = 0; i < nc; i++)
		fprintf(f, "[cluster:c%u]\nstrategy = one_for_one\n"
		    "min_healthy = 1\n\n", i);
	for (i = 0; i < n; i++) {
		fprintf(f, "[agent:a%u]\ncommand = /bin/sleep 1000\n"
		    "cluster = c%u\n", i, i % nc);
		if (i > 0 && i % 10 == 0)
			fprintf(f, "fallback = a%u\n", i - 1);
		if (errors)
			/* A typo, a fallback nobody has, a bad value. */
			fprintf(f, "numprocz = 2\nfallback = zz-missing-%u\n"
			    "stop_timeout = %u\n", i, i + 1);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		fail_msg("open_memstream");
	return text;
}

/*
 * One agent whose env, and [defaults]' env, each set n variables, on
 * continuation lines: the variables are checked for duplicates and merged
 * by name.  Caller frees.
 */
static char *
env_text(unsigned n, size_t *len)
{
	char *text = NULL;
	unsigned i, s;
	FILE *f;

	if ((f = open_memstream(&text, len)) == NULL)
		fail_msg("open_memstream");
	for (s = 0; s < 2; s++) {
		fprintf(f, s == 0 ? "[defaults]\nenv =" :
		    "\n[agent:a]\ncommand = /bin/true\nenv =");
		/* Half of the agent's replace a default, half are its own. */
		for (i = 0; i < n; i++)
			fprintf(f, "%sV%u=%u,", i % 500 == 0 ? "\n  " : " ",
			    s == 0 ? i : i + n / 2, s);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		fail_msg("open_memstream");
	return text;
}

/* Processor time, in ms, to load text; the load must succeed or not. */
static double
load_ms(const char *text, size_t len, bool ok)
{
	struct config_errors errs;
	struct timespec t0, t1;
	struct config *c;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	c = config_load_text("scale.ini", "/", text, len, &errs);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	if ((c != NULL) != ok) {
		if (errs.msgs.n > 0)
			print_message("first error: %s\n", errs.msgs.v[0]);
		fail_msg("the generated file %s", ok ? "was refused" :
		    "loaded");
	}
	config_free(c);
	strv_free(&errs.msgs);
	return (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

/* The best of tries loads of a fleet of n agents (env: of n variables). */
static double
best_ms(unsigned n, int what, int tries)
{
	size_t len;
	char *text = what == ENV ? env_text(n, &len) :
	    fleet_text(n, what == ERRORS, &len);
	double best = -1, t;

	while (tries-- > 0) {
		t = load_ms(text, len, what != ERRORS);
		if (best < 0 || t < best)
			best = t;
	}
	free(text);
	return best;
}

static void
scales(int what)
{
	static const char *names[] = { "good", "with errors", "env" };
	double small, large;
	int tries;

	alarm(DEADLINE_S);
	small = best_ms(SMALL, what, 3);
	/* Measured again only while it looks too slow: noise, not a verdict. */
	large = best_ms(TIMES * SMALL, what, 2);
	for (tries = 0; large > RATIO_MAX * small && tries < 2; tries++) {
		double t = best_ms(TIMES * SMALL, what, 1);
		if (t < large)
			large = t;
	}
	alarm(0);
	print_message("%s: %u %s %.1f ms, %u %.1f ms: %.2fx\n", names[what],
	    SMALL, what == ENV ? "variables" : "agents", small, TIMES * SMALL,
	    large, large / small);
	if (large > RATIO_MAX * small)
		fail_msg("%d times the %s took %.1f times as long (at most "
		    "%.0f)", TIMES, what == ENV ? "variables" : "agents",
		    large / small, RATIO_MAX);
}

static void
test_good_file_scales(void **state)
{
	(void)state;
	scales(GOOD);
}

static void
test_bad_file_scales(void **state)
{
	(void)state;
	scales(ERRORS);
}

static void
test_env_scales(void **state)
{
	(void)state;
	scales(ENV);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file_scales),
		cmocka_unit_test(test_env_scales),
		/* Last: a quadratic load of it meets the deadline. */
		cmocka_unit_test(test_bad_file_scales),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
