/*
 * output.c: a worker's stdout and stderr.  Each is a non-blocking pipe read
 * by the event loop, one chunk per callback so that a flooding worker cannot
 * starve the others; what is read goes straight to a size-rotated log file,
 * or to corrald's own stdout/stderr with an "[agent.N] " prefix per line.
 * Nothing is buffered beyond one chunk and one partial line: a worker that
 * writes faster than the disk takes is slowed by its full pipe, and
 * corrald's memory stays flat.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"

#define CHUNK (64 * 1024)
#define LINE_MAX_PREFIXED 4096 /* longer lines are passed on in pieces */
#define DRAIN_MAX (1024 * 1024)

struct outstream {
	struct worker *w; /* borrowed: the worker outlives its streams */
	int which;        /* 1 stdout, 2 stderr */
	int fd;
	struct event *ev;
	char *line;       /* inherit: a partial line, LINE_MAX_PREFIXED */
	size_t linelen;
	bool warned;
	bool open_failed; /* the log file could not be opened this run */
};

static char chunk[CHUNK]; /* the loop is single-threaded */

static void read_cb(evutil_socket_t, short, void *);

/*
 * corrald may be root and the worker not: whoever can write in log_dir
 * must not have corrald append a worker's output to a file of their
 * choosing (a symbolic link, a hard link to another file) or block its
 * loop (a FIFO).  Only a regular file with one link is written.  The same
 * holds for corrald's own log_file (log.c).
 */
int
logfile_open(const char *path, uint64_t *size, char *why, size_t len)
{
	struct stat st;
	off_t end;
	int fd, err;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK, 0640);
	if (fd == -1) {
		err = errno;
		snprintf(why, len, "%s", err == ELOOP ? "it is a symbolic link, "
		    "which corrald does not follow" : err == ENXIO ? "it is a "
		    "FIFO, not a regular file" : strerror(err));
		errno = err;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		err = errno;
		snprintf(why, len, "%s", strerror(err));
		close(fd);
		errno = err;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink > 1) {
		if (!S_ISREG(st.st_mode))
			snprintf(why, len, "not a regular file");
		else
			snprintf(why, len, "it has %ju hard links, so it is "
			    "another file's too", (uintmax_t)st.st_nlink);
		close(fd);
		errno = EPERM;
		return -1;
	}
	end = lseek(fd, 0, SEEK_END);
	*size = end > 0 ? (uint64_t)end : 0;
	return fd;
}

/* path -> path.1 -> ... -> path.N; the oldest is replaced. */
void
logfile_rotate(int fd, const char *path, unsigned backups, const char *who)
{
	char *from, *to;
	unsigned k;

	/* Through the descriptor: the path may be something else by now. */
	if (backups == 0 && ftruncate(fd, 0) == -1)
		log_warn("%s: cannot truncate %s", who, path);
	close(fd);
	for (k = backups; k > 0; k--) {
		if (k == 1)
			from = xstrdup(path);
		else
			xasprintf(&from, "%s.%u", path, k - 1);
		xasprintf(&to, "%s.%u", path, k);
		if (rename(from, to) == -1 && errno != ENOENT)
			log_warn("%s: cannot rotate %s to %s", who, from, to);
		free(from);
		free(to);
	}
}

/*
 * A log file holds whole lines and at most max bytes: of n bytes at p,
 * what goes into a file of size bytes is cut after the last newline that
 * fits, and the rest goes to a fresh file after rotation.  Only a single
 * line longer than the limit makes a file pass it.
 */
size_t
logfile_fit(const char *p, size_t n, uint64_t size, uint64_t max)
{
	const char *nl;

	if (max == 0 || size + n <= max)
		return n;
	/* The whole lines that still fit, */
	if (size < max && (nl = memrchr(p, '\n', (size_t)(max - size))) != NULL)
		return (size_t)(nl - p) + 1;
	/* else a fresh file for the next line, */
	if (size > 0)
		return 0;
	/* else a line longer than the limit, whole. */
	nl = memchr(p, '\n', n);
	return nl != NULL ? (size_t)(nl - p) + 1 : n;
}

/*
 * Out of descriptors (EMFILE, ENFILE), every worker's log fails alike: it
 * is said once, until a log file opens again, not once per run.
 */
static int
log_open(struct worker *w, int i)
{
	char why[128];
	uint64_t failed;
	int fd, err;

	fd = logfile_open(w->logpath[i], &w->logsize[i], why, sizeof(why));
	if (fd == -1 && (errno == EMFILE || errno == ENFILE)) {
		err = errno;
		if (fd_short(FD_LOGFILE))
			log_warnx("agent %s: cannot open log %s: %s (open file "
			    "limit %llu); output of runs whose log cannot be "
			    "opened is lost (said once, until one opens)",
			    w->name, w->logpath[i], strerror(err),
			    (unsigned long long)limits_current_soft());
		return -1;
	}
	if (fd == -1) {
		log_warnx("agent %s: cannot open log %s: %s", w->name,
		    w->logpath[i], why);
		return -1;
	}
	w->logfd[i] = fd;
	if ((failed = fd_ok(FD_LOGFILE)) > 0)
		log_info("agent %s: log files open again (%llu could not be "
		    "opened)", w->name, (unsigned long long)failed);
	return 0;
}

static void
log_rotate(struct worker *w, int i)
{
	char who[NAME_MAX_LEN + 32];

	snprintf(who, sizeof(who), "agent %s", w->name);
	logfile_rotate(w->logfd[i], w->logpath[i], w->agent->log_backups, who);
	w->logfd[i] = -1;
	log_open(w, i);
}

static void
write_all(int fd, const char *p, size_t n, struct outstream *s,
    const char *what)
{
	ssize_t k;

	while (n > 0) {
		k = write(fd, p, n);
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1) {
			if (!s->warned)
				log_warn("agent %s: output lost writing %s",
				    s->w->name, what);
			s->warned = true;
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

/* A log file that cannot be opened is reported once per run, not once
 * per chunk. */
static void
to_file(struct outstream *s, const char *p, size_t n)
{
	struct worker *w = s->w;
	uint64_t max = w->agent->log_max_bytes;
	int i = s->which - 1;
	size_t k;

	while (n > 0) {
		if (w->logfd[i] != -1 && max > 0 && w->logsize[i] >= max)
			log_rotate(w, i);
		if (w->logfd[i] == -1) {
			if (s->open_failed || log_open(w, i) == -1) {
				s->open_failed = true;
				return;
			}
		}
		if ((k = logfile_fit(p, n, w->logsize[i], max)) == 0) {
			log_rotate(w, i);
			continue;
		}
		write_all(w->logfd[i], p, k, s, w->logpath[i]);
		w->logsize[i] += k;
		p += k;
		n -= k;
	}
}

/*
 * corrald's own stdout and stderr: a reader that stops reading them (a
 * full pipe, a stopped pager) must not stop the loop.  At start, a pipe,
 * FIFO or terminal is reopened through /proc/self/fd, which gives corrald
 * an open file description of its own, and that one is made non-blocking
 * (setting O_NONBLOCK on the inherited one would change it for the shell
 * that shares it); a socket (journald's stdout) is written with
 * MSG_DONTWAIT.  What does not fit waits in a buffer of at most SINK_MAX
 * bytes, written when the descriptor is writable; beyond that, output is
 * dropped and counted.  A regular file is written plainly: it does not
 * stall.
 */
#define SINK_MAX (1024 * 1024)

enum sink_kind { SINK_PLAIN, SINK_NONBLOCK, SINK_SOCKET };

struct sink {
	int fd;
	enum sink_kind kind;
	struct event *ev;
	char *buf;
	size_t len;
	uint64_t dropped;
};

static struct sink sinks[3] = { { .fd = 0 }, { .fd = 1 }, { .fd = 2 } };

/* Bytes written (0: would block), or -1 when the descriptor is broken. */
static ssize_t
sink_try(struct sink *k, const char *p, size_t n)
{
	ssize_t r;

	do {
		if (k->kind == SINK_SOCKET)
			r = send(k->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			r = write(k->fd, p, n);
	} while (r == -1 && errno == EINTR);
	if (r == -1 && errno == EAGAIN)
		return 0;
	return r;
}

static void
sink_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sink *k = arg;
	ssize_t r;

	(void)fd;
	(void)what;
	r = sink_try(k, k->buf, k->len);
	if (r < 0) {
		k->dropped += k->len;
		r = (ssize_t)k->len; /* a broken descriptor: let it go */
	}
	memmove(k->buf, k->buf + r, k->len - (size_t)r);
	k->len -= (size_t)r;
	if (k->len == 0) {
		event_del(k->ev);
		if (k->dropped > 0) {
			char msg[128];
			int m = snprintf(msg, sizeof(msg), "corrald: %llu bytes "
			    "of output dropped: fd %d was not read\n",
			    (unsigned long long)k->dropped, k->fd);
			k->dropped = 0;
			output_sink_write(2, msg, (size_t)m);
		}
	}
}

void
output_sink_init(struct event_base *base)
{
	char path[32];
	struct stat st;
	int i, fd;

	for (i = 1; i <= 2; i++) {
		struct sink *k = &sinks[i];

		k->kind = SINK_PLAIN;
		if (fstat(i, &st) == -1)
			continue;
		if (S_ISSOCK(st.st_mode))
			k->kind = SINK_SOCKET;
		else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
			fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
			if (fd != -1 && dup2(fd, i) == i)
				k->kind = SINK_NONBLOCK;
			if (fd != -1)
				close(fd);
		}
		if (k->kind == SINK_PLAIN)
			continue;
		k->ev = event_new(base, i, EV_WRITE | EV_PERSIST, sink_cb, k);
		if (k->ev == NULL)
			fatal("cannot watch fd %d", i);
	}
}

void
output_sink_close(void)
{
	int i;

	for (i = 1; i <= 2; i++) {
		/* Last words: what is buffered goes out if it can. */
		if (sinks[i].len > 0)
			(void)sink_try(&sinks[i], sinks[i].buf, sinks[i].len);
		if (sinks[i].ev != NULL)
			event_free(sinks[i].ev);
		free(sinks[i].buf);
		sinks[i].ev = NULL;
		sinks[i].buf = NULL;
		sinks[i].len = 0;
	}
}

void
output_sink_write(int fd, const char *p, size_t n)
{
	struct sink *k = &sinks[fd];
	ssize_t r = 0;

	if (k->ev == NULL) { /* a regular file, or before the loop */
		(void)!write(fd, p, n);
		return;
	}
	if (k->len == 0 && (r = sink_try(k, p, n)) < 0)
		return; /* nobody to write to: a closed or broken fd */
	p += r;
	n -= (size_t)r;
	if (n == 0)
		return;
	if (k->len + n > SINK_MAX) {
		k->dropped += n;
		return;
	}
	if (k->buf == NULL)
		k->buf = xmalloc(SINK_MAX);
	memcpy(k->buf + k->len, p, n);
	k->len += n;
	event_add(k->ev, NULL);
}

/* One line, prefix and all, in one write: lines of workers never mix. */
static void
emit_line(struct outstream *s, const char *p, size_t n)
{
	char buf[LINE_MAX_PREFIXED + NAME_MAX_LEN + 24];
	int k = snprintf(buf, sizeof(buf), "[%s] ", s->w->name);

	memcpy(buf + k, p, n);
	k += (int)n;
	if (n == 0 || p[n - 1] != '\n')
		buf[k++] = '\n';
	output_sink_write(s->which, buf, (size_t)k);
}

static void
to_inherit(struct outstream *s, const char *p, size_t n)
{
	const char *nl;
	size_t k;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) + 1 : n;
		if (s->line == NULL)
			s->line = xmalloc(LINE_MAX_PREFIXED);
		if (s->linelen + k > LINE_MAX_PREFIXED) {
			/* An over-long line goes out in pieces. */
			if (s->linelen > 0)
				emit_line(s, s->line, s->linelen);
			s->linelen = 0;
			if (k > LINE_MAX_PREFIXED)
				k = LINE_MAX_PREFIXED;
		}
		memcpy(s->line + s->linelen, p, k);
		s->linelen += k;
		if (s->line[s->linelen - 1] == '\n') {
			emit_line(s, s->line, s->linelen);
			s->linelen = 0;
		}
		p += k;
		n -= k;
	}
}

/* Read one chunk.  Returns 2 after data, 1 if none is there yet (EAGAIN),
 * 0 at EOF or on error. */
static int
read_chunk(struct outstream *s)
{
	ssize_t n;

	do
		n = read(s->fd, chunk, sizeof(chunk));
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return 1;
	if (n <= 0)
		return 0;
	if (s->w->agent->out[s->which - 1] == OUT_FILE)
		to_file(s, chunk, (size_t)n);
	else
		to_inherit(s, chunk, (size_t)n);
	if (s->w->fleet->ctl != NULL)
		control_output(s->w->fleet->ctl, s->w, s->which, chunk,
		    (size_t)n);
	return 2;
}

struct outstream *
output_open(struct worker *w, int which, int fd)
{
	struct outstream *s;

	s = xcalloc(1, sizeof(*s));
	s->w = w;
	s->which = which;
	s->fd = fd;
	s->ev = event_new(w->fleet->base, fd, EV_READ | EV_PERSIST, read_cb, s);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1) {
		log_warnx("agent %s: cannot watch its %s pipe", w->name,
		    which == 1 ? "stdout" : "stderr");
		if (s->ev != NULL)
			event_free(s->ev);
		close(fd);
		free(s);
		return NULL;
	}
	if (w->agent->out[which - 1] == OUT_FILE && w->logfd[which - 1] == -1 &&
	    log_open(w, which - 1) == -1)
		s->open_failed = true;
	return s;
}

static void
stream_free(struct outstream *s)
{
	if (s->linelen > 0)
		emit_line(s, s->line, s->linelen);
	free(s->line);
	event_free(s->ev);
	close(s->fd);
	if (s->w->out[s->which - 1] == s)
		s->w->out[s->which - 1] = NULL;
	free(s);
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outstream *s = arg;

	(void)fd;
	(void)what;
	if (read_chunk(s) == 0)
		stream_free(s);
}

void
output_close(struct outstream *s)
{
	size_t total = 0;
	int r;

	if (s == NULL)
		return;
	/*
	 * The run is over but its last words may still be in the pipe.  A
	 * stray grandchild could keep writing: take at most DRAIN_MAX.
	 */
	while ((r = read_chunk(s)) == 2 && total < DRAIN_MAX)
		total += CHUNK;
	(void)r;
	stream_free(s);
}

void
output_reopen(struct worker *w)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (w->logfd[i] != -1) {
			close(w->logfd[i]);
			w->logfd[i] = -1;
			log_open(w, i);
		}
	}
}

int
output_fd(const struct outstream *s)
{
	return s != NULL ? s->fd : -1;
}

void
output_flush_line(struct outstream *s)
{
	if (s != NULL && s->linelen > 0) {
		emit_line(s, s->line, s->linelen);
		s->linelen = 0;
	}
}

void
output_sink_flush(void)
{
	int i;

	for (i = 1; i <= 2; i++)
		if (sinks[i].len > 0)
			sink_cb(i, EV_WRITE, &sinks[i]);
}
