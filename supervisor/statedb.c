/*
 * statedb.c: the state database, a journal and never a gate.  Every write
 * (events, and the rows of runs, workers, held instances, breakers and meta)
 * is queued and written in one transaction at the end of the loop turn, so
 * that a crash storm costs one commit per turn, not one per exit, and no
 * write waits inside a callback.  When the file cannot be written (locked
 * by another process, full disk, read-only, I/O errors) supervision goes on:
 * the queue holds what is unwritten (bounded; what is dropped is counted),
 * a timer retries, and the condition is logged once per change and shown in
 * status and /metrics.  A database found corrupt is moved aside and a fresh
 * one made, with the state tables that still read copied over.  Old events
 * are pruned in small steps (event_retention).
 *
 * The database is locked for one corrald at a time.  It also remembers
 * which boot the last corrald ran in, and tells how this start follows it
 * (statedb_start_kind).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "corrald.h"

/* Past this many unwritten events (the disk failing for long), new ones are
 * counted and dropped: memory must stay bounded (about 300 bytes each). */
#define DB_QUEUE_MAX STATEDB_QUEUE_MAX
#define DB_RETRY_MIN_MS 100
#define DB_RETRY_MAX_MS 2000
#define DB_FLUSH_MAX 5000 /* events per transaction from the loop */
/*
 * The WAL is checkpointed by corrald, not inside a commit as SQLite would
 * do every 1000 pages: a checkpoint syncs the database file, and in the
 * loop that is a restart waiting on the disk.  It runs once the WAL holds
 * CKPT_PAGES and no commit came for CKPT_QUIET_MS; a WAL that reaches
 * CKPT_NOW_PAGES (a storm with no pause) is checkpointed at once.
 */
#define CKPT_PAGES 1000
#define CKPT_NOW_PAGES 16000 /* 64 MB of 4 KiB pages */
#define CKPT_QUIET_MS 200
/*
 * What a write may wait for a lock another process holds.  The loop must
 * not stall on it: a longer hold is a condition, retried on a timer.
 */
#define DB_BUSY_MS 5
#define DB_CLOSE_WAIT_MS 2000 /* at exit, the last tries to write */
#define PRUNE_STEP 500        /* events deleted per step */
#define PRUNE_FIRST_MS 5000   /* after the start, or a change of retention */
#define PRUNE_EVERY_MS 60000  /* after a commit of events, at the latest */
#define PRUNE_NEXT_MS 20      /* between steps of a backlog */

static const struct timeval zero_tv = { 0, 0 };

enum db_table { T_RUNS, T_WORKERS, T_HELD, T_BREAKERS, T_META };

struct statedb {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *insert;
	int lockfd;
	struct event *flush_ev;
	struct event *ckpt_ev;   /* the WAL's checkpoint, when quiet */
	int wal_pages;           /* in the WAL after the last commit */
	/* Spawns waiting in the same loop turn go first (statedb_defer_to). */
	bool (*defer)(void *);
	void *defer_arg;
	bool deferred;   /* the last flush was put off a turn */
	struct event *retry_ev;
	struct event *prune_ev;
	struct db_event *q;
	size_t nq, capq;
	size_t dropped;        /* since the last successful write */
	uint64_t dropped_total;
	bool failing;
	/*
	 * The connection cannot write: read-only, or an in-memory stand-in
	 * (memory) when the file could not be read either.  Retries reopen.
	 */
	bool attached, memory;
	bool unread;           /* nothing was read back at the start */
	bool resynced;         /* and the state was written over it since */
	enum db_cond cond;
	char cond_msg[256];
	int64_t cond_since_ms;
	unsigned retry_ms;
	char *aside;           /* where a corrupt database went; owned */
	int64_t next_chain;
	int64_t next_id;
	uint64_t commits, written;
	uint64_t retention_ms, retention_count, pruned;
	uint64_t prune_due_ms; /* monotonic: when prune_ev fires, if pending */
	sqlite3_stmt *json;
	/*
	 * Rows to write or forget with the next batch: at most one op per
	 * table and key, the newest, so that the queue stays bounded however
	 * long the disk fails.  The key is r.agent (a breaker's name, a meta
	 * key) and r.instance.  Written in the order first queued; rqtab
	 * finds an op by its hkey (a mass restart queues tens of thousands
	 * in one turn: no search of the queue per row).
	 */
	struct row_op {
		enum db_table table;
		bool del;
		char hkey[NAME_MAX_LEN + 32]; /* "table instance key" */
		struct run_row r;    /* the key, always; runs: the row */
		struct worker_row w;
		struct corral_breaker b;
		struct clocks at;    /* breakers: when it was saved */
		char *value;         /* meta: owned */
	} *rq;
	size_t nrq, caprq;
	struct nametab rqtab; /* hkey -> index in rq; borrows rq's hkeys */
	void (*listener)(void *, const struct db_event *);
	void *listener_arg;
	void (*resync)(void *);  /* writes again all the state it knows */
	void *resync_arg;
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
static void prune_cb(evutil_socket_t, short, void *);
static void prune_arm(struct statedb *, uint64_t ms);
static struct row_op *row_queue(struct statedb *, enum db_table, bool del,
    const char *key, unsigned instance);

static const char *cond_names[] = { "ok", "locked", "full", "read-only",
	"i/o error", "corrupt", "unavailable", "error" };

const char *
db_cond_name(enum db_cond c)
{
	return c <= DBC_ERROR ? cond_names[c] : "?";
}

enum db_cond
db_cond_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return DBC_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return DBC_LOCKED;
	case SQLITE_FULL:
		return DBC_FULL;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return DBC_READONLY;
	case SQLITE_IOERR:
		return DBC_IOERR;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return DBC_CORRUPT;
	case SQLITE_CANTOPEN:
		return DBC_UNAVAILABLE;
	default:
		return DBC_ERROR;
	}
}

/* Remember why the last call on the database failed, for the log. */
static int
why(struct statedb *s, int rc, const char *what)
{
	snprintf(s->cond_msg, sizeof(s->cond_msg), "%s: %s", what,
	    s->db != NULL && sqlite3_errcode(s->db) != SQLITE_OK ?
	    sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	return rc;
}

/*
 * The condition changed: said once, here, not per event.  A failure keeps
 * corrald supervising; what it means for the operator is in the words.
 */
static void
cond_set(struct statedb *s, enum db_cond c)
{
	if (c == s->cond)
		return;
	if (c == DBC_OK) {
		log_info("state database %s: written again after %.1f s %s; "
		    "%zu events were dropped meanwhile", s->path,
		    (double)(now_wall_ms() - s->cond_since_ms) / 1000.0,
		    cond_names[s->cond], s->dropped);
		s->cond = DBC_OK;
		s->cond_since_ms = 0;
		s->cond_msg[0] = '\0';
		return;
	}
	log_error("state database %s is %s (%s): supervision goes on; events "
	    "and state wait in memory (at most %d events) and are written "
	    "when it can be", s->path, cond_names[c], s->cond_msg,
	    DB_QUEUE_MAX);
	if (s->cond == DBC_OK)
		s->cond_since_ms = now_wall_ms();
	s->cond = c;
}

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

/* Add the columns an older database lacks.  SQLITE_OK or why not. */
static int
add_columns(struct statedb *s)
{
	sqlite3_stmt *st;
	char *sql;
	size_t i;
	int rc, have;

	for (i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
		if ((rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM "
		    "pragma_table_info(?1) WHERE name = ?2", -1, &st,
		    NULL)) != SQLITE_OK)
			return why(s, rc, "reading its columns");
		sqlite3_bind_text(st, 1, added_columns[i][0], -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 2, added_columns[i][1], -1,
		    SQLITE_STATIC);
		rc = sqlite3_step(st);
		have = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
		sqlite3_finalize(st);
		if (have == -1)
			return why(s, rc, "reading its columns");
		if (have > 0)
			continue;
		xasprintf(&sql, "ALTER TABLE %s ADD COLUMN %s %s",
		    added_columns[i][0], added_columns[i][1],
		    added_columns[i][2]);
		rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
		free(sql);
		if (rc != SQLITE_OK)
			return why(s, rc, "adding a column");
	}
	if ((rc = sqlite3_exec(s->db, "UPDATE meta SET value = '"
	    SCHEMA_VERSION "' WHERE key = 'schema' AND CAST(value AS INTEGER) "
	    "< " SCHEMA_VERSION, NULL, NULL, NULL)) != SQLITE_OK)
		return why(s, rc, "recording its schema");
	return SQLITE_OK;
}

/* Whether every table and column this corrald reads is there. */
static bool
schema_ready(struct statedb *s)
{
	static const char *tables[] = { "meta", "events", "held", "breakers",
		"runs", "workers" };
	sqlite3_stmt *st;
	size_t i, nt = sizeof(tables) / sizeof(tables[0]);
	size_t na = sizeof(added_columns) / sizeof(added_columns[0]);
	bool ok = true;

	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM "
	    "pragma_table_info(?1) WHERE ?2 IS NULL OR name = ?2", -1, &st,
	    NULL) != SQLITE_OK)
		return false;
	for (i = 0; ok && i < nt + na; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, i < nt ? tables[i] :
		    added_columns[i - nt][0], -1, SQLITE_STATIC);
		if (i < nt)
			sqlite3_bind_null(st, 2);
		else
			sqlite3_bind_text(st, 2, added_columns[i - nt][1], -1,
			    SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int(st, 0) > 0;
	}
	sqlite3_finalize(st);
	return ok;
}

/* A full read of the file's structure: what a damaged page shows in. */
static int
quick_check(struct statedb *s)
{
	sqlite3_stmt *st;
	const char *v;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st,
	    NULL)) != SQLITE_OK)
		return why(s, rc, "checking it");
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(st, 0);
		if (v != NULL && strcmp(v, "ok") != 0) {
			char *nl;

			snprintf(s->cond_msg, sizeof(s->cond_msg),
			    "integrity check: %s", v);
			while ((nl = strchr(s->cond_msg, '\n')) != NULL)
				*nl = ' ';
			rc = SQLITE_CORRUPT;
		} else
			rc = SQLITE_OK;
	} else
		why(s, rc, "checking it");
	sqlite3_finalize(st);
	return rc;
}

/* Close the connection and what was prepared on it. */
/* After each commit: how large the WAL is now. */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct statedb *s = arg;

	(void)db;
	(void)name;
	s->wal_pages = pages;
	return SQLITE_OK;
}

/* PASSIVE: never waits for readers, never blocks a writer of its own. */
static void
ckpt_now(struct statedb *s)
{
	int rc;

	if (s->db == NULL || s->memory)
		return;
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	/* A failure leaves the WAL as it was: the next commit arms another. */
	if (rc != SQLITE_OK)
		log_debug("state database %s: checkpoint of its WAL: %s",
		    s->path, sqlite3_errstr(rc));
	else
		s->wal_pages = 0;
}

static void
ckpt_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ckpt_now(arg);
}

/* After a commit: checkpoint once quiet, or now if the WAL is too big. */
static void
ckpt_arm(struct statedb *s)
{
	if (s->wal_pages >= CKPT_NOW_PAGES || (s->ckpt_ev == NULL &&
	    s->wal_pages >= CKPT_PAGES)) {
		if (s->ckpt_ev != NULL)
			evtimer_del(s->ckpt_ev);
		ckpt_now(s);
	} else if (s->wal_pages >= CKPT_PAGES)
		timer_add_ms(s->ckpt_ev, CKPT_QUIET_MS);
}

static void
db_disconnect(struct statedb *s)
{
	sqlite3_finalize(s->insert);
	s->insert = NULL;
	sqlite3_finalize(s->json);
	s->json = NULL;
	sqlite3_close(s->db);
	s->db = NULL;
	s->attached = false;
	s->memory = false;
}

/*
 * Open the file and make it ready to be written: schema, added columns,
 * the insert.  check: run an integrity check first (a start, not a
 * reexec).  SQLITE_OK, or why not (s->cond_msg says it); the connection
 * stays open when the file could be opened at all, read-only maybe, so
 * that what it holds can still be read.
 */
static int
db_setup(struct statedb *s, bool check)
{
	mode_t old;
	int rc;

	/*
	 * What corrald makes here is none of other users' business: a new
	 * database gets no permission for others, and SQLite gives the WAL
	 * and shared-memory files the database's own mode.
	 */
	old = umask(0);
	umask(old | S_IRWXO);
	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		why(s, rc, "opening it");
		db_disconnect(s);
		return rc;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, DB_BUSY_MS);
	/* Replaces SQLite's own checkpoint at commit (see CKPT_PAGES). */
	sqlite3_wal_hook(s->db, wal_hook, s);
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		snprintf(s->cond_msg, sizeof(s->cond_msg), "opening it: it "
		    "opens read-only");
		return SQLITE_READONLY;
	}
	if (check && (rc = quick_check(s)) != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_exec(s->db, schema, NULL, NULL, NULL)) != SQLITE_OK)
		return why(s, rc, "setting it up");
	if ((rc = add_columns(s)) != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_prepare_v2(s->db,
	    "INSERT INTO events (id, time_ms, kind, agent, instance, pid, state,"
	    " prev_state, class, code, signal, errno, start_ms, run_ms,"
	    " restarts, chain, start_failure, detail, resumed_from,"
	    " last_checkpoint)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &s->insert,
	    NULL)) != SQLITE_OK)
		return why(s, rc, "preparing its insert");
	s->attached = true;
	return SQLITE_OK;
}

/*
 * The file read as it is on disk, without its WAL or locks: what a
 * read-only mount allows when the WAL's index cannot be made (the WAL is
 * gone after a clean stop; after a crash its last writes are not seen).
 */
static bool
db_immutable(struct statedb *s)
{
	char *uri, *at;
	const char *p;

	db_disconnect(s);
	uri = at = xcalloc(1, strlen(s->path) * 3 + 32);
	at += sprintf(at, "file:");
	for (p = s->path; *p != '\0'; p++)
		at += *p == '%' || *p == '?' || *p == '#' ?
		    sprintf(at, "%%%02x", (unsigned char)*p) :
		    sprintf(at, "%c", *p);
	sprintf(at, "?immutable=1");
	if (sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    !schema_ready(s)) {
		free(uri);
		db_disconnect(s);
		return false;
	}
	free(uri);
	return true;
}

/*
 * Reads go on from here when the file cannot be read: an empty database in
 * memory with the same tables.  Nothing is read back from it.
 */
static void
db_memory(struct statedb *s)
{
	db_disconnect(s);
	if (sqlite3_open_v2(":memory:", &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    add_columns(s) != SQLITE_OK)
		fatal("cannot make an in-memory state database");
	s->memory = true;
}

/*
 * After a failed setup: a connection that reads what the file holds, or
 * else the in-memory stand-in.  True when what the file holds is read.
 */
static bool
db_fallback(struct statedb *s)
{
	if ((s->db != NULL && schema_ready(s)) || db_immutable(s))
		return true;
	db_memory(s);
	return false;
}

/* Prepared on whichever connection there is: needs no table. */
static void
prepare_reads(struct statedb *s)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(s->db, "SELECT " JSON_COLUMNS_PARAMS, -1,
	    &s->json, NULL) != SQLITE_OK)
		fatal("state database %s: %s", s->path, sqlite3_errmsg(s->db));
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(chain), 0), "
	    "coalesce(max(id), 0) FROM events", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		int64_t chain = sqlite3_column_int64(st, 0) + 1;
		int64_t id = sqlite3_column_int64(st, 1) + 1;
		size_t i;

		/*
		 * Events queued before this connection (the file could not
		 * be read) follow what it holds.  Chains given meanwhile
		 * stay: they may repeat an older one's number.
		 */
		if (s->nq > 0 && s->q[0].id < id)
			for (i = 0; i < s->nq; i++)
				s->q[i].id = id + (int64_t)i;
		if (s->nq > 0)
			id = s->q[s->nq - 1].id + 1;
		if (id > s->next_id)
			s->next_id = id;
		if (chain > s->next_chain)
			s->next_chain = chain;
	}
	sqlite3_finalize(st);
}

/*
 * Move a corrupt file (and its WAL) aside under a timestamped name, for
 * people to look at.  0, or -1 when it could not be moved.
 */
static int
db_move_aside(struct statedb *s)
{
	static const char *sfx[] = { "-wal", "-journal" };
	char stamp[32], *to, *from, *to2, *shm;
	struct tm tm;
	time_t t = time(NULL);
	size_t i;
	int n;

	db_disconnect(s);
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	xasprintf(&to, "%s.corrupt-%s", s->path, stamp);
	for (n = 2; access(to, F_OK) == 0; n++) {
		free(to);
		xasprintf(&to, "%s.corrupt-%s.%d", s->path, stamp, n);
	}
	if (rename(s->path, to) == -1) {
		log_warn("state database %s is corrupt (%s) and cannot be moved "
		    "aside to %s", s->path, s->cond_msg, to);
		free(to);
		return -1;
	}
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		xasprintf(&from, "%s%s", s->path, sfx[i]);
		xasprintf(&to2, "%s%s", to, sfx[i]);
		if (rename(from, to2) == -1 && errno != ENOENT)
			log_warn("cannot move %s aside to %s", from, to2);
		free(from);
		free(to2);
	}
	xasprintf(&shm, "%s-shm", s->path);
	unlink(shm);
	free(shm);
	log_error("state database %s is corrupt (%s): moved aside to %s; "
	    "starting a fresh one", s->path, s->cond_msg, to);
	free(s->aside);
	s->aside = to;
	return 0;
}

/*
 * Copy into the fresh database what a restart must remember and the
 * corrupt one still reads: runs to stop, workers, held instances,
 * breakers, meta, and the last daemon event (how the last corrald ended).
 * Table by table, the columns both have; a table that does not read whole
 * is left out, and said.
 */
static void
db_salvage(struct statedb *s)
{
	static const char *what[][2] = {
		{ "meta", "" }, { "runs", "" }, { "workers", "" },
		{ "held", "" }, { "breakers", "" },
		{ "events", " WHERE id = (SELECT max(id) FROM old.events "
		    "WHERE kind = 'daemon')" },
	};
	sqlite3_stmt *st;
	char *sql, *cols, saved[256] = "", lost[256] = "", *to;
	size_t i;
	int rc;

	sql = sqlite3_mprintf("ATTACH %Q AS old", s->aside);
	rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		log_warnx("state database %s: nothing salvaged from %s: %s",
		    s->path, s->aside, sqlite3_errmsg(s->db));
		return;
	}
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		cols = NULL;
		if (sqlite3_prepare_v2(s->db, "SELECT group_concat('\"' || "
		    "name || '\"', ',') FROM pragma_table_info(?1, 'main') WHERE name IN "
		    "(SELECT name FROM pragma_table_info(?1, 'old'))", -1, &st,
		    NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, what[i][0], -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW &&
			    sqlite3_column_text(st, 0) != NULL)
				cols = xstrdup((const char *)
				    sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
		rc = SQLITE_ERROR;
		if (cols != NULL) {
			xasprintf(&sql, "SAVEPOINT salvage; INSERT OR REPLACE "
			    "INTO main.%s (%s) SELECT %s FROM old.%s%s; "
			    "RELEASE salvage", what[i][0], cols, cols,
			    what[i][0], what[i][1]);
			rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
			free(sql);
			if (rc != SQLITE_OK)
				sqlite3_exec(s->db, "ROLLBACK TO salvage; "
				    "RELEASE salvage", NULL, NULL, NULL);
			free(cols);
		}
		to = rc == SQLITE_OK ? saved : lost;
		snprintf(to + strlen(to), sizeof(saved) - strlen(to), " %s",
		    what[i][0]);
	}
	sqlite3_exec(s->db, "DETACH old", NULL, NULL, NULL);
	log_warnx("state database %s: salvaged from %s:%s%s%s", s->path,
	    s->aside, *saved ? saved : " nothing", *lost ? "; unreadable:" :
	    "", lost);
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
	/*
	 * Nothing read back, or the end of the last corrald lost with a
	 * corrupt file: it may have left runs; look.
	 */
	if (!reexec && (s->unread || (s->aside != NULL && last == NULL)))
		s->start_kind = START_UNPLANNED;
	else
		s->start_kind = start_kind_of(reexec, last, boot, boot_id());
	statedb_set_meta(s, "boot_id", boot_id());
	free(last);
	free(boot);
	return 0;
fail:
	log_error("state database %s: cannot read how the last corrald "
	    "ended (%s): taken as an unplanned death", s->path,
	    sqlite3_errmsg(s->db));
	s->start_kind = reexec ? START_REEXEC : START_UNPLANNED;
	sqlite3_finalize(st);
	free(last);
	free(boot);
	return -1;
}

struct statedb *
statedb_adopt(const char *path, struct event_base *base, int lockfd)
{
	struct statedb *s;
	mode_t old;
	int rc;

	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->lockfd = -1;
	s->next_id = s->next_chain = 1;
	/* None of other users' business: see db_setup(). */
	old = umask(0);
	umask(old | S_IRWXO);
	if (lockfd != -1) {
		/* Held since before the reexec: same pid, same lock. */
		fcntl(lockfd, F_SETFD, FD_CLOEXEC);
		s->lockfd = lockfd;
	} else if ((s->lockfd = take_lock(path)) == -1) {
		umask(old);
		statedb_close(s);
		return NULL;
	}
	umask(old);
	/* A reexec's file was fine a moment ago: no check to wait for. */
	rc = db_setup(s, lockfd == -1);
	if (db_cond_of(rc) == DBC_CORRUPT && db_move_aside(s) == 0 &&
	    (rc = db_setup(s, false)) == SQLITE_OK)
		db_salvage(s);
	if (rc != SQLITE_OK) {
		/* Keep what reads (read-only, locked) for what it holds. */
		if (!db_fallback(s)) {
			s->unread = true;
			log_error("state database %s: nothing could be read "
			    "from it (%s): FATAL workers, held instances, "
			    "breakers and the runs an earlier corrald left "
			    "are not known to this one", path, s->cond_msg);
		}
		s->failing = true;
		cond_set(s, db_cond_of(rc));
	}
	s->flush_ev = evtimer_new(base, flush_cb, s);
	s->retry_ev = evtimer_new(base, flush_cb, s);
	s->prune_ev = evtimer_new(base, prune_cb, s);
	s->ckpt_ev = evtimer_new(base, ckpt_cb, s);
	if (s->flush_ev == NULL || s->retry_ev == NULL || s->prune_ev == NULL ||
	    s->ckpt_ev == NULL)
		fatal("state database %s: cannot create its timers", path);
	start_classify(s, lockfd != -1);
	prepare_reads(s);
	if (s->failing) {
		s->retry_ms = DB_RETRY_MIN_MS;
		timer_add_ms(s->retry_ev, s->retry_ms);
	}
	return s;
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
	struct timespec pause = { 0, 100 * 1000000 };
	uint64_t until;
	size_t i;

	if (s == NULL)
		return;
	/* The last chance to write: a short wait for a lock or space. */
	until = now_mono_ms() + DB_CLOSE_WAIT_MS;
	while (s->db != NULL && (s->nq > 0 || s->nrq > 0) &&
	    statedb_flush(s) == -1 && now_mono_ms() < until)
		nanosleep(&pause, NULL);
	if (s->nq > 0 || s->nrq > 0)
		log_error("state database %s is %s (%s): %zu events and %zu "
		    "rows of state could not be written before exit", s->path,
		    cond_names[s->cond], s->cond_msg, s->nq, s->nrq);
	if (s->dropped_total > 0)
		log_error("state database %s: %llu events were dropped while "
		    "it could not be written", s->path,
		    (unsigned long long)s->dropped_total);
	for (i = 0; i < s->nq; i++)
		event_clear(&s->q[i]);
	free(s->q);
	for (i = 0; i < s->nrq; i++) {
		free(s->rq[i].r.cgroup);
		free(s->rq[i].value);
	}
	free(s->rq);
	nametab_free(&s->rqtab);
	if (s->flush_ev != NULL)
		event_free(s->flush_ev);
	if (s->retry_ev != NULL)
		event_free(s->retry_ev);
	if (s->prune_ev != NULL)
		event_free(s->prune_ev);
	if (s->ckpt_ev != NULL)
		event_free(s->ckpt_ev);
	db_disconnect(s);
	if (s->lockfd != -1)
		close(s->lockfd);
	free(s->aside);
	free(s->path);
	free(s);
}

void
statedb_defer_to(struct statedb *s, bool (*waiting)(void *), void *arg)
{
	s->defer = waiting;
	s->defer_arg = arg;
}

/* The next write: now, unless a retry is what waits. */
static void
flush_soon(struct statedb *s)
{
	if (!s->failing && !evtimer_pending(s->flush_ev, NULL))
		evtimer_add(s->flush_ev, &zero_tv);
}

void
statedb_add(struct statedb *s, struct db_event *e)
{
	if (s->nq >= DB_QUEUE_MAX) {
		if (s->dropped++ == 0)
			log_error("state database %s: %d events unwritten; "
			    "dropping new ones until it can be written",
			    s->path, DB_QUEUE_MAX);
		s->dropped_total++;
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
	flush_soon(s);
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

/* SQLITE_DONE or the error. */
static int
insert_one(struct statedb *s, const struct db_event *e)
{
	int rc;

	bind_event(s->insert, e);
	rc = sqlite3_step(s->insert);
	sqlite3_reset(s->insert);
	return rc;
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

static int64_t wall_of(uint64_t, const struct clocks *);
static sqlite3_int64 db_u64(uint64_t);

static void
bind_breaker(sqlite3_stmt *st, const struct corral_breaker *b,
    const struct clocks *at)
{
	sqlite3_bind_text(st, 2, corral_breaker_state_name(b->state), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)b->failures);
	sqlite3_bind_int(st, 4, (int)b->reopenings);
	sqlite3_bind_int(st, 5, (int)b->trials);
	sqlite3_bind_int64(st, 6, wall_of(b->opened_at_ms, at));
	sqlite3_bind_int64(st, 7, wall_of(b->open_until_ms, at));
	sqlite3_bind_int(st, 8, b->reset_required);
	sqlite3_bind_text(st, 9, b->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, at->wall_ms);
	sqlite3_bind_text(st, 11, at->boot_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, db_u64(at->mono_ms));
	sqlite3_bind_int64(st, 13, db_u64(b->opened_at_ms));
	sqlite3_bind_int64(st, 14, db_u64(b->open_until_ms));
}

/* Apply one queued row.  SQLITE_DONE or the error. */
static int
row_apply(struct statedb *s, const struct row_op *op)
{
	static const char *sql[][2] = {
		[T_RUNS] = { "INSERT OR REPLACE INTO runs VALUES (?1, ?2, ?3, "
		    "?4, ?5, ?6, ?7, ?8, ?9, ?10)", "DELETE FROM runs WHERE "
		    "agent = ?1 AND instance = ?2" },
		[T_WORKERS] = { "INSERT OR REPLACE INTO workers VALUES (?1, "
		    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
		    "?15, ?16, ?17, ?18)", "DELETE FROM workers WHERE "
		    "agent = ?1 AND instance = ?2" },
		[T_HELD] = { "INSERT OR REPLACE INTO held VALUES (?1, ?2, ?3)",
		    "DELETE FROM held WHERE agent = ?1 AND instance = ?2" },
		[T_BREAKERS] = { "INSERT OR REPLACE INTO breakers (name, "
		    "state, failures, reopenings, trials, opened_at_ms, "
		    "open_until_ms, reset_required, reason, time_ms, boot_id, "
		    "saved_mono_ms, opened_mono_ms, open_until_mono_ms) "
		    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
		    "DELETE FROM breakers WHERE name = ?1" },
		[T_META] = { "INSERT OR REPLACE INTO meta VALUES (?1, ?3)",
		    "DELETE FROM meta WHERE key = ?1" },
	};
	const struct run_row *r = &op->r;
	sqlite3_stmt *st;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, sql[op->table][op->del], -1, &st,
	    NULL)) != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, r->agent, -1, SQLITE_STATIC);
	if (op->table != T_BREAKERS && op->table != T_META)
		sqlite3_bind_int(st, 2, (int)r->instance);
	if (!op->del)
		switch (op->table) {
		case T_RUNS:
			sqlite3_bind_int64(st, 3, r->pid);
			sqlite3_bind_int64(st, 4, r->pgid);
			sqlite3_bind_int64(st, 5,
			    (sqlite3_int64)r->start_ticks);
			sqlite3_bind_text(st, 6, r->boot_id, -1,
			    SQLITE_STATIC);
			if (r->cgroup != NULL)
				sqlite3_bind_text(st, 7, r->cgroup, -1,
				    SQLITE_STATIC);
			sqlite3_bind_int(st, 8, r->stop_signal);
			sqlite3_bind_int64(st, 9,
			    (sqlite3_int64)r->stop_timeout_ms);
			sqlite3_bind_int64(st, 10, r->start_ms);
			break;
		case T_WORKERS:
			bind_worker(st, &op->w);
			break;
		case T_HELD:
			sqlite3_bind_int64(st, 3, r->start_ms);
			break;
		case T_BREAKERS:
			bind_breaker(st, &op->b, &op->at);
			break;
		case T_META:
			sqlite3_bind_text(st, 3, op->value, -1, SQLITE_STATIC);
			break;
		}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc;
}

/*
 * Write up to max queued events, and every queued row, in one
 * transaction.  0, or -1 with the condition set.  A connection that
 * cannot write (the file was read-only, unreadable) is made again first.
 */
static int
flush_some(struct statedb *s, size_t max)
{
	size_t i, n = s->nq < max ? s->nq : max;
	int rc;

	if (n == 0 && s->nrq == 0)
		return 0;
	if (!s->attached) {
		bool was_memory = s->memory || (s->unread && !s->resynced);

		db_disconnect(s);
		if ((rc = db_setup(s, false)) != SQLITE_OK) {
			db_fallback(s);
			prepare_reads(s);
			goto fail;
		}
		prepare_reads(s);
		/* The file was never read: what it holds may be stale. */
		if (was_memory && s->resync != NULL) {
			s->resync(s->resync_arg);
			s->resynced = true;
		}
		n = s->nq < max ? s->nq : max;
	}
	if ((rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		why(s, rc, "beginning a write");
		goto fail;
	}
	for (i = 0; i < n; i++)
		if ((rc = insert_one(s, &s->q[i])) != SQLITE_DONE) {
			why(s, rc, "writing an event");
			goto rollback;
		}
	for (i = 0; i < s->nrq; i++)
		if ((rc = row_apply(s, &s->rq[i])) != SQLITE_DONE) {
			why(s, rc, "writing a row of state");
			goto rollback;
		}
	if ((rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		why(s, rc, "committing");
		goto rollback;
	}
	for (i = 0; i < s->nrq; i++) {
		free(s->rq[i].r.cgroup);
		free(s->rq[i].value);
	}
	s->nrq = 0;
	nametab_free(&s->rqtab);
	for (i = 0; i < n; i++)
		event_clear(&s->q[i]);
	if (n > 0) /* only rows, maybe: no queue of events yet */
		memmove(s->q, s->q + n, (s->nq - n) * sizeof(*s->q));
	s->nq -= n;
	s->commits++;
	s->written += n;
	/*
	 * Events written are what may take the table past a retention
	 * limit: the one thing that brings a step sooner than the age of
	 * the oldest event does.  A busy fleet's steps stay a minute apart.
	 */
	if (n > 0)
		prune_arm(s, PRUNE_EVERY_MS);
	ckpt_arm(s);
	s->failing = false;
	s->retry_ms = 0;
	cond_set(s, DBC_OK);
	s->dropped = 0;
	return 0;
rollback:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
fail:
	s->failing = true;
	cond_set(s, db_cond_of(rc));
	/*
	 * Damage found while running: the file goes aside like at a start,
	 * and the fresh one gets what this corrald knows (resync).
	 */
	if (db_cond_of(rc) == DBC_CORRUPT && s->attached &&
	    db_move_aside(s) == 0) {
		if (db_setup(s, false) != SQLITE_OK)
			db_fallback(s);
		prepare_reads(s);
		if (s->resync != NULL)
			s->resync(s->resync_arg);
	}
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

	(void)fd;
	(void)what;
	/*
	 * A restart due in this turn is spawned before the commit, not after
	 * it: put off one turn, never two, so writes are never starved.
	 */
	if (!s->deferred && s->defer != NULL &&
	    s->defer(s->defer_arg)) {
		s->deferred = true;
		evtimer_add(s->flush_ev, &zero_tv);
		return;
	}
	s->deferred = false;
	/* A backlog goes in slices, so that the loop is never held long. */
	if (flush_some(s, DB_FLUSH_MAX) == -1) {
		s->retry_ms = s->retry_ms == 0 ? DB_RETRY_MIN_MS :
		    s->retry_ms * 2 > DB_RETRY_MAX_MS ? DB_RETRY_MAX_MS :
		    s->retry_ms * 2;
		if (!evtimer_pending(s->retry_ev, NULL))
			timer_add_ms(s->retry_ev, s->retry_ms);
	} else if (s->nq > 0)
		evtimer_add(s->flush_ev, &zero_tv);
}

/*
 * The op of a row to write or forget with the next batch, replacing any
 * op still queued for the same table and key (in its place in the queue):
 * the newest says all.  The caller fills in the row.
 */
static struct row_op *
row_queue(struct statedb *s, enum db_table t, bool del, const char *key,
    unsigned instance)
{
	struct row_op *op;
	char hkey[sizeof(op->hkey)];
	ssize_t at;
	size_t i;

	/* As the op keeps it: a key too long is cut, and matches cut. */
	snprintf(hkey, sizeof(hkey), "%d %u %.*s", (int)t, instance,
	    (int)sizeof(op->r.agent) - 1, key);
	if ((at = nametab_get(&s->rqtab, hkey)) != -1) {
		op = &s->rq[at];
		free(op->r.cgroup);
		free(op->value);
	} else {
		if (s->nrq == s->caprq) {
			s->caprq = s->caprq ? s->caprq * 2 : 64;
			s->rq = xreallocarray(s->rq, s->caprq, sizeof(*s->rq));
			/* The table borrowed the hkeys where they were. */
			nametab_free(&s->rqtab);
			for (i = 0; i < s->nrq; i++)
				nametab_put(&s->rqtab, s->rq[i].hkey, i);
		}
		op = &s->rq[s->nrq++];
	}
	memset(op, 0, sizeof(*op));
	memcpy(op->hkey, hkey, sizeof(hkey));
	if (at == -1)
		nametab_put(&s->rqtab, op->hkey, s->nrq - 1);
	op->table = t;
	op->del = del;
	snprintf(op->r.agent, sizeof(op->r.agent), "%s", key);
	op->r.instance = instance;
	flush_soon(s);
	return op;
}

void
statedb_run_add(struct statedb *s, struct run_row *r)
{
	struct row_op *op = row_queue(s, T_RUNS, false, r->agent,
	    r->instance);

	op->r = *r;
	r->cgroup = NULL; /* moved */
}

void
statedb_run_del(struct statedb *s, const char *agent, unsigned instance)
{
	row_queue(s, T_RUNS, true, agent, instance);
}

void
statedb_worker_put(struct statedb *s, const struct worker_row *w)
{
	row_queue(s, T_WORKERS, false, w->agent, w->instance)->w = *w;
}

void
statedb_worker_del(struct statedb *s, const char *agent, unsigned instance)
{
	row_queue(s, T_WORKERS, true, agent, instance);
}

void
statedb_set_held(struct statedb *s, const char *agent, unsigned instance,
    bool held)
{
	row_queue(s, T_HELD, !held, agent, instance)->r.start_ms =
	    now_wall_ms();
}

void
statedb_save_breaker(struct statedb *s, const char *name,
    const struct corral_breaker *b, const struct clocks *now)
{
	struct row_op *op = row_queue(s, T_BREAKERS, false, name, 0);

	op->b = *b;
	op->at = *now;
}

void
statedb_set_meta(struct statedb *s, const char *key, const char *value)
{
	row_queue(s, T_META, false, key, 0)->value = xstrdup(value);
}

void
statedb_set_resync(struct statedb *s, void (*fn)(void *), void *arg)
{
	s->resync = fn;
	s->resync_arg = arg;
}

void
statedb_health(const struct statedb *s, struct statedb_health *h)
{
	memset(h, 0, sizeof(*h));
	h->cond = s->cond;
	h->error = s->cond_msg;
	h->since_ms = s->cond_since_ms;
	h->queued = s->nq;
	h->rows_queued = s->nrq;
	h->dropped = s->dropped_total;
	h->aside = s->aside;
	h->memory = s->unread;
	h->pruned = s->pruned;
}

/*
 * Pure: of the oldest events (ids ascending, their times), the id up to
 * which they may go: each older than before_ms, or with keep or more
 * events after it (ids are dense: max_id less its id).  spare (the last
 * daemon event, which tells the next start how this one ended) never goes
 * and does not stop the others.  0: none.
 */
int64_t
prune_cut(const int64_t *id, const int64_t *time_ms, size_t n,
    int64_t max_id, uint64_t keep, int64_t before_ms, int64_t spare)
{
	int64_t cut = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (id[i] == spare)
			continue;
		if (!(keep > 0 && max_id - id[i] >= (int64_t)keep) &&
		    !(before_ms > 0 && time_ms[i] < before_ms))
			break;
		cut = id[i];
	}
	return cut;
}

int64_t
prune_next(const int64_t *id, const int64_t *time_ms, size_t n, size_t step,
    int64_t cut, int64_t spare, uint64_t age_ms, int64_t now_ms,
    int64_t next_ms)
{
	int64_t due;
	size_t i;

	/* A whole step went (the spare may close it): there is more. */
	if (n > 0 && n == step && cut >= id[n - 1] - 1)
		return next_ms;
	if (age_ms == 0 || age_ms > (uint64_t)INT64_MAX / 4)
		return -1;
	for (i = 0; i < n; i++)
		if (id[i] > cut && id[i] != spare)
			break;
	if (i == n) /* none kept among them, and there are no more */
		return -1;
	/* It goes once before_ms (now less age_ms) is past its time. */
	due = time_ms[i] + (int64_t)age_ms + 1 - now_ms;
	return due > next_ms ? due : next_ms;
}

/*
 * Arm the next step in ms, unless one is due sooner.  Never with no
 * retention: then nothing is pruned.
 */
static void
prune_arm(struct statedb *s, uint64_t ms)
{
	uint64_t due = now_mono_ms() + ms;

	if (s->retention_ms == 0 && s->retention_count == 0)
		return;
	if (evtimer_pending(s->prune_ev, NULL) && s->prune_due_ms <= due)
		return;
	timer_add_ms(s->prune_ev, ms);
	s->prune_due_ms = due;
}

void
statedb_set_retention(struct statedb *s, uint64_t age_ms, uint64_t count)
{
	s->retention_ms = age_ms;
	s->retention_count = count;
	if (age_ms == 0 && count == 0)
		evtimer_del(s->prune_ev);
	else
		prune_arm(s, PRUNE_FIRST_MS);
}

uint64_t
statedb_prune_due(const struct statedb *s)
{
	return evtimer_pending(s->prune_ev, NULL) ? s->prune_due_ms : 0;
}

/*
 * One step of pruning: at most PRUNE_STEP of the oldest events, in a
 * transaction of its own, then the next step (prune_next): soon if there
 * is a backlog, else when the oldest event kept comes of age, else none
 * until events are written (an idle corrald has no prune timer, or one
 * far off).  While writes fail, a step a minute: the retries run anyway,
 * and the commit that ends the failure arms a step too.
 */
static void
prune_cb(evutil_socket_t fd, short what, void *arg)
{
	struct statedb *s = arg;
	int64_t id[PRUNE_STEP], t[PRUNE_STEP], max_id = 0, spare = 0, cut;
	int64_t now = now_wall_ms(), next;
	sqlite3_stmt *st;
	size_t n = 0;

	(void)fd;
	(void)what;
	if (s->retention_ms == 0 && s->retention_count == 0)
		return;
	if (s->failing || !s->attached)
		goto again;
	if (sqlite3_prepare_v2(s->db, "SELECT (SELECT max(id) FROM events), "
	    "(SELECT max(id) FROM events WHERE kind = 'daemon')", -1, &st,
	    NULL) != SQLITE_OK)
		goto again;
	if (sqlite3_step(st) == SQLITE_ROW) {
		max_id = sqlite3_column_int64(st, 0);
		spare = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, "SELECT id, time_ms FROM events ORDER BY "
	    "id LIMIT ?1", -1, &st, NULL) != SQLITE_OK)
		goto again;
	sqlite3_bind_int(st, 1, PRUNE_STEP);
	while (n < PRUNE_STEP && sqlite3_step(st) == SQLITE_ROW) {
		id[n] = sqlite3_column_int64(st, 0);
		t[n++] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	cut = prune_cut(id, t, n, max_id, s->retention_count,
	    s->retention_ms > 0 ? now - (int64_t)s->retention_ms : 0, spare);
	if (cut > 0) {
		if (sqlite3_prepare_v2(s->db, "DELETE FROM events WHERE "
		    "id <= ?1 AND id != ?2", -1, &st, NULL) != SQLITE_OK)
			goto again;
		sqlite3_bind_int64(st, 1, cut);
		sqlite3_bind_int64(st, 2, spare);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			goto again;
		}
		s->pruned += (uint64_t)sqlite3_changes(s->db);
		log_debug("state database %s: pruned %d events up to id %lld "
		    "(event_retention)", s->path, sqlite3_changes(s->db),
		    (long long)cut);
		sqlite3_finalize(st);
	}
	next = prune_next(id, t, n, PRUNE_STEP, cut, spare, s->retention_ms,
	    now, PRUNE_NEXT_MS);
	if (next >= 0)
		prune_arm(s, (uint64_t)next);
	return;
again:
	prune_arm(s, PRUNE_EVERY_MS);
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
statedb_stats(const struct statedb *s, uint64_t *commits, uint64_t *written)
{
	*commits = s->commits;
	*written = s->written;
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

/* Whether a queued event belongs to a read of agent (NULL: all), instance. */
static bool
queued_match(const struct db_event *e, const char *agent, int instance)
{
	return (agent == NULL || strcmp(e->agent, agent) == 0) &&
	    (instance < 0 || e->instance == instance);
}

/*
 * Before a read: write what is queued if the file takes it now.  What
 * stays queued (the file failing) is read from the queue.
 */
static void
flush_for_read(struct statedb *s)
{
	if (!s->failing)
		(void)flush_some(s, SIZE_MAX);
}

/* The last limit events of agent, instance with an id above after. */
static int
recent(struct statedb *s, const char *agent, int instance, int64_t after,
    unsigned limit, void (*fn)(void *, const char *json), void *arg)
{
	sqlite3_stmt *st;
	size_t *mine, k = 0, i;
	char *j;
	int rc;

	flush_for_read(s);
	/* The newest of the queue, then older ones from the file. */
	mine = xcalloc(limit + 1, sizeof(*mine));
	for (i = s->nq; i > 0 && k < limit; i--)
		if (queued_match(&s->q[i - 1], agent, instance) &&
		    s->q[i - 1].id > after)
			mine[k++] = i - 1;
	rc = sqlite3_prepare_v2(s->db, "SELECT j FROM (SELECT id, "
	    JSON_COLUMNS_TABLE " AS j FROM events WHERE (?1 IS NULL OR "
	    "agent = ?1) AND (?2 < 0 OR instance = ?2) AND id > ?4 ORDER BY id "
	    "DESC LIMIT ?3) ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		free(mine);
		return -1;
	}
	if (agent != NULL)
		sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, instance);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(limit - k));
	sqlite3_bind_int64(st, 4, (sqlite3_int64)after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	while (k > 0)
		if ((j = statedb_event_json(s, &s->q[mine[--k]])) != NULL) {
			fn(arg, j);
			free(j);
		}
	free(mine);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
statedb_recent(struct statedb *s, const char *agent, int instance,
    unsigned limit, void (*fn)(void *, const char *json), void *arg)
{
	return recent(s, agent, instance, 0, limit, fn, arg);
}

int
statedb_recent_after(struct statedb *s, int64_t after, unsigned limit,
    void (*fn)(void *, const char *json), void *arg)
{
	return recent(s, NULL, -1, after, limit, fn, arg);
}

int
statedb_history(struct statedb *s, const char *agent, int instance,
    unsigned limit, void (*fn)(void *, const struct history_row *),
    void *arg)
{
	struct history_row r;
	sqlite3_stmt *st;
	unsigned k = 0;
	size_t i;
	int rc;

	flush_for_read(s);
	for (i = s->nq; i > 0 && k < limit; i--) {
		const struct db_event *e = &s->q[i - 1];
		if (e->kind != EV_EXIT || !queued_match(e, agent, instance))
			continue;
		r.time_ms = e->time_ms;
		r.instance = e->instance;
		r.pid = e->pid > 0 ? e->pid : 0;
		r.run_ms = e->run_ms;
		r.cls = corral_exit_class_name(e->cls);
		r.code = e->code;
		r.sig = e->sig > 0 ? e->sig : 0;
		r.err = e->err > 0 ? e->err : 0;
		r.chain = e->chain;
		r.start_failure = e->start_failure;
		r.detail = e->detail;
		fn(arg, &r);
		k++;
	}
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
	sqlite3_bind_int64(st, 3, limit - k);
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
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT agent, instance FROM held",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		unsigned k = (unsigned)sqlite3_column_int(st, 1);
		if (a != NULL && !keep(arg, a, k))
			row_queue(s, T_HELD, true, a, k);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
statedb_keep_breakers(struct statedb *s, bool (*keep)(void *, const char *),
    void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT name FROM breakers", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);
		if (n != NULL && !keep(arg, n))
			row_queue(s, T_BREAKERS, true, n, 0);
	}
	sqlite3_finalize(st);
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
	unsigned k = 0;
	size_t i;
	int rc;

	flush_for_read(s);
	for (i = s->nq; i > 0 && k < limit; i--) {
		const struct db_event *e = &s->q[i - 1];
		if ((e->kind != EV_BREAKER && e->kind != EV_HEALTH) ||
		    strcmp(e->agent, agent) != 0)
			continue;
		fn(arg, e->time_ms, kind_names[e->kind], e->prev_state,
		    e->state, e->detail);
		k++;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT time_ms, kind, prev_state, state, "
	    "detail FROM events WHERE kind IN ('breaker', 'health') AND "
	    "agent = ?1 ORDER BY id DESC LIMIT ?2", -1, &st, NULL) !=
	    SQLITE_OK) {
		log_error("state database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit - k);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3),
		    (const char *)sqlite3_column_text(st, 4));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
