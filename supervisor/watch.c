/*
 * watch.c: the fleet's watcher, a small process corrald forks at start
 * that outlives it.  corrald tells it of every run it starts and reaps,
 * through a pipe; if the pipe closes without a goodbye, corrald died, and
 * the watcher finishes what PR_SET_PDEATHSIG began: the stop signal to
 * each run's whole process group, SIGKILL to what is left after its
 * stop_timeout.  So a worker that ignores its stop signal does not outlive
 * corrald by more than its stop_timeout, whether or not corrald comes back.
 *
 * The watcher leaves cgroups alone: a corrald started meanwhile may
 * already run new workers in them (it stops what is left of old runs
 * itself, runs.c).  It kills a group only while the group is still the
 * run's: its leader alive with the start time corrald saw, or, the leader
 * gone and its pid not taken by another process, members that started no
 * earlier.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/close_range.h>

#include "corrald.h"

enum { WATCH_ADD = 1, WATCH_DEL, WATCH_BYE };

/* One record on the pipe: small and fixed, so each write is atomic. */
struct watch_rec {
	int32_t op;
	int32_t pgid;
	int32_t sig;
	uint32_t timeout_ms;
	uint64_t start_ticks;
};

/* What the watcher holds of a run. */
struct wrun {
	struct watch_rec r;
	uint64_t due_ms;
};

/*
 * Signal what is still the run's: its group while its leader is the one
 * corrald started, else each live member of its group that started no
 * earlier than the leader.  Returns how many were signalled (0: gone).
 */
static size_t
hit(const struct watch_rec *r, int sig)
{
	pid_t pids[1024];
	uint64_t st;
	size_t n, i;
	pid_t pg;
	char s;

	if (proc_stat(r->pgid, &s, &pg, &st) == 0) {
		if (st != r->start_ticks)
			return 0; /* the number was free: the group is gone */
		if (s != 'Z') {
			kill(-r->pgid, sig);
			return 1;
		}
	}
	n = proc_group(r->pgid, r->start_ticks, pids, 1024);
	for (i = 0; i < n; i++)
		kill(pids[i], sig);
	return n;
}

static int
by_due(const void *a, const void *b)
{
	const struct wrun *x = a, *y = b;

	return x->due_ms < y->due_ms ? -1 : x->due_ms > y->due_ms;
}

/* corrald died: stop every run it had, KILL what is left on time. */
static void
watch_act(struct wrun *runs, size_t n, pid_t parent)
{
	uint64_t now = now_mono_ms();
	size_t i, killed = 0;
	char line[160];
	int len;

	len = snprintf(line, sizeof(line), "corrald-watch: corrald (pid %ld) "
	    "died; stopping the %zu runs it had\n", (long)parent, n);
	(void)!write(2, line, (size_t)len);
	for (i = 0; i < n; i++) {
		runs[i].due_ms = now + runs[i].r.timeout_ms;
		if (hit(&runs[i].r, runs[i].r.sig) > 0 &&
		    runs[i].r.sig != SIGKILL)
			hit(&runs[i].r, SIGCONT);
	}
	qsort(runs, n, sizeof(*runs), by_due);
	for (i = 0; i < n; i++) {
		struct timespec ts;
		uint64_t due = runs[i].due_ms;

		ts.tv_sec = (time_t)(due / 1000);
		ts.tv_nsec = (long)(due % 1000) * 1000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
		    NULL) == EINTR)
			;
		if (hit(&runs[i].r, SIGKILL) > 0)
			killed++;
	}
	len = snprintf(line, sizeof(line), "corrald-watch: done; %zu runs "
	    "needed SIGKILL\n", killed);
	(void)!write(2, line, (size_t)len);
}

static void __attribute__((noreturn))
watch_main(int fd, pid_t parent)
{
	struct wrun *runs = NULL;
	struct watch_rec r;
	size_t n = 0, cap = 0, i;
	sigset_t none;
	ssize_t got;
	int nullfd;

	/* Nothing of corrald's but the pipe and stderr, for its two lines. */
	if (fd != 3) {
		if (dup2(fd, 3) == -1)
			_exit(1);
		fd = 3;
	}
	close_range(4, ~0U, 0);
	if ((nullfd = open("/dev/null", O_RDWR)) != -1) {
		dup2(nullfd, 0);
		dup2(nullfd, 1);
		if (nullfd > 3)
			close(nullfd);
	}
	/* Out of the terminal's process group: a Ctrl-C is corrald's. */
	setsid();
	prctl(PR_SET_NAME, "corrald-watch");
	for (i = 1; i < NSIG; i++)
		signal((int)i, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;) {
		got = read(fd, &r, sizeof(r));
		if (got == -1 && errno == EINTR)
			continue;
		if (got != (ssize_t)sizeof(r))
			break; /* EOF (or a torn record): corrald is gone */
		switch (r.op) {
		case WATCH_ADD:
			for (i = 0; i < n && runs[i].r.pgid != r.pgid; i++)
				;
			if (i == n) {
				if (n == cap) {
					cap = cap ? cap * 2 : 256;
					runs = realloc(runs, cap * sizeof(*runs));
					if (runs == NULL)
						_exit(1);
				}
				n++;
			}
			runs[i].r = r;
			break;
		case WATCH_DEL:
			for (i = 0; i < n; i++)
				if (runs[i].r.pgid == r.pgid) {
					runs[i] = runs[--n];
					break;
				}
			break;
		case WATCH_BYE:
			_exit(0);
		}
	}
	if (n > 0)
		watch_act(runs, n, parent);
	_exit(0);
}

/* Send one record; a full pipe (a stuck watcher) loses it, logged once. */
static void
watch_send(struct fleet *f, const struct watch_rec *r)
{
	if (f->watch_fd == -1)
		return;
	if (write(f->watch_fd, r, sizeof(*r)) != (ssize_t)sizeof(*r) &&
	    !f->watch_lost++)
		log_warn("watcher (pid %ld): cannot tell it of a run; if "
		    "corrald dies, that run is stopped by its stop signal "
		    "only", (long)f->watch_pid);
}

void
watch_run_started(struct worker *w, uint64_t start_ticks)
{
	struct watch_rec r;

	memset(&r, 0, sizeof(r));
	r.op = WATCH_ADD;
	r.pgid = (int32_t)w->pid;
	r.sig = w->agent->stop_signal;
	r.timeout_ms = (uint32_t)(w->agent->stop_timeout_ms > UINT32_MAX ?
	    UINT32_MAX : w->agent->stop_timeout_ms);
	r.start_ticks = start_ticks;
	w->start_ticks = start_ticks;
	watch_send(w->fleet, &r);
}

void
watch_run_ended(struct worker *w)
{
	struct watch_rec r;

	memset(&r, 0, sizeof(r));
	r.op = WATCH_DEL;
	r.pgid = (int32_t)w->pid;
	watch_send(w->fleet, &r);
}

int
watch_start(struct fleet *f)
{
	pid_t parent = getpid(), pid;
	sigset_t all, old;
	size_t i;
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("cannot make the watcher's pipe; if corrald dies, its "
		    "workers get their stop signal only");
		return -1;
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == 0) {
		close(p[1]);
		watch_main(p[0], parent);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[0]);
	if (pid == -1) {
		log_warn("cannot fork the watcher; if corrald dies, its "
		    "workers get their stop signal only");
		close(p[1]);
		return -1;
	}
	/* Room for a storm of spawns and exits while the watcher sleeps. */
	(void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	f->watch_fd = p[1];
	f->watch_pid = pid;
	f->watch_lost = 0;
	log_debug("watcher started (pid %ld)", (long)pid);
	/* A watcher started anew (the last one died) learns every run. */
	for (i = 0; i < f->nworkers; i++)
		if (f->workers[i]->pid != 0)
			watch_run_started(f->workers[i],
			    f->workers[i]->start_ticks);
	return 0;
}

void
watch_adopt(struct fleet *f, int fd, pid_t pid)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	f->watch_fd = fd;
	f->watch_pid = pid;
	f->watch_lost = 0;
}

bool
watch_reaped(struct fleet *f, pid_t pid, int status)
{
	if (pid != f->watch_pid || pid <= 0)
		return false;
	log_warnx("watcher (pid %ld) ended (status %d); starting another",
	    (long)pid, status);
	if (f->watch_fd != -1)
		close(f->watch_fd);
	f->watch_fd = -1;
	f->watch_pid = 0;
	if (!f->shutting_down)
		watch_start(f);
	return true;
}

void
watch_stop(struct fleet *f)
{
	struct watch_rec r;

	if (f->watch_fd == -1)
		return;
	memset(&r, 0, sizeof(r));
	r.op = WATCH_BYE;
	fcntl(f->watch_fd, F_SETFL, 0);
	(void)!write(f->watch_fd, &r, sizeof(r));
	close(f->watch_fd);
	f->watch_fd = -1;
	/* It exits on the goodbye: reap it, so nothing is left behind. */
	if (f->watch_pid > 0)
		while (waitpid(f->watch_pid, NULL, 0) == -1 && errno == EINTR)
			;
	f->watch_pid = 0;
}
