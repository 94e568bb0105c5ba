/*
 * test_request.c: the control request grammar (request.c), field for
 * field and refusal for refusal, as docs/CONTROL.md states it.
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
parse_ok(const char *line, struct ctl_request *r)
{
	char why[CTL_LINE_MAX + 256];

	if (ctl_parse(line, strlen(line), r, why, sizeof(why)) != 0)
		fail_msg("ctl_parse(\"%s\") refused: %s", line, why);
}

static void
parse_bad_n(const char *line, size_t len, const char *want)
{
	char why[CTL_LINE_MAX + 256];
	struct ctl_request r;

	if (ctl_parse(line, len, &r, why, sizeof(why)) != -1)
		fail_msg("ctl_parse(\"%s\") accepted", line);
	if (strcmp(why, want) != 0)
		fail_msg("ctl_parse(\"%s\"): \"%s\", want \"%s\"", line, why,
		    want);
	/* Nothing is left to free. */
	assert_null(r.targets);
	assert_null(r.words.v);
}

static void
parse_bad(const char *line, const char *want)
{
	parse_bad_n(line, strlen(line), want);
}

static void
test_framing(void **state)
{
	char big[CTL_LINE_MAX + 2];

	(void)state;
	parse_bad("", "empty request");
	parse_bad("  \t ", "empty request");
	parse_bad_n("corral/1 st\0atus", 16, "request contains a NUL byte");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	parse_bad(big, "request longer than 4096 bytes");
	parse_bad("hello there", "unsupported protocol 'hello' (this corrald "
	    "speaks corral/1)");
	parse_bad("corral/1", "no command");
	parse_bad("corral/1 status \"open", "bad request: unterminated double "
	    "quote (a ';' after a blank starts a comment in this file)");
	parse_bad("corral/1 frobnicate", "unknown command 'frobnicate' "
	    "(status, start, stop, restart, signal, scale, reset, history, "
	    "checkpoints, events, tail, log, reload, reexec, shutdown, "
	    "version)");
	/* reexec takes no argument: with one it is no command. */
	parse_bad("corral/1 reexec now", "unknown command 'reexec' (status, "
	    "start, stop, restart, signal, scale, reset, history, "
	    "checkpoints, events, tail, log, reload, reexec, shutdown, version)");
}

static void
test_status_and_changes(void **state)
{
	struct ctl_request r;

	(void)state;
	parse_ok("corral/1 'status'", &r);
	assert_int_equal(r.cmd, CMD_STATUS);
	assert_false(r.json);
	assert_int_equal(r.ntargets, 0);
	ctl_request_free(&r);

	parse_ok("corral/1 status --json w:3 research", &r);
	assert_true(r.json);
	assert_int_equal(r.ntargets, 2);
	assert_string_equal(r.targets[0].word, "w:3");
	assert_int_equal(r.targets[0].namelen, 1);
	assert_int_equal(r.targets[0].instance, 3);
	assert_string_equal(r.targets[1].word, "research");
	assert_int_equal(r.targets[1].instance, -1);
	ctl_request_free(&r);

	parse_ok("corral/1 stop --no-wait all", &r);
	assert_int_equal(r.cmd, CMD_STOP);
	assert_true(r.nowait);
	assert_int_equal(r.ntargets, 1);
	ctl_request_free(&r);

	parse_bad("corral/1 restart", "usage: restart [--no-wait] "
	    "all|AGENT|AGENT:N|CLUSTER...");
	parse_bad("corral/1 start --no-wait", "usage: start [--no-wait] "
	    "all|AGENT|AGENT:N|CLUSTER...");
	parse_bad("corral/1 stop w:", "bad target 'w:': use AGENT:INSTANCE "
	    "with a number");
	parse_bad("corral/1 stop w:-1", "bad target 'w:-1': use "
	    "AGENT:INSTANCE with a number");
	parse_bad("corral/1 status w:2x", "bad target 'w:2x': use "
	    "AGENT:INSTANCE with a number");

	/* signal SIG TARGET...: a name with or without SIG, or a number. */
	parse_ok("corral/1 signal HUP w:1 research", &r);
	assert_int_equal(r.cmd, CMD_SIGNAL);
	assert_int_equal(r.sig, SIGHUP);
	assert_int_equal(r.ntargets, 2);
	assert_int_equal(r.targets[0].instance, 1);
	ctl_request_free(&r);
	parse_ok("corral/1 signal SIGusr1 all", &r);
	assert_int_equal(r.sig, SIGUSR1);
	ctl_request_free(&r);
	parse_ok("corral/1 signal 12 w", &r);
	assert_int_equal(r.sig, 12);
	ctl_request_free(&r);
	parse_bad("corral/1 signal HUP", "usage: signal SIGNAL "
	    "all|AGENT|AGENT:N|CLUSTER...");
	parse_bad("corral/1 signal", "usage: signal SIGNAL "
	    "all|AGENT|AGENT:N|CLUSTER...");
	parse_bad("corral/1 signal BOGUS w", "bad signal 'BOGUS': unknown "
	    "signal (examples: TERM, INT, HUP, QUIT, USR1)");
	parse_bad("corral/1 signal 0 w", "bad signal '0': not a signal "
	    "number (1 to 64)");
	parse_bad("corral/1 signal HUP w:x", "bad target 'w:x': use "
	    "AGENT:INSTANCE with a number");
}

static void
test_views(void **state)
{
	struct ctl_request r;

	(void)state;
	parse_ok("corral/1 events", &r);
	assert_int_equal(r.cmd, CMD_EVENTS);
	assert_int_equal(r.limit, 20);
	assert_int_equal(r.ntargets, 0);
	ctl_request_free(&r);

	parse_ok("corral/1 tail --stderr w:2 -n 0 -f", &r);
	assert_int_equal(r.cmd, CMD_TAIL);
	assert_true(r.err);
	assert_true(r.follow);
	assert_int_equal(r.limit, 0);
	assert_int_equal(r.ntargets, 1);
	assert_int_equal(r.targets[0].namelen, 1);
	assert_int_equal(r.targets[0].instance, 2);
	ctl_request_free(&r);

	parse_bad("corral/1 events -n", "usage: events [-f] [-n N] "
	    "[AGENT[:N]]");
	parse_bad("corral/1 events -n 100001", "-n takes a number from 0 to "
	    "100000");
	parse_bad("corral/1 events -n ''", "-n takes a number from 0 to "
	    "100000");
	parse_bad("corral/1 events a b", "usage: events [-f] [-n N] "
	    "[AGENT[:N]]");
	parse_bad("corral/1 history", "usage: history [-n N] AGENT[:N]");
	parse_bad("corral/1 history -f w", "usage: history [-n N] AGENT[:N]");
	parse_bad("corral/1 checkpoints --stderr w", "usage: checkpoints "
	    "[-n N] AGENT[:N]");
	/* tail: no target is every worker; several are merged. */
	parse_ok("corral/1 tail -n 3", &r);
	assert_int_equal(r.ntargets, 0);
	assert_int_equal(r.limit, 3);
	ctl_request_free(&r);
	parse_ok("corral/1 tail -f a research b:1 --all-streams", &r);
	assert_int_equal(r.ntargets, 3);
	assert_true(r.all_streams);
	assert_false(r.err);
	assert_string_equal(r.targets[1].word, "research");
	assert_int_equal(r.targets[2].namelen, 1);
	assert_int_equal(r.targets[2].instance, 1);
	ctl_request_free(&r);
	parse_bad("corral/1 tail --stderr --all-streams", "tail: --stderr or "
	    "--all-streams, not both");
	parse_bad("corral/1 tail -x", "usage: tail [-f] [-n N] [--stderr | "
	    "--all-streams] [TARGET...]");
	parse_bad("corral/1 tail a b:", "bad target 'b:': use AGENT or "
	    "AGENT:INSTANCE");
	parse_bad("corral/1 events --all-streams", "usage: events [-f] [-n N] "
	    "[AGENT[:N]]");
	parse_bad("corral/1 history --all-streams w", "usage: history [-n N] "
	    "AGENT[:N]");
	/* The usage first, then the target. */
	parse_bad("corral/1 checkpoints -f w:", "usage: checkpoints [-n N] "
	    "AGENT[:N]");
	parse_bad("corral/1 history w:100001", "bad target 'w:100001': use "
	    "AGENT or AGENT:INSTANCE");
	parse_bad("corral/1 events :1", "bad agent name ':1'");

	/* log: corrald's own, no target and no stream. */
	parse_ok("corral/1 log", &r);
	assert_int_equal(r.cmd, CMD_LOG);
	assert_int_equal(r.limit, 20);
	assert_false(r.follow);
	assert_int_equal(r.ntargets, 0);
	ctl_request_free(&r);
	parse_ok("corral/1 log -f -n 5", &r);
	assert_true(r.follow);
	assert_int_equal(r.limit, 5);
	ctl_request_free(&r);
	parse_ok("corral/1 log --follow -n 0", &r);
	assert_true(r.follow);
	assert_int_equal(r.limit, 0);
	ctl_request_free(&r);
	parse_bad("corral/1 log w", "usage: log [-f] [-n N]");
	parse_bad("corral/1 log --stderr", "usage: log [-f] [-n N]");
	parse_bad("corral/1 log -n", "usage: log [-f] [-n N]");
	parse_bad("corral/1 log -x", "usage: log [-f] [-n N]");
	parse_bad("corral/1 log -n 100001", "-n takes a number from 0 to "
	    "100000");
	parse_bad("corral/1 tail "
	    "a2345678901234567890123456789012345678901234567890123456789012345",
	    "bad agent name "
	    "'a2345678901234567890123456789012345678901234567890123456789012345'");
}

/* restart --rolling and scale: one agent each, their options checked. */
static void
test_rolling_scale(void **state)
{
	struct ctl_request r;

	(void)state;
	parse_ok("corral/1 restart --rolling web", &r);
	assert_int_equal(r.cmd, CMD_RESTART);
	assert_true(r.rolling);
	assert_false(r.nowait);
	assert_int_equal(r.timeout_ms, 0);
	assert_int_equal(r.ntargets, 1);
	assert_string_equal(r.targets[0].word, "web");
	ctl_request_free(&r);
	parse_ok("corral/1 restart --no-wait --rolling --timeout 90s web", &r);
	assert_true(r.rolling);
	assert_true(r.nowait);
	assert_int_equal(r.timeout_ms, 90000);
	ctl_request_free(&r);
	/* Without --rolling, restart is what it was. */
	parse_ok("corral/1 restart web api", &r);
	assert_false(r.rolling);
	assert_int_equal(r.ntargets, 2);
	ctl_request_free(&r);
	parse_bad("corral/1 restart --rolling", "usage: restart --rolling "
	    "[--timeout DURATION] [--no-wait] AGENT");
	parse_bad("corral/1 restart --rolling web api", "usage: restart "
	    "--rolling [--timeout DURATION] [--no-wait] AGENT");
	parse_bad("corral/1 restart --rolling web:1", "usage: restart "
	    "--rolling [--timeout DURATION] [--no-wait] AGENT");
	parse_bad("corral/1 restart --rolling all", "usage: restart "
	    "--rolling [--timeout DURATION] [--no-wait] AGENT");
	parse_bad("corral/1 restart --rolling --timeout 5 web",
	    "--timeout '5': duration needs a unit (ms, s, m, h or d)");
	parse_bad("corral/1 restart --rolling --timeout 0s web",
	    "--timeout must be above 0");

	parse_ok("corral/1 scale web 5", &r);
	assert_int_equal(r.cmd, CMD_SCALE);
	assert_int_equal(r.count, 5);
	assert_string_equal(r.targets[0].word, "web");
	ctl_request_free(&r);
	parse_ok("corral/1 scale web 100000", &r);
	assert_int_equal(r.count, 100000);
	ctl_request_free(&r);
	parse_bad("corral/1 scale web", "usage: scale AGENT N");
	parse_bad("corral/1 scale web 0", "scale: '0' is not a number of "
	    "instances from 1 to 100000");
	parse_bad("corral/1 scale web 100001", "scale: '100001' is not a "
	    "number of instances from 1 to 100000");
	parse_bad("corral/1 scale web -1", "scale: '-1' is not a number of "
	    "instances from 1 to 100000");
	parse_bad("corral/1 scale web:0 2", "usage: scale AGENT N");
}

#define VALID "(stopped, starting, running, backoff, stopping, exited, " \
	"fatal, held, degraded, limited, elsewhere, waiting, failed)"

static void
test_status_state(void **state)
{
	struct ctl_request r;

	(void)state;
	parse_ok("corral/1 status --state running", &r);
	assert_int_equal(r.states, CTL_STATE(W_RUNNING));
	assert_int_equal(r.ntargets, 0);
	assert_false(r.json);
	ctl_request_free(&r);
	/* Any case, a list, twice, =, options among the targets. */
	parse_ok("corral/1 status w --state RUNNING,Fatal --json "
	    "--state=held research --state failed", &r);
	assert_int_equal(r.states, CTL_STATE(W_RUNNING) | CTL_STATE(W_FATAL) |
	    CTL_STATE_HELD | CTL_STATE_FAILED);
	assert_true(r.json);
	assert_int_equal(r.ntargets, 2);
	assert_string_equal(r.targets[0].word, "w");
	assert_string_equal(r.targets[1].word, "research");
	ctl_request_free(&r);
	parse_ok("corral/1 status --state backoff,stopping,exited,degraded,"
	    "limited,elsewhere,starting,stopped", &r);
	assert_int_equal(r.states, CTL_STATE(W_BACKOFF) |
	    CTL_STATE(W_STOPPING) | CTL_STATE(W_EXITED) |
	    CTL_STATE(W_DEGRADED) | CTL_STATE(W_LIMITED) |
	    CTL_STATE(W_ELSEWHERE) | CTL_STATE(W_STARTING) |
	    CTL_STATE(W_STOPPED));
	ctl_request_free(&r);

	parse_bad("corral/1 status --state runing", "--state: unknown state "
	    "'runing' " VALID);
	parse_bad("corral/1 status --state running,,fatal", "--state: an "
	    "empty state name in 'running,,fatal' " VALID);
	parse_bad("corral/1 status --state=", "--state: an empty state name "
	    "in '' " VALID);
	parse_bad("corral/1 status --state running,", "--state: an empty "
	    "state name in 'running,' " VALID);
	parse_bad("corral/1 status --state", "usage: status [--json] "
	    "[--state STATE[,STATE...]] [TARGET...]");
	parse_bad("corral/1 status --state 'running ' w", "--state: unknown "
	    "state 'running ' " VALID);
}

static void
test_state_match(void **state)
{
	const enum corral_exit_class crash = CORRAL_EXIT_CRASH,
	    ok = CORRAL_EXIT_SUCCESS, stopped = CORRAL_EXIT_STOPPED,
	    none = CORRAL_EXIT_NONE;
	const unsigned held = CTL_STATE_HELD, failed = CTL_STATE_FAILED;

	(void)state;
	/* No filter: everything. */
	assert_true(ctl_state_match(0, W_STOPPED, false, none));
	assert_true(ctl_state_match(CTL_STATE(W_RUNNING), W_RUNNING, false,
	    crash));
	assert_false(ctl_state_match(CTL_STATE(W_RUNNING), W_STARTING, false,
	    none));
	/* held: a breaker's HELD, or stopped by the operator. */
	assert_true(ctl_state_match(held, W_HELD, false, crash));
	assert_true(ctl_state_match(held, W_STOPPED, true, stopped));
	assert_true(ctl_state_match(held, W_STOPPING, true, none));
	assert_false(ctl_state_match(held, W_STOPPED, false, none));
	assert_false(ctl_state_match(held, W_DEGRADED, false, crash));
	/* failed: FATAL and BACKOFF whatever the exit; EXITED, HELD and
	 * DEGRADED after a failure; a running worker never. */
	assert_true(ctl_state_match(failed, W_FATAL, false, none));
	assert_true(ctl_state_match(failed, W_BACKOFF, false, ok));
	assert_true(ctl_state_match(failed, W_EXITED, false, crash));
	assert_false(ctl_state_match(failed, W_EXITED, false, ok));
	assert_true(ctl_state_match(failed, W_HELD, false, crash));
	assert_false(ctl_state_match(failed, W_HELD, false, ok));
	assert_true(ctl_state_match(failed, W_DEGRADED, false,
	    CORRAL_EXIT_ERROR));
	assert_false(ctl_state_match(failed, W_RUNNING, false, crash));
	assert_false(ctl_state_match(failed, W_STARTING, false, crash));
	assert_false(ctl_state_match(failed, W_STOPPED, true, crash));
	assert_false(ctl_state_match(failed, W_LIMITED, false, crash));
	assert_false(ctl_state_match(failed, W_EXITED, false, stopped));
	/* A union. */
	assert_true(ctl_state_match(failed | CTL_STATE(W_RUNNING), W_RUNNING,
	    false, none));
}

static void
test_status_exit(void **state)
{
	(void)state;
	/* Nothing named, nothing filtered: 0, whatever runs. */
	assert_int_equal(ctl_status_exit(false, false, "3 workers, 0 running"),
	    0);
	/* Named: 0 only when every one runs. */
	assert_int_equal(ctl_status_exit(true, false, "3 workers, 3 running"),
	    0);
	assert_int_equal(ctl_status_exit(true, false, "3 workers, 2 running"),
	    3);
	assert_int_equal(ctl_status_exit(true, false, "1 worker, 1 running"),
	    0);
	assert_int_equal(ctl_status_exit(true, false, "1 worker, 0 running"),
	    3);
	/* Filtered: 0 when something matched, whatever its state. */
	assert_int_equal(ctl_status_exit(true, true, "2 workers, 0 running"),
	    0);
	assert_int_equal(ctl_status_exit(false, true, "0 workers, 0 running"),
	    3);
	/* An older corrald's line: 0. */
	assert_int_equal(ctl_status_exit(true, false, "3 workers"), 0);
	assert_int_equal(ctl_status_exit(true, true, ""), 0);
}

static void
test_others(void **state)
{
	struct ctl_request r;

	(void)state;
	parse_ok("corral/1 reset research --reason 'a fix is out'", &r);
	assert_int_equal(r.cmd, CMD_RESET);
	assert_string_equal(r.targets[0].word, "research");
	assert_string_equal(r.reason, "a fix is out");
	ctl_request_free(&r);
	parse_ok("corral/1 reset w", &r);
	assert_string_equal(r.reason, "no reason given");
	ctl_request_free(&r);
	parse_bad("corral/1 reset", "usage: reset AGENT|CLUSTER "
	    "[--reason TEXT]");
	parse_bad("corral/1 reset --reason x", "usage: reset AGENT|CLUSTER "
	    "[--reason TEXT]");
	parse_bad("corral/1 reset w --reason", "usage: reset AGENT|CLUSTER "
	    "[--reason TEXT]");

	parse_ok("corral/1 reload", &r);
	assert_int_equal(r.cmd, CMD_RELOAD);
	assert_false(r.dry_run);
	ctl_request_free(&r);
	parse_ok("corral/1 reload --dry-run", &r);
	assert_int_equal(r.cmd, CMD_RELOAD);
	assert_true(r.dry_run);
	ctl_request_free(&r);
	parse_bad("corral/1 reload now", "usage: reload [--dry-run] (it "
	    "reads the file corrald started with)");
	parse_bad("corral/1 reload --dry-run now", "usage: reload [--dry-run] "
	    "(it reads the file corrald started with)");
	parse_ok("corral/1 reexec", &r);
	assert_int_equal(r.cmd, CMD_REEXEC);
	ctl_request_free(&r);
	parse_ok("corral/1 version x", &r);
	assert_int_equal(r.cmd, CMD_VERSION);
	ctl_request_free(&r);
	parse_ok("corral/1 shutdown", &r);
	assert_int_equal(r.cmd, CMD_SHUTDOWN);
	ctl_request_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_status_and_changes),
		cmocka_unit_test(test_views),
		cmocka_unit_test(test_status_state),
		cmocka_unit_test(test_state_match),
		cmocka_unit_test(test_status_exit),
		cmocka_unit_test(test_others),
		cmocka_unit_test(test_rolling_scale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
