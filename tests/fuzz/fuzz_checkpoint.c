/*
 * fuzz_checkpoint.c: checkpoints read back from a database someone else
 * wrote, or damaged.  The input is turned into the rows of an in-memory
 * checkpoint database (any value of any SQLite type in any column, the
 * tables as the SDK makes them or without their constraints), then the
 * SQLite store reads them as a worker and corrald do: get_tuple (latest,
 * and by id) and list (every shape of its options), and every byte of
 * every tuple is read.  What the store decodes (store_sqlite.c's read_row,
 * store.c's tuple buffers, the checksums and the metadata filter) sees
 * whatever the database holds.
 *
 * The input, read front to back (what is missing reads as zeros):
 *   byte 0: bit 0 the tables without types nor constraints, bit 1 a
 *           checkpoints table without its checksum column (a foreign
 *           schema, which the store must refuse to open cleanly);
 *   then records: a byte r, then r % 3 == 0 a checkpoint row (9 values,
 *   the columns of the checkpoints table), 1 a write row (9 values, the
 *   columns of writes), 2 a value that becomes list's filter;
 *   a value is a tag byte t, then by t % 7: 0 NULL, 1 an INTEGER (8 bytes),
 *   2 a REAL (8 bytes), 3 TEXT and 4 a BLOB (a length byte, the bytes),
 *   5 one of keys[] below as TEXT (an index byte), 6 in a checksum column
 *   the row's right checksum (else NULL): rows that pass their checks.
 */
#include <string.h>

#include <sqlite3.h>

#include "store_impl.h"
#include "fuzz.h"

#define DB_URI "file:/fuzz-checkpoints?vfs=memdb"
#define MAX_ROWS 32

/* Thread ids, namespaces, ids, channels, types, metadata that match. */
static const char *const keys[] = {
	"t", "", "1", "2", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
	"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", "{}", "{\"step\":1}",
	"{\"step\":1,\"source\":\"loop\"}", "json", "bytes", "__error__",
	"__interrupt__", "__resume__", "messages", "task",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct input {
	const uint8_t *p, *end;
};

static uint8_t
byte(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static void
take(struct input *in, void *out, size_t n)
{
	size_t have = (size_t)(in->end - in->p);

	memset(out, 0, n);
	memcpy(out, in->p, have < n ? have : n);
	in->p += have < n ? have : n;
}

/*
 * Bind the next value of the input as parameter i of st.  Returns true
 * when the value asks for the row's right checksum.
 */
static bool
bind_value(struct input *in, sqlite3_stmt *st, int i)
{
	uint8_t tag = byte(in), n;
	int64_t v;
	double d;

	switch (tag % 7) {
	case 1:
		take(in, &v, sizeof(v));
		sqlite3_bind_int64(st, i, v);
		break;
	case 2:
		take(in, &d, sizeof(d));
		sqlite3_bind_double(st, i, d);
		break;
	case 3:
	case 4:
		n = byte(in);
		if ((size_t)(in->end - in->p) < n)
			n = (uint8_t)(in->end - in->p);
		if (tag % 7 == 3)
			sqlite3_bind_text(st, i, (const char *)in->p, n,
			    SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(st, i, in->p, n, SQLITE_TRANSIENT);
		in->p += n;
		break;
	case 5:
		sqlite3_bind_text(st, i, keys[byte(in) % NKEYS], -1,
		    SQLITE_STATIC);
		break;
	case 6:
		sqlite3_bind_null(st, i);
		return true;
	default:
		sqlite3_bind_null(st, i);
		break;
	}
	return false;
}

static void
exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "fuzz_checkpoint: %s: %s\n", sql, err);
		abort();
	}
}

/* The right checksums, read as store_sqlite.c reads the columns. */
static void
fix_checksums(sqlite3 *db, const int64_t *cp, size_t ncp, const int64_t *w,
    size_t nw)
{
	sqlite3_stmt *get, *set;
	size_t i;

	if (sqlite3_prepare_v2(db, "SELECT type, checkpoint, metadata FROM "
	    "checkpoints WHERE rowid = ?1", -1, &get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE checkpoints SET checksum = ?1 "
	    "WHERE rowid = ?2", -1, &set, NULL) != SQLITE_OK)
		abort();
	for (i = 0; i < ncp; i++) {
		sqlite3_bind_int64(get, 1, cp[i]);
		if (sqlite3_step(get) == SQLITE_ROW) {
			const char *type = (const char *)
			    sqlite3_column_text(get, 0);
			size_t tlen = (size_t)sqlite3_column_bytes(get, 0);
			const void *data = sqlite3_column_blob(get, 1);
			size_t len = (size_t)sqlite3_column_bytes(get, 1);
			const char *meta = (const char *)
			    sqlite3_column_text(get, 2);
			size_t mlen = (size_t)sqlite3_column_bytes(get, 2);
			sqlite3_bind_int64(set, 1, store_crc_checkpoint(type,
			    tlen, data, len, meta, mlen, NULL, 0, false, false));
			sqlite3_bind_int64(set, 2, cp[i]);
			sqlite3_step(set);
			sqlite3_reset(set);
		}
		sqlite3_reset(get);
	}
	sqlite3_finalize(get);
	sqlite3_finalize(set);

	if (sqlite3_prepare_v2(db, "SELECT type, channel, value FROM writes "
	    "WHERE rowid = ?1", -1, &get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE writes SET checksum = ?1 "
	    "WHERE rowid = ?2", -1, &set, NULL) != SQLITE_OK)
		abort();
	for (i = 0; i < nw; i++) {
		sqlite3_bind_int64(get, 1, w[i]);
		if (sqlite3_step(get) == SQLITE_ROW) {
			const char *type = (const char *)
			    sqlite3_column_text(get, 0);
			size_t tlen = (size_t)sqlite3_column_bytes(get, 0);
			const char *ch = (const char *)
			    sqlite3_column_text(get, 1);
			size_t clen = (size_t)sqlite3_column_bytes(get, 1);
			const void *val = sqlite3_column_blob(get, 2);
			size_t vlen = (size_t)sqlite3_column_bytes(get, 2);
			sqlite3_bind_int64(set, 1, store_crc_write(type, tlen,
			    ch, clen, val, vlen, "", 0));
			sqlite3_bind_int64(set, 2, w[i]);
			sqlite3_step(set);
			sqlite3_reset(set);
		}
		sqlite3_reset(get);
	}
	sqlite3_finalize(get);
	sqlite3_finalize(set);
}

/* Read every byte a tuple offers, as a caller may. */
static void
touch(const struct corral_tuple *t)
{
	volatile unsigned sum = 0;
	const unsigned char *b;
	size_t i, k;

	/* A tuple's ids are valid, even a corrupt one's (corral.h). */
	FUZZ_CHECK(t->thread_id != NULL && t->checkpoint_ns != NULL &&
	    t->checkpoint_id != NULL);
	sum += (unsigned)strlen(t->thread_id);
	sum += (unsigned)strlen(t->checkpoint_ns);
	sum += (unsigned)strlen(t->checkpoint_id);
	sum += t->parent_id != NULL ? (unsigned)strlen(t->parent_id) : 0;
	if (t->corrupt) {
		FUZZ_CHECK(t->data == NULL && t->metadata == NULL &&
		    t->nwrites == 0);
		return;
	}
	FUZZ_CHECK(t->data != NULL && t->metadata != NULL);
	sum += t->type != NULL ? (unsigned)strlen(t->type) : 0;
	sum += (unsigned)strlen(t->metadata);
	for (b = t->data, i = 0; i < t->len; i++)
		sum += b[i];
	for (k = 0; k < t->nwrites; k++) {
		const struct corral_write *w = &t->writes[k];
		FUZZ_CHECK(w->task_id != NULL && w->channel != NULL &&
		    w->value != NULL);
		sum += (unsigned)strlen(w->task_id);
		sum += (unsigned)strlen(w->channel);
		sum += w->type != NULL ? (unsigned)strlen(w->type) : 0;
		for (b = w->value, i = 0; i < w->len; i++)
			sum += b[i];
	}
	(void)sum;
}

static int
list_cb(void *arg, const struct corral_tuple *t)
{
	unsigned *n = arg;

	touch(t);
	++*n;
	return 0;
}

static void
read_back(struct corral_store *st, const char *filter)
{
	/* The shapes of list corrald and the SDK use, and the extremes. */
	static const struct corral_list_opts shapes[] = {
		{ NULL, NULL, NULL, NULL, 0 },
		{ "t", "", NULL, NULL, 1 },
		{ "t", NULL, "2", NULL, 0 },
		{ NULL, "", "2", NULL, 2 },
	};
	struct corral_list_opts lo;
	struct corral_tuple *t;
	struct corral_ref ref;
	size_t i, j;
	unsigned n;
	int rc;

	for (i = 0; i < NKEYS; i++) {
		ref.thread_id = keys[i];
		ref.checkpoint_ns = "";
		ref.checkpoint_id = NULL;
		rc = corral_get_tuple(st, &ref, &t);
		FUZZ_CHECK((rc == CORRAL_OK || rc == CORRAL_ECORRUPT) ==
		    (t != NULL));
		if (t != NULL) {
			touch(t);
			FUZZ_CHECK(t->corrupt == (rc == CORRAL_ECORRUPT));
			corral_tuple_free(t);
		}
		/* By id, in the thread the keys make most likely. */
		for (j = 0; i == 0 && j < NKEYS; j++) {
			ref.checkpoint_id = keys[j];
			corral_get_tuple(st, &ref, &t);
			if (t != NULL)
				touch(t);
			corral_tuple_free(t);
		}
	}
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		lo = shapes[i];
		n = 0;
		corral_list(st, &lo, list_cb, &n);
		FUZZ_CHECK(lo.limit == 0 || n <= lo.limit);
	}
	if (filter != NULL) {
		memset(&lo, 0, sizeof(lo));
		lo.filter = filter;
		corral_list(st, &lo, list_cb, &n);
		lo.thread_id = "t";
		lo.limit = 1;
		corral_list(st, &lo, list_cb, &n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool uri;
	struct input in = { data, data + size };
	int64_t cprow[MAX_ROWS], wrow[MAX_ROWS];
	size_t ncp = 0, nw = 0, nfix = 0;
	sqlite3_stmt *ins_cp, *ins_w, *ins_f;
	struct corral_store *st;
	char *filter = NULL;
	const char *why;
	sqlite3 *db;
	uint8_t flags;
	bool fix;
	int i, rc;

	/* The store opens a path: let it be the in-memory database's URI. */
	if (!uri) {
		sqlite3_shutdown();
		FUZZ_CHECK(sqlite3_config(SQLITE_CONFIG_URI, 1) == SQLITE_OK);
		uri = true;
	}
	if (sqlite3_open_v2(DB_URI, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL) != SQLITE_OK)
		abort();
	flags = byte(&in);
	if (flags & 1)
		exec(db, "CREATE TABLE checkpoints (thread_id, checkpoint_ns, "
		    "checkpoint_id, parent_checkpoint_id, type, checkpoint, "
		    "metadata, created_ms, checksum);"
		    "CREATE TABLE writes (thread_id, checkpoint_ns, "
		    "checkpoint_id, task_id, idx, channel, type, value, "
		    "checksum)");
	else
		exec(db, "CREATE TABLE checkpoints (thread_id TEXT NOT NULL,"
		    " checkpoint_ns TEXT NOT NULL DEFAULT '',"
		    " checkpoint_id TEXT NOT NULL, parent_checkpoint_id TEXT,"
		    " type TEXT, checkpoint BLOB, metadata BLOB,"
		    " created_ms INTEGER, checksum INTEGER,"
		    " PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id));"
		    "CREATE TABLE writes (thread_id TEXT NOT NULL,"
		    " checkpoint_ns TEXT NOT NULL DEFAULT '',"
		    " checkpoint_id TEXT NOT NULL, task_id TEXT NOT NULL,"
		    " idx INTEGER NOT NULL, channel TEXT NOT NULL, type TEXT,"
		    " value BLOB, checksum INTEGER, PRIMARY KEY (thread_id,"
		    " checkpoint_ns, checkpoint_id, task_id, idx))");
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO checkpoints "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &ins_cp,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(db, "INSERT OR REPLACE "
	    "INTO writes VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1,
	    &ins_w, NULL) != SQLITE_OK || sqlite3_prepare_v2(db,
	    "SELECT CAST(?1 AS TEXT)", -1, &ins_f, NULL) != SQLITE_OK)
		abort();
	while (in.p < in.end && ncp + nw < MAX_ROWS) {
		uint8_t r = byte(&in);
		sqlite3_stmt *ins = r % 3 == 0 ? ins_cp : r % 3 == 1 ? ins_w :
		    ins_f;

		if (ins == ins_f) {
			bind_value(&in, ins_f, 1);
			if (sqlite3_step(ins_f) == SQLITE_ROW &&
			    sqlite3_column_text(ins_f, 0) != NULL) {
				free(filter);
				filter = strdup((const char *)
				    sqlite3_column_text(ins_f, 0));
			}
			sqlite3_reset(ins_f);
			continue;
		}
		fix = false;
		for (i = 1; i <= 9; i++)
			fix |= bind_value(&in, ins, i) && i == 9;
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE)
			continue;
		if (ins == ins_cp)
			cprow[ncp] = fix ? sqlite3_last_insert_rowid(db) : 0;
		else
			wrow[nw] = fix ? sqlite3_last_insert_rowid(db) : 0;
		ins == ins_cp ? ncp++ : nw++;
		nfix += fix;
	}
	sqlite3_finalize(ins_cp);
	sqlite3_finalize(ins_w);
	sqlite3_finalize(ins_f);
	if (nfix > 0)
		fix_checksums(db, cprow, ncp, wrow, nw);
	if (flags & 2)
		exec(db, "ALTER TABLE checkpoints DROP COLUMN checksum");

	rc = corral_store_open_sqlite(DB_URI, CORRAL_DURABILITY_NORMAL, &st,
	    &why);
	if (rc != CORRAL_OK) {
		/* Only a schema of someone else's may be refused. */
		if (!(flags & 2)) {
			fprintf(stderr, "fuzz_checkpoint: cannot open the "
			    "store: %s\n", why);
			abort();
		}
		FUZZ_CHECK(st == NULL && why != NULL);
	} else {
		read_back(st, filter);
		corral_store_close(st);
	}
	free(filter);
	sqlite3_close(db);
	return 0;
}
