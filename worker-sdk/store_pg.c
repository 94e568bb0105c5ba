/*
 * store_pg.c: the checkpoint store in a PostgreSQL database, through
 * libpq, with the SQLite backend's answers to every call: the same rows
 * and checksums in tables of their own (corral_checkpoints,
 * corral_writes), ids compared as bytes (COLLATE "C"), statements
 * prepared once per connection, parameters and results in binary.  Many
 * processes on many nodes may write one database at once; a write may be
 * fenced by a lease's token (corral_store_fence), checked in the same
 * statement as the write.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq.h"
#include "store_impl.h"

/* How long a connect or a statement may take, by default. */
#define TIMEOUT_MS 10000

/*
 * The layout of the tables, counted in corral_schema.  1: the rows of
 * SQLite's version 2, plus each checkpoint's origins (the ids of the rows
 * that hold its values, read in the same statement as it).  A database
 * of a newer version is refused.
 */
#define SCHEMA_VERSION 1

/* Any constant: the advisory lock that serializes setting up the tables. */
#define SCHEMA_LOCK "7306654237791298560"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS corral_checkpoints ("
    " thread_id text COLLATE \"C\" NOT NULL,"
    " checkpoint_ns text COLLATE \"C\" NOT NULL DEFAULT '',"
    " checkpoint_id text COLLATE \"C\" NOT NULL,"
    " parent_checkpoint_id text COLLATE \"C\","
    " type text,"
    " created_ms bigint,"
    " checksum bigint,"
    " metadata_type text,"
    " origins text[] COLLATE \"C\","
    " versions bytea,"
    " metadata bytea,"
    " channel_values bytea,"
    " checkpoint bytea,"
    " PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id));"
    "CREATE TABLE IF NOT EXISTS corral_writes ("
    " thread_id text COLLATE \"C\" NOT NULL,"
    " checkpoint_ns text COLLATE \"C\" NOT NULL DEFAULT '',"
    " checkpoint_id text COLLATE \"C\" NOT NULL,"
    " task_id text COLLATE \"C\" NOT NULL,"
    " idx integer NOT NULL,"
    " channel text COLLATE \"C\" NOT NULL,"
    " type text,"
    " value bytea,"
    " checksum bigint,"
    " task_path text COLLATE \"C\" NOT NULL DEFAULT '',"
    " PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id,"
    " idx));"
    /* corrald's: taken and renewed there, only read here (the fence). */
    "CREATE TABLE IF NOT EXISTS corral_leases ("
    " thread_id text PRIMARY KEY,"
    " holder text NOT NULL,"
    " token bigint NOT NULL,"
    " expires_at timestamptz NOT NULL);"
    "DELETE FROM corral_schema;"
    "INSERT INTO corral_schema (version) VALUES (1);";

/* Type oids of the parameters (pg_type.h is the server's header). */
#define T_BOOL 16
#define T_BYTEA 17
#define T_INT8 20
#define T_INT4 23
#define T_TEXT 25
#define T_INT4_ARR 1007
#define T_TEXT_ARR 1009
#define T_BYTEA_ARR 1001
#define T_INT8_ARR 1016

/*
 * The fence of a write, true when the handle fences none of this
 * thread's writes ($F NULL): the lease row is locked (FOR SHARE) in the
 * write's own statement, so that a takeover, which updates it, waits for
 * the write to commit and comes after it, or commits first and the
 * write sees its token (READ COMMITTED re-reads a row it had to wait for).
 */
#define FENCE(T, F) "(" F "::bigint IS NULL OR EXISTS (SELECT 1 FROM" \
	" corral_leases WHERE thread_id = " T " AND token = " F \
	" FOR SHARE))"

#define KEY(T, N, I) "thread_id = " T " AND checkpoint_ns = " N \
	" AND checkpoint_id = " I

enum { ST_PUT_READ, ST_PUT, ST_W_PUT, ST_W_GET, ST_DELETE, ST_N };

struct stmt {
	const char *sql;
	int n;
	Oid types[19];
};

static const struct stmt stmts[ST_N] = {
	/*
	 * What a put resolves against: the parent's versions, the thread's
	 * latest id (for a made one), and the row it replaces, if any.
	 */
	[ST_PUT_READ] = { "SELECT (SELECT versions FROM corral_checkpoints"
	    " WHERE " KEY("$1", "$2", "$3") "), (SELECT checkpoint_id FROM"
	    " corral_checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2"
	    " ORDER BY checkpoint_id DESC LIMIT 1), (SELECT channel_values"
	    " FROM corral_checkpoints WHERE " KEY("$1", "$2", "$4") "),"
	    " EXISTS (SELECT 1 FROM corral_checkpoints WHERE "
	    KEY("$1", "$2", "$4") ")", 4,
	    { T_TEXT, T_TEXT, T_TEXT, T_TEXT } },
	/*
	 * A put, in one statement, if what it was resolved against is still
	 * there ("fresh"): the parent's versions ($15: checked, $16 as
	 * read), no id at or after a made one ($17), the row replaced with
	 * the values merged ($18: a replace, $19 its values as read).
	 * Stale: pg_put reads again.  Returns (fence held, fresh, written).
	 */
	[ST_PUT] = { "WITH chk AS (SELECT " FENCE("$1", "$14") " AS fence,"
	    " (NOT $15 OR (SELECT versions FROM corral_checkpoints WHERE "
	    KEY("$1", "$2", "$4") ") IS NOT DISTINCT FROM $16)"
	    " AND (NOT $17 OR NOT EXISTS (SELECT 1 FROM corral_checkpoints"
	    " WHERE thread_id = $1 AND checkpoint_ns = $2"
	    " AND checkpoint_id >= $3))"
	    " AND (NOT $18 OR EXISTS (SELECT 1 FROM corral_checkpoints WHERE "
	    KEY("$1", "$2", "$3") " AND channel_values IS NOT DISTINCT FROM"
	    " $19)) AS fresh),"
	    " ins AS (INSERT INTO corral_checkpoints (thread_id, checkpoint_ns,"
	    " checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata,"
	    " created_ms, checksum, metadata_type, versions, channel_values,"
	    " origins) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
	    " $12, $13 FROM chk WHERE fence AND fresh"
	    " ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE"
	    " SET parent_checkpoint_id = EXCLUDED.parent_checkpoint_id,"
	    " type = EXCLUDED.type, checkpoint = EXCLUDED.checkpoint,"
	    " metadata = EXCLUDED.metadata, created_ms = EXCLUDED.created_ms,"
	    " checksum = EXCLUDED.checksum,"
	    " metadata_type = EXCLUDED.metadata_type,"
	    " versions = EXCLUDED.versions,"
	    " channel_values = EXCLUDED.channel_values,"
	    " origins = EXCLUDED.origins WHERE $18 RETURNING 1)"
	    " SELECT fence, fresh, EXISTS (SELECT 1 FROM ins) FROM chk", 19,
	    { T_TEXT, T_TEXT, T_TEXT, T_TEXT, T_TEXT, T_BYTEA, T_BYTEA, T_INT8,
	    T_INT8, T_TEXT, T_BYTEA, T_BYTEA, T_TEXT_ARR, T_INT8, T_BOOL,
	    T_BYTEA, T_BOOL, T_BOOL, T_BYTEA } },
	/*
	 * A task's writes, one array per column: a regular write already
	 * stored is kept, a special channel's (idx < 0) replaced, as
	 * MemorySaver does.  Returns whether the fence held.
	 */
	[ST_W_PUT] = { "WITH chk AS (SELECT " FENCE("$1", "$5") " AS fence),"
	    " ins AS (INSERT INTO corral_writes (thread_id, checkpoint_ns,"
	    " checkpoint_id, task_id, idx, channel, type, value, checksum,"
	    " task_path) SELECT $1, $2, $3, $4, u.idx, u.channel, u.type,"
	    " u.value, u.checksum, $6 FROM chk, unnest($7::integer[],"
	    " $8::text[], $9::text[], $10::bytea[], $11::bigint[]) AS"
	    " u(idx, channel, type, value, checksum) WHERE chk.fence"
	    " ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id,"
	    " idx) DO UPDATE SET channel = EXCLUDED.channel,"
	    " type = EXCLUDED.type, value = EXCLUDED.value,"
	    " checksum = EXCLUDED.checksum, task_path = EXCLUDED.task_path"
	    " WHERE EXCLUDED.idx < 0 RETURNING 1)"
	    " SELECT fence, (SELECT count(*) FROM ins) FROM chk", 11,
	    { T_TEXT, T_TEXT, T_TEXT, T_TEXT, T_INT8, T_TEXT, T_INT4_ARR,
	    T_TEXT_ARR, T_TEXT_ARR, T_BYTEA_ARR, T_INT8_ARR } },
	[ST_W_GET] = { "SELECT task_id, idx, channel, type, value, checksum,"
	    " task_path FROM corral_writes WHERE " KEY("$1", "$2", "$3")
	    " ORDER BY task_id, idx", 3, { T_TEXT, T_TEXT, T_TEXT } },
	[ST_DELETE] = { "WITH chk AS (SELECT " FENCE("$1", "$2") " AS fence),"
	    " c AS (DELETE FROM corral_checkpoints WHERE thread_id = $1"
	    " AND (SELECT fence FROM chk) RETURNING 1),"
	    " w AS (DELETE FROM corral_writes WHERE thread_id = $1"
	    " AND (SELECT fence FROM chk) RETURNING 1)"
	    " SELECT fence, (SELECT count(*) FROM c), (SELECT count(*) FROM w)"
	    " FROM chk", 2, { T_TEXT, T_INT8 } },
};

/* The columns of a write in ST_W_GET. */
enum { W_TASK, W_IDX, W_CHANNEL, W_TYPE, W_VALUE, W_CRC, W_PATH };

/*
 * A read (get, and a page of list) is one statement whose rows are of
 * three kinds: the origins' values first (k 0), then each checkpoint
 * (k 1) followed by its writes (k 2), in list's order.  A checkpoint's
 * columns are sent once, not once per write.  Its optional clauses are
 * bits: 32 shapes, each prepared on first use.  Parameters: $1 thread,
 * $2 namespace, $3 before, $4-$6 where a page resumes (id, thread,
 * namespace), $7 limit (NULL: none), $8 id.
 */
enum { R_THREAD = 1, R_NS = 2, R_BEFORE = 4, R_AFTER = 8, R_ID = 16,
	R_SHAPES = 32 };
enum { R_K, R_THR, R_NS_, R_ID_, R_PARENT, R_TYPE, R_DATA, R_META,
	R_CREATED, R_CRC, R_MTYPE, R_VERS, R_VALS, R_TASK, R_IDX, R_CHANNEL,
	R_PATH };
#define KEYED(shape) (((shape) & (R_THREAD | R_NS)) == (R_THREAD | R_NS))

/* A list reads checkpoints a page at a time: a filter is decided here. */
#define PAGE 128
#define RETRIES 16

struct pg_store {
	struct corral_store base;
	PGconn *conn;
	char *name;               /* owned: "database D at H:P", messages */
	bool prepared[ST_N];
	bool rprepared[R_SHAPES];
	sqlite3 *json;            /* the filter's JSON functions, on use */
	sqlite3_stmt *match, *filter_check;
	struct tbuf tb;
	/* Where list's next page resumes: copied, the result is gone. */
	char after[3][CORRAL_KEY_MAX + 1];
	struct store_after after_ref;
};

/* Parameters, binary. */
#define NP 19
struct params {
	const char *v[NP];
	int len[NP];
	int fmt[NP];
	unsigned char i8[NP][8];
};

static void
pp_init(struct params *p)
{
	int i;

	for (i = 0; i < NP; i++) {
		p->v[i] = NULL;
		p->len[i] = 0;
		p->fmt[i] = 1;
	}
}

/* Parameter i (from 1): s, or NULL. */
static void
pp_str(struct params *p, int i, const char *s)
{
	p->v[i - 1] = s;
	p->len[i - 1] = s != NULL ? (int)strlen(s) : 0;
}

static void
pp_bytes(struct params *p, int i, const void *b, size_t len)
{
	/* NULL is SQL NULL: empty bytes stay empty bytes. */
	p->v[i - 1] = b != NULL ? b : "";
	p->len[i - 1] = (int)len;
}

static void
be_put(unsigned char *b, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
}

static uint64_t
be_get(const unsigned char *b, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static void
pp_i8(struct params *p, int i, int64_t v)
{
	be_put(p->i8[i - 1], (uint64_t)v, 8);
	p->v[i - 1] = (const char *)p->i8[i - 1];
	p->len[i - 1] = 8;
}

static void
pp_bool(struct params *p, int i, bool v)
{
	p->i8[i - 1][0] = v;
	p->v[i - 1] = (const char *)p->i8[i - 1];
	p->len[i - 1] = 1;
}

/*
 * A one-dimensional array in PostgreSQL's binary form, built element by
 * element: header, then each element's length (-1: NULL) and bytes.
 */
struct arr {
	unsigned char *b;
	size_t len, cap;
	uint32_t n;
	bool nulls, nomem;
};

static void
arr_room(struct arr *a, size_t more)
{
	unsigned char *nb;
	size_t cap;

	if (a->nomem || a->cap - a->len >= more)
		return;
	cap = a->cap ? a->cap : 256;
	while (cap - a->len < more)
		cap *= 2;
	if ((nb = realloc(a->b, cap)) == NULL) {
		a->nomem = true;
		return;
	}
	a->b = nb;
	a->cap = cap;
}

static void
arr_begin(struct arr *a, Oid elem)
{
	memset(a, 0, sizeof(*a));
	arr_room(a, 20);
	if (a->nomem)
		return;
	be_put(a->b, 1, 4);        /* dimensions */
	be_put(a->b + 4, 0, 4);    /* has NULLs: set at the end */
	be_put(a->b + 8, elem, 4);
	be_put(a->b + 12, 0, 4);   /* elements: set at the end */
	be_put(a->b + 16, 1, 4);   /* lower bound */
	a->len = 20;
}

static void
arr_add(struct arr *a, const void *p, size_t len)
{
	arr_room(a, 4 + len);
	if (a->nomem)
		return;
	a->n++;
	if (p == NULL) {
		a->nulls = true;
		be_put(a->b + a->len, 0xffffffffU, 4);
		a->len += 4;
		return;
	}
	be_put(a->b + a->len, len, 4);
	if (len > 0)
		memcpy(a->b + a->len + 4, p, len);
	a->len += 4 + len;
}

static void
arr_i8(struct arr *a, int64_t v)
{
	unsigned char b[8];

	be_put(b, (uint64_t)v, 8);
	arr_add(a, b, 8);
}

static void
arr_i4(struct arr *a, int32_t v)
{
	unsigned char b[4];

	be_put(b, (uint32_t)v, 4);
	arr_add(a, b, 4);
}

/* Done: false when memory ran out. */
static bool
arr_end(struct arr *a)
{
	if (a->nomem)
		return false;
	be_put(a->b + 4, a->nulls, 4);
	be_put(a->b + 12, a->n, 4);
	return true;
}

/* Results, binary. */

static bool
r_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) != 0;
}

/* A text or bytea column: NULL when NULL; libpq ends it in a NUL. */
static const char *
r_str(const PGresult *r, int row, int col, size_t *len)
{
	if (PQgetisnull(r, row, col)) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)PQgetlength(r, row, col);
	return PQgetvalue(r, row, col);
}

static int64_t
r_int(const PGresult *r, int row, int col)
{
	int n = PQgetlength(r, row, col);
	uint64_t v;

	if (PQgetisnull(r, row, col) || (n != 8 && n != 4 && n != 1))
		return 0;
	v = be_get((const unsigned char *)PQgetvalue(r, row, col), n);
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

/* Errors. */

/* The first line of libpq's message, without its "ERROR:  ". */
static void
first_line(const char *m, char *out, size_t size)
{
	size_t n;

	if (m == NULL || *m == '\0')
		m = "no message";
	if (strncmp(m, "ERROR:  ", 8) == 0)
		m += 8;
	n = strcspn(m, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(out, m, n);
	out[n] = '\0';
}

/*
 * The CORRAL_* code of a failed statement (r NULL: libpq did not get a
 * result at all), and the handle's message: the database, what failed,
 * the server's or libpq's words.
 */
static int
pg_fail(struct pg_store *s, const PGresult *r, const char *what)
{
	const char *state = r != NULL ?
	    PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char msg[160];
	int code = CORRAL_EIO;

	first_line(r != NULL && PQresultErrorMessage(r)[0] != '\0' ?
	    PQresultErrorMessage(r) : PQerrorMessage(s->conn), msg,
	    sizeof(msg));
	if (PQstatus(s->conn) == CONNECTION_BAD)
		return store_fail(&s->base, CORRAL_EIO, "PostgreSQL %s: %s: "
		    "connection lost (%s); the next call reconnects",
		    s->name, what, msg);
	if (state != NULL) {
		if (strcmp(state, "53100") == 0)
			code = CORRAL_EFULL;
		else if (strcmp(state, "40001") == 0 ||
		    strcmp(state, "40P01") == 0 ||
		    strcmp(state, "55P03") == 0)
			code = CORRAL_EBUSY;
		/* Bytes the server's encoding refuses; a key too long for
		 * its index. */
		else if (strncmp(state, "22", 2) == 0 ||
		    strcmp(state, "54000") == 0)
			code = CORRAL_EINVAL;
		else if (strcmp(state, "57014") == 0)
			return store_fail(&s->base, CORRAL_EIO, "PostgreSQL %s: "
			    "%s: timed out (%s)", s->name, what, msg);
	}
	return store_fail(&s->base, code, "PostgreSQL %s: %s: %s", s->name,
	    what, msg);
}

/*
 * Before a call: a connection lost in an earlier one is made again, once
 * (PQreset: the same parameters), its statements to be prepared again.
 */
static int
pg_ready(struct pg_store *s, const char *what)
{
	char msg[160];

	if (PQstatus(s->conn) == CONNECTION_OK)
		return CORRAL_OK;
	PQreset(s->conn);
	memset(s->prepared, 0, sizeof(s->prepared));
	memset(s->rprepared, 0, sizeof(s->rprepared));
	if (PQstatus(s->conn) == CONNECTION_OK)
		return CORRAL_OK;
	first_line(PQerrorMessage(s->conn), msg, sizeof(msg));
	return store_fail(&s->base, CORRAL_EIO, "PostgreSQL %s: %s: cannot "
	    "reconnect: %s", s->name, what, msg);
}

/*
 * Prepares sql as name on the connection the first time (*prepared then
 * true), then runs it with p, binary both ways.  *out: caller clears.
 */
static int
exec_prepared(struct pg_store *s, const char *name, const char *sql,
    int n, const Oid *types, bool *prepared, const struct params *p,
    const char *what, PGresult **out)
{
	PGresult *r;
	int rc;

	if (!*prepared) {
		r = PQprepare(s->conn, name, sql, n, types);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = pg_fail(s, r, what);
			PQclear(r);
			return rc;
		}
		PQclear(r);
		*prepared = true;
	}
	r = PQexecPrepared(s->conn, name, n, p->v, p->len, p->fmt, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pg_fail(s, r, what);
		PQclear(r);
		return rc;
	}
	*out = r;
	return CORRAL_OK;
}

/* Runs statement which with p.  *out: caller clears. */
static int
run(struct pg_store *s, int which, const struct params *p, const char *what,
    PGresult **out)
{
	char name[16];
	int rc;

	*out = NULL;
	if ((rc = pg_ready(s, what)) != CORRAL_OK)
		return rc;
	snprintf(name, sizeof(name), "corral_s%d", which);
	return exec_prepared(s, name, stmts[which].sql, stmts[which].n,
	    stmts[which].types, &s->prepared[which], p, what, out);
}

/* The fencing token for writes to thread: -1 when they are not fenced. */
static int64_t
fence_of(struct pg_store *s, const char *thread)
{
	if (s->base.fence_thread == NULL ||
	    strcmp(s->base.fence_thread, thread) != 0)
		return -1;
	return s->base.fence_token;
}

static int
fenced(struct pg_store *s, const char *what, const char *thread)
{
	return store_fail(&s->base, CORRAL_EFENCED, "PostgreSQL %s: %s: thread "
	    "%s is no longer leased with token %lld (another node took it "
	    "over); nothing was written", s->name, what, thread,
	    (long long)s->base.fence_token);
}

/* Put. */

/* Does spec name a channel whose value is to come from the parent? */
static bool
spec_from_parent(const char *spec, size_t slen)
{
	const char *p = spec, *end = spec + slen;
	size_t n;
	int k;

	while (p < end) {
		for (k = 0; k < 2; k++) {
			n = strnlen(p, (size_t)(end - p));
			p += n + 1;
		}
		if (p < end && *p++ == 'p')
			return true;
	}
	return false;
}

/*
 * The origins named in stored versions (store_resolve's), as a text[]:
 * the rows a read of this checkpoint fetches beside it.  Consecutive
 * channels mostly share one; the others repeat harmlessly.  *a empty (n
 * 0) when there is none.  false when memory ran out.
 */
static bool
origins_of(const unsigned char *v, size_t len, struct arr *a)
{
	const char *p = (const char *)v, *end, *last = NULL, *o;
	size_t ol, lastl = 0;

	arr_begin(a, T_TEXT);
	if (v == NULL || len < 4)
		return arr_end(a);
	end = p + len - 4;
	while (p < end) {
		p += strnlen(p, (size_t)(end - p)) + 1;
		if (p >= end)
			break;
		p += strnlen(p, (size_t)(end - p)) + 1;
		if (p >= end)
			break;
		o = p;
		ol = strnlen(p, (size_t)(end - p));
		p += ol + 1;
		if (ol == 0 || (last != NULL && lastl == ol &&
		    memcmp(last, o, ol) == 0))
			continue;
		arr_add(a, o, ol);
		last = o;
		lastl = ol;
	}
	return arr_end(a);
}

/* What ST_PUT_READ found. */
struct seen {
	PGresult *r;
	const unsigned char *pvers, *oldvals;
	size_t pvlen, oldlen;
	const char *latest;
	bool exists;
};

static int
put_read(struct pg_store *s, const struct store_put *p, struct seen *z)
{
	struct params pp;
	size_t n;
	int rc;

	pp_init(&pp);
	pp_str(&pp, 1, p->thread);
	pp_str(&pp, 2, p->ns);
	pp_str(&pp, 3, p->parent);
	pp_str(&pp, 4, p->id);
	PQclear(z->r);
	memset(z, 0, sizeof(*z));
	if ((rc = run(s, ST_PUT_READ, &pp, "put", &z->r)) != CORRAL_OK)
		return rc;
	if (PQntuples(z->r) != 1)
		return store_fail(&s->base, CORRAL_EIO, "PostgreSQL %s: put: "
		    "no row read", s->name);
	z->pvers = (const unsigned char *)r_str(z->r, 0, 0, &z->pvlen);
	z->latest = r_str(z->r, 0, 1, &n);
	z->oldvals = (const unsigned char *)r_str(z->r, 0, 2, &z->oldlen);
	z->exists = r_int(z->r, 0, 3) != 0;
	return CORRAL_OK;
}

/*
 * A put: with nothing to resolve against (its own id, no channel from
 * the parent), one statement; else a read, then the statement, which
 * writes only if what was read is still so (else read again).  The
 * same id again replaces the row, its values merged (store_merge_values).
 */
static int
pg_put(struct corral_store *base, const struct store_put *p)
{
	struct pg_store *s = (struct pg_store *)base;
	struct seen z = { 0 };
	struct params pp;
	struct arr org = { 0 };
	PGresult *r = NULL;
	unsigned char *vals = NULL, *vers = NULL;
	char *spec = NULL;
	const unsigned char *v;
	const char *id;
	size_t vallen, slen, verslen;
	uint32_t crc;
	int64_t token = fence_of(s, p->thread);
	bool need_read, replace = false, wrote;
	int rc = CORRAL_OK, attempt;

	need_read = p->id == NULL || (p->parent != NULL && p->spec != NULL &&
	    spec_from_parent(p->spec, p->slen));
	for (attempt = 0; attempt < RETRIES; attempt++) {
		free(vals);
		free(spec);
		free(vers);
		free(org.b);
		vals = vers = NULL;
		spec = NULL;
		org.b = NULL;
		if (need_read && (rc = put_read(s, p, &z)) != CORRAL_OK)
			break;
		id = p->id;
		if (id == NULL) {
			store_make_id(base, p->id_out, p->now_ms, z.latest);
			id = p->id_out;
		}
		replace = p->id != NULL && z.exists;
		v = p->vals;
		vallen = p->vallen;
		slen = p->slen;
		crc = p->crc;
		if (replace) {
			if ((rc = store_merge_values(p->vals, p->vallen,
			    z.oldvals, z.oldlen, &vals, &vallen)) != CORRAL_OK ||
			    (rc = store_encode_spec(p->versions, p->nversions,
			    vals, vallen, &spec, &slen)) != CORRAL_OK) {
				rc = store_fail(base, rc, "put: out of memory");
				break;
			}
			v = vals;
			crc = store_crc_checkpoint(p->type, p->type ?
			    strlen(p->type) : 0, p->data, p->len, p->metadata,
			    p->mlen, p->mtype, p->mtype ? strlen(p->mtype) : 0,
			    spec != NULL, vals != NULL);
		}
		verslen = 0;
		if ((replace ? spec : p->spec) != NULL) {
			rc = store_resolve(replace ? spec : p->spec, slen,
			    p->parent, p->parent ? strlen(p->parent) : 0,
			    z.pvers, z.pvlen, &vers, &verslen);
			if (rc == CORRAL_ECORRUPT) {
				rc = store_fail(base, rc, "put: the versions "
				    "of parent %s fail their checksum",
				    p->parent);
				break;
			}
			if (rc != CORRAL_OK) {
				rc = store_fail(base, rc, "put: out of memory");
				break;
			}
		}
		if (!origins_of(vers, verslen, &org)) {
			rc = store_fail(base, CORRAL_ENOMEM,
			    "put: out of memory");
			break;
		}
		pp_init(&pp);
		pp_str(&pp, 1, p->thread);
		pp_str(&pp, 2, p->ns);
		pp_str(&pp, 3, id);
		pp_str(&pp, 4, p->parent);
		pp_str(&pp, 5, p->type);
		pp_bytes(&pp, 6, p->data, p->len);
		pp_bytes(&pp, 7, p->metadata, p->mlen);
		pp_i8(&pp, 8, p->now_ms);
		pp_i8(&pp, 9, crc);
		pp_str(&pp, 10, p->mtype);
		if (vers != NULL)
			pp_bytes(&pp, 11, vers, verslen);
		if (v != NULL)
			pp_bytes(&pp, 12, v, vallen);
		if (org.n > 0)
			pp_bytes(&pp, 13, org.b, org.len);
		if (token >= 0)
			pp_i8(&pp, 14, token);
		pp_bool(&pp, 15, need_read && p->parent != NULL);
		if (z.pvers != NULL)
			pp_bytes(&pp, 16, z.pvers, z.pvlen);
		pp_bool(&pp, 17, p->id == NULL);
		pp_bool(&pp, 18, replace);
		if (z.oldvals != NULL)
			pp_bytes(&pp, 19, z.oldvals, z.oldlen);
		if ((rc = run(s, ST_PUT, &pp, "put", &r)) != CORRAL_OK)
			break;
		if (r_int(r, 0, 0) == 0) {
			rc = fenced(s, "put", p->thread);
			break;
		}
		wrote = r_int(r, 0, 2) != 0;
		PQclear(r);
		r = NULL;
		if (wrote) {
			if (p->id != NULL)
				memcpy(p->id_out, p->id, strlen(p->id) + 1);
			break;
		}
		/* Stale, or the id is taken: read what is there now. */
		need_read = true;
	}
	if (attempt == RETRIES)
		rc = store_fail(base, CORRAL_EBUSY, "PostgreSQL %s: put: thread "
		    "%s kept changing under %d attempts", s->name, p->thread,
		    RETRIES);
	PQclear(r);
	PQclear(z.r);
	free(vals);
	free(spec);
	free(vers);
	free(org.b);
	return rc;
}

/* Reads. */

/* Copies a key column, which a tuple never has NULL (else: corrupt). */
static size_t
col_key(struct tbuf *tb, const PGresult *r, int row, int col)
{
	size_t n;
	const char *v = r_str(r, row, col, &n);

	if (v != NULL)
		return tb_add(tb, v, n);
	tb->corrupt = true;
	return tb_add(tb, "", 0);
}

static size_t
col_str(struct tbuf *tb, const PGresult *r, int row, int col)
{
	size_t n;
	const char *v = r_str(r, row, col, &n);

	return v != NULL ? tb_add(tb, v, n) : TB_NULL;
}

/*
 * Copies the checkpoint row into the tuple buffer, checking its checksum
 * as the SQLite backend does.  false when it fails (the tuple is corrupt,
 * its channels and writes are not read).
 */
static bool
read_checkpoint(struct tbuf *tb, const PGresult *r, int row)
{
	const char *type, *meta, *mtype, *data;
	size_t tlen, len, mlen, mtlen;
	uint64_t crc;

	tb_reset(tb);
	tb->thread = col_key(tb, r, row, R_THR);
	tb->ns = col_key(tb, r, row, R_NS_);
	tb->id = col_key(tb, r, row, R_ID_);
	tb->parent = col_str(tb, r, row, R_PARENT);
	tb->created_ms = r_int(r, row, R_CREATED);
	type = r_str(r, row, R_TYPE, &tlen);
	data = r_str(r, row, R_DATA, &len);
	meta = r_str(r, row, R_META, &mlen);
	mtype = r_str(r, row, R_MTYPE, &mtlen);
	crc = (uint64_t)r_int(r, row, R_CRC);
	return tb_checkpoint(tb, !r_null(r, row, R_CRC) && crc <= UINT32_MAX,
	    (uint32_t)crc, type, tlen, data, len, meta, mlen, mtype, mtlen,
	    !r_null(r, row, R_VERS), !r_null(r, row, R_VALS));
}

/*
 * Adds a write (columns type, value, checksum, task, idx, channel, path
 * at the given positions) to the tuple buffer, checking its checksum: a
 * write that fails it makes the tuple corrupt.
 */
static void
read_write(struct tbuf *tb, const PGresult *r, int row, const int *c)
{
	const char *ch, *wtype, *path, *val, *task;
	size_t clen, wtlen, vlen, plen, tlen;

	wtype = r_str(r, row, c[W_TYPE], &wtlen);
	ch = r_str(r, row, c[W_CHANNEL], &clen);
	val = r_str(r, row, c[W_VALUE], &vlen);
	path = r_str(r, row, c[W_PATH], &plen);
	task = r_str(r, row, c[W_TASK], &tlen);
	if (ch == NULL || path == NULL || task == NULL ||
	    r_null(r, row, c[W_CRC]) ||
	    (uint64_t)r_int(r, row, c[W_CRC]) != store_crc_write(wtype, wtlen,
	    ch, clen, val != NULL ? val : "", vlen, path, plen)) {
		tb->corrupt = true;
		return;
	}
	tb_add_write(tb, task, tlen, (int)r_int(r, row, c[W_IDX]), ch, clen,
	    wtype, wtlen, val, vlen, path, plen);
}

static const int rw_cols[] = { [W_TASK] = R_TASK, [W_IDX] = R_IDX,
	[W_CHANNEL] = R_CHANNEL, [W_TYPE] = R_TYPE, [W_VALUE] = R_DATA,
	[W_CRC] = R_CRC, [W_PATH] = R_PATH };
static const int w_cols[] = { [W_TASK] = W_TASK, [W_IDX] = W_IDX,
	[W_CHANNEL] = W_CHANNEL, [W_TYPE] = W_TYPE, [W_VALUE] = W_VALUE,
	[W_CRC] = W_CRC, [W_PATH] = W_PATH };

/* The origins' rows of a read: rows [0, n) of r. */
struct pg_read {
	const PGresult *r;
	int n, hint;
	const char *thread, *ns;
	size_t tl, nl;
};

static bool
col_is(const PGresult *r, int row, int col, const char *s, size_t len)
{
	size_t n;
	const char *v = r_str(r, row, col, &n);

	return v != NULL && n == len && memcmp(v, s, len) == 0;
}

/*
 * store_origin_fn: the values of the checkpoint id of the row's thread
 * and namespace, among the origins' rows the statement sent first.
 */
static int
pg_origin(void *arg, const char *id, size_t idlen,
    const unsigned char **vals, size_t *len)
{
	struct pg_read *rd = arg;
	const char *v;
	int i, k;

	for (k = 0; k < rd->n; k++) {
		i = (rd->hint + k) % rd->n;
		if (!col_is(rd->r, i, R_ID_, id, idlen) ||
		    !col_is(rd->r, i, R_THR, rd->thread, rd->tl) ||
		    !col_is(rd->r, i, R_NS_, rd->ns, rd->nl))
			continue;
		rd->hint = i;
		if ((v = r_str(rd->r, i, R_VALS, len)) == NULL)
			return CORRAL_NOTFOUND;
		*vals = (const unsigned char *)v;
		return store_blob_ok(*vals, *len) ? CORRAL_OK :
		    CORRAL_ECORRUPT;
	}
	return CORRAL_NOTFOUND;
}

static int
read_channels(struct pg_store *s, struct pg_read *rd, int row)
{
	const char *vers, *vals;
	size_t vlen, vallen;

	rd->thread = r_str(rd->r, row, R_THR, &rd->tl);
	rd->ns = r_str(rd->r, row, R_NS_, &rd->nl);
	if (rd->thread == NULL || rd->ns == NULL)
		return CORRAL_OK; /* read_checkpoint found it corrupt */
	vers = r_str(rd->r, row, R_VERS, &vlen);
	vals = r_str(rd->r, row, R_VALS, &vallen);
	return store_read_channels(&s->tb, (const unsigned char *)vers, vlen,
	    (const unsigned char *)vals, vallen, pg_origin, rd);
}

/* The SQL of a read of one shape into q. */
static int
read_sql(unsigned shape, char *q, size_t size)
{
	int n;

	n = snprintf(q, size, "WITH c AS (SELECT * FROM corral_checkpoints"
	    " WHERE true%s%s%s%s%s ORDER BY checkpoint_id DESC,"
	    " thread_id DESC, checkpoint_ns DESC LIMIT $7)"
	    " SELECT * FROM ("
	    "SELECT 1 AS k, thread_id, checkpoint_ns, checkpoint_id,"
	    " parent_checkpoint_id, type, checkpoint, metadata, created_ms,"
	    " checksum, metadata_type, versions, channel_values,"
	    " NULL::text AS task_id, NULL::integer AS idx,"
	    " NULL::text AS channel, NULL::text AS task_path FROM c"
	    " UNION ALL SELECT 2, w.thread_id, w.checkpoint_ns,"
	    " w.checkpoint_id, NULL, w.type, w.value, NULL, NULL, w.checksum,"
	    " NULL, NULL, NULL, w.task_id, w.idx, w.channel, w.task_path"
	    " FROM c JOIN corral_writes AS w ON w.thread_id = c.thread_id"
	    " AND w.checkpoint_ns = c.checkpoint_ns"
	    " AND w.checkpoint_id = c.checkpoint_id"
	    " UNION ALL SELECT 0, o.thread_id, o.checkpoint_ns,"
	    " o.checkpoint_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
	    " o.channel_values, NULL, NULL, NULL, NULL"
	    " FROM corral_checkpoints AS o WHERE (o.thread_id,"
	    " o.checkpoint_ns, o.checkpoint_id) IN (SELECT c.thread_id,"
	    " c.checkpoint_ns, unnest(c.origins) FROM c)"
	    ") AS u ORDER BY k <> 0, checkpoint_id DESC, thread_id DESC,"
	    " checkpoint_ns DESC, k, task_id, idx",
	    shape & R_THREAD ? " AND thread_id = $1" : "",
	    shape & R_NS ? " AND checkpoint_ns = $2" : "",
	    shape & R_BEFORE ? " AND checkpoint_id < $3" : "",
	    !(shape & R_AFTER) ? "" : KEYED(shape) ?
	    " AND checkpoint_id < $4" : " AND (checkpoint_id, thread_id,"
	    " checkpoint_ns) < ($4, $5, $6)",
	    shape & R_ID ? " AND checkpoint_id = $8" : "");
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Runs the read of shape with p.  *out: caller clears. */
static int
run_read(struct pg_store *s, unsigned shape, const struct params *p,
    const char *what, PGresult **out)
{
	static const Oid types[8] = { T_TEXT, T_TEXT, T_TEXT, T_TEXT, T_TEXT,
		T_TEXT, T_INT8, T_TEXT };
	char name[16], q[2048];
	int rc;

	*out = NULL;
	if ((rc = pg_ready(s, what)) != CORRAL_OK)
		return rc;
	snprintf(name, sizeof(name), "corral_r%u", shape);
	/* The text is only needed the first time. */
	if (!s->rprepared[shape] && read_sql(shape, q, sizeof(q)) != 0)
		return store_fail(&s->base, CORRAL_EIO, "%s: query too long",
		    what);
	return exec_prepared(s, name, q, 8, types, &s->rprepared[shape], p,
	    what, out);
}

/*
 * Walks a read's rows: each checkpoint, its channels and writes read into
 * the tuple buffer, handed to fn (NULL: the first alone is read, for get).
 * *n counts the checkpoints; *last is the row of the last.  fn returns 1
 * to stop.  0, 1 (stopped) or an error.
 */
typedef int (*row_fn)(struct pg_store *, const PGresult *, int row,
    void *);

static int
walk(struct pg_store *s, const PGresult *r, row_fn keep, row_fn emit,
    void *arg, int *n, int *last)
{
	struct pg_read rd;
	int i, rows = PQntuples(r), k, rc, cur = -1;
	bool sound = false, want = false;

	memset(&rd, 0, sizeof(rd));
	rd.r = r;
	for (i = 0; i < rows && r_int(r, i, R_K) == 0; i++)
		;
	rd.n = i;
	*n = 0;
	*last = -1;
	for (; i <= rows; i++) {
		k = i < rows ? (int)r_int(r, i, R_K) : 1;
		if (k == 2) {
			if (want && sound)
				read_write(&s->tb, r, i, rw_cols);
			continue;
		}
		if (want && (rc = emit(s, r, cur, arg)) != CORRAL_OK)
			return rc;
		if (i == rows)
			break;
		cur = i;
		++*n;
		*last = i;
		/* The filter (keep) looks at the row before its checksum. */
		if ((rc = keep(s, r, i, arg)) < 0)
			return rc;
		if (!(want = rc == 1))
			continue;
		sound = read_checkpoint(&s->tb, r, i);
		if (sound && (rc = read_channels(s, &rd, i)) != CORRAL_OK)
			return rc;
	}
	return CORRAL_OK;
}

static int
keep_all(struct pg_store *s, const PGresult *r, int row, void *arg)
{
	(void)s, (void)r, (void)row, (void)arg;
	return 1;
}

static int
emit_get(struct pg_store *s, const PGresult *r, int row, void *arg)
{
	(void)r, (void)row;
	if (tb_copy(&s->tb, arg) != CORRAL_OK)
		return store_fail(&s->base, CORRAL_ENOMEM,
		    "out of memory copying a checkpoint");
	return 1;
}

static int
pg_get(struct corral_store *base, const char *thread, const char *ns,
    const char *id, struct corral_tuple **out)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p;
	PGresult *r;
	int rc, n, last;

	*out = NULL;
	pp_init(&p);
	pp_str(&p, 1, thread);
	pp_str(&p, 2, ns);
	pp_i8(&p, 7, 1);
	pp_str(&p, 8, id);
	if ((rc = run_read(s, R_THREAD | R_NS | (id != NULL ? R_ID : 0), &p,
	    "get", &r)) != CORRAL_OK)
		return rc;
	tb_reset(&s->tb);
	rc = walk(s, r, keep_all, emit_get, out, &n, &last);
	PQclear(r);
	if (rc < 0)
		return rc;
	if (*out == NULL)
		return CORRAL_NOTFOUND;
	if ((*out)->corrupt)
		return store_fail(base, CORRAL_ECORRUPT,
		    "checkpoint %s of thread %s: checksum mismatch",
		    (*out)->checkpoint_id, (*out)->thread_id);
	return CORRAL_OK;
}

/* A list being walked. */
struct pg_list {
	const struct corral_list_opts *o;
	bool keys;
	unsigned yielded;
	store_list_fn fn;
	void *arg;
};

/* Does the metadata match the filter (SQLite's JSON, as the others)? */
static int
keep_filter(struct pg_store *s, const PGresult *r, int row, void *arg)
{
	struct pg_list *l = arg;
	const char *meta;
	size_t mlen;

	if (!l->keys)
		return 1;
	meta = r_str(r, row, R_META, &mlen);
	return store_filter_match(&s->base, s->json, &s->match, meta, mlen,
	    l->o->filter);
}

static int
emit_list(struct pg_store *s, const PGresult *r, int row, void *arg)
{
	struct pg_list *l = arg;
	struct corral_tuple t;

	(void)r, (void)row;
	if (s->tb.nomem || tb_view(&s->tb, &t) != CORRAL_OK)
		return store_fail(&s->base, CORRAL_ENOMEM,
		    "out of memory listing checkpoints");
	l->yielded++;
	if (l->fn(l->arg, &t) != 0)
		return 1;
	return l->o->limit > 0 && l->yielded >= l->o->limit ? 1 : CORRAL_OK;
}

/* Copies where the next page resumes: the key of row. */
static int
set_after(struct pg_store *s, const PGresult *r, int row)
{
	static const int cols[3] = { R_ID_, R_THR, R_NS_ };
	const char *v;
	size_t n;
	int i;

	for (i = 0; i < 3; i++) {
		v = r_str(r, row, cols[i], &n);
		if (v == NULL || n > CORRAL_KEY_MAX)
			return store_fail(&s->base, CORRAL_ECORRUPT, "list: a "
			    "checkpoint of PostgreSQL %s has no key",
			    s->name);
		memcpy(s->after[i], v, n);
		s->after[i][n] = '\0';
	}
	return CORRAL_OK;
}

static int
open_json(struct pg_store *s)
{
	if (s->json != NULL)
		return CORRAL_OK;
	if (sqlite3_open_v2(":memory:", &s->json, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sqlite3_close(s->json);
		s->json = NULL;
		return store_fail(&s->base, CORRAL_ENOMEM,
		    "filter: out of memory");
	}
	return CORRAL_OK;
}

/*
 * A list: pages of PAGE checkpoints (or what the limit leaves, when no
 * filter decides here), each one statement, each resuming after the
 * last checkpoint of the one before.
 */
static int
pg_list(struct corral_store *base, const struct corral_list_opts *o,
    const struct store_after *a, store_list_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	struct pg_list l = { o, false, 0, fn, arg };
	struct params p;
	PGresult *r;
	unsigned shape = 0;
	int64_t want;
	int rc, n, last;

	if (o->filter != NULL && ((rc = open_json(s)) != CORRAL_OK ||
	    (rc = store_filter_check(base, s->json, &s->filter_check,
	    o->filter, &l.keys)) != CORRAL_OK))
		return rc;
	shape |= o->thread_id != NULL ? R_THREAD : 0;
	shape |= o->checkpoint_ns != NULL ? R_NS : 0;
	shape |= o->before != NULL ? R_BEFORE : 0;
	for (;;) {
		want = PAGE;
		if (!l.keys && o->limit > 0 && o->limit - l.yielded < PAGE)
			want = o->limit - l.yielded;
		pp_init(&p);
		pp_str(&p, 1, o->thread_id);
		pp_str(&p, 2, o->checkpoint_ns);
		pp_str(&p, 3, o->before);
		if (a != NULL) {
			shape |= R_AFTER;
			pp_str(&p, 4, a->id);
			pp_str(&p, 5, a->thread);
			pp_str(&p, 6, a->ns);
		}
		pp_i8(&p, 7, want);
		if ((rc = run_read(s, shape, &p, "list", &r)) != CORRAL_OK)
			return rc;
		rc = walk(s, r, keep_filter, emit_list, &l, &n, &last);
		if (rc == CORRAL_OK && n == want)
			rc = set_after(s, r, last);
		PQclear(r);
		if (rc != CORRAL_OK)
			return rc == 1 ? CORRAL_OK : rc;
		if (n < want)
			return CORRAL_OK;
		s->after_ref.id = s->after[0];
		s->after_ref.thread = s->after[1];
		s->after_ref.ns = s->after[2];
		a = &s->after_ref;
	}
}

/* Writes. */

static int
pg_put_writes(struct corral_store *base, const char *thread, const char *ns,
    const char *id, const char *task, const char *path,
    const struct corral_write *ws, size_t n)
{
	struct pg_store *s = (struct pg_store *)base;
	struct arr a[5];
	struct params p;
	PGresult *r;
	size_t i, j, tlen, clen;
	int64_t token = fence_of(s, thread);
	int rc, idx, k;
	bool ok = true;

	arr_begin(&a[0], T_INT4);
	arr_begin(&a[1], T_TEXT);
	arr_begin(&a[2], T_TEXT);
	arr_begin(&a[3], T_BYTEA);
	arr_begin(&a[4], T_INT8);
	for (i = 0; i < n; i++) {
		idx = store_write_idx(ws[i].channel, i);
		/*
		 * One statement cannot write a row twice: of a special
		 * channel written twice in one call, the last is kept, as
		 * the SQLite backend's replace keeps it.
		 */
		for (j = i + 1; idx < 0 && j < n; j++)
			if (strcmp(ws[j].channel, ws[i].channel) == 0)
				break;
		if (idx < 0 && j < n)
			continue;
		tlen = ws[i].type != NULL ? strlen(ws[i].type) : 0;
		clen = strlen(ws[i].channel);
		arr_i4(&a[0], idx);
		arr_add(&a[1], ws[i].channel, clen);
		arr_add(&a[2], ws[i].type, tlen);
		arr_add(&a[3], ws[i].value != NULL ? ws[i].value : "",
		    ws[i].len);
		arr_i8(&a[4], store_crc_write(ws[i].type, tlen, ws[i].channel,
		    clen, ws[i].value != NULL ? ws[i].value : "", ws[i].len,
		    path, strlen(path)));
	}
	for (k = 0; k < 5; k++)
		ok = arr_end(&a[k]) && ok;
	if (!ok) {
		rc = store_fail(base, CORRAL_ENOMEM, "put_writes: out of memory");
		goto out;
	}
	pp_init(&p);
	pp_str(&p, 1, thread);
	pp_str(&p, 2, ns);
	pp_str(&p, 3, id);
	pp_str(&p, 4, task);
	if (token >= 0)
		pp_i8(&p, 5, token);
	pp_str(&p, 6, path);
	for (k = 0; k < 5; k++)
		pp_bytes(&p, 7 + k, a[k].b, a[k].len);
	if ((rc = run(s, ST_W_PUT, &p, "put_writes", &r)) != CORRAL_OK)
		goto out;
	if (r_int(r, 0, 0) == 0)
		rc = fenced(s, "put_writes", thread);
	PQclear(r);
out:
	for (k = 0; k < 5; k++)
		free(a[k].b);
	return rc;
}

static int
pg_get_writes(struct corral_store *base, const char *thread, const char *ns,
    const char *id, const char *channel)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p;
	PGresult *r;
	const char *ch;
	size_t clen;
	int rc, i;

	tb_reset(&s->tb);
	pp_init(&p);
	pp_str(&p, 1, thread);
	pp_str(&p, 2, ns);
	pp_str(&p, 3, id);
	if ((rc = run(s, ST_W_GET, &p, "get_writes", &r)) != CORRAL_OK)
		return rc;
	for (i = 0; i < PQntuples(r); i++) {
		ch = r_str(r, i, W_CHANNEL, &clen);
		if (channel == NULL || ch == NULL || strcmp(ch, channel) == 0)
			read_write(&s->tb, r, i, w_cols);
	}
	PQclear(r);
	return s->tb.nomem ? store_fail(base, CORRAL_ENOMEM,
	    "get_writes: out of memory") : CORRAL_OK;
}

static int
pg_delete_thread(struct corral_store *base, const char *thread)
{
	struct pg_store *s = (struct pg_store *)base;
	struct params p;
	PGresult *r;
	int64_t token = fence_of(s, thread);
	int rc;

	pp_init(&p);
	pp_str(&p, 1, thread);
	if (token >= 0)
		pp_i8(&p, 2, token);
	if ((rc = run(s, ST_DELETE, &p, "delete_thread", &r)) != CORRAL_OK)
		return rc;
	if (r_int(r, 0, 0) == 0)
		rc = fenced(s, "delete_thread", thread);
	PQclear(r);
	return rc;
}

static void
pg_close(struct corral_store *base)
{
	struct pg_store *s = (struct pg_store *)base;

	sqlite3_finalize(s->match);
	sqlite3_finalize(s->filter_check);
	sqlite3_close(s->json);
	PQfinish(s->conn);
	tb_free(&s->tb);
	free(s->name);
	free(s);
}

static const struct store_ops pg_ops = {
	.put = pg_put,
	.get = pg_get,
	.list = pg_list,
	.put_writes = pg_put_writes,
	.get_writes = pg_get_writes,
	.delete_thread = pg_delete_thread,
	.close = pg_close,
};

/* Opening. */

/* The server's notices ("relation exists, skipping"): not for stderr. */
static void
quiet(void *arg, const char *message)
{
	(void)arg, (void)message;
}

/* open's messages: *why is static, but per thread. */
static _Thread_local char why_buf[512];

static const char *
why_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *
why_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return why_buf;
}

/* Runs one of open's statements.  A PGresult of the given status, or NULL. */
static PGresult *
setup_exec(struct pg_store *s, const char *q, ExecStatusType want,
    const char *what, const char **why)
{
	PGresult *r = PQexec(s->conn, q);
	char msg[200];

	if (PQresultStatus(r) == want)
		return r;
	first_line(r != NULL ? PQresultErrorMessage(r) :
	    PQerrorMessage(s->conn), msg, sizeof(msg));
	*why = why_set("PostgreSQL %s: %s: %s", s->name, what, msg);
	PQclear(r);
	return NULL;
}

/*
 * Creates the tables of a new database, in one transaction under an
 * advisory lock: of several processes opening it at once, the first
 * creates them and the others find them.  A newer version: CORRAL_EINVAL.
 */
static int
setup_schema(struct pg_store *s, const char **why)
{
	PGresult *r;
	int v = 0, code = CORRAL_EIO;

	if ((r = setup_exec(s, "BEGIN; SELECT pg_advisory_xact_lock("
	    SCHEMA_LOCK "); CREATE TABLE IF NOT EXISTS corral_schema"
	    " (version integer NOT NULL)", PGRES_COMMAND_OK,
	    "set up the tables", why)) == NULL)
		goto fail;
	PQclear(r);
	if ((r = setup_exec(s, "SELECT coalesce(max(version), 0)"
	    " FROM corral_schema", PGRES_TUPLES_OK, "read the schema version",
	    why)) == NULL)
		goto fail;
	v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (v > SCHEMA_VERSION) {
		*why = why_set("PostgreSQL %s has checkpoint tables of schema "
		    "version %d, newer than this libcorral knows (%d): they "
		    "were written by a newer libcorral", s->name, v,
		    SCHEMA_VERSION);
		code = CORRAL_EINVAL;
		goto fail;
	}
	if (v < SCHEMA_VERSION) {
		if ((r = setup_exec(s, schema, PGRES_COMMAND_OK,
		    "create the tables", why)) == NULL)
			goto fail;
		PQclear(r);
	}
	if ((r = setup_exec(s, "COMMIT", PGRES_COMMAND_OK, "commit the tables",
	    why)) == NULL)
		goto fail;
	PQclear(r);
	return CORRAL_OK;
fail:
	PQclear(PQexec(s->conn, "ROLLBACK"));
	return code;
}

/*
 * The connection's parameters: conninfo's, and the timeouts it does not
 * set itself; statement_timeout goes into options, after conninfo's own.
 * Arrays of n + 1 (NULL-terminated) into kw and val, strings in pool.
 */
#define NKW 64
static int
conn_params(const char *conninfo, unsigned ms, const char **kw,
    const char **val, char *pool, size_t poolsize, PQconninfoOption **opts,
    const char **why)
{
	PQconninfoOption *o;
	char *err = NULL;
	const char *user_opts = NULL;
	bool has_ct = false, has_tcp = false;
	int n = 0, w;
	size_t used = 0;

	if ((*opts = PQconninfoParse(conninfo, &err)) == NULL) {
		char msg[200];
		int code = err != NULL ? CORRAL_EINVAL : CORRAL_ENOMEM;

		first_line(err != NULL ? err : "out of memory", msg,
		    sizeof(msg));
		*why = why_set("bad PostgreSQL connection string: %s", msg);
		PQfreemem(err);
		return code;
	}
	for (o = *opts; o->keyword != NULL && n < NKW - 4; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "options") == 0) {
			user_opts = o->val;
			continue;
		}
		has_ct |= strcmp(o->keyword, "connect_timeout") == 0;
		has_tcp |= strcmp(o->keyword, "tcp_user_timeout") == 0;
		kw[n] = o->keyword;
		val[n++] = o->val;
	}
	if (!has_ct) {
		w = snprintf(pool + used, poolsize - used, "%u",
		    (ms + 999) / 1000 < 2 ? 2 : (ms + 999) / 1000);
		kw[n] = "connect_timeout";
		val[n++] = pool + used;
		used += (size_t)w + 1;
	}
	if (!has_tcp) {
		w = snprintf(pool + used, poolsize - used, "%u", ms);
		kw[n] = "tcp_user_timeout";
		val[n++] = pool + used;
		used += (size_t)w + 1;
	}
	w = snprintf(pool + used, poolsize - used, "%s%s-c statement_timeout=%u",
	    user_opts != NULL ? user_opts : "", user_opts != NULL ? " " : "",
	    ms);
	if (w < 0 || (size_t)w >= poolsize - used) {
		*why = "PostgreSQL connection string: options too long";
		return CORRAL_EINVAL;
	}
	kw[n] = "options";
	val[n++] = pool + used;
	kw[n] = NULL;
	val[n] = NULL;
	return CORRAL_OK;
}

int
corral_store_open_pg(const char *conninfo, const struct corral_pg_opts *o,
    struct corral_store **out, const char **why)
{
	const char *kw[NKW], *val[NKW];
	PQconninfoOption *opts = NULL;
	struct pg_store *s;
	char pool[1024], msg[200];
	const char *host, *port, *db;
	unsigned ms = o != NULL && o->timeout_ms != 0 ? o->timeout_ms :
	    TIMEOUT_MS;
	int rc, len;

	*out = NULL;
	*why = NULL;
	if (conninfo == NULL || *conninfo == '\0') {
		*why = "no PostgreSQL connection string";
		return CORRAL_EINVAL;
	}
	if (pq_load(why) == -1)
		return CORRAL_EIO;
	if ((rc = conn_params(conninfo, ms, kw, val, pool, sizeof(pool), &opts,
	    why)) != CORRAL_OK) {
		PQconninfoFree(opts);
		return rc;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		PQconninfoFree(opts);
		*why = "out of memory";
		return CORRAL_ENOMEM;
	}
	store_init(&s->base, &pg_ops);
	tb_reset(&s->tb);
	s->base.tb = &s->tb;
	s->conn = PQconnectdbParams(kw, val, 0);
	PQconninfoFree(opts);
	if (s->conn == NULL) {
		pg_close(&s->base);
		*why = "out of memory";
		return CORRAL_ENOMEM;
	}
	/* What the messages name: never the password. */
	host = PQhost(s->conn);
	port = PQport(s->conn);
	db = PQdb(s->conn);
	len = snprintf(NULL, 0, "database %s at %s:%s", db ? db : "?",
	    host && *host ? host : "localhost", port && *port ? port : "5432");
	if ((s->name = malloc((size_t)len + 1)) == NULL) {
		pg_close(&s->base);
		*why = "out of memory";
		return CORRAL_ENOMEM;
	}
	snprintf(s->name, (size_t)len + 1, "database %s at %s:%s",
	    db ? db : "?", host && *host ? host : "localhost",
	    port && *port ? port : "5432");
	PQsetNoticeProcessor(s->conn, quiet, NULL);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		first_line(PQerrorMessage(s->conn), msg, sizeof(msg));
		*why = why_set("PostgreSQL %s: cannot connect: %s", s->name,
		    msg);
		pg_close(&s->base);
		return CORRAL_EIO;
	}
	if ((rc = setup_schema(s, why)) != CORRAL_OK) {
		pg_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return CORRAL_OK;
}

bool
corral_where_is_postgres(const char *where)
{
	PQconninfoOption *o, *d;
	const char *why;
	size_t n, m;
	bool known = false;

	if (where == NULL)
		return false;
	if (strncmp(where, "postgresql://", 13) == 0 ||
	    strncmp(where, "postgres://", 11) == 0)
		return true;
	while (isspace((unsigned char)*where))
		where++;
	for (n = 0; isalnum((unsigned char)where[n]) || where[n] == '_'; n++)
		;
	if (n == 0)
		return false;
	for (m = n; isspace((unsigned char)where[m]); m++)
		;
	if (where[m] != '=')
		return false;
	/* Without libpq, say so when it is opened (pq_load's message). */
	if (pq_load(&why) == -1)
		return true;
	if ((d = PQconndefaults()) == NULL)
		return false;
	for (o = d; o->keyword != NULL; o++)
		if (strlen(o->keyword) == n && strncmp(o->keyword, where, n) == 0)
			known = true;
	PQconninfoFree(d);
	return known;
}
