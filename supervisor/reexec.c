/*
 * reexec.c: a planned restart of corrald in place (corralctl reexec), for
 * an upgrade.  The running image writes its state to a memfd, keeps open
 * across exec what must outlive it (the state lock, the control socket,
 * the requester's connection, every worker's pipes), and execs the binary
 * at the path it was started from; the new image, same pid, reads the
 * state back and adopts every worker as it was: its process, its pipes,
 * its counters and its timer, due at the same monotonic time.  Workers are
 * children of the pid, not of the image: none notices.
 *
 * The format is text, one record per line, fields separated by blanks
 * (names cannot hold blanks): "corrald-reexec 1", then "lock FD",
 * "listen FD", "reply FD", "notify FD" (added later: an image that finds
 * none binds a new notify socket; an older image skips the line and
 * leaves the descriptor open), "conf FD LEN HERE" and "daemon ..." (added
 * later, below), then one "w ..." line per worker.  Fields added later go at the end of
 * a line behind a tag ("b" for the breaker and cluster flags, "n" for the
 * worker protocol, "r" for the checkpoints a run resumed from and
 * rollback's counts, "s" for how the worker's agent stops it and where
 * its output goes, "h" for its pre_start and post_stop running, handed
 * over with their pipes), so that an image reads what an older one wrote.
 *
 * The configuration goes over too: "conf" names a second memfd holding
 * the LEN bytes of the fleet file the running image last loaded (at its
 * start or its last good reload), and HERE the directory %(here) meant
 * then.  The new image parses those bytes, not the file on disk, so that
 * a reexec applies no edit the operator has not reloaded: every worker
 * it adopts is one its configuration names, none starts, none stops.  A
 * worker the new image's configuration does not name can then come only
 * from a mismatch (an older image that handed no configuration, one that
 * could not be read, a new binary that reads the text otherwise): it is
 * stopped as a reload stops a removed worker (fleet_retire_stray).
 * "daemon" gives the [corrald] paths and HTTP settings the old image runs
 * with, which a reload does not change (the text may name others): the
 * lock and the sockets handed over are those, and the new image keeps
 * them as a reload would, whichever configuration it loaded.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corrald.h"

#define REEXEC_MAGIC "corrald-reexec 1"

static void
set_cloexec(int fd, bool on)
{
	if (fd != -1)
		fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0);
}

/* A string as one blank-free token: "-" for NULL, else "=" and the bytes,
 * '%' and what is not printable ASCII as %XX. */
static void
write_tok(FILE *f, const char *s)
{
	if (s == NULL) {
		fputs(" -", f);
		return;
	}
	fputs(" =", f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || c == '%')
			fprintf(f, "%%%02X", c);
		else
			fputc(c, f);
	}
}

/* The next token at *p (advanced): 0 with *out (NULL or caller frees). */
static int
read_tok(const char **p, char **out)
{
	const char *s = *p;
	char *o;
	size_t n = 0;

	*out = NULL;
	while (*s == ' ')
		s++;
	if (*s == '-') {
		*p = s + 1;
		return 0;
	}
	if (*s != '=')
		return -1;
	s++;
	o = xmalloc(strlen(s) + 1);
	while (*s != '\0' && *s != ' ' && *s != '\n') {
		unsigned v;
		if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			o[n++] = (char)v;
			s += 3;
		} else
			o[n++] = *s++;
	}
	o[n] = '\0';
	*out = o;
	*p = s;
	return 0;
}

static void
write_snap(FILE *f, const struct worker_snap *s)
{
	int c;

	fprintf(f, "w %s %u %d %ld %lld %lld %lld %lld %d %d %d %d %d %d "
	    "%u %u %u %u %d %d %d %d %d %d", s->agent, s->instance, s->state,
	    s->pid, s->start_wall_ms, s->start_mono_ms, s->deadline_mono_ms,
	    s->chain, s->healthy, s->healthy_due, s->stop_requested, s->held,
	    s->restart_pending, s->queued, s->failures, s->runs,
	    s->start_failures, s->runtime_failures, s->last_class,
	    s->last_code, s->last_signal, s->outfd[0], s->outfd[1],
	    s->execfd);
	for (c = 0; c <= CORRAL_EXIT_STOPPED; c++)
		fprintf(f, " %u", s->exits[c]);
	/* Added later: an image that does not know them stops reading here. */
	fprintf(f, " b %d %d %d %d", s->trial, s->ctrial, s->regroup,
	    s->for_fallback);
	fprintf(f, " n %d %d %llu %llu %llu", s->ready, s->hang, s->wd_ms,
	    s->wd_deadline_mono_ms, s->heartbeat_mono_ms);
	write_tok(f, s->status_text);
	if (s->report != NULL) {
		fprintf(f, " %d %d", (int)s->report->severity,
		    s->report->recoverable);
		write_tok(f, s->report->code);
		write_tok(f, s->report->message);
	} else
		fputs(" -1 0 - -", f);
	/* The checkpoints: what the run resumed from, rollback's counts. */
	fprintf(f, " r %d %u %u %d", s->rs.known, s->rs.poison_count,
	    s->rs.steps, s->rs.rolled);
	write_tok(f, s->rs.from);
	write_tok(f, s->rs.latest);
	write_tok(f, s->rs.poison);
	write_tok(f, s->rs.back);
	/* How to stop it, should the new image not know its agent. */
	fprintf(f, " s %d %llu %d %d", s->stop_signal, s->stop_timeout_ms,
	    s->out[0], s->out[1]);
	/* Its checkpoint storage: a class added later, and its condition. */
	fprintf(f, " k %u %d %d %d", s->storage_exits, s->run_storage,
	    s->storage_kind, s->storage_ack);
	write_tok(f, s->run_storage_msg);
	write_tok(f, s->storage_why);
	write_tok(f, s->rs.lost);
	/* max_memory: a class added later, and a run being stopped for it. */
	fprintf(f, " m %u %d %llu %llu", s->memory_exits, s->memory,
	    s->memory_rss, s->memory_max);
	/* Its pre_start and post_stop running, and a start after post_stop. */
	fprintf(f, " h %ld %d %d %llu %d %ld %d %d %llu %d %d", s->pre.pid,
	    s->pre.fd[0], s->pre.fd[1], s->pre.deadline_mono_ms,
	    s->pre.timed_out, s->post.pid, s->post.fd[0], s->post.fd[1],
	    s->post.deadline_mono_ms, s->post.timed_out, s->after_post);
	/* The OOM kills its memory cgroup had before the run. */
	fprintf(f, " o %llu", s->oom_base);
	fputc('\n', f);
}

void
reexec_snap_drop_hooks(struct worker_snap *s)
{
	struct hook_snap *hs[2] = { &s->pre, &s->post };
	int i, j;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < 2; j++)
			if (hs[i]->pid != 0 && hs[i]->fd[j] != -1)
				close(hs[i]->fd[j]);
		memset(hs[i], 0, sizeof(*hs[i]));
		hs[i]->fd[0] = hs[i]->fd[1] = -1;
	}
	s->after_post = 0;
}

/*
 * The "h" tag at p: absent (an older image), no hook taken over (the
 * worker's queued says to start it again).  A malformed one is dropped
 * whole.
 */
static void
read_hooks(const char *p, struct worker_snap *s)
{
	struct hook_snap pre, post;
	unsigned long long oom;
	int ap, used = 0;

	if (sscanf(p, " h %ld %d %d %llu %d %ld %d %d %llu %d %d%n", &pre.pid,
	    &pre.fd[0], &pre.fd[1], &pre.deadline_mono_ms, &pre.timed_out,
	    &post.pid, &post.fd[0], &post.fd[1], &post.deadline_mono_ms,
	    &post.timed_out, &ap, &used) != 11 || used == 0 || pre.pid < 0 ||
	    post.pid < 0)
		return;
	s->pre = pre;
	s->post = post;
	s->after_post = ap;
	if (sscanf(p + used, " o %llu", &oom) == 1) {
		s->oom_known = 1;
		s->oom_base = oom;
	}
}

/* A token into a fixed buffer of CKPT_ID_MAX.  0 or -1. */
static int
read_id(const char **p, char *out)
{
	char *t;

	if (read_tok(p, &t) == -1 || t == NULL || strlen(t) >= CKPT_ID_MAX) {
		free(t);
		return -1;
	}
	memcpy(out, t, strlen(t) + 1);
	free(t);
	return 0;
}

/* The "m" tag at p: absent (an older image), no memory exits, no stop. */
static void
read_memory(const char *p, struct worker_snap *s)
{
	unsigned long long rss, max;
	unsigned n;
	int m, used = 0;

	if (sscanf(p, " m %u %d %llu %llu%n", &n, &m, &rss, &max, &used) !=
	    4 || used == 0)
		return;
	s->memory_exits = n;
	s->memory = m != 0;
	s->memory_rss = rss;
	s->memory_max = max;
	read_hooks(p + used, s);
}

/*
 * The "k" tag at p: absent (an older image), no storage condition.  A
 * malformed one is dropped whole.
 */
static void
read_storage(const char *p, struct worker_snap *s)
{
	int run, kind, ack, used = 0;
	unsigned n;
	char *msg = NULL, *why = NULL;

	if (sscanf(p, " k %u %d %d %d%n", &n, &run, &kind, &ack, &used) !=
	    4 || used == 0 || run < SK_NONE || run > SK_LOST ||
	    kind < SK_NONE || kind > SK_LOST)
		return;
	p += used;
	if (read_tok(&p, &msg) == -1 || read_tok(&p, &why) == -1 ||
	    read_id(&p, s->rs.lost) == -1) {
		free(msg);
		free(why);
		s->rs.lost[0] = '\0';
		return;
	}
	s->storage_exits = n;
	s->run_storage = run;
	s->storage_kind = kind;
	s->storage_ack = ack;
	s->run_storage_msg = msg;
	s->storage_why = why;
	read_memory(p, s);
}

/*
 * The "s" tag at p: absent (an older image), s->stop_known stays false.
 * Then what follows it.
 */
static void
read_stop(const char *p, struct worker_snap *s)
{
	int sig, o0, o1, used = 0;
	unsigned long long ms;

	if (sscanf(p, " s %d %llu %d %d%n", &sig, &ms, &o0, &o1, &used) !=
	    4 || used == 0 || sig <= 0 || sig >= NSIG || o0 < OUT_FILE ||
	    o0 > OUT_NULL || o1 < OUT_FILE || o1 > OUT_STDOUT)
		return;
	s->stop_known = true;
	s->stop_signal = sig;
	s->stop_timeout_ms = ms;
	s->out[0] = o0;
	s->out[1] = o1;
	read_storage(p + used, s);
}

/*
 * The "r" tag at p, then what follows it: absent (an older image) leaves
 * rs all 0.
 */
static void
read_resume(const char *p, struct worker_snap *s)
{
	int known, rolled, used = 0;
	struct worker_resume r;

	memset(&r, 0, sizeof(r));
	if (sscanf(p, " r %d %u %u %d%n", &known, &r.poison_count, &r.steps,
	    &rolled, &used) != 4 || used == 0)
		return;
	p += used;
	if (read_id(&p, r.from) == -1 || read_id(&p, r.latest) == -1 ||
	    read_id(&p, r.poison) == -1 || read_id(&p, r.back) == -1)
		return;
	r.known = known != 0;
	r.rolled = rolled != 0;
	s->rs = r;
	read_stop(p, s);
}

static int
read_snap(const char *line, struct worker_snap *s)
{
	int n = 0, c, used;

	memset(s, 0, sizeof(*s));
	s->pre.fd[0] = s->pre.fd[1] = s->post.fd[0] = s->post.fd[1] = -1;
	if (sscanf(line, "w %64s %u %d %ld %lld %lld %lld %lld %d %d %d %d %d "
	    "%d %u %u %u %u %d %d %d %d %d %d%n", s->agent, &s->instance,
	    &s->state, &s->pid, &s->start_wall_ms, &s->start_mono_ms,
	    &s->deadline_mono_ms, &s->chain, &s->healthy, &s->healthy_due,
	    &s->stop_requested, &s->held, &s->restart_pending, &s->queued,
	    &s->failures, &s->runs, &s->start_failures, &s->runtime_failures,
	    &s->last_class, &s->last_code, &s->last_signal, &s->outfd[0],
	    &s->outfd[1], &s->execfd, &n) != 24)
		return -1;
	for (c = 0; c <= CORRAL_EXIT_STOPPED; c++) {
		if (sscanf(line + n, " %u%n", &s->exits[c], &used) != 1)
			return -1;
		n += used;
	}
	/* Absent when the old image predates them: all false then. */
	used = 0;
	(void)sscanf(line + n, " b %d %d %d %d%n", &s->trial, &s->ctrial,
	    &s->regroup, &s->for_fallback, &used);
	if (used > 0) {
		const char *p;
		int sev, rec;
		char *code = NULL, *msg = NULL;
		n += used;
		used = 0;
		(void)sscanf(line + n, " n %d %d %llu %llu %llu%n", &s->ready,
		    &s->hang, &s->wd_ms, &s->wd_deadline_mono_ms,
		    &s->heartbeat_mono_ms, &used);
		p = line + n + used;
		if (used > 0 && read_tok(&p, &s->status_text) == 0 &&
		    sscanf(p, " %d %d%n", &sev, &rec, &used) == 2) {
			p += used;
			if (read_tok(&p, &code) == 0 &&
			    read_tok(&p, &msg) == 0 && sev >= REP_INFO &&
			    sev <= REP_CRITICAL && code != NULL && msg != NULL) {
				s->report = xcalloc(1, sizeof(*s->report));
				s->report->severity = (enum report_severity)sev;
				s->report->recoverable = rec != 0;
				s->report->code = code;
				s->report->message = msg;
				read_resume(p, s);
			} else if (sev == -1 && code == NULL && msg == NULL) {
				read_resume(p, s);
			} else {
				free(code);
				free(msg);
			}
		}
	}
	if (s->state < W_STOPPED || s->state > W_LAST ||
	    s->last_class < CORRAL_EXIT_NONE ||
	    s->last_class > CORRAL_EXIT_LAST) {
		free(s->status_text);
		report_free(s->report);
		free(s->run_storage_msg);
		free(s->storage_why);
		return -1;
	}
	return 0;
}

/*
 * The running configuration's text in a memfd of its own, for the new
 * image.  Its descriptor (close-on-exec until the exec), or -1 with the
 * reason in why.
 */
static int
conf_memfd(const struct config *c, char *why, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = memfd_create("corrald-conf", MFD_CLOEXEC)) == -1) {
		snprintf(why, len, "memfd for the configuration: %s",
		    strerror(errno));
		return -1;
	}
	while (off < c->textlen) {
		n = write(fd, c->text + off, c->textlen - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, len, "memfd for the configuration: %s",
			    n == -1 ? strerror(errno) : "short write");
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return fd;
}

int
reexec(struct fleet *f, const char *exe, const char *conf_path,
    int log_level_pinned, const struct reexec_fds *fds, char *why,
    size_t len)
{
	struct config_errors errs;
	struct config *c;
	struct worker_snap *snaps = NULL;
	char fdarg[16], nofile[24], *argv[12];
	const char *agent;
	size_t i;
	FILE *mf;
	int fd = -1, fd2 = -1, cfd, k = 0;

	if (!LIST_EMPTY(&f->retiring)) {
		snprintf(why, len, "workers removed by a reload are still "
		    "stopping; try again when they are gone");
		return -1;
	}
	/*
	 * An operator's rolling restart is this image's: the next would not
	 * go on with it, and its corralctl would lose its news.  A
	 * cron_restart's roll ends here instead (rolls_reexec): an
	 * unattended roll must not hold an upgrade back.
	 */
	if ((agent = rolls_operator(f)) != NULL) {
		snprintf(why, len, "a rolling restart of %s is under way; try "
		    "again when it is over", agent);
		return -1;
	}
	/* Survivors are this image's to watch; the next would not know them. */
	if (f->nsurv > 0) {
		snprintf(why, len, "runs a dead corrald left are still being "
		    "stopped; try again when they are gone");
		return -1;
	}
	/*
	 * The new image parses the text this one runs on, not the file on
	 * disk: an edit there, broken or not, waits for a reload and cannot
	 * block a reexec.  That text loaded once; it is loaded again here
	 * because what it resolves against may have changed since (a `user`
	 * gone from the password database, the current directory removed):
	 * what fails here would fail in the new image, which would then have
	 * to fall back on the file.  Better to refuse while nothing changed.
	 */
	c = config_load_text(f->conf->path, f->conf->here, f->conf->text,
	    f->conf->textlen, &errs);
	if (c == NULL) {
		for (i = 0; i < errs.msgs.n; i++)
			log_error("reexec: %s", errs.msgs.v[i]);
		snprintf(why, len, "the running configuration (from %s) no "
		    "longer loads: %s%s; nothing changed", f->conf->path,
		    errs.msgs.n > 0 ? errs.msgs.v[0] : "?", errs.msgs.n > 1 ?
		    " (more in corrald's log)" : "");
		strv_free(&errs.msgs);
		return -1;
	}
	strv_free(&errs.msgs);
	config_free(c);
	if (access(exe, X_OK) == -1) {
		snprintf(why, len, "%s: %s", exe, strerror(errno));
		return -1;
	}
	if (statedb_flush(f->db) == -1) {
		struct statedb_health h;

		/* What waits in memory would not reach the next image. */
		statedb_health(f->db, &h);
		snprintf(why, len, "the state database is %s (%s): %zu events "
		    "wait to be written; try again when it can be",
		    db_cond_name(h.cond), h.error, h.queued);
		return -1;
	}
	if ((cfd = conf_memfd(f->conf, why, len)) == -1)
		return -1;
	if ((fd = memfd_create("corrald-reexec", 0)) == -1 ||
	    (fd2 = dup(fd)) == -1 || (mf = fdopen(fd2, "w")) == NULL) {
		snprintf(why, len, "memfd for the state: %s", strerror(errno));
		if (fd2 != -1)
			close(fd2);
		if (fd != -1)
			close(fd);
		close(cfd);
		return -1;
	}
	/* "conf" after "notify": an older image reads the lines before it
	 * at fixed places in the first 256 bytes. */
	fprintf(mf, "%s\nlock %d\nlisten %d\nreply %d\nnotify %d\nconf %d %zu",
	    REEXEC_MAGIC, fds->lock, fds->listen, fds->reply, fds->notify, cfd,
	    f->conf->textlen);
	write_tok(mf, f->conf->here);
	/*
	 * The [corrald] settings it runs with: a reload keeps them, so the
	 * text may say others, and the lock, the sockets handed over are
	 * these.
	 */
	fputs("\ndaemon", mf);
	write_tok(mf, f->conf->state_db);
	write_tok(mf, f->conf->run_dir);
	write_tok(mf, f->conf->log_dir);
	write_tok(mf, f->conf->control_socket);
	write_tok(mf, f->conf->checkpoint_db);
	write_tok(mf, f->conf->http_host);
	fprintf(mf, " %u", f->conf->http_port);
	write_tok(mf, f->conf->http_token);
	fprintf(mf, " cgroup %d", f->conf->cgroup);
	/* The node its leases name must not change under them. */
	fprintf(mf, " lease %llu", (unsigned long long)f->conf->lease_ttl_ms);
	write_tok(mf, f->conf->node_name);
	fputc('\n', mf);
	/* The watcher must not read the exec as corrald's death. */
	fprintf(mf, "watch %d %ld\n", f->watch_fd, (long)f->watch_pid);
	/*
	 * What corralctl scale changed: the text says the file's numprocs,
	 * and the instances added must not be strays of the next image.
	 */
	for (i = 0; i < f->conf->nagents; i++)
		if (f->conf->agents[i].numprocs !=
		    f->conf->agents[i].numprocs_file)
			fprintf(mf, "scale %s %u\n", f->conf->agents[i].name,
			    f->conf->agents[i].numprocs);
	snaps = xcalloc(f->nworkers, sizeof(*snaps));
	for (i = 0; i < f->nworkers; i++) {
		/* A partial line of inherited output goes out now, whole. */
		output_flush_line(f->workers[i]->out[0]);
		output_flush_line(f->workers[i]->out[1]);
		worker_snapshot(f->workers[i], &snaps[i]);
		write_snap(mf, &snaps[i]);
	}
	if (fclose(mf) == EOF) {
		snprintf(why, len, "memfd: %s", strerror(errno));
		goto undo;
	}
	lseek(fd, 0, SEEK_SET);
	set_cloexec(fds->lock, false);
	set_cloexec(fds->listen, false);
	set_cloexec(fds->reply, false);
	set_cloexec(fds->notify, false);
	set_cloexec(f->watch_fd, false);
	set_cloexec(cfd, false);
	log_flush_suppressed();
	output_sink_flush();

	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	argv[k++] = (char *)exe;
	argv[k++] = (char *)"-c";
	argv[k++] = (char *)conf_path;
	if (log_level_pinned >= 0) {
		argv[k++] = (char *)"--log-level";
		argv[k++] = (char *)log_level_name(
		    (enum log_level)log_level_pinned);
	}
	argv[k++] = (char *)"--resume-fd";
	argv[k++] = fdarg;
	/* Not the soft limit the new image starts with: this one raised it. */
	snprintf(nofile, sizeof(nofile), "%llu",
	    (unsigned long long)limits_worker_soft());
	argv[k++] = (char *)"--worker-nofile";
	argv[k++] = nofile;
	argv[k] = NULL;
	log_info("re-executing %s with %zu workers and the running "
	    "configuration", exe, f->nworkers);
	rolls_reexec(f);
	execv(exe, argv);
	snprintf(why, len, "exec %s: %s", exe, strerror(errno));
	log_error("reexec: %s; going on as before", why);
undo:
	/* Nothing changed: what was kept open for the new image is closed
	 * on exec again. */
	for (i = 0; i < f->nworkers; i++) {
		set_cloexec(snaps[i].outfd[0], true);
		set_cloexec(snaps[i].outfd[1], true);
		set_cloexec(snaps[i].execfd, true);
		hook_handover_undo(&snaps[i].pre);
		hook_handover_undo(&snaps[i].post);
	}
	set_cloexec(fds->lock, true);
	set_cloexec(fds->listen, true);
	set_cloexec(fds->reply, true);
	set_cloexec(fds->notify, true);
	set_cloexec(f->watch_fd, true);
	free(snaps);
	close(fd);
	close(cfd);
	return -1;
}

/* What the lines before the first worker's say. */
struct header {
	struct reexec_fds fds;
	int conf;        /* the configuration's memfd; -1: none handed over */
	size_t conf_len;
	char *here;      /* owned; NULL: none */
	/* Owned: the [corrald] settings the old image ran with (only those
	 * fields set), or NULL from an older image. */
	struct config *daemon;
	/* Owned: "AGENT N" for each agent corralctl scale changed. */
	struct strv scales;
};

static void
header_free(struct header *h)
{
	free(h->here);
	h->here = NULL;
	config_free(h->daemon);
	h->daemon = NULL;
	strv_free(&h->scales);
}

/* The "daemon" line's fields at p, into a config of their own, or NULL. */
static struct config *
read_daemon(const char *p)
{
	struct config *d = xcalloc(1, sizeof(*d));
	unsigned long long ttl;
	int used = 0, cg;

	if (read_tok(&p, &d->state_db) == -1 ||
	    read_tok(&p, &d->run_dir) == -1 ||
	    read_tok(&p, &d->log_dir) == -1 ||
	    read_tok(&p, &d->control_socket) == -1 ||
	    read_tok(&p, &d->checkpoint_db) == -1 ||
	    read_tok(&p, &d->http_host) == -1 ||
	    sscanf(p, " %u%n", &d->http_port, &used) != 1 || used == 0)
		goto bad;
	p += used;
	if (read_tok(&p, &d->http_token) == -1 || d->state_db == NULL ||
	    d->run_dir == NULL || d->log_dir == NULL ||
	    d->control_socket == NULL || d->checkpoint_db == NULL)
		goto bad;
	/* Added later: absent, the default (auto). */
	d->cgroup = true;
	if (sscanf(p, " cgroup %d%n", &cg, &used) == 1) {
		d->cgroup = cg != 0;
		p += used;
	}
	/* Absent from an older image: the file's (config_keep_daemon). */
	if (sscanf(p, " lease %llu%n", &ttl, &used) == 1) {
		p += used;
		if (read_tok(&p, &d->node_name) == -1)
			goto bad;
		d->lease_ttl_ms = ttl;
	}
	return d;
bad:
	config_free(d);
	return NULL;
}

/*
 * Read the lines of the state at fd before the first worker's, in any
 * order, skipping those it does not know (from a newer image).  fd's
 * offset is 0 again after.  0, or -1 when fd holds no state of ours.
 */
static int
read_header(int fd, struct header *h)
{
	FILE *in;
	char *line = NULL;
	const char *p;
	size_t cap = 0;
	int dfd, v, used, n = 0, have = 0;

	memset(h, 0, sizeof(*h));
	strv_init(&h->scales);
	h->fds.lock = h->fds.listen = h->fds.reply = h->fds.notify = -1;
	h->fds.watch = -1;
	h->conf = -1;
	/* A dup shares the offset, which restore reads from 0 again. */
	if (lseek(fd, 0, SEEK_SET) == -1 || (dfd = dup(fd)) == -1)
		return -1;
	if ((in = fdopen(dfd, "r")) == NULL) {
		close(dfd);
		return -1;
	}
	while (getline(&line, &cap, in) > 0) {
		if (n++ == 0) {
			if (strcmp(line, REEXEC_MAGIC "\n") != 0)
				break;
			continue;
		}
		if (line[0] == 'w' && line[1] == ' ')
			break;
		if (sscanf(line, "lock %d", &v) == 1) {
			h->fds.lock = v;
			have |= 1;
		} else if (sscanf(line, "listen %d", &v) == 1) {
			h->fds.listen = v;
			have |= 2;
		} else if (sscanf(line, "reply %d", &v) == 1) {
			h->fds.reply = v;
			have |= 4;
		} else if (sscanf(line, "notify %d", &v) == 1)
			h->fds.notify = v;
		else if (sscanf(line, "watch %d %ld", &v, &h->fds.watch_pid) == 2)
			h->fds.watch = v;
		else if (used = 0, sscanf(line, "conf %d %zu%n", &v,
		    &h->conf_len, &used) == 2 && used > 0) {
			p = line + used;
			free(h->here);
			if (read_tok(&p, &h->here) == 0)
				h->conf = v;
			else
				h->here = NULL;
		} else if (strncmp(line, "daemon ", 7) == 0) {
			config_free(h->daemon);
			h->daemon = read_daemon(line + 6);
		} else if (strncmp(line, "scale ", 6) == 0)
			strv_push(&h->scales, line + 6);
	}
	free(line);
	fclose(in);
	lseek(fd, 0, SEEK_SET);
	if (have != 7) {
		header_free(h);
		return -1;
	}
	return 0;
}

int
reexec_peek_fds(int fd, struct reexec_fds *fds)
{
	struct header h;

	if (read_header(fd, &h) == -1) {
		fds->lock = fds->listen = fds->reply = fds->notify = -1;
		fds->watch = -1;
		return -1;
	}
	*fds = h.fds;
	header_free(&h);
	return 0;
}

/* The file at path, its errors logged.  The config, or NULL. */
static struct config *
load_disk(const char *path)
{
	struct config_errors errs;
	struct config *c;
	size_t i;

	c = config_load(path, &errs);
	for (i = 0; i < errs.msgs.n; i++)
		log_error("reexec: %s", errs.msgs.v[i]);
	if (c == NULL)
		log_error("reexec: %s: %zu error%s; nothing to supervise "
		    "with: corrald exits, and its workers get their stop "
		    "signal", path, errs.msgs.n, errs.msgs.n == 1 ? "" : "s");
	strv_free(&errs.msgs);
	return c;
}

/* The text h names, parsed as the file at path.  NULL, logged. */
static struct config *
load_handed(const struct header *h, const char *path)
{
	struct config_errors errs;
	struct config *c = NULL;
	char *text;
	size_t got = 0, i;
	ssize_t n = 0;

	text = xmalloc(h->conf_len + 1);
	while (got < h->conf_len) {
		n = pread(h->conf, text + got, h->conf_len - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < h->conf_len)
		log_error("reexec: the configuration handed over (fd %d) has "
		    "%zu of its %zu bytes: %s", h->conf, got, h->conf_len,
		    n == -1 ? strerror(errno) : "cut short");
	else if ((c = config_load_text(path, h->here, text, h->conf_len,
	    &errs)) == NULL) {
		for (i = 0; i < errs.msgs.n; i++)
			log_error("reexec: the configuration handed over: %s",
			    errs.msgs.v[i]);
		strv_free(&errs.msgs);
	} else
		strv_free(&errs.msgs);
	free(text);
	return c;
}

/* The counts corralctl scale set, on the configuration they apply to. */
static void
apply_scales(struct config *c, const struct strv *scales)
{
	char name[NAME_MAX_LEN + 1];
	unsigned n;
	size_t i, k;

	for (i = 0; i < scales->n; i++) {
		if (sscanf(scales->v[i], "%64s %u", name, &n) != 2 || n < 1 ||
		    n > SCALE_MAX)
			continue;
		for (k = 0; k < c->nagents; k++)
			if (strcmp(c->agents[k].name, name) == 0)
				break;
		if (k == c->nagents) {
			log_warnx("reexec: agent %s was scaled to %u but is "
			    "not in the configuration", name, n);
			continue;
		}
		log_info("reexec: agent %s keeps its %u instances of "
		    "corralctl scale (the file says %u)", name, n,
		    c->agents[k].numprocs_file);
		c->agents[k].numprocs = n;
	}
}

struct config *
reexec_load_conf(int fd, const char *path)
{
	struct config *c = NULL;
	struct header h;

	/* No state at all: run() says so, and starts afresh. */
	if (read_header(fd, &h) == -1)
		return load_disk(path);
	if (h.conf == -1)
		log_warnx("reexec: the previous image handed over no "
		    "configuration (it predates that); loading %s from disk: "
		    "edits not yet reloaded apply now", path);
	else {
		c = load_handed(&h, path);
		close(h.conf);
		/*
		 * The exec is done: the old image cannot take over again,
		 * and this one must supervise with some configuration.  The
		 * file on disk is the only other one; workers it does not
		 * name are stopped (fleet_retire_stray).
		 */
		if (c == NULL)
			log_error("reexec: the running configuration was not "
			    "taken over; loading %s from disk instead: edits "
			    "not yet reloaded apply now, and workers it does "
			    "not name are stopped", path);
	}
	if (c == NULL && (c = load_disk(path)) == NULL) {
		header_free(&h);
		return NULL;
	}
	/* The lock and the sockets handed over are those of these paths. */
	if (h.daemon != NULL)
		config_keep_daemon(h.daemon, c, "reexec");
	apply_scales(c, &h.scales);
	header_free(&h);
	return c;
}

/*
 * A worker the configuration does not name.  With a process, it is
 * stopped as a reload stops one it removed; without, only forgotten.
 */
static void
disown(struct fleet *f, struct worker_snap *s)
{
	if (s->pid > 0) {
		fleet_retire_stray(f, s);
		return;
	}
	log_warnx("reexec: agent %s.%u is not in the configuration; it has "
	    "no process: forgotten", s->agent, s->instance);
	if (s->outfd[0] != -1)
		close(s->outfd[0]);
	if (s->outfd[1] != -1)
		close(s->outfd[1]);
	if (s->execfd != -1)
		close(s->execfd);
	reexec_snap_drop_hooks(s);
	free(s->status_text);
	report_free(s->report);
	free(s->run_storage_msg);
	free(s->storage_why);
}

int
reexec_restore(struct fleet *f, int fd, struct reexec_fds *fds)
{
	struct worker_snap s;
	struct worker *w;
	char *line = NULL;
	size_t cap = 0;
	int kept = 0, lineno = 0;
	FILE *in;

	if (reexec_peek_fds(fd, fds) == -1 || (in = fdopen(fd, "r")) == NULL) {
		log_error("reexec: the state handed over (fd %d) is not "
		    "readable", fd);
		return -1;
	}
	f->resumed = true;
	while (getline(&line, &cap, in) > 0) {
		lineno++;
		if (line[0] != 'w' || line[1] != ' ')
			continue; /* "watch" and what a newer image adds */
		if (read_snap(line, &s) == -1) {
			log_error("reexec: state line %d is malformed", lineno);
			continue;
		}
		if ((w = fleet_find_worker(f, s.agent, s.instance)) == NULL) {
			disown(f, &s);
			continue;
		}
		worker_adopt(w, &s);
		if (s.pid > 0)
			kept++;
	}
	free(line);
	fclose(in);
	return kept;
}
