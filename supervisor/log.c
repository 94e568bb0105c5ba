/*
 * log.c: corrald's own messages, with a level and a timestamp, to stderr,
 * the journal or log_file, kept in a ring for corralctl log; each shape of
 * line rate limited; and the allocation wrappers that end the program when
 * memory runs out.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"

static enum log_level log_max = LOG_LVL_INFO;
static const char *log_prog = "corrald";

static const char *level_names[] = { "error", "warn", "info", "debug" };
static void (*log_writer)(int, const char *, size_t);

void
log_set_writer(void (*fn)(int, const char *, size_t))
{
	log_writer = fn;
}

void
log_init(enum log_level lvl, const char *prog)
{
	log_max = lvl;
	log_prog = prog;
}

static bool log_pinned; /* the command line set it: a reload must not */

void
log_set_level(enum log_level lvl)
{
	if (!log_pinned)
		log_max = lvl;
}

int
log_pinned_level(void)
{
	return log_pinned ? (int)log_max : -1;
}

void
log_pin_level(enum log_level lvl)
{
	log_max = lvl;
	log_pinned = true;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level l)
{
	return level_names[l];
}

/* The limiter: pure, the time is the caller's. */

void
log_rl_init(struct log_rl *rl, unsigned burst, unsigned rate,
    uint64_t window_ms)
{
	memset(rl, 0, sizeof(*rl));
	rl->burst = burst;
	rl->rate = rate;
	rl->window_ms = window_ms;
	rl->next_due_ms = UINT64_MAX;
}

uint64_t
log_shape(const char *msg, int level, char *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	size_t k = 0;
	const char *p;
	char c;

	h = (h ^ (uint64_t)(level + 1)) * 0x100000001b3ULL;
	for (p = msg; *p != '\0'; p++) {
		c = *p;
		if (c >= '0' && c <= '9') {
			while (p[1] >= '0' && p[1] <= '9')
				p++;
			c = '#';
		}
		/* The whole text makes the key, whatever fits in buf. */
		h = (h ^ (unsigned char)c) * 0x100000001b3ULL;
		if (k + 1 < len)
			buf[k++] = c;
	}
	if (len > 0)
		buf[k] = '\0';
	return h != 0 ? h : 1;
}

/* Refill s's tokens up to now (they never pass the burst). */
static void
rl_refill(const struct log_rl *rl, struct log_rl_slot *s, uint64_t now)
{
	uint64_t full = (uint64_t)rl->burst * 1000, add;

	if (now > s->seen_ms) {
		add = (now - s->seen_ms) * rl->rate;
		s->tokens = add >= full - s->tokens ? full : s->tokens + add;
		s->seen_ms = now;
	}
}

/*
 * The slot of key, found or taken.  A free way first; else one with
 * nothing to summarize, the least lately refilled (a full bucket is as
 * good as none).  NULL when every way has a count pending: the line then
 * goes unlimited rather than lose a count.
 */
static struct log_rl_slot *
rl_slot(struct log_rl *rl, uint64_t key, uint64_t now)
{
	struct log_rl_slot *set = rl->slot[key % LOG_RL_SETS], *v = NULL;
	int i;

	for (i = 0; i < LOG_RL_WAYS; i++)
		if (set[i].key == key)
			return &set[i];
	for (i = 0; i < LOG_RL_WAYS; i++) {
		if (set[i].key == 0) {
			v = &set[i];
			break;
		}
		if (set[i].suppressed == 0 && (v == NULL ||
		    set[i].seen_ms < v->seen_ms))
			v = &set[i];
	}
	if (v == NULL)
		return NULL;
	memset(v, 0, sizeof(*v));
	v->key = key;
	v->tokens = (uint64_t)rl->burst * 1000;
	v->seen_ms = now;
	return v;
}

bool
log_rl_admit(struct log_rl *rl, uint64_t key, int level, const char *shape,
    uint64_t now)
{
	struct log_rl_slot *s = rl_slot(rl, key, now);

	if (s == NULL)
		return true;
	rl_refill(rl, s, now);
	if (s->tokens >= 1000) {
		s->tokens -= 1000;
		return true;
	}
	if (s->suppressed++ == 0) {
		s->since_ms = now;
		s->level = level;
		snprintf(s->shape, sizeof(s->shape), "%s", shape);
		if (now + rl->window_ms < rl->next_due_ms)
			rl->next_due_ms = now + rl->window_ms;
	}
	rl->total++;
	return false;
}

size_t
log_rl_due(struct log_rl *rl, uint64_t now, bool all,
    void (*fn)(void *, int, const char *, uint64_t, uint64_t), void *arg)
{
	uint64_t next = UINT64_MAX, due;
	size_t n = 0;
	int i, j;

	if (!all && now < rl->next_due_ms)
		return 0;
	for (i = 0; i < LOG_RL_SETS; i++) {
		for (j = 0; j < LOG_RL_WAYS; j++) {
			struct log_rl_slot *s = &rl->slot[i][j];
			if (s->suppressed == 0)
				continue;
			due = s->since_ms + rl->window_ms;
			if (!all && now < due) {
				if (due < next)
					next = due;
				continue;
			}
			fn(arg, s->level, s->shape, s->suppressed,
			    now > s->since_ms ? now - s->since_ms : 0);
			s->suppressed = 0;
			n++;
		}
	}
	rl->next_due_ms = next;
	return n;
}

/* corrald's limiter, and the timer that writes summaries falling due. */
static struct log_rl log_limit;
static bool log_limit_ready;
static struct event *log_due_ev;

/* The ring: pure, its buffer the caller's. */

void
log_ring_init(struct log_ring *r, char *buf, size_t cap)
{
	r->buf = buf;
	r->cap = cap;
	r->start = r->len = 0;
}

/* m bytes at position pos, wrapping, each written twice (buf's mirror). */
static void
ring_put(struct log_ring *r, size_t pos, const char *p, size_t m)
{
	size_t first = m < r->cap - pos ? m : r->cap - pos;

	memcpy(r->buf + pos, p, first);
	memcpy(r->buf + pos + r->cap, p, first);
	memcpy(r->buf, p + first, m - first);
	memcpy(r->buf + r->cap, p + first, m - first);
}

void
log_ring_add(struct log_ring *r, const char *line, size_t n)
{
	const char *nl;
	size_t end, d;

	if (r->cap < 2)
		return;
	if (n > r->cap - 1)
		n = r->cap - 1;
	/* The oldest lines go, whole, until this one fits. */
	while (r->len + n + 1 > r->cap) {
		nl = memchr(r->buf + r->start, '\n', r->len);
		d = (size_t)(nl - (r->buf + r->start)) + 1;
		r->start = (r->start + d) % r->cap;
		r->len -= d;
	}
	end = (r->start + r->len) % r->cap;
	ring_put(r, end, line, n);
	ring_put(r, (end + n) % r->cap, "\n", 1);
	r->len += n + 1;
}

size_t
log_ring_last(const struct log_ring *r, unsigned n,
    void (*fn)(void *, const char *, size_t), void *arg)
{
	const char *base = r->buf + r->start, *nl;
	size_t i, got = 0;
	unsigned seen = 0;

	if (n == 0 || r->len == 0)
		return 0;
	/* Back from the last newline to the start of the n-th last line. */
	for (i = r->len - 1; i > 0; i--)
		if (base[i - 1] == '\n' && ++seen == n)
			break;
	while (i < r->len) {
		nl = memchr(base + i, '\n', r->len - i);
		fn(arg, base + i, (size_t)(nl - (base + i)));
		i = (size_t)(nl - base) + 1;
		got++;
	}
	return got;
}

/* The journal: JOURNAL_STREAM=DEV:INO names stderr's file (systemd.exec). */

bool
log_journal_match(const char *env, uint64_t dev, uint64_t ino)
{
	unsigned long long d, i;
	char *end;

	if (env == NULL || !isdigit((unsigned char)env[0]))
		return false;
	errno = 0;
	d = strtoull(env, &end, 10);
	if (errno != 0 || *end != ':' || !isdigit((unsigned char)end[1]))
		return false;
	i = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	return d == dev && i == ino;
}

static bool log_to_journal;

void
log_detect_journal(void)
{
	struct stat st;

	/* What systemd set may be stale: stderr itself must be that file. */
	log_to_journal = fstat(2, &st) == 0 && log_journal_match(
	    getenv("JOURNAL_STREAM"), (uint64_t)st.st_dev, (uint64_t)st.st_ino);
}

bool
log_journal(void)
{
	return log_to_journal;
}

const char *
log_journal_prefix(enum log_level l)
{
	/* sd-daemon(3): LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
	static const char *prio[] = { "<3>", "<4>", "<6>", "<7>" };

	return log_to_journal ? prio[l] : "";
}

/*
 * corrald's log_file.  A line that cannot go there goes to stderr: before
 * it opens, when it cannot be opened, while it cannot be written (said
 * once, then again when it can).  Lines logged while a line is written
 * there (a rotation's trouble) go to stderr too.
 */
static struct {
	char *path; /* owned; NULL: no log_file */
	int fd;     /* -1: not open */
	uint64_t size, max;
	unsigned backups;
	bool failing;  /* a write failed; said on stderr */
	uint64_t lost; /* lines sent to stderr since */
	bool busy;     /* writing a line */
} lf = { .fd = -1 };

/* Every line written, whatever its destination (corralctl log). */
static char ring_buf[2 * LOG_RING_BYTES]; /* zero pages until written */
static struct log_ring ring;
static void (*listener)(void *, const char *, size_t);
static void *listener_arg;
static bool in_listener;

static void
to_stderr(const char *p, size_t n)
{
	if (log_writer != NULL)
		log_writer(2, p, n);
	else {
		fwrite(p, 1, n, stderr);
		fflush(stderr);
	}
}

static void
file_rotate(void)
{
	char why[128];

	logfile_rotate(lf.fd, lf.path, lf.backups, "log_file");
	if ((lf.fd = logfile_open(lf.path, &lf.size, why, sizeof(why))) == -1)
		log_warnx("log_file: cannot open %s after rotating it: %s; "
		    "corrald's messages go to stderr until it is reopened "
		    "(SIGHUP)", lf.path, why);
}

/* Write n bytes (whole lines) to the file; 0, or -1 with errno. */
static int
file_write(const char *p, size_t n)
{
	ssize_t r;
	size_t k;

	lf.busy = true;
	while (n > 0) {
		if (lf.fd != -1 && lf.max > 0 && lf.size >= lf.max)
			file_rotate();
		if (lf.fd == -1)
			break;
		if ((k = logfile_fit(p, n, lf.size, lf.max)) == 0) {
			file_rotate();
			continue;
		}
		do
			r = write(lf.fd, p, k);
		while (r == -1 && errno == EINTR);
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			break;
		}
		lf.size += (size_t)r;
		p += r;
		n -= (size_t)r;
	}
	lf.busy = false;
	return n == 0 ? 0 : -1;
}

/* What the file's trouble, or its end, is to say: after the line. */
static char lf_note[1024];

/* line (n bytes, whole lines) to log_file; false: it goes to stderr. */
static bool
to_file(const char *line, size_t n)
{
	if (lf.path == NULL || lf.busy || lf.fd == -1)
		return false;
	if (file_write(line, n) == 0) {
		if (lf.failing)
			snprintf(lf_note, sizeof(lf_note), "log_file: %s written "
			    "again; %llu lines went to stderr meanwhile", lf.path,
			    (unsigned long long)lf.lost);
		lf.failing = false;
		lf.lost = 0;
		return true;
	}
	if (!lf.failing && lf.fd != -1) {
		lf.failing = true;
		snprintf(lf_note, sizeof(lf_note), "log_file: cannot write %s: "
		    "%s; corrald's messages go to stderr until it can be "
		    "written again (said once)", lf.path, strerror(errno));
	}
	lf.lost++;
	return false;
}

static void
log_emit(enum log_level lvl, const char *msg)
{
	char when[32], line[1200], jline[1100];
	struct timespec ts;
	struct tm tm;
	int n, j;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ld %s: %s: %s\n", when,
	    ts.tv_nsec / 1000000, log_prog, level_names[lvl], msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (ring.buf == NULL)
		log_ring_init(&ring, ring_buf, LOG_RING_BYTES);
	log_ring_add(&ring, line, (size_t)n - 1);
	if (!to_file(line, (size_t)n)) {
		if (!log_to_journal)
			to_stderr(line, (size_t)n);
		else {
			/* journald stamps the time, and names corrald. */
			j = snprintf(jline, sizeof(jline), "%s%s: %s\n",
			    log_journal_prefix(lvl), level_names[lvl], msg);
			if ((size_t)j >= sizeof(jline)) {
				j = sizeof(jline) - 1;
				jline[j - 1] = '\n';
			}
			to_stderr(jline, (size_t)j);
		}
	}
	if (listener != NULL && !in_listener) {
		in_listener = true;
		listener(listener_arg, line, (size_t)n - 1);
		in_listener = false;
	}
	if (lf_note[0] != '\0') {
		char note[sizeof(lf_note)];

		memcpy(note, lf_note, sizeof(note));
		lf_note[0] = '\0';
		log_emit(LOG_LVL_WARN, note);
	}
}

void
log_recent(unsigned n, void (*fn)(void *, const char *, size_t), void *arg)
{
	if (ring.buf != NULL)
		log_ring_last(&ring, n, fn, arg);
}

void
log_set_listener(void (*fn)(void *, const char *, size_t), void *arg)
{
	listener = fn;
	listener_arg = arg;
}

void
log_file_close(void)
{
	if (lf.fd != -1)
		close(lf.fd);
	free(lf.path);
	lf.path = NULL;
	lf.fd = -1;
	lf.failing = false;
	lf.lost = 0;
}

int
log_file_open(const char *path, uint64_t max, unsigned backups)
{
	char why[128];
	uint64_t size;
	bool same = path != NULL && lf.path != NULL &&
	    strcmp(path, lf.path) == 0;
	int fd;

	if (path == NULL) {
		if (lf.path != NULL)
			log_info("log_file: unset; corrald's messages go to "
			    "stderr from now on");
		log_file_close();
		return 0;
	}
	if ((fd = logfile_open(path, &size, why, sizeof(why))) == -1) {
		log_file_close();
		lf.path = xstrdup(path);
		lf.max = max;
		lf.backups = backups;
		log_warnx("log_file: cannot open %s: %s; corrald's messages "
		    "go to stderr until it is reopened (SIGHUP)", path, why);
		return -1;
	}
	if (!same)
		log_info("log_file: corrald's messages go to %s from now on",
		    path);
	log_file_close();
	lf.path = xstrdup(path);
	lf.fd = fd;
	lf.size = size;
	lf.max = max;
	lf.backups = backups;
	return 0;
}

static void
summary_cb(void *arg, int level, const char *shape, uint64_t n, uint64_t ms)
{
	char msg[LOG_SHAPE_MAX + 96];

	(void)arg;
	snprintf(msg, sizeof(msg), "%s: %llu more like this suppressed in "
	    "the last %.1f s", shape, (unsigned long long)n, (double)ms /
	    1000.0);
	log_emit((enum log_level)level, msg);
}

static void
log_arm(void)
{
	uint64_t now;

	if (log_due_ev == NULL || log_limit.next_due_ms == UINT64_MAX ||
	    evtimer_pending(log_due_ev, NULL))
		return;
	now = now_mono_ms();
	timer_add_ms(log_due_ev, log_limit.next_due_ms > now ?
	    log_limit.next_due_ms - now : 0);
}

static void
log_due_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_rl_due(&log_limit, now_mono_ms(), false, summary_cb, NULL);
	log_arm();
}

void
log_set_base(struct event_base *base)
{
	if (log_due_ev != NULL) {
		event_free(log_due_ev);
		log_due_ev = NULL;
	}
	if (base != NULL && (log_due_ev = evtimer_new(base, log_due_cb,
	    NULL)) == NULL)
		fatal("cannot create the log's timer");
	log_arm();
}

void
log_flush_suppressed(void)
{
	int saved = errno;

	if (log_limit_ready)
		log_rl_due(&log_limit, now_mono_ms(), true, summary_cb, NULL);
	errno = saved;
}

uint64_t
log_suppressed_total(void)
{
	return log_limit.total;
}

/* limited: false for the last words of fatal(), which nothing may hide. */
static void
log_vwrite(enum log_level lvl, const char *fmt, va_list ap, int err,
    bool limited)
{
	char msg[1024], shape[LOG_SHAPE_MAX];
	uint64_t now, key;
	int n;

	if (lvl > log_max)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err != 0 && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(err));
	if (limited) {
		if (!log_limit_ready) {
			log_rl_init(&log_limit, LOG_BURST, LOG_RATE,
			    LOG_WINDOW_MS);
			log_limit_ready = true;
		}
		now = now_mono_ms();
		/* What fell due goes out before what comes now. */
		log_rl_due(&log_limit, now, false, summary_cb, NULL);
		key = log_shape(msg, (int)lvl, shape, sizeof(shape));
		if (!log_rl_admit(&log_limit, key, (int)lvl, shape, now)) {
			log_arm();
			return;
		}
	}
	log_emit(lvl, msg);
}

#define LOG_FN(fn, lvl, with_errno)                          \
	void fn(const char *fmt, ...)                        \
	{                                                    \
		int saved = errno;                           \
		va_list ap;                                  \
		va_start(ap, fmt);                           \
		log_vwrite(lvl, fmt, ap, with_errno ? saved : 0, true); \
		va_end(ap);                                  \
		errno = saved;                               \
	}

LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_error, LOG_LVL_ERROR, 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, fmt, ap, saved, false);
	va_end(ap);
	exit(1);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("out of memory allocating %zu bytes", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		fatal("allocation of %zu x %zu bytes overflows", n, size);
	p = realloc(old, n * size != 0 ? n * size : 1);
	if (p == NULL)
		fatal("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("out of memory copying a string");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		fatal("out of memory copying a string");
	return p;
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatal("out of memory formatting a string");
	return n;
}
