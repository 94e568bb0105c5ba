/*
 * store_impl.h: what the checkpoint store's backends share with store.c,
 * private to libcorral.  store.c checks every argument, then calls the
 * backend through struct store_ops; a backend is one file that fills the
 * vtable and embeds struct corral_store at the start of its handle.
 */
#ifndef STORE_IMPL_H
#define STORE_IMPL_H

#include <sqlite3.h>

#include "corral.h"

/* What corral_put hands a backend: every field checked, ns never NULL. */
struct store_put {
	const char *thread;
	const char *ns;
	const char *id;       /* NULL: the backend makes one (store_make_id) */
	const char *parent;   /* NULL: none */
	const char *type;     /* NULL: none */
	const void *data;     /* never NULL, even when len is 0 */
	size_t len;
	const char *metadata; /* never NULL */
	size_t mlen;
	const char *mtype;    /* metadata's serde tag; NULL: none */
	/*
	 * The checkpoint's channel versions as the put gave them, encoded
	 * (store_encode_spec); NULL (slen 0) when it has none.  The backend
	 * resolves them against the parent's (store_resolve).
	 */
	const char *spec;
	size_t slen;
	/* The values the put gave, encoded (store_encode_values); NULL: none. */
	const unsigned char *vals;
	size_t vallen;
	/* As the caller gave them: a replace re-encodes spec (store_merge). */
	const struct corral_channel *versions;
	size_t nversions;
	uint32_t crc;         /* store_crc_checkpoint of the above */
	int64_t now_ms;       /* wall clock: created_ms, and made ids */
	char *id_out;         /* CORRAL_KEY_MAX + 1 bytes: the id stored */
};

typedef int (*store_list_fn)(void *, const struct corral_tuple *);

/*
 * Where a cursor resumes: list yields only checkpoints that sort after
 * this one in its order (newest first; equal ids by thread, then
 * namespace, greatest first), that is whose (id, thread, ns) is less.
 */
struct store_after {
	const char *id, *thread, *ns;
};

/*
 * Each returns CORRAL_OK or a CORRAL_* error with the handle's message set
 * (store_fail).  Arguments are checked by store.c; namespaces are never
 * NULL except list's (every namespace); list's thread is NULL for every
 * thread, never "".
 */
struct store_ops {
	int (*put)(struct corral_store *, const struct store_put *);
	/* id NULL: the latest.  CORRAL_NOTFOUND, or *out (caller frees). */
	int (*get)(struct corral_store *, const char *thread, const char *ns,
	    const char *id, struct corral_tuple **out);
	/* after: NULL, or where a cursor resumes. */
	int (*list)(struct corral_store *, const struct corral_list_opts *,
	    const struct store_after *, store_list_fn, void *);
	/* path never NULL. */
	int (*put_writes)(struct corral_store *, const char *thread,
	    const char *ns, const char *id, const char *task,
	    const char *path, const struct corral_write *, size_t n);
	/*
	 * The writes of a checkpoint (channel NULL: all) into the handle's
	 * tuple buffer, tb_reset first; corrupt set if a checksum failed.
	 */
	int (*get_writes)(struct corral_store *, const char *thread,
	    const char *ns, const char *id, const char *channel);
	int (*delete_thread)(struct corral_store *, const char *thread);
	void (*close)(struct corral_store *);
	/* Is the file still the one open?  NULL: nothing to check. */
	int (*check)(struct corral_store *);
};

struct tbuf;

struct corral_store {
	const struct store_ops *ops;
	struct tbuf *tb;         /* the backend's tuple buffer (get_writes) */
	struct corral_rng rng;   /* the random bits of made ids */
	bool in_list;            /* list's callback must not call us back */
	/*
	 * Counts the calls that may have written: a cursor's page read
	 * before the last of them is stale (corral_list_next).
	 */
	uint64_t gen;
	/*
	 * corral_store_fence: the thread whose writes are fenced (owned;
	 * NULL: none) and the lease's token.  Only PostgreSQL checks it.
	 */
	char *fence_thread;
	int64_t fence_token;
	char errmsg[256];
};

/* store.c */

/* Sets up the common part of a handle (generator seeded by the kernel). */
void store_init(struct corral_store *, const struct store_ops *);
/* Sets the handle's message and returns code. */
int store_fail(struct corral_store *, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* corral_crc32c without the processor's instruction, to test both. */
uint32_t store_crc32c_table(uint32_t crc, const void *, size_t);
/* The idx of the pos-th write on channel (the special channels' map). */
int store_write_idx(const char *channel, size_t pos);
/*
 * The checksums: type (NULL: none) and its length, then the bytes.  The
 * fields added in schema version 2 (metadata type, whether the row has
 * versions and inline values, task path) are folded in only when
 * present, so that the rows written before keep their checksums.  The
 * versions and values blobs carry checksums of their own (store_blob_ok):
 * a value is read from its origin's row without reading that row's data.
 */
uint32_t store_crc_checkpoint(const char *type, size_t tlen,
    const void *data, size_t len, const char *meta, size_t mlen,
    const char *mtype, size_t mtlen, bool has_vers, bool has_vals);
uint32_t store_crc_write(const char *type, size_t tlen, const char *channel,
    size_t clen, const void *value, size_t len, const char *path,
    size_t plen);

/*
 * A checkpoint's channels, in three encodings, each a run of entries
 * whose strings end in NUL:
 *
 *   spec (put to backend):  channel, version, then one byte: 's' when
 *                           the put gives this version's value, 'p' when
 *                           it is to come from the parent
 *   versions (stored):      channel, version, origin: the id of the
 *                           checkpoint whose row holds the value, "" for
 *                           the row itself; a channel of no origin is left
 *                           out; then 4 bytes, the CRC-32C of the entries
 *                           (little-endian)
 *   values (stored inline): channel, version, a byte 't' and the type or
 *                           'n' (none), 8 bytes of length (little-endian),
 *                           the bytes; then the CRC-32C as above.  "empty"
 *                           is kept as such, without bytes.
 */
struct store_val {
	const char *channel, *version, *type; /* type NULL: none */
	size_t clen, vlen, tlen;
	const unsigned char *value;
	size_t len;
};

/* Does blob (versions or values) end in the checksum of what precedes? */
bool store_blob_ok(const unsigned char *blob, size_t len);
/* The values encoded, into *out (malloc'd; NULL when n is 0). */
int store_encode_values(const struct corral_channel *v, size_t n,
    unsigned char **out, size_t *len);
/* The versions as a spec, 's' where vals (NULL: none) holds the value. */
int store_encode_spec(const struct corral_channel *versions, size_t n,
    const unsigned char *vals, size_t vallen, char **out, size_t *len);
/*
 * The values of a replace: those of new, then those of old (the row
 * replaced, NULL: none) that new has not, so that the checkpoints naming
 * the row as their origin keep their values.  An old blob that fails its
 * checksum is dropped.  *out malloc'd; NULL when both are empty.
 */
int store_merge_values(const unsigned char *new, size_t newlen,
    const unsigned char *old, size_t oldlen, unsigned char **out,
    size_t *len);
/*
 * The stored versions of spec, their origins resolved: "" for 's'; for
 * 'p' the parent's origin of the channel when the parent (id parent, its
 * stored versions pvers; NULL: none) holds the same version, its id when
 * that is "" there; else none, and the channel is left out.  *out
 * malloc'd.  CORRAL_ECORRUPT when pvers fails its checksum.
 */
int store_resolve(const char *spec, size_t slen, const char *parent,
    size_t plen, const unsigned char *pvers, size_t pvlen,
    unsigned char **out, size_t *len);
/*
 * Where a backend finds the inline values of the checkpoint id (of the
 * thread and namespace being read): CORRAL_OK with *vals and *len (the
 * blob, checksum included, checked), CORRAL_NOTFOUND (no such row, or it
 * has no values), CORRAL_ECORRUPT, or an error.
 */
typedef int (*store_origin_fn)(void *, const char *id, size_t idlen,
    const unsigned char **vals, size_t *len);
/*
 * Adds the channels of a row (its stored versions and values; NULL: none)
 * to the tuple buffer in the versions' order, each from its origin,
 * leaving out those whose value is missing or "empty".  A blob that fails
 * its checksum makes the tuple corrupt.  0 or an error of origin.
 */
int store_read_channels(struct tbuf *, const unsigned char *vers,
    size_t vlen, const unsigned char *vals, size_t vallen,
    store_origin_fn origin, void *arg);
/* Is this value the "empty" marker (no value at this version)? */
bool store_value_empty(const char *type, size_t tlen);
/* corral_make_id with the handle's generator, after `after` (or NULL). */
void store_make_id(struct corral_store *, char *buf, int64_t now_ms,
    const char *after);

/*
 * A tuple being read.  Backends copy column values into it as they step
 * (SQLite's are gone at the next step), as offsets into one growing buffer,
 * then turn it into a tuple: in place for list (valid until the next
 * reset), or into one allocation for get (corral_tuple_free is free).
 * The buffers are kept from call to call: reading allocates nothing once
 * they are large enough.
 */
#define TB_NULL ((size_t)-1)

struct tb_write {
	size_t task, channel, type, value, len, path;
	int idx;
};

struct tb_chan {
	size_t channel, version, type, value, len;
};

struct tbuf {
	char *b;
	size_t len, cap;
	struct tb_write *w;
	size_t nw, capw;
	struct corral_write *out; /* list's writes, capw of them */
	struct tb_chan *c;
	size_t nc, capc;
	struct corral_channel *cout; /* list's channels, capc of them */
	size_t thread, ns, id, parent, type, data, dlen, meta, mtype;
	int64_t created_ms;
	bool corrupt;
	bool nomem;               /* an append failed: the tuple is lost */
};

void tb_reset(struct tbuf *);
/* Appends p[0..len) and a NUL; returns its offset, TB_NULL for p NULL. */
size_t tb_add(struct tbuf *, const void *p, size_t len);
size_t tb_str(struct tbuf *, const char *s);
/* path NULL: "". */
void tb_add_write(struct tbuf *, const char *task, size_t tlen, int idx,
    const char *channel, size_t clen, const char *type, size_t tylen,
    const void *value, size_t len, const char *path, size_t plen);
void tb_add_channel(struct tbuf *, const char *channel, size_t clen,
    const char *version, size_t vlen, const char *type, size_t tlen,
    const void *value, size_t len);
/*
 * The tuple in place (list).  CORRAL_ENOMEM if an append failed.  Both
 * this and tb_copy first sort the writes by (task_path, task_id, idx).
 */
int tb_view(struct tbuf *, struct corral_tuple *);
/* The tuple in one allocation (get).  CORRAL_ENOMEM, or 0. */
int tb_copy(struct tbuf *, struct corral_tuple **);
/* The writes alone in one allocation (get_writes).  CORRAL_ENOMEM, or 0. */
int tb_copy_writes(struct tbuf *, struct corral_write **, size_t *n);
void tb_free(struct tbuf *);

/* store_sqlite.c: also the metadata filter of the memory backend. */

/*
 * The filter as SQL, for a row whose metadata is the expression META and
 * the filter the parameter FILTER: every top-level member of the filter
 * is a member of the metadata of the same key, JSON type and value
 * (objects and arrays compare as their minified text, as LangGraph's
 * SqliteSaver compares JSON text).  Metadata that is not valid JSON
 * matches no filter that has a key.  json_each gives keys unescaped, so no
 * JSON path is ever built from a key.
 */
#define STORE_FILTER_SQL(META, FILTER)                                    \
	"NOT EXISTS (SELECT 1 FROM json_each(" FILTER ") AS f"            \
	" WHERE NOT EXISTS (SELECT 1 FROM json_each(CASE WHEN"            \
	" json_valid(" META ") THEN " META " ELSE '{}' END) AS m"         \
	" WHERE m.key = f.key AND m.type = f.type AND m.value IS f.value))"

/*
 * Is filter a JSON object, and has it a member?  CORRAL_EINVAL (message
 * set) if it is not an object.  *st is prepared on first use on db and
 * kept (the caller finalizes it).
 */
int store_filter_check(struct corral_store *, sqlite3 *db,
    sqlite3_stmt **st, const char *filter, bool *has_keys);
/*
 * Does meta (mlen bytes; NULL: none) match the filter?  1, 0, or a
 * CORRAL_* error (message set).  The backends without SQL of SQLite's
 * decide with it on db, an in-memory connection of their own: *st is
 * prepared there on first use and kept (the caller finalizes it).
 */
int store_filter_match(struct corral_store *, sqlite3 *db,
    sqlite3_stmt **st, const char *meta, size_t mlen, const char *filter);

/*
 * Checks a checkpoint row read from a backend (its stored checksum crc,
 * has_crc false when there is none) and adds its type, data and metadata
 * to the tuple being read.  false (tb->corrupt set) when the row fails
 * the check or has no metadata.
 */
bool tb_checkpoint(struct tbuf *, bool has_crc, uint32_t crc,
    const char *type, size_t tlen, const void *data, size_t len,
    const char *meta, size_t mlen, const char *mtype, size_t mtlen,
    bool has_vers, bool has_vals);

/*
 * store_memory.c, for tests: flips a bit of a checkpoint's stored data,
 * or (poke_value) of its inline values.
 */
int store_memory_poke(struct corral_store *, const char *thread,
    const char *ns, const char *id);
int store_memory_poke_value(struct corral_store *, const char *thread,
    const char *ns, const char *id);

#endif /* STORE_IMPL_H */
