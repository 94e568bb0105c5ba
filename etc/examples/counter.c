/*
 * counter: an example resumable worker in C.  It counts to --to, one step
 * every --step-ms, checkpointing the count (as text) after every step;
 * killed at any moment, its next run resumes where the last checkpoint
 * left it.  Under corrald it says READY and sends heartbeats; alone it
 * checkpoints to CORRAL_CHECKPOINT_DB, or memory.
 *
 * --poison-at K shows rollback: a run that started afresh writes "poison"
 * as its checkpoint K and crashes, and every run that resumes from a
 * "poison" checkpoint crashes at once, until corrald rolls it back to the
 * checkpoint before (poison_threshold); from there it counts on.
 *
 * A failure of the checkpoint storage (disk full, a damaged or deleted
 * database) ends it with exit status 74 (EX_IOERR), which corrald classes
 * "storage": never counted toward rollback.
 *
 * --final-ms MS shows a clean stop: told to stop, it says so, takes MS to
 * wind down, then writes a last checkpoint ("N final") and exits 0.  When
 * the stop signal came from corrald's death, nobody reads its output any
 * more; the SDK makes those writes fail instead of killing it (SIGPIPE).
 *
 * usage: counter [--to N] [--step-ms MS] [--poison-at K] [--final-ms MS]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corral.h"

/*
 * The store failed: say so with its message (which names the database)
 * and exit as the SDK says, 74 (EX_IOERR) for the storage's own failures:
 * corrald then holds or retries slowly, and never rolls back for it.
 */
static int
give_up(struct corral_worker *w, const char *what, int rc)
{
	fprintf(stderr, "counter: %s: %s: %s\n", what, corral_strerror(rc),
	    corral_store_errmsg(corral_worker_store(w)));
	corral_worker_free(w);
	return corral_exit_status(rc);
}

static void
usage(void)
{
	fprintf(stderr, "usage: counter [--to N] [--step-ms MS] "
	    "[--poison-at K] [--final-ms MS]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "step-ms", required_argument, NULL, 's' },
		{ "poison-at", required_argument, NULL, 'p' },
		{ "final-ms", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct corral_worker *w;
	const struct corral_tuple *cp;
	const char *why;
	long to = 0, step_ms = 100, poison_at = 0, final_ms = -1, n = 0;
	bool afresh;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			to = strtol(optarg, NULL, 10);
			break;
		case 's':
			step_ms = strtol(optarg, NULL, 10);
			break;
		case 'p':
			poison_at = strtol(optarg, NULL, 10);
			break;
		case 'f':
			final_ms = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
			return 64;
		}
	}
	if (optind != argc || to < 0 || step_ms < 0 || poison_at < 0) {
		usage();
		return 64;
	}
	if ((rc = corral_worker_init(NULL, &w, &why)) != 0) {
		/* why is short and static: the database is the place. */
		fprintf(stderr, "counter: checkpoint database %s: %s\n",
		    getenv("CORRAL_CHECKPOINT_DB") ? getenv("CORRAL_CHECKPOINT_DB") :
		    "(memory)", why);
		/* The disk's trouble (74) is not a wrong configuration (78). */
		return corral_is_storage_error(rc) ? CORRAL_EX_IOERR : 78;
	}
	rc = corral_worker_resume(w, &cp);
	if (rc != 0 && rc != CORRAL_NOTFOUND)
		return give_up(w, "cannot resume", rc);
	afresh = rc == CORRAL_NOTFOUND;
	if (!afresh && strcmp(cp->data, "poison") == 0) {
		printf("resumed at poison: crashing\n");
		fflush(stdout);
		abort();
	}
	if (!afresh)
		n = strtol(cp->data, NULL, 10);
	printf(afresh ? "starting at %ld\n" : "resumed at %ld\n", n);
	fflush(stdout);
	corral_worker_ready(w);
	while (!corral_worker_stopping(w) && (to == 0 || n < to)) {
		struct timespec d = { step_ms / 1000,
			(step_ms % 1000) * 1000000 };
		char state[32];
		int len;

		/* The step's work; the stop signal cuts it short. */
		while (nanosleep(&d, &d) == -1 && errno == EINTR &&
		    !corral_worker_stopping(w))
			;
		n++;
		if (afresh && poison_at > 0 && n == poison_at)
			len = snprintf(state, sizeof(state), "poison");
		else
			len = snprintf(state, sizeof(state), "%ld", n);
		if ((rc = corral_worker_checkpoint(w, state, (size_t)len, NULL,
		    NULL, 0)) != 0)
			return give_up(w, "cannot checkpoint", rc);
		printf("step %ld\n", n);
		fflush(stdout);
		if (strcmp(state, "poison") == 0) {
			printf("wrote poison at %ld: crashing\n", n);
			fflush(stdout);
			abort();
		}
		corral_worker_heartbeat(w);
	}
	if (corral_worker_stopping(w) && final_ms >= 0) {
		struct timespec d = { final_ms / 1000,
			(final_ms % 1000) * 1000000 };
		char state[48];
		int len;

		printf("stopping at %ld: winding down\n", n);
		fflush(stdout);
		while (nanosleep(&d, &d) == -1 && errno == EINTR)
			;
		len = snprintf(state, sizeof(state), "%ld final", n);
		if ((rc = corral_worker_checkpoint(w, state, (size_t)len, NULL,
		    NULL, 0)) != 0)
			return give_up(w, "cannot write the final checkpoint",
			    rc);
		printf("final checkpoint at %ld\n", n);
		fflush(stdout);
		corral_worker_free(w);
		return 0;
	}
	printf(corral_worker_stopping(w) ? "stopping at %ld\n" :
	    "done at %ld\n", n);
	corral_worker_free(w);
	return 0;
}
