/*
 * test_store.c: the checkpoint store (worker-sdk/store*.c) against
 * LangGraph's saver contract.  Every case of the shared table runs three
 * times, against a fresh memory store, a fresh SQLite file and fresh
 * PostgreSQL tables (a schema of its own, on the server tests/run.sh
 * started: CORRAL_TEST_PG; without it those cases skip), with the same
 * expectations: the backends must give the same answers.  Then the pure
 * parts (CRC-32C, made ids, which strings name PostgreSQL); on SQLite and
 * PostgreSQL, corrupt rows written by another connection and many
 * processes writing one database at once; on SQLite, a file moved or
 * damaged under the handle and migration; on PostgreSQL, fencing by a
 * lease's token, a newer schema refused, timeouts and reconnecting.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "store_impl.h"

/* A write of an array of them. */
#define WR(ch, ty, v, n) \
	{ .channel = (ch), .type = (ty), .value = (v), .len = (n) }

struct fixture {
	bool sqlite;
	bool pg;
	char dir[64];
	char path[96];
	char schema[64];     /* PostgreSQL: this case's own tables */
	char conninfo[1024]; /* PostgreSQL: to them */
	void (*fn)(void **); /* PostgreSQL: the case (pg_run) */
	struct corral_store *s;
};

/*
 * PostgreSQL: the server tests/run.sh started (CORRAL_TEST_PG, a
 * key=value conninfo), and a connection of the test's own to it, to make
 * a schema per case (its tables fresh: search_path in the conninfo's
 * options) and to write rows as another program would.
 */
static PGconn *pg_admin;
static unsigned pg_cases;

static PGconn *
admin(void)
{
	const char *base = getenv("CORRAL_TEST_PG");

	if (base == NULL || *base == '\0')
		return NULL;
	if (pg_admin == NULL || PQstatus(pg_admin) != CONNECTION_OK) {
		PQfinish(pg_admin);
		pg_admin = PQconnectdb(base);
		if (PQstatus(pg_admin) != CONNECTION_OK)
			fail_msg("CORRAL_TEST_PG=%s: %s", base,
			    PQerrorMessage(pg_admin));
		PQclear(PQexec(pg_admin, "SET client_min_messages = warning"));
	}
	return pg_admin;
}

/* Runs q on the test's own connection; fails the case if it fails. */
static PGresult *
pg_sql(const char *q)
{
	PGresult *r = PQexec(admin(), q);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	return r;
}

static void
pg_exec(const char *q)
{
	PQclear(pg_sql(q));
}

/* The integer that q, one row, one column, gives. */
static long long
pg_int(const char *q)
{
	PGresult *r = pg_sql(q);
	long long v;

	assert_int_equal(PQntuples(r), 1);
	v = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* A fresh schema and a conninfo whose search_path is it. */
static void
pg_schema(struct fixture *f)
{
	char q[256];

	snprintf(f->schema, sizeof(f->schema), "corral_t%ld_%u",
	    (long)getpid(), pg_cases++);
	snprintf(q, sizeof(q), "DROP SCHEMA IF EXISTS %s CASCADE;"
	    " CREATE SCHEMA %s; SET search_path = %s", f->schema, f->schema,
	    f->schema);
	pg_exec(q);
	/* application_name: how a case finds its handle's backend. */
	snprintf(f->conninfo, sizeof(f->conninfo), "%s options="
	    "'-csearch_path=%s' application_name=%s",
	    getenv("CORRAL_TEST_PG"), f->schema, f->schema);
}

/*
 * A PostgreSQL case: its function comes in the initial state (a
 * struct pg_case), run by pg_run, which skips it when there is no server
 * (CORRAL_TEST_PG unset): cmocka cannot skip from a setup.
 */
struct pg_case {
	void (*fn)(void **);
};

static int
setup_pg(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *why;

	assert_non_null(f);
	f->pg = true;
	f->fn = ((const struct pg_case *)*state)->fn;
	*state = f;
	if (admin() == NULL)
		return 0;
	pg_schema(f);
	if (corral_store_open_pg(f->conninfo, NULL, &f->s, &why) != CORRAL_OK)
		fail_msg("open %s: %s", f->conninfo, why);
	return 0;
}

static int
setup_memory(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(corral_store_open_memory(&f->s), CORRAL_OK);
	*state = f;
	return 0;
}

static int
setup_sqlite(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *why;

	assert_non_null(f);
	f->sqlite = true;
	snprintf(f->dir, sizeof(f->dir), "/tmp/corral-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/cp.db", f->dir);
	assert_int_equal(corral_store_open_sqlite(f->path,
	    CORRAL_DURABILITY_NORMAL, &f->s, &why), CORRAL_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	corral_store_close(f->s);
	if (f->sqlite) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		assert_int_equal(system(cmd), 0);
	}
	if (f->pg && f->schema[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "DROP SCHEMA %s CASCADE", f->schema);
		pg_exec(cmd);
	}
	free(f);
	return 0;
}

static void
pg_run(void **state)
{
	struct fixture *f = *state;

	if (f->s == NULL)
		skip();
	f->fn(state);
}

/* The entry of a case against PostgreSQL. */
#define PG(t) { #t " (postgresql)", pg_run, setup_pg, teardown, \
	(void *)&(const struct pg_case){ t } }

/* Puts a checkpoint; returns its id in a static ring of buffers. */
static const char *
put(struct corral_store *s, const char *thread, const char *ns,
    const char *parent, const char *id, const char *data, const char *meta)
{
	static char ids[8][CORRAL_KEY_MAX + 1];
	static int k;
	struct corral_ref ref = { thread, ns, parent };
	struct corral_checkpoint cp = { .id = id, .type = "json", .data = data,
		.len = data ? strlen(data) : 0, .metadata = meta };
	char *out = ids[k++ % 8];

	assert_int_equal(corral_put(s, &ref, &cp, out, CORRAL_KEY_MAX + 1),
	    CORRAL_OK);
	return out;
}

static void
write1(struct corral_store *s, const char *thread, const char *ns,
    const char *id, const char *task, const char *channel, const char *v)
{
	struct corral_ref ref = { thread, ns, id };
	struct corral_write w = { .channel = channel, .type = "json",
		.value = v, .len = strlen(v) };

	assert_int_equal(corral_put_writes(s, &ref, task, &w, 1), CORRAL_OK);
}

static struct corral_tuple *
get(struct corral_store *s, const char *thread, const char *ns,
    const char *id)
{
	struct corral_ref ref = { thread, ns, id };
	struct corral_tuple *t;
	int rc;

	if ((rc = corral_get_tuple(s, &ref, &t)) != CORRAL_OK)
		fail_msg("get %s/%s: %s", thread, id ? id : "(latest)",
		    corral_store_errmsg(s));
	assert_non_null(t);
	return t;
}

/* What list yielded, as "thread/ns/id" lines (ns "-" for ""). */
struct seen {
	char text[8192];
	size_t n;
	size_t corrupt;
	unsigned stop_after;
};

static int
seen_cb(void *arg, const struct corral_tuple *t)
{
	struct seen *z = arg;
	size_t l = strlen(z->text);

	snprintf(z->text + l, sizeof(z->text) - l, "%s%s/%s/%s",
	    z->n ? " " : "", t->thread_id,
	    *t->checkpoint_ns ? t->checkpoint_ns : "-", t->checkpoint_id);
	z->n++;
	if (t->corrupt) {
		z->corrupt++;
		assert_null(t->data);
		assert_null(t->metadata);
	} else {
		assert_non_null(t->data);
		assert_non_null(t->metadata);
	}
	return z->stop_after && z->n == z->stop_after;
}

static const char *
list(struct corral_store *s, const char *thread, const char *ns,
    const char *before, const char *filter, unsigned limit)
{
	static struct seen z;
	struct corral_list_opts o = { thread, ns, before, filter, limit };

	memset(&z, 0, sizeof(z));
	assert_int_equal(corral_list(s, &o, seen_cb, &z), CORRAL_OK);
	return z.text;
}

/* Cases run against both backends. */

static void
t_round_trip(void **state)
{
	struct fixture *f = *state;
	static const unsigned char bin[] = { 0, 1, 2, 0, 255, 0, 'x', 0 };
	struct corral_ref ref = { "t1", NULL, NULL };
	struct corral_checkpoint cp = { .type = "bytes", .data = bin,
		.len = sizeof(bin),
		.metadata = "{\"source\":\"input\",\"step\":-1,\"parents\":{}}" };
	struct corral_tuple *t;
	char id[CORRAL_ID_LEN];
	int64_t before = (int64_t)time(NULL) * 1000;

	assert_int_equal(corral_put(f->s, &ref, &cp, id, sizeof(id)),
	    CORRAL_OK);
	assert_int_equal(strlen(id), 36);
	t = get(f->s, "t1", "", id);
	assert_string_equal(t->thread_id, "t1");
	assert_string_equal(t->checkpoint_ns, "");
	assert_string_equal(t->checkpoint_id, id);
	assert_null(t->parent_id);
	assert_string_equal(t->type, "bytes");
	assert_int_equal(t->len, sizeof(bin));
	assert_memory_equal(t->data, bin, sizeof(bin));
	assert_string_equal(t->metadata, cp.metadata);
	assert_int_equal(t->nwrites, 0);
	assert_null(t->writes);
	assert_false(t->corrupt);
	assert_true(t->created_ms >= before - 1000 &&
	    t->created_ms <= before + 60000);
	corral_tuple_free(t);
	/* The default namespace is "": NULL and "" name the same. */
	t = get(f->s, "t1", NULL, NULL);
	assert_string_equal(t->checkpoint_id, id);
	corral_tuple_free(t);
}

static void
t_empty(void **state)
{
	struct fixture *f = *state;
	struct corral_ref ref = { "t1", "", NULL };
	struct corral_checkpoint cp = { .id = "a" };
	struct corral_tuple *t;

	assert_int_equal(corral_put(f->s, &ref, &cp, NULL, 0), CORRAL_OK);
	t = get(f->s, "t1", "", "a");
	assert_non_null(t->data);
	assert_int_equal(t->len, 0);
	assert_null(t->type);
	assert_string_equal(t->metadata, "{}");
	corral_tuple_free(t);
}

static void
t_parents(void **state)
{
	struct fixture *f = *state;
	char a[CORRAL_KEY_MAX + 1], b[CORRAL_KEY_MAX + 1];
	struct corral_tuple *t;

	strcpy(a, put(f->s, "t1", "", NULL, NULL, "1", NULL));
	strcpy(b, put(f->s, "t1", "", a, NULL, "2", NULL));
	assert_true(strcmp(a, b) < 0);
	t = get(f->s, "t1", "", NULL);
	assert_string_equal(t->checkpoint_id, b);
	assert_string_equal(t->parent_id, a);
	corral_tuple_free(t);
	t = get(f->s, "t1", "", a);
	assert_null(t->parent_id);
	corral_tuple_free(t);
	/* A parent need not exist. */
	put(f->s, "t1", "", "nowhere", "zz", "3", NULL);
	t = get(f->s, "t1", "", "zz");
	assert_string_equal(t->parent_id, "nowhere");
	corral_tuple_free(t);
}

static void
t_latest_by_bytes(void **state)
{
	struct fixture *f = *state;
	struct corral_tuple *t;

	put(f->s, "t1", "", NULL, "b", "B", NULL);
	put(f->s, "t1", "", NULL, "c", "C", NULL);
	put(f->s, "t1", "", NULL, "a", "A", NULL);
	put(f->s, "t1", "", NULL, "B", "upper", NULL); /* 'B' < 'a' */
	put(f->s, "t1", "", NULL, "c\x7f", "top", NULL);
	put(f->s, "t1", "", NULL, "\xc3\xa9", "e-acute", NULL); /* > 0x7f */
	t = get(f->s, "t1", "", NULL);
	assert_string_equal(t->checkpoint_id, "\xc3\xa9");
	corral_tuple_free(t);
	t = get(f->s, "t1", "", "a");
	assert_memory_equal(t->data, "A", 1);
	corral_tuple_free(t);
	assert_string_equal(list(f->s, "t1", "", NULL, NULL, 0),
	    "t1/-/\xc3\xa9 t1/-/c\x7f t1/-/c t1/-/b t1/-/a t1/-/B");
}

static void
t_not_found(void **state)
{
	struct fixture *f = *state;
	struct corral_ref r = { "t1", "", "nope" };
	struct corral_tuple *t = (void *)1;

	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_NOTFOUND);
	assert_null(t);
	r.checkpoint_id = NULL;
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_NOTFOUND);
	put(f->s, "t1", "", NULL, "a", "A", NULL);
	r.checkpoint_ns = "other";
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_NOTFOUND);
	r.checkpoint_ns = NULL;
	r.thread_id = "t2";
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_NOTFOUND);
	r.thread_id = NULL;
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_NOTFOUND);
	r.thread_id = "";
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_NOTFOUND);
	assert_string_equal(list(f->s, "missing", NULL, NULL, NULL, 0), "");
}

static void
t_invalid(void **state)
{
	struct fixture *f = *state;
	struct corral_ref r = { NULL, "", "a" };
	struct corral_checkpoint cp = { .data = "x", .len = 1 };
	struct corral_write w = { .channel = "ch", .value = "v", .len = 1 };
	char id[CORRAL_ID_LEN];

	assert_int_equal(corral_put(f->s, &r, &cp, id, sizeof(id)),
	    CORRAL_EINVAL);
	assert_non_null(strstr(corral_store_errmsg(f->s), "thread_id"));
	r.thread_id = "";
	assert_int_equal(corral_put(f->s, &r, &cp, id, sizeof(id)),
	    CORRAL_EINVAL);
	assert_int_equal(corral_put_writes(f->s, &r, "task", &w, 1),
	    CORRAL_EINVAL);
	r.thread_id = NULL;
	assert_int_equal(corral_put_writes(f->s, &r, "task", &w, 1),
	    CORRAL_EINVAL);
	r.thread_id = "t1";
	r.checkpoint_id = NULL;
	assert_int_equal(corral_put_writes(f->s, &r, "task", &w, 1),
	    CORRAL_EINVAL);
	assert_non_null(strstr(corral_store_errmsg(f->s), "checkpoint_id"));
	r.checkpoint_id = "a";
	assert_int_equal(corral_put_writes(f->s, &r, NULL, &w, 1),
	    CORRAL_EINVAL);
	assert_int_equal(corral_delete_thread(f->s, NULL), CORRAL_EINVAL);
	/* Too small for a made id. */
	assert_int_equal(corral_put(f->s, &r, &cp, id, 10), CORRAL_EINVAL);
	cp.data = NULL;
	assert_int_equal(corral_put(f->s, &r, &cp, id, sizeof(id)),
	    CORRAL_EINVAL);
	assert_int_equal(corral_list(f->s, NULL, NULL, NULL), CORRAL_EINVAL);
	assert_string_equal(list(f->s, NULL, NULL, NULL, NULL, 0), "");
}

static void
t_key_length(void **state)
{
	struct fixture *f = *state;
	char big[CORRAL_KEY_MAX + 2], max[CORRAL_KEY_MAX + 1];
	struct corral_ref r = { big, "", NULL };
	struct corral_checkpoint cp = { .id = "a", .data = "x", .len = 1 };
	struct corral_list_opts o = { 0 };
	struct corral_write w = { .channel = "ch", .value = "v", .len = 1 };
	struct corral_tuple *t;
	struct seen z = { 0 };

	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(max, big, CORRAL_KEY_MAX);
	max[CORRAL_KEY_MAX] = '\0';
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EINVAL);
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_EINVAL);
	assert_int_equal(corral_delete_thread(f->s, big), CORRAL_EINVAL);
	r.thread_id = "t1";
	r.checkpoint_ns = big;
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EINVAL);
	r.checkpoint_ns = "";
	cp.id = big;
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EINVAL);
	r.checkpoint_id = big;
	cp.id = "a";
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EINVAL);
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_EINVAL);
	assert_int_equal(corral_put_writes(f->s, &r, "task", &w, 1),
	    CORRAL_EINVAL);
	r.checkpoint_id = "a";
	assert_int_equal(corral_put_writes(f->s, &r, big, &w, 1),
	    CORRAL_EINVAL);
	o.before = big;
	assert_int_equal(corral_list(f->s, &o, seen_cb, &z), CORRAL_EINVAL);
	/* CORRAL_KEY_MAX itself is fine everywhere. */
	r.thread_id = max;
	r.checkpoint_ns = max;
	r.checkpoint_id = max;
	cp.id = max;
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_OK);
	assert_int_equal(corral_put_writes(f->s, &r, max, &w, 1), CORRAL_OK);
	t = get(f->s, max, max, max);
	assert_string_equal(t->parent_id, max);
	assert_int_equal(t->nwrites, 1);
	assert_string_equal(t->writes[0].task_id, max);
	corral_tuple_free(t);
}

static void
t_replace(void **state)
{
	struct fixture *f = *state;
	struct corral_tuple *t;

	put(f->s, "t1", "", "p1", "a", "first", "{\"v\":1}");
	put(f->s, "t1", "", "p2", "a", "second", "{\"v\":2}");
	t = get(f->s, "t1", "", "a");
	assert_int_equal(t->len, 6);
	assert_memory_equal(t->data, "second", 6);
	assert_string_equal(t->metadata, "{\"v\":2}");
	assert_string_equal(t->parent_id, "p2");
	corral_tuple_free(t);
	assert_string_equal(list(f->s, NULL, NULL, NULL, NULL, 0), "t1/-/a");
}

static void
t_writes(void **state)
{
	struct fixture *f = *state;
	struct corral_ref r = { "t1", "", "a" };
	struct corral_write w2[] = {
		WR("ch1", "json", "\"x\"", 3),
		WR("ch2", NULL, "\0y", 2),
	};
	struct corral_write w1[] = {
		WR("__error__", "json", "e", 1),
		WR("out", "json", "o", 1),
		WR("__interrupt__", "json", "i", 1),
		WR("__scheduled__", "json", "s", 1),
		WR("__resume__", "json", "r", 1),
		WR("empty", "json", NULL, 0),
	};
	static const struct { const char *task, *ch; int idx; } want[] = {
		{ "t1", "__resume__", -4 }, { "t1", "__interrupt__", -3 },
		{ "t1", "__scheduled__", -2 }, { "t1", "__error__", -1 },
		{ "t1", "out", 1 }, { "t1", "empty", 5 },
		{ "t2", "ch1", 0 }, { "t2", "ch2", 1 },
	};
	struct corral_tuple *t;
	size_t i;

	put(f->s, "t1", "", NULL, "a", "A", NULL);
	put(f->s, "t1", "", NULL, "b", "B", NULL);
	assert_int_equal(corral_put_writes(f->s, &r, "t2", w2, 2), CORRAL_OK);
	assert_int_equal(corral_put_writes(f->s, &r, "t1", w1, 6), CORRAL_OK);
	assert_int_equal(corral_put_writes(f->s, &r, "t0", w1, 0), CORRAL_OK);
	t = get(f->s, "t1", "", "a");
	assert_int_equal(t->nwrites, 8);
	for (i = 0; i < 8; i++) {
		assert_string_equal(t->writes[i].task_id, want[i].task);
		assert_string_equal(t->writes[i].channel, want[i].ch);
		assert_int_equal(t->writes[i].idx, want[i].idx);
	}
	assert_int_equal(t->writes[7].len, 2);
	assert_memory_equal(t->writes[7].value, "\0y", 2);
	assert_null(t->writes[7].type);
	assert_string_equal(t->writes[6].type, "json");
	assert_non_null(t->writes[5].value);
	assert_int_equal(t->writes[5].len, 0);
	corral_tuple_free(t);
	/* Writes belong to their checkpoint only. */
	t = get(f->s, "t1", "", "b");
	assert_int_equal(t->nwrites, 0);
	corral_tuple_free(t);
	write1(f->s, "t1", "ns", "a", "t3", "ch", "other namespace");
	write1(f->s, "t9", "", "a", "t3", "ch", "other thread");
	t = get(f->s, "t1", "", "a");
	assert_int_equal(t->nwrites, 8);
	corral_tuple_free(t);
	/* Writes may come before their checkpoint. */
	write1(f->s, "t1", "", "c", "t1", "ch", "early");
	put(f->s, "t1", "", NULL, "c", "C", NULL);
	t = get(f->s, "t1", "", NULL);
	assert_int_equal(t->nwrites, 1);
	assert_memory_equal(t->writes[0].value, "early", 5);
	corral_tuple_free(t);
}

static void
t_writes_idempotent(void **state)
{
	struct fixture *f = *state;
	struct corral_tuple *t;

	put(f->s, "t1", "", NULL, "a", "A", NULL);
	write1(f->s, "t1", "", "a", "task", "ch", "first");
	write1(f->s, "t1", "", "a", "task", "ch", "second");
	write1(f->s, "t1", "", "a", "task", "other", "third"); /* idx 0 too */
	write1(f->s, "t1", "", "a", "task", "__error__", "e1");
	write1(f->s, "t1", "", "a", "task", "__error__", "e2");
	t = get(f->s, "t1", "", "a");
	assert_int_equal(t->nwrites, 2);
	assert_string_equal(t->writes[0].channel, "__error__");
	assert_memory_equal(t->writes[0].value, "e2", 2);
	assert_string_equal(t->writes[1].channel, "ch");
	assert_int_equal(t->writes[1].len, 5);
	assert_memory_equal(t->writes[1].value, "first", 5);
	corral_tuple_free(t);
}

/* Two threads, two namespaces, parent and child: as LangGraph's suite. */
static void
fill(struct corral_store *s)
{
	put(s, "A", "", NULL, "1", "A1", "{\"source\":\"input\",\"step\":-1}");
	put(s, "A", "", "1", "3", "A3",
	    "{\"source\":\"loop\",\"step\":0,\"n\":{\"k\":[1,2]}}");
	put(s, "A", "child", NULL, "2", "Ac2", "{\"source\":\"input\"}");
	put(s, "A", "child", "2", "6", "Ac6", "{\"source\":\"loop\",\"x\":null}");
	put(s, "B", "", NULL, "4", "B4", "{\"source\":\"input\",\"step\":1.5}");
	put(s, "B", "", "4", "5", "B5", "{\"source\":\"loop\",\"step\":1}");
	put(s, "B", "child", NULL, "3", "Bc3", "{\"source\":\"update\"}");
	put(s, "B", "child", NULL, "7", "Bc7", "not json");
}

static void
t_list(void **state)
{
	struct fixture *f = *state;
	struct corral_store *s = f->s;

	fill(s);
	/* Newest first across threads and namespaces; ties ordered too. */
	assert_string_equal(list(s, NULL, NULL, NULL, NULL, 0),
	    "B/child/7 A/child/6 B/-/5 B/-/4 B/child/3 A/-/3 A/child/2 A/-/1");
	assert_string_equal(list(s, "", NULL, NULL, NULL, 0),
	    "B/child/7 A/child/6 B/-/5 B/-/4 B/child/3 A/-/3 A/child/2 A/-/1");
	assert_string_equal(list(s, "A", NULL, NULL, NULL, 0),
	    "A/child/6 A/-/3 A/child/2 A/-/1");
	assert_string_equal(list(s, "A", "", NULL, NULL, 0), "A/-/3 A/-/1");
	assert_string_equal(list(s, NULL, "", NULL, NULL, 0),
	    "B/-/5 B/-/4 A/-/3 A/-/1");
	assert_string_equal(list(s, NULL, "child", NULL, NULL, 0),
	    "B/child/7 A/child/6 B/child/3 A/child/2");
	assert_string_equal(list(s, "A", "child", NULL, NULL, 0),
	    "A/child/6 A/child/2");
	assert_string_equal(list(s, "C", NULL, NULL, NULL, 0), "");
	assert_string_equal(list(s, "A", "nope", NULL, NULL, 0), "");
	/* before: strictly less, in any thread. */
	assert_string_equal(list(s, NULL, NULL, "4", NULL, 0),
	    "B/child/3 A/-/3 A/child/2 A/-/1");
	assert_string_equal(list(s, "A", "", "3", NULL, 0), "A/-/1");
	assert_string_equal(list(s, "A", "", "1", NULL, 0), "");
	assert_string_equal(list(s, NULL, NULL, "", NULL, 0), "");
	/* limit */
	assert_string_equal(list(s, NULL, NULL, NULL, NULL, 1), "B/child/7");
	assert_string_equal(list(s, "B", NULL, NULL, NULL, 2),
	    "B/child/7 B/-/5");
	assert_string_equal(list(s, NULL, "", "5", NULL, 2), "B/-/4 A/-/3");
	assert_string_equal(list(s, NULL, NULL, NULL, NULL, 100),
	    "B/child/7 A/child/6 B/-/5 B/-/4 B/child/3 A/-/3 A/child/2 A/-/1");
}

static void
t_list_filter(void **state)
{
	struct fixture *f = *state;
	struct corral_store *s = f->s;
	struct corral_list_opts o = { 0 };
	struct seen z = { 0 };

	fill(s);
	assert_string_equal(list(s, NULL, NULL, NULL, "{}", 0),
	    "B/child/7 A/child/6 B/-/5 B/-/4 B/child/3 A/-/3 A/child/2 A/-/1");
	assert_string_equal(list(s, NULL, NULL, NULL, " { } ", 0),
	    "B/child/7 A/child/6 B/-/5 B/-/4 B/child/3 A/-/3 A/child/2 A/-/1");
	assert_string_equal(list(s, NULL, NULL, NULL,
	    "{\"source\":\"loop\"}", 0), "A/child/6 B/-/5 A/-/3");
	assert_string_equal(list(s, NULL, NULL, NULL,
	    "{\"source\": \"input\"}", 0), "B/-/4 A/child/2 A/-/1");
	assert_string_equal(list(s, "A", "", NULL,
	    "{\"source\":\"input\"}", 0), "A/-/1");
	assert_string_equal(list(s, NULL, NULL, NULL,
	    "{\"source\":\"loop\"}", 2), "A/child/6 B/-/5");
	assert_string_equal(list(s, NULL, NULL, "6",
	    "{\"source\":\"loop\"}", 1), "B/-/5");
	/* Numbers: of the same JSON type and value. */
	assert_string_equal(list(s, NULL, NULL, NULL, "{\"step\":1}", 0),
	    "B/-/5");
	assert_string_equal(list(s, NULL, NULL, NULL, "{\"step\":-1}", 0),
	    "A/-/1");
	assert_string_equal(list(s, NULL, NULL, NULL, "{\"step\":1.5}", 0),
	    "B/-/4");
	assert_string_equal(list(s, NULL, NULL, NULL, "{\"step\":\"1\"}", 0),
	    "");
	/* Several keys: all must match. */
	assert_string_equal(list(s, NULL, NULL, NULL,
	    "{\"source\":\"loop\",\"step\":0}", 0), "A/-/3");
	/* Nested objects and arrays, null. */
	assert_string_equal(list(s, NULL, NULL, NULL,
	    "{\"n\":{\"k\":[1, 2]}}", 0), "A/-/3");
	assert_string_equal(list(s, NULL, NULL, NULL,
	    "{\"n\":{\"k\":[2,1]}}", 0), "");
	assert_string_equal(list(s, NULL, NULL, NULL, "{\"x\":null}", 0),
	    "A/child/6");
	/* A key absent from the metadata matches nothing, even null. */
	assert_string_equal(list(s, NULL, NULL, NULL, "{\"absent\":1}", 0),
	    "");
	assert_string_equal(list(s, NULL, NULL, NULL, "{\"absent\":null}", 0),
	    "");
	/* Keys are taken as they are: no path syntax gets through. */
	assert_string_equal(list(s, NULL, NULL, NULL,
	    "{\"n.k\":[1,2]}", 0), "");
	assert_string_equal(list(s, NULL, NULL, NULL,
	    "{\"source\\\"\":\"loop\"}", 0), "");
	/* A filter must be a JSON object. */
	o.filter = "[1]";
	assert_int_equal(corral_list(s, &o, seen_cb, &z), CORRAL_EINVAL);
	o.filter = "{\"source\":";
	assert_int_equal(corral_list(s, &o, seen_cb, &z), CORRAL_EINVAL);
	o.filter = "";
	assert_int_equal(corral_list(s, &o, seen_cb, &z), CORRAL_EINVAL);
	assert_int_equal(z.n, 0);
}

static void
t_list_stop(void **state)
{
	struct fixture *f = *state;
	struct corral_list_opts o = { 0 };
	struct seen z = { 0 };

	fill(f->s);
	z.stop_after = 3;
	assert_int_equal(corral_list(f->s, &o, seen_cb, &z), CORRAL_OK);
	assert_string_equal(z.text, "B/child/7 A/child/6 B/-/5");
}

/* list's callback may not call the store back. */
static int
reenter_cb(void *arg, const struct corral_tuple *t)
{
	struct corral_store *s = arg;
	struct corral_ref r = { "A", "", NULL };
	struct corral_checkpoint cp = { .id = "x", .data = "x", .len = 1 };
	struct corral_tuple *g;

	assert_int_equal(corral_put(s, &r, &cp, NULL, 0), CORRAL_EINVAL);
	assert_int_equal(corral_get_tuple(s, &r, &g), CORRAL_EINVAL);
	assert_int_equal(corral_delete_thread(s, "A"), CORRAL_EINVAL);
	return 1;
}

static void
t_list_reenter(void **state)
{
	struct fixture *f = *state;

	fill(f->s);
	assert_int_equal(corral_list(f->s, NULL, reenter_cb, f->s), CORRAL_OK);
	put(f->s, "A", "", NULL, "9", "after", NULL);
}

/* list's tuples are getTuple's, writes and all. */
static int
same_cb(void *arg, const struct corral_tuple *t)
{
	struct corral_tuple *g = arg;

	assert_string_equal(t->checkpoint_id, g->checkpoint_id);
	assert_null(t->parent_id);
	assert_null(g->parent_id);
	assert_int_equal(t->len, g->len);
	assert_memory_equal(t->data, g->data, g->len);
	assert_string_equal(t->metadata, g->metadata);
	assert_int_equal(t->created_ms, g->created_ms);
	assert_int_equal(t->nwrites, 2);
	assert_string_equal(t->writes[0].task_id, "a");
	assert_string_equal(t->writes[1].task_id, "b");
	assert_memory_equal(t->writes[1].value, "vb", 2);
	return 0;
}

static void
t_list_writes(void **state)
{
	struct fixture *f = *state;
	struct corral_list_opts o = { "A", "", NULL, NULL, 0 };
	struct corral_tuple *g;

	fill(f->s);
	write1(f->s, "A", "", "1", "b", "ch", "vb");
	write1(f->s, "A", "", "1", "a", "ch", "va");
	o.before = "2";
	g = get(f->s, "A", "", "1");
	assert_int_equal(corral_list(f->s, &o, same_cb, g), CORRAL_OK);
	corral_tuple_free(g);
}

/* A tuple's writes as text: "task.idx.channel=value ..." */
static void
writes_text(const struct corral_tuple *t, char *buf, size_t len)
{
	size_t i, l;

	buf[0] = '\0';
	for (i = 0; i < t->nwrites; i++) {
		l = strlen(buf);
		snprintf(buf + l, len - l, "%s.%d.%s=%.*s ",
		    t->writes[i].task_id, t->writes[i].idx,
		    t->writes[i].channel, (int)t->writes[i].len,
		    (const char *)t->writes[i].value);
	}
}

/* What list yielded: each tuple's key and writes, to check against get. */
struct like {
	size_t n, writes;
	struct {
		char thread[8], ns[8], id[8], writes[256];
	} t[16];
};

static int
like_cb(void *arg, const struct corral_tuple *t)
{
	struct like *k = arg;

	assert_true(k->n < 16);
	snprintf(k->t[k->n].thread, 8, "%s", t->thread_id);
	snprintf(k->t[k->n].ns, 8, "%s", t->checkpoint_ns);
	snprintf(k->t[k->n].id, 8, "%s", t->checkpoint_id);
	writes_text(t, k->t[k->n].writes, sizeof(k->t[k->n].writes));
	k->writes += t->nwrites;
	k->n++;
	return 0;
}

/*
 * Every shape of list reads each checkpoint's pending writes (in one
 * query, not one per checkpoint): ids shared by threads and namespaces,
 * checkpoints left out by before, filter and limit, and writes of no
 * checkpoint lend none of theirs to a neighbour.
 */
static void
t_list_writes_shapes(void **state)
{
	static const struct {
		const char *thread, *ns, *before, *filter;
		unsigned limit;
		size_t n, writes;
	} c[] = {
		{ NULL, NULL, NULL, NULL, 0, 8, 19 },
		{ "A", NULL, NULL, NULL, 0, 4, 9 },
		{ "A", "", NULL, NULL, 0, 2, 5 },
		{ "B", "child", NULL, NULL, 0, 2, 5 },
		{ NULL, "", NULL, NULL, 0, 4, 10 },
		{ "A", "", "3", NULL, 0, 1, 0 },
		{ "B", "", "5", NULL, 0, 1, 5 },
		{ NULL, NULL, "4", NULL, 0, 4, 8 },
		{ NULL, NULL, NULL, NULL, 3, 3, 6 },
		{ "B", "", NULL, NULL, 1, 1, 0 },
		{ "A", "child", NULL, NULL, 1, 1, 4 },
		{ "B", "", NULL, "{\"source\":\"input\"}", 0, 1, 5 },
		{ NULL, NULL, NULL, "{\"source\":\"loop\"}", 0, 3, 9 },
	};
	struct fixture *f = *state;
	struct corral_write w[] = {
		WR("x", "json", "1", 1),
		WR("y", "json", "22", 2),
		WR("__error__", "json", "e", 1),
	};
	struct corral_ref r = { NULL, NULL, NULL };
	struct corral_tuple *t;
	struct like k;
	char text[256];
	size_t i, j;

	fill(f->s);
	/* Tasks put in no order; one id ("3") in two threads. */
	r.thread_id = "A", r.checkpoint_ns = "", r.checkpoint_id = "3";
	assert_int_equal(corral_put_writes(f->s, &r, "t2", w, 2), CORRAL_OK);
	assert_int_equal(corral_put_writes(f->s, &r, "t1", w, 3), CORRAL_OK);
	r.thread_id = "B", r.checkpoint_ns = "child";
	assert_int_equal(corral_put_writes(f->s, &r, "t9", w, 3), CORRAL_OK);
	r.checkpoint_id = "7";
	assert_int_equal(corral_put_writes(f->s, &r, "t0", w, 2), CORRAL_OK);
	r.thread_id = "B", r.checkpoint_ns = "", r.checkpoint_id = "4";
	assert_int_equal(corral_put_writes(f->s, &r, "t5", w, 3), CORRAL_OK);
	assert_int_equal(corral_put_writes(f->s, &r, "t4", w, 2), CORRAL_OK);
	r.thread_id = "A", r.checkpoint_ns = "child", r.checkpoint_id = "6";
	assert_int_equal(corral_put_writes(f->s, &r, "t3", w, 2), CORRAL_OK);
	assert_int_equal(corral_put_writes(f->s, &r, "t1", w, 2), CORRAL_OK);
	/* Writes of no checkpoint, between and beside listed ones. */
	write1(f->s, "A", "", "2", "t", "ch", "none");
	write1(f->s, "A", "", "4", "t", "ch", "none");
	write1(f->s, "B", "", "45", "t", "ch", "none");
	write1(f->s, "A", "x", "3", "t", "ch", "none");
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct corral_list_opts o = { c[i].thread, c[i].ns,
			c[i].before, c[i].filter, c[i].limit };

		memset(&k, 0, sizeof(k));
		assert_int_equal(corral_list(f->s, &o, like_cb, &k),
		    CORRAL_OK);
		assert_int_equal(k.n, c[i].n);
		assert_int_equal(k.writes, c[i].writes);
		for (j = 0; j < k.n; j++) {
			t = get(f->s, k.t[j].thread, k.t[j].ns, k.t[j].id);
			writes_text(t, text, sizeof(text));
			assert_string_equal(k.t[j].writes, text);
			corral_tuple_free(t);
		}
	}
}

static void
t_delete_thread(void **state)
{
	struct fixture *f = *state;
	struct corral_ref r = { "A", "", NULL };
	struct corral_tuple *t;

	fill(f->s);
	write1(f->s, "A", "", "1", "task", "ch", "v");
	write1(f->s, "B", "", "4", "task", "ch", "v");
	assert_int_equal(corral_delete_thread(f->s, "A"), CORRAL_OK);
	assert_int_equal(corral_delete_thread(f->s, "nope"), CORRAL_OK);
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_NOTFOUND);
	r.checkpoint_ns = "child";
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_NOTFOUND);
	assert_string_equal(list(f->s, NULL, NULL, NULL, NULL, 0),
	    "B/child/7 B/-/5 B/-/4 B/child/3");
	t = get(f->s, "B", "", "4");
	assert_int_equal(t->nwrites, 1);
	corral_tuple_free(t);
	/* Its writes are gone too: a new checkpoint of that id has none. */
	put(f->s, "A", "", NULL, "1", "again", NULL);
	t = get(f->s, "A", "", NULL);
	assert_int_equal(t->nwrites, 0);
	corral_tuple_free(t);
}

static int
count_cb(void *arg, const struct corral_tuple *t)
{
	(*(size_t *)arg)++;
	return 0;
}

/* Made ids sort in creation order, past ids given out of order. */
static void
t_made_ids_order(void **state)
{
	struct fixture *f = *state;
	char prev[CORRAL_ID_LEN] = "", id[CORRAL_ID_LEN];
	struct corral_list_opts o = { 0 };
	struct corral_ref r = { "t1", "", NULL };
	size_t n = 0;
	struct corral_checkpoint cp = { .type = "json", .data = "{}",
		.len = 2 };
	int i;

	for (i = 0; i < 10000; i++) {
		r.checkpoint_id = *prev ? prev : NULL;
		assert_int_equal(corral_put(f->s, &r, &cp, id, sizeof(id)),
		    CORRAL_OK);
		if (strcmp(prev, id) >= 0)
			fail_msg("id %d %s is not after %s", i, id, prev);
		memcpy(prev, id, sizeof(id));
	}
	/* A far-future id of the same layout: the next one follows it. */
	put(f->s, "t1", "", NULL, "ffffff00-0000-6000-8000-000000000000", "x",
	    NULL);
	strcpy(id, put(f->s, "t1", "", NULL, NULL, "y", NULL));
	assert_true(strncmp(id, "ffffff00-0000-6001-", 19) == 0);
	assert_string_equal(list(f->s, "t1", "", NULL, NULL, 1) + 5, id);
	o.thread_id = "t1";
	assert_int_equal(corral_list(f->s, &o, count_cb, &n), CORRAL_OK);
	assert_int_equal(n, 10002);
}

/* Pure parts. */

static void
t_crc32c(void **state)
{
	unsigned char buf[400];
	size_t i, len;

	(void)state;
	assert_int_equal(corral_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(corral_crc32c(corral_crc32c(0, "1234", 4),
	    "56789", 5), 0xe3069283);
	assert_int_equal(corral_crc32c(0, "", 0), 0);
	assert_int_equal(store_crc32c_table(0, "123456789", 9), 0xe3069283);
	/* Both ways agree, on every length and alignment. */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (i = 0; i < 64; i++)
		for (len = 0; len < 300; len += 1 + len / 16)
			assert_int_equal(corral_crc32c(i, buf + i, len),
			    store_crc32c_table(i, buf + i, len));
	assert_int_not_equal(store_crc_checkpoint(NULL, 0, "", 0, "{}", 2,
	    NULL, 0, false, false), store_crc_checkpoint("", 0, "", 0, "{}",
	    2, NULL, 0, false, false));
	assert_int_not_equal(store_crc_write("ab", 2, "c", 1, "", 0, "", 0),
	    store_crc_write("a", 1, "bc", 2, "", 0, "", 0));
	/* The fields of schema 2 count only when present: no metadata
	 * type and no versions give version 1's sum; "" differs from none,
	 * and a row's versions and values cannot go missing unnoticed. */
	assert_int_not_equal(store_crc_checkpoint(NULL, 0, "", 0, "{}", 2,
	    "", 0, false, false), store_crc_checkpoint(NULL, 0, "", 0, "{}",
	    2, NULL, 0, false, false));
	assert_int_not_equal(store_crc_checkpoint(NULL, 0, "", 0, "{}", 2,
	    NULL, 0, true, false), store_crc_checkpoint(NULL, 0, "", 0, "{}",
	    2, NULL, 0, false, true));
	assert_int_not_equal(store_crc_write("a", 1, "c", 1, "", 0, "p", 1),
	    store_crc_write("a", 1, "c", 1, "", 0, "", 0));
}

static uint64_t
ts_of(const char *id)
{
	char h[16];

	/* time_high, time_mid, time_low: 8 + 4 + 3 hex digits. */
	snprintf(h, sizeof(h), "%.8s%.4s%.3s", id, id + 9, id + 15);
	return strtoull(h, NULL, 16);
}

static void
t_make_id(void **state)
{
	struct corral_rng rng;
	char a[CORRAL_ID_LEN], b[CORRAL_ID_LEN], c[CORRAL_ID_LEN];
	uint64_t now = 1700000000000ULL;
	int i;

	(void)state;
	corral_rng_seed(&rng, 42);
	corral_make_id(a, now, NULL, &rng);
	assert_int_equal(strlen(a), 36);
	assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' &&
	    a[23] == '-');
	assert_int_equal(a[14], '6');
	assert_non_null(strchr("89ab", a[19]));
	for (i = 0; i < 36; i++)
		assert_non_null(strchr("0123456789abcdef-", a[i]));
	assert_int_equal(ts_of(a), (now + 12219292800000ULL) * 10000);
	/* The clock steps back an hour: still after a, by one tick. */
	corral_make_id(b, now - 3600000, a, &rng);
	assert_true(strcmp(a, b) < 0);
	assert_int_equal(ts_of(b), ts_of(a) + 1);
	/* Same millisecond: one tick later each time. */
	corral_make_id(c, now, b, &rng);
	assert_int_equal(ts_of(c), ts_of(a) + 2);
	/* The clock moved on: its time again. */
	corral_make_id(c, now + 5, b, &rng);
	assert_int_equal(ts_of(c), (now + 5 + 12219292800000ULL) * 10000);
	/* Not an id of this layout: no floor. */
	corral_make_id(c, now - 3600000, "zzz", &rng);
	assert_true(strcmp(c, a) < 0);
	corral_make_id(c, now - 3600000, "1F1EB344-3A54-6F50-8001-7F7D862E6BC9",
	    &rng);
	assert_true(strcmp(c, a) < 0);
	/* LangGraph's own uuid6: a floor too. */
	corral_make_id(c, 0, "1f1eb344-3a54-6f50-8001-7f7d862e6bc9", &rng);
	assert_true(strncmp(c, "1f1eb344-3a54-6f51-", 19) == 0);
	assert_int_equal(store_write_idx("__error__", 3), -1);
	assert_int_equal(store_write_idx("__scheduled__", 3), -2);
	assert_int_equal(store_write_idx("__interrupt__", 3), -3);
	assert_int_equal(store_write_idx("__resume__", 3), -4);
	assert_int_equal(store_write_idx("__error", 3), 3);
	assert_string_equal(corral_strerror(CORRAL_ECORRUPT), "corrupt row");
	assert_string_equal(corral_strerror(42), "unknown error");
}

/* Corrupt rows: reported as corrupt, never as data. */

/*
 * The same statement for PostgreSQL: its table names, and a blob literal
 * X'..' as bytea.  Into out.
 */
static void
pg_dialect(const char *q, char *out, size_t size)
{
	size_t n = 0;

	while (*q != '\0' && n + 32 < size) {
		if (strncmp(q, "UPDATE checkpoints", 18) == 0 ||
		    strncmp(q, "UPDATE writes", 13) == 0) {
			n += (size_t)snprintf(out + n, size - n, "UPDATE corral_");
			q += 7;
		} else if (strncmp(q, "X'", 2) == 0) {
			n += (size_t)snprintf(out + n, size - n, "'\\x");
			q += 2;
		} else
			out[n++] = *q++;
	}
	assert_true(*q == '\0');
	out[n] = '\0';
}

static void
corrupt(struct fixture *f, const char *what)
{
	sqlite3 *db;
	char *err = NULL, q[1024];
	PGresult *r;

	if (f->pg) {
		pg_dialect(what, q, sizeof(q));
		r = pg_sql(q);
		assert_string_equal(PQcmdTuples(r), "1");
		PQclear(r);
		return;
	}
	if (!f->sqlite) {
		assert_int_equal(store_memory_poke(f->s, "A", "", "3"),
		    CORRAL_OK);
		return;
	}
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	if (sqlite3_exec(db, what, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", what, err);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_close(db);
}

static void
check_corrupt(struct fixture *f)
{
	struct corral_ref r = { "A", "", "3" };
	struct corral_tuple *t;
	struct corral_list_opts o = { 0 };
	struct seen z = { 0 };

	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_ECORRUPT);
	assert_non_null(t);
	assert_true(t->corrupt);
	assert_string_equal(t->thread_id, "A");
	assert_string_equal(t->checkpoint_id, "3");
	assert_null(t->data);
	assert_null(t->metadata);
	assert_null(t->type);
	assert_int_equal(t->nwrites, 0);
	assert_non_null(strstr(corral_store_errmsg(f->s), "checksum"));
	corral_tuple_free(t);
	r.checkpoint_id = NULL; /* the latest */
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_ECORRUPT);
	corral_tuple_free(t);
	assert_int_equal(corral_list(f->s, &o, seen_cb, &z), CORRAL_OK);
	assert_int_equal(z.n, 8);
	assert_int_equal(z.corrupt, 1);
	/* The others are intact. */
	t = get(f->s, "A", "", "1");
	assert_memory_equal(t->data, "A1", 2);
	corral_tuple_free(t);
}

static void
t_corrupt_data(void **state)
{
	struct fixture *f = *state;

	fill(f->s);
	corrupt(f, "UPDATE checkpoints SET checkpoint = X'4134'"
	    " WHERE thread_id = 'A' AND checkpoint_ns = '' AND"
	    " checkpoint_id = '3'");
	check_corrupt(f);
}

static void
t_corrupt_other(void **state)
{
	struct fixture *f = *state;
	struct corral_tuple *t;

	if (!f->sqlite && !f->pg)
		skip();
	fill(f->s);
	corrupt(f, "UPDATE checkpoints SET metadata = '{\"source\":\"lop\"}'"
	    " WHERE checkpoint_id = '3' AND thread_id = 'A'");
	check_corrupt(f);
	corrupt(f, "UPDATE checkpoints SET metadata = '{\"source\":\"loop\","
	    "\"step\":0,\"n\":{\"k\":[1,2]}}'"
	    " WHERE checkpoint_id = '3' AND thread_id = 'A'");
	write1(f->s, "A", "", "3", "task", "ch", "value");
	corrupt(f, "UPDATE checkpoints SET type = 'bytes'"
	    " WHERE checkpoint_id = '3' AND thread_id = 'A'");
	check_corrupt(f);
	corrupt(f, "UPDATE checkpoints SET type = 'json'"
	    " WHERE checkpoint_id = '3' AND thread_id = 'A'");
	t = get(f->s, "A", "", "3");
	assert_int_equal(t->nwrites, 1);
	corral_tuple_free(t);
}

static void
t_corrupt_write(void **state)
{
	struct fixture *f = *state;
	struct corral_tuple *t;

	if (!f->sqlite && !f->pg)
		skip();
	fill(f->s);
	write1(f->s, "A", "", "3", "task", "ch", "value");
	t = get(f->s, "A", "", "3");
	assert_int_equal(t->nwrites, 1);
	corral_tuple_free(t);
	corrupt(f, "UPDATE writes SET value = 'valuf'");
	check_corrupt(f);
}

static void
t_sqlite_reopen(void **state)
{
	struct fixture *f = *state;
	struct corral_store *s;
	struct corral_tuple *t;
	const char *why;
	sqlite3 *db;
	sqlite3_stmt *st;

	if (!f->sqlite)
		skip();
	fill(f->s);
	assert_int_equal(corral_store_open_sqlite(f->path,
	    CORRAL_DURABILITY_FULL, &s, &why), CORRAL_OK);
	t = get(s, "B", "child", NULL);
	assert_string_equal(t->checkpoint_id, "7");
	corral_tuple_free(t);
	corral_store_close(s);
	/* The file is LangGraph's schema, in WAL mode. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT parent_checkpoint_id,"
	    " CAST(checkpoint AS TEXT), metadata, type FROM checkpoints"
	    " WHERE thread_id = 'A' AND checkpoint_ns = '' AND checkpoint_id"
	    " = '3'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(sqlite3_column_text(st, 0), "1");
	assert_string_equal(sqlite3_column_text(st, 1), "A3");
	assert_string_equal(sqlite3_column_text(st, 3), "json");
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(corral_store_open_sqlite("/nonexistent/dir/x.db",
	    CORRAL_DURABILITY_NORMAL, &s, &why), CORRAL_EIO);
	assert_null(s);
	assert_non_null(why);
}

/*
 * The file deleted or replaced under an open handle: every write fails
 * with CORRAL_EMOVED, naming the path, and writes nothing; reads still
 * read the file the handle has.
 */
static void
t_moved(void **state)
{
	struct fixture *f = *state;
	struct corral_ref r = { "A", "", NULL };
	struct corral_checkpoint cp = { .data = "x", .len = 1 };
	struct corral_write w = { .channel = "ch", .value = "v", .len = 1 };
	struct corral_tuple *t = NULL;
	struct corral_store *s2;
	char other[128], id[CORRAL_ID_LEN];
	const char *why;

	assert_int_equal(corral_store_check(f->s), CORRAL_OK);
	if (!f->sqlite)
		return; /* nothing to move */
	assert_int_equal(corral_put(f->s, &r, &cp, id, sizeof(id)), 0);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(corral_store_check(f->s), CORRAL_EMOVED);
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EMOVED);
	assert_non_null(strstr(corral_store_errmsg(f->s), f->path));
	assert_non_null(strstr(corral_store_errmsg(f->s), "deleted"));
	r.checkpoint_id = id;
	assert_int_equal(corral_put_writes(f->s, &r, "t", &w, 1),
	    CORRAL_EMOVED);
	assert_int_equal(corral_delete_thread(f->s, "A"), CORRAL_EMOVED);
	assert_int_equal(corral_get_tuple(f->s, &r, &t), 0);
	corral_tuple_free(t);

	/* Made again at the path, or another renamed over it: replaced. */
	snprintf(other, sizeof(other), "%s/other.db", f->dir);
	assert_int_equal(corral_store_open_sqlite(other,
	    CORRAL_DURABILITY_NORMAL, &s2, &why), 0);
	corral_store_close(s2);
	assert_int_equal(rename(other, f->path), 0);
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EMOVED);
	assert_non_null(strstr(corral_store_errmsg(f->s), "replaced"));
	assert_int_equal(corral_strerror(CORRAL_EMOVED)[0] != '\0', 1);
	/* A handle opened on the new file is fine. */
	assert_int_equal(corral_store_open_sqlite(f->path,
	    CORRAL_DURABILITY_NORMAL, &s2, &why), 0);
	assert_int_equal(corral_put(s2, &r, &cp, NULL, 0), 0);
	/*
	 * Closing the old handle leaves the new file's -wal and -shm alone
	 * (SQLite checks the file is unmoved before it checkpoints and
	 * deletes them by name at close): the new file's writers go on.
	 */
	corral_store_close(f->s);
	f->s = NULL;
	snprintf(other, sizeof(other), "%s-wal", f->path);
	assert_int_equal(access(other, F_OK), 0);
	snprintf(other, sizeof(other), "%s-shm", f->path);
	assert_int_equal(access(other, F_OK), 0);
	assert_int_equal(corral_put(s2, &r, &cp, NULL, 0), 0);
	corral_store_close(s2);
}

/*
 * A damaged page (the checkpoints table's root, in the middle of the
 * file, not its header): reads and writes fail with CORRAL_EDAMAGED.
 */
static void
t_damaged(void **state)
{
	struct fixture *f = *state;
	struct corral_ref r = { "A", "", NULL };
	struct corral_checkpoint cp = { 0 };
	struct corral_list_opts lo = { "A", "", NULL, NULL, 0 };
	struct corral_tuple *t = NULL;
	static char data[512];
	size_t n = 0;
	sqlite3 *db;
	sqlite3_stmt *st;
	const char *why;
	char junk[4096];
	int i, root, psize, npages;
	FILE *fp;

	memset(data, 'd', sizeof(data));
	cp.data = data;
	cp.len = sizeof(data);
	for (i = 0; i < 200; i++)
		assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), 0);
	corral_store_close(f->s);
	f->s = NULL;
	/* The last connection closed: the WAL is in the file. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rootpage, "
	    "(SELECT page_size FROM pragma_page_size), (SELECT page_count "
	    "FROM pragma_page_count) FROM sqlite_master WHERE name = "
	    "'checkpoints'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	root = sqlite3_column_int(st, 0);
	psize = sqlite3_column_int(st, 1);
	npages = sqlite3_column_int(st, 2);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(root > 1 && root < npages && psize <= (int)sizeof(junk));
	memset(junk, 0x5a, sizeof(junk));
	assert_non_null(fp = fopen(f->path, "r+"));
	assert_int_equal(fseek(fp, (long)(root - 1) * psize, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, (size_t)psize, fp), (size_t)psize);
	fclose(fp);

	assert_int_equal(corral_store_open_sqlite(f->path,
	    CORRAL_DURABILITY_NORMAL, &f->s, &why), 0);
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_EDAMAGED);
	corral_tuple_free(t);
	assert_int_equal(corral_list(f->s, &lo, count_cb, &n),
	    CORRAL_EDAMAGED);
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EDAMAGED);
	assert_true(corral_is_storage_error(CORRAL_EDAMAGED));

	/* Not a database at all: the open says so. */
	corral_store_close(f->s);
	f->s = NULL;
	assert_non_null(fp = fopen(f->path, "r+"));
	assert_int_equal(fwrite(junk, 1, 100, fp), 100);
	fclose(fp);
	assert_int_equal(corral_store_open_sqlite(f->path,
	    CORRAL_DURABILITY_NORMAL, &f->s, &why), CORRAL_EDAMAGED);
	assert_non_null(strstr(why, "damaged"));
}

/* A short busy timeout: a held write lock fails a put at once. */
static void
t_busy_short(void **state)
{
	struct fixture *f = *state;
	struct corral_sqlite_opts o = { CORRAL_DURABILITY_NORMAL, 5 };
	struct corral_ref r = { "A", "", NULL };
	struct corral_checkpoint cp = { .data = "x", .len = 1 };
	struct corral_store *s2;
	struct timespec a, b;
	sqlite3 *db;
	const char *why;

	assert_int_equal(corral_store_open_sqlite_opts(f->path, &o, &s2,
	    &why), 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(corral_put(s2, &r, &cp, NULL, 0), CORRAL_EBUSY);
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* 5 ms asked; well under the default 10 s whatever the load. */
	assert_true((b.tv_sec - a.tv_sec) * 1000 +
	    (b.tv_nsec - a.tv_nsec) / 1000000 < 2000);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(corral_put(s2, &r, &cp, NULL, 0), 0);
	corral_store_close(s2);
}

/* Many processes write one database: no write fails, none is lost. */

#define NPROC 8
#define NPUT 5000

static int
child(const char *path, int k, int nput)
{
	char mine[24], prev_mine[CORRAL_ID_LEN] = "";
	char prev_shared[CORRAL_ID_LEN] = "", id[CORRAL_ID_LEN];
	static char data[1024];
	struct corral_ref r = { mine, "", NULL };
	struct corral_checkpoint cp = { .type = "bytes", .data = data,
		.len = sizeof(data) };
	struct corral_store *s;
	const char *why;
	int i, rc;

	snprintf(mine, sizeof(mine), "proc-%d", k);
	memset(data, 'a' + k, sizeof(data));
	if (corral_store_open(path, CORRAL_DURABILITY_NORMAL, &s, &why) !=
	    CORRAL_OK) {
		fprintf(stderr, "child %d: %s\n", k, why);
		return 1;
	}
	for (i = 0; i < nput; i++) {
		/* One put in 8 to the thread every process shares. */
		r.thread_id = i % 8 == 0 ? "shared" : mine;
		char *prev = i % 8 == 0 ? prev_shared : prev_mine;

		if ((rc = corral_put(s, &r, &cp, id, sizeof(id))) != 0) {
			fprintf(stderr, "child %d: put %d: %s: %s\n", k, i,
			    corral_strerror(rc), corral_store_errmsg(s));
			return 1;
		}
		if (strcmp(prev, id) >= 0) {
			fprintf(stderr, "child %d: %s after %s\n", k, id, prev);
			return 1;
		}
		memcpy(prev, id, sizeof(id));
	}
	corral_store_close(s);
	return 0;
}

static void
t_concurrent(void **state)
{
	struct fixture *f = *state;
	pid_t pids[NPROC];
	sqlite3 *db;
	sqlite3_stmt *st;
	int k, status;

	if (!f->sqlite)
		skip();
	for (k = 0; k < NPROC; k++) {
		pids[k] = fork();
		assert_true(pids[k] != -1);
		if (pids[k] == 0)
			_exit(child(f->path, k, NPUT));
	}
	for (k = 0; k < NPROC; k++) {
		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d: status %#x", k, status);
	}
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	    "SELECT count(*), count(DISTINCT checkpoint_id),"
	    " sum(thread_id = 'shared') FROM checkpoints", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), NPROC * NPUT);
	assert_int_equal(sqlite3_column_int(st, 1), NPROC * NPUT);
	assert_int_equal(sqlite3_column_int(st, 2), NPROC * NPUT / 8);
	sqlite3_finalize(st);
	/*
	 * Rows are inserted in commit order (rowid): in every thread, ids
	 * must rise with it, including the thread all processes share.
	 */
	assert_int_equal(sqlite3_prepare_v2(db,
	    "SELECT count(*) FROM (SELECT checkpoint_id, lag(checkpoint_id)"
	    " OVER (PARTITION BY thread_id ORDER BY rowid) AS prev"
	    " FROM checkpoints) WHERE prev >= checkpoint_id", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * PostgreSQL: many processes, one handle each, write one database: no
 * write fails, none is lost, and each sees its made ids rise in every
 * thread, the one they all share included.  Fewer puts than on SQLite:
 * each is a round trip or two to the server.
 */
#define PG_NPUT 300

static void
t_pg_concurrent(void **state)
{
	struct fixture *f = *state;
	pid_t pids[NPROC];
	int k, status;

	for (k = 0; k < NPROC; k++) {
		pids[k] = fork();
		assert_true(pids[k] != -1);
		if (pids[k] == 0)
			_exit(child(f->conninfo, k, PG_NPUT));
	}
	for (k = 0; k < NPROC; k++) {
		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d: status %#x", k, status);
	}
	assert_int_equal(pg_int("SELECT count(*) FROM corral_checkpoints"),
	    NPROC * PG_NPUT);
	assert_int_equal(pg_int("SELECT count(DISTINCT checkpoint_id) FROM"
	    " corral_checkpoints"), NPROC * PG_NPUT);
	assert_int_equal(pg_int("SELECT count(*) FROM corral_checkpoints"
	    " WHERE thread_id = 'shared'"), NPROC * ((PG_NPUT + 7) / 8));
}

/* Cases of the API LangGraph's saver contract added (schema version 2). */

/* A channel of a put: a version, a value (x a literal), "empty". */
#define VER(c, v) { .channel = (c), .version = (v) }
#define CH(c, v, x) { .channel = (c), .version = (v), .type = "json", \
	.value = (x), .len = sizeof(x) - 1 }
#define EMPTY(c, v) { .channel = (c), .version = (v), .type = "empty" }

/* Puts id with versions and values under thread t. */
static void
put_ch(struct corral_store *s, const char *t, const char *parent,
    const char *id, const struct corral_channel *vers, size_t nv,
    const struct corral_channel *vals, size_t nval)
{
	struct corral_ref ref = { t, "", parent };
	struct corral_checkpoint cp = { .id = id, .type = "json", .data = "{}",
		.len = 2, .versions = vers, .nversions = nv, .values = vals,
		.nvalues = nval };

	assert_int_equal(corral_put(s, &ref, &cp, NULL, 0), CORRAL_OK);
}

/* A tuple's channels as text: "channel@version=value ...". */
static const char *
channels_text(const struct corral_tuple *t)
{
	static char buf[1024];
	size_t i, l;

	buf[0] = '\0';
	for (i = 0; i < t->nchannels; i++) {
		l = strlen(buf);
		assert_non_null(t->channels[i].type);
		snprintf(buf + l, sizeof(buf) - l, "%s%s@%s=%.*s",
		    i ? " " : "", t->channels[i].channel, t->channels[i].version,
		    (int)t->channels[i].len,
		    (const char *)t->channels[i].value);
	}
	return buf;
}

static const char *
get_channels(struct corral_store *s, const char *t, const char *id)
{
	struct corral_tuple *g = get(s, t, "", id);
	const char *c = channels_text(g);

	corral_tuple_free(g);
	return c;
}

/*
 * LangGraph's "should only store channel_values that have changed": the
 * same channel_values and versions put three times, the new versions {},
 * {foo:1}, then {foo:1, baz:1}.
 */
static void
t_channels_changed(void **state)
{
	struct fixture *f = *state;
	struct corral_channel vers[] = { VER("foo", "1"),
		VER("baz", "1") };
	struct corral_channel vals[] = { CH("foo", "1", "\"foo\""),
		CH("baz", "1", "\"baz\"") };

	put_ch(f->s, "t", NULL, "1", vers, 2, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "1"), "");
	put_ch(f->s, "t", "1", "2", vers, 2, vals, 1);
	assert_string_equal(get_channels(f->s, "t", "2"), "foo@1=\"foo\"");
	put_ch(f->s, "t", "2", "3", vers, 2, vals, 2);
	assert_string_equal(get_channels(f->s, "t", "3"),
	    "foo@1=\"foo\" baz@1=\"baz\"");
	/* A value is its checkpoint's and its descendants', not an elder's. */
	assert_string_equal(get_channels(f->s, "t", "1"), "");
}

/*
 * "channels carried over from an ancestor": the child writes only
 * stepCount, and still has the parent's messages.
 */
static void
t_channels_ancestor(void **state)
{
	struct fixture *f = *state;
	struct corral_channel v1[] = { VER("messages", "1"),
		VER("stepCount", "1") };
	struct corral_channel x1[] = { CH("messages", "1", "[\"hi\"]"),
		CH("stepCount", "1", "1") };
	struct corral_channel v2[] = { VER("messages", "1"),
		VER("stepCount", "2") };
	struct corral_channel x2[] = { CH("stepCount", "2", "2") };
	struct corral_tuple *t;

	put_ch(f->s, "t", NULL, "1", v1, 2, x1, 2);
	put_ch(f->s, "t", "1", "2", v2, 2, x2, 1);
	t = get(f->s, "t", "", NULL);
	assert_string_equal(t->checkpoint_id, "2");
	assert_string_equal(channels_text(t),
	    "messages@1=[\"hi\"] stepCount@2=2");
	assert_string_equal(t->channels[0].type, "json");
	corral_tuple_free(t);
	assert_string_equal(get_channels(f->s, "t", "1"),
	    "messages@1=[\"hi\"] stepCount@1=1");
	/* Another namespace or thread has values of its own. */
	t = NULL;
	put_ch(f->s, "u", NULL, "1", v1, 2, NULL, 0);
	assert_string_equal(get_channels(f->s, "u", "1"), "");
}

/*
 * "empty" keeps no value and hides none; a put's own value is its own,
 * whatever another checkpoint has for that version; channels come in the
 * order of the put's versions.
 */
static void
t_channels_empty_first(void **state)
{
	struct fixture *f = *state;
	struct corral_channel vers[] = { VER("z", "1"), VER("a", "2"),
		VER("m", "1"), VER("gone", "9") };
	struct corral_channel first[] = { CH("z", "1", "\"z1\""),
		EMPTY("a", "2"), CH("m", "1", "\"m1\"") };
	struct corral_channel again[] = { CH("z", "1", "\"other\""),
		CH("a", "2", "\"a2\""), EMPTY("m", "1") };
	struct corral_channel novers[] = { VER("z", "1") };
	struct corral_channel bin = { .channel = "b", .version = "1",
		.type = "bytes", .value = "\0\1", .len = 2 };
	struct corral_channel binv = { .channel = "b", .version = "1" };
	struct corral_tuple *t;

	put_ch(f->s, "t", NULL, "1", vers, 4, first, 3);
	assert_string_equal(get_channels(f->s, "t", "1"),
	    "z@1=\"z1\" m@1=\"m1\"");
	put_ch(f->s, "t", "1", "2", vers, 4, again, 3);
	assert_string_equal(get_channels(f->s, "t", "2"),
	    "z@1=\"other\" a@2=\"a2\"");
	/* A value its versions do not name is stored, and not read. */
	put_ch(f->s, "t", NULL, "3", NULL, 0, &bin, 1);
	assert_string_equal(get_channels(f->s, "t", "3"), "");
	put_ch(f->s, "t", "3", "4", &binv, 1, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "4"), "");
	put_ch(f->s, "t", "3", "4", &binv, 1, &bin, 1);
	t = get(f->s, "t", "", "4");
	assert_int_equal(t->nchannels, 1);
	assert_string_equal(t->channels[0].type, "bytes");
	assert_int_equal(t->channels[0].len, 2);
	assert_memory_equal(t->channels[0].value, "\0\1", 2);
	corral_tuple_free(t);
	/* A put without versions has no channels; a replace drops them. */
	put_ch(f->s, "t", NULL, "1", novers, 0, NULL, 0);
	t = get(f->s, "t", "", "1");
	assert_int_equal(t->nchannels, 0);
	assert_null(t->channels);
	corral_tuple_free(t);
}

/* metadata_type is stored and given back; NULL when none was given. */
static void
t_metadata_type(void **state)
{
	struct fixture *f = *state;
	struct corral_ref ref = { "t", "", NULL };
	struct corral_checkpoint cp = { .id = "1", .data = "x", .len = 1,
		.metadata = "{\"a\":1}", .metadata_type = "json" };
	struct corral_tuple *t;

	assert_int_equal(corral_put(f->s, &ref, &cp, NULL, 0), CORRAL_OK);
	cp.id = "2";
	cp.metadata_type = NULL;
	assert_int_equal(corral_put(f->s, &ref, &cp, NULL, 0), CORRAL_OK);
	t = get(f->s, "t", "", "1");
	assert_string_equal(t->metadata_type, "json");
	assert_string_equal(t->metadata, "{\"a\":1}");
	corral_tuple_free(t);
	t = get(f->s, "t", "", "2");
	assert_null(t->metadata_type);
	corral_tuple_free(t);
	assert_string_equal(list(f->s, NULL, NULL, NULL, "{\"a\":1}", 0),
	    "t/-/2 t/-/1");
}

/* A tuple's or get_writes's writes: "path:task.idx.channel=value ...". */
static const char *
writes_path_text(const struct corral_write *w, size_t n)
{
	static char buf[1024];
	size_t i, l;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		l = strlen(buf);
		assert_non_null(w[i].task_path);
		snprintf(buf + l, sizeof(buf) - l, "%s%s:%s.%d.%s=%.*s",
		    i ? " " : "", w[i].task_path, w[i].task_id, w[i].idx,
		    w[i].channel, (int)w[i].len, (const char *)w[i].value);
	}
	return buf;
}

static void
write_path(struct corral_store *s, const char *id, const char *task,
    const char *path, const char *channel, const char *v)
{
	struct corral_ref ref = { "t", "", id };
	struct corral_write w[] = { WR(channel, "json", v, strlen(v)),
		WR(channel, "json", v, strlen(v)) };

	assert_int_equal(corral_put_writes_path(s, &ref, task, path, w, 2),
	    CORRAL_OK);
}

static int
path_cb(void *arg, const struct corral_tuple *t)
{
	snprintf(arg, 1024, "%s", writes_path_text(t->writes, t->nwrites));
	return 1;
}

/*
 * Writes in LangGraph's MemorySaver's order, (task_path, task_id, idx)
 * by bytes, in get, in both shapes of list and in get_writes.
 */
static void
t_task_path(void **state)
{
	struct fixture *f = *state;
	static const char want[] = ":c.0.x=3 :c.1.x=3 ~0:b.0.x=1 ~0:b.1.x=1"
	    " ~0:d.0.x=4 ~0:d.1.x=4 ~1:a.0.x=2 ~1:a.1.x=2";
	struct corral_ref ref = { "t", "", "1" };
	struct corral_list_opts o = { 0 };
	struct corral_write *w;
	struct corral_tuple *t;
	char text[1024];
	size_t n;

	put(f->s, "t", "", NULL, "1", "x", NULL);
	write_path(f->s, "1", "b", "~0", "x", "1");
	write_path(f->s, "1", "a", "~1", "x", "2");
	write_path(f->s, "1", "c", NULL, "x", "3");
	write_path(f->s, "1", "d", "~0", "x", "4");
	/* A repeated regular write keeps the first, path and all. */
	write_path(f->s, "1", "d", "~9", "x", "5");
	t = get(f->s, "t", "", "1");
	assert_string_equal(writes_path_text(t->writes, t->nwrites), want);
	corral_tuple_free(t);
	assert_int_equal(corral_get_writes(f->s, &ref, NULL, &w, &n),
	    CORRAL_OK);
	assert_string_equal(writes_path_text(w, n), want);
	free(w);
	o.thread_id = "t";
	o.checkpoint_ns = "";
	assert_int_equal(corral_list(f->s, &o, path_cb, text), CORRAL_OK);
	assert_string_equal(text, want);
	o.checkpoint_ns = NULL;
	assert_int_equal(corral_list(f->s, &o, path_cb, text), CORRAL_OK);
	assert_string_equal(text, want);
}

/*
 * get_writes: by channel, in a tuple's order; LangGraph's pending sends
 * of a checkpoint of format < 4 are its parent's __pregel_tasks writes.
 */
static void
t_get_writes(void **state)
{
	struct fixture *f = *state;
	struct corral_ref ref = { "thread-1", "", NULL };
	struct corral_write t1[] = {
		WR("__pregel_tasks", "json", "\"send-1\"", 8),
		WR("__pregel_tasks", "json", "\"send-2\"", 8),
		WR("other", "json", "1", 1) };
	struct corral_write t2[] = {
		WR("__pregel_tasks", "json", "\"send-3\"", 8) };
	struct corral_write *w = (void *)1;
	char parent[CORRAL_KEY_MAX + 1];
	size_t n = 9;

	snprintf(parent, sizeof(parent), "%s",
	    put(f->s, "thread-1", "", NULL, NULL, "{\"v\":3}", NULL));
	ref.checkpoint_id = parent;
	assert_int_equal(corral_get_writes(f->s, &ref, NULL, &w, &n),
	    CORRAL_OK);
	assert_null(w);
	assert_int_equal(n, 0);
	assert_int_equal(corral_put_writes(f->s, &ref, "task-2", t2, 1),
	    CORRAL_OK);
	assert_int_equal(corral_put_writes(f->s, &ref, "task-1", t1, 3),
	    CORRAL_OK);
	put(f->s, "thread-1", "", parent, NULL, "{\"v\":3}", NULL);
	assert_int_equal(corral_get_writes(f->s, &ref, "__pregel_tasks", &w,
	    &n), CORRAL_OK);
	assert_string_equal(writes_path_text(w, n),
	    ":task-1.0.__pregel_tasks=\"send-1\" "
	    ":task-1.1.__pregel_tasks=\"send-2\" "
	    ":task-2.0.__pregel_tasks=\"send-3\"");
	free(w);
	assert_int_equal(corral_get_writes(f->s, &ref, NULL, &w, &n),
	    CORRAL_OK);
	assert_int_equal(n, 4);
	free(w);
	assert_int_equal(corral_get_writes(f->s, &ref, "none", &w, &n),
	    CORRAL_OK);
	assert_int_equal(n, 0);
	ref.checkpoint_id = NULL;
	assert_int_equal(corral_get_writes(f->s, &ref, NULL, &w, &n),
	    CORRAL_EINVAL);
	assert_non_null(strstr(corral_store_errmsg(f->s), "checkpoint_id"));
}

/* Every key, 4095 bytes fine, 4096 refused naming the field. */
static void
t_long_keys(void **state)
{
	struct fixture *f = *state;
	static char big[CORRAL_KEY_MAX + 2], max[CORRAL_KEY_MAX + 1];
	struct corral_ref r = { "t", "", "1" };
	struct corral_channel c = { .channel = "c", .version = "1",
		.type = "json", .value = "1", .len = 1 };
	struct corral_checkpoint cp = { .id = "1", .data = "x", .len = 1,
		.versions = &c, .nversions = 1, .values = &c, .nvalues = 1 };
	struct corral_write w = WR("ch", NULL, "v", 1), *ws;
	struct corral_tuple *t;
	size_t n;

	memset(big, 'k', sizeof(big) - 1);
	memcpy(max, big, CORRAL_KEY_MAX);
	assert_int_equal(corral_put_writes_path(f->s, &r, "task", big, &w, 1),
	    CORRAL_EINVAL);
	assert_non_null(strstr(corral_store_errmsg(f->s), "task_path"));
	w.channel = big;
	assert_int_equal(corral_put_writes(f->s, &r, "task", &w, 1),
	    CORRAL_EINVAL);
	assert_non_null(strstr(corral_store_errmsg(f->s), "channel"));
	assert_int_equal(corral_get_writes(f->s, &r, big, &ws, &n),
	    CORRAL_EINVAL);
	c.channel = big;
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EINVAL);
	assert_non_null(strstr(corral_store_errmsg(f->s), "versions 0"));
	assert_non_null(strstr(corral_store_errmsg(f->s), "channel"));
	c.channel = "c";
	c.version = big;
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EINVAL);
	assert_non_null(strstr(corral_store_errmsg(f->s), "version"));
	cp.nversions = 0;
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EINVAL);
	assert_non_null(strstr(corral_store_errmsg(f->s), "values 0"));
	c.version = NULL;
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_EINVAL);
	/* CORRAL_KEY_MAX is fine in each. */
	c.channel = max;
	c.version = max;
	cp.nversions = 1;
	assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0), CORRAL_OK);
	w.channel = max;
	assert_int_equal(corral_put_writes_path(f->s, &r, max, max, &w, 1),
	    CORRAL_OK);
	t = get(f->s, "t", "", "1");
	assert_int_equal(t->nchannels, 1);
	assert_string_equal(t->channels[0].channel, max);
	assert_string_equal(t->channels[0].version, max);
	assert_int_equal(t->nwrites, 1);
	assert_string_equal(t->writes[0].task_path, max);
	assert_string_equal(t->writes[0].channel, max);
	corral_tuple_free(t);
	assert_int_equal(corral_get_writes(f->s, &r, max, &ws, &n), CORRAL_OK);
	assert_int_equal(n, 1);
	free(ws);
}

/* What a cursor gives, as list's seen_cb would have it. */
static const char *
cursor_text(struct corral_store *s, const struct corral_list_opts *o)
{
	static struct seen z;
	struct corral_cursor *c;
	const struct corral_tuple *t;
	int rc;

	memset(&z, 0, sizeof(z));
	assert_int_equal(corral_list_open(s, o, &c), CORRAL_OK);
	while ((rc = corral_list_next(c, &t)) == CORRAL_OK ||
	    rc == CORRAL_ECORRUPT)
		seen_cb(&z, t);
	assert_int_equal(rc, CORRAL_NOTFOUND);
	/* Past the end it stays there. */
	assert_int_equal(corral_list_next(c, &t), CORRAL_NOTFOUND);
	corral_list_close(c);
	return z.text;
}

/* A cursor gives what list gives, with every option. */
static void
t_cursor_like_list(void **state)
{
	struct fixture *f = *state;
	static const struct corral_list_opts c[] = {
		{ 0 },
		{ .thread_id = "A" },
		{ .thread_id = "A", .checkpoint_ns = "" },
		{ .thread_id = "", .checkpoint_ns = "child" },
		{ .checkpoint_ns = "" },
		{ .before = "5" },
		{ .thread_id = "B", .before = "5" },
		{ .thread_id = "B", .checkpoint_ns = "child", .before = "7" },
		{ .filter = "{\"source\":\"loop\"}" },
		{ .filter = "{}" },
		{ .thread_id = "A", .filter = "{\"source\":\"input\"}" },
		{ .limit = 1 },
		{ .limit = 3 },
		{ .thread_id = "A", .checkpoint_ns = "", .limit = 1 },
		{ .checkpoint_ns = "child", .limit = 2, .before = "7" },
		{ .thread_id = "missing" },
	};
	struct corral_cursor *cur = (void *)1;
	struct corral_list_opts bad = { .filter = "[1]" };
	struct seen z;
	size_t i;
	char want[8192];

	fill(f->s);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&z, 0, sizeof(z));
		assert_int_equal(corral_list(f->s, &c[i], seen_cb, &z),
		    CORRAL_OK);
		snprintf(want, sizeof(want), "%s", z.text);
		assert_string_equal(cursor_text(f->s, &c[i]), want);
	}
	assert_int_equal(corral_list_open(f->s, &bad, &cur), CORRAL_EINVAL);
	assert_null(cur);
	corral_list_close(NULL);
}

/*
 * The store called between nexts: keyset semantics (a put is seen iff it
 * sorts after the last key given, a deleted one is not), across pages,
 * and the tuple next gave survives get_tuple.
 */
static void
t_cursor_interleaved(void **state)
{
	struct fixture *f = *state;
	struct corral_list_opts o = { .thread_id = "t", .checkpoint_ns = "" };
	struct corral_list_opts all = { 0 };
	struct corral_cursor *c;
	const struct corral_tuple *t;
	struct corral_tuple *g;
	char id[16];
	int i, n;

	for (i = 100; i < 400; i += 2) {
		snprintf(id, sizeof(id), "%d", i);
		put(f->s, "t", "", NULL, id, id, NULL);
	}
	assert_int_equal(corral_list_open(f->s, &o, &c), CORRAL_OK);
	assert_int_equal(corral_list_next(c, &t), CORRAL_OK);
	assert_string_equal(t->checkpoint_id, "398");
	/* Before the cursor: not seen.  After it: seen. */
	put(f->s, "t", "", NULL, "399", "new", NULL);
	put(f->s, "t", "", NULL, "397", "new", NULL);
	g = get(f->s, "t", "", "100");
	assert_string_equal(t->checkpoint_id, "398");
	assert_memory_equal(t->data, "398", 3);
	corral_tuple_free(g);
	assert_int_equal(corral_list_next(c, &t), CORRAL_OK);
	assert_string_equal(t->checkpoint_id, "397");
	assert_memory_equal(t->data, "new", 3);
	for (n = 0; n < 140; n++)
		assert_int_equal(corral_list_next(c, &t), CORRAL_OK);
	assert_string_equal(t->checkpoint_id, "118");
	/* Gone while iterating: the rest is not seen. */
	assert_int_equal(corral_delete_thread(f->s, "t"), CORRAL_OK);
	assert_int_equal(corral_list_next(c, &t), CORRAL_NOTFOUND);
	corral_list_close(c);

	/* Across threads: another thread's rows deleted midway. */
	fill(f->s);
	assert_int_equal(corral_list_open(f->s, &all, &c), CORRAL_OK);
	assert_int_equal(corral_list_next(c, &t), CORRAL_OK);
	assert_string_equal(t->checkpoint_id, "7");
	assert_int_equal(corral_delete_thread(f->s, "B"), CORRAL_OK);
	put(f->s, "C", "", NULL, "6", "C6", NULL); /* sorts after B/child/7 */
	put(f->s, "C", "", NULL, "8", "C8", NULL); /* before: not seen */
	i = 0;
	while (corral_list_next(c, &t) == CORRAL_OK) {
		snprintf(id, sizeof(id), "%s/%s", t->thread_id,
		    t->checkpoint_id);
		assert_true(strcmp(t->thread_id, "B") != 0);
		assert_true(strcmp(id, "C/8") != 0);
		i++;
	}
	assert_int_equal(i, 5); /* C/6 A/child/6 A/3 A/child/2 A/1 */
	corral_list_close(c);
}

/* delete_thread takes the thread's channel values too (inline). */
static void
t_delete_values(void **state)
{
	struct fixture *f = *state;
	struct corral_channel v[] = { VER("c", "1") };
	struct corral_channel x[] = { CH("c", "1", "\"old\"") };
	struct corral_channel y[] = { CH("c", "1", "\"new\"") };
	sqlite3 *db;
	sqlite3_stmt *st;

	put_ch(f->s, "t", NULL, "1", v, 1, x, 1);
	put_ch(f->s, "u", NULL, "1", v, 1, x, 1);
	assert_int_equal(corral_delete_thread(f->s, "t"), CORRAL_OK);
	put_ch(f->s, "t", NULL, "1", v, 1, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "1"), "");
	put_ch(f->s, "t", NULL, "1", v, 1, y, 1);
	assert_string_equal(get_channels(f->s, "t", "1"), "c@1=\"new\"");
	assert_string_equal(get_channels(f->s, "u", "1"), "c@1=\"old\"");
	if (!f->sqlite)
		return;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM"
	    " checkpoints WHERE thread_id = 't'", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Flips a bit of the first byte of a blob column of a row, in SQL. */
static void
flip_blob(const char *path, const char *column, const char *id)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	unsigned char b[4096];
	char q[256];
	int n;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(q, sizeof(q), "SELECT %s FROM checkpoints WHERE"
	    " checkpoint_id = ?1", column);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_bytes(st, 0);
	assert_true(n > 0 && n <= (int)sizeof(b));
	memcpy(b, sqlite3_column_blob(st, 0), (size_t)n);
	sqlite3_finalize(st);
	b[0] ^= 0x01;
	snprintf(q, sizeof(q), "UPDATE checkpoints SET %s = ?1 WHERE"
	    " checkpoint_id = ?2", column);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, b, n, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * Inline values that fail their checksum: the tuple is corrupt, and so is
 * every tuple that reads a value from that row (its origin).
 */
static void
t_corrupt_value(void **state)
{
	struct fixture *f = *state;
	struct corral_channel v[] = { VER("c", "1") };
	struct corral_channel x[] = { CH("c", "1", "\"val\"") };
	struct corral_ref r = { "t", "", "1" };
	struct corral_list_opts o = { .thread_id = "t" };
	struct corral_cursor *c;
	const struct corral_tuple *ct;
	struct corral_tuple *t;
	struct seen z = { 0 };

	put_ch(f->s, "t", NULL, "1", v, 1, x, 1);
	put_ch(f->s, "t", "1", "2", NULL, 0, NULL, 0);
	put_ch(f->s, "t", "1", "3", v, 1, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "3"), "c@1=\"val\"");
	if (f->sqlite)
		flip_blob(f->path, "channel_values", "1");
	else if (f->pg)
		pg_exec("UPDATE corral_checkpoints SET channel_values ="
		    " set_byte(channel_values, 0, get_byte(channel_values, 0)"
		    " # 1) WHERE checkpoint_id = '1'");
	else
		assert_int_equal(store_memory_poke_value(f->s, "t", "", "1"),
		    CORRAL_OK);
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_ECORRUPT);
	assert_non_null(t);
	assert_true(t->corrupt);
	assert_string_equal(t->thread_id, "t");
	assert_string_equal(t->checkpoint_id, "1");
	assert_null(t->data);
	assert_int_equal(t->nchannels, 0);
	corral_tuple_free(t);
	r.checkpoint_id = "3";
	assert_int_equal(corral_get_tuple(f->s, &r, &t), CORRAL_ECORRUPT);
	assert_true(t->corrupt);
	assert_string_equal(t->checkpoint_id, "3");
	corral_tuple_free(t);
	assert_int_equal(corral_list(f->s, &o, seen_cb, &z), CORRAL_OK);
	assert_int_equal(z.n, 3);
	assert_int_equal(z.corrupt, 2);
	assert_int_equal(corral_list_open(f->s, &o, &c), CORRAL_OK);
	assert_int_equal(corral_list_next(c, &ct), CORRAL_ECORRUPT);
	assert_string_equal(ct->checkpoint_id, "3");
	assert_int_equal(corral_list_next(c, &ct), CORRAL_OK);
	assert_string_equal(ct->checkpoint_id, "2");
	assert_int_equal(corral_list_next(c, &ct), CORRAL_ECORRUPT);
	assert_non_null(ct);
	assert_true(ct->corrupt);
	assert_string_equal(ct->checkpoint_id, "1");
	assert_int_equal(corral_list_next(c, &ct), CORRAL_NOTFOUND);
	corral_list_close(c);
	/* A corrupt parent's versions fail a put that would read them. */
	if (f->sqlite)
		flip_blob(f->path, "versions", "3");
	else if (f->pg)
		pg_exec("UPDATE corral_checkpoints SET versions ="
		    " set_byte(versions, 0, get_byte(versions, 0) # 1)"
		    " WHERE checkpoint_id = '3'");
	else
		return;
	r.checkpoint_id = "3";
	{
		struct corral_checkpoint cp = { .id = "4", .data = "{}",
			.len = 2, .versions = v, .nversions = 1 };

		assert_int_equal(corral_put(f->s, &r, &cp, NULL, 0),
		    CORRAL_ECORRUPT);
		assert_non_null(strstr(corral_store_errmsg(f->s), "parent 3"));
	}
}

/*
 * Where a tuple's value comes from: the put's own value; else the
 * parent's for the same version (wherever the parent got it); else none,
 * the channel left out.  No other checkpoint of the thread counts.
 */
static void
t_channels_origin(void **state)
{
	struct fixture *f = *state;
	struct corral_channel v1[] = { VER("c", "1"), VER("d", "1") };
	struct corral_channel a[] = { CH("c", "1", "\"A\""),
		CH("d", "1", "\"D\"") };
	struct corral_channel b[] = { CH("c", "1", "\"B\"") };
	struct corral_channel v2[] = { VER("c", "2"), VER("d", "1") };

	put_ch(f->s, "t", NULL, "1", v1, 2, a, 2);
	put_ch(f->s, "t", "1", "2", v1, 2, b, 1);
	assert_string_equal(get_channels(f->s, "t", "2"),
	    "c@1=\"B\" d@1=\"D\"");
	put_ch(f->s, "t", "2", "3", v1, 2, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "3"),
	    "c@1=\"B\" d@1=\"D\"");
	put_ch(f->s, "t", "1", "4", v1, 2, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "4"),
	    "c@1=\"A\" d@1=\"D\"");
	/* No parent, or another version than the parent's: none. */
	put_ch(f->s, "t", NULL, "5", v1, 2, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "5"), "");
	put_ch(f->s, "t", "3", "6", v2, 2, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "6"), "d@1=\"D\"");
	/* A parent that does not exist is no parent. */
	put_ch(f->s, "t", "9", "7", v1, 2, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "7"), "");
	assert_string_equal(get_channels(f->s, "t", "1"),
	    "c@1=\"A\" d@1=\"D\"");
}

/*
 * Two children of one parent both write version 2 of a channel, with
 * different values (a replay from the parent): each branch reads its
 * own, and so do their children.
 */
static void
t_channels_fork(void **state)
{
	struct fixture *f = *state;
	struct corral_channel v1[] = { VER("m", "1"), VER("k", "1") };
	struct corral_channel x1[] = { CH("m", "1", "[0]"), CH("k", "1", "0") };
	struct corral_channel v2[] = { VER("m", "2"), VER("k", "1") };
	struct corral_channel xa[] = { CH("m", "2", "[\"a\"]") };
	struct corral_channel xb[] = { CH("m", "2", "[\"b\"]") };

	put_ch(f->s, "t", NULL, "1", v1, 2, x1, 2);
	put_ch(f->s, "t", "1", "2a", v2, 2, xa, 1);
	put_ch(f->s, "t", "1", "2b", v2, 2, xb, 1);
	put_ch(f->s, "t", "2a", "3a", v2, 2, NULL, 0);
	put_ch(f->s, "t", "2b", "3b", v2, 2, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "2a"),
	    "m@2=[\"a\"] k@1=0");
	assert_string_equal(get_channels(f->s, "t", "2b"),
	    "m@2=[\"b\"] k@1=0");
	assert_string_equal(get_channels(f->s, "t", "3a"),
	    "m@2=[\"a\"] k@1=0");
	assert_string_equal(get_channels(f->s, "t", "3b"),
	    "m@2=[\"b\"] k@1=0");
}

/*
 * The same key put again keeps the values its descendants read from it;
 * its own channels are the new put's.
 */
static void
t_channels_replace(void **state)
{
	struct fixture *f = *state;
	struct corral_channel vc[] = { VER("c", "1") };
	struct corral_channel xc[] = { CH("c", "1", "\"A\"") };
	struct corral_channel vd[] = { VER("d", "1") };
	struct corral_channel xd[] = { CH("d", "1", "\"D\"") };
	struct corral_channel vcd[] = { VER("c", "1"), VER("d", "1") };
	struct corral_channel xz[] = { CH("c", "1", "\"Z\"") };

	put_ch(f->s, "t", NULL, "1", vc, 1, xc, 1);
	put_ch(f->s, "t", "1", "2", vc, 1, NULL, 0);
	put_ch(f->s, "t", NULL, "1", vd, 1, xd, 1);
	assert_string_equal(get_channels(f->s, "t", "1"), "d@1=\"D\"");
	assert_string_equal(get_channels(f->s, "t", "2"), "c@1=\"A\"");
	/* The row still holds c@1: a put naming it without a value has it. */
	put_ch(f->s, "t", NULL, "1", vcd, 2, NULL, 0);
	assert_string_equal(get_channels(f->s, "t", "1"),
	    "c@1=\"A\" d@1=\"D\"");
	/* A new value of the same version replaces it, for all who read it. */
	put_ch(f->s, "t", NULL, "1", vc, 1, xz, 1);
	assert_string_equal(get_channels(f->s, "t", "1"), "c@1=\"Z\"");
	assert_string_equal(get_channels(f->s, "t", "2"), "c@1=\"Z\"");
}

/* Lists a thread's channels of a, with a cursor: "id:channels;..." */
static const char *
cursor_channels(struct corral_store *s, const char *before, unsigned limit)
{
	static char buf[8192];
	struct corral_list_opts o = { .thread_id = "t", .checkpoint_ns = "",
		.before = before, .limit = limit };
	struct corral_cursor *c;
	const struct corral_tuple *t;
	size_t l;
	int rc;

	buf[0] = '\0';
	assert_int_equal(corral_list_open(s, &o, &c), CORRAL_OK);
	while ((rc = corral_list_next(c, &t)) == CORRAL_OK) {
		l = strlen(buf);
		snprintf(buf + l, sizeof(buf) - l, "%s:%s;", t->checkpoint_id,
		    channels_text(t));
	}
	assert_int_equal(rc, CORRAL_NOTFOUND);
	corral_list_close(c);
	return buf;
}

/*
 * A chain of 50: "a" written at the first checkpoint only, "n" at each.
 * The last still reads a's value, by get, list and a cursor whose page
 * holds none of the origins.
 */
static void
t_channels_chain(void **state)
{
	struct fixture *f = *state;
	struct corral_channel v[2] = { VER("a", "1"), VER("n", NULL) };
	struct corral_channel x[2] = { CH("a", "1", "\"A\""),
		{ .channel = "n", .type = "json" } };
	char ids[51][8], vers[51][8], val[51][8], want[4096];
	struct corral_tuple *t;
	int i;

	for (i = 1; i <= 50; i++) {
		snprintf(ids[i], sizeof(ids[i]), "c%02d", i);
		snprintf(vers[i], sizeof(vers[i]), "%d", i);
		snprintf(val[i], sizeof(val[i]), "%d", i);
		v[1].version = x[1].version = vers[i];
		x[1].value = val[i];
		x[1].len = strlen(val[i]);
		if (i == 1)
			put_ch(f->s, "t", NULL, ids[i], v, 2, x, 2);
		else
			put_ch(f->s, "t", ids[i - 1], ids[i], v, 2, &x[1], 1);
	}
	t = get(f->s, "t", "", NULL);
	assert_string_equal(t->checkpoint_id, "c50");
	assert_string_equal(channels_text(t), "a@1=\"A\" n@50=50");
	corral_tuple_free(t);
	assert_string_equal(get_channels(f->s, "t", "c25"),
	    "a@1=\"A\" n@25=25");
	/* A page of five, its origin for a twenty rows further. */
	assert_string_equal(cursor_channels(f->s, "c25", 3),
	    "c24:a@1=\"A\" n@24=24;c23:a@1=\"A\" n@23=23;"
	    "c22:a@1=\"A\" n@22=22;");
	snprintf(want, sizeof(want), "%s", cursor_channels(f->s, NULL, 0));
	assert_non_null(strstr(want, "c50:a@1=\"A\" n@50=50;c49:"));
	assert_non_null(strstr(want, "c02:a@1=\"A\" n@2=2;"
	    "c01:a@1=\"A\" n@1=1;"));
	/* Every namespace at once: the other list's shape. */
	assert_string_equal(list(f->s, "t", NULL, "c03", NULL, 0),
	    "t/-/c02 t/-/c01");
}

/*
 * A database of schema version 1 (the tables as libcorral made them
 * before corral_schema), with rows and checksums that code wrote:
 * migrated in place at open, by one of several processes opening it at
 * once; its rows read back intact, new ones written beside them.
 */
#define V1_SCHEMA \
    "CREATE TABLE IF NOT EXISTS checkpoints (" \
    " thread_id TEXT NOT NULL," \
    " checkpoint_ns TEXT NOT NULL DEFAULT ''," \
    " checkpoint_id TEXT NOT NULL," \
    " parent_checkpoint_id TEXT," \
    " type TEXT," \
    " checkpoint BLOB," \
    " metadata BLOB," \
    " created_ms INTEGER," \
    " checksum INTEGER," \
    " PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id));" \
    "CREATE TABLE IF NOT EXISTS writes (" \
    " thread_id TEXT NOT NULL," \
    " checkpoint_ns TEXT NOT NULL DEFAULT ''," \
    " checkpoint_id TEXT NOT NULL," \
    " task_id TEXT NOT NULL," \
    " idx INTEGER NOT NULL," \
    " channel TEXT NOT NULL," \
    " type TEXT," \
    " value BLOB," \
    " checksum INTEGER," \
    " PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx));"

/* The checksums version 1's code gave these rows (not recomputed here). */
#define V1_ROWS \
    "INSERT INTO checkpoints VALUES ('t', '', '1', NULL, 'json'," \
    " CAST('{\"v\":1}' AS BLOB), '{\"step\":1}', 1000, 2556595919);" \
    "INSERT INTO checkpoints VALUES ('t', '', '2', '1', 'json'," \
    " CAST('{\"v\":1}' AS BLOB), '{\"step\":1}', 1001, 2556595919);" \
    "INSERT INTO writes VALUES ('t', '', '1', 'task', 0, 'ch', 'json'," \
    " CAST('\"w\"' AS BLOB), 2618334936);"

static int
sql_int(const char *path, const char *q)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
sql_exec(const char *path, const char *q)
{
	sqlite3 *db;
	char *err = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
	sqlite3_close(db);
}

static void
t_migrate(void **state)
{
	struct fixture *f = *state;
	struct corral_channel v = { .channel = "c", .version = "1",
		.type = "json", .value = "3", .len = 1 };
	struct corral_ref r = { "t", "", "2" };
	struct corral_checkpoint cp = { .id = "3", .data = "x", .len = 1,
		.metadata_type = "json", .versions = &v, .nversions = 1,
		.values = &v, .nvalues = 1 };
	struct corral_write w = WR("ch2", "json", "9", 1);
	struct corral_store *s;
	struct corral_tuple *t;
	char path[128], want[256];
	const char *why;
	pid_t pids[4];
	int k, st;

	if (!f->sqlite)
		skip();
	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	sql_exec(path, "PRAGMA journal_mode=WAL;" V1_SCHEMA V1_ROWS);
	/* Four processes open it at once: each finds it migrated or does. */
	for (k = 0; k < 4; k++) {
		assert_true((pids[k] = fork()) != -1);
		if (pids[k] == 0) {
			if (corral_store_open_sqlite(path,
			    CORRAL_DURABILITY_NORMAL, &s, &why) != CORRAL_OK) {
				fprintf(stderr, "child %d: %s\n", k, why);
				_exit(1);
			}
			r.checkpoint_id = "1";
			if (corral_get_tuple(s, &r, &t) != CORRAL_OK)
				_exit(2);
			corral_tuple_free(t);
			corral_store_close(s);
			_exit(0);
		}
	}
	for (k = 0; k < 4; k++) {
		assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(sql_int(path, "SELECT count(*) FROM corral_schema"),
	    1);
	assert_int_equal(sql_int(path, "SELECT version FROM corral_schema"),
	    2);
	assert_int_equal(corral_store_open_sqlite(path,
	    CORRAL_DURABILITY_NORMAL, &s, &why), CORRAL_OK);
	t = get(s, "t", "", "1");
	assert_false(t->corrupt);
	assert_memory_equal(t->data, "{\"v\":1}", 7);
	assert_string_equal(t->metadata, "{\"step\":1}");
	assert_null(t->metadata_type);
	assert_int_equal(t->nchannels, 0);
	assert_int_equal(t->nwrites, 1);
	assert_string_equal(t->writes[0].task_path, "");
	assert_memory_equal(t->writes[0].value, "\"w\"", 3);
	corral_tuple_free(t);
	/* New rows beside the old. */
	r.checkpoint_id = "2";
	assert_int_equal(corral_put(s, &r, &cp, NULL, 0), CORRAL_OK);
	r.checkpoint_id = "3";
	assert_int_equal(corral_put_writes_path(s, &r, "task", "~1", &w, 1),
	    CORRAL_OK);
	t = get(s, "t", "", NULL);
	assert_string_equal(t->checkpoint_id, "3");
	assert_string_equal(t->parent_id, "2");
	assert_string_equal(t->metadata_type, "json");
	assert_string_equal(channels_text(t), "c@1=3");
	assert_string_equal(t->writes[0].task_path, "~1");
	corral_tuple_free(t);
	assert_string_equal(list(s, "t", "", NULL, NULL, 0),
	    "t/-/3 t/-/2 t/-/1");
	corral_store_close(s);
	/* A version this code does not know: refused, naming both. */
	sql_exec(path, "UPDATE corral_schema SET version = 3");
	assert_int_equal(corral_store_open_sqlite(path,
	    CORRAL_DURABILITY_NORMAL, &s, &why), CORRAL_EINVAL);
	assert_null(s);
	snprintf(want, sizeof(want), "checkpoint database %s has schema "
	    "version 3, newer than this libcorral knows (2)", path);
	assert_non_null(strstr(why, want));
	/* Tables of another layout (LangGraph's own saver's): refused. */
	snprintf(path, sizeof(path), "%s/lg.db", f->dir);
	sql_exec(path, "CREATE TABLE checkpoints (thread_id TEXT NOT NULL,"
	    " checkpoint_ns TEXT NOT NULL DEFAULT '', checkpoint_id TEXT NOT"
	    " NULL, parent_checkpoint_id TEXT, type TEXT, checkpoint BLOB,"
	    " metadata BLOB);");
	assert_int_equal(corral_store_open_sqlite(path,
	    CORRAL_DURABILITY_NORMAL, &s, &why), CORRAL_EINVAL);
	assert_non_null(strstr(why, "another layout"));
	assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master"
	    " WHERE name = 'corral_schema'"), 0);
}


/* PostgreSQL only. */

/* Rows of a thread, counted on the test's own connection. */
static long long
pg_count(const char *table, const char *thread)
{
	char q[160];

	snprintf(q, sizeof(q), "SELECT count(*) FROM %s WHERE thread_id ="
	    " '%s'", table, thread);
	return pg_int(q);
}

/*
 * A fenced handle writes a thread only while corral_leases holds its
 * token for it: after a takeover every write fails CORRAL_EFENCED and
 * writes nothing; other threads are not fenced; reads never are.
 */
static void
t_pg_fence(void **state)
{
	struct fixture *f = *state;
	struct corral_ref x = { "X", "", NULL }, y = { "Y", "", NULL };
	struct corral_ref x1 = { "X", "", "1" };
	struct corral_checkpoint cp = { .id = "1", .data = "x", .len = 1 };
	struct corral_write w = WR("ch", "json", "1", 1);
	struct corral_tuple *t;

	pg_exec("INSERT INTO corral_leases VALUES ('X', 'node-a', 7,"
	    " now() + interval '1 minute')");
	assert_int_equal(corral_store_fence(f->s, "X", 7), CORRAL_OK);
	assert_int_equal(corral_put(f->s, &x, &cp, NULL, 0), CORRAL_OK);
	assert_int_equal(corral_put_writes(f->s, &x1, "task", &w, 1),
	    CORRAL_OK);
	/* Y has no lease at all, and is not fenced. */
	assert_int_equal(corral_put(f->s, &y, &cp, NULL, 0), CORRAL_OK);
	/* Another node takes X over. */
	pg_exec("UPDATE corral_leases SET holder = 'node-b', token = 8"
	    " WHERE thread_id = 'X'");
	cp.id = "2";
	assert_int_equal(corral_put(f->s, &x, &cp, NULL, 0), CORRAL_EFENCED);
	assert_non_null(strstr(corral_store_errmsg(f->s), "thread X"));
	assert_non_null(strstr(corral_store_errmsg(f->s), "token 7"));
	cp.id = NULL; /* a made id: the read first, then the fenced write */
	assert_int_equal(corral_put(f->s, &x, &cp, NULL, 0), CORRAL_EFENCED);
	cp.id = "1"; /* a replace */
	assert_int_equal(corral_put(f->s, &x, &cp, NULL, 0), CORRAL_EFENCED);
	w.channel = "other";
	assert_int_equal(corral_put_writes(f->s, &x1, "task2", &w, 1),
	    CORRAL_EFENCED);
	assert_int_equal(corral_delete_thread(f->s, "X"), CORRAL_EFENCED);
	assert_int_equal(pg_count("corral_checkpoints", "X"), 1);
	assert_int_equal(pg_count("corral_writes", "X"), 1);
	t = get(f->s, "X", "", "1");
	assert_int_equal(t->nwrites, 1);
	corral_tuple_free(t);
	/* Y: still written, and deleted. */
	cp.id = "2";
	assert_int_equal(corral_put(f->s, &y, &cp, NULL, 0), CORRAL_OK);
	assert_int_equal(corral_delete_thread(f->s, "Y"), CORRAL_OK);
	assert_int_equal(pg_count("corral_checkpoints", "Y"), 0);
	/* No lease at all: fenced too. */
	pg_exec("DELETE FROM corral_leases");
	assert_int_equal(corral_put(f->s, &x, &cp, NULL, 0), CORRAL_EFENCED);
	/* The new token, or no fence: written. */
	pg_exec("INSERT INTO corral_leases VALUES ('X', 'node-a', 9,"
	    " now() + interval '1 minute')");
	assert_int_equal(corral_store_fence(f->s, "X", 9), CORRAL_OK);
	assert_int_equal(corral_put(f->s, &x, &cp, NULL, 0), CORRAL_OK);
	assert_int_equal(corral_store_fence(f->s, NULL, 0), CORRAL_OK);
	pg_exec("DELETE FROM corral_leases");
	assert_int_equal(corral_delete_thread(f->s, "X"), CORRAL_OK);
	assert_int_equal(pg_count("corral_checkpoints", "X"), 0);
	assert_int_equal(pg_count("corral_writes", "X"), 0);
	assert_int_equal(corral_store_fence(f->s, "X", -1), CORRAL_EINVAL);
	assert_int_equal(corral_store_fence(f->s, "", 1), CORRAL_EINVAL);
	/* What a worker makes of it. */
	assert_string_equal(corral_strerror(CORRAL_EFENCED),
	    "fenced: another node holds the thread's lease");
	assert_int_equal(corral_exit_status(CORRAL_EFENCED), 75);
	assert_false(corral_is_storage_error(CORRAL_EFENCED));
	assert_null(corral_storage_kind(CORRAL_EFENCED));
}

/* On SQLite and in memory one node owns the store: no fence to check. */
static void
t_fence_local(void **state)
{
	struct fixture *f = *state;
	struct corral_ref x = { "X", "", NULL };
	struct corral_checkpoint cp = { .data = "x", .len = 1 };

	assert_int_equal(corral_store_fence(f->s, "X", 7), CORRAL_OK);
	assert_int_equal(corral_put(f->s, &x, &cp, NULL, 0), CORRAL_OK);
	assert_int_equal(corral_delete_thread(f->s, "X"), CORRAL_OK);
}

/* Has a backend of this case's handles waited for a lock?  Polls. */
static bool
pg_waiting(const char *app)
{
	PGconn *c = PQconnectdb(getenv("CORRAL_TEST_PG"));
	const char *v[1] = { app };
	PGresult *r;
	struct timespec d = { 0, 5 * 1000 * 1000 };
	bool yes = false;
	int i;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	for (i = 0; i < 2000 && !yes; i++) {
		r = PQexecParams(c, "SELECT count(*) FROM pg_stat_activity"
		    " WHERE application_name = $1 AND wait_event_type = 'Lock'",
		    1, NULL, v, NULL, NULL, 0);
		assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
		yes = atoi(PQgetvalue(r, 0, 0)) > 0;
		PQclear(r);
		if (!yes)
			nanosleep(&d, NULL);
	}
	PQfinish(c);
	return yes;
}

/*
 * A fenced put in a child while a takeover holds the lease row: the put
 * waits for it; it fails if the takeover commits, is written if it rolls
 * back.  The child's exit status: 0 as expected, else 10 + the error.
 */
static void
takeover_round(struct fixture *f, int64_t token, const char *end,
    int want)
{
	struct corral_ref x = { "X", "", NULL };
	struct corral_checkpoint cp = { .data = "x", .len = 1 };
	struct corral_store *s;
	const char *why;
	pid_t pid;
	int st, rc;

	pg_exec("BEGIN");
	pg_exec("UPDATE corral_leases SET token = token + 1, holder ="
	    " 'node-b' WHERE thread_id = 'X'");
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		if (corral_store_open_pg(f->conninfo, NULL, &s, &why) != 0)
			_exit(2);
		corral_store_fence(s, "X", token);
		rc = corral_put(s, &x, &cp, NULL, 0);
		corral_store_close(s);
		_exit(rc == want ? 0 : 10 - rc);
	}
	if (!pg_waiting(f->schema)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		pg_exec("ROLLBACK");
		fail_msg("the fenced put never waited for the lease row");
	}
	pg_exec(end);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("child: status %#x", st);
}

static void
t_pg_fence_takeover(void **state)
{
	struct fixture *f = *state;

	pg_exec("INSERT INTO corral_leases VALUES ('X', 'node-a', 1,"
	    " now() + interval '1 minute')");
	takeover_round(f, 1, "COMMIT", CORRAL_EFENCED);
	assert_int_equal(pg_count("corral_checkpoints", "X"), 0);
	takeover_round(f, 2, "ROLLBACK", CORRAL_OK);
	assert_int_equal(pg_count("corral_checkpoints", "X"), 1);
}

/* Rows broken by another program, as on SQLite. */
static void
t_pg_corrupt_rows(void **state)
{
	struct fixture *f = *state;
	struct corral_tuple *t;

	fill(f->s);
	corrupt(f, "UPDATE checkpoints SET checksum = checksum + 1"
	    " WHERE checkpoint_id = '3' AND thread_id = 'A'");
	check_corrupt(f);
	corrupt(f, "UPDATE checkpoints SET checksum = checksum - 1"
	    " WHERE checkpoint_id = '3' AND thread_id = 'A'");
	t = get(f->s, "A", "", "3");
	corral_tuple_free(t);
	corrupt(f, "UPDATE checkpoints SET checksum = NULL"
	    " WHERE checkpoint_id = '3' AND thread_id = 'A'");
	check_corrupt(f);
	corrupt(f, "UPDATE checkpoints SET metadata = NULL, checksum = 0"
	    " WHERE checkpoint_id = '3' AND thread_id = 'A'");
	check_corrupt(f);
}

/* A newer layout is refused, naming the database; so is a bad string. */
static void
t_pg_open(void **state)
{
	struct fixture *f = *state;
	struct corral_pg_opts o = { 3000 };
	struct corral_store *s;
	const char *why;
	char bad[1200];

	pg_exec("UPDATE corral_schema SET version = 2");
	assert_int_equal(corral_store_open_pg(f->conninfo, NULL, &s, &why),
	    CORRAL_EINVAL);
	assert_null(s);
	assert_non_null(strstr(why, "database postgres at "));
	assert_non_null(strstr(why, "schema version 2, newer than this "
	    "libcorral knows (1)"));
	pg_exec("UPDATE corral_schema SET version = 1");
	assert_int_equal(corral_store_open(f->conninfo,
	    CORRAL_DURABILITY_NORMAL, &s, &why), CORRAL_OK);
	corral_store_close(s);
	assert_int_equal(corral_store_open_pg("host=/tmp no_such_key=1", &o,
	    &s, &why), CORRAL_EINVAL);
	assert_non_null(strstr(why, "no_such_key"));
	/* No server there; the password never shows. */
	snprintf(bad, sizeof(bad), "host=/nonexistent-dir dbname=cp"
	    " password=sekrit");
	assert_int_equal(corral_store_open_pg(bad, &o, &s, &why), CORRAL_EIO);
	assert_null(s);
	assert_non_null(strstr(why, "database cp at /nonexistent-dir:"));
	assert_non_null(strstr(why, "cannot connect"));
	assert_null(strstr(why, "sekrit"));
}

/*
 * The server ends the handle's connection: that call fails CORRAL_EIO,
 * the next reconnects and works; so does a call after a server restart.
 */
static void
t_pg_reconnect(void **state)
{
	struct fixture *f = *state;
	struct corral_ref a = { "A", "", NULL };
	struct corral_checkpoint cp = { .id = "1", .data = "x", .len = 1 };
	struct corral_tuple *t;
	char q[256];

	assert_int_equal(corral_put(f->s, &a, &cp, NULL, 0), CORRAL_OK);
	snprintf(q, sizeof(q), "SELECT count(pg_terminate_backend(pid)) FROM"
	    " pg_stat_activity WHERE application_name = '%s'", f->schema);
	assert_int_equal(pg_int(q), 1);
	cp.id = "2";
	assert_int_equal(corral_put(f->s, &a, &cp, NULL, 0), CORRAL_EIO);
	assert_non_null(strstr(corral_store_errmsg(f->s), "database postgres"));
	assert_non_null(strstr(corral_store_errmsg(f->s), "connection lost"));
	t = get(f->s, "A", "", "1");
	corral_tuple_free(t);
	assert_int_equal(corral_put(f->s, &a, &cp, NULL, 0), CORRAL_OK);
	assert_string_equal(list(f->s, "A", "", NULL, NULL, 0), "A/-/2 A/-/1");
}

/*
 * A statement that waits (here for a lock another connection holds)
 * fails CORRAL_EIO after the handle's timeout, and the handle goes on.
 */
static void
t_pg_timeout(void **state)
{
	struct fixture *f = *state;
	struct corral_pg_opts o = { 300 };
	struct corral_ref a = { "A", "", NULL };
	struct corral_checkpoint cp = { .id = "1", .data = "x", .len = 1 };
	struct corral_store *s;
	struct timespec t0, t1;
	const char *why;
	long ms;

	assert_int_equal(corral_store_open_pg(f->conninfo, &o, &s, &why),
	    CORRAL_OK);
	pg_exec("BEGIN");
	pg_exec("LOCK TABLE corral_checkpoints IN EXCLUSIVE MODE");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(corral_put(s, &a, &cp, NULL, 0), CORRAL_EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pg_exec("ROLLBACK");
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	assert_true(ms >= 250 && ms < 5000);
	assert_non_null(strstr(corral_store_errmsg(s), "timed out"));
	assert_int_equal(corral_put(s, &a, &cp, NULL, 0), CORRAL_OK);
	corral_store_close(s);
}

/* Which strings name a PostgreSQL database (checkpoint_db). */
static void
t_where_is_postgres(void **state)
{
	(void)state;
	assert_true(corral_where_is_postgres("postgresql://u@db/cp"));
	assert_true(corral_where_is_postgres("postgres://db"));
	assert_true(corral_where_is_postgres("host=/run/pg dbname=cp"));
	assert_true(corral_where_is_postgres(" dbname = cp"));
	assert_true(corral_where_is_postgres("service=corral"));
	assert_false(corral_where_is_postgres("./host=x"));
	assert_false(corral_where_is_postgres("cp.db"));
	assert_false(corral_where_is_postgres("/var/lib/corral/cp.db"));
	assert_false(corral_where_is_postgres("hostess=1"));
	assert_false(corral_where_is_postgres("host"));
	assert_false(corral_where_is_postgres(""));
	assert_false(corral_where_is_postgres(NULL));
}

/* Each case of the table, against each backend. */
#define BOTH(t) \
	cmocka_unit_test_setup_teardown(t, setup_memory, teardown), \
	cmocka_unit_test_setup_teardown(t, setup_sqlite, teardown), \
	PG(t)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(t_round_trip),
		BOTH(t_empty),
		BOTH(t_parents),
		BOTH(t_latest_by_bytes),
		BOTH(t_not_found),
		BOTH(t_invalid),
		BOTH(t_key_length),
		BOTH(t_replace),
		BOTH(t_writes),
		BOTH(t_writes_idempotent),
		BOTH(t_list),
		BOTH(t_list_filter),
		BOTH(t_list_stop),
		BOTH(t_list_reenter),
		BOTH(t_list_writes),
		BOTH(t_list_writes_shapes),
		BOTH(t_delete_thread),
		BOTH(t_made_ids_order),
		BOTH(t_corrupt_data),
		BOTH(t_channels_changed),
		BOTH(t_channels_ancestor),
		BOTH(t_channels_empty_first),
		BOTH(t_metadata_type),
		BOTH(t_task_path),
		BOTH(t_get_writes),
		BOTH(t_long_keys),
		BOTH(t_cursor_like_list),
		BOTH(t_cursor_interleaved),
		BOTH(t_delete_values),
		BOTH(t_corrupt_value),
		BOTH(t_channels_origin),
		BOTH(t_channels_fork),
		BOTH(t_channels_replace),
		BOTH(t_channels_chain),
		cmocka_unit_test(t_crc32c),
		cmocka_unit_test(t_make_id),
		cmocka_unit_test_setup_teardown(t_corrupt_other,
		    setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(t_corrupt_write,
		    setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(t_sqlite_reopen,
		    setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(t_concurrent,
		    setup_sqlite, teardown),
		BOTH(t_moved),
		cmocka_unit_test_setup_teardown(t_damaged,
		    setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(t_migrate,
		    setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(t_busy_short,
		    setup_sqlite, teardown),
		cmocka_unit_test(t_where_is_postgres),
		cmocka_unit_test_setup_teardown(t_fence_local, setup_memory,
		    teardown),
		cmocka_unit_test_setup_teardown(t_fence_local, setup_sqlite,
		    teardown),
		PG(t_corrupt_other),
		PG(t_corrupt_write),
		PG(t_pg_corrupt_rows),
		PG(t_pg_fence),
		PG(t_pg_fence_takeover),
		PG(t_pg_open),
		PG(t_pg_reconnect),
		PG(t_pg_timeout),
		PG(t_pg_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
