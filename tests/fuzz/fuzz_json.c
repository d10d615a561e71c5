/* fuzz_json.c - json_put_string and text_put_string on any bytes.
 *
 * Both writers take process names and file contents from /proc, which
 * anyone can set.  Properties:
 *   JSON: the output is one valid JSON string (RFC 8259, read back by the
 *         strict reader below), valid UTF-8, without raw control bytes,
 *         and it decodes to the input with each byte that does not start
 *         a well-formed UTF-8 sequence replaced by U+FFFD.
 *   text: no byte below 0x20, no DEL, no C1 control (U+0080..U+009F),
 *         valid UTF-8, and undoing the escapes gives back the input
 *         exactly (so two different names never look alike).
 */
#include "escape.h"
#include "fuzz.h"

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at s (avail bytes). */
static long hex4(const uint8_t *s, size_t avail)
{
	long v = 0;

	if (avail < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Read back one JSON string that must fill all of s; abort() on anything
 * RFC 8259 rejects, and on a raw DEL (the writer promises to escape it).
 * The decoded bytes go to out, their count is returned. */
static size_t json_read_string(const uint8_t *s, size_t len, uint8_t *out)
{
	size_t i = 1, o = 0;

	check(len >= 2 && s[0] == '"');
	for (;;) {
		check(i < len);
		uint8_t c = s[i];
		if (c == '"') {
			check(i == len - 1);    /* nothing after the string */
			return o;
		}
		check(c >= 0x20 && c != 0x7f);
		if (c != '\\') {
			size_t n = wf_utf8_len(s + i, len - i);
			check(n > 0);
			memcpy(out + o, s + i, n);
			o += n, i += n;
			continue;
		}
		check(i + 1 < len);
		c = s[i + 1];
		i += 2;
		switch (c) {
		case '"': case '\\': case '/': out[o++] = c; continue;
		case 'b': out[o++] = '\b'; continue;
		case 'f': out[o++] = '\f'; continue;
		case 'n': out[o++] = '\n'; continue;
		case 'r': out[o++] = '\r'; continue;
		case 't': out[o++] = '\t'; continue;
		case 'u': break;
		default: check(!"unknown JSON escape");
		}
		long cp = hex4(s + i, len - i);
		check(cp >= 0);
		i += 4;
		check(cp < 0xdc00 || cp > 0xdfff);      /* lone low surrogate */
		if (cp >= 0xd800 && cp <= 0xdbff) {
			check(i + 1 < len && s[i] == '\\' && s[i + 1] == 'u');
			long lo = hex4(s + i + 2, len - i - 2);
			check(lo >= 0xdc00 && lo <= 0xdfff);
			i += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		o += put_utf8(out + o, (uint32_t)cp);
	}
}

static void fuzz_json(const uint8_t *in, size_t len)
{
	struct capture c;
	uint8_t *got, *want;
	size_t ngot, nwant = 0;

	capture_open(&c);
	json_put_string(c.f, (const char *)in, len);
	capture_close(&c);

	check(c.len <= 2 + 6 * len);
	check(wf_utf8((const uint8_t *)c.buf, c.len));
	got = malloc(c.len + 1);
	want = malloc(3 * len + 1);
	check(got != NULL && want != NULL);
	ngot = json_read_string((const uint8_t *)c.buf, c.len, got);

	/* what it must decode to */
	for (size_t i = 0, n; i < len; i += n) {
		n = wf_utf8_len(in + i, len - i);
		if (n == 0) {
			memcpy(want + nwant, "\xef\xbf\xbd", 3);
			nwant += 3;
			n = 1;
		} else {
			memcpy(want + nwant, in + i, n);
			nwant += n;
		}
	}
	check(ngot == nwant && memcmp(got, want, ngot) == 0);
	free(got);
	free(want);
	free(c.buf);
}

static void fuzz_text(const uint8_t *in, size_t len)
{
	struct capture c;
	const uint8_t *s;
	uint8_t *back;
	size_t i, o = 0;

	capture_open(&c);
	text_put_string(c.f, (const char *)in, len);
	capture_close(&c);
	s = (const uint8_t *)c.buf;

	check(c.len <= 4 * len);
	check(wf_utf8(s, c.len));
	for (i = 0; i < c.len; i++) {
		check(s[i] >= 0x20 && s[i] != 0x7f);
		check(!(s[i] == 0xc2 && i + 1 < c.len && s[i + 1] < 0xa0));
	}

	back = malloc(c.len + 1);
	check(back != NULL);
	for (i = 0; i < c.len; ) {
		if (s[i] != '\\') {
			back[o++] = s[i++];
			continue;
		}
		check(i + 1 < c.len);
		switch (s[i + 1]) {
		case '\\': back[o++] = '\\'; i += 2; continue;
		case 'n': back[o++] = '\n'; i += 2; continue;
		case 't': back[o++] = '\t'; i += 2; continue;
		case 'r': back[o++] = '\r'; i += 2; continue;
		case 'x': break;
		default: check(!"unknown text escape");
		}
		check(i + 3 < c.len && hexval(s[i + 2]) >= 0 &&
		      hexval(s[i + 3]) >= 0);
		back[o++] = (uint8_t)(hexval(s[i + 2]) << 4 | hexval(s[i + 3]));
		i += 4;
	}
	check(o == len && memcmp(back, in, len) == 0);
	free(back);
	free(c.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_json(data, size);
	fuzz_text(data, size);
	return 0;
}
