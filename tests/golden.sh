#!/bin/sh
# golden.sh - every lab's --stable output (text and JSON) against the copy
# checked in under tests/golden/.
#
#   sh tests/golden.sh check    compare; prints 'N passed, N failed'
#   sh tests/golden.sh update   rewrite the copies (review the diff!)
#   sh tests/golden.sh pidns    compare inside a new PID namespace with its
#                               own /proc (small pids, proclab's parent is
#                               PID 1): the same bytes; skipped where
#                               unshare(1) cannot make one
#
# PROCLAB names the binary (default ./proclab).  A case is a lab and its
# options; its files are tests/golden/NAME.txt and NAME.jsonl.  Every lab
# `proclab list` names is a case with its defaults (but one that follows
# processes given on its command line); the variants are listed below.
set -u
mode=${1:-check}
proclab=${PROCLAB:-./proclab}
dir=$(dirname "$0")/golden
if [ "$mode" = pidns ]; then
	if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
		echo "golden: pidns: skipped: unshare cannot make a PID namespace here"
		exit 0
	fi
	proclab=$(cd "$(dirname "$proclab")" && pwd)/$(basename "$proclab")
	exec unshare --pid --fork --mount-proc env PROCLAB="$proclab" \
		sh "$0" check
fi

# made after the exec above, which would leave it behind
tmp=$(mktemp -d "${TMPDIR:-/tmp}/proclab-golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM HUP

# NAME LAB [OPTIONS...]
cases() {
	"$proclab" list | while read -r lab _; do
		# `usage: proclab LAB [options]`: a lab that needs no operand
		"$proclab" help "$lab" | head -n 1 |
			grep -q "^usage: proclab $lab \[options\]\$" &&
			echo "$lab $lab"
	done
	cat <<'CASES'
fork-children-4 fork --children 4
zombie-ignore-sigchld zombie --ignore-sigchld
orphan-subreaper orphan --subreaper
tree-solve-a tree --solve --seed 3 --actions 10 --reaper a
tree-each tree --solve -A a+b,b+c,c+d,d+e,c-,b+f,b- --reaper each
tree-show-trees tree --show-trees --seed 5 --reaper a
tree-loop tree --loop 3 --solve
exit-vs-_exit-forks-3 exit-vs-_exit --forks 3
wait-signals wait --term-signal 4 --core-signal 3
CASES
}

pass=0 fail=0
while read -r name lab opts; do
	for kind in txt jsonl; do
		json=""
		[ "$kind" = jsonl ] && json=--json
		# shellcheck disable=SC2086 # opts is a list of words
		"$proclab" "$lab" $opts --stable --no-color $json \
			</dev/null >"$tmp/$name.$kind" 2>"$tmp/err"
		rc=$?
		echo "exit $rc" >>"$tmp/$name.$kind"
		if [ "$mode" = update ]; then
			cp "$tmp/$name.$kind" "$dir/$name.$kind"
			continue
		fi
		if cmp -s "$tmp/$name.$kind" "$dir/$name.$kind"; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "golden: $name.$kind differs:"
			diff -u "$dir/$name.$kind" "$tmp/$name.$kind" | head -20
		fi
	done
done <<EOF2
$(cases)
EOF2
[ "$mode" = update ] && { echo "golden: rewrote $dir; review git diff"; exit 0; }
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
