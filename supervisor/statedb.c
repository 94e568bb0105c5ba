/*
 * statedb.c: the state database.  Events are queued as they happen and
 * written in one transaction at the end of the loop turn, so that a crash
 * storm costs one commit per turn, not one per exit.  The database is locked
 * for one corrald at a time.  It also remembers which boot the last corrald
 * ran in, and tells how this start follows it (statedb_start_kind).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "corrald.h"

/* Past this many unwritten events (the disk failing for long), new ones are
 * counted and dropped: memory must stay bounded. */
#define DB_QUEUE_MAX 200000
#define DB_RETRY_MS 1000
#define DB_FLUSH_MAX 5000 /* events per transaction from the loop */

static const struct timeval zero_tv = { 0, 0 };

struct statedb {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *insert;
	int lockfd;
	struct event *flush_ev;
	struct event *retry_ev;
	struct db_event *q;
	size_t nq, capq;
	size_t dropped;
	bool failing;
	int64_t next_chain;
	int64_t next_id;
	uint64_t commits, written;
	sqlite3_stmt *json;
	/*
	 * Rows of runs and workers to write or forget with the next batch:
	 * at most one op per table and instance, the newest.
	 */
	struct row_op {
		enum { OP_RUN_ADD, OP_RUN_DEL, OP_WORKER_PUT, OP_WORKER_DEL } op;
		struct run_row r;    /* agent and instance: the key, always */
		struct worker_row w;
	} *rq;
	size_t nrq, caprq;
	void (*listener)(void *, const struct db_event *);
	void *listener_arg;
	enum start_kind start_kind; /* how this start follows the last one */
	pid_t prev_pid;             /* the last corrald's pid; 0: none */
};

/* One event as a JSON object, from columns or from bound parameters. */
#define JSON_OBJECT(id, time_ms, kind, agent, instance, pid, state, prev,  \
    cls, code, sig, err, start, run, restarts, chain, sfail, detail,       \
    resumed, last)                                                         \
	"json_object('id'," id ",'time_ms'," time_ms ",'kind'," kind       \
	",'agent'," agent ",'instance'," instance ",'pid'," pid            \
	",'state'," state ",'prev_state'," prev ",'class'," cls            \
	",'code'," code ",'signal'," sig ",'errno'," err                   \
	",'start_ms'," start ",'run_ms'," run ",'restarts'," restarts      \
	",'chain'," chain ",'start_failure'," sfail ",'detail'," detail    \
	",'resumed_from'," resumed ",'last_checkpoint'," last ")"
#define JSON_COLUMNS_PARAMS JSON_OBJECT("?1", "?2", "?3", "?4", "?5", "?6", \
    "?7", "?8", "?9", "?10", "?11", "?12", "?13", "?14", "?15", "?16",    \
    "?17", "?18", "?19", "?20")
#define JSON_COLUMNS_TABLE JSON_OBJECT("id", "time_ms", "kind", "agent",   \
    "instance", "pid", "state", "prev_state", "class", "code", "signal",  \
    "errno", "start_ms", "run_ms", "restarts", "chain", "start_failure",  \
    "detail", "resumed_from", "last_checkpoint")

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS meta ("
    "  key TEXT PRIMARY KEY, value TEXT);"
    "INSERT OR IGNORE INTO meta VALUES ('schema', '1');"
    "CREATE TABLE IF NOT EXISTS events ("
    "  id INTEGER PRIMARY KEY,"
    "  time_ms INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"     /* daemon ... report: kind_names */
    "  agent TEXT,"
    "  instance INTEGER,"
    "  pid INTEGER,"
    "  state TEXT, prev_state TEXT,"
    "  class TEXT, code INTEGER, signal INTEGER, errno INTEGER,"
    "  start_ms INTEGER, run_ms INTEGER,"
    "  restarts INTEGER, chain INTEGER, start_failure INTEGER,"
    "  detail TEXT);"
    "CREATE INDEX IF NOT EXISTS events_by_worker"
    "  ON events (agent, instance, id);"
    /* Desired state: instances an operator stopped. */
    "CREATE TABLE IF NOT EXISTS held ("
    "  agent TEXT NOT NULL, instance INTEGER NOT NULL, time_ms INTEGER,"
    "  PRIMARY KEY (agent, instance));"
    /*
     * Breakers of agents and clusters, written on every transition and
     * every failure counted.  time_ms is the wall-clock time of the write;
     * opened_at_ms and open_until_ms are wall-clock renderings, for people
     * and older corralds.  What this corrald reads back is in the columns
     * added since (added_columns): the monotonic times and their boot.
     */
    "CREATE TABLE IF NOT EXISTS breakers ("
    "  name TEXT PRIMARY KEY, state TEXT NOT NULL, failures INTEGER,"
    "  reopenings INTEGER, trials INTEGER, opened_at_ms INTEGER,"
    "  open_until_ms INTEGER, reset_required INTEGER, reason TEXT,"
    "  time_ms INTEGER);"
    /*
     * Runs with a process, from spawn until reaped: what a corrald that
     * starts after an unplanned death must find and stop first.
     */
    "CREATE TABLE IF NOT EXISTS runs ("
    "  agent TEXT NOT NULL, instance INTEGER NOT NULL,"
    "  pid INTEGER NOT NULL, pgid INTEGER NOT NULL,"
    "  start_ticks INTEGER NOT NULL, boot_id TEXT NOT NULL, cgroup TEXT,"
    "  stop_signal INTEGER NOT NULL, stop_timeout_ms INTEGER NOT NULL,"
    "  start_ms INTEGER NOT NULL, PRIMARY KEY (agent, instance));"
    /*
     * What each worker was, so that a restart of corrald remembers it:
     * FATAL, its counters and last exit, rollback's counts.
     */
    "CREATE TABLE IF NOT EXISTS workers ("
    "  agent TEXT NOT NULL, instance INTEGER NOT NULL, state TEXT NOT NULL,"
    "  failures INTEGER, runs INTEGER, start_failures INTEGER,"
    "  runtime_failures INTEGER, chain INTEGER, last_class INTEGER,"
    "  last_code INTEGER, last_signal INTEGER, exits TEXT,"
    "  poison TEXT, poison_count INTEGER, rollback_steps INTEGER,"
    "  rolled INTEGER, rolled_to TEXT, time_ms INTEGER,"
    "  PRIMARY KEY (agent, instance));"
    /* The last daemon event, found at each start without a scan. */
    "CREATE INDEX IF NOT EXISTS events_daemon ON events (id)"
    "  WHERE kind = 'daemon';";

/*
 * Columns added since, by table: a database an older corrald made gets
 * them when opened, and its rows read NULL there.  Schema 2: what a run
 * resumed from and wrote.  Schema 3: a breaker's times on the monotonic
 * clock, the boot they count from (boot_id) and the monotonic time of the
 * write (saved_mono_ms), which with time_ms carries an open period across
 * a reboot.
 */
static const char *added_columns[][3] = {
	{ "events", "resumed_from", "TEXT" },
	{ "events", "last_checkpoint", "TEXT" },
	{ "breakers", "boot_id", "TEXT" },
	{ "breakers", "saved_mono_ms", "INTEGER" },
	{ "breakers", "opened_mono_ms", "INTEGER" },
	{ "breakers", "open_until_mono_ms", "INTEGER" },
};
#define SCHEMA_VERSION "3"

static const char *kind_names[] = { "daemon", "spawn", "exit", "state",
	"breaker", "health", "report", "rollback" };

static void flush_cb(evutil_socket_t, short, void *);

static int
take_lock(const char *dbpath)
{
	char *lockpath, pidbuf[32];
	ssize_t n;
	int fd;

	xasprintf(&lockpath, "%s.lock", dbpath);
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("cannot open lock file %s", lockpath);
		free(lockpath);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, pidbuf, sizeof(pidbuf) - 1, 0);
			pidbuf[n > 0 ? n : 0] = '\0';
			pidbuf[strcspn(pidbuf, "\n")] = '\0';
			log_error("state database %s is in use by another "
			    "corrald (pid %s, lock %s)", dbpath,
			    *pidbuf ? pidbuf : "unknown", lockpath);
		} else
			log_warn("cannot lock %s", lockpath);
		close(fd);
		free(lockpath);
		return -1;
	}
	n = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pidbuf, (size_t)n, 0) != n)
		log_warn("cannot write pid to %s", lockpath);
	free(lockpath);
	return fd;
}

struct statedb *
statedb_open(const char *path, struct event_base *base)
{
	return statedb_adopt(path, base, -1);
}

int
statedb_lockfd(const struct statedb *s)
{
	return s->lockfd;
}

/* Add the columns an older database lacks.  0 or -1 (logged). */
static int
add_columns(struct statedb *s)
{
	sqlite3_stmt *st;
	char *sql, *err = NULL;
	size_t i;
	int rc, have;

	for (i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
		if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM "
		    "pragma_table_info(?1) WHERE name = ?2", -1, &st,
		    NULL) != SQLITE_OK) {
			log_error("state database %s: %s", s->path,
			    sqlite3_errmsg(s->db));
			return -1;
		}
		sqlite3_bind_text(st, 1, added_columns[i][0], -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 2, added_columns[i][1], -1,
		    SQLITE_STATIC);
		rc = sqlite3_step(st);
		have = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
		sqlite3_finalize(st);
		if (have == -1) {
			log_error("state database %s: %s", s->path,
			    sqlite3_errmsg(s->db));
			return -1;
		}
		if (have > 0)
			continue;
		xasprintf(&sql, "ALTER TABLE %s ADD COLUMN %s %s",
		    added_columns[i][0], added_columns[i][1],
		    added_columns[i][2]);
		rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
		free(sql);
		if (rc != SQLITE_OK) {
			log_error("state database %s: cannot add column %s.%s: "
			    "%s", s->path, added_columns[i][0],
			    added_columns[i][1], err);
			sqlite3_free(err);
			return -1;
		}
	}
	if (sqlite3_exec(s->db, "UPDATE meta SET value = '" SCHEMA_VERSION
	    "' WHERE key = 'schema' AND CAST(value AS INTEGER) < "
	    SCHEMA_VERSION, NULL, NULL, &err) != SQLITE_OK) {
		log_error("state database %s: %s", s->path, err);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

enum start_kind
start_kind_of(bool reexec, const char *last_state, const char *saved_boot,
    const char *boot)
{
	if (reexec)
		return START_REEXEC;
	if (last_state == NULL)
		return START_FIRST;
	/*
	 * Only two known ids that differ make a reboot: a boot that cannot be
	 * told is taken as this one, so that whoever looks for survivors of
	 * an unplanned death looks rather than misses one.
	 */
	if (saved_boot != NULL && saved_boot[0] != '\0' && boot[0] != '\0' &&
	    strcmp(saved_boot, boot) != 0)
		return START_REBOOT;
	return strcmp(last_state, "stop") == 0 ? START_CLEAN : START_UNPLANNED;
}

const char *
start_kind_name(enum start_kind k)
{
	switch (k) {
	case START_FIRST:
		return "first";
	case START_CLEAN:
		return "clean";
	case START_UNPLANNED:
		return "unplanned";
	case START_REBOOT:
		return "reboot";
	case START_REEXEC:
		return "reexec";
	}
	return "?";
}

enum start_kind
statedb_start_kind(const struct statedb *s, pid_t *prev_pid)
{
	if (prev_pid != NULL)
		*prev_pid = s->prev_pid;
	return s->start_kind;
}

/*
 * How this start follows the last corrald on this database: its last
 * daemon event and the boot it ran in, read before this start writes
 * anything; then this boot is recorded in meta.  0 or -1 (logged).
 */
static int
start_classify(struct statedb *s, bool reexec)
{
	sqlite3_stmt *st = NULL;
	char *last = NULL, *boot = NULL; /* owned copies of column text */
	const unsigned char *t;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT state, pid FROM events WHERE "
	    "kind = 'daemon' ORDER BY id DESC LIMIT 1", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		last = xstrdup(t != NULL ? (const char *)t : "");
		s->prev_pid = (pid_t)sqlite3_column_int(st, 1);
	} else if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = "
	    "'boot_id'", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((t = sqlite3_column_text(st, 0)) != NULL)
			boot = xstrdup((const char *)t);
	} else if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	s->start_kind = start_kind_of(reexec, last, boot, boot_id());
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta VALUES "
	    "('boot_id', ?)", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, boot_id(), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	free(last);
	free(boot);
	return 0;
fail:
	log_error("state database %s: cannot read how the last corrald "
	    "ended: %s", s->path, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	free(last);
	free(boot);
	return -1;
}

struct statedb *
statedb_adopt(const char *path, struct event_base *base, int lockfd)
{
	struct statedb *s;
	sqlite3_stmt *st;
	char *err = NULL;
	int rc;

	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->lockfd = -1;
	if (lockfd != -1) {
		/* Held since before the reexec: same pid, same lock. */
		fcntl(lockfd, F_SETFD, FD_CLOEXEC);
		s->lockfd = lockfd;
	} else if ((s->lockfd = take_lock(path)) == -1)
		goto fail;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_error("cannot open state database %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	/*
	 * Only this corrald writes here (readers do not block a WAL writer):
	 * a foreign writer is rare, and the loop must not wait on it long.
	 */
	sqlite3_busy_timeout(s->db, 100);
	if (sqlite3_exec(s->db, schema, NULL, NULL, &err) != SQLITE_OK) {
		log_error("cannot set up state database %s: %s", path, err);
		sqlite3_free(err);
		goto fail;
	}
	if (add_columns(s) == -1 || start_classify(s, lockfd != -1) == -1)
		goto fail;
	if (sqlite3_prepare_v2(s->db,
	    "INSERT INTO events (id, time_ms, kind, agent, instance, pid, state,"
	    " prev_state, class, code, signal, errno, start_ms, run_ms,"
	    " restarts, chain, start_failure, detail, resumed_from,"
	    " last_checkpoint)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &s->insert,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "SELECT " JSON_COLUMNS_PARAMS, -1,
	    &s->json, NULL) != SQLITE_OK) {
		log_error("state database %s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(chain), 0), "
	    "coalesce(max(id), 0) FROM events", -1, &st, NULL) != SQLITE_OK) {
		log_error("state database %s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		s->next_chain = sqlite3_column_int64(st, 0) + 1;
		s->next_id = sqlite3_column_int64(st, 1) + 1;
	}
	sqlite3_finalize(st);

	s->flush_ev = evtimer_new(base, flush_cb, s);
	s->retry_ev = evtimer_new(base, flush_cb, s);
	if (s->flush_ev == NULL || s->retry_ev == NULL)
		fatal("state database %s: cannot create its timers", path);
	return s;
fail:
	statedb_close(s);
	return NULL;
}

static void
event_clear(struct db_event *e)
{
	free(e->detail);
	e->detail = NULL;
	free(e->resumed_from);
	e->resumed_from = NULL;
	free(e->last_checkpoint);
	e->last_checkpoint = NULL;
}

void
statedb_close(struct statedb *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->db != NULL && (s->nq > 0 || s->nrq > 0) &&
	    statedb_flush(s) == -1)
		log_error("state database %s: %zu events could not be written",
		    s->path, s->nq);
	for (i = 0; i < s->nq; i++)
		event_clear(&s->q[i]);
	free(s->q);
	for (i = 0; i < s->nrq; i++)
		free(s->rq[i].r.cgroup);
	free(s->rq);
	if (s->flush_ev != NULL)
		event_free(s->flush_ev);
	if (s->retry_ev != NULL)
		event_free(s->retry_ev);
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->json);
	sqlite3_close(s->db);
	if (s->lockfd != -1)
		close(s->lockfd);
	free(s->path);
	free(s);
}

void
statedb_add(struct statedb *s, struct db_event *e)
{
	if (s->nq >= DB_QUEUE_MAX) {
		if (s->dropped++ == 0)
			log_error("state database %s: %d events unwritten; "
			    "dropping new ones until it recovers", s->path,
			    DB_QUEUE_MAX);
		event_clear(e);
		return;
	}
	if (s->nq == s->capq) {
		s->capq = s->capq ? s->capq * 2 : 64;
		s->q = xreallocarray(s->q, s->capq, sizeof(*s->q));
	}
	e->id = s->next_id++;
	s->q[s->nq++] = *e;
	e->detail = NULL; /* moved */
	e->resumed_from = e->last_checkpoint = NULL;
	if (s->listener != NULL)
		s->listener(s->listener_arg, &s->q[s->nq - 1]);
	/*
	 * A zero timeout fires in the next loop iteration, after every
	 * callback of this one has queued its events: one transaction per
	 * iteration, and no priority can starve it.
	 */
	if (!s->failing && !evtimer_pending(s->flush_ev, NULL))
		evtimer_add(s->flush_ev, &zero_tv);
}

static void
bind_opt_int(sqlite3_stmt *st, int i, int64_t v, bool present)
{
	if (present)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/*
 * Bind e's columns as parameters 1 to 20 of st, in the order of the events
 * table.  The insert and the JSON rendering share it, so that a live event
 * and a stored one have the same shape.
 */
static void
bind_event(sqlite3_stmt *st, const struct db_event *e)
{
	bool isexit = e->kind == EV_EXIT;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_int64(st, 1, e->id);
	sqlite3_bind_int64(st, 2, e->time_ms);
	sqlite3_bind_text(st, 3, kind_names[e->kind], -1, SQLITE_STATIC);
	if (e->agent[0] != '\0')
		sqlite3_bind_text(st, 4, e->agent, -1, SQLITE_STATIC);
	if (e->instance >= 0)
		sqlite3_bind_int(st, 5, e->instance);
	bind_opt_int(st, 6, e->pid, e->pid > 0);
	if (e->state != NULL)
		sqlite3_bind_text(st, 7, e->state, -1, SQLITE_STATIC);
	if (e->prev_state != NULL)
		sqlite3_bind_text(st, 8, e->prev_state, -1, SQLITE_STATIC);
	if (isexit)
		sqlite3_bind_text(st, 9, corral_exit_class_name(e->cls), -1,
		    SQLITE_STATIC);
	bind_opt_int(st, 10, e->code, e->code >= 0);
	bind_opt_int(st, 11, e->sig, e->sig > 0);
	bind_opt_int(st, 12, e->err, e->err > 0);
	bind_opt_int(st, 13, e->start_ms, isexit);
	bind_opt_int(st, 14, e->run_ms, isexit);
	bind_opt_int(st, 15, e->restarts, e->kind == EV_SPAWN || isexit);
	bind_opt_int(st, 16, e->chain, e->chain > 0);
	bind_opt_int(st, 17, e->start_failure, e->start_failure >= 0);
	if (e->detail != NULL)
		sqlite3_bind_text(st, 18, e->detail, -1, SQLITE_STATIC);
	if (e->resumed_from != NULL)
		sqlite3_bind_text(st, 19, e->resumed_from, -1, SQLITE_STATIC);
	if (e->last_checkpoint != NULL)
		sqlite3_bind_text(st, 20, e->last_checkpoint, -1,
		    SQLITE_STATIC);
}

static int
insert_one(struct statedb *s, const struct db_event *e)
{
	int rc;

	bind_event(s->insert, e);
	rc = sqlite3_step(s->insert);
	sqlite3_reset(s->insert);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
bind_worker(sqlite3_stmt *st, const struct worker_row *w)
{
	char exits[16 * (CORRAL_EXIT_LAST + 1)];
	size_t at = 0;
	int c;

	for (c = 0; c <= CORRAL_EXIT_LAST; c++)
		at += (size_t)snprintf(exits + at, sizeof(exits) - at, "%s%u",
		    c ? " " : "", w->exits[c]);
	sqlite3_bind_text(st, 3, wstate_name((enum wstate)w->state), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)w->failures);
	sqlite3_bind_int(st, 5, (int)w->runs);
	sqlite3_bind_int(st, 6, (int)w->start_failures);
	sqlite3_bind_int(st, 7, (int)w->runtime_failures);
	sqlite3_bind_int64(st, 8, w->chain);
	sqlite3_bind_int(st, 9, w->last_class);
	sqlite3_bind_int(st, 10, w->last_code);
	sqlite3_bind_int(st, 11, w->last_signal);
	sqlite3_bind_text(st, 12, exits, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 13, w->rs.poison, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 14, (int)w->rs.poison_count);
	sqlite3_bind_int(st, 15, (int)w->rs.steps);
	sqlite3_bind_int(st, 16, w->rs.rolled);
	sqlite3_bind_text(st, 17, w->rs.back, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 18, now_wall_ms());
}

/* Apply one queued row.  0 or -1. */
static int
row_apply(struct statedb *s, const struct row_op *op)
{
	static const char *sql[] = {
		[OP_RUN_ADD] = "INSERT OR REPLACE INTO runs VALUES (?1, ?2, ?3, "
		    "?4, ?5, ?6, ?7, ?8, ?9, ?10)",
		[OP_RUN_DEL] = "DELETE FROM runs WHERE agent = ?1 AND "
		    "instance = ?2",
		[OP_WORKER_PUT] = "INSERT OR REPLACE INTO workers VALUES (?1, "
		    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
		    "?15, ?16, ?17, ?18)",
		[OP_WORKER_DEL] = "DELETE FROM workers WHERE agent = ?1 AND "
		    "instance = ?2",
	};
	const struct run_row *r = &op->r;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql[op->op], -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, r->agent, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)r->instance);
	if (op->op == OP_WORKER_PUT)
		bind_worker(st, &op->w);
	if (op->op == OP_RUN_ADD) {
		sqlite3_bind_int64(st, 3, r->pid);
		sqlite3_bind_int64(st, 4, r->pgid);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)r->start_ticks);
		sqlite3_bind_text(st, 6, r->boot_id, -1, SQLITE_STATIC);
		if (r->cgroup != NULL)
			sqlite3_bind_text(st, 7, r->cgroup, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 8, r->stop_signal);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)r->stop_timeout_ms);
		sqlite3_bind_int64(st, 10, r->start_ms);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Write up to max queued events, and every queued run, in one
 * transaction.  0 or -1.
 */
static int
flush_some(struct statedb *s, size_t max)
{
	size_t i, n = s->nq < max ? s->nq : max;

	if (n == 0 && s->nrq == 0)
		return 0;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if (insert_one(s, &s->q[i]) == -1)
			goto fail;
	for (i = 0; i < s->nrq; i++)
		if (row_apply(s, &s->rq[i]) == -1)
			goto fail;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < s->nrq; i++)
		free(s->rq[i].r.cgroup);
	s->nrq = 0;
	for (i = 0; i < n; i++)
		event_clear(&s->q[i]);
	if (n > 0) /* only rows, maybe: no queue of events yet */
		memmove(s->q, s->q + n, (s->nq - n) * sizeof(*s->q));
	s->nq -= n;
	s->commits++;
	s->written += n;
	if (s->failing || s->dropped > 0)
		log_info("state database %s: writing again (%zu events were "
		    "dropped)", s->path, s->dropped);
	s->dropped = 0;
	s->failing = false;
	return 0;
fail:
	if (!s->failing)
		log_error("state database %s: cannot write %zu events: %s; "
		    "retrying every %d ms", s->path, s->nq,
		    sqlite3_errmsg(s->db), DB_RETRY_MS);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->failing = true;
	return -1;
}

int
statedb_flush(struct statedb *s)
{
	while (s->nq > 0 || s->nrq > 0)
		if (flush_some(s, SIZE_MAX) == -1)
			return -1;
	return 0;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct statedb *s = arg;
	struct timeval tv = { DB_RETRY_MS / 1000, (DB_RETRY_MS % 1000) * 1000 };

	(void)fd;
	(void)what;
	/* A backlog goes in slices, so that the loop is never held long. */
	if (flush_some(s, DB_FLUSH_MAX) == -1)
		evtimer_add(s->retry_ev, &tv);
	else if (s->nq > 0)
		evtimer_add(s->flush_ev, &zero_tv);
}

/*
 * Queue a row's op, replacing any op still queued for the same table and
 * instance: the newest says all, so the queue holds one op per row at most
 * and stays bounded however long the disk fails.  r's cgroup is moved.
 */
static void
row_queue(struct statedb *s, int kind, struct run_row *r,
    const struct worker_row *w)
{
	bool runs = kind == OP_RUN_ADD || kind == OP_RUN_DEL;
	struct row_op *op = NULL;
	size_t i;

	for (i = 0; i < s->nrq; i++) {
		struct row_op *o = &s->rq[i];
		if (o->r.instance == r->instance &&
		    runs == (o->op == OP_RUN_ADD || o->op == OP_RUN_DEL) &&
		    strcmp(o->r.agent, r->agent) == 0) {
			op = o;
			free(op->r.cgroup);
			break;
		}
	}
	if (op == NULL) {
		if (s->nrq == s->caprq) {
			s->caprq = s->caprq ? s->caprq * 2 : 64;
			s->rq = xreallocarray(s->rq, s->caprq, sizeof(*s->rq));
		}
		op = &s->rq[s->nrq++];
	}
	op->op = kind;
	op->r = *r;
	r->cgroup = NULL;
	if (w != NULL)
		op->w = *w;
	if (!s->failing && !evtimer_pending(s->flush_ev, NULL))
		evtimer_add(s->flush_ev, &zero_tv);
}

static void
key_row(struct run_row *r, const char *agent, unsigned instance)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->agent, sizeof(r->agent), "%s", agent);
	r->instance = instance;
}

void
statedb_run_add(struct statedb *s, struct run_row *r)
{
	row_queue(s, OP_RUN_ADD, r, NULL);
}

void
statedb_run_del(struct statedb *s, const char *agent, unsigned instance)
{
	struct run_row r;

	key_row(&r, agent, instance);
	row_queue(s, OP_RUN_DEL, &r, NULL);
}

void
statedb_worker_put(struct statedb *s, const struct worker_row *w)
{
	struct run_row r;

	key_row(&r, w->agent, w->instance);
	row_queue(s, OP_WORKER_PUT, &r, w);
}

void
statedb_worker_del(struct statedb *s, const char *agent, unsigned instance)
{
	struct run_row r;

	key_row(&r, agent, instance);
	row_queue(s, OP_WORKER_DEL, &r, NULL);
}

/* A checkpoint id column into a fixed buffer; "" for NULL or too long. */
static void
col_id(sqlite3_stmt *st, int i, char *out)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	out[0] = '\0';
	if (v != NULL && strlen(v) < CKPT_ID_MAX)
		memcpy(out, v, strlen(v) + 1);
}

int
statedb_load_workers(struct statedb *s, void (*fn)(void *,
    const struct worker_row *), void *arg)
{
	struct worker_row w;
	sqlite3_stmt *st;
	int rc, c;

	if (sqlite3_prepare_v2(s->db, "SELECT agent, instance, state, "
	    "failures, runs, start_failures, runtime_failures, chain, "
	    "last_class, last_code, last_signal, exits, poison, poison_count, "
	    "rollback_steps, rolled, rolled_to FROM workers", -1, &st, NULL) !=
	    SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *state = (const char *)sqlite3_column_text(st, 2);
		const char *ex = (const char *)sqlite3_column_text(st, 11);
		int used;

		memset(&w, 0, sizeof(w));
		snprintf(w.agent, sizeof(w.agent), "%s", a ? a : "");
		w.instance = (unsigned)sqlite3_column_int(st, 1);
		w.state = -1;
		for (c = 0; c <= W_LAST && state != NULL; c++)
			if (strcmp(state, wstate_name((enum wstate)c)) == 0)
				w.state = c;
		w.failures = (unsigned)sqlite3_column_int(st, 3);
		w.runs = (unsigned)sqlite3_column_int(st, 4);
		w.start_failures = (unsigned)sqlite3_column_int(st, 5);
		w.runtime_failures = (unsigned)sqlite3_column_int(st, 6);
		w.chain = sqlite3_column_int64(st, 7);
		w.last_class = sqlite3_column_int(st, 8);
		w.last_code = sqlite3_column_int(st, 9);
		w.last_signal = sqlite3_column_int(st, 10);
		/* An older corrald's row has fewer classes: the rest are 0. */
		for (c = 0; ex != NULL && c <= CORRAL_EXIT_LAST; c++) {
			if (sscanf(ex, " %u%n", &w.exits[c], &used) != 1)
				break;
			ex += used;
		}
		col_id(st, 12, w.rs.poison);
		w.rs.poison_count = (unsigned)sqlite3_column_int(st, 13);
		w.rs.steps = (unsigned)sqlite3_column_int(st, 14);
		w.rs.rolled = sqlite3_column_int(st, 15) != 0;
		col_id(st, 16, w.rs.back);
		/* What cannot be read is not remembered: a fresh start. */
		if (w.state < 0 || w.last_class < CORRAL_EXIT_NONE ||
		    w.last_class > CORRAL_EXIT_LAST) {
			log_warnx("state database %s: the row of worker %s.%u "
			    "is not readable; it starts afresh", s->path,
			    w.agent, w.instance);
			continue;
		}
		fn(arg, &w);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
statedb_set_meta(struct statedb *s, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta VALUES "
	    "(?1, ?2)", -1, &st, NULL) != SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("state database %s: cannot record %s: %s", s->path,
		    key, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

char *
statedb_get_meta(struct statedb *s, const char *key)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

int
statedb_load_runs(struct statedb *s, void (*fn)(void *,
    const struct run_row *), void *arg)
{
	struct run_row r;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT agent, instance, pid, pgid, "
	    "start_ticks, boot_id, cgroup, stop_signal, stop_timeout_ms, "
	    "start_ms FROM runs ORDER BY agent, instance", -1, &st, NULL) !=
	    SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *b = (const char *)sqlite3_column_text(st, 5);
		memset(&r, 0, sizeof(r));
		snprintf(r.agent, sizeof(r.agent), "%s", a ? a : "");
		r.instance = (unsigned)sqlite3_column_int(st, 1);
		r.pid = (pid_t)sqlite3_column_int64(st, 2);
		r.pgid = (pid_t)sqlite3_column_int64(st, 3);
		r.start_ticks = (uint64_t)sqlite3_column_int64(st, 4);
		snprintf(r.boot_id, sizeof(r.boot_id), "%s", b ? b : "");
		r.cgroup = (char *)sqlite3_column_text(st, 6); /* borrowed */
		r.stop_signal = sqlite3_column_int(st, 7);
		r.stop_timeout_ms = (uint64_t)sqlite3_column_int64(st, 8);
		r.start_ms = sqlite3_column_int64(st, 9);
		fn(arg, &r);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int64_t
statedb_next_chain(struct statedb *s)
{
	return s->next_chain++;
}

void
statedb_stats(const struct statedb *s, uint64_t *commits, uint64_t *written,
    size_t *queued)
{
	*commits = s->commits;
	*written = s->written;
	*queued = s->nq;
}

int
statedb_set_held(struct statedb *s, const char *agent, unsigned instance,
    bool held)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(s->db, held ?
	    "INSERT OR REPLACE INTO held VALUES (?, ?, ?)" :
	    "DELETE FROM held WHERE agent = ? AND instance = ?", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)instance);
	if (held)
		sqlite3_bind_int64(st, 3, now_wall_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("state database %s: cannot record that %s.%u is %s: "
		    "%s", s->path, agent, instance, held ? "stopped" :
		    "started", sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

int
statedb_load_held(struct statedb *s,
    void (*fn)(void *, const char *, unsigned), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT agent, instance FROM held",
	    -1, &st, NULL) != SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0),
		    (unsigned)sqlite3_column_int(st, 1));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
statedb_set_listener(struct statedb *s,
    void (*fn)(void *, const struct db_event *), void *arg)
{
	s->listener = fn;
	s->listener_arg = arg;
}

char *
statedb_event_json(struct statedb *s, const struct db_event *e)
{
	char *out = NULL;

	bind_event(s->json, e);
	if (sqlite3_step(s->json) == SQLITE_ROW)
		out = xstrdup((const char *)sqlite3_column_text(s->json, 0));
	sqlite3_reset(s->json);
	return out;
}

int
statedb_recent(struct statedb *s, const char *agent, int instance,
    unsigned limit, void (*fn)(void *, const char *json), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	/* What is still queued belongs to the answer. */
	if (statedb_flush(s) == -1)
		return -1;
	rc = sqlite3_prepare_v2(s->db, "SELECT j FROM (SELECT id, "
	    JSON_COLUMNS_TABLE " AS j FROM events WHERE (?1 IS NULL OR "
	    "agent = ?1) AND (?2 < 0 OR instance = ?2) ORDER BY id DESC "
	    "LIMIT ?3) ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	if (agent != NULL)
		sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, instance);
	sqlite3_bind_int64(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
statedb_history(struct statedb *s, const char *agent, int instance,
    unsigned limit, void (*fn)(void *, const struct history_row *),
    void *arg)
{
	struct history_row r;
	sqlite3_stmt *st;
	int rc;

	if (statedb_flush(s) == -1)
		return -1;
	rc = sqlite3_prepare_v2(s->db, "SELECT time_ms, instance, pid, run_ms,"
	    " class, coalesce(code, -1), coalesce(signal, 0),"
	    " coalesce(errno, 0), coalesce(chain, 0),"
	    " coalesce(start_failure, -1), detail FROM events"
	    " WHERE kind = 'exit' AND agent = ?1 AND (?2 < 0 OR instance = ?2)"
	    " ORDER BY id DESC LIMIT ?3", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, instance);
	sqlite3_bind_int64(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.time_ms = sqlite3_column_int64(st, 0);
		r.instance = sqlite3_column_int(st, 1);
		r.pid = sqlite3_column_int(st, 2);
		r.run_ms = sqlite3_column_int64(st, 3);
		r.cls = (const char *)sqlite3_column_text(st, 4);
		r.code = sqlite3_column_int(st, 5);
		r.sig = sqlite3_column_int(st, 6);
		r.err = sqlite3_column_int(st, 7);
		r.chain = sqlite3_column_int64(st, 8);
		r.start_failure = sqlite3_column_int(st, 9);
		r.detail = (const char *)sqlite3_column_text(st, 10);
		fn(arg, &r);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
statedb_keep_held(struct statedb *s,
    bool (*keep)(void *, const char *, unsigned), void *arg)
{
	sqlite3_stmt *st;
	struct strv gone;
	size_t i;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT agent, instance FROM held",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	strv_init(&gone);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		unsigned k = (unsigned)sqlite3_column_int(st, 1);
		if (!keep(arg, a, k)) {
			char *row;
			xasprintf(&row, "%u %s", k, a);
			strv_push_own(&gone, row);
		}
	}
	sqlite3_finalize(st);
	for (i = 0; i < gone.n; i++) {
		char *sp = strchr(gone.v[i], ' ');
		statedb_set_held(s, sp + 1, (unsigned)strtoul(gone.v[i], NULL,
		    10), false);
	}
	strv_free(&gone);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
statedb_keep_breakers(struct statedb *s, bool (*keep)(void *, const char *),
    void *arg)
{
	sqlite3_stmt *st, *del;
	struct strv gone;
	size_t i;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT name FROM breakers", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	strv_init(&gone);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);
		if (n != NULL && !keep(arg, n))
			strv_push(&gone, n);
	}
	sqlite3_finalize(st);
	if (gone.n > 0 && sqlite3_prepare_v2(s->db, "DELETE FROM breakers "
	    "WHERE name = ?", -1, &del, NULL) == SQLITE_OK) {
		for (i = 0; i < gone.n; i++) {
			sqlite3_bind_text(del, 1, gone.v[i], -1, SQLITE_STATIC);
			if (sqlite3_step(del) != SQLITE_DONE)
				rc = SQLITE_ERROR;
			sqlite3_reset(del);
		}
		sqlite3_finalize(del);
	}
	strv_free(&gone);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A time of this boot's monotonic clock as the wall clock of now reads it. */
static int64_t
wall_of(uint64_t mono, const struct clocks *now)
{
	uint64_t d;

	if (mono == 0)
		return 0; /* never set: the breaker never opened */
	if (mono == UINT64_MAX)
		return INT64_MAX; /* never: reset required */
	if (mono <= now->mono_ms)
		return now->wall_ms - (int64_t)(now->mono_ms - mono);
	d = mono - now->mono_ms;
	return d > (uint64_t)(INT64_MAX - now->wall_ms) ? INT64_MAX :
	    now->wall_ms + (int64_t)d;
}

static sqlite3_int64
db_u64(uint64_t v)
{
	return (sqlite3_int64)(v > INT64_MAX ? INT64_MAX : v);
}

static uint64_t
u64_of_db(sqlite3_int64 v)
{
	/* INT64_MAX was UINT64_MAX (never); below 0 cannot be a time. */
	return v == INT64_MAX ? UINT64_MAX : v < 0 ? 0 : (uint64_t)v;
}

int
statedb_save_breaker(struct statedb *s, const char *name,
    const struct corral_breaker *b, const struct clocks *now)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO breakers (name, "
	    "state, failures, reopenings, trials, opened_at_ms, open_until_ms, "
	    "reset_required, reason, time_ms, boot_id, saved_mono_ms, "
	    "opened_mono_ms, open_until_mono_ms) VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, corral_breaker_state_name(b->state), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)b->failures);
	sqlite3_bind_int(st, 4, (int)b->reopenings);
	sqlite3_bind_int(st, 5, (int)b->trials);
	sqlite3_bind_int64(st, 6, wall_of(b->opened_at_ms, now));
	sqlite3_bind_int64(st, 7, wall_of(b->open_until_ms, now));
	sqlite3_bind_int(st, 8, b->reset_required);
	sqlite3_bind_text(st, 9, b->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, now->wall_ms);
	sqlite3_bind_text(st, 11, now->boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, db_u64(now->mono_ms));
	sqlite3_bind_int64(st, 13, db_u64(b->opened_at_ms));
	sqlite3_bind_int64(st, 14, db_u64(b->open_until_ms));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("state database %s: cannot record breaker %s: %s",
		    s->path, name, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

void
breaker_times_restore(struct corral_breaker *b,
    const struct breaker_saved *r, const struct clocks *now)
{
	uint64_t left, period, since;

	/* Within the boot of the save, the times are valid as they are. */
	if (r->has_mono && r->boot_id[0] != '\0' &&
	    strcmp(r->boot_id, now->boot_id) == 0 &&
	    r->saved_mono_ms <= now->mono_ms) {
		b->opened_at_ms = r->opened_mono_ms;
		b->open_until_ms = b->reset_required ? UINT64_MAX :
		    r->until_mono_ms;
		return;
	}
	/*
	 * Another boot (or one that cannot be told, or a clock that went
	 * back, which one boot's monotonic clock never does): its times count
	 * from another origin.  Only an open period is carried over: what
	 * remained of it at the save, less the wall-clock time since, which
	 * is all that spans a reboot.  A wall clock that went back must not
	 * lengthen it, nor one that jumped ahead make it negative.
	 */
	b->opened_at_ms = b->open_until_ms = 0;
	if (b->reset_required) {
		b->opened_at_ms = now->mono_ms;
		b->open_until_ms = UINT64_MAX;
		return;
	}
	if (b->state != CORRAL_BREAKER_OPEN)
		return;
	if (r->has_mono) {
		left = r->until_mono_ms > r->saved_mono_ms ?
		    r->until_mono_ms - r->saved_mono_ms : 0;
		period = r->until_mono_ms > r->opened_mono_ms ?
		    r->until_mono_ms - r->opened_mono_ms : 0;
	} else {
		/* An older corrald's row: wall-clock times only. */
		left = r->until_wall_ms > r->saved_wall_ms ?
		    (uint64_t)r->until_wall_ms - (uint64_t)r->saved_wall_ms : 0;
		period = r->until_wall_ms > r->opened_wall_ms ?
		    (uint64_t)r->until_wall_ms - (uint64_t)r->opened_wall_ms :
		    0;
	}
	since = now->wall_ms > r->saved_wall_ms ?
	    (uint64_t)now->wall_ms - (uint64_t)r->saved_wall_ms : 0;
	left -= since < left ? since : left;
	b->open_until_ms = left > UINT64_MAX - 1 - now->mono_ms ?
	    UINT64_MAX - 1 : now->mono_ms + left;
	/* The period as it was, for what the log says of it. */
	b->opened_at_ms = b->open_until_ms > period ?
	    b->open_until_ms - period : 0;
}

int
statedb_load_breaker(struct statedb *s, const char *name,
    struct corral_breaker *b, const struct clocks *now)
{
	struct breaker_saved r;
	sqlite3_stmt *st;
	const char *state, *boot;
	int rc, found = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT state, failures, reopenings, "
	    "trials, opened_at_ms, open_until_ms, reset_required, time_ms, "
	    "boot_id, saved_mono_ms, opened_mono_ms, open_until_mono_ms "
	    "FROM breakers WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		state = (const char *)sqlite3_column_text(st, 0);
		b->state = state == NULL ? CORRAL_BREAKER_CLOSED :
		    strcmp(state, "OPEN") == 0 ? CORRAL_BREAKER_OPEN :
		    strcmp(state, "HALF_OPEN") == 0 ? CORRAL_BREAKER_HALF_OPEN :
		    CORRAL_BREAKER_CLOSED;
		b->failures = (unsigned)sqlite3_column_int(st, 1);
		b->reopenings = (unsigned)sqlite3_column_int(st, 2);
		b->trials = (unsigned)sqlite3_column_int(st, 3);
		b->reset_required = sqlite3_column_int(st, 6) != 0;
		memset(&r, 0, sizeof(r));
		r.opened_wall_ms = sqlite3_column_int64(st, 4);
		r.until_wall_ms = sqlite3_column_int64(st, 5);
		r.saved_wall_ms = sqlite3_column_int64(st, 7);
		/* NULL there: a row an older corrald wrote. */
		r.has_mono = sqlite3_column_type(st, 9) != SQLITE_NULL;
		if ((boot = (const char *)sqlite3_column_text(st, 8)) != NULL)
			snprintf(r.boot_id, sizeof(r.boot_id), "%s", boot);
		r.saved_mono_ms = u64_of_db(sqlite3_column_int64(st, 9));
		r.opened_mono_ms = u64_of_db(sqlite3_column_int64(st, 10));
		r.until_mono_ms = u64_of_db(sqlite3_column_int64(st, 11));
		breaker_times_restore(b, &r, now);
		/* Trials in flight: the caller counts those still running. */
		if (b->state == CORRAL_BREAKER_HALF_OPEN)
			b->trials = 0;
		b->reason = "restored";
		found = 1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

int
statedb_breaker_history(struct statedb *s, const char *agent, unsigned limit,
    void (*fn)(void *, int64_t time_ms, const char *kind, const char *from,
    const char *to, const char *why), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (statedb_flush(s) == -1)
		return -1;
	if (sqlite3_prepare_v2(s->db, "SELECT time_ms, kind, prev_state, state, "
	    "detail FROM events WHERE kind IN ('breaker', 'health') AND "
	    "agent = ?1 ORDER BY id DESC LIMIT ?2", -1, &st, NULL) !=
	    SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3),
		    (const char *)sqlite3_column_text(st, 4));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
