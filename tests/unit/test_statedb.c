/*
 * test_statedb.c: the state database writes a loop turn's events in one
 * transaction, keeps them queued while it cannot write and loses none, and
 * lets only one corrald hold a database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	size_t queued;
	int i;

	assert_non_null(db);
	for (i = 0; i < 1000; i++)
		add_exit(db, i);
	statedb_stats(db, &commits, &written, &queued);
	assert_int_equal(commits, 0);
	assert_int_equal(queued, 1000);
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
	    0);
	statedb_stats(db, &commits, &written, &queued);
	assert_int_equal(commits, 1);
	assert_int_equal(written, 1000);
	assert_int_equal(queued, 0);
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
	size_t queued;
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
	statedb_stats(db, &commits, &written, &queued);
	assert_int_equal(commits, 0);
	assert_int_equal(queued, 50);
	for (i = 50; i < 80; i++)
		add_exit(db, i);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	/* The retry timer fires and writes all of them at once. */
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	statedb_stats(db, &commits, &written, &queued);
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

static void
test_unopenable(void **state)
{
	struct fixture *f = *state;
	char *path;

	xasprintf(&path, "%s/no/such/dir/state.db", f->dir);
	assert_null(statedb_open(path, f->base));
	free(path);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
