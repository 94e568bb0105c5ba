/*
 * bench_worker.c: the worker of bench_spawn, run both by corrald and by
 * the bare posix_spawn loop it is compared with.  As little as a process
 * can do, so that what is measured is the supervisor: no libcorral, no
 * stdio, a few system calls.
 *
 * usage: bench_worker respawn|wait [line]
 *
 *   On start it sends "S PID NS" (NS: CLOCK_MONOTONIC, nanoseconds) as one
 *   datagram to the Unix socket named by $BENCH_SOCK; with "line" it then
 *   writes one line to stdout (so that file logging has work to do).
 *   respawn: lives 2 ms, then sends "E PID NS" and exits 0.  The 2 ms
 *            keep it out of corrald's throttle (a clean run shorter than
 *            backoff_initial, 1 ms in the bench's fleet, waits that long
 *            before its restart): what is measured is the spawn path,
 *            not that policy.
 *   wait:    waits until killed.
 *
 *   $BENCH_PARENT (the bare loop sets it to its own pid): die with that
 *   parent, so that no child of a crashed bench outlives it; under corrald
 *   the run's parent-death signal does that already.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int sock = -1;
static struct sockaddr_un addr;

/* Formats "K PID NS" without stdio; returns its length. */
static size_t
stamp(char *buf, char kind)
{
	struct timespec t;
	unsigned long long v[2];
	size_t n = 0;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t);
	v[0] = (unsigned long long)getpid();
	v[1] = (unsigned long long)t.tv_sec * 1000000000ULL +
	    (unsigned long long)t.tv_nsec;
	buf[n++] = kind;
	for (i = 0; i < 2; i++) {
		char d[24];
		size_t k = 0;

		do {
			d[k++] = (char)('0' + v[i] % 10);
			v[i] /= 10;
		} while (v[i] != 0);
		buf[n++] = ' ';
		while (k > 0)
			buf[n++] = d[--k];
	}
	return n;
}

static void
report(char kind)
{
	char buf[64];
	size_t n = stamp(buf, kind);

	/* Blocking: a full queue at the bench makes us wait, not vanish. */
	(void)sendto(sock, buf, n, 0, (struct sockaddr *)&addr, sizeof(addr));
}

int
main(int argc, char **argv)
{
	const char *path = getenv("BENCH_SOCK");
	const char *parent = getenv("BENCH_PARENT");
	static const char line[] = "bench_worker: started\n";
	int respawn;

	if (argc < 2 || path == NULL || strlen(path) >= sizeof(addr.sun_path))
		_exit(64);
	respawn = strcmp(argv[1], "respawn") == 0;
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock == -1)
		_exit(71);
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	report('S');
	if (argc > 2 && strcmp(argv[2], "line") == 0)
		(void)write(1, line, sizeof(line) - 1);
	if (respawn) {
		struct timespec live = { 0, 2000000 };

		while (nanosleep(&live, &live) == -1)
			;
		report('E');
		_exit(0);
	}
	if (parent != NULL) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != (pid_t)atol(parent))
			_exit(0);
	}
	for (;;)
		pause();
}
