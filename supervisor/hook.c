/*
 * hook.c: commands corrald runs beside its workers: a cluster's
 * on_state_change, an agent's pre_start and post_stop.  Each runs as a
 * child of corrald, never waited for: the loop reads its output line by
 * line into corrald's log, kills it after its timeout and learns of its
 * exit from SIGCHLD like any worker's, then tells its owner (done).
 * on_state_change runs one at a time per cluster, so that a script sees
 * the changes in the order they happened; the rest wait in a bounded
 * queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "corrald.h"

#define HOOK_QUEUE_MAX 32      /* changes waiting per cluster */
#define HOOK_TIMEOUT_MS 60000  /* on_state_change is killed after it */
#define HOOK_LINE_MAX 4096     /* longer output lines are cut */

extern char **environ;

struct hook_item {
	STAILQ_ENTRY(hook_item) entry;
	char *kind, *name, *old_state, *new_state;
};

struct hookq {
	STAILQ_HEAD(, hook_item) items;
	unsigned n;
	struct hook *running;    /* borrowed from the fleet's list */
};

struct hook {
	LIST_ENTRY(hook) entry;
	struct fleet *fleet;
	char *who, *cmd;         /* the log's "WHO: CMD: line" */
	char *what;              /* NULL, or "NAME OLD NEW", for the log */
	pid_t pid;               /* 0 once reaped */
	int fd[2];               /* stdout, stderr; -1 once closed */
	struct event *ev[2];
	struct evbuffer *buf[2];
	struct event *timeout;
	uint64_t timeout_ms;
	uint64_t deadline_mono_ms; /* when timeout fires */
	struct hook_end end;     /* how it ended, for done */
	void (*done)(void *, const struct hook_end *); /* NULL: nobody asks */
	void *arg;
	bool awaited;            /* corrald's exit waits for it */
};

static void hook_next(struct hookq *, struct cluster_rt *);

struct hookq *
hookq_new(void)
{
	struct hookq *q = xcalloc(1, sizeof(*q));

	STAILQ_INIT(&q->items);
	return q;
}

static void
item_free(struct hook_item *it)
{
	free(it->kind);
	free(it->name);
	free(it->old_state);
	free(it->new_state);
	free(it);
}

void
hookq_free(struct hookq *q)
{
	struct hook_item *it;

	if (q == NULL)
		return;
	while ((it = STAILQ_FIRST(&q->items)) != NULL) {
		STAILQ_REMOVE_HEAD(&q->items, entry);
		item_free(it);
	}
	free(q);
}

static void
emit(struct hook *h, const char *line, size_t len)
{
	log_info("%s: %s: %.*s", h->who, h->cmd,
	    (int)(len > HOOK_LINE_MAX ? HOOK_LINE_MAX : len), line);
}

/* Log the complete lines buffered; all of it when the stream ended. */
static void
drain_lines(struct hook *h, int j, bool all)
{
	struct evbuffer *b = h->buf[j];
	char *line;
	size_t len;

	while ((line = evbuffer_readln(b, &len, EVBUFFER_EOL_LF)) != NULL) {
		emit(h, line, len);
		free(line);
	}
	/* A line without end: cut it rather than buffer without bound. */
	if (evbuffer_get_length(b) >= HOOK_LINE_MAX ||
	    (all && evbuffer_get_length(b) > 0)) {
		len = evbuffer_get_length(b);
		emit(h, (const char *)evbuffer_pullup(b, -1), len);
		evbuffer_drain(b, len);
	}
}

static void
close_stream(struct hook *h, int j)
{
	if (h->fd[j] == -1)
		return;
	drain_lines(h, j, true);
	event_free(h->ev[j]);
	h->ev[j] = NULL;
	close(h->fd[j]);
	h->fd[j] = -1;
}

static void
hook_free(struct hook *h)
{
	int j;

	for (j = 0; j < 2; j++) {
		close_stream(h, j);
		evbuffer_free(h->buf[j]);
	}
	if (h->timeout != NULL)
		event_free(h->timeout);
	free(h->who);
	free(h->cmd);
	free(h->what);
	free(h);
}

/* Reaped and both streams at their end: its owner hears of it. */
static void
hook_done_if_over(struct hook *h)
{
	void (*done)(void *, const struct hook_end *) = h->done;
	struct hook_end end = h->end;
	void *arg = h->arg;

	if (h->pid != 0 || h->fd[0] != -1 || h->fd[1] != -1)
		return;
	LIST_REMOVE(h, entry);
	hook_free(h);
	if (done != NULL)
		done(arg, &end);
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;
	int j = fd == h->fd[0] ? 0 : 1;
	int n;

	(void)what;
	n = evbuffer_read(h->buf[j], fd, 4096);
	if (n > 0) {
		drain_lines(h, j, false);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	close_stream(h, j);
	hook_done_if_over(h);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;
	char d[32];

	(void)fd;
	(void)what;
	if (h->pid == 0)
		return;
	format_duration(h->timeout_ms, d, sizeof(d));
	log_warnx("%s: %s%s%s%s still running after %s; killing it", h->who,
	    h->cmd, h->what ? " (" : "", h->what ? h->what : "",
	    h->what ? ")" : "", d);
	h->end.timed_out = true;
	kill(-h->pid, SIGKILL);
}

/* Watch a hook running as pid with its pipes fd, killed after ms. */
static struct hook *
hook_watch(struct fleet *f, const struct hook_req *rq, pid_t pid,
    const int fd[2], uint64_t ms)
{
	struct hook *h;
	int j;

	h = xcalloc(1, sizeof(*h));
	h->fleet = f;
	h->who = xstrdup(rq->who);
	h->cmd = xstrdup(rq->cmd);
	h->what = rq->what != NULL ? xstrdup(rq->what) : NULL;
	h->pid = pid;
	h->done = rq->done;
	h->arg = rq->arg;
	h->awaited = rq->awaited;
	h->timeout_ms = rq->timeout_ms;
	for (j = 0; j < 2; j++) {
		h->fd[j] = fd[j];
		if ((h->buf[j] = evbuffer_new()) == NULL)
			fatal("cannot watch the output of %s", rq->cmd);
		if (h->fd[j] == -1)
			continue;
		if ((h->ev[j] = event_new(f->base, h->fd[j],
		    EV_READ | EV_PERSIST, read_cb, h)) == NULL ||
		    event_add(h->ev[j], NULL) == -1)
			fatal("cannot watch the output of %s", rq->cmd);
	}
	if ((h->timeout = evtimer_new(f->base, timeout_cb, h)) == NULL)
		fatal("cannot create a timer for %s", rq->cmd);
	event_base_update_cache_time(f->base);
	h->deadline_mono_ms = now_mono_ms() + ms;
	timer_add_ms(h->timeout, ms);
	LIST_INSERT_HEAD(&f->hooks, h, entry);
	return h;
}

struct hook *
hook_start(struct fleet *f, const struct hook_req *rq)
{
	struct spawn_req sr;
	struct spawn_res res;
	struct hook *h;

	memset(&sr, 0, sizeof(sr));
	sr.argv = rq->argv;
	sr.envp = rq->envp;
	sr.directory = rq->directory;
	sr.out[0] = sr.out[1] = OUT_FILE; /* pipes, read here */
	/* Only root changes user, as for workers. */
	sr.user = geteuid() == 0 ? rq->user : NULL;
	sr.uid = rq->user != NULL ? rq->uid : (uid_t)-1;
	sr.gid = rq->user != NULL ? rq->gid : (gid_t)-1;
	sr.pdeath_signal = SIGTERM;
	/* corrald's own mask: 0 would make what a hook creates anyone's. */
	sr.umask = -1;
	if (spawn_run(&sr, &res) == -1) {
		log_warn("%s: cannot run %s%s%s%s", rq->who, rq->cmd,
		    rq->what ? " (" : "", rq->what ? rq->what : "",
		    rq->what ? ")" : "");
		return NULL;
	}
	h = hook_watch(f, rq, res.pid, res.outfd, rq->timeout_ms);
	h->end.exec_err = res.err;
	h->end.exec_stage = res.stage;
	log_debug("%s: %s%s%s (pid %ld)", h->who, h->cmd, h->what ? " " : "",
	    h->what ? h->what : "", (long)h->pid);
	return h;
}

int
hook_handover(struct hook *h, struct hook_snap *hs)
{
	int j;

	memset(hs, 0, sizeof(*hs));
	hs->fd[0] = hs->fd[1] = -1;
	/* Its exec failed: it exits at once, and its class says why here. */
	if (h == NULL || h->pid == 0 || h->end.exec_err != 0)
		return -1;
	hs->pid = (long)h->pid;
	for (j = 0; j < 2; j++) {
		/* A partial line goes out now, whole; its rest follows. */
		if (h->fd[j] != -1) {
			drain_lines(h, j, true);
			fcntl(h->fd[j], F_SETFD, 0);
		}
		hs->fd[j] = h->fd[j];
	}
	hs->deadline_mono_ms = h->deadline_mono_ms;
	hs->timed_out = h->end.timed_out;
	return 0;
}

void
hook_handover_undo(const struct hook_snap *hs)
{
	int j;

	for (j = 0; j < 2; j++)
		if (hs->pid != 0 && hs->fd[j] != -1)
			fcntl(hs->fd[j], F_SETFD, FD_CLOEXEC);
}

struct hook *
hook_adopt(struct fleet *f, const struct hook_req *rq,
    const struct hook_snap *hs)
{
	uint64_t now = now_mono_ms();
	struct hook *h;
	int j;

	for (j = 0; j < 2; j++)
		if (hs->fd[j] != -1)
			fcntl(hs->fd[j], F_SETFD, FD_CLOEXEC);
	/* The same monotonic clock: it is killed when it was due. */
	h = hook_watch(f, rq, (pid_t)hs->pid, hs->fd,
	    hs->deadline_mono_ms > now ? hs->deadline_mono_ms - now : 0);
	if (hs->timed_out) {
		/* Killed already: its end says why. */
		h->end.timed_out = true;
		evtimer_del(h->timeout);
	}
	log_debug("%s: %s (pid %ld) taken over", h->who, h->cmd,
	    (long)h->pid);
	return h;
}

void
hook_cancel(struct hook *h, int sig)
{
	if (h == NULL)
		return;
	h->done = NULL;
	h->arg = NULL;
	if (h->pid != 0 && sig != 0)
		kill(-h->pid, sig);
}

pid_t
hook_pid(const struct hook *h)
{
	return h != NULL ? h->pid : 0;
}

/*
 * A worker's hook still runs (its owner gone or not: a pre_start a stop
 * cancelled is dying of its TERM).  Bounded: each is killed at its
 * timeout.
 */
bool
hooks_awaited(const struct fleet *f)
{
	const struct hook *h;

	LIST_FOREACH(h, &f->hooks, entry)
		if (h->awaited && h->pid != 0)
			return true;
	return false;
}

/* Shutdown asked again: what it waits for dies now. */
void
hooks_kill_awaited(struct fleet *f)
{
	struct hook *h;

	LIST_FOREACH(h, &f->hooks, entry)
		if (h->awaited && h->pid != 0)
			kill(-h->pid, SIGKILL);
}

/* A cluster's on_state_change ended: the next change may run. */
static void
cluster_hook_done(void *arg, const struct hook_end *end)
{
	struct cluster_rt *c = arg;

	(void)end;
	c->hooks->running = NULL;
	hook_next(c->hooks, c);
}

static void
hook_spawn(struct cluster_rt *c, struct hook_item *it)
{
	const struct cluster_conf *cc = c->conf;
	struct hook_req rq;
	struct strv argv, env;
	char **e, *x, *who, *what;
	size_t i;

	strv_init(&argv);
	strv_init(&env);
	for (i = 0; i < cc->on_state_argv.n; i++)
		strv_push(&argv, cc->on_state_argv.v[i]);
	strv_push(&argv, it->name);
	strv_push(&argv, it->old_state);
	strv_push(&argv, it->new_state);
	for (e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, "CORRAL_", 7) != 0)
			strv_push(&env, *e);
	xasprintf(&x, "CORRAL_CLUSTER=%s", c->g.name);
	strv_push_own(&env, x);
	xasprintf(&x, "CORRAL_CHANGE=%s", it->kind);
	strv_push_own(&env, x);
	xasprintf(&who, "cluster %s", c->g.name);
	xasprintf(&what, "%s %s %s", it->name, it->old_state, it->new_state);
	memset(&rq, 0, sizeof(rq));
	rq.who = who;
	rq.cmd = "on_state_change";
	rq.what = what;
	rq.argv = argv.v;
	rq.envp = env.v;
	rq.timeout_ms = HOOK_TIMEOUT_MS;
	rq.done = cluster_hook_done;
	rq.arg = c;
	c->hooks->running = hook_start(c->g.fleet, &rq);
	strv_free(&argv);
	strv_free(&env);
	free(who);
	free(what);
}
static void
hook_next(struct hookq *q, struct cluster_rt *c)
{
	struct hook_item *it;

	/* No command any more (a reload), or stopping: nothing more runs. */
	if (c->conf->on_state_change == NULL || c->g.fleet->shutting_down) {
		while ((it = STAILQ_FIRST(&q->items)) != NULL) {
			STAILQ_REMOVE_HEAD(&q->items, entry);
			item_free(it);
		}
		q->n = 0;
		return;
	}
	while (q->running == NULL && (it = STAILQ_FIRST(&q->items)) != NULL) {
		STAILQ_REMOVE_HEAD(&q->items, entry);
		q->n--;
		hook_spawn(c, it);
		item_free(it);
	}
}

void
hook_run(struct cluster_rt *c, const char *kind, const char *name,
    const char *old_state, const char *new_state)
{
	struct hookq *q = c->hooks;
	struct hook_item *it;

	if (c->conf->on_state_change == NULL || c->g.fleet->shutting_down)
		return;
	if (q->n >= HOOK_QUEUE_MAX) {
		it = STAILQ_FIRST(&q->items);
		STAILQ_REMOVE_HEAD(&q->items, entry);
		q->n--;
		log_warnx("cluster %s: on_state_change falls behind; dropped "
		    "%s %s %s", c->g.name, it->name, it->old_state,
		    it->new_state);
		item_free(it);
	}
	it = xcalloc(1, sizeof(*it));
	it->kind = xstrdup(kind);
	it->name = xstrdup(name);
	it->old_state = xstrdup(old_state);
	it->new_state = xstrdup(new_state);
	STAILQ_INSERT_TAIL(&q->items, it, entry);
	q->n++;
	hook_next(q, c);
}

bool
hook_reaped(struct fleet *f, pid_t pid, int status)
{
	struct hook *h;
	int j;

	LIST_FOREACH(h, &f->hooks, entry)
		if (h->pid == pid)
			break;
	if (h == NULL)
		return false;
	h->pid = 0;
	h->end.status = status;
	evtimer_del(h->timeout);
	/* What its own children hold open must not keep it running. */
	kill(-pid, SIGKILL);
	if (h->end.exec_err != 0)
		log_error("%s: cannot run %s: %s: %s", h->who, h->cmd,
		    h->end.exec_stage, strerror(h->end.exec_err));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_warnx("%s: %s%s%s%s exited with code %d", h->who, h->cmd,
		    h->what ? " (" : "", h->what ? h->what : "",
		    h->what ? ")" : "", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("%s: %s%s%s%s killed by signal %d", h->who, h->cmd,
		    h->what ? " (" : "", h->what ? h->what : "",
		    h->what ? ")" : "", WTERMSIG(status));
	/*
	 * Dead: what it wrote is there, read it now, but only so much: a
	 * child that left its group may hold the pipe and write forever.
	 */
	for (j = 0; j < 2; j++) {
		int k;
		for (k = 0; k < 16 && h->fd[j] != -1 &&
		    evbuffer_read(h->buf[j], h->fd[j], 4096) > 0; k++)
			drain_lines(h, j, false);
		close_stream(h, j);
	}
	hook_done_if_over(h);
	return true;
}

void
hook_forget(struct fleet *f, struct cluster_rt *c)
{
	struct hook *h;

	LIST_FOREACH(h, &f->hooks, entry)
		if (h->done == cluster_hook_done && h->arg == c) {
			h->done = NULL;
			h->arg = NULL;
		}
	if (c->hooks != NULL)
		c->hooks->running = NULL;
}

void
hooks_free(struct fleet *f)
{
	struct hook *h;

	while ((h = LIST_FIRST(&f->hooks)) != NULL) {
		LIST_REMOVE(h, entry);
		hook_free(h);
	}
}
