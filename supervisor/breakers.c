/*
 * breakers.c: the circuit breakers corrald keeps for each agent and each
 * cluster, and the fallback agents that run while a primary's breaker is
 * open.  The state machine is worker-sdk/breaker.c's; this file gives each
 * breaker a name, a timer, a row in the state database, a log line and an
 * event per transition, and decides which workers wait for which breaker.
 * A breaker's times (its open period, its failure window) are on the
 * monotonic clock: a step of the wall clock changes neither.
 *
 * A restart must pass both breakers of a worker: its agent's, then its
 * cluster's.  In HALF_OPEN each admits a limited number of trials; a
 * worker may be a trial of either or both (w->trial, w->ctrial), and gives
 * its slots back when its run ends without a verdict.
 */
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "corrald.h"

enum { ADMIT = 0, BY_AGENT = 1, BY_CLUSTER = 2 };

static void guard_timer_cb(evutil_socket_t, short, void *);
static void rt_release(struct agent_rt *, bool fatal_too);
static void cluster_release(struct cluster_rt *);

/* The time every breaker of corrald is given. */
static uint64_t
mono(void)
{
	return now_mono_ms();
}

static struct agent_rt *
rt_of(struct guard *g)
{
	return (struct agent_rt *)(void *)((char *)g -
	    offsetof(struct agent_rt, g));
}

static struct cluster_rt *
crt_of(struct guard *g)
{
	return (struct cluster_rt *)(void *)((char *)g -
	    offsetof(struct cluster_rt, g));
}

static void
guard_init(struct guard *g, struct fleet *f, const char *name, bool cluster,
    const struct corral_breaker_policy *p)
{
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->is_cluster = cluster;
	g->fleet = f;
	if (corral_breaker_init(&g->br, p) == -1)
		fatal("%s %s: bad breaker policy", cluster ? "cluster" : "agent",
		    name);
	g->timer = evtimer_new(f->base, guard_timer_cb, g);
	if (g->timer == NULL)
		fatal("%s %s: cannot create its breaker timer",
		    cluster ? "cluster" : "agent", name);
}

static void
guard_fini(struct guard *g)
{
	event_free(g->timer);
	corral_breaker_free(&g->br);
}

void
guard_set_policy(struct guard *g, const struct corral_breaker_policy *p)
{
	const struct corral_breaker_policy *o = &g->br.policy;
	struct corral_breaker nb;

	/* Consecutive counts mean the same under any threshold. */
	if (o->failure_window_ms == p->failure_window_ms &&
	    (p->failure_window_ms == 0 ||
	    o->failure_threshold == p->failure_threshold)) {
		g->br.policy = *p;
		return;
	}
	/* The window's ring has the old size: start counting again. */
	if (corral_breaker_init(&nb, p) == -1)
		fatal("%s: bad breaker policy", g->name);
	nb.state = g->br.state;
	nb.reset_required = g->br.reset_required;
	nb.reopenings = g->br.reopenings;
	nb.trials = g->br.trials;
	nb.opened_at_ms = g->br.opened_at_ms;
	nb.open_until_ms = g->br.open_until_ms;
	nb.reason = g->br.reason;
	corral_breaker_free(&g->br);
	g->br = nb;
}

struct agent_rt *
agent_rt_new(struct fleet *f, const struct agent_conf *a)
{
	struct agent_rt *rt = xcalloc(1, sizeof(*rt));

	guard_init(&rt->g, f, a->name, false, &a->breaker);
	return rt;
}

void
agent_rt_free(struct agent_rt *rt)
{
	if (rt == NULL)
		return;
	guard_fini(&rt->g);
	recycle_rt_free(rt);
	free(rt->workers);
	order_unlink(rt);
	free(rt);
}

struct cluster_rt *
cluster_rt_new(struct fleet *f, struct cluster_conf *cc)
{
	struct cluster_rt *c = xcalloc(1, sizeof(*c));

	guard_init(&c->g, f, cc->name, true, &cc->breaker);
	c->conf = cc;
	c->health = H_HEALTHY;
	c->hooks = hookq_new();
	return c;
}

void
cluster_rt_free(struct cluster_rt *c)
{
	if (c == NULL)
		return;
	if (c->health_ev != NULL)
		event_free(c->health_ev);
	if (c->group_timer != NULL)
		event_free(c->group_timer);
	hook_forget(c->g.fleet, c);
	hookq_free(c->hooks);
	guard_fini(&c->g);
	free(c->members);
	free(c);
}

struct agent_rt *
fleet_find_rt(struct fleet *f, const char *agent)
{
	ssize_t i = nametab_get(&f->rtnames, agent);

	return i >= 0 && (size_t)i < f->nrts ? f->rts[i] : NULL;
}

struct cluster_rt *
fleet_find_crt(struct fleet *f, const char *cluster)
{
	ssize_t i = nametab_get(&f->crtnames, cluster);

	return i >= 0 && (size_t)i < f->ncrts ? f->crts[i] : NULL;
}

/*
 * Every event of a breaker, a strategy or a fallback concerns the workers
 * of one agent or one cluster: they are listed here once per change of the
 * fleet's list, so that no event looks through the whole fleet.  The
 * fleet's list is laid out agent by agent (priority, then file order),
 * instances in order: read in that order, each cluster's members come out
 * in start order, which rest_for_one and the releases keep to.
 */
void
breakers_link(struct fleet *f)
{
	struct agent_rt *rt;
	struct cluster_rt *c;
	size_t i;

	nametab_free(&f->rtnames);
	nametab_free(&f->crtnames);
	for (i = 0; i < f->nrts; i++)
		nametab_put(&f->rtnames, f->rts[i]->g.name, i);
	for (i = 0; i < f->ncrts; i++) {
		nametab_put(&f->crtnames, f->crts[i]->g.name, i);
		f->crts[i]->nmembers = 0;
	}
	for (i = 0; i < f->nrts; i++) {
		const struct agent_conf *a = &f->conf->agents[i];

		rt = f->rts[i];
		rt->cluster = a->cluster != NULL ?
		    fleet_find_crt(f, a->cluster) : NULL;
		rt->fallback = a->fallback != NULL ?
		    fleet_find_rt(f, a->fallback) : NULL;
		rt->nworkers = a->numprocs;
		rt->workers = xreallocarray(rt->workers, rt->nworkers,
		    sizeof(*rt->workers));
		memset(rt->workers, 0, rt->nworkers * sizeof(*rt->workers));
		if (rt->cluster != NULL)
			rt->cluster->nmembers += a->numprocs;
	}
	for (i = 0; i < f->ncrts; i++) {
		c = f->crts[i];
		c->members = xreallocarray(c->members, c->nmembers,
		    sizeof(*c->members));
		c->nmembers = 0;
	}
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];

		rt = w->rt;
		assert(rt != NULL && w->instance < rt->nworkers &&
		    rt->workers[w->instance] == NULL);
		rt->workers[w->instance] = w;
		if ((c = rt->cluster) != NULL)
			c->members[c->nmembers++] = w;
	}
}

bool
breakers_on(const struct worker *w)
{
	return w->rt != NULL && w->fleet->conf->breakers;
}

/* Whose on_state_change hears of g's transitions. */
static struct cluster_rt *
guard_cluster(struct guard *g)
{
	return g->is_cluster ? crt_of(g) : rt_of(g)->cluster;
}

/* Arm the breaker's timer for when OPEN may become HALF_OPEN. */
static void
guard_arm(struct guard *g)
{
	uint64_t left;

	evtimer_del(g->timer);
	if (!g->fleet->conf->breakers ||
	    g->br.state != CORRAL_BREAKER_OPEN || g->br.reset_required)
		return;
	/* +1: now_mono_ms() drops the sub-millisecond part libevent keeps. */
	left = corral_breaker_remaining_ms(&g->br, mono()) + 1;
	timer_add_ms(g->timer, left);
}

/* The workers that wait on g: its agent's or its cluster's. */
static struct worker **
guarded(struct guard *g, size_t *n)
{
	if (g->is_cluster) {
		*n = crt_of(g)->nmembers;
		return crt_of(g)->members;
	}
	*n = rt_of(g)->nworkers;
	return rt_of(g)->workers;
}

static void
forget_trials(struct guard *g)
{
	struct worker **ws;
	size_t i, n;

	ws = guarded(g, &n);
	for (i = 0; i < n; i++) {
		if (g->is_cluster)
			ws[i]->ctrial = false;
		else
			ws[i]->trial = false;
	}
}

/* A transition happened: keep it, log it, record it, arm, tell. */
static void
guard_changed(struct guard *g, enum corral_breaker_state prev,
    const char *detail)
{
	struct fleet *f = g->fleet;
	struct cluster_rt *c;
	struct db_event e;
	struct clocks now;
	char until[48] = "";

	/* The transition's time, not the end of its write to disk. */
	clocks_now(&now);
	/* Kept first, announced after: whoever reads the log may act on it. */
	statedb_save_breaker(f->db, g->name, &g->br, &now);
	if (g->br.state == CORRAL_BREAKER_OPEN && !g->br.reset_required)
		snprintf(until, sizeof(until), " for %.3fs",
		    (double)(g->br.open_until_ms - g->br.opened_at_ms) /
		    1000.0);
	log_info("%s %s: breaker %s -> %s: %s%s",
	    g->is_cluster ? "cluster" : "agent", g->name,
	    corral_breaker_state_name(prev),
	    corral_breaker_state_name(g->br.state),
	    detail != NULL ? detail : g->br.reason, until);
	memset(&e, 0, sizeof(e));
	e.kind = EV_BREAKER;
	e.time_ms = now.wall_ms;
	snprintf(e.agent, sizeof(e.agent), "%s", g->name);
	e.instance = -1;
	e.code = e.sig = e.err = -1;
	e.start_failure = -1;
	e.prev_state = corral_breaker_state_name(prev);
	e.state = corral_breaker_state_name(g->br.state);
	e.detail = xstrdup(detail != NULL ? detail : g->br.reason);
	statedb_add(f->db, &e);
	/* Trials belong to one HALF_OPEN period: they end with it. */
	if (prev == CORRAL_BREAKER_HALF_OPEN &&
	    g->br.state != CORRAL_BREAKER_HALF_OPEN)
		forget_trials(g);
	guard_arm(g);
	if ((c = guard_cluster(g)) != NULL) {
		hook_run(c, "breaker", g->name, corral_breaker_state_name(prev),
		    corral_breaker_state_name(g->br.state));
		cluster_touch(c);
	}
	if (!g->is_cluster)
		fallback_update(rt_of(g));
}

/*
 * A failure counted without a transition (CLOSED): kept too, so that a
 * restart of corrald does not forget how close the breaker is to opening.
 */
static void
guard_counted(struct guard *g)
{
	struct clocks now;

	clocks_now(&now);
	statedb_save_breaker(g->fleet->db, g->name, &g->br, &now);
}

/* Ask g for a start; *trial says whether it is one of its trials. */
static bool
guard_allow(struct guard *g, bool *trial)
{
	enum corral_breaker_state prev = g->br.state;
	bool changed, ok;

	*trial = false;
	if (prev == CORRAL_BREAKER_CLOSED)
		return true;
	ok = corral_breaker_allow(&g->br, mono(), &changed);
	if (changed)
		guard_changed(g, prev, NULL);
	*trial = ok && g->br.state == CORRAL_BREAKER_HALF_OPEN;
	return ok;
}

/*
 * A half-open breaker has a slot free again: offer it to what it holds at
 * the next loop turn (not now: the caller may be inside a release).
 */
static void
guard_offer(struct guard *g)
{
	static const struct timeval now = { 0, 0 };

	if (g->br.state == CORRAL_BREAKER_HALF_OPEN)
		evtimer_add(g->timer, &now);
}

/*
 * Hand back the trial slots w holds.  A slot held since an earlier
 * admission is offered to others at the next turn; one taken in the
 * admission now refused is not (nothing changed for the others, and
 * offering it would spin).
 */
static void
slots_return2(struct worker *w, bool offer_agent, bool offer_cluster)
{
	if (w->trial && w->rt != NULL) {
		corral_breaker_trial_void(&w->rt->g.br);
		if (offer_agent)
			guard_offer(&w->rt->g);
	}
	if (w->ctrial && w->rt != NULL && w->rt->cluster != NULL) {
		corral_breaker_trial_void(&w->rt->cluster->g.br);
		if (offer_cluster)
			guard_offer(&w->rt->cluster->g);
	}
	w->trial = w->ctrial = false;
}

static void
slots_return(struct worker *w)
{
	slots_return2(w, true, true);
}

/*
 * A worker holds at most one slot of each breaker: one it already has
 * (admitted, then its fork failed) is not asked for again.  One that is
 * refused holds none: HELD and DEGRADED workers never hold slots.
 */
int
breakers_admit(struct worker *w)
{
	struct cluster_rt *c;
	bool had_t = w->trial, had_c = w->ctrial;

	if (!breakers_on(w))
		return ADMIT;
	if (!w->trial && !guard_allow(&w->rt->g, &w->trial)) {
		slots_return2(w, had_t, had_c);
		return BY_AGENT;
	}
	if ((c = w->rt->cluster) != NULL && !w->ctrial &&
	    !guard_allow(&c->g, &w->ctrial)) {
		slots_return2(w, had_t, had_c);
		return BY_CLUSTER;
	}
	return ADMIT;
}

void
breakers_hold(struct worker *w, int refused)
{
	char why[NAME_MAX_LEN + 32];

	slots_return(w);
	if (refused == BY_CLUSTER) {
		snprintf(why, sizeof(why), "cluster %s breaker open",
		    w->rt->cluster->g.name);
		worker_set_state(w, W_HELD, why);
	} else if (w->rt->fallback != NULL) {
		snprintf(why, sizeof(why), "breaker open; %s runs instead",
		    w->rt->fallback->g.name);
		worker_set_state(w, W_DEGRADED, why);
	} else
		worker_set_state(w, W_HELD, "breaker open");
}

void
breakers_start(struct worker *w)
{
	int r = breakers_admit(w);

	if (r == ADMIT)
		worker_enqueue(w);
	else
		breakers_hold(w, r);
}

/* g opened: what waits for a restart waits for the breaker. */
static void
guard_hold_backoffs(struct guard *g)
{
	struct fleet *f = g->fleet;
	struct worker **ws;
	size_t i, n;

	ws = guarded(g, &n);
	for (i = 0; i < n; i++) {
		struct worker *w = ws[i];
		if (w->pid != 0 || (w->state != W_BACKOFF && !w->queued))
			continue;
		evtimer_del(w->timer);
		if (w->queued) {
			TAILQ_REMOVE(&f->startq, w, startq);
			w->queued = false;
		}
		w->regroup = false;
		breakers_hold(w, g->is_cluster ? BY_CLUSTER : BY_AGENT);
	}
}

static bool
releasable(const struct worker *w, bool fatal_too)
{
	/* What the operator stopped stays stopped; what is queued goes. */
	return !w->held && !w->queued && (worker_waiting(w) ||
	    (fatal_too && w->state == W_FATAL));
}

static void
release_one(struct worker *w)
{
	if (w->state == W_FATAL) {
		w->failures = 0;
		w->chain = 0;
		/* A reset: the operator says go on past a storage hold. */
		w->storage_ack = true;
	}
	worker_enqueue(w);
}

/* Start held instances, as many as the breakers admit. */
static void
rt_release(struct agent_rt *rt, bool fatal_too)
{
	size_t i;
	int r;

	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];
		if (!releasable(w, fatal_too))
			continue;
		/* All of them ask the same two breakers: one no is enough. */
		if ((r = breakers_admit(w)) != ADMIT) {
			breakers_hold(w, r);
			break;
		}
		release_one(w);
	}
}

static void
cluster_release(struct cluster_rt *c)
{
	size_t i;
	int r;

	for (i = 0; i < c->nmembers; i++) {
		struct worker *w = c->members[i];
		if (!releasable(w, false))
			continue;
		if ((r = breakers_admit(w)) == BY_CLUSTER) {
			breakers_hold(w, r);
			break;
		}
		if (r == BY_AGENT)
			breakers_hold(w, r); /* its own agent's no */
		else
			release_one(w);
	}
}

static void
guard_release(struct guard *g)
{
	if (g->is_cluster)
		cluster_release(crt_of(g));
	else
		rt_release(rt_of(g), false);
}

void
breakers_release_all(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->nrts; i++)
		rt_release(f->rts[i], false);
	for (i = 0; i < f->ncrts; i++)
		cluster_release(f->crts[i]);
}

static void
guard_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guard *g = arg;
	enum corral_breaker_state prev = g->br.state;

	(void)fd;
	(void)what;
	/* Half-open on time, whether or not a worker waits to try. */
	if (corral_breaker_tick(&g->br, mono()))
		guard_changed(g, prev, NULL);
	else if (g->br.state == CORRAL_BREAKER_OPEN) {
		guard_arm(g); /* the loop's clock ran a little ahead */
		return;
	}
	guard_release(g);
}

void
breakers_trial_void(struct worker *w)
{
	if (w->trial) {
		w->trial = false;
		if (w->rt != NULL) {
			corral_breaker_trial_void(&w->rt->g.br);
			rt_release(w->rt, false);
		}
	}
	if (w->ctrial) {
		w->ctrial = false;
		if (w->rt != NULL && w->rt->cluster != NULL) {
			corral_breaker_trial_void(&w->rt->cluster->g.br);
			cluster_release(w->rt->cluster);
		}
	}
}

/*
 * An operator's start of a held worker: the breakers that hold it half-open
 * now, with this run as their trial (a breaker that needs a reset is
 * bypassed, not half-opened; one with no slot left, too).
 */
static void
guard_probe(struct guard *g, bool *trial, const char *who)
{
	enum corral_breaker_state prev = g->br.state;
	bool changed;
	char *detail;

	if (*trial || prev == CORRAL_BREAKER_CLOSED || g->br.reset_required)
		return;
	if (prev == CORRAL_BREAKER_OPEN)
		g->br.open_until_ms = mono();
	if (!corral_breaker_allow(&g->br, mono(), &changed))
		return;
	*trial = true;
	if (changed) {
		xasprintf(&detail, "%s started by the operator: its run is "
		    "the trial", who);
		guard_changed(g, prev, detail);
		free(detail);
	}
}

void
breakers_probe(struct worker *w)
{
	if (!breakers_on(w))
		return;
	guard_probe(&w->rt->g, &w->trial, w->name);
	if (w->rt->cluster != NULL)
		guard_probe(&w->rt->cluster->g, &w->ctrial, w->name);
}

void
breakers_forget(struct worker *w)
{
	slots_return(w);
}

void
breakers_rearm(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->nrts; i++)
		guard_arm(&f->rts[i]->g);
	for (i = 0; i < f->ncrts; i++)
		guard_arm(&f->crts[i]->g);
	breakers_release_all(f);
}

void
breakers_healthy(struct worker *w)
{
	struct guard *g[2];
	enum corral_breaker_state prev;
	int i;

	w->trial = w->ctrial = false;
	if (!breakers_on(w))
		return;
	g[0] = &w->rt->g;
	g[1] = w->rt->cluster != NULL ? &w->rt->cluster->g : NULL;
	for (i = 0; i < 2; i++) {
		unsigned before;

		if (g[i] == NULL)
			continue;
		prev = g[i]->br.state;
		before = g[i]->br.failures;
		if (corral_breaker_success(&g[i]->br, mono())) {
			guard_changed(g[i], prev, NULL);
			guard_release(g[i]);
		} else if (g[i]->br.failures != before)
			guard_counted(g[i]); /* a consecutive count ended */
	}
}

/* One counted failure (or a fatal one) against g.  True on a change. */
static bool
guard_fail(struct guard *g, bool fatal_exit, bool *trial)
{
	enum corral_breaker_state prev = g->br.state;
	bool changed;

	if (fatal_exit)
		changed = corral_breaker_fatal(&g->br, mono());
	else
		changed = corral_breaker_failure(&g->br, mono(),
		    corral_rng_uniform(&g->fleet->rng));
	if (!changed) {
		if (g->br.state == CORRAL_BREAKER_CLOSED)
			guard_counted(g);
		return false;
	}
	*trial = false; /* the verdict is in: reopened */
	guard_changed(g, prev, NULL);
	if (g->br.state == CORRAL_BREAKER_OPEN)
		guard_hold_backoffs(g);
	return true;
}

bool
breakers_exited(struct worker *w, enum corral_exit_class cls,
    const struct restart_plan *plan)
{
	struct agent_rt *rt = w->rt;
	struct cluster_rt *c;
	bool counted, voided, cvoided, held = false;

	if (!breakers_on(w))
		return false;
	if (cls == CORRAL_EXIT_STOPPED) {
		breakers_trial_void(w);
		return false;
	}
	c = rt->cluster;
	/*
	 * A transient exit is expected: backoff, but no count.  A storage
	 * exit is the disk's failure, not the agent's: a full disk must not
	 * open every breaker of the fleet.
	 */
	counted = cls == CORRAL_EXIT_FATAL ||
	    (plan->failure && cls != CORRAL_EXIT_TRANSIENT &&
	    cls != CORRAL_EXIT_STORAGE);
	if (counted) {
		/* A fatal exit needs a human for its agent, not its cluster. */
		guard_fail(&rt->g, cls == CORRAL_EXIT_FATAL, &w->trial);
		if (c != NULL)
			guard_fail(&c->g, false, &w->ctrial);
	}
	/*
	 * A trial that ended without a verdict (transient, clean) frees its
	 * slot, offered once this worker is held too.
	 */
	voided = w->trial;
	cvoided = w->ctrial;
	w->trial = w->ctrial = false;
	if (voided)
		corral_breaker_trial_void(&rt->g.br);
	if (cvoided && c != NULL)
		corral_breaker_trial_void(&c->g.br);
	/*
	 * OPEN holds the restart; HALF_OPEN lets the backoff run, and its
	 * timer asks the breakers for a trial slot.
	 */
	if (plan->next == W_BACKOFF) {
		if (rt->g.br.state == CORRAL_BREAKER_OPEN) {
			breakers_hold(w, BY_AGENT);
			held = true;
		} else if (c != NULL && c->g.br.state == CORRAL_BREAKER_OPEN) {
			breakers_hold(w, BY_CLUSTER);
			held = true;
		}
	}
	if (voided)
		rt_release(rt, false);
	if (cvoided && c != NULL)
		cluster_release(c);
	return held;
}

/*
 * Should rt's fallback run?  While rt's breaker is not closed and rt is
 * meant to run: an instance the operator did not stop waits, runs or
 * failed for good, or rt is itself wanted as another agent's fallback.
 */
static bool
wants_fallback(const struct agent_rt *rt)
{
	struct fleet *f = rt->g.fleet;
	size_t i;

	if (rt->fallback == NULL || !f->conf->breakers ||
	    rt->g.br.state == CORRAL_BREAKER_CLOSED || f->shutting_down)
		return false;
	for (i = 0; i < rt->nworkers; i++) {
		const struct worker *w = rt->workers[i];
		if (w->held)
			continue;
		if (rt->demand > 0 || (w->state != W_STOPPED &&
		    w->state != W_EXITED))
			return true;
	}
	return false;
}

static void
fallback_start(struct agent_rt *fb, const char *primary)
{
	size_t i, n = 0;

	for (i = 0; i < fb->nworkers; i++) {
		struct worker *w = fb->workers[i];
		/* What runs on its own, or was stopped by a human, is left. */
		if (w->held || w->queued)
			continue;
		if (w->state == W_STOPPING) {
			/* On its way out: it comes back once stopped. */
			w->for_fallback = true;
			w->restart_pending = true;
			n++;
			continue;
		}
		if (w->pid != 0 || (w->state != W_STOPPED &&
		    w->state != W_EXITED))
			continue;
		w->for_fallback = true;
		w->failures = 0;
		w->chain = 0;
		n++;
		breakers_start(w);
	}
	log_info("agent %s: runs in place of %s (%zu instance%s started)",
	    fb->g.name, primary, n, n == 1 ? "" : "s");
}

static void
fallback_stop(struct agent_rt *fb)
{
	size_t i, n = 0;

	for (i = 0; i < fb->nworkers; i++) {
		struct worker *w = fb->workers[i];
		if (!w->for_fallback)
			continue;
		w->for_fallback = false;
		w->restart_pending = false;
		n++;
		/* Failed for good while standing in: no longer wanted either. */
		if (w->pid == 0 && (w->state == W_FATAL ||
		    w->state == W_EXITED))
			worker_set_state(w, W_STOPPED, "no longer needed as a "
			    "fallback");
		else
			worker_halt(w);
	}
	log_info("agent %s: no agent falls back to it any more (%zu "
	    "instance%s stopped)", fb->g.name, n, n == 1 ? "" : "s");
}

void
fallback_update(struct agent_rt *rt)
{
	struct agent_rt *fb = rt->fallback;
	bool want;

	/* During the first start, once every autostart worker is queued. */
	if (rt->g.fleet->starting)
		return;
	if (rt->demanding && fb == NULL) {
		rt->demanding = false; /* its fallback went with a reload */
		return;
	}
	want = wants_fallback(rt);
	if (want == rt->demanding)
		return;
	rt->demanding = want;
	/* Chains end (no cycles in a valid file): the recursion does too. */
	if (want) {
		if (fb->demand++ == 0)
			fallback_start(fb, rt->g.name);
	} else if (fb->demand > 0 && --fb->demand == 0)
		fallback_stop(fb);
	/* Whether fb is wanted changed: so may its own fallback's demand. */
	fallback_update(fb);
}

void
fallback_recount(struct fleet *f)
{
	bool *was = xcalloc(f->nrts, sizeof(*was)), changed;
	size_t i, j;

	for (i = 0; i < f->nrts; i++) {
		struct agent_rt *rt = f->rts[i];
		for (j = 0; j < rt->nworkers; j++)
			if (rt->workers[j]->for_fallback)
				was[i] = true;
		rt->demand = 0;
		rt->demanding = false;
	}
	/* Demand flows down the chains, which end: this settles. */
	do {
		changed = false;
		for (i = 0; i < f->nrts; i++) {
			struct agent_rt *rt = f->rts[i];
			bool want = wants_fallback(rt);
			if (want == rt->demanding)
				continue;
			rt->demanding = want;
			if (want)
				rt->fallback->demand++;
			else
				rt->fallback->demand--;
			changed = true;
		}
	} while (changed);
	for (i = 0; i < f->nrts; i++) {
		if (was[i] && f->rts[i]->demand == 0)
			fallback_stop(f->rts[i]);
		else if (!was[i] && f->rts[i]->demand > 0)
			fallback_start(f->rts[i], "an agent with a broken "
			    "breaker");
	}
	free(was);
}

/* At start: read saved breakers; count trials adopted across a reexec. */
static void
guard_restore(struct guard *g)
{
	struct fleet *f = g->fleet;
	struct worker **ws;
	struct clocks now;
	char left[48] = "";
	size_t j, n;

	clocks_now(&now);
	if (statedb_load_breaker(f->db, g->name, &g->br, &now) != 1)
		return;
	/* A window's failure times are not kept: it starts empty. */
	if (g->br.policy.failure_window_ms > 0)
		g->br.failures = 0;
	else if (g->br.failures >= g->br.policy.failure_threshold)
		g->br.failures = g->br.policy.failure_threshold - 1;
	if (g->br.state == CORRAL_BREAKER_CLOSED)
		return;
	if (g->br.state == CORRAL_BREAKER_OPEN && !g->br.reset_required)
		snprintf(left, sizeof(left), ", %.3fs left",
		    (double)corral_breaker_remaining_ms(&g->br, now.mono_ms) /
		    1000.0);
	log_info("%s %s: breaker %s since before this start%s%s",
	    g->is_cluster ? "cluster" : "agent", g->name,
	    corral_breaker_state_name(g->br.state),
	    g->br.reset_required ? ", reset required" : "", left);
	/*
	 * Half-open: a trial adopted across a reexec still counts; after a
	 * crash none is left, and new ones are let through.
	 */
	g->br.trials = 0;
	ws = guarded(g, &n);
	for (j = 0; j < n; j++) {
		struct worker *w = ws[j];
		if (!w->adopted || g->br.state != CORRAL_BREAKER_HALF_OPEN)
			continue;
		/* Running, queued, or waiting after a failed fork. */
		if (g->is_cluster ? w->ctrial : w->trial)
			g->br.trials++;
	}
	guard_arm(g);
}

static bool
breaker_known(void *arg, const char *name)
{
	struct fleet *f = arg;

	return fleet_find_rt(f, name) != NULL || fleet_find_crt(f, name) != NULL;
}

void
breakers_prune(struct fleet *f)
{
	if (statedb_keep_breakers(f->db, breaker_known, f) == -1)
		log_warnx("cannot forget the breakers of agents and clusters "
		    "no longer in the file");
}

void
breakers_resave(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->nrts; i++)
		guard_counted(&f->rts[i]->g);
	for (i = 0; i < f->ncrts; i++)
		guard_counted(&f->crts[i]->g);
}

void
breakers_restore(struct fleet *f)
{
	size_t i;

	breakers_prune(f);
	for (i = 0; i < f->nrts; i++)
		guard_restore(&f->rts[i]->g);
	for (i = 0; i < f->ncrts; i++)
		guard_restore(&f->crts[i]->g);
}

static void
reset_guard(struct guard *g, const char *detail)
{
	enum corral_breaker_state prev = g->br.state;

	if (corral_breaker_reset(&g->br))
		guard_changed(g, prev, detail);
	else
		guard_counted(g); /* closed already: its count starts again */
}

int
fleet_reset_breaker(struct fleet *f, const char *name, const char *who,
    const char *why, char *was, size_t len)
{
	struct agent_rt *rt = fleet_find_rt(f, name);
	struct cluster_rt *c;
	char *detail;
	size_t i;

	if (rt == NULL && (c = fleet_find_crt(f, name)) == NULL)
		return -1;
	xasprintf(&detail, "reset by %s: %s", who, why);
	if (rt != NULL) {
		snprintf(was, len, "%s%s",
		    corral_breaker_state_name(rt->g.br.state),
		    rt->g.br.reset_required ? ", reset required" : "");
		reset_guard(&rt->g, detail);
		rt_release(rt, true);
		free(detail);
		return 0;
	}
	snprintf(was, len, "%s", corral_breaker_state_name(c->g.br.state));
	/* A cluster's reset is its members' too: the operator wants it back. */
	reset_guard(&c->g, detail);
	for (i = 0; i < f->nrts; i++)
		if (f->rts[i]->cluster == c)
			reset_guard(&f->rts[i]->g, detail);
	for (i = 0; i < f->nrts; i++)
		if (f->rts[i]->cluster == c)
			rt_release(f->rts[i], true);
	cluster_release(c);
	free(detail);
	return 0;
}
