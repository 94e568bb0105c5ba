/*
 * http.c: read-only observation over HTTP (libevent's evhttp): /metrics in
 * the Prometheus text exposition format, /status as the JSON that
 * `corralctl status --json` prints, /events as the events `corralctl
 * events` prints, and at / the dashboard: a page whose script polls
 * /status and /events.  Off unless http_listen is set; beyond loopback
 * only with http_token, sent as "Authorization: Bearer TOKEN".  The
 * dashboard's files hold no data: they are served without the token, and
 * the page asks for it.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "corrald.h"

struct http {
	struct fleet *fleet;    /* borrowed */
	struct statedb *db;     /* borrowed */
	struct evhttp *http;
	struct accept_guard *guard; /* pauses the listener when accept fails */
	uint64_t requests;
	uint64_t lag_max_us;    /* worst loop lag seen at a scrape */
	LIST_HEAD(, scrape) scrapes; /* owned: waiting for their loop turn */
};

static const struct timeval next_turn = { 0, 0 };

static void common_headers(struct evhttp_request *);

/* A scrape waits one loop iteration; how long it took is the loop's lag. */
struct scrape {
	LIST_ENTRY(scrape) entry;
	struct http *h;
	struct evhttp_request *req;
	struct event *ev;
	struct timespec asked;
};

static uint64_t
elapsed_us(const struct timespec *from)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - from->tv_sec) * 1000000 +
	    (uint64_t)((now.tv_nsec - from->tv_nsec) / 1000);
}

/* Constant time: the token must not leak through timing. */
static bool
token_ok(const struct http *h, struct evhttp_request *req)
{
	const char *auth, *tok = h->fleet->conf->http_token;
	size_t n, i;
	unsigned char diff = 0;

	if (tok == NULL)
		return true;
	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	n = strlen(tok);
	if (strlen(auth) != n)
		return false;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(auth[i] ^ tok[i]);
	return diff == 0;
}

/* A label value, escaped as the exposition format wants. */
static void
label(struct evbuffer *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(out, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add_printf(out, "\\n");
		else
			evbuffer_add(out, s, 1);
	}
}

static void
head(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static void
worker_labels(struct evbuffer *out, const char *name, const struct worker *w)
{
	evbuffer_add_printf(out, "%s{agent=\"", name);
	label(out, w->agent->name);
	/* "instance" is Prometheus' own target label: ours is "index". */
	evbuffer_add_printf(out, "\",index=\"%u\"", w->instance);
}

static void
metrics(struct http *h, struct evbuffer *out, uint64_t lag_us)
{
	struct fleet *f = h->fleet;
	uint64_t now = now_mono_ms(), commits, written;
	struct statedb_health dbh;
	size_t by_state[W_LAST + 1] = { 0 }, i;
	int c, st;

	head(out, "corral_up", "gauge", "1 while corrald runs.");
	evbuffer_add_printf(out, "corral_up 1\n");
	head(out, "corral_build_info", "gauge", "corrald's version.");
	evbuffer_add_printf(out, "corral_build_info{version=\"%s\"} 1\n",
	    CORRAL_VERSION);

	head(out, "corral_worker_state", "gauge",
	    "1 for the state each worker is in.");
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		by_state[w->state]++;
		worker_labels(out, "corral_worker_state", w);
		evbuffer_add_printf(out, ",state=\"%s\"} 1\n",
		    wstate_name(w->state));
	}
	head(out, "corral_worker_restarts_total", "counter",
	    "Runs started after a worker's first, since corrald started.");
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		worker_labels(out, "corral_worker_restarts_total", w);
		evbuffer_add_printf(out, "} %u\n", w->runs > 0 ? w->runs - 1 : 0);
	}
	head(out, "corral_worker_exits_total", "counter",
	    "Ended runs, by exit class, since corrald started.");
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		for (c = CORRAL_EXIT_SUCCESS; c <= CORRAL_EXIT_LAST; c++) {
			worker_labels(out, "corral_worker_exits_total", w);
			evbuffer_add_printf(out, ",class=\"%s\"} %u\n",
			    corral_exit_class_name((enum corral_exit_class)c),
			    w->exits[c]);
		}
	}
	head(out, "corral_worker_storage_error", "gauge",
	    "1 while a worker is held or waits for its checkpoint storage.");
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		if (w->storage_why == NULL)
			continue;
		worker_labels(out, "corral_worker_storage_error", w);
		evbuffer_add_printf(out, ",kind=\"%s\"} 1\n",
		    storage_kind_name(w->storage_kind));
	}
	head(out, "corral_worker_failures_total", "counter",
	    "Failed runs, by kind: before RUNNING (start) or after (runtime).");
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		worker_labels(out, "corral_worker_failures_total", w);
		evbuffer_add_printf(out, ",kind=\"start\"} %u\n",
		    w->start_failures);
		worker_labels(out, "corral_worker_failures_total", w);
		evbuffer_add_printf(out, ",kind=\"runtime\"} %u\n",
		    w->runtime_failures);
	}
	head(out, "corral_worker_uptime_seconds", "gauge",
	    "How long the current run has lasted; 0 without a process.");
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		worker_labels(out, "corral_worker_uptime_seconds", w);
		evbuffer_add_printf(out, "} %.3f\n", w->pid != 0 ?
		    (double)(now - w->start_mono_ms) / 1000.0 : 0.0);
	}

	/* What each live run uses (usage.c); no sample, no line. */
	usage_refresh(f);
	head(out, "corral_worker_memory_rss_bytes", "gauge",
	    "Resident memory of each run's process group, last sampled.");
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		if (w->pid == 0 || w->use.at_ms == 0)
			continue;
		worker_labels(out, "corral_worker_memory_rss_bytes", w);
		evbuffer_add_printf(out, "} %llu\n",
		    (unsigned long long)w->use.rss);
	}
	head(out, "corral_worker_cpu_seconds_total", "counter",
	    "User and system CPU of each run's process group; a new run "
	    "starts again from 0.");
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		if (w->pid == 0 || w->use.at_ms == 0)
			continue;
		worker_labels(out, "corral_worker_cpu_seconds_total", w);
		evbuffer_add_printf(out, "} %.3f\n",
		    (double)w->use.cpu_ms / 1000.0);
	}

	head(out, "corral_breaker_state", "gauge",
	    "1 for the state each agent's circuit breaker is in.");
	for (i = 0; i < f->nrts; i++) {
		evbuffer_add_printf(out, "corral_breaker_state{agent=\"");
		label(out, f->rts[i]->g.name);
		evbuffer_add_printf(out, "\",state=\"%s\"} 1\n",
		    !f->conf->breakers ? "OFF" :
		    corral_breaker_state_name(f->rts[i]->g.br.state));
	}
	head(out, "corral_cluster_breaker_state", "gauge",
	    "1 for the state each cluster's circuit breaker is in.");
	for (i = 0; i < f->ncrts; i++) {
		evbuffer_add_printf(out, "corral_cluster_breaker_state{cluster=\"");
		label(out, f->crts[i]->g.name);
		evbuffer_add_printf(out, "\",state=\"%s\"} 1\n",
		    !f->conf->breakers ? "OFF" :
		    corral_breaker_state_name(f->crts[i]->g.br.state));
	}
	head(out, "corral_cluster_health", "gauge",
	    "1 for each cluster's health: HEALTHY, DEGRADED or CRITICAL.");
	for (i = 0; i < f->ncrts; i++) {
		evbuffer_add_printf(out, "corral_cluster_health{cluster=\"");
		label(out, f->crts[i]->g.name);
		evbuffer_add_printf(out, "\",health=\"%s\"} 1\n",
		    health_name(f->crts[i]->health));
	}
	head(out, "corral_cluster_workers_up", "gauge",
	    "Workers of each cluster counted up by its health.");
	for (i = 0; i < f->ncrts; i++) {
		evbuffer_add_printf(out, "corral_cluster_workers_up{cluster=\"");
		label(out, f->crts[i]->g.name);
		evbuffer_add_printf(out, "\"} %u\n", f->crts[i]->up);
	}
	head(out, "corral_workers", "gauge", "Workers, by state.");
	for (st = W_STOPPED; st <= W_LAST; st++)
		evbuffer_add_printf(out, "corral_workers{state=\"%s\"} %zu\n",
		    wstate_name((enum wstate)st), by_state[st]);
	statedb_stats(h->db, &commits, &written);
	statedb_health(h->db, &dbh);
	head(out, "corral_events_total", "counter",
	    "Events written to the state database.");
	evbuffer_add_printf(out, "corral_events_total %llu\n",
	    (unsigned long long)written);
	head(out, "corral_events_queued", "gauge",
	    "Events waiting to be written (grows while the disk fails).");
	evbuffer_add_printf(out, "corral_events_queued %zu\n", dbh.queued);
	head(out, "corral_state_db_ok", "gauge",
	    "1 when the state database is written, 0 while it cannot be.");
	evbuffer_add_printf(out, "corral_state_db_ok %d\n", dbh.cond == DBC_OK);
	head(out, "corral_state_db_condition", "gauge",
	    "The state database's condition (1 for the current one).");
	evbuffer_add_printf(out, "corral_state_db_condition{condition=\"%s\"} "
	    "1\n", db_cond_name(dbh.cond));
	head(out, "corral_state_db_rows_queued", "gauge",
	    "Rows of state waiting to be written.");
	evbuffer_add_printf(out, "corral_state_db_rows_queued %zu\n",
	    dbh.rows_queued);
	head(out, "corral_events_dropped_total", "counter",
	    "Events dropped because the queue in memory was full.");
	evbuffer_add_printf(out, "corral_events_dropped_total %llu\n",
	    (unsigned long long)dbh.dropped);
	head(out, "corral_events_pruned_total", "counter",
	    "Events pruned by event_retention.");
	evbuffer_add_printf(out, "corral_events_pruned_total %llu\n",
	    (unsigned long long)dbh.pruned);
	head(out, "corral_loop_lag_seconds", "gauge",
	    "How long this scrape waited for one turn of the event loop.");
	evbuffer_add_printf(out, "corral_loop_lag_seconds %.6f\n",
	    (double)lag_us / 1e6);
	head(out, "corral_loop_lag_max_seconds", "gauge",
	    "The worst loop lag seen by a scrape since corrald started.");
	evbuffer_add_printf(out, "corral_loop_lag_max_seconds %.6f\n",
	    (double)h->lag_max_us / 1e6);
	head(out, "corral_notify_datagrams_total", "counter",
	    "Datagrams read from the workers' notify socket, by outcome.");
	for (c = NS_ACCEPTED; c < NS_NOUTCOME; c++)
		evbuffer_add_printf(out, "corral_notify_datagrams_total{"
		    "outcome=\"%s\"} %llu\n",
		    nsock_outcome_name((enum nsock_outcome)c),
		    (unsigned long long)nsock_count(f->nsock,
		    (enum nsock_outcome)c));
	head(out, "corral_worker_heartbeat_age_seconds", "gauge",
	    "Since a worker's last READY=1 or WATCHDOG=1; -1 if none this run.");
	for (i = 0; i < f->nworkers; i++) {
		struct worker *w = f->workers[i];
		worker_labels(out, "corral_worker_heartbeat_age_seconds", w);
		evbuffer_add_printf(out, "} %.3f\n", w->pid != 0 &&
		    w->heartbeat_mono_ms != 0 ?
		    (double)(now - w->heartbeat_mono_ms) / 1000.0 : -1.0);
	}
	head(out, "corral_http_requests_total", "counter",
	    "HTTP requests served.");
	evbuffer_add_printf(out, "corral_http_requests_total %llu\n",
	    (unsigned long long)h->requests);
	head(out, "corral_fds_needed", "gauge",
	    "File descriptors the fleet needs, at the last plan (start, "
	    "reload).");
	evbuffer_add_printf(out, "corral_fds_needed %llu\n",
	    (unsigned long long)f->fds.need);
	head(out, "corral_fd_limit", "gauge",
	    "corrald's RLIMIT_NOFILE at the last plan, soft and hard.");
	evbuffer_add_printf(out, "corral_fd_limit{kind=\"soft\"} %llu\n",
	    (unsigned long long)f->fds.limit);
	evbuffer_add_printf(out, "corral_fd_limit{kind=\"hard\"} %llu\n",
	    (unsigned long long)f->fds.hard);
	head(out, "corral_workers_limited", "gauge",
	    "Workers the descriptor limit keeps from starting.");
	evbuffer_add_printf(out, "corral_workers_limited %zu\n",
	    f->fds.workers - f->fds.fit);
	head(out, "corral_shortages_total", "counter",
	    "Times corrald could not get a descriptor or a process, by use.");
	for (c = FD_SPAWN; c < FD_NUSE; c++)
		evbuffer_add_printf(out, "corral_shortages_total{use=\"%s\"} "
		    "%llu\n", fd_use_name((enum fd_use)c),
		    (unsigned long long)fd_short_total((enum fd_use)c));
	head(out, "corral_log_suppressed_total", "counter",
	    "corrald's log lines suppressed as repeats (see the summaries).");
	evbuffer_add_printf(out, "corral_log_suppressed_total %llu\n",
	    (unsigned long long)log_suppressed_total());
}

static void
scrape_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scrape *s = arg;
	struct evbuffer *out = evbuffer_new();
	uint64_t lag = elapsed_us(&s->asked);

	(void)fd;
	(void)what;
	if (lag > s->h->lag_max_us)
		s->h->lag_max_us = lag;
	metrics(s->h, out, lag);
	evhttp_add_header(evhttp_request_get_output_headers(s->req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	common_headers(s->req);
	evhttp_send_reply(s->req, HTTP_OK, "OK", out);
	evbuffer_free(out);
	LIST_REMOVE(s, entry);
	event_free(s->ev);
	free(s);
}

/*
 * What a request target names: the documented resources, exactly as
 * written, nothing else.  A query string, a fragment, another spelling
 * of the path (a '/' more, percent-escapes, the absolute form) names
 * nothing: no parameter is taken, so none is silently ignored.  Only
 * /events takes parameters; its query, after the '?', goes to *query
 * (NULL: none).
 */
enum resource { R_NONE, R_METRICS, R_STATUS, R_EVENTS, R_FILE };

static enum resource
resource_of(const char *target, const char **query,
    const struct dash_file **file)
{
	size_t i;

	*query = NULL;
	*file = NULL;
	if (target == NULL)
		return R_NONE;
	if (strcmp(target, "/metrics") == 0)
		return R_METRICS;
	if (strcmp(target, "/status") == 0)
		return R_STATUS;
	if (strcmp(target, "/events") == 0)
		return R_EVENTS;
	if (strncmp(target, "/events?", 8) == 0) {
		*query = target + 8;
		return R_EVENTS;
	}
	for (i = 0; i < dash_nfiles; i++)
		if (strcmp(target, dash_files[i].path) == 0) {
			*file = &dash_files[i];
			return R_FILE;
		}
	return R_NONE;
}

/* A decimal number of digits only, at most max.  0 or -1. */
static int
decimal(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	size_t i;

	*v = 0;
	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return *v <= max ? 0 : -1;
}

int
http_events_query(const char *query, int64_t *after, unsigned *limit,
    char *why, size_t len)
{
	const char *p = query, *amp, *eq, *val;
	bool seen_after = false, seen_limit = false;
	size_t n, klen, vlen;
	uint64_t v;
	int shown;

	*after = 0;
	*limit = HTTP_EVENTS_DEFAULT;
	if (query == NULL)
		return 0;
	if (*query == '\0') {
		snprintf(why, len, "empty query: give after=ID, limit=N or "
		    "none");
		return -1;
	}
	for (;;) {
		amp = strchr(p, '&');
		n = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', n);
		klen = eq != NULL ? (size_t)(eq - p) : n;
		val = eq != NULL ? eq + 1 : p + n;
		vlen = eq != NULL ? n - klen - 1 : 0;
		/* What is echoed back: the first 40 bytes of it. */
		shown = (int)(vlen > 40 ? 40 : vlen);
		if (eq != NULL && klen == 5 && memcmp(p, "after", 5) == 0) {
			if (seen_after) {
				snprintf(why, len, "after is given twice");
				return -1;
			}
			seen_after = true;
			if (decimal(val, vlen, INT64_MAX, &v) == -1) {
				snprintf(why, len, "after=%.*s: want an event "
				    "id, 0 or more", shown, val);
				return -1;
			}
			*after = (int64_t)v;
		} else if (eq != NULL && klen == 5 &&
		    memcmp(p, "limit", 5) == 0) {
			if (seen_limit) {
				snprintf(why, len, "limit is given twice");
				return -1;
			}
			seen_limit = true;
			if (decimal(val, vlen, HTTP_EVENTS_MAX, &v) == -1 ||
			    v == 0) {
				snprintf(why, len, "limit=%.*s: want 1 to %d",
				    shown, val, HTTP_EVENTS_MAX);
				return -1;
			}
			*limit = (unsigned)v;
		} else {
			snprintf(why, len, "unknown parameter '%.*s' (after=ID "
			    "and limit=N are known)", (int)(klen > 40 ? 40 :
			    klen), p);
			return -1;
		}
		if (amp == NULL)
			return 0;
		p = amp + 1;
	}
}

bool
http_host_ok(const char *host)
{
	char name[64];
	const char *end, *colon;
	size_t n;
	unsigned char addr[16];

	if (host == NULL)
		return true; /* HTTP/1.0: no browser sends a request without */
	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL)
			return false;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return false;
		n = (size_t)(end - host - 1);
		if (n == 0 || n >= sizeof(name))
			return false;
		memcpy(name, host + 1, n);
		name[n] = '\0';
		if (inet_pton(AF_INET6, name, addr) != 1)
			return false;
	} else {
		colon = strchr(host, ':');
		n = colon != NULL ? (size_t)(colon - host) : strlen(host);
		if (n == 0 || n >= sizeof(name))
			return false;
		memcpy(name, host, n);
		name[n] = '\0';
		if (strcasecmp(name, "localhost") != 0 &&
		    inet_pton(AF_INET, name, addr) != 1)
			return false;
	}
	/* A port: 1 to 5 digits, nothing after. */
	if (colon != NULL) {
		n = strspn(colon + 1, "0123456789");
		if (n == 0 || n > 5 || colon[1 + n] != '\0')
			return false;
	}
	return true;
}

/* Every answer: no sniffing, no framing, nothing from elsewhere. */
static void
common_headers(struct evhttp_request *req)
{
	struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);

	evhttp_add_header(hdrs, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(hdrs, "Content-Security-Policy", "default-src "
	    "'self'; base-uri 'none'; form-action 'none'; "
	    "frame-ancestors 'none'");
	evhttp_add_header(hdrs, "Referrer-Policy", "no-referrer");
}

static const char *
file_type(const struct dash_file *f)
{
	const char *dot = strrchr(f->path, '.');

	if (dot == NULL)
		return "text/html; charset=utf-8"; /* "/" */
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	return "application/octet-stream";
}

struct events_out {
	struct evbuffer *out;
	size_t n;
};

static void
event_json(void *arg, const char *json)
{
	struct events_out *eo = arg;

	evbuffer_add_printf(eo->out, "%s%s", eo->n++ > 0 ? ",\n" : "\n",
	    json);
}

/*
 * Answer code with reason, and header: value when header is not NULL.
 * Not evhttp_send_error: it drops the headers set before it (Allow,
 * WWW-Authenticate), which these answers must carry.
 */
static void
refuse(struct evhttp_request *req, int code, const char *reason,
    const char *header, const char *value)
{
	struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evbuffer_new();

	if (out == NULL)
		fatal("http: out of memory");
	if (header != NULL)
		evhttp_add_header(hdrs, header, value);
	evhttp_add_header(hdrs, "Content-Type", "text/plain; charset=utf-8");
	common_headers(req);
	evbuffer_add_printf(out, "%d %s\n", code, reason);
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

/* 400 with why in the body only: the reason phrase echoes no input. */
static void
bad_query(struct evhttp_request *req, const char *why)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL)
		fatal("http: out of memory");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	common_headers(req);
	evbuffer_add_printf(out, "400 %s\n", why);
	evhttp_send_reply(req, HTTP_BADREQUEST, "Bad Request", out);
	evbuffer_free(out);
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	const char *query;
	const struct dash_file *file;
	enum resource r = resource_of(evhttp_request_get_uri(req), &query,
	    &file);
	bool get = evhttp_request_get_command(req) == EVHTTP_REQ_GET;
	struct evbuffer *out;

	h->requests++;
	accept_guard_ok(h->guard);
	/* The dashboard's files hold no data: the page asks for the token. */
	if (!(r == R_FILE && get) && !token_ok(h, req)) {
		refuse(req, 401, "a bearer token is required",
		    "WWW-Authenticate", "Bearer");
		return;
	}
	/* No token, so loopback: only for a name no one else can give. */
	if (h->fleet->conf->http_token == NULL && !http_host_ok(
	    evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Host"))) {
		refuse(req, 421, "without http_token only a Host of an "
		    "address or localhost is served", NULL, NULL);
		return;
	}
	if (r == R_NONE) {
		refuse(req, HTTP_NOTFOUND, "try /, /metrics, /status or "
		    "/events", NULL, NULL);
		return;
	}
	if (!get) {
		refuse(req, 405, "only GET", "Allow", "GET");
		return;
	}
	if (r == R_METRICS) {
		struct scrape *s = xcalloc(1, sizeof(*s));
		s->h = h;
		s->req = req;
		clock_gettime(CLOCK_MONOTONIC, &s->asked);
		s->ev = evtimer_new(h->fleet->base, scrape_cb, s);
		if (s->ev == NULL)
			fatal("http: cannot create a timer");
		LIST_INSERT_HEAD(&h->scrapes, s, entry);
		evtimer_add(s->ev, &next_turn);
		return;
	}
	out = evbuffer_new();
	if (out == NULL)
		fatal("http: out of memory");
	if (r == R_FILE) {
		evbuffer_add_reference(out, file->data, file->len, NULL, NULL);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", file_type(file));
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Cache-Control", "no-cache");
	} else if (r == R_EVENTS) {
		struct events_out eo = { out, 0 };
		int64_t after;
		unsigned limit;
		char why[160];

		if (http_events_query(query, &after, &limit, why,
		    sizeof(why)) == -1) {
			evbuffer_free(out);
			bad_query(req, why);
			return;
		}
		evbuffer_add(out, "[", 1);
		if (statedb_recent_after(h->db, after, limit, event_json,
		    &eo) == -1) {
			evbuffer_free(out);
			refuse(req, HTTP_INTERNAL, "cannot read the state "
			    "database", NULL, NULL);
			return;
		}
		evbuffer_add(out, "\n]\n", 3);
	} else {
		control_status_json(out, h->fleet, h->fleet->workers,
		    h->fleet->nworkers);
		evbuffer_add(out, "\n", 1);
	}
	if (r != R_FILE) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/json");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Cache-Control", "no-store");
	}
	common_headers(req);
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

struct http *
http_open(struct fleet *f, struct statedb *db)
{
	struct config *c = f->conf;
	struct evhttp_bound_socket *bs;
	struct http *h;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[64];
	unsigned port = 0;

	if (c->http_host == NULL)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->fleet = f;
	h->db = db;
	LIST_INIT(&h->scrapes);
	if ((h->http = evhttp_new(f->base)) == NULL)
		fatal("http: cannot create the server");
	evhttp_set_timeout(h->http, 10);
	evhttp_set_max_headers_size(h->http, 8192);
	evhttp_set_max_body_size(h->http, 0);
	/*
	 * Every method evhttp knows reaches request_cb, which answers 404 or
	 * 405 as the documentation says (evhttp would say 501 itself).
	 */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->http, request_cb, h);
	bs = evhttp_bind_socket_with_handle(h->http, c->http_host,
	    (ev_uint16_t)c->http_port);
	if (bs == NULL) {
		log_warn("http: cannot listen on %s port %u", c->http_host,
		    c->http_port);
		evhttp_free(h->http);
		free(h);
		return NULL;
	}
	h->guard = accept_guard_new(f->base,
	    evhttp_bound_socket_get_listener(bs), FD_HTTP, "http");
	/* Port 0 takes any free port: say which. */
	if (getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	snprintf(addr, sizeof(addr), strchr(c->http_host, ':') ? "[%s]" : "%s",
	    c->http_host);
	log_info("http: serving /metrics and /status on %s:%u%s", addr, port,
	    c->http_token ? " (bearer token required)" : "");
	log_info("http: the dashboard is at http://%s:%u/", addr, port);
	return h;
}

void
http_close(struct http *h)
{
	struct scrape *s;

	if (h == NULL)
		return;
	/* evhttp_free takes the requests along; their timers are ours. */
	while ((s = LIST_FIRST(&h->scrapes)) != NULL) {
		LIST_REMOVE(s, entry);
		event_free(s->ev);
		free(s);
	}
	accept_guard_free(h->guard);
	evhttp_free(h->http);
	free(h);
}
