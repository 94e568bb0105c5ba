/*
 * corrald.c: main, the event loop and the signals.  Everything corrald does
 * after start-up happens in a callback of the one event_base made here.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: corrald -c FILE [--log-level LEVEL]\n"
	    "       corrald --check FILE\n"
	    "\n"
	    "  -c, --config FILE    run the fleet in FILE, in the foreground\n"
	    "  -n, --check FILE     check FILE, print the resolved configuration\n"
	    "  -l, --log-level LVL  error, warn, info (default) or debug\n"
	    "  -V, --version        print the version\n"
	    "  -h, --help           this help\n");
}

struct daemon {
	struct config *conf; /* borrowed: the fleet owns it */
	int resume_fd;       /* -1, or the state of a reexec to take over */
	struct event_base *base;
	struct fleet *fleet;
	struct statedb *db;
	struct control *ctl;
	struct nsock *nsock;
	struct http *http;
	struct event *sig[4];
};

static void
on_started(struct fleet *f)
{
	struct worker *w;
	size_t up = f->live;
	char msg[96];

	/* Not those a reexec found unconfigured: they are being stopped. */
	LIST_FOREACH(w, &f->retiring, retire_entry)
		if (w->pid != 0)
			up--;
	log_info("%zu of %zu workers started; ready", up, f->nworkers);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%zu workers running", up);
	notify_send(msg);
}

/* The path corrald was started from: a reexec runs what is there now. */
static char exe_path[4096];

static int
do_reexec(void *arg, int replyfd, char *why, size_t len)
{
	struct daemon *d = arg;
	struct reexec_fds fds;
	int rc;

	fds.lock = statedb_lockfd(d->db);
	fds.listen = control_listen_fd(d->ctl);
	fds.reply = replyfd;
	fds.notify = nsock_fd(d->nsock);
	notify_send("RELOADING=1");
	rc = reexec(d->fleet, exe_path, d->fleet->conf->path,
	    log_pinned_level(), &fds, why, len);
	notify_send("READY=1");
	return rc;
}

static void
on_idle(struct fleet *f)
{
	log_info("all workers stopped");
	event_base_loopbreak(f->base);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	switch (sig) {
	case SIGCHLD:
		fleet_reap(d->fleet);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		notify_send("STOPPING=1");
		fleet_shutdown(d->fleet);
		break;
	case SIGHUP: {
		struct config_errors errs;
		char summary[256];

		log_info("received SIGHUP: reloading");
		if (fleet_reload_file(d->fleet, &errs, summary,
		    sizeof(summary)) == -1)
			strv_free(&errs.msgs);
		break;
	}
	}
}

static int
make_dir(const char *path, const char *what)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			log_warn("cannot create %s %s", what, p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, 0755) == -1 && errno != EEXIST) {
		log_warn("cannot create %s %s", what, p);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

static struct config *
load(const char *path)
{
	struct config_errors errs;
	struct config *c;
	size_t i;

	c = config_load(path, &errs);
	for (i = 0; i < errs.msgs.n; i++)
		fprintf(stderr, "%s%s\n", log_journal_prefix(LOG_LVL_ERROR),
		    errs.msgs.v[i]);
	if (c == NULL)
		fprintf(stderr, "%s%s: %zu error%s; nothing started\n",
		    log_journal_prefix(LOG_LVL_ERROR), path, errs.msgs.n,
		    errs.msgs.n == 1 ? "" : "s");
	strv_free(&errs.msgs);
	return c;
}

/* A daemon event: what is "start", "reexec" or "stop"; detail is copied. */
static void
record_daemon(struct statedb *db, const char *what, const char *detail)
{
	struct db_event e;

	memset(&e, 0, sizeof(e));
	e.kind = EV_DAEMON;
	e.time_ms = now_wall_ms();
	e.instance = -1;
	e.pid = getpid();
	e.code = e.sig = e.err = -1;
	e.start_failure = -1;
	e.state = what;
	e.detail = detail != NULL ? xstrdup(detail) : NULL;
	statedb_add(db, &e);
}

/*
 * Log and record how this start follows the last corrald on the database
 * (a reexec says so itself).  The record is written at once, before any
 * worker is spawned: a corrald that dies from here on leaves "start" as
 * the last daemon event, which the next one reads as an unplanned death.
 */
static void
record_start(struct statedb *db, const char *path)
{
	enum start_kind k;
	char *detail;
	pid_t prev;

	k = statedb_start_kind(db, &prev);
	switch (k) {
	case START_FIRST:
		log_info("starting on a new state database %s", path);
		xasprintf(&detail, "first: a new state database");
		break;
	case START_CLEAN:
		log_info("starting after corrald pid %ld stopped",
		    (long)prev);
		xasprintf(&detail, "clean: corrald pid %ld stopped",
		    (long)prev);
		break;
	case START_UNPLANNED:
		log_warnx("starting after an unplanned death of corrald pid "
		    "%ld (same boot)", (long)prev);
		xasprintf(&detail, "unplanned: corrald pid %ld died without "
		    "stopping (same boot)", (long)prev);
		break;
	case START_REBOOT:
		log_info("starting after a reboot of the host (corrald pid %ld "
		    "ran in an earlier boot)", (long)prev);
		xasprintf(&detail, "reboot: corrald pid %ld ran in an earlier "
		    "boot", (long)prev);
		break;
	case START_REEXEC:
	default:
		return;
	}
	record_daemon(db, "start", detail);
	free(detail);
	if (statedb_flush(db) == -1)
		log_warnx("this start is not written yet (retried): until it "
		    "is, a death of this corrald cannot be told at the next "
		    "start");
}

static int
run(struct config *conf, int resume_fd, uint64_t worker_nofile)
{
	struct reexec_fds fds;
	static const int sigs[4] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
	struct daemon d;
	struct event_config *ec;
	char *dbdir;
	int i, rc = 0;

	memset(&d, 0, sizeof(d));
	signal(SIGPIPE, SIG_IGN);
	/* From here on corrald's messages go there; a failure is said. */
	if (conf->log_file != NULL) {
		char *dir = xstrdup(conf->log_file);
		*strrchr(dir, '/') = '\0'; /* log_file is absolute */
		if (*dir != '\0')
			(void)make_dir(dir, "the directory of log_file");
		free(dir);
		(void)log_file_open(conf->log_file, conf->log_file_max_bytes,
		    conf->log_file_backups);
	}
	/* A failure is the first spawn's to report. */
	(void)spawn_init();
	limits_init(worker_nofile);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("cannot become a child subreaper; workers' orphans "
		    "will be reaped by init");
	dbdir = xstrdup(conf->state_db);
	*strrchr(dbdir, '/') = '\0'; /* state_db is absolute */
	if (make_dir(conf->run_dir, "run_dir") == -1 ||
	    make_dir(conf->log_dir, "log_dir") == -1 ||
	    (*dbdir != '\0' && make_dir(dbdir, "the directory of state_db") ==
	    -1)) {
		free(dbdir);
		config_free(conf);
		return 1;
	}

	free(dbdir);
	if ((ec = event_config_new()) == NULL)
		fatal("cannot create the event loop");
	/*
	 * Timers on the monotonic clock, so that a step of the wall clock
	 * neither fires nor delays them: libevent 2.1 on Linux reads
	 * CLOCK_MONOTONIC with this flag (CLOCK_MONOTONIC_COARSE without it,
	 * whose 4 ms steps would round short timers), and arms epoll with a
	 * CLOCK_MONOTONIC timerfd.
	 */
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	d.base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (d.base == NULL)
		fatal("cannot create the event loop");
	/* 0 signals, 1 everything else (the default). */
	event_base_priority_init(d.base, 2);
	output_sink_init(d.base);
	log_set_writer(output_sink_write);
	log_set_base(d.base);

	fds.lock = fds.listen = fds.reply = fds.notify = fds.watch = -1;
	if (resume_fd != -1 && reexec_peek_fds(resume_fd, &fds) == -1) {
		log_error("reexec: fd %d holds no state; starting afresh",
		    resume_fd);
		close(resume_fd);
		resume_fd = -1;
	}
	if ((d.db = statedb_adopt(conf->state_db, d.base, fds.lock)) == NULL) {
		config_free(conf);
		event_base_free(d.base);
		return 1;
	}
	statedb_set_retention(d.db, conf->event_retention_ms,
	    conf->event_retention_count);
	d.fleet = fleet_new(d.base, conf, d.db);
	d.fleet->on_idle = on_idle;
	d.fleet->on_started = on_started;
	if (fds.listen != -1) {
		fcntl(fds.listen, F_SETFD, FD_CLOEXEC);
		d.ctl = control_adopt(d.fleet, conf->control_socket, fds.listen);
	} else
		d.ctl = control_open(d.fleet, conf->control_socket);
	if (d.ctl == NULL) {
		fleet_free(d.fleet);
		statedb_close(d.db);
		event_base_free(d.base);
		return 1;
	}
	d.fleet->ctl = d.ctl;
	control_set_reexec(d.ctl, do_reexec, &d);
	/*
	 * The workers' NOTIFY_SOCKET.  Without it workers run as before,
	 * RUNNING after healthy_after, with no watchdog: not worth refusing
	 * to supervise them.
	 */
	{
		char *np;
		xasprintf(&np, "%s/notify.sock", conf->run_dir);
		d.nsock = fds.notify != -1 ?
		    nsock_adopt(d.fleet, np, fds.notify) :
		    nsock_open(d.fleet, np);
		if (d.nsock == NULL)
			log_warnx("no notify socket: workers get no "
			    "NOTIFY_SOCKET, and their watchdogs are off");
		d.fleet->nsock = d.nsock;
		free(np);
	}
	d.http = http_open(d.fleet, d.db);
	if (conf->http_host != NULL && d.http == NULL) {
		d.fleet->ctl = NULL;
		control_close(d.ctl);
		d.fleet->nsock = NULL;
		nsock_close(d.nsock);
		fleet_free(d.fleet);
		statedb_close(d.db);
		event_base_free(d.base);
		return 1;
	}
	for (i = 0; i < 4; i++) {
		d.sig[i] = evsignal_new(d.base, sigs[i], signal_cb, &d);
		if (d.sig[i] == NULL || event_add(d.sig[i], NULL) == -1)
			fatal("cannot watch signal %d", sigs[i]);
		event_priority_set(d.sig[i], 0);
	}

	if (resume_fd != -1) {
		int kept = reexec_restore(d.fleet, resume_fd, &fds);

		/* The watcher goes on; one from no image before: a new one. */
		if (fds.watch != -1)
			watch_adopt(d.fleet, fds.watch, (pid_t)fds.watch_pid);
		else
			watch_start(d.fleet);
		char msg[128];
		int n;

		record_daemon(d.db, "reexec", NULL);
		n = snprintf(msg, sizeof(msg), "+ re-executed: corrald pid "
		    "%ld, %d workers kept running\n", (long)getpid(), kept);
		log_info("re-executed: %d workers kept running", kept);
		if (fds.reply != -1) {
			(void)!write(fds.reply, msg, (size_t)n);
			close(fds.reply);
		}
	} else {
		record_start(d.db, conf->state_db);
		watch_start(d.fleet);
	}
	/* Once the runs a reexec kept are adopted: they hold their own. */
	cglimit_sweep(d.fleet);
	log_info("corrald %s (pid %ld): %zu agents, %zu workers, state %s",
	    CORRAL_VERSION, (long)getpid(), conf->nagents,
	    d.fleet->nworkers, conf->state_db);
	fleet_start(d.fleet);
	/*
	 * Exits during the exec are ours to reap now, once the breakers they
	 * count against are read back.
	 */
	if (resume_fd != -1)
		fleet_reap(d.fleet);
	if (event_base_dispatch(d.base) == -1) {
		log_error("the event loop failed; killing every worker");
		rc = 1;
	}

	watch_stop(d.fleet);
	fleet_reap_orphans(d.fleet);
	/* Every worker is gone: other nodes may take their threads now. */
	lease_release_all(d.fleet);
	record_daemon(d.db, "stop", NULL);
	statedb_flush(d.db);
	d.fleet->ctl = NULL;
	control_close(d.ctl);
	d.fleet->nsock = NULL;
	nsock_close(d.nsock);
	http_close(d.http);
	for (i = 0; i < 4; i++)
		event_free(d.sig[i]);
	fleet_free(d.fleet);
	statedb_close(d.db);
	log_flush_suppressed();
	log_info("exiting");
	log_file_close();
	log_set_base(NULL);
	log_set_writer(NULL);
	output_sink_close();
	event_base_free(d.base);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", required_argument, NULL, 'n' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "resume-fd", required_argument, NULL, 'R' },
		{ "worker-nofile", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	int resume_fd = -1;
	uint64_t worker_nofile = 0;
	const char *file = NULL, *lvl = NULL;
	enum log_level level = LOG_LVL_INFO;
	struct config *conf;
	bool check = false;
	int ch;

	/*
	 * Started with 0, 1 or 2 closed, the event loop's own descriptors
	 * would take their places, and output meant for them would go there.
	 */
	for (ch = 0; ch < 3; ch++)
		if (fcntl(ch, F_GETFD) == -1 && open("/dev/null", O_RDWR) != ch)
			return 1;
	log_init(LOG_LVL_INFO, "corrald");
	log_detect_journal();
	notify_init();
	while ((ch = getopt_long(argc, argv, "c:n:l:Vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'n':
			file = optarg;
			check = true;
			break;
		case 'l':
			lvl = optarg;
			if (log_level_parse(lvl, &level) == -1) {
				fprintf(stderr, "corrald: unknown log level "
				    "'%s' (error, warn, info, debug)\n", lvl);
				return EXIT_USAGE;
			}
			break;
		case 'R': /* internal: the state a reexec hands over */
			resume_fd = atoi(optarg);
			break;
		case 'W': /* internal: the soft RLIMIT_NOFILE of workers */
			worker_nofile = strtoull(optarg, NULL, 10);
			break;
		case 'V':
			printf("corrald %s\n", CORRAL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (file == NULL || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/*
	 * After a reexec, the configuration the old image ran, not the file,
	 * which may hold edits not yet reloaded; the file only when that
	 * cannot be had (reexec_load_conf says why, loudly).
	 */
	if (resume_fd != -1 && !check)
		conf = reexec_load_conf(resume_fd, file);
	else
		conf = load(file);
	if (conf == NULL)
		return EXIT_CONFIG;
	if (check) {
		config_print(conf, stdout);
		fprintf(stderr, "%s: configuration OK\n", file);
		config_free(conf);
		return 0;
	}
	if (lvl != NULL)
		log_pin_level(level);
	else
		log_set_level(conf->log_level);
	/* What /proc/self/exe names now, before an upgrade replaces it. */
	if (realpath("/proc/self/exe", exe_path) == NULL)
		snprintf(exe_path, sizeof(exe_path), "%s", argv[0]);
	return run(conf, resume_fd, worker_nofile);
}
