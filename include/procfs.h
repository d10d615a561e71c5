/* procfs.h - the one place proclab reads /proc.
 *
 * A proc_handle keeps /proc/PID open as a directory and /proc/PID/stat open
 * as a file.  The stat file is re-read with pread(2): the kernel renders it
 * anew at every read, and once the task is released the read fails with
 * ESRCH even if the pid number has been reused by another process.  Other
 * files are opened relative to the directory fd, which is just as safe
 * against pid reuse.
 *
 * The parsers are pure functions over a byte buffer so that they can be
 * unit-tested and fuzzed on hostile input.
 */
#ifndef PROCLAB_PROCFS_H
#define PROCLAB_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Kernel threads may have names longer than TASK_COMM_LEN (16). */
#define PROC_COMM_MAX 64

struct proc_stat {
	pid_t pid;
	char comm[PROC_COMM_MAX];       /* raw bytes, NUL-terminated, may be cut */
	char state;                     /* R S D T t X Z P I ... */
	pid_t ppid, pgrp, session;
	int tty_nr;
	pid_t tpgid;
	unsigned long long minflt, majflt;
	unsigned long long utime, stime; /* clock ticks */
	long long num_threads;
	unsigned long long starttime;
	unsigned long long vsize;        /* bytes */
	long long rss;                   /* pages */
	int exit_code;                   /* (52) the status waitpid() would
					  * return (a zombie's), 0 while it
					  * runs; -1 if not shown (< 3.5) */
};

/* Which optional fields a proc_status holds. */
enum {
	PS_NAME = 1 << 0, PS_STATE = 1 << 1, PS_TGID = 1 << 2, PS_PPID = 1 << 3,
	PS_TRACER = 1 << 4, PS_UID = 1 << 5, PS_THREADS = 1 << 6,
	PS_VMRSS = 1 << 7, PS_VCSW = 1 << 8, PS_NVCSW = 1 << 9,
	/* the signal masks, PS_SIG << field (enum proc_sigfield) */
	PS_SIG = 1 << 10,
	PS_VMSIZE = 1 << 15,            /* after the PSIG_N mask bits */
};

/* The signal masks of /proc/PID/status, in the order it prints them:
 * 64-bit hex, bit n - 1 for signal n.  SigPnd: pending for the thread
 * (tgkill, raise); ShdPnd: pending for the process (kill); SigBlk:
 * blocked; SigIgn: ignored; SigCgt: caught (a handler). */
enum proc_sigfield { PSIG_PND, PSIG_SHDPND, PSIG_BLK, PSIG_IGN, PSIG_CGT,
		     PSIG_N };
#define PS_SIGALL (((1u << PSIG_N) - 1) * PS_SIG)
#define PS_SIGBIT(f) (PS_SIG << (f))
/* "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"; "?" out of range. */
const char *procfs_sigfield_name(int field);

struct proc_status {
	unsigned has;                   /* PS_* bits of the fields found */
	char name[PROC_COMM_MAX];       /* unescaped */
	char state;
	pid_t tgid, ppid, tracer;
	uid_t uid;                      /* real uid */
	long long threads;
	long long vmrss_kb;
	long long vmsize_kb;            /* VmSize: the address space, -1 if
					 * not shown (a zombie, a kernel thread) */
	long long vcsw, nvcsw;          /* voluntary / nonvoluntary ctxt switches */
	unsigned long long sig[PSIG_N]; /* the signal masks (PS_SIGBIT) */
	char sig_raw[PSIG_N][17];       /* each as /proc printed it */
};

/* Parse the text of /proc/PID/stat (len bytes, need not be NUL-terminated).
 * Returns 0, or -1 when the text is malformed. */
int procfs_parse_stat(const char *buf, size_t len, struct proc_stat *st);

/* Parse the text of /proc/PID/status.  Unknown lines are skipped, missing
 * fields leave their PS_* bit clear.  Returns 0, or -1 if no field at all
 * was recognised. */
int procfs_parse_status(const char *buf, size_t len, struct proc_status *ps);

/* The long name of a state letter ("R" -> "running"), as fs/proc/array.c
 * names them; "unknown" for anything else. */
const char *procfs_state_name(char state);

struct proc_handle {
	pid_t pid;
	int dirfd;
	int statfd;
};

/* Results of the readers below. */
enum { PROC_OK = 0, PROC_GONE = 1, PROC_ERROR = -1 };

/* Open /proc/PID.  PROC_GONE when there is no such process. */
int proc_open(struct proc_handle *h, pid_t pid);
void proc_close(struct proc_handle *h);
/* Open one thread of a process: /proc/TGID/task/TID, its stat kept as
 * proc_open() keeps a process's (h->pid is the tid).  PROC_GONE when the
 * thread has ended (or is not one of tgid's). */
int proc_open_task(struct proc_handle *h, pid_t tgid, pid_t tid);
/* The tids in /proc/PID/task, in the order the kernel lists them (the
 * thread group's list: the leader first): at most max stored, the count
 * returned (more than max: the rest was left out); -1 with errno when
 * the directory cannot be read.  With thread, h is a thread's
 * (proc_open_task()): the list of the process it belongs to. */
int proc_list_tasks(const struct proc_handle *h, bool thread, pid_t *tids,
		    int max);

/* Read /proc/PID/stat once, for a process not worth a kept handle (an
 * ancestor, an adopter, a scan of /proc). */
int proc_peek_stat(pid_t pid, struct proc_stat *st);

/* Re-read /proc/PID/stat through the kept fd. */
int proc_read_stat(const struct proc_handle *h, struct proc_stat *st);
/* Read and parse /proc/PID/status. */
int proc_read_status(const struct proc_handle *h, struct proc_status *ps);
/* Read a small file of /proc/PID (wchan, cmdline, ...) into buf (NUL
 * added, *len set to the bytes read, without the NUL). */
int proc_read_file(const struct proc_handle *h, const char *name,
		   char *buf, size_t size, size_t *len);
/* The size in bytes of a file of /proc/PID (cmdline, environ, ...), read
 * to its end. */
int proc_file_size(const struct proc_handle *h, const char *name,
		   size_t *len);
/* Count the entries of /proc/PID/fd; -1 with errno when it can't be read. */
int proc_count_fds(const struct proc_handle *h);

/* One open file of a process, from /proc/PID/fd/N and /proc/PID/fdinfo/N
 * (read one after the other: a file closed in between has no flags). */
#define PROC_FD_TARGET 128
struct proc_fd {
	int fd;
	char target[PROC_FD_TARGET];    /* the link: "/dev/null",
					 * "pipe:[4242]"; "" if unreadable;
					 * a longer one is cut */
	bool flags_ok;                  /* fdinfo's flags were read */
	unsigned flags;                 /* open flags (octal in fdinfo),
					 * O_CLOEXEC for FD_CLOEXEC */
};
/* The open files of /proc/PID/fd in fd order, at most max of them (*n
 * set to how many there are, which may be more).  PROC_GONE or
 * PROC_ERROR (errno) when the directory can't be read. */
int proc_read_fds(const struct proc_handle *h, struct proc_fd *fds, int max,
		  int *n);
/* Parse the "flags:" line of /proc/PID/fdinfo/N (octal).  Returns 0, or
 * -1 when the line is missing, malformed or cut short. */
int procfs_parse_fdinfo_flags(const char *buf, size_t len, unsigned *flags);
/* A symbolic link of /proc/PID ("exe", "cwd") into buf, NUL-terminated,
 * cut to size - 1. */
int proc_read_link(const struct proc_handle *h, const char *name, char *buf,
		   size_t size);
/* The target of the symbolic link /proc/PID/fd/FD (e.g. "pipe:[4242]",
 * "/dev/null") into buf (NUL added, cut to size - 1).  PROC_GONE when the
 * process is gone; PROC_ERROR with errno (ENOENT: no such fd, EACCES:
 * another user's process). */
int proc_read_fd_link(const struct proc_handle *h, int fd, char *buf,
		      size_t size);
/* The inode of a pipe's fd link, "pipe:[N]" (len bytes, need not be
 * NUL-terminated): 0 with *inode set, -1 for any other text. */
int procfs_parse_pipe_link(const char *buf, size_t len,
			   unsigned long long *inode);
/* The owner of /proc/PID itself, and of a file in it. */
int proc_owner(const struct proc_handle *h, uid_t *uid);
int proc_file_owner(const struct proc_handle *h, const char *name, uid_t *uid);

/* MemAvailable of /proc/meminfo, in kB: the kernel's estimate of memory
 * that can be used without swapping.  PROC_ERROR when it can't be read. */
int proc_mem_available(long long *kb);

/* How many tasks (threads included, as RLIMIT_NPROC counts them) the
 * processes whose /proc/PID belongs to uid have now: a stat of /proc/PID
 * and of its task directory (2 links + one per thread) each.  Processes
 * /proc hides (hidepid, not dumpable) are not counted.  PROC_ERROR when
 * /proc can't be listed. */
int proc_count_tasks(uid_t uid, long long *n);
/* Parse the text of /proc/meminfo for MemAvailable.  Returns 0, or -1 if
 * the line is missing, malformed or cut short (no newline). */
int procfs_parse_meminfo_available(const char *buf, size_t len, long long *kb);
/* Read a kernel setting under /proc/sys, e.g. "kernel/core_pattern", into
 * buf (NUL added, one trailing newline removed, *len set). */
int proc_read_sysctl(const char *name, char *buf, size_t size, size_t *len);

#endif
