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

#ifdef __cplusplus
}
#endif

#endif /* CORRAL_H */
