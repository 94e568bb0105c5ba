/*
 * spawn.c: start one run of a worker.  The child gets a clean process:
 * its cgroup when it has one, its own session and process group, default
 * signal handlers and an empty mask, only stdin, stdout and stderr open,
 * PDEATHSIG set.
 *
 * The child is made with clone(CLONE_VM | CLONE_VFORK), as glibc's
 * posix_spawn makes its own: it runs in corrald's memory, on a stack of
 * its own, while corrald waits until it has exec'd or died.  fork() would
 * copy corrald's page tables for each spawn, a cost that grows with the
 * fleet (docs/PERFORMANCE.md); posix_spawn itself cannot set PDEATHSIG,
 * rlimits, a cgroup or the supplementary groups.  Because the memory is
 * shared, the child touches nothing of corrald's but what is written for
 * it: no malloc, no stdio, no glibc wrapper that keeps state (raw
 * syscalls for the credentials, kill(getpid()) rather than raise()).  A
 * failed step is written to a report in corrald's memory before _exit, so
 * when clone returns corrald knows whether the exec happened.
 *
 * The child shares corrald's descriptor table too (CLONE_FILES) and makes
 * its own by copying only the first few entries (close_range with
 * CLOSE_RANGE_UNSHARE): a clone without CLONE_FILES, like fork, would copy
 * the whole table, some 40,000 entries at 10,000 workers, and the cost of
 * a spawn would grow with the fleet.  What the child needs is put in
 * those first entries beforehand: three slots, opened on /dev/null when
 * corrald starts, that hold the run's stdout and stderr pipes while it is
 * made.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "corrald.h"

extern char **environ;

/* The sanitizers' runtime knows nothing of a child on another stack. */
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined")))

#define CHILD_STACK (256 * 1024)

static uint64_t child_nofile; /* 0: leave RLIMIT_NOFILE alone */

/*
 * The child's stdin, stdout and stderr, at the lowest numbers free when
 * corrald started (close-on-exec, so a reexec'd image opens its own).
 * slot[0] is /dev/null for good; slot[1] and slot[2] are /dev/null
 * between spawns and a run's pipes while it is made.  -1: not open yet.
 */
static int slot[3] = { -1, -1, -1 };

int
spawn_init(void)
{
	int i;

	for (i = 0; i < 3; i++)
		if (slot[i] == -1 &&
		    (slot[i] = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
			return -1;
	return 0;
}

void
spawn_set_nofile(uint64_t soft)
{
	child_nofile = soft;
}

/* Append only: an image from before names its stages by these indexes. */
static const char *stages[] = { "exec", "chdir", "setgid", "setgroups",
	"setuid", "dup2", "open /dev/null", "setsid", "unshare descriptors",
	"env_file",
	/* ST_RLIMIT + k: setting the limit of key k (enum rlim_key) failed. */
	"limit_nofile", "limit_core", "limit_nproc", "limit_as", "limit_cpu",
	"limit_fsize", "limit_stack", "limit_memlock",
	/* ST_CGLIMIT + k: joining the cgroup of enum cgl_ctl k failed. */
	"join the memory_max cgroup", "join the cpu_quota cgroup" };

enum stage { ST_EXEC, ST_CHDIR, ST_SETGID, ST_GROUPS, ST_SETUID, ST_DUP2,
	ST_NULL, ST_SETSID, ST_FILES, ST_ENVFILE, ST_RLIMIT,
	ST_CGLIMIT = ST_RLIMIT + RL_N };

/* The resources of enum rlim_key, for the child: no call to look them up. */
static const int rlim_res[RL_N] = { RLIMIT_NOFILE, RLIMIT_CORE,
	RLIMIT_NPROC, RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_STACK,
	RLIMIT_MEMLOCK };

/* What the child needs, made by the parent; the child only reads it. */
struct child_args {
	const struct spawn_req *rq;
	int out[2][2];
	int last;            /* the highest of the slots */
	pid_t parent;
	const gid_t *groups; /* the user's, when rq->user is set */
	int ngroups;
	/* Written by the child when a step fails, read once it is gone. */
	int err;
	int stage;
};

static void __attribute__((noreturn)) CHILD_CODE
child_fail(struct child_args *ca, int stage)
{
	ca->err = errno;
	ca->stage = stage;
	_exit(127);
}

static int CHILD_CODE
child(void *arg)
{
	struct child_args *ca = arg;
	const struct spawn_req *rq = ca->rq;
	struct sigaction sa;
	sigset_t none;
	struct rlimit rl;
	int sig, fd, i;

	/*
	 * Into the run's cgroup first, so that nothing it forks is outside.
	 * A failure leaves the run in corrald's cgroup, contained by its
	 * process group, which is also what a later corrald searches.
	 */
	/*
	 * A table of our own before anything is opened or moved: the entries
	 * up to the slots are copied, nothing above is.  Without
	 * CLOSE_RANGE_UNSHARE (Linux before 5.9), a copy of the whole table.
	 */
	if (close_range((unsigned)ca->last + 1, ~0U, CLOSE_RANGE_UNSHARE) ==
	    -1 && unshare(CLONE_FILES) == -1)
		child_fail(ca, ST_FILES);
	if (rq->cgroup_procs != NULL &&
	    (fd = open(rq->cgroup_procs, O_WRONLY | O_CLOEXEC)) != -1) {
		ssize_t n __attribute__((unused)) = write(fd, "0", 1);
		close(fd);
	}
	/*
	 * Its memory_max and cpu_quota (cglimit.c): a run that cannot be
	 * held by them does not start.
	 */
	for (i = 0; i < 2; i++) {
		if (rq->limit_procs[i] == NULL)
			continue;
		if ((fd = open(rq->limit_procs[i], O_WRONLY | O_CLOEXEC)) == -1)
			child_fail(ca, ST_CGLIMIT + i);
		if (write(fd, "0", 1) != 1) {
			int e = errno;
			close(fd);
			errno = e;
			child_fail(ca, ST_CGLIMIT + i);
		}
		close(fd);
	}
	/* The table of handlers is the child's own copy (no CLONE_SIGHAND). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	/* An ignored SIGPIPE would survive exec: reset every disposition. */
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	if (setsid() == -1)
		child_fail(ca, ST_SETSID);

	/* dup2 clears close-on-exec on the copy. */
	for (i = 0; i < 3; i++)
		if (dup2(slot[i], i) == -1)
			child_fail(ca, ST_DUP2);
	/*
	 * corrald's own descriptors are close-on-exec; this also covers what
	 * corrald inherited from whoever started it.
	 */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
		int max = (int)sysconf(_SC_OPEN_MAX);
		for (fd = 3; fd < max && fd < 65536; fd++)
			close(fd);
	}

	if (child_nofile != 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = child_nofile;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/*
	 * The agent's limits, while the credentials may still raise a hard
	 * one (root only).  RLIMIT_NPROC counts the processes of the user the
	 * run becomes: the kernel checks it at exec.
	 */
	for (i = 0; rq->rlim != NULL && i < RL_N; i++) {
		if (!rq->rlim[i].set)
			continue;
		rl.rlim_cur = rq->rlim[i].soft == RLIM_VALUE_INFINITY ?
		    RLIM_INFINITY : (rlim_t)rq->rlim[i].soft;
		rl.rlim_max = rq->rlim[i].hard == RLIM_VALUE_INFINITY ?
		    RLIM_INFINITY : (rlim_t)rq->rlim[i].hard;
		if (setrlimit(rlim_res[i], &rl) == -1)
			child_fail(ca, ST_RLIMIT + i);
	}
	/* The worker's mode mask (umask is the child's own: no CLONE_FS). */
	if (rq->umask != -1)
		umask((mode_t)rq->umask);
	if (rq->directory != NULL && chdir(rq->directory) == -1)
		child_fail(ca, ST_CHDIR);
	/*
	 * glibc's setgid and setuid would signal corrald's other threads, if
	 * it had any, to change theirs too: the raw calls change the child's.
	 */
	if (rq->user != NULL) {
		if (syscall(SYS_setgid, rq->gid) == -1)
			child_fail(ca, ST_SETGID);
		if (syscall(SYS_setgroups, ca->ngroups, ca->groups) == -1)
			child_fail(ca, ST_GROUPS);
		if (syscall(SYS_setuid, rq->uid) == -1)
			child_fail(ca, ST_SETUID);
	}
	/* After any change of credentials, which clears it. */
	prctl(PR_SET_PDEATHSIG, rq->pdeath_signal);
	if (getppid() != ca->parent) /* corrald died before prctl */
		kill(getpid(), rq->pdeath_signal);
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
	/*
	 * execvp searches the PATH of the environment it finds in environ:
	 * the worker's.  corrald's own is put back when clone returns, before
	 * anything else of corrald runs.
	 */
	/* corrald could not make its environment: a start that fails. */
	if (rq->env_err != 0) {
		ca->err = rq->env_err;
		ca->stage = ST_ENVFILE;
		_exit(127);
	}
	environ = (char **)rq->envp;
	execvp(rq->argv[0], rq->argv);
	child_fail(ca, ST_EXEC);
}

/*
 * The child's stack: made once, kept for the life of the process (the
 * child is gone before the next spawn can use it).  Its lowest page is a
 * guard.
 */
static char *
child_stack(void)
{
	static char *stack;
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (stack != NULL)
		return stack;
	p = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (page > 0 && mprotect(p, (size_t)page, PROT_NONE) == -1) {
		munmap(p, CHILD_STACK);
		return NULL;
	}
	stack = p;
	return stack;
}

/* The run's pipes leave the slots: /dev/null there again. */
static void
slots_reset(void)
{
	int i;

	if (slot[0] == -1)
		return;
	for (i = 1; i < 3; i++)
		if (slot[i] != -1)
			(void)dup3(slot[0], slot[i], O_CLOEXEC);
}

int
spawn_run(const struct spawn_req *rq, struct spawn_res *res)
{
	struct child_args ca;
	gid_t some[64], *many = NULL;
	sigset_t all, old;
	char **env = environ, *stack;
	pid_t pid;
	int i, n, saved;

	memset(&ca, 0, sizeof(ca));
	ca.rq = rq;
	ca.parent = getpid();
	ca.stage = -1;
	for (i = 0; i < 2; i++)
		ca.out[i][0] = ca.out[i][1] = -1;
	/* NSS may read files and allocate: here, not in the child. */
	if (rq->user != NULL) {
		ca.groups = some;
		ca.ngroups = n = (int)(sizeof(some) / sizeof(some[0]));
		if (getgrouplist(rq->user, rq->gid, some, &ca.ngroups) == -1) {
			/* More than that: *ngroups says how many. */
			ca.groups = many = xcalloc((size_t)ca.ngroups,
			    sizeof(*many));
			n = ca.ngroups;
			if (getgrouplist(rq->user, rq->gid, many,
			    &ca.ngroups) == -1)
				ca.ngroups = n;
		}
	}
	if ((stack = child_stack()) == NULL || spawn_init() == -1)
		goto fail;
	ca.last = slot[0] > slot[1] ? slot[0] : slot[1];
	ca.last = ca.last > slot[2] ? ca.last : slot[2];
	for (i = 0; i < 2; i++) {
		if (rq->out[i] == OUT_NULL)
			continue;
		/*
		 * redirect_stderr: the write end of stdout's pipe in stderr's
		 * slot too, one pipe for both (or /dev/null for both).
		 */
		if (rq->out[i] == OUT_STDOUT) {
			if (ca.out[0][1] != -1 &&
			    dup3(ca.out[0][1], slot[2], O_CLOEXEC) == -1)
				goto fail;
			continue;
		}
		if (pipe2(ca.out[i], O_CLOEXEC) == -1)
			goto fail;
		/* Where the child finds it; the slot's /dev/null goes. */
		if (dup3(ca.out[i][1], slot[i + 1], O_CLOEXEC) == -1)
			goto fail;
	}

	/* No handler may run in the child before it resets them. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone(child, stack + CHILD_STACK,
	    CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &ca);
	saved = errno;
	environ = env;
	sigprocmask(SIG_SETMASK, &old, NULL);
	slots_reset();
	errno = saved;
	if (pid == -1)
		goto fail;
	free(many);

	res->pid = pid;
	res->err = ca.stage >= 0 ? ca.err : 0;
	res->stage = ca.stage >= 0 ? stages[ca.stage] : NULL;
	for (i = 0; i < 2; i++) {
		res->outfd[i] = ca.out[i][0];
		if (ca.out[i][1] != -1)
			close(ca.out[i][1]);
		if (ca.out[i][0] != -1)
			fcntl(ca.out[i][0], F_SETFL, O_NONBLOCK);
	}
	return 0;
fail:
	saved = errno;
	slots_reset();
	for (i = 0; i < 2; i++) {
		if (ca.out[i][0] != -1)
			close(ca.out[i][0]);
		if (ca.out[i][1] != -1)
			close(ca.out[i][1]);
	}
	free(many);
	errno = saved;
	return -1;
}

int
spawn_exec_pipe(int fd, int *err, const char **stage)
{
	struct { int err, stage; } r; /* what those images wrote */
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	/* Between fork and exec there is little to wait for. */
	if (poll(&p, 1, 1000) != 1)
		return 0;
	do
		n = read(fd, &r, sizeof(r));
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(r))
		return 0; /* EOF: it exec'd */
	*err = r.err;
	*stage = r.stage >= 0 && r.stage < (int)(sizeof(stages) /
	    sizeof(stages[0])) ? stages[r.stage] : "exec";
	return 1;
}
