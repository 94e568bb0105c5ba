/*
 * bench_store.c: the checkpoint store's throughput, as operations per
 * second, each beside a baseline measured in the same run: raw SQLite
 * with prepared statements doing the equivalent INSERT or SELECT on the
 * same schema, so the ratio shows what the store adds.  Figures are
 * printed, not asserted: this machine is shared and noisy.
 *
 * usage: bench_store [DIR]  (a scratch directory; default /tmp)
 *
 * With $BENCH_FIGURES set, the figures of results.json are also written
 * there, one "KEY VALUE" a line, for bench_spawn to merge.
 *
 * Then the same put and get_tuple against PostgreSQL over TCP on
 * 127.0.0.1, a server of its own (tests/pg/pg.sh with a port, or
 * $BENCH_PG_SERVER) in DIR/pg, stopped at the end: beside SQLite's
 * figures of this run, with the ratio.  Without initdb it says so and
 * measures the rest.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "corral.h"

/* A write of an array of them. */
#define WR(ch, ty, v, n) \
	{ .channel = (ch), .type = (ty), .value = (v), .len = (n) }

#define KIB 1024
#define NPROC 8

static char data[KIB];
static const char *meta = "{\"source\":\"loop\",\"step\":1,\"parents\":{}}";
static char dir[256];
static FILE *figures;
/* SQLite's figures of this run, which PostgreSQL's are put beside. */
static double sq_put_normal, sq_put_full, sq_get;

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, why);
	exit(1);
}

static void
path(char *buf, size_t len, const char *name)
{
	char cmd[600];

	snprintf(buf, len, "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "rm -f '%s' '%s-wal' '%s-shm'", buf, buf,
	    buf);
	if (system(cmd) != 0)
		die("rm", buf);
}

/* The scratch databases are large: none is left behind. */
static void
cleanup(void)
{
	static const char *const names[] = { "put.db", "put-raw.db",
		"put-full.db", "put-full-raw.db", "read.db", "conc.db",
		"conc-raw.db", "chan.db" };
	char p[512];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		path(p, sizeof(p), names[i]);
}

static void
report(const char *what, double ops, double base)
{
	printf("%-34s %10.0f/s   raw SQLite %10.0f/s   ratio %.2f\n", what,
	    ops, base, base > 0 ? ops / base : 0);
}

static void
figure(const char *key, double v)
{
	if (figures == NULL)
		return;
	/* Flushed at once: the forked writers must not inherit a buffer. */
	fprintf(figures, "%s %.0f\n", key, v);
	fflush(figures);
}

/* A ratio, to the hundredth. */
static void
figure_ratio(const char *key, double v, double base)
{
	if (figures == NULL || base <= 0)
		return;
	fprintf(figures, "%s %.2f\n", key, v / base);
	fflush(figures);
}

static struct corral_store *
open_store(const char *name, enum corral_durability d)
{
	struct corral_store *s;
	char p[512];
	const char *why;

	path(p, sizeof(p), name);
	if (corral_store_open_sqlite(p, d, &s, &why) != CORRAL_OK)
		die(p, why);
	return s;
}

static double
store_puts(struct corral_store *s, const char *thread, int n, bool writes)
{
	struct corral_ref r = { thread, "", NULL }, wr = { thread, "", NULL };
	struct corral_checkpoint cp = { .type = "bytes", .data = data,
		.len = KIB, .metadata = meta };
	struct corral_write w[2] = {
		WR("messages", "json", "[\"hello\"]", 9),
		WR("step", "json", "1", 1),
	};
	char id[CORRAL_ID_LEN];
	double t0 = now_s();
	int i;

	for (i = 0; i < n; i++) {
		if (corral_put(s, &r, &cp, id, sizeof(id)) != CORRAL_OK)
			die("put", corral_store_errmsg(s));
		wr.checkpoint_id = id;
		if (writes && corral_put_writes(s, &wr, "task-1", w, 2) !=
		    CORRAL_OK)
			die("put_writes", corral_store_errmsg(s));
	}
	return n / (now_s() - t0);
}

/* Raw SQLite: LangGraph's schema, one prepared INSERT per checkpoint. */
static sqlite3 *
raw_open(const char *name, const char *sync, bool fresh)
{
	sqlite3 *db;
	char p[512], q[256];

	if (fresh)
		path(p, sizeof(p), name);
	else
		snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (sqlite3_open(p, &db) != SQLITE_OK)
		die(p, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 10000);
	snprintf(q, sizeof(q), "PRAGMA journal_mode=WAL;"
	    " PRAGMA synchronous=%s;", sync);
	if (sqlite3_exec(db, q, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS checkpoints ("
	    " thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '',"
	    " checkpoint_id TEXT NOT NULL, parent_checkpoint_id TEXT,"
	    " type TEXT, checkpoint BLOB, metadata BLOB, created_ms INTEGER,"
	    " checksum INTEGER,"
	    " PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id))",
	    NULL, NULL, NULL) != SQLITE_OK)
		die(p, sqlite3_errmsg(db));
	return db;
}

static double
raw_puts(sqlite3 *db, const char *thread, int n)
{
	sqlite3_stmt *st;
	struct corral_rng rng;
	char id[CORRAL_ID_LEN];
	double t0 = now_s();
	int i;

	corral_rng_seed(&rng, (uint64_t)getpid());
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO checkpoints"
	    " VALUES (?1, '', ?2, NULL, 'bytes', ?3, ?4, 0, 0)", -1, &st,
	    NULL) != SQLITE_OK)
		die("raw insert", sqlite3_errmsg(db));
	for (i = 0; i < n; i++) {
		corral_make_id(id, (uint64_t)time(NULL) * 1000, NULL, &rng);
		sqlite3_bind_text(st, 1, thread, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, data, KIB, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, meta, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("raw insert", sqlite3_errmsg(db));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return n / (now_s() - t0);
}

static volatile size_t sink;

static int
count_cb(void *arg, const struct corral_tuple *t)
{
	(*(size_t *)arg)++;
	sink += t->len;
	return 0;
}

/* Steps st to its end, reading every column as a reader would. */
static int
raw_rows(sqlite3_stmt *st)
{
	int n = 0, i;

	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++) {
			sqlite3_column_blob(st, i);
			sink += (size_t)sqlite3_column_bytes(st, i);
		}
		n++;
	}
	sqlite3_reset(st);
	return n;
}

#define LIST_TURNS 5

static double
best(double a, double b)
{
	return a > b ? a : b;
}

/* What a cursor over o gives, counted. */
static size_t
cursor_count(struct corral_store *s, const struct corral_list_opts *o)
{
	struct corral_cursor *c;
	const struct corral_tuple *t;
	size_t n = 0;

	if (corral_list_open(s, o, &c) != CORRAL_OK)
		return 0;
	while (corral_list_next(c, &t) == CORRAL_OK)
		n++;
	corral_list_close(c);
	return n;
}

static void
bench_reads(void)
{
	struct corral_store *s = open_store("read.db",
	    CORRAL_DURABILITY_NORMAL);
	struct corral_ref r = { "t-50", "", NULL };
	struct corral_list_opts o = { "t-50", "", NULL, NULL, 100 };
	struct corral_tuple *t;
	sqlite3 *db;
	sqlite3_stmt *st, *wst;
	char thread[32], p[512];
	double t0, get, list, rget, rlist, rlistw, curs;
	size_t n;
	int i, k, rounds;

	/* 100 threads of 200 checkpoints, each with two pending writes. */
	for (k = 0; k < 100; k++) {
		snprintf(thread, sizeof(thread), "t-%d", k);
		store_puts(s, thread, 200, true);
	}
	rounds = 100000;
	t0 = now_s();
	for (i = 0; i < rounds; i++) {
		if (corral_get_tuple(s, &r, &t) != CORRAL_OK)
			die("get_tuple", corral_store_errmsg(s));
		sink += t->len;
		corral_tuple_free(t);
	}
	get = rounds / (now_s() - t0);
	snprintf(p, sizeof(p), "%s/read.db", dir);
	if (sqlite3_open(p, &db) != SQLITE_OK)
		die(p, sqlite3_errmsg(db));
	if (sqlite3_prepare_v2(db, "SELECT * FROM checkpoints"
	    " WHERE thread_id = ?1 AND checkpoint_ns = ''"
	    " ORDER BY checkpoint_id DESC LIMIT ?2", -1, &st, NULL) != SQLITE_OK)
		die("raw select", sqlite3_errmsg(db));
	/*
	 * The same page with its pending writes, in as few rows as raw
	 * SQLite can read them: the checkpoints, then the writes from the
	 * newest down in one query.  What the store adds beyond reading the
	 * rows is the gap between list and this.
	 */
	if (sqlite3_prepare_v2(db, "SELECT * FROM writes"
	    " WHERE thread_id = ?1 AND checkpoint_ns = ''"
	    " ORDER BY checkpoint_id DESC, task_id DESC, idx DESC LIMIT 200",
	    -1, &wst, NULL) != SQLITE_OK)
		die("raw select", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, "t-50", -1, SQLITE_STATIC);
	sqlite3_bind_text(wst, 1, "t-50", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, 1);
	rounds = 100000;
	t0 = now_s();
	for (i = 0; i < rounds; i++)
		if (raw_rows(st) != 1)
			die("raw select", "no row");
	rget = rounds / (now_s() - t0);
	/*
	 * Lists are short: the three are taken in turns, the best round of
	 * each kept, so that a neighbour's burst does not land on one only.
	 */
	sqlite3_bind_int(st, 2, 100);
	list = rlist = rlistw = curs = 0;
	for (k = 0; k < LIST_TURNS; k++) {
		rounds = 3000 / LIST_TURNS;
		t0 = now_s();
		for (i = 0; i < rounds; i++) {
			n = 0;
			if (corral_list(s, &o, count_cb, &n) != CORRAL_OK ||
			    n != 100)
				die("list", corral_store_errmsg(s));
		}
		list = best(list, rounds / (now_s() - t0));
		t0 = now_s();
		for (i = 0; i < rounds; i++)
			if (raw_rows(st) != 100)
				die("raw select", "not 100 rows");
		rlist = best(rlist, rounds / (now_s() - t0));
		t0 = now_s();
		for (i = 0; i < rounds; i++)
			if (raw_rows(st) != 100 || raw_rows(wst) != 200)
				die("raw select", "not 100 rows and 200 writes");
		rlistw = best(rlistw, rounds / (now_s() - t0));
		t0 = now_s();
		for (i = 0; i < rounds; i++)
			if (cursor_count(s, &o) != 100)
				die("cursor", corral_store_errmsg(s));
		curs = best(curs, rounds / (now_s() - t0));
	}
	corral_store_close(s);
	sqlite3_finalize(wst);
	sqlite3_finalize(st);
	sqlite3_close(db);
	sq_get = get;
	report("get_tuple (latest of 200)", get, rget);
	figure("checkpoint_get_per_s", get);
	figure("checkpoint_get_raw_per_s", rget);
	figure("checkpoint_list100_per_s", list);
	figure("checkpoint_list100_raw_per_s", rlist);
	report("list of 100", list, rlist);
	report("list of 100, vs rows + writes", list, rlistw);
	report("list of 100 by cursor, vs rows + writes", curs, rlistw);
	figure("checkpoint_list100_cursor_per_s", curs);
}

/*
 * LangGraph's shape: each checkpoint, the child of the one before, holds
 * 4 channels and writes the value of one (a new version) beside the 1 KiB
 * checkpoint; reads gather every channel's value back from the rows that
 * hold them.  No raw baseline: the figures are for
 * comparing with the plain put, get and list above.
 */
static void
bench_channels(void)
{
	static const char *const names[] = { "messages", "step", "a", "b" };
	struct corral_store *s = open_store("chan.db",
	    CORRAL_DURABILITY_NORMAL);
	struct corral_ref r = { "t", "", NULL };
	struct corral_list_opts o = { .thread_id = "t", .checkpoint_ns = "",
		.limit = 100 };
	struct corral_channel vers[4], val;
	struct corral_checkpoint cp = { .type = "json", .data = data,
		.len = KIB, .metadata = meta, .versions = vers, .nversions = 4,
		.values = &val, .nvalues = 1 };
	struct corral_ref pr = { "t", "", NULL };
	struct corral_tuple *t;
	char v[4][16], id[CORRAL_ID_LEN], parent[CORRAL_ID_LEN];
	double t0, put, get, list;
	size_t n;
	int i, k, rounds = 20000;

	for (k = 0; k < 4; k++) {
		snprintf(v[k], sizeof(v[k]), "%d", 0);
		vers[k].channel = names[k];
		vers[k].version = v[k];
	}
	t0 = now_s();
	for (i = 0; i < rounds; i++) {
		k = i % 4;
		snprintf(v[k], sizeof(v[k]), "%d", i);
		val = vers[k];
		val.type = "json";
		val.value = data;
		val.len = 200;
		/* Each the child of the last: the others' values are its. */
		if (corral_put(s, &pr, &cp, id, sizeof(id)) != CORRAL_OK)
			die("put", corral_store_errmsg(s));
		memcpy(parent, id, sizeof(id));
		pr.checkpoint_id = parent;
	}
	put = rounds / (now_s() - t0);
	t0 = now_s();
	for (i = 0; i < 100000; i++) {
		if (corral_get_tuple(s, &r, &t) != CORRAL_OK ||
		    t->nchannels != 4)
			die("get_tuple", corral_store_errmsg(s));
		corral_tuple_free(t);
	}
	get = 100000 / (now_s() - t0);
	list = 0;
	for (k = 0; k < LIST_TURNS; k++) {
		t0 = now_s();
		for (i = 0; i < 3000 / LIST_TURNS; i++) {
			n = 0;
			if (corral_list(s, &o, count_cb, &n) != CORRAL_OK ||
			    n != 100)
				die("list", corral_store_errmsg(s));
		}
		list = best(list, 3000 / LIST_TURNS / (now_s() - t0));
	}
	corral_store_close(s);
	printf("with 4 channels (1 new value a put): put %.0f/s, get_tuple"
	    " %.0f/s, list of 100 %.0f/s\n", put, get, list);
	figure("checkpoint_put_channels_per_s", put);
	figure("checkpoint_get_channels_per_s", get);
	figure("checkpoint_list100_channels_per_s", list);
}

/* NPROC processes putting at once; ops/s over the wall time of all. */
static double
concurrent(bool raw, int per)
{
	pid_t pids[NPROC];
	char thread[32];
	double t0;
	int k, st;

	if (raw)
		sqlite3_close(raw_open("conc-raw.db", "NORMAL", true));
	else
		corral_store_close(open_store("conc.db",
		    CORRAL_DURABILITY_NORMAL));
	t0 = now_s();
	for (k = 0; k < NPROC; k++) {
		if ((pids[k] = fork()) == -1)
			die("fork", "failed");
		if (pids[k] == 0) {
			snprintf(thread, sizeof(thread), "proc-%d", k);
			if (raw) {
				sqlite3 *db = raw_open("conc-raw.db", "NORMAL",
				    false);

				raw_puts(db, thread, per);
				sqlite3_close(db);
			} else {
				struct corral_store *s;
				const char *why;
				char p[512];

				snprintf(p, sizeof(p), "%s/conc.db", dir);
				if (corral_store_open_sqlite(p,
				    CORRAL_DURABILITY_NORMAL, &s, &why))
					die(p, why);
				store_puts(s, thread, per, false);
				corral_store_close(s);
			}
			_exit(0);
		}
	}
	for (k = 0; k < NPROC; k++)
		if (waitpid(pids[k], &st, 0) != pids[k] || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			die("writer process", "failed");
	return NPROC * per / (now_s() - t0);
}

/* --- PostgreSQL ------------------------------------------------------ */

static char pg_dir[300];
static const char *pg_script = "tests/pg/pg.sh";

static void
pg_stop(void)
{
	char cmd[800];

	snprintf(cmd, sizeof(cmd), "sh '%s' stop '%s'", pg_script, pg_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_store: %s did not stop\n", pg_dir);
}

/* A port on 127.0.0.1 that nobody listens on now, or 0. */
static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd, port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Starts the server; its conninfo in buf, or -1 having said why. */
static int
pg_start(char *buf, size_t len)
{
	char cmd[800];
	FILE *p;
	int port = free_port();

	if (getenv("BENCH_PG_SERVER") != NULL)
		pg_script = getenv("BENCH_PG_SERVER");
	snprintf(pg_dir, sizeof(pg_dir), "%s/pg", dir);
	snprintf(cmd, sizeof(cmd), "sh '%s' start '%s' %d", pg_script, pg_dir,
	    port);
	if (port == 0 || (p = popen(cmd, "re")) == NULL)
		return -1;
	if (fgets(buf, (int)len, p) == NULL) {
		pclose(p);
		pg_stop();
		return -1;
	}
	buf[strcspn(buf, "\n")] = '\0';
	if (pclose(p) != 0) {
		pg_stop();
		return -1;
	}
	atexit(pg_stop);
	return 0;
}

static struct corral_store *
pg_open(const char *conninfo)
{
	struct corral_store *s;
	const char *why;

	if (corral_store_open_pg(conninfo, NULL, &s, &why) != CORRAL_OK)
		die(conninfo, why);
	return s;
}

static void
pg_report(const char *what, double ops, const char *sqwhat, double base)
{
	printf("%-34s %10.0f/s (%6.0f us)   SQLite %s %10.0f/s   ratio %.2f\n",
	    what, ops, ops > 0 ? 1e6 / ops : 0, sqwhat, base,
	    base > 0 ? ops / base : 0);
}

/*
 * put (synchronous_commit on: each put waits for its WAL flush, as
 * durability full does in SQLite; and off, as normal), then get_tuple of
 * the latest of a thread of 200 with two pending writes each, as
 * bench_reads does.  One connection, one process: a worker's view.
 */
static void
bench_pg(void)
{
	char ci[512], ci_async[640], thread[32];
	struct corral_store *s;
	struct corral_ref r = { "t-50", "", NULL };
	struct corral_tuple *t;
	double t0, put_sync, put_async, get;
	int i, k, rounds;

	if (pg_start(ci, sizeof(ci)) == -1) {
		printf("PostgreSQL: no server could be started (%s): not"
		    " measured\n", pg_script);
		return;
	}
	s = pg_open(ci);
	put_sync = store_puts(s, "sync", 1000, false);
	corral_store_close(s);
	snprintf(ci_async, sizeof(ci_async), "%s options='-c"
	    " synchronous_commit=off'", ci);
	s = pg_open(ci_async);
	put_async = store_puts(s, "async", 10000, false);
	for (k = 0; k < 100; k++) {
		snprintf(thread, sizeof(thread), "t-%d", k);
		store_puts(s, thread, k == 50 ? 200 : 20, true);
	}
	rounds = 20000;
	t0 = now_s();
	for (i = 0; i < rounds; i++) {
		if (corral_get_tuple(s, &r, &t) != CORRAL_OK)
			die("pg get_tuple", corral_store_errmsg(s));
		sink += t->len;
		corral_tuple_free(t);
	}
	get = rounds / (now_s() - t0);
	corral_store_close(s);
	printf("PostgreSQL %s on 127.0.0.1 (TCP), one connection:\n",
	    "server");
	pg_report("put, synchronous_commit on", put_sync, "full  ",
	    sq_put_full);
	pg_report("put, synchronous_commit off", put_async, "normal",
	    sq_put_normal);
	pg_report("get_tuple (latest of 200)", get, "      ", sq_get);
	figure("checkpoint_pg_put_sync_per_s", put_sync);
	figure("checkpoint_pg_put_per_s", put_async);
	figure("checkpoint_pg_get_per_s", get);
	figure_ratio("checkpoint_pg_put_sync_ratio", put_sync, sq_put_full);
	figure_ratio("checkpoint_pg_put_ratio", put_async, sq_put_normal);
	figure_ratio("checkpoint_pg_get_ratio", get, sq_get);
}

static void
bench_memory(void)
{
	struct corral_store *s;
	struct corral_ref r = { "t", "", NULL };
	struct corral_list_opts o = { "t", "", NULL, NULL, 100 };
	struct corral_tuple *t;
	double t0, put, get, list;
	size_t n;
	int i;

	if (corral_store_open_memory(&s) != CORRAL_OK)
		die("memory", "cannot open");
	put = store_puts(s, "t", 100000, false);
	t0 = now_s();
	for (i = 0; i < 200000; i++) {
		if (corral_get_tuple(s, &r, &t) != CORRAL_OK)
			die("get_tuple", corral_store_errmsg(s));
		corral_tuple_free(t);
	}
	get = 200000 / (now_s() - t0);
	t0 = now_s();
	for (i = 0; i < 3000; i++) {
		n = 0;
		corral_list(s, &o, count_cb, &n);
	}
	list = 3000 / (now_s() - t0);
	corral_store_close(s);
	printf("memory backend: put %.0f/s, get_tuple %.0f/s, list of 100"
	    " %.0f/s\n", put, get, list);
}

int
main(int argc, char **argv)
{
	struct corral_store *s;
	sqlite3 *db;
	double a, b;
	int n;

	snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : "/tmp");
	memset(data, 'x', sizeof(data));
	if (getenv("BENCH_FIGURES") != NULL &&
	    (figures = fopen(getenv("BENCH_FIGURES"), "w")) == NULL)
		die(getenv("BENCH_FIGURES"), "cannot write");
	printf("checkpoint store, 1 KiB checkpoints, SQLite %s, in %s:\n",
	    sqlite3_libversion(), dir);

	n = 50000;
	s = open_store("put.db", CORRAL_DURABILITY_NORMAL);
	a = store_puts(s, "t", n, false);
	corral_store_close(s);
	db = raw_open("put-raw.db", "NORMAL", true);
	b = raw_puts(db, "t", n);
	sqlite3_close(db);
	sq_put_normal = a;
	report("put, durability normal", a, b);
	figure("checkpoint_put_per_s", a);
	figure("checkpoint_put_raw_per_s", b);

	n = 300;
	s = open_store("put-full.db", CORRAL_DURABILITY_FULL);
	a = store_puts(s, "t", n, false);
	corral_store_close(s);
	db = raw_open("put-full-raw.db", "FULL", true);
	b = raw_puts(db, "t", n);
	sqlite3_close(db);
	sq_put_full = a;
	report("put, durability full", a, b);

	bench_reads();
	bench_channels();

	a = concurrent(false, 5000);
	b = concurrent(true, 5000);
	report("put, 8 writer processes", a, b);

	bench_memory();
	/* Last: its atexit stops the server, which no forked writer runs. */
	bench_pg();
	cleanup();
	if (figures != NULL && fclose(figures) != 0)
		die(getenv("BENCH_FIGURES"), "cannot write");
	return 0;
}
