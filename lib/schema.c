/*
 * schema.c - column types, the schema of a stream, and frames (batches of
 * rows held column by column).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shd.h"

static const char *type_names[] = {
	[SHD_TIME] = "time", [SHD_KEY] = "key", [SHD_F64] = "f64",
	[SHD_F32] = "f32", [SHD_I64] = "i64", [SHD_U8] = "u8",
};

const char *shd_type_name(enum shd_type t)
{
	if ((int)t < SHD_TIME || (int)t > SHD_U8)
		return NULL;
	return type_names[t];
}

enum shd_type shd_type_parse(const char *name)
{
	for (int t = SHD_TIME; t <= SHD_U8; t++)
		if (strcmp(name, type_names[t]) == 0)
			return (enum shd_type)t;
	return 0;
}

size_t shd_type_size(enum shd_type t)
{
	switch (t) {
	case SHD_TIME: case SHD_I64: case SHD_F64: return 8;
	case SHD_KEY: case SHD_F32: return 4;
	case SHD_U8: return 1;
	}
	return 0;
}

void shd_schema_init(struct shd_schema *s)
{
	memset(s, 0, sizeof(*s));
}

void shd_schema_release(struct shd_schema *s)
{
	for (size_t j = 0; j < s->ncols; j++) {
		free(s->cols[j].name);
		free(s->cols[j].unit);
		free(s->cols[j].role);
	}
	free(s->cols);
	for (size_t k = 0; k < s->nmeta; k++) {
		free(s->meta_key[k]);
		free(s->meta_val[k]);
	}
	free(s->meta_key);
	free(s->meta_val);
	shd_schema_init(s);
}

int shd_schema_add(struct shd_schema *s, const char *name, enum shd_type type,
		   const char *unit, const char *role)
{
	if (!name || !*name || !shd_type_name(type) ||
	    shd_schema_find(s, name) >= 0)
		return SHD_EINVAL;
	struct shd_column *cols = realloc(s->cols, (s->ncols + 1) * sizeof(*cols));
	if (!cols)
		return SHD_ENOMEM;
	s->cols = cols;
	struct shd_column *c = &cols[s->ncols];
	c->name = strdup(name);
	c->unit = strdup(unit ? unit : "");
	c->role = strdup(role ? role : "");
	c->type = type;
	if (!c->name || !c->unit || !c->role) {
		free(c->name);
		free(c->unit);
		free(c->role);
		return SHD_ENOMEM;
	}
	s->ncols++;
	return 0;
}

int shd_schema_find(const struct shd_schema *s, const char *name)
{
	for (size_t j = 0; j < s->ncols; j++)
		if (strcmp(s->cols[j].name, name) == 0)
			return (int)j;
	return -1;
}

int shd_schema_set_meta(struct shd_schema *s, const char *key, const char *val)
{
	char *v = strdup(val);

	if (!v)
		return SHD_ENOMEM;
	for (size_t k = 0; k < s->nmeta; k++) {
		if (strcmp(s->meta_key[k], key) == 0) {
			free(s->meta_val[k]);
			s->meta_val[k] = v;
			return 0;
		}
	}
	char *kk = strdup(key);
	char **keys = realloc(s->meta_key, (s->nmeta + 1) * sizeof(*keys));
	if (keys)
		s->meta_key = keys;
	char **vals = realloc(s->meta_val, (s->nmeta + 1) * sizeof(*vals));
	if (vals)
		s->meta_val = vals;
	if (!kk || !keys || !vals) {
		free(kk);
		free(v);
		return SHD_ENOMEM;
	}
	s->meta_key[s->nmeta] = kk;
	s->meta_val[s->nmeta] = v;
	s->nmeta++;
	return 0;
}

const char *shd_schema_meta(const struct shd_schema *s, const char *key)
{
	for (size_t k = 0; k < s->nmeta; k++)
		if (strcmp(s->meta_key[k], key) == 0)
			return s->meta_val[k];
	return NULL;
}

int shd_schema_meta_num(const struct shd_schema *s, const char *key,
			double lo, double hi, double *v)
{
	const char *t = shd_schema_meta(s, key);
	char *end;
	double x;

	if (!t)
		return 0;
	errno = 0;
	x = strtod(t, &end);
	if (!*t || *end || errno || !(x >= lo && x <= hi))
		return SHD_EFORMAT;
	*v = x;
	return 0;
}

int shd_schema_copy(struct shd_schema *dst, const struct shd_schema *src)
{
	int rc = 0;

	shd_schema_init(dst);
	for (size_t j = 0; j < src->ncols && !rc; j++)
		rc = shd_schema_add(dst, src->cols[j].name, src->cols[j].type,
				    src->cols[j].unit, src->cols[j].role);
	for (size_t k = 0; k < src->nmeta && !rc; k++)
		rc = shd_schema_set_meta(dst, src->meta_key[k], src->meta_val[k]);
	if (rc)
		shd_schema_release(dst);
	return rc;
}

int shd_schema_same_columns(const struct shd_schema *a,
			    const struct shd_schema *b)
{
	if (a->ncols != b->ncols)
		return 0;
	for (size_t j = 0; j < a->ncols; j++)
		if (a->cols[j].type != b->cols[j].type ||
		    strcmp(a->cols[j].name, b->cols[j].name) != 0)
			return 0;
	return 1;
}

int shd_frame_init(struct shd_frame *f, const struct shd_schema *s,
		   struct shd_dict *dict)
{
	memset(f, 0, sizeof(*f));
	f->dict = dict;
	f->ncols = s->ncols;
	f->types = calloc(s->ncols ? s->ncols : 1, sizeof(*f->types));
	f->col = calloc(s->ncols ? s->ncols : 1, sizeof(*f->col));
	if (!f->types || !f->col) {
		shd_frame_release(f);
		return SHD_ENOMEM;
	}
	for (size_t j = 0; j < s->ncols; j++)
		f->types[j] = s->cols[j].type;
	return 0;
}

void shd_frame_release(struct shd_frame *f)
{
	if (f->col)
		for (size_t j = 0; j < f->ncols; j++)
			free(f->col[j]);
	free(f->col);
	free(f->types);
	memset(f, 0, sizeof(*f));
}

int shd_frame_reserve(struct shd_frame *f, size_t rows)
{
	if (rows <= f->cap)
		return 0;
	size_t cap = f->cap ? f->cap : 16;
	while (cap < rows)
		cap *= 2;
	for (size_t j = 0; j < f->ncols; j++) {
		void *p = realloc(f->col[j], cap * shd_type_size(f->types[j]));
		if (!p)
			return SHD_ENOMEM;
		f->col[j] = p;
	}
	f->cap = cap;
	return 0;
}
