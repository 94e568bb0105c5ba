/*
 * restart.c: the restart policy.  Given how a run ended and the worker's
 * history, decide the next state and the backoff step.  Pure: the caller
 * owns the clock, the timers and the random draw.
 */
#include "corrald.h"

const char *
wstate_name(enum wstate s)
{
	switch (s) {
	case W_STOPPED:
		return "STOPPED";
	case W_STARTING:
		return "STARTING";
	case W_RUNNING:
		return "RUNNING";
	case W_BACKOFF:
		return "BACKOFF";
	case W_STOPPING:
		return "STOPPING";
	case W_EXITED:
		return "EXITED";
	case W_FATAL:
		return "FATAL";
	case W_HELD:
		return "HELD";
	case W_DEGRADED:
		return "DEGRADED";
	case W_LIMITED:
		return "LIMITED";
	case W_ELSEWHERE:
		return "ELSEWHERE";
	case W_WAITING:
		return "WAITING";
	}
	return "?";
}

static void decide_class(const struct restart_in *, struct restart_plan *);

/*
 * What the class says comes next, unless the operator has spoken since
 * corrald began to stop the run for its own reason (its watchdog,
 * max_memory, max_age): such an exit keeps its class, a failure counted
 * and recorded as one, but what follows is the operator's.  A restart
 * starts it again at once, as an operator's restart does (its failure
 * count reset, no backoff; worker_set_state starts a worker STOPPED with a
 * restart pending); a stop leaves it STOPPED.  An exit the operator's own
 * stop caused is classed stopped, and STOPPED already.
 */
void
restart_decide(const struct restart_in *in, struct restart_plan *out)
{
	decide_class(in, out);
	if (in->cls == CORRAL_EXIT_STOPPED ||
	    (!in->restart_asked && !in->held))
		return;
	out->next = W_STOPPED;
	out->throttle = false;
	out->backoff_k = 0;
	if (in->restart_asked) {
		out->failures = 0;
		out->chain_closed = true;
		out->why = out->failure ? "failed; the operator's restart "
		    "starts it again" : "exited; the operator's restart starts "
		    "it again";
	} else
		out->why = out->failure ? "failed; stopped by the operator" :
		    "exited; stopped by the operator";
}

static void
decide_class(const struct restart_in *in, struct restart_plan *out)
{
	out->failure = corral_exit_is_failure(in->cls);
	out->start_failure = out->failure && !in->was_healthy;
	out->chain_closed = false;
	out->throttle = false;
	out->backoff_k = 0;
	out->failures = in->failures;

	if (in->cls == CORRAL_EXIT_STOPPED) {
		/* An operator's stop is never a failure, nor a success. */
		out->next = W_STOPPED;
		out->why = "stopped";
		return;
	}
	if (!out->failure) {
		/* A clean exit: the chain, if any, ends well. */
		out->failures = 0;
		out->chain_closed = true;
		if (in->mode != RESTART_ALWAYS) {
			out->next = W_EXITED;
			out->why = "exited cleanly";
			return;
		}
		/*
		 * restart = always: a worker that exits cleanly at once would
		 * respawn in a tight loop; a short run waits one backoff step.
		 */
		out->next = W_BACKOFF;
		/* healthy_after = 0 must not make `true` respawn 100 times a
		 * second: a run shorter than one backoff step waits one too. */
		out->throttle = in->run_ms < in->healthy_after_ms ||
		    in->run_ms < in->backoff_initial_ms;
		out->why = "exited cleanly, restart = always";
		return;
	}

	if (in->cls == CORRAL_EXIT_STORAGE) {
		/*
		 * The disk's failure, not the worker's: it is in the chain
		 * and counted, but it spends no max_retries (a full disk all
		 * night must not make the fleet FATAL).  When it runs again
		 * is storage_decide's (resume.c): after storage_retry, not a
		 * backoff step, or once a human says so.
		 */
		out->failures = in->failures + 1;
		if (in->mode == RESTART_NEVER) {
			out->next = W_EXITED;
			out->why = "checkpoint storage error, restart = never";
			return;
		}
		out->next = W_BACKOFF;
		out->why = "checkpoint storage error";
		return;
	}

	/* A healthy run reset the count when it became healthy. */
	out->failures = in->failures + 1;
	if (in->cls == CORRAL_EXIT_FATAL) {
		out->next = W_FATAL;
		out->why = "fatal exit";
		return;
	}
	if (in->mode == RESTART_NEVER) {
		out->next = W_EXITED;
		out->why = "failed, restart = never";
		return;
	}
	if (in->max_retries > 0 && out->failures > in->max_retries) {
		out->next = W_FATAL;
		out->why = "max_retries reached";
		return;
	}
	out->next = W_BACKOFF;
	out->backoff_k = out->failures - 1;
	out->why = "failed";
}
