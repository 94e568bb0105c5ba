/*
 * control.c: the control socket, a Unix stream socket that takes one
 * request line per connection and answers in tagged lines (protocol
 * "corral/1", docs/CONTROL.md).  Only root and corrald's own user may
 * connect.  Requests that change workers are answered when the workers
 * have settled, unless the client asked not to wait.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "corrald.h"

#define CTL_REQUEST_TIMEOUT 10 /* seconds to send a whole request */
#define CTL_WRITE_TIMEOUT 30   /* seconds for a reader to take a reply */

enum ctl_verb {
	V_NONE, V_START, V_STOP, V_RESTART, V_SHUTDOWN, V_EVENTS, V_TAIL,
	V_ROLL, V_SCALE, V_LOG
};

/* A follower whose reader falls this far behind is dropped. */
#define CTL_FOLLOW_MAX (4 * 1024 * 1024)

struct ctl_client {
	struct control *ctl;
	struct bufferevent *bev;
	LIST_ENTRY(ctl_client) entry;
	enum ctl_verb verb;      /* what it waits for, V_NONE: nothing */
	struct worker **waiting; /* owned array of borrowed workers */
	size_t nwaiting;
	bool closing;            /* replied; freed once the reply is out */
	bool linger;             /* ...or, refused, once the peer hangs up */
	bool counted;            /* in ctl->nwaiters */
	uid_t uid;               /* the peer, for the record */
	pid_t pid;
	/* V_EVENTS: the agent (empty: all) and instance (-1: all) followed;
	 * V_ROLL: the agent whose rolling restart it follows */
	char follow_agent[NAME_MAX_LEN + 1];
	int follow_instance;
	/* V_TAIL: the workers followed, sorted by address, their streams */
	struct tail_src *srcs;   /* owned */
	size_t nsrcs, capsrcs;
	unsigned tail_streams;   /* bit 0: stdout, bit 1: stderr */
	bool tail_merged;        /* lines prefixed [NAME] or [NAME:err] */
	bool tail_all;           /* every worker, those a reload adds too */
};

/* A worker a tail follows, and the partial line of each of its streams. */
struct tail_src {
	struct worker *w;        /* borrowed; gone: control_worker_gone */
	char *part[2];           /* owned, TAIL_PART bytes, made when needed */
	size_t partlen[2];
};
#define TAIL_PART 1024

struct control {
	struct fleet *fleet; /* borrowed */
	char *path;
	struct evconnlistener *lis;
	struct accept_guard *guard; /* pauses lis when accept fails */
	LIST_HEAD(, ctl_client) clients;
	int (*reexec)(void *, int, char *, size_t);
	void *reexec_arg;
	struct event *recheck_ev; /* checks waiting clients, once a turn */
	size_t nwaiters;          /* clients waiting for workers to settle */
};

static void client_free(struct ctl_client *);
static void do_reexec(struct ctl_client *);
static struct tail_src *src_find(struct ctl_client *, const struct worker *);

/* Reply lines: "= " data, "+ " final success, "- " final failure. */

static void __attribute__((format(printf, 3, 4)))
reply(struct ctl_client *c, char tag, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	va_list ap;

	evbuffer_add_printf(out, "%c ", tag);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\n", 1);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;

	(void)bev;
	if (c->closing && !c->linger)
		client_free(c);
}

/* After the final line: stop reading, free once the output is written. */
static void
finish(struct ctl_client *c)
{
	if (c->counted) {
		c->counted = false;
		c->ctl->nwaiters--;
	}
	c->closing = true;
	c->verb = V_NONE;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		client_free(c);
}

static void __attribute__((format(printf, 2, 3)))
fail(struct ctl_client *c, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	va_list ap;

	evbuffer_add(out, "- ", 2);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\n", 1);
	finish(c);
}

static void
evbuffer_add_str(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, s, strlen(s));
}

/* JSON string, escaped per RFC 8259; plain runs are added whole. */
static void
json_str(struct evbuffer *out, const char *s)
{
	const char *run;

	evbuffer_add(out, "\"", 1);
	for (;;) {
		for (run = s; *s != '\0' && *s != '"' && *s != '\\' &&
		    (unsigned char)*s >= 0x20; s++)
			;
		if (s > run)
			evbuffer_add(out, run, (size_t)(s - run));
		if (*s == '\0')
			break;
		if (*s == '"' || *s == '\\')
			evbuffer_add_printf(out, "\\%c", *s);
		else
			evbuffer_add_printf(out, "\\u%04x", (unsigned char)*s);
		s++;
	}
	evbuffer_add(out, "\"", 1);
}

/*
 * The workers the targets name (none: every worker), in the fleet's order.
 * 0 with *out (caller frees), or -1 answered.
 */
static int
resolve(struct ctl_client *c, const struct ctl_target *ts, size_t n,
    struct worker ***out, size_t *nout)
{
	struct fleet *f = c->ctl->fleet;
	struct config *conf = f->conf;
	struct worker **ws;
	bool *pick;
	size_t i, j, k;

	pick = xcalloc(f->nworkers, sizeof(*pick));
	if (n == 0)
		for (j = 0; j < f->nworkers; j++)
			pick[j] = true;
	for (i = 0; i < n; i++) {
		const char *name = ts[i].word;
		size_t len = ts[i].namelen;
		long inst = ts[i].instance;
		bool colon = name[len] == ':', found = false;

		if (strcmp(name, "all") == 0) {
			for (j = 0; j < f->nworkers; j++)
				pick[j] = true;
			continue;
		}
		for (j = 0; j < f->nworkers; j++) {
			struct worker *w = f->workers[j];
			const char *an = w->agent->name, *cl = w->agent->cluster;
			bool agent = strlen(an) == len &&
			    strncmp(an, name, len) == 0;
			bool cluster = !colon && cl != NULL &&
			    strcmp(cl, name) == 0;
			if ((agent && (inst < 0 || (long)w->instance == inst)) ||
			    cluster) {
				pick[j] = true;
				found = true;
			}
		}
		if (!found && colon) {
			for (k = 0; k < conf->nagents; k++) {
				if (strlen(conf->agents[k].name) == len &&
				    strncmp(conf->agents[k].name, name, len) == 0)
					break;
			}
			if (k < conf->nagents) {
				fail(c, "agent '%.*s' has no instance %ld (it has "
				    "%u: 0 to %u)", (int)len, name, inst,
				    conf->agents[k].numprocs,
				    conf->agents[k].numprocs - 1);
				free(pick);
				return -1;
			}
		}
		if (!found) {
			const char *best = NULL;
			unsigned d, bestd = 3;
			for (k = 0; k < conf->nagents; k++) {
				d = edit_distance(name, conf->agents[k].name);
				if (d < bestd) {
					bestd = d;
					best = conf->agents[k].name;
				}
			}
			for (k = 0; k < conf->nclusters; k++) {
				d = edit_distance(name, conf->clusters[k].name);
				if (d < bestd) {
					bestd = d;
					best = conf->clusters[k].name;
				}
			}
			if (best != NULL)
				fail(c, "no agent or cluster '%s'; did you mean "
				    "'%s'?", name, best);
			else
				fail(c, "no agent or cluster '%s'", name);
			free(pick);
			return -1;
		}
	}
	ws = xcalloc(f->nworkers, sizeof(*ws));
	for (j = 0, k = 0; j < f->nworkers; j++)
		if (pick[j])
			ws[k++] = f->workers[j];
	free(pick);
	*out = ws;
	*nout = k;
	return 0;
}

static void
describe_last_exit(const struct worker *w, char *buf, size_t len)
{
	const char *cls = corral_exit_class_name(w->last_class);

	if (w->last_class == CORRAL_EXIT_NONE)
		snprintf(buf, len, "-");
	else if (w->last_signal > 0)
		snprintf(buf, len, "%s (SIG%s)", cls,
		    signal_name(w->last_signal) ? signal_name(w->last_signal) :
		    "?");
	else if (w->exec_failed)
		snprintf(buf, len, "%s (%s)", cls, strerror(w->exec_errno));
	else
		snprintf(buf, len, "%s (%d)", cls, w->last_code);
}

static void
format_uptime(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llu.%01llus", (unsigned long long)s,
		    (unsigned long long)(ms % 1000 / 100));
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum",
		    (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%llud%02lluh",
		    (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600));
}

static void
status_json(struct ctl_client *c, struct worker **ws, size_t n)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_str(out, "= ");
	control_status_json(out, c->ctl->fleet, ws, n);
	evbuffer_add_str(out, "\n");
}

/* The clusters of the workers listed, in the file's order. */
static size_t
listed_clusters(struct fleet *f, struct worker **ws, size_t n,
    struct cluster_rt **out)
{
	size_t i, j, k = 0;

	for (j = 0; j < f->ncrts; j++)
		for (i = 0; i < n; i++)
			if (ws[i]->rt != NULL && ws[i]->rt->cluster == f->crts[j]) {
				out[k++] = f->crts[j];
				break;
			}
	return k;
}

static const char *
cluster_breaker(const struct fleet *f, const struct cluster_rt *cr)
{
	return !f->conf->breakers ? "OFF" :
	    corral_breaker_state_name(cr->g.br.state);
}

/* The state database's condition: what a status shows when not ok. */
static void
state_db_json(struct evbuffer *out, struct statedb *db)
{
	struct statedb_health h;

	statedb_health(db, &h);
	evbuffer_add_printf(out, "{\"condition\":\"%s\",\"error\":",
	    db_cond_name(h.cond));
	if (h.cond != DBC_OK)
		json_str(out, h.error);
	else
		evbuffer_add_str(out, "null");
	evbuffer_add_str(out, ",\"since_ms\":");
	if (h.since_ms != 0)
		evbuffer_add_printf(out, "%lld", (long long)h.since_ms);
	else
		evbuffer_add_str(out, "null");
	evbuffer_add_printf(out, ",\"events_queued\":%zu,\"rows_queued\":%zu,"
	    "\"events_dropped\":%llu,\"events_pruned\":%llu,"
	    "\"read_back\":%s,\"moved_aside_to\":", h.queued, h.rows_queued,
	    (unsigned long long)h.dropped, (unsigned long long)h.pruned,
	    h.memory ? "false" : "true");
	if (h.aside != NULL)
		json_str(out, h.aside);
	else
		evbuffer_add_str(out, "null");
	evbuffer_add_str(out, "}");
}

/* "limits":{...}: the descriptor plan, and the workers it holds back. */
static void
limits_json(struct evbuffer *out, const struct fleet *f)
{
	const struct fd_plan *p = &f->fds;
	char msg[256];

	limits_describe(f, msg, sizeof(msg));
	evbuffer_add_printf(out, "\"limits\":{\"fds_needed\":%llu,"
	    "\"fd_limit\":%llu,\"fd_hard_limit\":%llu,\"workers_fit\":%zu,"
	    "\"workers_limited\":%zu,\"message\":",
	    (unsigned long long)p->need, (unsigned long long)p->limit,
	    (unsigned long long)p->hard, p->fit, p->workers - p->fit);
	if (*msg != '\0')
		json_str(out, msg);
	else
		evbuffer_add_str(out, "null");
	evbuffer_add_str(out, "}");
}

void
control_status_json(struct evbuffer *out, struct fleet *f,
    struct worker **ws, size_t n)
{
	uint64_t now = now_mono_ms();
	struct cluster_rt **cs = xcalloc(f->ncrts + 1, sizeof(*cs));
	size_t i, nc;

	usage_refresh(f);
	/* One allocation for the whole answer (about 440 bytes a worker,
	 * make bench's status of 1000 workers: 443,723 bytes),
	 * not a chain at a time. */
	evbuffer_expand(out, 512 + n * 512);
	evbuffer_add_printf(out, "{\"protocol\":\"%s\",\"pid\":%ld,"
	    "\"workers\":[", CTL_PROTO, (long)getpid());
	for (i = 0; i < n; i++) {
		struct worker *w = ws[i];
		evbuffer_add_printf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, w->name);
		evbuffer_add_str(out, ",\"agent\":");
		json_str(out, w->agent->name);
		evbuffer_add_printf(out, ",\"instance\":%u,\"cluster\":",
		    w->instance);
		if (w->agent->cluster != NULL)
			json_str(out, w->agent->cluster);
		else
			evbuffer_add_str(out, "null");
		evbuffer_add_printf(out, ",\"state\":\"%s\",\"pid\":",
		    wstate_name(w->state));
		if (w->pid != 0)
			evbuffer_add_printf(out, "%ld,\"uptime_ms\":%llu",
			    (long)w->pid,
			    (unsigned long long)(now - w->start_mono_ms));
		else
			evbuffer_add_str(out, "null,\"uptime_ms\":null");
		/* What the run uses (usage.c); null without a sample. */
		if (w->pid != 0 && w->use.at_ms != 0)
			evbuffer_add_printf(out, ",\"rss_bytes\":%llu,"
			    "\"cpu_ms\":%llu", (unsigned long long)w->use.rss,
			    (unsigned long long)w->use.cpu_ms);
		else
			evbuffer_add_str(out,
			    ",\"rss_bytes\":null,\"cpu_ms\":null");
		if (w->pid != 0 && w->use.at_ms != 0 && w->use.pct_known)
			evbuffer_add_printf(out, ",\"cpu_percent\":%.1f",
			    w->use.pct);
		else
			evbuffer_add_str(out, ",\"cpu_percent\":null");
		/* Its agent's kernel limits (cglimit.c); null: none. */
		if (w->agent->memory_max > 0)
			evbuffer_add_printf(out, ",\"memory_max\":%llu",
			    (unsigned long long)w->agent->memory_max);
		else
			evbuffer_add_str(out, ",\"memory_max\":null");
		if (w->agent->cpu_quota > 0)
			evbuffer_add_printf(out, ",\"cpu_quota_percent\":%.2f",
			    (double)w->agent->cpu_quota / 100.0);
		else
			evbuffer_add_str(out, ",\"cpu_quota_percent\":null");
		if (w->rt != NULL)
			evbuffer_add_printf(out, ",\"breaker\":\"%s\"",
			    !w->fleet->conf->breakers ? "OFF" :
			    corral_breaker_state_name(w->rt->g.br.state));
		evbuffer_add_printf(out, ",\"restarts\":%u,\"failures\":%u,"
		    "\"start_failures\":%u,\"runtime_failures\":%u,"
		    "\"held\":%s,\"last_exit\":",
		    w->runs > 0 ? w->runs - 1 : 0, w->failures,
		    w->start_failures, w->runtime_failures,
		    w->held ? "true" : "false");
		if (w->last_class == CORRAL_EXIT_NONE)
			evbuffer_add_str(out, "null");
		else
			evbuffer_add_printf(out, "{\"class\":\"%s\","
			    "\"code\":%d,\"signal\":%d}",
			    corral_exit_class_name(w->last_class),
			    w->last_code, w->last_signal);
		/* The worker protocol: what the run said, and how lately. */
		evbuffer_add_printf(out, ",\"ready\":%s,\"heartbeat_age_ms\":",
		    w->ready ? "true" : "false");
		if (w->pid != 0 && w->heartbeat_mono_ms != 0)
			evbuffer_add_printf(out, "%llu", (unsigned long long)
			    (now - w->heartbeat_mono_ms));
		else
			evbuffer_add_str(out, "null");
		evbuffer_add_printf(out, ",\"watchdog_ms\":%llu,"
		    "\"status_text\":", (unsigned long long)w->wd_ms);
		if (w->status_text != NULL)
			json_str(out, w->status_text);
		else
			evbuffer_add_str(out, "null");
		evbuffer_add_str(out, ",\"last_report\":");
		if (w->report != NULL) {
			evbuffer_add_printf(out, "{\"severity\":\"%s\","
			    "\"recoverable\":%s,\"code\":",
			    report_severity_name(w->report->severity),
			    w->report->recoverable ? "true" : "false");
			json_str(out, w->report->code);
			evbuffer_add_str(out, ",\"message\":");
			json_str(out, w->report->message);
			evbuffer_add_str(out, "}");
		} else
			evbuffer_add_str(out, "null");
		/* A checkpoint storage error that holds or slows it. */
		evbuffer_add_str(out, ",\"storage_error\":");
		if (w->storage_why != NULL) {
			evbuffer_add_printf(out, "{\"kind\":\"%s\",\"reason\":",
			    storage_kind_name(w->storage_kind));
			json_str(out, w->storage_why);
			evbuffer_add_str(out, "}");
		} else
			evbuffer_add_str(out, "null");
		/* WAITING: for which agent's instance (order.c). */
		evbuffer_add_str(out, ",\"waiting_for\":");
		if (w->state == W_WAITING) {
			char why[256];
			if (order_check(w, why, sizeof(why)) != ORDER_GO)
				json_str(out, why);
			else
				evbuffer_add_str(out, "null");
		} else
			evbuffer_add_str(out, "null");
		/* Its thread's lease (PostgreSQL): held here, or why not. */
		if (w->fleet->conf->leases) {
			evbuffer_add_printf(out, ",\"lease\":{\"token\":%lld,"
			    "\"reason\":", (long long)w->lease_token);
			if (w->lease_why != NULL && w->lease_token == 0)
				json_str(out, w->lease_why);
			else
				evbuffer_add_str(out, "null");
			evbuffer_add_str(out, "}");
		}
		evbuffer_add_str(out, "}");
	}
	evbuffer_add_str(out, "],\"clusters\":[");
	nc = listed_clusters(f, ws, n, cs);
	for (i = 0; i < nc; i++) {
		evbuffer_add_printf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, cs[i]->g.name);
		evbuffer_add_printf(out, ",\"health\":\"%s\",\"breaker\":\"%s\","
		    "\"up\":%u,\"down\":%u,\"min_healthy\":%u,"
		    "\"strategy\":\"%s\"}", health_name(cs[i]->health),
		    cluster_breaker(f, cs[i]), cs[i]->up, cs[i]->down,
		    cs[i]->conf->min_healthy,
		    strategy_name(cs[i]->conf->strategy));
	}
	evbuffer_add_str(out, "],\"state_db\":");
	state_db_json(out, f->db);
	evbuffer_add_str(out, ",");
	limits_json(out, f);
	evbuffer_add_str(out, "}");
	free(cs);
}

#define NCOL 10

/* CPU and MEM: the run's last sample (usage.c), "-" without one. */
static void
usage_cells(const struct worker *w, char *cpu, char *mem, size_t len)
{
	uint64_t b = w->use.rss;

	snprintf(cpu, len, "-");
	snprintf(mem, len, "-");
	if (w->pid == 0 || w->use.at_ms == 0)
		return;
	if (w->use.pct_known)
		snprintf(cpu, len, "%.1f%%", w->use.pct);
	if (b >= 1ULL << 30)
		snprintf(mem, len, "%.2fG", (double)b / (1ULL << 30));
	else if (b >= 1ULL << 20)
		snprintf(mem, len, "%.1fM", (double)b / (1ULL << 20));
	else
		snprintf(mem, len, "%lluK", (unsigned long long)(b >> 10));
}

static void
row_cells(const struct worker *w, uint64_t now, char cell[NCOL][96])
{
	/* Its agent's breaker; a worker a reload removed has none. */
	snprintf(cell[9], 96, "%s", w->rt == NULL ? "-" :
	    !w->fleet->conf->breakers ? "OFF" :
	    corral_breaker_state_name(w->rt->g.br.state));
	snprintf(cell[0], 96, "%s", w->name);
	snprintf(cell[1], 96, "%s%s", wstate_name(w->state),
	    w->held ? "*" : "");
	if (w->pid != 0) {
		snprintf(cell[2], 96, "%ld", (long)w->pid);
		format_uptime(now - w->start_mono_ms, cell[3], 96);
	} else {
		snprintf(cell[2], 96, "-");
		snprintf(cell[3], 96, "-");
	}
	snprintf(cell[4], 96, "%u", w->runs > 0 ? w->runs - 1 : 0);
	snprintf(cell[5], 96, "%u/%u", w->start_failures, w->runtime_failures);
	describe_last_exit(w, cell[6], 96);
	usage_cells(w, cell[7], cell[8], 96);
}

static void
emit_row(struct ctl_client *c, const size_t *width, char cell[NCOL][96])
{
	reply(c, '=', "%-*s  %-*s  %*s  %*s  %*s  %*s  %*s  %*s  %-*s  %s",
	    (int)width[0], cell[0], (int)width[1], cell[1],
	    (int)width[2], cell[2], (int)width[3], cell[3],
	    (int)width[7], cell[7], (int)width[8], cell[8],
	    (int)width[4], cell[4], (int)width[5], cell[5],
	    (int)width[9], cell[9], cell[6]);
}

/* Below the workers: their clusters' health and breakers. */
static void
cluster_rows(struct ctl_client *c, struct worker **ws, size_t n)
{
	struct fleet *f = c->ctl->fleet;
	struct cluster_rt **cs = xcalloc(f->ncrts + 1, sizeof(*cs));
	size_t i, nc, w = strlen("CLUSTER");

	nc = listed_clusters(f, ws, n, cs);
	for (i = 0; i < nc; i++)
		if (strlen(cs[i]->g.name) > w)
			w = strlen(cs[i]->g.name);
	if (nc > 0) {
		reply(c, '=', "%s", "");
		reply(c, '=', "%-*s  %-8s  %-9s  %4s  %11s  %s", (int)w,
		    "CLUSTER", "HEALTH", "BREAKER", "UP", "MIN_HEALTHY",
		    "STRATEGY");
	}
	for (i = 0; i < nc; i++)
		reply(c, '=', "%-*s  %-8s  %-9s  %4u  %11u  %s", (int)w,
		    cs[i]->g.name, health_name(cs[i]->health),
		    cluster_breaker(f, cs[i]), cs[i]->up,
		    cs[i]->conf->min_healthy,
		    strategy_name(cs[i]->conf->strategy));
	free(cs);
}

/* Below the rest, only when there is something to say: the state database. */
static void
state_db_rows(struct ctl_client *c)
{
	struct statedb_health h;
	char since[32] = "?";
	struct tm tm;
	time_t t;

	statedb_health(c->ctl->fleet->db, &h);
	if (h.cond == DBC_OK && h.aside == NULL && !h.memory &&
	    h.dropped == 0)
		return;
	reply(c, '=', "%s", "");
	if (h.cond != DBC_OK) {
		t = (time_t)(h.since_ms / 1000);
		if (localtime_r(&t, &tm) != NULL)
			strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S",
			    &tm);
		reply(c, '=', "STATE DB  %s since %s (%s): %zu events and %zu "
		    "rows of state wait in memory; retrying", db_cond_name(
		    h.cond), since, h.error, h.queued, h.rows_queued);
	}
	if (h.dropped > 0)
		reply(c, '=', "STATE DB  %llu events dropped (the queue in "
		    "memory was full)", (unsigned long long)h.dropped);
	if (h.aside != NULL)
		reply(c, '=', "STATE DB  was corrupt: moved aside to %s; a "
		    "fresh one is in use", h.aside);
	if (h.memory)
		reply(c, '=', "STATE DB  nothing could be read from it: FATAL, "
		    "held and breaker states of before are not known");
}

/* Below everything: why LIMITED workers do not start, when some do not. */
static void
limit_rows(struct ctl_client *c)
{
	char msg[256];

	limits_describe(c->ctl->fleet, msg, sizeof(msg));
	if (*msg == '\0')
		return;
	reply(c, '=', "%s", "");
	reply(c, '=', "LIMITED: %s", msg);
}

/*
 * An aligned table; STATE has a '*' when the operator stopped the worker,
 * FAILURES is start/runtime failures since corrald started, BREAKER its
 * agent's breaker (before LAST EXIT, the one cell with blanks in it).  A
 * worker with a checkpoint storage error has it on an indented line below.
 */
static void
status_table(struct ctl_client *c, struct worker **ws, size_t n)
{
	static const char *head[NCOL] = { "NAME", "STATE", "PID", "UPTIME",
		"RESTARTS", "FAILURES", "LAST EXIT", "CPU", "MEM", "BREAKER" };
	uint64_t now = now_mono_ms();
	char cell[NCOL][96];
	size_t width[NCOL], i, k;

	usage_refresh(c->ctl->fleet);
	for (k = 0; k < NCOL; k++)
		width[k] = strlen(head[k]);
	for (i = 0; i < n; i++) {
		row_cells(ws[i], now, cell);
		for (k = 0; k < NCOL; k++)
			if (strlen(cell[k]) > width[k])
				width[k] = strlen(cell[k]);
	}
	for (k = 0; k < NCOL; k++)
		snprintf(cell[k], sizeof(cell[k]), "%s", head[k]);
	emit_row(c, width, cell);
	for (i = 0; i < n; i++) {
		row_cells(ws[i], now, cell);
		emit_row(c, width, cell);
		/* Why it is held or waits: on a line of its own, in full. */
		if (ws[i]->storage_why != NULL)
			reply(c, '=', "  %s", ws[i]->storage_why);
		if (ws[i]->state == W_ELSEWHERE && ws[i]->lease_why != NULL)
			reply(c, '=', "  %s", ws[i]->lease_why);
		/* What it waits for, as it is now (order.c). */
		if (ws[i]->state == W_WAITING) {
			char why[256];
			if (order_check(ws[i], why, sizeof(why)) != ORDER_GO)
				reply(c, '=', "  %s", why);
		}
	}
	cluster_rows(c, ws, n);
	state_db_rows(c);
	limit_rows(c);
}

/* A start, stop or restart is done when every worker it touched settled. */
static void
check_waiting(struct ctl_client *c)
{
	size_t i, bad = 0;
	struct evbuffer *why;

	for (i = 0; i < c->nwaiting; i++)
		if (!worker_settled(c->waiting[i]))
			return;
	why = evbuffer_new();
	for (i = 0; i < c->nwaiting; i++) {
		struct worker *w = c->waiting[i];
		bool ok = c->verb == V_STOP ? w->pid == 0 :
		    w->state == W_RUNNING;
		char last[128];
		if (ok)
			continue;
		describe_last_exit(w, last, sizeof(last));
		evbuffer_add_printf(why, "%s%s is %s, last exit %s",
		    bad++ ? "; " : "", w->name, wstate_name(w->state), last);
	}
	if (bad > 0) {
		evbuffer_add(why, "", 1);
		fail(c, "%zu of %zu not %s: %s", bad, c->nwaiting,
		    c->verb == V_STOP ? "stopped" : "running",
		    (char *)evbuffer_pullup(why, -1));
	} else if (c->verb == V_SCALE) {
		reply(c, '+', "%zu new running, the removed gone",
		    c->nwaiting);
		finish(c);
	} else {
		reply(c, '+', "%zu %s", c->nwaiting, c->verb == V_STOP ?
		    "stopped" : "running");
		finish(c);
	}
	evbuffer_free(why);
}

void
control_worker_changed(struct control *ctl, struct worker *w)
{
	static const struct timeval next_turn = { 0, 0 };

	(void)w;
	/*
	 * Waiting clients are checked once per loop iteration, not once
	 * per change: `restart all` of n workers makes n changes, and each
	 * check looks at every worker the client waits for.
	 */
	if (ctl->nwaiters > 0 && !evtimer_pending(ctl->recheck_ev, NULL))
		evtimer_add(ctl->recheck_ev, &next_turn);
}

static void
recheck_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;
	struct ctl_client *c, *next;

	(void)fd;
	(void)what;
	for (c = LIST_FIRST(&ctl->clients); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (c->verb == V_START || c->verb == V_STOP ||
		    c->verb == V_RESTART || c->verb == V_SCALE)
			check_waiting(c);
	}
}

void
control_worker_gone(struct control *ctl, struct worker *w)
{
	struct ctl_client *c, *next;
	struct tail_src *src;
	size_t i;

	for (c = LIST_FIRST(&ctl->clients); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (c->verb == V_TAIL && (src = src_find(c, w)) != NULL) {
			free(src->part[0]);
			free(src->part[1]);
			memmove(src, src + 1, (size_t)(c->srcs + c->nsrcs -
			    (src + 1)) * sizeof(*src));
			c->nsrcs--;
			if (!c->tail_merged)
				fail(c, "%s was removed by a reload", w->name);
			else if (c->nsrcs == 0 && !c->tail_all)
				fail(c, "every worker followed was removed by "
				    "a reload");
			continue;
		}
		for (i = 0; i < c->nwaiting; i++) {
			if (c->waiting[i] == w) {
				c->waiting[i] = c->waiting[--c->nwaiting];
				check_waiting(c);
				break;
			}
		}
	}
}

static void
do_reset(struct ctl_client *c, const struct ctl_request *rq)
{
	const char *name = rq->targets[0].word;
	char who[64], was[64];

	snprintf(who, sizeof(who), "uid %ld (pid %ld)", (long)c->uid,
	    (long)c->pid);
	if (fleet_reset_breaker(c->ctl->fleet, name, who, rq->reason, was,
	    sizeof(was)) == -1) {
		fail(c, "no agent or cluster '%s'", name);
		return;
	}
	log_info("control: breaker of %s reset by %s: %s", name, who,
	    rq->reason);
	reply(c, '+', "breaker of %s closed (was %s)", name, was);
	finish(c);
}

/*
 * signal SIG TARGET...: SIG to the process group of each worker that has
 * a process, as supervisorctl signal and systemctl kill do.  Not a stop:
 * an exit it causes is classified and restarted like any other.  Fails,
 * after signalling those that run, when a target has no process.
 */
static void
do_signal(struct ctl_client *c, const struct ctl_request *rq)
{
	const char *name = signal_name(rq->sig);
	struct worker **ws;
	size_t nws, i, sent = 0;
	char idle[512] = "";
	size_t used = 0;

	if (resolve(c, rq->targets, rq->ntargets, &ws, &nws) == -1)
		return;
	for (i = 0; i < nws; i++) {
		if (ws[i]->pid != 0) {
			runs_kill(ws[i], rq->sig);
			sent++;
		} else if (used < sizeof(idle))
			used += (size_t)snprintf(idle + used, sizeof(idle) -
			    used, "%s%s is %s", used ? ", " : "", ws[i]->name,
			    wstate_name(ws[i]->state));
	}
	log_info("control: SIG%s (%d) sent to %zu of %zu worker%s",
	    name != NULL ? name : "?", rq->sig, sent, nws, nws == 1 ? "" :
	    "s");
	free(ws);
	if (sent < nws) {
		fail(c, "%zu of %zu not running, not signalled: %s", nws - sent,
		    nws, idle);
		return;
	}
	reply(c, '+', "%zu signalled (SIG%s)", sent, name != NULL ? name :
	    "?");
	finish(c);
}

static void
do_reload(struct ctl_client *c, const struct ctl_request *rq)
{
	struct config_errors errs;
	struct strv lines;
	char summary[1024];
	size_t i;

	if (rq->dry_run) {
		int rc = fleet_reload_dry(c->ctl->fleet, &errs, &lines, summary,
		    sizeof(summary));
		for (i = 0; i < errs.msgs.n && rc == -1; i++)
			reply(c, '=', "%s", errs.msgs.v[i]);
		for (i = 0; i < lines.n; i++)
			reply(c, '=', "%s", lines.v[i]);
		if (rc == -1)
			strv_free(&errs.msgs);
		strv_free(&lines);
		if (rc == -1) {
			fail(c, "%s", summary);
			return;
		}
		reply(c, '+', "%s", summary);
		finish(c);
		return;
	}

	if (fleet_reload_file(c->ctl->fleet, &errs, summary,
	    sizeof(summary)) == -1) {
		for (i = 0; i < errs.msgs.n; i++)
			reply(c, '=', "%s", errs.msgs.v[i]);
		strv_free(&errs.msgs);
		fail(c, "%s", summary);
		return;
	}
	reply(c, '+', "%s", summary);
	finish(c);
}

/* The agent a request names, or NULL answered (a cluster, or nothing). */
static struct agent_rt *
one_rt(struct ctl_client *c, const struct ctl_request *rq, const char *cmd)
{
	struct fleet *f = c->ctl->fleet;
	const char *name = rq->targets[0].word;
	struct agent_rt *rt = fleet_find_rt(f, name);

	if (rt != NULL)
		return rt;
	if (fleet_find_crt(f, name) != NULL)
		fail(c, "%s takes an agent; '%s' is a cluster", cmd, name);
	else
		fail(c, "no agent '%s'", name);
	return NULL;
}

/*
 * restart --rolling AGENT: one instance at a time, each new run up before
 * the next goes (order.c).  The roll is the fleet's: a client that goes,
 * or asked --no-wait, leaves it running; one that waits hears each step.
 */
static void
do_rolling(struct ctl_client *c, const struct ctl_request *rq)
{
	struct fleet *f = c->ctl->fleet;
	struct roll_how how;
	char why[256];
	size_t n;

	if (one_rt(c, rq, "restart --rolling") == NULL)
		return;
	n = fleet_find_rt(f, rq->targets[0].word)->nworkers;
	/* Following before it begins: its first step is taken at once. */
	if (!rq->nowait) {
		c->verb = V_ROLL;
		snprintf(c->follow_agent, sizeof(c->follow_agent), "%s",
		    rq->targets[0].word);
		c->ctl->nwaiters++;
		c->counted = true;
	}
	log_info("control: rolling restart of %s asked by uid %ld (pid %ld)",
	    rq->targets[0].word, (long)c->uid, (long)c->pid);
	memset(&how, 0, sizeof(how));
	how.client = true;
	how.timeout_ms = rq->timeout_ms;
	if (fleet_roll_start(f, rq->targets[0].word, &how, why,
	    sizeof(why)) == -1) {
		c->verb = V_NONE;
		fail(c, "%s", why);
		return;
	}
	/* c may be gone: a roll with nothing to do ends at once. */
	if (rq->nowait) {
		reply(c, '+', "rolling restart of %s begun: %zu instance%s, "
		    "one at a time", rq->targets[0].word, n, n == 1 ? "" : "s");
		finish(c);
	}
}

void
control_roll_news(struct control *ctl, const char *agent, int final,
    const char *msg)
{
	struct ctl_client *c, *next;

	for (c = LIST_FIRST(&ctl->clients); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (c->verb != V_ROLL || strcmp(c->follow_agent, agent) != 0)
			continue;
		if (final == 0)
			reply(c, '=', "%s", msg);
		else if (final > 0) {
			reply(c, '+', "%s", msg);
			finish(c);
		} else
			fail(c, "%s", msg);
	}
}

/* scale AGENT N: answered once the new instances settled, the removed
 * ones gone. */
static void
do_scale(struct ctl_client *c, const struct ctl_request *rq)
{
	struct worker **ts;
	size_t nts;
	char msg[512];

	if (one_rt(c, rq, "scale") == NULL)
		return;
	if (fleet_scale(c->ctl->fleet, rq->targets[0].word, rq->count, msg,
	    sizeof(msg), &ts, &nts) == -1) {
		fail(c, "%s", msg);
		return;
	}
	log_info("control: scale asked by uid %ld (pid %ld)", (long)c->uid,
	    (long)c->pid);
	reply(c, '=', "%s", msg);
	c->verb = V_SCALE;
	c->waiting = ts;
	c->nwaiting = nts;
	c->ctl->nwaiters++;
	c->counted = true;
	check_waiting(c);
}

static void
do_change(struct ctl_client *c, const struct ctl_request *rq)
{
	enum ctl_verb verb = rq->cmd == CMD_START ? V_START :
	    rq->cmd == CMD_STOP ? V_STOP : V_RESTART;
	struct worker **ws;
	struct statedb_health h;
	size_t nws, i;

	if (c->ctl->fleet->shutting_down) {
		fail(c, "corrald is shutting down");
		return;
	}
	if (resolve(c, rq->targets, rq->ntargets, &ws, &nws) == -1)
		return;
	for (i = 0; i < nws; i++) {
		if (verb == V_START)
			worker_start(ws[i]);
		else if (verb == V_STOP)
			worker_stop(ws[i]);
		else
			worker_restart(ws[i]);
	}
	statedb_health(c->ctl->fleet->db, &h);
	if (verb == V_STOP && h.cond != DBC_OK)
		log_warnx("control: the stop of %zu worker%s waits in memory "
		    "until the state database (%s) can be written: a restart "
		    "of corrald before then would start them again", nws,
		    nws == 1 ? "" : "s", db_cond_name(h.cond));
	log_info("control: %s of %zu worker%s asked", verb == V_START ?
	    "start" : verb == V_STOP ? "stop" : "restart", nws,
	    nws == 1 ? "" : "s");
	if (rq->nowait) {
		reply(c, '+', "%zu %s", nws, verb == V_STOP ? "stopping" :
		    "starting");
		free(ws);
		finish(c);
		return;
	}
	c->verb = verb;
	c->waiting = ws;
	c->nwaiting = nws;
	c->ctl->nwaiters++;
	c->counted = true;
	check_waiting(c);
}

/*
 * The workers named (none: all), those --state lets through.  The final
 * line counts them and those RUNNING: corralctl's exit status is made of
 * it (ctl_status_exit).
 */
static void
do_status(struct ctl_client *c, const struct ctl_request *rq)
{
	struct worker **ws;
	size_t nws, i, k, running = 0;

	if (resolve(c, rq->targets, rq->ntargets, &ws, &nws) == -1)
		return;
	for (i = 0, k = 0; i < nws; i++)
		if (ctl_state_match(rq->states, ws[i]->state, ws[i]->held,
		    ws[i]->last_class))
			ws[k++] = ws[i];
	nws = k;
	for (i = 0; i < nws; i++)
		running += ws[i]->state == W_RUNNING;
	if (rq->json)
		status_json(c, ws, nws);
	else
		status_table(c, ws, nws);
	free(ws);
	reply(c, '+', "%zu worker%s, %zu running", nws, nws == 1 ? "" : "s",
	    running);
	finish(c);
}

/* A follower that does not keep up is dropped, not buffered forever. */
static bool
follower_ok(struct ctl_client *c)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) <=
	    CTL_FOLLOW_MAX)
		return true;
	log_warnx("control: a follower fell %d MiB behind; dropped",
	    CTL_FOLLOW_MAX >> 20);
	fail(c, "too slow: more than %d MiB behind", CTL_FOLLOW_MAX >> 20);
	return false;
}

static void
event_line(void *arg, const char *json)
{
	reply(arg, '=', "%s", json);
}

/* The statedb listener: every new event, to every follower it concerns. */
static void
on_event(void *arg, const struct db_event *e)
{
	struct control *ctl = arg;
	struct ctl_client *c, *next;
	char *json = NULL;

	for (c = LIST_FIRST(&ctl->clients); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (c->verb != V_EVENTS)
			continue;
		if (c->follow_agent[0] != '\0' &&
		    (e->instance < 0 || strcmp(c->follow_agent, e->agent) != 0 ||
		    (c->follow_instance >= 0 && e->instance != c->follow_instance)))
			continue;
		if (json == NULL &&
		    (json = statedb_event_json(ctl->fleet->db, e)) == NULL)
			return;
		reply(c, '=', "%s", json);
		follower_ok(c);
	}
	free(json);
}

/*
 * The agent a view's target names, copied into agent, and its instance
 * (-1: every one).  0; 1 when no agent has that name (history may name
 * an agent a reload removed: only some views refuse it); -1, answered,
 * when the agent has no such instance.
 */
static int
one_agent(struct ctl_client *c, const struct ctl_target *t, char *agent,
    int *inst)
{
	struct config *conf = c->ctl->fleet->conf;
	size_t i;

	memcpy(agent, t->word, t->namelen);
	agent[t->namelen] = '\0';
	*inst = (int)t->instance;
	for (i = 0; i < conf->nagents; i++)
		if (strcmp(conf->agents[i].name, agent) == 0)
			break;
	if (i == conf->nagents)
		return 1;
	if (*inst >= 0 && (unsigned)*inst >= conf->agents[i].numprocs) {
		fail(c, "agent '%s' has no instance %d", agent, *inst);
		return -1;
	}
	return 0;
}

static void
do_events(struct ctl_client *c, const struct ctl_request *rq)
{
	char agent[NAME_MAX_LEN + 1] = "";
	int inst = -1;

	if (rq->ntargets > 0 && one_agent(c, &rq->targets[0], agent,
	    &inst) == -1)
		return;
	if (statedb_recent(c->ctl->fleet->db, rq->ntargets > 0 ? agent : NULL,
	    inst, rq->limit, event_line, c) == -1) {
		fail(c, "cannot read the state database");
		return;
	}
	if (!rq->follow) {
		reply(c, '+', "end of events");
		finish(c);
		return;
	}
	/* Follow until the client hangs up, or corrald exits. */
	c->verb = V_EVENTS;
	snprintf(c->follow_agent, sizeof(c->follow_agent), "%s", agent);
	c->follow_instance = inst;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
}

static void
history_row(void *arg, const struct history_row *r)
{
	struct ctl_client *c = arg;
	char when[32], how[32], ran[32], chain[24];
	time_t t = (time_t)(r->time_ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (r->sig > 0)
		snprintf(how, sizeof(how), "SIG%s", signal_name(r->sig) ?
		    signal_name(r->sig) : "?");
	else
		snprintf(how, sizeof(how), "%d", r->code);
	format_uptime((uint64_t)r->run_ms, ran, sizeof(ran));
	if (r->chain != 0)
		snprintf(chain, sizeof(chain), "%lld", (long long)r->chain);
	else
		snprintf(chain, sizeof(chain), "-");
	reply(c, '=', "%s.%03d  %s.%-*d  %7d  %8s  %-9s  %7s  %5s  %-7s  %s",
	    when, (int)(r->time_ms % 1000), c->follow_agent, 1, r->instance,
	    r->pid, ran, r->cls, how, chain,
	    r->start_failure < 0 ? "-" : r->start_failure ? "start" :
	    "runtime", r->detail ? r->detail : "");
}

static void
breaker_row(void *arg, int64_t time_ms, const char *kind, const char *from,
    const char *to, const char *why)
{
	struct ctl_client *c = arg;
	time_t t = (time_t)(time_ms / 1000);
	char when[32];
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	reply(c, '=', "%s.%03d  %s %s -> %s: %s", when,
	    (int)(time_ms % 1000), kind, from ? from : "?", to ? to : "?",
	    why ? why : "");
}

static void
do_history(struct ctl_client *c, const struct ctl_request *rq)
{
	int inst;

	if (one_agent(c, &rq->targets[0], c->follow_agent, &inst) == -1)
		return;
	reply(c, '=', "%-23s  %-*s  %7s  %8s  %-9s  %7s  %5s  %-7s  %s",
	    "ENDED", (int)strlen(c->follow_agent) + 2, "WORKER", "PID", "RAN",
	    "CLASS", "EXIT", "CHAIN", "FAILURE", "DETAIL");
	if (statedb_history(c->ctl->fleet->db, c->follow_agent, inst, rq->limit,
	    history_row, c) == -1) {
		fail(c, "cannot read the state database");
		return;
	}
	/* The breaker (and a cluster's health), if it ever moved. */
	if (statedb_breaker_history(c->ctl->fleet->db, c->follow_agent,
	    rq->limit, breaker_row, c) == -1) {
		fail(c, "cannot read the state database");
		return;
	}
	reply(c, '+', "end of history");
	finish(c);
}

/* One checkpoint row of `checkpoints`. */
static int
checkpoint_row(void *arg, const struct corral_tuple *t)
{
	struct ctl_client *c = arg;
	time_t sec = (time_t)(t->created_ms / 1000);
	char when[32], bytes[24];
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (t->corrupt)
		snprintf(bytes, sizeof(bytes), "-");
	else
		snprintf(bytes, sizeof(bytes), "%zu", t->len);
	reply(c, '=', "%-36s  %-36s  %s.%03d  %8s  %-7s  %s", t->checkpoint_id,
	    t->parent_id != NULL ? t->parent_id : "-", when,
	    (int)(t->created_ms % 1000), bytes, t->corrupt ? "CORRUPT" : "ok",
	    t->corrupt || t->metadata == NULL ? "-" : t->metadata);
	return 0;
}

/*
 * The checkpoints of an agent's threads, newest first: of one instance,
 * or of every instance (a thread that instances share, once).
 */
static void
do_checkpoints(struct ctl_client *c, const struct ctl_request *rq)
{
	struct fleet *f = c->ctl->fleet;
	struct corral_list_opts lo;
	struct corral_store *st;
	struct agent_rt *rt;
	struct strv seen;
	size_t i, k;
	int inst, rc;

	switch (one_agent(c, &rq->targets[0], c->follow_agent, &inst)) {
	case -1:
		return;
	case 1:
		fail(c, "no agent '%s'", c->follow_agent);
		return;
	}
	if ((st = resume_store(f)) == NULL) {
		fail(c, "cannot open the checkpoint database %s",
		    f->conf->checkpoint_shown);
		return;
	}
	strv_init(&seen);
	rt = fleet_find_rt(f, c->follow_agent);
	for (i = 0; rt != NULL && i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];
		char *thread;
		if (inst >= 0 && w->instance != (unsigned)inst)
			continue;
		thread = worker_thread(w);
		for (k = 0; k < seen.n; k++)
			if (strcmp(seen.v[k], thread) == 0)
				break;
		if (k < seen.n) {
			free(thread);
			continue;
		}
		strv_push_own(&seen, thread);
		reply(c, '=', "thread %s (%s)", thread, w->name);
		reply(c, '=', "%-36s  %-36s  %-23s  %8s  %-7s  %s", "ID",
		    "PARENT", "CREATED", "BYTES", "STATE", "METADATA");
		memset(&lo, 0, sizeof(lo));
		lo.thread_id = thread;
		lo.checkpoint_ns = "";
		lo.limit = rq->limit;
		/* -n 0 is no row, not every row. */
		if (rq->limit == 0)
			continue;
		if ((rc = corral_list(st, &lo, checkpoint_row, c)) != 0) {
			fail(c, "cannot read the checkpoint database %s: %s",
			    f->conf->checkpoint_shown, corral_strerror(rc));
			strv_free(&seen);
			return;
		}
	}
	reply(c, '+', "end of checkpoints (%zu thread%s)", seen.n,
	    seen.n == 1 ? "" : "s");
	strv_free(&seen);
	finish(c);
}

/*
 * Send the last n lines of a log file, each after prefix, found in its
 * last window bytes (at most 256 KiB).
 */
static void
tail_file(struct ctl_client *c, const char *path, unsigned n,
    const char *prefix, size_t window)
{
	char buf[256 * 1024], *p, *end, *start;
	ssize_t got;
	off_t size, from;
	unsigned lines = 0;
	int fd;

	if (n == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (window > sizeof(buf))
		window = sizeof(buf);
	from = size > (off_t)window ? size - (off_t)window : 0;
	got = pread(fd, buf, (size_t)(size - from), from);
	close(fd);
	if (got <= 0)
		return;
	end = buf + got;
	/* Walk back over n line ends (a last line without one counts). */
	p = end;
	if (p > buf && p[-1] == '\n')
		p--;
	while (p > buf) {
		if (p[-1] == '\n' && ++lines == n)
			break;
		p--;
	}
	for (start = p; start < end; start = p + 1) {
		p = memchr(start, '\n', (size_t)(end - start));
		if (p == NULL)
			p = end;
		reply(c, '=', "%s%.*s", prefix, (int)(p - start), start);
	}
}

static const char *const stream_name[2] = { "stdout", "stderr" };

/* The prefix of a merged tail's line: "[NAME] ", "[NAME:err] ", or none. */
static void
tail_prefix(const struct ctl_client *c, const struct worker *w, int which,
    char *buf, size_t len)
{
	if (!c->tail_merged)
		buf[0] = '\0';
	else
		snprintf(buf, len, "[%s%s] ", w->name,
		    which == 1 && c->tail_streams == 3 ? ":err" : "");
}

static int
src_cmp(const void *a, const void *b)
{
	const struct worker *x = ((const struct tail_src *)a)->w;
	const struct worker *y = ((const struct tail_src *)b)->w;

	return x < y ? -1 : x > y;
}

/* The entry of w in c's sorted sources, or NULL. */
static struct tail_src *
src_find(struct ctl_client *c, const struct worker *w)
{
	struct tail_src key = { .w = (struct worker *)w };

	if (c->nsrcs == 0)
		return NULL;
	return bsearch(&key, c->srcs, c->nsrcs, sizeof(*c->srcs), src_cmp);
}

/* Add w to c's sources, kept sorted (a worker a reload added); its entry. */
static struct tail_src *
src_add(struct ctl_client *c, struct worker *w)
{
	size_t i;

	if (c->nsrcs == c->capsrcs) {
		c->capsrcs = c->capsrcs ? 2 * c->capsrcs : 8;
		c->srcs = xreallocarray(c->srcs, c->capsrcs, sizeof(*c->srcs));
	}
	for (i = c->nsrcs; i > 0 && c->srcs[i - 1].w > w; i--)
		c->srcs[i] = c->srcs[i - 1];
	memset(&c->srcs[i], 0, sizeof(c->srcs[i]));
	c->srcs[i].w = w;
	c->nsrcs++;
	return &c->srcs[i];
}

static void
srcs_free(struct ctl_client *c)
{
	size_t i;

	for (i = 0; i < c->nsrcs; i++) {
		free(c->srcs[i].part[0]);
		free(c->srcs[i].part[1]);
	}
	free(c->srcs);
	c->srcs = NULL;
	c->nsrcs = c->capsrcs = 0;
}

/*
 * One worker named, as AGENT or AGENT:N, on its own stream: its lines as
 * they are, and a refusal that says why when there is nothing to show.
 * 0, or -1 answered.
 */
static int
tail_one(struct ctl_client *c, const struct ctl_request *rq,
    struct worker *w)
{
	int which = rq->err ? 1 : 0;
	const char *s = stream_name[which];

	switch (w->agent->out[which]) {
	case OUT_NULL:
		fail(c, "the %s of %s goes to /dev/null (%s = null)", s,
		    w->name, s);
		return -1;
	case OUT_INHERIT:
		if (!rq->follow) {
			fail(c, "the %s of %s goes to corrald's own (%s = "
			    "inherit): only -f can follow it", s, w->name, s);
			return -1;
		}
		break;
	case OUT_FILE:
		tail_file(c, w->logpath[which], rq->limit, "", 256 * 1024);
		break;
	case OUT_STDOUT:
		fail(c, "the stderr of %s goes with its stdout "
		    "(redirect_stderr = true): read that", w->name);
		return -1;
	}
	return 0;
}

/*
 * Several workers (none named, several, an agent with several instances,
 * a cluster, all, or --all-streams): the last lines of each file in turn,
 * prefixed.  Streams with nothing to show are passed over, unless none
 * has anything.  0, or -1 answered.
 */
static int
tail_many(struct ctl_client *c, const struct ctl_request *rq,
    struct worker **ws, size_t nws)
{
	char prefix[NAME_MAX_LEN + 32];
	/* corrald's loop reads every file: 1 KiB a line asked for each. */
	size_t window = (size_t)rq->limit * 1024, i, shown = 0;
	int which;

	for (i = 0; i < nws; i++)
		for (which = 0; which < 2; which++) {
			if (!(c->tail_streams & (1u << which)))
				continue;
			switch (ws[i]->agent->out[which]) {
			case OUT_NULL:
			case OUT_STDOUT: /* redirect_stderr: in its stdout */
				continue;
			case OUT_INHERIT:
				shown += rq->follow;
				continue;
			case OUT_FILE:
				tail_prefix(c, ws[i], which, prefix,
				    sizeof(prefix));
				tail_file(c, ws[i]->logpath[which], rq->limit,
				    prefix, window);
				shown++;
				break;
			}
		}
	if (shown == 0 && !(c->tail_all && rq->follow)) {
		fail(c, "nothing to tail: the %s of %s goes to /dev/null "
		    "(null)%s", c->tail_streams == 3 ? "output" :
		    stream_name[rq->err], nws == 1 ? ws[0]->name :
		    "every worker named", rq->follow ? "" : " or to corrald's "
		    "own (inherit: only -f can follow it)");
		return -1;
	}
	return 0;
}

/*
 * tail [-f] [-n N] [--stderr | --all-streams] [TARGET...]: the output of
 * one worker as it is, or of several merged, each line prefixed with its
 * worker's name; -f then follows what corrald reads from their pipes.
 */
static void
do_tail(struct ctl_client *c, const struct ctl_request *rq)
{
	struct fleet *f = c->ctl->fleet;
	const struct ctl_target *t = &rq->targets[0];
	char agent[NAME_MAX_LEN + 1];
	struct worker **ws;
	size_t nws, i;
	int rc;

	if (resolve(c, rq->targets, rq->ntargets, &ws, &nws) == -1)
		return;
	c->tail_streams = rq->all_streams ? 3 : rq->err ? 2 : 1;
	c->tail_all = rq->ntargets == 0;
	for (i = 0; i < rq->ntargets; i++)
		if (strcmp(rq->targets[i].word, "all") == 0)
			c->tail_all = true;
	/* One worker, named by its agent: its lines as they are. */
	c->tail_merged = true;
	if (rq->ntargets == 1 && !rq->all_streams && nws == 1 &&
	    strcmp(t->word, "all") != 0) {
		memcpy(agent, t->word, t->namelen);
		agent[t->namelen] = '\0';
		c->tail_merged = fleet_find_rt(f, agent) == NULL;
	}
	if (c->tail_merged)
		rc = tail_many(c, rq, ws, nws);
	else
		rc = tail_one(c, rq, ws[0]);
	if (rc == -1 || !rq->follow) {
		free(ws);
		if (rc == 0) {
			reply(c, '+', "end of output");
			finish(c);
		}
		return;
	}
	/* Sorted once: a worker's chunk of output finds its entry in log n. */
	c->srcs = xcalloc(nws > 0 ? nws : 1, sizeof(*c->srcs));
	c->nsrcs = c->capsrcs = nws;
	for (i = 0; i < nws; i++)
		c->srcs[i].w = ws[i];
	qsort(c->srcs, c->nsrcs, sizeof(*c->srcs), src_cmp);
	free(ws);
	c->verb = V_TAIL;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
}

/* Output of w's stream which (0 stdout, 1 stderr) to one follower. */
static void
tail_output(struct ctl_client *c, struct tail_src *src, int which,
    const char *q, size_t left)
{
	char prefix[NAME_MAX_LEN + 32];
	const char *nl;
	size_t k;

	tail_prefix(c, src->w, which, prefix, sizeof(prefix));
	while (left > 0) {
		nl = memchr(q, '\n', left);
		k = nl != NULL ? (size_t)(nl - q) : left;
		if (nl == NULL || src->partlen[which] > 0) {
			/* A partial line waits for its end (up to TAIL_PART). */
			if (src->part[which] == NULL)
				src->part[which] = xmalloc(TAIL_PART);
			if (src->partlen[which] + k > TAIL_PART)
				k = TAIL_PART - src->partlen[which];
			memcpy(src->part[which] + src->partlen[which], q, k);
			src->partlen[which] += k;
			q += k;
			left -= k;
			if (left > 0 && *q == '\n') {
				q++;
				left--;
			} else if (src->partlen[which] < TAIL_PART)
				continue;
			reply(c, '=', "%s%.*s", prefix,
			    (int)src->partlen[which], src->part[which]);
			src->partlen[which] = 0;
			continue;
		}
		/* A whole line: straight from the chunk. */
		reply(c, '=', "%s%.*s", prefix, (int)k, q);
		q += k + 1;
		left -= k + 1;
	}
}

void
control_output(struct control *ctl, struct worker *w, int which,
    const char *p, size_t n)
{
	struct ctl_client *c, *next;
	struct tail_src *src;

	for (c = LIST_FIRST(&ctl->clients); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (c->verb != V_TAIL || !(c->tail_streams & (1u << (which - 1))))
			continue;
		if ((src = src_find(c, w)) == NULL) {
			/* A worker a reload added, for who follows them all. */
			if (!c->tail_all || w->rt == NULL)
				continue;
			src = src_add(c, w);
		}
		tail_output(c, src, which - 1, p, n);
		follower_ok(c);
	}
}

static void
log_line(void *arg, const char *line, size_t n)
{
	reply(arg, '=', "%.*s", (int)n, line);
}

/* corrald's own log: its last lines, then (-f) every new one. */
static void
do_log(struct ctl_client *c, const struct ctl_request *rq)
{
	log_recent(rq->limit, log_line, c);
	if (!rq->follow) {
		reply(c, '+', "end of log");
		finish(c);
		return;
	}
	c->verb = V_LOG;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
}

/* log.c's listener: a line corrald just logged, to every log follower. */
static void
on_log_line(void *arg, const char *line, size_t n)
{
	struct control *ctl = arg;
	struct ctl_client *c, *next;

	for (c = LIST_FIRST(&ctl->clients); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (c->verb != V_LOG)
			continue;
		reply(c, '=', "%.*s", (int)n, line);
		follower_ok(c);
	}
}

/* A whole line arrived (len bytes, no newline): answer it. */
static void
handle(struct ctl_client *c, const char *line, size_t len)
{
	struct ctl_request rq;
	char why[CTL_LINE_MAX + 256];

	if (ctl_parse(line, len, &rq, why, sizeof(why)) == -1) {
		fail(c, "%s", why);
		return;
	}
	switch (rq.cmd) {
	case CMD_STATUS:
		do_status(c, &rq);
		break;
	case CMD_RESTART:
		if (rq.rolling)
			do_rolling(c, &rq);
		else
			do_change(c, &rq);
		break;
	case CMD_START:
	case CMD_STOP:
		do_change(c, &rq);
		break;
	case CMD_SCALE:
		do_scale(c, &rq);
		break;
	case CMD_SIGNAL:
		do_signal(c, &rq);
		break;
	case CMD_EVENTS:
		do_events(c, &rq);
		break;
	case CMD_HISTORY:
		do_history(c, &rq);
		break;
	case CMD_TAIL:
		do_tail(c, &rq);
		break;
	case CMD_LOG:
		do_log(c, &rq);
		break;
	case CMD_CHECKPOINTS:
		do_checkpoints(c, &rq);
		break;
	case CMD_RELOAD:
		do_reload(c, &rq);
		break;
	case CMD_RESET:
		do_reset(c, &rq);
		break;
	case CMD_REEXEC:
		do_reexec(c);
		break;
	case CMD_VERSION:
		reply(c, '+', "corrald %s %s pid %ld", CORRAL_VERSION,
		    CTL_PROTO, (long)getpid());
		finish(c);
		break;
	case CMD_SHUTDOWN:
		/* Answered when corrald is done: see control_close(). */
		log_info("control: shutdown asked");
		notify_send("STOPPING=1");
		c->verb = V_SHUTDOWN;
		bufferevent_disable(c->bev, EV_READ);
		fleet_shutdown(c->ctl->fleet);
		break;
	}
	ctl_request_free(&rq);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	if (c->closing || c->verb != V_NONE) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}

	line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > CTL_LINE_MAX)
			fail(c, "request longer than %d bytes", CTL_LINE_MAX);
		return;
	}
	/* One request per connection: no timeout while it is served. */
	bufferevent_set_timeouts(bev, NULL, &(struct timeval){
	    CTL_WRITE_TIMEOUT, 0 });
	handle(c, line, len);
	free(line);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client *c = arg;

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) && !c->linger)
		log_warnx("control: client too slow (%s), dropped",
		    what & BEV_EVENT_READING ? "request unfinished" :
		    "reply not read");
	client_free(c);
}

static void
client_free(struct ctl_client *c)
{
	char sink[4096];
	int i;

	if (c->counted)
		c->ctl->nwaiters--;

	/*
	 * Unread input at close makes the kernel reset the connection, and
	 * the peer may lose our reply: take what it sent (a bounded amount).
	 */
	for (i = 0; i < 256; i++)
		if (recv(bufferevent_getfd(c->bev), sink, sizeof(sink),
		    MSG_DONTWAIT) <= 0)
			break;
	LIST_REMOVE(c, entry);
	bufferevent_free(c->bev);
	free(c->waiting);
	srcs_free(c);
	free(c);
}

static void
accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control *ctl = arg;
	struct ctl_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	bool refused;

	(void)lis;
	(void)sa;
	(void)salen;
	accept_guard_ok(ctl->guard);
	refused = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    (cred.uid != 0 && cred.uid != geteuid());
	c = xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	c->bev = bufferevent_socket_new(ctl->fleet->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("control: cannot serve a client");
		close(fd);
		free(c);
		return;
	}
	LIST_INSERT_HEAD(&ctl->clients, c, entry);
	c->uid = len == sizeof(cred) ? cred.uid : (uid_t)-1;
	c->pid = len == sizeof(cred) ? cred.pid : -1;
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	if (refused) {
		log_warnx("control: refused a client (uid %ld, pid %ld): only "
		    "root and uid %ld may control corrald",
		    len == sizeof(cred) ? (long)cred.uid : -1L,
		    len == sizeof(cred) ? (long)cred.pid : -1L,
		    (long)geteuid());
		/*
		 * Closing with its request unread would reset the connection
		 * before it reads why: wait for it to hang up, reading nothing.
		 */
		reply(c, '-', "permission denied");
		c->closing = c->linger = true;
		bufferevent_set_timeouts(c->bev, &(struct timeval){ 5, 0 },
		    &(struct timeval){ 5, 0 });
		bufferevent_enable(c->bev, EV_READ);
		return;
	}
	/* Read no further than one maximal request and its newline. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, CTL_LINE_MAX + 2);
	bufferevent_set_timeouts(c->bev, &(struct timeval){
	    CTL_REQUEST_TIMEOUT, 0 }, &(struct timeval){ CTL_WRITE_TIMEOUT, 0 });
	bufferevent_enable(c->bev, EV_READ);
}

struct control *
control_open(struct fleet *f, const char *path)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_error("control socket path %s is longer than %zu bytes",
		    path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("control socket %s", path);
		return NULL;
	}
	/*
	 * We hold the state database's lock, so a socket left at this path
	 * is a dead corrald's, unless another corrald with another state
	 * database uses the same path: ask it.
	 */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_error("control socket %s is in use by another corrald",
		    path);
		close(fd);
		return NULL;
	}
	close(fd);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("cannot remove stale control socket %s", path);
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("control socket %s", path);
		return NULL;
	}
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("cannot bind control socket %s", path);
		close(fd);
		return NULL;
	}
	umask(old);
	if (chmod(path, 0600) == -1 || listen(fd, 128) == -1) {
		log_warn("cannot listen on control socket %s", path);
		close(fd);
		unlink(path);
		return NULL;
	}
	return control_adopt(f, path, fd);
}

struct control *
control_adopt(struct fleet *f, const char *path, int fd)
{
	struct control *ctl;

	ctl = xcalloc(1, sizeof(*ctl));
	ctl->fleet = f;
	ctl->path = xstrdup(path);
	LIST_INIT(&ctl->clients);
	statedb_set_listener(f->db, on_event, ctl);
	log_set_listener(on_log_line, ctl);
	if ((ctl->recheck_ev = evtimer_new(f->base, recheck_cb, ctl)) == NULL)
		fatal("control socket %s: cannot create its timer", path);
	ctl->lis = evconnlistener_new(f->base, accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (ctl->lis == NULL)
		fatal("cannot watch control socket %s", path);
	ctl->guard = accept_guard_new(f->base, ctl->lis, FD_CONTROL,
	    "control socket");
	return ctl;
}

int
control_listen_fd(const struct control *ctl)
{
	return evconnlistener_get_fd(ctl->lis);
}

void
control_set_reexec(struct control *ctl, int (*fn)(void *, int, char *,
    size_t), void *arg)
{
	ctl->reexec = fn;
	ctl->reexec_arg = arg;
}

static void
do_reexec(struct ctl_client *c)
{
	char why[512];
	int fd = bufferevent_getfd(c->bev);

	if (c->ctl->reexec == NULL) {
		fail(c, "reexec is not available");
		return;
	}
	/* The new image would not know it is to stop. */
	if (c->ctl->fleet->shutting_down) {
		fail(c, "corrald is shutting down");
		return;
	}
	log_info("control: reexec asked");
	/* Returns only when corrald could not re-execute itself. */
	c->ctl->reexec(c->ctl->reexec_arg, fd, why, sizeof(why));
	fail(c, "cannot re-execute: %s", why);
}

/*
 * corrald is exiting: answer who asked for the shutdown, push every reply
 * out without waiting for the loop, and remove the socket.
 */
void
control_close(struct control *ctl)
{
	struct ctl_client *c;

	if (ctl == NULL)
		return;
	log_set_listener(NULL, NULL);
	while ((c = LIST_FIRST(&ctl->clients)) != NULL) {
		struct evbuffer *out = bufferevent_get_output(c->bev);
		size_t len;
		ssize_t n __attribute__((unused));

		if (c->verb == V_SHUTDOWN || c->verb == V_EVENTS ||
		    c->verb == V_TAIL || c->verb == V_LOG)
			reply(c, '+', "corrald stopped");
		else if (!c->closing)
			reply(c, '-', "corrald is exiting");
		/*
		 * The bufferevent owns the front of its output buffer, so the
		 * bytes are copied out and written by hand; a reply too large
		 * for the socket buffer is cut, which only a stalled reader
		 * can see.
		 */
		len = evbuffer_get_length(out);
		if (len > 0)
			n = write(bufferevent_getfd(c->bev),
			    evbuffer_pullup(out, -1), len);
		client_free(c);
	}
	statedb_set_listener(ctl->fleet->db, NULL, NULL);
	event_free(ctl->recheck_ev);
	accept_guard_free(ctl->guard);
	evconnlistener_free(ctl->lis);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
