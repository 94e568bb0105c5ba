/*
 * pidgone: wait until each given process has exited and been reaped (no
 * /proc entry left, so not a zombie either).  The exit is awaited on a
 * pidfd; the reaping, which is its parent's business, is then checked until
 * the deadline.  Exits 0 when all are gone, 1 on timeout.
 *
 * usage: pidgone [-x] TIMEOUT_MS PID...
 *   -x  exited is enough: a zombie counts as gone (for processes whose
 *       parent is not ours to hurry, such as init after corrald's death)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	long deadline;
	int i, exited_only = 0;

	if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'x') {
		exited_only = 1;
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: pidgone [-x] TIMEOUT_MS PID...\n");
		return 2;
	}
	deadline = now_ms() + strtol(argv[1], NULL, 10);
	for (i = 2; i < argc; i++) {
		char path[64];
		long pid = strtol(argv[i], NULL, 10);
		int fd = (int)syscall(SYS_pidfd_open, pid, 0);

		if (fd != -1) {
			struct pollfd p = { fd, POLLIN, 0 };
			long left = deadline - now_ms();
			/* Past the deadline it may still have exited: look. */
			if (poll(&p, 1, left > 0 ? (int)left : 0) != 1) {
				fprintf(stderr, "pidgone: pid %ld still "
				    "running\n", pid);
				return 1;
			}
			close(fd);
		} else if (errno != ESRCH) {
			perror("pidfd_open");
			return 2;
		}
		snprintf(path, sizeof(path), "/proc/%ld", pid);
		while (!exited_only && access(path, F_OK) == 0) {
			struct timespec d = { 0, 5000000 };
			if (now_ms() > deadline) {
				fprintf(stderr, "pidgone: pid %ld exited but "
				    "was not reaped (zombie)\n", pid);
				return 1;
			}
			nanosleep(&d, NULL);
		}
	}
	return 0;
}
