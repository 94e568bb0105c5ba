/*
 * runs.c: every run with a process is recorded (pid, its start time, its
 * process group, its cgroup) in the state database from its spawn until it
 * is reaped, so that a corrald starting after an unplanned death of the
 * one before can find what is still alive of those runs, stop it, and
 * only then start that instance again: never two live runs of one
 * instance.  The same gate holds for this corrald's own runs: an instance
 * whose cgroup still has processes of its last run does not spawn until
 * they are gone.
 *
 * A survivor is stopped, not adopted: corrald cannot learn how a process
 * that is not its child ends (no wait status, so no exit class), and its
 * output pipes died with the corrald before.  Its stop signal lets an SDK
 * worker write its last checkpoint, which the next run resumes from.
 */
#include <sys/pidfd.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"

#define SURV_MAX_PIDS 1024

/* One process of a survivor, watched through its pidfd. */
struct watch {
	struct survivor *sv;
	pid_t pid;
	int fd;
	struct event *ev;
};

struct survivor {
	LIST_ENTRY(survivor) entry;
	struct fleet *fleet;     /* borrowed */
	struct worker *w;        /* borrowed; NULL: none (left the file) */
	char name[NAME_MAX_LEN + 16];
	char agent[NAME_MAX_LEN + 1];
	unsigned instance;
	pid_t pid, pgid;         /* its main process and group (0: unknown) */
	uint64_t start_ticks;    /* the main process's start time */
	int64_t start_ms;        /* the run's start, wall clock; 0: unknown */
	char *cgroup;            /* owned; NULL: a process group only */
	int sig;
	uint64_t timeout_ms;
	uint64_t since_mono_ms;
	bool recorded;           /* from a row of runs: forget it when done */
	bool killed;             /* SIGKILL sent */
	bool start;              /* the worker wants to spawn once it is gone */
	struct event *timer;     /* stop_timeout, then SIGKILL */
	struct watch **watch;    /* owned */
	size_t nwatch;
};

int
proc_stat(pid_t pid, char *state, pid_t *pgid, uint64_t *start_ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long st;
	ssize_t n;
	int fd, pg;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold anything, ')' too: the fields start after the last. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice threads
	 * itrealvalue starttime */
	if (sscanf(p + 2, "%c %*d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
	    "%*d %*d %*d %*d %*d %*d %llu", state, &pg, &st) != 3)
		return -1;
	*pgid = pg;
	*start_ticks = st;
	return 0;
}

/* Is the recorded main process still the run's, and alive? */
static bool
main_alive(const struct survivor *sv)
{
	uint64_t st;
	pid_t pg;
	char s;

	return sv->pid > 0 && proc_stat(sv->pid, &s, &pg, &st) == 0 &&
	    s != 'Z' && st == sv->start_ticks;
}

/*
 * The live processes of sv: its cgroup's, its main process, and its
 * process group's that started no earlier than its main process (a group
 * id is not reused while the group has a member, so these are the run's).
 * Returns the count, at most max.
 */
size_t
proc_group(pid_t pgid, uint64_t since, pid_t *out, size_t max)
{
	struct dirent *d;
	size_t n = 0;
	DIR *dp;

	if ((dp = opendir("/proc")) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL && n < max) {
		uint64_t st;
		pid_t pid, pg;
		char s;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (pid_t)strtol(d->d_name, NULL, 10);
		if (proc_stat(pid, &s, &pg, &st) == 0 && pg == pgid &&
		    s != 'Z' && st >= since)
			out[n++] = pid;
	}
	closedir(dp);
	return n;
}

/* Add pid to the n in out (at most max) unless it is there.  New n. */
static size_t
add_pid(pid_t *out, size_t n, size_t max, pid_t pid)
{
	size_t i;

	for (i = 0; i < n && out[i] != pid; i++)
		;
	if (i == n && n < max)
		out[n++] = pid;
	return n;
}

/*
 * Whether sv's process group can still be its run's.  A run leads its
 * group, so the group's id is the run's pid; while the group has a member
 * the kernel gives that number to no new process.  A live process of that
 * pid with another start time means the group emptied and the number was
 * reused: what is in "the group" now is someone else's.
 */
static bool
group_ours(const struct survivor *sv)
{
	uint64_t st;
	pid_t pg;
	char s;

	if (sv->pgid <= 1)
		return false;
	return proc_stat(sv->pgid, &s, &pg, &st) == -1 ||
	    (sv->pgid == sv->pid && st == sv->start_ticks);
}

static size_t
members(const struct survivor *sv, pid_t *out, size_t max)
{
	pid_t grp[SURV_MAX_PIDS];
	size_t n = 0, g, i;

	if (sv->cgroup != NULL)
		n = cgroup_members(sv->cgroup, out, max);
	if (main_alive(sv))
		n = add_pid(out, n, max, sv->pid);
	/* A run that could not join its cgroup still has its group. */
	if (group_ours(sv)) {
		g = proc_group(sv->pgid, sv->start_ticks, grp, SURV_MAX_PIDS);
		for (i = 0; i < g; i++)
			n = add_pid(out, n, max, grp[i]);
	}
	return n;
}

static void
signal_all(struct survivor *sv, const pid_t *pids, size_t n, int sig)
{
	size_t i;

	if (sv->cgroup != NULL)
		cgroup_signal(sv->cgroup, sig);
	if (group_ours(sv) && (sv->cgroup == NULL || sig != SIGKILL))
		kill(-sv->pgid, sig);
	for (i = 0; i < n; i++)
		kill(pids[i], sig);
}

static void watch_cb(evutil_socket_t, short, void *);

static void
watch_free(struct watch *wa)
{
	event_free(wa->ev);
	close(wa->fd);
	free(wa);
}

static bool
watched(const struct survivor *sv, pid_t pid)
{
	size_t i;

	for (i = 0; i < sv->nwatch; i++)
		if (sv->watch[i]->pid == pid)
			return true;
	return false;
}

/* Watch every member not yet watched.  Returns how many are watched. */
static size_t
watch_members(struct survivor *sv, const pid_t *pids, size_t n)
{
	size_t i;
	int fd;

	for (i = 0; i < n; i++) {
		struct watch *wa;
		if (watched(sv, pids[i]))
			continue;
		/* Gone between the listing and now: nothing to watch. */
		if ((fd = pidfd_open(pids[i], 0)) == -1)
			continue;
		wa = xcalloc(1, sizeof(*wa));
		wa->sv = sv;
		wa->pid = pids[i];
		wa->fd = fd;
		wa->ev = event_new(sv->fleet->base, fd, EV_READ, watch_cb, wa);
		if (wa->ev == NULL || event_add(wa->ev, NULL) == -1)
			fatal("cannot watch pid %ld", (long)pids[i]);
		sv->watch = xreallocarray(sv->watch, sv->nwatch + 1,
		    sizeof(*sv->watch));
		sv->watch[sv->nwatch++] = wa;
	}
	return sv->nwatch;
}

static void
survivor_free(struct survivor *sv)
{
	size_t i;

	for (i = 0; i < sv->nwatch; i++)
		watch_free(sv->watch[i]);
	free(sv->watch);
	if (sv->timer != NULL)
		event_free(sv->timer);
	free(sv->cgroup);
	free(sv);
}

/* What was recorded of a run nobody saw end goes into events. */
static void
record_end(struct survivor *sv, enum corral_exit_class cls,
    const char *detail)
{
	struct db_event e;

	memset(&e, 0, sizeof(e));
	e.kind = EV_EXIT;
	e.time_ms = now_wall_ms();
	snprintf(e.agent, sizeof(e.agent), "%s", sv->agent);
	e.instance = (int)sv->instance;
	e.pid = sv->pid;
	e.cls = cls;
	e.code = e.sig = e.err = -1;
	e.start_failure = -1;
	e.start_ms = sv->start_ms;
	e.run_ms = sv->start_ms > 0 ? e.time_ms - sv->start_ms : 0;
	e.detail = xstrdup(detail);
	statedb_add(sv->fleet->db, &e);
}

static void
survivor_done(struct survivor *sv)
{
	struct fleet *f = sv->fleet;
	struct worker *w = sv->w;

	log_info("agent %s: the run left alive (pid %ld) is gone after "
	    "%.3fs%s; %s", sv->name, (long)sv->pid,
	    (double)(now_mono_ms() - sv->since_mono_ms) / 1000.0,
	    sv->killed ? ", killed" : "", w == NULL ? "not in the fleet "
	    "file, not started" : sv->start ? "starting it" : "it may start");
	if (sv->recorded) {
		record_end(sv, CORRAL_EXIT_STOPPED, "left running when corrald "
		    "died; stopped by the next corrald before it started "
		    "again");
		statedb_run_del(f->db, sv->agent, sv->instance);
	}
	/* Its memory_max and cpu_quota cgroups, empty now. */
	cglimit_remove(f, sv->name);
	LIST_REMOVE(sv, entry);
	f->nsurv--;
	if (w != NULL) {
		w->surv = NULL;
		if (sv->start && !f->shutting_down)
			worker_enqueue(w);
	}
	survivor_free(sv);
	fleet_idle_check(f);
}

/* Every watched process ended: is anything of the run left? */
static void
survivor_check(struct survivor *sv)
{
	pid_t pids[SURV_MAX_PIDS];
	size_t n;

	n = members(sv, pids, SURV_MAX_PIDS);
	if (n > 0) {
		/* Forked while we waited: they get what the others got. */
		signal_all(sv, pids, n, sv->killed ? SIGKILL : sv->sig);
		if (!sv->killed)
			signal_all(sv, pids, n, SIGCONT);
	}
	if (watch_members(sv, pids, n) == 0)
		survivor_done(sv);
}

static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *wa = arg;
	struct survivor *sv = wa->sv;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < sv->nwatch; i++)
		if (sv->watch[i] == wa) {
			sv->watch[i] = sv->watch[--sv->nwatch];
			break;
		}
	watch_free(wa);
	if (sv->nwatch == 0)
		survivor_check(sv);
}

static void
survivor_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct survivor *sv = arg;
	pid_t pids[SURV_MAX_PIDS];
	size_t n;

	(void)fd;
	(void)what;
	n = members(sv, pids, SURV_MAX_PIDS);
	log_warnx("agent %s: the run left alive (pid %ld) still has %zu "
	    "process%s after its stop_timeout; sending KILL", sv->name,
	    (long)sv->pid, n, n == 1 ? "" : "es");
	sv->killed = true;
	signal_all(sv, pids, n, SIGKILL);
	if (watch_members(sv, pids, n) == 0)
		survivor_done(sv);
}

/*
 * Begin stopping what is left of a run.  n processes are alive (pids);
 * the survivor is then the fleet's until they are gone.
 */
static void
survivor_begin(struct survivor *sv, const pid_t *pids, size_t n)
{
	struct fleet *f = sv->fleet;

	sv->since_mono_ms = now_mono_ms();
	LIST_INSERT_HEAD(&f->survivors, sv, entry);
	f->nsurv++;
	if (sv->w != NULL)
		sv->w->surv = sv;
	sv->timer = evtimer_new(f->base, survivor_timer_cb, sv);
	if (sv->timer == NULL)
		fatal("agent %s: cannot create a timer", sv->name);
	if (sv->sig == SIGKILL)
		sv->killed = true;
	signal_all(sv, pids, n, sv->sig);
	if (!sv->killed) {
		signal_all(sv, pids, n, SIGCONT);
		event_base_update_cache_time(f->base);
		timer_add_ms(sv->timer, sv->timeout_ms);
	}
	if (watch_members(sv, pids, n) == 0)
		survivor_done(sv);
}

static struct survivor *
survivor_new(struct fleet *f, const char *agent, unsigned instance)
{
	struct survivor *sv = xcalloc(1, sizeof(*sv));

	sv->fleet = f;
	snprintf(sv->agent, sizeof(sv->agent), "%s", agent);
	sv->instance = instance;
	snprintf(sv->name, sizeof(sv->name), "%s.%u", agent, instance);
	sv->w = fleet_find_worker(f, agent, instance);
	/* A worker with a survivor already (a row and its cgroup): one. */
	if (sv->w != NULL && sv->w->surv != NULL) {
		free(sv);
		return NULL;
	}
	return sv;
}

struct recover {
	struct fleet *f;
	const char *root;   /* the fleet's cgroup directory being searched */
	size_t rows, alive, ended, other_boot;
};

/* A row's cgroup is its instance's, in a fleet's directory. */
static bool
row_cgroup_ok(const struct run_row *r)
{
	const char *slash = strrchr(r->cgroup, '/');
	char leaf[NAME_MAX_LEN + 16], *dir;
	bool ok;

	if (slash == NULL)
		return false;
	snprintf(leaf, sizeof(leaf), "%s.%u", r->agent, r->instance);
	if (strcmp(slash + 1, leaf) != 0)
		return false;
	dir = xstrndup(r->cgroup, (size_t)(slash - r->cgroup));
	ok = cgroup_fleet_dir_valid(dir);
	free(dir);
	return ok;
}

static void
recover_row(void *arg, const struct run_row *r)
{
	struct recover *rc = arg;
	struct fleet *f = rc->f;
	struct survivor *sv;
	pid_t pids[SURV_MAX_PIDS];
	size_t n;

	rc->rows++;
	if (strcmp(r->boot_id, boot_id()) != 0 || boot_id()[0] == '\0') {
		/* The host rebooted since: nothing of it can be alive. */
		rc->other_boot++;
		statedb_run_del(f->db, r->agent, r->instance);
		return;
	}
	/*
	 * What is signalled on the strength of a row is checked first: the
	 * file may be damaged, or not what corrald wrote.  corrald records
	 * only runs that lead their own group, and their instance's cgroup.
	 */
	if (r->pid <= 1 || r->pgid != r->pid) {
		log_warnx("agent %s.%u: the state database's runs table names "
		    "pid %ld in group %ld, which is no run corrald records; "
		    "ignored", r->agent, r->instance, (long)r->pid,
		    (long)r->pgid);
		statedb_run_del(f->db, r->agent, r->instance);
		return;
	}
	if ((sv = survivor_new(f, r->agent, r->instance)) == NULL)
		return;
	sv->pid = r->pid;
	sv->pgid = r->pgid;
	sv->start_ticks = r->start_ticks;
	sv->start_ms = r->start_ms;
	if (r->cgroup != NULL && *r->cgroup != '\0' && !row_cgroup_ok(r))
		log_warnx("agent %s: the state database's runs table names "
		    "cgroup %s, which is not its instance's in a fleet's "
		    "cgroup directory; only its process is searched for",
		    sv->name, r->cgroup);
	else if (r->cgroup != NULL && *r->cgroup != '\0')
		sv->cgroup = xstrdup(r->cgroup);
	sv->sig = r->stop_signal;
	sv->timeout_ms = r->stop_timeout_ms;
	sv->recorded = true;
	if ((n = members(sv, pids, SURV_MAX_PIDS)) == 0) {
		log_info("agent %s: its run (pid %ld) ended while corrald was "
		    "down", sv->name, (long)sv->pid);
		record_end(sv, CORRAL_EXIT_NONE, "ended while corrald was "
		    "down; how is not known");
		statedb_run_del(f->db, r->agent, r->instance);
		survivor_free(sv);
		rc->ended++;
		return;
	}
	rc->alive++;
	log_warnx("agent %s: its run (pid %ld, %zu process%s) outlived the "
	    "corrald before; stopping it (%s, KILL after %llu ms) before "
	    "starting it again", sv->name, (long)sv->pid, n, n == 1 ? "" :
	    "es", signal_name(sv->sig) ? signal_name(sv->sig) : "signal",
	    (unsigned long long)sv->timeout_ms);
	survivor_begin(sv, pids, n);
}

/* An instance's cgroup with processes but no row: a run not yet recorded
 * when corrald died. */
static void
recover_cgroup(void *arg, const char *name)
{
	struct recover *rc = arg;
	struct fleet *f = rc->f;
	struct survivor *sv;
	const char *dot = strrchr(name, '.');
	pid_t pids[SURV_MAX_PIDS];
	char agent[NAME_MAX_LEN + 1], *dir;
	size_t n;

	xasprintf(&dir, "%s/%s", rc->root, name);
	if (dot == NULL || (size_t)(dot - name) > NAME_MAX_LEN ||
	    !isdigit((unsigned char)dot[1]) || !cgroup_populated(dir)) {
		cgroup_remove(dir);
		free(dir);
		return;
	}
	snprintf(agent, sizeof(agent), "%.*s", (int)(dot - name), name);
	sv = survivor_new(f, agent, (unsigned)strtoul(dot + 1, NULL, 10));
	if (sv == NULL) {
		free(dir);
		return;
	}
	sv->cgroup = dir;
	sv->sig = sv->w != NULL ? sv->w->agent->stop_signal : SIGTERM;
	sv->timeout_ms = sv->w != NULL ? sv->w->agent->stop_timeout_ms :
	    10000;
	if ((n = members(sv, pids, SURV_MAX_PIDS)) == 0) {
		survivor_free(sv);
		return;
	}
	sv->pid = pids[0];
	rc->alive++;
	log_warnx("agent %s: %zu process%s of a run not yet recorded when "
	    "corrald died are in its cgroup; stopping them before starting "
	    "it", sv->name, n, n == 1 ? "" : "es");
	survivor_begin(sv, pids, n);
}

void
runs_recover(struct fleet *f)
{
	struct recover rc;
	char *was;

	memset(&rc, 0, sizeof(rc));
	rc.f = f;
	if (statedb_load_runs(f->db, recover_row, &rc) == -1)
		log_warnx("cannot read the runs the corrald before recorded; "
		    "none is searched for");
	/* The fleet's cgroup moves with corrald's own: look where it was. */
	was = statedb_get_meta(f->db, "cgroup");
	if (was != NULL && *was != '\0' && !cgroup_fleet_dir_valid(was)) {
		log_warnx("the state database names %s as the fleet's cgroup, "
		    "which is no fleet's cgroup directory; not searched", was);
		*was = '\0';
	}
	if (was != NULL && *was != '\0' &&
	    (f->cgroot == NULL || strcmp(was, f->cgroot) != 0)) {
		rc.root = was;
		cgroup_each(was, recover_cgroup, &rc);
		cgroup_remove(was);
	}
	if (f->cgroot != NULL) {
		rc.root = f->cgroot;
		cgroup_each(f->cgroot, recover_cgroup, &rc);
		statedb_set_meta(f->db, "cgroup", f->cgroot);
	} else
		statedb_set_meta(f->db, "cgroup", "");
	free(was);
	if (rc.other_boot > 0)
		log_info("%zu runs were recorded before the host rebooted: "
		    "none is searched for", rc.other_boot);
	if (rc.rows > rc.other_boot || rc.alive > 0)
		log_info("runs of the corrald before: %zu ended while it was "
		    "down, %zu still alive and being stopped", rc.ended,
		    rc.alive);
}

void
runs_init(struct fleet *f)
{
	const char *why;

	if (!f->conf->cgroup) {
		log_info("cgroup = off: each run is contained by its process "
		    "group");
		return;
	}
	if ((f->cgroot = cgroup_fleet_dir(f->conf->state_db, &why)) == NULL) {
		log_info("no cgroup for the workers (%s): each run is "
		    "contained by its process group", why);
		return;
	}
	log_info("each run gets a cgroup under %s", f->cgroot);
}

/* The worker's cgroup directory (made if needed); NULL: none. */
static const char *
worker_cgroup(struct worker *w)
{
	if (w->fleet->cgroot == NULL)
		return NULL;
	if (w->cgdir == NULL)
		xasprintf(&w->cgdir, "%s/%s", w->fleet->cgroot, w->name);
	if (cgroup_make(w->cgdir) == -1) {
		log_warn("agent %s: cannot make its cgroup %s; this run is "
		    "contained by its process group only", w->name, w->cgdir);
		return NULL;
	}
	return w->cgdir;
}

bool
runs_clear(struct worker *w)
{
	struct survivor *sv;
	pid_t pids[SURV_MAX_PIDS];
	size_t n;

	if (w->surv != NULL) {
		w->surv->start = true;
		return false;
	}
	if (w->fleet->cgroot == NULL || w->cgdir == NULL ||
	    !cgroup_populated(w->cgdir))
		return true;
	/* What the last run left is still dying (killed at its reap). */
	if ((sv = survivor_new(w->fleet, w->agent->name, w->instance)) == NULL)
		return false;
	sv->cgroup = xstrdup(w->cgdir);
	sv->sig = SIGKILL;
	sv->start = true;
	if ((n = members(sv, pids, SURV_MAX_PIDS)) == 0) {
		survivor_free(sv);
		return true;
	}
	log_info("agent %s: %zu process%s of its last run still in its "
	    "cgroup; starting once they are gone", w->name, n, n == 1 ? "" :
	    "es");
	survivor_begin(sv, pids, n);
	return false;
}

char *
runs_join_path(struct worker *w)
{
	const char *dir = worker_cgroup(w);
	char *p;

	if (dir == NULL)
		return NULL;
	xasprintf(&p, "%s/cgroup.procs", dir);
	return p;
}

/* The row of w's run (its cgroup owned by r). */
static void
run_row_of(struct worker *w, struct run_row *r)
{
	pid_t pg;
	char st;

	memset(r, 0, sizeof(*r));
	snprintf(r->agent, sizeof(r->agent), "%s", w->agent->name);
	r->instance = w->instance;
	/* Its own group, from setsid, though the child may not be there yet. */
	r->pid = r->pgid = w->pid;
	/* The child exists from fork on: its start time is known now. */
	if (proc_stat(w->pid, &st, &pg, &r->start_ticks) == -1)
		r->start_ticks = 0;
	snprintf(r->boot_id, sizeof(r->boot_id), "%s", boot_id());
	r->cgroup = w->in_cgroup ? xstrdup(w->cgdir) : NULL;
	r->stop_signal = w->agent->stop_signal;
	r->stop_timeout_ms = w->agent->stop_timeout_ms;
	r->start_ms = w->start_wall_ms;
}

void
runs_started(struct worker *w)
{
	struct run_row r;

	run_row_of(w, &r);
	watch_run_started(w, r.start_ticks);
	statedb_run_add(w->fleet->db, &r);
}

void
runs_resave(struct worker *w)
{
	struct run_row r;

	if (w->pid == 0)
		return;
	run_row_of(w, &r);
	statedb_run_add(w->fleet->db, &r);
}

void
runs_adopted(struct worker *w)
{
	char path[64], *line = NULL, *dir = NULL;
	size_t cap = 0, rlen;
	FILE *f;

	pid_t pg;
	char st;

	/* For the watcher, should it have to start anew. */
	if (proc_stat(w->pid, &st, &pg, &w->start_ticks) == -1)
		w->start_ticks = 0;
	/* In its cgroup if the image before put it there: ask the kernel. */
	if (w->fleet->cgroot == NULL)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/cgroup", (long)w->pid);
	if ((f = fopen(path, "re")) == NULL)
		return;
	xasprintf(&dir, "/%s", w->name);
	rlen = strlen(dir);
	while (getline(&line, &cap, f) > 0) {
		size_t n = strcspn(line, "\n");
		line[n] = '\0';
		if (strncmp(line, "0::", 3) == 0 && n - 3 >= rlen &&
		    strcmp(line + n - rlen, dir) == 0) {
			xasprintf(&w->cgdir, "%s/%s", w->fleet->cgroot,
			    w->name);
			w->in_cgroup = true;
		}
	}
	free(dir);
	free(line);
	fclose(f);
}

void
runs_ended(struct worker *w)
{
	/* Whatever it left behind, in its group or its cgroup, goes too. */
	kill(-w->pid, SIGKILL);
	if (w->in_cgroup)
		cgroup_signal(w->cgdir, SIGKILL);
	watch_run_ended(w);
	statedb_run_del(w->fleet->db, w->agent->name, w->instance);
}

void
runs_kill(struct worker *w, int sig)
{
	if (kill(-w->pid, sig) == -1 && errno == ESRCH)
		kill(w->pid, sig);
	/* KILL reaches what left the group too. */
	if (sig == SIGKILL && w->in_cgroup)
		cgroup_signal(w->cgdir, SIGKILL);
}

void
runs_forget(struct worker *w)
{
	if (w->surv != NULL) {
		w->surv->w = NULL;
		w->surv->start = false;
		w->surv = NULL;
	}
	if (w->cgdir != NULL && w->pid == 0)
		cgroup_remove(w->cgdir);
	free(w->cgdir);
	w->cgdir = NULL;
}

void
runs_halt(struct worker *w)
{
	if (w->surv != NULL)
		w->surv->start = false;
}

void
runs_free(struct fleet *f)
{
	struct survivor *sv;

	while ((sv = LIST_FIRST(&f->survivors)) != NULL) {
		LIST_REMOVE(sv, entry);
		if (sv->w != NULL)
			sv->w->surv = NULL;
		survivor_free(sv);
	}
	f->nsurv = 0;
	cglimit_free(f);
	if (f->cgroot != NULL)
		cgroup_remove(f->cgroot);
	free(f->cgroot);
	f->cgroot = NULL;
}
