/*
 * cron.c: five-field cron specs (cron_restart) and when one next fires.
 * Pure but for the local time zone: the search walks civil dates and
 * times (no clock, no time zone), and only the mapping of a civil time to
 * an instant asks the C library (mktime, localtime_r), so that a test
 * sets TZ and gets the same answer every time.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "corrald.h"

struct field {
	const char *name;
	unsigned lo, hi;
	const char *const *names; /* lo.. in order; NULL: numbers only */
	unsigned nnames;
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr",
	"may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu",
	"fri", "sat" };

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL, 0 },
	{ "hour", 0, 23, NULL, 0 },
	{ "day of month", 1, 31, NULL, 0 },
	{ "month", 1, 12, month_names, 12 },
	/* 7 is Sunday too, as in every cron. */
	{ "day of week", 0, 7, dow_names, 7 },
};

/* A number or a name of field fd at *s (advanced).  0, or -1. */
static int
cron_value(const struct field *fd, const char **s, unsigned *out)
{
	const char *p = *s;
	unsigned long v;
	char *end;
	unsigned i;

	if (isdigit((unsigned char)*p)) {
		v = strtoul(p, &end, 10);
		if (end - p > 4 || v < fd->lo || v > fd->hi)
			return -1;
		*out = (unsigned)v;
		*s = end;
		return 0;
	}
	for (i = 0; i < fd->nnames; i++)
		if (strncasecmp(p, fd->names[i], 3) == 0 &&
		    !isalpha((unsigned char)p[3])) {
			*out = fd->lo + i;
			*s = p + 3;
			return 0;
		}
	return -1;
}

/*
 * One field: a comma-separated list of '*', N, N-M, each with an optional
 * /STEP.  Sets bits lo..hi of *mask.  0, or -1 with the reason in why.
 */
static int
cron_field(const struct field *fd, const char *s, uint64_t *mask, char *why,
    size_t len)
{
	const char *start = s;
	unsigned a, b, step, v;
	char *end;
	bool star;

	*mask = 0;
	for (;;) {
		star = *s == '*';
		if (star) {
			a = fd->lo;
			b = fd->hi;
			s++;
		} else {
			if (cron_value(fd, &s, &a) == -1)
				goto bad;
			b = a;
			if (*s == '-') {
				s++;
				if (cron_value(fd, &s, &b) == -1)
					goto bad;
				if (b < a) {
					snprintf(why, len, "%s: range '%s' "
					    "goes backwards", fd->name, start);
					return -1;
				}
			}
		}
		step = 1;
		if (*s == '/') {
			unsigned long st;
			s++;
			if (!isdigit((unsigned char)*s))
				goto bad;
			st = strtoul(s, &end, 10);
			if (end - s > 4 || st == 0 || st > fd->hi)
				goto bad;
			step = (unsigned)st;
			s = end;
			/* "N/STEP" is N-hi/STEP, as Vixie cron reads it. */
			if (!star && a == b)
				b = fd->hi;
		}
		for (v = a; v <= b; v += step)
			*mask |= 1ULL << v;
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			goto bad;
	}
bad:
	snprintf(why, len, "%s: '%s' is not a value from %u to %u, a range, a "
	    "list or a step (*/N)", fd->name, start, fd->lo, fd->hi);
	return -1;
}

static const struct {
	const char *name, *spec;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month m (1..12) of year y. */
static int
month_days(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* 0 Sunday .. 6 Saturday, of a Gregorian date (Sakamoto's method). */
static int
weekday(int y, int m, int d)
{
	static const int t[12] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

	if (m < 3)
		y--;
	return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

int
cron_parse(const char *text, struct cron_spec *c, char *why, size_t len)
{
	struct strv words;
	const char *w, *s = text;
	uint64_t mask[5];
	size_t i;
	int m, d;
	bool some;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strcmp(text, macros[i].name) == 0)
			s = macros[i].spec;
	strv_init(&words);
	if (argv_split(s, NULL, &words, &w) == -1 || words.n != 5) {
		snprintf(why, len, "'%s' is not a cron spec: five fields "
		    "(minute hour day-of-month month day-of-week), e.g. "
		    "'0 3 * * *', or @hourly, @daily, @weekly, @monthly, "
		    "@yearly", text);
		strv_free(&words);
		return -1;
	}
	for (i = 0; i < 5; i++)
		if (cron_field(&fields[i], words.v[i], &mask[i], why,
		    len) == -1) {
			strv_free(&words);
			return -1;
		}
	/* Vixie cron: a field that starts with '*' leaves the other alone. */
	c->dom_star = words.v[2][0] == '*';
	c->dow_star = words.v[4][0] == '*';
	strv_free(&words);
	c->minute = mask[0];
	c->hour = (uint32_t)mask[1];
	c->dom = (uint32_t)mask[2];
	c->month = (uint16_t)mask[3];
	c->dow = (uint8_t)((mask[4] | mask[4] >> 7) & 0x7f);
	/* A day of month no chosen month has ("30 2") never comes. */
	if (c->dow_star || c->dom_star) {
		some = false;
		for (m = 1; m <= 12 && !some; m++)
			for (d = 1; d <= month_days(2000, m) && !some; d++)
				some = (c->month >> m & 1) && (c->dom >> d & 1);
		if (!some) {
			snprintf(why, len, "'%s' never fires: no chosen month "
			    "has that day", text);
			return -1;
		}
	}
	return 0;
}

/* Does the civil date y-m-d match c's day and month fields? */
static bool
day_matches(const struct cron_spec *c, int y, int m, int d)
{
	bool dom = c->dom >> d & 1, dow = c->dow >> weekday(y, m, d) & 1;

	if (!(c->month >> m & 1))
		return false;
	if (c->dom_star && c->dow_star)
		return true;
	if (c->dom_star)
		return dow;
	if (c->dow_star)
		return dom;
	return dom || dow; /* both restricted: either, as in cron */
}

/* tm holds a civil time; does it exist as is in the local zone? */
static bool
civil_exists(const struct tm *want, int isdst, time_t *out)
{
	struct tm t = *want, back;

	t.tm_isdst = isdst;
	if ((*out = mktime(&t)) == (time_t)-1 ||
	    localtime_r(out, &back) == NULL)
		return false;
	return back.tm_year == want->tm_year && back.tm_mon == want->tm_mon &&
	    back.tm_mday == want->tm_mday && back.tm_hour == want->tm_hour &&
	    back.tm_min == want->tm_min;
}

/*
 * The instant of civil time want: its first occurrence when the clock
 * passes it twice (autumn); when the clock skips it (spring), the first
 * minute after the gap.  0, or -1 when none is found.
 */
static int
civil_instant(const struct tm *want, time_t *out)
{
	struct tm t = *want;
	time_t a, b;
	bool ha, hb;
	int k;

	for (k = 0; k < 24 * 60; k++) {
		ha = civil_exists(&t, 0, &a);
		hb = civil_exists(&t, 1, &b);
		if (ha || hb) {
			*out = ha && hb ? (a < b ? a : b) : ha ? a : b;
			return 0;
		}
		/* In a gap: the next minute, normalised by hand. */
		if (++t.tm_min == 60) {
			t.tm_min = 0;
			if (++t.tm_hour == 24)
				return -1; /* a gap over midnight: give up */
		}
	}
	return -1;
}

int
cron_next(const struct cron_spec *c, time_t now, time_t *next)
{
	struct tm cur, want;
	time_t at;
	int y, m, d, h, mi, days, h0, mi0;

	if (localtime_r(&now, &cur) == NULL)
		return -1;
	y = cur.tm_year + 1900;
	m = cur.tm_mon + 1;
	d = cur.tm_mday;
	/* From the minute after now's, in civil time. */
	h0 = cur.tm_hour;
	mi0 = cur.tm_min + 1;
	/* Feb 29 of a given weekday can be 28 years away. */
	for (days = 0; days < 366 * 29; days++) {
		if (day_matches(c, y, m, d)) {
			for (h = h0; h < 24; h++) {
				if (!(c->hour >> h & 1))
					continue;
				for (mi = h == h0 ? mi0 : 0; mi < 60; mi++) {
					if (!(c->minute >> mi & 1))
						continue;
					memset(&want, 0, sizeof(want));
					want.tm_year = y - 1900;
					want.tm_mon = m - 1;
					want.tm_mday = d;
					want.tm_hour = h;
					want.tm_min = mi;
					/*
					 * Each civil time fires once: a first
					 * occurrence already past (the hour
					 * the clock went back) is not again.
					 */
					if (civil_instant(&want, &at) == 0 &&
					    at > now) {
						*next = at;
						return 0;
					}
				}
			}
		}
		h0 = 0;
		mi0 = 0;
		if (++d > month_days(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	return -1;
}
