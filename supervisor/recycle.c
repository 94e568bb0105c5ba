/*
 * recycle.c: runs that are restarted on purpose, against the slow bloat
 * of a long-lived agent.  max_age: a run older than it (less a jitter
 * drawn per run, so that instances started together do not stop
 * together) is recycled.  cron_restart: at the times of a cron spec, the
 * agent's instances are recycled one after another, each once the one
 * before is up again: a rolling restart of order.c's, recycling.  A
 * recycle is worker_recycle()'s: a stop and an immediate start, no
 * failure.
 *
 * Timers: one per worker for max_age (its own deadline, from its own
 * start), one per agent for cron_restart (one spec; the roll through its
 * instances is order.c's, one per agent).  A fleet-wide timer would only
 * rebuild the heap libevent keeps already.
 */
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "corrald.h"

/* A cron timer wakes at least this often, to follow steps of the clock. */
#define CRON_WAKE_MS 60000

uint64_t
recycle_due_in(uint64_t max_age_ms, double jitter, double u,
    uint64_t start_ms, uint64_t now_ms)
{
	uint64_t age, due;

	if (max_age_ms == 0)
		return UINT64_MAX;
	if (u < 0.0)
		u = 0.0;
	if (u >= 1.0)
		u = 0.999999;
	/* Earlier, never later: no run lives past max_age. */
	age = max_age_ms - (uint64_t)((double)max_age_ms * jitter * u);
	due = start_ms + age;
	return due <= now_ms ? 0 : due - now_ms;
}

static void
age_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char d[32], why[64];

	(void)fd;
	(void)what;
	if (w->pid == 0 || (w->state != W_STARTING && w->state != W_RUNNING))
		return;
	format_duration(w->agent->max_age_ms, d, sizeof(d));
	snprintf(why, sizeof(why), "max_age %s", d);
	worker_recycle(w, why);
}

void
recycle_disarm(struct worker *w)
{
	if (w->age_ev != NULL)
		evtimer_del(w->age_ev);
}

void
recycle_arm(struct worker *w)
{
	const struct agent_conf *a = w->agent;
	uint64_t ms;

	if (w->pid == 0 || a->max_age_ms == 0 || w->retiring) {
		recycle_disarm(w);
		return;
	}
	if (w->age_ev == NULL &&
	    (w->age_ev = evtimer_new(w->fleet->base, age_cb, w)) == NULL)
		fatal("agent %s: cannot create its max_age timer", w->name);
	event_base_update_cache_time(w->fleet->base);
	ms = recycle_due_in(a->max_age_ms, a->backoff.jitter, w->age_u,
	    w->start_mono_ms, now_mono_ms());
	timer_add_ms(w->age_ev, ms);
}

void
recycle_rt_free(struct agent_rt *rt)
{
	if (rt->cron_ev != NULL)
		event_free(rt->cron_ev);
	rt->cron_ev = NULL;
}

/*
 * The firing: a rolling restart that recycles (order.c).  Skipped, said in
 * the log, while a roll of the agent goes on: the last firing's, or an
 * operator's restart --rolling.
 */
static void
cron_fire(struct agent_rt *rt, const struct agent_conf *a)
{
	struct roll_how how;
	char recycle[96], why[256];

	snprintf(recycle, sizeof(recycle), "cron_restart %s",
	    a->cron_restart);
	memset(&how, 0, sizeof(how));
	how.recycle = recycle;
	how.what = "cron_restart";
	if (fleet_roll_start(rt->g.fleet, rt->g.name, &how, why,
	    sizeof(why)) == -1)
		log_warnx("agent %s: cron_restart is due, but %s; this firing "
		    "is skipped", rt->g.name, why);
}

/* Sleep towards the due time, waking every CRON_WAKE_MS meanwhile. */
static void
cron_sleep(struct agent_rt *rt)
{
	int64_t left = (int64_t)rt->cron_due * 1000 - now_wall_ms();

	if (left < 0)
		left = 0;
	if (left > CRON_WAKE_MS)
		left = CRON_WAKE_MS;
	event_base_update_cache_time(rt->g.fleet->base);
	timer_add_ms(rt->cron_ev, (uint64_t)left);
}

static void
cron_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent_rt *rt = arg;
	struct fleet *f = rt->g.fleet;
	const struct agent_conf *a = NULL;
	time_t now = time(NULL), from;
	size_t i;

	(void)fd;
	(void)what;
	/* Early: the wall clock went back, or this is a wake-up to look. */
	if (now < rt->cron_due) {
		cron_sleep(rt);
		return;
	}
	for (i = 0; i < f->nrts; i++)
		if (f->rts[i] == rt)
			a = &f->conf->agents[i];
	if (a == NULL || a->cron_restart == NULL)
		return;
	if (!f->shutting_down)
		cron_fire(rt, a);
	/* From now, not the due time: a clock that jumped ahead fires once. */
	from = now > rt->cron_due ? now : rt->cron_due;
	if (cron_next(&a->cron, from, &rt->cron_due) == -1) {
		log_warnx("agent %s: cron_restart %s: no time to come matches",
		    rt->g.name, a->cron_restart);
		return;
	}
	cron_sleep(rt);
}

void
recycle_cron_arm(struct agent_rt *rt, const struct agent_conf *a)
{
	struct tm tm;
	char at[64];

	if (a->cron_restart == NULL) {
		if (rt->cron_ev != NULL)
			evtimer_del(rt->cron_ev);
		return;
	}
	if (rt->cron_ev == NULL && (rt->cron_ev = evtimer_new(rt->g.fleet->base,
	    cron_cb, rt)) == NULL)
		fatal("agent %s: cannot create its cron_restart timer",
		    rt->g.name);
	if (cron_next(&a->cron, time(NULL), &rt->cron_due) == -1) {
		log_warnx("agent %s: cron_restart %s: no time to come matches",
		    rt->g.name, a->cron_restart);
		evtimer_del(rt->cron_ev);
		return;
	}
	if (localtime_r(&rt->cron_due, &tm) != NULL &&
	    strftime(at, sizeof(at), "%Y-%m-%d %H:%M %Z", &tm) > 0)
		log_info("agent %s: cron_restart %s: next at %s", rt->g.name,
		    a->cron_restart, at);
	cron_sleep(rt);
}

void
recycle_reloaded(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->nrts; i++)
		recycle_cron_arm(f->rts[i], &f->conf->agents[i]);
	for (i = 0; i < f->nworkers; i++)
		recycle_arm(f->workers[i]);
	/* A roll whose instance the reload removed looks again. */
	order_changed(f);
}
