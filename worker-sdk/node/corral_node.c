/*
 * corral_node.c: libcorral's checkpoint store for Node, as a Node-API
 * addon (corral.node).  saver.cjs builds LangGraph's CorralSaver on it.
 *
 * Every call runs on the JavaScript thread and crosses into C once: the
 * store's calls take tens of microseconds, far less than a trip through
 * the thread pool would cost, and a store handle is used by one thread at
 * a time (corral.h).  Strings are copied once, into an arena the handle
 * keeps from call to call; byte strings (Uint8Array) are read in place.
 * What comes back is flat arrays, which saver.cjs turns into LangGraph's
 * objects: values of serde type "json" as strings (the serializer takes
 * them as they are), others as Buffers.
 *
 * Errors are thrown as Error objects whose code is the libcorral error's
 * name ("CORRAL_EIO") and whose message names the database (a PostgreSQL
 * connection string without its password); saver.cjs's async methods
 * turn them into rejections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "corral.h"

/* Tell a handle from a cursor, and either from a stranger's object. */
static const napi_type_tag store_tag = { 0x636f7272616c5354ULL, 1 };
static const napi_type_tag cursor_tag = { 0x636f7272616c4355ULL, 2 };

/*
 * Memory of one call: strings and arrays handed to the store, released
 * (not freed) when the call returns.  The block is kept; what did not fit
 * in it is allocated apart and freed.
 */
struct spill {
	struct spill *next;
	max_align_t data[];
};

struct arena {
	char *base;
	size_t cap, used;
	struct spill *spill;
};

#define ARENA_BLOCK 65536

struct cursor;

struct handle {
	struct corral_store *store; /* NULL once closed */
	char *path;                 /* for messages: no password */
	struct cursor *cursors;     /* the open ones: closed with the store */
	unsigned refs;              /* the JS object's, and one per cursor */
	struct arena arena;
};

struct cursor {
	struct corral_cursor *cur;  /* NULL once closed */
	struct handle *h;
	bool combine;               /* tuples as one JSON text each */
	struct cursor *next, **prevp;
};

/* Error codes as JavaScript sees them. */
static const char *
code_name(int rc)
{
	switch (rc) {
	case CORRAL_NOTFOUND:
		return "CORRAL_NOTFOUND";
	case CORRAL_EINVAL:
		return "CORRAL_EINVAL";
	case CORRAL_EIO:
		return "CORRAL_EIO";
	case CORRAL_ECORRUPT:
		return "CORRAL_ECORRUPT";
	case CORRAL_ENOMEM:
		return "CORRAL_ENOMEM";
	case CORRAL_EBUSY:
		return "CORRAL_EBUSY";
	case CORRAL_EMOVED:
		return "CORRAL_EMOVED";
	case CORRAL_EFULL:
		return "CORRAL_EFULL";
	case CORRAL_EDAMAGED:
		return "CORRAL_EDAMAGED";
	case CORRAL_EFENCED:
		return "CORRAL_EFENCED";
	}
	return "CORRAL_ERROR";
}

/* Throws the store's error rc; returns NULL for the caller to return. */
static napi_value
throw_store(napi_env env, const struct handle *h, int rc)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "corral: %s: %s (%s)",
	    h != NULL ? h->path : "?", corral_strerror(rc),
	    h != NULL && h->store != NULL ? corral_store_errmsg(h->store) :
	    "no store");
	napi_throw_error(env, code_name(rc), msg);
	return NULL;
}

static napi_value
throw_arg(napi_env env, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "corral: %s", what);
	napi_throw_type_error(env, "CORRAL_EINVAL", msg);
	return NULL;
}

/* Any pending exception (set by a failed napi call) stays the one thrown. */
static napi_value
throw_napi(napi_env env)
{
	bool pending = false;

	napi_is_exception_pending(env, &pending);
	if (!pending)
		napi_throw_error(env, "CORRAL_ENOMEM",
		    "corral: a Node-API call failed");
	return NULL;
}

static void *
arena_alloc(struct arena *a, size_t n)
{
	size_t at = (a->used + _Alignof(max_align_t) - 1) &
	    ~(_Alignof(max_align_t) - 1);
	struct spill *s;

	if (a->base != NULL && at <= a->cap && n <= a->cap - at) {
		a->used = at + n;
		return a->base + at;
	}
	if ((s = malloc(sizeof(*s) + n)) == NULL)
		return NULL;
	s->next = a->spill;
	a->spill = s;
	return s->data;
}

static void
arena_reset(struct arena *a)
{
	struct spill *s;

	while ((s = a->spill) != NULL) {
		a->spill = s->next;
		free(s);
	}
	a->used = 0;
}

/*
 * A JavaScript string as UTF-8 with a NUL, in the arena: written straight
 * into the block's free room, measured first only when it may not fit.
 * 0, or -1 with an exception pending.
 */
static int
get_str(napi_env env, struct arena *a, napi_value v, const char **out)
{
	size_t room = a->cap - a->used, len;
	char *p;

	if (room > 1) {
		p = a->base + a->used;
		if (napi_get_value_string_utf8(env, v, p, room, &len) !=
		    napi_ok) {
			throw_arg(env, "a string was expected");
			return -1;
		}
		if (len + 1 < room) {
			a->used += len + 1;
			*out = p;
			return 0;
		}
	}
	/* It may have been cut: measure, then copy whole. */
	if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
		throw_arg(env, "a string was expected");
		return -1;
	}
	if ((p = arena_alloc(a, len + 1)) == NULL) {
		napi_throw_error(env, "CORRAL_ENOMEM", "corral: out of memory");
		return -1;
	}
	napi_get_value_string_utf8(env, v, p, len + 1, &len);
	*out = p;
	return 0;
}

/* undefined and null are NULL; anything else must be a string. */
static int
get_opt_str(napi_env env, struct arena *a, napi_value v, const char **out)
{
	napi_valuetype t;

	*out = NULL;
	if (napi_typeof(env, v, &t) != napi_ok)
		return throw_napi(env), -1;
	if (t == napi_undefined || t == napi_null)
		return 0;
	return get_str(env, a, v, out);
}

/* A Uint8Array's (or Buffer's) bytes, in place. */
static int
get_bytes(napi_env env, napi_value v, const void **data, size_t *len)
{
	napi_typedarray_type type;
	napi_value ab;
	size_t off;
	bool is;
	void *p;

	if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
	    napi_get_typedarray_info(env, v, &type, len, &p, &ab, &off) !=
	    napi_ok || type != napi_uint8_array) {
		throw_arg(env, "a Uint8Array was expected");
		return -1;
	}
	*data = *len > 0 ? p : "";
	return 0;
}

static int
get_bool(napi_env env, napi_value v, bool *out)
{
	if (napi_get_value_bool(env, v, out) != napi_ok) {
		throw_arg(env, "a boolean was expected");
		return -1;
	}
	return 0;
}

static int
get_u32(napi_env env, napi_value v, uint32_t *out)
{
	if (napi_get_value_uint32(env, v, out) != napi_ok) {
		throw_arg(env, "a number was expected");
		return -1;
	}
	return 0;
}

/* The array's length, or -1 with an exception pending. */
static int
get_array(napi_env env, napi_value v, uint32_t *n)
{
	bool is;

	if (napi_is_array(env, v, &is) != napi_ok || !is ||
	    napi_get_array_length(env, v, n) != napi_ok) {
		throw_arg(env, "an array was expected");
		return -1;
	}
	return 0;
}

/*
 * An object wrapping p, tagged: a handle or a cursor as JavaScript holds
 * it (an object, not an external: Node-API 8 tags objects only).
 */
static napi_status
make_tagged(napi_env env, void *p, napi_finalize fin, const napi_type_tag *tag,
    napi_value *out)
{
	napi_status st;

	if ((st = napi_create_object(env, out)) != napi_ok ||
	    (st = napi_type_tag_object(env, *out, tag)) != napi_ok)
		return st;
	return napi_wrap(env, *out, p, fin, NULL, NULL);
}

/* The pointer make_tagged wrapped, or NULL with an exception pending. */
static void *
get_tagged(napi_env env, napi_value v, const napi_type_tag *tag,
    const char *what)
{
	napi_valuetype t;
	bool ok = false;
	void *p;

	if (napi_typeof(env, v, &t) != napi_ok || t != napi_object ||
	    napi_check_object_type_tag(env, v, tag, &ok) != napi_ok || !ok ||
	    napi_unwrap(env, v, &p) != napi_ok) {
		throw_arg(env, what);
		return NULL;
	}
	return p;
}

/* The handle of argument 0, open; NULL with an exception pending. */
static struct handle *
get_handle(napi_env env, napi_value v)
{
	struct handle *h = get_tagged(env, v, &store_tag,
	    "not a corral store handle");

	if (h != NULL && h->store == NULL) {
		napi_throw_error(env, "CORRAL_EINVAL",
		    "corral: the store is closed");
		return NULL;
	}
	return h;
}

static void
handle_unref(struct handle *h)
{
	if (--h->refs > 0)
		return;
	arena_reset(&h->arena);
	free(h->arena.base);
	free(h->path);
	free(h);
}

static void
cursor_close(struct cursor *c)
{
	if (c->cur == NULL)
		return;
	corral_list_close(c->cur);
	c->cur = NULL;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	*c->prevp = c->next;
}

/* A cursor's must come first: corral.h wants them closed before. */
static void
handle_close(struct handle *h)
{
	while (h->cursors != NULL)
		cursor_close(h->cursors);
	corral_store_close(h->store);
	h->store = NULL;
}

static void
handle_finalize(napi_env env, void *data, void *hint)
{
	struct handle *h = data;

	handle_close(h);
	handle_unref(h);
}

static void
cursor_finalize(napi_env env, void *data, void *hint)
{
	struct cursor *c = data;

	cursor_close(c);
	handle_unref(c->h);
	free(c);
}

/*
 * open(where | undefined, durability 0 | 1) -> handle: a SQLite path or a
 * PostgreSQL connection string (corral_store_open); undefined: memory.
 */
static napi_value
js_open(napi_env env, napi_callback_info info)
{
	napi_value argv[2], ext;
	size_t argc = 2, len;
	struct arena tmp = { 0 };
	const char *path, *why = "";
	struct handle *h;
	uint32_t dur;
	int rc;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return throw_napi(env);
	if (get_opt_str(env, &tmp, argv[0], &path) != 0 ||
	    get_u32(env, argv[1], &dur) != 0) {
		arena_reset(&tmp);
		return NULL;
	}
	if (path == NULL)
		path = ":memory:";
	/* A password grows to "***" at most: room for a few. */
	len = strlen(path) + 16;
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->arena.base = malloc(ARENA_BLOCK)) == NULL ||
	    (h->path = malloc(len)) == NULL) {
		arena_reset(&tmp);
		if (h != NULL) {
			free(h->arena.base);
			free(h);
		}
		napi_throw_error(env, "CORRAL_ENOMEM", "corral: out of memory");
		return NULL;
	}
	corral_where_shown(path, h->path, len);
	h->arena.cap = ARENA_BLOCK;
	h->refs = 1;
	if (strcmp(path, ":memory:") == 0) {
		rc = corral_store_open_memory(&h->store);
		why = "cannot make a store in memory";
	} else
		rc = corral_store_open(path, dur != 0 ?
		    CORRAL_DURABILITY_FULL : CORRAL_DURABILITY_NORMAL,
		    &h->store, &why);
	arena_reset(&tmp);
	if (rc != 0) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "corral: %s: %s (%s)", h->path,
		    corral_strerror(rc), why != NULL ? why : "");
		handle_unref(h);
		napi_throw_error(env, code_name(rc), msg);
		return NULL;
	}
	if (make_tagged(env, h, handle_finalize, &store_tag, &ext) !=
	    napi_ok) {
		corral_store_close(h->store);
		handle_unref(h);
		return throw_napi(env);
	}
	return ext;
}

/* close(handle): the store and its cursors; closing twice is no error. */
static napi_value
js_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	size_t argc = 1;
	struct handle *h;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return throw_napi(env);
	if ((h = get_tagged(env, argv[0], &store_tag,
	    "not a corral store handle")) == NULL)
		return NULL;
	handle_close(h);
	return NULL;
}

/* The arguments of a call that takes a handle and n more. */
#define MAXARGS 12

struct call {
	napi_value argv[MAXARGS];
	struct handle *h;
	struct arena *a;
};

static int
call_begin(napi_env env, napi_callback_info info, size_t n, struct call *c)
{
	size_t argc = n;

	if (napi_get_cb_info(env, info, &argc, c->argv, NULL, NULL) !=
	    napi_ok) {
		throw_napi(env);
		return -1;
	}
	while (argc < n)
		napi_get_undefined(env, &c->argv[argc++]);
	if ((c->h = get_handle(env, c->argv[0])) == NULL)
		return -1;
	c->a = &c->h->arena;
	return 0;
}

/*
 * channels: [channel, version, ...] (with_values false) or [channel,
 * version, type, bytes | undefined, ...]; type "empty" takes no value.
 */
static int
get_channels(napi_env env, struct arena *a, napi_value arr, bool with_values,
    struct corral_channel **out, size_t *n)
{
	size_t stride = with_values ? 4 : 2;
	struct corral_channel *ch;
	napi_valuetype t;
	uint32_t len, i;
	napi_value v[4];

	if (get_array(env, arr, &len) != 0)
		return -1;
	*n = len / stride;
	*out = NULL;
	if (*n == 0)
		return 0;
	if ((ch = arena_alloc(a, *n * sizeof(*ch))) == NULL) {
		napi_throw_error(env, "CORRAL_ENOMEM", "corral: out of memory");
		return -1;
	}
	memset(ch, 0, *n * sizeof(*ch));
	for (i = 0; i < *n; i++) {
		for (size_t k = 0; k < stride; k++)
			if (napi_get_element(env, arr,
			    (uint32_t)(i * stride + k), &v[k]) != napi_ok)
				return throw_napi(env), -1;
		if (get_str(env, a, v[0], &ch[i].channel) != 0 ||
		    get_str(env, a, v[1], &ch[i].version) != 0)
			return -1;
		if (!with_values)
			continue;
		if (get_str(env, a, v[2], &ch[i].type) != 0)
			return -1;
		if (strcmp(ch[i].type, "empty") == 0)
			continue;
		/* Left NULL: a value of put's joined JSON text. */
		if (napi_typeof(env, v[3], &t) != napi_ok)
			return throw_napi(env), -1;
		if (t == napi_undefined)
			continue;
		if (get_bytes(env, v[3], &ch[i].value, &ch[i].len) != 0)
			return -1;
	}
	*out = ch;
	return 0;
}

struct span {
	const char *p;
	size_t len;
};

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/*
 * The elements of the JSON array text p (as JSON.stringify writes it) into
 * el[0..max), their number into *n; -1 when the text is not an array of
 * at most max elements.
 */
static int
split_array(const char *p, size_t len, struct span *el, size_t max,
    size_t *n)
{
	const char *end = p + len, *start, *q;
	bool in_str = false;
	unsigned depth;

	*n = 0;
	p = skip_ws(p, end);
	if (p == end || *p++ != '[')
		return -1;
	if ((p = skip_ws(p, end)) < end && *p == ']')
		return skip_ws(p + 1, end) == end ? 0 : -1;
	for (;;) {
		start = p = skip_ws(p, end);
		for (depth = 0; p < end; p++) {
			if (in_str) {
				if (*p == '\\')
					p++;
				else if (*p == '"')
					in_str = false;
			} else if (*p == '"') {
				in_str = true;
			} else if (*p == '[' || *p == '{') {
				depth++;
			} else if (*p == ']' || *p == '}') {
				if (depth == 0)
					break;
				depth--;
			} else if (*p == ',' && depth == 0) {
				break;
			}
		}
		if (p >= end || *n == max)
			return -1;
		for (q = p; q > start && (q[-1] == ' ' || q[-1] == '\t' ||
		    q[-1] == '\n' || q[-1] == '\r'); q--)
			;
		if (q == start)
			return -1;
		el[*n].p = start;
		el[(*n)++].len = (size_t)(q - start);
		if (*p++ == ']')
			return skip_ws(p, end) == end ? 0 : -1;
	}
}

/*
 * put(h, thread, ns, parent | undefined, id, type, data, mdtype, md,
 *     versions, values)
 *
 * With mdtype undefined, data is one JSON text, [checkpoint, metadata,
 * values...], whose values go in order to the values given without
 * bytes: LangGraph's serializer writes the elements of an array each as
 * it would alone, so one call of it serves them all.  Then put returns
 * whether that text had the expected elements (false: nothing stored,
 * the caller serializes them one by one).
 */
static napi_value
js_put(napi_env env, napi_callback_info info)
{
	struct corral_checkpoint cp;
	struct corral_channel *chv;
	struct corral_ref ref;
	struct span *el = NULL;
	napi_value ret = NULL;
	const void *md = NULL;
	size_t mdlen = 0, nel, k;
	napi_valuetype t;
	struct call c;
	bool joined;
	char *mdz;
	int rc = 0;

	if (call_begin(env, info, 11, &c) != 0)
		return NULL;
	memset(&cp, 0, sizeof(cp));
	if (napi_typeof(env, c.argv[7], &t) != napi_ok)
		return throw_napi(env);
	joined = t == napi_undefined;
	if (get_str(env, c.a, c.argv[1], &ref.thread_id) != 0 ||
	    get_str(env, c.a, c.argv[2], &ref.checkpoint_ns) != 0 ||
	    get_opt_str(env, c.a, c.argv[3], &ref.checkpoint_id) != 0 ||
	    get_str(env, c.a, c.argv[4], &cp.id) != 0 ||
	    get_str(env, c.a, c.argv[5], &cp.type) != 0 ||
	    get_bytes(env, c.argv[6], &cp.data, &cp.len) != 0 ||
	    (!joined && (get_str(env, c.a, c.argv[7], &cp.metadata_type) !=
	    0 || get_bytes(env, c.argv[8], &md, &mdlen) != 0)) ||
	    get_channels(env, c.a, c.argv[9], false, &chv, &cp.nversions) !=
	    0)
		goto out;
	cp.versions = chv;
	if (get_channels(env, c.a, c.argv[10], true, &chv, &cp.nvalues) != 0)
		goto out;
	cp.values = chv;
	if (joined) {
		if ((el = arena_alloc(c.a, (cp.nvalues + 2) * sizeof(*el))) ==
		    NULL) {
			napi_throw_error(env, "CORRAL_ENOMEM",
			    "corral: out of memory");
			goto out;
		}
		if (split_array(cp.data, cp.len, el, cp.nvalues + 2, &nel) !=
		    0 || nel < 2) {
			napi_get_boolean(env, false, &ret);
			goto out;
		}
		k = 2;
		for (size_t i = 0; i < cp.nvalues; i++) {
			if (chv[i].value != NULL ||
			    strcmp(chv[i].type, "empty") == 0)
				continue;
			if (k == nel)
				break;
			chv[i].value = el[k].p;
			chv[i].len = el[k++].len;
		}
		if (k != nel) {
			napi_get_boolean(env, false, &ret);
			goto out;
		}
		cp.data = el[0].p;
		cp.len = el[0].len;
		cp.metadata_type = cp.type;
		md = el[1].p;
		mdlen = el[1].len;
		napi_get_boolean(env, true, &ret);
	}
	/* The store takes metadata as text: it needs its NUL. */
	if ((mdz = arena_alloc(c.a, mdlen + 1)) == NULL) {
		napi_throw_error(env, "CORRAL_ENOMEM", "corral: out of memory");
		goto out;
	}
	memcpy(mdz, md, mdlen);
	mdz[mdlen] = '\0';
	cp.metadata = mdz;
	if ((rc = corral_put(c.h->store, &ref, &cp, NULL, 0)) != 0)
		ret = throw_store(env, c.h, rc);
out:
	arena_reset(c.a);
	return ret;
}

/*
 * putWrites(h, thread, ns, checkpoint, task_id, task_path,
 *     [channel, type, bytes, ...])
 */
static napi_value
js_put_writes(napi_env env, napi_callback_info info)
{
	struct corral_write *w = NULL;
	const char *task_id, *task_path;
	struct corral_ref ref;
	uint32_t len, i, n;
	napi_value v[3];
	struct call c;
	int rc;

	if (call_begin(env, info, 7, &c) != 0)
		return NULL;
	if (get_str(env, c.a, c.argv[1], &ref.thread_id) != 0 ||
	    get_str(env, c.a, c.argv[2], &ref.checkpoint_ns) != 0 ||
	    get_str(env, c.a, c.argv[3], &ref.checkpoint_id) != 0 ||
	    get_str(env, c.a, c.argv[4], &task_id) != 0 ||
	    get_str(env, c.a, c.argv[5], &task_path) != 0 ||
	    get_array(env, c.argv[6], &len) != 0)
		goto out;
	n = len / 3;
	if (n > 0 && (w = arena_alloc(c.a, n * sizeof(*w))) == NULL) {
		napi_throw_error(env, "CORRAL_ENOMEM", "corral: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		for (uint32_t k = 0; k < 3; k++)
			if (napi_get_element(env, c.argv[6], i * 3 + k,
			    &v[k]) != napi_ok) {
				throw_napi(env);
				goto out;
			}
		if (get_str(env, c.a, v[0], &w[i].channel) != 0 ||
		    get_str(env, c.a, v[1], &w[i].type) != 0 ||
		    get_bytes(env, v[2], &w[i].value, &w[i].len) != 0)
			goto out;
	}
	if ((rc = corral_put_writes_path(c.h->store, &ref, task_id, task_path,
	    w, n)) != 0)
		throw_store(env, c.h, rc);
out:
	arena_reset(c.a);
	return NULL;
}

static napi_status
make_str(napi_env env, const char *s, napi_value *v)
{
	if (s == NULL)
		return napi_get_undefined(env, v);
	return napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, v);
}

/* A value as loadsTyped takes it: JSON as a string, others as a Buffer. */
static napi_status
make_value(napi_env env, const char *type, const void *p, size_t len,
    napi_value *v)
{
	void *copy;

	if (type == NULL || strcmp(type, "json") == 0)
		return napi_create_string_utf8(env, p != NULL ? p : "", len,
		    v);
	return napi_create_buffer_copy(env, len, p != NULL ? p : "", &copy,
	    v);
}

/* [task_id, channel, type, value, ...] */
static napi_status
make_writes(napi_env env, const struct corral_write *w, size_t n,
    napi_value *out)
{
	napi_value v;
	napi_status st;
	uint32_t k = 0;

	if ((st = napi_create_array_with_length(env, n * 4, out)) != napi_ok)
		return st;
	for (size_t i = 0; i < n; i++) {
		const char *type = w[i].type != NULL ? w[i].type : "json";

		if ((st = make_str(env, w[i].task_id, &v)) != napi_ok ||
		    (st = napi_set_element(env, *out, k++, v)) != napi_ok ||
		    (st = make_str(env, w[i].channel, &v)) != napi_ok ||
		    (st = napi_set_element(env, *out, k++, v)) != napi_ok ||
		    (st = make_str(env, type, &v)) != napi_ok ||
		    (st = napi_set_element(env, *out, k++, v)) != napi_ok ||
		    (st = make_value(env, type, w[i].value, w[i].len, &v)) !=
		    napi_ok ||
		    (st = napi_set_element(env, *out, k++, v)) != napi_ok)
			return st;
	}
	return napi_ok;
}

static bool
is_json(const char *type)
{
	return type == NULL || strcmp(type, "json") == 0;
}

/* Where a JSON object's text closes: its last '}', or NULL. */
static const char *
object_end(const char *p, size_t len)
{
	const char *q = p + len;

	while (p < q && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n' ||
	    q[-1] == '\r'))
		q--;
	if (q - p < 2 || *p != '{' || q[-1] != '}')
		return NULL;
	return q - 1;
}

/*
 * Can the tuple go to JavaScript as one JSON text?  Every part must be
 * JSON, the checkpoint an object, and no channel may be named "lc": an
 * object with that key could read as one of the serializer's records,
 * which the values alone never would.  A checkpoint stored with its
 * channel_values inside (by another writer than CorralSaver) goes part by
 * part, so that a second key of that name never hides them.
 */
static bool
json_combinable(const struct corral_tuple *t)
{
	static const char key[] = "\"channel_values\"";

	if (!is_json(t->type) || !is_json(t->metadata_type) ||
	    t->data == NULL || t->metadata == NULL ||
	    object_end(t->data, t->len) == NULL ||
	    memmem(t->data, t->len, key, sizeof(key) - 1) != NULL)
		return false;
	for (size_t i = 0; i < t->nchannels; i++)
		if (!is_json(t->channels[i].type) ||
		    strcmp(t->channels[i].channel, "lc") == 0)
			return false;
	for (size_t i = 0; i < t->nwrites; i++)
		if (!is_json(t->writes[i].type))
			return false;
	return true;
}

/* A JSON string's text for s, at p (room for 6 bytes per byte + 2). */
static char *
put_json_str(char *p, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	*p++ = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20) {
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			p += 6;
		} else {
			*p++ = (char)c;
		}
	}
	*p++ = '"';
	return p;
}

/*
 * The tuple as [thread, ns, id, parent | undefined, json, writes] where
 * json is one JSON text, [checkpoint, metadata, [write values]], the
 * checkpoint with "channel_values" put back in, and writes is [task_id,
 * channel, ...].  LangGraph's serializer revives the elements of an array
 * each as it would alone, so one parse gives what one per value would,
 * for a fraction of the calls.
 */
static napi_status
make_tuple_json(napi_env env, struct arena *a, const struct corral_tuple *t,
    napi_value *out)
{
	const char *end = object_end(t->data, t->len), *q;
	size_t mlen = strlen(t->metadata), room, k = 0;
	napi_value v[6], w, e;
	napi_status st;
	bool empty;
	char *buf, *p;

	room = t->len + mlen + 64;
	for (size_t i = 0; i < t->nchannels; i++)
		room += 6 * strlen(t->channels[i].channel) + 4 +
		    t->channels[i].len;
	for (size_t i = 0; i < t->nwrites; i++)
		room += t->writes[i].len + 1;
	if ((buf = arena_alloc(a, room)) == NULL)
		return napi_generic_failure;
	p = buf;
	*p++ = '[';
	/* The checkpoint up to its closing brace; a comma if it has keys. */
	memcpy(p, t->data, (size_t)(end - (const char *)t->data));
	p += end - (const char *)t->data;
	for (q = end - 1; *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r';
	    q--)
		;
	empty = *q == '{';
	if (!empty)
		*p++ = ',';
	memcpy(p, "\"channel_values\":{", 18);
	p += 18;
	for (size_t i = 0; i < t->nchannels; i++) {
		if (i > 0)
			*p++ = ',';
		p = put_json_str(p, t->channels[i].channel);
		*p++ = ':';
		memcpy(p, t->channels[i].value, t->channels[i].len);
		p += t->channels[i].len;
	}
	memcpy(p, "}},", 3);
	p += 3;
	memcpy(p, t->metadata, mlen);
	p += mlen;
	*p++ = ',';
	*p++ = '[';
	for (size_t i = 0; i < t->nwrites; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, t->writes[i].value, t->writes[i].len);
		p += t->writes[i].len;
	}
	*p++ = ']';
	*p++ = ']';
	if ((st = make_str(env, t->thread_id, &v[0])) != napi_ok ||
	    (st = make_str(env, t->checkpoint_ns, &v[1])) != napi_ok ||
	    (st = make_str(env, t->checkpoint_id, &v[2])) != napi_ok ||
	    (st = make_str(env, t->parent_id, &v[3])) != napi_ok ||
	    (st = napi_create_string_utf8(env, buf, (size_t)(p - buf),
	    &v[4])) != napi_ok ||
	    (st = napi_create_array_with_length(env, t->nwrites * 2, &w)) !=
	    napi_ok)
		return st;
	for (size_t i = 0; i < t->nwrites; i++) {
		if ((st = make_str(env, t->writes[i].task_id, &e)) != napi_ok ||
		    (st = napi_set_element(env, w, (uint32_t)k++, e)) !=
		    napi_ok ||
		    (st = make_str(env, t->writes[i].channel, &e)) != napi_ok ||
		    (st = napi_set_element(env, w, (uint32_t)k++, e)) != napi_ok)
			return st;
	}
	v[5] = w;
	if ((st = napi_create_array_with_length(env, 6, out)) != napi_ok)
		return st;
	for (uint32_t i = 0; i < 6; i++)
		if ((st = napi_set_element(env, *out, i, v[i])) != napi_ok)
			return st;
	return napi_ok;
}

/*
 * A tuple as [thread, ns, id, parent | undefined, type, data, mdtype,
 * metadata, writes, channels]: writes as make_writes, channels as
 * [channel, type, value, ...].
 */
static napi_status
make_tuple_parts(napi_env env, const struct corral_tuple *t, napi_value *out)
{
	const char *type = t->type != NULL ? t->type : "json";
	const char *mdtype = t->metadata_type != NULL ? t->metadata_type :
	    "json";
	napi_value v[10], ch, e;
	napi_status st;
	uint32_t k = 0;

	if ((st = make_str(env, t->thread_id, &v[0])) != napi_ok ||
	    (st = make_str(env, t->checkpoint_ns, &v[1])) != napi_ok ||
	    (st = make_str(env, t->checkpoint_id, &v[2])) != napi_ok ||
	    (st = make_str(env, t->parent_id, &v[3])) != napi_ok ||
	    (st = make_str(env, type, &v[4])) != napi_ok ||
	    (st = make_value(env, type, t->data, t->len, &v[5])) != napi_ok ||
	    (st = make_str(env, mdtype, &v[6])) != napi_ok ||
	    (st = make_value(env, mdtype, t->metadata,
	    t->metadata != NULL ? strlen(t->metadata) : 0, &v[7])) !=
	    napi_ok ||
	    (st = make_writes(env, t->writes, t->nwrites, &v[8])) != napi_ok ||
	    (st = napi_create_array_with_length(env, t->nchannels * 3, &ch)) !=
	    napi_ok)
		return st;
	for (size_t i = 0; i < t->nchannels; i++) {
		const struct corral_channel *c = &t->channels[i];
		const char *ctype = c->type != NULL ? c->type : "json";

		if ((st = make_str(env, c->channel, &e)) != napi_ok ||
		    (st = napi_set_element(env, ch, k++, e)) != napi_ok ||
		    (st = make_str(env, ctype, &e)) != napi_ok ||
		    (st = napi_set_element(env, ch, k++, e)) != napi_ok ||
		    (st = make_value(env, ctype, c->value, c->len, &e)) !=
		    napi_ok ||
		    (st = napi_set_element(env, ch, k++, e)) != napi_ok)
			return st;
	}
	v[9] = ch;
	if ((st = napi_create_array_with_length(env, 10, out)) != napi_ok)
		return st;
	for (uint32_t i = 0; i < 10; i++)
		if ((st = napi_set_element(env, *out, i, v[i])) != napi_ok)
			return st;
	return napi_ok;
}

/* A tuple for saver.cjs: as one JSON text when combine allows, else parts. */
static napi_status
make_tuple(napi_env env, struct handle *h, const struct corral_tuple *t,
    bool combine, napi_value *out)
{
	napi_status st;

	if (!combine || !json_combinable(t))
		return make_tuple_parts(env, t, out);
	st = make_tuple_json(env, &h->arena, t, out);
	arena_reset(&h->arena);
	return st;
}

/*
 * The thread's latest checkpoint in ns that reads back intact, when the
 * latest does not: walked back with a cursor, as corral_worker_resume
 * does, so that a LangGraph run resumes where corrald would.
 */
static napi_value
latest_intact(napi_env env, struct handle *h, const struct corral_ref *ref,
    bool combine)
{
	const struct corral_tuple *t;
	struct corral_list_opts lo;
	struct corral_cursor *cur;
	napi_value out;
	int rc;

	memset(&lo, 0, sizeof(lo));
	lo.thread_id = ref->thread_id;
	lo.checkpoint_ns = ref->checkpoint_ns;
	if ((rc = corral_list_open(h->store, &lo, &cur)) != 0)
		return throw_store(env, h, rc);
	while ((rc = corral_list_next(cur, &t)) == CORRAL_ECORRUPT)
		;
	if (rc == 0) {
		if (make_tuple(env, h, t, combine, &out) != napi_ok)
			out = throw_napi(env);
	} else if (rc == CORRAL_NOTFOUND) {
		napi_get_undefined(env, &out);
	} else {
		out = throw_store(env, h, rc);
	}
	corral_list_close(cur);
	return out;
}

/*
 * getTuple(h, thread, ns, id | undefined, combine) -> tuple | undefined;
 * combine: the serializer is LangGraph's JSON one (make_tuple_json).
 */
static napi_value
js_get_tuple(napi_env env, napi_callback_info info)
{
	struct corral_tuple *t = NULL;
	struct corral_ref ref;
	napi_value out = NULL;
	struct call c;
	bool combine;
	int rc;

	if (call_begin(env, info, 5, &c) != 0)
		return NULL;
	if (get_str(env, c.a, c.argv[1], &ref.thread_id) != 0 ||
	    get_str(env, c.a, c.argv[2], &ref.checkpoint_ns) != 0 ||
	    get_opt_str(env, c.a, c.argv[3], &ref.checkpoint_id) != 0 ||
	    get_bool(env, c.argv[4], &combine) != 0)
		goto out;
	if (ref.checkpoint_id != NULL && *ref.checkpoint_id == '\0')
		ref.checkpoint_id = NULL;
	rc = corral_get_tuple(c.h->store, &ref, &t);
	if (rc == 0) {
		if (make_tuple(env, c.h, t, combine, &out) != napi_ok)
			out = throw_napi(env);
	} else if (rc == CORRAL_NOTFOUND) {
		napi_get_undefined(env, &out);
	} else if (rc == CORRAL_ECORRUPT && ref.checkpoint_id == NULL) {
		out = latest_intact(env, c.h, &ref, combine);
	} else {
		out = throw_store(env, c.h, rc);
	}
	corral_tuple_free(t);
out:
	arena_reset(c.a);
	return out;
}

/*
 * getWrites(h, thread, ns, id, channel | undefined) -> writes, as in a
 * tuple: the v < 4 pending-sends migration reads the parent's.
 */
static napi_value
js_get_writes(napi_env env, napi_callback_info info)
{
	struct corral_write *w = NULL;
	const char *channel;
	struct corral_ref ref;
	napi_value out = NULL;
	struct call c;
	size_t n = 0;
	int rc;

	if (call_begin(env, info, 5, &c) != 0)
		return NULL;
	if (get_str(env, c.a, c.argv[1], &ref.thread_id) != 0 ||
	    get_str(env, c.a, c.argv[2], &ref.checkpoint_ns) != 0 ||
	    get_str(env, c.a, c.argv[3], &ref.checkpoint_id) != 0 ||
	    get_opt_str(env, c.a, c.argv[4], &channel) != 0)
		goto out;
	if ((rc = corral_get_writes(c.h->store, &ref, channel, &w, &n)) != 0)
		out = throw_store(env, c.h, rc);
	else if (make_writes(env, w, n, &out) != napi_ok)
		out = throw_napi(env);
	free(w);
out:
	arena_reset(c.a);
	return out;
}

/*
 * listOpen(h, thread | undefined, ns | undefined, before | undefined,
 *     filter JSON | undefined, limit, combine) -> cursor
 */
static napi_value
js_list_open(napi_env env, napi_callback_info info)
{
	struct corral_list_opts lo;
	struct cursor *cu = NULL;
	napi_value out = NULL;
	struct call c;
	bool combine;
	uint32_t limit;
	int rc;

	if (call_begin(env, info, 7, &c) != 0)
		return NULL;
	memset(&lo, 0, sizeof(lo));
	if (get_opt_str(env, c.a, c.argv[1], &lo.thread_id) != 0 ||
	    get_opt_str(env, c.a, c.argv[2], &lo.checkpoint_ns) != 0 ||
	    get_opt_str(env, c.a, c.argv[3], &lo.before) != 0 ||
	    get_opt_str(env, c.a, c.argv[4], &lo.filter) != 0 ||
	    get_u32(env, c.argv[5], &limit) != 0 ||
	    get_bool(env, c.argv[6], &combine) != 0)
		goto out;
	lo.limit = limit;
	if ((cu = calloc(1, sizeof(*cu))) == NULL) {
		napi_throw_error(env, "CORRAL_ENOMEM", "corral: out of memory");
		goto out;
	}
	if ((rc = corral_list_open(c.h->store, &lo, &cu->cur)) != 0) {
		free(cu);
		throw_store(env, c.h, rc);
		goto out;
	}
	cu->h = c.h;
	cu->combine = combine;
	cu->next = c.h->cursors;
	if (cu->next != NULL)
		cu->next->prevp = &cu->next;
	cu->prevp = &c.h->cursors;
	c.h->cursors = cu;
	c.h->refs++;
	if (make_tagged(env, cu, cursor_finalize, &cursor_tag, &out) !=
	    napi_ok) {
		cursor_finalize(env, cu, NULL);
		out = throw_napi(env);
	}
out:
	arena_reset(c.a);
	return out;
}

/*
 * listNext(cursor, max) -> up to max tuples; fewer only at the end.
 * Corrupt rows are passed over (a tuple cannot be made of them).
 */
static napi_value
js_list_next(napi_env env, napi_callback_info info)
{
	const struct corral_tuple *t;
	napi_value argv[2], out, v;
	size_t argc = 2;
	struct cursor *cu;
	uint32_t max, n = 0;
	int rc;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return throw_napi(env);
	if ((cu = get_tagged(env, argv[0], &cursor_tag,
	    "not a corral cursor")) == NULL || get_u32(env, argv[1], &max) != 0)
		return NULL;
	if (napi_create_array(env, &out) != napi_ok)
		return throw_napi(env);
	while (cu->cur != NULL && n < max) {
		rc = corral_list_next(cu->cur, &t);
		if (rc == CORRAL_ECORRUPT)
			continue;
		if (rc == CORRAL_NOTFOUND) {
			cursor_close(cu);
			break;
		}
		if (rc != 0)
			return throw_store(env, cu->h, rc);
		if (make_tuple(env, cu->h, t, cu->combine, &v) != napi_ok ||
		    napi_set_element(env, out, n++, v) != napi_ok)
			return throw_napi(env);
	}
	return out;
}

/* listClose(cursor): at once, not when the collector comes. */
static napi_value
js_list_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	size_t argc = 1;
	struct cursor *cu;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return throw_napi(env);
	if ((cu = get_tagged(env, argv[0], &cursor_tag,
	    "not a corral cursor")) == NULL)
		return NULL;
	cursor_close(cu);
	return NULL;
}

/*
 * fence(h, thread | undefined, token): corral_store_fence.  token is a
 * BigInt in [0, 2^63); 0 or no thread lifts the fence.
 */
static napi_value
js_fence(napi_env env, napi_callback_info info)
{
	const char *thread;
	struct call c;
	int64_t token;
	bool lossless;
	int rc;

	if (call_begin(env, info, 3, &c) != 0)
		return NULL;
	if (get_opt_str(env, c.a, c.argv[1], &thread) != 0)
		goto out;
	if (napi_get_value_bigint_int64(env, c.argv[2], &token, &lossless) !=
	    napi_ok || !lossless || token < 0) {
		throw_arg(env, "a fencing token is a BigInt in [0, 2^63)");
		goto out;
	}
	if ((rc = corral_store_fence(c.h->store, thread, token)) != 0)
		throw_store(env, c.h, rc);
out:
	arena_reset(c.a);
	return NULL;
}

/* deleteThread(h, thread) */
static napi_value
js_delete_thread(napi_env env, napi_callback_info info)
{
	const char *thread;
	struct call c;
	int rc;

	if (call_begin(env, info, 2, &c) != 0)
		return NULL;
	if (get_str(env, c.a, c.argv[1], &thread) == 0 &&
	    (rc = corral_delete_thread(c.h->store, thread)) != 0)
		throw_store(env, c.h, rc);
	arena_reset(c.a);
	return NULL;
}

NAPI_MODULE_EXPORT int32_t NODE_API_MODULE_GET_API_VERSION(void);
NAPI_MODULE_EXPORT napi_value NAPI_MODULE_INITIALIZER(napi_env, napi_value);

NAPI_MODULE_EXPORT int32_t
NODE_API_MODULE_GET_API_VERSION(void)
{
	return NAPI_VERSION;
}

NAPI_MODULE_EXPORT napi_value
NAPI_MODULE_INITIALIZER(napi_env env, napi_value exports)
{
	static const struct {
		const char *name;
		napi_callback fn;
	} fns[] = {
		{ "open", js_open },
		{ "close", js_close },
		{ "put", js_put },
		{ "putWrites", js_put_writes },
		{ "getTuple", js_get_tuple },
		{ "getWrites", js_get_writes },
		{ "listOpen", js_list_open },
		{ "listNext", js_list_next },
		{ "listClose", js_list_close },
		{ "deleteThread", js_delete_thread },
		{ "fence", js_fence },
	};
	napi_value f, v;

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH,
		    fns[i].fn, NULL, &f) != napi_ok ||
		    napi_set_named_property(env, exports, fns[i].name, f) !=
		    napi_ok)
			return NULL;
	}
	if (napi_create_string_utf8(env, CORRAL_VERSION, NAPI_AUTO_LENGTH,
	    &v) == napi_ok)
		napi_set_named_property(env, exports, "version", v);
	return exports;
}
