/*
 * resume.c: which checkpoint each run of a worker resumes from, and what
 * corrald does when the checkpoint storage itself fails.  Before a spawn
 * corrald reads the worker's thread in the checkpoint database and hands
 * the run its choice in CORRAL_RESUME_ID: the latest checkpoint that
 * reads back intact, or one further back after a rollback.  At the exit it
 * reads the thread again, records what the run resumed from and wrote, and
 * counts failures right after a resume toward rolling back (spec,
 * "Checkpoints and the worker SDK").  The decisions are rollback_decide()
 * and storage_decide(), pure; the rest is the store's reads.
 *
 * The reads run inside the event loop: each waits at most CKPT_BUSY_MS for
 * a lock, and a spawn that finds the database locked is tried again on a
 * timer (resume_later), never waited for.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"

/* A database that cannot be opened is tried again after this long. */
#define CKPT_RETRY_MS 10000
/* A read waits this long for another process's lock, at most. */
#define CKPT_BUSY_MS 5
/* A PostgreSQL checkpoint database: each connect or statement, at most. */
#define CKPT_PG_TIMEOUT_MS 2000
/* A spawn put off by a locked database is tried again after this long... */
#define RESUME_RETRY_MS 100
/* ...this many times; then the run goes without corrald's choice. */
#define RESUME_TRIES 20

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

const char *
storage_kind_name(enum storage_kind k)
{
	switch (k) {
	case SK_NONE:
		return "none";
	case SK_IO:
		return "io";
	case SK_FULL:
		return "full";
	case SK_DAMAGED:
		return "damaged";
	case SK_MOVED:
		return "moved";
	case SK_LOST:
		return "lost";
	}
	return "?";
}

int
storage_kind_parse(const char *s, size_t len, enum storage_kind *k)
{
	static const enum storage_kind said[] = { SK_IO, SK_FULL, SK_DAMAGED,
		SK_MOVED };
	size_t i;

	for (i = 0; i < sizeof(said) / sizeof(said[0]); i++) {
		const char *n = storage_kind_name(said[i]);
		if (strlen(n) == len && memcmp(s, n, len) == 0) {
			*k = said[i];
			return 0;
		}
	}
	return -1;
}

/*
 * Damaged pages and lost checkpoints need a human: a restart would resume
 * from whatever the damage or the new file leaves (from nothing, at
 * worst) and nobody would know; and a run on damaged pages fails again at
 * once.  A full disk or an I/O error may pass by itself: a slow retry, so
 * that an unattended fleet comes back when space is freed.  Neither is
 * the checkpoint's fault, so neither counts toward rollback.
 */
enum storage_action
storage_decide(const struct storage_in *in)
{
	bool data = in->found == SK_DAMAGED || in->found == SK_LOST;

	if (in->at_spawn)
		return data && !in->ack ? SA_HOLD : SA_NONE;
	/* Not to run again without a human anyway (stopped, exited...). */
	if (!in->restarts)
		return SA_NONE;
	if (data || in->said == SK_DAMAGED)
		return SA_HOLD;
	/* A file replaced by one that has the thread's rows: try again. */
	if (in->cls == CORRAL_EXIT_STORAGE)
		return SA_RETRY;
	return SA_NONE;
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

static int walk_latest(struct corral_store *, const char *thread,
    char *latest);

/*
 * A checkpoint id of the worker's thread too long for corrald's buffers
 * (CKPT_ID_MAX): the reads below return this (after logging the id) rather
 * than keep a truncated id.  Not a CORRAL_* code.
 */
#define E_ID_LONG (-1000)

/* Does id fit a CKPT_ID_MAX buffer?  If not, says so, naming it. */
static bool
id_fits(const char *agent, const char *thread, const char *what,
    const char *id)
{
	size_t len = strlen(id);

	if (len < CKPT_ID_MAX)
		return true;
	log_warnx("agent %s: %s %s of thread %s is %zu bytes long; corrald "
	    "keeps checkpoint ids of at most %d bytes, so it makes no choice "
	    "of checkpoint for this worker (it resumes from its latest intact "
	    "checkpoint by itself) and does not roll it back", agent, what, id,
	    thread, len, CKPT_ID_MAX - 1);
	return false;
}

/*
 * The file corrald has open was deleted or replaced.  Everything the
 * workers wrote before is in the open file (a write after the change fails
 * in the SDK): read each worker's newest checkpoint there, open the file
 * at the path, and mark the workers whose newest is not in it.  Once per
 * change of the file; a read of every worker's thread, in the loop.
 */
static void
ckpt_moved(struct fleet *f)
{
	struct corral_store *old = f->ckpt;
	char (*latest)[CKPT_ID_MAX], msg[512];
	struct corral_ref ref = { NULL, "", NULL };
	struct corral_tuple *t;
	size_t i, nlost = 0;
	char *thread;
	int rc;

	snprintf(msg, sizeof(msg), "%s", corral_store_errmsg(old));
	latest = xcalloc(f->nworkers + 1, sizeof(*latest));
	for (i = 0; i < f->nworkers; i++) {
		thread = worker_thread(f->workers[i]);
		if (walk_latest(old, thread, latest[i]) == -1)
			latest[i][0] = '\0'; /* unreadable: nothing to say */
		free(thread);
	}
	f->ckpt = NULL;
	f->ckpt_failed_mono_ms = 0;
	if (resume_store(f) == NULL) {
		/* Not there, or not openable: every newest is lost for now. */
		log_error("%s; corrald cannot open the file there now", msg);
	}
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		if (latest[i][0] == '\0')
			continue;
		thread = worker_thread(w);
		rc = CORRAL_NOTFOUND;
		if (f->ckpt != NULL) {
			ref.thread_id = thread;
			ref.checkpoint_id = latest[i];
			t = NULL;
			rc = corral_get_tuple(f->ckpt, &ref, &t);
			corral_tuple_free(t);
		}
		if (rc == CORRAL_NOTFOUND) {
			snprintf(w->rs.lost, sizeof(w->rs.lost), "%s", latest[i]);
			free(w->storage_why);
			xasprintf(&w->storage_why, "checkpoint storage error: the "
			    "checkpoints of thread %s (the newest %s) were in "
			    "checkpoint database %s, which was deleted or "
			    "replaced, and are not in the file there now",
			    thread, latest[i], f->conf->checkpoint_shown);
			w->storage_kind = SK_LOST;
			nlost++;
			log_error("agent %s: %s; %s", w->name, w->storage_why,
			    w->pid != 0 ? "held once its run ends, until "
			    "corralctl start or reset" : "held before its next "
			    "start, until corralctl start or reset");
		}
		free(thread);
	}
	log_error("%s; corrald reads the file there now: %zu worker%s lost "
	    "%s checkpoints with the old file", msg, nlost, nlost == 1 ?
	    "" : "s", nlost == 1 ? "its" : "their");
	/*
	 * Lose nothing that can be kept: the old file (and its -wal) stay
	 * open in corrald, readable in /proc, while someone may want them.
	 */
	corral_store_close(f->ckpt_old);
	f->ckpt_old = NULL;
	if (nlost > 0) {
		f->ckpt_old = old;
		log_warnx("corrald keeps the old checkpoint database open until "
		    "those workers are started again: its data can be copied "
		    "from /proc/%ld/fd (the descriptors of the deleted file and "
		    "its -wal)", (long)getpid());
	} else
		corral_store_close(old);
	free(latest);
}

/* No worker is held for checkpoints of the old file any more: let it go. */
static void
ckpt_old_release(struct fleet *f)
{
	size_t i;

	if (f->ckpt_old == NULL)
		return;
	for (i = 0; i < f->nworkers; i++)
		if (f->workers[i]->rs.lost[0] != '\0')
			return;
	corral_store_close(f->ckpt_old);
	f->ckpt_old = NULL;
	log_info("closed the old checkpoint database: no worker is held for "
	    "its checkpoints any more");
}

struct corral_store *
resume_store(struct fleet *f)
{
	struct corral_sqlite_opts o;
	const char *why;
	uint64_t now;
	mode_t old;
	int rc;

	if (f->ckpt != NULL) {
		if (corral_store_check(f->ckpt) == CORRAL_EMOVED)
			ckpt_moved(f);
		return f->ckpt;
	}
	now = now_mono_ms();
	if (f->ckpt_failed_mono_ms != 0 &&
	    now - f->ckpt_failed_mono_ms < CKPT_RETRY_MS)
		return NULL;
	if (f->conf->leases) {
		/* Shared by nodes: each call bounded, the loop waits on it. */
		struct corral_pg_opts po;
		memset(&po, 0, sizeof(po));
		po.timeout_ms = CKPT_PG_TIMEOUT_MS;
		rc = corral_store_open_pg(f->conf->checkpoint_db, &po,
		    &f->ckpt, &why);
	} else {
		/* The agents' work: a new file gives others no permission. */
		memset(&o, 0, sizeof(o));
		o.durability = CORRAL_DURABILITY_NORMAL;
		o.busy_timeout_ms = CKPT_BUSY_MS;
		old = umask(0);
		umask(old | S_IRWXO);
		rc = corral_store_open_sqlite_opts(f->conf->checkpoint_db, &o,
		    &f->ckpt, &why);
		umask(old);
	}
	if (rc != 0) {
		f->ckpt = NULL;
		f->ckpt_err = rc;
		/* A lock passes: the next spawn tries again at once. */
		if (rc == CORRAL_EBUSY)
			return NULL;
		f->ckpt_failed_mono_ms = now;
		log_error("cannot open the checkpoint database %s: %s (%s); "
		    "%s", f->conf->checkpoint_shown, why, corral_strerror(rc),
		    rc == CORRAL_EDAMAGED ? "workers are held before their "
		    "next start (checkpoint storage error) until corralctl "
		    "start or reset" : "workers resume from their latest "
		    "valid checkpoint by themselves, and no rollback is done");
		return NULL;
	}
	if (f->ckpt_failed_mono_ms != 0)
		log_info("checkpoint database %s: open",
		    f->conf->checkpoint_shown);
	f->ckpt_failed_mono_ms = 0;
	f->ckpt_err = 0;
	return f->ckpt;
}

void
resume_close(struct fleet *f)
{
	corral_store_close(f->ckpt);
	f->ckpt = NULL;
	corral_store_close(f->ckpt_old);
	f->ckpt_old = NULL;
}

/* What a walk down a thread finds, newest first. */
struct pick {
	const struct worker *w;
	const char *thread;
	char latest[CKPT_ID_MAX]; /* the newest row, intact or not */
	char good[CKPT_ID_MAX];   /* the newest intact row */
	bool any, found;
	bool log;                 /* log the corrupt rows passed over */
	bool toolong;             /* stopped at an id too long to keep */
};

static int
pick_cb(void *arg, const struct corral_tuple *t)
{
	struct pick *p = arg;

	if (!id_fits(p->w != NULL ? p->w->name : "?", p->thread, "checkpoint",
	    t->checkpoint_id)) {
		p->toolong = true;
		return 1;
	}
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

/* Walk the thread newest first.  0 or the store's error (not logged). */
static int
walk(struct corral_store *st, const char *thread, struct pick *p,
    bool stop_at_good)
{
	struct corral_list_opts lo;
	int rc;

	memset(&lo, 0, sizeof(lo));
	lo.thread_id = thread;
	lo.checkpoint_ns = "";
	lo.limit = stop_at_good ? 0 : 1;
	rc = corral_list(st, &lo, pick_cb, p);
	return rc == 0 && p->toolong ? E_ID_LONG : rc;
}

static void
walk_failed(struct worker *w, struct corral_store *st, const char *thread,
    int rc)
{
	if (rc == E_ID_LONG)
		return; /* said when it was found */
	log_warnx("agent %s: cannot read thread %s in the checkpoint database "
	    "%s: %s (%s)", w->name, thread, w->fleet->conf->checkpoint_shown,
	    corral_strerror(rc), corral_store_errmsg(st));
}

/* The thread's newest id, intact or not, into latest ("": none).  0/-1. */
static int
walk_latest(struct corral_store *st, const char *thread, char *latest)
{
	struct pick p;

	memset(&p, 0, sizeof(p));
	p.thread = thread;
	if (walk(st, thread, &p, false) != 0)
		return -1;
	snprintf(latest, CKPT_ID_MAX, "%s", p.latest);
	return 0;
}

/*
 * The first intact checkpoint from id back through its parents, into out
 * ("": none left).  0, or the store's error.
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
			return rc;
		}
		log_warnx("agent %s: checkpoint %s of thread %s is corrupt "
		    "(checksum mismatch); trying its parent", w->name, cur,
		    thread);
		if (t->parent_id != NULL && !id_fits(w->name, thread,
		    "parent checkpoint", t->parent_id)) {
			corral_tuple_free(t);
			return E_ID_LONG;
		}
		snprintf(cur, sizeof(cur), "%s",
		    t->parent_id != NULL ? t->parent_id : "");
		corral_tuple_free(t);
	}
	out[0] = '\0';
	return 0;
}

/* The reason a damaged database gives, for the log and status. */
static void
damaged_why(struct worker *w, const char *thread, struct corral_store *st,
    char *why, size_t len)
{
	if (st == NULL)
		snprintf(why, len, "checkpoint storage error: checkpoint "
		    "database %s is damaged or is not a database",
		    w->fleet->conf->checkpoint_shown);
	else
		snprintf(why, len, "checkpoint storage error: checkpoint "
		    "database %s is damaged (thread %s: %s)",
		    w->fleet->conf->checkpoint_shown, thread,
		    corral_store_errmsg(st));
}

/* Read what the run is to resume from into rs.  0 or the store's error. */
static int
choose(struct worker *w, struct corral_store *st, const char *thread)
{
	struct worker_resume *rs = &w->rs;
	struct pick p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.w = w;
	p.thread = thread;
	p.log = !rs->rolled;
	if ((rc = walk(st, thread, &p, !rs->rolled)) != 0)
		return rc;
	snprintf(rs->latest, sizeof(rs->latest), "%s", p.latest);
	if (!rs->rolled)
		snprintf(rs->from, sizeof(rs->from), "%s", p.good);
	else if (rs->back[0] == '\0')
		rs->from[0] = '\0';
	else if ((rc = intact_from(w, st, thread, rs->back, rs->from)) != 0)
		return rc;
	return 0;
}

enum resume_verdict
resume_choose(struct worker *w, char *why, size_t len)
{
	struct fleet *f = w->fleet;
	struct corral_store *st = resume_store(f);
	struct worker_resume *rs = &w->rs;
	struct storage_in in;
	char *thread = worker_thread(w);
	int rc = st != NULL ? 0 : f->ckpt_err;

	rs->known = false;
	why[0] = '\0';
	if (st != NULL)
		rc = choose(w, st, thread);
	/* A lock passes: try again soon, a few times, never wait here. */
	if (rc == CORRAL_EBUSY) {
		if (++w->resume_tries < RESUME_TRIES) {
			log_debug("agent %s: the checkpoint database %s is "
			    "locked; spawn put off %d ms (try %u of %d)",
			    w->name, f->conf->checkpoint_shown, RESUME_RETRY_MS,
			    w->resume_tries, RESUME_TRIES);
			free(thread);
			return RESUME_LATER;
		}
		log_warnx("agent %s: the checkpoint database %s stayed locked "
		    "for %d ms; starting without corrald's choice (the worker "
		    "resumes from its latest intact checkpoint itself)",
		    w->name, f->conf->checkpoint_shown,
		    RESUME_TRIES * RESUME_RETRY_MS);
	}
	w->resume_tries = 0;
	memset(&in, 0, sizeof(in));
	in.at_spawn = true;
	in.ack = w->storage_ack;
	if (rs->lost[0] != '\0') {
		in.found = SK_LOST;
		snprintf(why, len, "%s", w->storage_why != NULL ?
		    w->storage_why : "checkpoint storage error: the thread's "
		    "checkpoints were lost with a deleted or replaced file");
	} else if (rc == CORRAL_EDAMAGED) {
		in.found = SK_DAMAGED;
		damaged_why(w, thread, st, why, len);
	}
	if (storage_decide(&in) == SA_HOLD) {
		free(thread);
		return RESUME_HOLD;
	}
	if (in.found != SK_NONE) {
		/* An operator's start goes on past it. */
		log_warnx("agent %s: %s; started by the operator: it runs %s",
		    w->name, why, in.found == SK_LOST ? "from what the file "
		    "there now has" : "without corrald's choice of checkpoint");
		if (in.found == SK_LOST) {
			/* Rollback's ids were the old file's. */
			memset(rs, 0, sizeof(*rs));
			if (st != NULL)
				rc = choose(w, st, thread);
			ckpt_old_release(f);
		}
		free(w->storage_why);
		w->storage_why = NULL;
		w->storage_kind = SK_NONE;
	}
	w->storage_ack = false;
	if (rc == 0 && st != NULL) {
		rs->known = true;
		log_debug("agent %s: resumes thread %s from %s", w->name,
		    thread, rs->from[0] != '\0' ? rs->from :
		    "nothing (afresh)");
	} else if (st != NULL && rc != CORRAL_EBUSY && rc != CORRAL_EDAMAGED)
		walk_failed(w, st, thread, rc);
	free(thread);
	return RESUME_GO;
}

/* The storage error is over: say so, show it no more. */
static void
storage_cleared(struct worker *w, const char *how)
{
	log_info("agent %s: checkpoint storage works again (%s); it had: %s",
	    w->name, how, w->storage_why);
	free(w->storage_why);
	w->storage_why = NULL;
	w->storage_kind = SK_NONE;
}

void
resume_probe(struct worker *w)
{
	struct corral_store *st;
	char latest[CKPT_ID_MAX], *thread;
	uint64_t now;

	if (w->storage_why == NULL || w->rs.lost[0] != '\0' || !w->rs.known)
		return;
	now = now_mono_ms();
	if (w->storage_probe_ms != 0 && now - w->storage_probe_ms < 1000)
		return;
	w->storage_probe_ms = now;
	if ((st = resume_store(w->fleet)) == NULL)
		return;
	thread = worker_thread(w);
	if (walk_latest(st, thread, latest) == 0 &&
	    strcmp(latest, w->rs.latest) > 0)
		storage_cleared(w, "a new checkpoint was written");
	free(thread);
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	worker_enqueue(w);
}

void
resume_later(struct worker *w)
{
	if (w->resume_ev == NULL) {
		w->resume_ev = evtimer_new(w->fleet->base, resume_cb, w);
		if (w->resume_ev == NULL)
			fatal("agent %s: cannot create its resume timer",
			    w->name);
	}
	timer_add_ms(w->resume_ev, RESUME_RETRY_MS);
}

/*
 * The parent of checkpoint id, into out ("": none).  0, or -1 with
 * *logged set when the failure was already logged.
 */
static int
parent_of(const struct worker *w, struct corral_store *st,
    const char *thread, const char *id, char *out, bool *logged)
{
	struct corral_ref ref = { thread, "", id };
	struct corral_tuple *t = NULL;
	int rc;

	rc = corral_get_tuple(st, &ref, &t);
	*logged = false;
	/* A corrupt row still has its ids. */
	if ((rc == 0 || rc == CORRAL_ECORRUPT) && t != NULL) {
		if (t->parent_id != NULL && !id_fits(w->name, thread,
		    "parent checkpoint", t->parent_id)) {
			corral_tuple_free(t);
			*logged = true;
			return -1;
		}
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
    struct db_event *e, struct db_event *rb, enum storage_kind *found,
    char *why, size_t len)
{
	struct worker_resume *rs = &w->rs;
	struct corral_store *st;
	struct pick p;
	char *thread, parent[CKPT_ID_MAX];
	enum rollback_action act;
	bool wrote, failed, neutral, same, logged, known = rs->known;
	int rc;

	*found = SK_NONE;
	why[0] = '\0';
	rs->known = false;
	if (known)
		e->resumed_from = xstrdup(rs->from);
	/* Opening it may find the file changed, and mark what was lost. */
	st = resume_store(w->fleet);
	thread = worker_thread(w);
	if (rs->lost[0] != '\0') {
		*found = SK_LOST;
		snprintf(why, len, "%s", w->storage_why != NULL ?
		    w->storage_why : "checkpoint storage error: checkpoints "
		    "lost with a deleted or replaced file");
	}
	if (st == NULL) {
		if (w->fleet->ckpt_err == CORRAL_EDAMAGED && *found == SK_NONE) {
			*found = SK_DAMAGED;
			damaged_why(w, thread, NULL, why, len);
		}
		free(thread);
		return false;
	}
	memset(&p, 0, sizeof(p));
	p.w = w;
	p.thread = thread;
	if ((rc = walk(st, thread, &p, false)) != 0) {
		if (rc == CORRAL_EDAMAGED && *found == SK_NONE) {
			*found = SK_DAMAGED;
			damaged_why(w, thread, st, why, len);
		} else if (rc != CORRAL_EDAMAGED)
			walk_failed(w, st, thread, rc);
		free(thread);
		return false;
	}
	if (!known) {
		free(thread);
		return false;
	}
	/* Ids sort by creation: a newer latest is one this run wrote. */
	wrote = p.any && strcmp(p.latest, rs->latest) > 0;
	if (wrote)
		e->last_checkpoint = xstrdup(p.latest);
	if (wrote && w->storage_why != NULL && rs->lost[0] == '\0')
		storage_cleared(w, "the run wrote a checkpoint");
	/*
	 * Transient and storage exits say nothing of the checkpoint: an
	 * outage, a full disk or damaged pages would otherwise roll back
	 * good checkpoints.
	 */
	failed = corral_exit_is_failure(cls) && cls != CORRAL_EXIT_TRANSIENT &&
	    cls != CORRAL_EXIT_STORAGE;
	neutral = cls == CORRAL_EXIT_TRANSIENT || cls == CORRAL_EXIT_STOPPED ||
	    cls == CORRAL_EXIT_STORAGE;
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
		if (parent_of(w, st, thread, rs->from, parent, &logged) ==
		    -1) {
			if (!logged)
				log_warnx("agent %s: cannot read checkpoint "
				    "%s to roll back from it: %s", w->name,
				    rs->from, corral_store_errmsg(st));
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
