/*
 * lease_pg.c: the statements of the threads' leases, on corrald's own
 * connection to the PostgreSQL checkpoint database (the table
 * corral_leases, which libcorral's store creates with its schema).  Each
 * call is one statement in autocommit, bounded by the connection's
 * timeouts; expiry is measured on the database's clock (now()), never on
 * a node's, so that skewed node clocks cannot let two nodes hold a
 * thread.  lease.c decides; this file only asks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corrald.h"
#include "pq.h"

struct lease_db {
	char *conninfo;
	char *node;
	uint64_t ttl_ms;
	unsigned timeout_ms;
	PGconn *conn;     /* NULL until connected, or after a failure */
	bool no_table;    /* the last failure: corral_leases is missing */
	char err[512];
};

/*
 * The take: a new token for this node when the row is free, expired, or
 * already this node's (a new run of the thread here fences the old one).
 * A row held by another node and not expired is left alone and returns
 * nothing; the second statement then says by whom, and for how long.
 */
static const char take_sql[] =
    "INSERT INTO corral_leases AS l (thread_id, holder, token, expires_at)"
    " VALUES ($1, $2, 1, now() + $3::bigint * interval '1 millisecond')"
    " ON CONFLICT (thread_id) DO UPDATE SET holder = EXCLUDED.holder,"
    " token = l.token + 1, expires_at = EXCLUDED.expires_at"
    " WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()"
    " RETURNING token";
static const char holder_sql[] =
    "SELECT holder, greatest(0, (extract(epoch FROM expires_at - now())"
    " * 1000)::bigint) FROM corral_leases WHERE thread_id = $1";
/*
 * The renewal of every lease the node holds among the threads given, in
 * one statement whatever the fleet's size.  By holder, not by token: a
 * run corrald adopted after its own restart learns its token here.
 */
static const char renew_sql[] =
    "UPDATE corral_leases SET expires_at = now() + $2::bigint *"
    " interval '1 millisecond' WHERE holder = $1 AND thread_id ="
    " ANY($3::text[]) RETURNING thread_id, token";
/* Only this node's, and only the token it knows: never a newer run's. */
static const char release_sql[] =
    "DELETE FROM corral_leases l USING unnest($2::text[], $3::bigint[])"
    " AS u(thread_id, token) WHERE l.thread_id = u.thread_id AND"
    " l.token = u.token AND l.holder = $1";

struct lease_db *
lease_db_new(const char *conninfo, const char *node, uint64_t ttl_ms,
    unsigned timeout_ms)
{
	struct lease_db *d = xcalloc(1, sizeof(*d));

	d->conninfo = xstrdup(conninfo);
	d->node = xstrdup(node);
	d->ttl_ms = ttl_ms;
	d->timeout_ms = timeout_ms;
	return d;
}

void
lease_db_free(struct lease_db *d)
{
	if (d == NULL)
		return;
	if (d->conn != NULL)
		PQfinish(d->conn);
	free(d->conninfo);
	free(d->node);
	free(d);
}

const char *
lease_db_error(const struct lease_db *d)
{
	return d->err;
}

bool
lease_db_no_table(const struct lease_db *d)
{
	return d->no_table;
}

/*
 * libpq's messages run over lines (a hint after the first, and a broken
 * connection's said twice); a log line takes the first, which says it.
 */
static void
set_err(struct lease_db *d, const char *what, const char *msg)
{
	int n = (int)strcspn(msg, "\n");

	snprintf(d->err, sizeof(d->err), "%s: %.*s", what, n, msg);
}

static void
drop(struct lease_db *d)
{
	if (d->conn != NULL)
		PQfinish(d->conn);
	d->conn = NULL;
}

/*
 * Connected, or -1 with the reason in d->err.  The timeouts bound every
 * call: corrald asks inside its event loop.
 */
static int
connect_db(struct lease_db *d)
{
	char ct[16], tu[16], opt[64];
	const char *keys[] = { "dbname", "connect_timeout",
		"tcp_user_timeout", "options", "application_name", NULL };
	const char *vals[6], *why;
	unsigned secs;

	if (d->conn != NULL && PQstatus(d->conn) == CONNECTION_OK)
		return 0;
	drop(d);
	if (pq_load(&why) == -1) {
		set_err(d, "cannot connect", why);
		return -1;
	}
	/* libpq's connect_timeout is in whole seconds, 2 at least. */
	secs = (d->timeout_ms + 999) / 1000;
	snprintf(ct, sizeof(ct), "%u", secs < 2 ? 2 : secs);
	snprintf(tu, sizeof(tu), "%u", d->timeout_ms);
	snprintf(opt, sizeof(opt), "-c statement_timeout=%u", d->timeout_ms);
	vals[0] = d->conninfo;
	vals[1] = ct;
	vals[2] = tu;
	vals[3] = opt;
	vals[4] = "corrald";
	vals[5] = NULL;
	d->conn = PQconnectdbParams(keys, vals, 1);
	if (d->conn == NULL) {
		set_err(d, "cannot connect", "out of memory");
		return -1;
	}
	if (PQstatus(d->conn) != CONNECTION_OK) {
		set_err(d, "cannot connect", PQerrorMessage(d->conn));
		drop(d);
		return -1;
	}
	return 0;
}

/*
 * One statement; its result, or NULL with d->err set and the connection
 * dropped when it broke (the next call connects again).
 */
static PGresult *
run(struct lease_db *d, const char *what, const char *sql, int n,
    const char *const *params, ExecStatusType want)
{
	PGresult *r;

	const char *state;

	d->no_table = false;
	if (connect_db(d) == -1)
		return NULL;
	r = PQexecParams(d->conn, sql, n, NULL, params, NULL, NULL, 0);
	if (r != NULL && PQresultStatus(r) == want)
		return r;
	/* undefined_table: a database restored or made anew under us. */
	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	d->no_table = state != NULL && strcmp(state, "42P01") == 0;
	set_err(d, what, r != NULL && PQresultErrorMessage(r)[0] != '\0' ?
	    PQresultErrorMessage(r) : PQerrorMessage(d->conn));
	PQclear(r);
	if (PQstatus(d->conn) != CONNECTION_OK)
		drop(d);
	return NULL;
}

int
lease_db_take(struct lease_db *d, const char *thread, int64_t *token,
    char *holder, size_t hlen, uint64_t *left_ms)
{
	char ttl[24];
	const char *p[3] = { thread, d->node, ttl };
	PGresult *r;

	snprintf(ttl, sizeof(ttl), "%" PRIu64, d->ttl_ms);
	if ((r = run(d, "take", take_sql, 3, p, PGRES_TUPLES_OK)) == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		*token = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		return 0;
	}
	PQclear(r);
	if ((r = run(d, "holder", holder_sql, 1, p, PGRES_TUPLES_OK)) == NULL)
		return -1;
	/* Released between the two statements: free now, try again soon. */
	if (PQntuples(r) != 1) {
		snprintf(holder, hlen, "%s", "(released)");
		*left_ms = 0;
	} else {
		snprintf(holder, hlen, "%s", PQgetvalue(r, 0, 0));
		*left_ms = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	}
	PQclear(r);
	return 1;
}

/*
 * A PostgreSQL array literal of the strings: {"a","b"}, each quoted with
 * " and \ escaped.  Caller frees.
 */
static char *
text_array(const char *const *v, size_t n)
{
	size_t i, len = 3;
	const char *s;
	char *out, *o;

	for (i = 0; i < n; i++)
		len += 2 * strlen(v[i]) + 3;
	o = out = xcalloc(1, len);
	*o++ = '{';
	for (i = 0; i < n; i++) {
		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		for (s = v[i]; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				*o++ = '\\';
			*o++ = *s;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

int
lease_db_renew(struct lease_db *d, const char *const *threads, size_t n,
    void (*got)(void *, const char *, int64_t), void *arg)
{
	char ttl[24], *arr;
	const char *p[3];
	PGresult *r;
	int i;

	snprintf(ttl, sizeof(ttl), "%" PRIu64, d->ttl_ms);
	arr = text_array(threads, n);
	p[0] = d->node;
	p[1] = ttl;
	p[2] = arr;
	r = run(d, "renew", renew_sql, 3, p, PGRES_TUPLES_OK);
	free(arr);
	if (r == NULL)
		return -1;
	for (i = 0; i < PQntuples(r); i++)
		got(arg, PQgetvalue(r, i, 0), strtoll(PQgetvalue(r, i, 1),
		    NULL, 10));
	PQclear(r);
	return 0;
}

int
lease_db_release(struct lease_db *d, const char *const *threads,
    const int64_t *tokens, size_t n)
{
	char *arr, *toks, *o;
	const char *p[3];
	PGresult *r;
	size_t i;

	arr = text_array(threads, n);
	o = toks = xcalloc(1, n * 21 + 3);
	*o++ = '{';
	for (i = 0; i < n; i++)
		o += sprintf(o, "%s%" PRId64, i > 0 ? "," : "", tokens[i]);
	*o++ = '}';
	p[0] = d->node;
	p[1] = arr;
	p[2] = toks;
	r = run(d, "release", release_sql, 3, p, PGRES_COMMAND_OK);
	free(arr);
	free(toks);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}
