/*
 * cluster.c: what a cluster does beyond its breaker.  Its restart strategy,
 * as OTP's supervisors have them: under one_for_all a member worker's
 * failure stops every other worker of the cluster, under rest_for_one those
 * after it in start order, and the stopped ones start again together with
 * the failed one when its backoff ends, in start order.  And its health,
 * evaluated once per loop turn after a member's state changed.
 */
#include <string.h>

#include <event2/event.h>

#include "corrald.h"

const char *
health_name(enum health h)
{
	switch (h) {
	case H_HEALTHY:
		return "HEALTHY";
	case H_DEGRADED:
		return "DEGRADED";
	case H_CRITICAL:
		return "CRITICAL";
	}
	return "?";
}

enum health
health_of(unsigned up, unsigned down, unsigned min_healthy,
    bool breaker_closed)
{
	if (up < min_healthy)
		return H_CRITICAL;
	if (down > 0 || !breaker_closed)
		return H_DEGRADED;
	return H_HEALTHY;
}

static struct cluster_rt *
cluster_of(const struct worker *w)
{
	return w->rt != NULL ? w->rt->cluster : NULL;
}

static bool
group_pending(const struct cluster_rt *c)
{
	return c->group_timer != NULL &&
	    evtimer_pending(c->group_timer, NULL);
}

/* The failed one's backoff is over: the group starts, in start order. */
static void
group_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cluster_rt *c = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < c->nmembers; i++) {
		struct worker *w = c->members[i];
		if (!w->regroup || w->pid != 0 || w->state != W_BACKOFF)
			continue;
		w->regroup = false;
		breakers_start(w);
	}
}

/* The group starts at due (monotonic ms); the timer is made on first use. */
static void
group_arm(struct cluster_rt *c, uint64_t due)
{
	uint64_t now = now_mono_ms();

	if (c->group_timer == NULL && (c->group_timer =
	    evtimer_new(c->g.fleet->base, group_cb, c)) == NULL)
		fatal("cluster %s: cannot create its restart timer", c->g.name);
	c->group_due_ms = due;
	timer_add_ms(c->group_timer, due > now ? due - now : 0);
}

bool
cluster_regroup(struct worker *w, uint64_t delay_ms)
{
	struct fleet *f = w->fleet;
	struct cluster_rt *c = cluster_of(w);
	enum strategy st;
	bool after = false;
	unsigned n = 0;
	size_t i;

	if (c == NULL || f->shutting_down)
		return false;
	st = c->conf->strategy;
	if (st == STRAT_ONE_FOR_ONE)
		return false;
	/* The members are in start order: rest_for_one's "after". */
	for (i = 0; i < c->nmembers; i++) {
		struct worker *s = c->members[i];
		if (s == w) {
			after = true;
			continue;
		}
		if (st == STRAT_REST_FOR_ONE && !after)
			continue;
		/* Only what runs: the others restart on their own already. */
		if ((s->state != W_STARTING && s->state != W_RUNNING) ||
		    s->stop_requested)
			continue;
		worker_halt(s);
		s->regroup = true; /* after the halt, which clears it */
		n++;
	}
	if (n == 0 && !group_pending(c))
		return false;
	if (n > 0)
		log_info("cluster %s: %s: %s failed; %u worker%s stopped to "
		    "restart with it", c->g.name, strategy_name(st), w->name,
		    n, n == 1 ? "" : "s");
	w->regroup = true;
	/* A later failure's longer backoff moves the whole group. */
	if (!group_pending(c) || now_mono_ms() + delay_ms > c->group_due_ms) {
		group_arm(c, now_mono_ms() + delay_ms);
		/* Those waiting already (a stopping one's is its stop's). */
		for (i = 0; i < c->nmembers; i++) {
			struct worker *s = c->members[i];
			if (s->regroup && s->pid == 0 && s->state == W_BACKOFF)
				s->deadline_mono_ms = c->group_due_ms;
		}
	}
	w->deadline_mono_ms = c->group_due_ms;
	return true;
}

void
cluster_regroup_restore(struct fleet *f)
{
	uint64_t due;
	size_t i, j;

	for (j = 0; j < f->ncrts; j++) {
		struct cluster_rt *c = f->crts[j];
		bool any = false;

		due = 0;
		for (i = 0; i < c->nmembers; i++) {
			struct worker *w = c->members[i];
			if (!w->regroup || w->pid != 0 || w->state != W_BACKOFF)
				continue;
			any = true;
			if (w->deadline_mono_ms > due)
				due = w->deadline_mono_ms;
		}
		if (any)
			group_arm(c, due);
	}
}

void
cluster_regroup_orphans(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		struct cluster_rt *c = cluster_of(w);
		if (!w->regroup || w->pid != 0 || w->state != W_BACKOFF ||
		    (c != NULL && group_pending(c)))
			continue;
		w->regroup = false;
		breakers_start(w);
	}
}

void
cluster_regrouped_exit(struct worker *w)
{
	struct cluster_rt *c = cluster_of(w);
	char why[NAME_MAX_LEN + 48];

	if (c != NULL && group_pending(c)) {
		snprintf(why, sizeof(why), "restarts with cluster %s (%s)",
		    c->g.name, strategy_name(c->conf->strategy));
		w->deadline_mono_ms = c->group_due_ms;
		worker_set_state(w, W_BACKOFF, why);
		return;
	}
	/* The group started while this one was stopping: it follows now. */
	w->regroup = false;
	worker_set_state(w, W_BACKOFF, "restarts with its cluster");
	breakers_start(w);
}

/*
 * Up: running, or starting afresh (not after a failure), or being
 * restarted by the operator.  Down: waiting after a failure, held by a
 * breaker or the descriptor limit, failed for good, or stopped by the
 * strategy.  The rest (stopped
 * or done on purpose) is neither.
 */
static int
worker_health(const struct worker *w)
{
	/* Whatever state it stopped in, the operator wants it so. */
	if (w->held && w->pid == 0)
		return 0;
	/* Waiting for a spawn slot: as good as STARTING. */
	if (w->queued)
		return w->failures == 0 ? 1 : -1;
	switch (w->state) {
	case W_RUNNING:
		return 1;
	case W_STARTING:
		return w->failures == 0 ? 1 : -1;
	case W_STOPPING:
		return w->restart_pending ? 1 : w->regroup ? -1 : 0;
	case W_BACKOFF:
	case W_HELD:
	case W_DEGRADED:
	case W_LIMITED:
	case W_WAITING:
	case W_FATAL:
		return -1;
	default:
		return 0;
	}
}

static void
health_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cluster_rt *c = arg;
	struct fleet *f = c->g.fleet;
	struct db_event e;
	enum health h, old;
	unsigned up = 0, down = 0;
	size_t i;
	int k;

	(void)fd;
	(void)what;
	/* Before the first start and during shutdown nothing is news. */
	if (!f->started || f->shutting_down)
		return;
	for (i = 0; i < c->nmembers; i++) {
		k = worker_health(c->members[i]);
		up += k > 0;
		down += k < 0;
	}
	c->up = up;
	c->down = down;
	h = health_of(up, down, c->conf->min_healthy, !f->conf->breakers ||
	    c->g.br.state == CORRAL_BREAKER_CLOSED);
	/* After a reexec the first measure is no news: it was so before. */
	if (!c->health_known) {
		c->health_known = true;
		if (f->resumed)
			c->health = h;
	}
	if (h == c->health)
		return;
	old = c->health;
	c->health = h;
	if (h == H_HEALTHY)
		log_info("cluster %s: %s -> %s (%u up)", c->g.name,
		    health_name(old), health_name(h), up);
	else
		log_warnx("cluster %s: %s -> %s (%u up, %u down, min_healthy "
		    "%u)", c->g.name, health_name(old), health_name(h), up,
		    down, c->conf->min_healthy);
	memset(&e, 0, sizeof(e));
	e.kind = EV_HEALTH;
	e.time_ms = now_wall_ms();
	snprintf(e.agent, sizeof(e.agent), "%s", c->g.name);
	e.instance = -1;
	e.code = e.sig = e.err = -1;
	e.start_failure = -1;
	e.prev_state = health_name(old);
	e.state = health_name(h);
	xasprintf(&e.detail, "%u up, %u down, min_healthy %u", up, down,
	    c->conf->min_healthy);
	statedb_add(f->db, &e);
	hook_run(c, "health", c->g.name, health_name(old), health_name(h));
}

void
cluster_touch(struct cluster_rt *c)
{
	static const struct timeval now = { 0, 0 };

	if (c == NULL)
		return;
	if (c->health_ev == NULL &&
	    (c->health_ev = evtimer_new(c->g.fleet->base, health_cb, c)) ==
	    NULL)
		fatal("cluster %s: cannot create its health timer", c->g.name);
	/* Through the poll, like the spawn queue: once per loop turn. */
	if (!evtimer_pending(c->health_ev, NULL))
		evtimer_add(c->health_ev, &now);
}
