/* fuzz_stat.c - procfs_parse_stat on hostile and on well-formed text.
 *
 * Each input is used twice:
 *  1. as it is, as the text of /proc/PID/stat: the parser must not crash,
 *     and what it accepts must make sense (comm NUL-terminated within
 *     PROC_COMM_MAX, copied from the text after the '(', a state that is
 *     one printable non-blank character);
 *  2. as choices that build a line the way the kernel's do_task_stat()
 *     prints it (fs/proc/array.c: any comm bytes but NUL, every field in
 *     its own type and range): that line must parse, give back every
 *     field and the comm (cut to PROC_COMM_MAX - 1 bytes), and every
 *     prefix of it that ends before the field after rss must be refused.
 */
#include "procfs.h"
#include "fuzz.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>

static void fuzz_raw(const uint8_t *data, size_t size)
{
	struct proc_stat st;
	const char *open;
	size_t n;

	if (procfs_parse_stat((const char *)data, size, &st) < 0)
		return;
	n = strnlen(st.comm, sizeof(st.comm));
	check(n < sizeof(st.comm));
	open = memchr(data, '(', size);
	check(open != NULL);
	check(memcmp(st.comm, open + 1, n) == 0);
	check(st.state > ' ' && st.state < 0x7f);
}

struct line {
	char text[2048];
	size_t len;
	size_t close;           /* offset of the ')' that ends comm */
	size_t after_rss;       /* length of the shortest prefix that parses */
};

static void put(struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
	check(n >= 0 && (size_t)n < sizeof(l->text) - l->len);
	l->len += (size_t)n;
}

static long long take_ll(struct provider *pv)
{
	return (long long)take_u64(pv);
}

static int take_int(struct provider *pv)
{
	return (int)(int32_t)take_u64(pv);
}

static bool same(const struct proc_stat *a, const struct proc_stat *b)
{
	return a->pid == b->pid && strcmp(a->comm, b->comm) == 0 &&
	       a->state == b->state && a->ppid == b->ppid &&
	       a->pgrp == b->pgrp && a->session == b->session &&
	       a->tty_nr == b->tty_nr && a->tpgid == b->tpgid &&
	       a->minflt == b->minflt && a->majflt == b->majflt &&
	       a->utime == b->utime && a->stime == b->stime &&
	       a->num_threads == b->num_threads &&
	       a->starttime == b->starttime && a->vsize == b->vsize &&
	       a->rss == b->rss;
}

static void fuzz_built(const uint8_t *data, size_t size)
{
	static const char states[] = "RSDTtXZPIKWx";
	struct provider pv = { data, data + size };
	struct proc_stat want, got;
	struct line l = { .len = 0 };
	char comm[96] = "";
	size_t ncomm, cut;

	memset(&want, 0, sizeof(want));
	/* comm: any bytes but NUL, sometimes longer than the parser keeps;
	 * an exhausted input gives ")))", the classic trap */
	ncomm = take_u8(&pv) % (sizeof(comm) - 16);
	for (size_t i = 0; i < ncomm; i++) {
		uint8_t b = take_u8(&pv);
		comm[i] = b ? (char)b : ')';
	}
	memcpy(want.comm, comm, ncomm < PROC_COMM_MAX ? ncomm
						  : PROC_COMM_MAX - 1);
	want.pid = (pid_t)(1 + take_upto(&pv, INT_MAX - 1));
	want.state = states[take_u8(&pv) % (sizeof(states) - 1)];
	want.ppid = take_int(&pv);
	want.pgrp = take_int(&pv);
	want.session = take_int(&pv);
	want.tty_nr = take_int(&pv);
	want.tpgid = take_int(&pv);
	want.minflt = take_u64(&pv);
	want.majflt = take_u64(&pv);
	want.utime = take_u64(&pv);
	want.stime = take_u64(&pv);
	want.num_threads = take_ll(&pv);
	want.starttime = take_u64(&pv);
	want.vsize = take_u64(&pv);
	/* the kernel prints rss unsigned; a page count stays below 2^63 */
	want.rss = (long long)take_upto(&pv, LLONG_MAX);

	put(&l, "%d (", want.pid);
	memcpy(l.text + l.len, comm, ncomm);
	l.len += ncomm;
	l.close = l.len;
	put(&l, ") %c %d %d %d %d %d", want.state, want.ppid, want.pgrp,
	    want.session, want.tty_nr, want.tpgid);
	/* flags, cminflt, cmajflt (unsigned), cutime .. nice (signed) */
	unsigned flags = (unsigned)take_u64(&pv);
	unsigned long long cminflt = take_u64(&pv), cmajflt = take_u64(&pv);
	long long cutime = take_ll(&pv), cstime = take_ll(&pv);
	long long prio = take_ll(&pv), nice = take_ll(&pv);

	put(&l, " %u %llu %llu %llu %llu %llu %llu", flags, want.minflt,
	    cminflt, want.majflt, cmajflt, want.utime, want.stime);
	put(&l, " %lld %lld %lld %lld %lld 0 %llu %llu %lld", cutime, cstime,
	    prio, nice, want.num_threads, want.starttime, want.vsize,
	    want.rss);
	l.after_rss = l.len + 1;
	/* rsslim ... exit_code: 27 more fields, the last one signed */
	for (int i = 0; i < 26; i++)
		put(&l, " %llu", (unsigned long long)take_u64(&pv));
	put(&l, " %d\n", take_int(&pv));

	check_text(procfs_parse_stat(l.text, l.len, &got) == 0, l.text, l.len);
	check_text(same(&got, &want), l.text, l.len);

	/* a read cut short: refused, unless it ends after rss (then it gives
	 * the same fields); a cut inside comm may fake any fields, and
	 * proc_read_stat never cuts, so nothing is claimed for it */
	cut = take_upto(&pv, l.len);
	if (cut <= l.close)
		return;
	if (cut < l.after_rss) {
		check_text(procfs_parse_stat(l.text, cut, &got) < 0, l.text, cut);
	} else {
		check_text(procfs_parse_stat(l.text, cut, &got) == 0, l.text, cut);
		check_text(same(&got, &want), l.text, cut);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_raw(data, size);
	fuzz_built(data, size);
	return 0;
}
