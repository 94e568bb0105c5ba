/*
 * units.c: the value types of a fleet file (durations, sizes, integers,
 * booleans, signals, exit code lists), parsed strictly and printed back.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "corrald.h"

static const struct {
	const char *suffix;
	uint64_t ms;
} duration_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
	{ "d", 24 * 60 * 60 * 1000 },
};

/*
 * A duration is one or more NUMBER UNIT pairs ("250ms", "1.5s", "1m30s").
 * A bare "0" is allowed; any other number needs its unit, because a silent
 * default unit is how "stop_timeout = 500" becomes eight minutes.
 */
int
parse_duration(const char *s, uint64_t *ms, const char **why)
{
	double total = 0;
	const char *p = s;

	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*p == '\0') {
		*why = "empty duration";
		return -1;
	}
	while (*p != '\0') {
		char *end;
		double v;
		size_t i, best = 0, bestlen = 0;

		char num[32];
		size_t digits = strspn(p, "0123456789"), len = digits;

		/* Plain decimals only: strtod would also take 0x10 or 1e3. */
		if (p[len] == '.') {
			len++;
			len += strspn(p + len, "0123456789");
		}
		if ((digits == 0 && len <= 1) || len >= sizeof(num)) {
			*why = "not a duration (examples: 250ms, 2s, 5m, 1h)";
			return -1;
		}
		memcpy(num, p, len);
		num[len] = '\0';
		errno = 0;
		v = strtod(num, &end);
		end = (char *)p + len;
		if (errno != 0 || !isfinite(v)) {
			*why = "not a duration (examples: 250ms, 2s, 5m, 1h)";
			return -1;
		}
		p = end;
		for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]);
		    i++) {
			size_t n = strlen(duration_units[i].suffix);
			if (strncmp(p, duration_units[i].suffix, n) == 0 &&
			    n > bestlen && !isalpha((unsigned char)p[n])) {
				best = i;
				bestlen = n;
			}
		}
		if (bestlen == 0) {
			*why = *p == '\0' ?
			    "duration needs a unit (ms, s, m, h or d)" :
			    "unknown duration unit (use ms, s, m, h or d)";
			return -1;
		}
		total += v * (double)duration_units[best].ms;
		p += bestlen;
	}
	if (total > 1e15) {
		*why = "duration too large";
		return -1;
	}
	*ms = (uint64_t)llround(total);
	return 0;
}

/* A size is a whole number of bytes with an optional K, M or G (x1024). */
int
parse_size(const char *s, uint64_t *bytes, const char **why)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!isdigit((unsigned char)*s)) {
		*why = "not a size (examples: 512K, 10M, 1G)";
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0) {
		*why = "size too large";
		return -1;
	}
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	default:
		*why = "unknown size unit (use K, M or G)";
		return -1;
	}
	if (mult > 1 && (strcasecmp(end, "B") == 0 ||
	    strcasecmp(end, "iB") == 0))
		end += strlen(end);
	if (*end != '\0') {
		*why = "unknown size unit (use K, M or G)";
		return -1;
	}
	if (v > UINT64_MAX / mult) {
		*why = "size too large";
		return -1;
	}
	*bytes = v * mult;
	return 0;
}

/* The range messages say the range; they live until the next one. */
static char rangebuf[80];

int
parse_uint(const char *s, uint64_t max, uint64_t *out, const char **why)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s)) {
		*why = "not a whole number";
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0') {
		*why = "not a whole number";
		return -1;
	}
	if (errno != 0 || v > max) {
		snprintf(rangebuf, sizeof(rangebuf),
		    "number too large (at most %llu)", (unsigned long long)max);
		*why = rangebuf;
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_int(const char *s, int64_t min, int64_t max, int64_t *out,
    const char **why)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*s) && *s != '-' && *s != '+') {
		*why = "not a whole number";
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0') {
		*why = "not a whole number";
		return -1;
	}
	if (errno != 0 || v < min || v > max) {
		snprintf(rangebuf, sizeof(rangebuf),
		    "number out of range (%lld to %lld)", (long long)min,
		    (long long)max);
		*why = rangebuf;
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_double(const char *s, double min, double max, double *out,
    const char **why)
{
	char *end;
	double v;

	/* Plain decimals only, as for durations: strtod takes 0x2 and 1e-1. */
	if (s[strspn(s, "0123456789.")] != '\0' || strchr(s, '.') !=
	    strrchr(s, '.')) {
		*why = "not a number";
		return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v)) {
		*why = "not a number";
		return -1;
	}
	if (errno != 0 || v < min || v > max) {
		snprintf(rangebuf, sizeof(rangebuf),
		    "number out of range (%g to %g)", min, max);
		*why = rangebuf;
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_bool(const char *s, bool *out, const char **why)
{
	static const char *yes[] = { "true", "yes", "on", "1" };
	static const char *no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	*why = "not a boolean (true or false)";
	return -1;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ABRT", SIGABRT }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "ALRM", SIGALRM },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "WINCH", SIGWINCH },
	{ "PIPE", SIGPIPE }, { "SEGV", SIGSEGV }, { "BUS", SIGBUS },
	{ "ILL", SIGILL }, { "FPE", SIGFPE }, { "TRAP", SIGTRAP },
	{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "SYS", SIGSYS },
	{ "PWR", SIGPWR }, { "TSTP", SIGTSTP },
};

const char *
signal_name(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	return NULL;
}

/* TERM, SIGTERM, sigterm or a number. */
int
parse_signal(const char *s, int *sig, const char **why)
{
	const char *n = s;
	size_t i;
	uint64_t v;

	if (isdigit((unsigned char)*s)) {
		if (parse_uint(s, 64, &v, why) == -1 || v == 0) {
			*why = "not a signal number (1 to 64)";
			return -1;
		}
		*sig = (int)v;
		return 0;
	}
	if (strncasecmp(n, "SIG", 3) == 0)
		n += 3;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (strcasecmp(n, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	}
	*why = "unknown signal (examples: TERM, INT, HUP, QUIT, USR1)";
	return -1;
}

/* On error *set is left as it was. */
int
parse_codes(const char *s, struct corral_codeset *set, const char **why)
{
	struct corral_codeset codes;
	const char *p = s;

	corral_codeset_clear(&codes);
	for (;;) {
		char num[8];
		size_t n;
		uint64_t v;

		p += strspn(p, " \t,");
		if (*p == '\0') {
			*set = codes;
			return 0;
		}
		n = strcspn(p, " \t,");
		if (strspn(p, "0123456789") < n) {
			*why = "not a list of exit codes 0 to 255";
			return -1;
		}
		if (n >= sizeof(num)) {
			*why = "exit code out of range (0 to 255)";
			return -1;
		}
		memcpy(num, p, n);
		num[n] = '\0';
		if (parse_uint(num, 255, &v, why) == -1) {
			*why = "exit code out of range (0 to 255)";
			return -1;
		}
		corral_codeset_add(&codes, (unsigned)v);
		p += n;
	}
}

void
format_duration(uint64_t ms, char *buf, size_t len)
{
	size_t i;

	if (ms == 0) {
		snprintf(buf, len, "0");
		return;
	}
	/* The largest unit that divides evenly: no rounding on the way back. */
	for (i = sizeof(duration_units) / sizeof(duration_units[0]); i-- > 0;) {
		if (ms % duration_units[i].ms == 0) {
			snprintf(buf, len, "%llu%s",
			    (unsigned long long)(ms / duration_units[i].ms),
			    duration_units[i].suffix);
			return;
		}
	}
}

void
format_size(uint64_t b, char *buf, size_t len)
{
	if (b != 0 && b % (1ULL << 30) == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(b >> 30));
	else if (b != 0 && b % (1ULL << 20) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(b >> 20));
	else if (b != 0 && b % (1ULL << 10) == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(b >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)b);
}

unsigned
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned row[NAME_MAX_LEN + 2], prev, tmp, best;

	if (lb > NAME_MAX_LEN)
		return (unsigned)(la > lb ? la : lb);
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/*
 * HOST:PORT with HOST an IPv4 literal or a bracketed IPv6 one ([::1]:9100),
 * PORT 0 to 65535 (0: any free port).  No names: a name would need a
 * resolver, and its answer can change.
 */
int
parse_listen(const char *s, char **host, unsigned *port, const char **why)
{
	struct in6_addr a6;
	struct in_addr a4;
	const char *colon;
	char buf[64];
	uint64_t v;
	size_t n;

	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':') {
			*why = "use ADDRESS:PORT, as 127.0.0.1:9100 or [::1]:9100";
			return -1;
		}
		n = (size_t)(end - s - 1);
		colon = end + 1;
		s++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			*why = "use ADDRESS:PORT, as 127.0.0.1:9100 or [::1]:9100";
			return -1;
		}
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= sizeof(buf)) {
		*why = "use ADDRESS:PORT, as 127.0.0.1:9100 or [::1]:9100";
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a4) != 1 &&
	    inet_pton(AF_INET6, buf, &a6) != 1) {
		*why = "not an IP address (names are not resolved)";
		return -1;
	}
	if (parse_uint(colon + 1, 65535, &v, why) == -1) {
		*why = "port must be a number from 0 to 65535";
		return -1;
	}
	free(*host);
	*host = xstrdup(buf);
	*port = (unsigned)v;
	return 0;
}
