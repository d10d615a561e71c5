#!/usr/bin/env zsh
# completion.zsh - the zsh completion (docs/completion/_proclab) in a real
# interactive zsh on a pseudo-terminal (zpty): each case types a command
# line and TAB, and compares the matches (or the message) offered, sorted,
# with the words expected.  `make check` runs it when zsh is installed:
#   PROCLAB=./proclab zsh tests/completion.zsh
emulate -L zsh
cd ${0:A:h:h} || exit 1
zmodload zsh/zpty || exit 1
bin=${${PROCLAB:-./proclab}:A:h}
[[ -x $bin/proclab ]] || { print -u2 "completion.zsh: no $bin/proclab"; exit 1 }
integer failed=0 cases=0

# start: a fresh interactive zsh for one case.  The completion sees
# `proclab` as the one in $bin.  compadd prints every match and _message
# its text, as <<HIT word>> and <<MSG text>>; the end of a completion
# prints <<END>> (split in the source so that the echo of these lines
# never matches).
start() {
	local out
	zpty -b z "env -i HOME=/nonexistent TERM=dumb PATH=$bin:/usr/bin:/bin zsh -f -i"
	zpty -w z 'PS1= PS2=; bindkey "^I" complete-word'
	zpty -w z "fpath=(${(q)PWD}/docs/completion \$fpath); autoload -Uz compinit; compinit -u -D"
	zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a __h; builtin compadd -A __h "$@"; builtin compadd "$@"; local x; for x in $__h; do print -r -- "<<""HIT $x>>"; done; }'
	zpty -w z '_message() { print -r -- "<<""MSG ${@[-1]}>>"; }'
	zpty -w z '_done() { print -r -- "<<""END>>"; }; comppostfuncs=(_done)'
	zpty -w z 'print -r -- "<<""READY>>"'
	zpty -r z out '*<<READY>>*'
}

# expect LINE EXPECTED: TAB after LINE offers exactly EXPECTED
expect() {
	local out got
	start
	zpty -w -n z "$1"$'\t'
	zpty -r z out '*<<END>>*'
	got=${(j: :)${(ou)${(M)${(f)out}:#*<<[A-Z]## *>>*}//(#b)*<<[A-Z]## (*)>>*/$match[1]}}
	(( cases++ ))
	if [[ $got != $2 ]]; then
		print -u2 -r -- "completion.zsh: '$1'"$'\n'"  expected: $2"$'\n'"  got:      $got"
		(( failed++ ))
	fi
	zpty -d z
}

setopt extendedglob
labs=(${(o)${(f)"$($bin/proclab list | cut -d ' ' -f 1)"}})
(( $#labs >= 8 )) || { print -u2 "completion.zsh: proclab list: $labs"; exit 1 }
common=(--delay --help --json --no-color --quiz --record --stable --step --student --timeout --variant --verbose)

all=($labs claims grade help list)
expect 'proclab ' "${(j: :)${(@o)all}}"
expect 'proclab zo' 'zombie'
expect 'proclab -' '--help --version -V -h'
expect 'proclab help or' 'orphan'
expect 'proclab --help w' 'wait watch'
expect 'proclab list -' '--json'
expect 'proclab list --json ' 'no more arguments'
expect 'proclab claims --c' '--check'
zombie=($common --code --ignore-sigchld --touch)
expect 'proclab zombie --' "${(j: :)${(@o)zombie}}"
expect 'proclab zombie --ig' '--ignore-sigchld'
expect 'proclab zombie --code ' 'N (0 to 255)'
expect 'proclab zombie --delay=' 'MS (0 to 600000)'
expect 'proclab watch --for ' 'SECONDS (1 to 604800)'
expect 'proclab nosuch --' ''
print "completion.zsh: $((cases - failed)) passed, $failed failed"
(( failed == 0 ))
