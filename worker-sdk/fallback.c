/*
 * fallback.c: a chain of alternatives, each behind its own breaker: calls
 * go to the first healthy one, failing ones are skipped while their
 * breaker is open, recovered ones come back through a half-open trial.
 */
#include <string.h>

#include "corral.h"

int
corral_fallback_init(struct corral_fallback_chain *ch,
    struct corral_fallback_alt *alts, size_t n,
    const struct corral_breaker_policy *p)
{
	size_t i;

	ch->alts = alts;
	ch->n = 0;
	for (i = 0; i < n; i++) {
		alts[i].calls = alts[i].failures = alts[i].refusals = 0;
		if (corral_breaker_init(&alts[i].breaker, p) == -1) {
			corral_fallback_free(ch);
			return -1;
		}
		ch->n++;
	}
	return 0;
}

void
corral_fallback_free(struct corral_fallback_chain *ch)
{
	size_t i;

	if (ch == NULL)
		return;
	for (i = 0; i < ch->n; i++)
		corral_breaker_free(&ch->alts[i].breaker);
	ch->n = 0;
}

int
corral_fallback_call(struct corral_fallback_chain *ch,
    const struct corral_clock *clk, int *err)
{
	const struct corral_clock *c = clk != NULL ? clk : corral_clock_real();
	bool changed;
	size_t i;
	int e;

	*err = 0;
	for (i = 0; i < ch->n; i++) {
		struct corral_fallback_alt *a = &ch->alts[i];
		uint64_t now = c->now_ms(c->arg);

		if (!corral_breaker_allow(&a->breaker, now, &changed)) {
			a->refusals++;
			continue;
		}
		a->calls++;
		if ((e = a->fn(a->arg)) == 0) {
			corral_breaker_success(&a->breaker, c->now_ms(c->arg));
			/* An earlier alternative's error is not the call's. */
			*err = 0;
			return (int)i;
		}
		a->failures++;
		*err = e;
		corral_breaker_failure(&a->breaker, c->now_ms(c->arg),
		    c->uniform(c->arg));
	}
	return -1;
}
