/*
 * tworker: a worker for the end-to-end tests that misbehaves on demand.
 *
 * usage: tworker [-d DELAY_MS] MODE [ARG]
 *   exit CODE        exit with CODE (after DELAY_MS)
 *   signal SIG       kill itself with signal number SIG
 *   sleep            run until killed; exit 0 on SIGTERM
 *   ignore-term      ignore SIGTERM and SIGINT, run until killed
 *   grandchild FILE  fork a child that sleeps forever (same process group),
 *                    write its pid to FILE, then exit 1 after DELAY_MS
 *   escape FILE      the same, but the child leaves the group (setsid)
 *                    and the worker keeps running
 *   flood BYTES      write BYTES of numbered lines to stdout, then exit 0
 *   fds              print the open descriptors and what they are, exit 0
 *   count            print 1, 2, 3 ... one line a millisecond, forever
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
nap(long ms)
{
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&d, &d) == -1)
		;
}

static void
on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static void
write_pid(const char *file, pid_t pid)
{
	FILE *f = fopen(file, "w");

	if (f == NULL) {
		perror(file);
		exit(2);
	}
	fprintf(f, "%ld\n", (long)pid);
	fclose(f);
}

int
main(int argc, char **argv)
{
	long delay = 0;
	const char *mode;
	pid_t pid;

	if (argc > 2 && strcmp(argv[1], "-d") == 0) {
		delay = strtol(argv[2], NULL, 10);
		argv += 2;
		argc -= 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: tworker [-d DELAY_MS] MODE [ARG]\n");
		return 64;
	}
	mode = argv[1];
	if (strcmp(mode, "exit") == 0 && argc == 3) {
		nap(delay);
		return atoi(argv[2]);
	}
	if (strcmp(mode, "signal") == 0 && argc == 3) {
		nap(delay);
		signal(atoi(argv[2]), SIG_DFL);
		raise(atoi(argv[2]));
		return 99;
	}
	if (strcmp(mode, "sleep") == 0) {
		signal(SIGTERM, on_term);
		for (;;)
			pause();
	}
	if (strcmp(mode, "ignore-term") == 0) {
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		printf("ignoring SIGTERM\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if ((strcmp(mode, "grandchild") == 0 || strcmp(mode, "escape") == 0) &&
	    argc == 3) {
		int escape = strcmp(mode, "escape") == 0;
		if ((pid = fork()) == 0) {
			if (escape)
				setsid();
			signal(SIGTERM, SIG_IGN);
			for (;;)
				pause();
		}
		write_pid(argv[2], pid);
		if (escape) {
			signal(SIGTERM, on_term);
			for (;;)
				pause();
		}
		nap(delay);
		return 1;
	}
	if (strcmp(mode, "flood") == 0 && argc == 3) {
		long long total = atoll(argv[2]), done = 0, n = 0;
		char line[128];
		while (done < total) {
			int k = snprintf(line, sizeof(line), "flood line %lld "
			    "................................................\n",
			    n++);
			if (fwrite(line, 1, (size_t)k, stdout) != (size_t)k)
				return 3;
			done += k;
		}
		fflush(stdout);
		return 0;
	}
	if (strcmp(mode, "count") == 0) {
		unsigned long long i;
		signal(SIGTERM, on_term);
		for (i = 1;; i++) {
			printf("%llu\n", i);
			fflush(stdout);
			nap(1);
		}
	}
	if (strcmp(mode, "fds") == 0) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *e;
		char path[300], target[256];
		while ((e = readdir(d)) != NULL) {
			ssize_t n;
			if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
				continue;
			snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = '\0';
			printf("fd %s %s\n", e->d_name, target);
		}
		closedir(d);
		return 0;
	}
	fprintf(stderr, "tworker: unknown mode '%s'\n", mode);
	return 64;
}
