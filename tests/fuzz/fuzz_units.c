/*
 * fuzz_units.c: the value parsers of the fleet file (units.c) and its
 * word splitting and %() expansion (argv.c): any string through each, and
 * the promise of the printers, that what they print parses back to the
 * same value.
 */
#include <stdlib.h>
#include <string.h>

#include "corrald.h"
#include "fuzz.h"

static void
durations(const char *s)
{
	uint64_t ms, back;
	const char *why;
	char buf[64];

	if (parse_duration(s, &ms, &why) == -1) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	format_duration(ms, buf, sizeof(buf));
	FUZZ_CHECK(parse_duration(buf, &back, &why) == 0 && back == ms);
}

static void
sizes(const char *s)
{
	uint64_t b, back;
	const char *why;
	char buf[64];

	if (parse_size(s, &b, &why) == -1) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	format_size(b, buf, sizeof(buf));
	FUZZ_CHECK(parse_size(buf, &back, &why) == 0 && back == b);
}

static void
signals(const char *s)
{
	const char *why, *name;
	int sig, back;

	if (parse_signal(s, &sig, &why) == -1) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	FUZZ_CHECK(sig >= 1 && sig <= 64);
	if ((name = signal_name(sig)) != NULL)
		FUZZ_CHECK(parse_signal(name, &back, &why) == 0 && back == sig);
}

static void
numbers(const char *s)
{
	struct corral_codeset codes;
	const char *why;
	uint64_t u;
	int64_t i;
	double d;
	bool b;
	char *host = NULL;
	unsigned port;

	if (parse_uint(s, 100000, &u, &why) == 0)
		FUZZ_CHECK(u <= 100000);
	parse_uint(s, UINT64_MAX, &u, &why);
	if (parse_int(s, -1000, 1000, &i, &why) == 0)
		FUZZ_CHECK(i >= -1000 && i <= 1000);
	if (parse_double(s, 1, 1000, &d, &why) == 0)
		FUZZ_CHECK(d >= 1 && d <= 1000);
	parse_bool(s, &b, &why);
	parse_codes(s, &codes, &why);
	if (parse_listen(s, &host, &port, &why) == 0)
		FUZZ_CHECK(host != NULL && port <= 65535);
	free(host);
}

static void
words(const char *s, size_t half)
{
	struct expand_vars vars = { "agent", "3", "/fuzz" };
	const char *why;
	struct strv sv;
	char *a, *x;
	size_t la, lb;
	unsigned d;

	strv_init(&sv);
	if (argv_split(s, ",", &sv, &why) == 0)
		FUZZ_CHECK(sv.v == NULL || sv.v[sv.n] == NULL);
	strv_free(&sv);
	if ((x = expand_vars(s, &vars, &why)) != NULL)
		free(x);
	else
		FUZZ_CHECK(why != NULL);

	/* Did-you-mean: a request's word against a name of the file. */
	a = xstrndup(s, half);
	la = strlen(a);
	lb = strlen(s + half);
	d = edit_distance(a, s + half);
	FUZZ_CHECK(d <= (la > lb ? la : lb));
	if (lb <= NAME_MAX_LEN)
		FUZZ_CHECK(d >= (la > lb ? la - lb : lb - la));
	free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t len;

	/* Values are C strings: an input ends at its first NUL. */
	s = xstrndup((const char *)data, size);
	len = strlen(s);
	durations(s);
	sizes(s);
	signals(s);
	numbers(s);
	words(s, len / 2);
	free(s);
	return 0;
}
