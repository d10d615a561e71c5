/* test_escape.c - JSON and terminal escaping of hostile bytes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "suites.h"
#include "testutil.h"

typedef void (*writer)(FILE *, const char *, size_t);

static char *render(writer w, const char *s, size_t len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	ck_assert_ptr_nonnull(f);
	w(f, s, len);
	fclose(f);
	return buf;
}

static void json_is(const char *in, size_t len, const char *want)
{
	char *got = render(json_put_string, in, len);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(json_escapes)
{
	json_is("plain", 5, "\"plain\"");
	json_is("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	json_is("\n\t\r\b\x01\x1f\x7f", 7, "\"\\n\\t\\r\\u0008\\u0001\\u001f\\u007f\"");
	json_is("nul\0in", 6, "\"nul\\u0000in\"");
	json_is("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80", 14,
		"\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"");
}
END_TEST

START_TEST(json_invalid_utf8)
{
	json_is("\xff", 1, "\"\\ufffd\"");
	json_is("\xc3", 1, "\"\\ufffd\"");                /* cut short */
	json_is("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");     /* overlong '/' */
	json_is("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	json_is("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	json_is("a\xe4\xb8", 3, "\"a\\ufffd\\ufffd\"");
}
END_TEST

/* Every byte string of length <= 2 renders as a JSON string our strict
 * reader accepts. */
START_TEST(json_always_valid)
{
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++) {
			char in[2] = { (char)a, (char)b }, line[64];
			char *s = render(json_put_string, in, 2);
			struct jobj o;
			snprintf(line, sizeof(line), "{\"k\":%s}", s);
			ck_assert_msg(json_parse_line(line, strlen(line), &o) == 1,
				      "bytes %02x %02x gave %s", a, b, s);
			free(s);
		}
}
END_TEST

START_TEST(text_escapes)
{
	char *got = render(text_put_string, "a\nb\\c\x1b[31m\xff\xc2\x9b ok \xc3\xa9", 19);
	ck_assert_str_eq(got, "a\\nb\\\\c\\x1b[31m\\xff\\xc2\\x9b ok \xc3\xa9");
	free(got);
}
END_TEST

START_TEST(utf8_lengths)
{
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"A", 1), 1);
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xc3\xa9", 1), 0);
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xe0\x80\x80", 3), 0);
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\x80", 1), 0);
}
END_TEST

Suite *make_escape_suite(void)
{
	Suite *s = suite_create("escape");
	TCase *tc = tcase_create("escape");

	tcase_add_test(tc, json_escapes);
	tcase_add_test(tc, json_invalid_utf8);
	tcase_add_test(tc, json_always_valid);
	tcase_add_test(tc, text_escapes);
	tcase_add_test(tc, utf8_lengths);
	suite_add_tcase(s, tc);
	return s;
}
