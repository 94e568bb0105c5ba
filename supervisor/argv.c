/*
 * argv.c: turning a command line from the fleet file into argv words, the
 * way a POSIX shell would quote it but without running a shell, and the
 * %(agent), %(instance), %(here) expansions.
 */
#include <stdlib.h>
#include <string.h>

#include "corrald.h"

void
strv_init(struct strv *sv)
{
	sv->v = NULL;
	sv->n = 0;
	sv->cap = 0;
}

void
strv_push_own(struct strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xreallocarray(sv->v, sv->cap, sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void
strv_push(struct strv *sv, const char *s)
{
	strv_push_own(sv, xstrdup(s));
}

void
strv_free(struct strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	strv_init(sv);
}

/* A growing word; the buffer is owned until handed to a strv. */
struct word {
	char *s;
	size_t n, cap;
	bool any; /* quotes make a word even when empty: '' */
};

static void
word_put(struct word *w, char c)
{
	if (w->n + 2 > w->cap) {
		w->cap = w->cap ? w->cap * 2 : 32;
		w->s = xreallocarray(w->s, w->cap, 1);
	}
	w->s[w->n++] = c;
	w->s[w->n] = '\0';
	w->any = true;
}

static void
word_end(struct word *w, struct strv *out)
{
	if (!w->any)
		return;
	if (w->s == NULL)
		w->s = xstrdup("");
	strv_push_own(out, w->s);
	w->s = NULL;
	w->n = w->cap = 0;
	w->any = false;
}

int
argv_split(const char *s, const char *extra_seps, struct strv *out,
    const char **why)
{
	struct word w = { NULL, 0, 0, false };
	const char *p;
	size_t n0 = out->n;

	if (extra_seps == NULL)
		extra_seps = "";
	for (p = s; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' ||
		    strchr(extra_seps, *p) != NULL) {
			word_end(&w, out);
		} else if (*p == '\\') {
			if (p[1] == '\0') {
				*why = "backslash at the end of the value";
				goto fail;
			}
			word_put(&w, *++p);
		} else if (*p == '\'') {
			w.any = true;
			for (p++; *p != '\'' && *p != '\0'; p++)
				word_put(&w, *p);
			if (*p == '\0') {
				*why = "unterminated single quote (a ';' after a "
				    "blank starts a comment in this file)";
				goto fail;
			}
		} else if (*p == '"') {
			w.any = true;
			for (p++; *p != '"' && *p != '\0'; p++) {
				if (*p == '\\' && p[1] != '\0' &&
				    strchr("\"\\$`", p[1]) != NULL)
					p++;
				word_put(&w, *p);
			}
			if (*p == '\0') {
				*why = "unterminated double quote (a ';' after a "
				    "blank starts a comment in this file)";
				goto fail;
			}
		} else
			word_put(&w, *p);
	}
	word_end(&w, out);
	return 0;
fail:
	/* Leave out as it was: drop the words this call added. */
	free(w.s);
	while (out->n > n0)
		free(out->v[--out->n]);
	if (out->n == 0)
		strv_free(out); /* and the array, if this call made it */
	else
		out->v[out->n] = NULL;
	return -1;
}

/*
 * %(ENV_NAME) at p, whose name is the n bytes at name: corrald's
 * environment variable NAME.  Its value (borrowed from environ), or NULL
 * with the reason in whybuf.
 */
static const char *
env_value(const char *name, size_t n, char *whybuf, size_t len)
{
	char *key;
	const char *v;

	if (n == 0) {
		snprintf(whybuf, len, "%%(ENV_) names no variable");
		return NULL;
	}
	key = xstrndup(name, n);
	v = getenv(key);
	if (v == NULL)
		snprintf(whybuf, len, "%%(ENV_%.*s): %.*s is not set in "
		    "corrald's environment", (int)(n > 40 ? 40 : n), name,
		    (int)(n > 40 ? 40 : n), name);
	free(key);
	return v;
}

#define BAD_PERCENT "a '%' must start %(agent), %(instance), %(here), " \
	"%(ENV_NAME) or be written %%"

/*
 * The messages name the expansion at fault; they live in a static buffer
 * until the next failing call.
 */
char *
expand_vars(const char *s, const struct expand_vars *vars, const char **why)
{
	static char whybuf[160];
	struct word w = { NULL, 0, 0, false };
	const char *p, *val, *end;
	size_t n;

	for (p = s; *p != '\0'; p++) {
		if (*p != '%') {
			word_put(&w, *p);
			continue;
		}
		if (p[1] == '%') {
			word_put(&w, '%');
			p++;
			continue;
		}
		if (p[1] != '(' || (end = strchr(p + 2, ')')) == NULL) {
			*why = BAD_PERCENT;
			free(w.s);
			return NULL;
		}
		n = (size_t)(end - (p + 2));
		if (n == 5 && strncmp(p + 2, "agent", 5) == 0)
			val = vars->agent;
		else if (n == 8 && strncmp(p + 2, "instance", 8) == 0)
			val = vars->instance;
		else if (n == 4 && strncmp(p + 2, "here", 4) == 0)
			val = vars->here;
		else if (n >= 4 && strncmp(p + 2, "ENV_", 4) == 0) {
			if ((val = env_value(p + 6, n - 4, whybuf,
			    sizeof(whybuf))) == NULL) {
				*why = whybuf;
				free(w.s);
				return NULL;
			}
		} else {
			snprintf(whybuf, sizeof(whybuf), "unknown expansion "
			    "%%(%.*s) (known: %%(agent), %%(instance), "
			    "%%(here), %%(ENV_NAME))", (int)(n > 32 ? 32 : n),
			    p + 2);
			*why = whybuf;
			free(w.s);
			return NULL;
		}
		if (val == NULL) {
			snprintf(whybuf, sizeof(whybuf),
			    "%%(%.*s) has no value here", (int)n, p + 2);
			*why = whybuf;
			free(w.s);
			return NULL;
		}
		for (; *val != '\0'; val++)
			word_put(&w, *val);
		p = end;
	}
	return w.s != NULL ? w.s : xstrdup("");
}

/*
 * Only %(ENV_NAME) replaced, by its value with each '%' doubled: s stays
 * a template for expand_vars, which no longer depends on the environment.
 * A malformed '%' is left for expand_vars to report.
 */
char *
expand_env(const char *s, const char **why)
{
	static char whybuf[160];
	struct word w = { NULL, 0, 0, false };
	const char *p, *val, *end;
	size_t n;

	for (p = s; *p != '\0'; p++) {
		if (*p == '%' && p[1] == '%') {
			word_put(&w, '%');
			word_put(&w, '%');
			p++;
			continue;
		}
		if (*p != '%' || strncmp(p + 1, "(ENV_", 5) != 0 ||
		    (end = strchr(p + 2, ')')) == NULL) {
			word_put(&w, *p);
			continue;
		}
		n = (size_t)(end - (p + 6));
		if ((val = env_value(p + 6, n, whybuf, sizeof(whybuf))) ==
		    NULL) {
			*why = whybuf;
			free(w.s);
			return NULL;
		}
		for (; *val != '\0'; val++) {
			if (*val == '%')
				word_put(&w, '%');
			word_put(&w, *val);
		}
		p = end;
	}
	return w.s != NULL ? w.s : xstrdup("");
}

/* Does template s name %(ENV_...)?  ("%%(ENV_X)" is a literal text.) */
bool
has_env(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '%' && s[1] == '%')
			s++;
		else if (strncmp(s, "%(ENV_", 6) == 0)
			return true;
	}
	return false;
}

bool
str_same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}
