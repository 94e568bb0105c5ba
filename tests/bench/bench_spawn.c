/*
 * bench_spawn.c: what corrald costs when it spawns, measured against a
 * bare C loop that posix_spawns and reaps the same worker (bench_worker)
 * in the same run, so that the ratio means something on a noisy machine.
 * Figures are printed, never asserted (docs/PERFORMANCE.md, *Spawning*).
 *
 * usage: bench_spawn BUILD SCRATCH RESULTS_JSON
 *
 *   BUILD holds corrald, corralctl and bench/bench_worker; SCRATCH is
 *   emptied and used for fleet files, state, logs and sockets; the
 *   figures go to RESULTS_JSON as one flat object, with those that
 *   bench_store left in SCRATCH/../store.figures.
 *
 * Every worker reports "S PID NS" when it starts (and "E PID NS" just
 * before it exits, in respawn mode) on a datagram socket: the times are
 * the workers' own CLOCK_MONOTONIC stamps, never the time a message was
 * read.  Knobs, for a quicker look: BENCH_RESPAWNS (1000), BENCH_MID
 * (1000), BENCH_BIG (10000), BENCH_IDLE_S (30), BENCH_CGROUP (off; auto
 * for corrald's default), BENCH_PERF=DIR (perf record -g of corrald during
 * the big start and the mass crash, into DIR).
 *
 * Cleaning up: corrald is started with SIGTERM as its parent-death signal
 * and its workers with SIGTERM as theirs; the bare loop's children die
 * with the bench (SIGKILL).  Whatever is still there when the bench ends,
 * on any path, is killed by recorded pid: corrald, the bare children,
 * perf, and workers the bench heard from that still carry its socket.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define NS 1000000000LL
#define MS 1000000LL
#define NOFILE 65536     /* what the bench asks for corrald */
#define FD_PER_WORKER 4  /* stdout, stderr: a pipe and a file each */
#define FD_RESERVE 256   /* corrald's own, with room */
#define DEADLINE_S 900 /* the whole run, whatever happens */

/* --- the shared layer: clock, failure, cleanup ---------------------- */

static char build[PATH_MAX], scratch[PATH_MAX], worker[PATH_MAX];
static char corrald_bin[PATH_MAX], corralctl_bin[PATH_MAX];
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int sock = -1;
static int64_t deadline_all;

/* What cleanup() kills: all recorded, none guessed. */
static volatile pid_t corrald_pid, perf_pid, ctl_pid;
static pid_t *bare_pid;   /* the bare loop's unreaped children */
static size_t bare_n, bare_cap;

static int64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * NS + t.tv_nsec;
}

static void
sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * MS };

	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

/* Async-signal-safe: only kill(2) on recorded pids. */
static void
kill_recorded(void)
{
	size_t i;

	if (perf_pid > 0)
		kill(perf_pid, SIGINT);
	if (ctl_pid > 0)
		kill(ctl_pid, SIGKILL);
	if (corrald_pid > 0)
		kill(corrald_pid, SIGKILL); /* its workers get SIGTERM */
	for (i = 0; i < bare_n; i++)
		kill(bare_pid[i], SIGKILL);
}

static void
on_signal(int sig)
{
	kill_recorded();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void reap_strays(void);

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_spawn: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	kill_recorded();
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	reap_strays();
	exit(1);
}

/* snprintf that ends the bench rather than cut a path short. */
static void __attribute__((format(printf, 3, 4)))
xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		die("too long: %.60s...", buf);
}

/* A wait's deadline: its own, never beyond the run's. */
static int64_t
deadline(double seconds)
{
	int64_t d = now_ns() + (int64_t)(seconds * NS);

	return d < deadline_all ? d : deadline_all;
}

static long
env_long(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? atol(v) : dflt;
}

static void
run_cmd(const char *fmt, ...)
{
	char cmd[PATH_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		die("failed: %s", cmd);
}

/* --- stamps: the workers' S and E datagrams ------------------------ */

struct stamp {
	char kind; /* 'S' or 'E' */
	pid_t pid;
	int64_t ns;
};

struct stamps {
	struct stamp *v;
	size_t n, cap, s, e; /* s, e: how many of each */
	int64_t last_s;      /* the latest S stamp */
};

static void
stamps_free(struct stamps *st)
{
	free(st->v);
	memset(st, 0, sizeof(*st));
}

static void
sock_open(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int big = 8 << 20;

	xsnprintf(sock_path, sizeof(sock_path), "%s/stamps.sock", scratch);
	memcpy(a.sun_path, sock_path, sizeof(sock_path));
	unlink(sock_path);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sock == -1 || bind(sock, (struct sockaddr *)&a, sizeof(a)) == -1)
		die("stamp socket %s: %s", sock_path, strerror(errno));
	/* Root may go beyond rmem_max; the queue length stays the system's. */
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big))
	    == -1)
		(void)setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
}

/* Reads every datagram already queued; returns how many. */
static size_t
sock_drain(struct stamps *st)
{
	char buf[80];
	size_t got = 0;
	ssize_t r;

	while ((r = recv(sock, buf, sizeof(buf) - 1, 0)) > 0) {
		struct stamp s;
		long long pid, ns;
		char kind;

		buf[r] = '\0';
		if (sscanf(buf, "%c %lld %lld", &kind, &pid, &ns) != 3 ||
		    (kind != 'S' && kind != 'E'))
			continue;
		s.kind = kind;
		s.pid = (pid_t)pid;
		s.ns = ns;
		if (st->n == st->cap) {
			st->cap = st->cap ? st->cap * 2 : 1024;
			st->v = realloc(st->v, st->cap * sizeof(*st->v));
			if (st->v == NULL)
				die("out of memory");
		}
		st->v[st->n++] = s;
		if (kind == 'S') {
			st->s++;
			if (ns > st->last_s)
				st->last_s = ns;
		} else {
			st->e++;
		}
		got++;
	}
	return got;
}

/* Until st holds n S stamps; -1 at the deadline. */
static int
await_stamps_or(struct stamps *st, size_t n, double seconds)
{
	int64_t end = deadline(seconds);
	struct pollfd p = { sock, POLLIN, 0 };

	for (;;) {
		int64_t left;

		sock_drain(st);
		if (st->s >= n)
			return 0;
		if ((left = end - now_ns()) <= 0)
			return -1;
		poll(&p, 1, (int)(left / MS) + 1);
	}
}

/* Until st holds s S stamps and e E stamps; dies at the deadline. */
static void
await_stamps(struct stamps *st, size_t s, size_t e, double seconds,
    const char *what)
{
	int64_t end = deadline(seconds);
	struct pollfd p = { sock, POLLIN, 0 };

	for (;;) {
		int64_t left;

		sock_drain(st);
		if (st->s >= s && st->e >= e)
			return;
		left = end - now_ns();
		if (left <= 0)
			die("%s: %zu of %zu starts heard in %.0f s", what,
			    st->s, s, seconds);
		poll(&p, 1, (int)(left / MS) + 1);
	}
}

/* --- /proc ----------------------------------------------------------- */

struct pstat {
	int64_t cpu_ns;  /* on-CPU time of all threads */
	long rss_kb;     /* VmRSS */
	long long ctxsw; /* voluntary + nonvoluntary, all threads */
};

/* On-CPU nanoseconds of one task: schedstat when the kernel has it (ns
 * exact), else utime + stime from stat (clock ticks). */
static int64_t
task_cpu_ns(const char *task)
{
	char p[PATH_MAX], buf[1024], *c;
	unsigned long long run, ut, st;
	FILE *f;

	xsnprintf(p, sizeof(p), "%s/schedstat", task);
	if ((f = fopen(p, "re")) != NULL) {
		int ok = fscanf(f, "%llu", &run) == 1;

		fclose(f);
		if (ok)
			return (int64_t)run;
	}
	xsnprintf(p, sizeof(p), "%s/stat", task);
	if ((f = fopen(p, "re")) == NULL)
		return 0;
	c = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (c == NULL || (c = strrchr(buf, ')')) == NULL ||
	    sscanf(c + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu"
	    " %llu", &ut, &st) != 2)
		return 0;
	return (int64_t)((ut + st) * (NS / sysconf(_SC_CLK_TCK)));
}

static long long
status_field(const char *file, const char *key)
{
	char line[256];
	size_t k = strlen(key);
	long long v = -1;
	FILE *f;

	if ((f = fopen(file, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, k) == 0 && line[k] == ':') {
			v = atoll(line + k + 1);
			break;
		}
	fclose(f);
	return v;
}

static void
proc_read(pid_t pid, struct pstat *ps)
{
	char dir[64], p[PATH_MAX];
	struct dirent *d;
	DIR *t;

	memset(ps, 0, sizeof(*ps));
	xsnprintf(dir, sizeof(dir), "/proc/%ld/task", (long)pid);
	if ((t = opendir(dir)) == NULL)
		die("%s: %s", dir, strerror(errno));
	while ((d = readdir(t)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		xsnprintf(p, sizeof(p), "%s/%s", dir, d->d_name);
		ps->cpu_ns += task_cpu_ns(p);
		xsnprintf(p, sizeof(p), "%s/%s/status", dir, d->d_name);
		ps->ctxsw += status_field(p, "voluntary_ctxt_switches") +
		    status_field(p, "nonvoluntary_ctxt_switches");
	}
	closedir(t);
	xsnprintf(p, sizeof(p), "/proc/%ld/status", (long)pid);
	ps->rss_kb = (long)status_field(p, "VmRSS");
}

/* Until pid's CPU time stands still (under 1 ms in 300 ms): the work a
 * start left behind (state rows, log lines) is done. */
static void
proc_settle(pid_t pid, struct pstat *ps)
{
	int64_t end = deadline(30), last;

	proc_read(pid, ps);
	do {
		last = ps->cpu_ns;
		sleep_ms(300);
		proc_read(pid, ps);
	} while (ps->cpu_ns - last >= MS && now_ns() < end);
}

/* --- corrald ------------------------------------------------------- */

struct fleet {
	size_t n;          /* numprocs */
	const char *mode;  /* bench_worker's mode: respawn or wait */
	bool autostart;
};

struct corrald {
	char dir[PATH_MAX], conf[PATH_MAX], ctl_sock[PATH_MAX],
	    log[PATH_MAX];
	pid_t pid;
	int64_t launched; /* just before its fork */
};

static void
fleet_write(struct corrald *c, const struct fleet *fl)
{
	const char *cg = getenv("BENCH_CGROUP");
	FILE *f;

	if ((f = fopen(c->conf, "we")) == NULL)
		die("%s: %s", c->conf, strerror(errno));
	fprintf(f, "[corrald]\nstate_db = %s/state.db\n"
	    "checkpoint_db = %s/checkpoints.db\nrun_dir = %s\n"
	    "control_socket = %s\nlog_dir = %s/log\nlog_level = info\n"
	    "cgroup = %s\n\n", c->dir, c->dir, c->dir, c->ctl_sock, c->dir,
	    cg != NULL && *cg != '\0' ? cg : "off");
	fprintf(f, "[defaults]\nenv = BENCH_SOCK=%s\n\n", sock_path);
	/* Restart at once, whatever the exit: a clean exit after
	 * healthy_after = 0 is a long run; a kill waits 1 ms and opens no
	 * breaker. */
	fprintf(f, "[agent:w]\ncommand = %s %s line\nnumprocs = %zu\n"
	    "autostart = %s\nrestart = always\nhealthy_after = 0\n"
	    "backoff_initial = 1ms\nbackoff_max = 1ms\nbackoff_jitter = 0\n"
	    "failure_threshold = 100000\nstop_timeout = 5s\n"
	    "stdout = file\nstderr = file\n", worker, fl->mode, fl->n,
	    fl->autostart ? "true" : "false");
	if (fclose(f) != 0)
		die("%s: %s", c->conf, strerror(errno));
}

/* Starts corrald on a fresh directory SCRATCH/NAME with fleet fl. */
static void
corrald_launch(struct corrald *c, const char *name, const struct fleet *fl)
{
	pid_t parent = getpid();
	int fd;

	xsnprintf(c->dir, sizeof(c->dir), "%s/%s", scratch, name);
	xsnprintf(c->conf, sizeof(c->conf), "%s/fleet.ini", c->dir);
	xsnprintf(c->ctl_sock, sizeof(c->ctl_sock), "%s/corrald.sock", c->dir);
	xsnprintf(c->log, sizeof(c->log), "%s/corrald.log", c->dir);
	run_cmd("rm -rf '%s' && mkdir -p '%s'", c->dir, c->dir);
	fleet_write(c, fl);
	c->launched = now_ns();
	c->pid = fork();
	if (c->pid == -1)
		die("fork: %s", strerror(errno));
	if (c->pid == 0) {
		/* Should the bench die, corrald stops its fleet and goes. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		fd = open(c->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(1);
		execl(corrald_bin, "corrald", "-c", c->conf,
		    (char *)NULL);
		_exit(127);
	}
	corrald_pid = c->pid;
}

/* Waits for child pid until the deadline (then kills it and dies);
 * returns its wait status. */
static int
wait_child(pid_t pid, double seconds, const char *what)
{
	int64_t end = deadline(seconds);
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		int64_t left = end - now_ns();

		if (r == pid)
			break;
		if (r == -1 && errno != EINTR)
			die("%s: waitpid: %s", what, strerror(errno));
		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			die("%s: still running after %.0f s", what, seconds);
		}
		if (fd >= 0) {
			struct pollfd p = { fd, POLLIN, 0 };

			poll(&p, 1, (int)(left / MS) + 1);
		} else {
			sleep_ms(1);
		}
	}
	if (fd >= 0)
		close(fd);
	return status;
}

/* corralctl -s SOCKET ARGS... with its output to OUT; returns its wall
 * time in ns.  A failure or a call over 60 s ends the bench. */
static int64_t
ctl(const struct corrald *c, const char *out, const char *const *args)
{
	const char *argv[16] = { "corralctl", "-s", c->ctl_sock };
	posix_spawn_file_actions_t fa;
	size_t k = 3;
	int64_t t0;
	pid_t pid;
	int rc;

	while (*args != NULL && k < 15)
		argv[k++] = *args++;
	argv[k] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out,
	    O_WRONLY | O_CREAT | O_TRUNC, 0644);
	t0 = now_ns();
	rc = posix_spawn(&pid, corralctl_bin, &fa, NULL, (char **)argv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		die("%s: %s", corralctl_bin, strerror(rc));
	ctl_pid = pid;
	rc = wait_child(pid, 60, "corralctl");
	ctl_pid = 0;
	if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
		die("corralctl %s failed (status %d); see %s", argv[3], rc,
		    c->log);
	return now_ns() - t0;
}

/* Prints corrald's log lines that hold word (why workers are LIMITED). */
static void
log_say(const struct corrald *c, const char *word)
{
	char line[1024];
	FILE *f = fopen(c->log, "re");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, word) != NULL)
			printf("  corrald: %s", line);
	fclose(f);
}

/* Until corrald answers on its control socket (its loop runs). */
static void
corrald_ready(const struct corrald *c)
{
	static const char *const version[] = { "version", NULL };
	int64_t end = deadline(60);
	struct stat sb;

	while (stat(c->ctl_sock, &sb) == -1) {
		if (now_ns() > end)
			die("corrald made no control socket; see %s", c->log);
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			corrald_pid = 0;
			die("corrald exited; see %s", c->log);
		}
		sleep_ms(1);
	}
	ctl(c, "/dev/null", version);
}

/* Workers of this bench still there: any bench_worker process carrying
 * this run's socket in its environment.  Killed, and counted. */
static void
reap_strays(void)
{
	char want[sizeof(sock_path) + 16], p[64], buf[8192];
	struct dirent *d;
	size_t found = 0;
	DIR *proc;

	if (sock_path[0] == '\0' || (proc = opendir("/proc")) == NULL)
		return;
	xsnprintf(want, sizeof(want), "BENCH_SOCK=%s", sock_path);
	while ((d = readdir(proc)) != NULL) {
		ssize_t n, i;
		int fd;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		xsnprintf(p, sizeof(p), "/proc/%s/comm", d->d_name);
		if ((fd = open(p, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0 || strncmp(buf, "bench_worker\n", (size_t)n) != 0)
			continue;
		xsnprintf(p, sizeof(p), "/proc/%s/environ", d->d_name);
		if ((fd = open(p, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) {
			buf[n] = '\0';
			if (strcmp(buf + i, want) == 0) {
				kill((pid_t)atol(d->d_name), SIGKILL);
				found++;
				break;
			}
		}
	}
	closedir(proc);
	if (found > 0)
		printf("  (%zu workers outlived their supervisor: killed)\n",
		    found);
}

/* SIGTERM, and its fleet's stop; SIGKILL if that takes over 120 s. */
static void
corrald_stop(struct corrald *c)
{
	int64_t t0 = now_ns();
	int status;

	kill(c->pid, SIGTERM);
	status = wait_child(c->pid, 120, "corrald's stop");
	corrald_pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("  corrald ended with status %d (see %s)\n", status,
		    c->log);
	printf("  (corrald stopped its fleet in %.2f s)\n",
	    (double)(now_ns() - t0) / NS);
	reap_strays();
}

/* --- perf, when BENCH_PERF names a directory ------------------------ */

static void
perf_start(pid_t pid, const char *name)
{
	const char *dir = getenv("BENCH_PERF");
	char out[PATH_MAX], spid[24];
	int64_t end = deadline(10);
	struct stat sb;

	if (dir == NULL || *dir == '\0')
		return;
	xsnprintf(out, sizeof(out), "%s/%s.data", dir, name);
	xsnprintf(spid, sizeof(spid), "%ld", (long)pid);
	unlink(out);
	if ((perf_pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (perf_pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd != -1)
			dup2(fd, 1);
		execlp("perf", "perf", "record", "-q", "-g", "-p", spid, "-o",
		    out, (char *)NULL);
		_exit(127);
	}
	/* perf writes its file once it has attached. */
	while (stat(out, &sb) == -1 && now_ns() < end)
		sleep_ms(10);
	sleep_ms(200);
}

static void
perf_stop(void)
{
	if (perf_pid <= 0)
		return;
	kill(perf_pid, SIGINT);
	wait_child(perf_pid, 60, "perf");
	perf_pid = 0;
}

/* --- the bare loop ------------------------------------------------- */

static char **bare_env;

static void
bare_setup(void)
{
	static char s_sock[PATH_MAX], s_parent[32];
	size_t n = 0, i;

	while (environ[n] != NULL)
		n++;
	if ((bare_env = calloc(n + 3, sizeof(*bare_env))) == NULL)
		die("out of memory");
	for (i = 0; i < n; i++)
		bare_env[i] = environ[i];
	xsnprintf(s_sock, sizeof(s_sock), "BENCH_SOCK=%s", sock_path);
	xsnprintf(s_parent, sizeof(s_parent), "BENCH_PARENT=%ld",
	    (long)getpid());
	bare_env[n] = s_sock;
	bare_env[n + 1] = s_parent;
	run_cmd("rm -rf '%s/bare' && mkdir -p '%s/bare'", scratch, scratch);
}

static void
bare_record(pid_t pid)
{
	if (bare_n == bare_cap) {
		size_t cap = bare_cap ? bare_cap * 2 : 1024;
		pid_t *v = malloc(cap * sizeof(*v));
		pid_t *old = bare_pid;

		if (v == NULL)
			die("out of memory");
		/* Never realloc under the signal handler's feet: the old
		 * array stays whole until the new one is in place. */
		if (bare_n > 0)
			memcpy(v, old, bare_n * sizeof(*v));
		bare_pid = v;
		bare_cap = cap;
		free(old);
	}
	bare_pid[bare_n++] = pid;
}

static void
bare_forget(pid_t pid)
{
	size_t i;

	for (i = 0; i < bare_n; i++)
		if (bare_pid[i] == pid) {
			bare_pid[i] = bare_pid[--bare_n];
			return;
		}
}

/* What a supervisor must do at least: the worker in a session of its own,
 * stdin on /dev/null, stdout and stderr each to its log file (fd[0],
 * fd[1]: the two files corrald's stdout = stderr = file make), an empty
 * mask. */
static pid_t
bare_spawn(const char *mode, const int fd[2])
{
	char *argv[] = { "bench_worker", (char *)mode, "line", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	pid_t pid;
	int rc;

	sigemptyset(&none);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID |
	    POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd[0], 1);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 2);
	rc = posix_spawn(&pid, worker, &fa, &at, argv, bare_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		die("posix_spawn %s: %s", worker, strerror(rc));
	bare_record(pid);
	return pid;
}

/* Worker i's two log files, as corrald names its own. */
static void
bare_log(size_t i, int fd[2])
{
	static const char *which[2] = { "stdout", "stderr" };
	char p[PATH_MAX];
	int j;

	for (j = 0; j < 2; j++) {
		xsnprintf(p, sizeof(p), "%s/bare/w.%zu.%s.log", scratch, i,
		    which[j]);
		fd[j] = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0640);
		if (fd[j] == -1)
			die("%s: %s", p, strerror(errno));
	}
}

static void
bare_log_close(const int fd[2])
{
	close(fd[0]);
	close(fd[1]);
}

/* Kills and reaps every child of the bare loop. */
static void
bare_kill_all(void)
{
	size_t i;

	for (i = 0; i < bare_n; i++)
		kill(bare_pid[i], SIGKILL);
	for (i = 0; i < bare_n; i++)
		waitpid(bare_pid[i], NULL, 0);
	bare_n = 0;
}

static int64_t
self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NS +
	    ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* --- figures ------------------------------------------------------- */

struct result {
	const char *key;
	double v;
};
/* Its own, and those bench_store and bench_langgraph.sh leave. */
static struct result results[128];
static size_t nresults;

static void
result(const char *key, double v)
{
	size_t i;

	for (i = 0; i < nresults; i++)
		if (strcmp(results[i].key, key) == 0)
			break;
	if (i == sizeof(results) / sizeof(results[0]))
		die("too many figures");
	results[i].key = key;
	results[i].v = v;
	if (i == nresults)
		nresults++;
}

static double
fig(const char *key)
{
	size_t i;

	for (i = 0; i < nresults; i++)
		if (strcmp(results[i].key, key) == 0)
			return results[i].v;
	return -1;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_stamp(const void *a, const void *b)
{
	const struct stamp *x = a, *y = b;

	return (x->ns > y->ns) - (x->ns < y->ns);
}

/* Exit -> successor's start, in ns, of every E but the first warm ones;
 * returns how many, sorted. */
static size_t
respawn_gaps(struct stamps *st, size_t warm, int64_t *out)
{
	size_t i, j, n = 0, seen = 0;

	qsort(st->v, st->n, sizeof(*st->v), cmp_stamp);
	for (i = 0; i < st->n; i++) {
		if (st->v[i].kind != 'E')
			continue;
		for (j = i + 1; j < st->n && st->v[j].kind != 'S'; j++)
			;
		if (j == st->n)
			break;
		if (seen++ >= warm)
			out[n++] = st->v[j].ns - st->v[i].ns;
	}
	qsort(out, n, sizeof(*out), cmp_i64);
	return n;
}

static double
pct_us(const int64_t *v, size_t n, double p)
{
	return n == 0 ? -1 : (double)v[(size_t)(p * (double)(n - 1))] / 1000;
}

/* Respawn latency of one worker that exits at once, R times. */
static void
fig_respawn(size_t r)
{
	const struct fleet fl = { 1, "respawn", true };
	const size_t warm = 20;
	struct corrald c;
	struct stamps st = { 0 };
	int64_t *gap = calloc(r + warm + 8, sizeof(*gap));
	size_t n, i;
	pid_t pid;
	int fd[2];

	if (gap == NULL)
		die("out of memory");
	printf("respawn: one worker exiting 0 at once, %zu respawns\n", r);
	corrald_launch(&c, "respawn", &fl);
	await_stamps(&st, r + warm + 1, r + warm, 120, "corrald respawns");
	corrald_stop(&c);
	n = respawn_gaps(&st, warm, gap);
	result("respawn_median_us", pct_us(gap, n, 0.5));
	result("respawn_p99_us", pct_us(gap, n, 0.99));
	stamps_free(&st);

	bare_log(0, fd);
	pid = bare_spawn("respawn", fd);
	for (i = 0; i < r + warm; i++) {
		pid_t next;

		waitpid(pid, NULL, 0);
		bare_forget(pid);
		next = bare_spawn("respawn", fd);
		sock_drain(&st);
		pid = next;
	}
	waitpid(pid, NULL, 0);
	bare_forget(pid);
	bare_log_close(fd);
	await_stamps(&st, r + warm + 1, r + warm + 1, 30, "bare respawns");
	n = respawn_gaps(&st, warm, gap);
	result("respawn_baseline_us", pct_us(gap, n, 0.5));
	result("respawn_baseline_p99_us", pct_us(gap, n, 0.99));
	result("respawn_ratio", fig("respawn_median_us") /
	    fig("respawn_baseline_us"));
	result("respawn_p99_ratio", fig("respawn_p99_us") /
	    fig("respawn_baseline_p99_us"));
	stamps_free(&st);
	free(gap);
}

/*
 * corrald's CPU for a start of one worker: what a start costs besides its
 * spawns (the request, its answer, the first commits, the log lines) and
 * one spawn.  -1 until measured.
 */
static int64_t start_one_ns = -1;

/* corrald started with n workers (autostart off), then told to start
 * them all: the start's time from corrald's launch to the last worker's
 * S, and corrald's CPU from the start request until it is quiet again,
 * per worker beyond the first once a start of one was measured (the
 * fixed cost of a start would otherwise make the 10-worker figure the
 * dearest).  Leaves corrald running, its workers' stamps in st. */
static int64_t
corrald_start(struct corrald *c, const char *name, size_t n,
    struct stamps *st, const char *perf)
{
	static const char *const start[] = { "start", "--no-wait", "w",
		NULL };
	const struct fleet fl = { n, "wait", false };
	struct pstat a, b;
	char key[64];

	corrald_launch(c, name, &fl);
	corrald_ready(c);
	proc_read(c->pid, &a);
	if (perf != NULL)
		perf_start(c->pid, perf);
	ctl(c, "/dev/null", start);
	if (await_stamps_or(st, n, 60 + (double)n / 20) != 0) {
		log_say(c, "LimitNOFILE");
		die("corrald's start: %zu of %zu workers heard from", st->s,
		    n);
	}
	if (perf != NULL)
		perf_stop();
	proc_settle(c->pid, &b);
	xsnprintf(key, sizeof(key), "start_%s_s", name);
	result(strdup(key), (double)(st->last_s - c->launched) / NS);
	if (n > 1 && start_one_ns >= 0) {
		xsnprintf(key, sizeof(key), "cpu_per_spawn_%s_ms", name);
		result(strdup(key), (double)(b.cpu_ns - a.cpu_ns -
		    start_one_ns) / (double)(n - 1) / MS);
	}
	xsnprintf(key, sizeof(key), "rss_%s_bytes", name);
	result(strdup(key), (double)b.rss_kb * 1024);
	return b.cpu_ns - a.cpu_ns;
}

#define SMALL_RUNS 5 /* small starts are a few ms of CPU: medians of 5 */

/* The bare loop starting n workers, each with a log file of its own.
 * Leaves them running, their stamps in st. */
static void
bare_start(const char *name, size_t n, struct stamps *st)
{
	int64_t t0 = now_ns(), c0 = self_cpu_ns();
	char key[64];
	size_t i;

	for (i = 0; i < n; i++) {
		int fd[2];

		bare_log(i, fd);
		bare_spawn("wait", fd);
		bare_log_close(fd);
		if (i % 32 == 31)
			sock_drain(st);
	}
	await_stamps(st, n, 0, 60 + (double)n / 100, "the bare loop's start");
	xsnprintf(key, sizeof(key), "start_%s_baseline_s", name);
	result(strdup(key), (double)(st->last_s - t0) / NS);
	xsnprintf(key, sizeof(key), "cpu_per_spawn_%s_baseline_ms", name);
	result(strdup(key), (double)(self_cpu_ns() - c0) / (double)n / MS);
}

static void
ratio(const char *key, const char *a, const char *b)
{
	result(key, fig(a) / fig(b));
}

/* 10 workers: CPU per spawn and RSS at the small end. */
static void
fig_small(size_t n)
{
	struct corrald c;
	struct stamps st = { 0 };
	int64_t one[SMALL_RUNS], ten[SMALL_RUNS];
	int k;

	printf("start of 1 worker (what a start costs besides its spawns) "
	    "and of %zu, %d times each\n", n, SMALL_RUNS);
	for (k = 0; k < SMALL_RUNS; k++) {
		one[k] = corrald_start(&c, "1", 1, &st, NULL);
		corrald_stop(&c);
		stamps_free(&st);
		ten[k] = corrald_start(&c, "10", n, &st, NULL);
		corrald_stop(&c);
		stamps_free(&st);
	}
	qsort(one, SMALL_RUNS, sizeof(one[0]), cmp_i64);
	qsort(ten, SMALL_RUNS, sizeof(ten[0]), cmp_i64);
	start_one_ns = one[SMALL_RUNS / 2];
	result("cpu_start_1_ms", (double)start_one_ns / MS);
	result("cpu_per_spawn_10_ms", (double)(ten[SMALL_RUNS / 2] -
	    start_one_ns) / (double)(n - 1) / MS);
	bare_start("10", n, &st);
	bare_kill_all();
	stamps_free(&st);
}

/* SIGKILL every worker heard from in old; the time until n new starts. */
static double
mass_crash(const struct stamps *old, size_t n, const char *what,
    bool bare)
{
	struct stamps st = { 0 };
	int64_t t0 = now_ns();
	size_t i;

	for (i = 0; i < old->n; i++)
		if (old->v[i].kind == 'S')
			kill(old->v[i].pid, SIGKILL);
	if (bare)
		for (i = 0; i < n; i++) {
			pid_t pid = waitpid(-1, NULL, 0);
			int fd[2];

			if (pid == -1)
				die("bare mass crash: waitpid: %s",
				    strerror(errno));
			bare_forget(pid);
			bare_log(i, fd);
			bare_spawn("wait", fd);
			bare_log_close(fd);
			if (i % 32 == 31)
				sock_drain(&st);
		}
	await_stamps(&st, n, 0, 120, what);
	t0 = st.last_s - t0;
	stamps_free(&st);
	return (double)t0 / NS;
}

/* 1,000 workers: the start, CPU, RSS, then the mass crash. */
static void
fig_mid(size_t n)
{
	struct corrald c;
	struct stamps st = { 0 };

	printf("start of %zu workers, then all of them SIGKILLed\n", n);
	corrald_start(&c, "1k", n, &st, NULL);
	perf_start(c.pid, "mass_1k");
	result("mass_1k_s", mass_crash(&st, n, "corrald's mass restart",
	    false));
	perf_stop();
	corrald_stop(&c);
	stamps_free(&st);
	bare_start("1k", n, &st);
	result("mass_1k_baseline_s", mass_crash(&st, n,
	    "the bare loop's mass restart", true));
	bare_kill_all();
	stamps_free(&st);
	ratio("start_1k_ratio", "start_1k_s", "start_1k_baseline_s");
	ratio("mass_1k_ratio", "mass_1k_s", "mass_1k_baseline_s");
}

/* 10,000 workers: the start, CPU, RSS, idle, status --json. */
static void
fig_big(size_t n, long idle_s, int calls)
{
	static const char *const status[] = { "status", "--json", NULL };
	struct corrald c;
	struct stamps st = { 0 };
	struct pstat a, b;
	int64_t t[16];
	char out[PATH_MAX];
	int i;

	printf("start of %zu workers, %ld s idle, status --json\n", n, idle_s);
	corrald_start(&c, "10k", n, &st, "start_10k");
	proc_read(c.pid, &a);
	sleep_ms(idle_s * 1000);
	proc_read(c.pid, &b);
	result("idle_cpu_percent", (double)(b.cpu_ns - a.cpu_ns) /
	    ((double)idle_s * NS) * 100);
	result("idle_ctxsw_per_s", (double)(b.ctxsw - a.ctxsw) /
	    (double)idle_s);
	xsnprintf(out, sizeof(out), "%s/status.json", c.dir);
	if (calls > 16)
		calls = 16;
	for (i = 0; i < calls; i++)
		t[i] = ctl(&c, out, status);
	qsort(t, (size_t)calls, sizeof(*t), cmp_i64);
	result("status_10k_ms", (double)t[calls / 2] / MS);
	corrald_stop(&c);
	stamps_free(&st);
	bare_start("10k", n, &st);
	bare_kill_all();
	stamps_free(&st);
	ratio("start_10k_ratio", "start_10k_s", "start_10k_baseline_s");
	ratio("cpu_per_spawn_10k_over_10", "cpu_per_spawn_10k_ms",
	    "cpu_per_spawn_10_ms");
}

/* bench_store's figures ("KEY VALUE" lines), when it left them. */
static void
merge_store(const char *file)
{
	char key[64];
	double v;
	FILE *f;

	if ((f = fopen(file, "re")) == NULL) {
		printf("(no checkpoint figures: %s: %s)\n", file,
		    strerror(errno));
		return;
	}
	while (fscanf(f, "%63s %lf", key, &v) == 2)
		result(strdup(key), v);
	fclose(f);
}

/* --- the report ---------------------------------------------------- */

/* One line: the figure, its baseline, the ratio, the target. */
static void
row(const char *what, const char *key, const char *base, double scale,
    const char *target, int met)
{
	double v = fig(key), b = base != NULL ? fig(base) : -1;

	printf("  %-28s %11.3f", what, v * scale);
	if (b >= 0)
		printf(" %11.3f %7.2fx", b * scale, b > 0 ? v / b : 0);
	else
		printf(" %11s %8s", "", "");
	printf("  %-26s %s\n", target, met < 0 ? "" : met ? "met" :
	    "NOT met");
}

static void
report(size_t mid, size_t big)
{
	char what[64], key[64], target[64];
	static const char *const tag[3] = { "10", "1k", "10k" };
	size_t n[3] = { 10, mid, big };
	double r;
	int i;

	printf("\n  %-28s %11s %11s %8s  %-26s\n", "figure", "corrald",
	    "bare loop", "ratio", "target");
	row("respawn median, us", "respawn_median_us", "respawn_baseline_us",
	    1, "<= 1.3x", fig("respawn_ratio") <= 1.3);
	row("respawn p99, us", "respawn_p99_us", "respawn_baseline_p99_us",
	    1, "<= 2x", fig("respawn_p99_ratio") <= 2);
	xsnprintf(what, sizeof(what), "start of %zu, s", mid);
	row(what, "start_1k_s", "start_1k_baseline_s", 1, "", -1);
	xsnprintf(what, sizeof(what), "start of %zu, s", big);
	row(what, "start_10k_s", "start_10k_baseline_s", 1, "<= 1.5x",
	    fig("start_10k_ratio") <= 1.5);
	xsnprintf(what, sizeof(what), "mass crash of %zu, s", mid);
	row(what, "mass_1k_s", "mass_1k_baseline_s", 1, "<= 1.5x",
	    fig("mass_1k_ratio") <= 1.5);
	r = fig("cpu_per_spawn_10k_over_10");
	for (i = 0; i < 3; i++) {
		char base[64];

		xsnprintf(what, sizeof(what), "CPU per spawn at %zu, ms", n[i]);
		xsnprintf(key, sizeof(key), "cpu_per_spawn_%s_ms", tag[i]);
		xsnprintf(base, sizeof(base), "cpu_per_spawn_%s_baseline_ms",
		    tag[i]);
		xsnprintf(target, sizeof(target), i == 2 ?
		    "flat: %.2f of at 10" : "", r);
		row(what, key, base, 1, target, i == 2 ? r <= 1.2 && r >= 0.8 :
		    -1);
	}
	row("CPU of a start of 1, ms", "cpu_start_1_ms", NULL, 1,
	    "(less: per spawn above)", -1);
	for (i = 0; i < 3; i++) {
		double t = 16.0 * 1024 * 1024 + 2048.0 * (double)n[i];

		xsnprintf(what, sizeof(what), "RSS at %zu, MiB", n[i]);
		xsnprintf(key, sizeof(key), "rss_%s_bytes", tag[i]);
		xsnprintf(target, sizeof(target), "<= %.1f MiB",
		    t / 1024 / 1024);
		row(what, key, NULL, 1.0 / 1024 / 1024, target, fig(key) <= t);
	}
	xsnprintf(what, sizeof(what), "idle at %zu, CPU %%", big);
	row(what, "idle_cpu_percent", NULL, 1, "", -1);
	xsnprintf(what, sizeof(what), "idle at %zu, ctxsw/s", big);
	row(what, "idle_ctxsw_per_s", NULL, 1, "0 wakeups/s",
	    fig("idle_ctxsw_per_s") == 0);
	xsnprintf(what, sizeof(what), "status --json of %zu, ms", big);
	row(what, "status_10k_ms", NULL, 1, "<= 100 ms",
	    fig("status_10k_ms") <= 100);
	if (fig("checkpoint_put_per_s") < 0)
		return;
	row("checkpoint put, /s", "checkpoint_put_per_s",
	    "checkpoint_put_raw_per_s", 1, "", -1);
	row("checkpoint get_tuple, /s", "checkpoint_get_per_s",
	    "checkpoint_get_raw_per_s", 1, "", -1);
	r = fig("checkpoint_list100_per_s") / fig("checkpoint_list100_raw_per_s");
	row("checkpoint list of 100, /s", "checkpoint_list100_per_s",
	    "checkpoint_list100_raw_per_s", 1, ">= 0.6x raw SQLite", r >= 0.6);
}

static void
write_json(const char *path)
{
	char tmp[PATH_MAX];
	size_t i;
	FILE *f;

	xsnprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "we")) == NULL)
		die("%s: %s", tmp, strerror(errno));
	fprintf(f, "{\n");
	for (i = 0; i < nresults; i++)
		fprintf(f, "  \"%s\": %.10g%s\n", results[i].key, results[i].v,
		    i + 1 < nresults ? "," : "");
	fprintf(f, "}\n");
	if (fclose(f) != 0 || rename(tmp, path) == -1)
		die("%s: %s", path, strerror(errno));
}

static long
read_long(const char *file)
{
	long v = -1;
	FILE *f = fopen(file, "re");

	if (f != NULL) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* The machine's limits that 2 x big processes must fit in; returns how
 * many workers corrald can run with file logging under the hard
 * RLIMIT_NOFILE the bench gets (raising it needs CAP_SYS_RESOURCE). */
static size_t
machine(size_t big)
{
	long pid_max = read_long("/proc/sys/kernel/pid_max");
	long threads = read_long("/proc/sys/kernel/threads-max");
	struct rlimit rl = { NOFILE, NOFILE };
	size_t fit;

	printf("machine: %ld cores, pid_max %ld, threads-max %ld\n",
	    sysconf(_SC_NPROCESSORS_ONLN), pid_max, threads);
	if (pid_max < (long)big * 2 + 2000 || threads < (long)big * 2 + 2000)
		printf("  too low for %zu workers beside the rest: raise "
		    "kernel.pid_max / kernel.threads-max, or lower BENCH_BIG\n",
		    big);
	/* corrald raises its soft limit to the hard one. */
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		printf("  cannot raise RLIMIT_NOFILE to %d (%s): it stays at "
		    "%llu\n", NOFILE, strerror(errno),
		    (unsigned long long)rl.rlim_max);
	}
	fit = rl.rlim_max == RLIM_INFINITY ? big :
	    (size_t)(rl.rlim_max - FD_RESERVE) / FD_PER_WORKER / 100 * 100;
	if (fit < big) {
		printf("  NOTE: %zu workers with file logging need %zu file "
		    "descriptors; the big fleet is %zu workers, not %zu (its "
		    "figures keep their _10k_ names; big_workers says how "
		    "many)\n", big, big * FD_PER_WORKER + FD_RESERVE, fit, big);
		big = fit;
	}
	result("big_workers", (double)big);
	result("nofile_limit", (double)rl.rlim_max);
	return big;
}

int
main(int argc, char **argv)
{
	size_t respawns = (size_t)env_long("BENCH_RESPAWNS", 1000);
	size_t mid = (size_t)env_long("BENCH_MID", 1000);
	size_t big = (size_t)env_long("BENCH_BIG", 10000);
	long idle_s = env_long("BENCH_IDLE_S", 30);
	int64_t t0 = now_ns();
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
	size_t i;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_spawn BUILD SCRATCH RESULTS_JSON"
		    " [STORE_FIGURES]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	deadline_all = t0 + (int64_t)DEADLINE_S * NS;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
	alarm(DEADLINE_S + 60); /* should a wait forget its deadline */
	run_cmd("rm -rf '%s' && mkdir -p '%s'", argv[2], argv[2]);
	if (realpath(argv[1], build) == NULL || realpath(argv[2], scratch) ==
	    NULL)
		die("%s or %s: %s", argv[1], argv[2], strerror(errno));
	xsnprintf(worker, sizeof(worker), "%s/bench/bench_worker", build);
	xsnprintf(corrald_bin, sizeof(corrald_bin), "%s/corrald", build);
	xsnprintf(corralctl_bin, sizeof(corralctl_bin), "%s/corralctl", build);
	if (access(worker, X_OK) == -1 || access(corrald_bin, X_OK) == -1)
		die("%s or %s: %s", worker, corrald_bin, strerror(errno));

	big = machine(big);
	sock_open();
	bare_setup();
	printf("corrald against a bare posix_spawn loop, same worker, same "
	    "run\n");
	fig_respawn(respawns);
	fig_small(10);
	fig_mid(mid);
	fig_big(big, idle_s, 5);
	if (argc > 4)
		merge_store(argv[4]);
	result("bench_spawn_wall_s", (double)(now_ns() - t0) / NS);
	report(mid, big);
	write_json(argv[3]);
	printf("\nwrote %s (%.0f s)\n", argv[3], fig("bench_spawn_wall_s"));
	reap_strays();
	unlink(sock_path);
	run_cmd("rm -rf '%s'", scratch);
	return 0;
}
