/*
 * tworker: a worker for the end-to-end tests that misbehaves on demand.
 *
 * usage: tworker [-d DELAY_MS] MODE [ARG]
 *   exit CODE        exit with CODE (after DELAY_MS)
 *   signal SIG       kill itself with signal number SIG
 *   sleep            run until killed; exit 0 on SIGTERM
 *   ignore-term      ignore SIGTERM and SIGINT, run until killed
 *   slow-term FILE   write its pid to FILE, run until SIGTERM, then go on
 *                    DELAY_MS more (a worker finishing its step), exit 0
 *   grandchild FILE  fork a child that sleeps forever (same process group),
 *                    write its pid to FILE, then exit 1 after DELAY_MS
 *   escape FILE      the same, but the child leaves the group (setsid)
 *                    and the worker keeps running
 *   flood BYTES      write BYTES of numbered lines to stdout, then exit 0
 *   fds              print the open descriptors and what they are, exit 0
 *   count            print 1, 2, 3 ... one line a millisecond, forever
 *
 * The worker protocol (datagrams to $NOTIFY_SOCKET; "\n" in MSG is a
 * newline):
 *   ready            send READY=1 (after DELAY_MS), then run until killed
 *                    (0 on SIGTERM)
 *   ready-usr1       run until SIGUSR1, then send READY=1 and run until
 *                    killed (0 on SIGTERM)
 *   ready-die        send READY=1, exit 1 after DELAY_MS
 *   heartbeat MS     send READY=1, then WATCHDOG=1 every MS, forever
 *   hang             send READY=1 and one WATCHDOG=1, then go silent; on
 *                    SIGTERM, exit 0 (after DELAY_MS: a stop that lasts)
 *   report JSON CODE send CORRAL_ERROR=JSON, exit CODE after DELAY_MS
 *   say MSG...       send each MSG as one datagram, then run until killed
 *   repeat N MSG     send MSG N times, then run until killed
 *   send MSG         send MSG as one datagram and exit 0 (not a worker)
 *   forge PID        send READY=1 claiming to be PID (SCM_CREDENTIALS);
 *                    prints "sent" or "refused: REASON", exit 0
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
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

static volatile sig_atomic_t termed;

static void
on_term_flag(int sig)
{
	(void)sig;
	termed = 1;
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

/* "\n" in s becomes a newline; in place. */
static char *
unescape(char *s)
{
	char *r = s, *w = s;

	for (; *r != '\0'; r++) {
		if (r[0] == '\\' && r[1] == 'n') {
			*w++ = '\n';
			r++;
		} else
			*w++ = *r;
	}
	*w = '\0';
	return s;
}

/* Send one datagram to $NOTIFY_SOCKET, as sd_notify does; forge: a pid to
 * claim (0: none).  0, or -1 with errno. */
static int
notify_pid(const char *msg, pid_t forge)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	struct iovec iov;
	struct msghdr mh;
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} cbuf;
	int fd, rc, saved;

	if (path == NULL || strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "tworker: no NOTIFY_SOCKET\n");
		exit(3);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	iov.iov_base = (void *)msg;
	iov.iov_len = strlen(msg);
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &sun;
	mh.msg_namelen = sizeof(sun);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (forge != 0) {
		struct cmsghdr *c;
		struct ucred cr = { forge, getuid(), getgid() };
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(cr));
		memcpy(CMSG_DATA(c), &cr, sizeof(cr));
	}
	rc = sendmsg(fd, &mh, MSG_NOSIGNAL) == -1 ? -1 : 0;
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static void
notify(const char *msg)
{
	if (notify_pid(msg, 0) == -1) {
		perror("tworker: sendmsg");
		exit(3);
	}
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
	if (strcmp(mode, "ready") == 0) {
		signal(SIGTERM, on_term);
		nap(delay);
		notify("READY=1");
		for (;;)
			pause();
	}
	if (strcmp(mode, "ready-usr1") == 0) {
		sigset_t set;
		int sig;
		signal(SIGTERM, on_term);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		while (sigwait(&set, &sig) != 0)
			;
		notify("READY=1");
		for (;;)
			pause();
	}
	if (strcmp(mode, "ready-die") == 0) {
		notify("READY=1");
		nap(delay);
		return 1;
	}
	if (strcmp(mode, "heartbeat") == 0 && argc == 3) {
		long ms = strtol(argv[2], NULL, 10);
		signal(SIGTERM, on_term);
		notify("READY=1");
		for (;;) {
			nap(ms);
			notify("WATCHDOG=1");
		}
	}
	if (strcmp(mode, "hang") == 0) {
		sigset_t term, old;
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_BLOCK, &term, &old);
		signal(SIGTERM, on_term_flag);
		notify("READY=1");
		notify("WATCHDOG=1");
		while (!termed)
			sigsuspend(&old);
		nap(delay);
		return 0;
	}
	if (strcmp(mode, "report") == 0 && argc == 4) {
		char *m;
		if (asprintf(&m, "CORRAL_ERROR=%s", argv[2]) == -1)
			return 2;
		notify(m);
		free(m);
		nap(delay);
		return atoi(argv[3]);
	}
	if (strcmp(mode, "say") == 0 && argc >= 3) {
		int k;
		signal(SIGTERM, on_term);
		for (k = 2; k < argc; k++)
			notify(unescape(argv[k]));
		for (;;)
			pause();
	}
	if (strcmp(mode, "repeat") == 0 && argc == 4) {
		long k, n = strtol(argv[2], NULL, 10);
		const char *m = unescape(argv[3]);
		signal(SIGTERM, on_term);
		for (k = 0; k < n; k++)
			notify(m);
		for (;;)
			pause();
	}
	if (strcmp(mode, "send") == 0 && argc == 3) {
		notify(unescape(argv[2]));
		return 0;
	}
	if (strcmp(mode, "forge") == 0 && argc == 3) {
		if (notify_pid("READY=1", (pid_t)atol(argv[2])) == -1)
			printf("refused: %s\n", strerror(errno));
		else
			printf("sent\n");
		return 0;
	}
	if (strcmp(mode, "sleep") == 0) {
		signal(SIGTERM, on_term);
		for (;;)
			pause();
	}
	if (strcmp(mode, "slow-term") == 0 && argc == 3) {
		sigset_t term, old;
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_BLOCK, &term, &old);
		signal(SIGTERM, on_term_flag);
		write_pid(argv[2], getpid());
		while (!termed)
			sigsuspend(&old);
		nap(delay);
		return 0;
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
