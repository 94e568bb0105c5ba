/*
 * envfile.c: an agent's env_file, KEY=VALUE lines in the subset of
 * systemd's EnvironmentFile= format that docs/CONFIG.md spells out.
 * corrald reads each one at every spawn, before it forks (worker.c), and
 * once when the fleet file is loaded (config.c), so that a mistake is
 * named with its file and line both times.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corrald.h"

/* Far beyond an environment: a larger file is a mistake. */
#define ENVFILE_MAX (1 << 20)
/* Variables of one file: a later one replaces an earlier by a search. */
#define ENVFILE_VARS 4096

struct buf {
	char *s;
	size_t n, cap;
};

static void
buf_put(struct buf *b, char c)
{
	if (b->n + 2 > b->cap) {
		b->cap = b->cap == 0 ? 64 : b->cap * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	b->s[b->n++] = c;
	b->s[b->n] = '\0';
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One line (s, n bytes, no line end) into b as KEY=VALUE; *skip when it
 * is blank or a comment.  0, or -1 with the reason in why, which quotes
 * the line only when quote is set: the line may hold a secret.
 */
static int
parse_line(const char *s, size_t n, struct buf *b, bool *skip, bool quote,
    char *why, size_t len)
{
	const char *end = s + n, *key;
	size_t klen;
	char q;

	*skip = false;
	while (s < end && is_blank(*s))
		s++;
	if (s == end || *s == '#' || *s == ';') {
		*skip = true;
		return 0;
	}
	if (end - s > 7 && strncmp(s, "export", 6) == 0 && is_blank(s[6]))
		for (s += 6; s < end && is_blank(*s); s++)
			;
	key = s;
	if (s < end && (isalpha((unsigned char)*s) || *s == '_'))
		while (s < end && (isalnum((unsigned char)*s) || *s == '_'))
			s++;
	klen = (size_t)(s - key);
	while (s < end && is_blank(*s))
		s++;
	if (klen == 0 || s == end || *s != '=') {
		snprintf(why, len, "expected KEY=VALUE (KEY: letters, digits, "
		    "'_', not starting with a digit)%s%.*s%s", quote ?
		    ", found '" : "", quote ? (int)(end - key > 60 ? 60 :
		    end - key) : 0, key, quote ? "'" : "");
		return -1;
	}
	if (klen >= 7 && strncmp(key, "CORRAL_", 7) == 0) {
		snprintf(why, len, "'%.*s': CORRAL_ names are reserved "
		    "(corrald sets them)", (int)klen, key);
		return -1;
	}
	for (s++; s < end && is_blank(*s); s++)
		;
	b->n = 0;
	while (klen-- > 0)
		buf_put(b, *key++);
	buf_put(b, '=');
	if (s < end && (*s == '\'' || *s == '"')) {
		q = *s++;
		for (; s < end && *s != q; s++) {
			if (q == '"' && *s == '\\' && s + 1 < end &&
			    strchr("\"\\$`", s[1]) != NULL)
				s++;
			buf_put(b, *s);
		}
		if (s == end) {
			snprintf(why, len, "unterminated %s quote (a value "
			    "ends on its line)", q == '"' ? "double" :
			    "single");
			return -1;
		}
		for (s++; s < end && is_blank(*s); s++)
			;
		if (s < end) {
			snprintf(why, len, "text after the closing quote%s%.*s%s",
			    quote ? ": '" : "", quote ? (int)(end - s > 40 ? 40 :
			    end - s) : 0, s, quote ? "'" : "");
			return -1;
		}
		return 0;
	}
	/* Unquoted: a backslash takes the next character as it is. */
	while (end > s && is_blank(end[-1]))
		end--;
	for (; s < end; s++) {
		if (*s == '\\') {
			if (s + 1 == end) {
				snprintf(why, len, "a backslash at the end of "
				    "the line (continuation lines are not "
				    "read)");
				return -1;
			}
			s++;
		}
		buf_put(b, *s);
	}
	return 0;
}

/* In out, the index of the string with the KEY of kv, or out->n. */
static size_t
find_key(const struct strv *out, const char *kv)
{
	size_t klen = strcspn(kv, "=") + 1, i;

	for (i = 0; i < out->n; i++)
		if (strncmp(out->v[i], kv, klen) == 0)
			return i;
	return out->n;
}

static int
parse_text(const char *text, size_t len, struct strv *out, bool quote,
    unsigned *line, char *why, size_t whylen)
{
	struct buf b = { NULL, 0, 0 };
	const char *p = text, *end = text + len, *nl;
	size_t n0 = out->n, n, at;
	bool skip;

	*line = 0;
	while (p < end) {
		(*line)++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (memchr(p, '\0', n) != NULL) {
			snprintf(why, whylen, "line contains a NUL byte");
			goto fail;
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;
		/* A byte-order mark, as an editor may write one. */
		if (*line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
			p += 3;
			n -= 3;
		}
		if (parse_line(p, n, &b, &skip, quote, why, whylen) == -1)
			goto fail;
		if (!skip && out->n - n0 >= ENVFILE_VARS) {
			snprintf(why, whylen, "more than %d variables",
			    ENVFILE_VARS);
			goto fail;
		}
		if (!skip) {
			/*
			 * A later line replaces an earlier one, of this file
			 * or of one read before it into out.
			 */
			if ((at = find_key(out, b.s)) < out->n) {
				free(out->v[at]);
				out->v[at] = xstrdup(b.s);
			} else
				strv_push(out, b.s);
		}
		p = nl != NULL ? nl + 1 : end;
	}
	free(b.s);
	return 0;
fail:
	free(b.s);
	while (out->n > n0)
		free(out->v[--out->n]);
	if (out->v != NULL)
		out->v[out->n] = NULL;
	errno = EINVAL;
	return -1;
}

int
envfile_parse(const char *text, size_t len, struct strv *out,
    unsigned *line, char *why, size_t whylen)
{
	return parse_text(text, len, out, true, line, why, whylen);
}

int
envfile_read(const char *path, bool optional, bool quote, struct strv *out,
    char *why, size_t whylen)
{
	struct stat st;
	char *text, reason[256];
	size_t got = 0;
	ssize_t n;
	unsigned line;
	int fd;

	/* Not blocking on a FIFO: corrald reads it in its loop. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) ==
	    -1) {
		int saved = errno;
		if (optional && errno == ENOENT)
			return 0;
		snprintf(why, whylen, "%s: cannot open: %s", path,
		    strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		int saved = errno;
		snprintf(why, whylen, "%s: cannot stat: %s", path,
		    strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > ENVFILE_MAX) {
		/* A FIFO or a device: nothing corrald should wait on. */
		snprintf(why, whylen, "%s: %s", path, S_ISREG(st.st_mode) ?
		    "larger than 1 MiB" : "not a regular file");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, text + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			int saved = errno;
			snprintf(why, whylen, "%s: read error: %s", path,
			    strerror(saved));
			close(fd);
			free(text);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break; /* shrunk under us: what is there */
		got += (size_t)n;
	}
	close(fd);
	text[got] = '\0';
	if (parse_text(text, got, out, quote, &line, reason,
	    sizeof(reason)) == -1) {
		snprintf(why, whylen, "%s:%u: %s", path, line, reason);
		free(text);
		errno = EINVAL;
		return -1;
	}
	free(text);
	return 0;
}
