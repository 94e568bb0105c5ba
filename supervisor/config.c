/*
 * config.c: the fleet file.  inih splits lines into (section, key, value);
 * a reader of ours feeds it whole lines and counts them, so that every error
 * has its line; then the entries are checked and resolved into a struct
 * config.  All errors are collected; a file with any error yields nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "corrald.h"

/* Longer lines are refused: a value that long is a mistake or an attack. */
#define CONFIG_LINE_MAX 8192
/* A fleet file is read whole (kept for a reexec): this is far beyond one. */
#define CONFIG_FILE_MAX (64 << 20)
/*
 * Did-you-mean among the file's own names, per load, in character pairs
 * compared: thousands of mistakes' worth, a fraction of a second at most.
 */
#define SUGGEST_BUDGET (50ULL * 1000 * 1000)
/* What --check prints for http_token: a secret stays off the terminal. */
#define HIDDEN_TOKEN "<hidden>"
/* env_file entries per agent: each is read at every spawn. */
#define ENV_FILES_MAX 32
/*
 * The first line of the text a config keeps when [include] brought in
 * other files: then the text is a bundle of every file read, so that a
 * reexec parses what the running configuration was made of, not what the
 * files say by then.  After it, per file: ";file TEXTLEN PATHLEN PATH\n"
 * and the TEXTLEN bytes of the file, the fleet file first.
 */
#define BUNDLE_MAGIC ";corral-bundle 1\n"

/*
 * One file of the configuration: the fleet file, or one [include] named.
 * Lines are numbered across the files, in the order they are read: line
 * L of this file is line base + L of the parse, so that every line is
 * one number and errors sort by file, then line.
 */
struct srcfile {
	char *path;     /* as messages name it */
	char *real;     /* resolved, to find a file included twice; or NULL */
	char *dir;      /* the directory its [include] patterns start from */
	char *text;     /* its bytes: in the config's text, or own_text */
	size_t len;
	unsigned base, nlines;
	size_t first_sec, nsecs; /* its sections */
	unsigned inc_line; /* the line of the [include] that named it; 0 */
	bool own_text;  /* text is ours to free */
};

struct raw_section {
	char *name;
	unsigned line;
	bool broken; /* a header without ']', already reported */
	/*
	 * Its entries: entries[first] to entries[first + nentries - 1].  An
	 * entry always belongs to the last section read, so each section's
	 * entries are together, in file order.
	 */
	size_t first, nentries;
};

struct raw_entry {
	int section; /* index into sections, -1 before any */
	char *key;
	char *value; /* owned; continuation lines joined with a space */
	size_t vlen, vcap; /* value's length, and its buffer's size */
	unsigned line;
	bool refused; /* its line was refused whole (and reported) */
};

struct parse {
	const char *path;
	struct srcfile *files; /* files[0] is the fleet file */
	size_t nfiles, filecap;
	bool replay;      /* a bundle: its files, not [include]'s patterns */
	bool had_include; /* some file has an [include] */
	unsigned cur_base; /* the base of the file being read */
	size_t cur_sec;   /* its first section */
	/* env_file checks, each file read once per load: result by path. */
	struct nametab efseen;
	struct strv efpath, efwhy; /* efwhy[i]: "" when efpath[i] is good */
	const char *text; /* borrowed: the whole file being read */
	size_t textlen, pos;
	const char *buf; /* the current line, in text; len bytes */
	size_t len, fed;
	unsigned lineno;
	bool indented;  /* the current line starts with a blank */
	bool have_key;  /* a key was seen in the current section */
	bool line_bad;  /* we reported this line: inih gets an empty one */

	struct raw_section *sections;
	size_t nsections, seccap;
	struct raw_entry *entries;
	size_t nentries, entcap;
	struct config_errors *errs;
	unsigned *errline; /* the line of each message in errs */
	size_t errcap;
	struct nametab said; /* the messages in errs, each said once */
	unsigned nerrs;
	/*
	 * What is left of the work did-you-mean may do among the file's own
	 * names (in character pairs compared): a file of many mistakes must
	 * not make loading quadratic.
	 */
	uint64_t suggest_budget;
};

/*
 * v, of room for *cap elements of size sz, n in use: with room for one
 * more, by doubling, so that appending stays linear.
 */
static void *
grow(void *v, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return v;
	*cap = *cap == 0 ? 16 : *cap * 2;
	return xreallocarray(v, *cap, sz);
}

/* The file that line (of the parse) is in: the last that starts before. */
static size_t
file_of(const struct parse *p, unsigned line)
{
	size_t lo = 0, hi = p->nfiles, mid;

	/* Invariant: files[lo].base < line, or lo is 0. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (p->files[mid].base < line)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Where line is, for a message about something at ref: "line N" in the
 * same file, "FILE:N" in another.  In buf.
 */
static const char *
where(const struct parse *p, unsigned line, unsigned ref, char *buf,
    size_t len)
{
	size_t k = file_of(p, line);

	if (p->nfiles == 0 || k == file_of(p, ref))
		snprintf(buf, len, "line %u", line - (p->nfiles > 0 ?
		    p->files[k].base : 0));
	else
		snprintf(buf, len, "%s:%u", p->files[k].path,
		    line - p->files[k].base);
	return buf;
}

static void __attribute__((format(printf, 3, 4)))
perr(struct parse *p, unsigned line, const char *fmt, ...)
{
	const char *path = p->path;
	char *msg, *full;
	unsigned local = line;
	size_t k;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("out of memory formatting a message");
	va_end(ap);
	if (p->nfiles > 0 && line > 0) {
		k = file_of(p, line);
		path = p->files[k].path;
		local = line - p->files[k].base;
	}
	xasprintf(&full, "%s:%u: %s", path, local, msg);
	free(msg);
	/* A [defaults] line at fault for every agent is said once. */
	if (!nametab_put(&p->said, full, p->errs->msgs.n)) {
		free(full);
		return;
	}
	p->errline = grow(p->errline, p->errs->msgs.n, &p->errcap,
	    sizeof(*p->errline));
	p->errline[p->errs->msgs.n] = line;
	strv_push_own(&p->errs->msgs, full);
	p->nerrs++;
}

struct errpos {
	unsigned line;
	size_t seq; /* the order it was said in */
	char *msg;
};

static int
errpos_cmp(const void *x, const void *y)
{
	const struct errpos *a = x, *b = y;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Put the messages in line order; those of one line keep their order. */
static void
sort_errors(struct parse *p)
{
	size_t i, n = p->errs->msgs.n;
	struct errpos *v;

	if (n < 2)
		return;
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++) {
		v[i].line = p->errline[i];
		v[i].seq = i;
		v[i].msg = p->errs->msgs.v[i];
	}
	qsort(v, n, sizeof(*v), errpos_cmp);
	for (i = 0; i < n; i++) {
		p->errs->msgs.v[i] = v[i].msg;
		p->errline[i] = v[i].line;
	}
	free(v);
}

/* A new section, the last one; name is copied. */
static void
add_section(struct parse *p, const char *name, bool broken)
{
	struct raw_section *s;

	p->sections = grow(p->sections, p->nsections, &p->seccap,
	    sizeof(*p->sections));
	s = &p->sections[p->nsections++];
	s->name = xstrdup(name);
	s->line = p->lineno;
	s->broken = broken;
	s->first = p->nentries;
	s->nentries = 0;
	p->have_key = false;
}

/* A new entry of the last section, at the current line; key is copied. */
static struct raw_entry *
add_entry(struct parse *p, const char *key, const char *value, bool refused)
{
	struct raw_entry *e;

	p->entries = grow(p->entries, p->nentries, &p->entcap,
	    sizeof(*p->entries));
	e = &p->entries[p->nentries++];
	e->section = (int)p->nsections - 1;
	e->key = xstrdup(key);
	e->vlen = strlen(value);
	e->vcap = e->vlen + 1;
	e->value = xmalloc(e->vcap);
	memcpy(e->value, value, e->vcap);
	e->line = p->lineno;
	e->refused = refused;
	if (p->nsections > 0)
		p->sections[p->nsections - 1].nentries++;
	return e;
}

/* Continue e's value with piece, after one space (none after nothing). */
static void
append_value(struct raw_entry *e, const char *piece)
{
	size_t n = strlen(piece), sep = e->vlen > 0;

	if (e->vlen + sep + n + 1 > e->vcap) {
		while (e->vlen + sep + n + 1 > e->vcap)
			e->vcap *= 2;
		e->value = xreallocarray(e->value, e->vcap, 1);
	}
	if (sep)
		e->value[e->vlen++] = ' ';
	memcpy(e->value + e->vlen, piece, n + 1);
	e->vlen += n;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Where inih ends a key: at the first '=' or ':', or at an inline comment
 * (';' after a blank), whichever comes first.
 */
static const char *
key_end(const char *s)
{
	bool was_space = false;

	while (*s != '\0' && *s != '=' && *s != ':' &&
	    !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/*
 * A line refused whole (too long, a NUL) still names its key: keep the key,
 * marked refused, so that what depends on it ("no 'command'") is not
 * reported as a second error.  A refused continuation marks its key.
 */
static void
refuse_line(struct parse *p)
{
	char *copy, *s, *end;

	if (p->nsections == p->cur_sec)
		return;
	if (p->indented && p->have_key) {
		if (p->nentries > 0 && p->entries[p->nentries - 1].section ==
		    (int)p->nsections - 1)
			p->entries[p->nentries - 1].refused = true;
		return;
	}
	copy = xstrndup(p->buf, p->len); /* up to a NUL */
	s = trim(copy);
	end = (char *)key_end(s);
	if (*s != '\0' && *s != ';' && *s != '#' && *s != '[' &&
	    (*end == '=' || *end == ':')) {
		*end = '\0';
		add_entry(p, trim(s), "", true);
		p->have_key = true;
	}
	free(copy);
}

/*
 * Look at a fresh line before inih does: record section headers (inih does
 * not report empty sections), refuse over-long lines and lines that are no
 * key = value, so that every syntax error is ours, with its line, and not
 * only the first one inih would return.
 */
static void
reader_check(struct parse *p)
{
	char *copy, *s;
	size_t n = p->len;

	p->line_bad = false;
	p->indented = p->len > 0 && (p->buf[0] == ' ' || p->buf[0] == '\t');
	/* The limit is on what the line says, its line end not counted. */
	if (n > 0 && p->buf[n - 1] == '\n')
		n--;
	if (n > 0 && p->buf[n - 1] == '\r')
		n--;
	if (n > CONFIG_LINE_MAX) {
		perr(p, p->lineno, "line longer than %d characters",
		    CONFIG_LINE_MAX);
		p->line_bad = true;
		refuse_line(p);
		return;
	}
	if (memchr(p->buf, '\0', p->len) != NULL) {
		perr(p, p->lineno, "line contains a NUL byte");
		p->line_bad = true;
		refuse_line(p);
		return;
	}
	copy = xstrndup(p->buf, p->len);
	s = trim(copy);
	if (p->lineno == p->cur_base + 1 &&
	    strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s = trim(s + 3);
	if (*s == '\0' || *s == ';' || *s == '#') {
		/* blank or comment */
	} else if (p->indented && p->have_key) {
		/* continuation of the previous key's value */
	} else if (*s == '[') {
		char *end = strchr(s, ']');
		if (end == NULL) {
			perr(p, p->lineno, "section header '%s' has no ']'", s);
			p->line_bad = true;
			/*
			 * The keys that follow belong to this broken section
			 * (ignored), not to the one before, nor to none.
			 */
			add_section(p, trim(s + 1), true);
		} else {
			char *rest = trim(end + 1);
			*end = '\0';
			/* inih takes the header and ignores the rest. */
			if (*rest != '\0' && *rest != ';' && *rest != '#')
				perr(p, p->lineno,
				    "unexpected text after section header [%s]",
				    s + 1);
			add_section(p, trim(s + 1), false);
		}
	} else if (*key_end(s) == '\0' || *key_end(s) == ';') {
		perr(p, p->lineno, "expected 'key = value', found '%s'", s);
		p->line_bad = true;
	} else if (p->nsections == p->cur_sec) {
		perr(p, p->lineno, "'%s' is outside any section", s);
		p->line_bad = true;
	} else
		p->have_key = true;
	free(copy);
}

/* inih's reader: hands out the current line in pieces of at most num - 1. */
static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *nl;
	size_t k;

	if (num < 2)
		return NULL;
	if (p->fed >= p->len) {
		/* A line is what getline would give: up to '\n', included. */
		if (p->pos >= p->textlen)
			return NULL;
		p->buf = p->text + p->pos;
		nl = memchr(p->buf, '\n', p->textlen - p->pos);
		p->len = nl != NULL ? (size_t)(nl - p->buf) + 1 :
		    p->textlen - p->pos;
		p->pos += p->len;
		p->fed = 0;
		p->lineno++;
		reader_check(p);
	}
	if (p->line_bad) {
		p->fed = p->len;
		strcpy(str, "\n");
		return str;
	}
	k = p->len - p->fed;
	if (k > (size_t)num - 1)
		k = (size_t)num - 1;
	memcpy(str, p->buf + p->fed, k);
	str[k] = '\0';
	p->fed += k;
	return str;
}

static void looks_like_key(struct parse *, const struct raw_entry *,
    const char *);

static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	struct raw_entry *e;

	(void)section; /* we track sections ourselves, with their lines */
	/* inih did not see a refused line: what continues it goes too. */
	if (p->indented && p->nentries > 0 &&
	    p->entries[p->nentries - 1].section == (int)p->nsections - 1 &&
	    p->entries[p->nentries - 1].refused)
		return 1;
	if (p->indented && p->nentries > 0 &&
	    p->entries[p->nentries - 1].section == (int)p->nsections - 1 &&
	    strcmp(p->entries[p->nentries - 1].key, key) == 0) {
		e = &p->entries[p->nentries - 1];
		looks_like_key(p, e, value);
		/* "key =" alone, then the value on indented lines */
		append_value(e, value);
		return 1;
	}
	add_entry(p, key, value, false);
	return 1;
}

static void
parse_free(struct parse *p)
{
	size_t i;

	for (i = 0; i < p->nsections; i++)
		free(p->sections[i].name);
	free(p->sections);
	for (i = 0; i < p->nentries; i++) {
		free(p->entries[i].key);
		free(p->entries[i].value);
	}
	free(p->entries);
	nametab_free(&p->said);
		for (i = 0; i < p->nfiles; i++) {
		free(p->files[i].path);
		free(p->files[i].real);
		free(p->files[i].dir);
		if (p->files[i].own_text)
			free(p->files[i].text);
	}
	free(p->files);
	nametab_free(&p->efseen);
	strv_free(&p->efpath);
	strv_free(&p->efwhy);
}

/* The keys, per kind of section. */

enum akey {
	K_COMMAND, K_CLUSTER, K_NUMPROCS, K_DIRECTORY, K_ENV, K_RESTART,
	K_SUCCESS_CODES, K_TRANSIENT_CODES, K_FATAL_CODES, K_BACKOFF_INITIAL,
	K_BACKOFF_MULTIPLIER, K_BACKOFF_MAX, K_BACKOFF_JITTER, K_MAX_RETRIES,
	K_HEALTHY_AFTER, K_STOP_SIGNAL, K_STOP_TIMEOUT, K_STDOUT, K_STDERR,
	K_LOG_MAX_BYTES, K_LOG_BACKUPS, K_PRIORITY, K_AUTOSTART, K_USER,
	K_FAILURE_THRESHOLD, K_RECOVERY_TIMEOUT, K_RECOVERY_TIMEOUT_MAX,
	K_HALF_OPEN_MAX_CALLS, K_FALLBACK, K_WATCHDOG, K_THREAD_ID,
	K_CHECKPOINT_INTERVAL, K_POISON_THRESHOLD, K_MAX_ROLLBACK,
	K_STORAGE_RETRY,
	/* In enum rlim_key's order. */
	K_LIMIT_NOFILE, K_LIMIT_CORE, K_LIMIT_NPROC, K_LIMIT_AS, K_LIMIT_CPU,
	K_LIMIT_FSIZE, K_LIMIT_STACK, K_LIMIT_MEMLOCK, K_MAX_MEMORY,
	K_AFTER, K_READY, K_MAX_AGE, K_CRON_RESTART, K_PRE_START,
	K_POST_STOP, K_HOOK_TIMEOUT, K_REDIRECT_STDERR, K_UMASK, K_ENV_FILE,
	K_MEMORY_MAX, K_CPU_QUOTA, K_NAGENT
};

static const char *agent_keys[K_NAGENT] = {
	"command", "cluster", "numprocs", "directory", "env", "restart",
	"success_exit_codes", "transient_exit_codes", "fatal_exit_codes",
	"backoff_initial", "backoff_multiplier", "backoff_max",
	"backoff_jitter", "max_retries", "healthy_after", "stop_signal",
	"stop_timeout", "stdout", "stderr", "log_max_bytes", "log_backups",
	"priority", "autostart", "user", "failure_threshold",
	"recovery_timeout", "recovery_timeout_max", "half_open_max_calls",
	"fallback", "watchdog", "thread_id", "checkpoint_interval",
	"poison_threshold", "max_rollback", "storage_retry",
	"limit_nofile", "limit_core", "limit_nproc", "limit_as", "limit_cpu",
	"limit_fsize", "limit_stack", "limit_memlock", "max_memory",
	"after", "ready",
	"max_age", "cron_restart", "pre_start", "post_stop", "hook_timeout",
	"redirect_stderr", "umask", "env_file",
	"memory_max", "cpu_quota",
};

enum ckey {
	C_FAILURE_THRESHOLD, C_FAILURE_WINDOW, C_RECOVERY_TIMEOUT,
	C_RECOVERY_TIMEOUT_MAX, C_HALF_OPEN_MAX_CALLS, C_STRATEGY,
	C_MIN_HEALTHY, C_ON_STATE_CHANGE, C_NCLUSTER
};

static const char *cluster_keys[C_NCLUSTER] = {
	"failure_threshold", "failure_window", "recovery_timeout",
	"recovery_timeout_max", "half_open_max_calls", "strategy",
	"min_healthy", "on_state_change",
};

enum dkey {
	D_STATE_DB, D_RUN_DIR, D_LOG_DIR, D_LOG_LEVEL, D_CONTROL_SOCKET,
	D_HTTP_LISTEN, D_HTTP_TOKEN, D_BREAKERS, D_CHECKPOINT_DB, D_CGROUP,
	D_RETENTION, D_RETENTION_COUNT, D_NODE_NAME, D_LEASE_TTL,
	D_LOG_FILE, D_LOG_FILE_MAX_BYTES, D_LOG_FILE_BACKUPS, D_NDAEMON
};

static const char *daemon_keys[D_NDAEMON] = {
	"state_db", "run_dir", "log_dir", "log_level", "control_socket",
	"http_listen", "http_token", "circuit_breaker_enabled",
	"checkpoint_db", "cgroup", "event_retention", "event_retention_count",
	"node_name", "lease_ttl", "log_file", "log_file_max_bytes",
	"log_file_backups",
};

/* checkpoint_db as the log may show it: a connection string's password
 * hidden. */
static void
config_show_checkpoint(struct config *c)
{
	char buf[1024];

	free(c->checkpoint_shown);
	c->checkpoint_shown = xstrdup(corral_where_shown(c->checkpoint_db, buf,
	    sizeof(buf)));
}

/*
 * A node's name, as leases record their holder: a host name's letters.
 * 0, or -1 with why.
 */
static int
check_node_name(const char *s, const char **why)
{
	size_t n = strlen(s);

	if (n == 0 || n > NODE_NAME_MAX) {
		*why = "must be 1 to 253 characters";
		return -1;
	}
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_:") != n) {
		*why = "may hold only letters, digits and . - _ :";
		return -1;
	}
	return 0;
}

static int
key_index(const char *const *keys, int n, const char *key)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return i;
	return -1;
}

/*
 * One of n words, as written: its index (the enum's value, the words in
 * its order), or -1 with must ("must be a, b or c") in why.
 */
static int
choice(const char *value, const char *const *words, int n, const char *must,
    const char **why)
{
	int i = key_index(words, n, value);

	if (i == -1)
		*why = must;
	return i;
}

/*
 * inih takes an indented line for the continuation of the previous value:
 * "  numprocs = 3" under "command = x" would silently run "x numprocs = 3".
 * A piece that starts like one of our keys is almost surely that mistake.
 */
static void
looks_like_key(struct parse *p, const struct raw_entry *e, const char *piece)
{
	size_t n = strspn(piece, "abcdefghijklmnopqrstuvwxyz_");
	const char *rest = piece + n;
	char word[32];

	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (n == 0 || n >= sizeof(word) || (*rest != '=' && *rest != ':'))
		return;
	memcpy(word, piece, n);
	word[n] = '\0';
	if (key_index(agent_keys, K_NAGENT, word) >= 0 ||
	    key_index(cluster_keys, C_NCLUSTER, word) >= 0 ||
	    key_index(daemon_keys, D_NDAEMON, word) >= 0)
		perr(p, p->lineno, "indented line continues the value of '%s' "
		    "but looks like key '%s': start it at the beginning of the "
		    "line", e->key, word);
}

static const char *
closest(const char *const *cands, int n, const char *word)
{
	const char *best = NULL;
	unsigned d, bestd = UINT_MAX;
	int i;

	for (i = 0; i < n; i++) {
		d = edit_distance(word, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	if (best != NULL && (bestd <= 2 || bestd * 3 <= strlen(word)))
		return best;
	return NULL;
}

/*
 * The names of the file's agents or clusters, for did-you-mean: by length,
 * since a name whose length differs too much from the word's cannot be the
 * answer and is not looked at.
 */
struct namelist {
	const char **names; /* borrowed, in file order */
	size_t n;
	size_t *bylen;      /* indexes into names, shortest names first */
	size_t start[NAME_MAX_LEN + 2]; /* bylen[start[l]..start[l+1]): length l */
};

static void
namelist_init(struct namelist *nl, const char **names, size_t n)
{
	size_t i, l, at[NAME_MAX_LEN + 2] = { 0 };

	memset(nl, 0, sizeof(*nl));
	nl->names = names;
	nl->n = n;
	nl->bylen = xcalloc(n + 1, sizeof(*nl->bylen));
	/* Counting sort: file order is kept within each length. */
	for (i = 0; i < n; i++)
		nl->start[strlen(names[i]) + 1]++;
	for (l = 1; l <= NAME_MAX_LEN + 1; l++)
		nl->start[l] += nl->start[l - 1];
	memcpy(at, nl->start, sizeof(at));
	for (i = 0; i < n; i++)
		nl->bylen[at[strlen(names[i])]++] = i;
}

static void
namelist_free(struct namelist *nl)
{
	free(nl->bylen);
	nl->bylen = NULL;
}

/*
 * What closest() would say among nl's names but names[skip], as long as
 * p's budget lasts: none once it is spent.  Ties go to the first in the
 * file, as in closest().
 */
static const char *
closest_name(struct parse *p, const struct namelist *nl, size_t skip,
    const char *word)
{
	size_t lw = strlen(word), far = lw / 3 > 2 ? lw / 3 : 2;
	size_t lo = lw > far ? lw - far : 0, hi = lw + far, l, i, k;
	size_t best = SIZE_MAX;
	unsigned d, bestd = UINT_MAX;
	uint64_t cost;

	if (hi > NAME_MAX_LEN)
		hi = NAME_MAX_LEN;
	for (l = lo; l <= hi; l++) {
		for (i = nl->start[l]; i < nl->start[l + 1]; i++) {
			k = nl->bylen[i];
			if (k == skip)
				continue;
			cost = (uint64_t)(lw + 1) * (l + 1);
			if (cost > p->suggest_budget)
				return NULL;
			p->suggest_budget -= cost;
			d = edit_distance(word, nl->names[k]);
			if (d < bestd || (d == bestd && k < best)) {
				bestd = d;
				best = k;
			}
		}
	}
	if (best != SIZE_MAX && (bestd <= 2 || bestd * 3 <= lw))
		return nl->names[best];
	return NULL;
}

static void
unknown_key(struct parse *p, const struct raw_entry *e, const char *secname,
    const char *const *keys, int nkeys)
{
	/*
	 * What users of other supervisors write: whose it is, corral's key
	 * for it, and a note.
	 */
	static const char *const foreign[][4] = {
		{ "max_memory_restart", "pm2", "max_memory", "" },
		{ "cron", "pm2", "cron_restart", "" },
		{ "restart_every", NULL, "max_age",
		    " (or 'cron_restart', at set times)" },
		{ "startsecs", "supervisord", "healthy_after", "" },
		{ "startretries", "supervisord", "max_retries", "" },
		{ "autorestart", "supervisord", "restart", "" },
		{ "stopsignal", "supervisord", "stop_signal", "" },
		{ "stopwaitsecs", "supervisord", "stop_timeout", "" },
		{ "exitcodes", "supervisord", "success_exit_codes", "" },
		{ "environment", "supervisord", "env", "" },
		{ "stdout_logfile", "supervisord", "stdout",
		    " (= file: in log_dir)" },
		{ "max_age_variance", "circus", "backoff_jitter",
		    " (the spread of max_age)" },
		{ "EnvironmentFile", "systemd", "env_file", "" },
		{ "ExecStartPre", "systemd", "pre_start", "" },
		{ "ExecStopPost", "systemd", "post_stop", "" },
		{ "MemoryMax", "systemd", "memory_max", "" },
		{ "CPUQuota", "systemd", "cpu_quota", "" },
		{ "LimitNOFILE", "systemd", "limit_nofile", "" },
		{ "WorkingDirectory", "systemd", "directory", "" },
		{ "RestartSec", "systemd", "backoff_initial", "" },
		{ "UMask", "systemd", "umask", "" },
	};
	const char *sugg;
	size_t i;

	for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		if (strcmp(e->key, foreign[i][0]) == 0) {
			perr(p, e->line, "unknown key '%s' in [%s]%s%s%s; "
			    "corral's is '%s'%s", e->key, secname,
			    foreign[i][1] ? " (" : "", foreign[i][1] ?
			    foreign[i][1] : "", foreign[i][1] ? "'s)" : "",
			    foreign[i][2], foreign[i][3]);
			return;
		}
	sugg = closest(keys, nkeys, e->key);
	if (sugg != NULL)
		perr(p, e->line, "unknown key '%s' in [%s]; did you mean '%s'?",
		    e->key, secname, sugg);
	else if (key_index(daemon_keys, D_NDAEMON, e->key) >= 0)
		perr(p, e->line, "key '%s' belongs in [corrald], not [%s]",
		    e->key, secname);
	else if (key_index(agent_keys, K_NAGENT, e->key) >= 0)
		perr(p, e->line, "key '%s' belongs in an [agent:NAME] or "
		    "[defaults] section, not [%s]", e->key, secname);
	else if (key_index(cluster_keys, C_NCLUSTER, e->key) >= 0)
		perr(p, e->line, "key '%s' belongs in a [cluster:NAME] "
		    "section, not [%s]", e->key, secname);
	else
		perr(p, e->line, "unknown key '%s' in [%s]", e->key, secname);
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static void
agent_init(struct agent_conf *a)
{
	static const struct corral_backoff bo = CORRAL_BACKOFF_DEFAULT;

	memset(a, 0, sizeof(*a));
	strv_init(&a->argv);
	strv_init(&a->env);
	strv_init(&a->after);
	a->numprocs = 1;
	a->restart = RESTART_ALWAYS;
	corral_exit_policy_default(&a->codes);
	a->backoff = bo;
	a->healthy_after_ms = 10000;
	a->stop_signal = 15; /* SIGTERM */
	a->stop_timeout_ms = 10000;
	a->out[0] = a->out[1] = OUT_FILE;
	a->log_max_bytes = 10ULL << 20;
	a->log_backups = 5;
	a->autostart = true;
	{
		static const struct corral_breaker_policy bp =
		    CORRAL_BREAKER_DEFAULT;
		a->breaker = bp;
	}
	a->uid = (uid_t)-1;
	a->gid = (gid_t)-1;
	a->thread_id = xstrdup("%(agent)/%(instance)");
	a->checkpoint_interval_ms = 300000;
	a->poison_threshold = 3;
	a->max_rollback = 3;
	a->storage_retry_ms = 30000;
	strv_init(&a->pre_argv);
	strv_init(&a->post_argv);
	a->hook_timeout_ms = 60000;
	strv_init(&a->env_files);
	a->umask = -1;
}

static void
agent_conf_free(struct agent_conf *a)
{
	free(a->cluster);
	free(a->command);
	strv_free(&a->argv);
	free(a->directory);
	free(a->thread_id);
	strv_free(&a->env);
	strv_free(&a->env_files);
	free(a->user);
	free(a->fallback);
	strv_free(&a->after);
	free(a->cron_restart);
	free(a->pre_start);
	free(a->post_stop);
	strv_free(&a->pre_argv);
	strv_free(&a->post_argv);
}

/* The breaker keys that agents and clusters share. */
enum bkey {
	B_FAILURE_THRESHOLD, B_RECOVERY_TIMEOUT, B_RECOVERY_TIMEOUT_MAX,
	B_HALF_OPEN_MAX_CALLS
};

/* Set bp's key k from value.  0, or -1 with the reason in *why. */
static int
breaker_set(struct corral_breaker_policy *bp, enum bkey k, const char *value,
    const char **why)
{
	uint64_t u;

	switch (k) {
	case B_FAILURE_THRESHOLD:
		if (parse_uint(value, CORRAL_BREAKER_MAX_THRESHOLD, &u,
		    why) == -1)
			return -1;
		if (u == 0) {
			*why = "must be at least 1";
			return -1;
		}
		bp->failure_threshold = (unsigned)u;
		return 0;
	case B_RECOVERY_TIMEOUT:
		return parse_duration(value, &bp->recovery_timeout_ms, why);
	case B_RECOVERY_TIMEOUT_MAX:
		return parse_duration(value, &bp->recovery_timeout_max_ms, why);
	case B_HALF_OPEN_MAX_CALLS:
		if (parse_uint(value, 1000, &u, why) == -1)
			return -1;
		if (u == 0) {
			*why = "must be at least 1";
			return -1;
		}
		bp->half_open_max_calls = (unsigned)u;
		return 0;
	}
	*why = "unknown key";
	return -1;
}

/*
 * The variables of an env list by name (the KEY of KEY=VALUE), hashed: an
 * env of many variables, on continuation lines, must not make loading
 * quadratic.  Holds copies of the keys.
 */
struct envkeys {
	struct nametab t;
	struct strv keys;
};

static void
envkeys_init(struct envkeys *ek)
{
	memset(&ek->t, 0, sizeof(ek->t));
	strv_init(&ek->keys);
}

static void
envkeys_free(struct envkeys *ek)
{
	nametab_free(&ek->t);
	strv_free(&ek->keys);
}

/*
 * Note word's KEY with index idx.  Returns -1, or the index of the word
 * with that KEY noted before (idx is then not noted).
 */
static ssize_t
envkeys_add(struct envkeys *ek, const char *word, size_t idx)
{
	const char *eq = strchr(word, '=');
	char *key = xstrndup(word, eq != NULL ? (size_t)(eq - word) :
	    strlen(word));
	ssize_t at = nametab_get(&ek->t, key);

	if (at != -1) {
		free(key);
		return at;
	}
	/* The table borrows the key; the list frees it. */
	strv_push_own(&ek->keys, key);
	nametab_put(&ek->t, key, idx);
	return -1;
}

/*
 * Each word's %(ENV_NAME) replaced (expand_env): the words stay
 * templates.  0, or -1 with *why (words then freed).
 */
static int
env_words(struct strv *words, const char **why)
{
	size_t i;
	char *x;

	for (i = 0; i < words->n; i++) {
		if (!has_env(words->v[i]))
			continue;
		if ((x = expand_env(words->v[i], why)) == NULL) {
			strv_free(words);
			return -1;
		}
		free(words->v[i]);
		words->v[i] = x;
	}
	return 0;
}

/* Set a's key k from value.  0, or -1 with the reason in *why. */
static int
agent_set(struct agent_conf *a, enum akey k, const char *value,
    const char **why)
{
	static char whybuf[128];
	struct envkeys seen, have;
	struct strv words;
	uint64_t u;
	int64_t i;
	size_t w, j;
	int rc = 0;
	char *x;

	switch (k) {
	case K_COMMAND:
		strv_init(&words);
		if (argv_split(value, NULL, &words, why) == -1)
			return -1;
		if (words.n == 0 || *words.v[0] == '\0') {
			strv_free(&words);
			*why = "empty command";
			return -1;
		}
		/* After splitting, as %(here): a value never splits a word. */
		if (env_words(&words, why) == -1)
			return -1;
		strv_free(&a->argv);
		a->argv = words;
		free(a->command);
		a->command = xstrdup(value);
		return 0;
	case K_CLUSTER:
		if (!valid_name(value)) {
			*why = "not a cluster name (letters, digits, '_', '-')";
			return -1;
		}
		free(a->cluster);
		a->cluster = xstrdup(value);
		return 0;
	case K_NUMPROCS:
		if (parse_uint(value, 100000, &u, why) == -1)
			return -1;
		if (u == 0) {
			*why = "must be at least 1";
			return -1;
		}
		a->numprocs = (unsigned)u;
		return 0;
	case K_DIRECTORY:
		if (*value == '\0') {
			*why = "empty directory";
			return -1;
		}
		if ((x = expand_env(value, why)) == NULL)
			return -1;
		free(a->directory);
		a->directory = x;
		return 0;
	case K_ENV:
		strv_init(&words);
		if (argv_split(value, ",", &words, why) == -1)
			return -1;
		envkeys_init(&seen);
		for (w = 0; w < words.n && rc == 0; w++) {
			const char *eq = strchr(words.v[w], '=');
			size_t klen = eq ? (size_t)(eq - words.v[w]) : 0;
			if (eq == NULL || klen == 0 ||
			    isdigit((unsigned char)words.v[w][0]) ||
			    strspn(words.v[w], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789_") != klen) {
				snprintf(whybuf, sizeof(whybuf),
				    "'%.60s' is not KEY=VALUE", words.v[w]);
				*why = whybuf;
				rc = -1;
				break;
			}
			if (strncmp(words.v[w], "CORRAL_", 7) == 0) {
				snprintf(whybuf, sizeof(whybuf),
				    "'%.*s' is set by corrald for every worker; "
				    "CORRAL_ names are reserved", (int)klen,
				    words.v[w]);
				*why = whybuf;
				rc = -1;
				break;
			}
			if (envkeys_add(&seen, words.v[w], w) != -1) {
				snprintf(whybuf, sizeof(whybuf),
				    "variable '%.*s' set twice", (int)klen,
				    words.v[w]);
				*why = whybuf;
				rc = -1;
			}
		}
		envkeys_free(&seen);
		if (rc == 0)
			rc = env_words(&words, why);
		if (rc == 0) {
			/* A later section's value overrides [defaults]'. */
			envkeys_init(&have);
			for (j = 0; j < a->env.n; j++)
				envkeys_add(&have, a->env.v[j], j);
			for (w = 0; w < words.n; w++) {
				ssize_t at = envkeys_add(&have, words.v[w],
				    a->env.n);
				if (at != -1) {
					free(a->env.v[at]);
					a->env.v[at] = xstrdup(words.v[w]);
				} else
					strv_push(&a->env, words.v[w]);
			}
			envkeys_free(&have);
		}
		strv_free(&words);
		return rc;
	case K_RESTART: {
		static const char *const modes[] = { "always", "on-failure",
			"never" };
		int c = choice(value, modes, 3, "must be always, on-failure or "
		    "never", why);
		if (c == -1)
			return -1;
		a->restart = (enum restart_mode)c;
		return 0;
	}
	case K_SUCCESS_CODES:
		return parse_codes(value, &a->codes.success, why);
	case K_TRANSIENT_CODES:
		return parse_codes(value, &a->codes.transient, why);
	case K_FATAL_CODES:
		return parse_codes(value, &a->codes.fatal, why);
	case K_BACKOFF_INITIAL:
		return parse_duration(value, &a->backoff.initial_ms, why);
	case K_BACKOFF_MULTIPLIER:
		return parse_double(value, 1.0, 1000.0, &a->backoff.multiplier,
		    why);
	case K_BACKOFF_MAX:
		return parse_duration(value, &a->backoff.max_ms, why);
	case K_BACKOFF_JITTER:
		if (parse_double(value, 0.0, 0.99, &a->backoff.jitter,
		    why) == -1) {
			*why = "must be a fraction from 0 to 0.99";
			return -1;
		}
		return 0;
	case K_MAX_RETRIES:
		if (parse_uint(value, 1000000, &u, why) == -1)
			return -1;
		a->max_retries = (unsigned)u;
		return 0;
	case K_HEALTHY_AFTER:
		return parse_duration(value, &a->healthy_after_ms, why);
	case K_STOP_SIGNAL:
		return parse_signal(value, &a->stop_signal, why);
	case K_STOP_TIMEOUT:
		return parse_duration(value, &a->stop_timeout_ms, why);
	case K_STDOUT:
	case K_STDERR: {
		static const char *const outs[] = { "file", "inherit", "null" };
		int c = choice(value, outs, 3, "must be file, inherit or null",
		    why);
		if (c == -1)
			return -1;
		a->out[k == K_STDOUT ? 0 : 1] = (enum out_mode)c;
		return 0;
	}
	case K_LOG_MAX_BYTES:
		return parse_size(value, &a->log_max_bytes, why);
	case K_LOG_BACKUPS:
		if (parse_uint(value, 1000, &u, why) == -1)
			return -1;
		a->log_backups = (unsigned)u;
		return 0;
	case K_PRIORITY:
		if (parse_int(value, -1000000, 1000000, &i, why) == -1)
			return -1;
		a->priority = (int)i;
		return 0;
	case K_AUTOSTART:
		return parse_bool(value, &a->autostart, why);
	case K_USER:
		if (*value == '\0') {
			*why = "empty user";
			return -1;
		}
		free(a->user);
		a->user = xstrdup(value);
		return 0;
	case K_FAILURE_THRESHOLD:
		return breaker_set(&a->breaker, B_FAILURE_THRESHOLD, value,
		    why);
	case K_RECOVERY_TIMEOUT:
		return breaker_set(&a->breaker, B_RECOVERY_TIMEOUT, value, why);
	case K_RECOVERY_TIMEOUT_MAX:
		return breaker_set(&a->breaker, B_RECOVERY_TIMEOUT_MAX, value,
		    why);
	case K_HALF_OPEN_MAX_CALLS:
		return breaker_set(&a->breaker, B_HALF_OPEN_MAX_CALLS, value,
		    why);
	case K_FALLBACK:
		/* Whether it names an agent is known once all are read. */
		if (!valid_name(value)) {
			*why = "not an agent name (letters, digits, '_', '-')";
			return -1;
		}
		free(a->fallback);
		a->fallback = xstrdup(value);
		return 0;
	case K_WATCHDOG:
		return parse_duration(value, &a->watchdog_ms, why);
	case K_THREAD_ID:
		if (*value == '\0') {
			*why = "empty thread id";
			return -1;
		}
		if ((x = expand_env(value, why)) == NULL)
			return -1;
		free(a->thread_id);
		a->thread_id = x;
		return 0;
	case K_CHECKPOINT_INTERVAL:
		if (parse_duration(value, &a->checkpoint_interval_ms,
		    why) == -1)
			return -1;
		if (a->checkpoint_interval_ms == 0) {
			*why = "must be above 0";
			return -1;
		}
		return 0;
	case K_POISON_THRESHOLD:
		if (parse_uint(value, 1000000, &u, why) == -1)
			return -1;
		a->poison_threshold = (unsigned)u;
		return 0;
	case K_MAX_ROLLBACK:
		if (parse_uint(value, 1000000, &u, why) == -1)
			return -1;
		a->max_rollback = (unsigned)u;
		return 0;
	case K_STORAGE_RETRY:
		if (parse_duration(value, &a->storage_retry_ms, why) == -1)
			return -1;
		/* 0 would restart into a full disk in a tight loop. */
		if (a->storage_retry_ms == 0) {
			*why = "must be above 0";
			return -1;
		}
		return 0;
	case K_LIMIT_NOFILE:
	case K_LIMIT_CORE:
	case K_LIMIT_NPROC:
	case K_LIMIT_AS:
	case K_LIMIT_CPU:
	case K_LIMIT_FSIZE:
	case K_LIMIT_STACK:
	case K_LIMIT_MEMLOCK:
		return rlim_parse((enum rlim_key)(k - K_LIMIT_NOFILE), value,
		    &a->rlim[k - K_LIMIT_NOFILE], why);
	case K_MAX_MEMORY:
		return parse_size(value, &a->max_memory, why);
	case K_MEMORY_MAX: {
		uint64_t v;
		if (parse_size(value, &v, why) == -1)
			return -1;
		/* The kernel counts pages: less than one holds nothing. */
		if (v < 4096) {
			*why = "below 4K, one page: no program runs in that";
			return -1;
		}
		a->memory_max = v;
		return 0;
	}
	case K_CPU_QUOTA:
		return cpu_quota_parse(value, &a->cpu_quota, why);
	case K_AFTER:
		/* Whether each names an agent is known once all are read. */
		strv_init(&words);
		if (argv_split(value, ",", &words, why) == -1)
			return -1;
		for (w = 0; w < words.n; w++) {
			if (!valid_name(words.v[w])) {
				*why = "not an agent name (letters, digits, "
				    "'_', '-')";
				strv_free(&words);
				return -1;
			}
		}
		strv_free(&a->after);
		a->after = words;
		return 0;
	case K_READY: {
		static const char *const readies[] = { "running", "notify" };
		int c = choice(value, readies, 2, "must be running or notify", why);
		if (c == -1)
			return -1;
		a->ready_notify = c == 1;
		return 0;
	}
	case K_MAX_AGE:
		return parse_duration(value, &a->max_age_ms, why);
	case K_CRON_RESTART: {
		static char cwhy[256];
		if (cron_parse(value, &a->cron, cwhy, sizeof(cwhy)) == -1) {
			*why = cwhy;
			return -1;
		}
		free(a->cron_restart);
		a->cron_restart = xstrdup(value);
		return 0;
	}
	case K_PRE_START:
	case K_POST_STOP:
		strv_init(&words);
		if (argv_split(value, NULL, &words, why) == -1)
			return -1;
		if (words.n == 0 || *words.v[0] == '\0') {
			strv_free(&words);
			*why = "empty command";
			return -1;
		}
		if (k == K_PRE_START) {
			strv_free(&a->pre_argv);
			a->pre_argv = words;
			free(a->pre_start);
			a->pre_start = xstrdup(value);
		} else {
			strv_free(&a->post_argv);
			a->post_argv = words;
			free(a->post_stop);
			a->post_stop = xstrdup(value);
		}
		return 0;
	case K_HOOK_TIMEOUT:
		if (parse_duration(value, &a->hook_timeout_ms, why) == -1)
			return -1;
		if (a->hook_timeout_ms == 0) {
			*why = "must be above 0: a hook that hangs is killed "
			    "after it";
			return -1;
		}
		return 0;
	case K_REDIRECT_STDERR:
		return parse_bool(value, &a->redirect_stderr, why);
	case K_UMASK:
		/* Octal, as umask(1) and supervisord take it: 022, 0027. */
		if (*value == '\0' || strlen(value) > 4 ||
		    strspn(value, "01234567") != strlen(value) ||
		    (u = strtoul(value, NULL, 8)) > 0777) {
			*why = "must be an octal mode from 000 to 777, such as "
			    "022";
			return -1;
		}
		a->umask = (int)u;
		return 0;
	case K_ENV_FILE:
		/* Paths as words; an empty value forgets those before it. */
		strv_init(&words);
		if (argv_split(value, NULL, &words, why) == -1)
			return -1;
		if (words.n == 0) {
			strv_free(&a->env_files);
			strv_init(&a->env_files);
			return 0;
		}
		for (w = 0; w < words.n && rc == 0; w++)
			if (strcmp(words.v[w], "-") == 0 ||
			    *words.v[w] == '\0') {
				*why = "an empty path ('-' marks the path after "
				    "it, glued to it, as optional: -/etc/x.env)";
				rc = -1;
			}
		if (rc == 0 && a->env_files.n + words.n > ENV_FILES_MAX) {
			snprintf(whybuf, sizeof(whybuf), "more than %d files "
			    "for one agent", ENV_FILES_MAX);
			*why = whybuf;
			rc = -1;
		}
		if (rc == 0)
			rc = env_words(&words, why);
		for (w = 0; w < words.n && rc == 0; w++)
			strv_push(&a->env_files, words.v[w]);
		strv_free(&words);
		return rc;
	case K_NAGENT:
		break;
	}
	*why = "unknown key";
	return -1;
}

/* A path from [corrald]: %(here) expanded, made absolute against base. */
static char *
resolve_path(struct parse *p, unsigned line, const char *key,
    const char *value, const char *here, const char *base)
{
	struct expand_vars vars = { NULL, NULL, here };
	const char *why;
	char *x, *abs;

	if ((x = expand_vars(value, &vars, &why)) == NULL) {
		perr(p, line, "%s: %s", key, why);
		return NULL;
	}
	if (*x == '\0') {
		perr(p, line, "%s: empty path", key);
		free(x);
		return NULL;
	}
	if (x[0] == '/')
		return x;
	xasprintf(&abs, "%s/%s", base, x);
	free(x);
	return abs;
}

/*
 * The written form of values, shared by config_print and the load: a value
 * config_print could not write so that it loads back the same is refused
 * when the file is loaded, so that --check never prints a file that loads
 * as something else.  Only expansions can make such values (%(here), the
 * current directory, CHECKPOINT_DIR): what the file itself says can always
 * be written back.
 */

/*
 * A growing string.  Not open_memstream: its buffer starts at 8 KiB, and
 * one per agent, shrunk when closed, left the heap in pieces (92 MB for a
 * file of 10,000 agents).
 */
struct sbuf {
	char *s;
	size_t n, cap;
};

static void
sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		if (b->cap == 0)
			b->cap = 64;
		while (b->n + n + 1 > b->cap)
			b->cap *= 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void
sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void
sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

/* The string, taken from b (caller frees). */
static char *
sb_take(struct sbuf *b)
{
	char *s = b->s != NULL ? b->s : xstrdup("");

	memset(b, 0, sizeof(*b));
	return s;
}

/* Why s cannot be a value taken literally; NULL: it can. */
static const char *
literal_trouble(const char *s)
{
	size_t n = strlen(s), i;

	if (strchr(s, '\n') != NULL)
		return "holds a line break";
	if (n > 0 && (isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[n - 1])))
		return "starts or ends with a blank, which the file would drop";
	for (i = 1; i < n; i++)
		if (s[i] == ';' && isspace((unsigned char)s[i - 1]))
			return "holds a ';' after a blank, which the file would "
			    "take for a comment";
	return NULL;
}

/* Append s to b with each '%' written '%%'. */
static void
put_pct(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '%')
			sb_putc(b, '%');
		sb_putc(b, *s);
	}
}

/*
 * Append w to b so that argv_split reads it back as one word; pct: w is
 * final, its '%' written '%%' (expand_vars would take them), else a
 * template whose %() stay.  bare: a word of plain characters goes without
 * quotes.  -1 when no quoting can hold it (a line break: b is then to be
 * discarded).
 */
static int
put_word(struct sbuf *b, const char *w, bool pct, bool bare)
{
	/* Nothing argv_split, inih or a reader takes for more. */
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-+=.,/:@%()";
	const char *s;
	bool dq;
	char q;

	if (strchr(w, '\n') != NULL)
		return -1;
	if (bare && *w != '\0' && strspn(w, plain) == strlen(w)) {
		if (pct)
			put_pct(b, w);
		else
			sb_puts(b, w);
		return 0;
	}
	/* Single quotes when double quotes would need escapes and they not. */
	dq = strchr(w, '\'') != NULL || strpbrk(w, "\"\\$`") == NULL;
	q = dq ? '"' : '\'';
	sb_putc(b, q);
	for (s = w; *s != '\0'; s++) {
		/*
		 * inih ends a value at a ';' after a blank, quotes or not: that
		 * ';' goes between the quotes, escaped.
		 */
		if (*s == ';' && s > w && isspace((unsigned char)s[-1])) {
			sb_putc(b, q);
			sb_puts(b, "\\;");
			sb_putc(b, q);
			continue;
		}
		if (dq && strchr("\"\\$`", *s) != NULL)
			sb_putc(b, '\\');
		if (pct && *s == '%')
			sb_putc(b, '%');
		sb_putc(b, *s);
	}
	sb_putc(b, q);
	return 0;
}

/* Does template s name %(here)?  ("%%(here)" is a literal text.) */
static bool
has_here(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '%' && s[1] == '%')
			s++;
		else if (strncmp(s, "%(here)", 7) == 0)
			return true;
	}
	return false;
}

/*
 * Template s with each %(here) replaced by here: with the '%' of here
 * doubled (pct), still a template (%(agent), %(instance), %% stay) that no
 * longer depends on where the file is; else as a message shows it.
 * Caller frees.
 */
static char *
subst_here(const char *s, const char *here, bool pct)
{
	struct sbuf b = { NULL, 0, 0 };

	for (; *s != '\0'; s++) {
		if (*s == '%' && s[1] == '%') {
			sb_puts(&b, "%%");
			s++;
		} else if (strncmp(s, "%(here)", 7) == 0) {
			if (pct)
				put_pct(&b, here);
			else
				sb_puts(&b, here);
			s += 6;
		} else
			sb_putc(&b, *s);
	}
	return sb_take(&b);
}

/*
 * Words as a value that splits back into them, separated by blanks, or
 * for env by ", " (each KEY=VALUE with its VALUE quoted).  here non-NULL:
 * the words are templates, their %(here) made absolute; NULL: they are
 * final.  The text (caller frees), or NULL with the reason in *why.
 */
static char *
fmt_words(const struct strv *words, const char *here, bool env,
    const char **why)
{
	struct sbuf b = { NULL, 0, 0 };
	const char *eq;
	size_t i;
	int rc = 0;
	char *w;

	for (i = 0; i < words->n && rc == 0; i++) {
		w = here != NULL ? subst_here(words->v[i], here, true) :
		    xstrdup(words->v[i]);
		if (i > 0)
			sb_puts(&b, env ? ", " : " ");
		if (env && (eq = strchr(w, '=')) != NULL) {
			sb_putn(&b, w, (size_t)(eq - w) + 1);
			rc = put_word(&b, eq + 1, false, false);
		} else
			rc = put_word(&b, w, here == NULL, true);
		free(w);
	}
	if (rc == -1) {
		free(b.s);
		*why = "holds a line break";
		return NULL;
	}
	return sb_take(&b);
}

/*
 * A literal value: a final path (here NULL: its '%' doubled) or a template
 * (its %(here) made absolute).  The text (caller frees), or NULL with the
 * reason in *why.
 */
static char *
fmt_literal(const char *s, const char *here, const char **why)
{
	struct sbuf b = { NULL, 0, 0 };
	char *out;

	if (here != NULL)
		out = subst_here(s, here, true);
	else {
		put_pct(&b, s);
		out = sb_take(&b);
	}
	if ((*why = literal_trouble(out)) != NULL) {
		free(out);
		return NULL;
	}
	return out;
}

/* An agent's command: as written, unless %(here) must be made absolute. */
static char *
fmt_command(const struct agent_conf *a, const char *here, const char **why)
{
	if (!has_here(a->command) && !has_env(a->command))
		return xstrdup(a->command);
	return fmt_words(&a->argv, here, false, why);
}

/* A hook's command (pre_start, post_stop), as fmt_command writes one. */
static char *
fmt_hook(const char *text, const struct strv *argv, const char *here,
    const char **why)
{
	if (!has_here(text))
		return xstrdup(text);
	return fmt_words(argv, here, false, why);
}

/*
 * Whether a cut of value v (len bytes) at v[i] is good: a single space
 * between two other characters (the loader joins the pieces with one
 * space, and drops the blanks around them), not before a piece the loader
 * would take for a comment or for a key of its own.
 */
static bool
good_cut(const char *v, size_t len, size_t i)
{
	const char *next = v + i + 1;
	size_t n;

	if (v[i] != ' ' || i == 0 || i + 1 >= len ||
	    isspace((unsigned char)v[i - 1]) || isspace((unsigned char)*next))
		return false;
	if (*next == ';' || *next == '#')
		return false;
	n = strspn(next, "abcdefghijklmnopqrstuvwxyz_");
	if (n == 0)
		return true;
	n += strspn(next + n, " \t");
	return next[n] != '=' && next[n] != ':';
}

/*
 * Where the piece of v that starts at from ends, on a line with room for
 * room characters: len when the rest fits, else the last good cut; 0 when
 * there is none.
 */
static size_t
cut_at(const char *v, size_t len, size_t from, size_t room)
{
	size_t i;

	if (len - from <= room)
		return len;
	for (i = from + room < len - 1 ? from + room : len - 1; i > from; i--)
		if (good_cut(v, len, i))
			return i;
	return 0;
}

/*
 * Lay value out after key and sep, continuation lines indented by one tab,
 * each line at most CONFIG_LINE_MAX characters; f NULL: only whether it
 * can.  0, or -1 when it cannot (nothing written).
 */
static int
lay_out(FILE *f, const char *key, const char *sep, const char *v)
{
	size_t len = strlen(v), from = 0, end;
	size_t room = CONFIG_LINE_MAX - strlen(key) - strlen(sep);

	/* All or nothing: see first that it can. */
	if (f != NULL && lay_out(NULL, key, sep, v) == -1)
		return -1;
	for (;;) {
		if ((end = cut_at(v, len, from, room)) == 0)
			return -1;
		if (f != NULL)
			fprintf(f, "%s%s%.*s\n", from == 0 ? key : "\t",
			    from == 0 ? sep : "", (int)(end - from), v + from);
		if (end == len)
			return 0;
		from = end + 1;
		room = CONFIG_LINE_MAX - 1;
	}
}

/*
 * Write key = value so that the loader reads value back, in lines the
 * loader takes (a long value on continuation lines).  f NULL: only whether
 * it can.  0, or -1 when it cannot.
 */
static int
write_kv(FILE *f, const char *key, const char *value)
{
	if (*value == '\0') {
		if (f != NULL)
			fprintf(f, "%s =\n", key);
		return 0;
	}
	/* " ;" would start a comment; and a line one too long wants "=". */
	if (*value != ';' && lay_out(f, key, " = ", value) == 0)
		return 0;
	return lay_out(f, key, "=", value);
}

/* s for a message: control characters escaped, cut after 80. Caller frees. */
static char *
shown(const char *s)
{
	struct sbuf b = { NULL, 0, 0 };
	char hex[8];
	size_t n;

	for (n = 0; *s != '\0' && n < 80; s++, n++) {
		if (*s == '\n')
			sb_puts(&b, "\\n");
		else if (*s == '\t')
			sb_puts(&b, "\\t");
		else if (iscntrl((unsigned char)*s)) {
			snprintf(hex, sizeof(hex), "\\x%02x", (unsigned char)*s);
			sb_puts(&b, hex);
		} else
			sb_putc(&b, *s);
	}
	if (*s != '\0')
		sb_puts(&b, "...");
	return sb_take(&b);
}

/*
 * The value of key, at line, as config_print would write it: text (taken;
 * NULL: it has no written form, *whyp says why; read after text is made).
 * One config_print could not write back is an error: what it stands for
 * is value.
 */
static void
check_written(struct parse *p, unsigned line, const char *key,
    const char *value, char *text, const char *const *whyp)
{
	const char *why = text == NULL ? *whyp : NULL;
	char *v;

	if (text != NULL && write_kv(NULL, key, text) == 0) {
		free(text);
		return;
	}
	if (text != NULL)
		why = "is too long for the lines of a fleet file (8192 "
		    "characters) and has no blank to break it at";
	v = shown(value);
	perr(p, line, "%s: '%s' %s: corrald --check could not write it back",
	    key, v, why);
	free(v);
	free(text);
}

/*
 * words, their %(here) shown as here (NULL: as they are), joined by sep:
 * what a message shows of them.  Caller frees.
 */
static char *
joined(const struct strv *words, const char *here, const char *sep)
{
	struct sbuf b = { NULL, 0, 0 };
	size_t i;
	char *w;

	for (i = 0; i < words->n; i++) {
		w = here != NULL ? subst_here(words->v[i], here, false) :
		    xstrdup(words->v[i]);
		if (i > 0)
			sb_puts(&b, sep);
		sb_puts(&b, w);
		free(w);
	}
	return sb_take(&b);
}

enum stype { S_DAEMON, S_DEFAULTS, S_AGENT, S_CLUSTER, S_INCLUDE, S_BAD };

static enum stype
section_type(struct parse *p, const struct raw_section *s, const char **name)
{
	static const char *plain[] = { "corrald", "defaults", "include" };
	static const char *prefixed[] = { "agent", "cluster" };
	const char *colon = strchr(s->name, ':');
	const char *sugg;
	char *prefix;

	*name = NULL;
	if (s->broken)
		return S_BAD;
	if (colon == NULL) {
		if (strcmp(s->name, "corrald") == 0)
			return S_DAEMON;
		if (strcmp(s->name, "defaults") == 0)
			return S_DEFAULTS;
		if (strcmp(s->name, "include") == 0)
			return S_INCLUDE;
		if (strcmp(s->name, "agent") == 0 ||
		    strcmp(s->name, "cluster") == 0) {
			perr(p, s->line, "section [%s] needs a name: [%s:NAME]",
			    s->name, s->name);
			return S_BAD;
		}
		sugg = closest(plain, 3, s->name);
		if (sugg != NULL)
			perr(p, s->line, "unknown section [%s]; did you mean "
			    "[%s]?", s->name, sugg);
		else
			perr(p, s->line, "unknown section [%s] (known: "
			    "[corrald], [defaults], [include], [agent:NAME], "
			    "[cluster:NAME])", s->name);
		return S_BAD;
	}
	prefix = xstrndup(s->name, (size_t)(colon - s->name));
	*name = colon + 1;
	if (strcmp(prefix, "agent") != 0 && strcmp(prefix, "cluster") != 0) {
		sugg = closest(prefixed, 2, prefix);
		if (sugg != NULL)
			perr(p, s->line, "unknown section [%s]; did you mean "
			    "[%s:%s]?", s->name, sugg, *name);
		else
			perr(p, s->line, "unknown section [%s] (known: "
			    "[corrald], [defaults], [include], [agent:NAME], "
			    "[cluster:NAME])", s->name);
		free(prefix);
		return S_BAD;
	}
	if (!valid_name(*name)) {
		perr(p, s->line, "bad %s name '%s': use 1 to %d letters, "
		    "digits, '_' or '-'", prefix, *name, NAME_MAX_LEN);
		free(prefix);
		return S_BAD;
	}
	free(prefix);
	return colon - s->name == 5 ? S_AGENT : S_CLUSTER;
}

/* Where an agent's keys come from, for the lines of cross-key errors. */
struct keyset {
	unsigned line[K_NAGENT]; /* where the value in use was set, or 0 */
	bool own[K_NAGENT];      /* set in the agent's own section */
	bool bad[K_NAGENT];      /* the last value given was refused */
	unsigned ef_line[ENV_FILES_MAX]; /* where each env_file was named */
};

/*
 * Apply every entry of section sec to a and note in ks where each key was
 * set (own tells whether sec is the agent's own section).  Errors are
 * reported only when report is true: [defaults] is checked once, on its
 * own, not again for every agent it applies to.
 */
static void
apply_agent_section(struct parse *p, size_t sec, struct agent_conf *a,
    struct keyset *ks, bool own, bool report)
{
	unsigned seen[K_NAGENT] = { 0 };
	const char *why;
	size_t i, nef;
	int k;

	for (i = p->sections[sec].first; i < p->sections[sec].first +
	    p->sections[sec].nentries; i++) {
		struct raw_entry *e = &p->entries[i];
		k = key_index(agent_keys, K_NAGENT, e->key);
		if (e->refused) {
			if (k >= 0 && seen[k] == 0) {
				seen[k] = e->line;
				ks->bad[k] = true;
			}
			continue;
		}
		if (k < 0) {
			if (report)
				unknown_key(p, e, p->sections[sec].name,
				    agent_keys, K_NAGENT);
			continue;
		}
		/* env_file may name files on several lines: a list. */
		if (seen[k] != 0 && k != K_ENV_FILE) {
			if (report)
				perr(p, e->line, "key '%s' set twice in [%s] "
				    "(first at line %u)", e->key,
				    p->sections[sec].name, seen[k]);
			continue;
		}
		seen[k] = e->line;
		nef = a->env_files.n;
		/* Every agent would take it, even the fallback agent. */
		if (k == K_FALLBACK &&
		    strcmp(p->sections[sec].name, "defaults") == 0) {
			if (report)
				perr(p, e->line, "fallback cannot be set in "
				    "[defaults]: each agent names its own");
			continue;
		}
		/* ...and would come after itself. */
		if (k == K_AFTER &&
		    strcmp(p->sections[sec].name, "defaults") == 0) {
			if (report)
				perr(p, e->line, "after cannot be set in "
				    "[defaults]: each agent names its own");
			continue;
		}
		if (agent_set(a, (enum akey)k, e->value, &why) == -1) {
			if (report)
				perr(p, e->line, "%s: %s", e->key, why);
			ks->bad[k] = true;
			continue;
		}
		ks->line[k] = e->line;
		ks->own[k] = own;
		ks->bad[k] = false;
		for (; k == K_ENV_FILE && nef < a->env_files.n; nef++)
			ks->ef_line[nef] = e->line;
	}
}

/*
 * The line to blame for a conflict between keys k1 and k2: the one the
 * agent's own section sets (k2 first), else the one [defaults] sets, else
 * the agent's header.
 */
static unsigned
pair_line(const struct keyset *ks, int k1, int k2, unsigned header)
{
	if (ks->own[k2])
		return ks->line[k2];
	if (ks->own[k1])
		return ks->line[k1];
	if (ks->line[k2] != 0)
		return ks->line[k2];
	if (ks->line[k1] != 0)
		return ks->line[k1];
	return header;
}

/*
 * The open period's cap against its start, for agents and clusters alike:
 * a cap left at its default (max_set false) follows a longer
 * recovery_timeout; one set shorter is an error, reported at line.
 */
static void
check_recovery(struct parse *p, struct corral_breaker_policy *bp,
    bool max_set, unsigned line)
{
	char b1[32], b2[32];

	if (bp->recovery_timeout_max_ms >= bp->recovery_timeout_ms)
		return;
	if (!max_set) {
		bp->recovery_timeout_max_ms = bp->recovery_timeout_ms;
		return;
	}
	format_duration(bp->recovery_timeout_max_ms, b1, sizeof(b1));
	format_duration(bp->recovery_timeout_ms, b2, sizeof(b2));
	perr(p, line, "recovery_timeout_max (%s) is shorter than "
	    "recovery_timeout (%s)", b1, b2);
}

/*
 * A limit above what corrald can give (its own hard limit when it is not
 * root; fs.nr_open for descriptors even as root) cannot be set: each
 * start of the agent would fail, classed fatal.  Said at load, as a
 * warning naming the line, not refused: the file may be checked on
 * another host or by another user than the one it will run as.
 */
static void
check_rlimits(struct parse *p, const struct agent_conf *a,
    const struct keyset *ks)
{
	char want[64], have[96];
	uint64_t max;
	bool root = geteuid() == 0;
	int k;

	for (k = 0; k < RL_N; k++) {
		if (!a->rlim[k].set || rlim_ceiling((enum rlim_key)k, root,
		    &max) == -1 || !rlim_above(&a->rlim[k], max))
			continue;
		rlim_format((enum rlim_key)k, &a->rlim[k], want, sizeof(want));
		rlim_ceiling_describe((enum rlim_key)k, root, have,
		    sizeof(have));
		log_warnx("%s:%u: [agent:%s] %s = %s cannot be set (%s): "
		    "its runs will fail to start (fatal)", p->path,
		    ks->line[K_LIMIT_NOFILE + k] ? ks->line[K_LIMIT_NOFILE + k] :
		    a->line, a->name, rlim_key_name((enum rlim_key)k), want,
		    have);
	}
}

/*
 * The agent's env_file entries made absolute (relative to %(here); a
 * leading '-' kept), each file read and parsed now as it will be at every
 * spawn: a missing file that is not optional, or a bad line, is an error
 * at the env_file line, naming the file and its line.  Each file is read
 * once per load, however many agents name it.
 */
static void
check_env_files(struct parse *p, struct agent_conf *a,
    const struct keyset *ks, const char *here)
{
	struct expand_vars vars = { a->name, NULL, here };
	struct strv tmp;
	struct stat st;
	const char *why, *path;
	char *x, *abs, buf[1024];
	ssize_t at;
	size_t i;
	bool opt;

	for (i = 0; i < a->env_files.n; i++) {
		unsigned line = ks->ef_line[i] ? ks->ef_line[i] : a->line;
		opt = a->env_files.v[i][0] == '-';
		if ((x = expand_vars(a->env_files.v[i] + opt, &vars,
		    &why)) == NULL) {
			perr(p, line, "env_file: %s", why);
			continue;
		}
		if (*x == '\0') {
			perr(p, line, "env_file: empty path");
			free(x);
			continue;
		}
		if (x[0] == '/')
			abs = x;
		else {
			xasprintf(&abs, "%s/%s", here, x);
			free(x);
		}
		free(a->env_files.v[i]);
		xasprintf(&a->env_files.v[i], "%s%s", opt ? "-" : "", abs);
		free(abs);
		path = a->env_files.v[i] + opt;
		if ((at = nametab_get(&p->efseen, path)) == -1) {
			/* "\1": missing; "": good; else the reason. */
			if (stat(path, &st) == -1 && errno == ENOENT)
				strv_push(&p->efwhy, "\1");
			else {
				strv_init(&tmp);
				strv_push(&p->efwhy, envfile_read(path, false,
				    true, &tmp, buf, sizeof(buf)) == 0 ? "" : buf);
				strv_free(&tmp);
			}
			strv_push(&p->efpath, path);
			at = (ssize_t)p->efpath.n - 1;
			nametab_put(&p->efseen, p->efpath.v[at], (size_t)at);
		}
		why = p->efwhy.v[at];
		if (strcmp(why, "\1") == 0 && !opt)
			perr(p, line, "env_file: %s: cannot open: %s (a '-' "
			    "before the path makes the file optional)", path,
			    strerror(ENOENT));
		else if (*why != '\0' && strcmp(why, "\1") != 0)
			perr(p, line, "env_file: %s", why);
	}
}

/*
 * redirect_stderr against stderr: the agent's own section wins over
 * [defaults]; both in one section is a contradiction, refused.
 */
static void
check_redirect(struct parse *p, struct agent_conf *a, const struct keyset *ks)
{
	char at[64];

	if (!a->redirect_stderr || ks->bad[K_STDERR])
		return;
	if (ks->line[K_STDERR] != 0 &&
	    ks->own[K_STDERR] == ks->own[K_REDIRECT_STDERR]) {
		perr(p, pair_line(ks, K_STDERR, K_REDIRECT_STDERR, a->line),
		    "redirect_stderr = true sends stderr where stdout goes, "
		    "but 'stderr = %s' (%s) says otherwise: keep one",
		    out_mode_name(a->out[1]), where(p, ks->line[K_STDERR],
		    ks->line[K_REDIRECT_STDERR], at, sizeof(at)));
		return;
	}
	if (ks->line[K_STDERR] != 0 && ks->own[K_STDERR]) {
		/* The agent's stderr overrides [defaults]' redirect. */
		a->redirect_stderr = false;
		return;
	}
	a->out[1] = OUT_STDOUT;
}

/*
 * Each of words[0..n) must expand for an instance (vars): the first that
 * does not is an error at line, named by key.
 */
static void
check_words(struct parse *p, unsigned line, const char *key,
    char *const *words, size_t n, const struct expand_vars *vars)
{
	const char *why;
	char *x;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((x = expand_vars(words[i], vars, &why)) == NULL) {
			perr(p, line, "%s: %s", key, why);
			return;
		}
		free(x);
	}
}

/*
 * Checks that need the whole agent: cross-key rules and expansions.  A key
 * whose value was refused was reported where it is; rules that involve it
 * are skipped, so that one mistake gives one message.
 */
static void
check_agent(struct parse *p, struct agent_conf *a, const struct keyset *ks,
    const char *here)
{
	static const int codekeys[3] = {
		K_SUCCESS_CODES, K_TRANSIENT_CODES, K_FATAL_CODES
	};
	const struct corral_codeset *sets[3] = {
		&a->codes.success, &a->codes.transient, &a->codes.fatal
	};
	struct expand_vars vars = { a->name, "0", here };
	size_t i;
	unsigned code;
	int s1, s2;

#define LINE(k) (ks->line[k] ? ks->line[k] : a->line)
	if (a->command == NULL && !ks->bad[K_COMMAND])
		perr(p, a->line, "[agent:%s] has no 'command'", a->name);
	check_words(p, LINE(K_COMMAND), "command", a->argv.v, a->argv.n,
	    &vars);
	check_words(p, LINE(K_ENV), "env", a->env.v, a->env.n, &vars);
	if (a->directory != NULL)
		check_words(p, LINE(K_DIRECTORY), "directory", &a->directory, 1,
		    &vars);
	check_words(p, LINE(K_THREAD_ID), "thread_id", &a->thread_id, 1,
	    &vars);
	check_words(p, LINE(K_PRE_START), "pre_start", a->pre_argv.v,
	    a->pre_argv.n, &vars);
	check_words(p, LINE(K_POST_STOP), "post_stop", a->post_argv.v,
	    a->post_argv.n, &vars);
	if (a->backoff.max_ms < a->backoff.initial_ms &&
	    !ks->bad[K_BACKOFF_MAX] && !ks->bad[K_BACKOFF_INITIAL]) {
		char b1[32], b2[32];
		format_duration(a->backoff.max_ms, b1, sizeof(b1));
		format_duration(a->backoff.initial_ms, b2, sizeof(b2));
		perr(p, pair_line(ks, K_BACKOFF_INITIAL, K_BACKOFF_MAX,
		    a->line), "backoff_max (%s) is shorter than "
		    "backoff_initial (%s)", b1, b2);
	}
	/* Reopenings lengthen the open period as the backoff does. */
	a->breaker.multiplier = a->backoff.multiplier;
	a->breaker.jitter = a->backoff.jitter;
	if (!ks->bad[K_RECOVERY_TIMEOUT] && !ks->bad[K_RECOVERY_TIMEOUT_MAX])
		check_recovery(p, &a->breaker,
		    ks->line[K_RECOVERY_TIMEOUT_MAX] != 0, pair_line(ks,
		    K_RECOVERY_TIMEOUT, K_RECOVERY_TIMEOUT_MAX, a->line));
	if (a->backoff.initial_ms == 0 && a->restart != RESTART_NEVER)
		perr(p, LINE(K_BACKOFF_INITIAL), "backoff_initial must be "
		    "above 0: a worker that fails at once would restart in a "
		    "tight loop");
	/* The first code in two lists; a refused list is not looked at. */
	for (code = 0; code < 256; code++) {
		s1 = s2 = -1;
		for (i = 0; i < 3; i++) {
			if (ks->bad[codekeys[i]] ||
			    !corral_codeset_has(sets[i], code))
				continue;
			if (s1 == -1)
				s1 = (int)i;
			else if (s2 == -1)
				s2 = (int)i;
		}
		if (s2 == -1)
			continue;
		perr(p, pair_line(ks, codekeys[s1], codekeys[s2], a->line),
		    "exit code %u is in both %s and %s", code,
		    agent_keys[codekeys[s1]], agent_keys[codekeys[s2]]);
		break;
	}
	check_redirect(p, a, ks);
	check_env_files(p, a, ks, here);
	if (a->user != NULL) {
		struct passwd *pw = getpwnam(a->user);
		if (pw == NULL)
			perr(p, LINE(K_USER), "user: no such user '%s'",
			    a->user);
		else if (geteuid() != 0 && pw->pw_uid != geteuid())
			perr(p, LINE(K_USER), "user: running as '%s' needs "
			    "corrald to run as root", a->user);
		else {
			a->uid = pw->pw_uid;
			a->gid = pw->pw_gid;
		}
	}
	check_rlimits(p, a, ks);
#undef LINE
}

/*
 * The agent's values that %(here) or quoting can make unwritable, checked
 * (check_written); what the file says as it is can always be written.
 */
static void
check_agent_written(struct parse *p, const struct agent_conf *a,
    const struct keyset *ks, const char *here)
{
	const char *why;
	char *v;

#define LINE(k) (ks->line[k] ? ks->line[k] : a->line)
	if (a->command != NULL && (has_here(a->command) ||
	    has_env(a->command))) {
		/* What %(ENV_NAME) made of it, if any, not what it says. */
		v = has_env(a->command) ? joined(&a->argv, here, " ") :
		    subst_here(a->command, here, false);
		check_written(p, LINE(K_COMMAND), "command", v,
		    fmt_command(a, here, &why), &why);
		free(v);
	}
	if (a->env.n > 0) {
		v = joined(&a->env, here, ", ");
		check_written(p, LINE(K_ENV), "env", v, fmt_words(&a->env, here,
		    true, &why), &why);
		free(v);
	}
	/* %(ENV_NAME) gone into it: it may hold anything. */
	if (a->directory != NULL) {
		v = subst_here(a->directory, here, false);
		check_written(p, LINE(K_DIRECTORY), "directory", v,
		    fmt_literal(a->directory, here, &why), &why);
		free(v);
	}
	v = subst_here(a->thread_id, here, false);
	check_written(p, LINE(K_THREAD_ID), "thread_id", v,
	    fmt_literal(a->thread_id, here, &why), &why);
	free(v);
	if (a->env_files.n > 0) {
		v = joined(&a->env_files, NULL, " ");
		check_written(p, LINE(K_ENV_FILE), "env_file", v,
		    fmt_words(&a->env_files, NULL, false, &why), &why);
		free(v);
	}
	if (a->pre_start != NULL && has_here(a->pre_start)) {
		v = subst_here(a->pre_start, here, false);
		check_written(p, LINE(K_PRE_START), "pre_start", v,
		    fmt_hook(a->pre_start, &a->pre_argv, here, &why), &why);
		free(v);
	}
	if (a->post_stop != NULL && has_here(a->post_stop)) {
		v = subst_here(a->post_stop, here, false);
		check_written(p, LINE(K_POST_STOP), "post_stop", v,
		    fmt_hook(a->post_stop, &a->post_argv, here, &why), &why);
		free(v);
	}
#undef LINE
}

static void
cluster_init(struct cluster_conf *cl, const char *name, unsigned line)
{
	static const struct corral_breaker_policy bp = CORRAL_BREAKER_DEFAULT;

	memset(cl, 0, sizeof(*cl));
	snprintf(cl->name, sizeof(cl->name), "%s", name);
	cl->line = line;
	cl->breaker = bp;
	/*
	 * Members fail independently: any member's healthy run would restart
	 * a count of consecutive failures, so a cluster counts over a window.
	 * Its reopenings lengthen as the seed backoff does; no key sets that.
	 */
	cl->breaker.failure_window_ms = 60000;
	cl->breaker.multiplier = 2.0;
	cl->breaker.jitter = 0.25;
	cl->strategy = STRAT_ONE_FOR_ONE;
	cl->min_healthy = 1;
	strv_init(&cl->on_state_argv);
}

static void
cluster_conf_free(struct cluster_conf *cl)
{
	free(cl->on_state_change);
	strv_free(&cl->on_state_argv);
}

/*
 * on_state_change: split as a command, with %(here) expanded now: the words
 * are final, since nothing else about the command is known when it runs
 * (corrald appends NAME OLD NEW).  0, or -1 with the reason in *why.
 */
static int
hook_set(struct cluster_conf *cl, const char *value, const char *here,
    const char **why)
{
	static char whybuf[160];
	struct expand_vars any = { "", "", here }, vars = { NULL, NULL, here };
	struct strv words, out;
	size_t i;
	char *x;

	strv_init(&words);
	if (argv_split(value, NULL, &words, why) == -1)
		return -1;
	if (words.n == 0 || *words.v[0] == '\0') {
		strv_free(&words);
		*why = "empty command";
		return -1;
	}
	strv_init(&out);
	for (i = 0; i < words.n; i++) {
		/* A bad '%' first, with the message every key gives. */
		if ((x = expand_vars(words.v[i], &any, why)) == NULL)
			break;
		free(x);
		/* Then what only an agent's command has. */
		if ((x = expand_vars(words.v[i], &vars, why)) == NULL) {
			snprintf(whybuf, sizeof(whybuf), "%s; corrald appends "
			    "NAME OLD NEW to the command", *why);
			*why = whybuf;
			break;
		}
		strv_push_own(&out, x);
	}
	if (i < words.n) {
		strv_free(&words);
		strv_free(&out);
		return -1;
	}
	strv_free(&words);
	strv_free(&cl->on_state_argv);
	cl->on_state_argv = out;
	free(cl->on_state_change);
	cl->on_state_change = xstrdup(value);
	return 0;
}

/* Set cl's key k from value.  0, or -1 with the reason in *why. */
static int
cluster_set(struct cluster_conf *cl, enum ckey k, const char *value,
    const char *here, const char **why)
{
	uint64_t u;

	switch (k) {
	case C_FAILURE_THRESHOLD:
		return breaker_set(&cl->breaker, B_FAILURE_THRESHOLD, value,
		    why);
	case C_FAILURE_WINDOW:
		return parse_duration(value, &cl->breaker.failure_window_ms,
		    why);
	case C_RECOVERY_TIMEOUT:
		return breaker_set(&cl->breaker, B_RECOVERY_TIMEOUT, value,
		    why);
	case C_RECOVERY_TIMEOUT_MAX:
		return breaker_set(&cl->breaker, B_RECOVERY_TIMEOUT_MAX, value,
		    why);
	case C_HALF_OPEN_MAX_CALLS:
		return breaker_set(&cl->breaker, B_HALF_OPEN_MAX_CALLS, value,
		    why);
	case C_STRATEGY: {
		static const char *const strats[] = { "one_for_one", "one_for_all",
			"rest_for_one" };
		int c = choice(value, strats, 3, "must be one_for_one, one_for_all "
		    "or rest_for_one", why);
		if (c == -1)
			return -1;
		cl->strategy = (enum strategy)c;
		return 0;
	}
	case C_MIN_HEALTHY:
		if (parse_uint(value, 100000, &u, why) == -1)
			return -1;
		cl->min_healthy = (unsigned)u;
		return 0;
	case C_ON_STATE_CHANGE:
		return hook_set(cl, value, here, why);
	case C_NCLUSTER:
		break;
	}
	*why = "unknown key";
	return -1;
}

/*
 * Apply the entries of cluster section sec to cl and check the rules
 * between its keys.  min_healthy needs the members, known later: its line
 * goes to *mh_line (0 when not set, or refused).
 */
static void
apply_cluster_section(struct parse *p, size_t sec, struct cluster_conf *cl,
    const char *here, unsigned *mh_line)
{
	unsigned seen[C_NCLUSTER] = { 0 };
	bool bad[C_NCLUSTER] = { false };
	const char *why;
	size_t i;
	int k;

	for (i = p->sections[sec].first; i < p->sections[sec].first +
	    p->sections[sec].nentries; i++) {
		struct raw_entry *e = &p->entries[i];
		k = key_index(cluster_keys, C_NCLUSTER, e->key);
		if (e->refused) {
			if (k >= 0 && seen[k] == 0) {
				seen[k] = e->line;
				bad[k] = true;
			}
			continue;
		}
		if (k < 0) {
			unknown_key(p, e, p->sections[sec].name, cluster_keys,
			    C_NCLUSTER);
			continue;
		}
		if (seen[k] != 0) {
			perr(p, e->line, "key '%s' set twice in [%s] (first at "
			    "line %u)", e->key, p->sections[sec].name, seen[k]);
			continue;
		}
		seen[k] = e->line;
		if (cluster_set(cl, (enum ckey)k, e->value, here, &why) == -1) {
			perr(p, e->line, "%s: %s", e->key, why);
			bad[k] = true;
		} else if (k == C_ON_STATE_CHANGE) {
			char *v = joined(&cl->on_state_argv, NULL, " ");
			check_written(p, e->line, e->key, v, fmt_words(
			    &cl->on_state_argv, NULL, false, &why), &why);
			free(v);
		}
	}
	if (!bad[C_RECOVERY_TIMEOUT] && !bad[C_RECOVERY_TIMEOUT_MAX])
		check_recovery(p, &cl->breaker,
		    seen[C_RECOVERY_TIMEOUT_MAX] != 0,
		    seen[C_RECOVERY_TIMEOUT_MAX]);
	*mh_line = bad[C_MIN_HEALTHY] ? 0 : seen[C_MIN_HEALTHY];
}

static int
agent_cmp(const void *x, const void *y)
{
	const struct agent_conf *a = x, *b = y;

	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* What resolve keeps of an agent's keys for the checks across agents. */
struct agent_note {
	unsigned fallback_line; /* 0: no fallback */
	unsigned after_line;    /* 0: no after */
	bool numprocs_bad;      /* refused: its count of workers is unknown */
	ssize_t fb;             /* index of its fallback agent; -1: none */
	ssize_t cl;             /* index of its cluster; -1: none or unknown */
};

/* "fallback cycle: a -> b -> a", from the cycle's first agent in the file. */
static void
report_cycle(struct parse *p, const struct config *c,
    const struct agent_note *notes, ssize_t on)
{
	struct sbuf b = { NULL, 0, 0 };
	ssize_t first = on, k;

	/* Agents are still in file order: the lowest index comes first. */
	for (k = notes[on].fb; k != on; k = notes[k].fb)
		if (k < first)
			first = k;
	/* Grown, not copied once per agent: a cycle may be long. */
	sb_puts(&b, c->agents[first].name);
	k = first;
	do {
		k = notes[k].fb;
		sb_puts(&b, " -> ");
		sb_puts(&b, c->agents[k].name);
	} while (k != first);
	perr(p, notes[first].fallback_line, "fallback cycle: %s", b.s);
	free(b.s);
}

/*
 * Every fallback names another agent of the file, and following fallbacks
 * never comes back.  Fills notes[].fb; agents finds an agent's index by
 * its name.  Each agent has at most one
 * fallback, so a walk from an agent is a path: it ends, or enters a cycle
 * that no earlier walk found (each cycle is reported once).
 */
static void
check_fallbacks(struct parse *p, const struct config *c,
    const struct nametab *agents, struct agent_note *notes)
{
	enum { UNSEEN, ON_WALK, DONE } *state;
	const char **names, *sugg;
	struct namelist nl;
	size_t i;
	ssize_t k;

	names = xcalloc(c->nagents + 1, sizeof(*names));
	for (i = 0; i < c->nagents; i++)
		names[i] = c->agents[i].name;
	namelist_init(&nl, names, c->nagents);
	for (i = 0; i < c->nagents; i++) {
		const struct agent_conf *a = &c->agents[i];
		notes[i].fb = -1;
		if (a->fallback == NULL)
			continue;
		if (strcmp(a->fallback, a->name) == 0) {
			perr(p, notes[i].fallback_line, "an agent cannot be "
			    "its own fallback");
			continue;
		}
		if ((k = nametab_get(agents, a->fallback)) != -1) {
			notes[i].fb = k;
			continue;
		}
		/* The agent itself is no suggestion: it cannot be one. */
		if ((sugg = closest_name(p, &nl, i, a->fallback)) != NULL)
			perr(p, notes[i].fallback_line, "unknown fallback "
			    "agent '%s'; did you mean '%s'?", a->fallback,
			    sugg);
		else
			perr(p, notes[i].fallback_line, "unknown fallback "
			    "agent '%s' (no [agent:%s] section)", a->fallback,
			    a->fallback);
	}
	namelist_free(&nl);
	free(names);

	state = xcalloc(c->nagents, sizeof(*state));
	for (i = 0; i < c->nagents; i++) {
		for (k = (ssize_t)i; k != -1 && state[k] == UNSEEN;
		    k = notes[k].fb)
			state[k] = ON_WALK;
		if (k != -1 && state[k] == ON_WALK)
			report_cycle(p, c, notes, k);
		for (k = (ssize_t)i; k != -1 && state[k] == ON_WALK;
		    k = notes[k].fb)
			state[k] = DONE;
	}
	free(state);
}

/*
 * `after`: every name is another agent of the file; an agent that starts
 * by itself does not wait for one that never does; and following `after`
 * never comes back to where it began.  A cycle is reported once, as
 * "after cycle: a -> b -> a" from its first agent in the file, at that
 * agent's `after` line.  Depth-first, with a stack of our own: a chain
 * of 10,000 agents must not overflow the C stack.
 */
static void
check_after(struct parse *p, const struct config *c,
    const struct nametab *agents, struct agent_note *notes)
{
	enum { UNSEEN, ON_PATH, DONE } *state;
	ssize_t **edges, k, first;
	size_t *nedges, *path, *next, depth, i, j, e;
	const char **names, *sugg;
	struct namelist nl;
	struct sbuf b;

	names = xcalloc(c->nagents + 1, sizeof(*names));
	for (i = 0; i < c->nagents; i++)
		names[i] = c->agents[i].name;
	namelist_init(&nl, names, c->nagents);
	edges = xcalloc(c->nagents + 1, sizeof(*edges));
	nedges = xcalloc(c->nagents + 1, sizeof(*nedges));
	for (i = 0; i < c->nagents; i++) {
		const struct agent_conf *a = &c->agents[i];
		edges[i] = xcalloc(a->after.n + 1, sizeof(**edges));
		for (j = 0; j < a->after.n; j++) {
			const char *dep = a->after.v[j];
			if (strcmp(dep, a->name) == 0) {
				perr(p, notes[i].after_line, "after: an agent "
				    "cannot come after itself");
				continue;
			}
			if ((k = nametab_get(agents, dep)) == -1) {
				if ((sugg = closest_name(p, &nl, i, dep)) !=
				    NULL)
					perr(p, notes[i].after_line, "after: "
					    "unknown agent '%s'; did you mean "
					    "'%s'?", dep, sugg);
				else
					perr(p, notes[i].after_line, "after: "
					    "unknown agent '%s' (no [agent:%s] "
					    "section)", dep, dep);
				continue;
			}
			if (a->autostart && !c->agents[k].autostart)
				perr(p, notes[i].after_line, "after: agent %s "
				    "has autostart = false: %s would wait "
				    "until someone starts it (set autostart = "
				    "false on %s too, or true on %s)", dep,
				    a->name, a->name, dep);
			edges[i][nedges[i]++] = k;
		}
	}
	namelist_free(&nl);
	free(names);

	state = xcalloc(c->nagents + 1, sizeof(*state));
	path = xcalloc(c->nagents + 1, sizeof(*path));
	next = xcalloc(c->nagents + 1, sizeof(*next));
	for (i = 0; i < c->nagents; i++) {
		if (state[i] != UNSEEN)
			continue;
		depth = 0;
		path[depth++] = i;
		next[i] = 0;
		state[i] = ON_PATH;
		while (depth > 0) {
			size_t at = path[depth - 1];
			if (next[at] == nedges[at]) {
				state[at] = DONE;
				depth--;
				continue;
			}
			k = edges[at][next[at]++];
			if (state[k] == UNSEEN) {
				state[k] = ON_PATH;
				next[k] = 0;
				path[depth++] = (size_t)k;
				continue;
			}
			if (state[k] != ON_PATH)
				continue;
			/* The cycle is path[e..depth), where path[e] == k. */
			for (e = depth; path[--e] != (size_t)k;)
				;
			first = k;
			for (j = e; j < depth; j++)
				if ((ssize_t)path[j] < first)
					first = (ssize_t)path[j];
			memset(&b, 0, sizeof(b));
			/* From its first agent in the file, round to it. */
			for (j = e; path[j] != (size_t)first; j++)
				;
			sb_puts(&b, c->agents[first].name);
			do {
				j = j + 1 < depth ? j + 1 : e;
				sb_puts(&b, " -> ");
				sb_puts(&b, c->agents[path[j]].name);
			} while (path[j] != (size_t)first);
			perr(p, notes[first].after_line, "after cycle: %s",
			    b.s);
			free(b.s);
		}
	}
	for (i = 0; i < c->nagents; i++)
		free(edges[i]);
	free(edges);
	free(nedges);
	free(state);
	free(path);
	free(next);
}

/*
 * A cluster's min_healthy, where set (line in mhline), against its
 * workers.  The default, 1, is allowed in a cluster without members (one
 * declared for later): written out by --check, it must load again.
 */
static void
check_min_healthy(struct parse *p, const struct config *c,
    const struct agent_note *notes, const unsigned *mhline)
{
	const struct cluster_conf *cl;
	uint64_t *workers;
	bool *unknown;
	size_t i, j;

	/* Each cluster's workers, in one pass over the agents. */
	workers = xcalloc(c->nclusters + 1, sizeof(*workers));
	unknown = xcalloc(c->nclusters + 1, sizeof(*unknown));
	for (i = 0; i < c->nagents; i++) {
		if (notes[i].cl == -1)
			continue;
		workers[notes[i].cl] += c->agents[i].numprocs;
		unknown[notes[i].cl] |= notes[i].numprocs_bad;
	}
	for (j = 0; j < c->nclusters; j++) {
		cl = &c->clusters[j];
		if (mhline[j] == 0)
			continue;
		/* A refused numprocs was reported; a guess would be another. */
		if (!unknown[j] && cl->min_healthy > workers[j] &&
		    !(cl->min_healthy == 1 && workers[j] == 0))
			perr(p, mhline[j], "min_healthy %u is more than the "
			    "%llu worker%s of cluster %s", cl->min_healthy,
			    (unsigned long long)workers[j],
			    workers[j] == 1 ? "" : "s", cl->name);
	}
	free(workers);
	free(unknown);
}

static void
resolve(struct parse *p, struct config *c)
{
	struct agent_conf defaults;
	struct agent_note *notes;
	unsigned *mhline;
	struct keyset defks;
	unsigned dseen[D_NDAEMON] = { 0 };
	const char *name, *cd, **cnames;
	char *dbdir;
	enum stype *types;
	char cwd[PATH_MAX];
	struct nametab secs, clusters, agents;
	struct namelist cnl;
	size_t i, j;
	ssize_t defsec = -1, other;

	memset(&secs, 0, sizeof(secs));
	memset(&clusters, 0, sizeof(clusters));
	memset(&agents, 0, sizeof(agents));

	types = xcalloc(p->nsections, sizeof(*types));
	for (i = 0; i < p->nsections; i++) {
		types[i] = section_type(p, &p->sections[i], &name);
		/* One [include] per file: include_files() sees to it. */
		if (types[i] == S_BAD || types[i] == S_INCLUDE)
			continue;
		if (!nametab_put(&secs, p->sections[i].name, i)) {
			char at[PATH_MAX + 32];
			j = (size_t)nametab_get(&secs, p->sections[i].name);
			perr(p, p->sections[i].line, "duplicate section [%s] "
			    "(first at %s)", p->sections[i].name, where(p,
			    p->sections[j].line, p->sections[i].line, at,
			    sizeof(at)));
			types[i] = S_BAD;
		}
	}
	nametab_free(&secs);

	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		perr(p, 1, "cannot read the current directory: %s",
		    strerror(errno));
		free(types);
		return;
	}

	/*
	 * CHECKPOINT_DIR is where the databases go when the file names a
	 * relative path or none; itself relative to the current directory.
	 */
	cd = getenv("CHECKPOINT_DIR");
	if (cd == NULL || *cd == '\0')
		dbdir = xstrdup(cwd);
	else if (*cd == '/')
		dbdir = xstrdup(cd);
	else
		xasprintf(&dbdir, "%s/%s", cwd, cd);

	/* [corrald] */
	c->log_level = LOG_LVL_INFO;
	c->breakers = true;
	c->cgroup = true;
	c->event_retention_ms = EVENT_RETENTION_MS;
	c->event_retention_count = EVENT_RETENTION_COUNT;
	c->log_file_max_bytes = 10ULL << 20; /* as an agent's log_max_bytes */
	c->log_file_backups = 5;
	for (i = 0; i < p->nentries; i++) {
		struct raw_entry *e = &p->entries[i];
		char **dst = NULL;
		int k;
		if (e->section < 0 || types[e->section] != S_DAEMON ||
		    e->refused)
			continue;
		k = key_index(daemon_keys, D_NDAEMON, e->key);
		if (k < 0) {
			unknown_key(p, e, "corrald", daemon_keys, D_NDAEMON);
			continue;
		}
		if (dseen[k] != 0) {
			perr(p, e->line, "key '%s' set twice in [corrald] "
			    "(first at line %u)", e->key, dseen[k]);
			continue;
		}
		dseen[k] = e->line;
		switch (k) {
		case D_STATE_DB:
			dst = &c->state_db;
			break;
		case D_RUN_DIR:
			dst = &c->run_dir;
			break;
		case D_CHECKPOINT_DB:
			dst = &c->checkpoint_db;
			break;
		case D_LOG_DIR:
			dst = &c->log_dir;
			break;
		case D_CONTROL_SOCKET:
			dst = &c->control_socket;
			break;
		case D_LOG_FILE:
			dst = &c->log_file;
			break;
		case D_LOG_FILE_MAX_BYTES: {
			const char *why;
			if (parse_size(e->value, &c->log_file_max_bytes, &why) ==
			    -1)
				perr(p, e->line, "log_file_max_bytes: %s", why);
			continue;
		}
		case D_LOG_FILE_BACKUPS: {
			const char *why;
			uint64_t u;
			if (parse_uint(e->value, 1000, &u, &why) == -1)
				perr(p, e->line, "log_file_backups: %s", why);
			else
				c->log_file_backups = (unsigned)u;
			continue;
		}
		case D_LOG_LEVEL:
			if (log_level_parse(e->value, &c->log_level) == -1)
				perr(p, e->line, "log_level: must be error, "
				    "warn, info or debug");
			continue;
		case D_HTTP_LISTEN: {
			const char *why;
			if (parse_listen(e->value, &c->http_host,
			    &c->http_port, &why) == -1)
				perr(p, e->line, "http_listen: %s", why);
			continue;
		}
		case D_BREAKERS: {
			const char *why;
			if (parse_bool(e->value, &c->breakers, &why) == -1)
				perr(p, e->line, "circuit_breaker_enabled: %s",
				    why);
			continue;
		}
		case D_CGROUP:
			if (strcmp(e->value, "auto") == 0)
				c->cgroup = true;
			else if (strcmp(e->value, "off") == 0)
				c->cgroup = false;
			else
				perr(p, e->line, "cgroup: must be auto or off");
			continue;
		case D_RETENTION: {
			const char *why;
			if (parse_duration(e->value, &c->event_retention_ms,
			    &why) == -1)
				perr(p, e->line, "event_retention: %s", why);
			continue;
		}
		case D_RETENTION_COUNT: {
			const char *why;
			if (parse_uint(e->value, UINT32_MAX,
			    &c->event_retention_count, &why) == -1)
				perr(p, e->line, "event_retention_count: %s",
				    why);
			continue;
		}
		case D_NODE_NAME: {
			const char *why;
			if (check_node_name(e->value, &why) == -1)
				perr(p, e->line, "node_name: %s", why);
			else
				c->node_name = xstrdup(e->value);
			continue;
		}
		case D_LEASE_TTL: {
			const char *why;
			if (parse_duration(e->value, &c->lease_ttl_ms, &why) ==
			    -1)
				perr(p, e->line, "lease_ttl: %s", why);
			else if (c->lease_ttl_ms < LEASE_TTL_MIN_MS ||
			    c->lease_ttl_ms > LEASE_TTL_MAX_MS)
				perr(p, e->line, "lease_ttl: must be from 1s to "
				    "1h");
			continue;
		}
		case D_HTTP_TOKEN:
			if (strcmp(e->value, HIDDEN_TOKEN) == 0)
				perr(p, e->line, "http_token: %s is what "
				    "corrald --check prints in its place; write "
				    "the token itself", HIDDEN_TOKEN);
			else if (strlen(e->value) < 16)
				perr(p, e->line, "http_token: at least 16 "
				    "characters");
			else
				c->http_token = xstrdup(e->value);
			continue;
		}
		/* A PostgreSQL connection string is no path. */
		if (k == D_CHECKPOINT_DB && corral_where_is_postgres(e->value))
			*dst = xstrdup(e->value);
		else
			*dst = resolve_path(p, e->line, e->key, e->value,
			    c->here, k == D_STATE_DB || k == D_CHECKPOINT_DB ?
			    dbdir : cwd);
	}
	if (c->state_db == NULL)
		xasprintf(&c->state_db, "%s/corral-state.db", dbdir);
	if (c->checkpoint_db == NULL)
		xasprintf(&c->checkpoint_db, "%s/corral-checkpoints.db", dbdir);
	free(dbdir);
	if (c->run_dir == NULL)
		c->run_dir = xstrdup(cwd);
	if (c->log_dir == NULL)
		xasprintf(&c->log_dir, "%s/log", cwd);
	if (c->control_socket == NULL)
		xasprintf(&c->control_socket, "%s/corrald.sock", c->run_dir);
	/* Rotation settings for no file would be silently ignored. */
	if (dseen[D_LOG_FILE] == 0 && (dseen[D_LOG_FILE_MAX_BYTES] ||
	    dseen[D_LOG_FILE_BACKUPS]))
		perr(p, dseen[D_LOG_FILE_MAX_BYTES] ?
		    dseen[D_LOG_FILE_MAX_BYTES] : dseen[D_LOG_FILE_BACKUPS],
		    "%s: set, but log_file is not (stderr and the journal are "
		    "rotated by whoever reads them)",
		    dseen[D_LOG_FILE_MAX_BYTES] ? "log_file_max_bytes" :
		    "log_file_backups");
	c->leases = corral_where_is_postgres(c->checkpoint_db);
	config_show_checkpoint(c);
	{
		static const int keys[] = { D_STATE_DB, D_CHECKPOINT_DB,
			D_RUN_DIR, D_LOG_DIR, D_CONTROL_SOCKET, D_LOG_FILE };
		const char *paths[] = { c->state_db, c->checkpoint_db,
			c->run_dir, c->log_dir, c->control_socket, c->log_file };
		const char *why;

		for (i = 0; i < 6; i++)
			if (paths[i] != NULL &&
			    (keys[i] != D_CHECKPOINT_DB || !c->leases))
				check_written(p, dseen[keys[i]] ?
				    dseen[keys[i]] : 1, daemon_keys[keys[i]],
				    paths[i], fmt_literal(paths[i], NULL, &why),
				    &why);
	}
	/* Environment first (a DaemonSet's node), then the file, then us. */
	if ((cd = getenv("CORRAL_NODE_NAME")) != NULL && *cd != '\0') {
		const char *why;
		if (check_node_name(cd, &why) == -1)
			perr(p, 1, "environment CORRAL_NODE_NAME='%.40s': %s",
			    cd, why);
		else {
			free(c->node_name);
			c->node_name = xstrdup(cd);
		}
	}
	if (c->node_name == NULL) {
		char host[256];
		const char *why = "cannot read the host name";
		if (gethostname(host, sizeof(host)) == 0 &&
		    (host[sizeof(host) - 1] = '\0', check_node_name(host,
		    &why) == 0))
			c->node_name = xstrdup(host);
		else if (c->leases)
			perr(p, 1, "node_name: not set, and the host name will "
			    "not do (%s); set node_name or CORRAL_NODE_NAME",
			    why);
		else
			c->node_name = xstrdup("-");
	}
	if (c->lease_ttl_ms == 0)
		c->lease_ttl_ms = LEASE_TTL_MS;
	/* The environment overrides the file, as the spec has it. */
	if ((cd = getenv("CIRCUIT_BREAKER_ENABLED")) != NULL) {
		const char *why;
		if (parse_bool(cd, &c->breakers, &why) == -1)
			perr(p, 1, "environment CIRCUIT_BREAKER_ENABLED='%.40s': "
			    "%s", cd, why);
	}
	if (strlen(c->control_socket) > 107) /* sun_path, with its NUL */
		perr(p, dseen[D_CONTROL_SOCKET] ? dseen[D_CONTROL_SOCKET] :
		    dseen[D_RUN_DIR] ? dseen[D_RUN_DIR] : 1, "control_socket: "
		    "%s is longer than 107 bytes, the limit of a Unix socket "
		    "path", c->control_socket);
	if (strlen(c->run_dir) + strlen("/notify.sock") > 107)
		perr(p, dseen[D_RUN_DIR] ? dseen[D_RUN_DIR] : 1, "run_dir: "
		    "%s/notify.sock, the workers' notify socket, is longer "
		    "than 107 bytes, the limit of a Unix socket path",
		    c->run_dir);
	/* Metrics tell much about a fleet: beyond loopback, only with a key. */
	if (c->http_host != NULL && c->http_token == NULL &&
	    strncmp(c->http_host, "127.", 4) != 0 &&
	    strcmp(c->http_host, "::1") != 0)
		perr(p, dseen[D_HTTP_LISTEN], "http_listen: %s is not a "
		    "loopback address; set http_token to serve it beyond this "
		    "machine", c->http_host);

	/* [cluster:NAME] */
	for (i = 0; i < p->nsections; i++)
		c->nclusters += types[i] == S_CLUSTER;
	c->clusters = xcalloc(c->nclusters, sizeof(*c->clusters));
	cnames = xcalloc(c->nclusters + 1, sizeof(*cnames));
	mhline = xcalloc(c->nclusters, sizeof(*mhline));
	for (i = 0, j = 0; i < p->nsections; i++) {
		if (types[i] != S_CLUSTER)
			continue;
		cluster_init(&c->clusters[j], strchr(p->sections[i].name,
		    ':') + 1, p->sections[i].line);
		apply_cluster_section(p, i, &c->clusters[j], c->here,
		    &mhline[j]);
		j++;
	}
	/* After the array is whole: the table borrows the names. */
	for (j = 0; j < c->nclusters; j++) {
		cnames[j] = c->clusters[j].name;
		nametab_put(&clusters, cnames[j], j);
	}
	namelist_init(&cnl, cnames, c->nclusters);

	/*
	 * [defaults], checked once on its own.  There is one at most: a
	 * second is a duplicate section.
	 */
	agent_init(&defaults);
	memset(&defks, 0, sizeof(defks));
	for (i = 0; i < p->nsections; i++) {
		if (types[i] != S_DEFAULTS)
			continue;
		defsec = (ssize_t)i;
		apply_agent_section(p, i, &defaults, &defks, false, true);
	}

	/* [agent:NAME] */
	for (i = 0; i < p->nsections; i++)
		c->nagents += types[i] == S_AGENT;
	c->agents = xcalloc(c->nagents, sizeof(*c->agents));
	notes = xcalloc(c->nagents + 1, sizeof(*notes));
	for (i = 0, j = 0; i < p->nsections; i++) {
		struct keyset ks;
		struct agent_conf *a;

		if (types[i] != S_AGENT)
			continue;
		a = &c->agents[j];
		agent_init(a);
		snprintf(a->name, sizeof(a->name), "%s",
		    strchr(p->sections[i].name, ':') + 1);
		a->line = p->sections[i].line;
		a->order = (unsigned)i;
		memset(&ks, 0, sizeof(ks));
		if (defsec != -1)
			apply_agent_section(p, (size_t)defsec, a, &ks, false,
			    false);
		apply_agent_section(p, i, a, &ks, true, true);
		check_agent(p, a, &ks, c->here);
		check_agent_written(p, a, &ks, c->here);
		/* The kernel's limits need a cgroup; "off" makes none. */
		if (!c->cgroup && a->memory_max > 0)
			perr(p, ks.line[K_MEMORY_MAX] ? ks.line[K_MEMORY_MAX] :
			    a->line, "memory_max needs cgroup = auto in "
			    "[corrald]: cgroup = off makes no cgroup to hold "
			    "it");
		if (!c->cgroup && a->cpu_quota > 0)
			perr(p, ks.line[K_CPU_QUOTA] ? ks.line[K_CPU_QUOTA] :
			    a->line, "cpu_quota needs cgroup = auto in "
			    "[corrald]: cgroup = off makes no cgroup to hold "
			    "it");
		notes[j].fallback_line = ks.line[K_FALLBACK];
		notes[j].after_line = ks.line[K_AFTER];
		notes[j].numprocs_bad = ks.bad[K_NUMPROCS];
		notes[j].cl = -1;
		if (a->cluster != NULL &&
		    (notes[j].cl = nametab_get(&clusters, a->cluster)) == -1) {
			const char *sugg = closest_name(p, &cnl, SIZE_MAX,
			    a->cluster);
			if (sugg != NULL)
				perr(p, ks.line[K_CLUSTER], "unknown cluster "
				    "'%s'; did you mean '%s'?", a->cluster,
				    sugg);
			else
				perr(p, ks.line[K_CLUSTER], "unknown cluster "
				    "'%s' (no [cluster:%s] section)",
				    a->cluster, a->cluster);
		}
		j++;
	}
	for (i = 0; i < c->nagents; i++)
		nametab_put(&agents, c->agents[i].name, i);
	if (c->nagents == 0 && p->nerrs == 0)
		perr(p, p->files[0].nlines > 0 ? p->files[0].nlines : 1,
		    "no [agent:NAME] section: nothing to supervise");
	check_fallbacks(p, c, &agents, notes);
	check_after(p, c, &agents, notes);
	check_min_healthy(p, c, notes, mhline);
	/* corralctl's targets name an agent or a cluster: never both. */
	for (i = 0; i < c->nagents; i++) {
		if (strcmp(c->agents[i].name, "all") == 0)
			perr(p, c->agents[i].line, "the name 'all' is reserved "
			    "(corralctl's target for every worker)");
		if ((other = nametab_get(&clusters, c->agents[i].name)) !=
		    -1) {
			char at[PATH_MAX + 32];
			perr(p, c->agents[i].line, "'%s' names both an agent "
			    "and a cluster (%s); corralctl could not tell "
			    "them apart", c->agents[i].name, where(p,
			    c->clusters[other].line, c->agents[i].line, at,
			    sizeof(at)));
		}
	}
	for (j = 0; j < c->nclusters; j++)
		if (strcmp(c->clusters[j].name, "all") == 0)
			perr(p, c->clusters[j].line, "the name 'all' is "
			    "reserved (corralctl's target for every worker)");

	nametab_free(&clusters);
	nametab_free(&agents);
	namelist_free(&cnl);
	free(cnames);
	agent_conf_free(&defaults);
	free(notes);
	free(mhline);
	free(types);
	/* What the file says, whatever corralctl scale makes of it later. */
	for (i = 0; i < c->nagents; i++)
		c->agents[i].numprocs_file = c->agents[i].numprocs;
	/* qsort(NULL, 0, ...) is undefined. */
	if (c->nagents > 1)
		qsort(c->agents, c->nagents, sizeof(*c->agents), agent_cmp);
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nagents; i++)
		agent_conf_free(&c->agents[i]);
	free(c->agents);
	for (i = 0; i < c->nclusters; i++)
		cluster_conf_free(&c->clusters[i]);
	free(c->clusters);
	free(c->path);
	free(c->here);
	free(c->text);
	free(c->state_db);
	free(c->checkpoint_db);
	free(c->checkpoint_shown);
	free(c->node_name);
	free(c->run_dir);
	free(c->log_dir);
	free(c->log_file);
	free(c->control_socket);
	free(c->http_host);
	free(c->http_token);
	free(c);
}

/*
 * The file at path, whole: 0 with *textp (caller frees; a NUL after its
 * *lenp bytes), or -1 with "PATH: reason" or "PATH:LINE: reason" in *msg
 * (caller frees).  regular: only a regular file, opened without waiting
 * (an included file: a FIFO a pattern matched must not hang a reload);
 * the fleet file itself may be a pipe (corrald -c <(...)).
 */
static int
read_whole(const char *path, bool regular, char **textp, size_t *lenp,
    char **msg)
{
	struct stat st;
	FILE *f;
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	int fd;

	if (regular) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
		    O_NOCTTY)) == -1) {
			xasprintf(msg, "%s: cannot open: %s", path,
			    strerror(errno));
			return -1;
		}
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
			xasprintf(msg, "%s: not a regular file", path);
			close(fd);
			return -1;
		}
		f = fdopen(fd, "r");
	} else
		f = fopen(path, "re");
	if (f == NULL) {
		xasprintf(msg, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * Read whole, then parsed: the bytes parsed are the bytes the config
	 * keeps, which a reexec hands to the next image.
	 */
	for (;;) {
		if (cap - len < 8192) {
			if (cap >= CONFIG_FILE_MAX) {
				xasprintf(msg, "%s: larger than %d MiB", path,
				    CONFIG_FILE_MAX >> 20);
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			text = xreallocarray(text, cap, 1);
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		/* Its line: the one after the last read whole. */
		unsigned line = 1;
		for (n = 0; n < len; n++)
			line += text[n] == '\n';
		xasprintf(msg, "%s:%u: read error: %s", path, line,
		    strerror(errno));
		goto fail;
	}
	fclose(f);
	text[len] = '\0'; /* the last fread found room and no byte */
	*textp = text;
	*lenp = len;
	return 0;
fail:
	fclose(f);
	free(text);
	return -1;
}

/* A file more to read, at the end of the list; path is copied. */
static struct srcfile *
add_file(struct parse *p, const char *path)
{
	struct srcfile *sf;

	p->files = grow(p->files, p->nfiles, &p->filecap, sizeof(*p->files));
	sf = &p->files[p->nfiles++];
	memset(sf, 0, sizeof(*sf));
	sf->path = xstrdup(path);
	/* No line is in it before it is read (file_of). */
	sf->base = UINT_MAX;
	return sf;
}

/* The directory of an absolute path.  Caller frees. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	return slash == path ? xstrdup("/") :
	    xstrndup(path, (size_t)(slash - path));
}

/*
 * The file at path, named by the [include] at line: read, to be parsed
 * after those before it.  A file read already (the fleet file, or one
 * included before, which is also how a cycle shows) is an error.
 */
static void
include_add(struct parse *p, const char *path, unsigned line)
{
	struct srcfile *sf;
	char *real, *text, *msg, at[PATH_MAX + 32];
	size_t i, len;

	if ((real = realpath(path, NULL)) == NULL) {
		perr(p, line, "files: %s: cannot open: %s", path,
		    strerror(errno));
		return;
	}
	for (i = 0; i < p->nfiles; i++) {
		if (p->files[i].real == NULL ||
		    strcmp(p->files[i].real, real) != 0)
			continue;
		if (i == 0)
			perr(p, line, "files: %s is the fleet file itself",
			    path);
		else
			perr(p, line, "files: %s is included already (by %s)",
			    path, where(p, p->files[i].inc_line, line, at,
			    sizeof(at)));
		free(real);
		return;
	}
	if (read_whole(path, true, &text, &len, &msg) == -1) {
		perr(p, line, "files: %s", msg);
		free(msg);
		free(real);
		return;
	}
	sf = add_file(p, path);
	sf->real = real;
	sf->dir = dir_of(real);
	sf->text = text;
	sf->len = len;
	sf->own_text = true;
	sf->inc_line = line;
}

static int
path_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* files = PATTERN...: each pattern's files, in byte order. */
static void
include_value(struct parse *p, size_t k, const struct raw_entry *e)
{
	struct expand_vars vars = { NULL, NULL, p->files[0].dir };
	struct strv words;
	const char *why;
	char *x, *pat;
	glob_t g;
	size_t i, j;
	int rc;

	strv_init(&words);
	if (argv_split(e->value, NULL, &words, &why) == -1) {
		perr(p, e->line, "files: %s", why);
		return;
	}
	if (words.n == 0)
		perr(p, e->line, "files: names no file");
	/* A bundle holds the files as they were read. */
	for (i = 0; i < words.n && !p->replay; i++) {
		if ((x = expand_vars(words.v[i], &vars, &why)) == NULL) {
			perr(p, e->line, "files: %s", why);
			continue;
		}
		if (*x == '\0') {
			perr(p, e->line, "files: empty pattern");
			free(x);
			continue;
		}
		if (x[0] == '/')
			pat = x;
		else {
			xasprintf(&pat, "%s/%s", p->files[k].dir, x);
			free(x);
		}
		/* A plain name must exist; a pattern may match nothing. */
		if (strpbrk(pat, "*?[") == NULL) {
			include_add(p, pat, e->line);
			free(pat);
			continue;
		}
		memset(&g, 0, sizeof(g));
		rc = glob(pat, GLOB_NOSORT, NULL, &g);
		if (rc == GLOB_NOSPACE)
			fatal("out of memory matching %s", pat);
		if (rc == 0) {
			/* Byte order, whatever the locale says. */
			qsort(g.gl_pathv, g.gl_pathc, sizeof(*g.gl_pathv),
			    path_cmp);
			for (j = 0; j < g.gl_pathc; j++)
				include_add(p, g.gl_pathv[j], e->line);
		} else if (rc != GLOB_NOMATCH)
			perr(p, e->line, "files: %s: cannot be matched", pat);
		globfree(&g);
		free(pat);
	}
	strv_free(&words);
}

/*
 * The [include] of file k: one at most, with its one key, files.  Its
 * files are read now and parsed after those before them (breadth first),
 * each once.
 */
static void
include_files(struct parse *p, size_t k)
{
	static const char *const inc_keys[] = { "files" };
	const struct srcfile *sf = &p->files[k];
	size_t sec, end = sf->first_sec + sf->nsecs, i;
	unsigned first = 0, seen;

	for (sec = sf->first_sec; sec < end; sec++) {
		const struct raw_section *s = &p->sections[sec];
		if (s->broken || strcmp(s->name, "include") != 0)
			continue;
		p->had_include = true;
		if (first != 0) {
			perr(p, s->line, "duplicate section [include] (first "
			    "at line %u)", first - p->files[k].base);
			continue;
		}
		first = s->line;
		seen = 0;
		for (i = s->first; i < s->first + s->nentries; i++) {
			const struct raw_entry *e = &p->entries[i];
			if (strcmp(e->key, "files") != 0) {
				if (!e->refused)
					unknown_key(p, e, "include", inc_keys,
					    1);
				continue;
			}
			if (seen != 0) {
				perr(p, e->line, "key 'files' set twice in "
				    "[include] (first at line %u)",
				    seen - p->files[k].base);
				continue;
			}
			seen = e->line;
			if (!e->refused)
				include_value(p, k, e);
		}
		if (seen == 0)
			perr(p, s->line, "[include] has no 'files'");
		/* include_add may have moved the array. */
		sf = &p->files[k];
	}
}

/* Feed file k to inih, its lines numbered after those of the files before. */
static void
parse_file(struct parse *p, size_t k)
{
	struct srcfile *sf = &p->files[k];

	sf->base = p->lineno;
	sf->first_sec = p->nsections;
	p->cur_base = p->lineno;
	p->cur_sec = p->nsections;
	p->text = sf->text;
	p->textlen = sf->len;
	p->pos = p->fed = p->len = 0;
	p->buf = NULL;
	p->have_key = p->indented = p->line_bad = false;
	if (ini_parse_stream(reader, p, handler, p) == -2)
		fatal("out of memory parsing %s", sf->path);
	sf->nlines = p->lineno - sf->base;
	sf->nsecs = p->nsections - sf->first_sec;
}

/*
 * text as a bundle (BUNDLE_MAGIC): its files into p, the first as the
 * fleet file's text (path as given).  false, p unchanged: not a bundle.
 */
static bool
bundle_split(struct parse *p, const char *text, size_t len)
{
	const char *at = text, *end = text + len;
	unsigned long long tlen, plen;
	struct srcfile *sf;
	char *e, *path;
	size_t mlen = strlen(BUNDLE_MAGIC), nchunks = 0;

	if (len < mlen || memcmp(text, BUNDLE_MAGIC, mlen) != 0)
		return false;
	for (at += mlen; at < end; nchunks++) {
		if ((size_t)(end - at) < 8 || memcmp(at, ";file ", 6) != 0)
			goto bad;
		errno = 0;
		tlen = strtoull(at + 6, &e, 10);
		if (errno != 0 || e >= end || *e != ' ')
			goto bad;
		plen = strtoull(e + 1, &e, 10);
		if (errno != 0 || e >= end || *e != ' ' ||
		    plen >= (size_t)(end - e) - 1 ||
		    tlen > (size_t)(end - e) - 2 - plen ||
		    e[1 + plen] != '\n')
			goto bad;
		at = e + 1 + plen + 1;
		/* The fleet file keeps its path as the caller names it. */
		if (nchunks == 0)
			sf = &p->files[0];
		else {
			path = xstrndup(e + 1, plen);
			sf = add_file(p, path);
			free(path);
		}
		sf->text = (char *)at;
		sf->len = tlen;
		at += tlen;
	}
	return nchunks > 0;
bad:
	while (p->nfiles > 1)
		free(p->files[--p->nfiles].path);
	p->files[0].text = (char *)text;
	p->files[0].len = len;
	return false;
}

/* Every file read, as config_load_text takes them back.  Caller frees. */
static char *
bundle_make(const struct parse *p, size_t *lenp)
{
	struct sbuf b = { NULL, 0, 0 };
	char head[64];
	size_t k;

	sb_puts(&b, BUNDLE_MAGIC);
	for (k = 0; k < p->nfiles; k++) {
		snprintf(head, sizeof(head), ";file %zu %zu ", p->files[k].len,
		    strlen(p->files[k].path));
		sb_puts(&b, head);
		sb_puts(&b, p->files[k].path);
		sb_putc(&b, '\n');
		sb_putn(&b, p->files[k].text, p->files[k].len);
	}
	*lenp = b.n;
	return sb_take(&b);
}

/*
 * Parse and resolve text (len bytes) as the file at path, whose directory
 * is here, with the files its [include] names (or, text a bundle, the
 * files it holds).  Takes text, which the config keeps (or frees with
 * itself).  The config, or NULL with the messages in errs.
 */
static struct config *
config_parse(const char *path, const char *here, char *text, size_t len,
    struct config_errors *errs)
{
	struct parse p;
	struct srcfile *sf;
	struct config *c;
	size_t k;

	memset(&p, 0, sizeof(p));
	p.path = path;
	p.errs = errs;
	p.suggest_budget = SUGGEST_BUDGET;
	strv_init(&p.efpath);
	strv_init(&p.efwhy);
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	c->here = xstrdup(here);
	c->text = text;
	c->textlen = len;

	sf = add_file(&p, path);
	sf->dir = xstrdup(here);
	sf->text = text;
	sf->len = len;
	p.replay = bundle_split(&p, text, len);
	/* Only to tell a file included twice: none is, from a bundle. */
	if (!p.replay)
		p.files[0].real = realpath(path, NULL);

	/*
	 * Debian's inih takes its limits at run time: a heap line buffer that
	 * grows lets our reader hand it lines past 200 bytes whole.
	 */
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = CONFIG_LINE_MAX + 64;
	/* The list grows as [include]s are read: breadth first. */
	for (k = 0; k < p.nfiles; k++) {
		parse_file(&p, k);
		include_files(&p, k);
	}

	resolve(&p, c);
	sort_errors(&p);
	free(p.errline);
	/*
	 * What was read is what a reexec must parse again: with [include],
	 * every file's text, not the fleet file's alone (a pattern that
	 * matched nothing must match nothing then, too).
	 */
	if (p.nerrs == 0 && p.had_include && !p.replay) {
		c->text = bundle_make(&p, &c->textlen);
		free(text);
	}
	parse_free(&p);
	if (p.nerrs > 0) {
		config_free(c);
		return NULL;
	}
	return c;
}

/* The absolute directory of path, or NULL with the reason in errs. */
static char *
config_here(const char *path, struct config_errors *errs)
{
	char *real, *slash, *here, *msg;

	/* Not fatal: a reload must not take corrald down. */
	if ((real = realpath(path, NULL)) == NULL) {
		xasprintf(&msg, "%s: cannot resolve its path: %s", path,
		    strerror(errno));
		strv_push_own(&errs->msgs, msg);
		return NULL;
	}
	slash = strrchr(real, '/');
	here = slash == real ? xstrdup("/") :
	    xstrndup(real, (size_t)(slash - real));
	free(real);
	return here;
}

struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct config *c;
	char *text, *here, *msg;
	size_t len;

	strv_init(&errs->msgs);
	if (read_whole(path, false, &text, &len, &msg) == -1) {
		strv_push_own(&errs->msgs, msg);
		return NULL;
	}
	if ((here = config_here(path, errs)) == NULL) {
		free(text);
		return NULL;
	}
	c = config_parse(path, here, text, len, errs);
	free(here);
	return c;
}

struct config *
config_load_text(const char *path, const char *here, const char *text,
    size_t len, struct config_errors *errs)
{
	struct config *c;
	char *own, *dir = NULL;

	strv_init(&errs->msgs);
	if (here == NULL && (here = dir = config_here(path, errs)) == NULL)
		return NULL;
	/* One byte more: malloc(0) may give NULL, and text may be empty. */
	own = xmalloc(len + 1);
	memcpy(own, text, len);
	own[len] = '\0';
	c = config_parse(path, here, own, len, errs);
	free(dir);
	return c;
}

void
config_keep_daemon(struct config *running, struct config *next,
    const char *who)
{
	char **o[] = { &running->state_db, &running->run_dir,
		&running->log_dir, &running->control_socket,
		&running->checkpoint_db, &running->node_name };
	char **n[] = { &next->state_db, &next->run_dir, &next->log_dir,
		&next->control_socket, &next->checkpoint_db, &next->node_name };
	static const char *names[] = { "state_db", "run_dir", "log_dir",
		"control_socket", "checkpoint_db", "node_name" };
	char *tmp;
	size_t i;

	/* An image from before leases said none: the new file's, then. */
	if (running->lease_ttl_ms != 0) {
		if (running->lease_ttl_ms != next->lease_ttl_ms)
			log_warnx("%s: lease_ttl changed; it takes effect when "
			    "corrald restarts", who);
		next->lease_ttl_ms = running->lease_ttl_ms;
	}
	for (i = 0; i < 6; i++) {
		if (*o[i] == NULL)
			continue;
		if (strcmp(*o[i], *n[i]) != 0)
			log_warnx("%s: %s changed from %s to %s; it takes "
			    "effect when corrald restarts", who, names[i],
			    *o[i], *n[i]);
		tmp = *o[i];
		*o[i] = *n[i];
		*n[i] = tmp;
	}
	next->leases = corral_where_is_postgres(next->checkpoint_db);
	config_show_checkpoint(next);
	if (!str_same(running->http_host, next->http_host) ||
	    running->http_port != next->http_port ||
	    !str_same(running->http_token, next->http_token))
		log_warnx("%s: http_listen or http_token changed; it takes "
		    "effect when corrald restarts", who);
	tmp = running->http_host, running->http_host = next->http_host,
	    next->http_host = tmp;
	tmp = running->http_token, running->http_token = next->http_token,
	    next->http_token = tmp;
	next->http_port = running->http_port;
	if (running->cgroup != next->cgroup)
		log_warnx("%s: cgroup changed; it takes effect when corrald "
		    "restarts", who);
	next->cgroup = running->cgroup;
}

struct config *
config_standin(const char *name)
{
	struct config *c = xcalloc(1, sizeof(*c));

	c->agents = xcalloc(1, sizeof(*c->agents));
	c->nagents = 1;
	agent_init(&c->agents[0]);
	snprintf(c->agents[0].name, sizeof(c->agents[0].name), "%s", name);
	return c;
}

const char *
restart_mode_name(enum restart_mode m)
{
	switch (m) {
	case RESTART_ALWAYS:
		return "always";
	case RESTART_ON_FAILURE:
		return "on-failure";
	case RESTART_NEVER:
		return "never";
	}
	return "?";
}

const char *
strategy_name(enum strategy s)
{
	switch (s) {
	case STRAT_ONE_FOR_ONE:
		return "one_for_one";
	case STRAT_ONE_FOR_ALL:
		return "one_for_all";
	case STRAT_REST_FOR_ONE:
		return "rest_for_one";
	}
	return "?";
}

const char *
out_mode_name(enum out_mode m)
{
	switch (m) {
	case OUT_FILE:
		return "file";
	case OUT_INHERIT:
		return "inherit";
	case OUT_NULL:
		return "null";
	case OUT_STDOUT:
		return "stdout";
	}
	return "?";
}

static void
print_codes(FILE *f, const char *key, const struct corral_codeset *s)
{
	const char *sep = "";
	unsigned i;

	fprintf(f, "%s =", key);
	for (i = 0; i < 256; i++) {
		if (corral_codeset_has(s, i)) {
			fprintf(f, "%s %u", sep, i);
			sep = ",";
		}
	}
	fputc('\n', f);
}

/*
 * The shortest plain decimal that reads back as the same double: the
 * parser takes no exponent, which %g would give to 0.00001.
 */
static void
print_double(FILE *f, const char *key, double v)
{
	char buf[1200];
	int prec;

	for (prec = 0; prec < 1100; prec++) {
		snprintf(buf, sizeof(buf), "%.*f", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fprintf(f, "%s = %s\n", key, buf);
}

/*
 * A value the load checked (check_written): it is written.  Should it not
 * be, the file says so where the value would be, and does not load.
 */
static void
print_value(FILE *f, const char *key, char *text, const char *const *why)
{
	if (text == NULL || write_kv(f, key, text) == -1)
		fprintf(f, "%s: cannot be written: %s\n", key,
		    text == NULL ? *why : "too long");
	free(text);
}

static void
print_breaker(FILE *f, const struct corral_breaker_policy *bp, bool window)
{
	char b1[32];

	fprintf(f, "failure_threshold = %u\n", bp->failure_threshold);
	if (window) {
		format_duration(bp->failure_window_ms, b1, sizeof(b1));
		fprintf(f, "failure_window = %s\n", b1);
	}
	format_duration(bp->recovery_timeout_ms, b1, sizeof(b1));
	fprintf(f, "recovery_timeout = %s\n", b1);
	format_duration(bp->recovery_timeout_max_ms, b1, sizeof(b1));
	fprintf(f, "recovery_timeout_max = %s\n", b1);
	fprintf(f, "half_open_max_calls = %u\n", bp->half_open_max_calls);
}

/*
 * Values are printed so that they load back to the same configuration,
 * wherever the printed file is: paths absolute, %(here) expanded.
 */
/* The limits an agent sets: one it leaves alone (0 for max_memory) is not
 * printed. */
static void
print_limits(FILE *f, const struct agent_conf *a)
{
	char b[64];
	int k;

	for (k = 0; k < RL_N; k++) {
		if (!a->rlim[k].set)
			continue;
		rlim_format((enum rlim_key)k, &a->rlim[k], b, sizeof(b));
		fprintf(f, "%s = %s\n", rlim_key_name((enum rlim_key)k), b);
	}
	if (a->max_memory > 0) {
		format_size(a->max_memory, b, sizeof(b));
		fprintf(f, "max_memory = %s\n", b);
	}
	if (a->memory_max > 0) {
		format_size(a->memory_max, b, sizeof(b));
		fprintf(f, "memory_max = %s\n", b);
	}
	if (a->cpu_quota > 0) {
		cpu_quota_format(a->cpu_quota, b, sizeof(b));
		fprintf(f, "cpu_quota = %s\n", b);
	}
}

void
config_print(const struct config *c, FILE *f)
{
	const char *why = NULL, *s;
	char b1[32];
	size_t i, j;

	/* The path is the operator's: whatever it holds stays a comment. */
	fputs("; resolved from ", f);
	for (s = c->path; *s != '\0'; s++)
		fputc(iscntrl((unsigned char)*s) ? '?' : *s, f);
	fputs("\n[corrald]\n", f);
	print_value(f, "state_db", fmt_literal(c->state_db, NULL, &why), &why);
	print_value(f, "checkpoint_db", fmt_literal(c->checkpoint_db, NULL,
	    &why), &why);
	print_value(f, "run_dir", fmt_literal(c->run_dir, NULL, &why), &why);
	print_value(f, "log_dir", fmt_literal(c->log_dir, NULL, &why), &why);
	print_value(f, "control_socket", fmt_literal(c->control_socket, NULL,
	    &why), &why);
	fprintf(f, "log_level = %s\n", log_level_name(c->log_level));
	if (c->log_file != NULL) {
		print_value(f, "log_file", fmt_literal(c->log_file, NULL, &why),
		    &why);
		format_size(c->log_file_max_bytes, b1, sizeof(b1));
		fprintf(f, "log_file_max_bytes = %s\nlog_file_backups = %u\n",
		    b1, c->log_file_backups);
	}
	if (c->http_host != NULL)
		fprintf(f, strchr(c->http_host, ':') ? "http_listen = [%s]:%u\n" :
		    "http_listen = %s:%u\n", c->http_host, c->http_port);
	if (c->http_token != NULL)
		fprintf(f, "http_token = %s\n", HIDDEN_TOKEN);
	fprintf(f, "circuit_breaker_enabled = %s\n", c->breakers ? "true" :
	    "false");
	fprintf(f, "cgroup = %s\n", c->cgroup ? "auto" : "off");
	if (c->leases) {
		format_duration(c->lease_ttl_ms, b1, sizeof(b1));
		fprintf(f, "node_name = %s\nlease_ttl = %s\n", c->node_name,
		    b1);
	}
	format_duration(c->event_retention_ms, b1, sizeof(b1));
	fprintf(f, "event_retention = %s\nevent_retention_count = %llu\n", b1,
	    (unsigned long long)c->event_retention_count);
	for (i = 0; i < c->nclusters; i++) {
		const struct cluster_conf *cl = &c->clusters[i];
		fprintf(f, "\n[cluster:%s]\n", cl->name);
		print_breaker(f, &cl->breaker, true);
		fprintf(f, "strategy = %s\n", strategy_name(cl->strategy));
		fprintf(f, "min_healthy = %u\n", cl->min_healthy);
		if (cl->on_state_change != NULL)
			print_value(f, "on_state_change", fmt_words(
			    &cl->on_state_argv, NULL, false, &why), &why);
	}
	for (i = 0; i < c->nagents; i++) {
		const struct agent_conf *a = &c->agents[i];
		fprintf(f, "\n[agent:%s]\n", a->name);
		print_value(f, "command", fmt_command(a, c->here, &why), &why);
		if (a->cluster != NULL)
			fprintf(f, "cluster = %s\n", a->cluster);
		fprintf(f, "numprocs = %u\n", a->numprocs);
		if (a->directory != NULL)
			print_value(f, "directory", fmt_literal(a->directory,
			    c->here, &why), &why);
		if (a->env.n > 0)
			print_value(f, "env", fmt_words(&a->env, c->here, true,
			    &why), &why);
		fprintf(f, "restart = %s\n", restart_mode_name(a->restart));
		print_codes(f, "success_exit_codes", &a->codes.success);
		print_codes(f, "transient_exit_codes", &a->codes.transient);
		print_codes(f, "fatal_exit_codes", &a->codes.fatal);
		format_duration(a->backoff.initial_ms, b1, sizeof(b1));
		fprintf(f, "backoff_initial = %s\n", b1);
		print_double(f, "backoff_multiplier", a->backoff.multiplier);
		format_duration(a->backoff.max_ms, b1, sizeof(b1));
		fprintf(f, "backoff_max = %s\n", b1);
		print_double(f, "backoff_jitter", a->backoff.jitter);
		fprintf(f, "max_retries = %u\n", a->max_retries);
		format_duration(a->healthy_after_ms, b1, sizeof(b1));
		fprintf(f, "healthy_after = %s\n", b1);
		if (signal_name(a->stop_signal) != NULL)
			fprintf(f, "stop_signal = %s\n",
			    signal_name(a->stop_signal));
		else
			fprintf(f, "stop_signal = %d\n", a->stop_signal);
		format_duration(a->stop_timeout_ms, b1, sizeof(b1));
		fprintf(f, "stop_timeout = %s\n", b1);
		fprintf(f, "stdout = %s\n", out_mode_name(a->out[0]));
		/* Not both: the load refuses them together. */
		if (a->out[1] == OUT_STDOUT)
			fputs("redirect_stderr = true\n", f);
		else
			fprintf(f, "stderr = %s\n", out_mode_name(a->out[1]));
		if (a->umask != -1)
			fprintf(f, "umask = %03o\n", (unsigned)a->umask);
		if (a->env_files.n > 0)
			print_value(f, "env_file", fmt_words(&a->env_files,
			    NULL, false, &why), &why);
		format_size(a->log_max_bytes, b1, sizeof(b1));
		fprintf(f, "log_max_bytes = %s\n", b1);
		fprintf(f, "log_backups = %u\n", a->log_backups);
		fprintf(f, "priority = %d\n", a->priority);
		if (a->after.n > 0) {
			fputs("after =", f);
			for (j = 0; j < a->after.n; j++)
				fprintf(f, " %s", a->after.v[j]);
			fputc('\n', f);
		}
		fprintf(f, "autostart = %s\n", a->autostart ? "true" : "false");
		if (a->user != NULL)
			print_value(f, "user", xstrdup(a->user), &why);
		format_duration(a->watchdog_ms, b1, sizeof(b1));
		fprintf(f, "watchdog = %s\n", b1);
		fprintf(f, "ready = %s\n", a->ready_notify ? "notify" :
		    "running");
		/* A plain value, not words, with its %(here) made absolute. */
		print_value(f, "thread_id", fmt_literal(a->thread_id, c->here,
		    &why), &why);
		format_duration(a->checkpoint_interval_ms, b1, sizeof(b1));
		fprintf(f, "checkpoint_interval = %s\n", b1);
		fprintf(f, "poison_threshold = %u\nmax_rollback = %u\n",
		    a->poison_threshold, a->max_rollback);
		format_duration(a->storage_retry_ms, b1, sizeof(b1));
		fprintf(f, "storage_retry = %s\n", b1);
		print_limits(f, a);
		print_breaker(f, &a->breaker, false);
		if (a->fallback != NULL)
			fprintf(f, "fallback = %s\n", a->fallback);
		/* Off by default: shown once set. */
		if (a->max_age_ms != 0) {
			format_duration(a->max_age_ms, b1, sizeof(b1));
			fprintf(f, "max_age = %s\n", b1);
		}
		if (a->cron_restart != NULL)
			fprintf(f, "cron_restart = %s\n", a->cron_restart);
		if (a->pre_start != NULL)
			print_value(f, "pre_start", fmt_hook(a->pre_start,
			    &a->pre_argv, c->here, &why), &why);
		if (a->post_stop != NULL)
			print_value(f, "post_stop", fmt_hook(a->post_stop,
			    &a->post_argv, c->here, &why), &why);
		if (a->pre_start != NULL || a->post_stop != NULL) {
			format_duration(a->hook_timeout_ms, b1, sizeof(b1));
			fprintf(f, "hook_timeout = %s\n", b1);
		}
	}
}

bool
agent_conf_same_process(const struct agent_conf *a, const struct agent_conf *b)
{
	size_t i, j;

	/* A run keeps the limits it started with: new ones need a new run. */
	for (i = 0; i < RL_N; i++)
		if (a->rlim[i].set != b->rlim[i].set || (a->rlim[i].set &&
		    (a->rlim[i].soft != b->rlim[i].soft ||
		    a->rlim[i].hard != b->rlim[i].hard)))
			return false;
	/* So do memory_max and cpu_quota (cglimit.c). */
	if (a->memory_max != b->memory_max || a->cpu_quota != b->cpu_quota)
		return false;

	if (!str_same(a->command, b->command) ||
	    !str_same(a->directory, b->directory) ||
	    !str_same(a->user, b->user) || a->out[0] != b->out[0] ||
	    /* The thread it resumes is what the run is about. */
	    !str_same(a->thread_id, b->thread_id) ||
	    a->out[1] != b->out[1] || a->env.n != b->env.n ||
	    a->umask != b->umask || a->env_files.n != b->env_files.n)
		return false;
	/* The same files in the same order: a later one wins a variable. */
	for (i = 0; i < a->env_files.n; i++)
		if (strcmp(a->env_files.v[i], b->env_files.v[i]) != 0)
			return false;
	/* The same variables, in any order. */
	for (i = 0; i < a->env.n; i++) {
		for (j = 0; j < b->env.n; j++)
			if (strcmp(a->env.v[i], b->env.v[j]) == 0)
				break;
		if (j == b->env.n)
			return false;
	}
	return true;
}
