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
	char line[LINE_MAX_PREFIXED];
	size_t linelen;
	bool warned;
};

static char chunk[CHUNK]; /* the loop is single-threaded */

static void read_cb(evutil_socket_t, short, void *);

static int
log_open(struct worker *w, int i)
{
	off_t end;

	w->logfd[i] = open(w->logpath[i], O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0640);
	if (w->logfd[i] == -1) {
		log_warn("agent %s: cannot open log %s", w->name, w->logpath[i]);
		return -1;
	}
	end = lseek(w->logfd[i], 0, SEEK_END);
	w->logsize[i] = end > 0 ? (uint64_t)end : 0;
	return 0;
}

/* path -> path.1 -> ... -> path.N; the oldest is replaced. */
static void
log_rotate(struct worker *w, int i)
{
	const struct agent_conf *a = w->agent;
	char *from, *to;
	unsigned k;

	close(w->logfd[i]);
	w->logfd[i] = -1;
	if (a->log_backups == 0) {
		if (truncate(w->logpath[i], 0) == -1)
			log_warn("agent %s: cannot truncate %s", w->name,
			    w->logpath[i]);
	} else {
		for (k = a->log_backups; k > 0; k--) {
			if (k == 1)
				from = xstrdup(w->logpath[i]);
			else
				xasprintf(&from, "%s.%u", w->logpath[i], k - 1);
			xasprintf(&to, "%s.%u", w->logpath[i], k);
			if (rename(from, to) == -1 && errno != ENOENT)
				log_warn("agent %s: cannot rotate %s to %s",
				    w->name, from, to);
			free(from);
			free(to);
		}
	}
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

/*
 * The chunk that crosses log_max_bytes is cut after its last newline, so
 * that every rotated file holds whole lines (a file may pass the limit by
 * less than one chunk).
 */
static void
to_file(struct outstream *s, const char *p, size_t n)
{
	struct worker *w = s->w;
	uint64_t max = w->agent->log_max_bytes;
	int i = s->which - 1;
	const char *nl;
	size_t head;

	if (w->logfd[i] == -1 && log_open(w, i) == -1)
		return;
	if (max > 0 && w->logsize[i] + n > max) {
		nl = memrchr(p, '\n', n);
		head = nl != NULL ? (size_t)(nl - p) + 1 : 0;
		if (head == 0 && w->logsize[i] < max)
			head = n; /* no line end yet: keep filling this file */
		write_all(w->logfd[i], p, head, s, w->logpath[i]);
		w->logsize[i] += head;
		p += head;
		n -= head;
		if (n == 0)
			return;
		log_rotate(w, i);
		if (w->logfd[i] == -1)
			return;
	}
	write_all(w->logfd[i], p, n, s, w->logpath[i]);
	w->logsize[i] += n;
}

static void
emit_line(struct outstream *s, const char *p, size_t n)
{
	char prefix[NAME_MAX_LEN + 24];
	int k = snprintf(prefix, sizeof(prefix), "[%s] ", s->w->name);
	const char *what = s->which == 1 ? "stdout" : "stderr";

	write_all(s->which, prefix, (size_t)k, s, what);
	write_all(s->which, p, n, s, what);
	if (n == 0 || p[n - 1] != '\n')
		write_all(s->which, "\n", 1, s, what);
}

static void
to_inherit(struct outstream *s, const char *p, size_t n)
{
	const char *nl;
	size_t k;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) + 1 : n;
		if (s->linelen + k > sizeof(s->line)) {
			/* An over-long line goes out in pieces. */
			emit_line(s, s->line, s->linelen);
			s->linelen = 0;
			if (k > sizeof(s->line))
				k = sizeof(s->line);
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
		log_warnx("agent %s: cannot watch its output", w->name);
		if (s->ev != NULL)
			event_free(s->ev);
		close(fd);
		free(s);
		return NULL;
	}
	if (w->agent->out[which - 1] == OUT_FILE && w->logfd[which - 1] == -1)
		log_open(w, which - 1);
	return s;
}

static void
stream_free(struct outstream *s)
{
	if (s->linelen > 0)
		emit_line(s, s->line, s->linelen);
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
