/*
 * test_worker_api.c: the worker's side (worker-sdk/worker_api.c): alone
 * (memory, or a database of its own) and as corrald would start it (the
 * environment, NOTIFY_SOCKET): resume, checkpoint chains and their parents,
 * the message of each notify call as corrald would receive it, the stop
 * signal, and checkpoint_due on a fake clock.  CORRAL_LEASE_TOKEN's
 * parsing, and against PostgreSQL (CORRAL_TEST_PG, a connection string to
 * a test server; tests/run.sh starts one) a fenced checkpoint.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "corral.h"

static char dir[64];

static uint64_t fake_ms;

static uint64_t
fake_now(void *arg)
{
	(void)arg;
	return fake_ms;
}

static const struct corral_clock fake = { fake_now, NULL, NULL, NULL };

static void
clear_env(void)
{
	static const char *vars[] = { "CORRAL_AGENT", "CORRAL_THREAD_ID",
		"CORRAL_CHECKPOINT_DB", "CORRAL_RESUME_ID",
		"CORRAL_CHECKPOINT_INTERVAL_MS", "CORRAL_STOP_SIGNAL",
		"CORRAL_LEASE_TOKEN", "NOTIFY_SOCKET" };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/corral-wapi.XXXXXX");
	assert_non_null(mkdtemp(dir));
	clear_env();
	fake_ms = 1000;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	clear_env();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct corral_worker *
worker(const char *db)
{
	struct corral_worker_opts o;
	struct corral_worker *w;
	const char *why;

	memset(&o, 0, sizeof(o));
	o.checkpoint_db = db;
	o.clock = &fake;
	o.no_signals = true;
	assert_int_equal(corral_worker_init(&o, &w, &why), 0);
	return w;
}

static void
test_alone_in_memory(void **state)
{
	struct corral_worker *w = worker(NULL);
	const struct corral_tuple *t;
	char id1[CORRAL_KEY_MAX + 1], id2[CORRAL_KEY_MAX + 1];

	(void)state;
	assert_false(corral_worker_supervised(w));
	assert_string_equal(corral_worker_thread_id(w), "local");
	assert_int_equal(corral_worker_resume(w, &t), CORRAL_NOTFOUND);
	assert_null(t);
	/* The notify calls say nothing to nobody, and succeed. */
	assert_int_equal(corral_worker_ready(w), 0);
	assert_int_equal(corral_worker_heartbeat(w), 0);
	assert_int_equal(corral_worker_checkpoint(w, "a", 1, NULL, id1,
	    sizeof(id1)), 0);
	assert_int_equal(corral_worker_checkpoint(w, "bb", 2, NULL, id2,
	    sizeof(id2)), 0);
	assert_true(strcmp(id1, id2) < 0);
	assert_int_equal(corral_worker_resume(w, &t), 0);
	assert_string_equal(t->checkpoint_id, id2);
	assert_string_equal(t->parent_id, id1);
	assert_int_equal(t->len, 2);
	assert_memory_equal(t->data, "bb", 2);
	assert_string_equal(t->metadata, "{\"source\":\"loop\",\"step\":2}");
	corral_worker_free(w);
}

/* A second life on the same database continues the chain. */
static void
test_resume_from_database(void **state)
{
	char db[128], id[CORRAL_KEY_MAX + 1], last[CORRAL_KEY_MAX + 1];
	struct corral_worker *w;
	const struct corral_tuple *t;
	int i;

	(void)state;
	snprintf(db, sizeof(db), "%s/ck.db", dir);
	setenv("CORRAL_THREAD_ID", "agent/0", 1);
	w = worker(db);
	assert_string_equal(corral_worker_thread_id(w), "agent/0");
	for (i = 0; i < 5; i++)
		assert_int_equal(corral_worker_checkpoint(w, &i, sizeof(i),
		    NULL, last, sizeof(last)), 0);
	corral_worker_free(w);

	w = worker(db);
	assert_int_equal(corral_worker_resume(w, &t), 0);
	assert_string_equal(t->checkpoint_id, last);
	/* Bytes as stored: no promise of alignment. */
	assert_int_equal(t->len, sizeof(i));
	memcpy(&i, t->data, sizeof(i));
	assert_int_equal(i, 4);
	assert_int_equal(corral_worker_checkpoint(w, "x", 1, "{\"k\":1}", id,
	    sizeof(id)), 0);
	corral_worker_free(w);

	w = worker(db);
	assert_int_equal(corral_worker_resume(w, &t), 0);
	assert_string_equal(t->checkpoint_id, id);
	assert_string_equal(t->parent_id, last);
	assert_string_equal(t->metadata, "{\"k\":1}");
	/* Without metadata, the step continues from the one resumed. */
	assert_int_equal(corral_worker_checkpoint(w, "y", 1, NULL, id,
	    sizeof(id)), 0);
	corral_worker_free(w);
	w = worker(db);
	assert_int_equal(corral_worker_resume(w, &t), 0);
	assert_string_equal(t->metadata, "{\"source\":\"loop\",\"step\":1}");
	corral_worker_free(w);
}

/* corrald's choice wins; an empty one means start afresh. */
static void
test_resume_id_from_corrald(void **state)
{
	char db[128], first[CORRAL_KEY_MAX + 1], id[CORRAL_KEY_MAX + 1];
	struct corral_worker *w;
	const struct corral_tuple *t;

	(void)state;
	snprintf(db, sizeof(db), "%s/ck.db", dir);
	w = worker(db);
	assert_int_equal(corral_worker_checkpoint(w, "1", 1, NULL, first,
	    sizeof(first)), 0);
	assert_int_equal(corral_worker_checkpoint(w, "2", 1, NULL, id,
	    sizeof(id)), 0);
	corral_worker_free(w);

	setenv("CORRAL_RESUME_ID", first, 1);
	w = worker(db);
	assert_int_equal(corral_worker_resume(w, &t), 0);
	assert_string_equal(t->checkpoint_id, first);
	/* The next checkpoint hangs off the one resumed: a rollback's fork. */
	assert_int_equal(corral_worker_checkpoint(w, "3", 1, NULL, id,
	    sizeof(id)), 0);
	corral_worker_free(w);
	setenv("CORRAL_RESUME_ID", id, 1);
	w = worker(db);
	assert_int_equal(corral_worker_resume(w, &t), 0);
	assert_string_equal(t->parent_id, first);
	corral_worker_free(w);

	setenv("CORRAL_RESUME_ID", "", 1);
	w = worker(db);
	assert_int_equal(corral_worker_resume(w, &t), CORRAL_NOTFOUND);
	corral_worker_free(w);

	/* Gone since corrald looked: the latest good one. */
	setenv("CORRAL_RESUME_ID", "no-such-id", 1);
	w = worker(db);
	assert_int_equal(corral_worker_resume(w, &t), 0);
	assert_string_equal(t->checkpoint_id, id);
	corral_worker_free(w);
}

static int
bind_notify(char *path, size_t len)
{
	struct sockaddr_un a;
	int fd;

	snprintf(path, len, "%s/notify.sock", dir);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void
expect_msg(int fd, const char *want)
{
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_notify_messages(void **state)
{
	char path[100];
	struct corral_worker *w;
	int fd;

	(void)state;
	fd = bind_notify(path, sizeof(path));
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("CORRAL_AGENT", "a", 1);
	w = worker(NULL);
	assert_true(corral_worker_supervised(w));
	assert_int_equal(corral_worker_ready(w), 0);
	expect_msg(fd, "READY=1");
	assert_int_equal(corral_worker_heartbeat(w), 0);
	expect_msg(fd, "WATCHDOG=1");
	assert_int_equal(corral_worker_status(w, "step 3\nof 9"), 0);
	expect_msg(fd, "STATUS=step 3");
	assert_int_equal(corral_worker_report_error(w, CORRAL_SEV_CRITICAL,
	    false, "E42", "key \"k\" missing\n"), 0);
	expect_msg(fd, "CORRAL_ERROR={\"severity\":\"critical\","
	    "\"recoverable\":false,\"code\":\"E42\",\"message\":"
	    "\"key \\\"k\\\" missing\\u000a\"}");
	assert_int_equal(corral_worker_report_error(w, CORRAL_SEV_WARNING,
	    true, NULL, "slow"), 0);
	expect_msg(fd, "CORRAL_ERROR={\"severity\":\"warning\","
	    "\"recoverable\":true,\"code\":\"\",\"message\":\"slow\"}");
	assert_int_equal(corral_worker_report_error(w, 9, true, "", ""),
	    CORRAL_EINVAL);
	corral_worker_free(w);
	close(fd);
}

/* Nothing waits on the socket. */
static void
expect_none(int fd)
{
	char buf[64];

	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
}

/*
 * The database deleted under the worker: its checkpoint fails with
 * CORRAL_EMOVED, and corrald is told once (CORRAL_STORAGE=moved: ...
 * naming the path), not at every call.  Then a database that is no
 * database: the open fails, told as damaged.
 */
static void
test_storage_told(void **state)
{
	char path[100], db[128], want[512];
	struct corral_worker_opts o;
	struct corral_worker *w;
	const char *why;
	FILE *fp;
	int fd;

	(void)state;
	fd = bind_notify(path, sizeof(path));
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("CORRAL_AGENT", "a", 1);
	snprintf(db, sizeof(db), "%s/ck.db", dir);
	w = worker(db);
	assert_int_equal(corral_worker_checkpoint(w, "1", 1, NULL, NULL, 0), 0);
	expect_none(fd);
	assert_int_equal(unlink(db), 0);
	assert_int_equal(corral_worker_checkpoint(w, "2", 1, NULL, NULL, 0),
	    CORRAL_EMOVED);
	snprintf(want, sizeof(want), "CORRAL_STORAGE=moved: checkpoint "
	    "database %s was deleted since it was opened; writes to it would "
	    "be lost", db);
	expect_msg(fd, want);
	assert_int_equal(corral_worker_checkpoint(w, "3", 1, NULL, NULL, 0),
	    CORRAL_EMOVED);
	expect_none(fd);
	assert_int_equal(corral_exit_status(CORRAL_EMOVED), CORRAL_EX_IOERR);
	/* Not a storage error: not told. */
	assert_int_equal(corral_worker_storage_error(w, CORRAL_EBUSY), 0);
	expect_none(fd);
	corral_worker_free(w);

	/* The WAL of the deleted file is still there: its pages would do. */
	snprintf(want, sizeof(want), "%s-wal", db);
	unlink(want);
	snprintf(want, sizeof(want), "%s-shm", db);
	unlink(want);
	assert_non_null(fp = fopen(db, "w"));
	fputs("this is not a database, not at all; long enough to be read "
	    "as a header by SQLite, which wants one hundred bytes of it", fp);
	fclose(fp);
	memset(&o, 0, sizeof(o));
	o.checkpoint_db = db;
	o.no_signals = true;
	assert_int_equal(corral_worker_init(&o, &w, &why), CORRAL_EDAMAGED);
	snprintf(want, sizeof(want), "CORRAL_STORAGE=damaged: checkpoint "
	    "database %s: %s", db, why);
	expect_msg(fd, want);
	close(fd);
}

static void
test_checkpoint_due(void **state)
{
	struct corral_worker *w;

	(void)state;
	setenv("CORRAL_CHECKPOINT_INTERVAL_MS", "5000", 1);
	w = worker(NULL);
	assert_false(corral_worker_checkpoint_due(w));
	fake_ms += 4999;
	assert_false(corral_worker_checkpoint_due(w));
	fake_ms += 1;
	assert_true(corral_worker_checkpoint_due(w));
	assert_int_equal(corral_worker_checkpoint(w, "", 0, NULL, NULL, 0), 0);
	assert_false(corral_worker_checkpoint_due(w));
	corral_worker_free(w);
}

static void
test_stop_signal(void **state)
{
	struct corral_worker_opts o;
	struct corral_worker *w;
	const char *why;

	(void)state;
	memset(&o, 0, sizeof(o));
	setenv("CORRAL_STOP_SIGNAL", "10", 1); /* SIGUSR1 */
	assert_int_equal(corral_worker_init(&o, &w, &why), 0);
	assert_false(corral_worker_stopping(w));
	raise(SIGUSR1);
	assert_true(corral_worker_stopping(w));
	corral_worker_free(w);
	signal(SIGUSR1, SIG_DFL);
}

static void
test_bad_database(void **state)
{
	struct corral_worker_opts o;
	struct corral_worker *w;
	const char *why = NULL;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.checkpoint_db = "/nonexistent-dir/x/ck.db";
	o.no_signals = true;
	assert_true(corral_worker_init(&o, &w, &why) < 0);
	assert_null(w);
	assert_non_null(why);
}

/*
 * CORRAL_LEASE_TOKEN is a positive decimal int64 or an error that names
 * it: never ignored, since an unfenced worker could write over the node
 * that took its thread.  On SQLite the fence is a no-op.
 */
static void
test_lease_token(void **state)
{
	static const char *bad[] = { "abc", "0", "-3", "+3", " 5", "12x",
		"9223372036854775808", "0x10" };
	struct corral_worker_opts o;
	struct corral_worker *w;
	const char *why;
	char db[128];
	size_t i;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.no_signals = true;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("CORRAL_LEASE_TOKEN", bad[i], 1);
		why = NULL;
		assert_int_equal(corral_worker_init(&o, &w, &why),
		    CORRAL_EINVAL);
		assert_null(w);
		assert_non_null(strstr(why, "CORRAL_LEASE_TOKEN"));
	}
	snprintf(db, sizeof(db), "%s/ck.db", dir);
	setenv("CORRAL_LEASE_TOKEN", "9223372036854775807", 1);
	w = worker(db);
	assert_int_equal(corral_worker_checkpoint(w, "1", 1, NULL, NULL, 0), 0);
	corral_worker_free(w);
	setenv("CORRAL_LEASE_TOKEN", "", 1); /* empty: unset */
	w = worker(db);
	corral_worker_free(w);
}

/* The database as messages show it: never a password. */
static void
test_where_shown(void **state)
{
	char buf[256], small[12];

	(void)state;
	assert_string_equal(corral_where_shown("/srv/ck.db", buf,
	    sizeof(buf)), "/srv/ck.db");
	assert_string_equal(corral_where_shown(
	    "postgresql://corral:s3cret@db.example:5432/ck?sslmode=require&"
	    "password=again", buf, sizeof(buf)),
	    "postgresql://corral:***@db.example:5432/ck?sslmode=require&"
	    "password=***");
	assert_string_equal(corral_where_shown("postgres://corral@db/ck",
	    buf, sizeof(buf)), "postgres://corral@db/ck");
	assert_string_equal(corral_where_shown("postgres://u:p@[::1]:5432",
	    buf, sizeof(buf)), "postgres://u:***@[::1]:5432");
	assert_string_equal(corral_where_shown(
	    "host=/run/pg dbname=ck password = 'it\\'s \\\\ a secret' "
	    "user=me", buf, sizeof(buf)),
	    "host=/run/pg dbname=ck password = *** user=me");
	assert_string_equal(corral_where_shown("dbname=ck password=x\\ y",
	    buf, sizeof(buf)), "dbname=ck password=***");
	assert_string_equal(corral_where_shown("/a/long/path/ck.db", small,
	    sizeof(small)), "/a/long/pat");
}

/*
 * Against PostgreSQL: a worker whose CORRAL_LEASE_TOKEN is not its
 * thread's lease (here no lease at all: nobody took one for this fresh
 * thread) writes nothing: its checkpoint fails with CORRAL_EFENCED, exit
 * status 75, and corrald is told once, by a report that changes no class.
 */
static void
test_fenced_checkpoint(void **state)
{
	const char *pg = getenv("CORRAL_TEST_PG");
	char path[100], thread[96], want[512];
	struct corral_worker *w;
	const struct corral_tuple *t;
	int fd;

	(void)state;
	/* As test_store's: run.sh counts a server that did not start. */
	if (pg == NULL || *pg == '\0')
		skip();
	fd = bind_notify(path, sizeof(path));
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("CORRAL_AGENT", "a", 1);
	/* The test directory's name is unique: so is the thread. */
	snprintf(thread, sizeof(thread), "fenced%s", strrchr(dir, '.'));
	setenv("CORRAL_THREAD_ID", thread, 1);
	setenv("CORRAL_LEASE_TOKEN", "41", 1);
	w = worker(pg);
	assert_int_equal(corral_worker_checkpoint(w, "1", 1, NULL, NULL, 0),
	    CORRAL_EFENCED);
	assert_int_equal(corral_exit_status(CORRAL_EFENCED), 75);
	snprintf(want, sizeof(want), "CORRAL_ERROR={\"severity\":\"warning\","
	    "\"recoverable\":true,\"code\":\"CORRAL_EFENCED\",\"message\":"
	    "\"lease token 41 of thread %s is no longer the thread's lease: "
	    "nothing written\"}", thread);
	expect_msg(fd, want);
	assert_int_equal(corral_worker_checkpoint(w, "2", 1, NULL, NULL, 0),
	    CORRAL_EFENCED);
	expect_none(fd);
	assert_int_equal(corral_worker_resume(w, &t), CORRAL_NOTFOUND);
	corral_worker_free(w);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alone_in_memory, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resume_from_database,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_id_from_corrald,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_messages, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_storage_told, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_due, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stop_signal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_database, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lease_token, setup,
		    teardown),
		cmocka_unit_test(test_where_shown),
		cmocka_unit_test_setup_teardown(test_fenced_checkpoint, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
