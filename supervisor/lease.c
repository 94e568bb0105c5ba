/*
 * lease.c: a thread runs on one node at a time.  When checkpoint_db is a
 * PostgreSQL database shared by several corralds, each takes the lease of
 * a worker's thread before it spawns the worker, hands the run the
 * lease's fencing token (the SDK fences its writes with it), renews all
 * its leases in one statement each period, and stops a worker whose lease
 * it lost or can no longer vouch for.  A worker whose thread another node
 * holds waits in ELSEWHERE and tries again when that lease would expire.
 * The decisions (lease_period_ms, lease_vouched, lease_retry_ms) are pure;
 * the statements are lease_pg.c's.  docs/SCALING.md.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "corrald.h"

/* Each connect and statement waits this long at most: the loop waits. */
#define LEASE_TIMEOUT_MS 2000

uint64_t
lease_period_ms(uint64_t ttl_ms)
{
	return ttl_ms / 3 > 0 ? ttl_ms / 3 : 1;
}

bool
lease_vouched(uint64_t ok_ms, uint64_t ttl_ms, uint64_t now_ms)
{
	return now_ms < ok_ms + ttl_ms - lease_period_ms(ttl_ms);
}

uint64_t
lease_retry_ms(uint64_t left_ms, uint64_t ttl_ms)
{
	uint64_t period = lease_period_ms(ttl_ms);

	/* Just after it would expire: the database's clock, not ours. */
	left_ms += period / 4 + 1;
	if (left_ms < period)
		return period;
	return left_ms > ttl_ms ? ttl_ms : left_ms;
}

/* Does the worker count as this node's for the renewal? */
static bool
holds(const struct worker *w)
{
	return w->lease_token != 0 || w->pid != 0;
}

/*
 * Stop a worker whose lease this node no longer has, or cannot vouch
 * for: it waits in ELSEWHERE once stopped (worker_exited).
 */
static void
lease_lose(struct worker *w, const char *why)
{
	free(w->lease_why);
	w->lease_why = xstrdup(why);
	w->lease_token = 0;
	if (w->pid == 0) {
		/* Not running: it only must not start before a new take. */
		return;
	}
	if (!w->lease_lost)
		log_warnx("agent %s (pid %ld): %s; stopping it", w->name,
		    (long)w->pid, why);
	w->lease_lost = true;
	worker_halt(w);
}

struct renewal {
	struct fleet *f;
	char **threads;   /* owned, one per worker in ws */
	struct worker **ws;
	bool *renewed;
	size_t n;
};

static void
renewed_cb(void *arg, const char *thread, int64_t token)
{
	struct renewal *r = arg;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!r->renewed[i] && strcmp(r->threads[i], thread) == 0) {
			r->renewed[i] = true;
			/* A run adopted after our restart learns it here. */
			if (r->ws[i]->lease_token == 0)
				r->ws[i]->lease_token = token;
		}
}

static void
lease_renew(struct fleet *f)
{
	struct renewal r;
	char why[640];
	uint64_t now = now_mono_ms();
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	r.f = f;
	r.ws = xcalloc(f->nworkers + 1, sizeof(*r.ws));
	r.threads = xcalloc(f->nworkers + 1, sizeof(*r.threads));
	r.renewed = xcalloc(f->nworkers + 1, sizeof(*r.renewed));
	for (i = 0; i < f->nworkers; i++)
		if (holds(f->workers[i])) {
			r.ws[r.n] = f->workers[i];
			r.threads[r.n++] = worker_thread(f->workers[i]);
		}
	/* Nothing held: nothing to say about the database either. */
	if (r.n == 0)
		goto out;
	rc = lease_db_renew(f->lease, (const char *const *)r.threads, r.n,
	    renewed_cb, &r);
	if (rc == 0) {
		f->lease_down_mono_ms = 0;
		if (f->lease_failing)
			log_info("leases: renewed again in %s",
			    f->conf->checkpoint_shown);
		f->lease_failing = false;
		f->lease_ok_mono_ms = now;
		for (i = 0; i < r.n; i++)
			if (!r.renewed[i]) {
				snprintf(why, sizeof(why), "lease of thread "
				    "%s lost: another node took it over",
				    r.threads[i]);
				lease_lose(r.ws[i], why);
			}
	} else {
		if (!f->lease_failing)
			log_error("leases: cannot renew in %s: %s",
			    f->conf->checkpoint_shown,
			    lease_db_error(f->lease));
		f->lease_failing = true;
		f->lease_down_mono_ms = now;
		if (!lease_vouched(f->lease_ok_mono_ms, f->conf->lease_ttl_ms,
		    now))
			for (i = 0; i < r.n; i++) {
				snprintf(why, sizeof(why), "lease of thread %s "
				    "not renewed since %.1fs: %s",
				    r.threads[i], (double)(now -
				    f->lease_ok_mono_ms) / 1000.0,
				    lease_db_error(f->lease));
				lease_lose(r.ws[i], why);
			}
	}
out:
	for (i = 0; i < r.n; i++)
		free(r.threads[i]);
	free(r.threads);
	free(r.ws);
	free(r.renewed);
}

static void
renew_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	lease_renew(arg);
}

void
lease_start(struct fleet *f)
{
	struct timeval tv;
	uint64_t period;

	if (!f->conf->leases || f->lease != NULL)
		return;
	f->lease = lease_db_new(f->conf->checkpoint_db, f->conf->node_name,
	    f->conf->lease_ttl_ms, LEASE_TIMEOUT_MS);
	f->lease_ok_mono_ms = now_mono_ms();
	period = lease_period_ms(f->conf->lease_ttl_ms);
	tv.tv_sec = period / 1000;
	tv.tv_usec = (period % 1000) * 1000;
	f->lease_ev = event_new(f->base, -1, EV_PERSIST, renew_cb, f);
	event_add(f->lease_ev, &tv);
	/* Runs adopted from before a restart learn their tokens at once. */
	lease_renew(f);
	log_info("leases: node %s, time to live %.1fs, renewed every %.1fs, "
	    "in %s", f->conf->node_name, (double)f->conf->lease_ttl_ms /
	    1000.0, (double)period / 1000.0, f->conf->checkpoint_shown);
}

enum lease_verdict
lease_take(struct worker *w, uint64_t *retry_ms)
{
	struct fleet *f = w->fleet;
	char holder[256], why[768], *thread;
	uint64_t left = 0;
	int64_t token = 0;
	int rc;

	if (!f->conf->leases)
		return LEASE_HERE;
	lease_start(f);
	thread = worker_thread(w);
	/*
	 * The database failed a moment ago: each statement could wait its
	 * whole timeout in the loop, once per waiting worker.  One try per
	 * period (the renewal's, or the first take after it) is enough.
	 */
	if (f->lease_down_mono_ms != 0 && now_mono_ms() -
	    f->lease_down_mono_ms < lease_period_ms(f->conf->lease_ttl_ms)) {
		snprintf(why, sizeof(why), "lease of thread %s unknown: %s",
		    thread, lease_db_error(f->lease));
		rc = -2;
	} else if (resume_store(f) == NULL) {
		/* The table comes with the store's schema: open it first. */
		snprintf(why, sizeof(why), "lease of thread %s unknown: the "
		    "checkpoint database %s is not open", thread,
		    f->conf->checkpoint_shown);
		rc = -2;
	} else
		rc = lease_db_take(f->lease, thread, &token, holder,
		    sizeof(holder), &left);
	if (rc == -1 && lease_db_no_table(f->lease)) {
		/*
		 * The tables went (a database restored, or made anew): the
		 * store makes them again when it opens, and the checkpoints
		 * of before are not there.  Said loudly, then the next try.
		 */
		log_error("leases: the table corral_leases is missing from %s: "
		    "the database was replaced or restored since corrald "
		    "opened it; checkpoints written before may be gone; "
		    "opening it again, which makes the tables",
		    f->conf->checkpoint_shown);
		resume_close(f);
		snprintf(why, sizeof(why), "lease of thread %s unknown: %s",
		    thread, lease_db_error(f->lease));
	} else if (rc == -1) {
		snprintf(why, sizeof(why), "lease of thread %s unknown: %s",
		    thread, lease_db_error(f->lease));
		f->lease_down_mono_ms = now_mono_ms();
	} else if (rc >= 0)
		f->lease_down_mono_ms = 0;
	if (rc == 1)
		snprintf(why, sizeof(why), "thread %s runs on node %s (its "
		    "lease expires in %.1fs)", thread, holder,
		    (double)left / 1000.0);
	free(thread);
	if (rc == 0) {
		log_debug("agent %s: took the lease of its thread, token %lld",
		    w->name, (long long)token);
		w->lease_token = token;
		w->lease_lost = false;
		free(w->lease_why);
		w->lease_why = NULL;
		return LEASE_HERE;
	}
	w->lease_token = 0;
	free(w->lease_why);
	w->lease_why = xstrdup(why);
	*retry_ms = rc == 1 ? lease_retry_ms(left, f->conf->lease_ttl_ms) :
	    lease_period_ms(f->conf->lease_ttl_ms);
	log_debug("agent %s: %s; trying again in %.3fs", w->name, why,
	    (double)*retry_ms / 1000.0);
	return LEASE_ELSEWHERE;
}

static void
release(struct fleet *f, struct worker **ws, size_t n)
{
	char **threads = xcalloc(n + 1, sizeof(*threads));
	int64_t *tokens = xcalloc(n + 1, sizeof(*tokens));
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (ws[i]->lease_token != 0 && ws[i]->pid == 0) {
			threads[k] = worker_thread(ws[i]);
			tokens[k++] = ws[i]->lease_token;
			ws[i]->lease_token = 0;
		}
	if (k > 0 && lease_db_release(f->lease, (const char *const *)threads,
	    tokens, k) == -1)
		log_warnx("leases: cannot release %zu lease%s in %s: %s; "
		    "other nodes take %s over once %s", k, k == 1 ? "" : "s",
		    f->conf->checkpoint_shown, lease_db_error(f->lease),
		    k == 1 ? "it" : "them", k == 1 ? "it expires" :
		    "they expire");
	for (i = 0; i < k; i++)
		free(threads[i]);
	free(threads);
	free(tokens);
}

void
lease_release(struct worker *w)
{
	if (w->fleet->lease != NULL)
		release(w->fleet, &w, 1);
}

void
lease_release_all(struct fleet *f)
{
	if (f->lease != NULL)
		release(f, f->workers, f->nworkers);
}

void
lease_stop(struct fleet *f)
{
	if (f->lease_ev != NULL)
		event_free(f->lease_ev);
	f->lease_ev = NULL;
	lease_db_free(f->lease);
	f->lease = NULL;
}
