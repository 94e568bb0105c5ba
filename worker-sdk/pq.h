/*
 * pq.h: libpq, loaded when a PostgreSQL database is first opened
 * (dlopen), not linked: a program that never opens one (a worker on
 * SQLite, corrald on SQLite) does not map libpq and the libraries it
 * brings (TLS, Kerberos, LDAP: some twenty, about 5 MiB of each
 * process's memory).  The store and corrald's leases include this header
 * instead of calling libpq directly; the calls keep libpq's names, which
 * are macros here for the pointers pq_load filled.  Private to corral.
 */
#ifndef PQ_H
#define PQ_H

#include <libpq-fe.h>

/* The functions corral calls, each a pointer of the function's type. */
#define PQ_SYMBOLS(X) \
	X(PQclear) X(PQconndefaults) X(PQconnectdbParams) \
	X(PQconninfoFree) X(PQconninfoParse) X(PQdb) X(PQerrorMessage) \
	X(PQexec) X(PQexecParams) X(PQexecPrepared) X(PQfinish) \
	X(PQfreemem) X(PQgetisnull) X(PQgetlength) X(PQgetvalue) X(PQhost) \
	X(PQntuples) X(PQport) X(PQprepare) X(PQreset) \
	X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus) \
	X(PQsetNoticeProcessor) X(PQstatus)

struct pq_symbols {
#define PQ_FIELD(name) __typeof__(name) *name;
	PQ_SYMBOLS(PQ_FIELD)
#undef PQ_FIELD
};
extern struct pq_symbols pq_sym;

/*
 * Load libpq once (later calls return the first answer).  0, or -1 with
 * *why (static) saying what is missing.  Thread-safe.
 */
int pq_load(const char **why);

#ifndef PQ_IMPL
#define PQclear pq_sym.PQclear
#define PQconndefaults pq_sym.PQconndefaults
#define PQconnectdbParams pq_sym.PQconnectdbParams
#define PQconninfoFree pq_sym.PQconninfoFree
#define PQconninfoParse pq_sym.PQconninfoParse
#define PQdb pq_sym.PQdb
#define PQerrorMessage pq_sym.PQerrorMessage
#define PQexec pq_sym.PQexec
#define PQexecParams pq_sym.PQexecParams
#define PQexecPrepared pq_sym.PQexecPrepared
#define PQfinish pq_sym.PQfinish
#define PQfreemem pq_sym.PQfreemem
#define PQgetisnull pq_sym.PQgetisnull
#define PQgetlength pq_sym.PQgetlength
#define PQgetvalue pq_sym.PQgetvalue
#define PQhost pq_sym.PQhost
#define PQntuples pq_sym.PQntuples
#define PQport pq_sym.PQport
#define PQprepare pq_sym.PQprepare
#define PQreset pq_sym.PQreset
#define PQresultErrorField pq_sym.PQresultErrorField
#define PQresultErrorMessage pq_sym.PQresultErrorMessage
#define PQresultStatus pq_sym.PQresultStatus
#define PQsetNoticeProcessor pq_sym.PQsetNoticeProcessor
#define PQstatus pq_sym.PQstatus
#endif

#endif /* PQ_H */
