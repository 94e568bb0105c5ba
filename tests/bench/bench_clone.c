/*
 * bench_clone: what one spawn costs the spawning process, by the way it
 * is made, as the spawner grows.  Each way starts the same static worker
 * (exit_now, which exits at once) and reaps it, N times in a row; the
 * figure is the wall time per spawn and the spawner's own CPU time per
 * spawn (what corrald would pay), at a small and at a large resident
 * size (the heap touched page by page, as a long-running corrald's is).
 *
 *   fork          fork, then execve in the child (corrald before 0.9)
 *   clone-vfork   clone(CLONE_VM | CLONE_VFORK) on a stack of its own,
 *                 then execve (corrald's spawn.c)
 *   posix_spawn   glibc's posix_spawn, which is clone-vfork inside, but
 *                 cannot set PDEATHSIG, rlimits or groups
 *   via helper    posix_spawn of a small static helper that would do
 *                 those and then execs the worker: two execs a spawn
 *
 * Usage: bench_clone SCRATCH_DIR (unused; the benches share a calling
 * convention).  Figures, not verdicts: nothing here fails.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define N 1000
#define N_BIG 200 /* fork at 512 MiB is slow: fewer */
#define STACK (64 * 1024)

static char *worker, *helper;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
}

static pid_t
by_fork(void)
{
	char *argv[] = { worker, NULL };
	pid_t pid = fork();

	if (pid == 0) {
		execve(worker, argv, environ);
		_exit(127);
	}
	return pid;
}

static int
child(void *arg)
{
	char *argv[] = { arg, NULL };

	execve(arg, argv, environ);
	_exit(127);
}

static pid_t
by_clone(void)
{
	static char *stack;

	if (stack == NULL && (stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return clone(child, stack + STACK, CLONE_VM | CLONE_VFORK | SIGCHLD,
	    worker);
}

static pid_t
by_posix_spawn(void)
{
	char *argv[] = { worker, NULL };
	pid_t pid;

	return posix_spawn(&pid, worker, NULL, NULL, argv, environ) == 0 ?
	    pid : -1;
}

static pid_t
by_helper(void)
{
	char *argv[] = { helper, worker, NULL };
	pid_t pid;

	return posix_spawn(&pid, helper, NULL, NULL, argv, environ) == 0 ?
	    pid : -1;
}

static void
measure(const char *name, pid_t (*spawn)(void), const char *size, int n)
{
	double t0, c0, wall, cpu;
	pid_t pid;
	int i;

	t0 = now_s();
	c0 = self_cpu_s();
	for (i = 0; i < n; i++) {
		if ((pid = spawn()) == -1) {
			perror(name);
			exit(1);
		}
		reap(pid);
	}
	wall = (now_s() - t0) / n * 1e6;
	cpu = (self_cpu_s() - c0) / n * 1e6;
	printf("  %-12s %-8s %8.0f us %8.0f us\n", name, size, wall, cpu);
}

int
main(int argc, char **argv)
{
	static const size_t big = (size_t)512 << 20;
	char *dir, *heap;
	int round;

	(void)argc;
	/* The workers sit beside this binary. */
	dir = strdup(argv[0]);
	if (strrchr(dir, '/') != NULL)
		*strrchr(dir, '/') = '\0';
	else
		strcpy(dir, ".");
	if (asprintf(&worker, "%s/exit_now", dir) == -1 ||
	    asprintf(&helper, "%s/exec_helper", dir) == -1)
		return 1;
	printf("bench_clone: one spawn and reap of a static worker, %d times "
	    "a way (%d at 512 MiB; wall per spawn, spawner's CPU per spawn)\n",
	    N, N_BIG);
	printf("  %-12s %-8s %11s %11s\n", "way", "spawner", "wall", "cpu");
	for (round = 0; round < 2; round++) {
		const char *size = round == 0 ? "small" : "512 MiB";
		if (round == 1) {
			/* Touched, so fork has its page tables to copy. */
			if ((heap = malloc(big)) == NULL)
				return 1;
			memset(heap, 1, big);
		}
		int n = round == 0 ? N : N_BIG;
		measure("fork", by_fork, size, n);
		measure("clone-vfork", by_clone, size, n);
		measure("posix_spawn", by_posix_spawn, size, n);
		measure("via helper", by_helper, size, n);
	}
	free(dir);
	free(worker);
	free(helper);
	return 0;
}
