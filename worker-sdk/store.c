/*
 * store.c: the checkpoint store's common part: every argument checked
 * once, the special channels' indexes, checksums, time-ordered ids, the
 * tuples handed out, and the dispatch to the backend (store_ops).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "store_impl.h"

/* Castagnoli polynomial 0x82f63b78, reflected; table[i] is the CRC of i. */
static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4,
	0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
	0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
	0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b,
	0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54,
	0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
	0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
	0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5,
	0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45,
	0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
	0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
	0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48,
	0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687,
	0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
	0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
	0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8,
	0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096,
	0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
	0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
	0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9,
	0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36,
	0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
	0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
	0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043,
	0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3,
	0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
	0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
	0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652,
	0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d,
	0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
	0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
	0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2,
	0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530,
	0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
	0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
	0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f,
	0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90,
	0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
	0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
	0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321,
	0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81,
	0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
	0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

static uint32_t
crc32c_table_run(uint32_t crc, const unsigned char *b, size_t len)
{
	while (len-- > 0)
		crc = crc32c_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
/*
 * SSE 4.2 computes CRC-32C 8 bytes at a time, some 20 times faster than the
 * table: every read verifies a checksum over the whole checkpoint, so this
 * is much of the cost of get and list.  Same result as the table.
 */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const unsigned char *b, size_t len)
{
	uint64_t c = crc, v;

	for (; len >= 8; b += 8, len -= 8) {
		memcpy(&v, b, sizeof(v));
		c = __builtin_ia32_crc32di(c, v);
	}
	crc = (uint32_t)c;
	while (len-- > 0)
		crc = __builtin_ia32_crc32qi(crc, *b++);
	return crc;
}
#endif

uint32_t
corral_crc32c(uint32_t crc, const void *p, size_t len)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("sse4.2"))
		return ~crc32c_sse42(~crc, p, len);
#endif
	return ~crc32c_table_run(~crc, p, len);
}

/* For tests: the table alone, whatever the processor. */
uint32_t
store_crc32c_table(uint32_t crc, const void *p, size_t len)
{
	return ~crc32c_table_run(~crc, p, len);
}

/*
 * One field of a checksum: whether it is present and its length, then its
 * bytes, so that ("ab", "c") and ("a", "bc") or NULL and "" differ.
 */
static uint32_t
crc_field(uint32_t crc, const void *p, size_t len, bool present)
{
	unsigned char head[9];
	uint64_t n = len;
	int i;

	head[0] = present;
	for (i = 0; i < 8; i++)
		head[1 + i] = (unsigned char)(n >> (8 * i));
	crc = corral_crc32c(crc, head, sizeof(head));
	return present ? corral_crc32c(crc, p, len) : crc;
}

uint32_t
store_crc_checkpoint(const char *type, size_t tlen, const void *data,
    size_t len, const char *meta, size_t mlen, const char *mtype,
    size_t mtlen, bool has_vers, bool has_vals)
{
	unsigned char has;
	uint32_t crc;

	crc = crc_field(0, type, tlen, type != NULL);
	crc = crc_field(crc, data, len, true);
	crc = crc_field(crc, meta, mlen, true);
	/* Absent in the rows of schema version 1, whose sums stay valid. */
	if (mtype != NULL || has_vers || has_vals) {
		crc = crc_field(crc, mtype, mtlen, mtype != NULL);
		has = (unsigned char)(has_vers | has_vals << 1);
		crc = crc_field(crc, &has, 1, true);
	}
	return crc;
}

uint32_t
store_crc_write(const char *type, size_t tlen, const char *channel,
    size_t clen, const void *value, size_t len, const char *path,
    size_t plen)
{
	uint32_t crc;

	crc = crc_field(0, type, tlen, type != NULL);
	crc = crc_field(crc, channel, clen, true);
	crc = crc_field(crc, value, len, true);
	/* "" is the path of every write of schema version 1. */
	return plen > 0 ? crc_field(crc, path, plen, true) : crc;
}

static void
put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

bool
store_blob_ok(const unsigned char *blob, size_t len)
{
	return blob != NULL && len >= 4 &&
	    corral_crc32c(0, blob, len - 4) == get_le(blob + len - 4, 4);
}

/* Seals len bytes of entries (with room for 4 more): their checksum. */
static size_t
seal(unsigned char *b, size_t len)
{
	put_le(b + len, corral_crc32c(0, b, len), 4);
	return len + 4;
}

/* The string at *p before end, NUL-terminated: false if there is none. */
static bool
next_str(const unsigned char **p, const unsigned char *end, const char **s,
    size_t *len)
{
	const unsigned char *z;

	if (*p >= end || (z = memchr(*p, '\0', (size_t)(end - *p))) == NULL)
		return false;
	*s = (const char *)*p;
	*len = (size_t)(z - *p);
	*p = z + 1;
	return true;
}

/* The next of a values blob's entries (end: where its checksum starts). */
static bool
values_next(const unsigned char **p, const unsigned char *end,
    struct store_val *v)
{
	const unsigned char *q = *p;
	uint64_t n;

	if (!next_str(&q, end, &v->channel, &v->clen) ||
	    !next_str(&q, end, &v->version, &v->vlen) || q >= end)
		return false;
	if (*q == 't') {
		q++;
		if (!next_str(&q, end, &v->type, &v->tlen))
			return false;
	} else if (*q++ == 'n') {
		v->type = NULL;
		v->tlen = 0;
	} else
		return false;
	if (end - q < 8 || (n = get_le(q, 8)) > (uint64_t)(end - q - 8))
		return false;
	v->value = q + 8;
	v->len = (size_t)n;
	*p = q + 8 + n;
	return true;
}

static bool
same(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

/*
 * The value of (channel, version) in the entries [b, end), looked for
 * from *from on, then from b: puts name channels in the same order as
 * their parents did, so a walk through a row's channels mostly finds
 * each where the last one was.  *from moves past it.
 */
static bool
values_find(const unsigned char *b, const unsigned char *end,
    const unsigned char **from, const char *ch, size_t cl, const char *ver,
    size_t vl, struct store_val *out)
{
	const unsigned char *p = *from, *stop = NULL;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		while (p != stop && values_next(&p, end, out))
			if (same(out->channel, out->clen, ch, cl) &&
			    same(out->version, out->vlen, ver, vl)) {
				*from = p;
				return true;
			}
		stop = *from;
		p = b;
	}
	return false;
}

int
store_encode_values(const struct corral_channel *v, size_t n,
    unsigned char **out, size_t *len)
{
	size_t i, total = 4, cl, vl, tl, dl;
	unsigned char *b, *p;
	bool empty;

	*out = NULL;
	*len = 0;
	if (n == 0)
		return CORRAL_OK;
	for (i = 0; i < n; i++) {
		tl = v[i].type != NULL ? strlen(v[i].type) + 1 : 0;
		dl = tl > 0 && store_value_empty(v[i].type, tl - 1) ? 0 :
		    v[i].len;
		if (dl > SIZE_MAX / 4 || total > SIZE_MAX / 4)
			return CORRAL_ENOMEM;
		total += strlen(v[i].channel) + strlen(v[i].version) + 11 +
		    tl + dl;
	}
	if ((b = malloc(total)) == NULL)
		return CORRAL_ENOMEM;
	for (p = b, i = 0; i < n; i++) {
		cl = strlen(v[i].channel) + 1;
		vl = strlen(v[i].version) + 1;
		memcpy(p, v[i].channel, cl);
		memcpy(p + cl, v[i].version, vl);
		p += cl + vl;
		empty = false;
		if (v[i].type != NULL) {
			tl = strlen(v[i].type) + 1;
			empty = store_value_empty(v[i].type, tl - 1);
			*p++ = 't';
			memcpy(p, v[i].type, tl);
			p += tl;
		} else
			*p++ = 'n';
		/* "empty" keeps no value, whatever was given. */
		dl = empty ? 0 : v[i].len;
		put_le(p, dl, 8);
		if (dl > 0)
			memcpy(p + 8, v[i].value, dl);
		p += 8 + dl;
	}
	*len = seal(b, (size_t)(p - b));
	*out = b;
	return CORRAL_OK;
}

int
store_encode_spec(const struct corral_channel *c, size_t n,
    const unsigned char *vals, size_t vallen, char **out, size_t *len)
{
	const unsigned char *from = vals, *end = NULL;
	struct store_val v;
	size_t i, total = 0, cl, vl;
	char *b, *p;

	*out = NULL;
	*len = 0;
	if (n == 0)
		return CORRAL_OK;
	if (vals != NULL)
		end = vals + vallen - 4;
	for (i = 0; i < n; i++)
		total += strlen(c[i].channel) + strlen(c[i].version) + 3;
	if ((b = malloc(total)) == NULL)
		return CORRAL_ENOMEM;
	for (p = b, i = 0; i < n; i++) {
		cl = strlen(c[i].channel);
		vl = strlen(c[i].version);
		memcpy(p, c[i].channel, cl + 1);
		memcpy(p + cl + 1, c[i].version, vl + 1);
		p += cl + vl + 2;
		*p++ = vals != NULL && values_find(vals, end, &from,
		    c[i].channel, cl, c[i].version, vl, &v) ? 's' : 'p';
	}
	*out = b;
	*len = total;
	return CORRAL_OK;
}

int
store_merge_values(const unsigned char *nb, size_t nlen,
    const unsigned char *ob, size_t olen, unsigned char **out, size_t *len)
{
	const unsigned char *p, *q, *from = nb, *nend = NULL, *oend = NULL;
	struct store_val v, w;
	unsigned char *b, *d;

	*out = NULL;
	*len = 0;
	if (!store_blob_ok(ob, olen))
		ob = NULL;
	if (nb == NULL && ob == NULL)
		return CORRAL_OK;
	if ((b = malloc((nb ? nlen : 4) + (ob ? olen : 0))) == NULL)
		return CORRAL_ENOMEM;
	d = b;
	if (nb != NULL) {
		nend = nb + nlen - 4;
		memcpy(d, nb, nlen - 4);
		d += nlen - 4;
	}
	if (ob != NULL)
		oend = ob + olen - 4;
	for (p = ob; ob != NULL; ) {
		q = p;
		if (!values_next(&p, oend, &v))
			break;
		if (nb != NULL && values_find(nb, nend, &from, v.channel,
		    v.clen, v.version, v.vlen, &w))
			continue;
		memcpy(d, q, (size_t)(p - q));
		d += p - q;
	}
	*len = seal(b, (size_t)(d - b));
	*out = b;
	return CORRAL_OK;
}

/* One stored version: channel, version, origin ("": the row itself). */
struct sver {
	const char *ch, *ver, *origin;
	size_t cl, vl, ol;
};

static bool
vers_next(const unsigned char **p, const unsigned char *end, struct sver *e)
{
	return next_str(p, end, &e->ch, &e->cl) &&
	    next_str(p, end, &e->ver, &e->vl) &&
	    next_str(p, end, &e->origin, &e->ol);
}

/* The entry of channel ch, looked for as values_find does. */
static bool
vers_find(const unsigned char *b, const unsigned char *end,
    const unsigned char **from, const char *ch, size_t cl, struct sver *out)
{
	const unsigned char *p = *from, *stop = NULL;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		while (p != stop && vers_next(&p, end, out))
			if (same(out->ch, out->cl, ch, cl)) {
				*from = p;
				return true;
			}
		stop = *from;
		p = b;
	}
	return false;
}

int
store_resolve(const char *spec, size_t slen, const char *parent,
    size_t plen, const unsigned char *pvers, size_t pvlen,
    unsigned char **out, size_t *len)
{
	const unsigned char *p = (const unsigned char *)spec, *end = p + slen;
	const unsigned char *pend = NULL, *from = pvers;
	const char *ch, *ver, *origin;
	size_t cl, vl, ol, cap = slen + 64, n = 0, need;
	struct sver e;
	unsigned char *b, *nb;

	*out = NULL;
	*len = 0;
	if (pvers != NULL) {
		if (!store_blob_ok(pvers, pvlen))
			return CORRAL_ECORRUPT;
		pend = pvers + pvlen - 4;
	}
	if ((b = malloc(cap)) == NULL)
		return CORRAL_ENOMEM;
	while (next_str(&p, end, &ch, &cl) && next_str(&p, end, &ver, &vl) &&
	    p < end) {
		origin = "";
		ol = 0;
		if (*p++ != 's') {
			if (pvers == NULL || parent == NULL ||
			    !vers_find(pvers, pend, &from, ch, cl, &e) ||
			    !same(e.ver, e.vl, ver, vl))
				continue; /* no origin: left out */
			origin = e.ol > 0 ? e.origin : parent;
			ol = e.ol > 0 ? e.ol : plen;
		}
		need = cl + vl + ol + 3;
		if (cap - n < need + 4) {
			cap = (cap + need + 4) * 2;
			if ((nb = realloc(b, cap)) == NULL) {
				free(b);
				return CORRAL_ENOMEM;
			}
			b = nb;
		}
		memcpy(b + n, ch, cl);
		b[n + cl] = '\0';
		n += cl + 1;
		memcpy(b + n, ver, vl);
		b[n + vl] = '\0';
		n += vl + 1;
		memcpy(b + n, origin, ol);
		b[n + ol] = '\0';
		n += ol + 1;
	}
	*len = seal(b, n);
	*out = b;
	return CORRAL_OK;
}

int
store_read_channels(struct tbuf *tb, const unsigned char *vers,
    size_t vlen, const unsigned char *vals, size_t vallen,
    store_origin_fn origin, void *arg)
{
	const unsigned char *p, *end, *ob = NULL, *from = NULL;
	const unsigned char *own_end = NULL, *own_from = vals;
	const char *cur = NULL;
	size_t olen = 0, curlen = 0;
	struct sver e;
	struct store_val v;
	int rc;

	if (vers == NULL)
		return CORRAL_OK;
	if (!store_blob_ok(vers, vlen) ||
	    (vals != NULL && !store_blob_ok(vals, vallen))) {
		tb->corrupt = true;
		return CORRAL_OK;
	}
	if (vals != NULL)
		own_end = vals + vallen - 4;
	end = vers + vlen - 4;
	for (p = vers; vers_next(&p, end, &e); ) {
		if (e.ol == 0) {
			if (vals == NULL || !values_find(vals, own_end,
			    &own_from, e.ch, e.cl, e.ver, e.vl, &v))
				continue;
		} else {
			/* Consecutive channels mostly share an origin. */
			if (cur == NULL || !same(cur, curlen, e.origin, e.ol)) {
				cur = e.origin;
				curlen = e.ol;
				rc = origin(arg, e.origin, e.ol, &ob, &olen);
				if (rc == CORRAL_ECORRUPT) {
					tb->corrupt = true;
					return CORRAL_OK;
				}
				if (rc == CORRAL_NOTFOUND)
					ob = NULL;
				else if (rc != CORRAL_OK)
					return rc;
				from = ob;
			}
			if (ob == NULL || !values_find(ob, ob + olen - 4, &from,
			    e.ch, e.cl, e.ver, e.vl, &v))
				continue;
		}
		if (store_value_empty(v.type, v.tlen))
			continue;
		tb_add_channel(tb, e.ch, e.cl, e.ver, e.vl, v.type, v.tlen,
		    v.value, v.len);
	}
	return CORRAL_OK;
}

bool
store_value_empty(const char *type, size_t tlen)
{
	return type != NULL && tlen == 5 && memcmp(type, "empty", 5) == 0;
}

int
store_write_idx(const char *channel, size_t pos)
{
	static const char *const special[] = { "__error__", "__scheduled__",
		"__interrupt__", "__resume__" };
	size_t i;

	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcmp(channel, special[i]) == 0)
			return -(int)(i + 1);
	return (int)pos;
}

/* Milliseconds from 1582-10-15 (the UUID epoch) to 1970-01-01. */
#define UUID_EPOCH_MS 12219292800000ULL
#define UUID_TS_MAX ((1ULL << 60) - 1)

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The 60-bit timestamp of an id of the layout corral_make_id writes
 * (lowercase, version 6, variant 10), or false for any other string.
 */
static bool
id_timestamp(const char *id, uint64_t *ts)
{
	uint64_t v = 0;
	int i, h;

	if (strlen(id) != 36 || id[8] != '-' || id[13] != '-' ||
	    id[18] != '-' || id[23] != '-' || id[14] != '6' ||
	    hexval(id[19]) < 8 || hexval(id[19]) > 11)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			continue;
		if ((h = hexval(id[i])) == -1)
			return false;
		if (i < 18 && i != 14)
			v = v << 4 | (uint64_t)h;
	}
	*ts = v;
	return true;
}

void
corral_make_id(char *buf, uint64_t now_ms, const char *after,
    struct corral_rng *rng)
{
	uint64_t ts, prev, r, node;
	unsigned seq;

	ts = (now_ms + UUID_EPOCH_MS) * 10000;
	/* The floor keeps ids of one thread ordered when the clock steps
	 * back, or when more than one is made in the same 100 ns. */
	if (after != NULL && id_timestamp(after, &prev) && prev >= ts)
		ts = prev < UUID_TS_MAX ? prev + 1 : UUID_TS_MAX;
	ts &= UUID_TS_MAX;
	r = corral_rng_next(rng);
	seq = 0x8000 | (unsigned)(r & 0x3fff);
	node = (r >> 16) & 0xffffffffffffULL;
	snprintf(buf, CORRAL_ID_LEN, "%08llx-%04llx-6%03llx-%04x-%012llx",
	    (unsigned long long)(ts >> 28),
	    (unsigned long long)((ts >> 12) & 0xffff),
	    (unsigned long long)(ts & 0xfff), seq, (unsigned long long)node);
}

void
store_make_id(struct corral_store *s, char *buf, int64_t now_ms,
    const char *after)
{
	corral_make_id(buf, now_ms < 0 ? 0 : (uint64_t)now_ms, after, &s->rng);
}

void
store_init(struct corral_store *s, const struct store_ops *ops)
{
	uint64_t seed;

	s->ops = ops;
	s->tb = NULL;
	s->in_list = false;
	s->gen = 0;
	s->fence_thread = NULL;
	s->fence_token = 0;
	snprintf(s->errmsg, sizeof(s->errmsg), "no error");
	/* Two processes making ids in the same 100 ns must not collide. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(seed)) {
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		seed = (uint64_t)t.tv_nsec ^ (uint64_t)t.tv_sec << 30 ^
		    (uint64_t)(uintptr_t)s;
	}
	corral_rng_seed(&s->rng, seed);
}

int
store_fail(struct corral_store *s, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

const char *
corral_strerror(int code)
{
	switch (code) {
	case CORRAL_OK:
		return "success";
	case CORRAL_NOTFOUND:
		return "checkpoint not found";
	case CORRAL_EINVAL:
		return "invalid argument";
	case CORRAL_EIO:
		return "storage failed";
	case CORRAL_ECORRUPT:
		return "corrupt row";
	case CORRAL_ENOMEM:
		return "out of memory";
	case CORRAL_EBUSY:
		return "store locked by another writer";
	case CORRAL_EMOVED:
		return "checkpoint database deleted or replaced while open";
	case CORRAL_EFULL:
		return "disk full";
	case CORRAL_EDAMAGED:
		return "checkpoint database damaged";
	case CORRAL_EFENCED:
		return "fenced: another node holds the thread's lease";
	}
	return "unknown error";
}

bool
corral_is_storage_error(int err)
{
	return err == CORRAL_EIO || err == CORRAL_EFULL ||
	    err == CORRAL_EDAMAGED || err == CORRAL_EMOVED;
}

int
corral_exit_status(int err)
{
	if (err == CORRAL_OK)
		return 0;
	/* A row that fails its checksum is the disk's doing too. */
	if (corral_is_storage_error(err) || err == CORRAL_ECORRUPT)
		return CORRAL_EX_IOERR;
	/* Fenced: the thread runs elsewhere now; this node may again. */
	if (err == CORRAL_EBUSY || err == CORRAL_ENOMEM ||
	    err == CORRAL_EFENCED)
		return 75; /* EX_TEMPFAIL */
	return 70; /* EX_SOFTWARE */
}

const char *
corral_storage_kind(int err)
{
	switch (err) {
	case CORRAL_EFULL:
		return "full";
	case CORRAL_EDAMAGED:
		return "damaged";
	case CORRAL_EMOVED:
		return "moved";
	case CORRAL_EIO:
		return "io";
	}
	return NULL;
}

/* What corral_where_shown writes into: cut to fit, never overrun. */
struct shown {
	char *buf;
	size_t len, at;
};

static void
shown_put(struct shown *o, const char *s, size_t n)
{
	while (n-- > 0 && o->at + 1 < o->len)
		o->buf[o->at++] = *s++;
	o->buf[o->at] = '\0';
}

/* A URI: postgresql://user:password@host/db?password=...&... */
static void
shown_uri(struct shown *o, const char *uri)
{
	const char *auth = strstr(uri, "://") + 3, *at = NULL, *colon, *p;
	size_t n, alen = strcspn(auth, "/?");

	for (p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p;
	shown_put(o, uri, (size_t)(auth - uri));
	p = auth;
	if (at != NULL &&
	    (colon = memchr(auth, ':', (size_t)(at - auth))) != NULL) {
		shown_put(o, auth, (size_t)(colon - auth) + 1);
		shown_put(o, "***", 3);
		p = at;
	}
	n = strcspn(p, "?");
	shown_put(o, p, n);
	for (p += n; *p != '\0'; p += n) {
		shown_put(o, p++, 1); /* the ? or & */
		n = strcspn(p, "&");
		if (strncmp(p, "password=", 9) == 0 && n >= 9) {
			shown_put(o, p, 9);
			shown_put(o, "***", 3);
		} else
			shown_put(o, p, n);
	}
}

#define SPACE " \t\n\r\f\v"

/*
 * keyword = value pairs as libpq reads them: a value is quoted ('...',
 * backslash escapes) or runs to white space.  What does not parse is
 * shown as it is: libpq refuses it anyway, and the user sees why.
 */
static void
shown_keywords(struct shown *o, const char *s)
{
	const char *p = s, *k, *v, *e;
	size_t klen;

	while (*p != '\0') {
		k = p + strspn(p, SPACE);
		klen = strcspn(k, "=" SPACE);
		v = k + klen;
		v += strspn(v, SPACE);
		if (*v != '=') {
			shown_put(o, p, strlen(p));
			return;
		}
		v++;
		v += strspn(v, SPACE);
		e = v;
		if (*e == '\'') {
			for (e++; *e != '\0' && *e != '\''; e++)
				if (*e == '\\' && e[1] != '\0')
					e++;
			if (*e == '\'')
				e++;
		} else {
			for (; *e != '\0' && strchr(SPACE, *e) == NULL; e++)
				if (*e == '\\' && e[1] != '\0')
					e++;
		}
		if (klen == 8 && strncmp(k, "password", 8) == 0) {
			shown_put(o, p, (size_t)(v - p));
			shown_put(o, "***", 3);
		} else
			shown_put(o, p, (size_t)(e - p));
		p = e;
	}
}

#undef SPACE

const char *
corral_where_shown(const char *where, char *buf, size_t len)
{
	struct shown o = { buf, len, 0 };

	buf[0] = '\0';
	if (where == NULL)
		return buf;
	if (strncmp(where, "postgresql://", 13) == 0 ||
	    strncmp(where, "postgres://", 11) == 0)
		shown_uri(&o, where);
	else if (corral_where_is_postgres(where))
		shown_keywords(&o, where);
	else
		shown_put(&o, where, strlen(where));
	return buf;
}

int
corral_store_check(struct corral_store *s)
{
	if (s == NULL || s->ops->check == NULL)
		return CORRAL_OK;
	return s->ops->check(s);
}

const char *
corral_store_errmsg(const struct corral_store *s)
{
	return s != NULL ? s->errmsg : "no store";
}

void
corral_store_close(struct corral_store *s)
{
	if (s != NULL) {
		free(s->fence_thread);
		s->ops->close(s);
	}
}

int
corral_store_open(const char *where, enum corral_durability dur,
    struct corral_store **out, const char **why)
{
	if (corral_where_is_postgres(where))
		return corral_store_open_pg(where, NULL, out, why);
	return corral_store_open_sqlite(where, dur, out, why);
}

void
corral_tuple_free(struct corral_tuple *t)
{
	/* One allocation holds the tuple, its writes and every string. */
	free(t);
}

static int64_t
wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A key: what is required must be there, nothing may be too long. */
static int
check_key(struct corral_store *s, const char *what, const char *k,
    bool required)
{
	if (k == NULL || *k == '\0') {
		if (required)
			return store_fail(s, CORRAL_EINVAL, "%s is required",
			    what);
		return CORRAL_OK;
	}
	if (strnlen(k, CORRAL_KEY_MAX + 1) > CORRAL_KEY_MAX)
		return store_fail(s, CORRAL_EINVAL,
		    "%s is longer than %d bytes", what, CORRAL_KEY_MAX);
	return CORRAL_OK;
}

/* A string that may be empty but not NULL (a channel, a version). */
static int
check_name(struct corral_store *s, const char *what, size_t i,
    const char *field, const char *k)
{
	if (k == NULL)
		return store_fail(s, CORRAL_EINVAL, "%s %zu has no %s", what,
		    i, field);
	if (strnlen(k, CORRAL_KEY_MAX + 1) > CORRAL_KEY_MAX)
		return store_fail(s, CORRAL_EINVAL, "%s %zu: its %s is longer "
		    "than %d bytes", what, i, field, CORRAL_KEY_MAX);
	return CORRAL_OK;
}

/* A list of channels: what (versions, values) names them in messages. */
static int
check_channels(struct corral_store *s, const char *what,
    const struct corral_channel *c, size_t n, bool values)
{
	size_t i;
	int rc;

	if (c == NULL && n > 0)
		return store_fail(s, CORRAL_EINVAL, "%s is NULL", what);
	for (i = 0; i < n; i++) {
		if ((rc = check_name(s, what, i, "channel", c[i].channel)) ||
		    (rc = check_name(s, what, i, "version", c[i].version)))
			return rc;
		if (values && c[i].value == NULL && c[i].len > 0)
			return store_fail(s, CORRAL_EINVAL,
			    "%s %zu has a NULL value", what, i);
	}
	return CORRAL_OK;
}

static int
check_idle(struct corral_store *s)
{
	if (s->in_list)
		return store_fail(s, CORRAL_EINVAL,
		    "store called from its own list callback");
	return CORRAL_OK;
}

static const char *
ns_of(const char *ns)
{
	return ns != NULL ? ns : "";
}

static const char *
id_or_null(const char *id)
{
	return id != NULL && *id != '\0' ? id : NULL;
}

int
corral_put(struct corral_store *s, const struct corral_ref *ref,
    const struct corral_checkpoint *cp, char *id_out, size_t idlen)
{
	struct store_put p;
	char id[CORRAL_KEY_MAX + 1], *spec = NULL;
	unsigned char *vals = NULL;
	int rc;

	if ((rc = check_idle(s)) != CORRAL_OK)
		return rc;
	if (ref == NULL || cp == NULL)
		return store_fail(s, CORRAL_EINVAL, "no ref or no checkpoint");
	if ((rc = check_key(s, "thread_id", ref->thread_id, true)) ||
	    (rc = check_key(s, "checkpoint_ns", ref->checkpoint_ns, false)) ||
	    (rc = check_key(s, "parent checkpoint_id", ref->checkpoint_id,
	    false)))
		return rc;
	if (cp->id != NULL &&
	    (rc = check_key(s, "checkpoint id", cp->id, true)) != CORRAL_OK)
		return rc;
	if (cp->data == NULL && cp->len > 0)
		return store_fail(s, CORRAL_EINVAL, "checkpoint data is NULL");
	if ((rc = check_channels(s, "versions", cp->versions, cp->nversions,
	    false)) || (rc = check_channels(s, "values", cp->values,
	    cp->nvalues, true)))
		return rc;
	if (id_out != NULL && idlen < (cp->id != NULL ? strlen(cp->id) + 1 :
	    CORRAL_ID_LEN))
		return store_fail(s, CORRAL_EINVAL, "no room for the id");
	p.thread = ref->thread_id;
	p.ns = ns_of(ref->checkpoint_ns);
	p.id = cp->id;
	p.parent = id_or_null(ref->checkpoint_id);
	p.type = cp->type;
	p.data = cp->data != NULL ? cp->data : "";
	p.len = cp->len;
	p.metadata = cp->metadata != NULL ? cp->metadata : "{}";
	p.mlen = strlen(p.metadata);
	p.mtype = cp->metadata_type;
	p.versions = cp->versions;
	p.nversions = cp->nversions;
	if ((rc = store_encode_values(cp->values, cp->nvalues, &vals,
	    &p.vallen)) != CORRAL_OK || (rc = store_encode_spec(cp->versions,
	    cp->nversions, vals, p.vallen, &spec, &p.slen)) != CORRAL_OK) {
		free(vals);
		return store_fail(s, rc, "put: out of memory");
	}
	p.vals = vals;
	p.spec = spec;
	p.crc = store_crc_checkpoint(p.type, p.type ? strlen(p.type) : 0,
	    p.data, p.len, p.metadata, p.mlen, p.mtype,
	    p.mtype ? strlen(p.mtype) : 0, spec != NULL, vals != NULL);
	p.now_ms = wall_ms();
	p.id_out = id;
	s->gen++;
	if ((rc = s->ops->put(s, &p)) == CORRAL_OK && id_out != NULL)
		memcpy(id_out, id, strlen(id) + 1);
	free(vals);
	free(spec);
	return rc;
}

int
corral_get_tuple(struct corral_store *s, const struct corral_ref *ref,
    struct corral_tuple **out)
{
	int rc;

	*out = NULL;
	if ((rc = check_idle(s)) != CORRAL_OK)
		return rc;
	/* LangGraph: no thread is no checkpoint, not an error. */
	if (ref == NULL || ref->thread_id == NULL || *ref->thread_id == '\0')
		return CORRAL_NOTFOUND;
	if ((rc = check_key(s, "thread_id", ref->thread_id, true)) ||
	    (rc = check_key(s, "checkpoint_ns", ref->checkpoint_ns, false)) ||
	    (rc = check_key(s, "checkpoint_id", ref->checkpoint_id, false)))
		return rc;
	return s->ops->get(s, ref->thread_id, ns_of(ref->checkpoint_ns),
	    id_or_null(ref->checkpoint_id), out);
}

/* A list's options, checked, into *o (NULL: none). */
static int
list_opts(struct corral_store *s, const struct corral_list_opts *opts,
    struct corral_list_opts *o)
{
	int rc;

	if (opts != NULL)
		*o = *opts;
	if ((rc = check_key(s, "thread_id", o->thread_id, false)) ||
	    (rc = check_key(s, "checkpoint_ns", o->checkpoint_ns, false)) ||
	    (rc = check_key(s, "before", o->before, false)))
		return rc;
	/* An empty thread means every thread, as in LangGraph. */
	if (o->thread_id != NULL && *o->thread_id == '\0')
		o->thread_id = NULL;
	return CORRAL_OK;
}

int
corral_list(struct corral_store *s, const struct corral_list_opts *opts,
    int (*fn)(void *, const struct corral_tuple *), void *arg)
{
	struct corral_list_opts o = { 0 };
	int rc;

	if ((rc = check_idle(s)) != CORRAL_OK)
		return rc;
	if (fn == NULL)
		return store_fail(s, CORRAL_EINVAL, "no callback");
	if ((rc = list_opts(s, opts, &o)) != CORRAL_OK)
		return rc;
	s->in_list = true;
	rc = s->ops->list(s, &o, NULL, fn, arg);
	s->in_list = false;
	return rc;
}

/*
 * A cursor reads pages: list with the keyset of the last tuple given, and
 * a limit of a page, its tuples copied (the backend's buffer is reused by
 * every call).  A page read before a write through the store (gen moved)
 * is dropped and read again from the last key: so what next gives is the
 * store as it is at that call.  Writes by other handles or processes are
 * seen page by page.
 */
#define CURSOR_PAGE 100

struct corral_cursor {
	struct corral_store *s;
	struct corral_list_opts o;  /* strings owned */
	struct corral_tuple **page; /* page[at..n) still to give */
	size_t n, at, cap;
	struct corral_tuple *cur;   /* the tuple given last: the next page
				       resumes after its key */
	uint64_t gen;               /* the store's gen when page was read */
	unsigned given;             /* toward o.limit */
	bool done;                  /* the last page read was short */
	int err;                    /* an allocation failed in the callback */
};

static char *
dup_or_null(const char *v, bool *fail)
{
	char *d;

	if (v == NULL)
		return NULL;
	if ((d = strdup(v)) == NULL)
		*fail = true;
	return d;
}

/* A tuple, its writes, channels and strings copied into one allocation. */
static struct corral_tuple *
tuple_dup(const struct corral_tuple *t)
{
	struct tbuf tb;
	struct corral_tuple *out = NULL;
	const struct corral_write *w;
	const struct corral_channel *c;
	size_t i;

	memset(&tb, 0, sizeof(tb));
	tb_reset(&tb);
	tb.thread = tb_str(&tb, t->thread_id);
	tb.ns = tb_str(&tb, t->checkpoint_ns);
	tb.id = tb_str(&tb, t->checkpoint_id);
	tb.parent = tb_str(&tb, t->parent_id);
	tb.created_ms = t->created_ms;
	tb.corrupt = t->corrupt;
	if (!t->corrupt) {
		tb.type = tb_str(&tb, t->type);
		tb.data = tb_add(&tb, t->data, t->len);
		tb.dlen = t->len;
		tb.meta = tb_str(&tb, t->metadata);
		tb.mtype = tb_str(&tb, t->metadata_type);
		for (i = 0; i < t->nwrites; i++) {
			w = &t->writes[i];
			tb_add_write(&tb, w->task_id, strlen(w->task_id),
			    w->idx, w->channel, strlen(w->channel), w->type,
			    w->type ? strlen(w->type) : 0, w->value, w->len,
			    w->task_path, strlen(w->task_path));
		}
		for (i = 0; i < t->nchannels; i++) {
			c = &t->channels[i];
			tb_add_channel(&tb, c->channel, strlen(c->channel),
			    c->version, strlen(c->version), c->type,
			    c->type ? strlen(c->type) : 0, c->value, c->len);
		}
	}
	if (tb_copy(&tb, &out) != CORRAL_OK)
		out = NULL;
	tb_free(&tb);
	return out;
}

static void
cursor_drop_page(struct corral_cursor *c)
{
	while (c->at < c->n)
		free(c->page[c->at++]);
	c->n = c->at = 0;
}

static int
cursor_page_cb(void *arg, const struct corral_tuple *t)
{
	struct corral_cursor *c = arg;
	struct corral_tuple **p;
	size_t cap;

	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 16;
		if ((p = reallocarray(c->page, cap, sizeof(*p))) == NULL) {
			c->err = CORRAL_ENOMEM;
			return 1;
		}
		c->page = p;
		c->cap = cap;
	}
	if ((c->page[c->n] = tuple_dup(t)) == NULL) {
		c->err = CORRAL_ENOMEM;
		return 1;
	}
	c->n++;
	return 0;
}

/* Reads the page after the last tuple given.  0 or an error. */
static int
cursor_fill(struct corral_cursor *c)
{
	struct corral_store *s = c->s;
	struct corral_list_opts o = c->o;
	struct store_after a;
	unsigned want = CURSOR_PAGE;
	int rc;

	cursor_drop_page(c);
	c->gen = s->gen;
	c->err = CORRAL_OK;
	if (o.limit > 0) {
		if (c->given >= o.limit) {
			c->done = true;
			return CORRAL_OK;
		}
		if (o.limit - c->given < want)
			want = o.limit - c->given;
	}
	o.limit = want;
	if (c->cur != NULL) {
		a.id = c->cur->checkpoint_id;
		a.thread = c->cur->thread_id;
		a.ns = c->cur->checkpoint_ns;
	}
	s->in_list = true;
	rc = s->ops->list(s, &o, c->cur != NULL ? &a : NULL, cursor_page_cb,
	    c);
	s->in_list = false;
	if (rc == CORRAL_OK && c->err != CORRAL_OK)
		rc = store_fail(s, c->err, "list: out of memory");
	if (rc != CORRAL_OK) {
		cursor_drop_page(c);
		return rc;
	}
	c->done = c->n < want;
	return CORRAL_OK;
}

int
corral_list_next(struct corral_cursor *c, const struct corral_tuple **out)
{
	struct corral_store *s = c->s;
	struct corral_tuple *t;
	int rc;

	*out = NULL;
	if ((rc = check_idle(s)) != CORRAL_OK)
		return rc;
	/* A write since the page was read: read on from the last key. */
	if (c->gen != s->gen || (c->at == c->n && !c->done))
		if ((rc = cursor_fill(c)) != CORRAL_OK)
			return rc;
	if (c->at == c->n)
		return CORRAL_NOTFOUND;
	t = c->page[c->at++];
	free(c->cur);
	c->cur = t;
	c->given++;
	*out = t;
	if (t->corrupt)
		return store_fail(s, CORRAL_ECORRUPT,
		    "checkpoint %s of thread %s: checksum mismatch",
		    t->checkpoint_id, t->thread_id);
	return CORRAL_OK;
}

void
corral_list_close(struct corral_cursor *c)
{
	if (c == NULL)
		return;
	cursor_drop_page(c);
	free(c->page);
	free(c->cur);
	free((char *)c->o.thread_id);
	free((char *)c->o.checkpoint_ns);
	free((char *)c->o.before);
	free((char *)c->o.filter);
	free(c);
}

int
corral_list_open(struct corral_store *s, const struct corral_list_opts *opts,
    struct corral_cursor **out)
{
	struct corral_list_opts o = { 0 };
	struct corral_cursor *c;
	bool fail = false;
	int rc;

	*out = NULL;
	if ((rc = check_idle(s)) != CORRAL_OK)
		return rc;
	if ((rc = list_opts(s, opts, &o)) != CORRAL_OK)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return store_fail(s, CORRAL_ENOMEM, "list: out of memory");
	c->s = s;
	c->o.thread_id = dup_or_null(o.thread_id, &fail);
	c->o.checkpoint_ns = dup_or_null(o.checkpoint_ns, &fail);
	c->o.before = dup_or_null(o.before, &fail);
	c->o.filter = dup_or_null(o.filter, &fail);
	c->o.limit = o.limit;
	if (fail) {
		corral_list_close(c);
		return store_fail(s, CORRAL_ENOMEM, "list: out of memory");
	}
	/* A filter that is not an object fails here, not at the first next. */
	if (c->o.filter != NULL && (rc = cursor_fill(c)) != CORRAL_OK) {
		corral_list_close(c);
		return rc;
	}
	*out = c;
	return CORRAL_OK;
}

int
corral_put_writes(struct corral_store *s, const struct corral_ref *ref,
    const char *task_id, const struct corral_write *writes, size_t n)
{
	return corral_put_writes_path(s, ref, task_id, NULL, writes, n);
}

/* A ref that names one checkpoint: thread and id required. */
static int
check_checkpoint_ref(struct corral_store *s, const struct corral_ref *ref)
{
	int rc;

	if (ref == NULL)
		return store_fail(s, CORRAL_EINVAL, "no ref");
	if ((rc = check_key(s, "thread_id", ref->thread_id, true)) ||
	    (rc = check_key(s, "checkpoint_ns", ref->checkpoint_ns, false)) ||
	    (rc = check_key(s, "checkpoint_id", ref->checkpoint_id, true)))
		return rc;
	return CORRAL_OK;
}

int
corral_put_writes_path(struct corral_store *s, const struct corral_ref *ref,
    const char *task_id, const char *task_path,
    const struct corral_write *writes, size_t n)
{
	size_t i;
	int rc;

	if ((rc = check_idle(s)) != CORRAL_OK)
		return rc;
	if ((rc = check_checkpoint_ref(s, ref)) != CORRAL_OK)
		return rc;
	if (task_id == NULL)
		return store_fail(s, CORRAL_EINVAL, "task_id is required");
	if ((rc = check_key(s, "task_id", task_id, false)) != CORRAL_OK ||
	    (rc = check_key(s, "task_path", task_path, false)) != CORRAL_OK)
		return rc;
	if (writes == NULL && n > 0)
		return store_fail(s, CORRAL_EINVAL, "writes is NULL");
	for (i = 0; i < n; i++) {
		if ((rc = check_name(s, "write", i, "channel",
		    writes[i].channel)) != CORRAL_OK)
			return rc;
		if (writes[i].value == NULL && writes[i].len > 0)
			return store_fail(s, CORRAL_EINVAL,
			    "write %zu has a NULL value", i);
	}
	if (n == 0)
		return CORRAL_OK;
	s->gen++;
	return s->ops->put_writes(s, ref->thread_id, ns_of(ref->checkpoint_ns),
	    ref->checkpoint_id, task_id, task_path != NULL ? task_path : "",
	    writes, n);
}

int
corral_get_writes(struct corral_store *s, const struct corral_ref *ref,
    const char *channel, struct corral_write **out, size_t *n)
{
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = check_idle(s)) != CORRAL_OK)
		return rc;
	if ((rc = check_checkpoint_ref(s, ref)) != CORRAL_OK)
		return rc;
	if (channel != NULL && strnlen(channel, CORRAL_KEY_MAX + 1) >
	    CORRAL_KEY_MAX)
		return store_fail(s, CORRAL_EINVAL,
		    "channel is longer than %d bytes", CORRAL_KEY_MAX);
	if ((rc = s->ops->get_writes(s, ref->thread_id,
	    ns_of(ref->checkpoint_ns), ref->checkpoint_id, channel)) !=
	    CORRAL_OK)
		return rc;
	if (s->tb->corrupt)
		return store_fail(s, CORRAL_ECORRUPT, "a write of checkpoint "
		    "%s of thread %s: checksum mismatch", ref->checkpoint_id,
		    ref->thread_id);
	if (tb_copy_writes(s->tb, out, n) != CORRAL_OK)
		return store_fail(s, CORRAL_ENOMEM,
		    "get_writes: out of memory");
	return CORRAL_OK;
}

int
corral_store_fence(struct corral_store *s, const char *thread, int64_t token)
{
	char *t;
	int rc;

	if ((rc = check_idle(s)) != CORRAL_OK)
		return rc;
	if (thread == NULL || token == 0) {
		free(s->fence_thread);
		s->fence_thread = NULL;
		s->fence_token = 0;
		return CORRAL_OK;
	}
	if ((rc = check_key(s, "fenced thread_id", thread, true)) !=
	    CORRAL_OK)
		return rc;
	if (token < 0)
		return store_fail(s, CORRAL_EINVAL, "fence of thread %s: token "
		    "%lld is negative", thread, (long long)token);
	if ((t = strdup(thread)) == NULL)
		return store_fail(s, CORRAL_ENOMEM, "fence: out of memory");
	free(s->fence_thread);
	s->fence_thread = t;
	s->fence_token = token;
	return CORRAL_OK;
}

int
corral_delete_thread(struct corral_store *s, const char *thread_id)
{
	int rc;

	if ((rc = check_idle(s)) != CORRAL_OK ||
	    (rc = check_key(s, "thread_id", thread_id, true)) != CORRAL_OK)
		return rc;
	s->gen++;
	return s->ops->delete_thread(s, thread_id);
}

/* Tuples being read. */

static bool
tb_room(struct tbuf *tb, size_t more)
{
	size_t cap;
	char *b;

	if (tb->nomem)
		return false;
	if (more <= tb->cap - tb->len)
		return true;
	cap = tb->cap ? tb->cap : 4096;
	while (cap - tb->len < more) {
		if (cap > SIZE_MAX / 2) {
			tb->nomem = true;
			return false;
		}
		cap *= 2;
	}
	if ((b = realloc(tb->b, cap)) == NULL) {
		tb->nomem = true;
		return false;
	}
	tb->b = b;
	tb->cap = cap;
	return true;
}

bool
tb_checkpoint(struct tbuf *tb, bool has_crc, uint32_t crc, const char *type,
    size_t tlen, const void *data, size_t len, const char *meta, size_t mlen,
    const char *mtype, size_t mtlen, bool has_vers, bool has_vals)
{
	/* A row without a checksum cannot be trusted either. */
	if (tb->corrupt || !has_crc || meta == NULL ||
	    crc != store_crc_checkpoint(type, tlen, data, len, meta, mlen,
	    mtype, mtlen, has_vers, has_vals)) {
		tb->corrupt = true;
		return false;
	}
	tb->type = type != NULL ? tb_add(tb, type, tlen) : TB_NULL;
	tb->data = tb_add(tb, data != NULL ? data : "", len);
	tb->dlen = len;
	tb->meta = tb_add(tb, meta, mlen);
	tb->mtype = mtype != NULL ? tb_add(tb, mtype, mtlen) : TB_NULL;
	return true;
}

void
tb_reset(struct tbuf *tb)
{
	tb->len = 0;
	tb->nw = 0;
	tb->nc = 0;
	tb->thread = tb->ns = tb->id = tb->parent = TB_NULL;
	tb->type = tb->data = tb->meta = tb->mtype = TB_NULL;
	tb->dlen = 0;
	tb->created_ms = 0;
	tb->corrupt = false;
	tb->nomem = false;
}

size_t
tb_add(struct tbuf *tb, const void *p, size_t len)
{
	size_t off;

	if (p == NULL)
		return TB_NULL;
	if (len == SIZE_MAX || !tb_room(tb, len + 1))
		return TB_NULL;
	off = tb->len;
	memcpy(tb->b + off, p, len);
	tb->b[off + len] = '\0';
	tb->len += len + 1;
	return off;
}

size_t
tb_str(struct tbuf *tb, const char *s)
{
	return s != NULL ? tb_add(tb, s, strlen(s)) : TB_NULL;
}

/*
 * Room for one more entry in a pair of arrays that grow together (the
 * offsets read, and the entries a list hands out): *cap of each, n used.
 * false (and tb->nomem) when memory ran out; what was there is kept.
 */
static bool
tb_grow2(struct tbuf *tb, void **a, size_t asize, void **b, size_t bsize,
    size_t n, size_t *cap)
{
	size_t want;
	void *p;

	if (tb->nomem)
		return false;
	if (n < *cap)
		return true;
	want = *cap ? *cap * 2 : 16;
	if ((p = reallocarray(*a, want, asize)) == NULL)
		goto nomem;
	*a = p;
	if ((p = reallocarray(*b, want, bsize)) == NULL)
		goto nomem;
	*b = p;
	*cap = want;
	return true;
nomem:
	tb->nomem = true;
	return false;
}

void
tb_add_write(struct tbuf *tb, const char *task, size_t tlen, int idx,
    const char *channel, size_t clen, const char *type, size_t tylen,
    const void *value, size_t len, const char *path, size_t plen)
{
	struct tb_write *w;

	if (!tb_grow2(tb, (void **)&tb->w, sizeof(*tb->w), (void **)&tb->out,
	    sizeof(*tb->out), tb->nw, &tb->capw))
		return;
	w = &tb->w[tb->nw++];
	w->task = tb_add(tb, task, tlen);
	w->idx = idx;
	w->channel = tb_add(tb, channel, clen);
	w->type = tb_add(tb, type, tylen);
	w->value = tb_add(tb, value != NULL ? value : "", len);
	w->len = len;
	w->path = path != NULL ? tb_add(tb, path, plen) : tb_add(tb, "", 0);
}

void
tb_add_channel(struct tbuf *tb, const char *channel, size_t clen,
    const char *version, size_t vlen, const char *type, size_t tlen,
    const void *value, size_t len)
{
	struct tb_chan *c;

	if (!tb_grow2(tb, (void **)&tb->c, sizeof(*tb->c), (void **)&tb->cout,
	    sizeof(*tb->cout), tb->nc, &tb->capc))
		return;
	c = &tb->c[tb->nc++];
	c->channel = tb_add(tb, channel, clen);
	c->version = tb_add(tb, version, vlen);
	c->type = tb_add(tb, type, tlen);
	c->value = tb_add(tb, value != NULL ? value : "", len);
	c->len = len;
}

/* LangGraph's MemorySaver's order of writes: (task_path, task_id, idx). */
static int
tb_write_cmp(const struct tbuf *tb, const struct tb_write *a,
    const struct tb_write *b)
{
	int c;

	if ((c = strcmp(tb->b + a->path, tb->b + b->path)) != 0 ||
	    (c = strcmp(tb->b + a->task, tb->b + b->task)) != 0)
		return c;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/*
 * Insertion sort: the backends read writes in (task_id, idx) order, which
 * is already the order unless tasks have different paths.
 */
static void
tb_sort_writes(struct tbuf *tb)
{
	struct tb_write t;
	size_t i, j;

	for (i = 1; i < tb->nw; i++) {
		if (tb_write_cmp(tb, &tb->w[i - 1], &tb->w[i]) <= 0)
			continue;
		t = tb->w[i];
		for (j = i; j > 0 && tb_write_cmp(tb, &tb->w[j - 1], &t) > 0;
		    j--)
			tb->w[j] = tb->w[j - 1];
		tb->w[j] = t;
	}
}

#define P(off) ((off) == TB_NULL ? NULL : base + (off))

static void
tb_point_writes(const struct tbuf *tb, char *base, struct corral_write *ws)
{
	size_t i;

	for (i = 0; i < tb->nw; i++) {
		ws[i].task_id = P(tb->w[i].task);
		ws[i].channel = P(tb->w[i].channel);
		ws[i].idx = tb->w[i].idx;
		ws[i].type = P(tb->w[i].type);
		ws[i].value = P(tb->w[i].value);
		ws[i].len = tb->w[i].len;
		ws[i].task_path = P(tb->w[i].path);
	}
}

/* The tuple's pointers into base, which holds a copy of tb->b. */
static void
tb_point(const struct tbuf *tb, char *base, struct corral_tuple *t,
    struct corral_write *ws, struct corral_channel *cs)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->thread_id = P(tb->thread);
	t->checkpoint_ns = P(tb->ns);
	t->checkpoint_id = P(tb->id);
	t->parent_id = P(tb->parent);
	t->created_ms = tb->created_ms;
	t->corrupt = tb->corrupt;
	if (tb->corrupt)
		return; /* only the ids are to be trusted */
	t->type = P(tb->type);
	t->data = P(tb->data);
	t->len = tb->dlen;
	t->metadata = P(tb->meta);
	t->metadata_type = P(tb->mtype);
	t->writes = tb->nw > 0 ? ws : NULL;
	t->nwrites = tb->nw;
	tb_point_writes(tb, base, ws);
	t->channels = tb->nc > 0 ? cs : NULL;
	t->nchannels = tb->nc;
	for (i = 0; i < tb->nc; i++) {
		cs[i].channel = P(tb->c[i].channel);
		cs[i].version = P(tb->c[i].version);
		cs[i].type = P(tb->c[i].type);
		cs[i].value = P(tb->c[i].value);
		cs[i].len = tb->c[i].len;
	}
}
#undef P

int
tb_view(struct tbuf *tb, struct corral_tuple *t)
{
	if (tb->nomem)
		return CORRAL_ENOMEM;
	tb_sort_writes(tb);
	tb_point(tb, tb->b, t, tb->out, tb->cout);
	return CORRAL_OK;
}

int
tb_copy(struct tbuf *tb, struct corral_tuple **out)
{
	struct corral_tuple *t;
	struct corral_write *ws;
	struct corral_channel *cs;
	size_t head, nw, nc;

	*out = NULL;
	if (tb->nomem)
		return CORRAL_ENOMEM;
	tb_sort_writes(tb);
	nw = tb->corrupt ? 0 : tb->nw;
	nc = tb->corrupt ? 0 : tb->nc;
	head = sizeof(*t) + nw * sizeof(*ws) + nc * sizeof(*cs);
	if ((t = malloc(head + tb->len)) == NULL)
		return CORRAL_ENOMEM;
	ws = (struct corral_write *)(t + 1);
	cs = (struct corral_channel *)(ws + nw);
	memcpy((char *)t + head, tb->b, tb->len);
	tb_point(tb, (char *)t + head, t, ws, cs);
	*out = t;
	return CORRAL_OK;
}

int
tb_copy_writes(struct tbuf *tb, struct corral_write **out, size_t *n)
{
	struct corral_write *ws;
	size_t head;

	*out = NULL;
	*n = 0;
	if (tb->nomem)
		return CORRAL_ENOMEM;
	if (tb->nw == 0)
		return CORRAL_OK;
	tb_sort_writes(tb);
	head = tb->nw * sizeof(*ws);
	if ((ws = malloc(head + tb->len)) == NULL)
		return CORRAL_ENOMEM;
	memcpy((char *)ws + head, tb->b, tb->len);
	tb_point_writes(tb, (char *)ws + head, ws);
	*out = ws;
	*n = tb->nw;
	return CORRAL_OK;
}

void
tb_free(struct tbuf *tb)
{
	free(tb->b);
	free(tb->w);
	free(tb->out);
	free(tb->c);
	free(tb->cout);
	memset(tb, 0, sizeof(*tb));
}
