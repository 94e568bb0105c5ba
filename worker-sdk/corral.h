/*
 * corral.h: the public interface of libcorral, the corral worker SDK.
 *
 * Everything here is pure policy: no I/O, no clock, no global state.  The
 * caller passes the time and the random numbers, so the same code decides
 * corrald's restarts and a worker's in-process retries, and unit tests drive
 * it with a fake clock and a seeded generator.
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
};

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
};

enum corral_exit_class corral_classify(const struct corral_exit_policy *,
    const struct corral_exit_facts *);

/* "success", "transient", ... ; never NULL. */
const char *corral_exit_class_name(enum corral_exit_class);

/* Does this class count as a failure of the worker? */
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

#ifdef __cplusplus
}
#endif

#endif /* CORRAL_H */
