/* test_procfs.c - the /proc parsers on nasty input, and the reader live. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "suites.h"

/* The fields after comm, as a real 6.18 kernel prints them. */
static const char tail[] =
	" S 13124 13124 1163 34816 -1 4194304 100 0 7 0 11 3 0 0 20 0 1 0 "
	"43928 3133440 412 18446744073709551615 94134848073728 94134848093609 "
	"140722388846640 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94134848109616 "
	"94134848111232 94135767695360 140722388851339 140722388851359 "
	"140722388851359 140722388852715 0\n";

static size_t stat_line(char *buf, size_t size, const char *comm, size_t clen)
{
	size_t n = (size_t)snprintf(buf, size, "4242 (");

	memcpy(buf + n, comm, clen);
	n += clen;
	n += (size_t)snprintf(buf + n, size - n, ")%s", tail);
	return n;
}

static void check_comm(const char *comm, size_t clen, const char *want)
{
	char buf[1024];
	struct proc_stat st;
	size_t n = stat_line(buf, sizeof(buf), comm, clen);

	ck_assert_int_eq(procfs_parse_stat(buf, n, &st), 0);
	ck_assert_str_eq(st.comm, want);
	ck_assert_int_eq(st.pid, 4242);
	ck_assert_int_eq(st.state, 'S');
	ck_assert_int_eq(st.ppid, 13124);
	ck_assert_int_eq(st.session, 1163);
	ck_assert_int_eq(st.tty_nr, 34816);
	ck_assert_int_eq(st.tpgid, -1);
	ck_assert_uint_eq(st.minflt, 100);
	ck_assert_uint_eq(st.majflt, 7);
	ck_assert_uint_eq(st.utime, 11);
	ck_assert_uint_eq(st.stime, 3);
	ck_assert_int_eq(st.num_threads, 1);
	ck_assert_uint_eq(st.starttime, 43928);
	ck_assert_uint_eq(st.vsize, 3133440);
	ck_assert_int_eq(st.rss, 412);
}

START_TEST(stat_plain)
{
	check_comm("cat", 3, "cat");
}
END_TEST

START_TEST(stat_nasty_comms)
{
	static const char *const comms[] = {
		"a b c", "(", ")", ") S 1 2 3", "((", "))", ")(", "x) R 99 (y",
		"a\nb", "tab\there", "", " ", "\"quoted\\", "\xff\xfe bad utf8",
	};

	for (size_t i = 0; i < sizeof(comms) / sizeof(comms[0]); i++)
		check_comm(comms[i], strlen(comms[i]), comms[i]);
}
END_TEST

START_TEST(stat_long_comms)
{
	char c15[16], c64[65], c63[64];

	memset(c15, 'x', 15), c15[15] = '\0';
	check_comm(c15, 15, c15);
	/* kernel threads may have 64-byte names: kept up to PROC_COMM_MAX-1 */
	memset(c64, 'k', 64), c64[64] = '\0';
	memset(c63, 'k', 63), c63[63] = '\0';
	check_comm(c64, 64, c63);
}
END_TEST

START_TEST(stat_every_truncation_fails)
{
	char buf[1024];
	struct proc_stat st;
	size_t n = stat_line(buf, sizeof(buf), "t) x", 4);
	/* up to rss (field 24) and the blank after it is required */
	const char *rss = strstr(buf, " 412 ");
	size_t need = (size_t)(rss - buf) + 5;

	ck_assert_ptr_nonnull(rss);
	for (size_t len = 0; len < need; len++)
		ck_assert_msg(procfs_parse_stat(buf, len, &st) == -1,
			      "a stat cut to %zu bytes parsed", len);
	ck_assert_int_eq(procfs_parse_stat(buf, need, &st), 0);
	ck_assert_int_eq(procfs_parse_stat(buf, n, &st), 0);
}
END_TEST

/* Found by fuzzing: cminflt and cmajflt are unsigned long, printed up to
 * 2^64 - 1, and a stat line with one above 2^63 - 1 was refused. */
START_TEST(stat_unsigned_skipped_fields)
{
	static const char line[] =
		"7 (x) S 1 1 1 0 -1 4294967295 5 18446744073709551615 6 "
		"9223372036854775808 11 3 -1 -2 -100 19 2 0 43928 3133440 412 "
		"18446744073709551615 0\n";
	struct proc_stat st;

	ck_assert_int_eq(procfs_parse_stat(line, strlen(line), &st), 0);
	ck_assert_uint_eq(st.minflt, 5);
	ck_assert_uint_eq(st.majflt, 6);
	ck_assert_uint_eq(st.utime, 11);
	ck_assert_int_eq(st.num_threads, 2);
	ck_assert_int_eq(st.rss, 412);
	ck_assert_int_eq(st.exit_code, -1);     /* a kernel before 3.5 */
}
END_TEST

/* Field 52, a zombie's exit status as waitpid() would return it. */
START_TEST(stat_exit_code)
{
	static const char zombie[] =
		"9 (x) Z 8 8 8 0 -1 4227084 50 0 0 0 0 0 0 0 20 0 1 0 3 0 0 "
		"18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 "
		"0 0 0 0 0 0 10752\n";
	struct proc_stat st;

	ck_assert_int_eq(procfs_parse_stat(zombie, strlen(zombie), &st), 0);
	ck_assert_int_eq(st.state, 'Z');
	ck_assert_int_eq(st.exit_code, 42 << 8);
	/* a process of ours, running: 0 */
	ck_assert_int_eq(proc_peek_stat(getpid(), &st), PROC_OK);
	ck_assert_int_eq(st.exit_code, 0);
}
END_TEST

/* Found by fuzzing: any byte but a blank passed for the state letter, a
 * newline or a NUL included. */
START_TEST(state_must_be_printable)
{
	static const char bytes[] = { '\0', '\n', '\t', '\033', '\x7f',
				      '\xc3' };
	char buf[1024], st_text[64];
	struct proc_stat st;
	struct proc_status ps;

	for (size_t i = 0; i < sizeof(bytes); i++) {
		size_t n = stat_line(buf, sizeof(buf), "x", 1);
		buf[9] = bytes[i];      /* "4242 (x) S": the S */
		ck_assert_msg(procfs_parse_stat(buf, n, &st) == -1,
			      "state byte 0x%02x accepted", bytes[i] & 0xff);
		n = (size_t)snprintf(st_text, sizeof(st_text),
				     "State:\t%c (sleeping)\n", bytes[i]);
		ck_assert_int_eq(procfs_parse_status(st_text, n, &ps), -1);
	}
}
END_TEST

START_TEST(stat_garbage)
{
	static const char *const bad[] = {
		"", "(", ")", "4242", "4242 cat S 1", "(cat) S 1 2 3",
		"4242 (cat)S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
		"4242 (cat) S x 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
		"4242 (cat) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21",
		"99999999999999999999 (cat) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21",
		"4242 (cat) S 99999999999 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21",
		"4242 (cat) S 1 2 3 4 5 6 7 99999999999999999999999 9 10 11 12 13 14 15 16 17 18 19 20 21",
		"-4242 (cat)",
		"4242 (cat) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 --1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct proc_stat st;
		ck_assert_msg(procfs_parse_stat(bad[i], strlen(bad[i]), &st) == -1,
			      "parsed garbage #%zu: %s", i, bad[i]);
	}
}
END_TEST

START_TEST(stat_not_nul_terminated)
{
	/* the parser must stop at len, never at a NUL it hopes for */
	char buf[1024];
	struct proc_stat st;
	size_t n = stat_line(buf, sizeof(buf), "cat", 3);
	char *heap = malloc(n);

	ck_assert_ptr_nonnull(heap);
	memcpy(heap, buf, n);        /* no NUL: ASan catches any overread */
	ck_assert_int_eq(procfs_parse_stat(heap, n, &st), 0);
	ck_assert_int_eq(st.rss, 412);
	free(heap);
}
END_TEST

static const char status_alive[] =
	"Name:\tweird\\nname\\\\x\n"
	"Umask:\t0022\n"
	"State:\tS (sleeping)\n"
	"Tgid:\t4242\n"
	"Ngid:\t0\n"
	"Pid:\t4242\n"
	"PPid:\t4241\n"
	"TracerPid:\t0\n"
	"Uid:\t1001\t1001\t1001\t1001\n"
	"Gid:\t1001\t1001\t1001\t1001\n"
	"VmPeak:\t   11000 kB\n"
	"VmRSS:\t    9072 kB\n"
	"Threads:\t1\n"
	"SigQ:\t0/63444\n"
	"voluntary_ctxt_switches:\t12\n"
	"nonvoluntary_ctxt_switches:\t3\n";

START_TEST(status_fields)
{
	struct proc_status ps;

	ck_assert_int_eq(procfs_parse_status(status_alive, strlen(status_alive), &ps), 0);
	ck_assert_str_eq(ps.name, "weird\nname\\x");
	ck_assert_int_eq(ps.state, 'S');
	ck_assert_int_eq(ps.tgid, 4242);
	ck_assert_int_eq(ps.ppid, 4241);
	ck_assert_int_eq(ps.tracer, 0);
	ck_assert_uint_eq(ps.uid, 1001);
	ck_assert_int_eq(ps.vmrss_kb, 9072);
	ck_assert_int_eq(ps.threads, 1);
	ck_assert_int_eq(ps.vcsw, 12);
	ck_assert_int_eq(ps.nvcsw, 3);
	ck_assert_uint_eq(ps.has, PS_NAME | PS_STATE | PS_TGID | PS_PPID |
			  PS_TRACER | PS_UID | PS_THREADS | PS_VMRSS | PS_VCSW |
			  PS_NVCSW);
}
END_TEST

START_TEST(status_signal_masks)
{
	static const char t[] =
		"Name:\tproclab-catcher\n"
		"SigQ:\t3/63444\n"
		"SigPnd:\t0000000000000800\n"
		"ShdPnd:\t0000000200000200\n"
		"SigBlk:\t0000000200000a00\n"
		"SigIgn:\t0000000000004000\n"
		"SigCgt:\tffffffff80004a00\n";
	struct proc_status ps;

	ck_assert_int_eq(procfs_parse_status(t, strlen(t), &ps), 0);
	ck_assert_uint_eq(ps.has, PS_NAME | PS_SIGALL);
	ck_assert_uint_eq(ps.sig[PSIG_PND], 1ULL << (SIGUSR2 - 1));
	ck_assert_uint_eq(ps.sig[PSIG_SHDPND], 0x200000200ULL);
	ck_assert_uint_eq(ps.sig[PSIG_BLK], 0x200000a00ULL);
	ck_assert_uint_eq(ps.sig[PSIG_IGN], 1ULL << (SIGTERM - 1));
	ck_assert_uint_eq(ps.sig[PSIG_CGT], 0xffffffff80004a00ULL);
	ck_assert_str_eq(ps.sig_raw[PSIG_SHDPND], "0000000200000200");
	ck_assert_str_eq(procfs_sigfield_name(PSIG_CGT), "SigCgt");
	ck_assert_str_eq(procfs_sigfield_name(PSIG_N), "?");
}
END_TEST

START_TEST(status_signal_masks_malformed)
{
	/* too long, not hex, empty, cut short: each left out, nothing else */
	static const char t[] =
		"SigPnd:\t00000000000000000\n"
		"ShdPnd:\t00000000000g0000\n"
		"SigBlk:\t\n"
		"SigIgn:\t0000000000000001 x\n"
		"SigCgt:\tfff";
	struct proc_status ps;

	ck_assert_int_eq(procfs_parse_status(t, strlen(t), &ps), -1);
	ck_assert_uint_eq(ps.has, 0);
	ck_assert_uint_eq(ps.sig[PSIG_PND], 0);
	ck_assert_str_eq(ps.sig_raw[PSIG_CGT], "");
}
END_TEST

START_TEST(status_zombie_has_no_vmrss)
{
	static const char z[] = "Name:\tproclab-child\nState:\tZ (zombie)\n"
				"PPid:\t1\nThreads:\t1\n";
	struct proc_status ps;

	ck_assert_int_eq(procfs_parse_status(z, strlen(z), &ps), 0);
	ck_assert_int_eq(ps.state, 'Z');
	ck_assert(!(ps.has & PS_VMRSS));
	ck_assert_int_eq(ps.vmrss_kb, -1);
}
END_TEST

START_TEST(status_garbage)
{
	static const char *const bad[] = { "", "\n\n", "no colon here\n",
					   "Bogus:\t1\n" };
	struct proc_status ps;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(procfs_parse_status(bad[i], strlen(bad[i]), &ps), -1);
	/* a known field with a bad value is skipped, not misread */
	static const char odd[] = "PPid:\tx1\nThreads:\t-3\n"
				  "VmRSS:\t99999999999999999999999 kB\n"
				  "State:\tR\n";
	ck_assert_int_eq(procfs_parse_status(odd, strlen(odd), &ps), 0);
	ck_assert_uint_eq(ps.has, PS_STATE);
	/* octal escapes and a lone trailing backslash in Name */
	static const char esc[] = "Name:\ta\\033b\\\n";
	ck_assert_int_eq(procfs_parse_status(esc, strlen(esc), &ps), 0);
	ck_assert_str_eq(ps.name, "a\033b\\");
}
END_TEST

START_TEST(meminfo_available)
{
	static const char ok[] = "MemTotal:       32000000 kB\n"
				 "MemFree:         1000 kB\n"
				 "MemAvailable:   24322720 kB\n";
	static const char *const bad[] = { "", "MemTotal: 5 kB\n",
					   "MemAvailable:\n",
					   "MemAvailable: -5 kB\n",
					   "MemAvailableX: 5 kB\n" };
	long long kb = 0;

	ck_assert_int_eq(procfs_parse_meminfo_available(ok, strlen(ok), &kb), 0);
	ck_assert_int_eq(kb, 24322720);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(procfs_parse_meminfo_available(bad[i],
			strlen(bad[i]), &kb), -1);
	ck_assert_int_eq(proc_mem_available(&kb), PROC_OK);
	ck_assert_int_gt(kb, 0);
}
END_TEST

/* Found by fuzzing: a MemAvailable line cut short ("MemAvailable: 243"
 * of 24322720 kB) was read as a whole one. */
START_TEST(meminfo_cut_line_ignored)
{
	static const char cut[] = "MemTotal:       32000000 kB\n"
				  "MemAvailable:   24322720 kB";
	long long kb = -1;

	ck_assert_int_eq(procfs_parse_meminfo_available(cut, strlen(cut), &kb),
			 -1);
	ck_assert_int_eq(procfs_parse_meminfo_available(cut, strlen(cut) - 8,
							&kb), -1);
	ck_assert_int_eq(kb, -1);
}
END_TEST

/* Found by fuzzing: an unknown escape at the very end of a long Name
 * wrote one byte past the buffer. */
START_TEST(status_long_name_escape)
{
	char buf[128];
	struct proc_status ps;

	snprintf(buf, sizeof(buf), "Name:\t%s\\z\nState:\tS (sleeping)\n",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	ck_assert_int_eq(procfs_parse_status(buf, strlen(buf), &ps), 0);
	ck_assert_uint_eq(strlen(ps.name), sizeof(ps.name) - 1);
	ck_assert_int_eq(ps.state, 'S');
}
END_TEST

/* A read cut short must not pass a half line off as a whole one. */
START_TEST(status_cut_line_ignored)
{
	static const char cut[] = "State:\tS (sleeping)\nVmRSS:\t    12";
	struct proc_status ps;

	ck_assert_int_eq(procfs_parse_status(cut, strlen(cut), &ps), 0);
	ck_assert(!(ps.has & PS_VMRSS));
	ck_assert_int_eq(procfs_parse_status(cut + 20, strlen(cut + 20), &ps), -1);
}
END_TEST

START_TEST(state_names)
{
	ck_assert_str_eq(procfs_state_name('R'), "running");
	ck_assert_str_eq(procfs_state_name('D'), "disk sleep");
	ck_assert_str_eq(procfs_state_name('t'), "tracing stop");
	ck_assert_str_eq(procfs_state_name('Z'), "zombie");
	ck_assert_str_eq(procfs_state_name('?'), "unknown");
}
END_TEST

/* Live: a kept handle follows a child through its life, and says "gone"
 * once the child is reaped, even though the fd is still open. */
START_TEST(reader_follows_child)
{
	struct proc_handle h;
	struct proc_stat st;
	struct proc_status ps;
	int pfd[2], status;
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[1]);
		(void)!read(pfd[0], &c, 1);
		_exit(3);
	}
	close(pfd[0]);
	ck_assert_int_eq(proc_open(&h, pid), PROC_OK);
	ck_assert_int_eq(proc_read_stat(&h, &st), PROC_OK);
	ck_assert_int_eq(st.pid, pid);
	ck_assert_int_eq(st.ppid, getpid());
	ck_assert_int_eq(proc_read_status(&h, &ps), PROC_OK);
	ck_assert_int_eq(ps.ppid, getpid());
	close(pfd[1]);                            /* the child exits */
	/* wait without reaping: the child is a zombie now */
	siginfo_t si;
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(proc_read_stat(&h, &st), PROC_OK);
	ck_assert_int_eq(st.state, 'Z');
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(proc_read_stat(&h, &st), PROC_GONE);
	ck_assert_int_eq(proc_read_status(&h, &ps), PROC_GONE);
	proc_close(&h);
	ck_assert_int_eq(proc_open(&h, pid), PROC_GONE);
}
END_TEST

START_TEST(status_vmsize)
{
	static const char t[] = "Name:\tcat\nVmPeak:\t    3064 kB\n"
				"VmSize:\t    3060 kB\nVmRSS:\t    1632 kB\n";
	static const char z[] = "Name:\tcat\nVmSize:\t\n";
	struct proc_status ps;

	ck_assert_int_eq(procfs_parse_status(t, strlen(t), &ps), 0);
	ck_assert_uint_eq(ps.has, PS_NAME | PS_VMSIZE | PS_VMRSS);
	ck_assert_int_eq(ps.vmsize_kb, 3060);
	ck_assert_int_eq(ps.vmrss_kb, 1632);
	/* a zombie has none; an empty value is not a value */
	ck_assert_int_eq(procfs_parse_status(z, strlen(z), &ps), 0);
	ck_assert_uint_eq(ps.has, PS_NAME);
	ck_assert_int_eq(ps.vmsize_kb, -1);
}
END_TEST

START_TEST(fdinfo_flags)
{
	static const char t[] = "pos:\t0\nflags:\t02100002\nmnt_id:\t25\n"
				"ino:\t1101734\n";
	static const char *const bad[] = {
		"", "pos:\t0\n", "flags:\t\n", "flags:\t0210x\n",
		"flags:\t08\n", "flags:\t02100002",  /* cut: no newline */
		"flags:\t777777777777\n",              /* 12 digits */
		"flags:\t77777777777\n",               /* above 32 bits */
	};
	unsigned flags = 0;

	ck_assert_int_eq(procfs_parse_fdinfo_flags(t, strlen(t), &flags), 0);
	ck_assert_uint_eq(flags, 02100002);
	ck_assert(flags & O_CLOEXEC);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(procfs_parse_fdinfo_flags(bad[i],
							   strlen(bad[i]),
							   &flags), -1);
}
END_TEST

/* The fd list of a child that holds /dev/null with and without
 * close-on-exec, and its exe link. */
/* Whether this test runs under valgrind (its preload is in the environment). */
static bool under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

START_TEST(reader_fds)
{
	struct proc_handle h;
	struct proc_fd fds[8];
	char exe[256];
	int pfd[2], ready[2], n, status;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* 0, 1, 2, /dev/null at 3 and (close-on-exec) 4, the pipe
		 * at 9 */
		if (dup2(pfd[0], 9) < 0 || dup2(ready[1], 8) < 0 ||
		    close_range(3, 7, 0) < 0 ||
		    open("/dev/null", O_RDONLY) != 3 ||
		    open("/dev/null", O_RDONLY | O_CLOEXEC) != 4 ||
		    close_range(10, ~0U, 0) < 0 || close(8) < 0)
			_exit(1);
		(void)!read(9, &c, 1);
		_exit(0);
	}
	close(pfd[0]);
	close(ready[1]);
	/* EOF: the child closed its end, the last, once set up */
	ck_assert_int_eq(read(ready[0], &c, 1), 0);
	close(ready[0]);
	ck_assert_int_eq(proc_open(&h, pid), PROC_OK);
	ck_assert_int_eq(proc_read_fds(&h, fds, 8, &n), PROC_OK);
	/* valgrind keeps fds of its own, high up, that close_range leaves */
	ck_assert(n == 6 || (under_valgrind() && n > 6));
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(fds[i].fd, i);
	ck_assert_int_eq(fds[3].fd, 3);
	ck_assert_str_eq(fds[3].target, "/dev/null");
	ck_assert(fds[3].flags_ok && !(fds[3].flags & O_CLOEXEC));
	ck_assert_int_eq(fds[4].fd, 4);
	ck_assert(fds[4].flags_ok && (fds[4].flags & O_CLOEXEC));
	ck_assert(strncmp(fds[5].target, "pipe:[", 6) == 0);
	/* room for 2: all 6 counted, the first 2 kept */
	ck_assert_int_eq(proc_read_fds(&h, fds, 2, &n), PROC_OK);
	ck_assert(n == 6 || (under_valgrind() && n > 6));
	ck_assert_int_eq(proc_read_link(&h, "exe", exe, sizeof(exe)), PROC_OK);
	ck_assert_int_eq(exe[0], '/');
	close(pfd[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(proc_read_fds(&h, fds, 8, &n), PROC_GONE);
	ck_assert_int_eq(proc_read_link(&h, "exe", exe, sizeof(exe)),
			 PROC_GONE);
	proc_close(&h);
}
END_TEST

START_TEST(pipe_link)
{
	unsigned long long ino = 7;
	static const char *const bad[] = {
		"pipe:[]", "pipe:[12", "pipe:12]", "pipe:[1x2]", "Pipe:[1]",
		"pipe:[-1]", "pipe:[ 1]", "pipe:[18446744073709551616]",
		"pipe:[000000000000000000001]", "socket:[12]", "/dev/null", "",
	};

	ck_assert_int_eq(procfs_parse_pipe_link("pipe:[4242]", 11, &ino), 0);
	ck_assert_uint_eq(ino, 4242);
	ck_assert_int_eq(procfs_parse_pipe_link("pipe:[18446744073709551615]",
						27, &ino), 0);
	ck_assert(ino == ~0ULL);
	/* not NUL-terminated: the length decides */
	ck_assert_int_eq(procfs_parse_pipe_link("pipe:[9]xyz", 8, &ino), 0);
	ck_assert_uint_eq(ino, 9);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ino = 7;
		ck_assert_msg(procfs_parse_pipe_link(bad[i], strlen(bad[i]),
						     &ino) < 0, "%s", bad[i]);
		ck_assert_uint_eq(ino, 7);
	}
}
END_TEST

/* Our own pipe through /proc/self's fd links: both ends, one inode (the
 * one fstat gives), and a closed fd is ENOENT. */
START_TEST(fd_link_self)
{
	struct proc_handle h;
	struct stat sb;
	char buf[64];
	unsigned long long a, b;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fstat(p[0], &sb), 0);
	ck_assert_int_eq(proc_open(&h, getpid()), PROC_OK);
	ck_assert_int_eq(proc_read_fd_link(&h, p[0], buf, sizeof(buf)), PROC_OK);
	ck_assert_int_eq(procfs_parse_pipe_link(buf, strlen(buf), &a), 0);
	ck_assert_int_eq(proc_read_fd_link(&h, p[1], buf, sizeof(buf)), PROC_OK);
	ck_assert_int_eq(procfs_parse_pipe_link(buf, strlen(buf), &b), 0);
	ck_assert(a == b && a == (unsigned long long)sb.st_ino);
	/* cut to the buffer, NUL-terminated */
	ck_assert_int_eq(proc_read_fd_link(&h, p[0], buf, 5), PROC_OK);
	ck_assert_str_eq(buf, "pipe");
	close(p[0]);
	close(p[1]);
	errno = 0;
	ck_assert_int_eq(proc_read_fd_link(&h, p[0], buf, sizeof(buf)),
			 PROC_ERROR);
	ck_assert_int_eq(errno, ENOENT);
	proc_close(&h);
}
END_TEST

START_TEST(reader_self)
{
	struct proc_handle h;
	struct proc_stat st;
	char buf[64];
	size_t len;

	ck_assert_int_eq(proc_open(&h, getpid()), PROC_OK);
	ck_assert_int_eq(proc_read_stat(&h, &st), PROC_OK);
	ck_assert_int_eq(st.state, 'R');      /* reading it, so running */
	ck_assert_int_eq(st.pid, getpid());
	ck_assert_int_eq(proc_read_file(&h, "comm", buf, sizeof(buf), &len), PROC_OK);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_ge(proc_count_fds(&h), 3);
	proc_close(&h);
}
END_TEST

/* A thread of this test process: reports its tid, then blocks in read(2)
 * until its pipe has a byte. */
struct blocker {
	int fds[2];
	pid_t tid;
};

static void *block_thread(void *arg)
{
	struct blocker *b = arg;
	char c;

	__atomic_store_n(&b->tid, gettid(), __ATOMIC_SEQ_CST);
	while (read(b->fds[0], &c, 1) < 0)
		;
	return NULL;
}

START_TEST(reader_tasks)
{
	struct blocker b = { .tid = 0 };
	struct proc_handle h, th;
	struct proc_stat st;
	pid_t tids[8], again[8];
	pthread_t t;
	int n;

	ck_assert_int_eq(pipe(b.fds), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, block_thread, &b), 0);
	while (__atomic_load_n(&b.tid, __ATOMIC_SEQ_CST) == 0)
		sched_yield();
	ck_assert_int_eq(proc_open(&h, getpid()), PROC_OK);
	n = proc_list_tasks(&h, false, tids, 8);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(tids[0], getpid());      /* the leader first */
	ck_assert_int_eq(tids[1], b.tid);
	/* a count beyond max: only max stored */
	ck_assert_int_eq(proc_list_tasks(&h, false, again, 1), 2);
	ck_assert_int_eq(again[0], getpid());

	/* the thread's own stat, and its process's list from it */
	ck_assert_int_eq(proc_open_task(&th, getpid(), b.tid), PROC_OK);
	ck_assert_int_eq(th.pid, b.tid);
	ck_assert_int_eq(proc_read_stat(&th, &st), PROC_OK);
	ck_assert_int_eq(st.pid, b.tid);
	for (int i = 0; i < 1000 && st.state != 'S'; i++) {
		sched_yield();
		ck_assert_int_eq(proc_read_stat(&th, &st), PROC_OK);
	}
	ck_assert_int_eq(st.state, 'S');
	ck_assert_int_eq(proc_list_tasks(&th, true, again, 8), 2);
	ck_assert_int_eq(again[1], b.tid);

	/* ended: its kept stat says so, and the list drops it */
	ck_assert_int_eq(write(b.fds[1], "x", 1), 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	for (int i = 0; i < 1000 && proc_read_stat(&th, &st) == PROC_OK; i++)
		sched_yield();
	ck_assert_int_eq(proc_read_stat(&th, &st), PROC_GONE);
	ck_assert_int_eq(proc_list_tasks(&h, false, tids, 8), 1);
	proc_close(&th);

	/* not a thread of this process */
	ck_assert_int_eq(proc_open_task(&th, getpid(), 1), PROC_GONE);
	proc_close(&h);
	close(b.fds[0]);
	close(b.fds[1]);
}
END_TEST

Suite *make_procfs_suite(void)
{
	Suite *s = suite_create("procfs");
	TCase *parse = tcase_create("parse"), *live = tcase_create("live");

	tcase_add_test(parse, stat_plain);
	tcase_add_test(parse, stat_nasty_comms);
	tcase_add_test(parse, stat_long_comms);
	tcase_add_test(parse, stat_every_truncation_fails);
	tcase_add_test(parse, stat_unsigned_skipped_fields);
	tcase_add_test(parse, stat_exit_code);
	tcase_add_test(parse, state_must_be_printable);
	tcase_add_test(parse, stat_garbage);
	tcase_add_test(parse, stat_not_nul_terminated);
	tcase_add_test(parse, status_fields);
	tcase_add_test(parse, status_zombie_has_no_vmrss);
	tcase_add_test(parse, status_signal_masks);
	tcase_add_test(parse, status_signal_masks_malformed);
	tcase_add_test(parse, status_garbage);
	tcase_add_test(parse, status_long_name_escape);
	tcase_add_test(parse, status_cut_line_ignored);
	tcase_add_test(parse, state_names);
	tcase_add_test(parse, meminfo_available);
	tcase_add_test(parse, meminfo_cut_line_ignored);
	tcase_add_test(live, reader_follows_child);
	tcase_add_test(live, reader_self);
	tcase_add_test(live, reader_tasks);
	tcase_add_test(parse, status_vmsize);
	tcase_add_test(parse, fdinfo_flags);
	tcase_add_test(live, reader_fds);
	tcase_add_test(parse, pipe_link);
	tcase_add_test(live, fd_link_self);
	suite_add_tcase(s, parse);
	suite_add_tcase(s, live);
	return s;
}
