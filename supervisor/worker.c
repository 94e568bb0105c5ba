/*
 * worker.c: the fleet of workers and the state machine of each.  Every
 * state change goes through worker_set_state(), which logs it and records
 * it; every decision about a restart is restart_decide()'s.  Timers, never
 * sleeps: one per worker, armed for healthy_after in STARTING, for the
 * backoff delay in BACKOFF and for stop_timeout in STOPPING.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"

#define SPAWN_BATCH 64 /* spawns per loop turn: the loop stays responsive */

/*
 * A spawn that failed for corrald's want of descriptors or processes is
 * retried on this, not the agent's backoff (which may be 1 ms): the
 * shortage is the host's, and a fleet retrying at once would keep it.
 */
static const struct corral_backoff spawn_retry = { 1000, 60000, 2.0, 0.25 };

extern char **environ;

static void worker_spawn(struct worker *);
static void worker_remove(struct fleet *, struct worker *, const char *);
static void spawn_soon(struct fleet *);
static bool spawns_waiting(void *);
static void worker_became_healthy(struct worker *);
static void worker_go(struct worker *);
static void spawn_cb(evutil_socket_t, short, void *);
static void timer_cb(evutil_socket_t, short, void *);
static void wdog_cb(evutil_socket_t, short, void *);
static void prestart_run(struct worker *);
static void poststop_run(struct worker *, enum corral_exit_class, int);
static void backoff_over(struct worker *);

/*
 * libevent measures a relative timeout from the time it cached when the
 * loop woke; a callback that spawned many workers may have run for a while
 * since.  Refresh it, or healthy_after would be cut short.
 */
void
worker_timer_arm(struct worker *w, uint64_t ms)
{

	event_base_update_cache_time(w->fleet->base);
	w->deadline_mono_ms = now_mono_ms() + ms;
	timer_add_ms(w->timer, ms);
}

static void
ev_fill(struct db_event *e, struct worker *w, enum ev_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->time_ms = now_wall_ms();
	snprintf(e->agent, sizeof(e->agent), "%s", w->agent->name);
	e->instance = (int)w->instance;
	e->pid = w->pid;
	e->code = e->sig = e->err = -1;
	e->start_failure = -1;
	e->restarts = w->runs > 0 ? w->runs - 1 : 0;
	e->chain = w->chain;
}

bool
worker_waiting(const struct worker *w)
{
	return w->state == W_HELD || w->state == W_DEGRADED;
}

/* Keep what a restart of corrald must remember of w (written in batch). */
static void
worker_save(struct worker *w)
{
	struct worker_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.agent, sizeof(r.agent), "%s", w->agent->name);
	r.instance = w->instance;
	r.state = (int)w->state;
	r.failures = w->failures;
	r.runs = w->runs;
	r.start_failures = w->start_failures;
	r.runtime_failures = w->runtime_failures;
	r.chain = w->chain;
	r.last_class = (int)w->last_class;
	r.last_code = w->last_code;
	r.last_signal = w->last_signal;
	memcpy(r.exits, w->exits, sizeof(r.exits));
	r.rs = w->rs;
	statedb_worker_put(w->fleet->db, &r);
}

/*
 * The state database was made afresh while running: queue again every row
 * of state this corrald knows (workers, held instances, live runs,
 * breakers, meta), so that the next start finds them.
 */
static void
fleet_resync(void *arg)
{
	struct fleet *f = arg;
	struct worker *w;
	size_t i;

	for (i = 0; i < f->nworkers; i++) {
		w = f->workers[i];
		worker_save(w);
		if (w->held)
			statedb_set_held(f->db, w->agent->name, w->instance,
			    true);
		runs_resave(w);
	}
	breakers_resave(f);
	statedb_set_meta(f->db, "boot_id", boot_id());
	statedb_set_meta(f->db, "cgroup", f->cgroot != NULL ? f->cgroot : "");
	log_info("state database: the state of %zu workers written again",
	    f->nworkers);
}

/* The only way a worker's state changes. */
void
worker_set_state(struct worker *w, enum wstate s, const char *why)
{
	struct db_event e;

	if (w->state == s)
		return;
	/*
	 * A spawn put off while the checkpoint database was locked was
	 * decided in the state it leaves (a breaker that opened, a stop):
	 * whoever moves it decides again.
	 */
	if (w->resume_ev != NULL && evtimer_pending(w->resume_ev, NULL)) {
		evtimer_del(w->resume_ev);
		w->resume_tries = 0;
	}
	log_info("agent %s: %s -> %s%s%s", w->name, wstate_name(w->state),
	    wstate_name(s), why ? ": " : "", why ? why : "");
	ev_fill(&e, w, EV_STATE);
	e.prev_state = wstate_name(w->state);
	e.state = wstate_name(s);
	if (why != NULL)
		e.detail = xstrdup(why);
	w->state = s;
	statedb_add(w->fleet->db, &e);
	if (!w->retiring)
		worker_save(w);
	if (s == W_STOPPED && w->restart_pending) {
		w->restart_pending = false;
		worker_go(w);
	}
	if (w->fleet->ctl != NULL)
		control_worker_changed(w->fleet->ctl, w);
	if (w->rt != NULL) {
		cluster_touch(w->rt->cluster);
		fallback_update(w->rt);
	}
	/* Up now: what comes after its agent may start (order.c). */
	if (s == W_RUNNING)
		order_released(w);
	order_changed(w->fleet);
}

/* pid -> worker, in O(1). */

static size_t
pid_slot(struct fleet *f, pid_t pid)
{
	return (size_t)pid & f->pidmask;
}

static void
pid_insert(struct worker *w)
{
	struct fleet *f = w->fleet;
	size_t i = pid_slot(f, w->pid);

	w->pid_next = f->pidtab[i];
	f->pidtab[i] = w;
	f->live++;
}

static void
pid_remove(struct worker *w)
{
	struct fleet *f = w->fleet;
	struct worker **pp;

	for (pp = &f->pidtab[pid_slot(f, w->pid)]; *pp != NULL;
	    pp = &(*pp)->pid_next) {
		if (*pp == w) {
			*pp = w->pid_next;
			w->pid_next = NULL;
			f->live--;
			return;
		}
	}
}

struct worker *
fleet_find_pid(struct fleet *f, pid_t pid)
{
	struct worker *w;

	for (w = f->pidtab[pid_slot(f, pid)]; w != NULL; w = w->pid_next)
		if (w->pid == pid)
			return w;
	return NULL;
}

static struct worker *
worker_new(struct fleet *f, struct agent_conf *a, unsigned k)
{
	struct worker *w = xcalloc(1, sizeof(*w));

	w->fleet = f;
	w->agent = a;
	w->instance = k;
	snprintf(w->name, sizeof(w->name), "%s.%u", a->name, k);
	w->state = W_STOPPED;
	w->logfd[0] = w->logfd[1] = -1;
	xasprintf(&w->logpath[0], "%s/%s.stdout.log", f->conf->log_dir,
	    w->name);
	xasprintf(&w->logpath[1], "%s/%s.stderr.log", f->conf->log_dir,
	    w->name);
	w->timer = evtimer_new(f->base, timer_cb, w);
	w->wdog = evtimer_new(f->base, wdog_cb, w);
	if (w->timer == NULL || w->wdog == NULL)
		fatal("agent %s: cannot create its timers", w->name);
	return w;
}

/* Frees what the worker owns; its process, if any, is no longer ours. */
static void
worker_free(struct worker *w)
{
	int j;

	runs_forget(w);
	for (j = 0; j < 2; j++) {
		output_close(w->out[j]);
		if (w->logfd[j] != -1)
			close(w->logfd[j]);
		free(w->logpath[j]);
	}
	event_free(w->timer);
	event_free(w->wdog);
	if (w->age_ev != NULL)
		event_free(w->age_ev);
	/* Its hooks run on, unowned: a pre_start has nothing to start. */
	hook_cancel(w->pre_hook, SIGTERM);
	hook_cancel(w->post_hook, 0);
	if (w->resume_ev != NULL)
		event_free(w->resume_ev);
	free(w->status_text);
	report_free(w->report);
	free(w->run_storage_msg);
	free(w->storage_why);
	free(w->lease_why);
	free(w->exec_why);
	for (j = 0; j < CGL_N; j++)
		free(w->cgl_dir[j]);
	free(w);
}

/* Grow the pid hash to keep it at most half full. */
static void
pidtab_fit(struct fleet *f, size_t n)
{
	struct worker **old = f->pidtab, *w, *next;
	size_t buckets, oldn = f->pidtab ? f->pidmask + 1 : 0, i;

	for (buckets = 64; buckets < 2 * n; buckets *= 2)
		;
	if (buckets <= oldn)
		return;
	f->pidtab = xcalloc(buckets, sizeof(*f->pidtab));
	f->pidmask = buckets - 1;
	for (i = 0; i < oldn; i++) {
		for (w = old[i]; w != NULL; w = next) {
			next = w->pid_next;
			w->pid_next = f->pidtab[pid_slot(f, w->pid)];
			f->pidtab[pid_slot(f, w->pid)] = w;
		}
	}
	free(old);
}


struct fleet *
fleet_new(struct event_base *base, struct config *conf, struct statedb *db)
{
	struct fleet *f;
	uint64_t seed;
	size_t i, n = 0;
	unsigned k;

	f = xcalloc(1, sizeof(*f));
	f->base = base;
	f->conf = conf;
	f->db = db;
	statedb_set_resync(db, fleet_resync, f);
	/* Before anything can queue a start: a reexec's adoption does. */
	f->spawn_ev = evtimer_new(f->base, spawn_cb, f);
	statedb_defer_to(db, spawns_waiting, f);
	if (f->spawn_ev == NULL)
		fatal("cannot create the spawn timer");
	TAILQ_INIT(&f->startq);
	LIST_INIT(&f->retiring);
	LIST_INIT(&f->survivors);
	f->watch_fd = -1;
	for (i = 0; i < conf->nagents; i++)
		n += conf->agents[i].numprocs;
	f->workers = xcalloc(n, sizeof(*f->workers));
	pidtab_fit(f, n);
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)now_wall_ms() ^ ((uint64_t)getpid() << 32);
	corral_rng_seed(&f->rng, seed);
	LIST_INIT(&f->hooks);
	f->crts = xcalloc(conf->nclusters, sizeof(*f->crts));
	f->ncrts = conf->nclusters;
	for (i = 0; i < conf->nclusters; i++)
		f->crts[i] = cluster_rt_new(f, &conf->clusters[i]);
	f->rts = xcalloc(conf->nagents, sizeof(*f->rts));
	f->nrts = conf->nagents;
	for (i = 0; i < conf->nagents; i++) {
		f->rts[i] = agent_rt_new(f, &conf->agents[i]);
		for (k = 0; k < conf->agents[i].numprocs; k++) {
			struct worker *w = worker_new(f, &conf->agents[i], k);
			w->rt = f->rts[i];
			f->workers[f->nworkers++] = w;
		}
	}
	breakers_link(f);
	order_link(f);
	runs_init(f);
	cglimit_init(f);
	usage_rearm(f);
	return f;
}

void
fleet_free(struct fleet *f)
{
	struct worker *w;
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nworkers; i++)
		worker_free(f->workers[i]);
	while ((w = LIST_FIRST(&f->retiring)) != NULL) {
		LIST_REMOVE(w, retire_entry);
		worker_free(w);
	}
	if (f->spawn_ev != NULL)
		event_free(f->spawn_ev);
	usage_free(f);
	for (i = 0; i < f->nrts; i++)
		agent_rt_free(f->rts[i]);
	free(f->rts);
	for (i = 0; i < f->ncrts; i++)
		cluster_rt_free(f->crts[i]);
	free(f->crts);
	nametab_free(&f->rtnames);
	nametab_free(&f->crtnames);
	hooks_free(f);
	free(f->workers);
	free(f->pidtab);
	for (i = 0; i < f->nold; i++)
		config_free(f->old[i]);
	free(f->old);
	watch_stop(f);
	rolls_free(f);
	runs_free(f);
	lease_stop(f);
	resume_close(f);
	config_free(f->conf);
	free(f);
}

static void
spawn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fleet *f = arg;
	struct worker *w;
	int n;

	(void)fd;
	(void)what;
	for (n = 0; n < SPAWN_BATCH && (w = TAILQ_FIRST(&f->startq)); n++) {
		TAILQ_REMOVE(&f->startq, w, startq);
		w->queued = false;
		worker_spawn(w);
	}
	if (!TAILQ_EMPTY(&f->startq))
		spawn_soon(f);
	else if (!f->started) {
		f->started = true;
		/* Health is news from now on: take its first measure. */
		for (n = 0; (size_t)n < f->ncrts; n++)
			cluster_touch(f->crts[n]);
		if (f->on_started != NULL)
			f->on_started(f);
	}
}

static bool
spawns_waiting(void *arg)
{
	struct fleet *f = arg;

	return !TAILQ_EMPTY(&f->startq);
}

/*
 * The next batch waits for the next loop iteration: a zero timeout goes
 * through the poll, where event_active() would run it in this very pass,
 * ahead of signals, timers and output.
 */
static void
spawn_soon(struct fleet *f)
{
	static const struct timeval now = { 0, 0 };

	if (!evtimer_pending(f->spawn_ev, NULL))
		evtimer_add(f->spawn_ev, &now);
}

void
worker_enqueue(struct worker *w)
{
	struct fleet *f = w->fleet;

	if (w->queued || f->shutting_down)
		return;
	if (w->limited) {
		limits_hold(w);
		return;
	}
	w->queued = true;
	TAILQ_INSERT_TAIL(&f->startq, w, startq);
	spawn_soon(f);
}

static void
hold_cb(void *arg, const char *agent, unsigned instance)
{
	struct fleet *f = arg;
	struct worker *w = fleet_find_worker(f, agent, instance);

	if (w != NULL) {
		w->held = true;
		return;
	}
	/*
	 * The file no longer has it: the operator's stop went with it, as a
	 * reload that removes an agent forgets it too.
	 */
	log_info("agent %s.%u was stopped by the operator but is no longer "
	    "in the fleet file; forgetting that stop", agent, instance);
	f->stale_held++;
}

static bool
hold_known(void *arg, const char *agent, unsigned instance)
{
	return fleet_find_worker(arg, agent, instance) != NULL;
}

/*
 * What the corrald before knew of a worker comes back: its counters, its
 * last exit, rollback's counts, and a state that needs a human (FATAL)
 * or, after an unplanned death, that it had finished (EXITED).  A worker
 * that was waiting out a backoff waits it again, so that a corrald that
 * keeps dying does not restart a crash loop at full speed.
 */
static void
remember_cb(void *arg, const struct worker_row *r)
{
	struct fleet *f = arg;
	struct worker *w = fleet_find_worker(f, r->agent, r->instance);

	if (w == NULL) {
		statedb_worker_del(f->db, r->agent, r->instance);
		return;
	}
	w->failures = r->failures;
	w->runs = r->runs;
	w->start_failures = r->start_failures;
	w->runtime_failures = r->runtime_failures;
	w->chain = r->chain;
	w->last_class = (enum corral_exit_class)r->last_class;
	w->last_code = r->last_code;
	w->last_signal = r->last_signal;
	memcpy(w->exits, r->exits, sizeof(w->exits));
	memcpy(w->rs.poison, r->rs.poison, sizeof(w->rs.poison));
	w->rs.poison_count = r->rs.poison_count;
	w->rs.steps = r->rs.steps;
	w->rs.rolled = r->rs.rolled;
	memcpy(w->rs.back, r->rs.back, sizeof(w->rs.back));
	if (r->state == W_FATAL ||
	    (r->state == W_EXITED && f->unplanned)) {
		w->state = (enum wstate)r->state;
		log_info("agent %s: %s since before this start%s", w->name,
		    wstate_name(w->state), w->state == W_FATAL ?
		    ": corralctl reset or start runs it again" : "");
	} else if (r->state == W_BACKOFF && w->failures > 0)
		w->remembered_backoff = true;
}

/* Start w as the fleet's first start does (it is no operator's start). */
static void
start_first(struct worker *w)
{
	struct fleet *f = w->fleet;
	uint64_t d;
	char why[96];

	if (w->limited) {
		limits_hold(w);
		return;
	}
	if (!w->remembered_backoff) {
		breakers_start(w);
		return;
	}
	w->remembered_backoff = false;
	d = corral_backoff_delay(&w->agent->backoff, w->failures - 1,
	    corral_rng_uniform(&f->rng));
	snprintf(why, sizeof(why), "was backing off before this start; "
	    "restart in %.3fs (failure %u)", (double)d / 1000.0, w->failures);
	worker_set_state(w, W_BACKOFF, why);
	worker_timer_arm(w, d);
}

void
fleet_start(struct fleet *f)
{
	size_t i;

	/* Never two live runs of one instance: what the corrald before left
	 * alive is stopped first, and those instances start once it is gone. */
	if (!f->resumed) {
		f->unplanned = statedb_start_kind(f->db, NULL) ==
		    START_UNPLANNED;
		runs_recover(f);
		if (statedb_load_workers(f->db, remember_cb, f) == -1)
			log_warnx("cannot read what the corrald before knew of "
			    "its workers; every one starts afresh");
	}
	if (statedb_load_held(f->db, hold_cb, f) == -1)
		log_warnx("cannot read which workers the operator stopped; "
		    "starting every autostart worker");
	if (f->stale_held > 0)
		statedb_keep_held(f->db, hold_known, f);
	breakers_restore(f);
	cluster_regroup_restore(f);
	/* Which workers the descriptor limit lets start, before any does. */
	limits_plan(f);
	/* Renewal from now: runs kept from before learn their tokens. */
	lease_start(f);
	f->starting = true;
	/* Workers are laid out by priority, then file order: start order. */
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		if (w->adopted)
			continue; /* taken over from before a reexec */
		if (w->held)
			log_info("agent %s: stopped by the operator, not "
			    "started", w->name);
		else if (w->state == W_FATAL || w->state == W_EXITED)
			continue; /* remembered: it stays so */
		else if (w->agent->autostart)
			start_first(w);
	}
	/*
	 * Fallbacks of agents whose breaker stayed open start now, after the
	 * autostart workers: a fallback that runs on its own is left alone.
	 */
	f->starting = false;
	for (i = 0; i < f->nrts; i++)
		fallback_update(f->rts[i]);
	/* WAITING since before a reexec: what is up now lets some go. */
	order_release_all(f);
	for (i = 0; i < f->nrts; i++)
		recycle_cron_arm(f->rts[i], &f->conf->agents[i]);
	/* Nothing to start: the fleet is up as it is. */
	if (TAILQ_EMPTY(&f->startq))
		spawn_soon(f);
}

static void __attribute__((format(printf, 2, 3)))
push_fmt(struct strv *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("out of memory formatting a string");
	va_end(ap);
	strv_push_own(sv, s);
}

/*
 * The agent's env files, in order, into vars: 0, or an errno with the
 * reason (FILE:LINE: ...) in why.
 */
static int
read_env_files(const struct agent_conf *a, struct strv *vars, char *why,
    size_t len)
{
	size_t i;
	bool opt;

	strv_init(vars);
	for (i = 0; i < a->env_files.n; i++) {
		opt = a->env_files.v[i][0] == '-';
		/* No quote of the file: the reason is the exit's detail. */
		if (envfile_read(a->env_files.v[i] + opt, opt, false, vars,
		    why, len) == -1)
			return errno != 0 ? errno : EINVAL;
	}
	return 0;
}

/*
 * Build the environment of a run: corrald's, its env files' (filevars,
 * taken), the agent's env, then corral's, each over those before.
 */
static void
build_env(struct worker *w, const struct expand_vars *vars,
    struct strv *filevars, struct strv *env)
{
	const struct agent_conf *a = w->agent;
	struct strv own;
	const char *why;
	char **e, *x;
	size_t i, k;

	strv_init(&own);
	for (i = 0; i < a->env.n; i++) {
		x = expand_vars(a->env.v[i], vars, &why);
		if (x == NULL) /* checked when the file was loaded */
			x = xstrdup(a->env.v[i]);
		strv_push_own(&own, x);
	}
	/* What env sets wins over the files. */
	for (i = 0; i < filevars->n; i++) {
		size_t klen = strcspn(filevars->v[i], "=") + 1;
		for (k = 0; k < a->env.n; k++)
			if (strncmp(own.v[k], filevars->v[i], klen) == 0)
				break;
		if (k == a->env.n) {
			strv_push_own(&own, filevars->v[i]);
			filevars->v[i] = NULL;
		}
	}
	strv_free(filevars);
	push_fmt(&own, "CORRAL_AGENT=%s", a->name);
	push_fmt(&own, "CORRAL_INSTANCE=%u", w->instance);
	/* The SDK's stopping() listens for this one. */
	push_fmt(&own, "CORRAL_STOP_SIGNAL=%d", a->stop_signal);
	x = expand_vars(a->thread_id, vars, &why);
	push_fmt(&own, "CORRAL_THREAD_ID=%s", x != NULL ? x : a->thread_id);
	free(x);
	push_fmt(&own, "CORRAL_CHECKPOINT_DB=%s", w->fleet->conf->checkpoint_db);
	push_fmt(&own, "CORRAL_CHECKPOINT_INTERVAL_MS=%llu",
	    (unsigned long long)a->checkpoint_interval_ms);
	/* corrald's choice; set but empty: start afresh.  Unset when the
	 * database could not be read: the SDK then looks for itself. */
	if (w->rs.known)
		push_fmt(&own, "CORRAL_RESUME_ID=%s", w->rs.from);
	/* Its writes to the thread are fenced with it (corral_store_fence). */
	if (w->lease_token != 0)
		push_fmt(&own, "CORRAL_LEASE_TOKEN=%lld",
		    (long long)w->lease_token);
	if (w->fleet->nsock != NULL) {
		push_fmt(&own, "NOTIFY_SOCKET=%s", nsock_path(w->fleet->nsock));
		if (a->watchdog_ms > 0) {
			push_fmt(&own, "WATCHDOG_USEC=%llu",
			    (unsigned long long)a->watchdog_ms * 1000);
			/* The child writes its pid over the zeros. */
			push_fmt(&own, "WATCHDOG_PID=%020d", 0);
		}
	}
	/* Called before this run is counted: every earlier run is one. */
	push_fmt(&own, "CORRAL_RESTARTS=%u", w->runs);
	push_fmt(&own, "CORRAL_LAST_EXIT=%s",
	    corral_exit_class_name(w->last_class));

	for (e = environ; e != NULL && *e != NULL; e++) {
		size_t klen = strcspn(*e, "=");
		/* Only corrald chooses them, never its own environment. */
		if (strncmp(*e, "CORRAL_RESUME_ID=", 17) == 0 ||
		    strncmp(*e, "CORRAL_LEASE_TOKEN=", 19) == 0)
			continue;
		for (k = 0; k < own.n; k++)
			if (strncmp(own.v[k], *e, klen + 1) == 0)
				break;
		if (k == own.n)
			strv_push(env, *e);
	}
	for (k = 0; k < own.n; k++) {
		strv_push_own(env, own.v[k]);
		own.v[k] = NULL;
	}
	own.n = 0;
	strv_free(&own);
}

/*
 * A hook of w (pre_start, post_stop): what its run has (the agent's
 * directory and user, the environment corrald gives the run), its own
 * argv, the extra variables in more.  NULL when it could not be started
 * (logged).
 */
static struct hook *
worker_hook(struct worker *w, const char *cmd, const struct strv *words,
    const struct strv *more, void (*done)(void *, const struct hook_end *))
{
	struct fleet *f = w->fleet;
	struct agent_conf *a = w->agent;
	char inst[16], who[NAME_MAX_LEN + 32], *dir = NULL, *x, ewhy[1024];
	struct expand_vars vars = { a->name, inst, f->conf->here };
	struct strv argv, env, filevars;
	struct hook_req rq;
	struct hook *h;
	const char *why;
	size_t i;

	snprintf(inst, sizeof(inst), "%u", w->instance);
	snprintf(who, sizeof(who), "agent %s", w->name);
	strv_init(&argv);
	strv_init(&env);
	for (i = 0; i < words->n; i++) {
		x = expand_vars(words->v[i], &vars, &why);
		strv_push_own(&argv, x != NULL ? x : xstrdup(words->v[i]));
	}
	/* The run's environment, env files and all: a hook sees what it will. */
	if (read_env_files(a, &filevars, ewhy, sizeof(ewhy)) != 0) {
		log_error("agent %s: cannot run %s: env_file %s", w->name, cmd,
		    ewhy);
		strv_free(&filevars);
		strv_free(&argv);
		strv_free(&env);
		return NULL;
	}
	build_env(w, &vars, &filevars, &env);
	/* The worker protocol is the run's: a hook is no worker. */
	for (i = 0; i < env.n; i++)
		if (strncmp(env.v[i], "NOTIFY_SOCKET=", 14) == 0 ||
		    strncmp(env.v[i], "WATCHDOG_", 9) == 0) {
			free(env.v[i]);
			memmove(&env.v[i], &env.v[i + 1],
			    (env.n - i) * sizeof(*env.v));
			env.n--;
			i--;
		}
	for (i = 0; more != NULL && i < more->n; i++)
		strv_push(&env, more->v[i]);
	if (a->directory != NULL)
		dir = expand_vars(a->directory, &vars, &why);
	memset(&rq, 0, sizeof(rq));
	rq.who = who;
	rq.cmd = cmd;
	rq.argv = argv.v;
	rq.envp = env.v;
	rq.directory = dir;
	rq.user = a->user;
	rq.uid = a->uid;
	rq.gid = a->gid;
	rq.timeout_ms = a->hook_timeout_ms;
	rq.done = done;
	rq.arg = w;
	/* A post_stop cleans up after the run: a shutdown lets it finish. */
	rq.awaited = true;
	h = hook_start(f, &rq);
	strv_free(&argv);
	strv_free(&env);
	free(dir);
	return h;
}

/*
 * A hook of w a reexec handed over, running: watched as worker_hook's
 * would be.
 */
static struct hook *
worker_hook_adopt(struct worker *w, const char *cmd,
    const struct hook_snap *hs, void (*done)(void *, const struct hook_end *))
{
	char who[NAME_MAX_LEN + 32];
	struct hook_req rq;

	snprintf(who, sizeof(who), "agent %s", w->name);
	memset(&rq, 0, sizeof(rq));
	rq.who = who;
	rq.cmd = cmd;
	rq.timeout_ms = w->agent->hook_timeout_ms;
	rq.done = done;
	rq.arg = w;
	rq.awaited = true;
	return hook_adopt(w->fleet, &rq, hs);
}

/* How a hook ended, in words ("" when it succeeded). */
static void
hook_outcome(const struct worker *w, const struct hook_end *end, char *buf,
    size_t len)
{
	char d[32];

	*buf = '\0';
	if (end->exec_err != 0)
		snprintf(buf, len, "cannot run it: %s: %s", end->exec_stage,
		    strerror(end->exec_err));
	else if (end->timed_out) {
		format_duration(w->agent->hook_timeout_ms, d, sizeof(d));
		snprintf(buf, len, "killed after hook_timeout %s", d);
	} else if (WIFSIGNALED(end->status))
		snprintf(buf, len, "killed by signal %d (%s)",
		    WTERMSIG(end->status), signal_name(WTERMSIG(end->status)) ?
		    signal_name(WTERMSIG(end->status)) : "?");
	else if (WEXITSTATUS(end->status) != 0)
		snprintf(buf, len, "exited with code %d",
		    WEXITSTATUS(end->status));
}

/*
 * pre_start failed: a start failure, as a run that died before it was up
 * would be (backoff, max_retries, the breakers count it), but not fatal:
 * what it waits for (a mount, a network) may come.
 */
static void
prestart_failed(struct worker *w, const char *how)
{
	struct fleet *f = w->fleet;
	struct agent_conf *a = w->agent;
	struct restart_in in;
	struct restart_plan plan;
	char why[512];
	uint64_t delay;

	memset(&in, 0, sizeof(in));
	in.mode = a->restart;
	in.max_retries = a->max_retries;
	in.healthy_after_ms = a->healthy_after_ms;
	in.backoff_initial_ms = a->backoff.initial_ms;
	in.cls = CORRAL_EXIT_ERROR;
	in.failures = w->failures;
	restart_decide(&in, &plan);
	if (w->chain == 0)
		w->chain = statedb_next_chain(f->db);
	w->start_failures++;
	w->failures = plan.failures;
	log_warnx("agent %s: pre_start failed (%s); not started", w->name,
	    how);
	if (breakers_exited(w, CORRAL_EXIT_ERROR, &plan))
		return;
	if (plan.next != W_BACKOFF) {
		snprintf(why, sizeof(why), "pre_start failed: %s; %s", how,
		    plan.why);
		worker_set_state(w, plan.next, why);
		return;
	}
	delay = corral_backoff_delay(&a->backoff, plan.backoff_k,
	    corral_rng_uniform(&f->rng));
	snprintf(why, sizeof(why), "pre_start failed: %s; restart in %.3fs "
	    "(failure %u)", how, (double)delay / 1000.0, plan.failures);
	worker_set_state(w, W_BACKOFF, why);
	worker_timer_arm(w, delay);
}

static void
prestart_done(void *arg, const struct hook_end *end)
{
	struct worker *w = arg;
	char how[160];

	w->pre_hook = NULL;
	if (w->fleet->shutting_down)
		return;
	hook_outcome(w, end, how, sizeof(how));
	if (*how != '\0') {
		prestart_failed(w, how);
		return;
	}
	log_debug("agent %s: pre_start succeeded", w->name);
	w->pre_ok = true;
	worker_enqueue(w);
}

/* Start w's pre_start; w is STARTING, without a process, meanwhile. */
static void
prestart_run(struct worker *w)
{
	w->pre_hook = worker_hook(w, "pre_start", &w->agent->pre_argv, NULL,
	    prestart_done);
	if (w->pre_hook == NULL) {
		prestart_failed(w, "cannot run it (see above)");
		return;
	}
	worker_set_state(w, W_STARTING, "pre_start");
}

static void
poststop_done(void *arg, const struct hook_end *end)
{
	struct worker *w = arg;

	(void)end;
	w->post_hook = NULL;
	/* Its cleanup is done: what its agent comes after may stop now. */
	if (w->fleet->shutting_down && w->fleet->shutdown_kills == 1)
		order_shutdown_step(w->fleet, false);
	if (w->after_post) {
		w->after_post = false;
		worker_enqueue(w);
	}
}

/*
 * After every exit of a run: w's post_stop, with how it ended in its
 * environment.  Not waited for by the restart decision; the next start
 * waits for it (worker_spawn).  One at a time per worker.
 */
static void
poststop_run(struct worker *w, enum corral_exit_class cls, int status)
{
	struct strv more;
	char *x;

	if (w->agent->post_stop == NULL)
		return;
	if (w->post_hook != NULL) {
		log_warnx("agent %s: post_stop of the run before still runs; "
		    "not run for this exit (pid %ld)", w->name, (long)w->pid);
		return;
	}
	strv_init(&more);
	xasprintf(&x, "CORRAL_EXIT_CLASS=%s", corral_exit_class_name(cls));
	strv_push_own(&more, x);
	if (WIFEXITED(status))
		xasprintf(&x, "CORRAL_EXIT_CODE=%d", WEXITSTATUS(status));
	else
		x = xstrdup("CORRAL_EXIT_CODE=");
	strv_push_own(&more, x);
	if (WIFSIGNALED(status))
		xasprintf(&x, "CORRAL_EXIT_SIGNAL=%s",
		    signal_name(WTERMSIG(status)) ?
		    signal_name(WTERMSIG(status)) : "?");
	else
		x = xstrdup("CORRAL_EXIT_SIGNAL=");
	strv_push_own(&more, x);
	xasprintf(&x, "CORRAL_EXIT_PID=%ld", (long)w->pid);
	strv_push_own(&more, x);
	w->post_hook = worker_hook(w, "post_stop", &w->agent->post_argv, &more,
	    poststop_done);
	strv_free(&more);
}

/*
 * Hold w for its checkpoint storage (storage_decide said SA_HOLD): FATAL,
 * the reason in status and the log, until an operator starts or resets
 * it.  A breaker trial it held ends without a verdict.
 */
static void
storage_hold(struct worker *w, enum storage_kind kind, const char *why)
{
	char *detail;

	free(w->storage_why);
	w->storage_why = xstrdup(why);
	w->storage_kind = kind;
	w->resume_tries = 0;
	xasprintf(&detail, "%s; held until corralctl start or reset", why);
	worker_set_state(w, W_FATAL, detail);
	free(detail);
	breakers_trial_void(w);
}

/*
 * Hold w: its memory_max or cpu_quota cannot be enforced (cglimit.c), and
 * a run without its limit is not started.  FATAL, the reason in status
 * and the log, until an operator starts or resets it.
 */
static void
limit_hold(struct worker *w, const char *why)
{
	char *detail;

	xasprintf(&detail, "%s; held until corralctl start or reset", why);
	log_error("agent %s: %s", w->name, detail);
	worker_set_state(w, W_FATAL, detail);
	free(detail);
	breakers_trial_void(w);
}

static void
worker_spawn(struct worker *w)
{
	struct fleet *f = w->fleet;
	struct agent_conf *a = w->agent;
	char inst[16];
	struct expand_vars vars = { a->name, inst, f->conf->here };
	struct strv argv, env;
	struct spawn_req rq;
	struct spawn_res res;
	struct db_event e;
	struct strv filevars;
	char *dir = NULL, *join, *lim[CGL_N], hold[768], ewhy[1024];
	const char *why;
	uint64_t failed;
	size_t i;
	int j, rc, saved, env_err = 0;

	if (w->pid != 0 || f->shutting_down)
		return;
	if (w->limited) {
		limits_hold(w);
		return;
	}
	/* No run of it without its memory_max and cpu_quota. */
	if ((why = cglimit_unavailable(f, a)) != NULL) {
		limit_hold(w, why);
		return;
	}
	/*
	 * An agent it comes after is not up: it waits, and starts when that
	 * is (order_released).  Its breakers' trial, if it was one, goes
	 * back: a wait is no verdict.
	 */
	if (w->rt != NULL && w->rt->ndeps > 0 &&
	    order_check(w, hold, sizeof(hold)) != ORDER_GO) {
		evtimer_del(w->timer);
		worker_set_state(w, W_WAITING, hold);
		breakers_trial_void(w);
		return;
	}
	/* An earlier run of it may still live: it spawns once that is gone. */
	if (!runs_clear(w))
		return;
	/* Its thread may run on another node (lease.c). */
	if (lease_take(w, &failed) == LEASE_ELSEWHERE) {
		if (w->state != W_ELSEWHERE || w->lease_lost)
			worker_set_state(w, W_ELSEWHERE, w->lease_why);
		w->lease_lost = false;
		worker_timer_arm(w, failed);
		breakers_trial_void(w);
		return;
	}
	switch (resume_choose(w, hold, sizeof(hold))) {
	case RESUME_LATER:
		resume_later(w);
		return;
	case RESUME_HOLD:
		storage_hold(w, w->rs.lost[0] != '\0' ? SK_LOST : SK_DAMAGED,
		    hold);
		return;
	case RESUME_GO:
		break;
	}
	/* The last run's post_stop cleans up before anything starts. */
	if (w->post_hook != NULL) {
		log_debug("agent %s: starts once its post_stop has ended",
		    w->name);
		w->after_post = true;
		return;
	}
	if (a->pre_start != NULL && !w->pre_ok) {
		if (w->pre_hook == NULL)
			prestart_run(w);
		return;
	}
	w->pre_ok = false;
	if (cglimit_prepare(w, lim, hold, sizeof(hold)) == -1) {
		limit_hold(w, hold);
		return;
	}
	snprintf(inst, sizeof(inst), "%u", w->instance);
	strv_init(&argv);
	strv_init(&env);
	for (i = 0; i < a->argv.n; i++) {
		char *x = expand_vars(a->argv.v[i], &vars, &why);
		strv_push_own(&argv, x != NULL ? x : xstrdup(a->argv.v[i]));
	}
	/*
	 * The env files, read now, as systemd reads EnvironmentFile= at each
	 * start: an edit takes effect at the next run.  One that fails makes
	 * the run fail to start (fatal), its reason the exit's.
	 */
	env_err = read_env_files(a, &filevars, ewhy, sizeof(ewhy));
	build_env(w, &vars, &filevars, &env);
	if (a->directory != NULL)
		dir = expand_vars(a->directory, &vars, &why);

	memset(&rq, 0, sizeof(rq));
	rq.argv = argv.v;
	rq.envp = env.v;
	rq.directory = dir;
	rq.out[0] = a->out[0];
	rq.out[1] = a->out[1];
	/* Only root changes user; the config allowed a non-root corrald only
	 * its own user, which needs no change. */
	rq.user = geteuid() == 0 ? a->user : NULL;
	rq.uid = a->uid;
	rq.gid = a->gid;
	rq.pdeath_signal = a->stop_signal;
	for (i = 0; i < env.n; i++)
		if (strncmp(env.v[i], "WATCHDOG_PID=", 13) == 0)
			rq.pid_slot = env.v[i];
	rq.cgroup_procs = join = runs_join_path(w);
	rq.rlim = a->rlim;
	rq.umask = a->umask;
	rq.env_err = env_err;
	for (j = 0; j < CGL_N; j++)
		rq.limit_procs[j] = lim[j];
	rc = spawn_run(&rq, &res);
	saved = errno;
	strv_free(&argv);
	strv_free(&env);
	free(dir);
	free(join);
	for (j = 0; j < CGL_N; j++)
		free(lim[j]);
	if (rc == -1) {
		cglimit_ended(w);
		/*
		 * corrald's trouble, not the worker's (no descriptor, no
		 * process left): count nothing, retry on a backoff of its
		 * own, and say it once for the fleet, not once per attempt.
		 */
		uint64_t d = corral_backoff_delay(&spawn_retry,
		    w->spawn_errors++, corral_rng_uniform(&f->rng));
		char reason[160], limit[48] = "";
		if (saved == EMFILE)
			snprintf(limit, sizeof(limit), " (open file limit "
			    "%llu)", (unsigned long long)limits_current_soft());
		if (fd_short(FD_SPAWN))
			log_error("agent %s: cannot fork or make its pipes: "
			    "%s%s; workers that cannot start wait in BACKOFF "
			    "and retry, backing off to %llu s (said once, "
			    "until a spawn works)", w->name, strerror(saved),
			    limit,
			    (unsigned long long)spawn_retry.max_ms / 1000);
		snprintf(reason, sizeof(reason), "cannot fork or make its "
		    "pipes: %s; retry in %.3fs", strerror(saved),
		    (double)d / 1000.0);
		worker_set_state(w, W_BACKOFF, reason);
		worker_timer_arm(w, d);
		return;
	}
	w->spawn_errors = 0;
	if ((failed = fd_ok(FD_SPAWN)) > 0)
		log_info("agent %s: spawned; workers start again after %llu "
		    "failed attempts", w->name, (unsigned long long)failed);

	w->pid = res.pid;
	w->in_cgroup = join != NULL;
	w->runs++;
	w->start_wall_ms = now_wall_ms();
	w->start_mono_ms = now_mono_ms();
	runs_started(w);
	w->healthy = false;
	w->ready = false;
	w->hang = false;
	w->memory = false;
	memset(&w->use, 0, sizeof(w->use));
	/* What the run was told in WATCHDOG_USEC, whatever a reload says. */
	w->wd_ms = f->nsock != NULL ? a->watchdog_ms : 0;
	w->heartbeat_mono_ms = 0;
	free(w->status_text);
	w->status_text = NULL;
	report_free(w->report);
	w->report = NULL;
	w->run_storage = SK_NONE;
	free(w->run_storage_msg);
	w->run_storage_msg = NULL;
	w->stop_requested = false;
	w->recycling = false;
	w->age_u = corral_rng_uniform(&f->rng);
	/* Known already: spawn_run returns once the child exec'd or failed. */
	w->exec_failed = res.err != 0;
	w->exec_errno = res.err;
	w->exec_stage = res.stage;
	free(w->exec_why);
	w->exec_why = NULL;
	if (env_err != 0)
		xasprintf(&w->exec_why, "env_file %s", ewhy);
	pid_insert(w);
	for (j = 0; j < 2; j++)
		if (res.outfd[j] != -1)
			w->out[j] = output_open(w, j + 1, res.outfd[j]);

	ev_fill(&e, w, EV_SPAWN);
	e.start_ms = w->start_wall_ms;
	if (w->rs.known)
		e.resumed_from = xstrdup(w->rs.from);
	statedb_add(f->db, &e);
	log_debug("agent %s: spawned pid %ld", w->name, (long)w->pid);
	/* After pre_start, STARTING already: say the run is there now. */
	worker_set_state(w, W_STARTING, NULL);
	recycle_arm(w);
	if (a->healthy_after_ms == 0)
		worker_timer_arm(w, 0);
	else
		worker_timer_arm(w, a->healthy_after_ms);
}

/* Send sig to the worker's process group, or to it alone if none yet. */
static void
worker_kill(struct worker *w, int sig)
{
	runs_kill(w, sig);
}

/* (Re)start the run's watchdog, if it has one. */
static void
watchdog_arm(struct worker *w)
{

	if (w->wd_ms == 0)
		return;
	event_base_update_cache_time(w->fleet->base);
	w->wd_deadline_mono_ms = now_mono_ms() + w->wd_ms;
	timer_add_ms(w->wdog, w->wd_ms);
}

static void
watchdog_disarm(struct worker *w)
{
	evtimer_del(w->wdog);
	w->wd_deadline_mono_ms = 0;
}

/* Stop the process, as worker_halt does, for corrald's own reason. */
static void
worker_kill_run(struct worker *w, const char *why)
{
	w->stop_requested = !w->hang && !w->memory;
	worker_kill(w, w->agent->stop_signal);
	/* A stopped (SIGSTOP) worker could not act on it otherwise. */
	if (w->agent->stop_signal != SIGKILL)
		worker_kill(w, SIGCONT);
	evtimer_del(w->timer);
	watchdog_disarm(w);
	recycle_disarm(w);
	worker_timer_arm(w, w->agent->stop_timeout_ms);
	worker_set_state(w, W_STOPPING, why);
}

void
worker_recycle(struct worker *w, const char *why)
{
	char d[32];

	if (w->pid == 0 || (w->state != W_STARTING && w->state != W_RUNNING))
		return;
	format_duration(w->agent->stop_timeout_ms, d, sizeof(d));
	log_info("agent %s (pid %ld): recycled (%s): %s, KILL after %s; it "
	    "starts again at once", w->name, (long)w->pid, why,
	    signal_name(w->agent->stop_signal) ?
	    signal_name(w->agent->stop_signal) : "its stop signal", d);
	w->recycling = true;
	snprintf(w->recycle_why, sizeof(w->recycle_why), "recycled: %s", why);
	worker_kill_run(w, w->recycle_why);
}

/*
 * The watchdog expired: the worker said it was ready and has gone silent.
 * Its exit is classed hang, a failure, whatever its status says.
 */
static void
wdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char d[32], why[96];

	(void)fd;
	(void)what;
	w->wd_deadline_mono_ms = 0;
	if (w->pid == 0 || (w->state != W_STARTING && w->state != W_RUNNING))
		return;
	format_duration(w->wd_ms, d, sizeof(d));
	log_warnx("agent %s (pid %ld): no heartbeat for %s (watchdog); "
	    "stopping it", w->name, (long)w->pid, d);
	w->hang = true;
	snprintf(why, sizeof(why), "watchdog: no heartbeat for %s", d);
	worker_kill_run(w, why);
}

/* Bytes for people: "73.4M", "1.20G", "812K", "512B". */
static void
format_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 1ULL << 30)
		snprintf(buf, len, "%.2fG", (double)b / (1ULL << 30));
	else if (b >= 1ULL << 20)
		snprintf(buf, len, "%.1fM", (double)b / (1ULL << 20));
	else if (b >= 1ULL << 10)
		snprintf(buf, len, "%lluK", (unsigned long long)(b >> 10));
	else
		snprintf(buf, len, "%lluB", (unsigned long long)b);
}

/* "rss 120.3M (126143488 bytes) above max_memory 100M" */
static void
describe_memory(uint64_t rss, uint64_t max, char *buf, size_t len)
{
	char r[32], m[32];

	format_bytes(rss, r, sizeof(r));
	format_size(max, m, sizeof(m));
	snprintf(buf, len, "rss %s (%llu bytes) above max_memory %s", r,
	    (unsigned long long)rss, m);
}

/*
 * Its memory passed max_memory: stopped gracefully (stop_signal, KILL
 * after stop_timeout) and restarted; its exit is classed memory, a
 * failure, whatever its status says.
 */
void
worker_over_memory(struct worker *w)
{
	char d[128], why[160];

	if (w->pid == 0 || (w->state != W_STARTING && w->state != W_RUNNING))
		return;
	w->memory = true;
	w->memory_rss = w->use.rss;
	w->memory_max = w->agent->max_memory;
	describe_memory(w->memory_rss, w->memory_max, d, sizeof(d));
	log_warnx("agent %s (pid %ld): %s; stopping it", w->name,
	    (long)w->pid, d);
	snprintf(why, sizeof(why), "max_memory: %s", d);
	worker_kill_run(w, why);
}

/*
 * RUNNING: the worker said READY=1, or lived healthy_after without a word.
 * It is healthy (its failures forgiven, its breakers told) only once it
 * has lived healthy_after: a worker that says READY and dies at once must
 * still back off.
 */
static void
worker_became_running(struct worker *w, const char *why)
{
	if (w->state != W_STARTING)
		return;
	worker_set_state(w, W_RUNNING, why);
	if (!evtimer_pending(w->wdog, NULL))
		watchdog_arm(w);
}

static void
worker_became_healthy(struct worker *w)
{
	worker_became_running(w, NULL);
	w->healthy = true;
	if (w->chain != 0)
		log_info("agent %s: healthy again, error chain %lld closed "
		    "after %u failure%s", w->name, (long long)w->chain,
		    w->failures, w->failures == 1 ? "" : "s");
	w->failures = 0;
	w->chain = 0;
	breakers_healthy(w);
}

static void
worker_report(struct worker *w, struct worker_report *r)
{
	struct db_event e;
	char *detail;

	xasprintf(&detail, "reported %s %s error %s: %s",
	    r->recoverable ? "recoverable" : "unrecoverable",
	    report_severity_name(r->severity), r->code, r->message);
	if (r->severity >= REP_ERROR)
		log_warnx("agent %s (pid %ld): %s", w->name, (long)w->pid,
		    detail);
	else
		log_info("agent %s (pid %ld): %s", w->name, (long)w->pid,
		    detail);
	ev_fill(&e, w, EV_REPORT);
	e.state = report_severity_name(r->severity);
	e.detail = detail;
	statedb_add(w->fleet->db, &e);
	report_free(w->report);
	w->report = r;
}

void
worker_notified(struct worker *w, pid_t sender, struct notify_msg *m)
{
	bool live = w->pid != 0 &&
	    (w->state == W_STARTING || w->state == W_RUNNING);

	if (m->status != NULL) {
		free(w->status_text);
		w->status_text = xstrndup(m->status, 256);
		log_debug("agent %s (pid %ld): status: %s", w->name,
		    (long)sender, w->status_text);
	}
	if (m->report != NULL) {
		worker_report(w, m->report);
		m->report = NULL;
	}
	/* Once per kind per run: the SDK sends one per kind, others may not. */
	if (m->storage != SK_NONE && m->storage != w->run_storage) {
		log_warnx("agent %s (pid %ld): checkpoint storage error (%s): %s",
		    w->name, (long)sender, storage_kind_name(m->storage),
		    m->storage_msg);
		w->run_storage = m->storage;
		free(w->run_storage_msg);
		w->run_storage_msg = xstrndup(m->storage_msg, 512);
	}
	if (m->stopping)
		log_info("agent %s (pid %ld): says it is stopping", w->name,
		    (long)sender);
	/* Alive, after a storage error: has a checkpoint gone through? */
	if ((m->ready || m->watchdog) && live)
		resume_probe(w);
	if (m->ready || m->watchdog) {
		w->heartbeat_mono_ms = now_mono_ms();
		log_debug("agent %s (pid %ld): %s", w->name, (long)sender,
		    m->ready ? "READY=1" : "heartbeat");
		if (live && evtimer_pending(w->wdog, NULL))
			watchdog_arm(w);
	}
	if (m->ready && !w->ready && live) {
		w->ready = true;
		log_info("agent %s (pid %ld): ready", w->name, (long)sender);
		worker_became_running(w, "READY=1");
		/* RUNNING already (healthy_after came first): up only now
		 * for ready = notify. */
		order_released(w);
		order_changed(w->fleet);
	}
}

/*
 * A restart is due: through the start queue, as a first start, so that a
 * thousand due at once are spawned SPAWN_BATCH a loop turn, with reaps,
 * control and output served between the bursts.
 */
static void
backoff_over(struct worker *w)
{
	int r = breakers_admit(w);

	if (r != 0)
		breakers_hold(w, r);
	else
		worker_enqueue(w);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char d[32];

	(void)fd;
	(void)what;
	switch (w->state) {
	case W_STARTING:
		/* Healthy means it runs its own program. */
		if (!w->exec_failed)
			worker_became_healthy(w);
		break;
	case W_RUNNING:
		/* RUNNING since its READY=1: now it has lived healthy_after. */
		if (!w->healthy)
			worker_became_healthy(w);
		break;
	case W_BACKOFF:
	case W_ELSEWHERE:
		backoff_over(w);
		break;
	case W_STOPPING:
		format_duration(w->agent->stop_timeout_ms, d, sizeof(d));
		log_warnx("agent %s (pid %ld): still running %s after %s; "
		    "sending KILL", w->name, (long)w->pid, d,
		    signal_name(w->agent->stop_signal) ?
		    signal_name(w->agent->stop_signal) : "its stop signal");
		worker_kill(w, SIGKILL);
		break;
	default:
		break;
	}
}

static void
describe_exit(char *buf, size_t len, int status)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s",
		    WTERMSIG(status), signal_name(WTERMSIG(status)) ?
		    signal_name(WTERMSIG(status)) : "?",
		    WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "exited with code %d", WEXITSTATUS(status));
}

/* A worker removed by a reload has exited: forget it. */
static void
worker_retire_done(struct worker *w)
{
	struct fleet *f = w->fleet;
	size_t i;

	LIST_REMOVE(w, retire_entry);
	if (f->ctl != NULL)
		control_worker_gone(f->ctl, w);
	lease_release(w);
	worker_free(w);
	/* The configs it may have pointed into can go with the last one. */
	if (LIST_EMPTY(&f->retiring)) {
		for (i = 0; i < f->nold; i++)
			config_free(f->old[i]);
		f->nold = 0;
		/* Their descriptors are free: LIMITED workers may fit now. */
		if (f->fds.fit < f->fds.workers && !f->shutting_down)
			limits_plan(f);
	}
}

static void
worker_exited(struct worker *w, int status)
{
	struct fleet *f = w->fleet;
	struct agent_conf *a = w->agent;
	struct corral_exit_facts facts;
	struct restart_in in;
	struct restart_plan plan;
	struct db_event e, rb;
	struct storage_in sin;
	enum storage_action sa;
	enum storage_kind found;
	enum corral_exit_class cls;
	bool rolled, recycled, oom;
	char how[96], *detail = NULL, fwhy[768], why[1024];
	uint64_t run_ms, delay = 0, ooms;
	int j;

	pid_remove(w);
	evtimer_del(w->timer);
	watchdog_disarm(w);
	recycle_disarm(w);
	/*
	 * The kernel killed it at its memory_max: the OOM killer's SIGKILL,
	 * counted in its memory cgroup.  Read before the directory goes.
	 */
	ooms = cglimit_oom(w);
	oom = ooms > 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	/* Whatever it left behind in its group goes with it. */
	runs_ended(w);
	cglimit_ended(w);
	for (j = 0; j < 2; j++) {
		output_close(w->out[j]);
		w->out[j] = NULL;
	}

	memset(&facts, 0, sizeof(facts));
	facts.status = status;
	facts.exec_failed = w->exec_failed;
	facts.stop_requested = w->stop_requested;
	facts.hang = w->hang;
	facts.memory = w->memory || oom;
	facts.reported_fatal = w->report != NULL &&
	    w->report->severity == REP_CRITICAL && !w->report->recoverable;
	facts.storage_error = w->run_storage != SK_NONE;
	cls = corral_classify(&a->codes, &facts);
	run_ms = now_mono_ms() - w->start_mono_ms;

	memset(&in, 0, sizeof(in));
	in.mode = a->restart;
	in.max_retries = a->max_retries;
	in.healthy_after_ms = a->healthy_after_ms;
	in.backoff_initial_ms = a->backoff.initial_ms;
	in.cls = cls;
	/*
	 * After READY=1 a death is a runtime failure, though the count of
	 * failures stands until healthy_after.  A loop held up (a spawn
	 * storm) may have delayed its timer.
	 */
	in.was_healthy = w->ready || w->healthy ||
	    run_ms >= a->healthy_after_ms;
	in.run_ms = run_ms;
	in.failures = w->failures;
	/* Asked while corrald stopped it for its watchdog, memory or age. */
	in.restart_asked = w->restart_pending && !w->retiring;
	in.held = w->held;
	restart_decide(&in, &plan);

	if (plan.failure) {
		if (w->chain == 0)
			w->chain = statedb_next_chain(f->db);
		if (plan.start_failure)
			w->start_failures++;
		else
			w->runtime_failures++;
	}
	/*
	 * The env_file's reason only if that is the step that failed: the
	 * child tries its limits first, and the errno is the failed step's.
	 */
	if (w->exec_failed && w->exec_why != NULL && w->exec_stage != NULL &&
	    strcmp(w->exec_stage, "env_file") == 0)
		detail = xstrdup(w->exec_why);
	else if (w->exec_failed && w->exec_stage != NULL &&
	    rlim_key_of(w->exec_stage) >= 0)
		detail = rlim_failure(a, w->exec_stage, w->exec_errno);
	else if (w->exec_failed)
		xasprintf(&detail, "%s %s: %s", w->exec_stage,
		    w->exec_stage && strcmp(w->exec_stage, "exec") == 0 &&
		    a->argv.n > 0 ? a->argv.v[0] : "failed",
		    strerror(w->exec_errno));
	else if (w->hang) {
		char d[32];
		format_duration(w->wd_ms, d, sizeof(d));
		xasprintf(&detail, "watchdog: no heartbeat for %s", d);
	} else if (w->memory) {
		char d[128];
		describe_memory(w->memory_rss, w->memory_max, d, sizeof(d));
		xasprintf(&detail, "max_memory: %s", d);
	} else if (oom || ooms > 0) {
		char m[32];
		format_size(a->memory_max, m, sizeof(m));
		/* A child of it killed is said; its own exit is classed. */
		xasprintf(&detail, "memory_max: %s by the kernel's OOM killer "
		    "at memory_max %s (%llu OOM kill%s in its cgroup)", oom ?
		    "killed" : "a process of the run killed", m,
		    (unsigned long long)ooms, ooms == 1 ? "" : "s");
		log_warnx("agent %s (pid %ld): %s", w->name, (long)w->pid,
		    detail);
	} else if (w->recycling && cls == CORRAL_EXIT_STOPPED)
		detail = xstrdup(w->recycle_why);
	/* What it said of its storage, too. */
	if (w->run_storage != SK_NONE) {
		char *both;
		xasprintf(&both, "%s%scheckpoint storage error (%s): %s",
		    detail ? detail : "", detail ? "; " : "",
		    storage_kind_name(w->run_storage), w->run_storage_msg);
		free(detail);
		detail = both;
	}
	/* The run's last report goes with its exit, whatever the class. */
	if (w->report != NULL) {
		char *both;
		xasprintf(&both, "%s%s%s %s error %s: %s", detail ? detail : "",
		    detail ? "; " : "", w->report->recoverable ?
		    "reported recoverable" : "reported unrecoverable",
		    report_severity_name(w->report->severity), w->report->code,
		    w->report->message);
		free(detail);
		detail = both;
	}
	describe_exit(how, sizeof(how), status);

	ev_fill(&e, w, EV_EXIT);
	e.cls = cls;
	if (WIFEXITED(status))
		e.code = WEXITSTATUS(status);
	else
		e.sig = WTERMSIG(status);
	e.err = w->exec_failed ? w->exec_errno : -1;
	e.start_ms = w->start_wall_ms;
	e.run_ms = (int64_t)run_ms;
	e.start_failure = plan.failure ? plan.start_failure : -1;
	e.detail = detail;
	rolled = resume_exited(w, cls, &e, &rb, &found, fwhy, sizeof(fwhy));
	statedb_add(f->db, &e);
	if (rolled)
		statedb_add(f->db, &rb);

	if (w->exec_failed)
		log_error("agent %s (pid %ld): cannot start: %s", w->name,
		    (long)w->pid, detail);
	else if (w->report != NULL)
		log_info("agent %s (pid %ld): its last report: %s %s: %s",
		    w->name, (long)w->pid,
		    report_severity_name(w->report->severity), w->report->code,
		    w->report->message);
	log_info("agent %s (pid %ld): %s after %.3fs: %s%s", w->name,
	    (long)w->pid, how, (double)run_ms / 1000.0,
	    corral_exit_class_name(cls), plan.failure ?
	    (plan.start_failure ? " (start failure)" : " (runtime failure)") :
	    "");

	poststop_run(w, cls, status);
	w->pid = 0;
	w->exits[cls]++;
	/* Stopped to be recycled, and nobody wants it stopped since. */
	recycled = w->recycling && cls == CORRAL_EXIT_STOPPED && !w->held &&
	    !w->restart_pending && !f->shutting_down && !w->retiring;
	w->recycling = false;
	if (w->retiring) {
		worker_set_state(w, W_STOPPED, w->retire_why);
		worker_retire_done(w);
		fleet_idle_check(f);
		return;
	}
	w->last_class = cls;
	w->last_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	w->last_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	/*
	 * Stopped because its thread's lease went elsewhere: no failure of
	 * its own, no restart here until the lease comes back.
	 */
	if (w->lease_lost && !f->shutting_down && !w->held &&
	    !w->restart_pending) {
		w->lease_lost = false;
		worker_set_state(w, W_ELSEWHERE, w->lease_why);
		worker_timer_arm(w, lease_period_ms(f->conf->lease_ttl_ms));
		breakers_trial_void(w);
		goto out;
	}
	w->lease_lost = false;
	w->failures = plan.failures;
	if (plan.chain_closed)
		w->chain = 0;

	memset(&sin, 0, sizeof(sin));
	sin.cls = cls;
	sin.restarts = plan.next == W_BACKOFF && !f->shutting_down;
	sin.said = w->run_storage;
	sin.found = found;
	sa = storage_decide(&sin);
	if (sa == SA_HOLD) {
		if (found != SK_NONE)
			storage_hold(w, found, fwhy);
		else {
			snprintf(fwhy, sizeof(fwhy), "checkpoint storage error "
			    "(%s): %s", storage_kind_name(w->run_storage),
			    w->run_storage_msg);
			storage_hold(w, w->run_storage, fwhy);
		}
		goto out;
	}
	if (sa == SA_RETRY) {
		free(w->storage_why);
		if (w->run_storage != SK_NONE)
			xasprintf(&w->storage_why, "checkpoint storage error "
			    "(%s): %s", storage_kind_name(w->run_storage),
			    w->run_storage_msg);
		else
			xasprintf(&w->storage_why, "checkpoint storage error: "
			    "exited %d (EX_IOERR) without saying more",
			    w->last_code);
		w->storage_kind = w->run_storage != SK_NONE ? w->run_storage :
		    SK_IO;
	}

	if (breakers_exited(w, cls, &plan))
		goto out;
	/* Recycled: no failure, no backoff; the breakers only voided a trial. */
	if (recycled && !w->regroup) {
		snprintf(why, sizeof(why), "%s; restart now", w->recycle_why);
		worker_set_state(w, W_BACKOFF, why);
		backoff_over(w);
		goto out;
	}
	/* Stopped by its cluster's strategy: it restarts with the group. */
	if (w->regroup) {
		if (cls == CORRAL_EXIT_STOPPED && !w->held &&
		    !w->restart_pending && !f->shutting_down) {
			cluster_regrouped_exit(w);
			goto out;
		}
		w->regroup = false;
	}
	if (plan.next == W_BACKOFF) {
		const char *pwhy = plan.why;
		if (sa == SA_RETRY) {
			/* storage_retry, spread as the backoff is. */
			struct corral_backoff sb = a->backoff;
			sb.initial_ms = sb.max_ms = a->storage_retry_ms;
			delay = corral_backoff_delay(&sb, 0,
			    corral_rng_uniform(&f->rng));
			pwhy = w->storage_why;
		} else if (plan.failure || plan.throttle)
			delay = corral_backoff_delay(&a->backoff,
			    plan.backoff_k, corral_rng_uniform(&f->rng));
		if (cluster_regroup(w, delay)) {
			snprintf(why, sizeof(why), "%s; restart in %.3fs with "
			    "cluster %s (failure %u)", pwhy,
			    (double)delay / 1000.0, w->rt->cluster->g.name,
			    plan.failures);
			worker_set_state(w, W_BACKOFF, why);
			goto out;
		}
		if (sa == SA_RETRY)
			snprintf(why, sizeof(why), "%s; retry in %.3fs "
			    "(storage_retry; failure %u)", pwhy,
			    (double)delay / 1000.0, plan.failures);
		else
			snprintf(why, sizeof(why), "%s; restart in %.3fs "
			    "(failure %u)", pwhy, (double)delay / 1000.0,
			    plan.failures);
		worker_set_state(w, W_BACKOFF, why);
		/* Due now (a clean exit restarted at once): no timer's turn. */
		if (delay == 0)
			backoff_over(w);
		else
			worker_timer_arm(w, delay);
	} else
		worker_set_state(w, plan.next, plan.why);
out:
	/* A dependent is gone: what it came after may stop now. */
	if (f->shutting_down && f->shutdown_kills == 1)
		order_shutdown_step(f, false);
	fleet_idle_check(f);
}

void
fleet_idle_check(struct fleet *f)
{
	if (f->shutting_down && f->live == 0 && f->nsurv == 0 &&
	    !hooks_awaited(f) && f->on_idle != NULL)
		f->on_idle(f);
}

void
fleet_reap(struct fleet *f)
{
	struct worker *w;
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		/*
		 * A datagram is queued when sendto returns, so whatever the
		 * run said before it died is there now: read it while its pid
		 * is still the worker's (a storage error, READY=1, a report
		 * decide its exit's class).
		 */
		nsock_drain(f->nsock);
		if ((w = fleet_find_pid(f, pid)) == NULL) {
			char how[96];
			if (hook_reaped(f, pid, status)) {
				/* A post_stop corrald's exit waited for. */
				fleet_idle_check(f);
				continue;
			}
			if (watch_reaped(f, pid, status))
				continue;
			describe_exit(how, sizeof(how), status);
			log_debug("reaped pid %ld, not a worker: %s", (long)pid,
			    how);
			continue;
		}
		worker_exited(w, status);
	}
}

/* Stop the process, if any, and cancel any restart.  Not recorded. */
void
worker_halt(struct worker *w)
{
	struct fleet *f = w->fleet;
	bool idle = w->pid == 0;

	if (w->queued) {
		TAILQ_REMOVE(&f->startq, w, startq);
		w->queued = false;
	}
	/* A spawn put off while the checkpoint database was locked. */
	if (w->resume_ev != NULL)
		evtimer_del(w->resume_ev);
	w->resume_tries = 0;
	runs_halt(w);
	w->regroup = false;
	w->pre_ok = false;
	w->after_post = false;
	/* Its pre_start goes, and nothing starts after it. */
	if (w->pre_hook != NULL) {
		hook_cancel(w->pre_hook, SIGTERM);
		w->pre_hook = NULL;
		worker_set_state(w, W_STOPPED, "pre_start cancelled");
		breakers_trial_void(w);
		return;
	}
	/*
	 * Without a process, the trial slots it holds (admitted, queued, or
	 * a fork that failed) go back, once it is STOPPED: the release that
	 * offers them must not pick this worker again.
	 */
	if (idle)
		switch (w->state) {
		case W_BACKOFF:
		case W_HELD:
		case W_DEGRADED:
		case W_LIMITED:
		case W_ELSEWHERE:
		case W_WAITING:
			evtimer_del(w->timer);
			worker_set_state(w, W_STOPPED, NULL);
			/* FALLTHROUGH */
		default:
			breakers_trial_void(w);
			return;
		}
	switch (w->state) {
	case W_STARTING:
	case W_RUNNING:
		worker_kill_run(w, NULL);
		break;
	case W_BACKOFF:
	case W_HELD:
	case W_DEGRADED:
		evtimer_del(w->timer);
		worker_set_state(w, W_STOPPED, NULL);
		break;
	default:
		break;
	}
}

void
worker_stop(struct worker *w)
{
	w->restart_pending = false;
	if (!w->held) {
		w->held = true;
		statedb_set_held(w->fleet->db, w->agent->name, w->instance,
		    true);
	}
	worker_halt(w);
}

/* A start, the operator's or the end of a restart's stop. */
static void
worker_go(struct worker *w)
{
	if (w->fleet->shutting_down)
		return;
	/* The operator says go on past a storage hold (resume_choose). */
	w->storage_ack = true;
	if (w->held) {
		w->held = false;
		statedb_set_held(w->fleet->db, w->agent->name, w->instance,
		    false);
	}
	/* Over the descriptor limit, an operator's start cannot help. */
	if (w->limited && w->pid == 0) {
		evtimer_del(w->timer);
		limits_hold(w);
		return;
	}
	switch (w->state) {
	case W_STOPPED:
	case W_EXITED:
	case W_FATAL:
	case W_LIMITED:
		/* A fresh start: no history of failure. */
		w->failures = 0;
		w->chain = 0;
		w->spawn_errors = 0;
		/* A fallback's instance is corrald's: its breakers decide. */
		if (w->for_fallback) {
			breakers_start(w);
			break;
		}
		/* The operator's: it probes breakers that are not closed. */
		breakers_probe(w);
		worker_enqueue(w);
		break;
	case W_HELD:
	case W_DEGRADED:
		/* The operator overrides the breakers: this run probes them. */
		breakers_probe(w);
		/* FALLTHROUGH */
	case W_BACKOFF:
	case W_ELSEWHERE:
	case W_WAITING:
		evtimer_del(w->timer);
		w->regroup = false;
		worker_enqueue(w);
		break;
	case W_STOPPING:
		w->restart_pending = true;
		break;
	default:
		break;
	}
}

void
worker_start(struct worker *w)
{
	/* Started by a human: no longer a fallback's instance to stop. */
	if (w->pid == 0)
		w->for_fallback = false;
	worker_go(w);
}

void
worker_restart(struct worker *w)
{
	/* A restart keeps a fallback's instance what it was. */
	if (w->pid == 0) {
		worker_go(w);
		return;
	}
	if (w->held) {
		w->held = false;
		statedb_set_held(w->fleet->db, w->agent->name, w->instance,
		    false);
	}
	w->restart_pending = true;
	worker_halt(w);
}

bool
worker_settled(const struct worker *w)
{
	char why[256];

	/* Waiting for an agent on its way up: it will move. */
	if (w->state == W_WAITING && !w->held &&
	    order_check(w, why, sizeof(why)) == ORDER_WAIT)
		return false;
	return !w->queued && !w->restart_pending &&
	    (w->resume_ev == NULL || !evtimer_pending(w->resume_ev, NULL)) &&
	    w->state != W_STARTING && w->state != W_STOPPING;
}

void
fleet_shutdown(struct fleet *f)
{
	size_t i;

	/*
	 * Exits not yet reaped happened before this stop was asked (SIGTERM
	 * is dispatched before SIGCHLD): they keep their own class.
	 */
	fleet_reap(f);
	f->shutting_down = true;
	if (f->shutdown_kills++ > 0) {
		log_warnx("asked again: killing %zu remaining workers now",
		    f->live);
		for (i = 0; i < f->nworkers; i++)
			if (f->workers[i]->pid != 0)
				worker_kill(f->workers[i], SIGKILL);
		hooks_kill_awaited(f);
		return;
	}
	log_info("stopping %zu running workers", f->live);
	/*
	 * Reverse start order, and what an agent's `after` names only once
	 * that agent's processes are gone (order_shutdown_step again at each
	 * exit).
	 */
	order_shutdown_step(f, true);
	fleet_idle_check(f);
}

void
fleet_reopen_logs(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->nworkers; i++)
		output_reopen(f->workers[i]);
	/* corrald's own: moved away (logrotate), or another path (reload). */
	(void)log_file_open(f->conf->log_file, f->conf->log_file_max_bytes,
	    f->conf->log_file_backups);
}

/* Our children, as the kernel lists them (orphans adopted as subreaper). */
static size_t
list_children(pid_t *out, size_t max)
{
	char path[64];
	FILE *fp;
	size_t n = 0;
	long pid;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
	    (long)getpid());
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	while (n < max && fscanf(fp, "%ld", &pid) == 1)
		out[n++] = (pid_t)pid;
	fclose(fp);
	return n;
}

void
fleet_reap_orphans(struct fleet *f)
{
	pid_t kids[256];
	size_t n, i, total = 0;
	int rounds;

	(void)f;
	/* Killed orphans may leave orphans of their own: a few rounds. */
	for (rounds = 0; rounds < 16; rounds++) {
		if ((n = list_children(kids, 256)) == 0)
			break;
		for (i = 0; i < n; i++) {
			kill(kids[i], SIGKILL);
			total++;
		}
		for (i = 0; i < n; i++)
			while (waitpid(kids[i], NULL, 0) == -1 &&
			    errno == EINTR)
				;
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (total > 0)
		log_info("killed %zu stray processes left by workers", total);
}

/*
 * Agents and clusters keep their breakers across a reload, by name, with
 * the new policy; fallback demands are counted again from scratch.  The
 * fleet's list is the new one already; rts, crts and their names are
 * still the old configuration's.
 */
static void
reload_breakers(struct fleet *f, struct config *conf)
{
	struct agent_rt **rts = xcalloc(conf->nagents, sizeof(*rts));
	struct cluster_rt **crts = xcalloc(conf->nclusters, sizeof(*crts));
	ssize_t at;
	size_t i, j;

	/* A trial of a cluster its agent leaves gives its slot back. */
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		struct cluster_rt *oc = w->rt != NULL ? w->rt->cluster : NULL;
		if (w->ctrial && oc != NULL && !str_same(oc->g.name,
		    w->agent->cluster)) {
			corral_breaker_trial_void(&oc->g.br);
			w->ctrial = false;
		}
	}

	/* Names are unique in a file: each old one is taken at most once. */
	for (i = 0; i < conf->nagents; i++) {
		struct agent_conf *a = &conf->agents[i];
		if ((at = nametab_get(&f->rtnames, a->name)) >= 0) {
			rts[i] = f->rts[at];
			f->rts[at] = NULL;
			guard_set_policy(&rts[i]->g, &a->breaker);
		} else
			rts[i] = agent_rt_new(f, a);
	}
	for (i = 0; i < conf->nclusters; i++) {
		struct cluster_conf *cc = &conf->clusters[i];
		if ((at = nametab_get(&f->crtnames, cc->name)) >= 0) {
			crts[i] = f->crts[at];
			f->crts[at] = NULL;
			crts[i]->conf = cc;
			guard_set_policy(&crts[i]->g, &cc->breaker);
		} else
			crts[i] = cluster_rt_new(f, cc);
	}
	/* Their names are the keys: the tables go before what is left. */
	nametab_free(&f->rtnames);
	nametab_free(&f->crtnames);
	for (j = 0; j < f->nrts; j++)
		agent_rt_free(f->rts[j]);
	free(f->rts);
	f->rts = rts;
	f->nrts = conf->nagents;
	for (j = 0; j < f->ncrts; j++)
		cluster_rt_free(f->crts[j]);
	free(f->crts);
	f->crts = crts;
	f->ncrts = conf->nclusters;
	/* rts is parallel to conf->agents, which w->agent points into. */
	for (i = 0; i < f->nworkers; i++)
		f->workers[i]->rt = rts[f->workers[i]->agent - conf->agents];
	breakers_link(f);
	order_link(f);
	breakers_prune(f);
}

void
fleet_reload(struct fleet *f, struct config *conf, size_t *added,
    size_t *removed, size_t *changed, size_t *kept)
{
	struct config *old = f->conf;
	struct worker **ows = f->workers, **nws;
	size_t on = f->nworkers, nn = 0, total = 0, i;
	struct reload_plan plan;
	struct nametab names;
	ssize_t at;
	unsigned k;

	*added = *removed = *changed = *kept = 0;
	/* Decided before anything changes: what --dry-run shows. */
	reload_plan_make(f, conf, &plan);
	config_keep_daemon(old, conf, "reload");
	log_set_level(conf->log_level);
	statedb_set_retention(f->db, conf->event_retention_ms,
	    conf->event_retention_count);
	for (i = 0; i < conf->nagents; i++)
		total += conf->agents[i].numprocs;
	nws = xcalloc(total, sizeof(*nws));
	f->conf = conf;

	/*
	 * The old workers, found through their agents (the fleet's rts are
	 * still the old configuration's, parallel to its agents).
	 */
	for (i = 0; i < conf->nagents; i++) {
		struct agent_conf *a = &conf->agents[i];
		ssize_t oi = plan.old[i];
		struct agent_rt *ort = oi >= 0 ? f->rts[oi] : NULL;
		bool same = plan.same[i];

		for (k = 0; k < a->numprocs; k++) {
			struct worker *w = ort != NULL && k < ort->nworkers ?
			    ort->workers[k] : NULL;
			if (w == NULL) {
				w = worker_new(f, a, k);
				(*added)++;
				w->fresh = a->autostart;
			} else {
				w->agent = a; /* the new policy, from now on */
				if (same)
					(*kept)++;
				else {
					(*changed)++;
					if (reload_restarts(w))
						worker_restart(w);
				}
			}
			nws[nn++] = w;
		}
	}
	/* Kept: its agent is still there, with as many instances. */
	memset(&names, 0, sizeof(names));
	for (i = 0; i < conf->nagents; i++)
		nametab_put(&names, conf->agents[i].name, i);
	for (i = 0; i < on; i++) {
		struct worker *w = ows[i];
		if ((at = nametab_get(&names, w->agent->name)) >= 0 &&
		    w->instance < conf->agents[at].numprocs)
			continue;
		(*removed)++;
		worker_remove(f, w, "removed by reload");
	}
	nametab_free(&names);
	reload_plan_free(&plan);
	free(ows);
	f->workers = nws;
	f->nworkers = nn;
	reload_breakers(f, conf);
	/*
	 * The fleet may have grown (or the hard limit been raised): plan its
	 * descriptors again; LIMITED workers that fit now start.
	 */
	limits_plan(f);
	/* New instances start, unless their agent's breaker holds them. */
	for (i = 0; i < nn; i++) {
		struct worker *w = nws[i];
		if (!w->fresh)
			continue;
		w->fresh = false;
		breakers_start(w);
	}
	/*
	 * Breakers switched on or off, clusters gone or left: every timer as
	 * its breaker now needs, and what no breaker holds any more starts.
	 */
	breakers_rearm(f);
	fallback_recount(f);
	cluster_regroup_orphans(f);
	recycle_reloaded(f);
	for (i = 0; i < f->ncrts; i++)
		cluster_touch(f->crts[i]);
	/* `after` added, removed or met by what the reload changed. */
	order_release_all(f);
	pidtab_fit(f, nn);
	/* max_memory may have come or gone: the sampling timer follows. */
	usage_rearm(f);
	/* An agent may now run as another user, who must reach the socket. */
	if (f->nsock != NULL)
		nsock_fit_mode(f->nsock, conf);
	if (LIST_EMPTY(&f->retiring))
		config_free(old);
	else {
		f->old = xreallocarray(f->old, f->nold + 1, sizeof(*f->old));
		f->old[f->nold++] = old;
	}
	fleet_reopen_logs(f);
}

int
fleet_reload_file(struct fleet *f, struct config_errors *errs, char *summary,
    size_t len)
{
	struct config *conf;
	size_t added, removed, changed, kept, i;

	if (f->shutting_down) {
		strv_init(&errs->msgs);
		snprintf(summary, len, "corrald is shutting down");
		return -1;
	}
	if ((conf = config_load(f->conf->path, errs)) == NULL) {
		for (i = 0; i < errs->msgs.n; i++)
			log_error("reload: %s", errs->msgs.v[i]);
		snprintf(summary, len, "%s: %zu error%s; nothing changed",
		    f->conf->path, errs->msgs.n, errs->msgs.n == 1 ? "" : "s");
		log_error("reload: %s", summary);
		/* Log rotation must not wait for a good file. */
		fleet_reopen_logs(f);
		return -1;
	}
	strv_free(&errs->msgs);
	fleet_reload(f, conf, &added, &removed, &changed, &kept);
	snprintf(summary, len, "reloaded %s: %zu added, %zu removed, %zu "
	    "changed, %zu unchanged", f->conf->path, added, removed, changed,
	    kept);
	log_info("%s", summary);
	return 0;
}

/* A worker leaves the fleet's list, as a reload removes one. */
static void
worker_remove(struct fleet *f, struct worker *w, const char *why)
{
	breakers_forget(w);
	w->rt = NULL; /* its breaker may go with its agent */
	if (w->held)
		statedb_set_held(f->db, w->agent->name, w->instance, false);
	worker_halt(w);
	if (w->pid != 0) {
		w->retiring = true;
		w->retire_why = why;
		w->restart_pending = false;
		LIST_INSERT_HEAD(&f->retiring, w, retire_entry);
	} else {
		if (f->ctl != NULL)
			control_worker_gone(f->ctl, w);
		lease_release(w);
		worker_free(w);
	}
}

int
fleet_scale(struct fleet *f, const char *agent, unsigned n, char *msg,
    size_t len, struct worker ***touched, size_t *ntouched)
{
	struct agent_rt *rt = fleet_find_rt(f, agent);
	struct worker **nws, **gone, **ts, *w;
	struct scale_change sc;
	struct agent_conf *a;
	size_t i, nn = 0, nt = 0, limited = 0;
	unsigned k, was;
	char lim[256] = "";

	*touched = NULL;
	*ntouched = 0;
	if (f->shutting_down) {
		snprintf(msg, len, "corrald is shutting down");
		return -1;
	}
	if (rt == NULL || rt->nworkers == 0) {
		snprintf(msg, len, "no agent '%s'", agent);
		return -1;
	}
	if (n < 1 || n > SCALE_MAX) {
		snprintf(msg, len, "%u instances: an agent runs 1 to %d", n,
		    SCALE_MAX);
		return -1;
	}
	a = rt->workers[0]->agent;
	was = a->numprocs;
	/* Never two runs of one instance: one removed may still stop. */
	LIST_FOREACH(w, &f->retiring, retire_entry)
		if (strcmp(w->agent->name, agent) == 0 && w->instance < n &&
		    n > was) {
			snprintf(msg, len, "%s is still stopping (removed "
			    "before); try again when it is gone", w->name);
			return -1;
		}
	scale_plan(was, n, &sc);
	gone = xcalloc(sc.ngone + 1, sizeof(*gone));
	for (k = 0; k < sc.ngone; k++)
		gone[k] = rt->workers[sc.first_gone + k];
	ts = xcalloc(sc.nnew + sc.ngone + 1, sizeof(*ts));
	nws = xcalloc(f->nworkers + sc.nnew + 1, sizeof(*nws));
	/* The agent's workers are together, in instance order: new ones
	 * go after its last kept one, keeping start order. */
	for (i = 0; i < f->nworkers; i++) {
		w = f->workers[i];
		if (w->agent == a && w->instance >= n)
			continue;
		nws[nn++] = w;
		if (w->agent != a || w->instance + 1 != (n < was ? n : was))
			continue;
		for (k = 0; k < sc.nnew; k++) {
			struct worker *x = worker_new(f, a, sc.first_new + k);
			x->rt = rt;
			x->fresh = true;
			nws[nn++] = x;
			ts[nt++] = x;
		}
	}
	for (k = 0; k < sc.ngone; k++) {
		w = gone[k];
		worker_remove(f, w, "removed by corralctl scale");
		if (w->retiring)
			ts[nt++] = w;
	}
	free(gone);
	free(f->workers);
	f->workers = nws;
	f->nworkers = nn;
	a->numprocs = n;
	breakers_link(f);
	order_link(f);
	pidtab_fit(f, nn);
	/* The new ones may not fit under the descriptor limit. */
	limits_plan(f);
	for (i = 0; i < nn; i++) {
		w = nws[i];
		if (!w->fresh)
			continue;
		w->fresh = false;
		if (w->limited)
			limited++;
		breakers_start(w);
	}
	if (rt->cluster != NULL)
		cluster_touch(rt->cluster);
	order_release_all(f);
	if (limited > 0) {
		limits_describe(f, lim, sizeof(lim));
		snprintf(lim + strlen(lim), sizeof(lim) - strlen(lim),
		    " (%zu of the new wait in LIMITED)", limited);
	}
	snprintf(msg, len, "%s: %u instance%s, was %u; the file says %u, and "
	    "a reload goes back to it%s%s", agent, n, n == 1 ? "" : "s", was,
	    a->numprocs_file, *lim ? "; " : "", lim);
	log_info("scale %s", msg);
	*touched = ts;
	*ntouched = nt;
	return 0;
}

struct worker *
fleet_find_worker(struct fleet *f, const char *agent, unsigned instance)
{
	struct agent_rt *rt = fleet_find_rt(f, agent);

	return rt != NULL && instance < rt->nworkers ?
	    rt->workers[instance] : NULL;
}

static void
keep_open(int fd)
{
	if (fd != -1)
		fcntl(fd, F_SETFD, 0);
}

void
worker_snapshot(struct worker *w, struct worker_snap *s)
{
	int j;

	memset(s, 0, sizeof(*s));
	snprintf(s->agent, sizeof(s->agent), "%s", w->agent->name);
	s->instance = w->instance;
	s->state = (int)w->state;
	s->pid = (long)w->pid;
	s->start_wall_ms = w->start_wall_ms;
	s->start_mono_ms = (long long)w->start_mono_ms;
	s->deadline_mono_ms = evtimer_pending(w->timer, NULL) ?
	    (long long)w->deadline_mono_ms : 0;
	/* Waiting for its cluster's group: the new image gives it a timer. */
	if (w->regroup && w->state == W_BACKOFF && w->pid == 0)
		s->deadline_mono_ms = (long long)w->deadline_mono_ms;
	s->trial = w->trial;
	s->ctrial = w->ctrial;
	s->regroup = w->regroup;
	s->for_fallback = w->for_fallback;
	s->chain = w->chain;
	s->healthy = w->healthy;
	s->healthy_due = 0;
	s->stop_requested = w->stop_requested;
	s->held = w->held;
	/* A recycle in progress finishes as an operator's restart would. */
	s->restart_pending = w->restart_pending || w->recycling;
	/*
	 * A spawn put off by a locked database, or waiting for a hook: the
	 * new image queues it (and runs pre_start again).
	 */
	s->queued = w->queued || (w->resume_ev != NULL &&
	    evtimer_pending(w->resume_ev, NULL)) || w->pre_hook != NULL ||
	    w->after_post;
	s->failures = w->failures;
	s->runs = w->runs;
	s->start_failures = w->start_failures;
	s->runtime_failures = w->runtime_failures;
	s->last_class = (int)w->last_class;
	s->last_code = w->last_code;
	s->last_signal = w->last_signal;
	memcpy(s->exits, w->exits, sizeof(s->exits));
	for (j = 0; j < 2; j++) {
		s->outfd[j] = output_fd(w->out[j]);
		keep_open(s->outfd[j]);
	}
	s->execfd = -1;
	s->ready = w->ready;
	s->hang = w->hang;
	s->wd_ms = w->wd_ms;
	s->wd_deadline_mono_ms = evtimer_pending(w->wdog, NULL) ?
	    w->wd_deadline_mono_ms : 0;
	s->heartbeat_mono_ms = w->heartbeat_mono_ms;
	s->rs = w->rs;
	/* Borrowed while the snap is written. */
	s->status_text = w->status_text;
	s->report = w->report;
	s->storage_exits = w->exits[CORRAL_EXIT_STORAGE];
	s->memory_exits = w->exits[CORRAL_EXIT_MEMORY];
	s->memory = w->memory;
	s->memory_rss = w->memory_rss;
	s->memory_max = w->memory_max;
	s->run_storage = (int)w->run_storage;
	s->storage_kind = (int)w->storage_kind;
	s->storage_ack = w->storage_ack;
	s->run_storage_msg = w->run_storage_msg; /* borrowed, as above */
	s->storage_why = w->storage_why;
	s->stop_known = true;
	s->stop_signal = w->agent->stop_signal;
	s->stop_timeout_ms = w->agent->stop_timeout_ms;
	s->out[0] = (int)w->agent->out[0];
	s->out[1] = (int)w->agent->out[1];
	/*
	 * Its hooks go on in the next image, which waits for them as this
	 * one would: a pre_start is not run twice, a start still waits for
	 * post_stop, and hook_timeout still holds.  (queued, above, says
	 * what an image that does not take them over should do.)
	 */
	(void)hook_handover(w->pre_hook, &s->pre);
	(void)hook_handover(w->post_hook, &s->post);
	s->after_post = s->post.pid != 0 && w->after_post;
	s->oom_known = 1;
	s->oom_base = w->oom_base;
}

void
worker_adopt(struct worker *w, const struct worker_snap *s)
{
	uint64_t now = now_mono_ms();
	int j;

	w->state = (enum wstate)s->state;
	w->pid = (pid_t)s->pid;
	w->start_wall_ms = s->start_wall_ms;
	w->start_mono_ms = (uint64_t)s->start_mono_ms;
	w->chain = s->chain;
	w->healthy = s->healthy;
	w->stop_requested = s->stop_requested;
	w->held = s->held;
	w->restart_pending = s->restart_pending;
	w->trial = s->trial;
	w->ctrial = s->ctrial;
	w->regroup = s->regroup;
	w->for_fallback = s->for_fallback;
	w->failures = s->failures;
	w->runs = s->runs;
	w->start_failures = s->start_failures;
	w->runtime_failures = s->runtime_failures;
	w->last_class = (enum corral_exit_class)s->last_class;
	w->last_code = s->last_code;
	w->last_signal = s->last_signal;
	memcpy(w->exits, s->exits, sizeof(w->exits));
	if (w->pid != 0) {
		pid_insert(w);
		runs_adopted(w);
		cglimit_adopted(w);
		/* Counted from the run's start, not the exec: a kill meanwhile
		 * (or of one of its processes before) is the run's. */
		if (s->oom_known && w->cgl_dir[CGL_MEMORY] != NULL)
			w->oom_base = s->oom_base;
	}
	for (j = 0; j < 2; j++) {
		if (s->outfd[j] == -1)
			continue;
		fcntl(s->outfd[j], F_SETFD, FD_CLOEXEC);
		w->out[j] = output_open(w, j + 1, s->outfd[j]);
	}
	if (s->execfd != -1) {
		w->exec_failed = spawn_exec_pipe(s->execfd, &w->exec_errno,
		    &w->exec_stage) == 1;
		close(s->execfd);
	}
	/* The same monotonic clock: what was due still is, at its time. */
	if (s->regroup && w->state == W_BACKOFF && w->pid == 0)
		w->deadline_mono_ms = (uint64_t)s->deadline_mono_ms;
	else if (s->deadline_mono_ms != 0)
		worker_timer_arm(w, (uint64_t)s->deadline_mono_ms > now ?
		    (uint64_t)s->deadline_mono_ms - now : 0);
	/* Its healthy_after passed while it was exec'ing: now it counts. */
	if (s->healthy_due && !w->exec_failed && w->state == W_STARTING)
		worker_timer_arm(w, 0);
	/* Its hooks, running: their ends go on where this image would. */
	if (s->pre.pid != 0)
		w->pre_hook = worker_hook_adopt(w, "pre_start", &s->pre,
		    prestart_done);
	if (s->post.pid != 0) {
		w->post_hook = worker_hook_adopt(w, "post_stop", &s->post,
		    poststop_done);
		w->after_post = s->after_post != 0;
	}
	if (s->queued && w->pre_hook == NULL && !w->after_post)
		worker_enqueue(w);
	w->ready = s->ready;
	w->hang = s->hang;
	w->wd_ms = s->wd_ms;
	w->heartbeat_mono_ms = s->heartbeat_mono_ms;
	if (s->wd_deadline_mono_ms != 0) {
		w->wd_deadline_mono_ms = s->wd_deadline_mono_ms;
		timer_add_ms(w->wdog, s->wd_deadline_mono_ms > now ?
		    s->wd_deadline_mono_ms - now : 0);
	}
	free(w->status_text);
	w->status_text = s->status_text;
	report_free(w->report);
	w->report = s->report;
	w->rs = s->rs;
	w->exits[CORRAL_EXIT_STORAGE] = s->storage_exits;
	w->exits[CORRAL_EXIT_MEMORY] = s->memory_exits;
	w->memory = s->memory != 0;
	w->memory_rss = s->memory_rss;
	w->memory_max = s->memory_max;
	w->run_storage = (enum storage_kind)s->run_storage;
	w->storage_kind = (enum storage_kind)s->storage_kind;
	w->storage_ack = s->storage_ack != 0;
	free(w->run_storage_msg);
	w->run_storage_msg = s->run_storage_msg;
	free(w->storage_why);
	w->storage_why = s->storage_why;
	w->adopted = true;
	w->age_u = corral_rng_uniform(&w->fleet->rng);
	recycle_arm(w);
}

void
fleet_retire_stray(struct fleet *f, struct worker_snap *s)
{
	struct config *c = config_standin(s->agent);
	struct agent_conf *a = &c->agents[0];
	struct worker *w;
	char d[32];

	/* An older image did not say: the defaults of every agent. */
	if (s->stop_known) {
		a->stop_signal = s->stop_signal;
		a->stop_timeout_ms = s->stop_timeout_ms;
		a->out[0] = (enum out_mode)s->out[0];
		a->out[1] = (enum out_mode)s->out[1];
	}
	/* Nothing of a schedule, a breaker or a fallback: it only stops. */
	s->queued = s->restart_pending = s->regroup = 0;
	/* Its hooks run on unwatched: nothing starts after them. */
	reexec_snap_drop_hooks(s);
	s->trial = s->ctrial = s->for_fallback = 0;
	/* Its thread, should the agent's thread_id name another, is not
	 * known: its exit carries no checkpoints. */
	s->rs.known = false;
	w = worker_new(f, a, s->instance);
	worker_adopt(w, s);
	w->retiring = true;
	w->retire_why = "not in the configuration";
	LIST_INSERT_HEAD(&f->retiring, w, retire_entry);
	/* The stand-in config lives until the last retiring worker goes. */
	f->old = xreallocarray(f->old, f->nold + 1, sizeof(*f->old));
	f->old[f->nold++] = c;
	format_duration(a->stop_timeout_ms, d, sizeof(d));
	log_warnx("reexec: agent %s (pid %ld) is not in the configuration; "
	    "stopping it: %s to its process group, KILL after %s%s",
	    w->name, (long)w->pid, signal_name(a->stop_signal) ?
	    signal_name(a->stop_signal) : "its stop signal", d,
	    s->stop_known ? "" : " (defaults: the old image did not say)");
	/* Already STOPPING: its timer, adopted, sends the KILL when due. */
	if (w->state == W_STARTING || w->state == W_RUNNING)
		worker_kill_run(w, "not in the configuration");
}
