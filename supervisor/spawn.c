/*
 * spawn.c: fork and exec one run of a worker.  The child gets a clean
 * process: its cgroup when it has one, its own session and process group,
 * default signal handlers and an empty mask, only stdin, stdout and stderr
 * open, PDEATHSIG set.  If the
 * exec fails, the child writes the errno and the failing step to a
 * close-on-exec pipe, so the parent can tell a missing binary from a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "corrald.h"

extern char **environ;

static uint64_t child_nofile; /* 0: leave RLIMIT_NOFILE alone */

void
spawn_set_nofile(uint64_t soft)
{
	child_nofile = soft;
}

struct exec_report {
	int err;
	int stage; /* index into stages[] */
};

static const char *stages[] = { "exec", "chdir", "setgid", "initgroups",
	"setuid", "dup2", "open /dev/null", "setsid" };

/* Only async-signal-safe calls from here on: we are a forked child. */
static void __attribute__((noreturn))
child_fail(int fd, int stage)
{
	struct exec_report r = { errno, stage };
	ssize_t n __attribute__((unused));

	n = write(fd, &r, sizeof(r));
	_exit(127);
}

static void __attribute__((noreturn))
child(const struct spawn_req *rq, int out[2][2], int statusfd, pid_t parent)
{
	struct sigaction sa;
	sigset_t none;
	struct rlimit rl;
	int sig, nullfd, i;

	/*
	 * Into the run's cgroup first, so that nothing it forks is outside.
	 * A failure leaves the run in corrald's cgroup, contained by its
	 * process group, which is also what a later corrald searches.
	 */
	if (rq->cgroup_procs != NULL &&
	    (nullfd = open(rq->cgroup_procs, O_WRONLY | O_CLOEXEC)) != -1) {
		ssize_t n __attribute__((unused)) = write(nullfd, "0", 1);
		close(nullfd);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	/* An ignored SIGPIPE would survive exec: reset every disposition. */
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	if (setsid() == -1)
		child_fail(statusfd, 7);

	if ((nullfd = open("/dev/null", O_RDWR)) == -1)
		child_fail(statusfd, 6);
	if (dup2(nullfd, 0) == -1)
		child_fail(statusfd, 5);
	for (i = 0; i < 2; i++) {
		int fd = rq->out[i] == OUT_NULL ? nullfd : out[i][1];
		if (dup2(fd, i + 1) == -1)
			child_fail(statusfd, 5);
	}
	/*
	 * corrald's own descriptors are close-on-exec; this also covers what
	 * corrald inherited from whoever started it.
	 */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
		int fd, max = (int)sysconf(_SC_OPEN_MAX);
		for (fd = 3; fd < max && fd < 65536; fd++)
			if (fd != statusfd)
				close(fd);
	}

	if (child_nofile != 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = child_nofile;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rq->directory != NULL && chdir(rq->directory) == -1)
		child_fail(statusfd, 1);
	if (rq->user != NULL) {
		if (setgid(rq->gid) == -1)
			child_fail(statusfd, 2);
		if (initgroups(rq->user, rq->gid) == -1)
			child_fail(statusfd, 3);
		if (setuid(rq->uid) == -1)
			child_fail(statusfd, 4);
	}
	/* After any change of credentials, which clears it. */
	prctl(PR_SET_PDEATHSIG, rq->pdeath_signal);
	if (getppid() != parent) /* corrald died before prctl */
		raise(rq->pdeath_signal);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (rq->pid_slot != NULL) {
		/* Our own pid, known only now; digits by hand, no stdio. */
		char d[24], *at = strchr(rq->pid_slot, '=') + 1;
		long v = (long)getpid();
		int n = 0;
		do
			d[n++] = (char)('0' + v % 10);
		while ((v /= 10) > 0);
		while (n > 0)
			*at++ = d[--n];
		*at = '\0';
	}
	environ = (char **)rq->envp;
	execvp(rq->argv[0], rq->argv);
	child_fail(statusfd, 0);
}

int
spawn_run(const struct spawn_req *rq, struct spawn_res *res)
{
	int out[2][2] = { { -1, -1 }, { -1, -1 } }, st[2] = { -1, -1 };
	sigset_t all, old;
	pid_t pid, parent = getpid();
	int i, saved;

	for (i = 0; i < 2; i++) {
		if (rq->out[i] == OUT_NULL)
			continue;
		if (pipe2(out[i], O_CLOEXEC) == -1)
			goto fail;
	}
	if (pipe2(st, O_CLOEXEC) == -1)
		goto fail;

	/* No handler may run in the child before it resets them. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(st[0]);
		for (i = 0; i < 2; i++)
			if (out[i][0] != -1)
				close(out[i][0]);
		child(rq, out, st[1], parent);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	if (pid == -1)
		goto fail;

	close(st[1]);
	res->pid = pid;
	res->execfd = st[0];
	fcntl(st[0], F_SETFL, O_NONBLOCK);
	for (i = 0; i < 2; i++) {
		res->outfd[i] = out[i][0];
		if (out[i][1] != -1)
			close(out[i][1]);
		if (out[i][0] != -1)
			fcntl(out[i][0], F_SETFL, O_NONBLOCK);
	}
	return 0;
fail:
	saved = errno;
	for (i = 0; i < 2; i++) {
		if (out[i][0] != -1)
			close(out[i][0]);
		if (out[i][1] != -1)
			close(out[i][1]);
	}
	if (st[0] != -1)
		close(st[0]);
	if (st[1] != -1)
		close(st[1]);
	errno = saved;
	return -1;
}

int
spawn_exec_status(int fd, int *err, const char **stage)
{
	struct exec_report r;
	ssize_t n;

	do
		n = read(fd, &r, sizeof(r));
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return -1;
	if (n == (ssize_t)sizeof(r)) {
		*err = r.err;
		*stage = r.stage >= 0 &&
		    r.stage < (int)(sizeof(stages) / sizeof(stages[0])) ?
		    stages[r.stage] : "exec";
		return 1;
	}
	return 0; /* EOF: exec succeeded */
}
