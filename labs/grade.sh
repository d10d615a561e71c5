#!/bin/sh
# grade.sh - grade proclab runs against a reference run (POSIX sh and awk).
#
#   proclab zombie --json > key.jsonl                   # the instructor, once
#   proclab zombie --quiz --json < answers.txt > ann.jsonl   # each student
#   sh grade.sh key.jsonl ann.jsonl bob.jsonl ...
#
# For each run, one line:
#
#   ann.jsonl: zombie, ran ok, states as the key, quiz 3 of 4
#   bob.jsonl: zombie, FAILED (exit 1), states differ: child RS (key RSZX), quiz 1 of 2
#
# "states" compares, role by role, the states the run demonstrated (its
# state events without "transient") with the key's: pids differ from run
# to run, roles and demonstrated states do not.  The quiz score is the one
# the run's result event carries (a run without --quiz shows "no quiz").
#
# Exit status: 0 when every run ran ok and showed the key's states, 1 when
# one did not, 2 on a usage error.  Needs nothing beyond sh and awk: no jq.

if [ $# -lt 2 ]; then
	echo "usage: sh grade.sh KEY.jsonl RUN.jsonl..." >&2
	exit 2
fi
key=$1
shift
if [ ! -r "$key" ] || [ ! -s "$key" ]; then
	echo "grade.sh: cannot read the key (or it is empty) '$key'" >&2
	exit 2
fi

status=0
for run in "$@"; do
	if [ ! -r "$run" ]; then
		echo "$run: cannot read it"
		status=1
		continue
	fi
	awk '
	# The value of "name" in one JSON line: a string (its escapes kept)
	# or a number, true, false, null.  proclab writes each key once per
	# line, and a quote inside a string value is escaped (\"), so the
	# first "name": is the key itself.
	function field(line, name,    p, s, i, c) {
		p = index(line, "\"" name "\":")
		if (p == 0)
			return ""
		s = substr(line, p + length(name) + 3)
		if (substr(s, 1, 1) != "\"") {
			match(s, /^[^,}]*/)
			return substr(s, 1, RLENGTH)
		}
		for (i = 2; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\\")
				i++
			else if (c == "\"")
				return substr(s, 2, i - 2)
		}
		return ""
	}
	# the demonstrated states of each role, roles in order of appearance
	FNR == 1 {
		f++     # 1: the key, 2: the run (which may be the same file)
	}
	{
		ev = field($0, "event")
		if (ev == "start")
			lab[f] = field($0, "lab")
		if (ev == "state" && index($0, "\"transient\":true") == 0) {
			role = field($0, "role")
			if (!((f, role) in seq))
				roles[f, ++nroles[f]] = role
			seq[f, role] = seq[f, role] field($0, "state")
		}
		if (ev == "result" && f == 2) {
			ok = field($0, "ok")
			code = field($0, "exit")
			score = field($0, "score")
			questions = field($0, "questions")
		}
	}
	END {
		line = ARGV[2] ": "
		if (lab[2] == "") {
			print line "not the --json output of a proclab run"
			exit 1
		}
		bad = 0
		line = line lab[2]
		if (lab[2] != lab[1]) {
			line = line " (the key is " lab[1] ")"
			bad = 1
		}
		if (ok == "true")
			line = line ", ran ok"
		else {
			line = line ", FAILED (exit " (code == "" ? \
			       "unknown: no result" : code) ")"
			bad = 1
		}
		diff = ""
		for (i = 1; i <= nroles[1]; i++) {
			role = roles[1, i]
			if (seq[2, role] != seq[1, role])
				diff = diff " " role " " \
				       (seq[2, role] == "" ? "-" : seq[2, role]) \
				       " (key " seq[1, role] ")"
		}
		for (i = 1; i <= nroles[2]; i++)
			if (!((1, roles[2, i]) in seq))
				diff = diff " " roles[2, i] " " \
				       seq[2, roles[2, i]] " (not in the key)"
		if (diff == "")
			line = line ", states as the key"
		else {
			line = line ", states differ:" diff
			bad = 1
		}
		if (questions == "")
			line = line ", no quiz"
		else
			line = line ", quiz " score " of " questions
		print line
		exit bad
	}' "$key" "$run" || status=1
done
exit $status
