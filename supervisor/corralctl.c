/*
 * corralctl: tell corrald what to do, over its control socket.  One request
 * per connection; the reply's lines are tagged "= " (data, to stdout),
 * "+ " (done) or "- " (failed, to stderr).  See docs/CONTROL.md.
 *
 * Exit status: 0 done, 1 the operation failed, 2 usage, 3 corrald cannot be
 * reached (and, for status, what it names is not running), 4 corrald's
 * answer made no sense.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corrald.h"

#define EXIT_FAILED 1
#define EXIT_BADUSE 2
#define EXIT_UNREACHABLE 3
#define EXIT_PROTOCOL 4

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: corralctl [-s SOCKET | -c FILE] COMMAND [ARG...]\n"
	    "\n"
	    "  status [--json] [--state STATE,...] [TARGET...]\n"
	    "                                         workers, as a table or JSON\n"
	    "  start [--no-wait] TARGET...            start, wait until running\n"
	    "  stop [--no-wait] TARGET...             stop, and keep stopped\n"
	    "  restart [--no-wait] TARGET...          stop, then start\n"
	    "  restart --rolling [--timeout DURATION] [--no-wait] AGENT\n"
	    "                                         one instance at a time, each up\n"
	    "                                         before the next goes\n"
	    "  scale AGENT N                          run N instances (until a reload)\n"
	    "  signal SIGNAL TARGET...                send SIGNAL (TERM, HUP, 10) to runs\n"
	    "  reset AGENT|CLUSTER [--reason TEXT]    close a breaker\n"
	    "  history [-n N] AGENT[:N]               the last runs, their exits and chains\n"
	    "  checkpoints [-n N] AGENT[:N]           the thread's checkpoints, newest first\n"
	    "  events [-f] [-n N] [AGENT[:N]]         events as JSON lines; -f follows\n"
	    "  tail [-f] [-n N] [--stderr | --all-streams] [TARGET...]\n"
	    "                                         workers' output; -f follows\n"
	    "  log [-f] [-n N]                        corrald's own log; -f follows\n"
	    "  reload [--dry-run]                     apply the fleet file again (or show what it would change)\n"
	    "  reexec                                 re-execute corrald in place (upgrade)\n"
	    "  shutdown                               stop every worker and corrald\n"
	    "  version                                corrald's version and pid\n"
	    "  is-active [TARGET...]                  active (exit 0) if every one runs\n"
	    "  is-failed [TARGET...]                  failed (exit 0) if one has failed\n"
	    "\n"
	    "TARGET is all, AGENT, AGENT:INSTANCE or CLUSTER.  STATE is a state\n"
	    "as status shows it (running, backoff, fatal, ...), held or failed.\n"
	    "status with targets or --state exits 3 when a target is not running\n"
	    "or nothing matched.  The socket is -s SOCKET, else that of the fleet\n"
	    "file -c FILE, else $CORRAL_SOCKET, else that of $CORRAL_CONFIG, else\n"
	    "./corrald.sock.\n");
}

/* is-active and is-failed's request, for corralctl's life. */
static const char **is_request;

/* Quote a word so that corrald's shell-like splitter gives it back. */
static void
put_word(FILE *f, const char *w)
{
	fputs(" '", f);
	for (; *w != '\0'; w++) {
		if (*w == '\'')
			fputs("'\\''", f);
		else
			fputc(*w, f);
	}
	fputc('\'', f);
}

/*
 * The control socket of the fleet file, resolved in the current directory
 * as corrald started there would resolve it.  Caller frees; NULL with the
 * file's errors printed, unless quiet.
 */
static char *
socket_here(const char *file, bool quiet)
{
	struct config_errors errs;
	struct config *c;
	char *path;
	size_t i;

	if ((c = config_load(file, &errs)) == NULL) {
		for (i = 0; i < errs.msgs.n && !quiet; i++)
			fprintf(stderr, "%s\n", errs.msgs.v[i]);
		strv_free(&errs.msgs);
		return NULL;
	}
	strv_free(&errs.msgs);
	path = xstrdup(c->control_socket);
	config_free(c);
	return path;
}

/*
 * The file a corrald's command line names with -c FILE, -cFILE,
 * --config FILE or --config=FILE; args holds n NUL-ended words.
 */
static const char *
config_arg(const char *args, size_t n)
{
	const char *a = args, *end = args + n, *prev = NULL, *base;

	base = strrchr(a, '/') != NULL ? strrchr(a, '/') + 1 : a;
	if (strcmp(base, "corrald") != 0)
		return NULL;
	for (a += strlen(a) + 1; a < end; prev = a, a += strlen(a) + 1) {
		if (prev != NULL && (strcmp(prev, "-c") == 0 ||
		    strcmp(prev, "--config") == 0))
			return a;
		if (strncmp(a, "--config=", 9) == 0)
			return a + 9;
		if (strncmp(a, "-c", 2) == 0 && a[2] != '\0')
			return a + 2;
	}
	return NULL;
}

/*
 * A relative control_socket or run_dir (or none) is relative to the
 * directory corrald runs in, which need not be ours: find a corrald of
 * our user that runs this very file (same device and inode) and resolve
 * the file in its directory (/proc/PID/cwd).  The socket, if one is
 * there (caller frees), or NULL.
 */
static char *
socket_of_running(const char *file)
{
	char proc[300], link[PATH_MAX + 300], args[8192], *abs, *path = NULL;
	struct stat want, st;
	struct dirent *de;
	const char *arg;
	ssize_t n;
	DIR *d;
	int fd, here;

	if (stat(file, &want) == -1 || (abs = realpath(file, NULL)) == NULL)
		return NULL;
	if ((d = opendir("/proc")) == NULL) {
		free(abs);
		return NULL;
	}
	here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	while (path == NULL && here != -1 && (de = readdir(d)) != NULL) {
		if (strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		/* Another user's process could name any file, and make us
		 * talk to a socket of its own. */
		snprintf(proc, sizeof(proc), "/proc/%s", de->d_name);
		if (stat(proc, &st) == -1 || st.st_uid != geteuid())
			continue;
		snprintf(proc, sizeof(proc), "/proc/%s/cmdline", de->d_name);
		if ((fd = open(proc, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, args, sizeof(args) - 1);
		close(fd);
		if (n <= 0)
			continue;
		args[n] = '\0';
		if ((arg = config_arg(args, (size_t)n)) == NULL)
			continue;
		if (arg[0] == '/')
			snprintf(link, sizeof(link), "%s", arg);
		else
			snprintf(link, sizeof(link), "/proc/%s/cwd/%s",
			    de->d_name, arg);
		if (stat(link, &st) == -1 || st.st_dev != want.st_dev ||
		    st.st_ino != want.st_ino)
			continue;
		snprintf(proc, sizeof(proc), "/proc/%s/cwd", de->d_name);
		if (chdir(proc) == -1)
			continue;
		path = socket_here(abs, true);
		if (fchdir(here) == -1) {
			fprintf(stderr, "corralctl: cannot return to the "
			    "current directory: %s\n", strerror(errno));
			exit(EXIT_BADUSE);
		}
		if (path != NULL && (stat(path, &st) == -1 ||
		    !S_ISSOCK(st.st_mode))) {
			free(path);
			path = NULL;
		}
	}
	if (here != -1)
		close(here);
	closedir(d);
	free(abs);
	return path;
}

/*
 * The socket named by a fleet file: that of the corrald running it, or
 * as corrald started in the current directory would have it.  NULL, with
 * the file's errors printed, when it does not load.
 */
static char *
socket_from_config(const char *file)
{
	char *path;

	if ((path = socket_here(file, false)) == NULL)
		return NULL;
	free(path);
	if ((path = socket_of_running(file)) != NULL)
		return path;
	return socket_here(file, true);
}

/* An environment variable, NULL when unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_un sun;
	const char *sock = NULL, *file = NULL;
	char *path, *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	const char **req, *is = NULL;
	int ch, fd, i, nreq, rc = EXIT_PROTOCOL;
	bool status, asked = false, filtered = false;

	log_init(LOG_LVL_WARN, "corralctl");
	/* '+' stops at the command: its own options are corrald's to judge. */
	while ((ch = getopt_long(argc, argv, "+s:c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_BADUSE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_BADUSE;
	}
	req = (const char **)argv + optind;
	nreq = argc - optind;
	/*
	 * is-active and is-failed, as systemctl has them: a status of the
	 * targets (none: all), only the verdict printed, its exit status.
	 */
	if (strcmp(req[0], "is-active") == 0 ||
	    strcmp(req[0], "is-failed") == 0) {
		const char **v = xcalloc((size_t)nreq + 3, sizeof(*v));
		int k = 0;

		is = req[0] + 3;
		v[k++] = "status";
		if (strcmp(is, "failed") == 0) {
			v[k++] = "--state";
			v[k++] = "failed";
		}
		for (i = 1; i < nreq; i++) {
			if (req[i][0] == '-') {
				fprintf(stderr, "corralctl: usage: %s "
				    "[TARGET...]\n", req[0]);
				free(v);
				return EXIT_BADUSE;
			}
			v[k++] = req[i];
		}
		if (nreq == 1)
			v[k++] = "all";
		req = is_request = v;
		nreq = k;
	}
	/* -s, -c, $CORRAL_SOCKET, $CORRAL_CONFIG, ./corrald.sock. */
	if (sock == NULL && file == NULL && (sock = env("CORRAL_SOCKET")) ==
	    NULL)
		file = env("CORRAL_CONFIG");
	if (sock != NULL)
		path = xstrdup(sock);
	else if (file != NULL) {
		if ((path = socket_from_config(file)) == NULL)
			return EXIT_BADUSE;
	} else
		path = xstrdup("corrald.sock");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "corralctl: socket path %s is too long\n", path);
		free(path);
		return EXIT_BADUSE;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "corralctl: cannot reach corrald at %s: %s\n",
		    path, strerror(errno));
		free(path);
		return EXIT_UNREACHABLE;
	}
	if ((f = fdopen(fd, "r+")) == NULL) {
		fprintf(stderr, "corralctl: %s\n", strerror(errno));
		free(path);
		return EXIT_UNREACHABLE;
	}
	/* A status of 10,000 workers is megabytes: read it in large gulps. */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	fputs("corral/1", f);
	for (i = 0; i < nreq; i++)
		put_word(f, req[i]);
	fputc('\n', f);
	if (fflush(f) == EOF) {
		fprintf(stderr, "corralctl: cannot send to corrald at %s: %s\n",
		    path, strerror(errno));
		free(path);
		fclose(f);
		return EXIT_UNREACHABLE;
	}
	/* Views print only their data; orders print their outcome. */
	/* status names workers (asked) or filters them: see its exit. */
	if (strcmp(req[0], "status") == 0)
		for (i = 1; i < nreq; i++) {
			if (strcmp(req[i], "--state") == 0 ||
			    strncmp(req[i], "--state=", 8) == 0) {
				filtered = true;
				i += req[i][7] == '\0';
			} else if (strcmp(req[i], "--json") != 0)
				asked = true;
		}
	status = strcmp(req[0], "status") == 0 ||
	    strcmp(req[0], "events") == 0 ||
	    strcmp(req[0], "history") == 0 ||
	    strcmp(req[0], "checkpoints") == 0 ||
	    strcmp(req[0], "tail") == 0 ||
	    strcmp(req[0], "log") == 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n >= 2 && line[0] == '=' && line[1] == ' ') {
			if (is != NULL)
				continue;
			/* Followers read us through pipes: a line at a time. */
			puts(line + 2);
			fflush(stdout);
			continue;
		}
		if (n >= 2 && line[0] == '+' && line[1] == ' ') {
			if (!status)
				puts(line + 2);
			rc = 0;
			if (strcmp(req[0], "status") == 0)
				rc = ctl_status_exit(asked, filtered, line + 2);
			if (is != NULL)
				printf("%s%s\n", rc == 0 ? "" : strcmp(is, "active") ==
				    0 ? "in" : "not ", is);
		} else if (n >= 2 && line[0] == '-' && line[1] == ' ') {
			fprintf(stderr, "corralctl: %s\n", line + 2);
			rc = EXIT_FAILED;
		} else
			fprintf(stderr, "corralctl: unexpected reply from "
			    "corrald: %s\n", line);
		break;
	}
	if (rc == EXIT_PROTOCOL && n <= 0)
		fprintf(stderr, "corralctl: corrald at %s closed the connection "
		    "without an answer\n", path);
	free(is_request);
	free(line);
	free(path);
	fclose(f);
	return rc;
}
