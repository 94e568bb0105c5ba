/*
 * corralctl: tell corrald what to do, over its control socket.  One request
 * per connection; the reply's lines are tagged "= " (data, to stdout),
 * "+ " (done) or "- " (failed, to stderr).  See docs/CONTROL.md.
 *
 * Exit status: 0 done, 1 the operation failed, 2 usage, 3 corrald cannot be
 * reached, 4 corrald's answer made no sense.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
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
	    "  status [--json] [TARGET...]            workers, as a table or JSON\n"
	    "  start [--no-wait] TARGET...            start, wait until running\n"
	    "  stop [--no-wait] TARGET...             stop, and keep stopped\n"
	    "  restart [--no-wait] TARGET...          stop, then start\n"
	    "  signal SIGNAL TARGET...                send SIGNAL (TERM, HUP, 10) to runs\n"
	    "  reset AGENT|CLUSTER [--reason TEXT]    close a breaker\n"
	    "  history [-n N] AGENT[:N]               the last runs, their exits and chains\n"
	    "  checkpoints [-n N] AGENT[:N]           the thread's checkpoints, newest first\n"
	    "  events [-f] [-n N] [AGENT[:N]]         events as JSON lines; -f follows\n"
	    "  tail [-f] [-n N] [--stderr] AGENT[:N]  a worker's output; -f follows\n"
	    "  log [-f] [-n N]                        corrald's own log; -f follows\n"
	    "  reload                                 apply the fleet file again\n"
	    "  reexec                                 re-execute corrald in place (upgrade)\n"
	    "  shutdown                               stop every worker and corrald\n"
	    "  version                                corrald's version and pid\n"
	    "\n"
	    "TARGET is all, AGENT, AGENT:INSTANCE or CLUSTER.\n"
	    "The socket is -s SOCKET, else the control_socket of -c FILE, else\n"
	    "$CORRAL_SOCKET, else ./corrald.sock.\n");
}

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

static char *
socket_from_config(const char *file)
{
	struct config_errors errs;
	struct config *c;
	char *path;
	size_t i;

	if ((c = config_load(file, &errs)) == NULL) {
		for (i = 0; i < errs.msgs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs.v[i]);
		strv_free(&errs.msgs);
		return NULL;
	}
	strv_free(&errs.msgs);
	path = xstrdup(c->control_socket);
	config_free(c);
	return path;
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
	int ch, fd, i, rc = EXIT_PROTOCOL;
	bool status;

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
	if (sock != NULL)
		path = xstrdup(sock);
	else if (file != NULL) {
		if ((path = socket_from_config(file)) == NULL)
			return EXIT_BADUSE;
	} else if (getenv("CORRAL_SOCKET") != NULL)
		path = xstrdup(getenv("CORRAL_SOCKET"));
	else
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
	for (i = optind; i < argc; i++)
		put_word(f, argv[i]);
	fputc('\n', f);
	if (fflush(f) == EOF) {
		fprintf(stderr, "corralctl: cannot send to corrald at %s: %s\n",
		    path, strerror(errno));
		free(path);
		fclose(f);
		return EXIT_UNREACHABLE;
	}
	/* Views print only their data; orders print their outcome. */
	status = strcmp(argv[optind], "status") == 0 ||
	    strcmp(argv[optind], "events") == 0 ||
	    strcmp(argv[optind], "history") == 0 ||
	    strcmp(argv[optind], "checkpoints") == 0 ||
	    strcmp(argv[optind], "tail") == 0 ||
	    strcmp(argv[optind], "log") == 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n >= 2 && line[0] == '=' && line[1] == ' ') {
			/* Followers read us through pipes: a line at a time. */
			puts(line + 2);
			fflush(stdout);
			continue;
		}
		if (n >= 2 && line[0] == '+' && line[1] == ' ') {
			if (!status)
				puts(line + 2);
			rc = 0;
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
	free(line);
	free(path);
	fclose(f);
	return rc;
}
