/*
 * nametab.c: a set of names with an index each, hashed: the lookups by
 * name that would otherwise make loading a fleet file, starting a fleet or
 * reloading it quadratic (config.c's sections, clusters and agents; the
 * fleet's agents and clusters by name, fleet_find_rt; the state database's
 * queued rows).  Open addressing, linear probing, at most half full; no
 * removal (a user that forgets starts a table afresh).
 */
#include <stdlib.h>
#include <string.h>

#include "corrald.h"

/* FNV-1a. */
static uint64_t
name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void
nametab_free(struct nametab *t)
{
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof(*t));
}

/* The slot of key, or of the empty slot where it would go. */
static size_t
nametab_slot(const struct nametab *t, const char *key)
{
	size_t i = (size_t)name_hash(key) & t->mask;

	while (t->keys[i] != NULL && strcmp(t->keys[i], key) != 0)
		i = (i + 1) & t->mask;
	return i;
}

ssize_t
nametab_get(const struct nametab *t, const char *key)
{
	size_t i;

	if (t->mask == 0)
		return -1;
	i = nametab_slot(t, key);
	return t->keys[i] != NULL ? (ssize_t)t->vals[i] : -1;
}

bool
nametab_put(struct nametab *t, const char *key, size_t val)
{
	size_t i, j, oldsize = t->mask + 1;
	const char **okeys = t->keys;
	size_t *ovals = t->vals;

	if (t->mask == 0 || (t->n + 1) * 2 > t->mask + 1) {
		t->mask = t->mask == 0 ? 7 : t->mask * 2 + 1;
		t->keys = xcalloc(t->mask + 1, sizeof(*t->keys));
		t->vals = xcalloc(t->mask + 1, sizeof(*t->vals));
		for (j = 0; okeys != NULL && j < oldsize; j++) {
			if (okeys[j] == NULL)
				continue;
			i = nametab_slot(t, okeys[j]);
			t->keys[i] = okeys[j];
			t->vals[i] = ovals[j];
		}
		free(okeys);
		free(ovals);
	}
	i = nametab_slot(t, key);
	if (t->keys[i] != NULL)
		return false;
	t->keys[i] = key;
	t->vals[i] = val;
	t->n++;
	return true;
}
