/*
 * waitlog: wait until a file has COUNT lines matching an extended regular
 * expression, woken by inotify as the file grows; give up after TIMEOUT_MS.
 * Exits 0 when found, 1 on timeout (printing how many matched), 2 on error.
 *
 * usage: waitlog FILE REGEX [COUNT [TIMEOUT_MS]]
 */
#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
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
	char *line = NULL, evbuf[4096];
	size_t cap = 0, partial_len = 0;
	char *partial = NULL;
	long count = 1, timeout = 10000, deadline, found = 0;
	regex_t re;
	FILE *f;
	int ino;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: waitlog FILE REGEX [COUNT [TIMEOUT_MS]]\n");
		return 2;
	}
	if (argc > 3)
		count = strtol(argv[3], NULL, 10);
	if (argc > 4)
		timeout = strtol(argv[4], NULL, 10);
	if (regcomp(&re, argv[2], REG_EXTENDED | REG_NOSUB) != 0) {
		fprintf(stderr, "waitlog: bad regex '%s'\n", argv[2]);
		return 2;
	}
	deadline = now_ms() + timeout;
	/* A file a background job is about to create may not be there yet. */
	while ((f = fopen(argv[1], "r")) == NULL) {
		struct timespec d = { 0, 20000000 };
		if (errno != ENOENT || now_ms() > deadline) {
			fprintf(stderr, "waitlog: %s: %s\n", argv[1],
			    strerror(errno));
			return 2;
		}
		nanosleep(&d, NULL);
	}
	if ((ino = inotify_init1(IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(ino, argv[1], IN_MODIFY) == -1) {
		fprintf(stderr, "waitlog: inotify: %s\n", strerror(errno));
		return 2;
	}
	for (;;) {
		ssize_t n;

		while ((n = getline(&line, &cap, f)) > 0) {
			/* A line still being written: keep it until its end. */
			if (line[n - 1] != '\n') {
				partial = realloc(partial, partial_len + (size_t)n + 1);
				memcpy(partial + partial_len, line, (size_t)n + 1);
				partial_len += (size_t)n;
				continue;
			}
			line[n - 1] = '\0'; /* so that '$' anchors at the end */
			if (partial_len > 0) {
				partial = realloc(partial, partial_len + (size_t)n + 1);
				memcpy(partial + partial_len, line, (size_t)n + 1);
				n = (ssize_t)(partial_len + (size_t)n);
				partial_len = 0;
				if (regexec(&re, partial, 0, NULL, 0) == 0)
					found++;
			} else if (regexec(&re, line, 0, NULL, 0) == 0)
				found++;
			if (found >= count)
				return 0;
		}
		clearerr(f);
		long left = deadline - now_ms();
		if (left <= 0) {
			fprintf(stderr, "waitlog: %ld of %ld lines matching '%s' "
			    "in %s after %ld ms\n", found, count, argv[2],
			    argv[1], timeout);
			return 1;
		}
		struct pollfd p = { ino, POLLIN, 0 };
		/* The wakeup is the event; the 500 ms cap only bounds a miss. */
		if (poll(&p, 1, left < 500 ? (int)left : 500) > 0)
			(void)!read(ino, evbuf, sizeof(evbuf));
	}
}
