/*
 * test_classify.c: exit classification (worker-sdk/classify.c), fed with
 * real wait statuses of forked children that exit or die by a signal.
 */
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "corral.h"

/* The wait status of a child that exits with code. */
static int
status_exit(int code)
{
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(code);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), code);
	return st;
}

/* The wait status of a child that dies of sig, without a core file. */
static int
status_signal(int sig)
{
	struct rlimit nocore = { 0, 0 };
	struct sigaction sa;
	sigset_t set;
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &nocore);
		/* Sanitizers catch SEGV, BUS, FPE ...: the default kills. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL);
		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
		kill(getpid(), sig);
		_exit(100); /* not reached */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), sig);
	return st;
}

static enum corral_exit_class
classify_status(const struct corral_exit_policy *p, int status)
{
	struct corral_exit_facts f;

	memset(&f, 0, sizeof(f));
	f.status = status;
	return corral_classify(p, &f);
}

static void
test_exit_codes_default(void **state)
{
	struct corral_exit_policy p;

	(void)state;
	corral_exit_policy_default(&p);
	assert_int_equal(classify_status(&p, status_exit(0)),
	    CORRAL_EXIT_SUCCESS);
	assert_int_equal(classify_status(&p, status_exit(75)),
	    CORRAL_EXIT_TRANSIENT);
	assert_int_equal(classify_status(&p, status_exit(64)),
	    CORRAL_EXIT_FATAL);
	assert_int_equal(classify_status(&p, status_exit(78)),
	    CORRAL_EXIT_FATAL);
	/* In no list: the run said it failed. */
	assert_int_equal(classify_status(&p, status_exit(1)),
	    CORRAL_EXIT_ERROR);
	assert_int_equal(classify_status(&p, status_exit(2)),
	    CORRAL_EXIT_ERROR);
	assert_int_equal(classify_status(&p, status_exit(65)),
	    CORRAL_EXIT_ERROR);
	/* EX_IOERR: the checkpoint storage failed. */
	assert_int_equal(classify_status(&p, status_exit(74)),
	    CORRAL_EXIT_STORAGE);
	assert_int_equal(classify_status(&p, status_exit(76)),
	    CORRAL_EXIT_ERROR);
	assert_int_equal(classify_status(&p, status_exit(127)),
	    CORRAL_EXIT_ERROR);
	assert_int_equal(classify_status(&p, status_exit(128 + SIGSEGV)),
	    CORRAL_EXIT_ERROR); /* a shell's "killed by": still an exit */
	assert_int_equal(classify_status(&p, status_exit(255)),
	    CORRAL_EXIT_ERROR);
}

static void
test_signals(void **state)
{
	static const int crash[] = { SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE,
		SIGTRAP, SIGSYS, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1,
		SIGPIPE, SIGALRM };
	struct corral_exit_policy p;
	size_t i;

	(void)state;
	corral_exit_policy_default(&p);
	for (i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
		assert_int_equal(classify_status(&p, status_signal(crash[i])),
		    CORRAL_EXIT_CRASH);
	/* A KILL we did not send: the OOM killer, an operator's kill -9. */
	assert_int_equal(classify_status(&p, status_signal(SIGKILL)),
	    CORRAL_EXIT_KILLED);
}

#if defined(W_EXITCODE) && defined(WCOREFLAG)
/* A core file does not change the class; built, as cores are disabled. */
static void
test_core_dumped(void **state)
{
	struct corral_exit_policy p;
	int st;

	(void)state;
	corral_exit_policy_default(&p);
	st = W_EXITCODE(0, SIGSEGV) | WCOREFLAG;
	assert_true(WIFSIGNALED(st) && WCOREDUMP(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	assert_int_equal(classify_status(&p, st), CORRAL_EXIT_CRASH);
	st = W_EXITCODE(0, SIGABRT) | WCOREFLAG;
	assert_int_equal(classify_status(&p, st), CORRAL_EXIT_CRASH);
	/* And a built status agrees with a real one. */
	assert_int_equal(W_EXITCODE(75, 0), status_exit(75));
	assert_int_equal(W_EXITCODE(0, SIGKILL), status_signal(SIGKILL));
}
#endif

struct prec_case {
	bool exec_failed, stop_requested, hang, reported_fatal;
	int status; /* 0: exit 0; 1: exit 1; 9: SIGKILL; 15: SIGTERM */
	enum corral_exit_class want;
};

static void
test_precedence(void **state)
{
	/* exec_failed > stop_requested > hang > reported_fatal > status */
	static const struct prec_case cases[] = {
		{ true, true, true, true, 0, CORRAL_EXIT_FATAL },
		{ true, true, false, false, 15, CORRAL_EXIT_FATAL },
		{ true, false, true, false, 9, CORRAL_EXIT_FATAL },
		{ true, false, false, false, 0, CORRAL_EXIT_FATAL },
		{ true, false, false, false, 1, CORRAL_EXIT_FATAL },
		{ false, true, true, true, 9, CORRAL_EXIT_STOPPED },
		{ false, true, false, true, 1, CORRAL_EXIT_STOPPED },
		{ false, true, false, false, 15, CORRAL_EXIT_STOPPED },
		{ false, true, false, false, 9, CORRAL_EXIT_STOPPED },
		{ false, true, false, false, 1, CORRAL_EXIT_STOPPED },
		{ false, true, false, false, 0, CORRAL_EXIT_STOPPED },
		{ false, false, true, true, 9, CORRAL_EXIT_HANG },
		{ false, false, true, false, 9, CORRAL_EXIT_HANG },
		{ false, false, true, false, 0, CORRAL_EXIT_HANG },
		{ false, false, false, true, 0, CORRAL_EXIT_FATAL },
		{ false, false, false, true, 1, CORRAL_EXIT_FATAL },
		{ false, false, false, true, 15, CORRAL_EXIT_FATAL },
		{ false, false, false, true, 9, CORRAL_EXIT_FATAL },
		{ false, false, false, false, 0, CORRAL_EXIT_SUCCESS },
		{ false, false, false, false, 1, CORRAL_EXIT_ERROR },
		{ false, false, false, false, 9, CORRAL_EXIT_KILLED },
		{ false, false, false, false, 15, CORRAL_EXIT_CRASH },
	};
	struct corral_exit_policy p;
	struct corral_exit_facts f;
	int st_exit0, st_exit1, st_kill, st_term;
	size_t i;

	(void)state;
	corral_exit_policy_default(&p);
	st_exit0 = status_exit(0);
	st_exit1 = status_exit(1);
	st_kill = status_signal(SIGKILL);
	st_term = status_signal(SIGTERM);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct prec_case *c = &cases[i];
		memset(&f, 0, sizeof(f));
		f.exec_failed = c->exec_failed;
		f.stop_requested = c->stop_requested;
		f.hang = c->hang;
		f.reported_fatal = c->reported_fatal;
		f.status = c->status == 0 ? st_exit0 : c->status == 1 ?
		    st_exit1 : c->status == 9 ? st_kill : st_term;
		assert_int_equal(corral_classify(&p, &f), c->want);
	}
}

/*
 * Storage: the worker's word (CORRAL_STORAGE=) or exit 74.  The word
 * outranks transient, error and 74's own meaning, but not an explicit
 * success or fatal code, nor a signal, nor what corrald knows itself.
 */
static void
test_storage(void **state)
{
	struct corral_exit_policy p;
	struct corral_exit_facts f;

	(void)state;
	corral_exit_policy_default(&p);
	memset(&f, 0, sizeof(f));
	f.storage_error = true;
	f.status = status_exit(1);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_STORAGE);
	f.status = status_exit(75);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_STORAGE);
	f.status = status_exit(74);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_STORAGE);
	f.status = status_exit(0);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_SUCCESS);
	f.status = status_exit(78);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_FATAL);
	f.status = status_signal(SIGSEGV);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_CRASH);
	f.status = status_signal(SIGKILL);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_KILLED);
	f.status = status_exit(1);
	f.stop_requested = true;
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_STOPPED);
	f.stop_requested = false;
	f.reported_fatal = true;
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_FATAL);

	/* 74 listed by the agent: its list decides, unless the word came. */
	memset(&f, 0, sizeof(f));
	corral_codeset_add(&p.transient, 74);
	f.status = status_exit(74);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_TRANSIENT);
	f.storage_error = true;
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_STORAGE);
	corral_codeset_add(&p.success, 74);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_SUCCESS);
}

/* What a worker exits with after a store error. */
static void
test_exit_status(void **state)
{
	(void)state;
	assert_int_equal(corral_exit_status(CORRAL_OK), 0);
	assert_int_equal(corral_exit_status(CORRAL_EIO), 74);
	assert_int_equal(corral_exit_status(CORRAL_EFULL), 74);
	assert_int_equal(corral_exit_status(CORRAL_EDAMAGED), 74);
	assert_int_equal(corral_exit_status(CORRAL_EMOVED), 74);
	assert_int_equal(corral_exit_status(CORRAL_ECORRUPT), 74);
	assert_int_equal(corral_exit_status(CORRAL_EBUSY), 75);
	assert_int_equal(corral_exit_status(CORRAL_ENOMEM), 75);
	assert_int_equal(corral_exit_status(CORRAL_EINVAL), 70);
	assert_true(corral_is_storage_error(CORRAL_EMOVED));
	assert_false(corral_is_storage_error(CORRAL_ECORRUPT));
	assert_false(corral_is_storage_error(CORRAL_EBUSY));
	assert_string_equal(corral_storage_kind(CORRAL_EFULL), "full");
	assert_string_equal(corral_storage_kind(CORRAL_EDAMAGED), "damaged");
	assert_string_equal(corral_storage_kind(CORRAL_EMOVED), "moved");
	assert_string_equal(corral_storage_kind(CORRAL_EIO), "io");
	assert_null(corral_storage_kind(CORRAL_EBUSY));
	assert_null(corral_storage_kind(CORRAL_ECORRUPT));
}

static void
test_custom_codes(void **state)
{
	struct corral_exit_policy p;

	(void)state;
	corral_codeset_clear(&p.success);
	corral_codeset_clear(&p.transient);
	corral_codeset_clear(&p.fatal);
	corral_codeset_add(&p.success, 0);
	corral_codeset_add(&p.success, 3);
	corral_codeset_add(&p.transient, 100);
	corral_codeset_add(&p.transient, 255);
	corral_codeset_add(&p.fatal, 2);

	assert_int_equal(classify_status(&p, status_exit(0)),
	    CORRAL_EXIT_SUCCESS);
	assert_int_equal(classify_status(&p, status_exit(3)),
	    CORRAL_EXIT_SUCCESS);
	assert_int_equal(classify_status(&p, status_exit(100)),
	    CORRAL_EXIT_TRANSIENT);
	assert_int_equal(classify_status(&p, status_exit(255)),
	    CORRAL_EXIT_TRANSIENT);
	assert_int_equal(classify_status(&p, status_exit(2)),
	    CORRAL_EXIT_FATAL);
	/* The defaults are gone once the lists are replaced. */
	assert_int_equal(classify_status(&p, status_exit(75)),
	    CORRAL_EXIT_ERROR);
	assert_int_equal(classify_status(&p, status_exit(64)),
	    CORRAL_EXIT_ERROR);
	assert_int_equal(classify_status(&p, status_exit(78)),
	    CORRAL_EXIT_ERROR);
	/* Signals do not depend on the code lists. */
	assert_int_equal(classify_status(&p, status_signal(SIGSEGV)),
	    CORRAL_EXIT_CRASH);

	/* Empty lists: even 0 is an error. */
	corral_codeset_clear(&p.success);
	corral_codeset_clear(&p.transient);
	corral_codeset_clear(&p.fatal);
	assert_int_equal(classify_status(&p, status_exit(0)),
	    CORRAL_EXIT_ERROR);
	assert_int_equal(classify_status(&p, status_exit(75)),
	    CORRAL_EXIT_ERROR);

	/*
	 * A code in several lists (the fleet file refuses it): fatal wins
	 * over success, success over transient.
	 */
	corral_codeset_add(&p.success, 9);
	corral_codeset_add(&p.transient, 9);
	assert_int_equal(classify_status(&p, status_exit(9)),
	    CORRAL_EXIT_SUCCESS);
	corral_codeset_add(&p.fatal, 9);
	assert_int_equal(classify_status(&p, status_exit(9)),
	    CORRAL_EXIT_FATAL);
}

static unsigned
codeset_count(const struct corral_codeset *s)
{
	unsigned i, n = 0;

	for (i = 0; i < 256; i++)
		n += corral_codeset_has(s, i);
	return n;
}

static void
test_codeset(void **state)
{
	static const unsigned codes[] = { 0, 1, 63, 64, 65, 127, 128, 191, 192,
		255 };
	struct corral_codeset s;
	size_t i;
	unsigned c;

	(void)state;
	memset(&s, 0xa5, sizeof(s));
	corral_codeset_clear(&s);
	assert_true(corral_codeset_empty(&s));
	assert_int_equal(codeset_count(&s), 0);

	/* Every word boundary: exactly the codes added, nothing else. */
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		corral_codeset_clear(&s);
		corral_codeset_add(&s, codes[i]);
		assert_false(corral_codeset_empty(&s));
		for (c = 0; c < 256; c++)
			assert_int_equal(corral_codeset_has(&s, c),
			    c == codes[i]);
	}
	corral_codeset_clear(&s);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		corral_codeset_add(&s, codes[i]);
		corral_codeset_add(&s, codes[i]); /* idempotent */
	}
	assert_int_equal(codeset_count(&s), 10);

	/* Out of range: ignored by add, absent for has. */
	corral_codeset_clear(&s);
	corral_codeset_add(&s, 256);
	corral_codeset_add(&s, 1000);
	corral_codeset_add(&s, UINT_MAX);
	assert_true(corral_codeset_empty(&s));
	assert_false(corral_codeset_has(&s, 256));
	assert_false(corral_codeset_has(&s, UINT_MAX));

	for (c = 0; c < 256; c++)
		corral_codeset_add(&s, c);
	assert_int_equal(codeset_count(&s), 256);
	for (i = 0; i < 4; i++)
		assert_int_equal(s.bits[i], UINT64_MAX);
	assert_false(corral_codeset_has(&s, 256));
	assert_false(corral_codeset_has(&s, 320)); /* 256 + 64: no wrap */
}

static void
test_policy_default(void **state)
{
	struct corral_exit_policy p;

	(void)state;
	memset(&p, 0xff, sizeof(p));
	corral_exit_policy_default(&p);
	assert_int_equal(codeset_count(&p.success), 1);
	assert_true(corral_codeset_has(&p.success, 0));
	assert_int_equal(codeset_count(&p.transient), 1);
	assert_true(corral_codeset_has(&p.transient, 75));
	assert_int_equal(codeset_count(&p.fatal), 2);
	assert_true(corral_codeset_has(&p.fatal, 64));
	assert_true(corral_codeset_has(&p.fatal, 78));
}

static void
test_class_names(void **state)
{
	(void)state;
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_NONE), "none");
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_SUCCESS),
	    "success");
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_TRANSIENT),
	    "transient");
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_ERROR),
	    "error");
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_CRASH),
	    "crash");
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_KILLED),
	    "killed");
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_HANG), "hang");
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_FATAL),
	    "fatal");
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_STOPPED),
	    "stopped");
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_STORAGE),
	    "storage");
	assert_string_equal(corral_exit_class_name(CORRAL_EXIT_MEMORY),
	    "memory");
	assert_string_equal(corral_exit_class_name((enum corral_exit_class)99),
	    "unknown");
}

static void
test_is_failure(void **state)
{
	(void)state;
	assert_false(corral_exit_is_failure(CORRAL_EXIT_NONE));
	assert_false(corral_exit_is_failure(CORRAL_EXIT_SUCCESS));
	assert_true(corral_exit_is_failure(CORRAL_EXIT_TRANSIENT));
	assert_true(corral_exit_is_failure(CORRAL_EXIT_ERROR));
	assert_true(corral_exit_is_failure(CORRAL_EXIT_CRASH));
	assert_true(corral_exit_is_failure(CORRAL_EXIT_KILLED));
	assert_true(corral_exit_is_failure(CORRAL_EXIT_HANG));
	assert_true(corral_exit_is_failure(CORRAL_EXIT_FATAL));
	assert_true(corral_exit_is_failure(CORRAL_EXIT_STORAGE));
	assert_true(corral_exit_is_failure(CORRAL_EXIT_MEMORY));
	/* What an operator does is never a failure. */
	assert_false(corral_exit_is_failure(CORRAL_EXIT_STOPPED));
	assert_false(corral_exit_is_failure((enum corral_exit_class)99));
}

/*
 * A run corrald stopped for its memory is classed memory whatever its
 * status (it may exit 0 on SIGTERM, or die of the KILL after
 * stop_timeout); a failed exec and a watchdog's kill outrank it, and it
 * outranks what the worker reported.
 */
static void
test_memory(void **state)
{
	struct corral_exit_policy p;
	struct corral_exit_facts f;

	(void)state;
	corral_exit_policy_default(&p);
	memset(&f, 0, sizeof(f));
	f.memory = true;
	f.status = status_exit(0);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_MEMORY);
	f.status = status_signal(SIGTERM);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_MEMORY);
	f.status = status_signal(SIGKILL);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_MEMORY);
	f.status = status_exit(78);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_MEMORY);
	f.reported_fatal = true;
	f.storage_error = true;
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_MEMORY);
	f.hang = true;
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_HANG);
	f.exec_failed = true;
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_FATAL);
	/* Without the fact the same status is what it always was. */
	memset(&f, 0, sizeof(f));
	f.status = status_signal(SIGTERM);
	assert_int_equal(corral_classify(&p, &f), CORRAL_EXIT_CRASH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes_default),
		cmocka_unit_test(test_signals),
#if defined(W_EXITCODE) && defined(WCOREFLAG)
		cmocka_unit_test(test_core_dumped),
#endif
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_custom_codes),
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_codeset),
		cmocka_unit_test(test_policy_default),
		cmocka_unit_test(test_class_names),
		cmocka_unit_test(test_is_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
