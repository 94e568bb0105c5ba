/*
 * limits.c: file descriptors.  At start and at each reload corrald counts
 * what the fleet needs (what it has open besides its workers, a reserve,
 * and each worker's pipes and log files), raises its soft limit as far as
 * the hard one allows, and when even that is too few starts the workers
 * that fit, in start order, holding the rest in LIMITED with one message
 * naming the numbers.  While it runs, a descriptor or a process it cannot
 * get (EMFILE, ENFILE, EAGAIN from fork) is said once and retried with a
 * backoff, never in a hot loop.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "corrald.h"

unsigned
fd_per_worker(const struct agent_conf *a)
{
	unsigned n = 0;
	int j;

	/* redirect_stderr (OUT_STDOUT) shares stdout's pipe and file. */
	for (j = 0; j < 2; j++)
		n += a->out[j] == OUT_FILE ? 2 : a->out[j] == OUT_INHERIT ?
		    1 : 0;
	return n;
}

void
fd_plan_make(struct fd_plan *p, uint64_t fixed, uint64_t limit,
    const unsigned *per, const bool *live, size_t n, bool *fits)
{
	uint64_t used = fixed;
	bool full = false;
	size_t i;

	p->fixed = fixed;
	p->need = fixed;
	p->limit = limit;
	p->workers = n;
	p->fit = 0;
	/* What runs holds its descriptors already. */
	for (i = 0; i < n; i++) {
		p->need += per[i];
		if (live[i])
			used += per[i];
	}
	for (i = 0; i < n; i++) {
		if (live[i])
			fits[i] = true;
		else if (!full && used <= limit && per[i] <= limit - used) {
			fits[i] = true;
			used += per[i];
		} else {
			/* Start order is kept: no later worker jumps ahead. */
			fits[i] = false;
			full = true;
		}
		if (fits[i])
			p->fit++;
	}
}

static uint64_t worker_soft; /* the soft limit workers get */

/*
 * Raise the soft limit to the hard one (the kernel's nr_open when the hard
 * one is unlimited).  Descriptors cost corrald nothing until used, and it
 * uses epoll, never select(): the headroom serves clients and transient
 * needs beyond the plan.  Fills *soft and *hard with what holds after.
 */
static void
raise_soft(uint64_t *soft, uint64_t *hard)
{
	struct rlimit rl;
	uint64_t top;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		*soft = *hard = 0;
		return;
	}
	top = rl.rlim_max;
	if (rl.rlim_max == RLIM_INFINITY) {
		FILE *f = fopen("/proc/sys/fs/nr_open", "re");
		unsigned long v = 1048576;
		if (f != NULL) {
			if (fscanf(f, "%lu", &v) != 1)
				v = 1048576;
			fclose(f);
		}
		top = v;
	}
	if (rl.rlim_cur < top) {
		rl.rlim_cur = top;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("cannot raise the open file limit to %llu",
			    (unsigned long long)top);
		else
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	*soft = rl.rlim_cur == RLIM_INFINITY ? top : rl.rlim_cur;
	*hard = top;
}

void
limits_init(uint64_t soft_for_workers)
{
	struct rlimit rl;
	uint64_t soft, hard;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("cannot read the open file limit");
		return;
	}
	worker_soft = soft_for_workers != 0 ? soft_for_workers : rl.rlim_cur;
	spawn_set_nofile(worker_soft);
	raise_soft(&soft, &hard);
	if (soft > rl.rlim_cur)
		log_info("open file limit raised from %llu to %llu (the hard "
		    "limit); workers get %llu", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)soft, (unsigned long long)worker_soft);
}

uint64_t
limits_worker_soft(void)
{
	return worker_soft;
}

uint64_t
limits_current_soft(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	return rl.rlim_cur;
}

/* Descriptors open now, or 0 when they cannot be counted. */
static uint64_t
count_open(uint64_t limit)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0, fd;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		return n > 0 ? n - 1 : 0; /* not the directory's own */
	}
	/* No /proc, or no descriptor left to read it with: ask each. */
	for (fd = 0; fd < limit && fd < 1048576; fd++)
		if (fcntl((int)fd, F_GETFD) != -1)
			n++;
	return n;
}

/* What w holds now of what fd_per_worker() counts. */
static unsigned
held(const struct worker *w)
{
	unsigned n = 0;
	int j;

	for (j = 0; j < 2; j++)
		n += (w->out[j] != NULL) + (w->logfd[j] != -1);
	return n;
}

void
limits_describe(const struct fleet *f, char *buf, size_t len)
{
	const struct fd_plan *p = &f->fds;

	if (p->fit >= p->workers) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "fleet needs %llu file descriptors, the %s is "
	    "%llu: starting %zu of %zu workers; raise LimitNOFILE",
	    (unsigned long long)p->need, p->limit < p->hard ? "limit" :
	    "hard limit", (unsigned long long)p->limit, p->fit, p->workers);
}

void
limits_hold(struct worker *w)
{
	breakers_trial_void(w);
	worker_set_state(w, W_LIMITED, "over the file descriptor limit");
}

void
limits_plan(struct fleet *f)
{
	struct fd_plan p, old = f->fds;
	size_t n = f->nworkers, i;
	unsigned *per = xcalloc(n, sizeof(*per));
	bool *live = xcalloc(n, sizeof(*live));
	bool *fits = xcalloc(n, sizeof(*fits));
	uint64_t open_now, own, workers_hold = 0, soft, hard;
	char msg[256];

	raise_soft(&soft, &hard);
	for (i = 0; i < n; i++) {
		struct worker *w = f->workers[i];
		per[i] = fd_per_worker(w->agent);
		live[i] = w->pid != 0;
		workers_hold += held(w);
	}
	/*
	 * corrald's own: all it has open but the fleet's workers (retiring
	 * workers, connected clients and survivors' pidfds are in it).
	 */
	open_now = count_open(soft);
	own = open_now > workers_hold ? open_now - workers_hold : 0;
	own += FD_RESERVE_CLIENTS + FD_RESERVE_TRANSIENT;
	if (f->ckpt == NULL)
		own += FD_RESERVE_CKPT;
	fd_plan_make(&p, own, soft, per, live, n, fits);
	p.hard = hard;
	for (i = 0; i < n; i++)
		f->workers[i]->limited = !fits[i];
	f->fds = p;
	free(per);
	free(live);
	free(fits);

	if (p.fit < p.workers) {
		/* Said once per plan that differs, not per worker. */
		if (old.fit != p.fit || old.workers != p.workers ||
		    old.limit != p.limit) {
			limits_describe(f, msg, sizeof(msg));
			log_error("%s (the other %zu wait in state LIMITED)",
			    msg, p.workers - p.fit);
		}
	} else if (old.limit != 0 && old.fit < old.workers)
		log_info("file descriptors: every worker fits now: the fleet "
		    "needs %llu, the limit is %llu",
		    (unsigned long long)p.need, (unsigned long long)p.limit);
	else if (old.limit == 0)
		log_info("file descriptors: the fleet needs %llu, the limit is "
		    "%llu", (unsigned long long)p.need,
		    (unsigned long long)p.limit);
	/* What waited for room starts, if it has some now. */
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		if (w->state == W_LIMITED && !w->limited && !w->held)
			breakers_start(w);
	}
}

/*
 * Shortages at run time.  Near the limit, descriptors come and go (a
 * worker exits, another spawns): a shortage that comes back within
 * FD_SAY_EVERY_MS of the last one said is counted, not said again, so
 * that a flapping one is not a flood of its own.
 */
#define FD_SAY_EVERY_MS 60000

static struct {
	bool on;          /* failing since it last worked */
	bool said;        /* ...and that was said */
	uint64_t said_ms; /* when a shortage was last said; 0: never */
	uint64_t since;   /* failures since it last worked */
	uint64_t total;
} shortage[FD_NUSE];

const char *
fd_use_name(enum fd_use u)
{
	static const char *names[FD_NUSE] = { "spawn", "control", "http",
		"logfile" };

	return names[u];
}

bool
fd_short(enum fd_use u)
{
	uint64_t now = now_mono_ms();

	shortage[u].since++;
	shortage[u].total++;
	if (shortage[u].on)
		return false;
	shortage[u].on = true;
	shortage[u].said = shortage[u].said_ms == 0 ||
	    now - shortage[u].said_ms >= FD_SAY_EVERY_MS;
	if (shortage[u].said)
		shortage[u].said_ms = now;
	return shortage[u].said;
}

uint64_t
fd_ok(enum fd_use u)
{
	uint64_t n = shortage[u].since;

	if (!shortage[u].on)
		return 0;
	shortage[u].on = false;
	shortage[u].since = 0;
	return shortage[u].said ? n : 0;
}

uint64_t
fd_short_total(enum fd_use u)
{
	return shortage[u].total;
}

#define ACCEPT_RETRY_MIN_MS 100
#define ACCEPT_RETRY_MAX_MS 2000

struct accept_guard {
	struct evconnlistener *lis; /* borrowed */
	struct event *ev;           /* enables lis again */
	enum fd_use use;
	const char *what;           /* static */
	unsigned fails;             /* in a row: the retry's step */
	struct accept_guard *next;
};

/*
 * The listener's error callback gets the listener's own argument (evhttp's
 * server, for HTTP), not ours: guards are found by their listener.
 */
static struct accept_guard *guards;

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct accept_guard *g = arg;

	(void)fd;
	(void)what;
	if (evconnlistener_enable(g->lis) == -1)
		log_warnx("%s: cannot listen again", g->what);
}

static void
accept_error_cb(struct evconnlistener *lis, void *arg)
{
	struct accept_guard *g;
	int err = EVUTIL_SOCKET_ERROR();
	uint64_t ms;

	(void)arg;
	for (g = guards; g != NULL && g->lis != lis; g = g->next)
		;
	if (g == NULL)
		return;
	/* Left enabled, the pending connection fails accept at once again. */
	evconnlistener_disable(lis);
	ms = g->fails < 5 ? (uint64_t)ACCEPT_RETRY_MIN_MS << g->fails :
	    ACCEPT_RETRY_MAX_MS;
	if (ms > ACCEPT_RETRY_MAX_MS)
		ms = ACCEPT_RETRY_MAX_MS;
	g->fails++;
	if (fd_short(g->use))
		log_warnx("%s: cannot accept a connection: %s (open file limit "
		    "%llu); clients wait, accept retried every %llu ms at most "
		    "(said once, until one is accepted)", g->what,
		    strerror(err), (unsigned long long)limits_current_soft(),
		    (unsigned long long)ACCEPT_RETRY_MAX_MS);
	timer_add_ms(g->ev, ms);
}

struct accept_guard *
accept_guard_new(struct event_base *base, struct evconnlistener *lis,
    enum fd_use use, const char *what)
{
	struct accept_guard *g = xcalloc(1, sizeof(*g));

	g->lis = lis;
	g->use = use;
	g->what = what;
	if ((g->ev = evtimer_new(base, retry_cb, g)) == NULL)
		fatal("%s: cannot create its timer", what);
	evconnlistener_set_error_cb(lis, accept_error_cb);
	g->next = guards;
	guards = g;
	return g;
}

void
accept_guard_ok(struct accept_guard *g)
{
	uint64_t n;

	if (g == NULL || g->fails == 0)
		return;
	g->fails = 0;
	if ((n = fd_ok(g->use)) > 0)
		log_info("%s: accepting connections again (%llu attempts "
		    "failed)", g->what, (unsigned long long)n);
}

void
accept_guard_free(struct accept_guard *g)
{
	struct accept_guard **pp;

	if (g == NULL)
		return;
	for (pp = &guards; *pp != NULL; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	event_free(g->ev);
	free(g);
}
