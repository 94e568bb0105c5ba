/*
 * order.c: the order of starts and restarts.  `after` holds a worker back
 * (WAITING) until every instance of each agent it comes after is up;
 * shutdown stops dependents before what they depend on; a rolling
 * restart (corralctl's, or cron_restart's recycling) takes an agent's
 * instances down one at a time, each new run up before the next goes;
 * corralctl scale adds or removes instances.  The
 * decisions (order_admit, roll_step, scale_plan) are pure; the rest reads
 * the fleet for them and acts on what they say.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "corrald.h"

/* Pure decisions. */

/* Will a dependency instance come up without a human's help? */
static bool
dep_blocked(const struct dep_view *d)
{
	if (d->on_way)
		return false;
	if (d->held)
		return true;
	switch (d->state) {
	case W_STOPPED:
	case W_EXITED:
	case W_FATAL:
		return true;
	default:
		return false;
	}
}

enum order_verdict
order_admit(const struct dep_view *deps, size_t n, char *why, size_t len)
{
	const struct dep_view *first = NULL, *block = NULL;
	size_t i, waiting = 0;

	for (i = 0; i < n; i++) {
		if (deps[i].up)
			continue;
		waiting++;
		if (first == NULL)
			first = &deps[i];
		if (block == NULL && dep_blocked(&deps[i]))
			block = &deps[i];
	}
	if (first == NULL) {
		if (len > 0)
			why[0] = '\0';
		return ORDER_GO;
	}
	/* The one a human must act on comes first: it is the news. */
	if (block != NULL)
		first = block;
	if (block != NULL)
		snprintf(why, len, "waiting for %s (%s%s: corralctl start %.*s "
		    "starts it)%s", first->name, wstate_name(first->state),
		    first->held ? ", stopped by the operator" : "",
		    (int)strcspn(first->name, "."), first->name,
		    waiting > 1 ? " and others" : "");
	else if (first->state == W_RUNNING && first->notify)
		snprintf(why, len, "waiting for %s (RUNNING, no READY=1 yet)%s",
		    first->name, waiting > 1 ? " and others" : "");
	else
		snprintf(why, len, "waiting for %s (%s)%s", first->name,
		    wstate_name(first->state), waiting > 1 ? " and others" :
		    "");
	return block != NULL ? ORDER_BLOCKED : ORDER_WAIT;
}

enum roll_act
roll_step(struct roll_plan *p, uint64_t now_ms, size_t *pick)
{
	size_t i, first_down = SIZE_MAX, first_up = SIZE_MAX;
	size_t done_down = SIZE_MAX;

	p->just_done = -1;
	p->blocker = -1;
	for (i = 0; i < p->n; i++) {
		struct roll_inst *x = &p->inst[i];
		if (x->done)
			continue;
		if (p->recycle && (ssize_t)i != p->cur)
			x->skip = x->skip || x->held || !x->same;
		else
			x->skip = x->held;
	}
	if (p->cur >= 0 && p->inst[p->cur].skip) {
		/* Stopped by the operator meanwhile: left as they want it. */
		p->cur = -1;
		p->deadline_ms = 0;
	} else if (p->cur >= 0) {
		struct roll_inst *c = &p->inst[p->cur];
		if (!c->up) {
			p->blocker = p->cur;
			if (p->cur_gone || now_ms >= p->deadline_ms)
				return ROLL_FAIL;
			return ROLL_WAIT;
		}
		c->done = true;
		p->just_done = p->cur;
		p->cur = -1;
		p->deadline_ms = 0;
	}
	for (i = 0; i < p->n; i++) {
		const struct roll_inst *x = &p->inst[i];
		if (x->skip)
			continue;
		if (x->done) {
			if (!x->up && done_down == SIZE_MAX)
				done_down = i;
			continue;
		}
		if (!x->up && first_down == SIZE_MAX)
			first_down = i;
		if (x->up && first_up == SIZE_MAX)
			first_up = i;
	}
	/* One that is down already: restarting it takes nothing down. */
	if (first_down != SIZE_MAX)
		*pick = first_down;
	else if (first_up == SIZE_MAX)
		return ROLL_DONE;
	else if (done_down != SIZE_MAX) {
		/* A new run went down again: another would make two. */
		p->blocker = (ssize_t)done_down;
		if (p->deadline_ms == 0)
			p->deadline_ms = now_ms + p->timeout_ms;
		return now_ms >= p->deadline_ms ? ROLL_FAIL : ROLL_WAIT;
	} else
		*pick = first_up;
	p->cur = (ssize_t)*pick;
	p->cur_gone = false;
	p->deadline_ms = now_ms + p->timeout_ms;
	return ROLL_RESTART;
}

void
scale_plan(unsigned from, unsigned to, struct scale_change *c)
{
	memset(c, 0, sizeof(*c));
	if (to > from) {
		c->first_new = from;
		c->nnew = to - from;
	} else if (to < from) {
		/* The highest numbers go: the others keep their threads. */
		c->first_gone = to;
		c->ngone = from - to;
	}
}

/* The fleet's side. */

bool
worker_up(const struct worker *w)
{
	return w->pid != 0 && w->state == W_RUNNING &&
	    (!w->agent->ready_notify || w->ready);
}

void
order_unlink(struct agent_rt *rt)
{
	free(rt->deps);
	free(rt->dependents);
	rt->deps = rt->dependents = NULL;
	rt->ndeps = rt->ndependents = 0;
}

void
order_link(struct fleet *f)
{
	struct agent_rt *rt, *d;
	size_t i, j;

	for (i = 0; i < f->nrts; i++)
		order_unlink(f->rts[i]);
	/* Counted first: one allocation each. */
	for (i = 0; i < f->nrts; i++) {
		rt = f->rts[i];
		rt->deps = xcalloc(f->conf->agents[i].after.n + 1,
		    sizeof(*rt->deps));
		for (j = 0; j < f->conf->agents[i].after.n; j++) {
			d = fleet_find_rt(f, f->conf->agents[i].after.v[j]);
			if (d == NULL) /* checked when the file was loaded */
				continue;
			rt->deps[rt->ndeps++] = d;
			d->ndependents++;
		}
	}
	for (i = 0; i < f->nrts; i++) {
		f->rts[i]->dependents = xcalloc(f->rts[i]->ndependents + 1,
		    sizeof(*f->rts[i]->dependents));
		f->rts[i]->ndependents = 0;
	}
	f->ordered = false;
	for (i = 0; i < f->nrts; i++)
		for (j = 0; j < f->rts[i]->ndeps; j++) {
			d = f->rts[i]->deps[j];
			d->dependents[d->ndependents++] = f->rts[i];
			f->ordered = true;
		}
}

/* The verdict for rt's workers (they all have the same dependencies). */
static enum order_verdict
rt_check(const struct agent_rt *rt, char *why, size_t len)
{
	struct dep_view *v;
	enum order_verdict ov;
	size_t i, j, n = 0;

	if (rt == NULL || rt->ndeps == 0) {
		if (len > 0)
			why[0] = '\0';
		return ORDER_GO;
	}
	for (i = 0; i < rt->ndeps; i++)
		n += rt->deps[i]->nworkers;
	v = xcalloc(n + 1, sizeof(*v));
	n = 0;
	for (i = 0; i < rt->ndeps; i++) {
		for (j = 0; j < rt->deps[i]->nworkers; j++) {
			const struct worker *d = rt->deps[i]->workers[j];
			v[n].name = d->name;
			v[n].state = d->state;
			v[n].up = worker_up(d);
			v[n].held = d->held && d->pid == 0;
			v[n].on_way = d->queued || d->restart_pending;
			v[n].notify = d->agent->ready_notify;
			n++;
		}
	}
	ov = order_admit(v, n, why, len);
	free(v);
	return ov;
}

/*
 * Is every instance of rt's dependencies up?  rt_check's ORDER_GO, without
 * its reason: looked at from the last instance, the last a mass start or
 * restart brings up, so that while one is still on its way this costs a
 * step, not a view of the whole dependency (each instance's RUNNING asks).
 */
static bool
rt_deps_up(const struct agent_rt *rt)
{
	size_t i, j;

	for (i = 0; i < rt->ndeps; i++)
		for (j = rt->deps[i]->nworkers; j-- > 0;)
			if (!worker_up(rt->deps[i]->workers[j]))
				return false;
	return true;
}

enum order_verdict
order_check(const struct worker *w, char *why, size_t len)
{
	/* The common answer, at each spawn, without building the view. */
	if (w->rt != NULL && rt_deps_up(w->rt)) {
		if (len > 0)
			why[0] = '\0';
		return ORDER_GO;
	}
	return rt_check(w->rt, why, len);
}

/* Start rt's WAITING workers if their dependencies are up now. */
static void
rt_release(struct agent_rt *rt)
{
	size_t i;

	for (i = 0; i < rt->nworkers; i++)
		if (rt->workers[i]->state == W_WAITING)
			break;
	if (i == rt->nworkers || !rt_deps_up(rt))
		return;
	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];
		if (w->state == W_WAITING && !w->held && w->pid == 0 &&
		    !w->queued)
			breakers_start(w);
	}
}

void
order_released(struct worker *w)
{
	size_t i;

	if (w->rt == NULL || w->fleet->shutting_down)
		return;
	for (i = 0; i < w->rt->ndependents; i++)
		rt_release(w->rt->dependents[i]);
}

void
order_release_all(struct fleet *f)
{
	size_t i;

	if (f->shutting_down)
		return;
	/*
	 * Every agent: one a reload took its after from (or the agent it
	 * came after) has WAITING workers and nothing left to wait for.
	 */
	for (i = 0; i < f->nrts; i++)
		rt_release(f->rts[i]);
}

/* Has one of rt's workers a process, or its post_stop running? */
static bool
rt_alive(const struct agent_rt *rt)
{
	size_t i;

	for (i = 0; i < rt->nworkers; i++)
		if (rt->workers[i]->pid != 0 ||
		    rt->workers[i]->post_hook != NULL)
			return true;
	return false;
}

void
order_shutdown_step(struct fleet *f, bool first)
{
	size_t i, j;

	/*
	 * After the first step only workers held back for their dependents
	 * are left to stop (nothing spawns while shutting down): none in a
	 * fleet without `after`, where a step at each exit would make a
	 * shutdown quadratic.
	 */
	if (!first && !f->ordered)
		return;
	/* Reverse start order, and a dependent's processes gone first. */
	for (i = f->nworkers; i-- > 0;) {
		struct worker *w = f->workers[i];
		bool wait = false;
		if (!first && w->pid == 0)
			continue;
		if (w->pid != 0 && (w->state == W_STOPPING ||
		    w->stop_requested))
			continue;
		if (w->pid != 0 && w->rt != NULL)
			for (j = 0; j < w->rt->ndependents && !wait; j++)
				wait = rt_alive(w->rt->dependents[j]);
		if (!wait)
			worker_halt(w);
	}
}

/*
 * Rolling restarts: corralctl restart --rolling's and cron_restart's
 * (recycle.c) are one mechanism; struct roll_how says how each restarts
 * an instance and who hears of it.  One roll per agent at a time.
 */

struct roll {
	struct roll *next;
	struct fleet *fleet;
	char agent[NAME_MAX_LEN + 1];
	char tag[NAME_MAX_LEN + 64];  /* how its log lines begin */
	char what[NAME_MAX_LEN + 64]; /* "a rolling restart of web" */
	char recycle[96];             /* plan.recycle: worker_recycle's why */
	bool client;                  /* control_roll_news */
	struct roll_plan plan;
	unsigned *runs;   /* per instance: its runs at the start, then when
			     this restarted it */
	long *oldpid;     /* per instance: the pid it had then */
	uint64_t *since;  /* per instance: when (monotonic) */
	size_t restarted;
	struct event *timer;
};

static void roll_run(struct roll *);

static void
roll_free(struct roll *r)
{
	if (r == NULL)
		return;
	if (r->timer != NULL)
		event_free(r->timer);
	free(r->plan.inst);
	free(r->runs);
	free(r->oldpid);
	free(r->since);
	free(r);
}

/* To the corralctl that follows it, if it has one. */
static void
roll_news(struct roll *r, int final, const char *msg)
{
	if (r->client && r->fleet->ctl != NULL)
		control_roll_news(r->fleet->ctl, r->agent, final, msg);
}

/* The roll is over: say so, unlink and free it. */
static void
roll_end(struct roll *r, bool ok, const char *msg)
{
	struct fleet *f = r->fleet;
	struct roll **pp;

	if (ok)
		log_info("%s: %s", r->tag, msg);
	else
		log_warnx("%s: %s", r->tag, msg);
	for (pp = &f->rolls; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	roll_news(r, ok ? 1 : -1, msg);
	roll_free(r);
}

static void
roll_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	roll_run(arg);
}

static void
roll_ev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fleet *f = arg;
	struct roll *r, *next;

	(void)fd;
	(void)what;
	for (r = f->rolls; r != NULL; r = next) {
		next = r->next;
		roll_run(r);
	}
}

void
order_changed(struct fleet *f)
{
	static const struct timeval next_turn = { 0, 0 };

	if (f->rolls != NULL && f->roll_ev != NULL &&
	    !evtimer_pending(f->roll_ev, NULL))
		evtimer_add(f->roll_ev, &next_turn);
}

/* Will w come up by itself?  Not from these states, without a process. */
static bool
gave_up(const struct worker *w)
{
	if (w->pid != 0 || w->queued || w->restart_pending)
		return false;
	switch (w->state) {
	case W_STOPPED:
	case W_EXITED:
	case W_FATAL:
	case W_HELD:
	case W_DEGRADED:
	case W_LIMITED:
		return true;
	default:
		return false;
	}
}

/* Could worker_recycle take w's run?  (Its own test, the same.) */
static bool
recyclable(const struct worker *w)
{
	return w->pid != 0 && (w->state == W_STARTING ||
	    w->state == W_RUNNING);
}

/* The plan sized to the agent's instances now (a scale or a reload). */
static void
roll_fit(struct roll *r, size_t n)
{
	size_t i, old = r->plan.n;

	if (n == old)
		return;
	r->plan.inst = xreallocarray(r->plan.inst, n + 1,
	    sizeof(*r->plan.inst));
	r->runs = xreallocarray(r->runs, n + 1, sizeof(*r->runs));
	r->oldpid = xreallocarray(r->oldpid, n + 1, sizeof(*r->oldpid));
	r->since = xreallocarray(r->since, n + 1, sizeof(*r->since));
	/* New instances run what a restart would start: nothing to do. */
	for (i = old; i < n; i++) {
		memset(&r->plan.inst[i], 0, sizeof(r->plan.inst[i]));
		r->plan.inst[i].done = true;
		r->runs[i] = 0;
		r->oldpid[i] = 0;
		r->since[i] = 0;
	}
	if (r->plan.cur >= (ssize_t)n) {
		r->plan.cur = -1;
		r->plan.deadline_ms = 0;
	}
	r->plan.n = n;
}

static void
roll_run(struct roll *r)
{
	struct fleet *f = r->fleet;
	struct agent_rt *rt = fleet_find_rt(f, r->agent);
	uint64_t now = now_mono_ms();
	char msg[512], d[32], last[64];
	enum roll_act act;
	struct worker *w;
	size_t i, pick = 0;

	if (rt == NULL) {
		roll_end(r, false, "the agent was removed by a reload");
		return;
	}
	if (f->shutting_down) {
		roll_end(r, false, "corrald is shutting down");
		return;
	}
	roll_fit(r, rt->nworkers);
	for (i = 0; i < r->plan.n; i++) {
		struct roll_inst *x = &r->plan.inst[i];
		w = rt->workers[i];
		x->up = worker_up(w);
		x->held = w->held && w->pid == 0;
		/* runs[i]: its runs at the start, for one not taken yet. */
		x->same = recyclable(w) && w->runs == r->runs[i];
		if ((ssize_t)i == r->plan.cur) {
			x->up = worker_up(w) && w->runs > r->runs[i];
			r->plan.cur_gone = w->runs > r->runs[i] && gave_up(w);
		}
	}
	act = roll_step(&r->plan, now, &pick);
	if (r->plan.just_done >= 0) {
		i = (size_t)r->plan.just_done;
		w = rt->workers[i];
		snprintf(msg, sizeof(msg), "%s up: pid %ld -> %ld, after %.1fs",
		    w->name, r->oldpid[i], (long)w->pid,
		    (double)(now - r->since[i]) / 1000.0);
		log_info("%s: %s", r->tag, msg);
		roll_news(r, 0, msg);
	}
	switch (act) {
	case ROLL_WAIT:
		if (r->plan.deadline_ms > now)
			timer_add_ms(r->timer, r->plan.deadline_ms - now);
		break;
	case ROLL_RESTART:
		w = rt->workers[pick];
		r->runs[pick] = w->runs;
		r->oldpid[pick] = (long)w->pid;
		r->since[pick] = now;
		r->restarted++;
		snprintf(msg, sizeof(msg), "%s %s (pid %ld)", r->plan.recycle ?
		    "recycling" : "restarting", w->name, (long)w->pid);
		log_info("%s: %s", r->tag, msg);
		roll_news(r, 0, msg);
		if (r->plan.recycle)
			worker_recycle(w, r->recycle);
		else
			worker_restart(w);
		timer_add_ms(r->timer, r->plan.timeout_ms);
		break;
	case ROLL_DONE:
		if (r->plan.recycle && r->restarted == r->plan.n)
			snprintf(msg, sizeof(msg), "every instance restarted");
		else if (r->plan.recycle)
			snprintf(msg, sizeof(msg), "%zu of %zu instance%s "
			    "restarted (the others did not run at the firing, "
			    "were stopped by the operator or added since)",
			    r->restarted, r->plan.n, r->plan.n == 1 ? "" : "s");
		else
			snprintf(msg, sizeof(msg), "%zu of %zu instance%s "
			    "restarted one at a time%s", r->restarted,
			    r->plan.n, r->plan.n == 1 ? "" : "s",
			    r->restarted < r->plan.n ? " (the others were "
			    "stopped by the operator or added since)" : "");
		roll_end(r, true, msg);
		return;
	case ROLL_FAIL:
		w = rt->workers[r->plan.blocker];
		format_duration(r->plan.timeout_ms, d, sizeof(d));
		snprintf(last, sizeof(last), "%s", w->last_class ==
		    CORRAL_EXIT_NONE ? "none" :
		    corral_exit_class_name(w->last_class));
		if (r->plan.cur == r->plan.blocker)
			snprintf(msg, sizeof(msg), "stopped: the new run of %s "
			    "%s (it is %s, last exit %s); %zu restarted, the "
			    "others keep their runs", w->name,
			    r->plan.cur_gone ? "will not come up by itself" :
			    "was not up within the timeout", wstate_name(
			    w->state), last, r->restarted - 1);
		else
			snprintf(msg, sizeof(msg), "stopped: %s went down "
			    "again after its restart and was not up within "
			    "%s (it is %s, last exit %s); %zu restarted, the "
			    "others keep their runs", w->name, d,
			    wstate_name(w->state), last, r->restarted);
		roll_end(r, false, msg);
		return;
	}
}

int
fleet_roll_start(struct fleet *f, const char *agent,
    const struct roll_how *how, char *why, size_t len)
{
	struct agent_rt *rt = fleet_find_rt(f, agent);
	struct roll *r;
	const struct agent_conf *a;
	char d[32];
	size_t i;

	if (f->shutting_down) {
		snprintf(why, len, "corrald is shutting down");
		return -1;
	}
	if (rt == NULL) {
		snprintf(why, len, "no agent '%s'", agent);
		return -1;
	}
	if (rt->nworkers == 0) {
		snprintf(why, len, "agent %s has no instances", agent);
		return -1;
	}
	/* One per agent: two would each count the other's down as theirs. */
	for (r = f->rolls; r != NULL; r = r->next)
		if (strcmp(r->agent, agent) == 0) {
			snprintf(why, len, "%s is under way", r->what);
			return -1;
		}
	if (f->roll_ev == NULL &&
	    (f->roll_ev = evtimer_new(f->base, roll_ev_cb, f)) == NULL)
		fatal("cannot create the rolling restart event");
	a = rt->workers[0]->agent;
	r = xcalloc(1, sizeof(*r));
	r->fleet = f;
	snprintf(r->agent, sizeof(r->agent), "%s", agent);
	if (how->what != NULL) {
		snprintf(r->tag, sizeof(r->tag), "agent %s: %s", agent,
		    how->what);
		snprintf(r->what, sizeof(r->what), "a %s of %s", how->what,
		    agent);
	} else {
		snprintf(r->tag, sizeof(r->tag), "rolling restart of %s",
		    agent);
		snprintf(r->what, sizeof(r->what), "a rolling restart of %s",
		    agent);
	}
	r->plan.recycle = how->recycle != NULL;
	if (r->plan.recycle)
		snprintf(r->recycle, sizeof(r->recycle), "%s", how->recycle);
	r->client = how->client;
	r->plan.cur = -1;
	r->plan.blocker = -1;
	r->plan.just_done = -1;
	/* Time to stop the old run, then for the new one to be up. */
	r->plan.timeout_ms = how->timeout_ms != 0 ? how->timeout_ms :
	    a->stop_timeout_ms + a->healthy_after_ms + ROLL_SLACK_MS;
	if ((r->timer = evtimer_new(f->base, roll_timer_cb, r)) == NULL)
		fatal("cannot create a rolling restart's timer");
	roll_fit(r, rt->nworkers);
	/* Fitted from nothing, every instance looks done: none is yet. */
	memset(r->plan.inst, 0, r->plan.n * sizeof(*r->plan.inst));
	for (i = 0; i < r->plan.n; i++)
		r->runs[i] = rt->workers[i]->runs;
	r->next = f->rolls;
	f->rolls = r;
	if (r->plan.recycle) {
		format_duration(r->plan.timeout_ms, d, sizeof(d));
		log_info("%s: restarting its %zu instance%s one after another "
		    "(each up within %s)", r->tag, r->plan.n, r->plan.n == 1 ?
		    "" : "s", d);
	} else
		log_info("%s: %zu instances, one at a time (each up within "
		    "%llu ms)", r->tag, r->plan.n,
		    (unsigned long long)r->plan.timeout_ms);
	roll_run(r);
	return 0;
}

const char *
rolls_operator(const struct fleet *f)
{
	const struct roll *r;

	for (r = f->rolls; r != NULL; r = r->next)
		if (r->recycle[0] == '\0')
			return r->agent;
	return NULL;
}

void
rolls_reexec(struct fleet *f)
{
	const struct roll *r;

	/* Nothing of a roll is handed over: the next image starts none. */
	for (r = f->rolls; r != NULL; r = r->next)
		log_warnx("%s: ends with this image at the reexec: %zu of %zu "
		    "restarted (the last may still be on its way up), the "
		    "others keep their runs", r->tag, r->restarted, r->plan.n);
}

void
rolls_free(struct fleet *f)
{
	struct roll *r;

	while ((r = f->rolls) != NULL) {
		f->rolls = r->next;
		roll_free(r);
	}
	if (f->roll_ev != NULL)
		event_free(f->roll_ev);
	f->roll_ev = NULL;
}
