/*
 * corrald.h: every structure and prototype of the corral supervisor, grouped
 * by the file that defines them.  This header is the map of the daemon.
 */
#ifndef CORRALD_H
#define CORRALD_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "corral.h"

struct event;
struct event_base;

#define EXIT_USAGE 64  /* EX_USAGE */
#define EXIT_CONFIG 78 /* EX_CONFIG */

#define NAME_MAX_LEN 64 /* agent and cluster names */

/* log.c */

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(enum log_level, const char *prog);
/* Where log lines go once the loop runs (default: a plain write). */
void log_set_writer(void (*)(int fd, const char *, size_t));
void log_set_level(enum log_level);
/* The command line's level: log_set_level() leaves it alone from then on. */
void log_pin_level(enum log_level);
/* The pinned level, or -1 if the command line set none. */
int log_pinned_level(void);
int log_level_parse(const char *, enum log_level *);
const char *log_level_name(enum log_level);
/* log_warn appends strerror(errno), log_warnx does not; both keep errno. */
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * Repeating lines are rate limited.  A line's shape is its text with every
 * run of digits made '#' ("agent w.12 (pid 4121): ..." and "agent w.3 (pid
 * 977): ..." are alike; another agent's, or another reason, is not).  Each
 * shape may write LOG_BURST lines at once, then LOG_RATE a second; a line
 * over that is counted, and at most LOG_WINDOW_MS after the first one
 * counted a line "SHAPE: N more like this suppressed in the last T s" says
 * how many.  The state database keeps every event: the log is for people.
 */
#define LOG_BURST 1000
#define LOG_RATE 10
#define LOG_WINDOW_MS 10000
/* Summaries that fall due are written from a timer of this loop. */
void log_set_base(struct event_base *);
/* Write every pending summary now (before an exit or an exec). */
void log_flush_suppressed(void);
/* Lines suppressed since corrald started. */
uint64_t log_suppressed_total(void);

/* The limiter itself, pure: the caller gives the time (tests: a fake). */
#define LOG_RL_SETS 64
#define LOG_RL_WAYS 8
#define LOG_SHAPE_MAX 160
struct log_rl_slot {
	uint64_t key;        /* the shape's hash; 0: free */
	uint64_t tokens;     /* thousandths of a line */
	uint64_t seen_ms;    /* tokens were refilled up to then */
	uint64_t since_ms;   /* the first line suppressed, when suppressed */
	uint64_t suppressed; /* lines counted, not yet summed up */
	int level;
	char shape[LOG_SHAPE_MAX];
};
struct log_rl {
	unsigned burst, rate; /* lines at once; then lines a second */
	uint64_t window_ms;
	uint64_t next_due_ms; /* the earliest summary due; UINT64_MAX: none */
	uint64_t total;       /* lines suppressed, ever */
	struct log_rl_slot slot[LOG_RL_SETS][LOG_RL_WAYS];
};
void log_rl_init(struct log_rl *, unsigned burst, unsigned rate,
    uint64_t window_ms);
/* msg's shape into buf (cut to len); returns its key (never 0). */
uint64_t log_shape(const char *msg, int level, char *buf, size_t len);
/* May a line of this key be written at now?  If not, it is counted. */
bool log_rl_admit(struct log_rl *, uint64_t key, int level,
    const char *shape, uint64_t now_ms);
/*
 * Summaries due at now (every pending one when all): fn(arg, level, shape,
 * count, ms since the first counted line) for each, which is then
 * forgotten.  Returns how many.
 */
size_t log_rl_due(struct log_rl *, uint64_t now_ms, bool all,
    void (*fn)(void *, int, const char *, uint64_t, uint64_t), void *arg);

/*
 * Where corrald's own lines go.  With log_file set, appended to that file;
 * else to stderr, as "TIME corrald: LEVEL: message", or, when stderr is
 * the journal (JOURNAL_STREAM names it), as "<P>LEVEL: message" with the
 * sd-daemon(3) priority and no time of ours.  Every line written, whatever
 * its destination, is also kept in a ring of the last LOG_RING_BYTES
 * (corralctl log), and passed to the listener (corralctl log -f).
 */
/* Decide, once, whether stderr is the journal (corrald's main). */
void log_detect_journal(void);
/* Is it?  And the prefix of a line of level l written to stderr then ("<3>",
 * or "" when stderr is no journal), for lines written without log_*(). */
bool log_journal(void);
const char *log_journal_prefix(enum log_level);
/*
 * The decision, pure: does JOURNAL_STREAM's value env ("DEV:INO", both
 * decimal; NULL when unset) name the file of stderr's dev and ino?
 */
bool log_journal_match(const char *env, uint64_t dev, uint64_t ino);
/*
 * Send corrald's lines to the file at path (NULL: back to stderr), rotated
 * past max bytes (0: never) keeping backups old files, as a worker's log
 * is.  The file open now is closed and path opened again: a SIGHUP or a
 * reload calls this after an external rotation, or with another path.
 * 0; or -1 when it cannot be opened, which is said on stderr, where lines
 * then go until a later call opens it.
 */
int log_file_open(const char *path, uint64_t max, unsigned backups);
/* Close it (lines go to stderr again). */
void log_file_close(void);
/*
 * The last n lines kept (fewer when fewer are), oldest first: fn(arg,
 * line, len), the line without its newline and not NUL-terminated.
 */
void log_recent(unsigned n, void (*fn)(void *, const char *, size_t),
    void *arg);
/*
 * Pass every line logged from now on to fn(arg, line, len) (NULL: stop).
 * A line logged while fn runs is written and kept, but not passed to fn.
 */
void log_set_listener(void (*fn)(void *, const char *, size_t), void *arg);

/*
 * The ring itself, pure: the last cap bytes' whole lines.  buf holds
 * 2 * cap bytes (the caller's), each byte written twice, at i and i + cap,
 * so that every line held, and every run of lines, lies contiguous at buf
 * + start.  Adding never allocates.  A line longer than cap - 1 bytes is
 * cut to that, and then is all the ring holds.
 */
#define LOG_RING_BYTES (256 * 1024)
struct log_ring {
	char *buf;        /* borrowed: 2 * cap bytes */
	size_t cap;
	size_t start, len; /* what is held: len bytes at buf + start */
};
void log_ring_init(struct log_ring *, char *buf, size_t cap);
/* Keep one line of n bytes (no newline: the ring adds it). */
void log_ring_add(struct log_ring *, const char *line, size_t n);
/* The last n lines, oldest first, as log_recent; returns how many. */
size_t log_ring_last(const struct log_ring *, unsigned n,
    void (*fn)(void *, const char *, size_t), void *arg);

/* Allocation failure is the one error corrald does not survive. */
void fatal(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * nametab.c: a set of strings with an index each, for lookups by name that
 * must not make a loop quadratic.  The strings are borrowed: each must stay
 * where it is while in the table.  A zeroed struct is an empty table.
 */
struct nametab {
	const char **keys;
	size_t *vals;
	size_t mask; /* size - 1, a power of two; 0: nothing allocated */
	size_t n;
};
/* Frees what t holds and leaves it empty (and usable). */
void nametab_free(struct nametab *);
/* key's value, or -1 when key is not in t. */
ssize_t nametab_get(const struct nametab *, const char *key);
/*
 * Add key (borrowed) with value val.  Returns false, leaving t as it
 * was, when key is there already.
 */
bool nametab_put(struct nametab *, const char *key, size_t val);

/* units.c: parsing of the value types of the fleet file.  Pure. */

/* Each returns 0, or -1 with a message (static, or in buf) in *why. */
int parse_duration(const char *, uint64_t *ms, const char **why);
int parse_size(const char *, uint64_t *bytes, const char **why);
int parse_uint(const char *, uint64_t max, uint64_t *out, const char **why);
int parse_int(const char *, int64_t min, int64_t max, int64_t *out,
    const char **why);
int parse_double(const char *, double min, double max, double *out,
    const char **why);
int parse_bool(const char *, bool *out, const char **why);
int parse_signal(const char *, int *sig, const char **why);
/* Comma- or space-separated exit codes 0..255; an empty value is no code. */
int parse_codes(const char *, struct corral_codeset *, const char **why);
/* ADDRESS:PORT; *host is replaced (caller frees). */
int parse_listen(const char *, char **host, unsigned *port, const char **why);
/* Print in the form the parsers take back: "250ms", "2s", "90s", "16K". */
void format_duration(uint64_t ms, char *buf, size_t len);
void format_size(uint64_t bytes, char *buf, size_t len);
const char *signal_name(int sig); /* "TERM", or NULL if unknown */
/* The edit distance, for did-you-mean suggestions. */
unsigned edit_distance(const char *, const char *);

/* argv.c: shell-like word splitting and %(name) expansion.  Pure. */

struct strv {
	char **v;   /* NULL-terminated; owns each string */
	size_t n;
	size_t cap;
};

void strv_init(struct strv *);
void strv_push(struct strv *, const char *);     /* copies */
void strv_push_own(struct strv *, char *);       /* takes ownership */
void strv_free(struct strv *);
/* Equal strings, NULL equal only to NULL. */
bool str_same(const char *, const char *);
/*
 * Split s into words as a POSIX shell would, without expansion: blanks (and
 * every character of extra_seps) separate words, '...' keeps everything,
 * "..." honours \" \\ \$ \`, a backslash outside quotes quotes the next
 * character.  Returns 0, or -1 with a message in *why (static string).
 */
int argv_split(const char *s, const char *extra_seps, struct strv *out,
    const char **why);

struct expand_vars {
	const char *agent;
	const char *instance;
	const char *here;
};
/*
 * Replace %(agent), %(instance), %(here), %(ENV_NAME) (corrald's
 * environment variable NAME; unset is an error) and %% in s.  Returns a
 * new string (caller frees), or NULL with the offending name in *why
 * (static message).
 */
char *expand_vars(const char *s, const struct expand_vars *,
    const char **why);
/*
 * Only the %(ENV_NAME) of s replaced, their values' '%' doubled: still a
 * template for expand_vars.  Caller frees; NULL with *why (static) when a
 * variable is not set.
 */
char *expand_env(const char *s, const char **why);
/* Whether template s names %(ENV_...). */
bool has_env(const char *s);

/*
 * envfile.c: systemd's EnvironmentFile= format, the subset corral reads
 * (docs/CONFIG.md, env_file).  Pure: the len bytes of text become
 * KEY=VALUE strings appended to out, a later KEY replacing an earlier one.
 * 0, or -1 with the line at fault in *line and the reason in why (out is
 * then as it was).
 */
int envfile_parse(const char *text, size_t len, struct strv *out,
    unsigned *line, char *why, size_t whylen);
/*
 * Read the file at path and parse it into out.  optional: a missing file
 * is no error (nothing is added).  0, or -1 with "PATH: reason" or
 * "PATH:LINE: reason" in why.  quote: the reason may quote the line at
 * fault (--check, for the operator); without it, it never does (at a
 * spawn the reason is the run's exit detail, in the state database and
 * on /status and /events, and the line may hold a secret).
 */
int envfile_read(const char *path, bool optional, bool quote,
    struct strv *out, char *why, size_t whylen);

/*
 * rlimit.c: an agent's resource limits (limit_nofile and the rest), set in
 * the child before exec.  Parsing and printing are pure.
 */
enum rlim_key { RL_NOFILE, RL_CORE, RL_NPROC, RL_AS, RL_CPU, RL_FSIZE,
	RL_STACK, RL_MEMLOCK, RL_N };
#define RLIM_VALUE_INFINITY UINT64_MAX
struct agent_rlimit {
	bool set;            /* false: the run inherits corrald's */
	uint64_t soft, hard; /* RLIM_VALUE_INFINITY: infinity; cpu: seconds */
};
/* "limit_nofile", ...; the stage named in a failed start, too. */
const char *rlim_key_name(enum rlim_key);
/* The key's enum rlim_key, or -1. */
int rlim_key_of(const char *key);
/* RLIMIT_NOFILE, ... */
int rlim_resource(enum rlim_key);
/*
 * N (soft = hard), SOFT:HARD or infinity; a size (512K, 1G) for core, as,
 * fsize, stack and memlock, seconds or a duration of whole seconds for
 * cpu.  0 with *out set, or -1 with a static message in *why.
 */
int rlim_parse(enum rlim_key, const char *, struct agent_rlimit *out,
    const char **why);
/* In the form rlim_parse takes back. */
void rlim_format(enum rlim_key, const struct agent_rlimit *, char *buf,
    size_t len);
/* Would setting r fail where no hard limit above ceiling is given?  Pure. */
bool rlim_above(const struct agent_rlimit *r, uint64_t ceiling);
/*
 * The highest hard limit a run of corrald can get: corrald's own when it
 * is not root, else none (RLIM_VALUE_INFINITY) but fs.nr_open for
 * descriptors.  0, or -1 with errno.
 */
int rlim_ceiling(enum rlim_key, bool root, uint64_t *max);
/* That ceiling in words: "corrald's hard limit is 4096, and ...". */
void rlim_ceiling_describe(enum rlim_key, bool root, char *buf, size_t len);
/*
 * Why a run of a could not get its limit key (a stage spawn.c reports):
 * the value, the errno and corrald's own hard limit.  Caller frees.
 */
struct agent_conf;
char *rlim_failure(const struct agent_conf *a, const char *key, int err);

/*
 * cron.c: five-field cron specs (cron_restart), as Vixie cron reads them:
 * lists, ranges, steps, names of months and days, 7 for Sunday, @daily
 * and its kin; a day of month and a day of week both restricted (neither
 * starts with '*') match either.  Times are local.
 */
struct cron_spec {
	uint64_t minute;  /* bit 0..59 */
	uint32_t hour;    /* bit 0..23 */
	uint32_t dom;     /* bit 1..31 */
	uint16_t month;   /* bit 1..12 */
	uint8_t dow;      /* bit 0..6, Sunday 0 */
	bool dom_star, dow_star;
};
/* 0, or -1 with the reason in why (len bytes); a spec that never fires
 * ("0 0 30 2 *") is refused. */
int cron_parse(const char *, struct cron_spec *, char *why, size_t len);
/*
 * Pure but for the local time zone (TZ): the first instant after now
 * whose local time matches c.  Each matching local time fires once: in
 * the hour the clock goes back, on its first pass; a time the clock skips
 * fires at the first minute after the gap.  0, or -1 if nothing matches
 * within 29 years.
 */
int cron_next(const struct cron_spec *, time_t now, time_t *next);

/* config.c: the fleet file, parsed, checked and resolved. */

enum restart_mode { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };
/* OUT_STDOUT, for stderr only: where stdout goes (redirect_stderr). */
enum out_mode { OUT_FILE, OUT_INHERIT, OUT_NULL, OUT_STDOUT };

struct agent_conf {
	char name[NAME_MAX_LEN + 1];
	unsigned line;  /* of its section header */
	unsigned order; /* position in the file, for stable ordering */

	char *cluster;       /* NULL: in no cluster */
	char *command;       /* as written */
	struct strv argv;    /* command split into words, %() unexpanded */
	unsigned numprocs;   /* now: corralctl scale changes it */
	unsigned numprocs_file; /* what the file says */
	char *directory;     /* NULL: corrald's own */
	struct strv env;     /* KEY=VALUE, %() unexpanded, keys unique */
	enum restart_mode restart;
	struct corral_exit_policy codes;
	struct corral_backoff backoff;
	unsigned max_retries; /* 0: no limit */
	uint64_t healthy_after_ms;
	int stop_signal;
	uint64_t stop_timeout_ms;
	enum out_mode out[2]; /* [0] stdout, [1] stderr */
	/*
	 * env_file: "PATH", or "-PATH" when a missing file is no error;
	 * absolute, in order.  Read at each spawn (envfile_read).
	 */
	struct strv env_files;
	int umask;           /* -1: corrald's own */
	/* redirect_stderr as the file says it; out[1] is OUT_STDOUT when it
	 * is in force (config.c settles it against stderr). */
	bool redirect_stderr;
	uint64_t log_max_bytes; /* 0: never rotate */
	unsigned log_backups;
	int priority;
	bool autostart;
	char *user; /* NULL: corrald's own */
	uid_t uid;
	gid_t gid;
	/* The agent's breaker; multiplier and jitter are the backoff's. */
	struct corral_breaker_policy breaker;
	char *fallback; /* NULL: none; else an agent's name (checked) */
	/*
	 * The worker protocol: no READY=1 nor WATCHDOG=1 for watchdog_ms in
	 * a ready run and corrald kills it (0: off).  A run keeps the value
	 * it started with: a reload that turns it on must not kill workers
	 * that were never told to send heartbeats.
	 */
	uint64_t watchdog_ms;
	char *thread_id;     /* as written, %() unexpanded; never NULL */
	uint64_t checkpoint_interval_ms; /* handed to the SDK; above 0 */
	/*
	 * Rollback (resume.c): this many failures in a row right after
	 * resuming from one checkpoint (0: off) and the next run resumes
	 * from its parent, at most max_rollback steps back (0: never).
	 */
	unsigned poison_threshold;
	unsigned max_rollback;
	/*
	 * After an exit classed storage that holds no human's attention (a
	 * full disk, an I/O error), the next run waits this long, with the
	 * backoff's jitter (resume.c, storage_decide).
	 */
	uint64_t storage_retry_ms;
	/* Resource limits of its runs (rlimit.c); each changes the process. */
	struct agent_rlimit rlim[RL_N];
	/*
	 * A run whose memory passes this (bytes; 0: no limit) is stopped and
	 * restarted, its exit classed memory (usage.c).
	 */
	uint64_t max_memory;
	/*
	 * Kernel limits of each run, through a cgroup controller (cglimit.c):
	 * memory_max in bytes (0: none), cpu_quota in hundredths of a percent
	 * of one CPU (0: none; 5000 is 50%, 20000 two CPUs).
	 */
	uint64_t memory_max;
	uint32_t cpu_quota;
	/*
	 * Order (order.c): no instance starts until every instance of each
	 * agent named in after is up; up is RUNNING, and with ready_notify
	 * (ready = notify) RUNNING after READY=1, healthy_after alone not
	 * being enough.  Names checked: agents of the file, no cycle.
	 */
	struct strv after;
	bool ready_notify;
	/*
	 * Recycling (recycle.c): a run older than max_age (0: off), less up
	 * to backoff_jitter of it, drawn per run, is stopped and started at
	 * once; cron_restart (NULL: none; as written) restarts the agent's
	 * instances one after another at the times of cron.
	 */
	uint64_t max_age_ms;
	char *cron_restart;
	struct cron_spec cron;
	/*
	 * Hooks (hook.c): as written (NULL: none) and split into words,
	 * %() unexpanded; each is killed after hook_timeout.
	 */
	char *pre_start, *post_stop;
	struct strv pre_argv, post_argv;
	uint64_t hook_timeout_ms;
};

/* OTP's restart strategies, for the workers of one cluster. */
enum strategy { STRAT_ONE_FOR_ONE, STRAT_ONE_FOR_ALL, STRAT_REST_FOR_ONE };

struct cluster_conf {
	char name[NAME_MAX_LEN + 1];
	unsigned line;
	/*
	 * The cluster's breaker: failures of every member within
	 * failure_window_ms (0: consecutive); multiplier 2, jitter 0.25.
	 */
	struct corral_breaker_policy breaker;
	enum strategy strategy;
	unsigned min_healthy;    /* fewer workers up: CRITICAL; default 1 */
	char *on_state_change;   /* as written; NULL: none */
	/* Split into words, %(here) already expanded: run them as they are. */
	struct strv on_state_argv;
};

#define EVENT_RETENTION_MS (30ULL * 24 * 3600 * 1000)
#define EVENT_RETENTION_COUNT 1000000
/* Leases (lease.c): lease_ttl's default and bounds; a node name's length. */
#define LEASE_TTL_MS 15000
#define LEASE_TTL_MIN_MS 1000
#define LEASE_TTL_MAX_MS 3600000
#define NODE_NAME_MAX 253

struct config {
	char *path;     /* as given */
	char *here;     /* absolute directory of the file */
	char *state_db; /* resolved path */
	char *checkpoint_db; /* resolved path; corrald only hands it on */
	char *checkpoint_shown; /* as messages show it: no password */
	char *run_dir;
	char *log_dir;
	/* corrald's own log: NULL, stderr (or the journal); else this file,
	 * rotated past log_file_max_bytes (0: never), log_file_backups kept */
	char *log_file;
	uint64_t log_file_max_bytes;
	unsigned log_file_backups;
	char *control_socket;
	char *http_host;  /* NULL: no HTTP */
	unsigned http_port;
	char *http_token; /* NULL: none (then loopback only) */
	bool breakers;    /* circuit_breaker_enabled / CIRCUIT_BREAKER_ENABLED */
	bool cgroup;      /* cgroup = auto: a cgroup v2 per run when possible */
	enum log_level log_level;
	/* Events older than this go, and all but about the newest count (0:
	 * no such limit). */
	uint64_t event_retention_ms, event_retention_count;
	/*
	 * Leases (lease.c): on when checkpoint_db is a PostgreSQL database.
	 * node_name is who holds them (default: the host name).
	 */
	bool leases;
	char *node_name;
	uint64_t lease_ttl_ms;

	struct agent_conf *agents; /* sorted by priority, then file order */
	size_t nagents;
	struct cluster_conf *clusters;
	size_t nclusters;

	/*
	 * Owned: the bytes this config was parsed from, textlen of them (and
	 * a NUL after), so that a reexec hands the next image the running
	 * configuration and not what the file says by then.
	 */
	char *text;
	size_t textlen;
	/*
	 * The files [include] brought in, in the order they were read; their
	 * texts are in text too (a bundle: config.c, config_load_text).
	 */
	struct strv included;
};

/* The messages of a failed load, each "FILE:LINE: message". */
struct config_errors {
	struct strv msgs;
};

/*
 * Read, check and resolve the fleet file at path.  Returns the config
 * (caller frees with config_free), or NULL with every error in errs.
 * Nothing is partly applied: a file with any error yields NULL.
 */
struct config *config_load(const char *path, struct config_errors *errs);
/*
 * The same for len bytes of text (copied), parsed as if read from path:
 * messages name path, %(here) is here (NULL: path's directory, which must
 * then resolve), relative paths resolve as config_load resolves them.
 */
struct config *config_load_text(const char *path, const char *here,
    const char *text, size_t len, struct config_errors *errs);
/*
 * The [corrald] settings that apply only when corrald starts (its paths,
 * HTTP) stay as running has them: next takes them, each change logged
 * with who ("reload") and said to wait for a restart; running gets next's
 * in exchange, to be freed with it.
 */
void config_keep_daemon(struct config *running, struct config *next,
    const char *who);
/*
 * A config of one agent, named name, with every default: the stand-in for
 * an agent no configuration names any more (fleet_retire_stray).  Caller
 * frees.
 */
struct config *config_standin(const char *name);
void config_free(struct config *);
/* Print the resolved configuration as a fleet file that loads back. */
void config_print(const struct config *, FILE *);
/* Would a and b run the same process?  (Policy keys may differ.) */
bool agent_conf_same_process(const struct agent_conf *,
    const struct agent_conf *);
const char *restart_mode_name(enum restart_mode);
const char *strategy_name(enum strategy);
const char *out_mode_name(enum out_mode);

/* restart.c: what to do after a run ends.  Pure. */

enum wstate {
	W_STOPPED,
	W_STARTING,
	W_RUNNING,
	W_BACKOFF,
	W_STOPPING,
	W_EXITED,
	W_FATAL,
	W_HELD, /* a restart held back by an open breaker */
	W_DEGRADED, /* held back, and its fallback agent runs instead */
	W_LIMITED, /* not started: the fleet needs more descriptors than the
		      hard limit allows (limits.c) */
	W_ELSEWHERE, /* not started: another node holds its thread's lease,
			or this node cannot tell (lease.c) */
	W_WAITING, /* not started: an agent it comes after is not up
		      (order.c) */
};
#define W_LAST W_WAITING
const char *wstate_name(enum wstate);

struct restart_in {
	enum restart_mode mode;
	unsigned max_retries;
	uint64_t healthy_after_ms;
	uint64_t backoff_initial_ms;
	enum corral_exit_class cls;
	bool was_healthy;  /* it reached RUNNING */
	uint64_t run_ms;
	unsigned failures; /* consecutive failures before this run ended */
	/*
	 * The operator spoke while corrald was stopping the run for its own
	 * reason (watchdog, max_memory, max_age): a restart waits for this
	 * exit, or a stop holds the worker.
	 */
	bool restart_asked;
	bool held;
};

struct restart_plan {
	enum wstate next;  /* W_BACKOFF, W_EXITED, W_FATAL or W_STOPPED */
	bool failure;      /* counts as a failure */
	bool start_failure; /* a failure that died before RUNNING */
	bool chain_closed; /* the error chain ends here (a good exit) */
	unsigned failures; /* consecutive failures after this run */
	bool throttle;     /* restart after a backoff step though no failure */
	unsigned backoff_k; /* index into the backoff sequence when BACKOFF */
	const char *why;   /* short reason, for the log; static */
};

void restart_decide(const struct restart_in *, struct restart_plan *);

/* statedb.c: the state database, events written in batches. */

enum ev_kind { EV_DAEMON, EV_SPAWN, EV_EXIT, EV_STATE, EV_BREAKER,
	EV_HEALTH, EV_REPORT, EV_ROLLBACK };

struct db_event {
	int64_t id;      /* given by statedb_add */
	enum ev_kind kind;
	int64_t time_ms; /* wall clock */
	char agent[NAME_MAX_LEN + 1];
	int instance; /* -1: the daemon itself */
	pid_t pid;
	const char *state, *prev_state; /* static strings or NULL */
	enum corral_exit_class cls;
	int code, sig, err; /* -1 when not applicable */
	int64_t start_ms, run_ms;
	unsigned restarts;
	int64_t chain; /* 0: not in a chain */
	int start_failure; /* -1 n/a, 0, 1 */
	char *detail;      /* owned, may be NULL */
	/*
	 * Spawn and exit: the checkpoint the run resumed from ("": none,
	 * afresh; NULL: corrald did not choose).  Exit: the last checkpoint
	 * the run wrote (NULL: none).  Owned, may be NULL.
	 */
	char *resumed_from;
	char *last_checkpoint;
};

struct statedb;
struct clocks;
/* Events kept in memory while the database cannot be written; past it,
 * new ones are dropped and counted. */
#define STATEDB_QUEUE_MAX 200000

/*
 * Open (creating if needed) and lock the state database.  Returns NULL and
 * prints why only when another corrald holds the lock (or the lock file
 * cannot be made): any other trouble with the file is a condition
 * (statedb_health) that supervision goes on through.  A corrupt file is
 * moved aside and a fresh one made.  Also tells how this start follows the
 * last corrald on the database (statedb_start_kind), and records this
 * boot's id in table meta.
 */
struct statedb *statedb_open(const char *path, struct event_base *);
/* The same, taking over a lock a previous image of corrald holds (fd): a
 * reexec. */
struct statedb *statedb_adopt(const char *path, struct event_base *,
    int lockfd);
int statedb_lockfd(const struct statedb *);

/*
 * How corrald came to start on its state database, told from the last
 * daemon event an earlier corrald wrote there (corrald writes its "start"
 * before it spawns anything, and "stop" after its last worker is gone) and
 * the boot id meta kept.  Only START_UNPLANNED can leave runs of the
 * earlier corrald alive (same boot, no stop): the case to look for them.
 */
enum start_kind {
	START_FIRST,     /* no corrald ran on this database before */
	START_CLEAN,     /* the last one stopped, in this boot */
	START_UNPLANNED, /* the last one died without stopping, in this boot */
	START_REBOOT,    /* the host rebooted since the last one ran (stopped
			    or not): nothing of it can be alive */
	START_REEXEC,    /* corralctl reexec: this image took over its
			    workers */
};
/*
 * This start's kind, as found when the database was opened.  *prev_pid
 * (if prev_pid is not NULL) gets the pid of the last corrald, 0 if none.
 */
enum start_kind statedb_start_kind(const struct statedb *, pid_t *prev_pid);
/*
 * Pure: the kind of a start from the last daemon event's state (NULL:
 * none), the boot id saved with it (NULL or "": unknown) and this boot's
 * ("": unknown).  An unknown boot counts as this one.
 */
enum start_kind start_kind_of(bool reexec, const char *last_state,
    const char *saved_boot, const char *boot);
/* "first", "clean", "unplanned", "reboot", "reexec": the daemon event's
 * detail starts with it. */
const char *start_kind_name(enum start_kind);
/* Flushes what is queued, then closes.  NULL is a no-op. */
void statedb_close(struct statedb *);
/*
 * waiting(arg) says whether spawns wait in this loop turn: a flush due
 * then is put off to the next turn (once), so that a restart does not
 * wait for a commit.
 */
void statedb_defer_to(struct statedb *, bool (*waiting)(void *), void *);
/* Queue an event; it is written with the rest of this loop turn's. */
void statedb_add(struct statedb *, struct db_event *);
/* Write everything queued now, in one transaction.  0 or -1. */
int statedb_flush(struct statedb *);
int64_t statedb_next_chain(struct statedb *);
/* Desired state: an operator's stop, queued with this turn's events. */
void statedb_set_held(struct statedb *, const char *agent, unsigned instance,
    bool held);
/*
 * A breaker's state, queued with this turn's events (name: the agent or
 * cluster).  Its times are on the monotonic clock of now's boot; now says
 * which, and when the save happened on both clocks.
 */
void statedb_save_breaker(struct statedb *, const char *name,
    const struct corral_breaker *, const struct clocks *now);
/*
 * Forget the breakers for which keep() says no (their agent or cluster
 * left the file: one re-added later under that name starts afresh).
 */
int statedb_keep_breakers(struct statedb *, bool (*keep)(void *,
    const char *name), void *arg);
/*
 * 1 and b filled if saved before, 0 if not, -1 on error.  Its times are
 * carried into now's monotonic clock by breaker_times_restore().
 */
int statedb_load_breaker(struct statedb *, const char *name,
    struct corral_breaker *, const struct clocks *now);

/* A breaker's times as a row of table breakers keeps them. */
struct breaker_saved {
	bool has_mono;          /* false: an older corrald's row, wall only */
	char boot_id[40];       /* the boot of the write; "": unknown */
	uint64_t saved_mono_ms; /* the write, on that boot's monotonic clock */
	uint64_t opened_mono_ms, until_mono_ms; /* UINT64_MAX: never */
	int64_t saved_wall_ms;  /* the write, on the wall clock */
	int64_t opened_wall_ms, until_wall_ms;  /* older rows: the times */
};
/*
 * Pure: set b's opened_at_ms and open_until_ms (b's state and
 * reset_required already read) on now's monotonic clock.  In the boot of
 * the write they are kept as they are; otherwise an OPEN period lasts what
 * remained of it at the write less the wall-clock time since, at least 0
 * and at most what remained; reset required stays open for good.
 */
void breaker_times_restore(struct corral_breaker *,
    const struct breaker_saved *, const struct clocks *now);
/* Forget held rows for which keep() says no. */
int statedb_keep_held(struct statedb *,
    bool (*keep)(void *, const char *agent, unsigned instance), void *arg);
/* Calls fn for every held (agent, instance). */
int statedb_load_held(struct statedb *,
    void (*fn)(void *, const char *agent, unsigned instance), void *arg);
/* Called for every event as it is queued (for live followers). */
void statedb_set_listener(struct statedb *,
    void (*fn)(void *, const struct db_event *), void *arg);
/* The event as one JSON object, as stored.  Caller frees; NULL on error. */
char *statedb_event_json(struct statedb *, const struct db_event *);
/*
 * The last limit events (of agent, and instance when >= 0; agent NULL: all),
 * oldest first, each as JSON to fn.  0 or -1.
 */
int statedb_recent(struct statedb *, const char *agent, int instance,
    unsigned limit, void (*fn)(void *, const char *json), void *arg);
/* The last limit events of the fleet with an id above after, oldest first
 * (the dashboard's poll: /events). */
int statedb_recent_after(struct statedb *, int64_t after, unsigned limit,
    void (*fn)(void *, const char *json), void *arg);

/* One ended run, for history.  Strings are borrowed during the call. */
struct history_row {
	int64_t time_ms, run_ms, chain;
	int instance, pid, code, sig, err, start_failure;
	const char *cls, *detail;
};
/* The last limit exits of agent (instance < 0: all), newest first. */
/* (resumed_from and last_checkpoint of exits: see struct db_event.) */
int statedb_history(struct statedb *, const char *agent, int instance,
    unsigned limit, void (*fn)(void *, const struct history_row *),
    void *arg);
/*
 * The last limit transitions of the breaker of an agent or cluster, and a
 * cluster's health changes (kind "breaker" or "health"), newest first.
 */
int statedb_breaker_history(struct statedb *, const char *name,
    unsigned limit, void (*fn)(void *, int64_t time_ms, const char *kind,
    const char *from, const char *to, const char *why), void *arg);
/*
 * Transactions committed and events written since the start (what waits
 * is in statedb_health).
 */
void statedb_stats(const struct statedb *, uint64_t *commits,
    uint64_t *written);

/* A run with a process, as the state database records it (table runs). */
struct run_row {
	char agent[NAME_MAX_LEN + 1];
	unsigned instance;
	pid_t pid, pgid;
	uint64_t start_ticks; /* /proc/PID/stat starttime: pid reuse shows */
	char boot_id[40];
	char *cgroup;         /* owned when queued, borrowed when loaded */
	int stop_signal;
	uint64_t stop_timeout_ms;
	int64_t start_ms;     /* wall clock */
};
/*
 * Record a run (r->cgroup is moved) or forget it, with this loop turn's
 * events; a newer op for the same instance replaces one still queued.
 */
void statedb_run_add(struct statedb *, struct run_row *);
void statedb_run_del(struct statedb *, const char *agent, unsigned instance);
/* What a worker was (table workers), for a restart of corrald. */
struct worker_row;
void statedb_worker_put(struct statedb *, const struct worker_row *);
void statedb_worker_del(struct statedb *, const char *agent,
    unsigned instance);
/* Calls fn for every readable row; an unreadable one is logged.  0/-1. */
int statedb_load_workers(struct statedb *, void (*fn)(void *,
    const struct worker_row *), void *arg);
/* A row of meta, queued with this turn's events. */
void statedb_set_meta(struct statedb *, const char *key, const char *value);
/* Its value (caller frees), or NULL when there is none. */
char *statedb_get_meta(struct statedb *, const char *key);
/* Calls fn for every recorded run (strings borrowed).  0 or -1. */
int statedb_load_runs(struct statedb *, void (*fn)(void *,
    const struct run_row *), void *arg);

/* What is wrong with the state database, if anything. */
enum db_cond {
	DBC_OK,
	DBC_LOCKED,      /* another process holds its write lock */
	DBC_FULL,        /* no space left */
	DBC_READONLY,    /* a read-only file, directory or mount */
	DBC_IOERR,       /* the disk fails */
	DBC_CORRUPT,     /* damaged: moved aside, a fresh one made */
	DBC_UNAVAILABLE, /* cannot be opened at all */
	DBC_ERROR,       /* anything else SQLite says */
};
/* Pure: the condition an SQLite result code (extended or not) means. */
enum db_cond db_cond_of(int sqlite_rc);
/* "ok", "locked", "full", "read-only", "i/o error", "corrupt", ... */
const char *db_cond_name(enum db_cond);
struct statedb_health {
	enum db_cond cond;
	const char *error;   /* the last failure, in words; "" when ok */
	int64_t since_ms;    /* wall clock: when the condition began; 0: ok */
	size_t queued;       /* events waiting in memory */
	size_t rows_queued;  /* rows of state waiting */
	uint64_t dropped;    /* events dropped since start (queue full) */
	const char *aside;   /* where a corrupt database went, or NULL */
	bool memory;         /* nothing could be read: an in-memory stand-in */
	uint64_t pruned;     /* events pruned since start */
};
/* Strings borrowed until the next call into the state database. */
void statedb_health(const struct statedb *, struct statedb_health *);
/*
 * Called when the database had to be made afresh while running (it was
 * found corrupt): fn queues again every row of state it knows.
 */
void statedb_set_resync(struct statedb *, void (*fn)(void *), void *arg);
/*
 * Prune events older than age_ms, and all but about the newest count
 * (0: no limit of that kind), in small steps in the background: a step
 * soon after this call and after events are written, and at the time the
 * oldest event kept passes age_ms; no timer while nothing is to be done.
 */
void statedb_set_retention(struct statedb *, uint64_t age_ms,
    uint64_t count);
/* When the next step of pruning is due (monotonic ms); 0: none armed. */
uint64_t statedb_prune_due(const struct statedb *);
/*
 * Pure: given the n oldest events (ids ascending, their wall times), the id
 * up to which they may be pruned (0: none), keeping about keep events
 * below max_id and none before before_ms (0: no age limit); spare never
 * goes.
 */
int64_t prune_cut(const int64_t *id, const int64_t *time_ms, size_t n,
    int64_t max_id, uint64_t keep, int64_t before_ms, int64_t spare);
/*
 * Pure: after a step of step events at most that fetched the n oldest and
 * cut up to cut (0: none), when the next step is due, in ms from now_ms
 * (wall clock): next_ms when the step was a whole one (a backlog); else
 * when the oldest event kept (the spare aside) passes age_ms (0: no age
 * limit), next_ms at the soonest; else -1, none: what a count limit lets
 * go changes only when events are written, and a commit arms a step.
 */
int64_t prune_next(const int64_t *id, const int64_t *time_ms, size_t n,
    size_t step, int64_t cut, int64_t spare, uint64_t age_ms, int64_t now_ms,
    int64_t next_ms);

/* output.c: a worker's stdout and stderr. */

struct worker;
struct outstream;

/*
 * Start reading fd (the read end of a worker's pipe, which it takes).  which
 * is 1 or 2.  Returns NULL on failure (fd closed).
 */
struct outstream *output_open(struct worker *, int which, int fd);
/* The pipe's descriptor, or -1 for NULL. */
int output_fd(const struct outstream *);
/* Read what is left without blocking, then close.  NULL is a no-op. */
void output_close(struct outstream *);
/* corrald's own stdout (1) and stderr (2), written without blocking. */
void output_sink_init(struct event_base *);
void output_sink_write(int fd, const char *, size_t);
void output_sink_close(void);
/* Write what waits, as far as it goes without blocking. */
void output_sink_flush(void);
/* Emit an inherited stream's partial line now (before a reexec). */
void output_flush_line(struct outstream *);
/* Reopen a worker's log files (on SIGHUP, after an external rotation). */
void output_reopen(struct worker *);
/*
 * Log files, a worker's and corrald's own log_file alike.  Open path to
 * append (created 0640), refusing what is not a regular file of one link
 * (a symbolic link, a FIFO, a hard link to another file): the descriptor
 * (O_CLOEXEC) with the file's size in *size, or -1 with errno set and the
 * reason in why (len bytes).
 */
int logfile_open(const char *path, uint64_t *size, char *why, size_t len);
/*
 * Close fd (truncated first when backups is 0) and rename path to path.1,
 * ... up to path.BACKUPS; failures are logged as who's.  The caller opens
 * path again.
 */
void logfile_rotate(int fd, const char *path, unsigned backups,
    const char *who);
/*
 * Of n bytes at p, how many go into a file of size bytes that holds at
 * most max (0: no limit) before it rotates: whole lines that fit, all of
 * them when they fit, a single over-long line whole into an empty file;
 * 0 when the file must rotate first.  Never 0 when size is 0.  Pure.
 */
size_t logfile_fit(const char *p, size_t n, uint64_t size, uint64_t max);

/* spawn.c: fork and exec one run of a worker. */

struct spawn_req {
	char *const *argv;
	char *const *envp;
	const char *directory; /* NULL: stay */
	enum out_mode out[2];
	uid_t uid;
	gid_t gid;
	const char *user;      /* NULL: no change of user */
	int pdeath_signal;
	/*
	 * NULL, or an entry of envp, "KEY=" and room for 20 digits, that the
	 * child fills with its own pid (WATCHDOG_PID).
	 */
	char *pid_slot;
	/* NULL, or the cgroup.procs the child moves itself into first. */
	const char *cgroup_procs;
	/* NULL, or RL_N limits (rlimit.c), set before exec. */
	const struct agent_rlimit *rlim;
	int umask;      /* -1: leave corrald's */
	/*
	 * Non-zero: corrald could not make the run's environment (env_file);
	 * the child fails at stage "env_file" with this errno, before exec.
	 */
	int env_err;
	/*
	 * NULL or the cgroup.procs of the run's limits (cglimit.c), joined
	 * before anything else: a run that cannot join does not exec.
	 */
	const char *limit_procs[2];
};

struct spawn_res {
	pid_t pid;
	int outfd[2];      /* read ends, or -1 for inherit/null */
	/*
	 * 0: the child runs the program.  Else the errno of the step that
	 * failed, named by stage: the child has exited 127, still to reap.
	 */
	int err;
	const char *stage; /* static */
};

/*
 * 0, or -1 with errno set when no child could be made (no process, no
 * pipe, no memory).  Returns once the child has exec'd or failed.
 */
int spawn_run(const struct spawn_req *, struct spawn_res *);
/*
 * The exec-status pipe of a run that an image from before clone spawning
 * handed over: waits up to a second for its verdict.  1 and *err, *stage
 * when the exec failed, else 0.
 */
int spawn_exec_pipe(int fd, int *err, const char **stage);
/*
 * Open the slots each child finds its stdin, stdout and stderr in: early,
 * so that they are among the lowest descriptors (a spawn copies the
 * descriptor table up to them only).  0, or -1 with errno; spawn_run
 * tries again.
 */
int spawn_init(void);
/* Restore in workers what corrald changed for itself (RLIMIT_NOFILE). */
void spawn_set_nofile(uint64_t soft);

/*
 * limits.c: file descriptors: what the fleet needs, which workers fit
 * under corrald's limit, and what corrald does when it runs short of
 * descriptors (or processes) while it runs.
 */

struct fleet;

/* What corrald keeps free beyond what it has open besides its workers. */
#define FD_RESERVE_CLIENTS 16  /* control and HTTP clients at once */
#define FD_RESERVE_TRANSIENT 8 /* a spawn's pipe ends, /proc and cgroup
				  files, SQLite's temporary files */
#define FD_RESERVE_CKPT 3      /* the checkpoint database, its WAL and shm,
				  until first opened */

/*
 * Descriptors corrald holds for one run of agent a: the read end of each
 * output pipe (file or inherit), each log file (file), and the pipe that
 * reports the exec until it is done.  Pure.
 */
unsigned fd_per_worker(const struct agent_conf *);

struct fd_plan {
	uint64_t fixed;  /* corrald's own descriptors and the reserve */
	uint64_t need;   /* fixed and every worker's */
	uint64_t limit;  /* the soft limit, raised as far as allowed */
	uint64_t hard;   /* the hard limit (nr_open when unlimited) */
	size_t workers;  /* in the fleet */
	size_t fit;      /* of them, under limit */
};
/*
 * Pure: which of n workers fit under limit descriptors, fixed of them
 * being corrald's own.  per[i] is what worker i holds while it runs, in
 * start order (priority, then file order); live[i] says it runs now: its
 * descriptors are taken, and it fits whatever the limit.  The others fit
 * in start order until one does not: that one and every later one get
 * fits[i] false.  Fills p (but p->hard).
 */
void fd_plan_make(struct fd_plan *p, uint64_t fixed, uint64_t limit,
    const unsigned *per, const bool *live, size_t n, bool *fits);
/*
 * At start: raise RLIMIT_NOFILE's soft limit to the hard one (logged);
 * workers get worker_soft (0: the soft limit corrald started with).
 */
void limits_init(uint64_t worker_soft);
/* The soft limit workers get (handed to the next image by a reexec). */
uint64_t limits_worker_soft(void);
/* corrald's soft limit now. */
uint64_t limits_current_soft(void);
/*
 * Plan the fleet's descriptors (at start, before any worker starts, and at
 * each reload): each worker is limited or not, the plan's change is logged
 * once, and LIMITED workers that fit now start.
 */
void limits_plan(struct fleet *);
/* "fleet needs N file descriptors, ...; raise LimitNOFILE", or "". */
void limits_describe(const struct fleet *, char *buf, size_t len);
/* w (limited) may not start: LIMITED, and its breakers' trial slots back. */
void limits_hold(struct worker *);

/* Shortages at run time: corrald could not get a descriptor or a process. */
enum fd_use { FD_SPAWN, FD_CONTROL, FD_HTTP, FD_LOGFILE, FD_NUSE };
const char *fd_use_name(enum fd_use);
/*
 * It failed: counted; true when it is to be said: the first failure since
 * it last worked, unless one was said less than a minute ago.
 */
bool fd_short(enum fd_use);
/*
 * It worked: how many times it had failed since it last worked, when that
 * shortage was said (then say it is over); else 0.
 */
uint64_t fd_ok(enum fd_use);
/* Failures since corrald started. */
uint64_t fd_short_total(enum fd_use);
/*
 * A listener that pauses when accept fails (EMFILE: the pending connection
 * would wake the loop again at once), said once, retried after 100 ms
 * doubling to 2 s.  what names it in the log.
 */
struct evconnlistener;
struct accept_guard;
struct accept_guard *accept_guard_new(struct event_base *,
    struct evconnlistener *, enum fd_use, const char *what);
/* A connection was accepted (or a request served): it works again. */
void accept_guard_ok(struct accept_guard *);
void accept_guard_free(struct accept_guard *);

/*
 * lease.c: a thread runs on one node at a time.  With a PostgreSQL
 * checkpoint_db, corrald takes the lease of a worker's thread before each
 * spawn and hands the run its fencing token (CORRAL_LEASE_TOKEN); it
 * renews every lease it holds each lease_period_ms, stops a worker whose
 * lease was lost or can no longer be vouched for, and releases its leases
 * when it shuts down.  docs/SCALING.md.
 */
enum lease_verdict { LEASE_HERE, LEASE_ELSEWHERE };

/* The renewal period: a third of the time to live. */
uint64_t lease_period_ms(uint64_t ttl_ms);
/*
 * May a node whose last renewal worked at ok_ms still vouch for its
 * leases at now_ms?  Not from one renewal period before they could
 * expire: its workers stop before another node may take their threads.
 */
bool lease_vouched(uint64_t ok_ms, uint64_t ttl_ms, uint64_t now_ms);
/*
 * When a worker whose thread another node holds tries again: just after
 * that lease would expire (left_ms), at least one period from now, at
 * most one time to live.
 */
uint64_t lease_retry_ms(uint64_t left_ms, uint64_t ttl_ms);

/* Connect lazily, renew from now on (leases on only).  */
void lease_start(struct fleet *);
/*
 * Before a spawn: LEASE_HERE (leases off, or w->lease_token taken), or
 * LEASE_ELSEWHERE with w->lease_why set and *retry_ms when to try again.
 */
enum lease_verdict lease_take(struct worker *, uint64_t *retry_ms);
/* Give up the worker's lease (a reload removed it). */
void lease_release(struct worker *);
/* Give up every lease (a clean shutdown, all workers stopped). */
void lease_release_all(struct fleet *);
/* Close the connection; leases stay (a reexec, or an exit by error). */
void lease_stop(struct fleet *);

/* lease_pg.c: the statements, on corrald's own connection. */
struct lease_db;
/* Connects at first use.  timeout_ms bounds each connect and statement. */
struct lease_db *lease_db_new(const char *conninfo, const char *node,
    uint64_t ttl_ms, unsigned timeout_ms);
void lease_db_free(struct lease_db *);
/* The last failure, naming the statement; never NULL. */
const char *lease_db_error(const struct lease_db *);
/* Did the last failure find no table corral_leases? */
bool lease_db_no_table(const struct lease_db *);
/*
 * 0: taken, *token the new fencing token; 1: another node holds it
 * (holder, and *left_ms until it would expire); -1: failed.
 */
int lease_db_take(struct lease_db *, const char *thread, int64_t *token,
    char *holder, size_t hlen, uint64_t *left_ms);
/* Renews the node's leases among threads; got() for each renewed.  0/-1. */
int lease_db_renew(struct lease_db *, const char *const *threads, size_t n,
    void (*got)(void *, const char *thread, int64_t token), void *);
/* Deletes the node's leases of threads that still have these tokens. */
int lease_db_release(struct lease_db *, const char *const *threads,
    const int64_t *tokens, size_t n);

/* resume.c: the checkpoint each run resumes from, and rollback. */

/*
 * Room for a checkpoint id corrald keeps (and a NUL).  Not CORRAL_KEY_MAX:
 * every worker keeps several in struct worker_resume, and 4 KiB each would
 * cost megabytes in a large fleet, while the ids of a worker's thread are
 * 36 bytes (made by libcorral or by LangGraph's uuid6).  A longer id on a
 * worker's thread is an error corrald logs, naming it, and then makes no
 * choice of checkpoint for that worker (it resumes from its latest intact
 * checkpoint by itself): never a truncated id.
 */
#define CKPT_ID_MAX 256

/* What a worker keeps about its checkpoints across runs. */
struct worker_resume {
	bool known;                 /* this run was told CORRAL_RESUME_ID */
	char from[CKPT_ID_MAX];     /* what it resumed from; "": afresh */
	char latest[CKPT_ID_MAX];   /* the thread's latest at its start */
	char poison[CKPT_ID_MAX];   /* the checkpoint failures count against */
	unsigned poison_count;      /* failures in a row right after it */
	unsigned steps;             /* rollbacks since a newer one was written */
	bool rolled;                /* resume from back (not the latest) */
	char back[CKPT_ID_MAX];     /* ...this one ("": afresh) */
	/*
	 * The thread's newest checkpoint in a database file that was deleted
	 * or replaced, when the file at the path now has no such row: the
	 * checkpoints were lost with the old file ("": none lost).  Holds
	 * the worker at its next exit or spawn until an operator starts it.
	 */
	char lost[CKPT_ID_MAX];
};

/*
 * Checkpoint storage errors: what a run said (CORRAL_STORAGE=KIND) or
 * what corrald's own reads found.  LOST is corrald's word only: the file
 * was deleted or replaced, and the thread's checkpoints are not in the
 * new one.
 */
enum storage_kind { SK_NONE, SK_IO, SK_FULL, SK_DAMAGED, SK_MOVED,
	SK_LOST };
/* "io", "full", "damaged", "moved", "lost"; "none". */
const char *storage_kind_name(enum storage_kind);
/* A kind a worker may say (io, full, damaged, moved).  0 or -1. */
int storage_kind_parse(const char *, size_t len, enum storage_kind *);

/*
 * The storage decision, pure.  After an exit (at_spawn false): cls its
 * class, restarts that the restart plan would run it again (BACKOFF),
 * said what the run said, found what corrald's read found.  Before a
 * spawn (at_spawn): found, and ack that an operator started it since it
 * was held.  HOLD: not again until an operator starts or resets it (the
 * data needs a human: damaged pages, a database deleted or replaced);
 * RETRY: again after storage_retry (a full disk frees itself); NONE: as
 * the restart policy says.  A storage exit is never counted toward
 * rollback or breakers either way (rollback_decide: neutral).
 */
enum storage_action { SA_NONE, SA_RETRY, SA_HOLD };
struct storage_in {
	bool at_spawn;
	enum corral_exit_class cls;
	bool restarts;
	enum storage_kind said, found;
	bool ack;
};
enum storage_action storage_decide(const struct storage_in *);

/*
 * The rollback decision, pure.  A run ended: failed says its exit counts
 * (crash, killed, error, hang, fatal), neutral that it neither counts nor
 * breaks the row (transient, stopped), wrote that it wrote a checkpoint
 * newer than the latest at its start, same that it resumed from the
 * checkpoint the count is about (resumed: from any checkpoint at all).
 * Updates *count and *steps.
 */
enum rollback_action { RB_NONE, RB_ROLLBACK, RB_LIMIT };
enum rollback_action rollback_decide(unsigned threshold, unsigned max,
    bool failed, bool neutral, bool wrote, bool resumed, bool same,
    unsigned *count, unsigned *steps);

struct fleet;
/* The thread of w: its agent's thread_id expanded.  Caller frees. */
char *worker_thread(const struct worker *);
/*
 * Choose the checkpoint w's next run resumes from (w->rs.known false when
 * the checkpoint database cannot be read: the worker looks for itself).
 * RESUME_GO: spawn now.  RESUME_LATER: the database is locked; the spawn
 * is tried again by a timer (resume_later), a few times, before the run
 * goes without corrald's choice.  RESUME_HOLD: the database is damaged or
 * the thread's checkpoints were lost with a deleted or replaced file, and
 * no operator said to go on: hold w, why says so (storage_decide).
 */
enum resume_verdict { RESUME_GO, RESUME_LATER, RESUME_HOLD };
enum resume_verdict resume_choose(struct worker *, char *why, size_t len);
/* Arm w's retry of a spawn resume_choose put off (RESUME_LATER). */
void resume_later(struct worker *);
/*
 * w's run is alive and w shows a storage error (not lost checkpoints):
 * if its thread has a checkpoint newer than the run started from, writes
 * go through again and the error is cleared.  One read, at most once a
 * second per worker.
 */
void resume_probe(struct worker *);
/*
 * The run ended with class cls: record in e (not yet queued) what it
 * resumed from and wrote, count toward rollback.  True when it rolls back:
 * then rb is the rollback's event, to queue after e.  *found (with why)
 * is what the read found of the storage itself: SK_DAMAGED, SK_LOST, or
 * SK_NONE.
 */
bool resume_exited(struct worker *, enum corral_exit_class,
    struct db_event *e, struct db_event *rb, enum storage_kind *found,
    char *why, size_t len);
/*
 * The checkpoint store, opened at first use, with a busy wait of a few
 * milliseconds; NULL when it cannot be (f->ckpt_err says why).  A file
 * deleted or replaced under it is logged once and opened again.
 */
struct corral_store *resume_store(struct fleet *);
void resume_close(struct fleet *);

/* cgroup.c: a cgroup v2 directory per worker instance. */

/*
 * Make (or find) the fleet's directory, beside corrald in its own cgroup,
 * named after its state database.  Caller frees; NULL with *why (static).
 */
char *cgroup_fleet_dir(const char *state_db, const char **why);
/* Whether dir can be a fleet's directory (as read from the state database). */
bool cgroup_fleet_dir_valid(const char *dir);
int cgroup_make(const char *dir);          /* 0, or -1 with errno */
/* The processes in dir (up to max; the count is capped too). */
size_t cgroup_members(const char *dir, pid_t *out, size_t max);
bool cgroup_populated(const char *dir);
/* sig to every process in dir; SIGKILL through cgroup.kill. */
void cgroup_signal(const char *dir, int sig);
void cgroup_remove(const char *dir);       /* if empty */
void cgroup_each(const char *fleet_dir, void (*fn)(void *, const char *),
    void *arg);
/* "corral-HASH": the fleet's directory's name, after its state database. */
void cgroup_fleet_name(const char *state_db, char *buf, size_t len);
/* Write a short string to dir/file (a cgroup's, v1 or v2).  0, or -1 with
 * errno. */
int cgroup_put(const char *dir, const char *file, const char *s);

/*
 * cglimit.c: memory_max and cpu_quota, enforced by the kernel through the
 * cgroup v1 memory and cpu controllers: a directory per instance under
 * corrald's own cgroup of each hierarchy.  Parsing and the reading of the
 * kernel's files are pure.
 */
enum cgl_ctl { CGL_MEMORY, CGL_CPU, CGL_N };
#define CPU_QUOTA_PERIOD_US 100000 /* systemd's CPUQuotaPeriodSec= default */
#define CPU_QUOTA_MIN 100          /* 1%: the kernel's quota is >= 1 ms */
#define CPU_QUOTA_MAX 100000000    /* 1,000,000%: 10,000 CPUs */
/*
 * "50%", "200%", "12.5%" (up to two decimals) into hundredths of a
 * percent.  0, or -1 with a static message in *why.
 */
int cpu_quota_parse(const char *, uint32_t *out, const char **why);
/* In the form cpu_quota_parse takes back: "50%", "12.5%". */
void cpu_quota_format(uint32_t quota, char *buf, size_t len);
/* The quota in microseconds a period of period_us gives.  Pure. */
uint64_t cpu_quota_us(uint32_t quota, uint64_t period_us);
/*
 * The directory of the v1 hierarchy of controller ctl ("memory", "cpu")
 * that holds the process whose /proc/PID/mountinfo and /proc/PID/cgroup
 * are given (whole texts).  Caller frees; NULL when no such hierarchy is
 * mounted, or the process's cgroup is not visible under its mount.  Pure.
 */
char *cgl_v1_dir(const char *mountinfo, const char *proc_cgroup,
    const char *ctl);
/* The oom_kill count in the text of memory.oom_control (v1) or
 * memory.events (v2).  0, or -1 when it has none.  Pure. */
int cgl_oom_kills(const char *text, uint64_t *n);
/* Find the hierarchies, clean what an earlier corrald left, log. */
void cglimit_init(struct fleet *);
/* Remove the instance directories no run holds (once runs are adopted). */
void cglimit_sweep(struct fleet *);
/* Why agent a's limits cannot be enforced here: NULL when they can. */
const char *cglimit_unavailable(const struct fleet *,
    const struct agent_conf *a);
/*
 * Make w's directories and write its agent's limits; procs[k] (caller
 * frees) is the cgroup.procs of controller k the child must join, or
 * NULL.  0, or -1 with the reason in why: the run must not start.
 */
int cglimit_prepare(struct worker *w, char *procs[CGL_N], char *why,
    size_t len);
/* OOM kills in w's memory cgroup since its run started. */
uint64_t cglimit_oom(const struct worker *w);
/* w's run was reaped: its directories go (when empty). */
void cglimit_ended(struct worker *w);
/* w's run comes from the image before a reexec: its OOM count so far. */
void cglimit_adopted(struct worker *w);
/* The instance NAME.N's directories go (when empty). */
void cglimit_remove(struct fleet *, const char *name);
/* A clean stop: every directory goes. */
void cglimit_free(struct fleet *);

/* runs.c: runs recorded until reaped; what an earlier corrald left. */

struct survivor;
/* Fields of /proc/PID/stat: 0 and filled, or -1 (gone). */
int proc_stat(pid_t, char *state, pid_t *pgid, uint64_t *start_ticks);
/* Live processes of group pgid started at or after since (ticks). */
size_t proc_group(pid_t pgid, uint64_t since, pid_t *out, size_t max);
/* Decide how runs are contained: a cgroup each, or a process group. */
void runs_init(struct fleet *);
/* At a start that is no reexec: stop what earlier runs left alive. */
void runs_recover(struct fleet *);
/* May w spawn now?  If not, it spawns once what blocks it is gone. */
bool runs_clear(struct worker *);
/* The cgroup.procs w's next run joins (caller frees); NULL: none. */
char *runs_join_path(struct worker *);
void runs_started(struct worker *);  /* w->pid is its new run */
/* Queue w's run row again (the state database was made afresh). */
void runs_resave(struct worker *);
void runs_adopted(struct worker *);  /* w->pid was handed over by reexec */
void runs_ended(struct worker *);    /* reaped: kill what it left, forget */
/* sig to w's run: its group; KILL also to its whole cgroup. */
void runs_kill(struct worker *, int sig);
void runs_halt(struct worker *);     /* no start once a survivor is gone */
void runs_forget(struct worker *);   /* w is freed */
void runs_free(struct fleet *);

/* watch.c: the watcher that finishes stopping runs if corrald dies. */

/* Fork it (at a start that is no reexec).  0, or -1 logged. */
int watch_start(struct fleet *);
/* After a reexec: the watcher the image before started. */
void watch_adopt(struct fleet *, int fd, pid_t pid);
void watch_run_started(struct worker *, uint64_t start_ticks);
void watch_run_ended(struct worker *);
/* A reaped pid: true if it was the watcher's (then another starts). */
bool watch_reaped(struct fleet *, pid_t, int status);
/* A clean exit: say goodbye, reap it. */
void watch_stop(struct fleet *);

/*
 * usage.c: each run's CPU and memory, read from /proc on one timer for the
 * fleet while some agent has max_memory, and when status asks.
 */
#define USAGE_PERIOD_MS 2000 /* the timer, while some agent has max_memory */
#define USAGE_FRESH_MS 1000  /* status and /metrics read at most this often */

/* One process, from its /proc/PID/stat. */
struct proc_sample {
	pid_t pid, pgrp;
	bool zombie;
	uint64_t ticks;       /* utime + stime + cutime + cstime */
	uint64_t start_ticks; /* since boot */
	uint64_t rss_pages;
};
/* Parse len bytes of /proc/PID/stat.  0, or -1 when malformed.  Pure. */
int proc_stat_parse(const char *buf, size_t len, struct proc_sample *);

/* What a run has used, as last sampled.  All 0 at a spawn. */
struct run_usage {
	uint64_t at_ms;  /* the last sample (monotonic); 0: none in this run */
	uint64_t rss;    /* bytes, its process group's, at at_ms */
	uint64_t cpu_ms; /* user + system, cumulative; never goes back */
	double pct;      /* CPU over the interval before at_ms (since the
			    run's start for its first sample), in % of a CPU */
	bool pct_known;  /* false: the interval was empty */
	/* The walk under way: its number, and the group's sums so far. */
	uint64_t scan, acc_rss, acc_ticks;
};
/*
 * A new sample at now_ms (monotonic) of a run that started at start_ms:
 * rss bytes, cpu_ms cumulative.  Pure.
 */
void usage_update(struct run_usage *, uint64_t rss, uint64_t cpu_ms,
    uint64_t now_ms, uint64_t start_ms);
/*
 * Is a run in state over max_memory (0: no limit) by its last sample?
 * Only a live run (STARTING, RUNNING) that nobody stops yet is.  Pure.
 */
bool usage_over_memory(uint64_t max_memory, const struct run_usage *,
    enum wstate, bool stopping);
/* Arm the fleet's timer, or disarm it when no agent has max_memory. */
void usage_rearm(struct fleet *);
/* Sample every live run, unless that was done under a second ago. */
void usage_refresh(struct fleet *);
void usage_free(struct fleet *);

/*
 * order.c: the order of starts and restarts: `after`, shutdown's order,
 * rolling restarts and corralctl scale.  docs/CONFIG.md (after, ready),
 * docs/CONTROL.md (restart --rolling, scale).
 */

struct agent_rt;

/* One instance of an agent a worker comes after, as order_admit sees it. */
struct dep_view {
	const char *name; /* "db.0"; borrowed */
	enum wstate state;
	bool up;          /* worker_up() */
	bool held;        /* stopped by the operator, no process */
	bool on_way;      /* queued for a spawn, or a restart pending */
	bool notify;      /* its agent has ready = notify */
};
enum order_verdict { ORDER_GO, ORDER_WAIT, ORDER_BLOCKED };
/*
 * Pure: may a worker whose dependencies are deps[0..n) start now?
 * ORDER_GO when every one is up.  Else why (len bytes) names the one to
 * look at: ORDER_BLOCKED when one will not come up without a human
 * (stopped by the operator, STOPPED, EXITED or FATAL and not on its way),
 * ORDER_WAIT when each is on its way.
 */
enum order_verdict order_admit(const struct dep_view *, size_t n,
    char *why, size_t len);

/* A rolling restart's view of one instance. */
struct roll_inst {
	bool up;   /* up (for the one being restarted: its new run is) */
	bool held; /* stopped by the operator, no process */
	bool same; /* runs (STARTING, RUNNING) the run it had at the start */
	bool skip; /* set by roll_step: left alone */
	bool done; /* restarted by this roll, its new run came up */
};
enum roll_act { ROLL_WAIT, ROLL_RESTART, ROLL_DONE, ROLL_FAIL };
struct roll_plan {
	struct roll_inst *inst; /* owned by the caller; n of them */
	size_t n;
	bool recycle;         /* only runs there at the start are taken */
	ssize_t cur;          /* restarted, its new run not yet up; -1 */
	bool cur_gone;        /* ...and it will not come up by itself */
	uint64_t timeout_ms;  /* for each step */
	uint64_t deadline_ms; /* of the step waited on; 0: none */
	ssize_t just_done;    /* set by roll_step: cur came up now; -1 */
	ssize_t blocker;      /* set by roll_step: waited on, or failed */
};
/*
 * Pure: the next step of a rolling restart at now_ms.  ROLL_RESTART
 * *pick (down ones first: restarting them takes nothing down; an up one
 * only when every other is up, so that never more than one is down);
 * ROLL_WAIT (cur's new run, or one done that went down again, within the
 * timeout); ROLL_DONE; ROLL_FAIL (blocker: cur's new run did not come up
 * in time or will not, or one done stayed down).  Left alone (skip):
 * one held, cur too (let go, neither done nor failed: the roll goes on);
 * with recycle, also one not running its run of the start, for good (a
 * recycle starts nothing, and a newer run is fresh).
 */
enum roll_act roll_step(struct roll_plan *, uint64_t now_ms, size_t *pick);
/* What a rolling restart allows beyond stop_timeout + healthy_after. */
#define ROLL_SLACK_MS 10000

/* Pure: corralctl scale from one count of instances to another. */
struct scale_change {
	unsigned first_new, nnew;   /* instances added */
	unsigned first_gone, ngone; /* removed: the highest numbers */
};
void scale_plan(unsigned from, unsigned to, struct scale_change *);
#define SCALE_MAX 100000

/* Up, as `after` and rolling restarts mean it: RUNNING (and READY=1 said,
 * for an agent with ready = notify). */
bool worker_up(const struct worker *);
/* Index every rt's deps and dependents (after breakers_link). */
void order_link(struct fleet *);
void order_unlink(struct agent_rt *);
/* w's verdict now (its agent's), and why it waits. */
enum order_verdict order_check(const struct worker *, char *why,
    size_t len);
/* w may be up now: dependents that wait and may go start. */
void order_released(struct worker *);
/* Every WAITING worker that may go starts (after a reload, scale, reexec). */
void order_release_all(struct fleet *);
/*
 * Shutting down: stop each worker none of whose dependents has a process
 * (first: the step of fleet_shutdown, which also halts every worker
 * without one; then again at each exit).
 */
void order_shutdown_step(struct fleet *, bool first);
/* Something changed: rolling restarts look again at the end of the turn. */
void order_changed(struct fleet *);
/*
 * How a roll goes; the steps (roll_step) are the same either way, and a
 * step that fails (late, or a new run that will not come up) stops the
 * roll with a warning in corrald's log.
 * - corralctl restart --rolling: recycle NULL, each instance restarted as
 *   an operator's restart (worker_restart); client: the corralctl that
 *   follows the agent hears each step, and the end or the failure.
 * - cron_restart: recycle the reason ("cron_restart 0 3 * * *"), each
 *   instance recycled (worker_recycle: stopped and started at once, no
 *   failure, breakers untouched), only those that run at the firing and
 *   have not restarted since; no client: its steps go to corrald's log.
 */
struct roll_how {
	const char *recycle;  /* NULL: restart; else recycle, for this; copied */
	const char *what;     /* its name in the log ("cron_restart"); NULL:
				 "rolling restart of AGENT" */
	bool client;          /* control_roll_news to who follows the agent */
	uint64_t timeout_ms;  /* for each step; 0: stop_timeout +
				 healthy_after + ROLL_SLACK_MS */
};
/*
 * Begin one: 0, or -1 with why (shutting down, no such agent or no
 * instance, or a roll of the agent under way: one per agent).
 */
int fleet_roll_start(struct fleet *, const char *agent,
    const struct roll_how *, char *why, size_t len);
/*
 * The agent of an operator's rolling restart under way (restart
 * --rolling), or NULL: a reexec waits for it, since the next image would
 * not go on with it and its corralctl would lose its news.
 */
const char *rolls_operator(const struct fleet *);
/* corrald re-executes: each roll under way (cron_restart's: an operator's
 * refuses the reexec) is said to end there. */
void rolls_reexec(struct fleet *);
void rolls_free(struct fleet *);
/* recycle.c: max_age and cron_restart. */

struct agent_rt;

/*
 * Pure: ms from now_ms until a run started at start_ms is due for
 * recycling: max_age less jitter * u of it (u in [0, 1), drawn per run);
 * 0: due now; UINT64_MAX: never (max_age 0).
 */
uint64_t recycle_due_in(uint64_t max_age_ms, double jitter, double u,
    uint64_t start_ms, uint64_t now_ms);
/* Arm or disarm w's max_age timer for its run (none: disarm). */
void recycle_arm(struct worker *);
void recycle_disarm(struct worker *);
/* Arm or disarm rt's cron_restart timer as its agent says (a is rt's). */
void recycle_cron_arm(struct agent_rt *, const struct agent_conf *);
void recycle_rt_free(struct agent_rt *);
/* After a reload: the cron and max_age timers as the agents now say. */
void recycle_reloaded(struct fleet *);

/* worker.c: the fleet of workers and their state machine. */

/* What a restart of corrald remembers of a worker (statedb.c). */
struct worker_row {
	char agent[NAME_MAX_LEN + 1];
	unsigned instance;
	int state;              /* enum wstate */
	unsigned failures, runs, start_failures, runtime_failures;
	int64_t chain;
	int last_class, last_code, last_signal;
	unsigned exits[CORRAL_EXIT_LAST + 1];
	struct worker_resume rs; /* poison, its count, steps, rolled, back */
};

struct worker {
	struct fleet *fleet;      /* borrowed: the fleet owns its workers */
	struct agent_rt *rt;      /* borrowed from the fleet; NULL if retiring */
	struct agent_conf *agent; /* borrowed from the fleet's config */
	unsigned instance;
	char name[NAME_MAX_LEN + 16]; /* "agent.N" */
	enum wstate state;

	pid_t pid;              /* 0 when no process */
	struct worker *pid_next; /* pid hash chain */
	int64_t start_wall_ms;
	uint64_t start_mono_ms;
	bool healthy;           /* this run lived healthy_after */
	bool ready;             /* this run said READY=1 */
	bool hang;              /* its watchdog expired; we are stopping it */
	uint64_t wd_ms;         /* this run's watchdog, from its start; 0: off */
	uint64_t heartbeat_mono_ms; /* last READY=1 or WATCHDOG=1; 0: none */
	uint64_t wd_deadline_mono_ms; /* when wdog fires; 0 when not armed */
	struct event *wdog;     /* the watchdog */
	char *status_text;      /* owned: the run's last STATUS=, or NULL */
	struct worker_report *report; /* owned: its last CORRAL_ERROR, or NULL */
	bool stop_requested;    /* we sent stop_signal */
	bool exec_failed;
	int exec_errno;
	const char *exec_stage;
	/* Owned: why corrald failed the run before exec (an env_file), or
	 * NULL; the exit's detail. */
	char *exec_why;

	unsigned failures;      /* consecutive, drives backoff */
	unsigned runs;          /* runs started; restarts = runs - 1 */
	unsigned start_failures, runtime_failures;
	int64_t chain;          /* current error chain, 0 if none */
	enum corral_exit_class last_class;
	unsigned exits[CORRAL_EXIT_LAST + 1]; /* by class, since start */
	int last_code, last_signal; /* of the last exit; -1 / 0 if none */

	struct event *timer;    /* healthy_after, backoff or stop timeout */
	uint64_t deadline_mono_ms; /* when timer fires; 0 when not armed */
	struct outstream *out[2];
	int logfd[2];           /* OUT_FILE: the open log files, else -1 */
	uint64_t logsize[2];
	char *logpath[2];

	TAILQ_ENTRY(worker) startq; /* waiting for a spawn slot */
	bool queued;
	bool held;              /* stopped by the operator: stays stopped */
	bool retiring;          /* removed by a reload: freed once exited */
	const char *retire_why; /* static: why, for its last state change */
	bool adopted;           /* taken over from before a reexec */
	bool trial;             /* a trial of its agent's half-open breaker */
	bool ctrial;            /* a trial of its cluster's half-open breaker */
	bool regroup;           /* stopped by its cluster's strategy: restarts
				   with the cluster's group */
	bool for_fallback;      /* started in place of a broken agent */
	bool fresh;             /* added by a reload, to start */
	LIST_ENTRY(worker) retire_entry;
	bool restart_pending;   /* an operator restart: start once stopped */
	struct worker_resume rs; /* which checkpoint it resumes from */
	/*
	 * Checkpoint storage (resume.c, storage_decide): what this run said
	 * (CORRAL_STORAGE=, its message owned), the condition shown in status
	 * while it lasts (owned; NULL: none), whether an operator started it
	 * since it was held, and a spawn put off while the database is
	 * locked.
	 */
	enum storage_kind run_storage;
	char *run_storage_msg;
	char *storage_why;
	enum storage_kind storage_kind; /* of storage_why */
	bool storage_ack;
	uint64_t storage_probe_ms; /* resume_probe's last read (monotonic) */
	struct event *resume_ev;
	unsigned resume_tries;
	char *cgdir;            /* owned: its cgroup's directory, or NULL */
	bool in_cgroup;         /* this run was put in cgdir */
	struct survivor *surv;  /* borrowed: an earlier run still stopping */
	bool remembered_backoff; /* was in BACKOFF when corrald last stopped */
	bool limited;           /* over the descriptor limit: may not start */
	unsigned spawn_errors;  /* spawns failed in a row (corrald's trouble) */
	uint64_t start_ticks;   /* its run's start time in /proc (pid reuse) */
	/*
	 * Its thread's lease (lease.c): the fencing token this node holds
	 * (0: none), and why it is not started here (owned; NULL: none).
	 * lease_lost: the lease went while it ran; once stopped it waits in
	 * ELSEWHERE rather than restart.
	 */
	int64_t lease_token;
	char *lease_why;
	bool lease_lost;
	/*
	 * Its run's CPU and memory (usage.c).  memory: it passed max_memory
	 * and is being stopped, its exit to be classed memory; memory_rss:
	 * what it had then, memory_max the limit it passed (bytes).
	 */
	struct run_usage use;
	bool memory;
	uint64_t memory_rss, memory_max;
	/*
	 * Hooks: its pre_start or post_stop running (the fleet's; NULL:
	 * none); pre_ok: pre_start succeeded, the next spawn runs the
	 * worker; after_post: a start waits for post_stop to end.
	 */
	struct hook *pre_hook, *post_hook;
	bool pre_ok, after_post;
	/*
	 * Recycling (recycle.c): the max_age timer (owned; NULL until
	 * needed), this run's draw for its jitter, a stop to start again at
	 * once and why.
	 */
	struct event *age_ev;
	double age_u;
	bool recycling;
	char recycle_why[96];
	/*
	 * Its kernel limits (cglimit.c): the directory of each controller
	 * its run joined (owned; NULL: none), and the OOM kills counted in
	 * its memory cgroup before the run started.
	 */
	char *cgl_dir[CGL_N];
	uint64_t oom_base;
};

struct fleet {
	struct event_base *base;
	struct config *conf;    /* owned */
	struct statedb *db;     /* borrowed */
	struct worker **workers; /* owned, nworkers, in start order */
	size_t nworkers;
	LIST_HEAD(, worker) retiring; /* owned: removed, still running */
	struct agent_rt **rts;  /* owned, one per agent of conf */
	size_t nrts;
	struct cluster_rt **crts; /* owned, one per cluster of conf */
	size_t ncrts;
	/* Index into rts and crts by name (the guards' names, borrowed). */
	struct nametab rtnames, crtnames;
	LIST_HEAD(, hook) hooks; /* owned: on_state_change commands running */
	struct config **old;    /* owned: configs retiring workers point into */
	size_t nold;
	struct worker **pidtab; /* hash of live pids, pidmask + 1 buckets */
	size_t pidmask;
	size_t live;            /* workers with a process */
	struct corral_rng rng;
	struct event *spawn_ev;
	TAILQ_HEAD(, worker) startq;
	bool shutting_down;
	int shutdown_kills;     /* how many times shutdown was asked */
	void (*on_idle)(struct fleet *); /* called when shut down and no process */
	struct control *ctl;    /* borrowed; told of every state change */
	struct nsock *nsock;    /* borrowed; NULL: no NOTIFY_SOCKET */
	bool started;           /* the initial start queue has drained */
	bool starting;          /* fleet_start is queueing the autostart ones */
	bool resumed;           /* taken over from before a reexec */
	bool unplanned;         /* the corrald before died without stopping */
	size_t stale_held;      /* held rows naming workers not in the file */
	void (*on_started)(struct fleet *);
	struct corral_store *ckpt; /* owned; NULL: not open (yet) */
	uint64_t ckpt_failed_mono_ms; /* last failure to open it; 0: none */
	int ckpt_err;           /* why it is not open: a CORRAL_E*, or 0 */
	/*
	 * Owned: the handle on a checkpoint database deleted or replaced
	 * while workers' checkpoints were only in it, kept open (so its data
	 * can still be copied from /proc) until no worker is held for them.
	 */
	struct corral_store *ckpt_old;
	char *cgroot;           /* owned: the fleet's cgroup dir; NULL: none */
	/*
	 * cglimit.c: the fleet's directory in each v1 hierarchy (owned; NULL:
	 * none, cgl_why says why, static).
	 */
	char *cgl_root[CGL_N];
	const char *cgl_why[CGL_N];
	LIST_HEAD(, survivor) survivors; /* owned: earlier runs stopping */
	size_t nsurv;
	int watch_fd;           /* owned: the watcher's pipe; -1: none */
	pid_t watch_pid;        /* the watcher; 0: none */
	unsigned watch_lost;    /* records the full pipe refused */
	struct fd_plan fds;     /* the last plan of descriptors (limits.c) */
	struct lease_db *lease; /* owned; NULL: leases off */
	struct event *lease_ev; /* the renewal */
	uint64_t lease_ok_mono_ms; /* the last renewal that worked */
	bool lease_failing;     /* said once per outage */
	uint64_t lease_down_mono_ms; /* the last statement that failed; 0:
					none since one worked */
	struct event *usage_ev; /* usage.c: the fleet's sampling timer */
	uint64_t usage_scans;   /* walks of /proc so far */
	uint64_t usage_all_ms;  /* the last walk that sampled every run */
	bool ordered;           /* some agent has an after (order_link) */
	struct roll *rolls;     /* owned: rolling restarts under way */
	struct event *roll_ev;  /* steps them, once a loop turn */
};

struct fleet *fleet_new(struct event_base *, struct config *,
    struct statedb *);
void fleet_free(struct fleet *);
void fleet_start(struct fleet *);
void fleet_reap(struct fleet *);
void fleet_reopen_logs(struct fleet *);
/*
 * Apply a new configuration (the fleet takes it): new workers start,
 * removed ones stop and are freed once exited, workers whose process
 * definition changed restart, the others keep running and take the new
 * policy.  Fills the four counts (of workers).
 */
void fleet_reload(struct fleet *, struct config *, size_t *added,
    size_t *removed, size_t *changed, size_t *kept);
/*
 * plan.c: what a reload would change, decided by one function that reads
 * and changes nothing; fleet_reload() carries it out, --dry-run shows it.
 */
struct reload_plan {
	/* Parallel to the new config's agents: */
	ssize_t *old;  /* its index in the running config's agents; -1: new */
	bool *same;    /* the same process: its running instances stay */
	size_t nagents;
	/* Workers, as fleet_reload counts them. */
	size_t added, removed, changed, kept;
};
void reload_plan_make(const struct fleet *, const struct config *next,
    struct reload_plan *);
void reload_plan_free(struct reload_plan *);
/* Does a changed process restart w?  (An operator's stop stays.) */
bool reload_restarts(const struct worker *);
/* The plan as lines for people: agents, keys, instances, clusters. */
void reload_plan_lines(const struct fleet *, const struct config *next,
    const struct reload_plan *, struct strv *out);
/*
 * Load the fleet's file and say what a reload would do, changing nothing:
 * 0 with lines in out (caller frees) and a summary, or -1 with the file's
 * errors in errs (caller frees).
 */
int fleet_reload_dry(struct fleet *, struct config_errors *, struct strv *out,
    char *summary, size_t len);
/*
 * Reload the fleet's file.  0 with a summary, or -1 with the file's errors
 * in errs (caller frees) and nothing changed.
 */
int fleet_reload_file(struct fleet *, struct config_errors *, char *summary,
    size_t len);
/*
 * corralctl scale: agent runs n instances (1..SCALE_MAX) from now on, as
 * if the file said so, until a reload reads the file again.  New ones
 * start; the highest numbered go, stopped as a reload removes them.
 * 0 with what happened in msg and in *touched (caller frees the array)
 * the workers added and those removed that still stop, or -1 with why.
 */
int fleet_scale(struct fleet *, const char *agent, unsigned n, char *msg,
    size_t len, struct worker ***touched, size_t *ntouched);
/* Stop every worker; on_idle runs once none is left.  Again: SIGKILL now. */
void fleet_shutdown(struct fleet *);
/* Shutting down and no process left (workers, survivors): on_idle. */
void fleet_idle_check(struct fleet *);
/* Kill and reap every remaining descendant (escaped grandchildren). */
void fleet_reap_orphans(struct fleet *);
struct worker *fleet_find_pid(struct fleet *, pid_t);
/*
 * What an operator does.  Neither counts as a failure; a stop is recorded
 * as desired state and survives corrald's restart.
 */
void worker_start(struct worker *);
void worker_stop(struct worker *);
void worker_restart(struct worker *);
/* Has the worker finished moving since the operator acted? */
bool worker_settled(const struct worker *);
/*
 * For breakers.c and cluster.c: the state machine's own steps.  Every
 * state change goes through worker_set_state(); worker_halt() stops a
 * worker without recording it as the operator's wish.
 */
void worker_set_state(struct worker *, enum wstate, const char *why);
void worker_enqueue(struct worker *);
void worker_halt(struct worker *);
void worker_timer_arm(struct worker *, uint64_t ms);
/*
 * Stop w's run (stop_signal, stop_timeout, KILL) to start it again at
 * once: no failure, no backoff, its breakers untouched.  why is logged.
 */
void worker_recycle(struct worker *, const char *why);
/* Held back by a breaker: HELD or DEGRADED. */
bool worker_waiting(const struct worker *);
/*
 * w's run passed its agent's max_memory (w->use): stop it as a watchdog
 * stops a hung one; its exit is classed memory and it restarts.
 */
void worker_over_memory(struct worker *);
struct notify_msg;
/* A datagram from the worker (sender: the pid that sent it); takes
 * m->report. */
void worker_notified(struct worker *, pid_t sender, struct notify_msg *);

/* breakers.c: the breakers of agents and clusters, and fallback agents. */

/* A breaker as corrald keeps it: named, timed, persisted, logged. */
struct guard {
	char name[NAME_MAX_LEN + 1];
	bool is_cluster;
	struct fleet *fleet;      /* borrowed */
	struct corral_breaker br; /* times on the monotonic clock */
	struct event *timer;      /* fires when OPEN may become HALF_OPEN */
};

/* What the fleet keeps per agent across runs. */
struct agent_rt {
	struct guard g;
	struct cluster_rt *cluster; /* borrowed; NULL: in none */
	struct agent_rt *fallback;  /* borrowed; NULL: none */
	unsigned demand;  /* agents now falling back to this one */
	bool demanding;   /* this one counts in fallback->demand */
	/*
	 * Its workers, by instance: workers[k] is instance k.  The array is
	 * owned, the workers borrowed from the fleet; made again by
	 * breakers_link() whenever the fleet's list changes (load, reload).
	 * A retiring worker is in none.
	 */
	struct worker **workers;
	size_t nworkers;
	/*
	 * Order (order.c): the agents its `after` names, and those whose
	 * `after` names it.  Owned arrays of borrowed rts, made again by
	 * order_link() with workers.
	 */
	struct agent_rt **deps, **dependents;
	size_t ndeps, ndependents;
	/*
	 * cron_restart (recycle.c): its timer (owned; NULL: none) and the
	 * instant it is due (wall clock, s).  Its roll is order.c's.
	 */
	struct event *cron_ev;
	time_t cron_due;
};

enum health { H_HEALTHY, H_DEGRADED, H_CRITICAL };

/* What the fleet keeps per cluster. */
struct cluster_rt {
	struct guard g;
	struct cluster_conf *conf;  /* borrowed from the fleet's config */
	enum health health;
	bool health_known;          /* evaluated at least once */
	unsigned up, down;          /* workers, at the last evaluation */
	struct event *health_ev;    /* evaluates once per loop turn */
	struct event *group_timer;  /* a strategy's restart of the stopped */
	uint64_t group_due_ms;      /* when it fires (monotonic) */
	struct hookq *hooks;        /* owned: on_state_change waiting to run */
	/*
	 * Its member workers, in the fleet's (start) order: what its
	 * strategy, breaker and health look at.  Owned array of borrowed
	 * workers, made again with the agents' (breakers_link).
	 */
	struct worker **members;
	size_t nmembers;
};

struct agent_rt *agent_rt_new(struct fleet *, const struct agent_conf *);
void agent_rt_free(struct agent_rt *);
struct cluster_rt *cluster_rt_new(struct fleet *, struct cluster_conf *);
void cluster_rt_free(struct cluster_rt *);
/*
 * After a load or reload (rts parallel to conf->agents, crts to
 * conf->clusters, every worker of the fleet's list with its rt): index
 * them by name, give every agent_rt its cluster, fallback and workers,
 * and every cluster_rt its members.
 */
void breakers_link(struct fleet *);
/* New policies after a reload; a window that changed forgets its times. */
void guard_set_policy(struct guard *, const struct corral_breaker_policy *);
/* Forget saved breakers of names no longer in the file. */
void breakers_prune(struct fleet *);
/* Read saved breakers, count adopted trials, hold or release (at start). */
void breakers_restore(struct fleet *);
/* Queue every breaker's row again (the state database was made afresh). */
void breakers_resave(struct fleet *);
bool breakers_on(const struct worker *);
/* May w (re)start now?  Takes a trial slot when half-open.  0 if yes, else
 * 1 (its agent's breaker refuses) or 2 (its cluster's). */
int breakers_admit(struct worker *);
/* Hold w for the breaker that refused it (admit's answer). */
void breakers_hold(struct worker *, int refused);
/* Start w if the breakers admit it, else hold it. */
void breakers_start(struct worker *);
void breakers_healthy(struct worker *);
/* A run ended.  True if a breaker holds w now (its state is set). */
bool breakers_exited(struct worker *, enum corral_exit_class,
    const struct restart_plan *);
/* An operator starts a held worker: its run is the breakers' trial. */
void breakers_probe(struct worker *);
/* w leaves its breakers (a reload removes it): its slots go back. */
void breakers_forget(struct worker *);
/* After a reload: arm or disarm every breaker's timer, start what waits. */
void breakers_rearm(struct fleet *);
/* A trial ended without a verdict (an operator's stop, a halt). */
void breakers_trial_void(struct worker *);
/* Start what waits for breakers that are off or closed (after a reload). */
void breakers_release_all(struct fleet *);
/* Start or stop fallback agents as their primaries' breakers say. */
void fallback_update(struct agent_rt *);
/* Count every demand again (after a reload changed who falls back). */
void fallback_recount(struct fleet *);
/*
 * A human's reset of an agent's breaker, or of a cluster's and its
 * members': CLOSED, and HELD and FATAL instances start again.  who and why
 * go into the events.  0, or -1 if there is no such agent or cluster.
 */
int fleet_reset_breaker(struct fleet *, const char *name, const char *who,
    const char *why, char *was, size_t len);
/* By name, hashed; NULL when there is none. */
struct agent_rt *fleet_find_rt(struct fleet *, const char *agent);
struct cluster_rt *fleet_find_crt(struct fleet *, const char *cluster);

/* cluster.c: a cluster's restart strategy and health. */

/* Health from counts.  Pure. */
enum health health_of(unsigned up, unsigned down, unsigned min_healthy,
    bool breaker_closed);
const char *health_name(enum health);
/*
 * w failed and will restart after delay_ms: under one_for_all or
 * rest_for_one, stop the workers that go with it.  True if w then waits
 * for its cluster's group restart (no timer of its own).
 */
bool cluster_regroup(struct worker *, uint64_t delay_ms);
/*
 * Workers waiting for a group restart their cluster no longer has (a
 * reload removed the cluster): they start now.
 */
void cluster_regroup_orphans(struct fleet *);
/* In the image after a reexec: the group restarts that were pending. */
void cluster_regroup_restore(struct fleet *);
/* w, stopped by its cluster's strategy, has exited: wait or start. */
void cluster_regrouped_exit(struct worker *);
/* A member's state changed: evaluate health at the end of the loop turn. */
void cluster_touch(struct cluster_rt *);

/*
 * hook.c: commands beside the workers: a cluster's on_state_change (one at
 * a time per cluster), an agent's pre_start and post_stop.
 */

struct hook;
struct hookq;
/* How a hook ended. */
struct hook_end {
	int status;             /* waitpid's */
	int exec_err;           /* 0, or why it could not run (at exec_stage) */
	const char *exec_stage; /* static */
	bool timed_out;         /* killed after its timeout */
};
struct hook_req {
	const char *who, *cmd;  /* "agent w.0", "pre_start": the log's words */
	const char *what;       /* NULL, or what the log adds in parentheses */
	char *const *argv, *const *envp;
	const char *directory;  /* NULL: corrald's */
	const char *user;       /* NULL: corrald's; else uid and gid */
	uid_t uid;
	gid_t gid;
	uint64_t timeout_ms;    /* then it is killed (its process group) */
	/* Called once it is reaped and its output read; NULL: nobody. */
	void (*done)(void *arg, const struct hook_end *);
	void *arg;
	/* A worker's hook: corrald's exit waits for it (fleet_idle_check). */
	bool awaited;
};
/*
 * Run a command (strings copied), its output into corrald's log line by
 * line.  The hook is the fleet's; NULL, logged, when it cannot be spawned
 * (done is then not called).
 */
struct hook *hook_start(struct fleet *, const struct hook_req *);
/* Its owner goes: done is not called; sig (0: none) to its group. */
void hook_cancel(struct hook *, int sig);
pid_t hook_pid(const struct hook *); /* 0 for NULL or once reaped */
/*
 * A reexec: a worker's hook goes to the next image as it runs, its pid,
 * its output pipes (kept open across exec) and its deadline on the
 * monotonic clock.  pid 0: none.
 */
struct hook_snap {
	long pid;
	int fd[2];              /* -1: closed */
	unsigned long long deadline_mono_ms;
	int timed_out;          /* killed at its timeout already */
};
/* Fill hs, keeping h's pipes open across exec: 0, or -1 when h is not
 * to be handed over (it could not run; it is ending). */
int hook_handover(struct hook *, struct hook_snap *);
/* The exec failed: h's pipes close on exec again. */
void hook_handover_undo(const struct hook_snap *);
/* The next image's side: the hook hs names, watched as hook_start would
 * (rq's argv, envp and the rest unused). */
struct hook *hook_adopt(struct fleet *, const struct hook_req *,
    const struct hook_snap *);
/* Is an awaited hook (a worker's) still running?  Kill those (KILL). */
bool hooks_awaited(const struct fleet *);
void hooks_kill_awaited(struct fleet *);
struct hookq *hookq_new(void);
void hookq_free(struct hookq *);
/* Run c's on_state_change with NAME OLD NEW; kind: "health" or "breaker". */
void hook_run(struct cluster_rt *, const char *kind, const char *name,
    const char *old_state, const char *new_state);
/* A reaped pid: true if it was a hook's (then it is dealt with). */
bool hook_reaped(struct fleet *, pid_t, int status);
/* The cluster goes (reload): its queue is dropped, running hooks stay. */
void hook_forget(struct fleet *, struct cluster_rt *);
void hooks_free(struct fleet *);

/* request.c: a control request, parsed and checked.  Pure. */

#define CTL_PROTO "corral/1"
#define CTL_LINE_MAX 4096 /* bytes of a request line, without its '\n' */

enum ctl_cmd { CMD_STATUS, CMD_START, CMD_STOP, CMD_RESTART, CMD_RESET,
	CMD_HISTORY, CMD_CHECKPOINTS, CMD_EVENTS, CMD_TAIL, CMD_RELOAD,
	CMD_REEXEC, CMD_SHUTDOWN, CMD_VERSION, CMD_SIGNAL, CMD_SCALE, CMD_LOG };

/* A target as written: all, AGENT, AGENT:N or CLUSTER. */
struct ctl_target {
	const char *word; /* borrowed from the request's words */
	size_t namelen;   /* of the name: the word before any ':' */
	long instance;    /* -1: none given */
};

struct ctl_request {
	enum ctl_cmd cmd;
	struct strv words;  /* owned: the line split as a shell would */
	bool json;          /* status --json */
	bool nowait;        /* start, stop, restart --no-wait */
	bool follow, err;   /* views: -f, --stderr */
	bool dry_run;       /* reload --dry-run */
	bool all_streams;   /* tail --all-streams: stdout and stderr */
	unsigned limit;     /* views: -n, 20 when not given */
	unsigned states;    /* status --state: CTL_STATE_* bits; 0: any */
	const char *reason; /* reset --reason; borrowed from words */
	int sig;            /* signal: the signal's number */
	bool rolling;       /* restart --rolling */
	uint64_t timeout_ms; /* restart --rolling --timeout; 0: default */
	unsigned count;     /* scale: instances, 1..SCALE_MAX */
	/*
	 * Owned.  status: none is all; start, stop, restart, signal: one or
	 * more (restart --rolling, scale: one AGENT); reset: one (a name);
	 * events: none or one, history, checkpoints: one, tail: none (all) or
	 * more, and a view's is AGENT or AGENT:N of at most NAME_MAX_LEN and
	 * 100000 (tail's may name a cluster or all); log: none.
	 */
	struct ctl_target *targets;
	size_t ntargets;
};

/*
 * Parse one request line of len bytes (no newline, any bytes).  0 with r
 * filled (free it with ctl_request_free), or -1 with the answer's reason
 * in why (whylen bytes) and nothing to free.
 */
int ctl_parse(const char *line, size_t len, struct ctl_request *r,
    char *why, size_t whylen);
/* NULL fields are fine: a request parse failed on is already freed. */
void ctl_request_free(struct ctl_request *);

/*
 * status --state: a bit per enum wstate (CTL_STATE(W_RUNNING)), and two
 * of the filter's own: held (state HELD, or stopped by the operator) and
 * failed (FATAL, BACKOFF, or EXITED, HELD or DEGRADED after a failure).
 */
#define CTL_STATE(s) (1u << (s))
#define CTL_STATE_HELD (1u << (W_LAST + 1))
#define CTL_STATE_FAILED (1u << (W_LAST + 2))
/* Does a worker so described pass the filter states (0: every one does)? */
bool ctl_state_match(unsigned states, enum wstate, bool held,
    enum corral_exit_class last);
/*
 * corralctl's exit status for status, from corrald's final line ("N
 * workers, R running"): 0, or 3 when targets were named (asked) and one
 * of them is not RUNNING, or when --state was given (filtered) and no
 * worker matched.  A line of another shape (an older corrald) is 0.
 */
int ctl_status_exit(bool asked, bool filtered, const char *final);

/* control.c: the control socket. */

struct control;

/* Listen on path (mode 0600).  NULL, with the reason logged, on failure. */
struct control *control_open(struct fleet *, const char *path);
/* The same, on a socket already bound and listening (after reexec). */
struct control *control_adopt(struct fleet *, const char *path, int fd);
int control_listen_fd(const struct control *);
/*
 * What `reexec` calls: fn(arg, the requester's socket, why, len) returns
 * only when it could not re-execute, with the reason in why.
 */
void control_set_reexec(struct control *, int (*fn)(void *, int, char *,
    size_t), void *arg);
/* Answer who waits, push replies out, remove the socket.  NULL: no-op. */
void control_close(struct control *);
void control_worker_changed(struct control *, struct worker *);
/* The workers as one JSON object (corralctl status --json, /status). */
struct evbuffer;
void control_status_json(struct evbuffer *, struct fleet *, struct worker **,
    size_t);
/* A worker wrote this: pass it to who follows it. */
void control_output(struct control *, struct worker *, int which,
    const char *, size_t);
/* The worker is about to be freed: forget it. */
void control_worker_gone(struct control *, struct worker *);
/* A rolling restart of agent says msg: 0 progress, 1 done, -1 failed. */
void control_roll_news(struct control *, const char *agent, int final,
    const char *msg);

/* http.c: /metrics (Prometheus text) and /status (JSON) over HTTP. */

struct http;
/* Listen on conf's http_listen.  NULL, with the reason logged, on failure. */
struct http *http_open(struct fleet *, struct statedb *);
void http_close(struct http *);
/*
 * Pure: the query string of /events (NULL: none), "after=ID&limit=N" in
 * any order, each at most once: ID 0 or more (default 0), N 1 to
 * HTTP_EVENTS_MAX (default HTTP_EVENTS_DEFAULT).  0; -1 with why.
 */
#define HTTP_EVENTS_DEFAULT 100
#define HTTP_EVENTS_MAX 1000
int http_events_query(const char *query, int64_t *after, unsigned *limit,
    char *why, size_t len);
/*
 * Pure: whether a request's Host header (NULL: none sent) names this
 * machine by an address or as localhost, with a port or not.  Without
 * http_token nothing else is served: a web page that has its own name
 * resolve to 127.0.0.1 (DNS rebinding) would otherwise read /status and
 * /events from the victim's browser as its own origin.
 */
bool http_host_ok(const char *host);
/* The dashboard's files (dashboard/ in the source), built into corrald by
 * the Makefile: served at path, GET only, without the token. */
struct dash_file {
	const char *path;
	const unsigned char *data;
	size_t len;
};
extern const struct dash_file dash_files[];
extern const size_t dash_nfiles;

/* notify.c: telling a service manager (systemd) how corrald is doing. */

/* Take NOTIFY_SOCKET from the environment (workers must not see it). */
void notify_init(void);
/* Send one sd_notify message ("READY=1"); a no-op without a manager. */
void notify_send(const char *);

/* notify_socket.c: the NOTIFY_SOCKET corrald serves its workers. */

enum report_severity { REP_INFO, REP_WARNING, REP_ERROR, REP_CRITICAL };

/* A worker's CORRAL_ERROR report. */
struct worker_report {
	enum report_severity severity;
	bool recoverable;
	char *code;    /* owned; a string, or an integer as text */
	char *message; /* owned; cut at 1024 bytes */
};

/* One datagram, parsed.  Strings point into the datagram's buffer. */
struct notify_msg {
	bool ready, watchdog, stopping;
	const char *status;            /* NULL: none */
	struct worker_report *report;  /* owned; NULL: none */
	enum storage_kind storage;     /* CORRAL_STORAGE=; SK_NONE: none */
	const char *storage_msg;       /* its message ("" if none) */
};

enum nsock_outcome { NS_ACCEPTED, NS_UNKNOWN_SENDER, NS_NO_CREDENTIALS,
	NS_MALFORMED, NS_OVERSIZED, NS_NOUTCOME };

struct nsock;
/* Bind path (a datagram socket, SO_PASSCRED).  NULL, logged, on failure. */
struct nsock *nsock_open(struct fleet *, const char *path);
/* The same, on a socket already bound (after reexec). */
struct nsock *nsock_adopt(struct fleet *, const char *path, int fd);
/* Mode 0600, or 0622 when some agent runs as another user (after reload). */
void nsock_fit_mode(struct nsock *, const struct config *);
/*
 * Read what is queued now: SIGCHLD is dispatched first, and a worker's
 * last words (READY=1, a report) must count before its exit is judged.
 */
void nsock_drain(struct nsock *);
int nsock_fd(const struct nsock *);      /* -1 for NULL */
const char *nsock_path(const struct nsock *); /* NULL for NULL */
uint64_t nsock_count(const struct nsock *, enum nsock_outcome);
const char *nsock_outcome_name(enum nsock_outcome);
/* Stop reading, close and remove the socket.  NULL is a no-op. */
void nsock_close(struct nsock *);
#define NOTIFY_MAX 4096 /* systemd's limit for one message (PIPE_BUF) */
/*
 * Parse a datagram of len bytes in buf (changed: lines are cut, and
 * buf[len] is written: buf has len + 1 bytes).  0 with m filled
 * (m->report owned by the caller), or -1 with a static reason.
 */
int notify_parse(char *buf, size_t len, struct notify_msg *,
    const char **why);
/* Read a CORRAL_ERROR object.  0 with *out (caller frees), or -1. */
int report_parse(const char *json, size_t len, struct worker_report **out,
    const char **why);
void report_free(struct worker_report *);
void report_parser_close(void);
const char *report_severity_name(enum report_severity);

/* reexec.c: a planned restart in place (corralctl reexec). */

/* What a worker is, in a form that survives exec. */
struct worker_snap {
	char agent[NAME_MAX_LEN + 1];
	unsigned instance;
	int state;
	long pid;
	long long start_wall_ms, start_mono_ms, deadline_mono_ms, chain;
	int healthy, stop_requested, held, restart_pending;
	int queued, trial, ctrial, regroup, for_fallback;
	unsigned failures, runs, start_failures, runtime_failures;
	int last_class, last_code, last_signal;
	unsigned exits[CORRAL_EXIT_LAST + 1];
	int outfd[2];         /* -1: none */
	/*
	 * Written -1 and 0: an image from before clone spawning may hand over
	 * a run between fork and exec, its exec-status pipe and whether its
	 * healthy_after passed meanwhile.
	 */
	int execfd, healthy_due;
	/* The worker protocol; from an older image: all 0, none. */
	int ready, hang;
	unsigned long long wd_ms, wd_deadline_mono_ms, heartbeat_mono_ms;
	char *status_text;            /* owned by the snap once read */
	struct worker_report *report; /* owned by the snap once read */
	struct worker_resume rs;      /* from an older image: all 0 */
	/*
	 * Its agent's stop_signal, stop_timeout and output modes, for an
	 * image that does not know the agent; from an older image:
	 * stop_known false, and the defaults serve.
	 */
	bool stop_known;
	int stop_signal;
	unsigned long long stop_timeout_ms;
	int out[2];
	/*
	 * Checkpoint storage (from an older image: none): exits classed
	 * storage (exits[] of the older classes is written apart, so that an
	 * older image's line still reads), what the run said, the condition
	 * shown in status, the operator's go-ahead.  Strings owned by the
	 * snap once read.
	 */
	unsigned storage_exits;
	int run_storage, storage_kind, storage_ack;
	char *run_storage_msg, *storage_why;
	/* max_memory (from an older image: none): a class added later. */
	unsigned memory_exits;
	int memory;
	unsigned long long memory_rss, memory_max;
	/*
	 * Its pre_start and post_stop running (pid 0: none; from an older
	 * image: none, and queued says to start it again), and a start
	 * waiting for that post_stop to end.
	 */
	struct hook_snap pre, post;
	int after_post;
	/*
	 * The OOM kills its memory cgroup had counted when the run started
	 * (from an older image: not known, oom_known 0): a kill during the
	 * exec is still the run's.
	 */
	int oom_known;
	unsigned long long oom_base;
};

/* Fill s from w, and keep w's descriptors open across exec. */
void worker_snapshot(struct worker *, struct worker_snap *);
/* Make w what s describes: its process, pipes and timer (new image). */
void worker_adopt(struct worker *, const struct worker_snap *);
/* A worker of the fleet's list (not a retiring one), by its agent's name
 * (hashed) and instance; NULL when there is none. */
struct worker *fleet_find_worker(struct fleet *, const char *agent,
    unsigned instance);
/*
 * The new image's state names a live worker its configuration does not:
 * adopt it under a stand-in agent and stop it as a reload stops a worker
 * it removed.  Takes s's strings.
 */
void fleet_retire_stray(struct fleet *, struct worker_snap *);
/* s's hooks are not taken over: their pipes closed, their pids let go. */
void reexec_snap_drop_hooks(struct worker_snap *);

/* Descriptors a reexec hands over; -1 when none. */
struct reexec_fds {
	int lock, listen, reply;
	int notify; /* the workers' NOTIFY_SOCKET; -1 from an older image */
	int watch;  /* the watcher's pipe; -1: none (an older image) */
	long watch_pid;
};

/*
 * Re-execute corrald (exe) in place with the fleet's state and the text
 * of its running configuration.  Returns only on failure, with the reason
 * in why; nothing has changed then.
 */
int reexec(struct fleet *, const char *exe, const char *conf_path,
    int log_level_pinned, const struct reexec_fds *, char *why, size_t len);
/*
 * In the new image: read the state from fd (then closed), adopt every
 * worker it names.  Fills fds; returns the number of workers with a
 * process, or -1 with the reason logged.
 */
int reexec_restore(struct fleet *, int fd, struct reexec_fds *);
/* Read only the handed-over descriptors, before the fleet exists. */
int reexec_peek_fds(int fd, struct reexec_fds *);
/*
 * In the new image, before anything else: the configuration the old image
 * ran, handed over with the state at fd and parsed as if read from path,
 * with the [corrald] settings the old image ran with; when none was
 * handed over or it does not load, the file at path (said loudly).
 * Caller frees.  NULL, the errors logged, when nothing loads.
 */
struct config *reexec_load_conf(int fd, const char *path);

/* clock.c */

/* CLOCK_REALTIME: for records only (events, a row's time of writing). */
int64_t now_wall_ms(void);
/* CLOCK_MONOTONIC: for every duration; counts from this boot. */
uint64_t now_mono_ms(void);
/* /proc/sys/kernel/random/boot_id, read once; "" when unreadable. */
const char *boot_id(void);

/*
 * One reading of both clocks, and the boot the monotonic one counts from:
 * what a time kept across a restart of corrald is written and read with.
 */
struct clocks {
	const char *boot_id; /* borrowed (static); "": unknown */
	uint64_t mono_ms;
	int64_t wall_ms;
};
/* Read both clocks and the boot id now. */
void clocks_now(struct clocks *);
/* Arm a timer event to fire ms from now (from the loop's cached time). */
void timer_add_ms(struct event *, uint64_t ms);

#endif /* CORRALD_H */
