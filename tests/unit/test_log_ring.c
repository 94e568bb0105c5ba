/*
 * test_log_ring.c: where corrald's own log goes and what it keeps
 * (supervisor/log.c, output.c), without I/O: the ring of the last lines
 * behind corralctl log (wrap-around, asking for more lines than it holds,
 * a line longer than the ring), the JOURNAL_STREAM decision, and how much
 * of a write a size-limited log file takes before it rotates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

/* What log_ring_last gave, joined with '|'. */
static char got[4096];
static size_t ngot;

static void
collect(void *arg, const char *line, size_t n)
{
	size_t k = strlen(got);

	(void)arg;
	snprintf(got + k, sizeof(got) - k, "%s%.*s", ngot > 0 ? "|" : "",
	    (int)n, line);
	ngot++;
}

static size_t
last(const struct log_ring *r, unsigned n)
{
	size_t k;

	got[0] = '\0';
	ngot = 0;
	k = log_ring_last(r, n, collect, NULL);
	assert_int_equal(k, ngot);
	return k;
}

static void
add(struct log_ring *r, const char *s)
{
	log_ring_add(r, s, strlen(s));
}

static void
test_ring_empty_and_few(void **state)
{
	static char buf[2 * 64];
	struct log_ring r;

	(void)state;
	log_ring_init(&r, buf, 64);
	assert_int_equal(last(&r, 20), 0);
	add(&r, "one");
	add(&r, "two");
	add(&r, "");
	add(&r, "four");
	/* More asked than held: all of them, oldest first. */
	assert_int_equal(last(&r, 20), 4);
	assert_string_equal(got, "one|two||four");
	assert_int_equal(last(&r, 2), 2);
	assert_string_equal(got, "|four");
	assert_int_equal(last(&r, 0), 0);
}

static void
test_ring_wraps(void **state)
{
	static char buf[2 * 32];
	struct log_ring r;
	char line[16];
	int i;

	(void)state;
	log_ring_init(&r, buf, 32);
	/* "line NN\n" is 8 bytes: 4 fit, and the write wraps round. */
	for (i = 0; i < 23; i++) {
		snprintf(line, sizeof(line), "line %02d", i);
		add(&r, line);
		assert_true(r.len <= r.cap);
		assert_true(r.start < r.cap);
	}
	assert_int_equal(last(&r, 100), 4);
	assert_string_equal(got, "line 19|line 20|line 21|line 22");
	assert_int_equal(last(&r, 3), 3);
	assert_string_equal(got, "line 20|line 21|line 22");
	/* Lines of other lengths: the oldest go whole, never in part. */
	add(&r, "a much longer line");
	assert_int_equal(last(&r, 100), 2);
	assert_string_equal(got, "line 22|a much longer line");
	add(&r, "x");
	add(&r, "y");
	assert_int_equal(last(&r, 100), 4);
	assert_string_equal(got, "line 22|a much longer line|x|y");
	add(&r, "z");
	assert_int_equal(last(&r, 100), 4);
	assert_string_equal(got, "a much longer line|x|y|z");
}

static void
test_ring_long_line(void **state)
{
	static char buf[2 * 16];
	struct log_ring r;

	(void)state;
	log_ring_init(&r, buf, 16);
	add(&r, "short");
	/* Longer than the ring: cut to cap - 1 bytes, and alone in it. */
	add(&r, "0123456789abcdefghijklmnop");
	assert_int_equal(r.len, 16);
	assert_int_equal(last(&r, 5), 1);
	assert_string_equal(got, "0123456789abcde");
	add(&r, "next");
	assert_int_equal(last(&r, 5), 1);
	assert_string_equal(got, "next");
	/* Exactly cap - 1 bytes fits, after the others go. */
	add(&r, "0123456789ABCDE");
	assert_int_equal(last(&r, 5), 1);
	assert_string_equal(got, "0123456789ABCDE");
}

static void
test_journal_match(void **state)
{
	(void)state;
	assert_true(log_journal_match("8:1234", 8, 1234));
	assert_true(log_journal_match("66306:18446744073709551615", 66306,
	    UINT64_MAX));
	/* Set for another file (stderr redirected since): not the journal. */
	assert_false(log_journal_match("8:1234", 8, 1235));
	assert_false(log_journal_match("9:1234", 8, 1234));
	/* Unset or malformed: not the journal. */
	assert_false(log_journal_match(NULL, 8, 1234));
	assert_false(log_journal_match("", 0, 0));
	assert_false(log_journal_match("8", 8, 0));
	assert_false(log_journal_match("8:", 8, 0));
	assert_false(log_journal_match(":1234", 0, 1234));
	assert_false(log_journal_match("8:1234x", 8, 1234));
	assert_false(log_journal_match("8:1234:5", 8, 1234));
	assert_false(log_journal_match(" 8:1234", 8, 1234));
	assert_false(log_journal_match("-8:1234", (uint64_t)-8, 1234));
	assert_false(log_journal_match("8:-1234", 8, (uint64_t)-1234));
	assert_false(log_journal_match("0x8:1234", 8, 1234));
	assert_false(log_journal_match("99999999999999999999:1", 0, 1));
}

static void
test_journal_prefix_off(void **state)
{
	(void)state;
	/* No log_detect_journal() here: plain lines, no priority. */
	assert_false(log_journal());
	assert_string_equal(log_journal_prefix(LOG_LVL_ERROR), "");
}

static void
test_logfile_fit(void **state)
{
	const char *two = "aaaa\nbbbb\n"; /* two lines of 5 bytes */

	(void)state;
	/* No limit, or room for all: all of it. */
	assert_int_equal(logfile_fit(two, 10, 1000, 0), 10);
	assert_int_equal(logfile_fit(two, 10, 90, 100), 10);
	/* Room for the first line only. */
	assert_int_equal(logfile_fit(two, 10, 93, 100), 5);
	/* Room for no whole line: rotate first. */
	assert_int_equal(logfile_fit(two, 10, 97, 100), 0);
	assert_int_equal(logfile_fit(two, 10, 100, 100), 0);
	/* An empty file takes an over-long line whole, never 0. */
	assert_int_equal(logfile_fit("0123456789\nx\n", 13, 0, 4), 11);
	assert_int_equal(logfile_fit("0123456789", 10, 0, 4), 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_empty_and_few),
		cmocka_unit_test(test_ring_wraps),
		cmocka_unit_test(test_ring_long_line),
		cmocka_unit_test(test_journal_match),
		cmocka_unit_test(test_journal_prefix_off),
		cmocka_unit_test(test_logfile_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
