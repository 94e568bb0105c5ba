/*
 * test_plan.c: a reload's plan (supervisor/plan.c).  reload_plan_make()
 * decides what a reload changes; `reload --dry-run` prints that plan and
 * fleet_reload() carries it out.  Here a fleet is made from one file
 * (nothing spawned), the plan of a second file is taken and printed, then
 * the fleet is reloaded with it: the reload's counts are the plan's, the
 * instances it restarts are those the plan's lines name, and making the
 * plan changed nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "corrald.h"

static char dir[64];

static struct config *
load(const char *body)
{
	struct config_errors errs;
	struct config *c;
	char *text;

	xasprintf(&text, "[corrald]\nstate_db = %s/state.db\nlog_dir = %s\n"
	    "run_dir = %s\n\n%s", dir, dir, dir, body);
	c = config_load_text("plan.ini", dir, text, strlen(text), &errs);
	if (c == NULL)
		fail_msg("refused: %s", errs.msgs.n > 0 ? errs.msgs.v[0] : "?");
	free(text);
	return c;
}

static const char before[] =
    "[cluster:c]\n"
    "[agent:keep]\ncommand = true\n"
    "[agent:cmd]\ncommand = true\nnumprocs = 3\n"
    "[agent:policy]\ncommand = true\n"
    "[agent:shrink]\ncommand = true\nnumprocs = 3\n"
    "[agent:gone]\ncommand = true\n";

static const char after[] =
    "[cluster:c]\nstrategy = one_for_all\n"
    "[cluster:d]\n"
    "[agent:keep]\ncommand = true\n"
    "[agent:cmd]\ncommand = false\nnumprocs = 3\n"
    "[agent:policy]\ncommand = true\nmax_age = 1h\n"
    "[agent:shrink]\ncommand = true\nnumprocs = 1\n"
    "[agent:new]\ncommand = true\nnumprocs = 2\n";

static bool
has_line(const struct strv *v, const char *s)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->v[i], s) == 0)
			return true;
	return false;
}

static void
test_plan_drives_reload(void **state)
{
	struct event_base *base;
	struct statedb *db;
	struct fleet *f;
	struct config *next;
	struct reload_plan p;
	struct strv lines;
	struct worker *w;
	size_t added, removed, changed, kept, i;
	char *cmd;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/corral-plan.XXXXXX");
	assert_non_null(mkdtemp(dir));
	log_init(LOG_LVL_ERROR, "test_plan");
	base = event_base_new();
	assert_non_null(base);
	{
		struct config *c = load(before);
		db = statedb_open(c->state_db, base);
		assert_non_null(db);
		f = fleet_new(base, c, db);
	}
	/* cmd.0 waits out a backoff, cmd.1 was stopped by the operator,
	 * cmd.2 is stopped: only cmd.0 is restarted by a changed command. */
	w = fleet_find_worker(f, "cmd", 0);
	w->state = W_BACKOFF;
	fleet_find_worker(f, "cmd", 1)->held = true;
	fleet_find_worker(f, "cmd", 1)->state = W_BACKOFF;
	next = load(after);

	reload_plan_make(f, next, &p);
	assert_int_equal(p.added, 2);    /* new.0, new.1 */
	assert_int_equal(p.removed, 3);  /* shrink.1, shrink.2, gone.0 */
	assert_int_equal(p.changed, 3);  /* cmd.0-2 */
	assert_int_equal(p.kept, 3);     /* keep, policy, shrink.0 */
	strv_init(&lines);
	reload_plan_lines(f, next, &p, &lines);
	for (i = 0; i < lines.n; i++)
		print_message("%s\n", lines.v[i]);
	assert_true(has_line(&lines, "cluster c: changed: strategy"));
	assert_true(has_line(&lines, "cluster d: added"));
	assert_true(has_line(&lines, "agent cmd: changed: command; "
	    "restarts cmd.0"));
	assert_true(has_line(&lines, "agent policy: changed: max_age (its "
	    "running instances keep running and take the new values)"));
	assert_true(has_line(&lines, "agent shrink: numprocs 3 -> 1: stops "
	    "and removes shrink.1, shrink.2"));
	assert_true(has_line(&lines, "agent new: added: starts new.0, "
	    "new.1"));
	assert_true(has_line(&lines, "agent gone: removed: stops and removes "
	    "gone.0"));
	for (i = 0; i < lines.n; i++)
		assert_null(strstr(lines.v[i], "agent keep"));
	strv_free(&lines);
	/* Making the plan changed nothing. */
	assert_int_equal(f->nworkers, 9);
	assert_false(fleet_find_worker(f, "cmd", 0)->queued);

	fleet_reload(f, next, &added, &removed, &changed, &kept);
	assert_int_equal(added, p.added);
	assert_int_equal(removed, p.removed);
	assert_int_equal(changed, p.changed);
	assert_int_equal(kept, p.kept);
	reload_plan_free(&p);
	/* What the lines said restarts, restarted: queued to spawn again. */
	assert_true(fleet_find_worker(f, "cmd", 0)->queued);
	assert_false(fleet_find_worker(f, "cmd", 1)->queued);
	assert_false(fleet_find_worker(f, "cmd", 2)->queued);
	assert_false(fleet_find_worker(f, "keep", 0)->queued);

	/* The same file again: a plan of nothing. */
	next = load(after);
	reload_plan_make(f, next, &p);
	assert_int_equal(p.added + p.removed + p.changed, 0);
	strv_init(&lines);
	reload_plan_lines(f, next, &p, &lines);
	assert_int_equal(lines.n, 0);
	strv_free(&lines);
	reload_plan_free(&p);
	config_free(next);

	while ((w = TAILQ_FIRST(&f->startq)) != NULL) {
		TAILQ_REMOVE(&f->startq, w, startq);
		w->queued = false;
	}
	fleet_free(f);
	statedb_close(db);
	event_base_free(base);
	xasprintf(&cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_drives_reload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
