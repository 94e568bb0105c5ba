/*
 * pq.c: loads libpq on first use (pq.h says why).  The library's soname
 * is its ABI: libpq.so.5 has been libpq's since PostgreSQL 8.2.
 */
#define PQ_IMPL
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "pq.h"

#define PQ_SONAME "libpq.so.5"

struct pq_symbols pq_sym;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *load_why; /* NULL: loaded */
static char load_msg[512];

static void
load(void)
{
	void *h;

	/* Never unloaded: its pointers live as long as the process. */
	if ((h = dlopen(PQ_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(load_msg, sizeof(load_msg), "cannot load %s, "
		    "PostgreSQL's client library (Debian: libpq5): %s",
		    PQ_SONAME, dlerror());
		load_why = load_msg;
		return;
	}
#define PQ_LOAD(name)                                                    \
	if ((*(void **)&pq_sym.name = dlsym(h, #name)) == NULL) {        \
		snprintf(load_msg, sizeof(load_msg), "%s has no %s: too "  \
		    "old a libpq", PQ_SONAME, #name);                      \
		load_why = load_msg;                                       \
		return;                                                    \
	}
	PQ_SYMBOLS(PQ_LOAD)
#undef PQ_LOAD
	load_why = NULL;
}

int
pq_load(const char **why)
{
	pthread_once(&once, load);
	if (load_why != NULL) {
		*why = load_why;
		return -1;
	}
	return 0;
}
