/*
 * rlimit.c: the resource limits an agent's runs get (limit_nofile and the
 * rest, systemd's LimitNOFILE= and its kin): their values parsed, printed
 * back and checked against what corrald may give.  The child sets them
 * before exec (spawn.c); a limit it cannot set fails the start, classed
 * fatal, as a failed exec does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "corrald.h"

/* In the order of enum rlim_key. */
static const struct {
	const char *key;
	int resource;
	enum { RK_COUNT, RK_SIZE, RK_SECONDS } kind;
} rlims[RL_N] = {
	{ "limit_nofile", RLIMIT_NOFILE, RK_COUNT },
	{ "limit_core", RLIMIT_CORE, RK_SIZE },
	{ "limit_nproc", RLIMIT_NPROC, RK_COUNT },
	{ "limit_as", RLIMIT_AS, RK_SIZE },
	{ "limit_cpu", RLIMIT_CPU, RK_SECONDS },
	{ "limit_fsize", RLIMIT_FSIZE, RK_SIZE },
	{ "limit_stack", RLIMIT_STACK, RK_SIZE },
	{ "limit_memlock", RLIMIT_MEMLOCK, RK_SIZE },
};

const char *
rlim_key_name(enum rlim_key k)
{
	return k < RL_N ? rlims[k].key : "?";
}

int
rlim_resource(enum rlim_key k)
{
	return rlims[k].resource;
}

int
rlim_key_of(const char *key)
{
	int k;

	for (k = 0; k < RL_N; k++)
		if (strcmp(key, rlims[k].key) == 0)
			return k;
	return -1;
}

/* One side of a value: infinity, or a number of the key's kind. */
static int
parse_one(enum rlim_key k, const char *s, uint64_t *out, const char **why)
{
	uint64_t ms;

	if (strcmp(s, "infinity") == 0) {
		*out = RLIM_VALUE_INFINITY;
		return 0;
	}
	switch (rlims[k].kind) {
	case RK_COUNT:
		if (parse_uint(s, RLIM_VALUE_INFINITY - 1, out, why) == -1) {
			*why = "must be a whole number or infinity";
			return -1;
		}
		return 0;
	case RK_SIZE:
		if (parse_size(s, out, why) == -1)
			return -1;
		if (*out == RLIM_VALUE_INFINITY) {
			*why = "size too large";
			return -1;
		}
		return 0;
	case RK_SECONDS:
		/* A bare number is seconds, as systemd's LimitCPU= takes it. */
		if (*s != '\0' && strspn(s, "0123456789") == strlen(s))
			return parse_uint(s, UINT64_MAX / 1000, out, why);
		if (parse_duration(s, &ms, why) == -1)
			return -1;
		if (ms % 1000 != 0) {
			*why = "must be whole seconds (the kernel counts "
			    "RLIMIT_CPU in seconds)";
			return -1;
		}
		*out = ms / 1000;
		return 0;
	}
	*why = "unknown limit";
	return -1;
}

int
rlim_parse(enum rlim_key k, const char *s, struct agent_rlimit *out,
    const char **why)
{
	struct agent_rlimit r = { true, 0, 0 };
	const char *colon = strchr(s, ':');
	char soft[64];

	if (colon == NULL) {
		if (parse_one(k, s, &r.soft, why) == -1)
			return -1;
		r.hard = r.soft;
	} else {
		if ((size_t)(colon - s) >= sizeof(soft)) {
			*why = "soft limit too long";
			return -1;
		}
		memcpy(soft, s, (size_t)(colon - s));
		soft[colon - s] = '\0';
		if (parse_one(k, soft, &r.soft, why) == -1 ||
		    parse_one(k, colon + 1, &r.hard, why) == -1)
			return -1;
		if (r.soft > r.hard) {
			*why = "the soft limit (before ':') is above the hard "
			    "one";
			return -1;
		}
	}
	*out = r;
	return 0;
}

static void
format_one(enum rlim_key k, uint64_t v, char *buf, size_t len)
{
	if (v == RLIM_VALUE_INFINITY)
		snprintf(buf, len, "infinity");
	else if (rlims[k].kind == RK_SIZE)
		format_size(v, buf, len);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

void
rlim_format(enum rlim_key k, const struct agent_rlimit *r, char *buf,
    size_t len)
{
	char s[32], h[32];

	format_one(k, r->soft, s, sizeof(s));
	if (r->soft == r->hard)
		snprintf(buf, len, "%s", s);
	else {
		format_one(k, r->hard, h, sizeof(h));
		snprintf(buf, len, "%s:%s", s, h);
	}
}

bool
rlim_above(const struct agent_rlimit *r, uint64_t ceiling)
{
	return r->set && r->hard > ceiling;
}

int
rlim_ceiling(enum rlim_key k, bool root, uint64_t *max)
{
	struct rlimit rl;
	FILE *f;
	unsigned long long n;

	if (!root) {
		if (getrlimit(rlims[k].resource, &rl) == -1)
			return -1;
		*max = rl.rlim_max == RLIM_INFINITY ? RLIM_VALUE_INFINITY :
		    (uint64_t)rl.rlim_max;
		return 0;
	}
	*max = RLIM_VALUE_INFINITY;
	/* Not even root gets more descriptors than the kernel's nr_open. */
	if (k == RL_NOFILE && (f = fopen("/proc/sys/fs/nr_open", "re")) !=
	    NULL) {
		if (fscanf(f, "%llu", &n) == 1)
			*max = n;
		fclose(f);
	}
	return 0;
}

/* "524288", "infinity". */
static void
format_ceiling(uint64_t v, char *buf, size_t len)
{
	if (v == RLIM_VALUE_INFINITY)
		snprintf(buf, len, "infinity");
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

void
rlim_ceiling_describe(enum rlim_key k, bool root, char *buf, size_t len)
{
	uint64_t max;
	char v[32];

	if (rlim_ceiling(k, root, &max) == -1) {
		snprintf(buf, len, "corrald's own limit is unknown");
		return;
	}
	format_ceiling(max, v, sizeof(v));
	if (!root)
		snprintf(buf, len, "corrald's hard limit is %s, and only root "
		    "may raise it", v);
	else if (k == RL_NOFILE)
		snprintf(buf, len, "the kernel's fs.nr_open is %s", v);
	else
		snprintf(buf, len, "corrald runs as root");
}

char *
rlim_failure(const struct agent_conf *a, const char *key, int err)
{
	char want[64], have[96], *s;
	int k = rlim_key_of(key);

	if (k < 0) {
		xasprintf(&s, "%s: %s", key, strerror(err));
		return s;
	}
	rlim_format((enum rlim_key)k, &a->rlim[k], want, sizeof(want));
	rlim_ceiling_describe((enum rlim_key)k, geteuid() == 0, have,
	    sizeof(have));
	xasprintf(&s, "%s = %s: setrlimit: %s (%s)", key, want, strerror(err),
	    have);
	return s;
}
