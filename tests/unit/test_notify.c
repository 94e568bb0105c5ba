/*
 * test_notify.c: the worker protocol's parser (notify_socket.c): sd_notify
 * lines, unknown keys ignored, malformed datagrams refused, the strict
 * reading of a CORRAL_ERROR report, and CORRAL_STORAGE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

/* Parse text (a copy: the parser cuts it); 0 or -1. */
static int
parse(const char *text, struct notify_msg *m, char **buf, const char **why)
{
	*buf = strdup(text);
	return notify_parse(*buf, strlen(text), m, why);
}

static void
test_lines(void **state)
{
	struct notify_msg m;
	const char *why;
	char *buf;

	(void)state;
	assert_int_equal(parse("READY=1\nSTATUS=warming up\nX_UNKNOWN=7\n"
	    "WATCHDOG=1\nSTOPPING=1", &m, &buf, &why), 0);
	assert_true(m.ready);
	assert_true(m.watchdog);
	assert_true(m.stopping);
	assert_string_equal(m.status, "warming up");
	assert_null(m.report);
	free(buf);
	/* READY=0 is no READY; an empty datagram says nothing. */
	assert_int_equal(parse("READY=0", &m, &buf, &why), 0);
	assert_false(m.ready);
	free(buf);
	assert_int_equal(parse("", &m, &buf, &why), 0);
	free(buf);
}

static void
test_malformed(void **state)
{
	struct notify_msg m;
	const char *why;
	char *buf;
	char nul[] = "READY=1\0x";

	(void)state;
	assert_int_equal(parse("READY=1\nno-equals", &m, &buf, &why), -1);
	assert_string_equal(why, "a line without '='");
	free(buf);
	assert_int_equal(notify_parse(nul, sizeof(nul) - 1, &m, &why), -1);
	assert_string_equal(why, "a NUL byte");
	/* A good report before a bad line is not leaked. */
	assert_int_equal(parse("CORRAL_ERROR={\"severity\":\"info\","
	    "\"recoverable\":true,\"code\":1,\"message\":\"m\"}\nbad", &m,
	    &buf, &why), -1);
	free(buf);
}

/* CORRAL_STORAGE=KIND[: MESSAGE]: one of four kinds, or malformed. */
static void
test_storage(void **state)
{
	struct notify_msg m;
	const char *why;
	char *buf;

	(void)state;
	assert_int_equal(parse("READY=1", &m, &buf, &why), 0);
	assert_int_equal(m.storage, SK_NONE);
	free(buf);
	assert_int_equal(parse("CORRAL_STORAGE=moved: checkpoint database "
	    "/x/ck.db was deleted", &m, &buf, &why), 0);
	assert_int_equal(m.storage, SK_MOVED);
	assert_string_equal(m.storage_msg,
	    "checkpoint database /x/ck.db was deleted");
	free(buf);
	assert_int_equal(parse("CORRAL_STORAGE=full", &m, &buf, &why), 0);
	assert_int_equal(m.storage, SK_FULL);
	assert_string_equal(m.storage_msg, "");
	free(buf);
	assert_int_equal(parse("CORRAL_STORAGE=damaged:x", &m, &buf, &why), 0);
	assert_int_equal(m.storage, SK_DAMAGED);
	assert_string_equal(m.storage_msg, "x");
	free(buf);
	assert_int_equal(parse("CORRAL_STORAGE=io: e", &m, &buf, &why), 0);
	assert_int_equal(m.storage, SK_IO);
	free(buf);
	/* corrald's own word, and anything else, is not the worker's. */
	assert_int_equal(parse("CORRAL_STORAGE=lost: x", &m, &buf, &why), -1);
	assert_string_equal(why, "CORRAL_STORAGE: not io, full, damaged or "
	    "moved");
	free(buf);
	assert_int_equal(parse("CORRAL_STORAGE=", &m, &buf, &why), -1);
	free(buf);
	assert_int_equal(parse("CORRAL_STORAGE=fullish", &m, &buf, &why), -1);
	free(buf);
	assert_string_equal(storage_kind_name(SK_LOST), "lost");
	assert_string_equal(storage_kind_name(SK_NONE), "none");
}

static void
test_report(void **state)
{
	struct notify_msg m;
	const char *why;
	char *buf;

	(void)state;
	assert_int_equal(parse("CORRAL_ERROR={\"severity\":\"critical\","
	    "\"recoverable\":false,\"code\":\"E42\",\"message\":\"db gone\"}",
	    &m, &buf, &why), 0);
	assert_non_null(m.report);
	assert_int_equal(m.report->severity, REP_CRITICAL);
	assert_false(m.report->recoverable);
	assert_string_equal(m.report->code, "E42");
	assert_string_equal(m.report->message, "db gone");
	report_free(m.report);
	free(buf);
	/* An integer code is kept as text. */
	assert_int_equal(parse("CORRAL_ERROR={\"severity\":\"warning\","
	    "\"recoverable\":true,\"code\":503,\"message\":\"\"}", &m, &buf,
	    &why), 0);
	assert_string_equal(m.report->code, "503");
	assert_true(m.report->recoverable);
	report_free(m.report);
	free(buf);
}

static void
test_report_bad(void **state)
{
	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "{", "not JSON" },
		{ "[1]", "not a JSON object" },
		{ "{\"recoverable\":true,\"code\":1,\"message\":\"m\"}",
		    "severity: not a string" },
		{ "{\"severity\":\"fatal\",\"recoverable\":true,\"code\":1,"
		    "\"message\":\"m\"}",
		    "severity: not info, warning, error or critical" },
		{ "{\"severity\":\"error\",\"recoverable\":1,\"code\":1,"
		    "\"message\":\"m\"}", "recoverable: not true or false" },
		{ "{\"severity\":\"error\",\"recoverable\":true,\"code\":1.5,"
		    "\"message\":\"m\"}", "code: not a string or an integer" },
		{ "{\"severity\":\"error\",\"recoverable\":true,\"code\":1}",
		    "message: not a string" },
	};
	struct worker_report *r;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(report_parse(bad[i].json, strlen(bad[i].json),
		    &r, &why), -1);
		assert_null(r);
		assert_string_equal(why, bad[i].why);
	}
}

static int
teardown(void **state)
{
	(void)state;
	report_parser_close();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_report_bad),
	};

	log_init(LOG_LVL_ERROR, "test_notify");
	return cmocka_run_group_tests(tests, NULL, teardown);
}
