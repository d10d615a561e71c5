/* test_claims.c - the catalogue of claims (src/claims.c), the labs that
 * report them, and `proclab claims [--check] [--json]`. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <jansson.h>

#include "claims.h"
#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static size_t rows(void)
{
	size_t n = 0;

	while (claim_table[n].id != NULL)
		n++;
	return n;
}

static bool known_lab(const char *name)
{
	for (size_t i = 0; i < lab_count; i++)
		if (strcmp(lab_table[i]->name, name) == 0)
			return true;
	return false;
}

/* Call each() with every {key} of a template; false on a stray brace. */
static bool each_key(const char *t, void (*each)(const char *key, void *arg),
		     void *arg)
{
	for (const char *p = t; *p != '\0'; p++) {
		const char *end;
		char key[64];

		if (*p == '}')
			return false;
		if (*p != '{')
			continue;
		end = strchr(p, '}');
		if (end == NULL || end == p + 1 ||
		    (size_t)(end - p) >= sizeof(key) ||
		    memchr(p + 1, '{', (size_t)(end - p - 1)) != NULL)
			return false;
		snprintf(key, sizeof(key), "%.*s", (int)(end - p - 1), p + 1);
		key[strcspn(key, ":")] = '\0';        /* a format suffix */
		if (each != NULL)
			each(key, arg);
		p = end;
	}
	return true;
}

START_TEST(catalogue_rows)
{
	size_t n = rows();

	ck_assert_int_ge(n, 20);
	for (size_t i = 0; i < n; i++) {
		const struct claim_def *c = &claim_table[i];

		ck_assert_msg(source_find(c->source) != NULL,
			      "%s: unknown source %s", c->id, c->source);
		ck_assert_msg(known_lab(c->lab), "%s: unknown lab %s", c->id,
			      c->lab);
		ck_assert_msg(strlen(c->id) <= 24, "%s: id too long", c->id);
		ck_assert_msg(c->claim[0] != '\0' && c->evidence[0] != '\0',
			      "%s: empty", c->id);
		ck_assert_msg(each_key(c->evidence, NULL, NULL),
			      "%s: bad template '%s'", c->id, c->evidence);
		ck_assert_ptr_eq(claim_find(c->id), c);
		for (size_t j = i + 1; j < n; j++)
			ck_assert_msg(strcmp(c->id, claim_table[j].id) != 0,
				      "id %s twice", c->id);
	}
	for (const struct source *s = claim_sources; s->id != NULL; s++) {
		ck_assert_ptr_eq(source_find(s->id), s);
		ck_assert_ptr_null(strcasestr(s->title, "seed"));
	}
	ck_assert_ptr_null(claim_find("no-such-claim"));
	ck_assert_ptr_null(source_find("no-such-source"));
	ck_assert_str_eq(verdict_name(CLAIM_HOLDS), "holds");
	ck_assert_str_eq(verdict_name(CLAIM_FAILS), "does not hold");
	ck_assert_str_eq(verdict_name(CLAIM_DEPENDS), "depends");
}
END_TEST

struct keys_ctx {
	const json_t *ev;
	const char *id;
};

static void key_present(const char *key, void *arg)
{
	const struct keys_ctx *k = arg;

	ck_assert_msg(json_object_get(k->ev, key) != NULL,
		      "%s: the template names {%s}; the lab does not pass it",
		      k->id, key);
}

/* Run every lab that tests a claim, with --json: each row's claim event
 * comes, once, with the catalogue's wording and every field its evidence
 * template names. */
START_TEST(evidence_fields_from_the_labs)
{
	int left = 0;
	size_t n = rows();
	int *seen = calloc(n, sizeof(*seen));

	ck_assert_ptr_nonnull(seen);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	for (size_t i = 0; i < n; i++) {
		const struct claim_def *c = &claim_table[i];
		const char *argv[12];
		char args[128], *save, *line;
		struct outcome o;
		size_t k = 0;
		bool done = false;

		for (size_t j = 0; j < i; j++)
			if (strcmp(claim_table[j].lab, c->lab) == 0 &&
			    strcmp(claim_table[j].args ? claim_table[j].args
				   : "", c->args ? c->args : "") == 0)
				done = true;
		if (done)
			continue;
		snprintf(args, sizeof(args), "%s", c->args ? c->args : "");
		argv[k++] = c->lab;
		for (char *a = strtok_r(args, " ", &save); a && k < 9;
		     a = strtok_r(NULL, " ", &save))
			argv[k++] = a;
		argv[k++] = "--json";
		argv[k] = NULL;
		run_proclab(&o, NULL, argv);
		ck_assert_msg(o.code == 0, "%s: exit %d: %s", c->lab, o.code,
			      o.err);
		for (line = strtok_r(o.out, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			json_t *ev = json_loads(line, JSON_REJECT_DUPLICATES,
						NULL);
			const struct claim_def *d;
			const char *v;

			ck_assert_ptr_nonnull(ev);
			if (strcmp(json_string_value(json_object_get(ev,
					"event")), "claim") != 0) {
				json_decref(ev);
				continue;
			}
			d = claim_find(json_string_value(json_object_get(ev,
								"id")));
			ck_assert_msg(d != NULL, "%s: a claim not in the "
				      "catalogue: %s", c->lab, line);
			ck_assert_str_eq(d->lab, c->lab);
			seen[d - claim_table]++;
			ck_assert_str_eq(json_string_value(json_object_get(ev,
					 "source")),
					 source_find(d->source)->title);
			ck_assert_str_eq(json_string_value(json_object_get(ev,
					 "claim")), d->claim);
			v = json_string_value(json_object_get(ev, "verdict"));
			ck_assert_msg(v != NULL && (strcmp(v, "holds") == 0 ||
				      strcmp(v, "does not hold") == 0 ||
				      strcmp(v, "depends") == 0),
				      "%s: verdict", d->id);
			ck_assert(strcmp(v, "depends") == 0
				  ? json_is_null(json_object_get(ev, "holds"))
				  : json_is_boolean(json_object_get(ev, "holds")));
			each_key(d->evidence, key_present,
				 &(struct keys_ctx){ ev, d->id });
			json_decref(ev);
		}
		/* orphans a lab hands to PID 1 (tree's --reaper init) come
		 * to this test, a subreaper: reap them, as PID 1 would */
		for (int t = 0; t < 4; t++) {
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			if ((left = survivors(o.sid)) == 0)
				break;
		}
		ck_assert_int_eq(left, 0);
		outcome_free(&o);
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(seen[i] == 1, "%s reported %d times",
			      claim_table[i].id, seen[i]);
	free(seen);
}
END_TEST

/* Every line of the text fits 80 columns (the output is ASCII). */
static void fits_80(const char *out)
{
	for (const char *l = out; *l != '\0';) {
		size_t len = strcspn(l, "\n");

		ck_assert_msg(len <= 80, "%zu columns: %.*s", len, (int)len, l);
		l += len + (l[len] == '\n');
	}
}

START_TEST(list_command)
{
	struct outcome o;
	size_t n = rows(), lines = 0;
	char *save, *line;

	run_proclab(&o, NULL, ARGV("claims"));
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	ck_assert_str_eq(o.err, "");
	fits_80(o.out);
	for (size_t i = 0; i < n; i++) {
		char word[64];

		snprintf(word, sizeof(word), "  %s ", claim_table[i].id);
		ck_assert_msg(strstr(o.out, word) != NULL, "no %s", word);
	}
	ck_assert_ptr_null(strcasestr(o.out, "seed"));
	outcome_free(&o);

	run_proclab(&o, NULL, ARGV("claims", "--json"));
	ck_assert_int_eq(o.code, 0);
	for (line = strtok_r(o.out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), lines++) {
		json_t *c = json_loads(line, 0, NULL);

		ck_assert_ptr_nonnull(c);
		ck_assert_uint_lt(lines, n);
		ck_assert_str_eq(json_string_value(json_object_get(c, "id")),
				 claim_table[lines].id);
		ck_assert_str_eq(json_string_value(json_object_get(c, "lab")),
				 claim_table[lines].lab);
		json_decref(c);
	}
	ck_assert_uint_eq(lines, n);
	outcome_free(&o);

	run_proclab(&o, NULL, ARGV("claims", "--help"));
	ck_assert_int_eq(o.code, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "--check"));
	fits_80(o.out);
	outcome_free(&o);
	run_proclab(&o, NULL, ARGV("help", "claims"));
	ck_assert_int_eq(o.code, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "usage: proclab claims"));
	outcome_free(&o);
	run_proclab(&o, NULL, ARGV("--help"));
	ck_assert_int_eq(o.code, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "proclab claims [--check] [--json]"));
	outcome_free(&o);
	run_proclab(&o, NULL, ARGV("claims", "--nosuch"));
	ck_assert_int_eq(o.code, 2);
	ck_assert_str_eq(o.out, "");
	ck_assert_ptr_nonnull(strstr(o.err, "'--nosuch'"));
	outcome_free(&o);
	run_proclab(&o, NULL, ARGV("claims", "extra"));
	ck_assert_int_eq(o.code, 2);
	outcome_free(&o);
}
END_TEST

START_TEST(check_command)
{
	struct outcome o;
	size_t n = rows(), lines = 0;
	char *save, *line;

	run_proclab(&o, NULL, ARGV("claims", "--check", "--json"));
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	for (line = strtok_r(o.out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), lines++) {
		json_t *c = json_loads(line, 0, NULL);
		const char *v;

		ck_assert_ptr_nonnull(c);
		ck_assert_uint_lt(lines, n);
		ck_assert_str_eq(json_string_value(json_object_get(c, "id")),
				 claim_table[lines].id);
		ck_assert_msg(json_is_true(json_object_get(c, "reached")),
			      "not reached: %s", line);
		v = json_string_value(json_object_get(c, "verdict"));
		ck_assert_msg(v != NULL && (strcmp(v, "holds") == 0 ||
			      strcmp(v, "does not hold") == 0 ||
			      strcmp(v, "depends") == 0), "verdict: %s", line);
		ck_assert_ptr_null(strchr(json_string_value(
			json_object_get(c, "evidence")), '{'));
		json_decref(c);
	}
	ck_assert_uint_eq(lines, n);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);

	run_proclab(&o, NULL, ARGV("claims", "--check"));
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	fits_80(o.out);
	ck_assert_ptr_nonnull(strstr(o.out, " 0 not reached"));
	ck_assert_ptr_null(strstr(o.out, "not reached "));
	outcome_free(&o);
}
END_TEST

/* No file a user reads names an article by its number. */
static void no_seed_in(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name), sl = strlen(suffix);
		char path[512], *text = NULL;
		size_t size = 0;
		FILE *f;

		if (e->d_name[0] == '.' || len < sl ||
		    strcmp(e->d_name + len - sl, suffix) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;       /* a directory */
		if (getdelim(&text, &size, '\0', f) > 0) {
			ck_assert_msg(strcasestr(text, "seed 00") == NULL,
				      "%s says \"seed 00\"", path);
			ck_assert_msg(strcasestr(text, "seeds 00") == NULL,
				      "%s says \"seeds 00\"", path);
		}
		free(text);
		fclose(f);
	}
	closedir(d);
}

START_TEST(no_seed_numbers)
{
	no_seed_in(".", ".md");
	no_seed_in("docs", ".md");
	no_seed_in("docs/completion", "");
	no_seed_in("labs", ".md");
	no_seed_in("labs", ".c");
	no_seed_in("man", ".1");
	no_seed_in("src", ".c");
	no_seed_in("include", ".h");
}
END_TEST

Suite *make_claims_suite(void)
{
	Suite *s = suite_create("claims");
	TCase *t = tcase_create("claims");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, catalogue_rows);
	tcase_add_test(t, evidence_fields_from_the_labs);
	tcase_add_test(t, list_command);
	tcase_add_test(t, check_command);
	tcase_add_test(t, no_seed_numbers);
	suite_add_tcase(s, t);
	return s;
}
