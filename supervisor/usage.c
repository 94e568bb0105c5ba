/*
 * usage.c: what each run costs, in CPU and memory, and max_memory.
 *
 * A run is its process group (what `stop` and `signal` reach): its memory
 * is the sum of the resident sets of the group's processes, its CPU the
 * user and system time of the group's processes and of the children they
 * reaped.  Both come from /proc/PID/stat alone (utime, stime, cutime,
 * cstime, rss): one read per process.  Finding a group's processes takes
 * a walk of /proc, so one walk serves the whole fleet: on one timer for
 * the fleet, every USAGE_PERIOD_MS, only while some agent has max_memory
 * (and then only for its workers), and when status or /metrics asks, at
 * most once a second.  A fleet that uses neither reads nothing.
 *
 * A cgroup's memory.current would count what escaped the group too, but
 * it exists only where the memory controller is enabled for the fleet's
 * cgroup, and corrald enables none (cgroup.c).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"

int
proc_stat_parse(const char *buf, size_t len, struct proc_sample *out)
{
	char text[1024];
	const char *p;
	unsigned long long ut, st, cut, cst, start, rss;
	long pid;
	int pg;
	char state;

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, buf, len);
	text[len] = '\0';
	pid = strtol(text, NULL, 10);
	/* comm may hold anything, ')' too: the fields start after the last. */
	if (pid <= 0 || (p = strrchr(text, ')')) == NULL || p[1] != ' ')
		return -1;
	/*
	 * state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice num_threads
	 * itrealvalue starttime vsize rss
	 */
	if (sscanf(p + 2, "%c %*d %d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
	    "%llu %llu %*d %*d %*d %*d %llu %*u %llu", &state, &pg, &ut, &st,
	    &cut, &cst, &start, &rss) != 8)
		return -1;
	out->pid = (pid_t)pid;
	out->pgrp = pg;
	out->zombie = state == 'Z';
	out->ticks = ut + st + cut + cst;
	out->start_ticks = start;
	out->rss_pages = rss;
	return 0;
}

void
usage_update(struct run_usage *u, uint64_t rss, uint64_t cpu_ms,
    uint64_t now_ms, uint64_t start_ms)
{
	uint64_t from = u->at_ms != 0 ? u->at_ms : start_ms;
	uint64_t was = u->at_ms != 0 ? u->cpu_ms : 0;

	/*
	 * A counter never goes back: what a process that left the group (or
	 * died unreaped, or was reaped by init) had used stays counted.
	 */
	if (cpu_ms < was)
		cpu_ms = was;
	/* The first sample's interval is the run's life: it began at 0. */
	if (now_ms > from) {
		u->pct = 100.0 * (double)(cpu_ms - was) /
		    (double)(now_ms - from);
		u->pct_known = true;
	}
	u->rss = rss;
	u->cpu_ms = cpu_ms;
	u->at_ms = now_ms;
}

bool
usage_over_memory(uint64_t max_memory, const struct run_usage *u,
    enum wstate state, bool stopping)
{
	return max_memory > 0 && u->at_ms != 0 && u->rss > max_memory &&
	    (state == W_STARTING || state == W_RUNNING) && !stopping;
}

/* Does the fleet's timer look at w? */
static bool
watched(const struct worker *w)
{
	return w->pid != 0 && w->agent->max_memory > 0;
}

/*
 * One walk of /proc: every live run (all) or every watched one gets a
 * sample.  A process of no run's group costs one read, and is skipped.
 */
static void
scan(struct fleet *f, bool all)
{
	static long page, hz;
	char path[300], buf[1024];
	struct proc_sample ps;
	struct dirent *d;
	struct worker *w;
	uint64_t now;
	ssize_t n;
	size_t i;
	DIR *dp;
	int fd;

	if (page == 0) {
		page = sysconf(_SC_PAGESIZE);
		hz = sysconf(_SC_CLK_TCK);
		if (page <= 0)
			page = 4096;
		if (hz <= 0)
			hz = 100;
	}
	if ((dp = opendir("/proc")) == NULL)
		return;
	f->usage_scans++;
	while ((d = readdir(dp)) != NULL) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0 || proc_stat_parse(buf, (size_t)n, &ps) == -1 ||
		    ps.zombie)
			continue;
		/* setsid() made each run's main process its group's leader. */
		if ((w = fleet_find_pid(f, ps.pgrp)) == NULL ||
		    w->pid != ps.pgrp || (!all && !watched(w)) ||
		    ps.start_ticks < w->start_ticks)
			continue;
		if (w->use.scan != f->usage_scans) {
			w->use.scan = f->usage_scans;
			w->use.acc_rss = w->use.acc_ticks = 0;
		}
		w->use.acc_rss += ps.rss_pages * (uint64_t)page;
		w->use.acc_ticks += ps.ticks;
	}
	closedir(dp);
	now = now_mono_ms();
	for (i = 0; i < f->nworkers; i++) {
		w = f->workers[i];
		if (w->pid != 0 && w->use.scan == f->usage_scans)
			usage_update(&w->use, w->use.acc_rss,
			    w->use.acc_ticks * 1000 / (uint64_t)hz, now,
			    w->start_mono_ms);
	}
	if (all)
		f->usage_all_ms = now;
}

static void
usage_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fleet *f = arg;
	size_t i, n = 0;

	(void)fd;
	(void)what;
	for (i = 0; i < f->nworkers; i++)
		n += watched(f->workers[i]);
	if (n == 0)
		return;
	scan(f, false);
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		if (watched(w) && usage_over_memory(w->agent->max_memory,
		    &w->use, w->state, w->memory || w->stop_requested ||
		    w->hang))
			worker_over_memory(w);
	}
}

void
usage_rearm(struct fleet *f)
{
	struct timeval tv = { USAGE_PERIOD_MS / 1000,
		(USAGE_PERIOD_MS % 1000) * 1000 };
	size_t i;

	if (f->usage_ev == NULL &&
	    (f->usage_ev = event_new(f->base, -1, EV_PERSIST, usage_cb,
	    f)) == NULL)
		fatal("cannot create the usage timer");
	for (i = 0; i < f->conf->nagents; i++)
		if (f->conf->agents[i].max_memory > 0)
			break;
	if (i == f->conf->nagents)
		event_del(f->usage_ev);
	else if (!event_pending(f->usage_ev, EV_TIMEOUT, NULL))
		event_add(f->usage_ev, &tv);
}

void
usage_refresh(struct fleet *f)
{
	uint64_t now = now_mono_ms();

	if (f->usage_all_ms == 0 || now - f->usage_all_ms >= USAGE_FRESH_MS)
		scan(f, true);
}

void
usage_free(struct fleet *f)
{
	if (f->usage_ev != NULL)
		event_free(f->usage_ev);
	f->usage_ev = NULL;
}
