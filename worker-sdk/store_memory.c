/*
 * store_memory.c: the checkpoint store in this process's memory, with the
 * SQLite backend's answers to every call.  Checkpoints and writes live in
 * groups, one per (thread, namespace), kept sorted by (thread, namespace);
 * in a group, checkpoints are sorted by id and write sets by checkpoint
 * id.  Every comparison is strcmp, SQLite's BINARY collation.  The
 * metadata filter is SQLite's JSON on a private in-memory connection that
 * stores nothing, so that it matches exactly what the SQLite backend does.
 */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* A checkpoint and its strings, in one allocation. */
struct mcp {
	const char *id, *parent, *type, *meta, *mtype;
	const unsigned char *vers; /* stored versions (store_resolve); NULL */
	const unsigned char *vals; /* inline values; NULL: none */
	const unsigned char *data;
	size_t len, mlen, vlen, vallen;
	int64_t created_ms;
	uint32_t crc;
	char mem[];
};

/* A write and its strings, in one allocation. */
struct mwr {
	const char *task, *channel, *type, *path;
	const unsigned char *value;
	size_t len;
	int idx;
	uint32_t crc;
	char mem[];
};

/* The writes of one checkpoint id, sorted by (task, idx); owns them. */
struct mwset {
	char *id;
	struct mwr **w;
	size_t n, cap;
};

struct mgroup {
	char *thread, *ns;
	struct mcp **c;      /* sorted by id; owned */
	size_t nc, capc;
	struct mwset **ws;   /* sorted by id; owned */
	size_t nws, capws;
};

/* A checkpoint list is to yield. */
struct mcand {
	const struct mgroup *g;
	const struct mcp *c;
};

struct mem_store {
	struct corral_store base;
	struct mgroup **g;   /* sorted by (thread, ns); owned */
	size_t ng, capg;
	sqlite3 *json;       /* no tables: only its JSON functions */
	sqlite3_stmt *match, *filter_check;
	struct mcand *cand;  /* list's candidates, kept between calls */
	size_t capcand;
	struct tbuf tb;
};

/* Makes room for one more pointer in *a (of n, capacity *cap). */
static bool
grow(void *a, size_t n, size_t *cap, size_t size)
{
	void **pa = a, *b;
	size_t c;

	if (n < *cap)
		return true;
	c = *cap ? *cap * 2 : 8;
	if ((b = reallocarray(*pa, c, size)) == NULL)
		return false;
	*pa = b;
	*cap = c;
	return true;
}

static int
group_cmp(const struct mgroup *g, const char *thread, const char *ns)
{
	int c = strcmp(g->thread, thread);

	return c != 0 ? c : strcmp(g->ns, ns);
}

/* The first group not before (thread, ns); *found if it is that one. */
static size_t
group_find(const struct mem_store *s, const char *thread, const char *ns,
    bool *found)
{
	size_t lo = 0, hi = s->ng, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (group_cmp(s->g[mid], thread, ns) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->ng && group_cmp(s->g[lo], thread, ns) == 0;
	return lo;
}

static struct mgroup *
group_get(struct mem_store *s, const char *thread, const char *ns,
    bool create)
{
	struct mgroup *g;
	size_t i, tl, nl;
	bool found;

	i = group_find(s, thread, ns, &found);
	if (found)
		return s->g[i];
	if (!create || !grow(&s->g, s->ng, &s->capg, sizeof(*s->g)))
		return NULL;
	tl = strlen(thread) + 1;
	nl = strlen(ns) + 1;
	if ((g = calloc(1, sizeof(*g) + tl + nl)) == NULL)
		return NULL;
	g->thread = (char *)(g + 1);
	g->ns = g->thread + tl;
	memcpy(g->thread, thread, tl);
	memcpy(g->ns, ns, nl);
	memmove(&s->g[i + 1], &s->g[i], (s->ng - i) * sizeof(*s->g));
	s->g[i] = g;
	s->ng++;
	return g;
}

static void
group_free(struct mgroup *g)
{
	size_t i, j;

	for (i = 0; i < g->nc; i++)
		free(g->c[i]);
	for (i = 0; i < g->nws; i++) {
		for (j = 0; j < g->ws[i]->n; j++)
			free(g->ws[i]->w[j]);
		free(g->ws[i]->w);
		free(g->ws[i]);
	}
	free(g->c);
	free(g->ws);
	free(g);
}

/* The first checkpoint of g whose id is not before id. */
static size_t
cp_find(const struct mgroup *g, const char *id, bool *found)
{
	size_t lo = 0, hi = g->nc, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(g->c[mid]->id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < g->nc && strcmp(g->c[lo]->id, id) == 0;
	return lo;
}

static size_t
wset_find(const struct mgroup *g, const char *id, bool *found)
{
	size_t lo = 0, hi = g->nws, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(g->ws[mid]->id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < g->nws && strcmp(g->ws[lo]->id, id) == 0;
	return lo;
}

static int
write_cmp(const struct mwr *w, const char *task, int idx)
{
	int c = strcmp(w->task, task);

	return c != 0 ? c : (w->idx > idx) - (w->idx < idx);
}

static size_t
write_find(const struct mwset *ws, const char *task, int idx, bool *found)
{
	size_t lo = 0, hi = ws->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (write_cmp(ws->w[mid], task, idx) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < ws->n && write_cmp(ws->w[lo], task, idx) == 0;
	return lo;
}

/* Copies s (NULL stays NULL) into the allocation at *p. */
static const char *
put_str(char **p, const char *s, size_t len)
{
	char *d = *p;

	if (s == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	*p += len + 1;
	return d;
}

static int
nomem(struct mem_store *s, const char *what)
{
	return store_fail(&s->base, CORRAL_ENOMEM, "%s: out of memory", what);
}

static int
mem_put(struct corral_store *base, const struct store_put *p)
{
	struct mem_store *s = (struct mem_store *)base;
	struct mgroup *g;
	struct mcp *c, *old = NULL;
	const struct mcp *par;
	const unsigned char *vals = p->vals;
	unsigned char *merged = NULL, *vers = NULL;
	const char *spec = p->spec;
	char *respec = NULL, *m;
	size_t i, il, pl, tl, mtl, slen = p->slen, vallen = p->vallen, vlen = 0;
	uint32_t crc = p->crc;
	bool found;
	int rc;

	if ((g = group_get(s, p->thread, p->ns, true)) == NULL ||
	    !grow(&g->c, g->nc, &g->capc, sizeof(*g->c)))
		return nomem(s, "put");
	if (p->id == NULL)
		store_make_id(base, p->id_out, p->now_ms,
		    g->nc > 0 ? g->c[g->nc - 1]->id : NULL);
	else
		memcpy(p->id_out, p->id, strlen(p->id) + 1);
	i = cp_find(g, p->id_out, &found);
	tl = p->type != NULL ? strlen(p->type) : 0;
	mtl = p->mtype != NULL ? strlen(p->mtype) : 0;
	if (found && (old = g->c[i])->vals != NULL) {
		/* Checkpoints naming the row replaced keep their values. */
		if ((rc = store_merge_values(p->vals, p->vallen, old->vals,
		    old->vallen, &merged, &vallen)) != CORRAL_OK ||
		    (rc = store_encode_spec(p->versions, p->nversions, merged,
		    vallen, &respec, &slen)) != CORRAL_OK)
			goto fail;
		vals = merged;
		spec = respec;
		crc = store_crc_checkpoint(p->type, tl, p->data, p->len,
		    p->metadata, p->mlen, p->mtype, mtl, spec != NULL,
		    vals != NULL);
	}
	par = NULL;
	if (p->parent != NULL) {
		size_t j = cp_find(g, p->parent, &found);

		par = found ? g->c[j] : NULL;
	}
	if (spec != NULL && (rc = store_resolve(spec, slen, p->parent,
	    p->parent ? strlen(p->parent) : 0, par ? par->vers : NULL,
	    par ? par->vlen : 0, &vers, &vlen)) != CORRAL_OK) {
		if (rc == CORRAL_ECORRUPT)
			rc = store_fail(base, rc, "put: the versions of parent "
			    "%s fail their checksum", p->parent);
		goto fail;
	}
	il = strlen(p->id_out);
	pl = p->parent != NULL ? strlen(p->parent) : 0;
	if ((c = malloc(sizeof(*c) + il + pl + tl + p->len + p->mlen + mtl +
	    vlen + vallen + 8)) == NULL) {
		rc = CORRAL_ENOMEM;
		goto fail;
	}
	m = c->mem;
	c->id = put_str(&m, p->id_out, il);
	c->parent = put_str(&m, p->parent, pl);
	c->type = put_str(&m, p->type, tl);
	c->data = (const unsigned char *)put_str(&m, p->data, p->len);
	c->len = p->len;
	c->meta = put_str(&m, p->metadata, p->mlen);
	c->mlen = p->mlen;
	c->mtype = put_str(&m, p->mtype, mtl);
	c->vers = (const unsigned char *)put_str(&m, (const char *)vers, vlen);
	c->vlen = vlen;
	c->vals = (const unsigned char *)put_str(&m, (const char *)vals,
	    vallen);
	c->vallen = vallen;
	c->created_ms = p->now_ms;
	c->crc = crc;
	free(merged);
	free(respec);
	free(vers);
	i = cp_find(g, c->id, &found);
	if (found) {
		free(g->c[i]);
		g->c[i] = c;
		return CORRAL_OK;
	}
	memmove(&g->c[i + 1], &g->c[i], (g->nc - i) * sizeof(*g->c));
	g->c[i] = c;
	g->nc++;
	return CORRAL_OK;

fail:
	free(merged);
	free(respec);
	free(vers);
	return rc == CORRAL_ENOMEM ? nomem(s, "put") : rc;
}

/*
 * Adds the writes of ws (on channel only, unless NULL) to the tuple
 * buffer; one that fails its checksum makes it corrupt.
 */
static void
read_writes(struct tbuf *tb, const struct mwset *ws, const char *channel)
{
	const struct mwr *w;
	size_t i, tl, pl;

	for (i = 0; i < ws->n; i++) {
		w = ws->w[i];
		if (channel != NULL && strcmp(w->channel, channel) != 0)
			continue;
		tl = w->type != NULL ? strlen(w->type) : 0;
		pl = strlen(w->path);
		if (w->crc != store_crc_write(w->type, tl, w->channel,
		    strlen(w->channel), w->value, w->len, w->path, pl)) {
			tb->corrupt = true;
			continue;
		}
		tb_add_write(tb, w->task, strlen(w->task), w->idx, w->channel,
		    strlen(w->channel), w->type, tl, w->value, w->len, w->path,
		    pl);
	}
}

/* store_origin_fn: the inline values of checkpoint id of group arg. */
static int
origin_vals(void *arg, const char *id, size_t idlen,
    const unsigned char **vals, size_t *len)
{
	const struct mgroup *g = arg;
	const struct mcp *c;
	size_t i;
	bool found;

	(void)idlen; /* NUL-terminated in the stored versions */
	i = cp_find(g, id, &found);
	if (!found || (c = g->c[i])->vals == NULL)
		return CORRAL_NOTFOUND;
	if (!store_blob_ok(c->vals, c->vallen))
		return CORRAL_ECORRUPT;
	*vals = c->vals;
	*len = c->vallen;
	return CORRAL_OK;
}

/* Copies checkpoint c of g and its writes into the tuple buffer. */
static void
read_cp(struct mem_store *s, const struct mgroup *g, const struct mcp *c)
{
	struct tbuf *tb = &s->tb;
	size_t i, tl;
	bool found;

	tb_reset(tb);
	tb->thread = tb_str(tb, g->thread);
	tb->ns = tb_str(tb, g->ns);
	tb->id = tb_str(tb, c->id);
	tb->parent = tb_str(tb, c->parent);
	tb->created_ms = c->created_ms;
	tl = c->type != NULL ? strlen(c->type) : 0;
	if (c->crc != store_crc_checkpoint(c->type, tl, c->data, c->len,
	    c->meta, c->mlen, c->mtype, c->mtype ? strlen(c->mtype) : 0,
	    c->vers != NULL, c->vals != NULL)) {
		tb->corrupt = true;
		return;
	}
	tb->type = c->type != NULL ? tb_add(tb, c->type, tl) : TB_NULL;
	tb->data = tb_add(tb, c->data, c->len);
	tb->dlen = c->len;
	tb->meta = tb_add(tb, c->meta, c->mlen);
	tb->mtype = tb_str(tb, c->mtype);
	/* Memory has no failure of its own: only ECORRUPT, kept in tb. */
	(void)store_read_channels(tb, c->vers, c->vlen, c->vals, c->vallen,
	    origin_vals, (void *)g);
	i = wset_find(g, c->id, &found);
	if (!found)
		return;
	read_writes(tb, g->ws[i], NULL);
}

static int
mem_get(struct corral_store *base, const char *thread, const char *ns,
    const char *id, struct corral_tuple **out)
{
	struct mem_store *s = (struct mem_store *)base;
	struct mgroup *g;
	size_t i;
	bool found;

	if ((g = group_get(s, thread, ns, false)) == NULL || g->nc == 0)
		return CORRAL_NOTFOUND;
	if (id == NULL)
		i = g->nc - 1;
	else if (i = cp_find(g, id, &found), !found)
		return CORRAL_NOTFOUND;
	read_cp(s, g, g->c[i]);
	if (tb_copy(&s->tb, out) != CORRAL_OK)
		return nomem(s, "get");
	if ((*out)->corrupt)
		return store_fail(base, CORRAL_ECORRUPT,
		    "checkpoint %s of thread %s: checksum mismatch",
		    (*out)->checkpoint_id, (*out)->thread_id);
	return CORRAL_OK;
}

/* Newest first; ties by thread, then namespace, greatest first. */
static int
cand_cmp(const void *a, const void *b)
{
	const struct mcand *x = a, *y = b;
	int c;

	if ((c = strcmp(y->c->id, x->c->id)) != 0)
		return c;
	if ((c = strcmp(y->g->thread, x->g->thread)) != 0)
		return c;
	return strcmp(y->g->ns, x->g->ns);
}

/* Does c's metadata match the filter?  1, 0, or a CORRAL_* error. */
static int
match(struct mem_store *s, const struct mcp *c, const char *filter)
{
	return store_filter_match(&s->base, s->json, &s->match, c->meta,
	    c->mlen, filter);
}

/* Does (c's id, g's thread, g's namespace) come after a in list's order? */
static bool
after_ok(const struct mgroup *g, const struct mcp *c,
    const struct store_after *a)
{
	int k;

	if (a == NULL)
		return true;
	if ((k = strcmp(c->id, a->id)) != 0 ||
	    (k = strcmp(g->thread, a->thread)) != 0)
		return k < 0;
	return strcmp(g->ns, a->ns) < 0;
}

/* list within one group: newest first is its own order, backwards. */
static int
list_group(struct mem_store *s, const struct mgroup *g,
    const struct corral_list_opts *o, const struct store_after *a,
    bool keys, store_list_fn fn, void *arg)
{
	struct corral_tuple t;
	size_t i, yielded = 0;
	bool found;
	int rc;

	i = o->before != NULL ? cp_find(g, o->before, &found) : g->nc;
	while (i-- > 0) {
		if (o->limit > 0 && yielded == o->limit)
			break;
		if (!after_ok(g, g->c[i], a))
			continue;
		if (keys && (rc = match(s, g->c[i], o->filter)) <= 0) {
			if (rc < 0)
				return rc;
			continue;
		}
		read_cp(s, g, g->c[i]);
		if (tb_view(&s->tb, &t) != CORRAL_OK)
			return nomem(s, "list");
		yielded++;
		if (fn(arg, &t) != 0)
			break;
	}
	return CORRAL_OK;
}

static int
mem_list(struct corral_store *base, const struct corral_list_opts *o,
    const struct store_after *a, store_list_fn fn, void *arg)
{
	struct mem_store *s = (struct mem_store *)base;
	const struct mgroup *g;
	struct corral_tuple t;
	size_t gi, gend, i, n = 0, yielded = 0;
	bool keys = false, found = false;
	int rc;

	if (o->filter != NULL && (rc = store_filter_check(base, s->json,
	    &s->filter_check, o->filter, &keys)) != CORRAL_OK)
		return rc;
	/* The groups to look in: one thread's are consecutive. */
	gi = 0;
	gend = s->ng;
	if (o->thread_id != NULL) {
		gi = group_find(s, o->thread_id,
		    o->checkpoint_ns ? o->checkpoint_ns : "", &found);
		for (gend = gi; gend < s->ng &&
		    strcmp(s->g[gend]->thread, o->thread_id) == 0; gend++)
			;
	}
	/*
	 * One group (a thread and a namespace) is already in order: walk it
	 * back from before.  Otherwise gather and sort the candidates.
	 */
	if (o->thread_id != NULL && o->checkpoint_ns != NULL)
		return found ? list_group(s, s->g[gi], o, a, keys, fn, arg) :
		    CORRAL_OK;
	for (; gi < gend; gi++) {
		g = s->g[gi];
		if (o->checkpoint_ns != NULL &&
		    strcmp(g->ns, o->checkpoint_ns) != 0)
			continue;
		i = o->before != NULL ? cp_find(g, o->before, &found) : g->nc;
		while (i-- > 0) {
			if (!after_ok(g, g->c[i], a))
				continue;
			if (!grow(&s->cand, n, &s->capcand, sizeof(*s->cand)))
				return nomem(s, "list");
			s->cand[n].g = g;
			s->cand[n++].c = g->c[i];
		}
	}
	if (n > 1)
		qsort(s->cand, n, sizeof(*s->cand), cand_cmp);
	for (i = 0; i < n; i++) {
		if (o->limit > 0 && yielded == o->limit)
			break;
		if (keys && (rc = match(s, s->cand[i].c, o->filter)) <= 0) {
			if (rc < 0)
				return rc;
			continue;
		}
		read_cp(s, s->cand[i].g, s->cand[i].c);
		if (tb_view(&s->tb, &t) != CORRAL_OK)
			return nomem(s, "list");
		yielded++;
		if (fn(arg, &t) != 0)
			break;
	}
	return CORRAL_OK;
}

static struct mwr *
write_new(const char *task, const char *path, int idx,
    const struct corral_write *w)
{
	struct mwr *n;
	size_t kl = strlen(task), cl = strlen(w->channel), tl;
	size_t pl = strlen(path);
	char *m;

	tl = w->type != NULL ? strlen(w->type) : 0;
	if ((n = malloc(sizeof(*n) + kl + cl + tl + w->len + pl + 5)) == NULL)
		return NULL;
	m = n->mem;
	n->task = put_str(&m, task, kl);
	n->path = put_str(&m, path, pl);
	n->channel = put_str(&m, w->channel, cl);
	n->type = put_str(&m, w->type, tl);
	n->value = (const unsigned char *)put_str(&m,
	    w->value != NULL ? w->value : "", w->len);
	n->len = w->len;
	n->idx = idx;
	n->crc = store_crc_write(n->type, tl, n->channel, cl, n->value, n->len,
	    n->path, pl);
	return n;
}

static int
mem_put_writes(struct corral_store *base, const char *thread, const char *ns,
    const char *id, const char *task, const char *path,
    const struct corral_write *w, size_t n)
{
	struct mem_store *s = (struct mem_store *)base;
	struct mgroup *g;
	struct mwset *ws;
	struct mwr **nw;
	size_t i, j, il;
	bool found;
	void *b;

	if ((g = group_get(s, thread, ns, true)) == NULL)
		return nomem(s, "put_writes");
	i = wset_find(g, id, &found);
	if (!found) {
		if (!grow(&g->ws, g->nws, &g->capws, sizeof(*g->ws)))
			return nomem(s, "put_writes");
		il = strlen(id) + 1;
		if ((ws = calloc(1, sizeof(*ws) + il)) == NULL)
			return nomem(s, "put_writes");
		ws->id = (char *)(ws + 1);
		memcpy(ws->id, id, il);
		memmove(&g->ws[i + 1], &g->ws[i], (g->nws - i) * sizeof(*g->ws));
		g->ws[i] = ws;
		g->nws++;
	}
	ws = g->ws[i];
	/* All or nothing, as SQLite's transaction: allocate, then apply. */
	if (ws->cap - ws->n < n) {
		if ((b = reallocarray(ws->w, ws->n + n, sizeof(*ws->w))) ==
		    NULL)
			return nomem(s, "put_writes");
		ws->w = b;
		ws->cap = ws->n + n;
	}
	if ((nw = calloc(n, sizeof(*nw))) == NULL)
		return nomem(s, "put_writes");
	for (i = 0; i < n; i++)
		if ((nw[i] = write_new(task, path,
		    store_write_idx(w[i].channel, i), &w[i])) == NULL) {
			while (i-- > 0)
				free(nw[i]);
			free(nw);
			return nomem(s, "put_writes");
		}
	for (i = 0; i < n; i++) {
		j = write_find(ws, task, nw[i]->idx, &found);
		if (found && nw[i]->idx >= 0) {
			free(nw[i]); /* the first regular write stays */
		} else if (found) {
			free(ws->w[j]);
			ws->w[j] = nw[i];
		} else {
			memmove(&ws->w[j + 1], &ws->w[j],
			    (ws->n - j) * sizeof(*ws->w));
			ws->w[j] = nw[i];
			ws->n++;
		}
	}
	free(nw);
	return CORRAL_OK;
}

static int
mem_get_writes(struct corral_store *base, const char *thread, const char *ns,
    const char *id, const char *channel)
{
	struct mem_store *s = (struct mem_store *)base;
	struct mgroup *g;
	size_t i;
	bool found;

	tb_reset(&s->tb);
	if ((g = group_get(s, thread, ns, false)) == NULL)
		return CORRAL_OK;
	i = wset_find(g, id, &found);
	if (found)
		read_writes(&s->tb, g->ws[i], channel);
	return s->tb.nomem ? nomem(s, "get_writes") : CORRAL_OK;
}

static int
mem_delete_thread(struct corral_store *base, const char *thread)
{
	struct mem_store *s = (struct mem_store *)base;
	size_t i, end;
	bool found;

	if (s->ng == 0)
		return CORRAL_OK;
	i = group_find(s, thread, "", &found);
	for (end = i; end < s->ng && strcmp(s->g[end]->thread, thread) == 0;
	    end++)
		group_free(s->g[end]);
	memmove(&s->g[i], &s->g[end], (s->ng - end) * sizeof(*s->g));
	s->ng -= end - i;
	return CORRAL_OK;
}

static void
mem_close(struct corral_store *base)
{
	struct mem_store *s = (struct mem_store *)base;
	size_t i;

	for (i = 0; i < s->ng; i++)
		group_free(s->g[i]);
	free(s->g);
	free(s->cand);
	sqlite3_finalize(s->match);
	sqlite3_finalize(s->filter_check);
	sqlite3_close(s->json);
	tb_free(&s->tb);
	free(s);
}

/* The stored checkpoint of a memory store, for the pokes; NULL: none. */
static struct mcp *
poke_find(struct corral_store *base, const char *thread, const char *ns,
    const char *id)
{
	struct mgroup *g;
	size_t i;
	bool found;

	if (base->ops->close != mem_close ||
	    (g = group_get((struct mem_store *)base, thread, ns, false)) ==
	    NULL || (i = cp_find(g, id, &found), !found))
		return NULL;
	return g->c[i];
}

int
store_memory_poke(struct corral_store *base, const char *thread,
    const char *ns, const char *id)
{
	struct mcp *c = poke_find(base, thread, ns, id);

	if (c == NULL || c->len == 0)
		return CORRAL_NOTFOUND;
	((unsigned char *)c->data)[0] ^= 0x01;
	return CORRAL_OK;
}

int
store_memory_poke_value(struct corral_store *base, const char *thread,
    const char *ns, const char *id)
{
	struct mcp *c = poke_find(base, thread, ns, id);

	if (c == NULL || c->vals == NULL)
		return CORRAL_NOTFOUND;
	((unsigned char *)c->vals)[0] ^= 0x01;
	return CORRAL_OK;
}

static const struct store_ops memory_ops = {
	.put = mem_put,
	.get = mem_get,
	.list = mem_list,
	.put_writes = mem_put_writes,
	.get_writes = mem_get_writes,
	.delete_thread = mem_delete_thread,
	.close = mem_close,
};

int
corral_store_open_memory(struct corral_store **out)
{
	struct mem_store *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CORRAL_ENOMEM;
	store_init(&s->base, &memory_ops);
	tb_reset(&s->tb);
	s->base.tb = &s->tb;
	if (sqlite3_open_v2(":memory:", &s->json, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		mem_close(&s->base);
		return CORRAL_ENOMEM;
	}
	*out = &s->base;
	return CORRAL_OK;
}
