/*
 * request.c: one control request line, split into words and checked
 * against the grammar of docs/CONTROL.md, without looking at the fleet.
 * control.c answers what it returns; whether a name is an agent, a cluster
 * or an instance that exists is control.c's question, asked of the fleet.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "corrald.h"

#define VIEW_LIMIT_DEFAULT 20
#define VIEW_LIMIT_MAX 100000

static int __attribute__((format(printf, 3, 4)))
refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* AGENT, AGENT:N, CLUSTER or all, as the change commands and status take. */
static int
target_parse(const char *word, struct ctl_target *t, char *why, size_t len)
{
	const char *colon = strchr(word, ':');
	char *end;

	t->word = word;
	t->namelen = colon != NULL ? (size_t)(colon - word) : strlen(word);
	t->instance = -1;
	if (colon == NULL)
		return 0;
	t->instance = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || t->instance < 0)
		return refuse(why, len, "bad target '%s': use AGENT:INSTANCE "
		    "with a number", word);
	return 0;
}

/* AGENT or AGENT:N, exactly: what the views (events, history, ...) read. */
static int
view_target_parse(const char *word, struct ctl_target *t, char *why,
    size_t len)
{
	const char *colon = strchr(word, ':');
	char *end;

	t->word = word;
	t->namelen = colon != NULL ? (size_t)(colon - word) : strlen(word);
	t->instance = -1;
	if (colon != NULL) {
		t->instance = strtol(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || t->instance < 0 ||
		    t->instance > VIEW_LIMIT_MAX)
			return refuse(why, len, "bad target '%s': use AGENT or "
			    "AGENT:INSTANCE", word);
	}
	if (t->namelen == 0 || t->namelen > NAME_MAX_LEN)
		return refuse(why, len, "bad agent name '%s'", word);
	return 0;
}

/* Room for n targets, owned by r. */
static void
targets_alloc(struct ctl_request *r, size_t n)
{
	r->targets = xcalloc(n > 0 ? n : 1, sizeof(*r->targets));
	r->ntargets = 0;
}

/* The n words of a as targets (all, AGENT, AGENT:N, CLUSTER).  0 or -1. */
static int
targets_parse(struct ctl_request *r, char **a, size_t n, char *why,
    size_t len)
{
	size_t i;

	targets_alloc(r, n);
	for (i = 0; i < n; i++)
		if (target_parse(a[i], &r->targets[r->ntargets++], why,
		    len) == -1)
			return -1;
	return 0;
}

/* start, stop, restart: [--no-wait] TARGET... */
static int
parse_change(struct ctl_request *r, char **a, size_t n, char *why,
    size_t len)
{
	static const char *const name[] = { [CMD_START] = "start",
		[CMD_STOP] = "stop", [CMD_RESTART] = "restart" };

	if (n > 0 && strcmp(a[0], "--no-wait") == 0) {
		r->nowait = true;
		a++;
		n--;
	}
	if (n == 0)
		return refuse(why, len, "usage: %s [--no-wait] "
		    "all|AGENT|AGENT:N|CLUSTER...", name[r->cmd]);
	return targets_parse(r, a, n, why, len);
}

/* An AGENT alone: no instance, no "all" (a cluster is control.c's to
 * refuse, knowing the fleet). */
static int
agent_target(struct ctl_request *r, const char *word, const char *usage,
    char *why, size_t len)
{
	if (strchr(word, ':') != NULL || strcmp(word, "all") == 0 ||
	    word[0] == '-')
		return refuse(why, len, "usage: %s", usage);
	if (strlen(word) > NAME_MAX_LEN)
		return refuse(why, len, "bad agent name '%.40s...'", word);
	targets_alloc(r, 1);
	r->targets[0].word = word;
	r->targets[0].namelen = strlen(word);
	r->targets[0].instance = -1;
	r->ntargets = 1;
	return 0;
}

/* restart --rolling [--timeout DURATION] [--no-wait] AGENT */
static int
parse_rolling(struct ctl_request *r, char **a, size_t n, char *why,
    size_t len)
{
	static const char usage[] = "restart --rolling [--timeout DURATION] "
	    "[--no-wait] AGENT";
	const char *target = NULL, *bad;
	size_t i;

	r->rolling = true;
	for (i = 0; i < n; i++) {
		if (strcmp(a[i], "--rolling") == 0)
			continue;
		if (strcmp(a[i], "--no-wait") == 0)
			r->nowait = true;
		else if (strcmp(a[i], "--timeout") == 0 && i + 1 < n) {
			if (parse_duration(a[++i], &r->timeout_ms, &bad) == -1)
				return refuse(why, len, "--timeout '%.40s': %s",
				    a[i], bad);
			if (r->timeout_ms == 0)
				return refuse(why, len, "--timeout must be "
				    "above 0");
		} else if (target == NULL && a[i][0] != '-')
			target = a[i];
		else
			return refuse(why, len, "usage: %s", usage);
	}
	if (target == NULL)
		return refuse(why, len, "usage: %s", usage);
	return agent_target(r, target, usage, why, len);
}

/* scale AGENT N */
static int
parse_scale(struct ctl_request *r, char **a, size_t n, char *why, size_t len)
{
	static const char usage[] = "scale AGENT N";
	uint64_t v;
	const char *bad;

	if (n != 2)
		return refuse(why, len, "usage: %s", usage);
	if (parse_uint(a[1], SCALE_MAX, &v, &bad) == -1 || v == 0)
		return refuse(why, len, "scale: '%.40s' is not a number of "
		    "instances from 1 to %d", a[1], SCALE_MAX);
	r->count = (unsigned)v;
	return agent_target(r, a[0], usage, why, len);
}

/* signal SIG TARGET...: SIG a name (TERM, SIGHUP) or a number. */
static int
parse_signal_cmd(struct ctl_request *r, char **a, size_t n, char *why,
    size_t len)
{
	const char *bad;

	if (n < 2)
		return refuse(why, len, "usage: signal SIGNAL "
		    "all|AGENT|AGENT:N|CLUSTER...");
	if (parse_signal(a[0], &r->sig, &bad) == -1)
		return refuse(why, len, "bad signal '%.40s': %s", a[0], bad);
	return targets_parse(r, a + 1, n - 1, why, len);
}

/*
 * The state names status --state takes, any case: every state's, where
 * held is the filter's own (HELD or stopped by the operator), and failed.
 * The bit of name, or 0 when it is none of them.
 */
static unsigned
state_bit(const char *name, size_t len)
{
	int s;

	if (len == 4 && strncasecmp(name, "held", 4) == 0)
		return CTL_STATE_HELD;
	if (len == 6 && strncasecmp(name, "failed", 6) == 0)
		return CTL_STATE_FAILED;
	for (s = 0; s <= W_LAST; s++)
		if (strlen(wstate_name(s)) == len &&
		    strncasecmp(wstate_name(s), name, len) == 0)
			return CTL_STATE(s);
	return 0;
}

/* --state STATE[,STATE...]: the bits of the list added to r->states. */
static int
parse_states(struct ctl_request *r, const char *list, char *why, size_t len)
{
	char valid[256] = "";
	const char *p = list, *comma;
	size_t n, used = 0;
	unsigned bit;
	int s;

	for (;;) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if ((bit = state_bit(p, n)) == 0)
			break;
		r->states |= bit;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
	for (s = 0; s <= W_LAST; s++) {
		const char *name = s == W_HELD ? "held" : wstate_name(s);
		size_t k;
		if (used + strlen(name) + 3 > sizeof(valid))
			break;
		for (k = 0; name[k] != '\0'; k++)
			valid[used++] = (char)tolower((unsigned char)name[k]);
		valid[used++] = ',';
		valid[used++] = ' ';
	}
	valid[used] = '\0';
	if (n == 0)
		return refuse(why, len, "--state: an empty state name in "
		    "'%.40s' (%sfailed)", list, valid);
	return refuse(why, len, "--state: unknown state '%.*s' (%sfailed)",
	    n > 40 ? 40 : (int)n, p, valid);
}

/*
 * status [--json] [--state STATE[,STATE...]] [TARGET...], options
 * anywhere: no target is all of them.
 */
static int
parse_status(struct ctl_request *r, char **a, size_t n, char *why,
    size_t len)
{
	size_t i;

	targets_alloc(r, n);
	for (i = 0; i < n; i++) {
		if (strcmp(a[i], "--json") == 0)
			r->json = true;
		else if (strcmp(a[i], "--state") == 0) {
			if (i + 1 == n)
				return refuse(why, len, "usage: status [--json] "
				    "[--state STATE[,STATE...]] [TARGET...]");
			if (parse_states(r, a[++i], why, len) == -1)
				return -1;
		} else if (strncmp(a[i], "--state=", 8) == 0) {
			if (parse_states(r, a[i] + 8, why, len) == -1)
				return -1;
		} else if (target_parse(a[i], &r->targets[r->ntargets++], why,
		    len) == -1)
			return -1;
	}
	return 0;
}

bool
ctl_state_match(unsigned states, enum wstate s, bool held,
    enum corral_exit_class last)
{
	if (states == 0 || (states & CTL_STATE(s)) != 0)
		return true;
	if (states & CTL_STATE_HELD && (s == W_HELD || held))
		return true;
	if (states & CTL_STATE_FAILED && (s == W_FATAL || s == W_BACKOFF ||
	    ((s == W_EXITED || s == W_HELD || s == W_DEGRADED) &&
	    corral_exit_is_failure(last))))
		return true;
	return false;
}

int
ctl_status_exit(bool asked, bool filtered, const char *final)
{
	unsigned long n, running;

	if (sscanf(final, "%lu worker%*[s], %lu running", &n, &running) != 2 &&
	    sscanf(final, "%lu worker, %lu running", &n, &running) != 2)
		return 0;
	if (filtered)
		return n > 0 ? 0 : 3;
	if (asked)
		return running == n ? 0 : 3;
	return 0;
}

/*
 * The views' options: -f, --stderr, --all-streams, -n N and at most max
 * targets, in any order; which of them a view takes is checked by the
 * caller.
 */
static int
parse_view(struct ctl_request *r, char **a, size_t n, size_t max,
    const char *usage, char *why, size_t len)
{
	unsigned long v;
	char *end;
	size_t i;

	r->limit = VIEW_LIMIT_DEFAULT;
	targets_alloc(r, n);
	for (i = 0; i < n; i++) {
		if (strcmp(a[i], "-f") == 0 || strcmp(a[i], "--follow") == 0)
			r->follow = true;
		else if (strcmp(a[i], "--stderr") == 0)
			r->err = true;
		else if (strcmp(a[i], "--all-streams") == 0)
			r->all_streams = true;
		else if (strcmp(a[i], "-n") == 0 && i + 1 < n) {
			v = strtoul(a[++i], &end, 10);
			if (*a[i] == '\0' || *end != '\0' || v > VIEW_LIMIT_MAX)
				return refuse(why, len, "-n takes a number from "
				    "0 to %d", VIEW_LIMIT_MAX);
			r->limit = (unsigned)v;
		} else if (a[i][0] != '-' && r->ntargets < max)
			r->targets[r->ntargets++].word = a[i];
		else
			return refuse(why, len, "usage: %s", usage);
	}
	return 0;
}

/* After the view's usage is checked: its targets, if it has any. */
static int
view_target(struct ctl_request *r, char *why, size_t len)
{
	size_t i;

	for (i = 0; i < r->ntargets; i++)
		if (view_target_parse(r->targets[i].word, &r->targets[i], why,
		    len) == -1)
			return -1;
	return 0;
}

/* reset AGENT|CLUSTER [--reason TEXT] */
static int
parse_reset(struct ctl_request *r, char **a, size_t n, char *why,
    size_t len)
{
	static const char usage[] = "usage: reset AGENT|CLUSTER "
	    "[--reason TEXT]";
	size_t i;

	if (n == 0 || a[0][0] == '-')
		return refuse(why, len, "%s", usage);
	r->reason = "no reason given";
	for (i = 1; i < n; i++) {
		if (strcmp(a[i], "--reason") == 0 && i + 1 < n)
			r->reason = a[++i];
		else
			return refuse(why, len, "%s", usage);
	}
	targets_alloc(r, 1);
	r->targets[0].word = a[0];
	r->targets[0].namelen = strlen(a[0]);
	r->targets[0].instance = -1;
	r->ntargets = 1;
	return 0;
}

static int
parse_command(struct ctl_request *r, char **a, size_t n, char *why,
    size_t len)
{
	static const struct {
		const char *name;
		enum ctl_cmd cmd;
	} cmds[] = {
		{ "status", CMD_STATUS }, { "start", CMD_START },
		{ "stop", CMD_STOP }, { "restart", CMD_RESTART },
		{ "events", CMD_EVENTS }, { "history", CMD_HISTORY },
		{ "tail", CMD_TAIL }, { "checkpoints", CMD_CHECKPOINTS },
		{ "reload", CMD_RELOAD }, { "reset", CMD_RESET },
		{ "reexec", CMD_REEXEC }, { "version", CMD_VERSION },
		{ "shutdown", CMD_SHUTDOWN }, { "signal", CMD_SIGNAL },
		{ "scale", CMD_SCALE },
		{ "log", CMD_LOG },
	};
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(a[0], cmds[i].name) == 0)
			break;
	/* reexec with arguments is no command corrald knows. */
	if (i == sizeof(cmds) / sizeof(cmds[0]) ||
	    (cmds[i].cmd == CMD_REEXEC && n > 1))
		return refuse(why, len, "unknown command '%.40s' (status, "
		    "start, stop, restart, signal, scale, reset, history, "
		    "checkpoints, events, tail, log, reload, reexec, shutdown, "
		    "version)", a[0]);
	r->cmd = cmds[i].cmd;
	a++;
	n--;
	switch (r->cmd) {
	case CMD_STATUS:
		return parse_status(r, a, n, why, len);
	case CMD_RESTART:
		for (i = 0; i < n; i++)
			if (strcmp(a[i], "--rolling") == 0)
				return parse_rolling(r, a, n, why, len);
		return parse_change(r, a, n, why, len);
	case CMD_START:
	case CMD_STOP:
		return parse_change(r, a, n, why, len);
	case CMD_SCALE:
		return parse_scale(r, a, n, why, len);
	case CMD_SIGNAL:
		return parse_signal_cmd(r, a, n, why, len);
	case CMD_EVENTS:
		if (parse_view(r, a, n, 1, "events [-f] [-n N] [AGENT[:N]]", why,
		    len) == -1)
			return -1;
		if (r->all_streams)
			return refuse(why, len, "usage: events [-f] [-n N] "
			    "[AGENT[:N]]");
		return view_target(r, why, len);
	case CMD_HISTORY:
		if (parse_view(r, a, n, 1, "history [-n N] AGENT[:N]", why,
		    len) == -1)
			return -1;
		if (r->ntargets == 0 || r->follow || r->all_streams)
			return refuse(why, len, "usage: history [-n N] "
			    "AGENT[:N]");
		return view_target(r, why, len);
	case CMD_TAIL:
		if (parse_view(r, a, n, n, "tail [-f] [-n N] [--stderr | "
		    "--all-streams] [TARGET...]", why, len) == -1)
			return -1;
		if (r->err && r->all_streams)
			return refuse(why, len, "tail: --stderr or "
			    "--all-streams, not both");
		return view_target(r, why, len);
	case CMD_CHECKPOINTS:
		if (parse_view(r, a, n, 1, "checkpoints [-n N] AGENT[:N]", why,
		    len) == -1)
			return -1;
		if (r->ntargets == 0 || r->follow || r->err || r->all_streams)
			return refuse(why, len, "usage: checkpoints [-n N] "
			    "AGENT[:N]");
		return view_target(r, why, len);
	case CMD_LOG:
		/* corrald's own log: no target, no stream to choose. */
		if (parse_view(r, a, n, 0, "log [-f] [-n N]", why, len) == -1)
			return -1;
		if (r->ntargets > 0 || r->err || r->all_streams)
			return refuse(why, len, "usage: log [-f] [-n N]");
		return 0;
	case CMD_RESET:
		return parse_reset(r, a, n, why, len);
	case CMD_RELOAD:
		if (n == 1 && strcmp(a[0], "--dry-run") == 0) {
			r->dry_run = true;
			return 0;
		}
		if (n > 0)
			return refuse(why, len, "usage: reload [--dry-run] (it "
			    "reads the file corrald started with)");
		return 0;
	case CMD_REEXEC:
	case CMD_VERSION:
	case CMD_SHUTDOWN:
		return 0;
	}
	return refuse(why, len, "unknown command");
}

int
ctl_parse(const char *line, size_t linelen, struct ctl_request *r, char *why,
    size_t len)
{
	const char *split_why;
	char *text;
	int rc;

	memset(r, 0, sizeof(*r));
	strv_init(&r->words);
	if (linelen > CTL_LINE_MAX)
		return refuse(why, len, "request longer than %d bytes",
		    CTL_LINE_MAX);
	if (memchr(line, '\0', linelen) != NULL)
		return refuse(why, len, "request contains a NUL byte");
	text = xstrndup(line, linelen);
	rc = argv_split(text, NULL, &r->words, &split_why);
	free(text);
	if (rc == -1)
		return refuse(why, len, "bad request: %s", split_why);
	if (r->words.n == 0)
		rc = refuse(why, len, "empty request");
	else if (strcmp(r->words.v[0], CTL_PROTO) != 0)
		rc = refuse(why, len, "unsupported protocol '%.40s' (this "
		    "corrald speaks %s)", r->words.v[0], CTL_PROTO);
	else if (r->words.n == 1)
		rc = refuse(why, len, "no command");
	else
		rc = parse_command(r, r->words.v + 1, r->words.n - 1, why,
		    len);
	if (rc == -1)
		ctl_request_free(r);
	return rc;
}

void
ctl_request_free(struct ctl_request *r)
{
	strv_free(&r->words);
	free(r->targets);
	r->targets = NULL;
	r->ntargets = 0;
}
