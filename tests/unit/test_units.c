/*
 * test_units.c: the value types of the fleet file (units.c), parsed strictly
 * with the exact refusal messages, and printed back in a form that parses to
 * the same value.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

#define NOT_DURATION "not a duration (examples: 250ms, 2s, 5m, 1h)"
#define NEEDS_UNIT "duration needs a unit (ms, s, m, h or d)"
#define BAD_UNIT "unknown duration unit (use ms, s, m, h or d)"
#define NOT_SIZE "not a size (examples: 512K, 10M, 1G)"
#define BAD_SIZE_UNIT "unknown size unit (use K, M or G)"
#define NOT_SIGNUM "not a signal number (1 to 64)"
#define NOT_SIGNAL "unknown signal (examples: TERM, INT, HUP, QUIT, USR1)"
#define NOT_CODES "not a list of exit codes 0 to 255"
#define CODE_RANGE "exit code out of range (0 to 255)"
#define NOT_BOOL "not a boolean (true or false)"
#define NOT_WHOLE "not a whole number"
#define NOT_NUMBER "not a number"

/* The sentinel a failed parse must leave in its output. */
#define UNTOUCHED 0xdeadbeefULL

static void
duration_ok(const char *s, uint64_t want)
{
	const char *why = NULL;
	uint64_t ms = UNTOUCHED;

	if (parse_duration(s, &ms, &why) != 0)
		fail_msg("parse_duration(\"%s\") failed: %s", s, why);
	if (ms != want)
		fail_msg("parse_duration(\"%s\") = %llu, want %llu", s,
		    (unsigned long long)ms, (unsigned long long)want);
}

static void
duration_bad(const char *s, const char *want)
{
	const char *why = NULL;
	uint64_t ms = UNTOUCHED;

	if (parse_duration(s, &ms, &why) != -1)
		fail_msg("parse_duration(\"%s\") accepted: %llu", s,
		    (unsigned long long)ms);
	assert_non_null(why);
	if (strcmp(why, want) != 0)
		fail_msg("parse_duration(\"%s\"): \"%s\", want \"%s\"", s, why,
		    want);
	assert_true(ms == UNTOUCHED);
}

static void
test_duration_ok(void **state)
{
	duration_ok("250ms", 250);
	duration_ok("2s", 2000);
	duration_ok("1.5s", 1500);
	duration_ok("1m30s", 90000);
	duration_ok("0", 0);
	duration_ok("0s", 0);
	duration_ok("0ms", 0);
	duration_ok("1h", 3600000);
	duration_ok("2d", 172800000);
	duration_ok("5m", 300000);
	duration_ok(".5s", 500);
	duration_ok("1h30m15s250ms", 5415250);
	duration_ok("0.1s", 100);
	duration_ok("1.5ms", 2); /* rounded to the nearest ms */
	duration_ok("0.4ms", 0);
	duration_ok("1ms", 1);
	duration_ok("1s1s", 2000);
	duration_ok("10000d", 864000000000ULL);
}

static void
test_duration_bad(void **state)
{
	duration_bad("", "empty duration");
	duration_bad("5", NEEDS_UNIT);
	duration_bad("1.5", NEEDS_UNIT);
	duration_bad("1m30", NEEDS_UNIT);
	duration_bad("5x", BAD_UNIT);
	duration_bad("5sec", BAD_UNIT);
	duration_bad("5 s", BAD_UNIT);
	duration_bad("5S", BAD_UNIT);
	duration_bad("1h 30m", NOT_DURATION);
	duration_bad("-1s", NOT_DURATION);
	duration_bad("s", NOT_DURATION);
	duration_bad("ms", NOT_DURATION);
	duration_bad(" 2s", NOT_DURATION);
	duration_bad("+2s", NOT_DURATION);
	duration_bad("inf", NOT_DURATION);
	duration_bad("1s-1s", NOT_DURATION);
	duration_bad("100000000000000000000s", "duration too large");
	duration_bad("1e3ms", "unknown duration unit (use ms, s, m, h or d)");
	duration_bad("0x10s", "unknown duration unit (use ms, s, m, h or d)");
	duration_bad(".s", "not a duration (examples: 250ms, 2s, 5m, 1h)");
	duration_bad("20000000d", "duration too large");
}

static void
size_ok(const char *s, uint64_t want)
{
	const char *why = NULL;
	uint64_t b = UNTOUCHED;

	if (parse_size(s, &b, &why) != 0)
		fail_msg("parse_size(\"%s\") failed: %s", s, why);
	if (b != want)
		fail_msg("parse_size(\"%s\") = %llu, want %llu", s,
		    (unsigned long long)b, (unsigned long long)want);
}

static void
size_bad(const char *s, const char *want)
{
	const char *why = NULL;
	uint64_t b = UNTOUCHED;

	if (parse_size(s, &b, &why) != -1)
		fail_msg("parse_size(\"%s\") accepted: %llu", s,
		    (unsigned long long)b);
	if (strcmp(why, want) != 0)
		fail_msg("parse_size(\"%s\"): \"%s\", want \"%s\"", s, why,
		    want);
	assert_true(b == UNTOUCHED);
}

static void
test_size(void **state)
{
	size_ok("512", 512);
	size_ok("0", 0);
	size_ok("16K", 16384);
	size_ok("16k", 16384);
	size_ok("10M", 10485760);
	size_ok("1G", 1073741824);
	size_ok("1KB", 1024);
	size_ok("1kb", 1024);
	size_ok("1KiB", 1024);
	size_ok("2MiB", 2097152);
	size_ok("3GB", 3ULL << 30);
	size_ok("18446744073709551615", UINT64_MAX);
	size_ok("17179869183G", 17179869183ULL << 30);

	size_bad("", NOT_SIZE);
	size_bad("K", NOT_SIZE);
	size_bad("-1", NOT_SIZE);
	size_bad("+1", NOT_SIZE);
	size_bad(" 1", NOT_SIZE);
	size_bad("ten", NOT_SIZE);
	size_bad("10T", BAD_SIZE_UNIT);
	size_bad("10 M", BAD_SIZE_UNIT);
	size_bad("1B", BAD_SIZE_UNIT); /* no unit, no B */
	size_bad("1Ki", BAD_SIZE_UNIT);
	size_bad("1KBB", BAD_SIZE_UNIT);
	size_bad("1.5M", BAD_SIZE_UNIT);
	size_bad("18446744073709551616", "size too large");
	size_bad("17179869184G", "size too large");
}

static void
signal_ok(const char *s, int want)
{
	const char *why = NULL;
	int sig = -1;

	if (parse_signal(s, &sig, &why) != 0)
		fail_msg("parse_signal(\"%s\") failed: %s", s, why);
	assert_int_equal(sig, want);
}

static void
signal_bad(const char *s, const char *want)
{
	const char *why = NULL;
	int sig = -1;

	if (parse_signal(s, &sig, &why) != -1)
		fail_msg("parse_signal(\"%s\") accepted: %d", s, sig);
	if (strcmp(why, want) != 0)
		fail_msg("parse_signal(\"%s\"): \"%s\", want \"%s\"", s, why,
		    want);
	assert_int_equal(sig, -1);
}

static void
test_signal(void **state)
{
	static const char *names[] = {
		"HUP", "INT", "QUIT", "ABRT", "KILL", "USR1", "USR2", "TERM",
		"ALRM", "CONT", "STOP", "WINCH", "PIPE", "SEGV", "BUS", "ILL",
		"FPE", "TRAP", "XCPU", "XFSZ", "SYS", "PWR", "TSTP",
	};
	const char *why;
	size_t i;
	int sig;

	signal_ok("TERM", SIGTERM);
	signal_ok("SIGTERM", SIGTERM);
	signal_ok("sigterm", SIGTERM);
	signal_ok("term", SIGTERM);
	signal_ok("SIGKILL", SIGKILL);
	signal_ok("HUP", SIGHUP);
	signal_ok("usr1", SIGUSR1);
	signal_ok("9", 9);
	signal_ok("1", 1);
	signal_ok("64", 64);

	signal_bad("0", NOT_SIGNUM);
	signal_bad("65", NOT_SIGNUM);
	signal_bad("9x", NOT_SIGNUM);
	signal_bad("99999999999999999999", NOT_SIGNUM);
	signal_bad("SIGFOO", NOT_SIGNAL);
	signal_bad("", NOT_SIGNAL);
	signal_bad("SIG", NOT_SIGNAL);
	signal_bad("-9", NOT_SIGNAL);
	signal_bad("TERM ", NOT_SIGNAL);
	signal_bad("SIGSIGTERM", NOT_SIGNAL);

	/* Every name parses and prints back as itself. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		why = NULL;
		assert_int_equal(parse_signal(names[i], &sig, &why), 0);
		assert_non_null(signal_name(sig));
		assert_string_equal(signal_name(sig), names[i]);
	}
	assert_string_equal(signal_name(SIGTERM), "TERM");
	assert_string_equal(signal_name(SIGKILL), "KILL");
	assert_null(signal_name(0));
	assert_null(signal_name(99));
}

static void
codes_is(const struct corral_codeset *set, const unsigned *want, size_t n)
{
	unsigned code;
	size_t i;
	bool in;

	for (code = 0; code < 256; code++) {
		in = false;
		for (i = 0; i < n; i++)
			if (want[i] == code)
				in = true;
		if (corral_codeset_has(set, code) != in)
			fail_msg("code %u: %s the set, want %s", code,
			    in ? "not in" : "in", in ? "in" : "not in");
	}
}

static void
codes_bad(const char *s, const char *want)
{
	static const unsigned before[] = { 7, 200 };
	struct corral_codeset set;
	const char *why = NULL;

	corral_codeset_clear(&set);
	corral_codeset_add(&set, 7);
	corral_codeset_add(&set, 200);
	if (parse_codes(s, &set, &why) != -1)
		fail_msg("parse_codes(\"%s\") accepted", s);
	if (strcmp(why, want) != 0)
		fail_msg("parse_codes(\"%s\"): \"%s\", want \"%s\"", s, why,
		    want);
	/* A refused list leaves the set as it was. */
	codes_is(&set, before, 2);
}

static void
test_codes(void **state)
{
	static const unsigned zero[] = { 0 };
	static const unsigned three[] = { 0, 3, 75 };
	static const unsigned edges[] = { 0, 1, 254, 255 };
	struct corral_codeset set;
	const char *why = NULL;

	corral_codeset_clear(&set);
	assert_int_equal(parse_codes("0", &set, &why), 0);
	codes_is(&set, zero, 1);
	assert_int_equal(parse_codes("0, 75,3", &set, &why), 0);
	codes_is(&set, three, 3);
	assert_int_equal(parse_codes("  75\t3 0  ", &set, &why), 0);
	codes_is(&set, three, 3);
	assert_int_equal(parse_codes("0,0,75,3,3", &set, &why), 0);
	codes_is(&set, three, 3);
	assert_int_equal(parse_codes("255,254,1,0", &set, &why), 0);
	codes_is(&set, edges, 4);
	assert_int_equal(parse_codes("007", &set, &why), 0);
	assert_true(corral_codeset_has(&set, 7));
	/* Empty: no code at all (the list replaces, it does not add). */
	assert_int_equal(parse_codes("", &set, &why), 0);
	assert_true(corral_codeset_empty(&set));
	assert_int_equal(parse_codes(" , ,", &set, &why), 0);
	assert_true(corral_codeset_empty(&set));

	codes_bad("256", CODE_RANGE);
	codes_bad("0, 999", CODE_RANGE);
	codes_bad("99999999", CODE_RANGE);
	codes_bad("-1", NOT_CODES);
	codes_bad("1-3", NOT_CODES);
	codes_bad("abc", NOT_CODES);
	codes_bad("0, x", NOT_CODES);
	codes_bad("0;1", NOT_CODES);
	codes_bad("1.0", NOT_CODES);
}

static void
bool_is(const char *s, bool want)
{
	const char *why = NULL;
	bool b = !want;

	if (parse_bool(s, &b, &why) != 0)
		fail_msg("parse_bool(\"%s\") failed: %s", s, why);
	assert_true(b == want);
}

static void
bool_bad(const char *s)
{
	const char *why = NULL;
	bool b = true;

	if (parse_bool(s, &b, &why) != -1)
		fail_msg("parse_bool(\"%s\") accepted", s);
	assert_string_equal(why, NOT_BOOL);
	assert_true(b);
}

static void
test_bool(void **state)
{
	bool_is("true", true);
	bool_is("TRUE", true);
	bool_is("yes", true);
	bool_is("On", true);
	bool_is("1", true);
	bool_is("false", false);
	bool_is("False", false);
	bool_is("no", false);
	bool_is("off", false);
	bool_is("0", false);
	bool_bad("");
	bool_bad("2");
	bool_bad("maybe");
	bool_bad("truee");
	bool_bad("y");
	bool_bad(" true");
}

static void
test_uint(void **state)
{
	const char *why = NULL;
	uint64_t v = 0;

	assert_int_equal(parse_uint("0", 10, &v, &why), 0);
	assert_true(v == 0);
	assert_int_equal(parse_uint("100", 100, &v, &why), 0);
	assert_true(v == 100);
	assert_int_equal(parse_uint("0100", 100, &v, &why), 0);
	assert_true(v == 100);
	assert_int_equal(parse_uint("18446744073709551615", UINT64_MAX, &v,
	    &why), 0);
	assert_true(v == UINT64_MAX);

	v = 42;
	assert_int_equal(parse_uint("101", 100, &v, &why), -1);
	assert_string_equal(why, "number too large (at most 100)");
	assert_int_equal(parse_uint("18446744073709551616", UINT64_MAX, &v,
	    &why), -1);
	assert_string_equal(why,
	    "number too large (at most 18446744073709551615)");
	assert_int_equal(parse_uint("", 100, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_int_equal(parse_uint("+1", 100, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_int_equal(parse_uint("-1", 100, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_int_equal(parse_uint(" 1", 100, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_int_equal(parse_uint("1 ", 100, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_int_equal(parse_uint("1.0", 100, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_int_equal(parse_uint("0x10", 100, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_true(v == 42);
}

static void
test_int(void **state)
{
	const char *why = NULL;
	int64_t v = 0;

	assert_int_equal(parse_int("-5", -10, 10, &v, &why), 0);
	assert_true(v == -5);
	assert_int_equal(parse_int("+5", -10, 10, &v, &why), 0);
	assert_true(v == 5);
	assert_int_equal(parse_int("-10", -10, 10, &v, &why), 0);
	assert_true(v == -10);
	assert_int_equal(parse_int("10", -10, 10, &v, &why), 0);
	assert_true(v == 10);
	assert_int_equal(parse_int("0", -10, 10, &v, &why), 0);
	assert_true(v == 0);

	v = 42;
	assert_int_equal(parse_int("-11", -10, 10, &v, &why), -1);
	assert_string_equal(why, "number out of range (-10 to 10)");
	assert_int_equal(parse_int("11", -10, 10, &v, &why), -1);
	assert_string_equal(why, "number out of range (-10 to 10)");
	assert_int_equal(parse_int("9223372036854775808", INT64_MIN,
	    INT64_MAX, &v, &why), -1);
	assert_string_equal(why, "number out of range "
	    "(-9223372036854775808 to 9223372036854775807)");
	assert_int_equal(parse_int("-", -10, 10, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_int_equal(parse_int("", -10, 10, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_int_equal(parse_int("5x", -10, 10, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_int_equal(parse_int("1e3", -10, 10000, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_int_equal(parse_int(" 5", -10, 10, &v, &why), -1);
	assert_string_equal(why, NOT_WHOLE);
	assert_true(v == 42);
}

static void
test_double(void **state)
{
	const char *why = NULL;
	double d = 0;

	assert_int_equal(parse_double("0.25", 0, 0.99, &d, &why), 0);
	assert_true(d == 0.25);
	assert_int_equal(parse_double("0", 0, 0.99, &d, &why), 0);
	assert_true(d == 0);
	assert_int_equal(parse_double("0.99", 0, 0.99, &d, &why), 0);
	assert_true(d == 0.99);
	assert_int_equal(parse_double(".1", 0, 1, &d, &why), 0);
	assert_true(d == 0.1);
	assert_int_equal(parse_double("2", 1, 1000, &d, &why), 0);
	assert_true(d == 2.0);

	d = 42;
	assert_int_equal(parse_double("1", 0, 0.99, &d, &why), -1);
	assert_string_equal(why, "number out of range (0 to 0.99)");
	/* Plain decimals only: no sign, exponent or hex. */
	assert_int_equal(parse_double("-0.1", 0, 0.99, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double("1e-1", 0, 1, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double("0x2", 1, 10, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double("1.2.3", 1, 10, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double("0.5", 1, 1000, &d, &why), -1);
	assert_string_equal(why, "number out of range (1 to 1000)");
	assert_int_equal(parse_double("0.4", 0.5, 1, &d, &why), -1);
	assert_string_equal(why, "number out of range (0.5 to 1)");
	assert_int_equal(parse_double("abc", 0, 1, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double("", 0, 1, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double(" 1", 0, 10, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double("1 ", 0, 10, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double("x2", 1, 10, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double("nan", 0, 1, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double("inf", 0, 1e300, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_int_equal(parse_double("1e999", 0, 1e300, &d, &why), -1);
	assert_string_equal(why, NOT_NUMBER);
	assert_true(d == 42);
}

static void
duration_prints(uint64_t ms, const char *want)
{
	char buf[32];
	const char *why = NULL;
	uint64_t back = UNTOUCHED;

	format_duration(ms, buf, sizeof(buf));
	assert_string_equal(buf, want);
	if (parse_duration(buf, &back, &why) != 0)
		fail_msg("\"%s\" does not parse back: %s", buf, why);
	assert_true(back == ms);
}

static void
test_format_duration(void **state)
{
	duration_prints(0, "0");
	duration_prints(1, "1ms");
	duration_prints(250, "250ms");
	duration_prints(1500, "1500ms");
	duration_prints(2000, "2s");
	duration_prints(16000, "16s");
	duration_prints(59000, "59s");
	duration_prints(60000, "1m");
	duration_prints(90000, "90s");
	duration_prints(300000, "5m");
	duration_prints(3600000, "1h");
	duration_prints(5400000, "90m");
	duration_prints(86400000, "1d");
	duration_prints(172800000, "2d");
	duration_prints(86400001, "86400001ms");
	duration_prints(864000000000ULL, "10000d");
}

static void
size_prints(uint64_t b, const char *want)
{
	char buf[32];
	const char *why = NULL;
	uint64_t back = UNTOUCHED;

	format_size(b, buf, sizeof(buf));
	assert_string_equal(buf, want);
	if (parse_size(buf, &back, &why) != 0)
		fail_msg("\"%s\" does not parse back: %s", buf, why);
	assert_true(back == b);
}

static void
test_format_size(void **state)
{
	size_prints(0, "0");
	size_prints(1, "1");
	size_prints(512, "512");
	size_prints(1023, "1023");
	size_prints(1024, "1K");
	size_prints(1536, "1536");
	size_prints(16384, "16K");
	size_prints(10ULL << 20, "10M");
	size_prints((1ULL << 20) + 1024, "1025K");
	size_prints(1ULL << 30, "1G");
	size_prints(3ULL << 30, "3G");
	size_prints(1ULL << 40, "1024G");
	size_prints(UINT64_MAX, "18446744073709551615");
}

static void
test_edit_distance(void **state)
{
	char longer[NAME_MAX_LEN + 10];

	assert_int_equal(edit_distance("", ""), 0);
	assert_int_equal(edit_distance("abc", ""), 3);
	assert_int_equal(edit_distance("", "abc"), 3);
	assert_int_equal(edit_distance("same", "same"), 0);
	assert_int_equal(edit_distance("Command", "command"), 0);
	assert_int_equal(edit_distance("comand", "command"), 1);
	assert_int_equal(edit_distance("command", "comand"), 1);
	assert_int_equal(edit_distance("numproc", "numprocs"), 1);
	assert_int_equal(edit_distance("stop-signal", "stop_signal"), 1);
	/* A transposition costs two: plain Levenshtein. */
	assert_int_equal(edit_distance("agnet", "agent"), 2);
	assert_int_equal(edit_distance("defautls", "defaults"), 2);
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	assert_int_equal(edit_distance("sitting", "kitten"), 3);
	assert_int_equal(edit_distance("flaw", "lawn"), 2);
	assert_int_equal(edit_distance("abc", "xyz"), 3);
	/* Past a name's length the answer is only an upper bound. */
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(edit_distance("ab", longer), sizeof(longer) - 1);
	assert_int_equal(edit_distance(longer, "ab"), sizeof(longer) - 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_ok),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_edit_distance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
