/*
 * dict.c - interning of byte strings: resource names and other keys.
 *
 * Strings live in arena chunks that never move, so the pointers handed out
 * stay valid until the dictionary is freed. Lookup is an open-addressing
 * table of ids (linear probing, at most half full) hashed with XXH3.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "shd.h"

#define CHUNK (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};

struct shd_dict {
	char **str;		/* (count) */
	uint32_t *len;		/* (count) */
	uint64_t *hash;		/* (count) */
	size_t count, cap;
	uint32_t *slot;		/* (nslot) id + 1, 0 = empty */
	size_t nslot;
	struct chunk *chunks;
};

struct shd_dict *shd_dict_new(void)
{
	struct shd_dict *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->nslot = 64;
	d->slot = calloc(d->nslot, sizeof(*d->slot));
	if (!d->slot) {
		free(d);
		return NULL;
	}
	return d;
}

void shd_dict_free(struct shd_dict *d)
{
	if (!d)
		return;
	while (d->chunks) {
		struct chunk *c = d->chunks;
		d->chunks = c->next;
		free(c);
	}
	free(d->str);
	free(d->len);
	free(d->hash);
	free(d->slot);
	free(d);
}

static char *arena_copy(struct shd_dict *d, const char *s, size_t len)
{
	struct chunk *c = d->chunks;

	if (!c || c->size - c->used < len + 1) {
		size_t size = len + 1 > CHUNK ? len + 1 : CHUNK;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = d->chunks;
		d->chunks = c;
	}
	char *p = c->data + c->used;
	memcpy(p, s, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

static int grow_slots(struct shd_dict *d)
{
	size_t n = d->nslot * 2;
	uint32_t *slot = calloc(n, sizeof(*slot));

	if (!slot)
		return SHD_ENOMEM;
	for (size_t id = 0; id < d->count; id++) {
		size_t i = d->hash[id] & (n - 1);
		while (slot[i])
			i = (i + 1) & (n - 1);
		slot[i] = (uint32_t)id + 1;
	}
	free(d->slot);
	d->slot = slot;
	d->nslot = n;
	return 0;
}

/* The slot where S is, or the empty slot where it would go. */
static size_t probe(const struct shd_dict *d, const char *s, size_t len,
		    uint64_t h)
{
	size_t i = h & (d->nslot - 1);

	for (;;) {
		uint32_t v = d->slot[i];
		if (!v)
			return i;
		v--;
		if (d->hash[v] == h && d->len[v] == len &&
		    memcmp(d->str[v], s, len) == 0)
			return i;
		i = (i + 1) & (d->nslot - 1);
	}
}

int shd_dict_find(const struct shd_dict *d, const char *s, size_t len,
		  uint32_t *id)
{
	size_t i = probe(d, s, len, XXH3_64bits(s, len));

	if (!d->slot[i])
		return SHD_EINVAL;
	*id = d->slot[i] - 1;
	return 0;
}

int shd_dict_intern(struct shd_dict *d, const char *s, size_t len,
		    uint32_t *id)
{
	uint64_t h = XXH3_64bits(s, len);
	size_t i = probe(d, s, len, h);

	if (d->slot[i]) {
		*id = d->slot[i] - 1;
		return 0;
	}
	if (memchr(s, '\0', len) || len > UINT32_MAX || d->count >= UINT32_MAX - 1)
		return SHD_EINVAL;
	if ((d->count + 1) * 2 > d->nslot) {
		if (grow_slots(d) < 0)
			return SHD_ENOMEM;
		i = probe(d, s, len, h);
	}
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		char **str = realloc(d->str, cap * sizeof(*str));
		if (!str)
			return SHD_ENOMEM;
		d->str = str;
		uint32_t *ln = realloc(d->len, cap * sizeof(*ln));
		if (!ln)
			return SHD_ENOMEM;
		d->len = ln;
		uint64_t *hs = realloc(d->hash, cap * sizeof(*hs));
		if (!hs)
			return SHD_ENOMEM;
		d->hash = hs;
		d->cap = cap;
	}
	char *p = arena_copy(d, s, len);
	if (!p)
		return SHD_ENOMEM;
	d->str[d->count] = p;
	d->len[d->count] = (uint32_t)len;
	d->hash[d->count] = h;
	d->slot[i] = (uint32_t)d->count + 1;
	*id = (uint32_t)d->count++;
	return 0;
}

const char *shd_dict_str(const struct shd_dict *d, uint32_t id, size_t *len)
{
	if (len)
		*len = d->len[id];
	return d->str[id];
}

size_t shd_dict_count(const struct shd_dict *d)
{
	return d->count;
}

unsigned shd_shard_of(const char *key, size_t len, unsigned n)
{
	return n ? (unsigned)(XXH3_64bits(key, len) % n) : 0;
}

int shd_shard_parse(const char *s, unsigned *shard, unsigned *n)
{
	unsigned long k, m;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return SHD_EINVAL;
	k = strtoul(s, &end, 10);
	if (*end != '/' || end[1] < '0' || end[1] > '9')
		return SHD_EINVAL;
	m = strtoul(end + 1, &end, 10);
	if (*end || k < 1 || m < 1 || k > m || m > 65536)
		return SHD_EINVAL;
	*shard = (unsigned)(k - 1);
	*n = (unsigned)m;
	return 0;
}
