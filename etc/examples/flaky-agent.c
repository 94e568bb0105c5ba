/*
 * flaky-agent: an example worker that does numbered steps of work and, with
 * a given probability per step, fails in one of the ways real agents fail:
 * an error exit, a transient exit (75), a segfault, an abort.  It shows
 * corrald's restarts, backoff and exit classes in the example fleet, and
 * the SDK: it checkpoints its step count after every step, so a restart
 * resumes where the last run got to instead of starting over.
 *
 * usage: flaky-agent [-s STEP_MS] [-p FAIL_PROBABILITY] [-n STEPS]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corral.h"

int
main(int argc, char **argv)
{
	const char *agent = getenv("CORRAL_AGENT");
	const char *inst = getenv("CORRAL_INSTANCE");
	const char *restarts = getenv("CORRAL_RESTARTS");
	struct corral_rng rng;
	struct corral_worker *w;
	const struct corral_tuple *cp;
	struct timespec ts;
	const char *why;
	long step_ms = 500, steps = 0, i = 1;
	char buf[32];
	int len;
	double p = 0.05;
	int ch, rc;

	while ((ch = getopt(argc, argv, "s:p:n:")) != -1) {
		switch (ch) {
		case 's':
			step_ms = strtol(optarg, NULL, 10);
			break;
		case 'p':
			p = strtod(optarg, NULL);
			break;
		case 'n':
			steps = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: flaky-agent [-s STEP_MS] "
			    "[-p FAIL_PROBABILITY] [-n STEPS]\n");
			return 64;
		}
	}
	/* The stop signal (corrald's stop_signal) makes stopping() true. */
	if ((rc = corral_worker_init(NULL, &w, &why)) != 0) {
		fprintf(stderr, "flaky-agent: checkpoint database %s: %s\n",
		    getenv("CORRAL_CHECKPOINT_DB") ? getenv("CORRAL_CHECKPOINT_DB") :
		    "(memory)", why);
		return corral_is_storage_error(rc) ? CORRAL_EX_IOERR : 78;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	corral_rng_seed(&rng, (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 20);
	if (corral_worker_resume(w, &cp) == 0) {
		i = strtol(cp->data, NULL, 10) + 1;
		printf("%s.%s: resumed after step %ld (restart %s)\n",
		    agent ? agent : "flaky", inst ? inst : "0", i - 1,
		    restarts ? restarts : "0");
	} else
		printf("%s.%s: starting (restart %s)\n", agent ? agent : "flaky",
		    inst ? inst : "0", restarts ? restarts : "0");
	fflush(stdout);
	corral_worker_ready(w);

	for (; steps == 0 || i <= steps; i++) {
		struct timespec d = { step_ms / 1000, (step_ms % 1000) * 1000000 };
		double u = corral_rng_uniform(&rng);

		while (nanosleep(&d, &d) == -1 && errno == EINTR &&
		    !corral_worker_stopping(w))
			;
		if (corral_worker_stopping(w)) {
			printf("step %ld: asked to stop, stopping cleanly\n", i);
			corral_worker_free(w);
			return 0;
		}
		/* The step's result is kept before it is announced. */
		len = snprintf(buf, sizeof(buf), "%ld", i);
		if ((rc = corral_worker_checkpoint(w, buf, (size_t)len, NULL,
		    NULL, 0)) != 0) {
			/* 74 (EX_IOERR) when the storage failed: not poison. */
			fprintf(stderr, "step %ld: cannot checkpoint: %s: %s\n", i,
			    corral_strerror(rc),
			    corral_store_errmsg(corral_worker_store(w)));
			corral_worker_free(w);
			return corral_exit_status(rc);
		}
		corral_worker_heartbeat(w);
		printf("step %ld done\n", i);
		fflush(stdout);
		if (u < p) {
			/* Which failure: spread over the four kinds. */
			switch ((int)(u / p * 4)) {
			case 0:
				fprintf(stderr, "step %ld: giving up (error)\n", i);
				return 1;
			case 1:
				fprintf(stderr, "step %ld: upstream busy, try "
				    "later\n", i);
				return 75;
			case 2:
				fprintf(stderr, "step %ld: segfault\n", i);
				raise(SIGSEGV);
				break;
			default:
				fprintf(stderr, "step %ld: assertion failed\n", i);
				abort();
			}
		}
	}
	printf("all %ld steps done\n", steps);
	corral_worker_free(w);
	return 0;
}
