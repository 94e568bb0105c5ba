/*
 * test_config.c: the fleet file (config.c).  Every file under
 * tests/unit/configs/bad/ is refused with exactly the messages of its .err
 * sibling, in order; every file under tests/unit/configs/good/ loads to the
 * values asserted here, and prints (config_print) as a file that loads back
 * to the same text.  Run from the top of the repository.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "corrald.h"

#define GOOD "tests/unit/configs/good/"
#define BAD "tests/unit/configs/bad/"

/* The bad fixtures, by base name; test_bad_listed checks the directory. */
#define BAD_FILES(X)							\
	X(agent_without_name, "agent-without-name")			\
	X(backoff_initial_zero, "backoff-initial-zero")			\
	X(backoff_max_lt_initial, "backoff-max-lt-initial")		\
	X(bad_bool, "bad-bool")						\
	X(bad_cglimits, "bad-cglimits")				\
	X(bad_codes, "bad-codes")					\
	X(bad_env, "bad-env")						\
	X(bad_limits, "bad-limits")					\
	X(bad_log_level, "bad-log-level")				\
	X(bad_multiplier, "bad-multiplier")				\
	X(bad_names, "bad-names")					\
	X(bad_numbers, "bad-numbers")					\
	X(bad_output, "bad-output")					\
	X(bad_protocol, "bad-protocol")					\
	X(bad_recycle_hooks, "bad-recycle-hooks")			\
	X(bad_rollback, "bad-rollback")					\
	X(bad_storage_retry, "bad-storage-retry")			\
	X(bad_restart, "bad-restart")					\
	X(bad_signal, "bad-signal")					\
	X(bad_size, "bad-size")						\
	X(cluster_strategy, "cluster-strategy")				\
	X(cluster_unknown_key, "cluster-unknown-key")			\
	X(cluster_values, "cluster-values")				\
	X(continuation_error, "continuation-error")			\
	X(defaults_errors, "defaults-errors")				\
	X(duplicate_env, "duplicate-env")				\
	X(duplicate_key, "duplicate-key")				\
	X(duplicate_section, "duplicate-section")			\
	X(duration_hex, "duration-hex")					\
	X(duration_negative, "duration-negative")			\
	X(foreign_keys, "foreign-keys")					\
	X(duration_no_unit, "duration-no-unit")				\
	X(duration_unknown_unit, "duration-unknown-unit")		\
	X(empty, "empty")						\
	X(empty_values, "empty-values")					\
	X(fallback_cycle_2, "fallback-cycle-2")				\
	X(fallback_cycle_3, "fallback-cycle-3")				\
	X(fallback_defaults, "fallback-defaults")			\
	X(fallback_self, "fallback-self")				\
	X(fallback_unknown, "fallback-unknown")				\
	X(header_trailing_text, "header-trailing-text")			\
	X(header_without_bracket, "header-without-bracket")		\
	X(http_listen, "http-listen")					\
	X(http_listen_bad, "http-listen-bad")				\
	X(indented_key, "indented-key")					\
	X(instance_in_corrald, "instance-in-corrald")			\
	X(jitter_out_of_range, "jitter-out-of-range")			\
	X(key_before_section, "key-before-section")			\
	X(key_wrong_section, "key-wrong-section")			\
	X(log_file, "log-file")						\
	X(many_errors, "many-errors")					\
	X(min_healthy_too_large, "min-healthy-too-large")		\
	X(missing_command, "missing-command")				\
	X(name_collision, "name-collision")				\
	X(no_agents, "no-agents")					\
	X(nonexistent, "nonexistent")					\
	X(not_key_value, "not-key-value")				\
	X(on_state_change, "on-state-change")				\
	X(overlapping_codes, "overlapping-codes")			\
	X(reserved_all, "reserved-all")					\
	X(reserved_env, "reserved-env")					\
	X(section_case, "section-case")					\
	X(three_mistakes, "three-mistakes")				\
	X(unknown_cluster, "unknown-cluster")				\
	X(unknown_cluster_none, "unknown-cluster-none")			\
	X(unknown_expansion, "unknown-expansion")			\
	X(unknown_key, "unknown-key")					\
	X(unknown_key_suggest, "unknown-key-suggest")			\
	X(unknown_section, "unknown-section")				\
	X(unknown_section_agnet, "unknown-section-agnet")		\
	X(unknown_section_defautls, "unknown-section-defautls")		\
	X(unknown_user, "unknown-user")					\
	X(unterminated_quote, "unterminated-quote")

/* Only the .err exists: the file itself is missing on purpose. */
#define NO_INI "nonexistent"

static const char *good_files[] = {
	"all-keys", "bom", "checkpoint-dir", "clusters", "colon", "comments",
	"continuation", "crlf", "defaults", "defaults-last", "escapes", "here",
	"kernel-limits", "long-lines", "long-values", "minimal", "names",
	"operate", "precise", "priority", "quoting", "recycle-hooks",
};
#define NGOOD (sizeof(good_files) / sizeof(good_files[0]))

static char cwd[PATH_MAX];

/* Read a whole file, NUL-terminated.  Caller frees. */
static char *
slurp(const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t cap = 0;

	if ((f = fopen(path, "re")) == NULL)
		fail_msg("%s: %s (run from the top of the repository)", path,
		    strerror(errno));
	if (getdelim(&buf, &cap, '\0', f) == -1) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

/* Write len bytes of text to a new temporary file.  Caller unlinks, frees. */
static char *
write_temp(const char *text, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (asprintf(&path, "%s/corral-test-XXXXXX",
	    dir != NULL && *dir != '\0' ? dir : "/tmp") == -1)
		fail_msg("asprintf");
	if ((fd = mkstemp(path)) == -1)
		fail_msg("mkstemp %s: %s", path, strerror(errno));
	if (write(fd, text, len) != (ssize_t)len)
		fail_msg("write %s: %s", path, strerror(errno));
	close(fd);
	return path;
}

static void
dump(const char *what, char *const *v, size_t n)
{
	size_t i;

	print_message("%s (%zu):\n", what, n);
	for (i = 0; i < n; i++)
		print_message("  %s\n", v[i]);
}

/* config_load(path) must fail with exactly want[0..nwant), in order. */
static void
load_fails(const char *path, char *const *want, size_t nwant)
{
	struct config_errors errs;
	struct config *c;
	size_t i;
	bool same;

	c = config_load(path, &errs);
	if (c != NULL) {
		config_free(c);
		strv_free(&errs.msgs);
		fail_msg("%s: loaded, but it has errors", path);
	}
	same = errs.msgs.n == nwant;
	for (i = 0; same && i < nwant; i++)
		same = strcmp(errs.msgs.v[i], want[i]) == 0;
	if (!same) {
		dump("got", errs.msgs.v, errs.msgs.n);
		dump("want", want, nwant);
		strv_free(&errs.msgs);
		fail_msg("%s: not the expected messages", path);
	}
	strv_free(&errs.msgs);
}

/* Load path, which must have no error.  Caller frees. */
static struct config *
load_ok(const char *path)
{
	struct config_errors errs;
	struct config *c;

	c = config_load(path, &errs);
	if (c == NULL || errs.msgs.n != 0) {
		dump("errors", errs.msgs.v, errs.msgs.n);
		strv_free(&errs.msgs);
		config_free(c);
		fail_msg("%s: refused", path);
	}
	strv_free(&errs.msgs);
	return c;
}

static const struct agent_conf *
agent(const struct config *c, size_t i, const char *name)
{
	if (i >= c->nagents)
		fail_msg("no agent %zu (want %s): %zu agents", i, name,
		    c->nagents);
	assert_string_equal(c->agents[i].name, name);
	return &c->agents[i];
}

/* argv (or env) is exactly the NULL-terminated want. */
static void
strv_is(const struct strv *sv, const char *const *want)
{
	size_t i, n;

	for (n = 0; want[n] != NULL; n++)
		;
	if (sv->n != n) {
		dump("got", sv->v, sv->n);
		fail_msg("%zu words, want %zu", sv->n, n);
	}
	for (i = 0; i < n; i++)
		assert_string_equal(sv->v[i], want[i]);
	if (n > 0)
		assert_null(sv->v[n]);
}

#define STRV_IS(sv, ...) do {						\
	static const char *const w_[] = { __VA_ARGS__, NULL };		\
	strv_is((sv), w_);						\
} while (0)

static void
codes_are(const struct corral_codeset *set, const unsigned *want, size_t n)
{
	unsigned code;
	size_t i;
	bool in;

	for (code = 0; code < 256; code++) {
		in = false;
		for (i = 0; i < n; i++)
			in = in || want[i] == code;
		if (corral_codeset_has(set, code) != in)
			fail_msg("exit code %u %s the set", code,
			    in ? "missing from" : "unexpectedly in");
	}
}

#define CODES_ARE(set, ...) do {					\
	static const unsigned c_[] = { __VA_ARGS__ };			\
	codes_are((set), c_, sizeof(c_) / sizeof(c_[0]));		\
} while (0)

/* The resolved path cwd/rel. */
static char *
in_cwd(const char *rel)
{
	char *s;

	if (asprintf(&s, "%s/%s", cwd, rel) == -1)
		fail_msg("asprintf");
	return s;
}

static void
path_is(const char *got, const char *rel)
{
	char *want = in_cwd(rel);

	assert_string_equal(got, want);
	free(want);
}

static int
setup(void **state)
{
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	/* The caller's environment must not change what is resolved. */
	unsetenv("CHECKPOINT_DIR");
	log_init(LOG_LVL_ERROR, "test_config");
	return 0;
}

/* Bad files. */

static void
test_bad_file(void **state)
{
	const char *name = *state;
	struct strv want;
	char *path, *errpath, *text, *line, *save;

	if (asprintf(&path, BAD "%s.ini", name) == -1 ||
	    asprintf(&errpath, BAD "%s.err", name) == -1)
		fail_msg("asprintf");
	text = slurp(errpath);
	strv_init(&want);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		strv_push(&want, line);
	free(text);
	if (want.n == 0)
		fail_msg("%s: no expected message", errpath);
	load_fails(path, want.v, want.n);
	strv_free(&want);
	free(path);
	free(errpath);
}

#define BAD_NAME(id, name) name,
static const char *bad_names[] = { BAD_FILES(BAD_NAME) };
#define NBAD (sizeof(bad_names) / sizeof(bad_names[0]))

static bool
is_bad_name(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < NBAD; i++)
		if (strlen(bad_names[i]) == len &&
		    strncmp(bad_names[i], s, len) == 0)
			return true;
	return false;
}

/* Every fixture is run, every .ini has its .err, and nothing is stale. */
static void
test_bad_listed(void **state)
{
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX];
	DIR *d;
	size_t i, len, nini = 0;

	assert_true(NBAD >= 40);
	if ((d = opendir(BAD)) == NULL)
		fail_msg("%s: %s", BAD, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.')
			continue;
		if (len > 4 && (strcmp(de->d_name + len - 4, ".ini") == 0 ||
		    strcmp(de->d_name + len - 4, ".err") == 0)) {
			if (!is_bad_name(de->d_name, len - 4))
				fail_msg("%s%s is not in BAD_FILES", BAD,
				    de->d_name);
			nini += strcmp(de->d_name + len - 4, ".ini") == 0;
			continue;
		}
		fail_msg("%s%s: neither .ini nor .err", BAD, de->d_name);
	}
	closedir(d);
	for (i = 0; i < NBAD; i++) {
		snprintf(path, sizeof(path), BAD "%s.err", bad_names[i]);
		if (stat(path, &st) == -1)
			fail_msg("%s: %s", path, strerror(errno));
		snprintf(path, sizeof(path), BAD "%s.ini", bad_names[i]);
		if ((stat(path, &st) == 0) == (strcmp(bad_names[i], NO_INI) ==
		    0))
			fail_msg("%s: %s", path, strcmp(bad_names[i], NO_INI) ==
			    0 ? "must not exist" : "missing");
	}
	assert_int_equal(nini, NBAD - 1);
}

/* Every good file is in good_files, so that the round trip sees it. */
static void
test_good_listed(void **state)
{
	struct dirent *de;
	size_t i, len, n = 0;
	DIR *d;

	if ((d = opendir(GOOD)) == NULL)
		fail_msg("%s: %s", GOOD, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.')
			continue;
		if (len <= 4 || strcmp(de->d_name + len - 4, ".ini") != 0)
			fail_msg("%s%s: not an .ini", GOOD, de->d_name);
		for (i = 0; i < NGOOD; i++)
			if (strlen(good_files[i]) == len - 4 &&
			    strncmp(good_files[i], de->d_name, len - 4) == 0)
				break;
		if (i == NGOOD)
			fail_msg("%s%s is not in good_files", GOOD,
			    de->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(n, NGOOD);
}

/* A line of exactly CONFIG_LINE_MAX characters loads; one more does not. */
static void
test_long_line(void **state)
{
	const size_t max = 8192;
	struct config *c;
	char *text, *path, *want[2];
	size_t n, head;

	text = malloc(max + 100);
	assert_non_null(text);
	head = (size_t)sprintf(text, "[agent:a]\ncommand = echo ");
	/* Line 2 is max characters long, its newline not counted. */
	n = max - (head - strlen("[agent:a]\n"));
	memset(text + head, 'x', n);
	strcpy(text + head + n, "\n");
	path = write_temp(text, strlen(text));
	c = load_ok(path);
	assert_int_equal(c->agents[0].argv.n, 2);
	assert_int_equal(strlen(c->agents[0].argv.v[1]), n);
	assert_int_equal(strlen(c->agents[0].command), max - 10);
	config_free(c);
	unlink(path);
	free(path);

	/* One more: refused, and the lines after it keep their numbers. */
	memset(text + head, 'x', n + 1);
	strcpy(text + head + n + 1, "\nnumprocs = x\n");
	path = write_temp(text, strlen(text));
	if (asprintf(&want[0], "%s:2: line longer than 8192 characters",
	    path) == -1 || asprintf(&want[1], "%s:3: numprocs: not a whole "
	    "number", path) == -1)
		fail_msg("asprintf");
	load_fails(path, want, 2);
	unlink(path);
	free(path);
	free(want[0]);
	free(want[1]);
	free(text);
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "[agent:a]\ncommand = a\0b\nnumprocs = 0\n";
	char *path, *want[2];

	path = write_temp(text, sizeof(text) - 1);
	if (asprintf(&want[0], "%s:2: line contains a NUL byte", path) == -1 ||
	    asprintf(&want[1], "%s:3: numprocs: must be at least 1",
	    path) == -1)
		fail_msg("asprintf");
	/* The refused command line counts as a missing command, not twice. */
	load_fails(path, want, 2);
	unlink(path);
	free(path);
	free(want[0]);
	free(want[1]);
}

static void
test_directory(void **state)
{
	char *want[] = { "tests/unit/configs:1: read error: Is a directory" };

	load_fails("tests/unit/configs", want, 1);
}

/* An open file whose path cannot be resolved is an error, not an exit. */
static void
test_unresolvable(void **state)
{
	static const char text[] = "[agent:a]\ncommand = a\n";
	char *tmp, *path, *want[1];
	int fd;

	tmp = write_temp(text, sizeof(text) - 1);
	if ((fd = open(tmp, O_RDONLY)) == -1)
		fail_msg("%s: %s", tmp, strerror(errno));
	unlink(tmp);
	/* It opens through the descriptor; the name it points to is gone. */
	if (asprintf(&path, "/proc/self/fd/%d", fd) == -1 ||
	    asprintf(&want[0], "%s: cannot resolve its path: No such file or "
	    "directory", path) == -1)
		fail_msg("asprintf");
	if (access(path, R_OK) == -1)
		skip(); /* no /proc */
	load_fails(path, want, 1);
	close(fd);
	free(tmp);
	free(path);
	free(want[0]);
}

static void
test_no_final_newline(void **state)
{
	static const char text[] = "[agent:a]\ncommand = run\nnumprocs = 3";
	struct config *c;
	char *path;

	path = write_temp(text, sizeof(text) - 1);
	c = load_ok(path);
	assert_int_equal(c->agents[0].numprocs, 3);
	STRV_IS(&c->agents[0].argv, "run");
	config_free(c);
	unlink(path);
	free(path);
}

/* user: the one running the test is always allowed; root only for root. */
static void
test_user(void **state)
{
	struct passwd *pw;
	struct config *c;
	char *text, *path, *want[1];

	if ((pw = getpwuid(geteuid())) == NULL)
		skip();
	if (asprintf(&text, "[agent:a]\ncommand = a\nuser = %s\n",
	    pw->pw_name) == -1)
		fail_msg("asprintf");
	path = write_temp(text, strlen(text));
	c = load_ok(path);
	assert_string_equal(c->agents[0].user, pw->pw_name);
	assert_int_equal(c->agents[0].uid, pw->pw_uid);
	assert_int_equal(c->agents[0].gid, pw->pw_gid);
	config_free(c);
	unlink(path);
	free(path);
	free(text);

	if ((pw = getpwnam("nobody")) == NULL)
		return;
	text = "[agent:a]\ncommand = a\nuser = nobody\n";
	path = write_temp(text, strlen(text));
	if (geteuid() == 0) {
		uid_t uid = pw->pw_uid;
		c = load_ok(path);
		assert_int_equal(c->agents[0].uid, uid);
		config_free(c);
		unlink(path);
		free(path);
		return;
	}
	if (asprintf(&want[0], "%s:3: user: running as 'nobody' needs "
	    "corrald to run as root", path) == -1)
		fail_msg("asprintf");
	load_fails(path, want, 1);
	unlink(path);
	free(path);
	free(want[0]);
}

/* Good files. */

static void
test_minimal(void **state)
{
	struct config *c = load_ok(GOOD "minimal.ini");
	const struct agent_conf *a;
	char *here;

	assert_string_equal(c->path, GOOD "minimal.ini");
	here = in_cwd("tests/unit/configs/good");
	assert_string_equal(c->here, here);
	free(here);
	path_is(c->state_db, "corral-state.db");
	assert_string_equal(c->run_dir, cwd);
	path_is(c->log_dir, "log");
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_int_equal(c->nclusters, 0);
	assert_int_equal(c->nagents, 1);

	a = agent(c, 0, "solo");
	assert_int_equal(a->line, 1);
	assert_null(a->cluster);
	assert_string_equal(a->command, "solo-agent");
	STRV_IS(&a->argv, "solo-agent");
	assert_int_equal(a->numprocs, 1);
	assert_null(a->directory);
	assert_int_equal(a->env.n, 0);
	assert_int_equal(a->restart, RESTART_ALWAYS);
	CODES_ARE(&a->codes.success, 0);
	CODES_ARE(&a->codes.transient, 75);
	CODES_ARE(&a->codes.fatal, 64, 78);
	assert_int_equal(a->backoff.initial_ms, 2000);
	assert_int_equal(a->backoff.max_ms, 16000);
	assert_true(a->backoff.multiplier == 2.0);
	assert_true(a->backoff.jitter == 0.25);
	assert_int_equal(a->max_retries, 0);
	assert_int_equal(a->healthy_after_ms, 10000);
	assert_int_equal(a->stop_signal, SIGTERM);
	assert_int_equal(a->stop_timeout_ms, 10000);
	assert_int_equal(a->out[0], OUT_FILE);
	assert_int_equal(a->out[1], OUT_FILE);
	assert_int_equal(a->log_max_bytes, 10 * 1024 * 1024);
	assert_int_equal(a->log_backups, 5);
	assert_int_equal(a->priority, 0);
	assert_true(a->autostart);
	/* The spec's seed defaults for the breaker. */
	assert_int_equal(a->breaker.failure_threshold, 5);
	assert_int_equal(a->breaker.recovery_timeout_ms, 60000);
	assert_int_equal(a->breaker.recovery_timeout_max_ms, 600000);
	assert_int_equal(a->breaker.half_open_max_calls, 3);
	assert_true(a->breaker.multiplier == 2.0);
	assert_true(a->breaker.jitter == 0.25);
	assert_null(a->fallback);
	/* The worker protocol: no watchdog, the spec's thread id. */
	assert_int_equal(a->watchdog_ms, 0);
	assert_string_equal(a->thread_id, "%(agent)/%(instance)");
	assert_int_equal(a->checkpoint_interval_ms, 300000);
	/* Rollback: the spec's defaults. */
	assert_int_equal(a->poison_threshold, 3);
	assert_int_equal(a->max_rollback, 3);
	assert_int_equal(a->storage_retry_ms, 30000);
	path_is(c->checkpoint_db, "corral-checkpoints.db");
	assert_null(a->user);
	assert_true(a->uid == (uid_t)-1);
	assert_true(a->gid == (gid_t)-1);
	config_free(c);
}

static void
test_all_keys(void **state)
{
	struct config *c = load_ok(GOOD "all-keys.ini");
	const struct agent_conf *a;

	assert_string_equal(c->state_db, "/tmp/corral-test/state.db");
	assert_string_equal(c->checkpoint_db, "/tmp/corral-test/ckpt.db");
	assert_string_equal(c->run_dir, "/tmp/corral-test/run");
	assert_string_equal(c->log_dir, "/tmp/corral-test/log");
	assert_int_equal(c->log_level, LOG_LVL_WARN);
	assert_false(c->breakers);
	assert_int_equal(c->nclusters, 2);
	assert_string_equal(c->clusters[0].name, "research");
	assert_int_equal(c->clusters[0].line, 9);
	assert_string_equal(c->clusters[1].name, "ops");
	assert_int_equal(c->clusters[1].line, 10);

	a = agent(c, 0, "full");
	assert_int_equal(a->line, 12);
	assert_string_equal(a->command, "full-agent --mode test");
	STRV_IS(&a->argv, "full-agent", "--mode", "test");
	assert_string_equal(a->cluster, "ops");
	assert_int_equal(a->numprocs, 4);
	assert_string_equal(a->directory, "/tmp");
	STRV_IS(&a->env, "A=1", "B=two");
	assert_int_equal(a->restart, RESTART_NEVER);
	CODES_ARE(&a->codes.success, 0, 1);
	CODES_ARE(&a->codes.transient, 75, 76);
	assert_true(corral_codeset_empty(&a->codes.fatal));
	assert_int_equal(a->backoff.initial_ms, 250);
	assert_true(a->backoff.multiplier == 1.5);
	assert_int_equal(a->backoff.max_ms, 90000);
	assert_true(a->backoff.jitter == 0);
	assert_int_equal(a->max_retries, 7);
	assert_int_equal(a->healthy_after_ms, 1500);
	assert_int_equal(a->stop_signal, SIGQUIT);
	assert_int_equal(a->stop_timeout_ms, 120000);
	assert_int_equal(a->out[0], OUT_INHERIT);
	assert_int_equal(a->out[1], OUT_NULL);
	assert_int_equal(a->log_max_bytes, 512 * 1024);
	assert_int_equal(a->log_backups, 0);
	assert_int_equal(a->priority, -3);
	assert_false(a->autostart);
	assert_int_equal(a->breaker.failure_threshold, 7);
	assert_int_equal(a->breaker.recovery_timeout_ms, 30000);
	assert_int_equal(a->breaker.recovery_timeout_max_ms, 300000);
	assert_int_equal(a->breaker.half_open_max_calls, 2);
	assert_true(a->breaker.multiplier == 1.5);
	assert_true(a->breaker.jitter == 0.0);
	assert_int_equal(a->watchdog_ms, 3000);
	assert_string_equal(a->thread_id, "job-%(agent)-%(instance)");
	assert_int_equal(a->checkpoint_interval_ms, 45000);
	assert_int_equal(a->poison_threshold, 5);
	assert_int_equal(a->max_rollback, 0);
	assert_int_equal(a->storage_retry_ms, 120000);
	config_free(c);
}

/* max_age, cron_restart, the hooks; and their defaults. */
static void
test_recycle_hooks(void **state)
{
	struct config *c = load_ok(GOOD "recycle-hooks.ini");
	const struct agent_conf *a;

	(void)state;
	a = agent(c, 0, "a");
	assert_int_equal(a->max_age_ms, 6ULL * 3600 * 1000);
	assert_string_equal(a->cron_restart, "30 3 * * mon-fri");
	assert_true(a->cron.minute == 1ULL << 30);
	assert_int_equal(a->cron.hour, 1U << 3);
	assert_int_equal(a->cron.dow, 0x3e);
	assert_true(a->cron.dom_star);
	assert_false(a->cron.dow_star);
	STRV_IS(&a->pre_argv, "/bin/sh", "-c",
	    "mkdir -p /tmp/%(agent).%(instance)");
	STRV_IS(&a->post_argv, "cleanup", "--instance", "%(instance)", "--in",
	    "%(here)/x");
	assert_int_equal(a->hook_timeout_ms, 5000);
	a = agent(c, 1, "b");
	assert_string_equal(a->cron_restart, "@daily");
	assert_int_equal(a->cron.hour, 1);
	assert_true(a->cron.minute == 1);
	assert_int_equal(a->max_age_ms, 0);
	assert_null(a->pre_start);
	assert_null(a->post_stop);
	assert_int_equal(a->pre_argv.n, 0);
	assert_int_equal(a->hook_timeout_ms, 60000);
	config_free(c);
}

static const struct cluster_conf *
cluster(const struct config *c, size_t i, const char *name)
{
	if (i >= c->nclusters)
		fail_msg("no cluster %zu (want %s): %zu clusters", i, name,
		    c->nclusters);
	assert_string_equal(c->clusters[i].name, name);
	return &c->clusters[i];
}

/* Every cluster key, the defaults of a bare cluster, a fallback chain. */
static void
test_clusters(void **state)
{
	struct config *c = load_ok(GOOD "clusters.ini");
	const struct cluster_conf *cl;
	char *here, *hook;

	assert_int_equal(c->nclusters, 3);
	cl = cluster(c, 0, "research");
	assert_int_equal(cl->line, 3);
	assert_int_equal(cl->breaker.failure_threshold, 10);
	assert_int_equal(cl->breaker.failure_window_ms, 5 * 60000);
	assert_int_equal(cl->breaker.recovery_timeout_ms, 30000);
	assert_int_equal(cl->breaker.recovery_timeout_max_ms, 20 * 60000);
	assert_int_equal(cl->breaker.half_open_max_calls, 2);
	assert_true(cl->breaker.multiplier == 2.0);
	assert_true(cl->breaker.jitter == 0.25);
	assert_int_equal(cl->strategy, STRAT_REST_FOR_ONE);
	assert_int_equal(cl->min_healthy, 3);
	/* As written; the words with %(here) expanded, %% made %. */
	assert_string_equal(cl->on_state_change, "%(here)/hooks/notify "
	    "--channel \"ops room\" 100%% \"it's\"");
	here = in_cwd("tests/unit/configs/good");
	if (asprintf(&hook, "%s/hooks/notify", here) == -1)
		fail_msg("asprintf");
	assert_int_equal(cl->on_state_argv.n, 5);
	assert_string_equal(cl->on_state_argv.v[0], hook);
	assert_string_equal(cl->on_state_argv.v[1], "--channel");
	assert_string_equal(cl->on_state_argv.v[2], "ops room");
	assert_string_equal(cl->on_state_argv.v[3], "100%");
	assert_string_equal(cl->on_state_argv.v[4], "it's");
	assert_null(cl->on_state_argv.v[5]);
	free(hook);
	free(here);

	/* The defaults. */
	cl = cluster(c, 1, "bare");
	assert_int_equal(cl->breaker.failure_threshold, 5);
	assert_int_equal(cl->breaker.failure_window_ms, 60000);
	assert_int_equal(cl->breaker.recovery_timeout_ms, 60000);
	assert_int_equal(cl->breaker.recovery_timeout_max_ms, 600000);
	assert_int_equal(cl->breaker.half_open_max_calls, 3);
	assert_true(cl->breaker.multiplier == 2.0);
	assert_true(cl->breaker.jitter == 0.25);
	assert_int_equal(cl->strategy, STRAT_ONE_FOR_ONE);
	assert_int_equal(cl->min_healthy, 1);
	assert_null(cl->on_state_change);
	assert_int_equal(cl->on_state_argv.n, 0);

	/* 0: consecutive failures; the max follows a longer timeout. */
	cl = cluster(c, 2, "steady");
	assert_int_equal(cl->breaker.failure_window_ms, 0);
	assert_int_equal(cl->breaker.recovery_timeout_ms, 30 * 60000);
	assert_int_equal(cl->breaker.recovery_timeout_max_ms, 30 * 60000);
	assert_int_equal(cl->strategy, STRAT_ONE_FOR_ALL);
	assert_int_equal(cl->min_healthy, 0);
	STRV_IS(&cl->on_state_argv, "logger", "-t", "corral");

	assert_int_equal(c->nagents, 3);
	assert_string_equal(agent(c, 0, "coordinator")->fallback,
	    "coordinator-lite");
	assert_string_equal(agent(c, 1, "coordinator-lite")->fallback,
	    "coordinator-minimal");
	assert_null(agent(c, 2, "coordinator-minimal")->fallback);
	config_free(c);
}

static void
test_strategy_name(void **state)
{
	assert_string_equal(strategy_name(STRAT_ONE_FOR_ONE), "one_for_one");
	assert_string_equal(strategy_name(STRAT_ONE_FOR_ALL), "one_for_all");
	assert_string_equal(strategy_name(STRAT_REST_FOR_ONE),
	    "rest_for_one");
}

static void
test_defaults(void **state)
{
	struct config *c = load_ok(GOOD "defaults.ini");
	const struct agent_conf *a;

	assert_int_equal(c->nclusters, 1);
	assert_int_equal(c->nagents, 2);

	/* Everything from [defaults]. */
	a = agent(c, 0, "inherits");
	assert_int_equal(a->numprocs, 2);
	assert_int_equal(a->restart, RESTART_ON_FAILURE);
	assert_int_equal(a->backoff.initial_ms, 1000);
	assert_int_equal(a->backoff.max_ms, 30000);
	assert_true(a->backoff.multiplier == 3.0);
	assert_true(a->backoff.jitter == 0.1);
	assert_int_equal(a->stop_signal, SIGINT);
	STRV_IS(&a->env, "LANG=C", "MODE=prod", "SHARED=from defaults");
	CODES_ARE(&a->codes.success, 0, 2);
	CODES_ARE(&a->codes.transient, 75);
	assert_string_equal(a->cluster, "pool");
	assert_false(a->autostart);
	/* Not in [defaults]: the built-in default. */
	assert_int_equal(a->stop_timeout_ms, 10000);

	/* The agent's own values win; env merges by name, in place. */
	a = agent(c, 1, "overrides");
	assert_int_equal(a->numprocs, 1);
	assert_int_equal(a->restart, RESTART_ALWAYS);
	assert_int_equal(a->backoff.initial_ms, 1000);
	assert_int_equal(a->backoff.max_ms, 60000);
	assert_true(a->backoff.multiplier == 3.0);
	assert_int_equal(a->stop_signal, SIGINT);
	STRV_IS(&a->env, "LANG=C", "MODE=dev", "SHARED=from defaults",
	    "EXTRA=1");
	CODES_ARE(&a->codes.success, 0);
	assert_string_equal(a->cluster, "pool");
	assert_true(a->autostart);
	config_free(c);
}

static void
test_defaults_last(void **state)
{
	struct config *c = load_ok(GOOD "defaults-last.ini");
	const struct agent_conf *a = agent(c, 0, "a");

	assert_int_equal(a->numprocs, 4);
	assert_int_equal(a->stop_timeout_ms, 60000);
	config_free(c);
}

static void
test_continuation(void **state)
{
	struct config *c = load_ok(GOOD "continuation.ini");
	const struct agent_conf *a;

	a = agent(c, 0, "a");
	assert_string_equal(a->command, "sh -c \"echo one; echo two\"");
	STRV_IS(&a->argv, "sh", "-c", "echo one; echo two");
	STRV_IS(&a->env, "A=1", "B=2");
	/* "command =" alone, the words on the lines below, a comment among. */
	a = agent(c, 1, "b");
	assert_string_equal(a->command, "worker --flag --last");
	STRV_IS(&a->argv, "worker", "--flag", "--last");
	/* Indented right after a header: a key, not a continuation. */
	a = agent(c, 2, "c");
	assert_string_equal(a->command, "indented-first");
	assert_int_equal(a->line, 15);
	config_free(c);
}

static void
test_long_lines(void **state)
{
	struct config *c = load_ok(GOOD "long-lines.ini");
	const struct agent_conf *a = agent(c, 0, "long");
	char word[301], env[1003];
	size_t i;

	for (i = 0; i < 300; i++)
		word[i] = (char)('0' + i % 10);
	word[300] = '\0';
	memcpy(env, "V=", 2);
	for (i = 0; i < 1000; i++)
		env[2 + i] = (char)('a' + i % 26);
	env[1002] = '\0';
	assert_int_equal(a->argv.n, 2);
	assert_string_equal(a->argv.v[0], "echo");
	assert_string_equal(a->argv.v[1], word);
	assert_int_equal(a->env.n, 1);
	assert_string_equal(a->env.v[0], env);
	config_free(c);
}

static void
test_comments(void **state)
{
	struct config *c = load_ok(GOOD "comments.ini");
	const struct agent_conf *a = agent(c, 0, "a");

	assert_int_equal(c->log_level, LOG_LVL_DEBUG);
	assert_string_equal(a->command, "run --sep=a;b");
	STRV_IS(&a->argv, "run", "--sep=a;b");
	STRV_IS(&a->env, "X=#notacomment");
	assert_int_equal(a->numprocs, 3);
	config_free(c);
}

static void
test_here(void **state)
{
	struct config *c = load_ok(GOOD "here.ini");
	const struct agent_conf *a = agent(c, 0, "a");
	struct expand_vars vars = { a->name, "2", c->here };
	const char *why;
	char *here, *want, *x;

	here = in_cwd("tests/unit/configs/good");
	assert_string_equal(c->here, here);
	if (asprintf(&want, "%s/state/corral.db", here) == -1)
		fail_msg("asprintf");
	assert_string_equal(c->state_db, want);
	free(want);
	if (asprintf(&want, "%s/logs", here) == -1)
		fail_msg("asprintf");
	assert_string_equal(c->log_dir, want);
	free(want);
	assert_string_equal(c->run_dir, "/tmp/corral-run");
	if (asprintf(&want, "%s/logs/corrald.log", here) == -1)
		fail_msg("asprintf");
	assert_string_equal(c->log_file, want);
	free(want);
	assert_int_equal(c->log_file_max_bytes, 10 << 20);
	assert_int_equal(c->log_file_backups, 5);

	/* An agent's words keep %(...) until a worker is started. */
	STRV_IS(&a->argv, "%(here)/bin/agent", "--id", "%(agent).%(instance)");
	assert_string_equal(a->directory, "%(here)/work");
	STRV_IS(&a->env, "HOME=%(here)", "PCT=100%%");
	x = expand_vars(a->argv.v[0], &vars, &why);
	if (asprintf(&want, "%s/bin/agent", here) == -1)
		fail_msg("asprintf");
	assert_string_equal(x, want);
	free(want);
	free(x);
	x = expand_vars(a->argv.v[2], &vars, &why);
	assert_string_equal(x, "a.2");
	free(x);
	x = expand_vars(a->env.v[1], &vars, &why);
	assert_string_equal(x, "PCT=100%");
	free(x);
	free(here);
	config_free(c);
}

static void
test_priority(void **state)
{
	struct config *c = load_ok(GOOD "priority.ini");

	assert_int_equal(c->nagents, 5);
	assert_int_equal(agent(c, 0, "c")->priority, -5);
	assert_int_equal(agent(c, 1, "a")->priority, 0);
	assert_int_equal(agent(c, 2, "e")->priority, 0);
	assert_int_equal(agent(c, 3, "d")->priority, 10);
	assert_int_equal(agent(c, 4, "b")->priority, 10);
	/* Ties keep the order of the file. */
	assert_true(c->agents[1].order < c->agents[2].order);
	assert_true(c->agents[3].order < c->agents[4].order);
	assert_int_equal(agent(c, 3, "d")->line, 1);
	assert_int_equal(agent(c, 4, "b")->line, 12);
	config_free(c);
}

static void
test_checkpoint_dir(void **state)
{
	struct config *c;
	char *want;

	/* Unset: relative to the current directory. */
	c = load_ok(GOOD "checkpoint-dir.ini");
	path_is(c->state_db, "state/corral.db");
	path_is(c->log_dir, "logs");
	config_free(c);

	/* Absolute: the databases go there; other paths do not move. */
	setenv("CHECKPOINT_DIR", "/var/tmp/ckpt", 1);
	c = load_ok(GOOD "checkpoint-dir.ini");
	assert_string_equal(c->state_db, "/var/tmp/ckpt/state/corral.db");
	assert_string_equal(c->checkpoint_db,
	    "/var/tmp/ckpt/corral-checkpoints.db");
	path_is(c->log_dir, "logs");
	assert_string_equal(c->run_dir, cwd);
	config_free(c);
	c = load_ok(GOOD "minimal.ini");
	assert_string_equal(c->state_db, "/var/tmp/ckpt/corral-state.db");
	config_free(c);
	/* An absolute state_db stays where it is. */
	c = load_ok(GOOD "all-keys.ini");
	assert_string_equal(c->state_db, "/tmp/corral-test/state.db");
	config_free(c);

	/* Relative: itself relative to the current directory. */
	setenv("CHECKPOINT_DIR", "ckpt", 1);
	c = load_ok(GOOD "checkpoint-dir.ini");
	path_is(c->state_db, "ckpt/state/corral.db");
	config_free(c);

	/* Empty: as if unset. */
	setenv("CHECKPOINT_DIR", "", 1);
	c = load_ok(GOOD "minimal.ini");
	path_is(c->state_db, "corral-state.db");
	config_free(c);

	unsetenv("CHECKPOINT_DIR");
	c = load_ok(GOOD "minimal.ini");
	want = in_cwd("corral-state.db");
	assert_string_equal(c->state_db, want);
	free(want);
	config_free(c);
}

static void
test_quoting(void **state)
{
	struct config *c = load_ok(GOOD "quoting.ini");
	const struct agent_conf *a = agent(c, 0, "a");

	STRV_IS(&a->argv, "python3", "-c", "import sys; print(sys.argv)",
	    "two words", "three four", "", "say \"hi\"", "abc");
	STRV_IS(&a->env, "GREETING=hello, world", "PATHS=a:b", "EMPTY=",
	    "Q=a\"b\\c");
	config_free(c);
}

static void
test_separators(void **state)
{
	struct config *c;
	const struct agent_conf *a;

	/* ':' separates like '=', whichever comes first. */
	c = load_ok(GOOD "colon.ini");
	a = agent(c, 0, "a");
	STRV_IS(&a->argv, "run", "--opt=1");
	assert_int_equal(a->numprocs, 2);
	assert_int_equal(a->stop_signal, SIGHUP);
	config_free(c);

	c = load_ok(GOOD "crlf.ini");
	a = agent(c, 0, "a");
	assert_int_equal(a->line, 2);
	assert_string_equal(a->command, "run -x");
	STRV_IS(&a->argv, "run", "-x");
	assert_int_equal(a->stop_timeout_ms, 3000);
	config_free(c);

	c = load_ok(GOOD "bom.ini");
	a = agent(c, 0, "a");
	assert_int_equal(a->line, 1);
	STRV_IS(&a->argv, "run");
	config_free(c);
}

static void
test_names(void **state)
{
	struct config *c = load_ok(GOOD "names.ini");
	char longest[NAME_MAX_LEN + 1];

	memset(longest, 'n', NAME_MAX_LEN);
	longest[NAME_MAX_LEN] = '\0';
	assert_int_equal(c->nagents, 2);
	assert_string_equal(agent(c, 0, longest)->cluster, "pool_2-b");
	assert_null(agent(c, 1, "A_b-9")->cluster);
	assert_string_equal(c->clusters[0].name, "pool_2-b");
	config_free(c);
}

/* The example fleet shipped in etc/ loads (its contents are its own). */
static void
test_example_fleet(void **state)
{
	struct config *c = load_ok("etc/fleet.ini");

	assert_true(c->nagents >= 1);
	config_free(c);
}

/* Print c, without the first line (it names the file printed from). */
static char *
print_body(const struct config *c)
{
	char *buf = NULL, *body;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		fail_msg("open_memstream");
	config_print(c, f);
	fclose(f);
	if (strncmp(buf, "; resolved from ", 16) != 0)
		fail_msg("config_print starts with: %.40s", buf);
	body = strdup(strchr(buf, '\n') + 1);
	free(buf);
	return body;
}

/* s of agent a, instance 0, expanded in c (at c's here).  Caller frees. */
static char *
expanded(const struct config *c, const struct agent_conf *a, const char *s)
{
	struct expand_vars vars = { a->name, "0", c->here };
	const char *why;
	char *x = expand_vars(s, &vars, &why);

	if (x == NULL)
		fail_msg("agent %s: '%s' does not expand: %s", a->name, s, why);
	return x;
}

static void
same_expanded(const struct config *c1, const struct config *c2,
    const struct agent_conf *a1, const struct agent_conf *a2, const char *s1,
    const char *s2, const char *what)
{
	char *x1, *x2;

	if (s1 == NULL || s2 == NULL) {
		if (s1 != s2)
			fail_msg("agent %s: %s set in one load only", a1->name,
			    what);
		return;
	}
	x1 = expanded(c1, a1, s1);
	x2 = expanded(c2, a2, s2);
	if (strcmp(x1, x2) != 0)
		fail_msg("agent %s: %s is '%s', then '%s'", a1->name, what, x1,
		    x2);
	free(x1);
	free(x2);
}

/*
 * c2, loaded from what c1 printed in another directory, runs the very same
 * processes: the same words, environment, directory and thread once
 * expanded, each config at its own %(here); the same paths and hooks.
 */
static void
same_resolved(const struct config *c1, const struct config *c2)
{
	size_t i, j;

	assert_string_equal(c1->state_db, c2->state_db);
	assert_string_equal(c1->checkpoint_db, c2->checkpoint_db);
	assert_string_equal(c1->run_dir, c2->run_dir);
	assert_string_equal(c1->log_dir, c2->log_dir);
	assert_string_equal(c1->control_socket, c2->control_socket);
	assert_int_equal(c1->nclusters, c2->nclusters);
	for (i = 0; i < c1->nclusters; i++) {
		const struct strv *w1 = &c1->clusters[i].on_state_argv;
		const struct strv *w2 = &c2->clusters[i].on_state_argv;
		assert_int_equal(w1->n, w2->n);
		for (j = 0; j < w1->n; j++)
			assert_string_equal(w1->v[j], w2->v[j]);
	}
	assert_int_equal(c1->nagents, c2->nagents);
	for (i = 0; i < c1->nagents; i++) {
		const struct agent_conf *a1 = &c1->agents[i];
		const struct agent_conf *a2 = &c2->agents[i];
		assert_string_equal(a1->name, a2->name);
		assert_int_equal(a1->argv.n, a2->argv.n);
		for (j = 0; j < a1->argv.n; j++)
			same_expanded(c1, c2, a1, a2, a1->argv.v[j],
			    a2->argv.v[j], "a word of command");
		assert_int_equal(a1->env.n, a2->env.n);
		for (j = 0; j < a1->env.n; j++)
			same_expanded(c1, c2, a1, a2, a1->env.v[j],
			    a2->env.v[j], "env");
		same_expanded(c1, c2, a1, a2, a1->directory, a2->directory,
		    "directory");
		same_expanded(c1, c2, a1, a2, a1->thread_id, a2->thread_id,
		    "thread_id");
		if (!str_same(a1->user, a2->user) ||
		    !str_same(a1->cluster, a2->cluster) ||
		    !str_same(a1->fallback, a2->fallback))
			fail_msg("agent %s: user, cluster or fallback differ",
			    a1->name);
	}
}

static void
round_trip(const char *path)
{
	struct config *c1, *c2;
	char *text1, *text2, *tmp;

	c1 = load_ok(path);
	text1 = print_body(c1);
	tmp = write_temp(text1, strlen(text1));
	c2 = load_ok(tmp);
	text2 = print_body(c2);
	if (strcmp(text1, text2) != 0) {
		print_message("first print:\n%s\nsecond print:\n%s\n", text1,
		    text2);
		fail_msg("%s: printed, loaded and printed again, it differs",
		    path);
	}
	/* The printed file is elsewhere: its %(here) is not c1's. */
	assert_string_not_equal(c1->here, c2->here);
	same_resolved(c1, c2);
	unlink(tmp);
	free(tmp);
	free(text1);
	free(text2);
	config_free(c1);
	config_free(c2);
}

static void
test_round_trip(void **state)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < NGOOD; i++) {
		snprintf(path, sizeof(path), GOOD "%s.ini", good_files[i]);
		round_trip(path);
	}
	round_trip("etc/fleet.ini");
	/* With CHECKPOINT_DIR relative, the printed path is absolute. */
	setenv("CHECKPOINT_DIR", "ckpt", 1);
	round_trip(GOOD "checkpoint-dir.ini");
	unsetenv("CHECKPOINT_DIR");
}

/* Print c whole, its first line (the path) included.  Caller frees. */
static char *
print_all(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		fail_msg("open_memstream");
	config_print(c, f);
	fclose(f);
	return buf;
}

/*
 * The file at path, loaded from its bytes with config_load_text, is what
 * config_load makes of it; and config_load keeps those bytes.
 */
static void
same_from_text(const char *path)
{
	struct config_errors errs;
	struct config *c1, *c2, *c3;
	char *text, *p1, *p2, *p3;
	size_t len;

	c1 = load_ok(path);
	text = slurp(path);
	len = strlen(text); /* the good fixtures hold no NUL */
	assert_int_equal(c1->textlen, len);
	assert_memory_equal(c1->text, text, len);
	assert_int_equal(c1->text[len], '\0');

	/* here NULL: found from path, as config_load finds it. */
	c2 = config_load_text(path, NULL, text, len, &errs);
	if (c2 == NULL) {
		dump("errors", errs.msgs.v, errs.msgs.n);
		fail_msg("%s: refused from its text", path);
	}
	assert_int_equal(errs.msgs.n, 0);
	strv_free(&errs.msgs);
	/* here given, as a reexec gives it. */
	c3 = config_load_text(path, c1->here, text, len, &errs);
	assert_non_null(c3);
	strv_free(&errs.msgs);
	/* The text is the config's own copy. */
	memset(text, 'x', len);
	p1 = print_all(c1);
	p2 = print_all(c2);
	p3 = print_all(c3);
	if (strcmp(p1, p2) != 0 || strcmp(p1, p3) != 0) {
		print_message("from the file:\n%s\nfrom the text:\n%s\n", p1,
		    strcmp(p1, p2) != 0 ? p2 : p3);
		fail_msg("%s: not the same config from its text", path);
	}
	assert_string_equal(c2->path, path);
	assert_string_equal(c2->here, c1->here);
	assert_string_equal(c3->here, c1->here);
	assert_memory_equal(c2->text, c1->text, len);
	free(p1);
	free(p2);
	free(p3);
	free(text);
	config_free(c1);
	config_free(c2);
	config_free(c3);
}

static void
test_load_text(void **state)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < NGOOD; i++) {
		snprintf(path, sizeof(path), GOOD "%s.ini", good_files[i]);
		same_from_text(path);
	}
	same_from_text("etc/fleet.ini");
}

/* A bad file's text is refused with the very messages of the file. */
static void
test_load_text_errors(void **state)
{
	struct config_errors e1, e2;
	struct config *c;
	char path[PATH_MAX], *text;
	size_t i, j, len;
	FILE *f;

	for (i = 0; i < NBAD; i++) {
		snprintf(path, sizeof(path), BAD "%s.ini", bad_names[i]);
		if ((f = fopen(path, "re")) == NULL)
			continue; /* nonexistent, on purpose */
		/* Every byte, a NUL too. */
		fseek(f, 0, SEEK_END);
		len = (size_t)ftell(f);
		rewind(f);
		text = malloc(len + 1);
		if (text == NULL || fread(text, 1, len, f) != len)
			fail_msg("%s: cannot read", path);
		fclose(f);
		assert_null(config_load(path, &e1));
		assert_null(c = config_load_text(path, NULL, text, len, &e2));
		if (e1.msgs.n != e2.msgs.n) {
			dump("from the file", e1.msgs.v, e1.msgs.n);
			dump("from the text", e2.msgs.v, e2.msgs.n);
			fail_msg("%s: not the same messages", path);
		}
		for (j = 0; j < e1.msgs.n; j++)
			assert_string_equal(e1.msgs.v[j], e2.msgs.v[j]);
		strv_free(&e1.msgs);
		strv_free(&e2.msgs);
		free(text);
	}
}

/*
 * From text, the path only names: it need not exist when here is given;
 * %(here) is here; a NUL byte in the text is refused on its line, and an
 * empty text as an empty file is.
 */
static void
test_load_text_here(void **state)
{
	static const char text[] = "[corrald]\nstate_db = %(here)/s.db\n"
	    "[agent:a]\ncommand = %(here)/bin/a\n";
	static const char nul[] = "[agent:a]\ncommand = a\0b\n";
	struct config_errors errs;
	struct config *c;

	c = config_load_text("/no/such/dir/fleet.ini", "/srv/fleet", text,
	    sizeof(text) - 1, &errs);
	assert_non_null(c);
	strv_free(&errs.msgs);
	assert_string_equal(c->path, "/no/such/dir/fleet.ini");
	assert_string_equal(c->here, "/srv/fleet");
	assert_string_equal(c->state_db, "/srv/fleet/s.db");
	config_free(c);

	/* Without here, the path must resolve. */
	assert_null(config_load_text("/no/such/dir/fleet.ini", NULL, text,
	    sizeof(text) - 1, &errs));
	assert_int_equal(errs.msgs.n, 1);
	assert_string_equal(errs.msgs.v[0], "/no/such/dir/fleet.ini: cannot "
	    "resolve its path: No such file or directory");
	strv_free(&errs.msgs);

	assert_null(config_load_text("x.ini", "/srv", nul, sizeof(nul) - 1,
	    &errs));
	assert_int_equal(errs.msgs.n, 1);
	assert_string_equal(errs.msgs.v[0], "x.ini:2: line contains a NUL "
	    "byte");
	strv_free(&errs.msgs);

	assert_null(config_load_text("x.ini", "/srv", "", 0, &errs));
	assert_int_equal(errs.msgs.n, 1);
	assert_string_equal(errs.msgs.v[0], "x.ini:1: no [agent:NAME] "
	    "section: nothing to supervise");
	strv_free(&errs.msgs);
}

/* What escapes.ini means: each value as its quoting and escapes say. */
static void
test_escapes(void **state)
{
	struct config *c = load_ok(GOOD "escapes.ini");
	const struct agent_conf *a;
	char *here = in_cwd("tests/unit/configs/good"), *want;

	assert_string_equal(c->state_db, "/tmp/corral-test/100%/state.db");
	if (asprintf(&want, "%s/logs 50%%", here) == -1)
		fail_msg("asprintf");
	assert_string_equal(c->log_dir, want);
	free(want);
	STRV_IS(&c->clusters[0].on_state_argv, "/bin/echo", "a ; b", "#x", "",
	    "  padded  ", "\xc3\xa9 \xe2\x9c\x93 100%", "$HOME");
	a = agent(c, 0, "escapes");
	STRV_IS(&a->argv, "%(here)/bin/run", "a ; b", "#x", "", "  padded  ",
	    "say \"hi\"", "$HOME", "%(agent)");
	assert_string_equal(a->directory, "%(here)/work dir#1");
	STRV_IS(&a->env, "SEMI=a ; b", "HASH=#x", "EMPTY=", "SPACES=  padded  ",
	    "UNI=\xc3\xa9 \xe2\x9c\x93", "PCT=100%%", "DOLLAR=$HOME",
	    "QUOTES=it's \"quoted\"", "HERE=%(here)/x");
	assert_string_equal(a->thread_id,
	    ";%(agent)#%(instance) \xe2\x9c\x93");
	assert_true(a->backoff.jitter == 0.00001);
	assert_true(a->backoff.multiplier == 1.000001);
	a = agent(c, 1, "plain");
	STRV_IS(&a->argv, "/bin/echo", "a;b", "#x", "c d", "100%%", "%(agent)");
	assert_string_equal(a->directory, "/tmp/a dir");
	free(here);
	config_free(c);
}

/*
 * A value that an expansion makes impossible to write in a fleet file
 * (a %(here) or CHECKPOINT_DIR with a line break, a ';' after a blank, a
 * blank at an end) is refused: --check could not print it back.  Where
 * quoting can hold it, it is taken.
 */
static void
test_unwritable(void **state)
{
	static const char paths[] = "[corrald]\nstate_db = %(here)/s.db\n"
	    "[agent:a]\ncommand = a\n";
	static const char words[] = "[agent:a]\n"
	    "command = %(here)/bin/a --at %(here)\n"
	    "env = AT=%(here)\n";
	static const char dir[] = "[agent:a]\ncommand = a\n"
	    "directory = %(here)/work\n";
	struct config_errors errs;
	struct config *c;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_null(config_load_text("x.ini", "/srv/a\nb", paths,
	    sizeof(paths) - 1, &errs));
	assert_int_equal(errs.msgs.n, 1);
	assert_string_equal(errs.msgs.v[0], "x.ini:2: state_db: "
	    "'/srv/a\\nb/s.db' holds a line break: corrald --check could not "
	    "write it back");
	strv_free(&errs.msgs);

	assert_null(config_load_text("x.ini", "/srv/a ;b", dir,
	    sizeof(dir) - 1, &errs));
	assert_int_equal(errs.msgs.n, 1);
	assert_string_equal(errs.msgs.v[0], "x.ini:3: directory: "
	    "'/srv/a ;b/work' holds a ';' after a blank, which the file would "
	    "take for a comment: corrald --check could not write it back");
	strv_free(&errs.msgs);

	/* Words are quoted: a ';' after a blank is escaped, not refused. */
	c = config_load_text("x.ini", "/srv/a ;b 100%", words,
	    sizeof(words) - 1, &errs);
	assert_non_null(c);
	strv_free(&errs.msgs);
	if ((f = open_memstream(&text, &len)) == NULL)
		fail_msg("open_memstream");
	config_print(c, f);
	fclose(f);
	assert_non_null(strstr(text, "\ncommand = \"/srv/a \"\\;\"b "
	    "100%%/bin/a\" --at \"/srv/a \"\\;\"b 100%%\"\n"));
	assert_non_null(strstr(text, "\nenv = AT=\"/srv/a \"\\;\"b "
	    "100%%\"\n"));
	free(text);
	config_free(c);
	assert_null(config_load_text("x.ini", "/srv/a\nb", words,
	    sizeof(words) - 1, &errs));
	assert_int_equal(errs.msgs.n, 2);
	assert_string_equal(errs.msgs.v[0], "x.ini:2: command: "
	    "'/srv/a\\nb/bin/a --at /srv/a\\nb' holds a line break: corrald "
	    "--check could not write it back");
	assert_string_equal(errs.msgs.v[1], "x.ini:3: env: 'AT=/srv/a\\nb' "
	    "holds a line break: corrald --check could not write it back");
	strv_free(&errs.msgs);

	/* CHECKPOINT_DIR, taken as it is: both databases go there. */
	setenv("CHECKPOINT_DIR", "/tmp/a ;b", 1);
	assert_null(config_load_text("x.ini", "/srv", dir, sizeof(dir) - 1,
	    &errs));
	unsetenv("CHECKPOINT_DIR");
	assert_int_equal(errs.msgs.n, 2);
	assert_string_equal(errs.msgs.v[0], "x.ini:1: state_db: "
	    "'/tmp/a ;b/corral-state.db' holds a ';' after a blank, which the "
	    "file would take for a comment: corrald --check could not write it "
	    "back");
	assert_string_equal(errs.msgs.v[1], "x.ini:1: checkpoint_db: "
	    "'/tmp/a ;b/corral-checkpoints.db' holds a ';' after a blank, "
	    "which the file would take for a comment: corrald --check could "
	    "not write it back");
	strv_free(&errs.msgs);
}

/* The token --check prints in place of http_token is named as such. */
static void
test_hidden_token(void **state)
{
	static const char text[] = "[corrald]\nhttp_listen = 127.0.0.1:0\n"
	    "http_token = <hidden>\n[agent:a]\ncommand = a\n";
	struct config_errors errs;

	assert_null(config_load_text("x.ini", "/srv", text, sizeof(text) - 1,
	    &errs));
	assert_int_equal(errs.msgs.n, 1);
	assert_string_equal(errs.msgs.v[0], "x.ini:3: http_token: <hidden> is "
	    "what corrald --check prints in its place; write the token "
	    "itself");
	strv_free(&errs.msgs);
}

/* Printed and loaded back, a double is the same double. */
static void
test_print_precise(void **state)
{
	struct config *c1 = load_ok(GOOD "precise.ini"), *c2;
	char *text, *tmp;

	assert_true(c1->agents[0].backoff.multiplier == 1.23456789);
	assert_true(c1->agents[0].backoff.jitter == 0.123456789);
	text = print_body(c1);
	/* The shortest decimal that reads back the same. */
	assert_non_null(strstr(text, "\nbackoff_multiplier = 1.23456789\n"));
	assert_non_null(strstr(text, "\nbackoff_jitter = 0.123456789\n"));
	tmp = write_temp(text, strlen(text));
	c2 = load_ok(tmp);
	assert_true(c2->agents[0].backoff.multiplier ==
	    c1->agents[0].backoff.multiplier);
	assert_true(c2->agents[0].backoff.jitter ==
	    c1->agents[0].backoff.jitter);
	unlink(tmp);
	free(tmp);
	free(text);
	config_free(c1);
	config_free(c2);
}

/* What config_print says, key by key, for one agent. */
static void
test_print(void **state)
{
	struct config *c = load_ok(GOOD "all-keys.ini");
	char *text = print_body(c);
	const char *want =
	    "[corrald]\n"
	    "state_db = /tmp/corral-test/state.db\n"
	    "checkpoint_db = /tmp/corral-test/ckpt.db\n"
	    "run_dir = /tmp/corral-test/run\n"
	    "log_dir = /tmp/corral-test/log\n"
	    "control_socket = /tmp/corral-test/run/corrald.sock\n"
	    "log_level = warn\n"
	    "circuit_breaker_enabled = false\n"
	    "cgroup = auto\n"
	    "event_retention = 30d\n"
	    "event_retention_count = 1000000\n"
	    "\n"
	    "[cluster:research]\n"
	    "failure_threshold = 5\n"
	    "failure_window = 1m\n"
	    "recovery_timeout = 1m\n"
	    "recovery_timeout_max = 10m\n"
	    "half_open_max_calls = 3\n"
	    "strategy = one_for_one\n"
	    "min_healthy = 1\n"
	    "\n"
	    "[cluster:ops]\n"
	    "failure_threshold = 5\n"
	    "failure_window = 1m\n"
	    "recovery_timeout = 1m\n"
	    "recovery_timeout_max = 10m\n"
	    "half_open_max_calls = 3\n"
	    "strategy = one_for_one\n"
	    "min_healthy = 1\n"
	    "\n"
	    "[agent:full]\n"
	    "command = full-agent --mode test\n"
	    "cluster = ops\n"
	    "numprocs = 4\n"
	    "directory = /tmp\n"
	    "env = A=\"1\", B=\"two\"\n"
	    "restart = never\n"
	    "success_exit_codes = 0, 1\n"
	    "transient_exit_codes = 75, 76\n"
	    "fatal_exit_codes =\n"
	    "backoff_initial = 250ms\n"
	    "backoff_multiplier = 1.5\n"
	    "backoff_max = 90s\n"
	    "backoff_jitter = 0\n"
	    "max_retries = 7\n"
	    "healthy_after = 1500ms\n"
	    "stop_signal = QUIT\n"
	    "stop_timeout = 2m\n"
	    "stdout = inherit\n"
	    "stderr = null\n"
	    "log_max_bytes = 512K\n"
	    "log_backups = 0\n"
	    "priority = -3\n"
	    "autostart = false\n"
	    "watchdog = 3s\n"
	    "ready = running\n"
	    "thread_id = job-%(agent)-%(instance)\n"
	    "checkpoint_interval = 45s\n"
	    "poison_threshold = 5\n"
	    "max_rollback = 0\n"
	    "storage_retry = 2m\n"
	    "failure_threshold = 7\n"
	    "recovery_timeout = 30s\n"
	    "recovery_timeout_max = 5m\n"
	    "half_open_max_calls = 2\n";

	assert_string_equal(text, want);
	free(text);
	config_free(c);
}

/*
 * The limits an agent sets print back in the form they load from; one it
 * leaves alone prints nothing; a reload with other limits is another
 * process, one with another max_memory is not.
 */
static void
test_limits(void **state)
{
	static const char text[] =
	    "[agent:a]\ncommand = true\nlimit_nofile = 1024:4096\n"
	    "limit_core = 0\nlimit_as = 2G:infinity\nlimit_cpu = 2m\n"
	    "limit_nproc = infinity\nlimit_fsize = 1500\n"
	    "limit_stack = 8M\nlimit_memlock = 64K\nmax_memory = 300M\n"
	    "\n[agent:b]\ncommand = true\n";
	struct config_errors errs;
	struct config *c, *d;
	const struct agent_conf *a;
	char *body;

	(void)state;
	c = config_load_text("t.ini", "/", text, sizeof(text) - 1, &errs);
	assert_non_null(c);
	a = agent(c, 0, "a");
	assert_true(a->rlim[RL_NOFILE].set);
	assert_int_equal(a->rlim[RL_NOFILE].soft, 1024);
	assert_int_equal(a->rlim[RL_NOFILE].hard, 4096);
	assert_int_equal(a->rlim[RL_CPU].soft, 120);
	assert_int_equal(a->rlim[RL_AS].hard, RLIM_VALUE_INFINITY);
	assert_int_equal(a->max_memory, 300ULL << 20);
	a = agent(c, 1, "b");
	assert_false(a->rlim[RL_NOFILE].set);
	assert_int_equal(a->max_memory, 0);
	body = print_body(c);
	assert_non_null(strstr(body, "storage_retry = 30s\n"
	    "limit_nofile = 1024:4096\nlimit_core = 0\nlimit_nproc = "
	    "infinity\nlimit_as = 2G:infinity\nlimit_cpu = 120\n"
	    "limit_fsize = 1500\nlimit_stack = 8M\nlimit_memlock = 64K\n"
	    "max_memory = 300M\n"));
	/* b sets none: nothing of them is printed for it. */
	assert_null(strstr(strstr(body, "[agent:b]"), "limit_"));
	assert_null(strstr(strstr(body, "[agent:b]"), "max_memory"));
	free(body);
	d = config_load_text("t.ini", "/", text, sizeof(text) - 1, &errs);
	assert_non_null(d);
	assert_true(agent_conf_same_process(&c->agents[0], &d->agents[0]));
	d->agents[0].max_memory = 1;
	assert_true(agent_conf_same_process(&c->agents[0], &d->agents[0]));
	d->agents[0].rlim[RL_CORE].hard = 1;
	assert_false(agent_conf_same_process(&c->agents[0], &d->agents[0]));
	d->agents[0].rlim[RL_CORE] = c->agents[0].rlim[RL_CORE];
	d->agents[0].rlim[RL_FSIZE].set = false;
	assert_false(agent_conf_same_process(&c->agents[0], &d->agents[0]));
	config_free(c);
	config_free(d);
}

/* What config_print says of clusters and fallbacks. */
static void
test_print_clusters(void **state)
{
	struct config *c = load_ok(GOOD "clusters.ini");
	char *text = print_body(c), *here, *want;
	const char *from, *to;

	here = in_cwd("tests/unit/configs/good");
	if (asprintf(&want,
	    "[cluster:research]\n"
	    "failure_threshold = 10\n"
	    "failure_window = 5m\n"
	    "recovery_timeout = 30s\n"
	    "recovery_timeout_max = 20m\n"
	    "half_open_max_calls = 2\n"
	    "strategy = rest_for_one\n"
	    "min_healthy = 3\n"
	    "on_state_change = %s/hooks/notify --channel \"ops room\" "
	    "100%%%% \"it's\"\n"
	    "\n"
	    "[cluster:bare]\n"
	    "failure_threshold = 5\n"
	    "failure_window = 1m\n"
	    "recovery_timeout = 1m\n"
	    "recovery_timeout_max = 10m\n"
	    "half_open_max_calls = 3\n"
	    "strategy = one_for_one\n"
	    "min_healthy = 1\n"
	    "\n"
	    "[cluster:steady]\n"
	    "failure_threshold = 5\n"
	    "failure_window = 0\n"
	    "recovery_timeout = 30m\n"
	    "recovery_timeout_max = 30m\n"
	    "half_open_max_calls = 3\n"
	    "strategy = one_for_all\n"
	    "min_healthy = 0\n"
	    "on_state_change = logger -t corral\n"
	    "\n"
	    "[agent:coordinator]\n", here) == -1)
		fail_msg("asprintf");
	/* From the first cluster to the first agent's header. */
	from = strstr(text, "[cluster:");
	to = strstr(text, "[agent:coordinator]\n");
	assert_non_null(from);
	assert_non_null(to);
	to += strlen("[agent:coordinator]\n");
	if (strlen(want) != (size_t)(to - from) ||
	    strncmp(from, want, strlen(want)) != 0)
		fail_msg("got:\n%.*s\nwant:\n%s", (int)(to - from), from, want);
	/* Each agent's fallback closes its section; none when it has none. */
	assert_non_null(strstr(text, "half_open_max_calls = 3\n"
	    "fallback = coordinator-lite\n\n[agent:coordinator-lite]\n"));
	assert_non_null(strstr(text, "half_open_max_calls = 3\n"
	    "fallback = coordinator-minimal\n\n[agent:coordinator-minimal]\n"));
	assert_null(strstr(strstr(text, "[agent:coordinator-minimal]"),
	    "fallback"));
	free(want);
	free(here);
	free(text);
	config_free(c);
}

/* Issue 14's keys, on texts loaded in a directory of their own. */

static char *tdir;

/* Write text to tdir/name.  */
static void
put_file(const char *name, const char *text)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", tdir, name) == -1)
		fail_msg("asprintf");
	if ((f = fopen(path, "we")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	free(path);
}

/* tdir/name, loaded: NULL and the messages in errs, or the config. */
static struct config *
load_in(const char *name, struct config_errors *errs)
{
	char *path;
	struct config *c;

	if (asprintf(&path, "%s/%s", tdir, name) == -1)
		fail_msg("asprintf");
	c = config_load(path, errs);
	free(path);
	return c;
}

/* tdir/name must fail with exactly the messages want (";"-joined, paths
 * relative to tdir written "@"). */
static void
fails_in(const char *name, const char *want)
{
	struct config_errors errs;
	struct sbuf_t { char *s; size_t n; } got = { NULL, 0 };
	char *w = NULL, *at;
	FILE *f;
	size_t i;

	assert_null(load_in(name, &errs));
	f = open_memstream(&got.s, &got.n);
	for (i = 0; i < errs.msgs.n; i++)
		fprintf(f, "%s%s", i > 0 ? ";" : "", errs.msgs.v[i]);
	fclose(f);
	strv_free(&errs.msgs);
	/* "@" stands for tdir. */
	f = open_memstream(&w, &i);
	for (at = (char *)want; *at != '\0'; at++) {
		if (*at == '@')
			fputs(tdir, f);
		else
			fputc(*at, f);
	}
	fclose(f);
	if (strcmp(got.s, w) != 0)
		fail_msg("%s:\n got: %s\nwant: %s", name, got.s, w);
	free(got.s);
	free(w);
}

static struct config *
ok_in(const char *name)
{
	struct config_errors errs;
	struct config *c = load_in(name, &errs);

	if (c == NULL) {
		dump("errors", errs.msgs.v, errs.msgs.n);
		fail_msg("%s refused", name);
	}
	strv_free(&errs.msgs);
	return c;
}

static int
tdir_setup(void **state)
{
	char tmpl[] = "/tmp/corral-test-cfg-XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return -1;
	tdir = strdup(tmpl);
	return 0;
}

static int
tdir_teardown(void **state)
{
	char *cmd;

	/* Our own directory, made by mkdtemp above. */
	if (asprintf(&cmd, "rm -rf '%s'", tdir) == -1 || system(cmd) != 0)
		return -1;
	free(cmd);
	free(tdir);
	return 0;
}

/* The good fixture: the values as the file means them. */
static void
test_operate_keys(void **state)
{
	struct config *c = load_ok(GOOD "operate.ini");
	const struct agent_conf *a;
	char *in_cwd_dir = in_cwd("tests/unit/configs/good"), *want, *text;

	a = agent(c, 0, "merged");
	assert_int_equal(a->out[0], OUT_FILE);
	assert_int_equal(a->out[1], OUT_STDOUT);
	assert_int_equal(a->umask, 027);
	assert_int_equal(a->env_files.n, 3);
	if (asprintf(&want, "%s/../files/app.env", in_cwd_dir) == -1)
		fail_msg("asprintf");
	assert_string_equal(a->env_files.v[0], want);
	assert_string_equal(a->env_files.v[2] + strlen(a->env_files.v[2]) -
	    strlen("/good/../files/app.env"), "/good/../files/app.env");
	free(want);
	assert_string_equal(a->env_files.v[1] + strlen(a->env_files.v[1]) -
	    strlen("/none.env"), "/none.env");
	assert_int_equal(a->env_files.v[1][0], '-');
	/* stdout's pipe and log file only. */
	assert_int_equal(fd_per_worker(a), 2);
	if (asprintf(&want, "P=%s", getenv("PATH")) == -1)
		fail_msg("asprintf");
	assert_string_equal(a->env.v[0], want);
	free(want);
	assert_string_equal(a->argv.v[1], getenv("PATH"));

	a = agent(c, 1, "apart");
	assert_int_equal(a->out[1], OUT_NULL);
	assert_false(a->redirect_stderr);
	assert_int_equal(a->umask, 0);
	assert_int_equal(a->env_files.n, 0);
	assert_int_equal(fd_per_worker(a), 2);

	text = print_all(c);
	assert_non_null(strstr(text, "stdout = file\nredirect_stderr = true\n"
	    "umask = 027\nenv_file = "));
	assert_non_null(strstr(text, "stderr = null\numask = 000\n"));
	free(text);
	free(in_cwd_dir);
	config_free(c);
}

static void
test_redirect_stderr(void **state)
{
	struct config *c;

	put_file("r.ini", "[defaults]\nredirect_stderr = yes\n"
	    "[agent:a]\ncommand = x\n"
	    "[agent:b]\ncommand = x\nstderr = inherit\n"
	    "[agent:c]\ncommand = x\nredirect_stderr = false\n");
	c = ok_in("r.ini");
	assert_int_equal(agent(c, 0, "a")->out[1], OUT_STDOUT);
	assert_int_equal(agent(c, 1, "b")->out[1], OUT_INHERIT);
	assert_int_equal(agent(c, 2, "c")->out[1], OUT_FILE);
	config_free(c);
	put_file("r2.ini", "[defaults]\nstderr = null\n"
	    "[agent:a]\ncommand = x\nredirect_stderr = on\nstdout = inherit\n");
	c = ok_in("r2.ini");
	assert_int_equal(agent(c, 0, "a")->out[1], OUT_STDOUT);
	/* One pipe for both: stdout's. */
	assert_int_equal(fd_per_worker(&c->agents[0]), 1);
	config_free(c);
	put_file("r3.ini", "[agent:a]\ncommand = x\nstderr = file\n"
	    "redirect_stderr = true\n"
	    "[defaults]\nredirect_stderr = maybe\nstderr = null\n"
	    "[agent:b]\ncommand = x\n");
	fails_in("r3.ini", "@/r3.ini:4: redirect_stderr = true sends stderr "
	    "where stdout goes, but 'stderr = file' (line 3) says otherwise: "
	    "keep one;@/r3.ini:6: redirect_stderr: not a boolean (true or "
	    "false)");
}

static void
test_umask(void **state)
{
	struct config *c;

	put_file("u.ini", "[defaults]\numask = 22\n[agent:a]\ncommand = x\n"
	    "[agent:b]\ncommand = x\numask = 0777\n[agent:c]\ncommand = x\n"
	    "umask = 0\n");
	c = ok_in("u.ini");
	assert_int_equal(agent(c, 0, "a")->umask, 022);
	assert_int_equal(agent(c, 1, "b")->umask, 0777);
	assert_int_equal(agent(c, 2, "c")->umask, 0);
	config_free(c);
	put_file("u2.ini", "[agent:a]\ncommand = x\numask = 8\n"
	    "[agent:b]\ncommand = x\numask = 01000\n"
	    "[agent:c]\ncommand = x\numask =\n"
	    "[agent:d]\ncommand = x\numask = -22\n");
	fails_in("u2.ini", "@/u2.ini:3: umask: must be an octal mode from 000 "
	    "to 777, such as 022;@/u2.ini:6: umask: must be an octal mode "
	    "from 000 to 777, such as 022;@/u2.ini:9: umask: must be an octal "
	    "mode from 000 to 777, such as 022;@/u2.ini:12: umask: must be an "
	    "octal mode from 000 to 777, such as 022");
}

static void
test_env_file(void **state)
{
	struct config *c;
	char *path;

	put_file("a.env", "A=1\n");
	put_file("bad.env", "A=1\n\n# fine\n2X=no\n");
	put_file("e.ini", "[defaults]\nenv_file = a.env\n[agent:a]\n"
	    "command = x\nenv_file = -none.env\nenv_file = %(here)/a.env\n"
	    "[agent:b]\ncommand = x\nenv_file =\n");
	c = ok_in("e.ini");
	assert_int_equal(agent(c, 0, "a")->env_files.n, 3);
	assert_int_equal(agent(c, 1, "b")->env_files.n, 0);
	config_free(c);
	/* %(agent) names a file per agent; a change of files is a change
	 * of the process (a reload restarts it), as umask's is. */
	put_file("e4.ini", "[defaults]\nenv_file = -%(agent).env\n"
	    "[agent:a]\ncommand = x\n[agent:b]\ncommand = x\n"
	    "env_file = -%(agent).env\n[agent:c]\ncommand = x\n"
	    "umask = 022\n");
	c = ok_in("e4.ini");
	if (asprintf(&path, "-%s/a.env", tdir) == -1)
		fail_msg("asprintf");
	assert_int_equal(agent(c, 0, "a")->env_files.n, 1);
	assert_string_equal(c->agents[0].env_files.v[0], path);
	free(path);
	assert_int_equal(agent(c, 1, "b")->env_files.n, 2);
	assert_true(agent_conf_same_process(&c->agents[0], &c->agents[0]));
	assert_false(agent_conf_same_process(&c->agents[0], &c->agents[1]));
	assert_false(agent_conf_same_process(&c->agents[1], &c->agents[0]));
	assert_false(agent_conf_same_process(&c->agents[0], &c->agents[2]));
	config_free(c);
	put_file("e2.ini", "[defaults]\nenv_file = bad.env\n"
	    "[agent:a]\ncommand = x\n[agent:b]\ncommand = x\n"
	    "env_file = none.env - %(instance).env\n");
	/* [defaults]' mistake once, for every agent that takes it. */
	fails_in("e2.ini", "@/e2.ini:2: env_file: @/bad.env:4: expected "
	    "KEY=VALUE (KEY: letters, digits, '_', not starting with a "
	    "digit), found '2X=no';@/e2.ini:7: env_file: an empty path ('-' "
	    "marks the path after it, glued to it, as optional: "
	    "-/etc/x.env)");
	put_file("e3.ini", "[agent:b]\ncommand = x\n"
	    "env_file = none.env %(instance).env\n");
	fails_in("e3.ini", "@/e3.ini:3: env_file: @/none.env: cannot open: "
	    "No such file or directory (a '-' before the path makes the file "
	    "optional);@/e3.ini:3: env_file: %(instance) has no value here");
}

/* The file at tdir/name round-trips (round_trip). */
static void
round_trip_in(const char *name)
{
	char *path;

	if (asprintf(&path, "%s/%s", tdir, name) == -1)
		fail_msg("asprintf");
	round_trip(path);
	free(path);
}

static void
test_env_expansion(void **state)
{
	struct config *c;
	char *text, *want;

	setenv("CORRAL_T_DIR", "/srv/a b 100%", 1);
	setenv("CORRAL_T_EMPTY", "", 1);
	unsetenv("CORRAL_T_NOPE");
	put_file("x.ini", "[corrald]\nlog_dir = %(ENV_CORRAL_T_DIR)/log\n"
	    "[cluster:k]\non_state_change = %(ENV_CORRAL_T_DIR)/hook\n"
	    "[agent:a]\ncommand = %(ENV_CORRAL_T_DIR)/run %(agent)"
	    "%(ENV_CORRAL_T_EMPTY) %%(ENV_X)\n"
	    "env = D=%(ENV_CORRAL_T_DIR)\ndirectory = %(ENV_CORRAL_T_DIR)\n"
	    "thread_id = %(ENV_CORRAL_T_EMPTY)t\ncluster = k\n");
	c = ok_in("x.ini");
	assert_string_equal(c->log_dir, "/srv/a b 100%/log");
	STRV_IS(&c->clusters[0].on_state_argv, "/srv/a b 100%/hook");
	/* Templates: the value's '%' doubled, %(agent) as it was. */
	STRV_IS(&c->agents[0].argv, "/srv/a b 100%%/run", "%(agent)",
	    "%%(ENV_X)");
	STRV_IS(&c->agents[0].env, "D=/srv/a b 100%%");
	assert_string_equal(c->agents[0].directory, "/srv/a b 100%%");
	assert_string_equal(c->agents[0].thread_id, "t");
	/* --check prints the values, which need no environment to load. */
	text = print_all(c);
	if (asprintf(&want, "command = \"/srv/a b 100%%%%/run\" %%(agent) "
	    "%%%%(ENV_X)\n") == -1)
		fail_msg("asprintf");
	if (strstr(text, want) == NULL)
		fail_msg("no '%s' in:\n%s", want, text);
	assert_null(strstr(text, "(ENV_CORRAL"));
	free(want);
	free(text);
	config_free(c);
	round_trip_in("x.ini");

	put_file("x2.ini", "[corrald]\nrun_dir = %(ENV_CORRAL_T_NOPE)\n"
	    "[agent:a]\ncommand = %(ENV_CORRAL_T_NOPE)/run\n"
	    "env = A=%(ENV_)\ndirectory = %(ENV_CORRAL_T_NOPE)\n"
	    "[defaults]\nthread_id = %(ENV_CORRAL_T_NOPE)\n");
	fails_in("x2.ini", "@/x2.ini:2: run_dir: %(ENV_CORRAL_T_NOPE): "
	    "CORRAL_T_NOPE is not set in corrald's environment;"
	    "@/x2.ini:4: command: %(ENV_CORRAL_T_NOPE): CORRAL_T_NOPE is not "
	    "set in corrald's environment;@/x2.ini:5: env: %(ENV_) names no "
	    "variable;@/x2.ini:6: directory: %(ENV_CORRAL_T_NOPE): "
	    "CORRAL_T_NOPE is not set in corrald's environment;@/x2.ini:8: "
	    "thread_id: %(ENV_CORRAL_T_NOPE): CORRAL_T_NOPE is not set in "
	    "corrald's environment");
}

static void
test_include(void **state)
{
	struct config_errors errs;
	struct config *c, *c2;
	char *path, *text;
	size_t len;

	put_file("main.ini", "[include]\nfiles = d/*.ini\n\tone.ini\n"
	    "[agent:main]\ncommand = x\n");
	put_file("one.ini", "[defaults]\nnumprocs = 2\n[agent:one]\n"
	    "command = y\n");
	if (asprintf(&path, "%s/d", tdir) == -1 || mkdir(path, 0700) == -1)
		fail_msg("mkdir %s", path);
	free(path);
	put_file("d/b.ini", "[agent:b]\ncommand = b\n");
	put_file("d/a.ini", "[agent:a]\ncommand = a\n[include]\n"
	    "files = ../d/*.none\n");
	c = ok_in("main.ini");
	/* The fleet file's, then each pattern's files in byte order. */
	assert_int_equal(c->nagents, 4);
	agent(c, 0, "main");
	agent(c, 1, "a");
	agent(c, 2, "b");
	agent(c, 3, "one");
	/* [defaults] from an included file applies everywhere. */
	assert_int_equal(c->agents[0].numprocs, 2);
	/* The text kept is every file's: loaded back, the same config,
	 * whatever the files say by then. */
	assert_memory_equal(c->text, ";corral-bundle 1\n", 17);
	text = print_all(c);
	put_file("d/b.ini", "[agent:changed]\ncommand = b\n");
	put_file("d/c.ini", "[agent:c]\ncommand = c\n");
	if (asprintf(&path, "%s/main.ini", tdir) == -1)
		fail_msg("asprintf");
	c2 = config_load_text(path, c->here, c->text, c->textlen, &errs);
	assert_non_null(c2);
	strv_free(&errs.msgs);
	{
		char *text2 = print_all(c2);
		assert_string_equal(text, text2);
		free(text2);
	}
	len = c->textlen;
	assert_int_equal(c2->textlen, len);
	assert_memory_equal(c2->text, c->text, len);
	config_free(c2);
	free(path);
	free(text);
	config_free(c);
	/* A reload reads them again. */
	c = ok_in("main.ini");
	assert_int_equal(c->nagents, 5);
	agent(c, 2, "changed");
	agent(c, 3, "c");
	config_free(c);
	round_trip_in("main.ini");

	/* Errors name the included file and its line. */
	put_file("d/c.ini", "[agent:a]\ncommand = c\nnumprocs = 0\n");
	put_file("bad.ini", "[include]\nfiles = d/*.ini nothere.ini bad.ini "
	    "one.ini\nfile = x\n[agent:z]\ncommand = x\n[include]\n"
	    "files = one.ini\n");
	fails_in("bad.ini", "@/bad.ini:2: files: @/nothere.ini: cannot open: "
	    "No such file or directory;@/bad.ini:2: files: @/bad.ini is the "
	    "fleet file itself;@/bad.ini:3: unknown key 'file' in [include]; "
	    "did you mean 'files'?;@/bad.ini:6: duplicate section [include] "
	    "(first at line 1);@/d/c.ini:1: duplicate section [agent:a] "
	    "(first at @/d/a.ini:1)");
	put_file("loop.ini", "[include]\nfiles = d/loop.ini\n[agent:z]\n"
	    "command = x\n");
	put_file("d/loop.ini", "[include]\nfiles = ../one.ini loop.ini\n");
	fails_in("loop.ini", "@/d/loop.ini:2: files: @/d/loop.ini is included "
	    "already (by @/loop.ini:2)");
	put_file("empty.ini", "[include]\n[agent:z]\ncommand = x\n"
	    "[include:x]\n");
	fails_in("empty.ini", "@/empty.ini:1: [include] has no 'files';"
	    "@/empty.ini:4: unknown section [include:x] (known: [corrald], "
	    "[defaults], [include], [agent:NAME], [cluster:NAME])");
	put_file("outside.ini", "[agent:z]\ncommand = x\n[include]\n"
	    "files = out.ini\n");
	put_file("out.ini", "numprocs = 2\n");
	fails_in("outside.ini", "@/out.ini:1: 'numprocs = 2' is outside any "
	    "section");
}

#define BAD_TEST(id, name) \
	{ "bad/" name, test_bad_file, NULL, NULL, (void *)(name) },

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_listed),
		BAD_FILES(BAD_TEST)
		cmocka_unit_test(test_good_listed),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_unresolvable),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_recycle_hooks),
		cmocka_unit_test(test_clusters),
		cmocka_unit_test(test_strategy_name),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_last),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_here),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_checkpoint_dir),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_separators),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_example_fleet),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_load_text),
		cmocka_unit_test(test_load_text_errors),
		cmocka_unit_test(test_load_text_here),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_print_precise),
		cmocka_unit_test(test_print_clusters),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_unwritable),
		cmocka_unit_test(test_hidden_token),
		cmocka_unit_test(test_operate_keys),
		cmocka_unit_test_setup_teardown(test_redirect_stderr,
		    tdir_setup, tdir_teardown),
		cmocka_unit_test_setup_teardown(test_umask, tdir_setup,
		    tdir_teardown),
		cmocka_unit_test_setup_teardown(test_env_file, tdir_setup,
		    tdir_teardown),
		cmocka_unit_test_setup_teardown(test_env_expansion,
		    tdir_setup, tdir_teardown),
		cmocka_unit_test_setup_teardown(test_include, tdir_setup,
		    tdir_teardown),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
