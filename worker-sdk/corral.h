/*
 * corral.h: the public interface of libcorral, the corral worker SDK.
 *
 * The policy parts (backoff, classification, breaker, retry, fallback) are
 * pure: no I/O, no clock, no global state.  The caller passes the time and
 * the random numbers, so the same code decides corrald's restarts and a
 * worker's in-process retries, and unit tests drive it with a fake clock
 * and a seeded generator.  The checkpoint store (store.c and its backends)
 * is the part that does I/O.
 */
#ifndef CORRAL_H
#define CORRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CORRAL_VERSION "0.1.0"

/* backoff.c */

/*
 * A small, fast, seedable generator (splitmix64).  Not for cryptography: it
 * only spreads restarts apart so that a crashed fleet does not come back in
 * lockstep.
 */
struct corral_rng {
	uint64_t state;
};

void corral_rng_seed(struct corral_rng *, uint64_t seed);
uint64_t corral_rng_next(struct corral_rng *);
/* A uniform double in [0, 1). */
double corral_rng_uniform(struct corral_rng *);

struct corral_backoff {
	uint64_t initial_ms; /* delay after the first failure */
	uint64_t max_ms;     /* cap of the delay before jitter */
	double multiplier;   /* >= 1 */
	double jitter;       /* in [0, 1): the delay is spread by +-jitter */
};

/* The seed defaults: 2 s, 4 s, 8 s, 16 s, +-25 %. */
#define CORRAL_BACKOFF_DEFAULT { 2000, 16000, 2.0, 0.25 }

/*
 * The delay before restart after the k-th consecutive failure, counted from
 * 0: min(initial * multiplier^k, max), before jitter.
 */
uint64_t corral_backoff_base(const struct corral_backoff *, unsigned k);

/*
 * The jittered delay: base * (1 - jitter + 2 * jitter * u) for u in [0, 1),
 * so uniform in [base * (1 - jitter), base * (1 + jitter)).
 */
uint64_t corral_backoff_delay(const struct corral_backoff *, unsigned k,
    double u);

/* classify.c */

/*
 * Every way a run can end.  ERROR is an exit code that is in none of the
 * configured lists: the process ran its course and said it failed.
 */
enum corral_exit_class {
	CORRAL_EXIT_NONE = 0, /* no run has ended yet */
	CORRAL_EXIT_SUCCESS,
	CORRAL_EXIT_TRANSIENT,
	CORRAL_EXIT_ERROR,
	CORRAL_EXIT_CRASH,
	CORRAL_EXIT_KILLED,
	CORRAL_EXIT_HANG,
	CORRAL_EXIT_FATAL,
	CORRAL_EXIT_STOPPED,
	/*
	 * The checkpoint storage failed under the worker (disk full, I/O
	 * error, damaged pages, the database deleted or replaced): the
	 * worker said so (CORRAL_STORAGE= before its exit) or exited
	 * CORRAL_EX_IOERR.  Last, so that the numbers of the others, kept in
	 * state databases, stay what they were.
	 */
	CORRAL_EXIT_STORAGE,
	/*
	 * The supervisor stopped the run because its memory passed the
	 * agent's max_memory.  A failure, as a crash is.
	 */
	CORRAL_EXIT_MEMORY,
};
#define CORRAL_EXIT_LAST CORRAL_EXIT_MEMORY

/*
 * The exit status of a worker whose checkpoint storage failed: EX_IOERR
 * of sysexits.h.  corrald classes it `storage` unless the agent lists 74
 * in one of its exit code lists (docs/CONFIG.md).
 */
#define CORRAL_EX_IOERR 74

/* Sets of exit codes 0..255, one bit each. */
struct corral_codeset {
	uint64_t bits[4];
};

void corral_codeset_clear(struct corral_codeset *);
void corral_codeset_add(struct corral_codeset *, unsigned code);
bool corral_codeset_has(const struct corral_codeset *, unsigned code);
bool corral_codeset_empty(const struct corral_codeset *);

struct corral_exit_policy {
	struct corral_codeset success;   /* default {0} */
	struct corral_codeset transient; /* default {75} EX_TEMPFAIL */
	struct corral_codeset fatal;     /* default {64, 78} EX_USAGE, EX_CONFIG */
};

void corral_exit_policy_default(struct corral_exit_policy *);

/* What is known about one ended run, besides its wait status. */
struct corral_exit_facts {
	int status;          /* as from waitpid(2) */
	bool exec_failed;    /* the command never ran */
	bool stop_requested; /* the supervisor asked it to stop */
	bool hang;           /* the supervisor killed it for a missed heartbeat */
	bool reported_fatal; /* the worker said its error is unrecoverable */
	bool storage_error;  /* the worker said its checkpoint storage failed */
	bool memory;         /* the supervisor stopped it for its memory */
};

enum corral_exit_class corral_classify(const struct corral_exit_policy *,
    const struct corral_exit_facts *);

/* "success", "transient", ... ; never NULL. */
const char *corral_exit_class_name(enum corral_exit_class);

/*
 * Did the run fail?  Every class but none, success and stopped.  How much
 * a failure weighs differs: transient and storage exits are not the
 * worker's fault, and neither breakers nor rollback count them.
 */
bool corral_exit_is_failure(enum corral_exit_class);

/* breaker.c */

/*
 * A circuit breaker, as corrald keeps one per agent and per cluster and a
 * worker may keep one per dependency.  CLOSED counts failures; at
 * failure_threshold it OPENs and refuses everything for recovery_timeout;
 * then HALF_OPEN admits up to half_open_max_calls trials: one success
 * closes it, one failure reopens it for longer (x multiplier, with jitter,
 * up to recovery_timeout_max).  A fatal failure opens it for good: only
 * corral_breaker_reset() closes it.  Pure: the caller passes the time (ms,
 * any monotonic origin) and a uniform draw in [0, 1) for the jitter.
 */
enum corral_breaker_state {
	CORRAL_BREAKER_CLOSED,
	CORRAL_BREAKER_OPEN,
	CORRAL_BREAKER_HALF_OPEN,
};

struct corral_breaker_policy {
	unsigned failure_threshold;  /* >= 1; seed default 5 */
	/*
	 * 0: count consecutive failures (a success starts the count again);
	 * otherwise: count the failures of the last failure_window_ms.
	 */
	uint64_t failure_window_ms;
	uint64_t recovery_timeout_ms;     /* seed default 60 s */
	uint64_t recovery_timeout_max_ms; /* cap of the lengthened timeout */
	double multiplier;                /* >= 1, per reopening */
	double jitter;                    /* in [0, 1) */
	unsigned half_open_max_calls;     /* >= 1; seed default 3 */
};

#define CORRAL_BREAKER_MAX_THRESHOLD 100000

struct corral_breaker {
	struct corral_breaker_policy policy;
	enum corral_breaker_state state;
	bool reset_required;    /* opened by a fatal failure */
	unsigned failures;      /* counted toward the threshold */
	unsigned reopenings;    /* consecutive reopenings from HALF_OPEN */
	unsigned trials;        /* admitted since HALF_OPEN began */
	uint64_t opened_at_ms;
	uint64_t open_until_ms; /* when OPEN may become HALF_OPEN */
	/*
	 * Window mode only: the times of the last failure_threshold failures,
	 * a ring.  Owned; allocated by init, freed by corral_breaker_free.
	 */
	uint64_t *ring;
	unsigned ring_next;
	const char *reason;     /* of the last transition; static */
};

/* The seed defaults: 5 failures, 60 s, x2 up to 10 min, +-25 %, 3 trials. */
#define CORRAL_BREAKER_DEFAULT { 5, 0, 60000, 600000, 2.0, 0.25, 3 }

/*
 * 0, or -1 if the policy is out of range (a threshold of 0, a multiplier
 * below 1, ...) or the window's ring cannot be allocated.
 */
int corral_breaker_init(struct corral_breaker *,
    const struct corral_breaker_policy *);
/* Releases what init allocated; the breaker is then unusable.  NULL: no-op. */
void corral_breaker_free(struct corral_breaker *);
/*
 * May a call (a start, a request) proceed now?  Moves OPEN to HALF_OPEN
 * once its time is up, and counts the trials it admits.  *changed is set
 * when the state changed (then b->reason says why).
 */
bool corral_breaker_allow(struct corral_breaker *, uint64_t now_ms,
    bool *changed);
/*
 * Let time pass: OPEN becomes HALF_OPEN once its time is up, admitting
 * nothing yet.  Returns true on a change.
 */
bool corral_breaker_tick(struct corral_breaker *, uint64_t now_ms);
/* A trial ended neither well nor badly (stopped, transient): its slot is
 * free again.  No change of state. */
void corral_breaker_trial_void(struct corral_breaker *);
/* A call succeeded (a run became healthy).  Returns true on a change. */
bool corral_breaker_success(struct corral_breaker *, uint64_t now_ms);
/* A call failed.  u draws the jitter of a reopening.  True on a change. */
bool corral_breaker_failure(struct corral_breaker *, uint64_t now_ms,
    double u);
/* An unrecoverable failure: OPEN until reset.  True on a change. */
bool corral_breaker_fatal(struct corral_breaker *, uint64_t now_ms);
/* A human's reset: CLOSED, counts cleared.  True on a change. */
bool corral_breaker_reset(struct corral_breaker *);
/* How long OPEN still lasts (0 if not OPEN, or if reset is required). */
uint64_t corral_breaker_remaining_ms(const struct corral_breaker *,
    uint64_t now_ms);
const char *corral_breaker_state_name(enum corral_breaker_state);

/* retry.c and fallback.c: in-process helpers for a worker's own calls. */

/*
 * The clock the helpers read and sleep on.  NULL means the real one
 * (CLOCK_MONOTONIC, nanosleep, a generator seeded from getrandom); tests
 * pass a fake one whose sleep advances its time.
 */
struct corral_clock {
	uint64_t (*now_ms)(void *arg);
	void (*sleep_ms)(void *arg, uint64_t ms);
	double (*uniform)(void *arg); /* in [0, 1) */
	void *arg;
};

/* The real clock: CLOCK_MONOTONIC, nanosleep, a kernel-seeded generator. */
const struct corral_clock *corral_clock_real(void);

/* A call: 0 on success, any other value is its error. */
typedef int (*corral_call_fn)(void *arg);
/* Is this error worth another try?  NULL: every error is. */
typedef bool (*corral_retry_pred)(int err, void *arg);

struct corral_retry_policy {
	struct corral_backoff backoff; /* the wait before try k + 1 */
	unsigned max_attempts;         /* >= 1; 1 means no retry */
	uint64_t deadline_ms;          /* 0: none; else the whole budget */
};

/*
 * Call fn until it succeeds, its error is not retryable, max_attempts is
 * reached, or the next wait would end past the deadline.  Returns 0 or the
 * last error; *attempts (if not NULL) receives the number of calls made.
 */
int corral_retry(const struct corral_retry_policy *,
    const struct corral_clock *, corral_call_fn, corral_retry_pred,
    void *arg, unsigned *attempts);

/*
 * A fallback chain: ordered alternatives, each behind its own breaker.
 * A call goes to the first alternative whose breaker admits it; a failure
 * counts against that breaker and the call moves on to the next; an
 * alternative whose breaker opened comes back when a half-open trial
 * succeeds.  The chain owns the breakers (corral_fallback_free).
 */
struct corral_fallback_alt {
	const char *name; /* borrowed */
	corral_call_fn fn;
	void *arg;
	struct corral_breaker breaker;
	uint64_t calls, failures, refusals;
};

struct corral_fallback_chain {
	struct corral_fallback_alt *alts; /* borrowed array of n */
	size_t n;
};

/* Every alternative's breaker gets policy.  0, or -1 on a bad policy. */
int corral_fallback_init(struct corral_fallback_chain *,
    struct corral_fallback_alt *, size_t n,
    const struct corral_breaker_policy *);
void corral_fallback_free(struct corral_fallback_chain *);
/*
 * Returns the index of the alternative that succeeded, or -1 when none
 * did; then *err is the last error, or 0 if every breaker refused.
 */
int corral_fallback_call(struct corral_fallback_chain *,
    const struct corral_clock *, int *err);

/*
 * store.c: the checkpoint store, LangGraph's checkpoint saver contract in
 * C (put, get_tuple, list, put_writes, delete_thread), over one of two
 * backends behind a small vtable: SQLite (store_sqlite.c) and memory
 * (store_memory.c).  Checkpoints, metadata and written values are opaque
 * bytes to the store (JSON by convention), each with a checksum verified
 * on every read; ids are compared as bytes (memcmp), as LangGraph's savers
 * do.  A store handle is used by one thread at a time.  An empty
 * checkpoint_id in a ref is no id (NULL), as in LangGraph.
 */

/* Return values of the store's calls: 0, CORRAL_NOTFOUND or an error < 0. */
enum {
	CORRAL_OK = 0,
	CORRAL_NOTFOUND = 1,  /* get_tuple: no such checkpoint */
	CORRAL_EINVAL = -1,   /* a required field is missing or too long */
	CORRAL_EIO = -2,      /* the backend failed (disk full, I/O error) */
	CORRAL_ECORRUPT = -3, /* a stored row failed its checksum */
	CORRAL_ENOMEM = -4,
	CORRAL_EBUSY = -5,    /* locked by another writer past the timeout */
	CORRAL_EMOVED = -6,   /* the database file was deleted or replaced
				 since it was opened: what is written goes
				 to a file nobody will read again */
	CORRAL_EFULL = -7,    /* the disk (or quota) is full */
	CORRAL_EDAMAGED = -8, /* the database file itself is damaged (a
				 malformed page, not a database) */
	CORRAL_EFENCED = -9,  /* PostgreSQL: the handle's fencing token for
				 this thread is no longer the thread's lease
				 (another node took it over); nothing was
				 written */
};

/* "checkpoint not found", "corrupt row", ...; never NULL. */
const char *corral_strerror(int);
/*
 * Is err a failure of the checkpoint storage itself (CORRAL_EIO,
 * CORRAL_EFULL, CORRAL_EDAMAGED, CORRAL_EMOVED), as opposed to a bad
 * argument, a lock or memory?  A worker that cannot go on after one
 * should exit CORRAL_EX_IOERR (see corral_exit_status).
 */
bool corral_is_storage_error(int err);
/*
 * The exit status for a worker that gives up after the store's error err:
 * CORRAL_EX_IOERR (74) for a storage error, 75 (EX_TEMPFAIL) for
 * CORRAL_EBUSY, CORRAL_ENOMEM and CORRAL_EFENCED (the thread's lease went
 * to another node: this worker must stop, and corrald decides from its
 * own lease), 70 (EX_SOFTWARE) for the rest, 0 for 0.
 */
int corral_exit_status(int err);
/*
 * The word corrald's CORRAL_STORAGE= message uses for a storage error:
 * "full", "damaged", "moved" or "io"; NULL when err is no storage error.
 */
const char *corral_storage_kind(int err);
/*
 * where (a checkpoint_db) as a message may show it: a PostgreSQL
 * connection string with its password replaced by "***" (a URI's
 * user:password@ and password= in its query, or a key=value string's
 * password=), anything else as it is.  Cut to fit len bytes (len > 0);
 * returns buf.
 */
const char *corral_where_shown(const char *where, char *buf, size_t len);

/*
 * Longest thread id, namespace, checkpoint id, task id, task path, channel
 * name or channel version, in bytes.  LangGraph's namespaces grow by about
 * 40 bytes per level of nested subgraph.
 */
#define CORRAL_KEY_MAX 4095
/* Room for a checkpoint id the store makes (and a NUL). */
#define CORRAL_ID_LEN 37

enum corral_durability {
	CORRAL_DURABILITY_NORMAL, /* WAL, synchronous=NORMAL: a power loss may
				     lose the last commits, never corrupt */
	CORRAL_DURABILITY_FULL,   /* WAL, synchronous=FULL: every put synced */
};

struct corral_store;

/*
 * Open (creating it if needed) a SQLite checkpoint database: WAL, a busy
 * timeout (10 s), prepared statements cached in the handle.  Many
 * processes may write one database at once.  0, or an error (CORRAL_EIO,
 * CORRAL_EFULL, CORRAL_EDAMAGED, CORRAL_EBUSY, CORRAL_ENOMEM,
 * CORRAL_EINVAL) with *why (static; a message naming the file is kept
 * per thread until its next failed open) set.  An older layout of the
 * tables is migrated in place (docs/SDK.md); a database of a newer one,
 * or tables of another program's layout: CORRAL_EINVAL.
 *
 * Every call that writes first checks that the file at path is still the
 * one the handle has open (SQLite's SQLITE_FCNTL_HAS_MOVED: one stat(2)
 * of the path, its inode against the open file's): when it was deleted
 * or replaced (renamed over), the call fails with CORRAL_EMOVED and
 * writes nothing, rather than succeed into a file nobody will read.
 */
int corral_store_open_sqlite(const char *path, enum corral_durability,
    struct corral_store **, const char **why);

/* The same with more to say; a zero field is its default. */
struct corral_sqlite_opts {
	enum corral_durability durability;
	/*
	 * How long a call waits for other writers (and the open for the
	 * setup) before CORRAL_EBUSY; 0: 10 s.  corrald, which reads inside
	 * its event loop, waits a few milliseconds and retries later.
	 */
	unsigned busy_timeout_ms;
};
int corral_store_open_sqlite_opts(const char *path,
    const struct corral_sqlite_opts *, struct corral_store **,
    const char **why);
/*
 * Is the file at the store's path still the one it has open?  0, or
 * CORRAL_EMOVED with the handle's message naming the path and saying
 * whether it was deleted or replaced.  A store in memory: always 0.  The
 * writes check this themselves; a reader that wants to know calls it.
 */
int corral_store_check(struct corral_store *);
/*
 * Open the store that `where` names, as checkpoint_db does: a PostgreSQL
 * connection string (corral_where_is_postgres) or else a SQLite path.
 * durability applies to SQLite; PostgreSQL commits as the server is set
 * (synchronous_commit).  Errors as corral_store_open_sqlite's.
 */
int corral_store_open(const char *where, enum corral_durability,
    struct corral_store **, const char **why);
/*
 * Does where name a PostgreSQL database: a URI (postgresql:// or
 * postgres://) or a libpq key=value string whose first keyword libpq
 * knows (host=, dbname=, service=, ...)?  A SQLite file whose name
 * starts so is written ./host=... .
 */
bool corral_where_is_postgres(const char *where);

/*
 * Open a PostgreSQL checkpoint store (libpq; docs/SCALING.md).  The
 * tables (corral_checkpoints, corral_writes, corral_leases) and their
 * version (corral_schema) are created or migrated on open, in one
 * transaction under an advisory lock.  Errors: CORRAL_EIO (cannot
 * connect, or the server failed; *why names the server and says why),
 * CORRAL_EINVAL (a bad connection string, or a schema newer than this
 * code), CORRAL_ENOMEM.  corral_store_check is always 0.
 */
struct corral_pg_opts {
	/*
	 * The longest a connect or a statement may take, in milliseconds,
	 * before CORRAL_EIO (connect_timeout, statement_timeout and
	 * tcp_user_timeout); 0: 10 s.  corrald, which calls inside its
	 * event loop, gives a short one.
	 */
	unsigned timeout_ms;
};
int corral_store_open_pg(const char *conninfo, const struct corral_pg_opts *,
    struct corral_store **, const char **why);

/*
 * Fence the handle's writes (put, put_writes, delete_thread) to thread
 * with token, a lease's fencing token (corrald passes it to a worker in
 * CORRAL_LEASE_TOKEN, beside CORRAL_THREAD_ID): each write then commits
 * only while corral_leases holds that token for the thread, and fails
 * with CORRAL_EFENCED, writing nothing, once another node took the
 * thread over.  Writes to other threads are not fenced.  token 0 or
 * thread NULL: no fence.  On SQLite and in memory, where one node owns
 * the file, fencing is a no-op.  0 or CORRAL_EINVAL.
 */
int corral_store_fence(struct corral_store *, const char *thread,
    int64_t token);

/* A store in this process's memory: for tests and workers run alone. */
int corral_store_open_memory(struct corral_store **);
/* NULL is a no-op. */
void corral_store_close(struct corral_store *);
/* The last backend error of this handle, for messages ("disk I/O error"). */
const char *corral_store_errmsg(const struct corral_store *);

/*
 * Which checkpoint: thread_id (required to put or write), checkpoint_ns
 * (NULL means "", the root graph), checkpoint_id (get_tuple: that one,
 * NULL: the latest; put: the parent, NULL: none; put_writes: the
 * checkpoint the writes belong to, required).
 */
struct corral_ref {
	const char *thread_id;
	const char *checkpoint_ns;
	const char *checkpoint_id;
};

/* A pending write.  In tuples every pointer is owned by the tuple. */
struct corral_write {
	const char *task_id;  /* ignored by put_writes (its argument rules) */
	const char *channel;
	int idx;              /* ignored by put_writes: it computes it */
	const char *type;     /* serde tag ("json", "bytes"); NULL: none */
	const void *value;
	size_t len;
	const char *task_path; /* ignored by put_writes; in tuples "" when
				  none was given */
};

/*
 * One channel of a checkpoint at one version (LangGraph's channel_versions
 * and the values of newVersions; versions are text, as LangGraph's
 * PostgresSaver keeps them).  A value is stored in the row of the
 * checkpoint whose put gave it, so a checkpoint costs only the channels
 * written since its parent, in one row.
 */
struct corral_channel {
	const char *channel;
	const char *version;
	const char *type;     /* serde tag; "empty": the channel has no value
				 at this version (a value, if given, is not
				 stored); NULL: none */
	const void *value;    /* len bytes; NULL only when len is 0 */
	size_t len;
};

/*
 * A checkpoint as read, with its metadata, parent and pending writes.
 * Every string and byte string (data, values) is followed by a NUL that
 * len does not count, and is not NULL when empty.
 */
struct corral_tuple {
	char *thread_id;
	char *checkpoint_ns;
	char *checkpoint_id;
	char *parent_id;        /* NULL: none */
	char *type;             /* serde tag; NULL: none */
	void *data;             /* the checkpoint's bytes; NULL if corrupt */
	size_t len;
	char *metadata;         /* JSON object text; "{}" when none given */
	char *metadata_type;    /* its serde tag; NULL: none given */
	int64_t created_ms;     /* wall clock of the put */
	struct corral_write *writes; /* ordered by (task_path, task_id, idx) */
	size_t nwrites;
	/*
	 * The values of the checkpoint's channels (its put's versions),
	 * in that order, each with the version put named, read from the
	 * channel's origin (see corral_checkpoint); a channel of no origin,
	 * or whose value is "empty", is left out.
	 */
	struct corral_channel *channels;
	size_t nchannels;
	bool corrupt;           /* a checksum of the checkpoint, of one of
				   its writes, or of the values of its row or
				   of a channel's origin failed: only
				   the ids are valid (type, data, metadata,
				   writes, channels are NULL) */
};

/* Frees a tuple from get_tuple (list's and cursors' are theirs).  NULL ok. */
void corral_tuple_free(struct corral_tuple *);

/* What put stores. */
struct corral_checkpoint {
	const char *id;       /* NULL: the store makes a time-ordered one */
	const char *type;     /* serde tag; NULL: none */
	const void *data;
	size_t len;
	const char *metadata; /* a JSON object's text; NULL: "{}" */
	const char *metadata_type; /* serde tag of metadata; NULL: none */
	/*
	 * Which version of each channel the checkpoint holds (LangGraph's
	 * channel_versions; type, value and len are ignored).  Each gets an
	 * origin, the checkpoint whose row holds that version's value: this
	 * one when values gives it; else the parent's origin for the channel
	 * when the parent holds the same version; else none, and the channel
	 * is left out of tuples.  So a checkpoint reads the values of its own
	 * branch only.  A tuple's channels are these versions' values.
	 */
	const struct corral_channel *versions;
	size_t nversions;
	/*
	 * The values to store, in this checkpoint's row (LangGraph's
	 * newVersions, with the values channel_values has for them, type
	 * "empty" for those it has not); stored whether or not versions names
	 * them.  The same key put again keeps the values of the row replaced
	 * that these do not give (descendants may read them), and replaces
	 * those they give.
	 */
	const struct corral_channel *values;
	size_t nvalues;
};

/*
 * Store cp under (ref->thread_id, ref->checkpoint_ns, id), its parent
 * being ref->checkpoint_id (not checked to exist).  The same key again
 * replaces it.  The id (given or made) is copied to id_out (NULL: not
 * copied), of idlen bytes (CORRAL_ID_LEN fits a made one, CORRAL_KEY_MAX
 * + 1 any).  A made id sorts after the latest id of the thread and
 * namespace, even if the wall clock stepped back, when that latest is an
 * id of the same layout (made by the store or by LangGraph's uuid6).
 */
int corral_put(struct corral_store *, const struct corral_ref *,
    const struct corral_checkpoint *cp, char *id_out, size_t idlen);

/*
 * The checkpoint named by ref (the latest of the thread and namespace when
 * ref->checkpoint_id is NULL) into *out (caller frees).  CORRAL_NOTFOUND
 * when there is none, or when ref->thread_id is NULL.  A corrupt row:
 * CORRAL_ECORRUPT, and *out has its ids with corrupt set.
 */
int corral_get_tuple(struct corral_store *, const struct corral_ref *,
    struct corral_tuple **out);

/* Which checkpoints list yields; every field is optional. */
struct corral_list_opts {
	const char *thread_id;     /* NULL or "": every thread */
	const char *checkpoint_ns; /* NULL: every namespace ("" is the root) */
	const char *before;        /* ids strictly less (byte order) */
	const char *filter;        /* a JSON object: each top-level key must
				      equal the metadata's; NULL or {}: all */
	unsigned limit;            /* 0: no limit */
};

/*
 * Calls fn for each matching checkpoint, newest first (greatest id; equal
 * ids by thread, then namespace, greatest first); the tuple is valid
 * during the call only, and fn may not call the store (CORRAL_EINVAL).
 * Corrupt rows are passed with corrupt set.  fn returns nonzero to stop.
 * 0 or an error (CORRAL_EINVAL for a filter that is not a JSON object).
 */
int corral_list(struct corral_store *, const struct corral_list_opts *,
    int (*fn)(void *, const struct corral_tuple *), void *arg);

/*
 * The same as a cursor, for callers that yield one tuple at a time (an
 * async iterator).  open checks the options (copied: the caller's strings
 * need not outlive the call); next gives the next tuple in list's order,
 * valid until the next call of next or close on this cursor, and returns
 * 0, CORRAL_NOTFOUND past the last one, or an error (a corrupt row:
 * CORRAL_ECORRUPT with *out set, as get_tuple; the cursor goes on).  The
 * store may be called between two calls of next, writes included: each
 * next reads the store as it is then, resuming after the key it gave
 * last, so a checkpoint put meanwhile is seen if and only if it sorts
 * after that key, and a deleted one is not seen.  No read transaction is
 * held between calls.  close frees the cursor (NULL is a no-op); it must
 * come before the store's close.
 */
struct corral_cursor;
int corral_list_open(struct corral_store *, const struct corral_list_opts *,
    struct corral_cursor **out);
int corral_list_next(struct corral_cursor *, const struct corral_tuple **out);
void corral_list_close(struct corral_cursor *);

/*
 * The writes stored against the checkpoint ref names (thread_id and
 * checkpoint_id required) on channel (NULL: every channel), in the order
 * of a tuple's writes, into *out (caller frees with free(): one
 * allocation) and *n.  0 with *n 0 when there are none.  For LangGraph's
 * pending sends of a checkpoint of format < 4: its parent's writes on
 * "__pregel_tasks".  A write that fails its checksum: CORRAL_ECORRUPT.
 */
int corral_get_writes(struct corral_store *, const struct corral_ref *,
    const char *channel, struct corral_write **out, size_t *n);

/*
 * Store writes[0..n) for task_id against the checkpoint ref names
 * (required, with thread_id).  A write's idx is its position, or for the
 * special channels __error__ -1, __scheduled__ -2, __interrupt__ -3,
 * __resume__ -4.  Idempotent per (task_id, idx): a regular write already
 * stored is kept, a special one is replaced (LangGraph's MemorySaver).
 * All or nothing.  The checkpoint need not exist yet.
 */
int corral_put_writes(struct corral_store *, const struct corral_ref *,
    const char *task_id, const struct corral_write *writes, size_t n);
/*
 * The same with the task's path (LangGraph's taskPath; NULL: ""), which
 * orders a step's writes before the task id does.
 */
int corral_put_writes_path(struct corral_store *, const struct corral_ref *,
    const char *task_id, const char *task_path,
    const struct corral_write *writes, size_t n);

/* Remove every checkpoint and write of the thread, in every namespace. */
int corral_delete_thread(struct corral_store *, const char *thread_id);

/*
 * A time-ordered id for thread's next checkpoint, later (byte order) than
 * after when not NULL: the UUID version 6 layout LangGraph uses, its
 * timestamp max(now, after's + 1).  buf has CORRAL_ID_LEN bytes.
 */
void corral_make_id(char *buf, uint64_t now_unix_ms, const char *after,
    struct corral_rng *);

/* CRC-32C of the bytes, continuing from crc (0 to start). */
uint32_t corral_crc32c(uint32_t crc, const void *, size_t);

/*
 * worker_api.c: a worker's side of its bond with corrald.  corral_worker_init
 * reads what corrald put in the environment (CORRAL_AGENT, CORRAL_INSTANCE,
 * CORRAL_THREAD_ID, CORRAL_CHECKPOINT_DB, CORRAL_RESUME_ID,
 * CORRAL_LEASE_TOKEN, CORRAL_CHECKPOINT_INTERVAL_MS, CORRAL_STOP_SIGNAL,
 * NOTIFY_SOCKET, WATCHDOG_USEC); run outside corrald, the same program
 * works alone: its thread is opts' or "local", its store opts' database or
 * memory, and the notify calls do nothing.  One worker per process: stopping() rests on a
 * signal handler.  Under corrald (and unless opts.no_signals), SIGPIPE is
 * ignored: its output pipes break when corrald dies, just before the stop
 * signal comes, and a write must fail with EPIPE rather than kill a worker
 * on its way to its last checkpoint.
 */
struct corral_worker;

struct corral_worker_opts {
	const char *thread_id;     /* NULL: CORRAL_THREAD_ID, else "local" */
	const char *checkpoint_db; /* NULL: CORRAL_CHECKPOINT_DB, else memory */
	enum corral_durability durability;
	uint64_t checkpoint_interval_ms; /* 0: corrald's, else 300 s */
	const struct corral_clock *clock; /* NULL: the real one */
	bool no_signals; /* leave the stop signal's disposition alone */
};

enum corral_severity {
	CORRAL_SEV_INFO,
	CORRAL_SEV_WARNING,
	CORRAL_SEV_ERROR,
	CORRAL_SEV_CRITICAL,
};

/*
 * Set up from the environment and opts (NULL: all defaults), open the
 * store (corral_store_open: a SQLite path or a PostgreSQL connection
 * string) and, when CORRAL_LEASE_TOKEN is set, fence its writes to the
 * thread with that token (corral_store_fence).  0, or an error with *why
 * (static) saying what failed: CORRAL_EINVAL for a CORRAL_LEASE_TOKEN that
 * is not a positive decimal int64.
 */
int corral_worker_init(const struct corral_worker_opts *,
    struct corral_worker **, const char **why);
/* Closes the store.  NULL is a no-op. */
void corral_worker_free(struct corral_worker *);

/*
 * The checkpoint to resume from: the one corrald chose (CORRAL_RESUME_ID;
 * set but empty means "start afresh"), or alone the thread's latest that
 * reads back intact.  0 and *out (owned by the worker, valid until the
 * next resume or free), or CORRAL_NOTFOUND, or an error.
 */
int corral_worker_resume(struct corral_worker *,
    const struct corral_tuple **out);
/*
 * Store a checkpoint of this worker's thread; its parent is the last one
 * this worker stored or resumed from.  metadata: a JSON object, or NULL
 * for {"source":"loop","step":N} (N counts this thread's checkpoints from
 * the one resumed).  The new id goes to id_out if not NULL.
 *
 * A storage error of this call or of resume (corral_is_storage_error) is
 * told to corrald as well, by corral_worker_storage_error; the worker
 * then decides: go on, or exit corral_exit_status(err).  CORRAL_EFENCED
 * (another node took the thread over) leaves no choice: every later
 * write fails too, and the worker exits corral_exit_status(err), 75.
 */
int corral_worker_checkpoint(struct corral_worker *, const void *data,
    size_t len, const char *metadata, char *id_out, size_t idlen);
/*
 * Tell corrald that the checkpoint storage failed with err (a storage
 * error; anything else is ignored: 0): CORRAL_STORAGE=KIND: MESSAGE, the
 * message being the store's (it names the database).  Sent once per kind
 * per worker, so a worker that keeps trying does not flood.  corrald logs
 * it, and classes the run's exit `storage` (docs/SDK.md).  For workers
 * that call the store directly (corral_worker_store); the worker's own
 * calls do it themselves.  CORRAL_EFENCED is told once as a report
 * instead (CORRAL_ERROR=, severity warning, recoverable, code
 * "CORRAL_EFENCED"): it is no storage failure, and corrald judges the
 * exit by its own lease.  0, or CORRAL_EIO when the message could not be
 * sent.
 */
int corral_worker_storage_error(struct corral_worker *, int err);
/* sd_notify messages to corrald: READY=1, WATCHDOG=1, STATUS=text. */
int corral_worker_ready(struct corral_worker *);
int corral_worker_heartbeat(struct corral_worker *);
int corral_worker_status(struct corral_worker *, const char *text);
/*
 * CORRAL_ERROR={"severity":..,"recoverable":..,"code":..,"message":..}:
 * joins the run's record; a critical error that is not recoverable makes
 * corrald classify the run's exit as fatal.
 */
int corral_worker_report_error(struct corral_worker *, enum corral_severity,
    bool recoverable, const char *code, const char *message);
/* Has the stop signal (corrald's stop_signal, SIGTERM alone) arrived? */
bool corral_worker_stopping(const struct corral_worker *);
/* Is a checkpoint due: checkpoint_interval since the last one? */
bool corral_worker_checkpoint_due(const struct corral_worker *);
/* Under corrald (CORRAL_AGENT set)? */
bool corral_worker_supervised(const struct corral_worker *);
const char *corral_worker_thread_id(const struct corral_worker *);
/* The store, for the saver calls beyond the worker's own. */
struct corral_store *corral_worker_store(struct corral_worker *);

#ifdef __cplusplus
}
#endif

#endif /* CORRAL_H */
