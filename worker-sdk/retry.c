/*
 * retry.c: retry a call with backoff and jitter, within a number of
 * attempts and a deadline; and the real clock the helpers use by default.
 */
#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "corral.h"

static uint64_t
real_now(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
real_sleep(void *arg, uint64_t ms)
{
	struct timespec d;

	(void)arg;
	d.tv_sec = (time_t)(ms / 1000);
	d.tv_nsec = (long)(ms % 1000) * 1000000;
	/* A signal does not cut the wait short: the rest is slept. */
	while (nanosleep(&d, &d) == -1 && errno == EINTR)
		;
}

/*
 * One generator per thread, seeded on first use: helpers may run in any
 * thread of a worker, and a seed from the kernel keeps processes apart.
 */
static double
real_uniform(void *arg)
{
	static _Thread_local struct corral_rng rng;
	static _Thread_local bool seeded;
	uint64_t seed;

	(void)arg;
	if (!seeded) {
		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(seed))
			seed = real_now(NULL) ^ (uint64_t)(uintptr_t)&seed;
		corral_rng_seed(&rng, seed);
		seeded = true;
	}
	return corral_rng_uniform(&rng);
}

static const struct corral_clock real_clock = {
	real_now, real_sleep, real_uniform, NULL
};

const struct corral_clock *
corral_clock_real(void)
{
	return &real_clock;
}

int
corral_retry(const struct corral_retry_policy *p,
    const struct corral_clock *clk, corral_call_fn fn, corral_retry_pred pred,
    void *arg, unsigned *attempts)
{
	const struct corral_clock *c = clk != NULL ? clk : &real_clock;
	uint64_t start = c->now_ms(c->arg), wait;
	unsigned k, max = p->max_attempts > 0 ? p->max_attempts : 1;
	int err = 0;

	for (k = 0; k < max; k++) {
		if ((err = fn(arg)) == 0 ||
		    (pred != NULL && !pred(err, arg)) || k + 1 == max)
			break;
		wait = corral_backoff_delay(&p->backoff, k, c->uniform(c->arg));
		/* No try that could not end in time: give up now. */
		if (p->deadline_ms > 0 &&
		    c->now_ms(c->arg) - start + wait >= p->deadline_ms)
			break;
		c->sleep_ms(c->arg, wait);
	}
	if (attempts != NULL)
		*attempts = k < max ? k + 1 : max;
	return err;
}
