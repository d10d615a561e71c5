#!/bin/sh
# grade.sh - grade a class's proclab records: a wrapper of `proclab grade`.
#
#   sh grade.sh [--csv] [--class FILE] RECORD-or-DIRECTORY...
#
# Each student runs a lab with a record, for example
#
#   proclab zombie --student ann --quiz --record ann-zombie.jsonl
#
# and hands in the record (JSON Lines).  This script gives every *.jsonl
# file of a directory (and every file named) to `proclab grade`, which
# recomputes each score from the record's answers and observed events
# (never from its `score` field) and flags records that are inconsistent,
# copied or of another variant than the class list assigns (labs/
# instructor.md says what it can and cannot detect).  One line a student,
# or CSV with --csv.
#
# PROCLAB names the binary (default: proclab on the PATH, else ./proclab).
# Exit status: that of proclab grade: 0 nothing flagged, 1 something
# flagged, 2 usage.

proclab=${PROCLAB:-}
if [ -z "$proclab" ]; then
	if command -v proclab >/dev/null 2>&1; then
		proclab=proclab
	else
		proclab=./proclab
	fi
fi

csv=
class=
while [ $# -gt 0 ]; do
	case $1 in
	--csv) csv=--csv; shift ;;
	--class)
		if [ $# -lt 2 ]; then
			echo "grade.sh: --class needs a file" >&2
			exit 2
		fi
		class=$2
		shift 2 ;;
	--) shift; break ;;
	-*) echo "usage: sh grade.sh [--csv] [--class FILE] RECORD-or-DIR..." >&2
	    exit 2 ;;
	*) break ;;
	esac
done
if [ $# -eq 0 ]; then
	echo "usage: sh grade.sh [--csv] [--class FILE] RECORD-or-DIR..." >&2
	exit 2
fi

# the records, as proclab grade's arguments: files as given, directories
# as their *.jsonl files (in the shell's order)
n=$#
for a in "$@"; do
	if [ -d "$a" ]; then
		for f in "$a"/*.jsonl; do
			[ -e "$f" ] && set -- "$@" "$f"
		done
	else
		set -- "$@" "$a"
	fi
done
shift "$n"
[ -n "$class" ] && set -- --class "$class" -- "$@" || set -- -- "$@"
[ -n "$csv" ] && set -- "$csv" "$@"
exec "$proclab" grade "$@"
