/*
 * resume.c: which checkpoint each run of a worker resumes from.  Before a
 * spawn corrald reads the worker's thread in the checkpoint database and
 * hands the run its choice in CORRAL_RESUME_ID: the latest checkpoint that
 * reads back intact, or one further back after a rollback.  At the exit it
 * reads the thread again, records what the run resumed from and wrote, and
 * counts failures right after a resume toward rolling back (spec,
 * "Checkpoints and the worker SDK").  The decision itself is
 * rollback_decide(), pure; the rest is the store's reads.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "corrald.h"

/* A database that cannot be opened is tried again after this long. */
#define CKPT_RETRY_MS 10000

enum rollback_action
rollback_decide(unsigned threshold, unsigned max, bool failed, bool neutral,
    bool wrote, bool resumed, bool same, unsigned *count, unsigned *steps)
{
	/* Progress: whatever came before was no poison. */
	if (wrote) {
		*count = 0;
		*steps = 0;
		return RB_NONE;
	}
	if (neutral)
		return RB_NONE;
	/* A good exit, off, or nothing resumed (nothing to go back from). */
	if (!failed || threshold == 0 || !resumed) {
		*count = 0;
		return RB_NONE;
	}
	if (!same)
		*count = 0;
	if (++*count < threshold)
		return RB_NONE;
	*count = 0;
	if (*steps >= max)
		return RB_LIMIT;
	++*steps;
	return RB_ROLLBACK;
}

char *
worker_thread(const struct worker *w)
{
	char inst[16];
	struct expand_vars vars = { w->agent->name, inst,
		w->fleet->conf->here };
	const char *why;
	char *x;

	snprintf(inst, sizeof(inst), "%u", w->instance);
	x = expand_vars(w->agent->thread_id, &vars, &why);
	/* Checked when the file was loaded. */
	return x != NULL ? x : xstrdup(w->agent->thread_id);
}

struct corral_store *
resume_store(struct fleet *f)
{
	const char *why;
	uint64_t now;
	mode_t old;
	int rc;

	if (f->ckpt != NULL)
		return f->ckpt;
	now = now_mono_ms();
	if (f->ckpt_failed_mono_ms != 0 &&
	    now - f->ckpt_failed_mono_ms < CKPT_RETRY_MS)
		return NULL;
	/* The agents' work: a new database gets no permission for others. */
	old = umask(0);
	umask(old | S_IRWXO);
	rc = corral_store_open_sqlite(f->conf->checkpoint_db,
	    CORRAL_DURABILITY_NORMAL, &f->ckpt, &why);
	umask(old);
	if (rc != 0) {
		f->ckpt = NULL;
		f->ckpt_failed_mono_ms = now;
		log_error("cannot open the checkpoint database %s: %s (%s); "
		    "workers resume from their latest valid checkpoint by "
		    "themselves, and no rollback is done", f->conf->checkpoint_db,
		    why, corral_strerror(rc));
		return NULL;
	}
	if (f->ckpt_failed_mono_ms != 0)
		log_info("checkpoint database %s: open", f->conf->checkpoint_db);
	f->ckpt_failed_mono_ms = 0;
	return f->ckpt;
}

void
resume_close(struct fleet *f)
{
	corral_store_close(f->ckpt);
	f->ckpt = NULL;
}

/* What a walk down a thread finds, newest first. */
struct pick {
	const struct worker *w;
	const char *thread;
	char latest[CKPT_ID_MAX]; /* the newest row, intact or not */
	char good[CKPT_ID_MAX];   /* the newest intact row */
	bool any, found;
	bool log;                 /* log the corrupt rows passed over */
};

static int
pick_cb(void *arg, const struct corral_tuple *t)
{
	struct pick *p = arg;

	if (!p->any) {
		snprintf(p->latest, sizeof(p->latest), "%s", t->checkpoint_id);
		p->any = true;
	}
	if (t->corrupt) {
		if (p->log)
			log_warnx("agent %s: checkpoint %s of thread %s is "
			    "corrupt (checksum mismatch); not resuming from it",
			    p->w->name, t->checkpoint_id, p->thread);
		return 0;
	}
	snprintf(p->good, sizeof(p->good), "%s", t->checkpoint_id);
	p->found = true;
	return 1;
}

/* Walk the thread newest first.  0, or -1 (logged). */
static int
walk(struct worker *w, struct corral_store *st, const char *thread,
    struct pick *p, bool stop_at_good)
{
	struct corral_list_opts lo;
	int rc;

	memset(&lo, 0, sizeof(lo));
	lo.thread_id = thread;
	lo.checkpoint_ns = "";
	lo.limit = stop_at_good ? 0 : 1;
	rc = corral_list(st, &lo, pick_cb, p);
	if (rc != 0) {
		log_warnx("agent %s: cannot read thread %s in the checkpoint "
		    "database %s: %s (%s)", w->name, thread,
		    w->fleet->conf->checkpoint_db, corral_strerror(rc),
		    corral_store_errmsg(st));
		return -1;
	}
	return 0;
}

/*
 * The first intact checkpoint from id back through its parents, into out
 * ("": none left).  0, or -1 when the store fails.
 */
static int
intact_from(struct worker *w, struct corral_store *st, const char *thread,
    const char *id, char *out)
{
	struct corral_ref ref = { thread, "", NULL };
	struct corral_tuple *t;
	char cur[CKPT_ID_MAX];
	int rc, hops;

	snprintf(cur, sizeof(cur), "%s", id);
	for (hops = 0; cur[0] != '\0' && hops < 100000; hops++) {
		ref.checkpoint_id = cur;
		t = NULL;
		rc = corral_get_tuple(st, &ref, &t);
		if (rc == 0) {
			corral_tuple_free(t);
			snprintf(out, CKPT_ID_MAX, "%s", cur);
			return 0;
		}
		if (rc == CORRAL_NOTFOUND) {
			corral_tuple_free(t);
			break;
		}
		if (rc != CORRAL_ECORRUPT) {
			corral_tuple_free(t);
			return -1;
		}
		log_warnx("agent %s: checkpoint %s of thread %s is corrupt "
		    "(checksum mismatch); trying its parent", w->name, cur,
		    thread);
		snprintf(cur, sizeof(cur), "%s",
		    t->parent_id != NULL ? t->parent_id : "");
		corral_tuple_free(t);
	}
	out[0] = '\0';
	return 0;
}

void
resume_choose(struct worker *w)
{
	struct corral_store *st = resume_store(w->fleet);
	struct worker_resume *rs = &w->rs;
	struct pick p;
	char *thread;

	rs->known = false;
	if (st == NULL)
		return;
	thread = worker_thread(w);
	memset(&p, 0, sizeof(p));
	p.w = w;
	p.thread = thread;
	p.log = !rs->rolled;
	if (walk(w, st, thread, &p, !rs->rolled) == -1)
		goto out;
	snprintf(rs->latest, sizeof(rs->latest), "%s", p.latest);
	if (rs->rolled) {
		if (rs->back[0] == '\0')
			rs->from[0] = '\0';
		else if (intact_from(w, st, thread, rs->back, rs->from) == -1) {
			log_warnx("agent %s: cannot read checkpoint %s: %s",
			    w->name, rs->back, corral_store_errmsg(st));
			goto out;
		}
	} else
		snprintf(rs->from, sizeof(rs->from), "%s", p.good);
	rs->known = true;
	log_debug("agent %s: resumes thread %s from %s", w->name, thread,
	    rs->from[0] != '\0' ? rs->from : "nothing (afresh)");
out:
	free(thread);
}

/* The parent of checkpoint id, into out ("": none).  0 or -1. */
static int
parent_of(struct corral_store *st, const char *thread, const char *id,
    char *out)
{
	struct corral_ref ref = { thread, "", id };
	struct corral_tuple *t = NULL;
	int rc;

	rc = corral_get_tuple(st, &ref, &t);
	/* A corrupt row still has its ids. */
	if ((rc == 0 || rc == CORRAL_ECORRUPT) && t != NULL) {
		snprintf(out, CKPT_ID_MAX, "%s",
		    t->parent_id != NULL ? t->parent_id : "");
		corral_tuple_free(t);
		return 0;
	}
	corral_tuple_free(t);
	return -1;
}

bool
resume_exited(struct worker *w, enum corral_exit_class cls,
    struct db_event *e, struct db_event *rb)
{
	struct worker_resume *rs = &w->rs;
	struct corral_store *st;
	struct pick p;
	char *thread, parent[CKPT_ID_MAX];
	enum rollback_action act;
	bool wrote, failed, neutral, same;

	if (!rs->known)
		return false;
	rs->known = false;
	e->resumed_from = xstrdup(rs->from);
	if ((st = resume_store(w->fleet)) == NULL)
		return false;
	thread = worker_thread(w);
	memset(&p, 0, sizeof(p));
	p.w = w;
	p.thread = thread;
	if (walk(w, st, thread, &p, false) == -1) {
		free(thread);
		return false;
	}
	/* Ids sort by creation: a newer latest is one this run wrote. */
	wrote = p.any && strcmp(p.latest, rs->latest) > 0;
	if (wrote)
		e->last_checkpoint = xstrdup(p.latest);
	failed = corral_exit_is_failure(cls) && cls != CORRAL_EXIT_TRANSIENT;
	neutral = cls == CORRAL_EXIT_TRANSIENT || cls == CORRAL_EXIT_STOPPED;
	same = strcmp(rs->poison, rs->from) == 0;
	act = rollback_decide(w->agent->poison_threshold,
	    w->agent->max_rollback, failed, neutral, wrote, rs->from[0] != '\0',
	    same, &rs->poison_count, &rs->steps);
	if (wrote) {
		/* Progress on whatever branch: resume from the latest again. */
		rs->rolled = false;
		rs->back[0] = '\0';
	}
	if (failed && !wrote && rs->from[0] != '\0')
		snprintf(rs->poison, sizeof(rs->poison), "%s", rs->from);
	else if (act == RB_NONE && !neutral)
		rs->poison[0] = '\0';
	switch (act) {
	case RB_NONE:
		break;
	case RB_LIMIT:
		log_warnx("agent %s: failed %u times in a row right after "
		    "resuming from checkpoint %s; max_rollback (%u) reached, "
		    "not rolling back further", w->name,
		    w->agent->poison_threshold, rs->from, w->agent->max_rollback);
		break;
	case RB_ROLLBACK:
		if (parent_of(st, thread, rs->from, parent) == -1) {
			log_warnx("agent %s: cannot read checkpoint %s to roll "
			    "back from it: %s", w->name, rs->from,
			    corral_store_errmsg(st));
			rs->steps--;
			break;
		}
		log_warnx("agent %s: failed %u times in a row right after "
		    "resuming from checkpoint %s; rolling back to %s "
		    "(rollback %u of at most %u)", w->name,
		    w->agent->poison_threshold, rs->from,
		    parent[0] != '\0' ? parent : "no checkpoint (afresh)",
		    rs->steps, w->agent->max_rollback);
		memset(rb, 0, sizeof(*rb));
		rb->kind = EV_ROLLBACK;
		rb->time_ms = now_wall_ms();
		snprintf(rb->agent, sizeof(rb->agent), "%s", w->agent->name);
		rb->instance = (int)w->instance;
		rb->code = rb->sig = rb->err = -1;
		rb->start_failure = -1;
		rb->chain = w->chain;
		rb->state = "rollback";
		xasprintf(&rb->detail, "from %s to %s after %u failures "
		    "(rollback %u of at most %u)", rs->from,
		    parent[0] != '\0' ? parent : "none", w->agent->poison_threshold,
		    rs->steps, w->agent->max_rollback);
		/* The ids: where the next run resumes, and what it leaves. */
		rb->resumed_from = xstrdup(parent);
		rb->last_checkpoint = xstrdup(rs->from);
		rs->rolled = true;
		snprintf(rs->back, sizeof(rs->back), "%s", parent);
		rs->poison[0] = '\0';
		free(thread);
		return true;
	}
	free(thread);
	return false;
}
