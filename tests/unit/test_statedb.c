/*
 * test_statedb.c: the state database writes a loop turn's events in one
 * transaction, keeps them queued while it cannot write and loses none, and
 * lets only one corrald hold a database; a breaker saved open comes back
 * open for exactly what remains in the same boot, for what remained less
 * the wall-clock time since (never more) after a reboot; it tells how a
 * start follows the last corrald.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "corrald.h"

struct fixture {
	char dir[64];
	char path[96];
	struct event_base *base;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/corral-statedb.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	f->base = event_base_new();
	assert_non_null(f->base);
	assert_int_equal(event_base_priority_init(f->base, 2), 0);
	log_init(LOG_LVL_ERROR, "test_statedb");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd;

	event_base_free(f->base);
	xasprintf(&cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

static void
add_exit(struct statedb *db, int i)
{
	struct db_event e;

	memset(&e, 0, sizeof(e));
	e.kind = EV_EXIT;
	e.time_ms = 1000 + i;
	snprintf(e.agent, sizeof(e.agent), "a");
	e.instance = i % 7;
	e.pid = 100 + i;
	e.cls = CORRAL_EXIT_CRASH;
	e.code = -1;
	e.sig = 11;
	e.err = -1;
	e.start_failure = 1;
	e.chain = 1;
	xasprintf(&e.detail, "exit %d", i);
	statedb_add(db, &e);
	assert_null(e.detail); /* moved into the queue */
}

static long
count_rows(const char *path, const char *where)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *sql;
	long n = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	xasprintf(&sql, "SELECT count(*) FROM events WHERE %s", where);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(sql);
	return n;
}

/* 1,000 exits in one loop turn: one commit, all rows, in order. */
static void
test_one_transaction_per_turn(void **state)
{
	struct fixture *f = *state;
	struct statedb *db = statedb_open(f->path, f->base);
	uint64_t commits, written;
	struct statedb_health h;
	int i;

	assert_non_null(db);
	for (i = 0; i < 1000; i++)
		add_exit(db, i);
	statedb_stats(db, &commits, &written);
	statedb_health(db, &h);
	assert_int_equal(commits, 0);
	assert_int_equal(h.queued, 1000);
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
	    0);
	statedb_stats(db, &commits, &written);
	statedb_health(db, &h);
	assert_int_equal(commits, 1);
	assert_int_equal(written, 1000);
	assert_int_equal(h.queued, 0);
	assert_int_equal(count_rows(f->path, "kind='exit' AND class='crash' "
	    "AND signal=11 AND errno IS NULL AND code IS NULL"), 1000);
	assert_int_equal(count_rows(f->path, "detail = 'exit 999' AND "
	    "pid = 1099 AND instance = 999 % 7"), 1);
	statedb_close(db);
}

/* While another writer holds the database, nothing is lost or reordered. */
static void
test_nothing_lost_while_locked(void **state)
{
	struct fixture *f = *state;
	struct statedb *db = statedb_open(f->path, f->base);
	uint64_t commits, written;
	struct statedb_health h;
	sqlite3 *other;
	int i;

	assert_non_null(db);
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	for (i = 0; i < 50; i++)
		add_exit(db, i);
	/* The flush waits its busy timeout, fails and arms its retry. */
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	statedb_stats(db, &commits, &written);
	statedb_health(db, &h);
	assert_int_equal(commits, 0);
	assert_int_equal(h.queued, 50);
	for (i = 50; i < 80; i++)
		add_exit(db, i);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	/* The retry timer fires and writes all of them at once. */
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	statedb_stats(db, &commits, &written);
	statedb_health(db, &h);
	assert_int_equal(commits, 1);
	assert_int_equal(written, 80);
	assert_int_equal(count_rows(f->path, "kind='exit'"), 80);
	assert_int_equal(count_rows(f->path, "detail = 'exit ' || (pid - 100) "
	    "AND id = (SELECT min(id) FROM events) + pid - 100"), 80);
	statedb_close(db);
}

/* A second opener of the same database is refused; after close, allowed. */
static void
test_lock(void **state)
{
	struct fixture *f = *state;
	struct statedb *a, *b;

	a = statedb_open(f->path, f->base);
	assert_non_null(a);
	b = statedb_open(f->path, f->base);
	assert_null(b);
	statedb_close(a);
	b = statedb_open(f->path, f->base);
	assert_non_null(b);
	statedb_close(b);
}

/* Chains continue after a restart: ids are never reused. */
static void
test_chain_ids_persist(void **state)
{
	struct fixture *f = *state;
	struct statedb *db = statedb_open(f->path, f->base);
	struct db_event e;

	assert_non_null(db);
	assert_int_equal(statedb_next_chain(db), 1);
	memset(&e, 0, sizeof(e));
	e.kind = EV_EXIT;
	e.instance = 0;
	e.code = 1;
	e.sig = e.err = -1;
	e.start_failure = 0;
	e.chain = statedb_next_chain(db);
	assert_int_equal(e.chain, 2);
	statedb_add(db, &e);
	statedb_close(db); /* flushes */
	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	assert_int_equal(statedb_next_chain(db), 3);
	statedb_close(db);
}

/* A database that cannot be opened is an error naming it, not a crash. */
/*
 * A database written by the previous corrald (schema 1: events without
 * resumed_from and last_checkpoint) opens: the columns are added, old
 * rows are kept and read NULL there, new rows fill them.
 */
static void
test_previous_schema(void **state)
{
	static const char old[] =
	    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
	    "INSERT INTO meta VALUES ('schema', '1');"
	    "CREATE TABLE events (id INTEGER PRIMARY KEY,"
	    "  time_ms INTEGER NOT NULL, kind TEXT NOT NULL, agent TEXT,"
	    "  instance INTEGER, pid INTEGER, state TEXT, prev_state TEXT,"
	    "  class TEXT, code INTEGER, signal INTEGER, errno INTEGER,"
	    "  start_ms INTEGER, run_ms INTEGER, restarts INTEGER,"
	    "  chain INTEGER, start_failure INTEGER, detail TEXT);"
	    "INSERT INTO events (time_ms, kind, agent, instance, class, detail)"
	    "  VALUES (5, 'exit', 'old', 0, 'crash', 'from before');"
	    "CREATE TABLE held (agent TEXT NOT NULL, instance INTEGER NOT NULL,"
	    "  time_ms INTEGER, PRIMARY KEY (agent, instance));"
	    "CREATE TABLE breakers (name TEXT PRIMARY KEY, state TEXT NOT NULL,"
	    "  failures INTEGER, reopenings INTEGER, trials INTEGER,"
	    "  opened_at_ms INTEGER, open_until_ms INTEGER,"
	    "  reset_required INTEGER, reason TEXT, time_ms INTEGER);";
	struct fixture *f = *state;
	struct statedb *db;
	struct db_event e;
	sqlite3 *raw;

	assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, old, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);

	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	memset(&e, 0, sizeof(e));
	e.kind = EV_EXIT;
	e.time_ms = 6;
	snprintf(e.agent, sizeof(e.agent), "new");
	e.cls = CORRAL_EXIT_ERROR;
	e.code = 1;
	e.sig = e.err = e.start_failure = -1;
	e.resumed_from = xstrdup("ck-1");
	e.last_checkpoint = xstrdup("ck-2");
	statedb_add(db, &e);
	assert_int_equal(statedb_flush(db), 0);
	statedb_close(db);

	assert_int_equal(count_rows(f->path, "agent = 'old' AND detail = "
	    "'from before' AND resumed_from IS NULL"), 1);
	assert_int_equal(count_rows(f->path, "agent = 'new' AND resumed_from "
	    "= 'ck-1' AND last_checkpoint = 'ck-2'"), 1);
	/* And again: a second open finds the columns there. */
	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	statedb_close(db);
	assert_int_equal(count_rows(f->path, "1"), 2);
}

/* One SQL statement on the database, outside corrald. */
static void
exec_sql(const char *path, const char *sql)
{
	sqlite3 *raw;

	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
}

/* One integer from the database, outside corrald. */
static int64_t
query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

#define W0 INT64_C(1800000000000) /* the wall clock at the save */

static const struct corral_breaker_policy policy = { 1, 0, 60000, 600000,
	2.0, 0.25, 3 };

/* A breaker opened at monotonic 1000 for 60 s, saved at 5000 in boot A. */
static void
save_open(struct statedb *db, struct corral_breaker *b, bool fatal)
{
	struct clocks at = { "boot-a", 5000, W0 };

	assert_int_equal(corral_breaker_init(b, &policy), 0);
	if (fatal)
		assert_true(corral_breaker_fatal(b, 1000));
	else
		assert_true(corral_breaker_failure(b, 1000, 0.5));
	assert_int_equal(b->open_until_ms, fatal ? UINT64_MAX : 61000);
	statedb_save_breaker(db, "x", b, &at);
	assert_int_equal(statedb_flush(db), 0);
}

/* Load "x" at now; the breaker is its agent's (policy as above). */
static void
load_at(struct statedb *db, struct corral_breaker *b, const char *boot,
    uint64_t mono, int64_t wall)
{
	struct clocks now = { boot, mono, wall };

	assert_int_equal(corral_breaker_init(b, &policy), 0);
	assert_int_equal(statedb_load_breaker(db, "x", b, &now), 1);
}

/*
 * Same boot: the monotonic times are valid as they are, whatever the wall
 * clock says now, and the row's wall-clock renderings are for people.
 */
static void
test_breaker_same_boot(void **state)
{
	struct fixture *f = *state;
	struct statedb *db = statedb_open(f->path, f->base);
	struct corral_breaker b, l;

	assert_non_null(db);
	save_open(db, &b, false);
	assert_int_equal(query_int(f->path, "SELECT opened_at_ms FROM "
	    "breakers"), W0 - 4000);
	assert_int_equal(query_int(f->path, "SELECT open_until_ms FROM "
	    "breakers"), W0 + 56000);
	assert_int_equal(query_int(f->path, "SELECT saved_mono_ms FROM "
	    "breakers"), 5000);
	/* Two seconds later, the wall clock stepped back an hour. */
	load_at(db, &l, "boot-a", 7000, W0 - 3600000);
	assert_int_equal(l.state, CORRAL_BREAKER_OPEN);
	assert_int_equal(l.opened_at_ms, 1000);
	assert_int_equal(l.open_until_ms, 61000);
	assert_int_equal(corral_breaker_remaining_ms(&l, 7000), 54000);
	corral_breaker_free(&l);
	/* Stepped ahead an hour: still the same. */
	load_at(db, &l, "boot-a", 7000, W0 + 3600000);
	assert_int_equal(corral_breaker_remaining_ms(&l, 7000), 54000);
	assert_false(corral_breaker_tick(&l, 60999));
	assert_true(corral_breaker_tick(&l, 61000));
	corral_breaker_free(&l);
	corral_breaker_free(&b);
	statedb_close(db);
}

/*
 * Another boot: 56 s remained at the save; the wall-clock time since is
 * taken off, down to 0, and a wall clock gone back takes nothing off.
 */
static void
test_breaker_other_boot(void **state)
{
	struct fixture *f = *state;
	struct statedb *db = statedb_open(f->path, f->base);
	struct corral_breaker b, l;

	assert_non_null(db);
	save_open(db, &b, false);
	/* Rebooted, 10 s of wall-clock time later, 300 ms into the boot. */
	load_at(db, &l, "boot-b", 300, W0 + 10000);
	assert_int_equal(l.state, CORRAL_BREAKER_OPEN);
	assert_int_equal(corral_breaker_remaining_ms(&l, 300), 46000);
	assert_int_equal(l.open_until_ms, 46300);
	corral_breaker_free(&l);
	/* The wall clock went back an hour: not lengthened. */
	load_at(db, &l, "boot-b", 300, W0 - 3600000);
	assert_int_equal(corral_breaker_remaining_ms(&l, 300), 56000);
	corral_breaker_free(&l);
	/* An hour later: over, it half-opens at the first tick. */
	load_at(db, &l, "boot-b", 300, W0 + 3600000);
	assert_int_equal(corral_breaker_remaining_ms(&l, 300), 0);
	assert_true(corral_breaker_tick(&l, 300));
	corral_breaker_free(&l);
	/* A boot that cannot be told is another one. */
	load_at(db, &l, "", 9000, W0 + 1000);
	assert_int_equal(corral_breaker_remaining_ms(&l, 9000), 55000);
	corral_breaker_free(&l);
	/* So is a monotonic clock behind the save's. */
	load_at(db, &l, "boot-a", 4000, W0 + 1000);
	assert_int_equal(corral_breaker_remaining_ms(&l, 4000), 55000);
	corral_breaker_free(&l);
	corral_breaker_free(&b);
	statedb_close(db);
}

/* Reset required stays so, in any boot and at any time. */
static void
test_breaker_reset_required(void **state)
{
	struct fixture *f = *state;
	struct statedb *db = statedb_open(f->path, f->base);
	struct corral_breaker b, l;

	assert_non_null(db);
	save_open(db, &b, true);
	load_at(db, &l, "boot-a", 7000, W0 + 2000);
	assert_true(l.reset_required);
	assert_int_equal(l.open_until_ms, UINT64_MAX);
	corral_breaker_free(&l);
	load_at(db, &l, "boot-b", 300, W0 + INT64_C(3600000) * 24 * 365);
	assert_true(l.reset_required);
	assert_int_equal(l.state, CORRAL_BREAKER_OPEN);
	assert_false(corral_breaker_tick(&l, UINT64_MAX - 1));
	corral_breaker_free(&l);
	corral_breaker_free(&b);
	statedb_close(db);
}

/*
 * A row an older corrald wrote (wall-clock times only, no monotonic
 * columns) reads like one from another boot: what remained at its write,
 * less the wall-clock time since, never more.
 */
static void
test_breaker_old_row(void **state)
{
	struct fixture *f = *state;
	struct statedb *db;
	struct corral_breaker l;
	char *sql;

	exec_sql(f->path, "CREATE TABLE breakers (name TEXT PRIMARY KEY,"
	    "  state TEXT NOT NULL, failures INTEGER, reopenings INTEGER,"
	    "  trials INTEGER, opened_at_ms INTEGER, open_until_ms INTEGER,"
	    "  reset_required INTEGER, reason TEXT, time_ms INTEGER);");
	/* Opened 10 s before its write for 60 s: 50 s remained. */
	xasprintf(&sql, "INSERT INTO breakers VALUES ('x', 'OPEN', 1, 0, 0, "
	    "%lld, %lld, 0, 'failure threshold reached', %lld);"
	    "INSERT INTO breakers VALUES ('y', 'OPEN', 0, 0, 0, %lld, %lld, 1, "
	    "'fatal failure: reset required', %lld)",
	    (long long)(W0 - 10000), (long long)(W0 + 50000), (long long)W0,
	    (long long)W0, (long long)INT64_MAX, (long long)W0);
	exec_sql(f->path, sql);
	free(sql);
	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM "
	    "pragma_table_info('breakers') WHERE name IN ('boot_id', "
	    "'saved_mono_ms', 'opened_mono_ms', 'open_until_mono_ms')"), 4);
	assert_int_equal(query_int(f->path, "SELECT value FROM meta WHERE key "
	    "= 'schema'"), 3);
	load_at(db, &l, "boot-a", 800, W0 + 20000);
	assert_int_equal(l.state, CORRAL_BREAKER_OPEN);
	assert_int_equal(l.failures, 1);
	assert_int_equal(corral_breaker_remaining_ms(&l, 800), 30000);
	corral_breaker_free(&l);
	load_at(db, &l, "boot-a", 800, W0 - 3600000);
	assert_int_equal(corral_breaker_remaining_ms(&l, 800), 50000);
	corral_breaker_free(&l);
	{
		struct clocks now = { "boot-a", 800, W0 + 20000 };

		assert_int_equal(corral_breaker_init(&l, &policy), 0);
		assert_int_equal(statedb_load_breaker(db, "y", &l, &now), 1);
		assert_true(l.reset_required);
		assert_int_equal(l.open_until_ms, UINT64_MAX);
		corral_breaker_free(&l);
	}
	statedb_close(db);
}

/* The kind of a start, from the last daemon event and the boots. */
static void
test_start_kind_of(void **state)
{
	(void)state;
	assert_int_equal(start_kind_of(false, NULL, NULL, "b"), START_FIRST);
	assert_int_equal(start_kind_of(false, "stop", "b", "b"), START_CLEAN);
	assert_int_equal(start_kind_of(false, "start", "b", "b"),
	    START_UNPLANNED);
	assert_int_equal(start_kind_of(false, "reexec", "b", "b"),
	    START_UNPLANNED);
	assert_int_equal(start_kind_of(false, "start", "a", "b"),
	    START_REBOOT);
	assert_int_equal(start_kind_of(false, "stop", "a", "b"), START_REBOOT);
	/* A boot that cannot be told is taken as this one. */
	assert_int_equal(start_kind_of(false, "start", NULL, "b"),
	    START_UNPLANNED);
	assert_int_equal(start_kind_of(false, "start", "", "b"),
	    START_UNPLANNED);
	assert_int_equal(start_kind_of(false, "stop", "a", ""), START_CLEAN);
	assert_int_equal(start_kind_of(true, "start", "a", "b"),
	    START_REEXEC);
	assert_string_equal(start_kind_name(START_UNPLANNED), "unplanned");
}

static void
add_daemon(struct statedb *db, const char *what, pid_t pid)
{
	struct db_event e;

	memset(&e, 0, sizeof(e));
	e.kind = EV_DAEMON;
	e.instance = -1;
	e.pid = pid;
	e.code = e.sig = e.err = e.start_failure = -1;
	e.state = what;
	statedb_add(db, &e);
	assert_int_equal(statedb_flush(db), 0);
}

/* The database tells each kind of start, and keeps the boot id. */
static void
count_run(void *arg, const struct run_row *r)
{
	struct run_row *out = arg;

	out->instance++; /* the count */
	snprintf(out->agent, sizeof(out->agent), "%s", r->agent);
	out->pid = r->pid;
	out->start_ticks = r->start_ticks;
	out->stop_signal = r->stop_signal;
	out->stop_timeout_ms = r->stop_timeout_ms;
	assert_non_null(r->cgroup);
	assert_string_equal(r->cgroup, "/sys/fs/cgroup/x/a.1");
}

/*
 * Runs are recorded with the turn's events and forgotten at their reap; a
 * newer op for a row replaces one still queued (a run spawned and reaped
 * within one turn leaves nothing), so the queue is bounded by the rows.
 */
static void
test_runs_rows(void **state)
{
	struct fixture *f = *state;
	struct statedb *db = statedb_open(f->path, f->base);
	struct run_row r, got;
	int i;

	assert_non_null(db);
	for (i = 0; i < 100; i++) {
		memset(&r, 0, sizeof(r));
		snprintf(r.agent, sizeof(r.agent), "a");
		r.instance = 0;
		r.pid = r.pgid = 1000 + i;
		statedb_run_add(db, &r);
		statedb_run_del(db, "a", 0);
	}
	memset(&r, 0, sizeof(r));
	snprintf(r.agent, sizeof(r.agent), "a");
	r.instance = 1;
	r.pid = r.pgid = 4242;
	r.start_ticks = 77;
	r.cgroup = xstrdup("/sys/fs/cgroup/x/a.1");
	r.stop_signal = 2;
	r.stop_timeout_ms = 1500;
	statedb_run_add(db, &r);
	assert_null(r.cgroup); /* moved */
	assert_int_equal(statedb_flush(db), 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(statedb_load_runs(db, count_run, &got), 0);
	assert_int_equal(got.instance, 1);
	assert_int_equal(got.pid, 4242);
	assert_int_equal(got.start_ticks, 77);
	assert_int_equal(got.stop_signal, 2);
	assert_int_equal(got.stop_timeout_ms, 1500);
	statedb_run_del(db, "a", 1);
	statedb_close(db);
	db = statedb_open(f->path, f->base);
	memset(&got, 0, sizeof(got));
	assert_int_equal(statedb_load_runs(db, count_run, &got), 0);
	assert_int_equal(got.instance, 0);
	statedb_close(db);
}

static void
keep_worker(void *arg, const struct worker_row *w)
{
	struct worker_row *out = arg;

	*out = *w;
}

/* What a restart remembers of a worker reads back as it was written; a
 * row that cannot be read is skipped, not guessed. */
static void
test_workers_rows(void **state)
{
	struct fixture *f = *state;
	struct statedb *db = statedb_open(f->path, f->base);
	struct worker_row w, got;

	assert_non_null(db);
	memset(&w, 0, sizeof(w));
	snprintf(w.agent, sizeof(w.agent), "planner");
	w.instance = 2;
	w.state = W_FATAL;
	w.failures = 3;
	w.runs = 9;
	w.start_failures = 1;
	w.runtime_failures = 4;
	w.chain = 12;
	w.last_class = CORRAL_EXIT_FATAL;
	w.last_code = 64;
	w.exits[CORRAL_EXIT_CRASH] = 4;
	w.exits[CORRAL_EXIT_FATAL] = 1;
	snprintf(w.rs.poison, sizeof(w.rs.poison), "1ef-poison");
	w.rs.poison_count = 2;
	w.rs.steps = 1;
	w.rs.rolled = true;
	snprintf(w.rs.back, sizeof(w.rs.back), "1ef-back");
	statedb_worker_put(db, &w);
	statedb_close(db);
	db = statedb_open(f->path, f->base);
	memset(&got, 0, sizeof(got));
	assert_int_equal(statedb_load_workers(db, keep_worker, &got), 0);
	assert_string_equal(got.agent, "planner");
	assert_int_equal(got.instance, 2);
	assert_int_equal(got.state, W_FATAL);
	assert_int_equal(got.failures, 3);
	assert_int_equal(got.runs, 9);
	assert_int_equal(got.start_failures, 1);
	assert_int_equal(got.runtime_failures, 4);
	assert_int_equal(got.chain, 12);
	assert_int_equal(got.last_class, CORRAL_EXIT_FATAL);
	assert_int_equal(got.last_code, 64);
	assert_memory_equal(got.exits, w.exits, sizeof(w.exits));
	assert_string_equal(got.rs.poison, "1ef-poison");
	assert_int_equal(got.rs.poison_count, 2);
	assert_int_equal(got.rs.steps, 1);
	assert_true(got.rs.rolled);
	assert_string_equal(got.rs.back, "1ef-back");
	statedb_close(db);
	exec_sql(f->path, "UPDATE workers SET state = 'NONSENSE'");
	db = statedb_open(f->path, f->base);
	memset(&got, 0, sizeof(got));
	assert_int_equal(statedb_load_workers(db, keep_worker, &got), 0);
	assert_string_equal(got.agent, ""); /* skipped */
	statedb_close(db);
}

static void
test_start_kind(void **state)
{
	struct fixture *f = *state;
	struct statedb *db;
	pid_t prev = -1;
	int fd;

	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	assert_int_equal(statedb_start_kind(db, &prev), START_FIRST);
	assert_int_equal(prev, 0);
	add_daemon(db, "start", 101);
	add_daemon(db, "stop", 101);
	statedb_close(db);
	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	assert_int_equal(statedb_start_kind(db, &prev), START_CLEAN);
	assert_int_equal(prev, 101);
	add_daemon(db, "start", 102);
	statedb_close(db); /* died without its stop */
	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	assert_int_equal(statedb_start_kind(db, &prev), START_UNPLANNED);
	assert_int_equal(prev, 102);
	add_daemon(db, "start", 103);
	statedb_close(db);
	exec_sql(f->path, "UPDATE meta SET value = 'not-this-boot' WHERE key "
	    "= 'boot_id'");
	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	assert_int_equal(statedb_start_kind(db, NULL), START_REBOOT);
	/* This boot is kept now: the next start is in the same boot. */
	statedb_close(db);
	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	assert_int_equal(statedb_start_kind(db, NULL), START_UNPLANNED);
	statedb_close(db);
	/* Taking over a lock is a reexec's start. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	db = statedb_adopt(f->path, f->base, fd);
	assert_non_null(db);
	assert_int_equal(statedb_start_kind(db, NULL), START_REEXEC);
	statedb_close(db);
}

static void
test_unopenable(void **state)
{
	struct fixture *f = *state;
	char *path;

	xasprintf(&path, "%s/no/such/dir/state.db", f->dir);
	assert_null(statedb_open(path, f->base));
	free(path);
}

/* Pure: what each SQLite result means for the operator. */
static void
test_db_cond_of(void **state)
{
	(void)state;
	assert_int_equal(db_cond_of(SQLITE_OK), DBC_OK);
	assert_int_equal(db_cond_of(SQLITE_DONE), DBC_OK);
	assert_int_equal(db_cond_of(SQLITE_BUSY), DBC_LOCKED);
	assert_int_equal(db_cond_of(SQLITE_BUSY_SNAPSHOT), DBC_LOCKED);
	assert_int_equal(db_cond_of(SQLITE_FULL), DBC_FULL);
	assert_int_equal(db_cond_of(SQLITE_READONLY_DBMOVED), DBC_READONLY);
	assert_int_equal(db_cond_of(SQLITE_IOERR_WRITE), DBC_IOERR);
	assert_int_equal(db_cond_of(SQLITE_CORRUPT), DBC_CORRUPT);
	assert_int_equal(db_cond_of(SQLITE_NOTADB), DBC_CORRUPT);
	assert_int_equal(db_cond_of(SQLITE_CANTOPEN), DBC_UNAVAILABLE);
	assert_int_equal(db_cond_of(SQLITE_CONSTRAINT), DBC_ERROR);
	assert_string_equal(db_cond_name(DBC_FULL), "full");
	assert_string_equal(db_cond_name(DBC_READONLY), "read-only");
}

/* Pure: which of the oldest events retention lets go. */
static void
test_prune_cut(void **state)
{
	int64_t id[6] = { 1, 2, 3, 4, 5, 6 };
	int64_t t[6] = { 10, 20, 30, 40, 50, 60 };

	(void)state;
	/* By count: keep 3 below max 10, so ids up to 7 may go (all 6). */
	assert_int_equal(prune_cut(id, t, 6, 10, 3, 0, 0), 6);
	/* Keep 6: ids up to 4. */
	assert_int_equal(prune_cut(id, t, 6, 10, 6, 0, 0), 4);
	/* By age: before 35, ids 1 to 3; no count limit. */
	assert_int_equal(prune_cut(id, t, 6, 10, 0, 35, 0), 3);
	/* Either one is enough. */
	assert_int_equal(prune_cut(id, t, 6, 10, 6, 55, 0), 5);
	/* The spare neither goes nor stops the others. */
	assert_int_equal(prune_cut(id, t, 6, 10, 0, 35, 2), 3);
	assert_int_equal(prune_cut(id, t, 6, 10, 0, 35, 3), 2);
	/* Nothing old enough, no limits, nothing at all. */
	assert_int_equal(prune_cut(id, t, 6, 10, 0, 5, 0), 0);
	assert_int_equal(prune_cut(id, t, 6, 10, 0, 0, 0), 0);
	assert_int_equal(prune_cut(id, t, 0, 0, 3, 100, 0), 0);
}

/* Pure, with a fake clock: when the next step of pruning is due. */
static void
test_prune_next(void **state)
{
	int64_t id[4] = { 1, 2, 3, 4 };
	int64_t t[4] = { 1000, 2000, 3000, 4000 };

	(void)state;
	/* A whole step went: the next soon, whatever the ages. */
	assert_int_equal(prune_next(id, t, 4, 4, 4, 0, 0, 9000, 20), 20);
	assert_int_equal(prune_next(id, t, 4, 4, 3, 4, 500, 9000, 20), 20);
	/* No age limit: nothing until events are written. */
	assert_int_equal(prune_next(id, t, 4, 5, 2, 0, 0, 9000, 20), -1);
	/* Id 3 kept: due once 3000 + 5000 is past, at 8001. */
	assert_int_equal(prune_next(id, t, 4, 5, 2, 0, 5000, 6000, 20), 2001);
	/* Nothing cut: the oldest; the spare is not waited for. */
	assert_int_equal(prune_next(id, t, 4, 5, 0, 0, 5000, 5000, 20), 1001);
	assert_int_equal(prune_next(id, t, 4, 5, 0, 1, 5000, 5000, 20), 2001);
	/* Past due already (the wall clock moved): soon, not at once. */
	assert_int_equal(prune_next(id, t, 4, 5, 0, 0, 100, 9000, 20), 20);
	/* All gone but the spare, or none at all: nothing to wait for. */
	assert_int_equal(prune_next(id, t, 4, 5, 3, 4, 5000, 6000, 20), -1);
	assert_int_equal(prune_next(id, t, 0, 5, 0, 0, 5000, 6000, 20), -1);
}

/*
 * An idle corrald has no prune timer: after the step that follows the
 * start, with nothing to cut and no age limit, none is armed; events
 * written arm one again, within a minute.
 */
static void
test_prune_idle(void **state)
{
	struct fixture *f = *state;
	struct statedb *db = statedb_open(f->path, f->base);
	uint64_t due;
	int i;

	assert_non_null(db);
	assert_int_equal(statedb_prune_due(db), 0); /* no retention */
	statedb_set_retention(db, 0, 100);
	due = statedb_prune_due(db);
	assert_true(due > 0 && due <= now_mono_ms() + 5000);
	for (i = 0; i < 50; i++)
		add_exit(db, i);
	/* The commit does not put off the step that is due sooner. */
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE |
	    EVLOOP_NONBLOCK), 0);
	assert_int_equal(count_rows(f->path, "1"), 50);
	assert_int_equal(statedb_prune_due(db), due);
	/* The step: nothing to cut, nothing to wait for. */
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	assert_int_equal(statedb_prune_due(db), 0);
	assert_int_equal(count_rows(f->path, "1"), 50);
	add_exit(db, 50);
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE |
	    EVLOOP_NONBLOCK), 0);
	due = statedb_prune_due(db);
	assert_true(due > 0 && due <= now_mono_ms() + 60000);
	statedb_set_retention(db, 0, 0);
	assert_int_equal(statedb_prune_due(db), 0);
	statedb_close(db);
}

static void
collect_json(void *arg, const char *json)
{
	int *n = arg;

	(void)json;
	(*n)++;
}

static void
count_held(void *arg, const char *agent, unsigned instance)
{
	int *n = arg;

	if (strcmp(agent, "kept") == 0 && instance == 3)
		(*n)++;
}

/*
 * Locked by another writer at the start: the database opens all the
 * same, reads what the file holds, answers reads with what is queued, and
 * writes it all once the lock goes.
 */
static void
test_locked_at_start(void **state)
{
	struct fixture *f = *state;
	struct statedb *db;
	struct statedb_health h;
	sqlite3 *other;
	int i, n = 0;

	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	statedb_set_held(db, "kept", 3, true);
	statedb_close(db);
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	statedb_health(db, &h);
	assert_int_equal(h.cond, DBC_LOCKED);
	assert_false(h.memory);
	/* What the file holds is read. */
	assert_int_equal(statedb_load_held(db, count_held, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	for (i = 0; i < 30; i++)
		add_exit(db, i);
	assert_int_equal(statedb_recent(db, "a", -1, 100, collect_json, &n),
	    0);
	assert_int_equal(n, 30);
	/* The dashboard's read: after an id, from the queue (ids 1 to 30). */
	n = 0;
	assert_int_equal(statedb_recent_after(db, 25, 100, collect_json, &n),
	    0);
	assert_int_equal(n, 5);
	n = 0;
	assert_int_equal(statedb_recent_after(db, 25, 2, collect_json, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	statedb_health(db, &h);
	assert_int_equal(h.cond, DBC_OK);
	assert_int_equal(h.queued, 0);
	/* And from the file, written now. */
	n = 0;
	assert_int_equal(statedb_recent_after(db, 25, 100, collect_json, &n),
	    0);
	assert_int_equal(n, 5);
	n = 0;
	assert_int_equal(statedb_recent_after(db, 0, 100, collect_json, &n), 0);
	assert_int_equal(n, 30);
	n = 0;
	assert_int_equal(statedb_recent_after(db, 30, 100, collect_json, &n),
	    0);
	assert_int_equal(n, 0);
	statedb_close(db);
	assert_int_equal(count_rows(f->path, "kind='exit'"), 30);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM held WHERE "
	    "agent='kept' AND instance=3"), 1);
}

/*
 * A path that cannot be a database (a directory): an in-memory stand-in
 * answers, the start counts as unplanned (nothing tells otherwise), and
 * events are written once the path can hold a file, after those the
 * stand-in numbered.
 */
static void
test_unreadable_then_writable(void **state)
{
	struct fixture *f = *state;
	struct statedb *db;
	struct statedb_health h;
	int i;

	assert_int_equal(mkdir(f->path, 0700), 0);
	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	statedb_health(db, &h);
	assert_int_equal(h.cond, DBC_UNAVAILABLE);
	assert_true(h.memory);
	assert_int_equal(statedb_start_kind(db, NULL), START_UNPLANNED);
	for (i = 0; i < 10; i++)
		add_exit(db, i);
	assert_int_equal(statedb_flush(db), -1);
	assert_int_equal(rmdir(f->path), 0);
	assert_int_equal(statedb_flush(db), 0);
	statedb_health(db, &h);
	assert_int_equal(h.cond, DBC_OK);
	statedb_close(db);
	assert_int_equal(count_rows(f->path, "kind='exit'"), 10);
}

/* A full queue drops new events and counts them; memory stays bounded. */
static void
test_queue_bounded(void **state)
{
	struct fixture *f = *state;
	struct statedb *db;
	struct statedb_health h;
	sqlite3 *other;
	int i;

	db = statedb_open(f->path, f->base);
	assert_non_null(db);
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	for (i = 0; i < STATEDB_QUEUE_MAX + 25; i++)
		add_exit(db, i);
	statedb_health(db, &h);
	assert_int_equal(h.queued, STATEDB_QUEUE_MAX);
	assert_int_equal(h.dropped, 25);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	statedb_close(db);
	assert_int_equal(count_rows(f->path, "kind='exit'"), STATEDB_QUEUE_MAX);
}

/*
 * A mass restart while another writer holds the database: over 200,000
 * row ops of 10,000 workers (a run added, the worker's row, held or not,
 * the run forgotten or not, five times over) in one turn leave one op per
 * (table, agent, instance), the newest, written in the order each key was
 * first queued once the lock goes.
 */
#define MASS_KEYS 10000
#define MASS_ROUNDS 6
static void
test_rows_queued_by_key(void **state)
{
	struct fixture *f = *state;
	struct statedb *db = statedb_open(f->path, f->base);
	struct statedb_health h;
	struct worker_row w;
	struct run_row r;
	sqlite3 *other;
	long ops = 0, runs = 0, held = 0;
	size_t before;
	int k, round;

	assert_non_null(db);
	statedb_health(db, &h);
	before = h.rows_queued; /* what the open queued (meta) */
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	for (round = 0; round < MASS_ROUNDS; round++)
		for (k = 0; k < MASS_KEYS; k++) {
			memset(&r, 0, sizeof(r));
			snprintf(r.agent, sizeof(r.agent), "a%d", k / 100);
			r.instance = (unsigned)(k % 100);
			r.pid = r.pgid = round * 100000 + k;
			statedb_run_add(db, &r);
			memset(&w, 0, sizeof(w));
			snprintf(w.agent, sizeof(w.agent), "a%d", k / 100);
			w.instance = (unsigned)(k % 100);
			w.state = W_RUNNING;
			w.runs = (unsigned)round;
			statedb_worker_put(db, &w);
			statedb_set_held(db, r.agent, r.instance,
			    (round + k) % 3 != 0);
			ops += 3;
			if ((round + k) % 2 == 1) {
				statedb_run_del(db, r.agent, r.instance);
				ops++;
			}
		}
	for (k = 0; k < MASS_KEYS; k++) {
		runs += (MASS_ROUNDS - 1 + k) % 2 == 0;
		held += (MASS_ROUNDS - 1 + k) % 3 != 0;
	}
	assert_true(ops > 200000);
	/* The flush waits its busy timeout, fails and arms its retry. */
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	statedb_health(db, &h);
	assert_int_equal(h.cond, DBC_LOCKED);
	assert_int_equal(h.rows_queued, before + 3 * MASS_KEYS);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	statedb_health(db, &h);
	assert_int_equal(h.cond, DBC_OK);
	assert_int_equal(h.rows_queued, 0);
	statedb_close(db);
	/* The newest op of each key, and only it. */
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM workers"),
	    MASS_KEYS);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM workers "
	    "WHERE runs = 5"), MASS_KEYS);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM runs"),
	    runs);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM runs WHERE "
	    "pid = 500000 + CAST(substr(agent, 2) AS INTEGER) * 100 + "
	    "instance AND (5 + pid) % 2 = 0"), runs);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM held"),
	    held);
	/* In the order first queued: a replaced op kept its place. */
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM workers "
	    "WHERE rowid = CAST(substr(agent, 2) AS INTEGER) * 100 + "
	    "instance + 1"), MASS_KEYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_transaction_per_turn,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_lost_while_locked,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_ids_persist, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_previous_schema, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unopenable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_breaker_same_boot, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_breaker_other_boot, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_breaker_reset_required,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_breaker_old_row, setup,
		    teardown),
		cmocka_unit_test(test_start_kind_of),
		cmocka_unit_test_setup_teardown(test_runs_rows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_workers_rows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_start_kind, setup,
		    teardown),
		cmocka_unit_test(test_db_cond_of),
		cmocka_unit_test(test_prune_cut),
		cmocka_unit_test(test_prune_next),
		cmocka_unit_test_setup_teardown(test_prune_idle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_locked_at_start, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_then_writable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bounded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rows_queued_by_key, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
