/*
 * request.c: one control request line, split into words and checked
 * against the grammar of docs/CONTROL.md, without looking at the fleet.
 * control.c answers what it returns; whether a name is an agent, a cluster
 * or an instance that exists is control.c's question, asked of the fleet.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* status [--json] [TARGET...]: no target is all of them. */
static int
parse_status(struct ctl_request *r, char **a, size_t n, char *why,
    size_t len)
{
	if (n > 0 && strcmp(a[0], "--json") == 0) {
		r->json = true;
		a++;
		n--;
	}
	return targets_parse(r, a, n, why, len);
}

/*
 * The views' options: -f, --stderr, -n N and one target, in any order;
 * which of them a view takes is checked by the caller.
 */
static int
parse_view(struct ctl_request *r, char **a, size_t n, const char *usage,
    char *why, size_t len)
{
	const char *target = NULL;
	unsigned long v;
	char *end;
	size_t i;

	r->limit = VIEW_LIMIT_DEFAULT;
	for (i = 0; i < n; i++) {
		if (strcmp(a[i], "-f") == 0 || strcmp(a[i], "--follow") == 0)
			r->follow = true;
		else if (strcmp(a[i], "--stderr") == 0)
			r->err = true;
		else if (strcmp(a[i], "-n") == 0 && i + 1 < n) {
			v = strtoul(a[++i], &end, 10);
			if (*a[i] == '\0' || *end != '\0' || v > VIEW_LIMIT_MAX)
				return refuse(why, len, "-n takes a number from "
				    "0 to %d", VIEW_LIMIT_MAX);
			r->limit = (unsigned)v;
		} else if (a[i][0] != '-' && target == NULL)
			target = a[i];
		else
			return refuse(why, len, "usage: %s", usage);
	}
	targets_alloc(r, 1);
	if (target != NULL) {
		r->targets[0].word = target;
		r->ntargets = 1;
	}
	return 0;
}

/* After the view's usage is checked: its target, if it has one. */
static int
view_target(struct ctl_request *r, char *why, size_t len)
{
	if (r->ntargets == 0)
		return 0;
	return view_target_parse(r->targets[0].word, &r->targets[0], why, len);
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
		    "start, stop, restart, signal, reset, history, checkpoints, "
		    "events, tail, log, reload, reexec, shutdown, version)",
		    a[0]);
	r->cmd = cmds[i].cmd;
	a++;
	n--;
	switch (r->cmd) {
	case CMD_STATUS:
		return parse_status(r, a, n, why, len);
	case CMD_START:
	case CMD_STOP:
	case CMD_RESTART:
		return parse_change(r, a, n, why, len);
	case CMD_SIGNAL:
		return parse_signal_cmd(r, a, n, why, len);
	case CMD_EVENTS:
		if (parse_view(r, a, n, "events [-f] [-n N] [AGENT[:N]]", why,
		    len) == -1)
			return -1;
		return view_target(r, why, len);
	case CMD_HISTORY:
		if (parse_view(r, a, n, "history [-n N] AGENT[:N]", why,
		    len) == -1)
			return -1;
		if (r->ntargets == 0 || r->follow)
			return refuse(why, len, "usage: history [-n N] "
			    "AGENT[:N]");
		return view_target(r, why, len);
	case CMD_TAIL:
		if (parse_view(r, a, n, "tail [-f] [-n N] [--stderr] "
		    "AGENT[:N]", why, len) == -1)
			return -1;
		if (r->ntargets == 0)
			return refuse(why, len, "usage: tail [-f] [-n N] "
			    "[--stderr] AGENT[:N]");
		return view_target(r, why, len);
	case CMD_CHECKPOINTS:
		if (parse_view(r, a, n, "checkpoints [-n N] AGENT[:N]", why,
		    len) == -1)
			return -1;
		if (r->ntargets == 0 || r->follow || r->err)
			return refuse(why, len, "usage: checkpoints [-n N] "
			    "AGENT[:N]");
		return view_target(r, why, len);
	case CMD_LOG:
		/* corrald's own log: no target, no stream to choose. */
		if (parse_view(r, a, n, "log [-f] [-n N]", why, len) == -1)
			return -1;
		if (r->ntargets > 0 || r->err)
			return refuse(why, len, "usage: log [-f] [-n N]");
		return 0;
	case CMD_RESET:
		return parse_reset(r, a, n, why, len);
	case CMD_RELOAD:
		if (n > 0)
			return refuse(why, len, "usage: reload (it takes no "
			    "arguments: it reads the file corrald started "
			    "with)");
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
