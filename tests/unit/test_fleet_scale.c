/*
 * test_fleet_scale.c: no event of a breaker, a strategy, a fallback or a
 * cluster's health looks through the whole fleet, and starting and
 * reloading a fleet do work linear in it.  A fleet of 10,000 workers in
 * 100 clusters is made in this process (nothing is spawned):
 *
 * - every agent's list of workers and every cluster's list of members is
 *   what the fleet's list says, in its order, after the load, after a
 *   reload that adds, removes, grows, shrinks, moves and reorders agents
 *   and drops a cluster, and after a reload back;
 * - with the fleet's list made unreadable (a PROT_NONE mapping: reading it
 *   faults), every lookup by name and instance, a breaker that opens and
 *   holds, a fallback that starts and stops, resets of an agent and a
 *   cluster, rest_for_one's stop of the members after a failed one (and
 *   only those), the group restart, the releases, recounts and restores of
 *   a reload or a start, and a cluster's health run to the end;
 * - name comparisons (calls of strcmp, counted) while a fleet is made, all
 *   its workers are looked up by name (as a start reads its rows) and it
 *   is reloaded with 100 more agents: four times the fleet takes at most
 *   six times as many (linear: 4; the linear lookups of before: 16).
 *
 * Counts, not times: a busy machine does not decide.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "corrald.h"

#define AGENTS 2500 /* of 4 instances: 10,000 workers */
#define ADDED 100   /* agents a reload adds */
#define RATIO_MAX 6.0

/*
 * Every strcmp of the process, counted while counting is on: the name
 * comparisons of every lookup by name in corrald's code.  (Written out:
 * the library's cannot be reached from here.)
 */
static volatile bool counting;
static unsigned long long ncmp;

int
strcmp(const char *a, const char *b)
{
	const volatile unsigned char *p = (const void *)a;
	const volatile unsigned char *q = (const void *)b;

	if (counting)
		ncmp++;
	while (*p != '\0' && *p == *q) {
		p++;
		q++;
	}
	return (int)*p - (int)*q;
}

struct fx {
	char dir[64];
	struct event_base *base;
	struct statedb *db;
	struct fleet *f;
};

/* What version v of the file has of agent i (of n; c clusters). */
static bool
has_agent(int v, unsigned i)
{
	return v == 0 || i % 7 != 3;
}

static unsigned
procs_of(int v, unsigned i)
{
	if (v == 0)
		return 4;
	return i % 5 == 1 ? 2 : i % 5 == 2 ? 6 : 4;
}

/* A cluster's index, or -1: none. */
static int
cluster_of(int v, unsigned i, unsigned c)
{
	if (v == 0)
		return (int)(i % c);
	if (i % 13 == 0 || i % c == c - 1) /* the last cluster is dropped */
		return -1;
	return (int)(i % 11 == 0 ? (i + 1) % (c - 1) : i % c);
}

static const char *
strategy(unsigned j)
{
	return j % 3 == 0 ? "rest_for_one" : j % 3 == 1 ? "one_for_all" :
	    "one_for_one";
}

/* Version v of a fleet file of n agents in c clusters.  Caller frees. */
static char *
fleet_text(const char *dir, unsigned n, unsigned c, int v, size_t *len)
{
	char *text = NULL;
	unsigned i, j;
	int cl;
	FILE *f;

	if ((f = open_memstream(&text, len)) == NULL)
		fail_msg("open_memstream");
	fprintf(f, "[corrald]\nstate_db = %s/state.db\nlog_dir = %s/log\n"
	    "run_dir = %s\ncgroup = off\nlog_level = error\n\n", dir, dir,
	    dir);
	for (j = 0; j < (v == 0 ? c : c - 1); j++)
		fprintf(f, "[cluster:c%u]\nstrategy = %s\nfailure_threshold = 1"
		    "\nmin_healthy = 0\n\n", j, strategy(j));
	for (i = 0; i < n; i++) {
		if (!has_agent(v, i))
			continue;
		fprintf(f, "[agent:a%u]\ncommand = /bin/true\nnumprocs = %u\n"
		    "autostart = false\nfailure_threshold = 1\n"
		    "stdout = null\nstderr = null\n"
		    "priority = %u\n", i, procs_of(v, i),
		    v == 0 ? (i * 7) % 5 : (i * 3) % 4);
		if ((cl = cluster_of(v, i, c)) >= 0)
			fprintf(f, "cluster = c%d\n", cl);
		if (i > 0 && i % 10 == 0 && has_agent(v, i - 1))
			fprintf(f, "fallback = a%u\n", i - 1);
		fputc('\n', f);
	}
	for (i = 0; v == 1 && i < ADDED; i++)
		fprintf(f, "[agent:x%u]\ncommand = /bin/true\nautostart = false\n"
		    "stdout = null\nstderr = null\ncluster = c%u\n\n", i,
		    i % (c - 1));
	if (fclose(f) != 0)
		fail_msg("open_memstream");
	return text;
}

static struct config *
load(const char *dir, unsigned n, unsigned c, int v)
{
	struct config_errors errs;
	struct config *conf;
	size_t len;
	char *text = fleet_text(dir, n, c, v, &len);

	conf = config_load_text("scale.ini", dir, text, len, &errs);
	if (conf == NULL)
		fail_msg("the generated file was refused: %s", errs.msgs.n > 0 ?
		    errs.msgs.v[0] : "?");
	free(text);
	return conf;
}

static void
fx_open(struct fx *x, unsigned n, unsigned c)
{
	snprintf(x->dir, sizeof(x->dir), "/tmp/corral-fleetscale.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	x->base = event_base_new();
	assert_non_null(x->base);
	assert_int_equal(event_base_priority_init(x->base, 2), 0);
	log_init(LOG_LVL_ERROR, "test_fleet_scale");
	x->f = NULL;
	{
		struct config *conf = load(x->dir, n, c, 0);
		x->db = statedb_open(conf->state_db, x->base);
		assert_non_null(x->db);
		x->f = fleet_new(x->base, conf, x->db);
	}
}

/* Nothing queued may spawn: the loop never runs the spawn queue here. */
static void
unqueue(struct fleet *f)
{
	struct worker *w;

	while ((w = TAILQ_FIRST(&f->startq)) != NULL) {
		TAILQ_REMOVE(&f->startq, w, startq);
		w->queued = false;
	}
	evtimer_del(f->spawn_ev);
}

static void
fx_close(struct fx *x)
{
	char *cmd;

	unqueue(x->f);
	fleet_free(x->f);
	statedb_close(x->db);
	event_base_free(x->base);
	xasprintf(&cmd, "rm -rf '%s'", x->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* Every list is what the fleet's list and the configuration say. */
static void
check_lists(struct fleet *f)
{
	size_t *pos = calloc(f->ncrts + 1, sizeof(*pos));
	size_t i, j, k;
	ssize_t at;

	assert_int_equal(f->nrts, f->conf->nagents);
	assert_int_equal(f->ncrts, f->conf->nclusters);
	for (i = 0; i < f->nrts; i++) {
		struct agent_rt *rt = f->rts[i];
		const struct agent_conf *a = &f->conf->agents[i];

		assert_string_equal(rt->g.name, a->name);
		assert_ptr_equal(fleet_find_rt(f, a->name), rt);
		assert_ptr_equal(rt->cluster, a->cluster == NULL ? NULL :
		    fleet_find_crt(f, a->cluster));
		assert_int_equal(rt->nworkers, a->numprocs);
		for (k = 0; k < rt->nworkers; k++) {
			struct worker *w = rt->workers[k];
			assert_ptr_equal(w->rt, rt);
			assert_ptr_equal(w->agent, a);
			assert_int_equal(w->instance, k);
			assert_ptr_equal(fleet_find_worker(f, a->name,
			    (unsigned)k), w);
		}
		assert_null(fleet_find_worker(f, a->name, a->numprocs));
	}
	assert_null(fleet_find_rt(f, "no-such-agent"));
	assert_null(fleet_find_worker(f, "no-such-agent", 0));
	for (j = 0; j < f->ncrts; j++)
		assert_ptr_equal(fleet_find_crt(f, f->conf->clusters[j].name),
		    f->crts[j]);
	/* Members: the fleet's list, filtered, in its order. */
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		struct cluster_rt *c = w->rt->cluster;
		if (c == NULL)
			continue;
		at = nametab_get(&f->crtnames, c->g.name);
		assert_true(at >= 0 && (size_t)at < f->ncrts);
		assert_true(pos[at] < c->nmembers);
		assert_ptr_equal(c->members[pos[at]++], w);
	}
	for (j = 0; j < f->ncrts; j++)
		assert_int_equal(pos[j], f->crts[j]->nmembers);
	free(pos);
}

static void
test_lists_after_load_and_reloads(void **state)
{
	size_t added, removed, changed, kept, want_add = 0, want_rm = 0;
	unsigned i, c = AGENTS / 25;
	struct fx x;

	(void)state;
	fx_open(&x, AGENTS, c);
	assert_int_equal(x.f->nworkers, 4 * AGENTS);
	check_lists(x.f);

	for (i = 0; i < AGENTS; i++) {
		if (!has_agent(1, i))
			want_rm += 4;
		else if (procs_of(1, i) < 4)
			want_rm += 4 - procs_of(1, i);
		else
			want_add += procs_of(1, i) - 4;
	}
	want_add += ADDED;
	fleet_reload(x.f, load(x.dir, AGENTS, c, 1), &added, &removed,
	    &changed, &kept);
	assert_int_equal(added, want_add);
	assert_int_equal(removed, want_rm);
	check_lists(x.f);

	fleet_reload(x.f, load(x.dir, AGENTS, c, 0), &added, &removed,
	    &changed, &kept);
	assert_int_equal(added, want_rm);
	assert_int_equal(removed, want_add);
	assert_int_equal(x.f->nworkers, 4 * AGENTS);
	check_lists(x.f);
	fx_close(&x);
}

/* While hidden, the fleet's list is a mapping no one may read. */
static struct worker **list_saved;
static size_t list_len;
static const char *volatile step;

static void
segv(int sig)
{
	char buf[160];
	int n;

	(void)sig;
	n = snprintf(buf, sizeof(buf), "the fleet's whole list was read "
	    "during: %s\n", step);
	if (write(2, buf, (size_t)n) < 0)
		_exit(2);
	_exit(1);
}

static void
hide(struct fleet *f)
{
	struct sigaction sa;
	void *p;

	list_len = (f->nworkers * sizeof(*f->workers) + 4095) & ~(size_t)4095;
	p = mmap(NULL, list_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	    0);
	assert_true(p != MAP_FAILED);
	list_saved = f->workers;
	f->workers = p;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = segv;
	sigaction(SIGSEGV, &sa, NULL);
}

static void
unhide(struct fleet *f)
{
	struct sigaction sa;

	munmap(f->workers, list_len);
	f->workers = list_saved;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGSEGV, &sa, NULL);
	step = "";
}

/* An agent with a fallback, in a rest_for_one cluster, not its first. */
static struct agent_rt *
pick(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->nrts; i++) {
		struct agent_rt *rt = f->rts[i];
		if (rt->fallback != NULL && rt->cluster != NULL &&
		    rt->cluster->conf->strategy == STRAT_REST_FOR_ONE &&
		    rt->cluster->members[0]->rt != rt)
			return rt;
	}
	fail_msg("no agent fits");
	return NULL;
}

static void
test_events_read_only_their_lists(void **state)
{
	struct restart_plan plan;
	struct cluster_rt *c;
	struct agent_rt *rt, *fb;
	struct worker *w;
	char was[64];
	size_t i, k, at = 0;

	(void)state;
	struct fx x;
	fx_open(&x, AGENTS, AGENTS / 25);
	rt = pick(x.f);
	c = rt->cluster;
	fb = rt->fallback;
	w = rt->workers[1];
	/* What rest_for_one stops runs: make its members look so. */
	for (i = 0; i < c->nmembers; i++) {
		c->members[i]->state = W_RUNNING;
		if (c->members[i] == w)
			at = i;
	}
	w->state = W_STOPPED;
	hide(x.f);

	step = "fleet_find_worker of every worker";
	for (i = 0; i < x.f->nrts; i++)
		for (k = 0; k < x.f->rts[i]->nworkers; k++)
			assert_ptr_equal(fleet_find_worker(x.f,
			    x.f->rts[i]->g.name, (unsigned)k),
			    x.f->rts[i]->workers[k]);

	step = "cluster_regroup (rest_for_one)";
	assert_true(cluster_regroup(w, 0));
	for (i = 0; i < c->nmembers; i++)
		if (c->members[i] != w)
			assert_int_equal(c->members[i]->regroup, i > at);
	for (i = 0; i < c->nmembers; i++)
		if (c->members[i] != w)
			c->members[i]->state = i > at ? W_BACKOFF : W_STOPPED;
	w->state = W_BACKOFF;

	step = "a failure that opens the agent's and the cluster's breaker";
	memset(&plan, 0, sizeof(plan));
	plan.next = W_BACKOFF;
	plan.failure = true;
	assert_true(breakers_exited(w, CORRAL_EXIT_CRASH, &plan));
	assert_int_equal(rt->g.br.state, CORRAL_BREAKER_OPEN);
	assert_int_equal(c->g.br.state, CORRAL_BREAKER_OPEN);
	assert_int_equal(w->state, W_DEGRADED);
	assert_int_equal(fb->demand, 1);
	for (k = 0; k < fb->nworkers; k++)
		assert_true(fb->workers[k]->for_fallback);

	step = "the group restart and the cluster's health (one loop turn)";
	unqueue(x.f);
	x.f->started = true;
	cluster_touch(c);
	event_base_loop(x.base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
	assert_int_equal(x.f->live, 0);
	assert_true(c->health_known);
	assert_true(c->up + c->down <= c->nmembers);

	step = "reset of the agent's breaker";
	assert_int_equal(fleet_reset_breaker(x.f, rt->g.name, "test", "scale",
	    was, sizeof(was)), 0);
	assert_int_equal(rt->g.br.state, CORRAL_BREAKER_CLOSED);
	assert_int_equal(fb->demand, 0);

	step = "reset of the cluster's breaker";
	assert_int_equal(fleet_reset_breaker(x.f, c->g.name, "test", "scale",
	    was, sizeof(was)), 0);
	assert_int_equal(c->g.br.state, CORRAL_BREAKER_CLOSED);

	step = "a reload's and a start's releases, recounts and restores";
	breakers_release_all(x.f);
	fallback_recount(x.f);
	breakers_rearm(x.f);
	breakers_restore(x.f);
	cluster_regroup_restore(x.f);
	for (i = 0; i < x.f->nrts; i++)
		fallback_update(x.f->rts[i]);

	unhide(x.f);
	fx_close(&x);
}

/* Name comparisons to make a fleet of n agents, find all, reload it. */
static unsigned long long
comparisons(unsigned n)
{
	size_t added, removed, changed, kept, i, k;
	struct config *next;
	unsigned long long got;
	struct fx x;

	snprintf(x.dir, sizeof(x.dir), "/tmp/corral-fleetscale.XXXXXX");
	assert_non_null(mkdtemp(x.dir));
	x.base = event_base_new();
	assert_non_null(x.base);
	assert_int_equal(event_base_priority_init(x.base, 2), 0);
	log_init(LOG_LVL_ERROR, "test_fleet_scale");
	{
		struct config *conf = load(x.dir, n, n / 25, 0);
		next = load(x.dir, n, n / 25, 1);
		x.db = statedb_open(conf->state_db, x.base);
		assert_non_null(x.db);
		ncmp = 0;
		counting = true;
		x.f = fleet_new(x.base, conf, x.db);
	}
	for (i = 0; i < x.f->nrts; i++)
		for (k = 0; k < x.f->rts[i]->nworkers; k++)
			(void)fleet_find_worker(x.f, x.f->rts[i]->g.name,
			    (unsigned)k);
	fleet_reload(x.f, next, &added, &removed, &changed, &kept);
	counting = false;
	got = ncmp;
	fx_close(&x);
	return got;
}

static void
test_start_and_reload_compare_names_linearly(void **state)
{
	unsigned long long small, large;

	(void)state;
	small = comparisons(AGENTS / 4);
	large = comparisons(AGENTS);
	print_message("name comparisons: %u agents %llu, %u agents %llu: "
	    "%.2fx\n", AGENTS / 4, small, AGENTS, large,
	    (double)large / (double)small);
	if ((double)large > RATIO_MAX * (double)small)
		fail_msg("4 times the agents took %.1f times the name "
		    "comparisons (at most %.0f)", (double)large / (double)small,
		    RATIO_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists_after_load_and_reloads),
		cmocka_unit_test(test_events_read_only_their_lists),
		cmocka_unit_test(test_start_and_reload_compare_names_linearly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
