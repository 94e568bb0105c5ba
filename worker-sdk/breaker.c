/*
 * breaker.c: the circuit breaker's state machine, pure: every function
 * takes the time, none reads a clock or does I/O; only init allocates, and
 * only for a windowed breaker.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "corral.h"

const char *
corral_breaker_state_name(enum corral_breaker_state s)
{
	switch (s) {
	case CORRAL_BREAKER_CLOSED:
		return "CLOSED";
	case CORRAL_BREAKER_OPEN:
		return "OPEN";
	case CORRAL_BREAKER_HALF_OPEN:
		return "HALF_OPEN";
	}
	return "?";
}

int
corral_breaker_init(struct corral_breaker *b,
    const struct corral_breaker_policy *p)
{
	if (p->failure_threshold < 1 ||
	    p->failure_threshold > CORRAL_BREAKER_MAX_THRESHOLD ||
	    p->half_open_max_calls < 1 || !(p->multiplier >= 1.0) ||
	    !(p->jitter >= 0.0 && p->jitter < 1.0) ||
	    p->recovery_timeout_max_ms < p->recovery_timeout_ms)
		return -1;
	memset(b, 0, sizeof(*b));
	b->policy = *p;
	b->state = CORRAL_BREAKER_CLOSED;
	b->reason = "new";
	if (p->failure_window_ms > 0 &&
	    (b->ring = calloc(p->failure_threshold, sizeof(*b->ring))) == NULL)
		return -1;
	return 0;
}

void
corral_breaker_free(struct corral_breaker *b)
{
	if (b == NULL)
		return;
	free(b->ring);
	b->ring = NULL;
}

static void
forget_failures(struct corral_breaker *b)
{
	b->failures = 0;
	b->ring_next = 0;
	if (b->ring != NULL)
		memset(b->ring, 0, b->policy.failure_threshold *
		    sizeof(*b->ring));
}

static void
enter(struct corral_breaker *b, enum corral_breaker_state s,
    const char *reason)
{
	b->state = s;
	b->reason = reason;
}

/* Open for the k-th consecutive time (k = 0: the first). */
static void
trip(struct corral_breaker *b, uint64_t now, double u, const char *reason)
{
	struct corral_backoff bo;
	uint64_t d;

	bo.initial_ms = b->policy.recovery_timeout_ms;
	bo.max_ms = b->policy.recovery_timeout_max_ms;
	bo.multiplier = b->policy.multiplier;
	/* The first opening is exact: an operator reads it off the config. */
	bo.jitter = b->reopenings == 0 ? 0.0 : b->policy.jitter;
	b->opened_at_ms = now;
	d = corral_backoff_delay(&bo, b->reopenings, u);
	/*
	 * Saturate: a timeout near UINT64_MAX ("no cap") would wrap now + d
	 * into the past, and the breaker would half-open at once.
	 */
	b->open_until_ms = d > UINT64_MAX - now ? UINT64_MAX : now + d;
	b->trials = 0;
	enter(b, CORRAL_BREAKER_OPEN, reason);
}

bool
corral_breaker_allow(struct corral_breaker *b, uint64_t now, bool *changed)
{
	*changed = false;
	switch (b->state) {
	case CORRAL_BREAKER_CLOSED:
		return true;
	case CORRAL_BREAKER_OPEN:
		if (b->reset_required || now < b->open_until_ms)
			return false;
		enter(b, CORRAL_BREAKER_HALF_OPEN, "recovery timeout over");
		b->trials = 0;
		*changed = true;
		/* FALLTHROUGH */
	case CORRAL_BREAKER_HALF_OPEN:
		if (b->trials >= b->policy.half_open_max_calls)
			return false;
		b->trials++;
		return true;
	}
	return false;
}

bool
corral_breaker_tick(struct corral_breaker *b, uint64_t now)
{
	if (b->state != CORRAL_BREAKER_OPEN || b->reset_required ||
	    now < b->open_until_ms)
		return false;
	enter(b, CORRAL_BREAKER_HALF_OPEN, "recovery timeout over");
	b->trials = 0;
	return true;
}

void
corral_breaker_trial_void(struct corral_breaker *b)
{
	if (b->state == CORRAL_BREAKER_HALF_OPEN && b->trials > 0)
		b->trials--;
}

bool
corral_breaker_success(struct corral_breaker *b, uint64_t now)
{
	(void)now;
	switch (b->state) {
	case CORRAL_BREAKER_CLOSED:
		if (b->policy.failure_window_ms == 0)
			b->failures = 0; /* consecutive failures only */
		return false;
	case CORRAL_BREAKER_HALF_OPEN:
		forget_failures(b);
		b->reopenings = 0;
		enter(b, CORRAL_BREAKER_CLOSED, "trial succeeded");
		return true;
	case CORRAL_BREAKER_OPEN:
		/* A call admitted before it opened: it changes nothing. */
		return false;
	}
	return false;
}

/* Window mode: is this failure the threshold-th within the window? */
static bool
window_full(struct corral_breaker *b, uint64_t now)
{
	unsigned n = b->policy.failure_threshold;
	uint64_t oldest;

	b->ring[b->ring_next] = now;
	b->ring_next = (b->ring_next + 1) % n;
	if (b->failures < n)
		b->failures++;
	if (b->failures < n)
		return false;
	/* The slot to be written next holds the oldest of the last n. */
	oldest = b->ring[b->ring_next];
	return now - oldest < b->policy.failure_window_ms;
}

bool
corral_breaker_failure(struct corral_breaker *b, uint64_t now, double u)
{
	switch (b->state) {
	case CORRAL_BREAKER_CLOSED:
		if (b->policy.failure_window_ms > 0) {
			if (!window_full(b, now))
				return false;
		} else if (++b->failures < b->policy.failure_threshold)
			return false;
		b->reopenings = 0;
		trip(b, now, u, "failure threshold reached");
		return true;
	case CORRAL_BREAKER_HALF_OPEN:
		/* Saturate: wrapping to 0 would drop back to the first timeout. */
		if (b->reopenings < UINT_MAX)
			b->reopenings++;
		trip(b, now, u, "trial failed");
		return true;
	case CORRAL_BREAKER_OPEN:
		return false;
	}
	return false;
}

bool
corral_breaker_fatal(struct corral_breaker *b, uint64_t now)
{
	/*
	 * Already open for good: nothing changes, not even opened_at_ms (a
	 * field the caller persists only on a change).
	 */
	if (b->state == CORRAL_BREAKER_OPEN && b->reset_required)
		return false;
	b->reset_required = true;
	b->opened_at_ms = now;
	b->open_until_ms = UINT64_MAX;
	b->trials = 0;
	enter(b, CORRAL_BREAKER_OPEN, "fatal failure: reset required");
	return true;
}

bool
corral_breaker_reset(struct corral_breaker *b)
{
	bool changed = b->state != CORRAL_BREAKER_CLOSED || b->reset_required;

	b->reset_required = false;
	forget_failures(b);
	b->reopenings = 0;
	b->trials = 0;
	enter(b, CORRAL_BREAKER_CLOSED, "reset");
	return changed;
}

uint64_t
corral_breaker_remaining_ms(const struct corral_breaker *b, uint64_t now)
{
	if (b->state != CORRAL_BREAKER_OPEN || b->reset_required ||
	    now >= b->open_until_ms)
		return 0;
	return b->open_until_ms - now;
}
