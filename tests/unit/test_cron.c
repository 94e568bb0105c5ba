/*
 * test_cron.c: cron_restart's calendar (supervisor/cron.c) and max_age's
 * deadline (supervisor/recycle.c).  The next firing time of a spec is a
 * function of (spec, now, TZ): each case sets TZ and asks for the next
 * time after a given local time.  Ranges, steps, lists, names, macros, the
 * day-of-month / day-of-week OR rule, month ends, Feb 29 (and 2100, which
 * has none), year ends, both daylight-saving changes of Europe/Berlin and
 * America/New_York, and the specs that must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "corrald.h"

static void
zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* "YYYY-MM-DD HH:MM" local (first occurrence when ambiguous) -> time_t. */
static time_t
at(const char *s)
{
	struct tm tm, back;
	time_t best = (time_t)-1, t;
	int dst;

	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(s, "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min), 5);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	for (dst = 0; dst <= 1; dst++) {
		struct tm x = tm;
		x.tm_isdst = dst;
		t = mktime(&x);
		localtime_r(&t, &back);
		if (back.tm_hour == tm.tm_hour && back.tm_min == tm.tm_min &&
		    back.tm_mday == tm.tm_mday && (best == (time_t)-1 ||
		    t < best))
			best = t;
	}
	if (best == (time_t)-1)
		fail_msg("%s is no local time", s);
	return best;
}

/* The next firing of spec after now, as "YYYY-MM-DD HH:MM ZONE". */
static const char *
next_of(const char *spec, time_t now)
{
	static char buf[64];
	struct cron_spec c;
	char why[256];
	struct tm tm;
	time_t t;

	if (cron_parse(spec, &c, why, sizeof(why)) == -1)
		fail_msg("'%s' refused: %s", spec, why);
	if (cron_next(&c, now, &t) == -1)
		return "never";
	assert_true(t > now);
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M %Z", &tm);
	return buf;
}

#define NEXT(spec, from, want) \
	assert_string_equal(next_of(spec, at(from)), want)

static void
test_basics(void **state)
{
	(void)state;
	zone("UTC");
	NEXT("0 3 * * *", "2024-05-10 02:59", "2024-05-10 03:00 UTC");
	NEXT("0 3 * * *", "2024-05-10 03:00", "2024-05-11 03:00 UTC");
	NEXT("0 3 * * *", "2024-05-10 12:00", "2024-05-11 03:00 UTC");
	NEXT("* * * * *", "2024-05-10 12:00", "2024-05-10 12:01 UTC");
	/* Seconds into a minute: the next minute, not this one. */
	assert_string_equal(next_of("* * * * *", at("2024-05-10 12:00") + 59),
	    "2024-05-10 12:01 UTC");
	NEXT("30 * * * *", "2024-05-10 12:30", "2024-05-10 13:30 UTC");
	NEXT("59 23 31 12 *", "2024-05-10 12:00", "2024-12-31 23:59 UTC");
	/* Over a year's end. */
	NEXT("0 0 1 1 *", "2024-12-31 23:59", "2025-01-01 00:00 UTC");
	NEXT("@yearly", "2024-12-31 23:59", "2025-01-01 00:00 UTC");
	NEXT("@daily", "2024-05-10 12:00", "2024-05-11 00:00 UTC");
	NEXT("@midnight", "2024-05-10 12:00", "2024-05-11 00:00 UTC");
	NEXT("@hourly", "2024-05-10 12:00", "2024-05-10 13:00 UTC");
	NEXT("@weekly", "2024-05-10 12:00", "2024-05-12 00:00 UTC"); /* Sun */
	NEXT("@monthly", "2024-05-10 12:00", "2024-06-01 00:00 UTC");
}

static void
test_ranges_steps_lists(void **state)
{
	(void)state;
	zone("UTC");
	NEXT("*/15 * * * *", "2024-05-10 12:01", "2024-05-10 12:15 UTC");
	NEXT("*/15 * * * *", "2024-05-10 12:45", "2024-05-10 13:00 UTC");
	NEXT("10-20/5 * * * *", "2024-05-10 12:16", "2024-05-10 12:20 UTC");
	NEXT("10-20/5 * * * *", "2024-05-10 12:20", "2024-05-10 13:10 UTC");
	/* N/STEP is N-max/STEP, as in Vixie cron. */
	NEXT("50/5 * * * *", "2024-05-10 12:51", "2024-05-10 12:55 UTC");
	NEXT("50/5 * * * *", "2024-05-10 12:55", "2024-05-10 13:50 UTC");
	NEXT("5,35 1-3 * * *", "2024-05-10 02:36", "2024-05-10 03:05 UTC");
	NEXT("5,35 1-3 * * *", "2024-05-10 03:35", "2024-05-11 01:05 UTC");
	NEXT("0 0-23/6 * * *", "2024-05-10 12:00", "2024-05-10 18:00 UTC");
	NEXT("0 12 * jan,jul *", "2024-05-10 12:00", "2024-07-01 12:00 UTC");
	NEXT("0 12 * 2-3 *", "2024-05-10 12:00", "2025-02-01 12:00 UTC");
	NEXT("0 12 * * mon-fri", "2024-05-10 12:00", "2024-05-13 12:00 UTC");
	NEXT("0 12 * * SAT", "2024-05-10 12:00", "2024-05-11 12:00 UTC");
	/* 7 and 0 are both Sunday. */
	NEXT("0 12 * * 7", "2024-05-10 12:00", "2024-05-12 12:00 UTC");
	NEXT("0 12 * * 0", "2024-05-10 12:00", "2024-05-12 12:00 UTC");
	NEXT("0 12 * * 5-7", "2024-05-10 12:00", "2024-05-11 12:00 UTC");
	NEXT("0 12 * * */2", "2024-05-10 12:00", "2024-05-11 12:00 UTC"); /* 0,2,4,6 */
}

static void
test_dom_dow(void **state)
{
	(void)state;
	zone("UTC");
	/* Both restricted: either matches.  2024-05-13 is a Monday. */
	NEXT("0 0 15 * 1", "2024-05-10 12:00", "2024-05-13 00:00 UTC");
	NEXT("0 0 15 * 1", "2024-05-13 12:00", "2024-05-15 00:00 UTC");
	NEXT("0 0 15 * 1", "2024-05-15 12:00", "2024-05-20 00:00 UTC");
	/* Day of week '*': the day of month alone. */
	NEXT("0 0 15 * *", "2024-05-10 12:00", "2024-05-15 00:00 UTC");
	/* Day of month '*': the day of week alone. */
	NEXT("0 0 * * 1", "2024-05-14 12:00", "2024-05-20 00:00 UTC");
	/* A field that starts with '*' does not restrict, for the rule. */
	NEXT("0 0 */2 * 1", "2024-05-10 12:00", "2024-05-13 00:00 UTC");
	/* Friday the 13th is a day of month OR a Friday in cron. */
	NEXT("0 0 13 * 5", "2024-05-10 12:00", "2024-05-13 00:00 UTC");
}

static void
test_month_ends(void **state)
{
	(void)state;
	zone("UTC");
	/* The 31st: months that have one. */
	NEXT("0 0 31 * *", "2024-04-01 00:00", "2024-05-31 00:00 UTC");
	NEXT("0 0 31 * *", "2024-05-31 00:00", "2024-07-31 00:00 UTC");
	NEXT("0 0 30 * *", "2024-01-30 00:00", "2024-03-30 00:00 UTC");
	/* Feb 29: leap years only; 2100 is none. */
	NEXT("0 0 29 2 *", "2024-01-01 00:00", "2024-02-29 00:00 UTC");
	NEXT("0 0 29 2 *", "2024-02-29 00:00", "2028-02-29 00:00 UTC");
	NEXT("0 0 29 2 *", "2096-03-01 00:00", "2104-02-29 00:00 UTC");
	NEXT("0 0 29 2 *", "2000-01-01 00:00", "2000-02-29 00:00 UTC");
	NEXT("0 0 28-31 2 *", "2023-02-28 12:00", "2024-02-28 00:00 UTC");
	NEXT("0 0 28-31 2 *", "2024-02-28 12:00", "2024-02-29 00:00 UTC");
	/* Feb 29 OR a Monday of February. */
	NEXT("0 0 29 2 1", "2023-03-01 00:00", "2024-02-05 00:00 UTC");
	/* Last days of months, one after another. */
	NEXT("0 0 28-31 * *", "2024-04-30 00:00", "2024-05-28 00:00 UTC");
}

static void
test_dst_berlin(void **state)
{
	(void)state;
	zone("Europe/Berlin");
	/* 2024-03-31: 02:00 CET becomes 03:00 CEST; 02:30 never shows. */
	NEXT("30 2 * * *", "2024-03-31 01:00", "2024-03-31 03:00 CEST");
	NEXT("30 2 * * *", "2024-03-31 03:00", "2024-04-01 02:30 CEST");
	/* Times after the gap are themselves. */
	NEXT("30 3 * * *", "2024-03-31 01:00", "2024-03-31 03:30 CEST");
	/* Several skipped times fire once, when the clock jumps. */
	NEXT("*/20 2 * * *", "2024-03-31 01:59", "2024-03-31 03:00 CEST");
	NEXT("*/20 2 * * *", "2024-03-31 03:00", "2024-04-01 02:00 CEST");
	NEXT("0 3 * * *", "2024-03-30 12:00", "2024-03-31 03:00 CEST");
	/* 2024-10-27: 03:00 CEST becomes 02:00 CET; 02:30 is twice. */
	NEXT("30 2 * * *", "2024-10-27 01:00", "2024-10-27 02:30 CEST");
	/* Once: not again on the second pass. */
	assert_string_equal(next_of("30 2 * * *", at("2024-10-27 02:30")),
	    "2024-10-28 02:30 CET");
	assert_string_equal(next_of("30 2 * * *", at("2024-10-27 02:30") +
	    3600 - 60), "2024-10-28 02:30 CET"); /* 02:29 CET */
	/* Every hour: the repeated hour's times once, on the first pass. */
	assert_string_equal(next_of("0 * * * *", at("2024-10-27 02:00")),
	    "2024-10-27 03:00 CET");
	/* Intervals of the day stay civil: 03:00 local on both sides. */
	NEXT("0 3 * * *", "2024-10-26 12:00", "2024-10-27 03:00 CET");
	assert_int_equal(at("2024-10-28 03:00") - at("2024-10-27 03:00"),
	    86400);
	assert_int_equal(at("2024-10-27 03:00") - at("2024-10-26 03:00"),
	    90000);
}

static void
test_dst_new_york(void **state)
{
	(void)state;
	zone("America/New_York");
	/* 2024-03-10 02:00 EST -> 03:00 EDT. */
	NEXT("15 2 * * *", "2024-03-10 00:00", "2024-03-10 03:00 EDT");
	/* 2024-11-03 02:00 EDT -> 01:00 EST: 01:15 twice, fires once. */
	NEXT("15 1 * * *", "2024-11-03 00:00", "2024-11-03 01:15 EDT");
	assert_string_equal(next_of("15 1 * * *", at("2024-11-03 01:15")),
	    "2024-11-04 01:15 EST");
}

static void
test_refused(void **state)
{
	static const char *bad[] = {
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *",
		"* * 0 * *", "* * 32 * *", "* * * 0 *", "* * * 13 *",
		"* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *",
		"1,,2 * * * *", "1- * * * *", "* * * foo *", "* * * * funday",
		"0 0 30 2 *", "0 0 31 4,6,9,11 *", "@often", "*/61 * * * *",
		"1/ * * * *",
	};
	struct cron_spec c;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cron_parse(bad[i], &c, why, sizeof(why)) == 0)
			fail_msg("'%s' was taken", bad[i]);
		assert_true(why[0] != '\0');
	}
	assert_int_equal(cron_parse("0 0 30 2 *", &c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "never fires"));
	/* Restricted both ways, Feb 30 OR a weekday: it fires. */
	assert_int_equal(cron_parse("0 0 30 2 1", &c, why, sizeof(why)), 0);
}

static void
test_max_age_due(void **state)
{
	(void)state;
	assert_int_equal(recycle_due_in(0, 0.25, 0.5, 1000, 5000), UINT64_MAX);
	assert_int_equal(recycle_due_in(2000, 0, 0.9, 1000, 1000), 2000);
	assert_int_equal(recycle_due_in(2000, 0, 0.9, 1000, 2500), 500);
	assert_int_equal(recycle_due_in(2000, 0, 0.9, 1000, 3000), 0);
	assert_int_equal(recycle_due_in(2000, 0, 0.9, 1000, 9000), 0);
	/* Jitter only shortens, by up to jitter * max_age. */
	assert_int_equal(recycle_due_in(10000, 0.25, 0.0, 0, 0), 10000);
	assert_int_equal(recycle_due_in(10000, 0.25, 0.5, 0, 0), 8750);
	assert_true(recycle_due_in(10000, 0.25, 0.999999, 0, 0) >= 7500);
	assert_true(recycle_due_in(10000, 0.25, 5.0, 0, 0) >= 7500);
	assert_int_equal(recycle_due_in(10000, 0.25, -1.0, 0, 0), 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basics),
		cmocka_unit_test(test_ranges_steps_lists),
		cmocka_unit_test(test_dom_dow),
		cmocka_unit_test(test_month_ends),
		cmocka_unit_test(test_dst_berlin),
		cmocka_unit_test(test_dst_new_york),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_max_age_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
