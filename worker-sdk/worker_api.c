/*
 * worker_api.c: the worker's side of its bond with corrald.  What corrald
 * decided (the thread, the checkpoint to resume from, the database, the
 * interval) arrives in the environment; what the worker says (ready,
 * alive, status, errors) leaves as sd_notify datagrams on NOTIFY_SOCKET,
 * where the kernel's credentials tell corrald who sent them.  Without
 * corrald the same calls work on a store of their own and say nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "corral.h"

#define DEFAULT_INTERVAL_MS 300000
#define NOTIFY_MAX 4096

struct corral_worker {
	struct corral_store *store;
	char *thread_id;
	bool supervised;
	bool resume_given;      /* CORRAL_RESUME_ID was set (maybe empty) */
	char *resume_id;
	struct corral_tuple *resumed;
	char last_id[CORRAL_KEY_MAX + 1]; /* the next checkpoint's parent */
	uint64_t step;
	uint64_t interval_ms;
	uint64_t last_ckpt_ms;
	const struct corral_clock *clock;
	int notify_fd;          /* -1: nobody listens, or no socket */
	bool notify_broken;     /* NOTIFY_SOCKET given, socket(2) failed */
	struct sockaddr_un addr;
	socklen_t addrlen;
	char *db;               /* the database as messages show it (no
				   password); NULL: memory */
	int64_t lease_token;    /* CORRAL_LEASE_TOKEN; 0: not fenced */
	unsigned storage_told;  /* kinds of storage error told, a bit each */
	bool fence_told;        /* CORRAL_EFENCED reported once */
};

static int notify_send(struct corral_worker *, const char *);
static int storage_tell(struct corral_worker *, int err, const char *msg);

/* One worker per process: the handler has nowhere else to write. */
static volatile sig_atomic_t stop_seen;

static void
on_stop(int sig)
{
	(void)sig;
	stop_seen = 1;
}

static uint64_t
now_ms(const struct corral_worker *w)
{
	return w->clock->now_ms(w->clock->arg);
}

/* A decimal environment variable; def when unset or not a number. */
static uint64_t
env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return def;
	return (uint64_t)v;
}

/*
 * CORRAL_LEASE_TOKEN: the fencing token of the lease corrald holds on the
 * thread, a positive decimal int64; 0 when unset or empty.  A bad value is
 * an error: a worker that silently wrote unfenced could overwrite the
 * thread of the node that took it over.  -1 and *why (static) then.
 */
static int
lease_token(int64_t *out, const char **why)
{
	const char *s = getenv("CORRAL_LEASE_TOKEN");
	char *end;
	long long v;

	*out = 0;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s < '0' || *s > '9' || errno != 0 || *end != '\0' || v <= 0) {
		*why = "CORRAL_LEASE_TOKEN is not a positive decimal integer "
		    "below 2^63";
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

/* Connect nothing: remember where NOTIFY_SOCKET points. */
static void
notify_setup(struct corral_worker *w)
{
	const char *p = getenv("NOTIFY_SOCKET");
	size_t len;

	w->notify_fd = -1;
	if (p == NULL || (p[0] != '/' && p[0] != '@') ||
	    (len = strlen(p)) >= sizeof(w->addr.sun_path))
		return;
	memset(&w->addr, 0, sizeof(w->addr));
	w->addr.sun_family = AF_UNIX;
	memcpy(w->addr.sun_path, p, len);
	if (p[0] == '@')
		w->addr.sun_path[0] = '\0'; /* the abstract namespace */
	w->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	w->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* Told to speak but cannot: every message says so, none vanishes. */
	w->notify_broken = w->notify_fd == -1;
}

int
corral_worker_init(const struct corral_worker_opts *opts,
    struct corral_worker **out, const char **why)
{
	static const struct corral_worker_opts none;
	const struct corral_worker_opts *o = opts != NULL ? opts : &none;
	struct corral_worker *w;
	const char *tid, *db, *rid;
	struct sigaction sa;
	int rc, sig;

	*out = NULL;
	*why = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*why = "out of memory";
		return CORRAL_ENOMEM;
	}
	w->supervised = getenv("CORRAL_AGENT") != NULL;
	w->clock = o->clock != NULL ? o->clock : corral_clock_real();
	tid = o->thread_id != NULL ? o->thread_id : getenv("CORRAL_THREAD_ID");
	if (tid == NULL || *tid == '\0')
		tid = "local";
	if (strlen(tid) > CORRAL_KEY_MAX) {
		*why = "thread id longer than CORRAL_KEY_MAX";
		free(w);
		return CORRAL_EINVAL;
	}
	if (lease_token(&w->lease_token, why) != 0) {
		free(w);
		return CORRAL_EINVAL;
	}
	rid = getenv("CORRAL_RESUME_ID");
	w->resume_given = rid != NULL;
	if ((w->thread_id = strdup(tid)) == NULL ||
	    (rid != NULL && (w->resume_id = strdup(rid)) == NULL)) {
		*why = "out of memory";
		corral_worker_free(w);
		return CORRAL_ENOMEM;
	}
	/* First: a database that cannot be opened is told to corrald. */
	notify_setup(w);
	db = o->checkpoint_db != NULL ? o->checkpoint_db :
	    getenv("CORRAL_CHECKPOINT_DB");
	if (db != NULL && *db != '\0') {
		/* A password grows to "***" at most: room for a few. */
		size_t len = strlen(db) + 16;

		if ((w->db = malloc(len)) == NULL) {
			*why = "out of memory";
			corral_worker_free(w);
			return CORRAL_ENOMEM;
		}
		corral_where_shown(db, w->db, len);
		rc = corral_store_open(db, o->durability, &w->store, why);
		if (rc != 0)
			storage_tell(w, rc, *why);
		/* On SQLite a no-op: one node owns the file. */
		else if (w->lease_token != 0 && corral_store_fence(w->store,
		    w->thread_id, w->lease_token) != 0) {
			*why = "cannot fence the store with CORRAL_LEASE_TOKEN";
			rc = CORRAL_EINVAL;
		}
	} else {
		rc = corral_store_open_memory(&w->store);
		if (rc != 0)
			*why = "cannot make a store in memory";
	}
	if (rc != 0) {
		corral_worker_free(w);
		return rc;
	}
	w->interval_ms = o->checkpoint_interval_ms != 0 ?
	    o->checkpoint_interval_ms :
	    env_u64("CORRAL_CHECKPOINT_INTERVAL_MS", DEFAULT_INTERVAL_MS);
	w->last_ckpt_ms = now_ms(w);
	if (!o->no_signals) {
		sig = (int)env_u64("CORRAL_STOP_SIGNAL", SIGTERM);
		if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
			sig = SIGTERM;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART;
		sigaction(sig, &sa, NULL);
		/*
		 * Under corrald, stdout and stderr are pipes to it.  When it
		 * dies they break a moment before the kernel's stop signal
		 * arrives (PR_SET_PDEATHSIG), and a stopping worker prints:
		 * a write must fail with EPIPE, not kill the worker before
		 * its last checkpoint.
		 */
		if (w->supervised) {
			sa.sa_handler = SIG_IGN;
			sa.sa_flags = 0;
			sigaction(SIGPIPE, &sa, NULL);
		}
	}
	*out = w;
	return 0;
}

void
corral_worker_free(struct corral_worker *w)
{
	if (w == NULL)
		return;
	corral_tuple_free(w->resumed);
	corral_store_close(w->store);
	if (w->notify_fd != -1)
		close(w->notify_fd);
	free(w->thread_id);
	free(w->resume_id);
	free(w->db);
	free(w);
}

struct first_valid {
	char id[CORRAL_KEY_MAX + 1];
	bool found;
};

static int
first_valid_cb(void *arg, const struct corral_tuple *t)
{
	struct first_valid *fv = arg;

	if (t->corrupt)
		return 0; /* skipped: never resumed from */
	snprintf(fv->id, sizeof(fv->id), "%s", t->checkpoint_id);
	fv->found = true;
	return 1;
}

/* The step in metadata we wrote ({"source":"loop","step":N}), or 0. */
static uint64_t
step_of(const char *metadata)
{
	const char *p = metadata != NULL ? strstr(metadata, "\"step\":") : NULL;

	return p != NULL ? strtoull(p + 7, NULL, 10) : 0;
}

static int resume(struct corral_worker *, const struct corral_tuple **);

int
corral_worker_resume(struct corral_worker *w, const struct corral_tuple **out)
{
	int rc = resume(w, out);

	corral_worker_storage_error(w, rc);
	return rc;
}

static int
resume(struct corral_worker *w, const struct corral_tuple **out)
{
	struct corral_ref ref = { w->thread_id, "", NULL };
	struct corral_list_opts lo;
	struct first_valid fv;
	int rc;

	*out = NULL;
	corral_tuple_free(w->resumed);
	w->resumed = NULL;
	/* corrald looked and found nothing to resume: start afresh. */
	if (w->resume_given && *w->resume_id == '\0')
		return CORRAL_NOTFOUND;
	if (w->resume_given) {
		ref.checkpoint_id = w->resume_id;
		rc = corral_get_tuple(w->store, &ref, &w->resumed);
		if (rc == 0)
			goto found;
		corral_tuple_free(w->resumed);
		w->resumed = NULL;
		if (rc != CORRAL_ECORRUPT && rc != CORRAL_NOTFOUND)
			return rc;
		/* Broken since corrald looked: the latest good one will do. */
		ref.checkpoint_id = NULL;
	}
	memset(&lo, 0, sizeof(lo));
	memset(&fv, 0, sizeof(fv));
	lo.thread_id = w->thread_id;
	lo.checkpoint_ns = "";
	if ((rc = corral_list(w->store, &lo, first_valid_cb, &fv)) != 0)
		return rc;
	if (!fv.found)
		return CORRAL_NOTFOUND;
	ref.checkpoint_id = fv.id;
	if ((rc = corral_get_tuple(w->store, &ref, &w->resumed)) != 0) {
		corral_tuple_free(w->resumed);
		w->resumed = NULL;
		return rc;
	}
found:
	snprintf(w->last_id, sizeof(w->last_id), "%s",
	    w->resumed->checkpoint_id);
	w->step = step_of(w->resumed->metadata);
	w->last_ckpt_ms = now_ms(w);
	*out = w->resumed;
	return 0;
}

int
corral_worker_checkpoint(struct corral_worker *w, const void *data,
    size_t len, const char *metadata, char *id_out, size_t idlen)
{
	struct corral_ref ref = { w->thread_id, "", NULL };
	struct corral_checkpoint cp;
	char id[CORRAL_KEY_MAX + 1], md[96];
	int rc;

	if (w->last_id[0] != '\0')
		ref.checkpoint_id = w->last_id;
	if (metadata == NULL) {
		snprintf(md, sizeof(md), "{\"source\":\"loop\",\"step\":%llu}",
		    (unsigned long long)(w->step + 1));
		metadata = md;
	}
	memset(&cp, 0, sizeof(cp));
	cp.data = data;
	cp.len = len;
	cp.metadata = metadata;
	if ((rc = corral_put(w->store, &ref, &cp, id, sizeof(id))) != 0) {
		corral_worker_storage_error(w, rc);
		return rc;
	}
	memcpy(w->last_id, id, sizeof(id));
	w->step++;
	w->last_ckpt_ms = now_ms(w);
	if (id_out != NULL && idlen > 0)
		snprintf(id_out, idlen, "%s", id);
	return 0;
}

static int
notify_send(struct corral_worker *w, const char *msg)
{
	ssize_t n;

	if (w->notify_broken)
		return CORRAL_EIO;
	if (w->notify_fd == -1)
		return 0; /* alone, or corrald gave no socket */
	do
		n = sendto(w->notify_fd, msg, strlen(msg), MSG_NOSIGNAL,
		    (const struct sockaddr *)&w->addr, w->addrlen);
	while (n == -1 && errno == EINTR);
	return n == -1 ? CORRAL_EIO : 0;
}

/*
 * CORRAL_STORAGE=KIND: checkpoint database PATH: MESSAGE, once per kind.
 * One line, cut to fit a datagram.
 */
static int
storage_tell(struct corral_worker *w, int err, const char *msg)
{
	const char *kind = corral_storage_kind(err);
	char buf[NOTIFY_MAX];
	unsigned bit = 1U << (unsigned)(-err & 15);

	if (kind == NULL || (w->storage_told & bit))
		return 0;
	w->storage_told |= bit;
	/* The moved message names the path itself. */
	if (err == CORRAL_EMOVED || w->db == NULL)
		snprintf(buf, sizeof(buf), "CORRAL_STORAGE=%s: %s", kind,
		    msg != NULL ? msg : corral_strerror(err));
	else
		snprintf(buf, sizeof(buf), "CORRAL_STORAGE=%s: checkpoint "
		    "database %s: %s", kind, w->db,
		    msg != NULL ? msg : corral_strerror(err));
	buf[strcspn(buf, "\n")] = '\0';
	return notify_send(w, buf);
}

/*
 * A fenced write: the thread's lease went to another node.  corrald
 * decides from its own lease what comes next; the run's record says why
 * the worker stopped, once (a report, recoverable: it changes no class).
 */
static int
fence_tell(struct corral_worker *w)
{
	char text[256];

	if (w->fence_told)
		return 0;
	w->fence_told = true;
	snprintf(text, sizeof(text), "lease token %" PRId64 " of thread %.128s "
	    "is no longer the thread's lease: nothing written", w->lease_token,
	    w->thread_id);
	return corral_worker_report_error(w, CORRAL_SEV_WARNING, true,
	    "CORRAL_EFENCED", text);
}

int
corral_worker_storage_error(struct corral_worker *w, int err)
{
	if (err == CORRAL_EFENCED)
		return fence_tell(w);
	if (!corral_is_storage_error(err))
		return 0;
	return storage_tell(w, err, corral_store_errmsg(w->store));
}

int
corral_worker_ready(struct corral_worker *w)
{
	return notify_send(w, "READY=1");
}

int
corral_worker_heartbeat(struct corral_worker *w)
{
	return notify_send(w, "WATCHDOG=1");
}

/* Append s to buf as a JSON string (quoted); false if it does not fit. */
static bool
json_quote(char *buf, size_t cap, size_t *at, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = *at;

#define PUT(c) do { if (i + 1 >= cap) return false; buf[i++] = (c); } while (0)
	PUT('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT((char)c);
		} else if (c < 0x20) {
			PUT('\\');
			PUT('u');
			PUT('0');
			PUT('0');
			PUT(hex[c >> 4]);
			PUT(hex[c & 15]);
		} else
			PUT((char)c);
	}
	PUT('"');
#undef PUT
	buf[i] = '\0';
	*at = i;
	return true;
}

int
corral_worker_status(struct corral_worker *w, const char *text)
{
	char msg[NOTIFY_MAX];

	/* One line: a newline would start another sd_notify field. */
	snprintf(msg, sizeof(msg), "STATUS=%s", text != NULL ? text : "");
	msg[strcspn(msg, "\n")] = '\0';
	return notify_send(w, msg);
}

int
corral_worker_report_error(struct corral_worker *w, enum corral_severity sev,
    bool recoverable, const char *code, const char *message)
{
	static const char *names[] = { "info", "warning", "error",
		"critical" };
	char msg[NOTIFY_MAX];
	size_t at;

	if ((unsigned)sev > CORRAL_SEV_CRITICAL)
		return CORRAL_EINVAL;
	at = (size_t)snprintf(msg, sizeof(msg), "CORRAL_ERROR={\"severity\":"
	    "\"%s\",\"recoverable\":%s,\"code\":", names[sev],
	    recoverable ? "true" : "false");
	if (!json_quote(msg, sizeof(msg), &at, code != NULL ? code : "") ||
	    at + 12 >= sizeof(msg))
		return CORRAL_EINVAL;
	memcpy(msg + at, ",\"message\":", 12);
	at += 11;
	if (!json_quote(msg, sizeof(msg) - 1, &at,
	    message != NULL ? message : ""))
		return CORRAL_EINVAL;
	msg[at++] = '}';
	msg[at] = '\0';
	return notify_send(w, msg);
}

bool
corral_worker_stopping(const struct corral_worker *w)
{
	(void)w;
	return stop_seen != 0;
}

bool
corral_worker_checkpoint_due(const struct corral_worker *w)
{
	return now_ms(w) - w->last_ckpt_ms >= w->interval_ms;
}

bool
corral_worker_supervised(const struct corral_worker *w)
{
	return w->supervised;
}

const char *
corral_worker_thread_id(const struct corral_worker *w)
{
	return w->thread_id;
}

struct corral_store *
corral_worker_store(struct corral_worker *w)
{
	return w->store;
}
