/*
 * test_http.c: the query of /events (http_events_query): after=ID and
 * limit=N, in any order, each once, digits only, in range; the default
 * without a query; a refusal naming what is wrong otherwise.  And the
 * dashboard's files built into corrald: /, /dashboard.css, /dashboard.js.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

static void
query_ok(const char *q, int64_t want_after, unsigned want_limit)
{
	char why[160] = "";
	int64_t after = -1;
	unsigned limit = 0;

	if (http_events_query(q, &after, &limit, why, sizeof(why)) != 0)
		fail_msg("\"%s\" refused: %s", q ? q : "(none)", why);
	assert_int_equal(after, want_after);
	assert_int_equal(limit, want_limit);
}

static void
query_bad(const char *q, const char *want)
{
	char why[160] = "";
	int64_t after;
	unsigned limit;

	if (http_events_query(q, &after, &limit, why, sizeof(why)) != -1)
		fail_msg("\"%s\" accepted", q);
	if (strcmp(why, want) != 0)
		fail_msg("\"%s\": \"%s\", want \"%s\"", q, why, want);
}

static void
test_events_query(void **state)
{
	(void)state;
	query_ok(NULL, 0, HTTP_EVENTS_DEFAULT);
	query_ok("after=0", 0, HTTP_EVENTS_DEFAULT);
	query_ok("after=42", 42, HTTP_EVENTS_DEFAULT);
	query_ok("limit=1", 0, 1);
	query_ok("limit=1000", 0, 1000);
	query_ok("after=7&limit=3", 7, 3);
	query_ok("limit=3&after=7", 7, 3);
	query_ok("after=007", 7, HTTP_EVENTS_DEFAULT);
	query_ok("after=9223372036854775807", INT64_MAX, HTTP_EVENTS_DEFAULT);

	query_bad("", "empty query: give after=ID, limit=N or none");
	query_bad("x=1", "unknown parameter 'x' (after=ID and limit=N are "
	    "known)");
	query_bad("after", "unknown parameter 'after' (after=ID and limit=N "
	    "are known)");
	query_bad("after=", "after=: want an event id, 0 or more");
	query_bad("after=-1", "after=-1: want an event id, 0 or more");
	query_bad("after=+1", "after=+1: want an event id, 0 or more");
	query_bad("after=1x", "after=1x: want an event id, 0 or more");
	query_bad("after=9223372036854775808",
	    "after=9223372036854775808: want an event id, 0 or more");
	query_bad("after=99999999999999999999",
	    "after=99999999999999999999: want an event id, 0 or more");
	query_bad("after=1&after=2", "after is given twice");
	query_bad("limit=1&limit=1", "limit is given twice");
	query_bad("limit=0", "limit=0: want 1 to 1000");
	query_bad("limit=1001", "limit=1001: want 1 to 1000");
	query_bad("limit=%31", "limit=%31: want 1 to 1000");
	query_bad("limit=1&", "unknown parameter '' (after=ID and limit=N are "
	    "known)");
	query_bad("&limit=1", "unknown parameter '' (after=ID and limit=N are "
	    "known)");
	query_bad("limit=1#top", "limit=1#top: want 1 to 1000");
	query_bad("AFTER=1", "unknown parameter 'AFTER' (after=ID and limit=N "
	    "are known)");
}

static void
test_dashboard_files(void **state)
{
	static const char *paths[] = { "/", "/dashboard.css", "/dashboard.js" };
	size_t i;

	(void)state;
	assert_int_equal(dash_nfiles, 3);
	for (i = 0; i < dash_nfiles; i++) {
		assert_string_equal(dash_files[i].path, paths[i]);
		assert_true(dash_files[i].len > 100);
	}
	assert_memory_equal(dash_files[0].data, "<!DOCTYPE html>", 15);
}

/* Without a token: a Host of an address or localhost, nothing else. */
static void
test_host(void **state)
{
	static const char *const ok[] = { "127.0.0.1", "127.0.0.1:9100",
		"localhost", "LocalHost:80", "[::1]", "[::1]:9100",
		"10.0.0.7:1", "0.0.0.0" };
	static const char *const bad[] = { "evil.example",
		"evil.example:9100", "127.0.0.1.evil.example", "localhost.",
		"localhost.evil.example", "", ":9100", "127.0.0.1:",
		"127.0.0.1:x", "127.0.0.1:123456", "127.0.0.1:80:80",
		"[::1", "[::1]x", "[]", "[evil.example]", "[::1]:",
		"127.1", "1.2.3.4 ", "xn--localhost" };
	size_t i;

	(void)state;
	assert_true(http_host_ok(NULL));
	for (i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		if (!http_host_ok(ok[i]))
			fail_msg("Host: %s refused", ok[i]);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (http_host_ok(bad[i]))
			fail_msg("Host: %s served", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_query),
		cmocka_unit_test(test_dashboard_files),
		cmocka_unit_test(test_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
