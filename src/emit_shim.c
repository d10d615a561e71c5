/* emit_shim.c - TEMPORARY: DELETE AT MERGE.
 *
 * A stand-in for emit_sentence(), emit() and emit_form() (emit.h), which
 * another branch implements in src/emit.c, so that claim() can be built
 * and tested before that lands.  It renders a template's {key}s with the
 * values as they are and hands the line to emitf(), which does JSON and
 * the --stable view from the fields; text-only fields are left out of
 * those.  No plurals, no per-field --stable text. */
#include <stdio.h>
#include <string.h>

#include "emit.h"

static size_t put(char *dst, size_t size, size_t len, const char *s, size_t n)
{
	for (size_t i = 0; i < n && len + 1 < size; i++)
		dst[len++] = s[i];
	dst[len < size ? len : size - 1] = '\0';
	return len;
}

static void render(const char *t, const struct field *f, char *dst,
		   size_t size)
{
	size_t len = 0;
	char v[64];

	dst[0] = '\0';
	while (*t != '\0') {
		const char *end = strchr(t, '}');
		const struct field *x = f;
		size_t klen;

		if (t[0] != '{' || t[1] == '{' || end == NULL) {
			len = put(dst, size, len, t, 1);
			t += t[0] == '{' && t[1] == '{' ? 2 :
			     t[0] == '}' && t[1] == '}' ? 2 : 1;
			continue;
		}
		klen = (size_t)(end - t - 1);
		while (x->type != FT_END && (strlen(x->key) != klen ||
					     strncmp(x->key, t + 1, klen) != 0))
			x++;
		switch (x->type) {
		case FT_INT: case FT_PID:
			snprintf(v, sizeof(v), "%lld", x->i);
			break;
		case FT_NUM:
			snprintf(v, sizeof(v), "%.1f", x->d);
			break;
		case FT_BOOL:
			snprintf(v, sizeof(v), "%s", x->b ? "yes" : "no");
			break;
		case FT_CHAR:
			snprintf(v, sizeof(v), "%c", x->c);
			break;
		case FT_STR: case FT_PIDS:
			len = put(dst, size, len, x->s ? x->s : "none",
				  strlen(x->s ? x->s : "none"));
			v[0] = '\0';
			break;
		default:
			snprintf(v, sizeof(v), "%s", "none");
		}
		len = put(dst, size, len, v, strlen(v));
		t = end + 1;
	}
}

void emit_sentence(struct run *r, const struct sentence *s,
		   const struct field *fields)
{
	struct field json[64];
	char text[2048];
	size_t n = 0;

	for (const struct field *f = fields; f->type != FT_END && n < 63; f++)
		if (!f->text_only)
			json[n++] = *f;
	json[n] = (struct field){ .type = FT_END };
	render(s->one, fields, text, sizeof(text));
	emitf(r, s->event, json, "%s", text);
}

void emit_form(struct run *r, const char *event, const char *form,
	       const struct field *fields)
{
	emit_sentence(r, &(const struct sentence){ .event = event,
						    .form = form,
						    .one = event }, fields);
}

void emit(struct run *r, const char *event, const struct field *fields)
{
	emit_form(r, event, NULL, fields);
}
