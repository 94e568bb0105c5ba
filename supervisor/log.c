/*
 * log.c: corrald's own messages, to stderr, with a level and a timestamp,
 * and the allocation wrappers that end the program when memory runs out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

static void
log_vwrite(enum log_level lvl, const char *fmt, va_list ap, int err)
{
	char when[32], msg[1024], line[1200];
	struct timespec ts;
	int n;
	struct tm tm;

	if (lvl > log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err != 0)
		n = snprintf(line, sizeof(line), "%s.%03ld %s: %s: %s: %s\n",
		    when, ts.tv_nsec / 1000000, log_prog, level_names[lvl], msg,
		    strerror(err));
	else
		n = snprintf(line, sizeof(line), "%s.%03ld %s: %s: %s\n", when,
		    ts.tv_nsec / 1000000, log_prog, level_names[lvl], msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (log_writer != NULL)
		log_writer(2, line, (size_t)n);
	else {
		fwrite(line, 1, (size_t)n, stderr);
		fflush(stderr);
	}
}

#define LOG_FN(fn, lvl, with_errno)                          \
	void fn(const char *fmt, ...)                        \
	{                                                    \
		int saved = errno;                           \
		va_list ap;                                  \
		va_start(ap, fmt);                           \
		log_vwrite(lvl, fmt, ap, with_errno ? saved : 0); \
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
	log_vwrite(LOG_LVL_ERROR, fmt, ap, saved);
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
