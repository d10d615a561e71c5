/* fuzz_status.c - procfs_parse_status, procfs_parse_meminfo_available and
 * procfs_parse_fdinfo_flags, procfs_parse_pipe_link.
 *
 * Each input is used twice:
 *  1. as it is, as the text of /proc/PID/status, of /proc/meminfo and of
 *     /proc/PID/fdinfo/N: no crash, and what the parsers accept makes sense (Name NUL-terminated
 *     within PROC_COMM_MAX, only known PS_* bits, no negative count, a
 *     state that is one printable non-blank character, the result 0
 *     exactly when some field was found);
 *  2. as choices that build a status text the way the kernel prints it
 *     (fs/proc/array.c: Name escapes '\n' and '\\'; here also, at random,
 *     the other escapes the parser knows), and a meminfo text: every
 *     field must come back, the name cut to PROC_COMM_MAX - 1 bytes; and
 *     a text cut short anywhere must give only the fields whose line is
 *     whole, with their true values.
 */
#include "procfs.h"
#include "fuzz.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>

#define PS_ALL (PS_NAME | PS_STATE | PS_TGID | PS_PPID | PS_TRACER | PS_UID | \
		PS_THREADS | PS_VMRSS | PS_VCSW | PS_NVCSW | PS_SIGALL | \
		PS_VMSIZE)

static void fuzz_raw(const uint8_t *data, size_t size)
{
	struct proc_status ps;
	long long kb = 0;
	int r = procfs_parse_status((const char *)data, size, &ps);

	check((r == 0) == (ps.has != 0));
	check((ps.has & ~(unsigned)PS_ALL) == 0);
	check(strnlen(ps.name, sizeof(ps.name)) < sizeof(ps.name));
	check((ps.has & PS_NAME) || ps.name[0] == '\0');
	check(!(ps.has & PS_STATE) || (ps.state > ' ' && ps.state < 0x7f));
	check(ps.tgid >= 0 && ps.ppid >= 0 && ps.tracer >= 0);
	check(ps.threads >= 0 && ps.vcsw >= 0 && ps.nvcsw >= 0);
	check((ps.has & PS_VMRSS) ? ps.vmrss_kb >= 0 : ps.vmrss_kb == -1);
	check((ps.has & PS_VMSIZE) ? ps.vmsize_kb >= 0 : ps.vmsize_kb == -1);
	/* a signal mask: 1 to 16 hex digits kept as printed, else nothing */
	for (int f = 0; f < PSIG_N; f++) {
		size_t n = strnlen(ps.sig_raw[f], sizeof(ps.sig_raw[f]));

		check(n < sizeof(ps.sig_raw[f]));
		check((ps.has & PS_SIGBIT(f)) ? n >= 1 && n <= 16
					       : n == 0 && ps.sig[f] == 0);
		check(n == 16 || ps.sig[f] >> (4 * n) == 0);
	}

	if (procfs_parse_meminfo_available((const char *)data, size, &kb) == 0)
		check(kb >= 0);
	/* the same bytes as /proc/PID/fdinfo/N: flags only from a whole
	 * line of octal digits */
	unsigned flags = 0xdeadbeef;

	if (procfs_parse_fdinfo_flags((const char *)data, size, &flags) == 0)
		check(memmem(data, size, "flags:", 6) != NULL &&
		      memchr(data, '\n', size) != NULL);
	else
		check(flags == 0xdeadbeef);

	/* an fd link: "pipe:[N]" exactly, N at most 20 digits */
	unsigned long long ino = 0;

	if (procfs_parse_pipe_link((const char *)data, size, &ino) == 0)
		check(size >= 8 && size <= 27 && memcmp(data, "pipe:[", 6) == 0 &&
		      data[size - 1] == ']');
}

struct text {
	char s[1024];
	size_t len;
	size_t end[16];         /* where each field's line ends ('\n' + 1) */
};

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->s + t->len, sizeof(t->s) - t->len, fmt, ap);
	va_end(ap);
	check(n >= 0 && (size_t)n < sizeof(t->s) - t->len);
	t->len += (size_t)n;
}

static int bit_index(unsigned bit)
{
	return __builtin_ctz(bit);
}

/* Escape one name byte.  Kernel style escapes only '\n' and '\\'; the
 * other style also uses every escape unescape_name() knows. */
static void put_name_byte(struct text *t, uint8_t b, bool all)
{
	static const char named[] = "\n\t\r\v\f\a\033\\\"";
	static const char letter[] = "ntrvfae\\\"";
	const char *k = b ? memchr(named, b, sizeof(named) - 1) : NULL;

	if (k != NULL && (all || b == '\n' || b == '\\'))
		put(t, "\\%c", letter[k - named]);
	else if (all && (b < 0x20 || b >= 0x7f))
		put(t, "\\%03o", b);
	else
		put(t, "%c", b);
}

static void fuzz_status_built(struct provider *pv)
{
	static const char *const states[] = {
		"R (running)", "S (sleeping)", "D (disk sleep)", "T (stopped)",
		"t (tracing stop)", "X (dead)", "Z (zombie)", "P (parked)",
		"I (idle)",
	};
	struct proc_status want, got;
	struct text t = { .len = 0 };
	bool all = take_u8(pv) & 1;
	size_t nname = take_u8(pv) % 96, cut;
	const char *state;

	memset(&want, 0, sizeof(want));
	put(&t, "Name:\t");
	for (size_t i = 0; i < nname; i++) {
		uint8_t b = take_u8(pv);
		b = b ? b : '\\';       /* comm never holds a NUL */
		if (i < PROC_COMM_MAX - 1)
			want.name[i] = (char)b;
		put_name_byte(&t, b, all);
	}
	put(&t, "\n");
	t.end[bit_index(PS_NAME)] = t.len;
	put(&t, "Umask:\t0022\n");
	state = states[take_u8(pv) % (sizeof(states) / sizeof(states[0]))];
	want.state = state[0];
	put(&t, "State:\t%s\n", state);
	t.end[bit_index(PS_STATE)] = t.len;
	want.tgid = (pid_t)take_upto(pv, INT_MAX);
	put(&t, "Tgid:\t%d\n", want.tgid);
	t.end[bit_index(PS_TGID)] = t.len;
	put(&t, "Ngid:\t0\nPid:\t%d\n", want.tgid);
	want.ppid = (pid_t)take_upto(pv, INT_MAX);
	put(&t, "PPid:\t%d\n", want.ppid);
	t.end[bit_index(PS_PPID)] = t.len;
	want.tracer = (pid_t)take_upto(pv, INT_MAX);
	put(&t, "TracerPid:\t%d\n", want.tracer);
	t.end[bit_index(PS_TRACER)] = t.len;
	want.uid = (uid_t)take_upto(pv, UINT32_MAX - 1);
	put(&t, "Uid:\t%u\t%u\t%u\t%u\n", want.uid, want.uid, 0u, want.uid);
	t.end[bit_index(PS_UID)] = t.len;
	put(&t, "Gid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t4 24 27 \n");
	want.vmrss_kb = want.vmsize_kb = -1;
	if (take_u8(pv) & 1) {         /* zombies and kernel threads have none */
		want.vmsize_kb = (long long)take_upto(pv, LLONG_MAX);
		put(&t, "VmPeak:\t   10000 kB\nVmSize:\t%8lld kB\n",
		    want.vmsize_kb);
		t.end[bit_index(PS_VMSIZE)] = t.len;
		want.vmrss_kb = (long long)take_upto(pv, LLONG_MAX);
		put(&t, "VmRSS:\t%8lld kB\n", want.vmrss_kb);
		t.end[bit_index(PS_VMRSS)] = t.len;
		want.has |= PS_VMRSS | PS_VMSIZE;
	}
	want.threads = (long long)take_upto(pv, INT_MAX);
	put(&t, "Threads:\t%lld\n", want.threads);
	t.end[bit_index(PS_THREADS)] = t.len;
	put(&t, "SigQ:\t0/63422\n");
	/* the signal masks, 16 hex digits each as the kernel prints them */
	for (int f = 0; f < PSIG_N; f++) {
		want.sig[f] = take_upto(pv, UINT64_MAX);
		snprintf(want.sig_raw[f], sizeof(want.sig_raw[f]), "%016llx",
			 (unsigned long long)want.sig[f]);
		put(&t, "%s:\t%016llx\n", procfs_sigfield_name(f),
		    (unsigned long long)want.sig[f]);
		t.end[bit_index(PS_SIGBIT(f))] = t.len;
		want.has |= PS_SIGBIT(f);
	}
	put(&t, "Cpus_allowed_list:\t0-1\n");
	want.vcsw = (long long)take_upto(pv, LLONG_MAX);
	put(&t, "voluntary_ctxt_switches:\t%lld\n", want.vcsw);
	t.end[bit_index(PS_VCSW)] = t.len;
	want.nvcsw = (long long)take_upto(pv, LLONG_MAX);
	put(&t, "nonvoluntary_ctxt_switches:\t%lld\n", want.nvcsw);
	t.end[bit_index(PS_NVCSW)] = t.len;
	want.has |= PS_NAME | PS_STATE | PS_TGID | PS_PPID | PS_TRACER |
		    PS_UID | PS_THREADS | PS_VCSW | PS_NVCSW;

	check_text(procfs_parse_status(t.s, t.len, &got) == 0, t.s, t.len);
	check_text(got.has == want.has, t.s, t.len);
	check_text(strcmp(got.name, want.name) == 0, t.s, t.len);

	/* a cut text: the fields whose line is whole, with their values */
	cut = take_upto(pv, t.len);
	if (procfs_parse_status(t.s, cut, &got) == 0) {
		for (unsigned bit = 1; bit & PS_ALL; bit <<= 1)
			if (want.has & bit)
				check(!!(got.has & bit) ==
				      (t.end[bit_index(bit)] <= cut));
		check(got.has != 0);
	} else {
		check(cut < t.end[bit_index(PS_NAME)]);
		got = want;     /* nothing to compare */
	}
	if (got.has & PS_NAME)
		check(strcmp(got.name, want.name) == 0);
	if (got.has & PS_STATE)
		check(got.state == want.state);
	if (got.has & PS_TGID)
		check(got.tgid == want.tgid);
	if (got.has & PS_PPID)
		check(got.ppid == want.ppid);
	if (got.has & PS_TRACER)
		check(got.tracer == want.tracer);
	if (got.has & PS_UID)
		check(got.uid == want.uid);
	if (got.has & PS_VMRSS)
		check(got.vmrss_kb == want.vmrss_kb);
	if (got.has & PS_VMSIZE)
		check(got.vmsize_kb == want.vmsize_kb);
	if (got.has & PS_THREADS)
		check(got.threads == want.threads);
	if (got.has & PS_VCSW)
		check(got.vcsw == want.vcsw);
	if (got.has & PS_NVCSW)
		check(got.nvcsw == want.nvcsw);
	for (int f = 0; f < PSIG_N; f++)
		if (got.has & PS_SIGBIT(f))
			check(got.sig[f] == want.sig[f] &&
			      strcmp(got.sig_raw[f], want.sig_raw[f]) == 0);
}

static void fuzz_meminfo_built(struct provider *pv)
{
	struct text t = { .len = 0 };
	long long want = (long long)take_upto(pv, LLONG_MAX), kb = -1;
	size_t cut, end;

	put(&t, "MemTotal:       %8llu kB\nMemFree:        %8llu kB\n",
	    (unsigned long long)take_u64(pv), (unsigned long long)take_u64(pv));
	put(&t, "MemAvailable:   %8lld kB\n", want);
	end = t.len;
	put(&t, "Buffers:          123456 kB\n");
	check_text(procfs_parse_meminfo_available(t.s, t.len, &kb) == 0,
		   t.s, t.len);
	check_text(kb == want, t.s, t.len);
	/* a cut line is not a line */
	cut = take_upto(pv, t.len);
	kb = -1;
	if (procfs_parse_meminfo_available(t.s, cut, &kb) == 0)
		check_text(cut >= end && kb == want, t.s, cut);
	else
		check_text(cut < end, t.s, cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct provider pv = { data, data + size };

	fuzz_raw(data, size);
	fuzz_status_built(&pv);
	fuzz_meminfo_built(&pv);
	return 0;
}
