#!/bin/sh
# tests/valgrind.sh PROCLAB CHECK - every lab, and the unit-test suites,
# under valgrind's memcheck (make valgrind).
#
# Every process a lab forks runs under valgrind too (a fork is the same
# program); each writes its own log.  A lab passes when it exits 0 and no
# log holds an error: memory misuse, or a leak that is definitely lost.
# Children end in _exit without freeing, by design, so only definite
# leaks count.  Nothing is suppressed.
#
# --run-libc-freeres=no: at exit valgrind normally calls glibc's
# __libc_freeres, which flushes stdio buffers; in a child that calls
# _exit that would print what the exit-vs-_exit lab shows is lost.
#
# Errors are read from the logs, not from --error-exitcode, which would
# change the exit codes of the children: the labs observe those.
#
# Exit status: 0 clean, 1 a valgrind error or a lab failure.
set -u

proclab=${1:?usage: tests/valgrind.sh PROCLAB CHECK}
check=${2:?usage: tests/valgrind.sh PROCLAB CHECK}
dir=$(mktemp -d "${TMPDIR:-/tmp}/proclab-valgrind.XXXXXX") || exit 1
target=
trap 'rm -rf "$dir"; [ -n "$target" ] && kill "$target" 2>/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

vg() {
	valgrind -q --trace-children=no --run-libc-freeres=no \
	    --leak-check=full --errors-for-leak-kinds=definite \
	    --show-leak-kinds=definite \
	    --log-file="$dir/$name.%p.log" "$@"
}

# The error lines of this name's logs (valgrind's own notes, such as the
# warning about pidfd_open, begin with --PID--, not ==PID==).
errors() {
	cat "$dir/$name".*.log 2>/dev/null | grep -c '^==[0-9]*== [^ ]'
}

runs=0 failed=0
report() {       # name, lab exit status, what the lab did
	runs=$((runs + 1))
	n=$(errors)
	if [ "$2" -eq 0 ] && [ "$n" -eq 0 ]; then
		printf '%-24s ok    %s\n' "$name" "$3"
		return
	fi
	failed=$((failed + 1))
	printf '%-24s FAIL  exit %s, %s valgrind error lines\n' "$name" "$2" "$n"
	cat "$dir/$name".*.log 2>/dev/null | grep '^==' | sed 's/^/    /'
	sed 's/^/    stderr: /' "$dir/$name.err"
}

procs() {       # "N processes": how many wrote a log for this name
	set -- "$dir/$name".*.log
	[ -e "$1" ] || set --
	if [ $# -eq 1 ]; then echo "1 process"; else echo "$# processes"; fi
}

# A lab that forks a process to follow is given one made here: it blocks
# in read(2) on a FIFO until the lab has started following it.
watch_run() {   # extra proclab options...
	mkfifo "$dir/fifo" || exit 1
	sh -c 'read x < "$1"' sh "$dir/fifo" &
	target=$!
	# stdout is read line by line: the follow stage starting is the
	# moment to let the target go
	{ vg "$proclab" watch "$@" "$target" 2>"$dir/$name.err"
	  echo "exit $?"; } |
	while read -r line; do
		case $line in
		*'"event":"stage"'* | 'stage '*) echo > "$dir/fifo" ;;
		'exit '*) echo "${line#exit }" > "$dir/$name.rc" ;;
		esac
	done
	# (still blocked if the lab ended before following it)
	kill "$target" 2>/dev/null
	wait "$target" 2>/dev/null
	target=
	rm -f "$dir/fifo"
	cat "$dir/$name.rc" 2>/dev/null || echo 1
}

echo "valgrind: $(valgrind --version); each process logs on its own"
for lab in $("$proclab" list | cut -d' ' -f1); do
	for mode in json text; do
		name=$lab-$mode
		# (watch takes no --timeout: it follows until its processes end)
		opts=--timeout=30000
		[ "$lab" = watch ] && opts=
		[ "$mode" = json ] && opts="$opts --json" || opts="$opts -v"
		if [ "$lab" = watch ]; then
			# shellcheck disable=SC2086
			rc=$(watch_run $opts)
		else
			# shellcheck disable=SC2086
			vg "$proclab" "$lab" $opts >"$dir/$name.out" \
			    2>"$dir/$name.err" </dev/null
			rc=$?
		fi
		what="$(procs) under valgrind"
		# valgrind runs clone(CLONE_VM|CLONE_VFORK) as a fork: the
		# vfork child gets a copy of the memory, not the caller's, and
		# the lab says so at its write stage (exit 1); the stages up
		# to there still run under valgrind
		if [ "$lab" = vfork ] && [ "$rc" -eq 1 ] &&
		   grep -q 'read [0-9]*, stored by its vfork child; it read 0' \
		       "$dir/$name.err"; then
			rc=0
			what="$what; stops at the write stage, as it must"
			what="$what under valgrind (vfork shares no memory there)"
		fi
		# valgrind handles every signal itself: /proc shows its
		# dispositions, not the lab's, and the signal lab says so at
		# its first stage (exit 3), the exec lab at its prepare stage
		if { [ "$lab" = signal ] || [ "$lab" = exec ]; } &&
		   [ "$rc" -eq 3 ] &&
		   grep -q 'a tool (valgrind?) handles its signals' \
		       "$dir/$name.err"; then
			rc=0
			what="$what; stops where it reads the signal masks,"
			what="$what as it must under valgrind (it catches"
			what="$what every signal)"
		fi
		# valgrind does not stop a process on SIGTTIN or SIGTSTP
		# (raise(SIGTSTP) returns at once there): the session lab's
		# reader never shows T, and the lab says so at its background
		# stage (exit 1); the stages up to there ran under valgrind
		if [ "$lab" = session ] && [ "$rc" -eq 1 ] &&
		   grep -q 'expected reader [0-9]* to show T (stopped)' \
		       "$dir/$name.err"; then
			rc=0
			what="$what; stops at the background stage, as it"
			what="$what must under valgrind (no stop on SIGTTIN)"
		fi
		# with valgrind following children, a program the pipe lab's
		# children exec runs under valgrind too and /proc names it
		# memcheck, not wc: the lab says so at its exec-wc stage
		# (exit 1); the stages up to there ran under valgrind
		if [ "$lab" = pipe ] && [ "$rc" -eq 1 ] &&
		   grep -q 'to run wc and show S.*running memcheck' \
		       "$dir/$name.err"; then
			rc=0
			what="$what; stops at the exec-wc stage, as it must"
			what="$what under valgrind (the exec'd wc is memcheck)"
		fi
		# valgrind supports clone() only as fork, vfork or a thread
		# library's: the thread lab's clone stage (CLONE_VM alone, ...)
		# cannot run there, and valgrind ends that process; the stages
		# up to there ran under valgrind
		if [ "$lab" = thread ] && [ "$rc" -eq 1 ] &&
		   grep -q 'Valgrind does not support general clone' \
		       "$dir/$name".*.log; then
			runs=$((runs + 1))
			printf '%-24s ok    %s\n' "$name" "$what; stops at the clone stage, as it must under valgrind (no general clone())"
			continue
		fi
		report "$name" "$rc" "$what"
	done
done

for suite in procfs wstatus escape; do
	name=unit-$suite
	CK_FORK=no CK_RUN_SUITE=$suite vg "$check" >"$dir/$name.out" \
	    2>"$dir/$name.err"
	rc=$?
	report "$name" "$rc" "$(tail -n 1 "$dir/$name.out")"
done

echo "valgrind: $((runs - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
