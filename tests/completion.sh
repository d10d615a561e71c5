#!/bin/bash
# completion.sh - the bash completion (docs/completion/proclab.bash) against
# the proclab under test: `make check` runs it as
#   PROCLAB=./proclab bash tests/completion.sh
# Each case sets COMP_WORDS/COMP_CWORD as bash would, calls _proclab and
# compares COMPREPLY, sorted, with the words expected.
set -u
cd "$(dirname "$0")/.." || exit 1
PROCLAB=${PROCLAB:-./proclab}
# shellcheck source=docs/completion/proclab.bash
. docs/completion/proclab.bash
failed=0 cases=0

# words WORD...: the words sorted, on one line, (words of nothing: empty)
words()
{
	printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}

# reply WORD...: COMPREPLY for the command line WORD... (the last one is
# the word under the cursor), sorted, on one line.
reply()
{
	COMP_WORDS=("$PROCLAB" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_proclab
	words "${COMPREPLY[@]}"
}

# expect "WORD..." "EXPECTED": the reply must be exactly EXPECTED.
expect()
{
	local got
	got=$(eval "reply $1")
	cases=$((cases + 1))
	if [[ $got != "$2" ]]; then
		printf 'completion: proclab %s\n  expected: %s\n  got:      %s\n' \
			"$1" "$2" "$got" >&2
		failed=$((failed + 1))
	fi
}

mapfile -t labs < <("$PROCLAB" list | cut -d ' ' -f 1)
[[ " ${labs[*]} " == *" zombie "*" watch "* && ${#labs[@]} -ge 8 ]] || {
	echo "completion: 'proclab list' gave: ${labs[*]}" >&2
	exit 1
}
common=(--delay --help --json --no-color --quiz --record --stable --step --student --timeout --variant --verbose)

# the first word: labs and commands, or the options of proclab itself
expect '""' "$(words "${labs[@]}" claims grade help list)"
expect 'zo' 'zombie'
expect 'exit' 'exit-vs-_exit'
expect 'w' 'wait watch'
expect '-' '--help --version -V -h'
expect '--v' '--version'
# help and --help take one lab
expect 'help ""' "$(words "${labs[@]}")"
expect 'help or' 'orphan'
expect '--help v' 'vfork'
expect 'help zombie ""' ''
expect 'list ""' '--json'
expect 'list --json ""' ''
expect 'grade -' '--class --csv --help -h'
expect 'grade --class docs/completion/_pr' 'docs/completion/_proclab'
expect 'claims -' '--check --help --json -h'
expect 'claims --c' '--check'
expect 'claims --check --j' '--json'
expect '--version ""' ''
expect 'nosuch --' ''
# a lab's options: its own and the common ones, from its --help
expect 'zombie -' "$(words -- --code --ignore-sigchld --touch "${common[@]}" -h -v)"
expect 'zombie --ig' '--ignore-sigchld'
expect 'zombie --json --t' '--timeout --touch'
expect 'fork --' "$(words -- --children --pages "${common[@]}")"
expect 'watch --f' '--for'
expect 'states --c' '--code'
expect 'exit-vs-_exit --c' ''
# numbers are not completed, in either form of the option
expect 'zombie --delay ""' ''
expect 'zombie --code 4' ''
expect 'zombie --delay = ""' ''
expect 'zombie --timeout =' ''
expect 'watch --for ""' ''
# no operands but watch's, and no file names
expect 'zombie ""' ''
expect 'zombie -- --' ''

# watch completes pids from /proc: this shell's and init's among them,
# nothing that is not a number, and not a pid given already
got=$(reply watch '')
cases=$((cases + 1))
if [[ " $got " != *" $$ "* || " $got " != *" 1 "* || $got =~ [^0-9\ ] ]]; then
	echo "completion: proclab watch '': no pid $$ or 1, or not all pids: $got" >&2
	failed=$((failed + 1))
fi
expect "watch $$" "$$"
expect "watch --json $$ $$" ''
expect "watch -- $$" "$$"
got=$(reply watch 1 '')
cases=$((cases + 1))
if [[ " $got " == *" 1 "* || " $got " != *" $$ "* ]]; then
	echo "completion: proclab watch 1 '': pid 1 again, or no $$: $got" >&2
	failed=$((failed + 1))
fi
# a proclab that cannot run: nothing, and no error
expect '""' "$(words "${labs[@]}" claims grade help list)"
PROCLAB=./nonexistent-proclab expect '""' ''

echo "completion: $((cases - failed)) passed, $failed failed"
((failed == 0))
