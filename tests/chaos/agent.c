/*
 * agent.c: the chaos run's counting agent, a libcorral worker that
 * misbehaves on demand.  Each step it counts one, and checkpoints
 * {"n":N,"run":"RUN"} chained to the step before; a run resumes from the
 * checkpoint corrald names (CORRAL_RESUME_ID).  Its journal records what
 * each run did, so that the harness (chaos.py) can tell a lost step from
 * one that was never done.
 *
 * usage: agent [--pace MS] [--slow-stop MS] [--ignore-stop] [--children K]
 *              [--escape] [--flood LINES] [--quiet]
 *        agent --grandchild [--escape]      (made by the agent itself)
 *
 *   --pace MS        a step every MS milliseconds (default 20)
 *   --slow-stop MS   on the stop signal, go on for MS, printing a line per
 *                    step, then write a final checkpoint and exit 0
 *   --ignore-stop    ignore the stop signal (and TERM, INT, HUP) entirely
 *   --children K     fork K grandchildren that stay in the process group and
 *                    sleep until killed (they ignore TERM, INT and HUP)
 *   --escape         one more grandchild, which leaves the group (setsid)
 *   --flood LINES    print LINES extra lines each step
 *   --quiet          print nothing, running or stopping
 *
 * Signals from the harness, acted on between steps:
 *   SIGUSR1 exit 75 (transient)   SIGUSR2 abort() (crash)
 *   signal 40 exit 64 (fatal)     signal 41 print 20000 lines at once
 *   signal 42 exit 1 (error)
 * (real-time signals by number: SIGRTMIN is not the same number in a
 * sanitized build, whose runtime keeps none of glibc's for itself)
 *
 * Marks: a run is RUN = AGENT.INSTANCE:PID:STARTTIME (the main process's
 * pid and its start time in clock ticks since boot, field 22 of
 * /proc/PID/stat).  Grandchildren are made by fork and exec of this
 * program with CHAOS_RUN=RUN in their environment, so that
 * /proc/PID/environ names the run of every process; the main process
 * carries corrald's CORRAL_AGENT and CORRAL_INSTANCE.
 *
 * Environment: CHAOS_JOURNAL, a directory: each run appends lines
 * "MONO_MS EVENT RUN n=N ..." to AGENT.INSTANCE.journal (one write(2) a
 * line, O_APPEND), events start, stopsig (from the signal handler, at
 * once), stop (the loop noticed), final, exit, ckfail, deadline.
 * CHAOS_DEADLINE_MS, CLOCK_MONOTONIC milliseconds: every process of the
 * agent exits by then whatever happens, so that a harness that died
 * leaves nothing running for long.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corral.h"

/* The harness's real-time signals, by number (chaos.py: RT + n). */
#define CHAOS_SIG(n) (39 + (n))

extern char **environ;

static volatile sig_atomic_t want; /* a harness signal, 0: none */
static int journal_fd = -1;
static char run_id[160];
static long long deadline_ms;      /* 0: none */
static volatile long cur_n;        /* the last step done, for the handler */
static struct sigaction sdk_stop;  /* the SDK's handler of the stop signal */

static long long
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void
nap(long ms)
{
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000 };

	/* A signal cuts the nap short: it is acted on at once. */
	(void)nanosleep(&d, NULL);
}

static void
on_want(int sig)
{
	if (want == 0)
		want = sig;
}

/* One line to the journal, in one write(2); errors are ignored. */
static void
journal(const char *event, long n, const char *fmt, ...)
{
	char line[512], extra[256] = "";
	va_list ap;
	int len;

	if (journal_fd == -1)
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(extra, sizeof(extra), fmt, ap);
		va_end(ap);
	}
	len = snprintf(line, sizeof(line), "%lld %s %s n=%ld%s%s\n", mono_ms(),
	    event, run_id, n, extra[0] != '\0' ? " " : "", extra);
	if (len > 0 && (size_t)len < sizeof(line))
		(void)!write(journal_fd, line, (size_t)len);
}

/* Appends the decimal digits of v to p; async-signal-safe. */
static char *
put_num(char *p, long long v)
{
	char tmp[24];
	int i = 0;

	if (v < 0) {
		*p++ = '-';
		v = -v;
	}
	do
		tmp[i++] = (char)('0' + v % 10);
	while ((v /= 10) > 0 && i < (int)sizeof(tmp));
	while (i > 0)
		*p++ = tmp[--i];
	return p;
}

/*
 * The stop signal, as it arrives: "stopsig" in the journal (the moment
 * the run was told to stop, even if it dies before its loop notices),
 * then the SDK's own handler.  Only async-signal-safe calls here.
 */
static void
on_stop_signal(int sig)
{
	char line[512], *p = line;
	struct timespec t;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &t);
	p = put_num(p, (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000);
	memcpy(p, " stopsig ", 9);
	p += 9;
	for (i = 0; run_id[i] != '\0' && i < 160; i++)
		*p++ = run_id[i];
	memcpy(p, " n=", 3);
	p += 3;
	p = put_num(p, cur_n);
	*p++ = '\n';
	if (journal_fd != -1)
		(void)!write(journal_fd, line, (size_t)(p - line));
	if (sdk_stop.sa_handler != SIG_DFL && sdk_stop.sa_handler != SIG_IGN &&
	    sdk_stop.sa_handler != NULL)
		sdk_stop.sa_handler(sig);
}

static bool
past_deadline(void)
{
	return deadline_ms > 0 && mono_ms() >= deadline_ms;
}

/* Our start time in clock ticks since boot (/proc/self/stat field 22). */
static unsigned long long
start_time(void)
{
	char buf[1024], *p;
	unsigned long long st = 0;
	ssize_t n;
	int fd, i;

	if ((fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields start after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	p++;
	/* Field 3 (state) is the first after ')'; 22 is 19 fields further. */
	for (i = 0; i < 19 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		st = strtoull(p + 1, NULL, 10);
	return st;
}

static void
ignore_stops(void)
{
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
}

/* A grandchild: sleeps until killed, or until the deadline. */
static int
grandchild(bool escape)
{
	ignore_stops();
	if (escape && setsid() == -1)
		return 1;
	while (!past_deadline())
		nap(100);
	return 0;
}

/* Fork and exec one grandchild of this run, marked with CHAOS_RUN. */
static void
spawn_grandchild(const char *self, bool escape)
{
	char mark[200], **envp;
	char *argv[4];
	size_t n = 0, i;

	while (environ[n] != NULL)
		n++;
	if ((envp = calloc(n + 2, sizeof(*envp))) == NULL)
		return;
	for (i = 0; i < n; i++)
		envp[i] = environ[i];
	snprintf(mark, sizeof(mark), "CHAOS_RUN=%s", run_id);
	envp[n] = mark;
	argv[0] = "agent";
	argv[1] = "--grandchild";
	argv[2] = escape ? "--escape" : NULL;
	argv[3] = NULL;
	/* exec, then setsid in the new image: never unmarked and alone. */
	if (fork() == 0) {
		execve(self, argv, envp);
		_exit(127);
	}
	free(envp);
}

/* The step in a payload {"n":N,...}; -1 when there is none. */
static long
payload_n(const struct corral_tuple *cp)
{
	char buf[64];
	size_t len;
	const char *p;

	if (cp->data == NULL)
		return -1;
	len = cp->len < sizeof(buf) - 1 ? cp->len : sizeof(buf) - 1;
	memcpy(buf, cp->data, len);
	buf[len] = '\0';
	if ((p = strstr(buf, "\"n\":")) == NULL)
		return -1;
	return strtol(p + 4, NULL, 10);
}

static int
step(struct corral_worker *w, long n)
{
	char state[256];
	int len, rc;

	len = snprintf(state, sizeof(state), "{\"n\":%ld,\"run\":\"%s\"}", n,
	    run_id);
	if ((rc = corral_worker_checkpoint(w, state, (size_t)len, NULL, NULL,
	    0)) != 0) {
		journal("ckfail", n, "rc=%d", rc);
		fprintf(stderr, "agent: cannot checkpoint step %ld: %s\n", n,
		    corral_strerror(rc));
	}
	return rc;
}

static void
flood(long lines, long n)
{
	long i;

	for (i = 0; i < lines; i++)
		printf("flood %ld line %ld: the quick brown fox jumps over the "
		    "lazy dog\n", n, i);
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr, "usage: agent [--pace MS] [--slow-stop MS] "
	    "[--ignore-stop] [--children K] [--escape] [--flood LINES] "
	    "[--quiet]\n");
}

static struct corral_worker *the_worker;

static void
free_worker(void)
{
	corral_worker_free(the_worker);
	the_worker = NULL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pace", required_argument, NULL, 'p' },
		{ "slow-stop", required_argument, NULL, 's' },
		{ "ignore-stop", no_argument, NULL, 'i' },
		{ "children", required_argument, NULL, 'k' },
		{ "escape", no_argument, NULL, 'e' },
		{ "flood", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "grandchild", no_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	struct corral_worker_opts wo;
	struct corral_worker *w;
	const struct corral_tuple *cp;
	struct sigaction sa;
	const char *why, *s;
	long pace = 20, slow_stop = 0, children = 0, flood_lines = 0, n = 0;
	bool ignore_stop = false, escape = false, quiet = false, gc = false;
	int ch, rc, sig;
	size_t i;

	if ((s = getenv("CHAOS_DEADLINE_MS")) != NULL)
		deadline_ms = strtoll(s, NULL, 10);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			pace = strtol(optarg, NULL, 10);
			break;
		case 's':
			slow_stop = strtol(optarg, NULL, 10);
			break;
		case 'i':
			ignore_stop = true;
			break;
		case 'k':
			children = strtol(optarg, NULL, 10);
			break;
		case 'e':
			escape = true;
			break;
		case 'f':
			flood_lines = strtol(optarg, NULL, 10);
			break;
		case 'q':
			quiet = true;
			break;
		case 'g':
			gc = true;
			break;
		default:
			usage();
			return 64;
		}
	}
	if (optind != argc || pace < 1 || slow_stop < 0 || children < 0 ||
	    flood_lines < 0) {
		usage();
		return 64;
	}
	if (gc)
		return grandchild(escape);

	snprintf(run_id, sizeof(run_id), "%s.%s:%ld:%llu",
	    getenv("CORRAL_AGENT") ? getenv("CORRAL_AGENT") : "alone",
	    getenv("CORRAL_INSTANCE") ? getenv("CORRAL_INSTANCE") : "0",
	    (long)getpid(), start_time());
	if ((s = getenv("CHAOS_JOURNAL")) != NULL) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s.%s.journal", s,
		    getenv("CORRAL_AGENT") ? getenv("CORRAL_AGENT") : "alone",
		    getenv("CORRAL_INSTANCE") ? getenv("CORRAL_INSTANCE") :
		    "0");
		journal_fd = open(path, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0644);
	}

	/* The harness's signals: a flag each, acted on between steps. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_want;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	for (sig = CHAOS_SIG(1); sig <= CHAOS_SIG(3); sig++)
		sigaction(sig, &sa, NULL);

	memset(&wo, 0, sizeof(wo));
	wo.no_signals = ignore_stop;
	if ((rc = corral_worker_init(&wo, &w, &why)) != 0) {
		fprintf(stderr, "agent: checkpoint database %s: %s\n",
		    getenv("CORRAL_CHECKPOINT_DB") ?
		    getenv("CORRAL_CHECKPOINT_DB") : "(memory)", why);
		return 78;
	}
	/* Every return frees it: a sanitized build judges leaks at exit. */
	the_worker = w;
	atexit(free_worker);
	sig = SIGTERM;
	if ((s = getenv("CORRAL_STOP_SIGNAL")) != NULL && atoi(s) > 0 &&
	    atoi(s) < NSIG && atoi(s) != SIGKILL && atoi(s) != SIGSTOP)
		sig = atoi(s);
	if (ignore_stop) {
		signal(sig, SIG_IGN);
		ignore_stops();
	} else {
		/* Journal the stop signal, then pass it to the SDK. */
		sigaction(sig, NULL, &sdk_stop);
		sa.sa_handler = on_stop_signal;
		sa.sa_flags = SA_RESTART;
		sigaction(sig, &sa, NULL);
	}
	rc = corral_worker_resume(w, &cp);
	if (rc != 0 && rc != CORRAL_NOTFOUND) {
		journal("start", -1, "resume_failed=%d", rc);
		fprintf(stderr, "agent: cannot resume: %s\n",
		    corral_strerror(rc));
		return 75;
	}
	if (rc == 0 && (n = payload_n(cp)) < 0) {
		journal("start", -1, "bad_payload=%s", cp->checkpoint_id);
		return 75;
	}
	cur_n = n;
	journal("start", n, "from=%s resume_env=%s", rc == 0 ?
	    cp->checkpoint_id : "-", getenv("CORRAL_RESUME_ID") != NULL ?
	    (*getenv("CORRAL_RESUME_ID") != '\0' ?
	    getenv("CORRAL_RESUME_ID") : "empty") : "unset");
	if (children > 0 || escape) {
		char self[4096];
		ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (len > 0) {
			self[len] = '\0';
			for (i = 0; i < (size_t)children; i++)
				spawn_grandchild(self, false);
			if (escape)
				spawn_grandchild(self, true);
		}
	}
	corral_worker_ready(w);

	while (!corral_worker_stopping(w)) {
		if (past_deadline()) {
			journal("deadline", n, NULL);
			return 0;
		}
		switch (want) {
		case 0:
			break;
		case SIGUSR1:
			journal("exit", n, "code=75");
			return 75;
		case SIGUSR2:
			journal("exit", n, "code=abort");
			abort();
		default:
			if (want == CHAOS_SIG(1)) {
				journal("exit", n, "code=64");
				return 64;
			}
			if (want == CHAOS_SIG(3)) {
				journal("exit", n, "code=1");
				return 1;
			}
			if (want == CHAOS_SIG(2)) {
				want = 0;
				flood(20000, n);
			}
			break;
		}
		nap(pace);
		if (corral_worker_stopping(w) || want != 0)
			continue; /* the step was cut short: not done */
		if (step(w, n + 1) != 0)
			return 75;
		cur_n = ++n;
		corral_worker_heartbeat(w);
		if (!quiet) {
			printf("step %ld\n", n);
			fflush(stdout);
		}
		if (flood_lines > 0)
			flood(flood_lines, n);
	}

	/* The stop signal came: a slow stop goes on for a while, talking. */
	journal("stop", n, "slow=%ld", slow_stop);
	if (slow_stop > 0) {
		long long end = mono_ms() + slow_stop;

		while (mono_ms() < end && !past_deadline()) {
			nap(pace < slow_stop ? pace : slow_stop);
			if (step(w, n + 1) != 0)
				return 75;
			cur_n = ++n;
			if (!quiet) {
				printf("stopping: step %ld\n", n);
				fflush(stdout);
			}
		}
	}
	if (step(w, n + 1) != 0)
		return 75;
	cur_n = ++n;
	journal("final", n, NULL);
	if (!quiet) {
		printf("stopped at %ld\n", n);
		fflush(stdout);
	}
	return 0;
}
