/*
 * test_argv.c: shell-like word splitting (argv_split) and the %(name)
 * expansions (expand_vars) of argv.c, word for word and message for message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

#define UNTERM_SINGLE "unterminated single quote (a ';' after a blank " \
	"starts a comment in this file)"
#define UNTERM_DOUBLE "unterminated double quote (a ';' after a blank " \
	"starts a comment in this file)"
#define BAD_PERCENT "a '%' must start %(agent), %(instance), %(here), " \
	"%(ENV_NAME) or be written %%"
#define KNOWN "(known: %(agent), %(instance), %(here), %(ENV_NAME))"

/* Split s (with seps) and compare with the NULL-terminated want[]. */
static void
split_is(const char *s, const char *seps, const char *const *want)
{
	struct strv sv;
	const char *why = NULL;
	size_t i, n;

	for (n = 0; want[n] != NULL; n++)
		;
	strv_init(&sv);
	if (argv_split(s, seps, &sv, &why) != 0)
		fail_msg("argv_split(\"%s\") failed: %s", s, why);
	if (sv.n != n) {
		for (i = 0; i < sv.n; i++)
			print_message("word %zu: \"%s\"\n", i, sv.v[i]);
		fail_msg("argv_split(\"%s\"): %zu words, want %zu", s, sv.n, n);
	}
	for (i = 0; i < n; i++) {
		if (strcmp(sv.v[i], want[i]) != 0)
			fail_msg("argv_split(\"%s\"): word %zu is \"%s\", want "
			    "\"%s\"", s, i, sv.v[i], want[i]);
	}
	if (n > 0)
		assert_null(sv.v[n]);
	strv_free(&sv);
	assert_null(sv.v);
	assert_int_equal(sv.n, 0);
}

#define SPLIT(s, ...) do {						\
	static const char *const w_[] = { __VA_ARGS__, NULL };		\
	split_is((s), NULL, w_);					\
} while (0)
#define SPLIT_SEPS(s, seps, ...) do {					\
	static const char *const w_[] = { __VA_ARGS__, NULL };		\
	split_is((s), (seps), w_);					\
} while (0)

static void
test_split_plain(void **state)
{
	struct strv sv;
	const char *why = NULL;

	SPLIT("a b  c", "a", "b", "c");
	SPLIT("  leading and trailing  ", "leading", "and", "trailing");
	SPLIT("tabs\tand\nnewlines", "tabs", "and", "newlines");
	SPLIT("one", "one");
	SPLIT("flaky-agent -s 700 -p 0.08", "flaky-agent", "-s", "700",
	    "-p", "0.08");
	/* Nothing shell-like is done but quoting. */
	SPLIT("echo $HOME `id` *.c ~ a;b a|b", "echo", "$HOME", "`id`", "*.c",
	    "~", "a;b", "a|b");
	SPLIT("a,b", "a,b");

	/* No words at all. */
	strv_init(&sv);
	assert_int_equal(argv_split("", NULL, &sv, &why), 0);
	assert_int_equal(sv.n, 0);
	assert_int_equal(argv_split(" \t ", NULL, &sv, &why), 0);
	assert_int_equal(sv.n, 0);
	strv_free(&sv);
}

static void
test_split_quotes(void **state)
{
	/* Single quotes keep everything, backslashes included. */
	SPLIT("'a b' c", "a b", "c");
	SPLIT("'a \\\" $x \\\\'", "a \\\" $x \\\\");
	SPLIT("'a\"b'", "a\"b");
	SPLIT("'it''s'", "its");
	/* Double quotes honour \" \\ \$ \` and keep other backslashes. */
	SPLIT("\"a \\\"b\\\" \\\\ \\$HOME \\` \\n\"",
	    "a \"b\" \\ $HOME ` \\n");
	SPLIT("\"a'b\"", "a'b");
	SPLIT("sh -c \"echo hi; exit 3\"", "sh", "-c", "echo hi; exit 3");
	SPLIT("sh -c 'echo \"$1\"' x", "sh", "-c", "echo \"$1\"", "x");
	/* Quotes join with what touches them. */
	SPLIT("a'b c'd\"e f\"g", "ab cde fg");
	SPLIT("--name=\"my agent\"", "--name=my agent");
	/* A backslash outside quotes quotes the next character. */
	SPLIT("a\\ b", "a b");
	SPLIT("\\'", "'");
	SPLIT("\\\"x\\\"", "\"x\"");
	SPLIT("a\\\\b", "a\\b");
	SPLIT("\\n", "n");
	/* Empty quotes make an empty word. */
	SPLIT("''", "");
	SPLIT("\"\"", "");
	SPLIT("a '' b \"\"", "a", "", "b", "");
	SPLIT("a''b", "ab");
}

static void
test_split_seps(void **state)
{
	SPLIT_SEPS("A=1,B=2, C=3", ",", "A=1", "B=2", "C=3");
	SPLIT_SEPS("A=1,,B=2", ",", "A=1", "B=2");
	SPLIT_SEPS(",A=1,", ",", "A=1");
	SPLIT_SEPS("A=\"x,y\",B='p q'", ",", "A=x,y", "B=p q");
	SPLIT_SEPS("A=\\,b", ",", "A=,b");
	SPLIT_SEPS("A=1 B=2", ",", "A=1", "B=2");
	SPLIT_SEPS("A=,B=", ",", "A=", "B=");
	SPLIT_SEPS("a:b;c", ":;", "a", "b", "c");
	SPLIT_SEPS("A=1,B=2", "", "A=1,B=2");
}

/* A failed split gives its reason and leaves out as it was. */
static void
split_bad(const char *s, const char *seps, const char *want)
{
	struct strv sv;
	const char *why = NULL;

	strv_init(&sv);
	strv_push(&sv, "keep");
	if (argv_split(s, seps, &sv, &why) != -1)
		fail_msg("argv_split(\"%s\") accepted", s);
	assert_non_null(why);
	if (strcmp(why, want) != 0)
		fail_msg("argv_split(\"%s\"): \"%s\", want \"%s\"", s, why,
		    want);
	assert_int_equal(sv.n, 1);
	assert_string_equal(sv.v[0], "keep");
	assert_null(sv.v[1]);
	strv_free(&sv);
}

static void
test_split_errors(void **state)
{
	split_bad("a 'b", NULL, UNTERM_SINGLE);
	split_bad("'", NULL, UNTERM_SINGLE);
	split_bad("one two three 'four five", NULL, UNTERM_SINGLE);
	/* What inih leaves of  sh -c "a ; b"  */
	split_bad("sh -c \"a", NULL, UNTERM_DOUBLE);
	split_bad("\"", NULL, UNTERM_DOUBLE);
	split_bad("\"a\\\"", NULL, UNTERM_DOUBLE);
	split_bad("\"a\\", NULL, UNTERM_DOUBLE);
	split_bad("a b\\", NULL, "backslash at the end of the value");
	split_bad("\\", NULL, "backslash at the end of the value");
	split_bad("A=1,B=\"2", ",", UNTERM_DOUBLE);
}

/* A failed split into an empty strv leaves it empty, nothing allocated. */
static void
test_split_errors_empty(void **state)
{
	struct strv sv;
	const char *why = NULL;

	strv_init(&sv);
	assert_int_equal(argv_split("a b c 'd", NULL, &sv, &why), -1);
	assert_string_equal(why, UNTERM_SINGLE);
	assert_int_equal(sv.n, 0);
	assert_null(sv.v);
	assert_int_equal(sv.cap, 0);
}

static void
test_split_appends(void **state)
{
	struct strv sv;
	const char *why = NULL;
	size_t i;

	strv_init(&sv);
	assert_int_equal(argv_split("a b", NULL, &sv, &why), 0);
	assert_int_equal(argv_split("c", NULL, &sv, &why), 0);
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "a");
	assert_string_equal(sv.v[1], "b");
	assert_string_equal(sv.v[2], "c");
	assert_null(sv.v[3]);
	strv_free(&sv);

	/* Growth past the first allocation keeps the NULL at the end. */
	for (i = 0; i < 100; i++)
		strv_push(&sv, "w");
	assert_int_equal(sv.n, 100);
	assert_null(sv.v[100]);
	strv_push_own(&sv, strdup("own"));
	assert_string_equal(sv.v[100], "own");
	assert_null(sv.v[101]);
	strv_free(&sv);
	strv_free(&sv); /* freeing twice is harmless: it reinitialises */
}

static void
expand_is(const char *s, const struct expand_vars *vars, const char *want)
{
	const char *why = NULL;
	char *x;

	if ((x = expand_vars(s, vars, &why)) == NULL)
		fail_msg("expand_vars(\"%s\") failed: %s", s, why);
	if (strcmp(x, want) != 0)
		fail_msg("expand_vars(\"%s\") = \"%s\", want \"%s\"", s, x,
		    want);
	free(x);
}

static void
expand_bad(const char *s, const struct expand_vars *vars, const char *want)
{
	const char *why = NULL;
	char *x;

	if ((x = expand_vars(s, vars, &why)) != NULL)
		fail_msg("expand_vars(\"%s\") accepted: \"%s\"", s, x);
	assert_non_null(why);
	if (strcmp(why, want) != 0)
		fail_msg("expand_vars(\"%s\"): \"%s\", want \"%s\"", s, why,
		    want);
}

static void
test_expand(void **state)
{
	const struct expand_vars v = { "planner", "3", "/srv/fleet" };
	const struct expand_vars empty = { "", "", "" };

	expand_is("%(agent)-%(instance)", &v, "planner-3");
	expand_is("%(here)/bin/agent", &v, "/srv/fleet/bin/agent");
	expand_is("--thread=%(agent)/%(instance)", &v, "--thread=planner/3");
	expand_is("%(agent)%(agent)", &v, "plannerplanner");
	expand_is("100%%", &v, "100%");
	expand_is("%%(agent)", &v, "%(agent)");
	expand_is("%%%(instance)", &v, "%3");
	expand_is("%%%%", &v, "%%");
	expand_is("", &v, "");
	expand_is("no vars here", &v, "no vars here");
	expand_is("(agent) here", &empty, "(agent) here");
	expand_is("x%(agent)%(instance)%(here)y", &empty, "xy");
}

static void
test_expand_errors(void **state)
{
	const struct expand_vars v = { "planner", "3", "/srv/fleet" };
	const struct expand_vars daemon = { NULL, NULL, "/srv/fleet" };

	expand_bad("%(agnet)", &v, "unknown expansion %(agnet) " KNOWN);
	expand_bad("run --id %(host)", &v, "unknown expansion %(host) " KNOWN);
	expand_bad("%()", &v, "unknown expansion %() " KNOWN);
	expand_bad("%(AGENT)", &v, "unknown expansion %(AGENT) " KNOWN);
	/* A long name is cut in the message. */
	expand_bad("%(abcdefghijklmnopqrstuvwxyz0123456789)", &v,
	    "unknown expansion %(abcdefghijklmnopqrstuvwxyz012345) " KNOWN);
	expand_bad("%", &v, BAD_PERCENT);
	expand_bad("50%", &v, BAD_PERCENT);
	expand_bad("%x", &v, BAD_PERCENT);
	expand_bad("%(agent", &v, BAD_PERCENT);
	expand_bad("%agent", &v, BAD_PERCENT);
	/* The daemon's own paths have no agent or instance. */
	expand_is("%(here)/state.db", &daemon, "/srv/fleet/state.db");
	expand_bad("/var/lib/%(instance).db", &daemon,
	    "%(instance) has no value here");
	expand_bad("%(agent)/log", &daemon, "%(agent) has no value here");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_plain),
		cmocka_unit_test(test_split_quotes),
		cmocka_unit_test(test_split_seps),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_split_errors_empty),
		cmocka_unit_test(test_split_appends),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
