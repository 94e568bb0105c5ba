/*
 * store_sqlite.c: the checkpoint store in a SQLite database, in WAL mode,
 * shared by many processes: the tables of LangGraph's SqliteSaver plus a
 * creation time and a checksum per row, statements prepared once per
 * handle, a busy handler that waits for other writers, and a check before
 * every write that the file is still the one open.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_impl.h"

/* How long a writer waits for the others before CORRAL_EBUSY, by default. */
#define BUSY_TIMEOUT_MS 10000

/*
 * The layout of the tables, counted in corral_schema (absent: 1, the
 * tables of LangGraph's SqliteSaver plus created_ms and checksum).  2
 * added to checkpoints metadata_type, versions (each channel's version
 * and the checkpoint whose row holds its value) and channel_values (the
 * values its put gave, inline), and task_path to writes.  A database of a
 * version newer than this code knows is refused.
 */
#define SCHEMA_VERSION 2

/*
 * The tables of version 2, for a new database.  The small columns come
 * first: a put reads its parent's versions, a read an origin's values,
 * without walking the overflow pages of the blobs behind them.
 */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS checkpoints ("
    " thread_id TEXT NOT NULL,"
    " checkpoint_ns TEXT NOT NULL DEFAULT '',"
    " checkpoint_id TEXT NOT NULL,"
    " parent_checkpoint_id TEXT,"
    " type TEXT,"
    " created_ms INTEGER,"
    " checksum INTEGER,"
    " metadata_type TEXT,"
    " versions BLOB,"
    " metadata BLOB,"
    " channel_values BLOB,"
    " checkpoint BLOB,"
    " PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id));"
    "CREATE TABLE IF NOT EXISTS writes ("
    " thread_id TEXT NOT NULL,"
    " checkpoint_ns TEXT NOT NULL DEFAULT '',"
    " checkpoint_id TEXT NOT NULL,"
    " task_id TEXT NOT NULL,"
    " idx INTEGER NOT NULL,"
    " channel TEXT NOT NULL,"
    " type TEXT,"
    " value BLOB,"
    " checksum INTEGER,"
    " task_path TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx));";

/*
 * What version 1 lacks.  ALTER TABLE can only append: in a migrated
 * database the new columns come after the checkpoint's blob, and reading
 * a parent's versions walks its overflow pages (docs/SDK.md).
 */
static const char migrate_1_2[] =
    "ALTER TABLE checkpoints ADD COLUMN metadata_type TEXT;"
    "ALTER TABLE checkpoints ADD COLUMN versions BLOB;"
    "ALTER TABLE checkpoints ADD COLUMN channel_values BLOB;"
    "ALTER TABLE writes ADD COLUMN task_path TEXT NOT NULL DEFAULT '';";

/* Then the version itself. */
static const char schema_2[] =
    "CREATE TABLE IF NOT EXISTS corral_schema (version INTEGER NOT NULL);"
    "DELETE FROM corral_schema;"
    "INSERT INTO corral_schema (version) VALUES (2);";

#define CP_COLUMNS "thread_id, checkpoint_ns, checkpoint_id," \
	" parent_checkpoint_id, type, checkpoint, metadata, created_ms," \
	" checksum, metadata_type, versions, channel_values"
enum { C_THREAD, C_NS, C_ID, C_PARENT, C_TYPE, C_DATA, C_META, C_CREATED,
	C_CRC, C_MTYPE, C_VERS, C_VALS };

/* The columns of a write, from read_write's off on. */
#define W_COLUMNS "task_id, idx, channel, type, value, checksum, task_path"
enum { W_TASK, W_IDX, W_CHANNEL, W_TYPE, W_VALUE, W_CRC, W_PATH, W_N };

enum {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_LATEST, ST_PUT, ST_PUT_REPLACE,
	ST_VALS, ST_GET, ST_GET_LATEST, ST_WRITES, ST_W_RANGE, ST_W_IGNORE,
	ST_W_REPLACE, ST_DEL_CP, ST_DEL_W, ST_N
};

/*
 * A put is one statement, in autocommit: its versions' origins are
 * resolved inside it (corral_origins) against the parent's versions, read
 * in the same statement, so no other writer comes between.
 */
#define PUT_VALUES " (" CP_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7," \
	" ?8, ?9, ?10, corral_origins(?11, ?4, (SELECT versions FROM" \
	" checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2" \
	" AND checkpoint_id = ?4)), ?12)"

static const char *const sql[ST_N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_LATEST] = "SELECT checkpoint_id FROM checkpoints"
	    " WHERE thread_id = ?1 AND checkpoint_ns = ?2"
	    " ORDER BY checkpoint_id DESC LIMIT 1",
	[ST_PUT] = "INSERT INTO checkpoints" PUT_VALUES,
	[ST_PUT_REPLACE] = "INSERT OR REPLACE INTO checkpoints" PUT_VALUES,
	[ST_VALS] = "SELECT channel_values FROM checkpoints"
	    " WHERE thread_id = ?1 AND checkpoint_ns = ?2"
	    " AND checkpoint_id = ?3",
	[ST_GET] = "SELECT " CP_COLUMNS " FROM checkpoints"
	    " WHERE thread_id = ?1 AND checkpoint_ns = ?2"
	    " AND checkpoint_id = ?3",
	[ST_GET_LATEST] = "SELECT " CP_COLUMNS " FROM checkpoints"
	    " WHERE thread_id = ?1 AND checkpoint_ns = ?2"
	    " ORDER BY checkpoint_id DESC LIMIT 1",
	/* In the primary key's order: tb_view sorts by task_path. */
	[ST_WRITES] = "SELECT " W_COLUMNS
	    " FROM writes WHERE thread_id = ?1 AND checkpoint_ns = ?2"
	    " AND checkpoint_id = ?3 ORDER BY task_id, idx",
	/*
	 * The writes of a thread's namespace from a checkpoint down, in the
	 * primary key's order backwards (no sort): a list of the thread
	 * reads them beside its checkpoints (ST_WRITES's columns, then the
	 * checkpoint's id).
	 */
	[ST_W_RANGE] = "SELECT " W_COLUMNS ", checkpoint_id FROM writes"
	    " WHERE thread_id = ?1 AND checkpoint_ns = ?2"
	    " AND checkpoint_id <= ?3"
	    " ORDER BY checkpoint_id DESC, task_id DESC, idx DESC",
	[ST_W_IGNORE] = "INSERT OR IGNORE INTO writes (thread_id,"
	    " checkpoint_ns, checkpoint_id, task_id, idx, channel, type, value,"
	    " checksum, task_path)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_W_REPLACE] = "INSERT OR REPLACE INTO writes (thread_id,"
	    " checkpoint_ns, checkpoint_id, task_id, idx, channel, type, value,"
	    " checksum, task_path)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_DEL_CP] = "DELETE FROM checkpoints WHERE thread_id = ?1",
	[ST_DEL_W] = "DELETE FROM writes WHERE thread_id = ?1",
};

/* list's optional clauses, one bit each: 64 shapes of statement. */
enum { L_THREAD = 1, L_NS = 2, L_BEFORE = 4, L_FILTER = 8, L_LIMIT = 16,
	L_AFTER = 32, L_SHAPES = 64 };

/* An origin's inline values, read once per get or list (sq_origin). */
#define OCACHE_N 16
struct ocache {
	char *key;               /* thread, NUL, namespace, NUL, id */
	size_t klen, kcap;       /* klen 0: unused */
	unsigned char *b;        /* the values blob, checked */
	size_t len, cap;
	int rc;                  /* CORRAL_OK, _NOTFOUND or _ECORRUPT */
};

struct sq_store {
	struct corral_store base;
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
	sqlite3_stmt *list[L_SHAPES]; /* prepared on first use */
	sqlite3_stmt *filter_check;
	struct tbuf tb;
	uint64_t busy_since_us;
	unsigned busy_ms;        /* the busy handler gives up after this */
	char *path;              /* owned: as opened, for messages */
	bool origins_corrupt;    /* origins_fn met a corrupt parent */
	struct ocache ocache[OCACHE_N];
	size_t nocache, onext;
};

static uint64_t
mono_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

/*
 * Waits for another writer.  SQLite's own busy_timeout sleeps 1 ms, then
 * longer, while a commit of ours takes tens of microseconds: with many
 * writers most of the time would go to sleeping.  Short random sleeps,
 * growing to 1 ms, keep writers apart without idling; after busy_ms
 * (BUSY_TIMEOUT_MS by default) the call fails with SQLITE_BUSY.
 */
static int
busy_cb(void *arg, int count)
{
	struct sq_store *s = arg;
	struct timespec d;
	uint64_t now = mono_us(), cap;

	if (count == 0)
		s->busy_since_us = now;
	else if (now - s->busy_since_us >= s->busy_ms * 1000ULL)
		return 0;
	cap = count < 20 ? 50 + (uint64_t)count * 50 : 1000;
	d.tv_sec = 0;
	d.tv_nsec = (long)(20 + corral_rng_next(&s->base.rng) % cap) * 1000;
	nanosleep(&d, NULL);
	return 1;
}

/* Maps a SQLite result to a CORRAL_* code, keeping SQLite's message. */
static int
sq_fail(struct sq_store *s, int rc, const char *what)
{
	int code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = CORRAL_EBUSY;
		break;
	case SQLITE_NOMEM:
		code = CORRAL_ENOMEM;
		break;
	case SQLITE_FULL:
		code = CORRAL_EFULL;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = CORRAL_EDAMAGED;
		break;
	default: /* IOERR, READONLY, CANTOPEN, ... */
		code = CORRAL_EIO;
		break;
	}
	return store_fail(&s->base, code, "%s: %s", what, sqlite3_errmsg(s->db));
}

/*
 * Is the file at the path still the one open?  SQLite's own test: a stat
 * of the path, its inode against the open file's (so also a deletion).  A
 * WAL database keeps taking writes into a file that was deleted or renamed
 * over, and they are lost with its last descriptor: such a write must
 * fail.  When SQLite cannot say, nothing is claimed.
 */
static int
sq_check(struct corral_store *base)
{
	struct sq_store *s = (struct sq_store *)base;
	struct stat sb;
	int moved = 0;

	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED,
	    &moved) != SQLITE_OK || !moved)
		return CORRAL_OK;
	if (stat(s->path, &sb) == -1 && (errno == ENOENT || errno == ENOTDIR))
		return store_fail(base, CORRAL_EMOVED, "checkpoint database %s "
		    "was deleted since it was opened; writes to it would be "
		    "lost", s->path);
	return store_fail(base, CORRAL_EMOVED, "checkpoint database %s was "
	    "replaced by another file (renamed over, or deleted and made "
	    "again) since it was opened; writes to it would be lost",
	    s->path);
}

/* Runs a statement without rows (BEGIN, COMMIT, ...) and resets it. */
static int
run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static void
bind_str(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_blob(sqlite3_stmt *st, int i, const void *v, size_t len)
{
	/* A NULL pointer would bind NULL: empty data stays an empty blob. */
	sqlite3_bind_blob64(st, i, v != NULL ? v : "", len, SQLITE_STATIC);
}

/* A blob column: NULL when NULL, never when empty. */
static const unsigned char *
col_blob(sqlite3_stmt *st, int i)
{
	const unsigned char *b = sqlite3_column_blob(st, i);

	if (b == NULL && sqlite3_column_type(st, i) != SQLITE_NULL)
		b = (const unsigned char *)"";
	return b;
}

/* Room for n bytes in *b (capacity *cap), kept from call to call. */
static bool
cache_room(unsigned char **b, size_t *cap, size_t n)
{
	unsigned char *nb;

	if (n <= *cap)
		return true;
	if ((nb = realloc(*b, n)) == NULL)
		return false;
	*b = nb;
	*cap = n;
	return true;
}

/*
 * corral_origins(spec, parent, parent's versions): the versions a put
 * stores, their origins resolved (store_resolve); NULL for no spec.  A
 * parent's versions that fail their checksum fail the put.
 */
static void
origins_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sq_store *s = sqlite3_user_data(ctx);
	const unsigned char *pvers = NULL;
	const char *spec, *parent;
	unsigned char *out;
	size_t len;
	int rc;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	spec = sqlite3_value_blob(argv[0]);
	len = (size_t)sqlite3_value_bytes(argv[0]);
	parent = (const char *)sqlite3_value_text(argv[1]);
	if (sqlite3_value_type(argv[2]) != SQLITE_NULL &&
	    (pvers = sqlite3_value_blob(argv[2])) == NULL)
		pvers = (const unsigned char *)""; /* empty: fails its sum */
	rc = store_resolve(spec != NULL ? spec : "", len, parent,
	    (size_t)sqlite3_value_bytes(argv[1]), pvers,
	    (size_t)sqlite3_value_bytes(argv[2]), &out, &len);
	if (rc == CORRAL_OK)
		sqlite3_result_blob64(ctx, out, len, free);
	else if (rc == CORRAL_ENOMEM)
		sqlite3_result_error_nomem(ctx);
	else {
		s->origins_corrupt = true;
		sqlite3_result_error(ctx, "the parent's versions fail their "
		    "checksum", -1);
	}
}

/* Binds and runs one of the put statements.  SQLite's result. */
static int
put_row(struct sq_store *s, int which, const struct store_put *p,
    const char *id, const char *spec, size_t slen,
    const unsigned char *vals, size_t vallen, uint32_t crc)
{
	sqlite3_stmt *st = s->st[which];

	bind_str(st, 1, p->thread);
	bind_str(st, 2, p->ns);
	bind_str(st, 3, id);
	bind_str(st, 4, p->parent);
	bind_str(st, 5, p->type);
	bind_blob(st, 6, p->data, p->len);
	sqlite3_bind_text64(st, 7, p->metadata, p->mlen, SQLITE_STATIC,
	    SQLITE_UTF8);
	sqlite3_bind_int64(st, 8, p->now_ms);
	sqlite3_bind_int64(st, 9, crc);
	bind_str(st, 10, p->mtype);
	if (spec != NULL)
		bind_blob(st, 11, spec, slen);
	else
		sqlite3_bind_null(st, 11);
	if (vals != NULL)
		bind_blob(st, 12, vals, vallen);
	else
		sqlite3_bind_null(st, 12);
	return run(st);
}

/*
 * The same key again: the row replaced keeps the values the new put does
 * not give, for the checkpoints that name it as their origin.  Rare, so
 * a transaction: read the old values, merge, replace.
 */
static int
put_replace(struct sq_store *s, const struct store_put *p)
{
	sqlite3_stmt *v = s->st[ST_VALS];
	unsigned char *vals = NULL;
	char *spec = NULL;
	size_t vallen = 0, slen = 0;
	uint32_t crc;
	int rc, code;

	if ((rc = run(s->st[ST_BEGIN])) != SQLITE_OK)
		return rc;
	bind_str(v, 1, p->thread);
	bind_str(v, 2, p->ns);
	bind_str(v, 3, p->id);
	rc = sqlite3_step(v);
	code = store_merge_values(p->vals, p->vallen, rc == SQLITE_ROW ?
	    sqlite3_column_blob(v, 0) : NULL, rc == SQLITE_ROW ?
	    (size_t)sqlite3_column_bytes(v, 0) : 0, &vals, &vallen);
	sqlite3_reset(v);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto out;
	rc = SQLITE_NOMEM;
	if (code != CORRAL_OK || (code = store_encode_spec(p->versions,
	    p->nversions, vals, vallen, &spec, &slen)) != CORRAL_OK)
		goto out;
	crc = store_crc_checkpoint(p->type, p->type ? strlen(p->type) : 0,
	    p->data, p->len, p->metadata, p->mlen, p->mtype,
	    p->mtype ? strlen(p->mtype) : 0, spec != NULL, vals != NULL);
	if ((rc = put_row(s, ST_PUT_REPLACE, p, p->id, spec, slen, vals,
	    vallen, crc)) == SQLITE_OK)
		rc = run(s->st[ST_COMMIT]);
out:
	free(vals);
	free(spec);
	return rc;
}

static int
sq_put(struct corral_store *base, const struct store_put *p)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st;
	int rc;

	if ((rc = sq_check(base)) != CORRAL_OK)
		return rc;
	s->origins_corrupt = false;
	if (p->id != NULL) {
		/* The common case: one row, one statement, no transaction. */
		rc = put_row(s, ST_PUT, p, p->id, p->spec, p->slen, p->vals,
		    p->vallen, p->crc);
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			rc = put_replace(s, p);
		if (rc == SQLITE_OK) {
			memcpy(p->id_out, p->id, strlen(p->id) + 1);
			return CORRAL_OK;
		}
		goto fail;
	}
	/*
	 * A made id must follow the thread's latest, which another process
	 * may be writing now: read it under the write lock.
	 */
	if ((rc = run(s->st[ST_BEGIN])) != SQLITE_OK)
		return sq_fail(s, rc, "put: begin");
	st = s->st[ST_LATEST];
	bind_str(st, 1, p->thread);
	bind_str(st, 2, p->ns);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_make_id(base, p->id_out, p->now_ms,
		    (const char *)sqlite3_column_text(st, 0));
	else if (rc == SQLITE_DONE)
		store_make_id(base, p->id_out, p->now_ms, NULL);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = put_row(s, ST_PUT, p, p->id_out, p->spec, p->slen,
		    p->vals, p->vallen, p->crc);
	if (rc == SQLITE_OK)
		rc = run(s->st[ST_COMMIT]);
	if (rc == SQLITE_OK)
		return CORRAL_OK;
fail:
	if (s->origins_corrupt)
		rc = store_fail(base, CORRAL_ECORRUPT, "put: the versions of "
		    "parent %s fail their checksum", p->parent);
	else
		rc = sq_fail(s, rc, "put");
	if (!sqlite3_get_autocommit(s->db))
		run(s->st[ST_ROLLBACK]);
	return rc;
}

static size_t
col_str(struct tbuf *tb, sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v != NULL ? tb_add(tb, v, (size_t)sqlite3_column_bytes(st, i)) :
	    TB_NULL;
}

/*
 * A key column, which a tuple never has NULL.  Our tables say NOT NULL,
 * but a foreign or damaged one may hold NULL: then the row is corrupt and
 * the key reads as "".
 */
static size_t
col_key(struct tbuf *tb, sqlite3_stmt *st, int i)
{
	size_t off = col_str(tb, st, i);

	if (off != TB_NULL)
		return off;
	tb->corrupt = true;
	return tb_add(tb, "", 0);
}

/*
 * Copies the checkpoint row under st (its columns CP_COLUMNS first) into
 * the tuple buffer, checking its checksum.  Returns false when it does
 * not hold (the tuple is then corrupt, and its writes are not read).
 */
static bool
read_checkpoint(struct tbuf *tb, sqlite3_stmt *st)
{
	const char *type, *meta, *mtype;
	const void *data;
	size_t tlen, len, mlen, mtlen;

	tb_reset(tb);
	tb->thread = col_key(tb, st, C_THREAD);
	tb->ns = col_key(tb, st, C_NS);
	tb->id = col_key(tb, st, C_ID);
	tb->parent = col_str(tb, st, C_PARENT);
	tb->created_ms = sqlite3_column_int64(st, C_CREATED);
	type = (const char *)sqlite3_column_text(st, C_TYPE);
	tlen = (size_t)sqlite3_column_bytes(st, C_TYPE);
	data = sqlite3_column_blob(st, C_DATA);
	len = (size_t)sqlite3_column_bytes(st, C_DATA);
	meta = (const char *)sqlite3_column_text(st, C_META);
	mlen = (size_t)sqlite3_column_bytes(st, C_META);
	mtype = (const char *)sqlite3_column_text(st, C_MTYPE);
	mtlen = (size_t)sqlite3_column_bytes(st, C_MTYPE);
	return tb_checkpoint(tb, sqlite3_column_type(st, C_CRC) ==
	    SQLITE_INTEGER, (uint32_t)sqlite3_column_int64(st, C_CRC), type,
	    tlen, data, len, meta, mlen, mtype, mtlen,
	    sqlite3_column_type(st, C_VERS) != SQLITE_NULL,
	    sqlite3_column_type(st, C_VALS) != SQLITE_NULL);
}

/* The thread and namespace of the row whose channels are being read. */
struct sq_read {
	struct sq_store *s;
	const char *thread, *ns;
	size_t tl, nl;
};

/*
 * store_origin_fn: the inline values of a checkpoint of the row's thread
 * and namespace, by one point query on the primary key, kept in a small
 * cache for the rest of the call (get or list): the rows of a list mostly
 * share their origins.  The cache is emptied at each call's start.
 */
static int
sq_origin(void *arg, const char *id, size_t idlen,
    const unsigned char **vals, size_t *len)
{
	struct sq_read *r = arg;
	struct sq_store *s = r->s;
	struct ocache *e;
	sqlite3_stmt *v = s->st[ST_VALS];
	const void *b;
	size_t klen = r->tl + r->nl + idlen + 2, n, i;
	char *k;
	int rc;

	for (i = 0; i < s->nocache; i++) {
		e = &s->ocache[i];
		if (e->klen == klen && memcmp(e->key, r->thread, r->tl) == 0 &&
		    memcmp(e->key + r->tl + 1, r->ns, r->nl) == 0 &&
		    memcmp(e->key + r->tl + r->nl + 2, id, idlen) == 0 &&
		    e->key[r->tl] == '\0' && e->key[r->tl + r->nl + 1] == '\0')
			goto hit;
	}
	sqlite3_bind_text64(v, 1, r->thread, r->tl, SQLITE_STATIC, SQLITE_UTF8);
	sqlite3_bind_text64(v, 2, r->ns, r->nl, SQLITE_STATIC, SQLITE_UTF8);
	sqlite3_bind_text64(v, 3, id, idlen, SQLITE_STATIC, SQLITE_UTF8);
	rc = sqlite3_step(v);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = sq_fail(s, rc, "read an origin's values");
		sqlite3_reset(v);
		return rc;
	}
	i = s->nocache < OCACHE_N ? s->nocache++ : s->onext++ % OCACHE_N;
	e = &s->ocache[i];
	e->rc = CORRAL_NOTFOUND;
	e->len = 0;
	b = rc == SQLITE_ROW ? sqlite3_column_blob(v, 0) : NULL;
	n = rc == SQLITE_ROW ? (size_t)sqlite3_column_bytes(v, 0) : 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(v, 0) != SQLITE_NULL) {
		e->rc = CORRAL_ECORRUPT;
		if (store_blob_ok(b, n)) {
			if (!cache_room(&e->b, &e->cap, n)) {
				sqlite3_reset(v);
				e->klen = 0;
				return store_fail(&s->base, CORRAL_ENOMEM,
				    "out of memory reading an origin");
			}
			memcpy(e->b, b, n);
			e->len = n;
			e->rc = CORRAL_OK;
		}
	}
	sqlite3_reset(v);
	e->klen = 0;
	if (!cache_room((unsigned char **)&e->key, &e->kcap, klen))
		return store_fail(&s->base, CORRAL_ENOMEM,
		    "out of memory reading an origin");
	k = e->key;
	memcpy(k, r->thread, r->tl);
	k[r->tl] = '\0';
	memcpy(k + r->tl + 1, r->ns, r->nl);
	k[r->tl + r->nl + 1] = '\0';
	memcpy(k + r->tl + r->nl + 2, id, idlen);
	e->klen = klen;
hit:
	*vals = e->b;
	*len = e->len;
	return e->rc;
}

/*
 * Adds the channels of the checkpoint under st to the tuple buffer, each
 * from its origin's row (store_read_channels).
 */
static int
read_channels(struct sq_store *s, sqlite3_stmt *st)
{
	struct sq_read r;

	r.s = s;
	r.thread = (const char *)sqlite3_column_text(st, C_THREAD);
	r.tl = (size_t)sqlite3_column_bytes(st, C_THREAD);
	r.ns = (const char *)sqlite3_column_text(st, C_NS);
	r.nl = (size_t)sqlite3_column_bytes(st, C_NS);
	if (r.thread == NULL || r.ns == NULL)
		return CORRAL_OK; /* read_checkpoint found it corrupt */
	return store_read_channels(&s->tb, col_blob(st, C_VERS),
	    (size_t)sqlite3_column_bytes(st, C_VERS), col_blob(st, C_VALS),
	    (size_t)sqlite3_column_bytes(st, C_VALS), sq_origin, &r);
}

/*
 * Adds the pending write under st, its columns from off on in the order
 * of ST_WRITES's, to the tuple buffer, checking its checksum (a write
 * that fails it makes the tuple corrupt and is left out).
 */
static void
read_write(struct tbuf *tb, sqlite3_stmt *w, int off)
{
	const char *ch, *wtype, *path;
	const void *val;
	size_t clen, wtlen, vlen, plen;

	wtype = (const char *)sqlite3_column_text(w, off + W_TYPE);
	wtlen = (size_t)sqlite3_column_bytes(w, off + W_TYPE);
	ch = (const char *)sqlite3_column_text(w, off + W_CHANNEL);
	clen = (size_t)sqlite3_column_bytes(w, off + W_CHANNEL);
	val = sqlite3_column_blob(w, off + W_VALUE);
	vlen = (size_t)sqlite3_column_bytes(w, off + W_VALUE);
	path = (const char *)sqlite3_column_text(w, off + W_PATH);
	plen = (size_t)sqlite3_column_bytes(w, off + W_PATH);
	/* The checksum leaves the task out: it must be there too. */
	if (ch == NULL || path == NULL ||
	    sqlite3_column_type(w, off + W_TASK) == SQLITE_NULL ||
	    sqlite3_column_type(w, off + W_CRC) != SQLITE_INTEGER ||
	    (uint32_t)sqlite3_column_int64(w, off + W_CRC) !=
	    store_crc_write(wtype, wtlen, ch, clen, val != NULL ? val : "",
	    vlen, path, plen)) {
		tb->corrupt = true;
		return;
	}
	tb_add_write(tb, (const char *)sqlite3_column_text(w, off + W_TASK),
	    (size_t)sqlite3_column_bytes(w, off + W_TASK),
	    sqlite3_column_int(w, off + W_IDX), ch, clen, wtype, wtlen, val,
	    vlen, path, plen);
}

/*
 * Copies the checkpoint row under st into the tuple buffer, then its
 * writes, checking every checksum.  st stays on its row meanwhile: the
 * writes are read in the same read transaction.
 */
static int
read_row(struct sq_store *s, sqlite3_stmt *st)
{
	struct tbuf *tb = &s->tb;
	sqlite3_stmt *w = s->st[ST_WRITES];
	int rc;

	if (!read_checkpoint(tb, st))
		return CORRAL_OK;
	if ((rc = read_channels(s, st)) != CORRAL_OK)
		return rc;
	sqlite3_bind_value(w, 1, sqlite3_column_value(st, C_THREAD));
	sqlite3_bind_value(w, 2, sqlite3_column_value(st, C_NS));
	sqlite3_bind_value(w, 3, sqlite3_column_value(st, C_ID));
	while ((rc = sqlite3_step(w)) == SQLITE_ROW)
		read_write(tb, w, 0);
	sqlite3_reset(w);
	if (rc != SQLITE_DONE)
		return sq_fail(s, rc, "read writes");
	return tb->nomem ? store_fail(&s->base, CORRAL_ENOMEM,
	    "out of memory reading a checkpoint") : CORRAL_OK;
}

static int
sq_get(struct corral_store *base, const char *thread, const char *ns,
    const char *id, struct corral_tuple **out)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = s->st[id != NULL ? ST_GET : ST_GET_LATEST];
	int rc;

	s->nocache = s->onext = 0; /* what was read before may be stale */
	bind_str(st, 1, thread);
	bind_str(st, 2, ns);
	if (id != NULL)
		bind_str(st, 3, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return CORRAL_NOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		rc = sq_fail(s, rc, "get");
		sqlite3_reset(st);
		return rc;
	}
	rc = read_row(s, st);
	sqlite3_reset(st);
	if (rc != CORRAL_OK)
		return rc;
	if (tb_copy(&s->tb, out) != CORRAL_OK)
		return store_fail(base, CORRAL_ENOMEM,
		    "out of memory copying a checkpoint");
	if ((*out)->corrupt)
		return store_fail(base, CORRAL_ECORRUPT,
		    "checkpoint %s of thread %s: checksum mismatch",
		    (*out)->checkpoint_id, (*out)->thread_id);
	return CORRAL_OK;
}

int
store_filter_check(struct corral_store *s, sqlite3 *db, sqlite3_stmt **st,
    const char *filter, bool *has_keys)
{
	int rc, code = CORRAL_OK;

	if (*st == NULL && (rc = sqlite3_prepare_v3(db,
	    "SELECT json_type(?1) = 'object',"
	    " EXISTS (SELECT 1 FROM json_each(?1))", -1,
	    SQLITE_PREPARE_PERSISTENT, st, NULL)) != SQLITE_OK)
		return store_fail(s, rc == SQLITE_NOMEM ? CORRAL_ENOMEM :
		    CORRAL_EIO, "filter: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(*st, 1, filter, -1, SQLITE_STATIC);
	rc = sqlite3_step(*st);
	if (rc != SQLITE_ROW)
		code = store_fail(s, rc == SQLITE_NOMEM ? CORRAL_ENOMEM :
		    CORRAL_EINVAL, "filter: %s", sqlite3_errmsg(db));
	else if (sqlite3_column_int(*st, 0) != 1)
		code = store_fail(s, CORRAL_EINVAL,
		    "filter is not a JSON object");
	else
		*has_keys = sqlite3_column_int(*st, 1) != 0;
	sqlite3_reset(*st);
	return code;
}

int
store_filter_match(struct corral_store *s, sqlite3 *db, sqlite3_stmt **st,
    const char *meta, size_t mlen, const char *filter)
{
	int rc;

	if (*st == NULL && (rc = sqlite3_prepare_v3(db,
	    "SELECT " STORE_FILTER_SQL("?1", "?2"), -1,
	    SQLITE_PREPARE_PERSISTENT, st, NULL)) != SQLITE_OK)
		return store_fail(s, rc == SQLITE_NOMEM ? CORRAL_ENOMEM :
		    CORRAL_EIO, "filter: %s", sqlite3_errmsg(db));
	if (meta != NULL)
		sqlite3_bind_text64(*st, 1, meta, mlen, SQLITE_STATIC,
		    SQLITE_UTF8);
	else
		sqlite3_bind_null(*st, 1);
	sqlite3_bind_text(*st, 2, filter, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(*st)) == SQLITE_ROW)
		rc = sqlite3_column_int(*st, 0) != 0;
	else
		rc = store_fail(s, rc == SQLITE_NOMEM ? CORRAL_ENOMEM :
		    CORRAL_EIO, "filter: %s", sqlite3_errmsg(db));
	sqlite3_reset(*st);
	return rc;
}

/*
 * The statement of one shape of list, prepared on first use.
 *
 * A list of one thread and namespace (a saver's list of a config) is of
 * the checkpoints alone, in the order of the primary key backwards:
 * sq_list reads their writes beside them from one more query
 * (ST_W_RANGE), also without a sort.  Any other list takes its page of
 * checkpoints (with the limit, the sort keeps only the newest), then
 * joins that page with the writes and sorts the rows so that each
 * checkpoint's writes follow it: one row per write (the columns of
 * ST_WRITES's from L_WRITE on; L_MATCH NULL: it has none), L_RID telling
 * where a checkpoint's rows end.  Either way one query, not one per
 * checkpoint, reads the writes.
 */
#define KEYED(shape) (((shape) & (L_THREAD | L_NS)) == (L_THREAD | L_NS))
#define L_RID 12
#define L_WRITE 13
#define L_MATCH (L_WRITE + W_N)
#define L_COLUMNS "c.thread_id, c.checkpoint_ns, c.checkpoint_id," \
	" c.parent_checkpoint_id, c.type, c.checkpoint, c.metadata," \
	" c.created_ms, c.checksum, c.metadata_type, c.versions," \
	" c.channel_values, c.rid," \
	" w.task_id, w.idx, w.channel, w.type, w.value, w.checksum," \
	" w.task_path, w.thread_id"
static int
list_stmt(struct sq_store *s, unsigned shape, sqlite3_stmt **out)
{
	char q[2560], where[1280];
	int n, rc;

	if (s->list[shape] != NULL) {
		*out = s->list[shape];
		return CORRAL_OK;
	}
	/*
	 * A cursor's page resumes after the last key it gave: in a list of
	 * one thread and namespace the id alone says where (and keeps to
	 * the primary key's index).
	 */
	n = snprintf(where, sizeof(where), "1%s%s%s%s%s",
	    shape & L_THREAD ? " AND thread_id = ?1" : "",
	    shape & L_NS ? " AND checkpoint_ns = ?2" : "",
	    shape & L_BEFORE ? " AND checkpoint_id < ?3" : "",
	    !(shape & L_AFTER) ? "" : KEYED(shape) ?
	    " AND checkpoint_id < ?6" : " AND (checkpoint_id, thread_id,"
	    " checkpoint_ns) < (?6, ?7, ?8)",
	    shape & L_FILTER ? " AND " STORE_FILTER_SQL(
	    "CAST(metadata AS TEXT)", "?4") : "");
	if (n < 0 || (size_t)n >= sizeof(where))
		return store_fail(&s->base, CORRAL_EIO, "list: query too long");
	/*
	 * Ties of ids across threads and namespaces are ordered too, so
	 * that both backends give the same answer.
	 */
	if (KEYED(shape))
		n = snprintf(q, sizeof(q), "SELECT " CP_COLUMNS
		    " FROM checkpoints WHERE %s ORDER BY checkpoint_id DESC%s",
		    where, shape & L_LIMIT ? " LIMIT ?5" : "");
	else
		n = snprintf(q, sizeof(q), "SELECT " L_COLUMNS " FROM (SELECT"
		    " rowid AS rid, * FROM checkpoints WHERE %s ORDER BY"
		    " checkpoint_id DESC, thread_id DESC, checkpoint_ns DESC%s)"
		    " AS c LEFT JOIN writes AS w ON w.thread_id = c.thread_id"
		    " AND w.checkpoint_ns = c.checkpoint_ns"
		    " AND w.checkpoint_id = c.checkpoint_id"
		    " ORDER BY c.checkpoint_id DESC, c.thread_id DESC,"
		    " c.checkpoint_ns DESC, c.rid, w.task_id, w.idx", where,
		    shape & L_LIMIT ? " LIMIT ?5" : "");
	if (n < 0 || (size_t)n >= sizeof(q))
		return store_fail(&s->base, CORRAL_EIO, "list: query too long");
	rc = sqlite3_prepare_v3(s->db, q, -1, SQLITE_PREPARE_PERSISTENT,
	    &s->list[shape], NULL);
	if (rc != SQLITE_OK)
		return sq_fail(s, rc, "list: prepare");
	*out = s->list[shape];
	return CORRAL_OK;
}

/*
 * Hands the tuple in the buffer to fn.  1 when fn says stop, else
 * CORRAL_OK, or CORRAL_ENOMEM.
 */
static int
list_emit(struct sq_store *s, store_list_fn fn, void *arg)
{
	struct corral_tuple t;

	if (s->tb.nomem || tb_view(&s->tb, &t) != CORRAL_OK)
		return store_fail(&s->base, CORRAL_ENOMEM,
		    "out of memory listing checkpoints");
	return fn(arg, &t) != 0 ? 1 : CORRAL_OK;
}

/* SQLite's BINARY collation: bytes, then the shorter first. */
static int
col_cmp(sqlite3_stmt *a, int i, sqlite3_stmt *b, int j)
{
	const void *x = sqlite3_column_blob(a, i), *y = sqlite3_column_blob(b, j);
	size_t m = (size_t)sqlite3_column_bytes(a, i);
	size_t n = (size_t)sqlite3_column_bytes(b, j);
	int c = m == 0 || n == 0 ? 0 : memcmp(x, y, m < n ? m : n);

	return c != 0 ? c : (m > n) - (m < n);
}

/*
 * The writes of the checkpoint under st, from w (ST_W_RANGE, *wrc its
 * last step's result, SQLITE_OK before the first): writes of newer ids
 * than the checkpoint's are of checkpoints the list left out, and pass.
 * They come backwards: the tuple's are turned round.  0, or an error.
 */
static int
list_writes(struct sq_store *s, sqlite3_stmt *st, sqlite3_stmt *w, int *wrc,
    bool sound)
{
	struct tbuf *tb = &s->tb;
	struct tb_write t;
	size_t i;
	int c;

	if (sqlite3_column_type(st, C_ID) == SQLITE_NULL)
		return CORRAL_OK;
	if (*wrc == SQLITE_OK) {
		sqlite3_bind_value(w, 1, sqlite3_column_value(st, C_THREAD));
		sqlite3_bind_value(w, 2, sqlite3_column_value(st, C_NS));
		sqlite3_bind_value(w, 3, sqlite3_column_value(st, C_ID));
		*wrc = sqlite3_step(w);
	}
	for (; *wrc == SQLITE_ROW; *wrc = sqlite3_step(w)) {
		if ((c = col_cmp(w, W_N, st, C_ID)) < 0)
			break;
		if (c == 0 && sound)
			read_write(tb, w, 0);
	}
	if (*wrc != SQLITE_ROW && *wrc != SQLITE_DONE)
		return sq_fail(s, *wrc, "list: read writes");
	for (i = 0; i < tb->nw / 2; i++) {
		t = tb->w[i];
		tb->w[i] = tb->w[tb->nw - 1 - i];
		tb->w[tb->nw - 1 - i] = t;
	}
	return CORRAL_OK;
}

static int
sq_list(struct corral_store *base, const struct corral_list_opts *o,
    const struct store_after *a, store_list_fn fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st = NULL, *w = s->st[ST_W_RANGE];
	sqlite3_int64 rid = 0;
	unsigned shape = 0;
	bool keys = false, have = false, sound = false;
	int rc, wrc = SQLITE_OK, code = CORRAL_OK;

	s->nocache = s->onext = 0; /* what was read before may be stale */
	if (o->filter != NULL && (rc = store_filter_check(base, s->db,
	    &s->filter_check, o->filter, &keys)) != CORRAL_OK)
		return rc;
	shape |= o->thread_id != NULL ? L_THREAD : 0;
	shape |= o->checkpoint_ns != NULL ? L_NS : 0;
	shape |= o->before != NULL ? L_BEFORE : 0;
	shape |= keys ? L_FILTER : 0;
	shape |= o->limit > 0 ? L_LIMIT : 0;
	shape |= a != NULL ? L_AFTER : 0;
	if ((rc = list_stmt(s, shape, &st)) != CORRAL_OK)
		return rc;
	if (shape & L_THREAD)
		bind_str(st, 1, o->thread_id);
	if (shape & L_NS)
		bind_str(st, 2, o->checkpoint_ns);
	if (shape & L_BEFORE)
		bind_str(st, 3, o->before);
	if (shape & L_FILTER)
		bind_str(st, 4, o->filter);
	if (shape & L_LIMIT)
		sqlite3_bind_int64(st, 5, o->limit);
	if (shape & L_AFTER) {
		bind_str(st, 6, a->id);
		if (!KEYED(shape)) {
			bind_str(st, 7, a->thread);
			bind_str(st, 8, a->ns);
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (KEYED(shape)) {
			sound = read_checkpoint(&s->tb, st);
			if ((sound && (code = read_channels(s, st)) !=
			    CORRAL_OK) ||
			    (code = list_writes(s, st, w, &wrc, sound)) !=
			    CORRAL_OK || (code = list_emit(s, fn, arg)) !=
			    CORRAL_OK)
				break;
			continue;
		}
		/* A checkpoint's first row: the one before it is whole. */
		if (!have || sqlite3_column_int64(st, L_RID) != rid) {
			if (have && (code = list_emit(s, fn, arg)) != CORRAL_OK)
				break;
			have = true;
			rid = sqlite3_column_int64(st, L_RID);
			sound = read_checkpoint(&s->tb, st);
			if (sound && (code = read_channels(s, st)) !=
			    CORRAL_OK)
				break;
		}
		if (sound && sqlite3_column_type(st, L_MATCH) != SQLITE_NULL)
			read_write(&s->tb, st, L_WRITE);
	}
	if (code == CORRAL_OK && rc == SQLITE_DONE && have)
		code = list_emit(s, fn, arg);
	else if (code == CORRAL_OK && rc != SQLITE_DONE)
		code = sq_fail(s, rc, "list");
	sqlite3_reset(w);
	sqlite3_reset(st);
	return code == 1 ? CORRAL_OK : code;
}

static int
sq_put_writes(struct corral_store *base, const char *thread, const char *ns,
    const char *id, const char *task, const char *path,
    const struct corral_write *ws, size_t n)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *st;
	size_t i, tlen, clen;
	int rc, idx;

	if ((rc = sq_check(base)) != CORRAL_OK)
		return rc;
	if ((rc = run(s->st[ST_BEGIN])) != SQLITE_OK)
		return sq_fail(s, rc, "put_writes: begin");
	for (i = 0; i < n; i++) {
		/* MemorySaver's rule: a regular write already stored is
		 * kept, a special channel's is replaced. */
		idx = store_write_idx(ws[i].channel, i);
		st = s->st[idx < 0 ? ST_W_REPLACE : ST_W_IGNORE];
		tlen = ws[i].type != NULL ? strlen(ws[i].type) : 0;
		clen = strlen(ws[i].channel);
		bind_str(st, 1, thread);
		bind_str(st, 2, ns);
		bind_str(st, 3, id);
		bind_str(st, 4, task);
		sqlite3_bind_int(st, 5, idx);
		bind_str(st, 6, ws[i].channel);
		bind_str(st, 7, ws[i].type);
		bind_blob(st, 8, ws[i].value, ws[i].len);
		sqlite3_bind_int64(st, 9, store_crc_write(ws[i].type, tlen,
		    ws[i].channel, clen, ws[i].value != NULL ? ws[i].value : "",
		    ws[i].len, path, strlen(path)));
		bind_str(st, 10, path);
		if ((rc = run(st)) != SQLITE_OK)
			break;
	}
	if (rc == SQLITE_OK)
		rc = run(s->st[ST_COMMIT]);
	if (rc != SQLITE_OK) {
		rc = sq_fail(s, rc, "put_writes");
		if (!sqlite3_get_autocommit(s->db))
			run(s->st[ST_ROLLBACK]);
		return rc;
	}
	return CORRAL_OK;
}

static int
sq_delete_thread(struct corral_store *base, const char *thread)
{
	struct sq_store *s = (struct sq_store *)base;
	int rc;

	if ((rc = sq_check(base)) != CORRAL_OK)
		return rc;
	if ((rc = run(s->st[ST_BEGIN])) != SQLITE_OK)
		return sq_fail(s, rc, "delete_thread: begin");
	bind_str(s->st[ST_DEL_CP], 1, thread);
	bind_str(s->st[ST_DEL_W], 1, thread);
	if ((rc = run(s->st[ST_DEL_CP])) == SQLITE_OK &&
	    (rc = run(s->st[ST_DEL_W])) == SQLITE_OK)
		rc = run(s->st[ST_COMMIT]);
	if (rc != SQLITE_OK) {
		rc = sq_fail(s, rc, "delete_thread");
		if (!sqlite3_get_autocommit(s->db))
			run(s->st[ST_ROLLBACK]);
		return rc;
	}
	return CORRAL_OK;
}

static int
sq_get_writes(struct corral_store *base, const char *thread, const char *ns,
    const char *id, const char *channel)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3_stmt *w = s->st[ST_WRITES];
	const char *ch;
	int rc;

	tb_reset(&s->tb);
	bind_str(w, 1, thread);
	bind_str(w, 2, ns);
	bind_str(w, 3, id);
	while ((rc = sqlite3_step(w)) == SQLITE_ROW) {
		ch = (const char *)sqlite3_column_text(w, W_CHANNEL);
		if (channel == NULL || ch == NULL || strcmp(ch, channel) == 0)
			read_write(&s->tb, w, 0);
	}
	sqlite3_reset(w);
	if (rc != SQLITE_DONE)
		return sq_fail(s, rc, "get_writes");
	return s->tb.nomem ? store_fail(base, CORRAL_ENOMEM,
	    "get_writes: out of memory") : CORRAL_OK;
}

static void
sq_close(struct corral_store *base)
{
	struct sq_store *s = (struct sq_store *)base;
	int i;

	for (i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
	for (i = 0; i < L_SHAPES; i++)
		sqlite3_finalize(s->list[i]);
	for (i = 0; i < OCACHE_N; i++) {
		free(s->ocache[i].key);
		free(s->ocache[i].b);
	}
	sqlite3_finalize(s->filter_check);
	sqlite3_close(s->db);
	tb_free(&s->tb);
	free(s->path);
	free(s);
}

/* The version corral_schema says into *v (0: none).  SQLite's result. */
static int
schema_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc;

	*v = 0;
	rc = sqlite3_prepare_v2(db, "SELECT max(version) FROM corral_schema",
	    -1, &st, NULL);
	/* No such table: a new database, or one of version 1. */
	if (rc == SQLITE_ERROR)
		return SQLITE_OK;
	if (rc != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* open's messages that name the file: *why is static, but per thread. */
static _Thread_local char why_buf[512];

/*
 * Sets up the tables of a new database, or migrates those of an older
 * version in place, in one transaction.  Several processes may open an
 * old database at once: the version is read again under the write lock,
 * and only the first migrates.  SQLite's result; SQLITE_ERROR with *why
 * set when the database is not one this code can use (a newer version, a
 * foreign layout), *code then the CORRAL_* to return.
 */
static int
setup_schema(struct sq_store *s, const char **why, int *code)
{
	sqlite3_stmt *st;
	bool old = false;
	int rc, v;

	*code = CORRAL_OK;
	if ((rc = schema_version(s->db, &v)) != SQLITE_OK)
		return rc;
	if (v == SCHEMA_VERSION)
		return SQLITE_OK; /* the common case: no lock taken */
	if (v < SCHEMA_VERSION &&
	    (rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		return rc;
	if (v < SCHEMA_VERSION &&
	    (rc = schema_version(s->db, &v)) != SQLITE_OK)
		goto out;
	if (v > SCHEMA_VERSION) {
		snprintf(why_buf, sizeof(why_buf), "checkpoint database %s has "
		    "schema version %d, newer than this libcorral knows (%d): "
		    "it was written by a newer libcorral", s->path, v,
		    SCHEMA_VERSION);
		*why = why_buf;
		*code = CORRAL_EINVAL;
		rc = SQLITE_ERROR;
		goto out;
	}
	if (v == SCHEMA_VERSION)
		goto out; /* another process migrated it meanwhile */
	rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE"
	    " type = 'table' AND name = 'checkpoints'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		old = true;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto out;
	/* Version 1's tables are LangGraph's with a checksum per row. */
	if (old && sqlite3_exec(s->db, "SELECT created_ms, checksum FROM"
	    " checkpoints LIMIT 0; SELECT checksum FROM writes LIMIT 0", NULL,
	    NULL, NULL) != SQLITE_OK) {
		snprintf(why_buf, sizeof(why_buf), "checkpoint database %s has "
		    "tables checkpoints and writes of another layout (not "
		    "libcorral's: LangGraph's own saver's?)", s->path);
		*why = why_buf;
		*code = CORRAL_EINVAL;
		rc = SQLITE_ERROR;
		goto out;
	}
	if ((rc = sqlite3_exec(s->db, old ? migrate_1_2 : schema, NULL, NULL,
	    NULL)) == SQLITE_OK)
		rc = sqlite3_exec(s->db, schema_2, NULL, NULL, NULL);
out:
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static const struct store_ops sqlite_ops = {
	.put = sq_put,
	.get = sq_get,
	.list = sq_list,
	.put_writes = sq_put_writes,
	.get_writes = sq_get_writes,
	.delete_thread = sq_delete_thread,
	.close = sq_close,
	.check = sq_check,
};

int
corral_store_open_sqlite(const char *path, enum corral_durability dur,
    struct corral_store **out, const char **why)
{
	struct corral_sqlite_opts o;

	memset(&o, 0, sizeof(o));
	o.durability = dur;
	return corral_store_open_sqlite_opts(path, &o, out, why);
}

int
corral_store_open_sqlite_opts(const char *path,
    const struct corral_sqlite_opts *o, struct corral_store **out,
    const char **why)
{
	enum corral_durability dur = o->durability;
	struct sq_store *s;
	char *err = NULL;
	int rc, i, code = CORRAL_OK;

	*out = NULL;
	*why = NULL;
	if (path == NULL || *path == '\0') {
		*why = "no database path";
		return CORRAL_EINVAL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		*why = "out of memory";
		return CORRAL_ENOMEM;
	}
	s->busy_ms = o->busy_timeout_ms != 0 ? o->busy_timeout_ms :
	    BUSY_TIMEOUT_MS;
	store_init(&s->base, &sqlite_ops);
	tb_reset(&s->tb);
	s->base.tb = &s->tb;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*why = s->db != NULL ? "cannot open the database" :
		    "out of memory";
		goto fail;
	}
	/* Before anything else: other processes may be setting up too. */
	sqlite3_busy_handler(s->db, busy_cb, s);
	/*
	 * Debian's SQLite stays at synchronous=FULL in WAL mode unless told:
	 * NORMAL syncs at checkpoints only, so a power loss may lose the
	 * last commits but never corrupts the database.
	 */
	rc = sqlite3_exec(s->db, dur == CORRAL_DURABILITY_FULL ?
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;" :
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
	    NULL, NULL, &err);
	if (rc == SQLITE_OK)
		rc = setup_schema(s, why, &code);
	if (code != CORRAL_OK) {
		sq_close(&s->base);
		return code;
	}
	if (rc != SQLITE_OK) {
		switch (rc & 0xff) {
		case SQLITE_CORRUPT:
		case SQLITE_NOTADB:
			*why = "the file is damaged or is not a database";
			break;
		case SQLITE_FULL:
			*why = "disk full setting up the database";
			break;
		case SQLITE_BUSY:
			*why = "locked by another process setting it up";
			break;
		default:
			*why = "cannot set up the database (WAL mode, tables)";
			break;
		}
		goto fail;
	}
	/* Before the statements that call it. */
	if ((rc = sqlite3_create_function_v2(s->db, "corral_origins", 3,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, s,
	    origins_fn, NULL, NULL, NULL)) != SQLITE_OK) {
		*why = "cannot register a function";
		goto fail;
	}
	for (i = 0; i < ST_N; i++) {
		rc = sqlite3_prepare_v3(s->db, sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
		if (rc != SQLITE_OK) {
			*why = "cannot prepare statements (a foreign schema?)";
			goto fail;
		}
	}
	*out = &s->base;
	return CORRAL_OK;

fail:
	sqlite3_free(err);
	rc &= 0xff;
	sq_close(&s->base);
	switch (rc) {
	case SQLITE_NOMEM:
		return CORRAL_ENOMEM;
	case SQLITE_BUSY:
		return CORRAL_EBUSY;
	case SQLITE_FULL:
		return CORRAL_EFULL;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return CORRAL_EDAMAGED;
	}
	return CORRAL_EIO;
}
