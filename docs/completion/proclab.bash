# bash completion for proclab(1): labs, options, option values and pids.
#
# It asks the proclab on the command line (`proclab list`, `proclab LAB
# --help`) what labs and options there are, so it is never out of date
# with the binary it completes.  Numeric values (--delay MS, --code N, ...)
# have no completion; PID operands and values complete from /proc.
#
# Installed by `make install` as share/bash-completion/completions/proclab,
# where the bash-completion package loads it; or: source proclab.bash

# The options of `PROG LAB --help` (the lab's and the common ones), one
# "NAME METAVAR" pair a line, METAVAR empty for a flag: "--delay MS", "-v ".
_proclab_options()
{
	local line re='^  (-[[:alpha:]], )?(--[[:alnum:]][[:alnum:]-]*)( ([A-Z][A-Z.]*))?(  |$)'

	"$1" "$2" --help 2>/dev/null | while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		[[ -n ${BASH_REMATCH[1]} ]] &&
			printf '%s %s\n' "${BASH_REMATCH[1]%, }" "${BASH_REMATCH[4]}"
		printf '%s %s\n' "${BASH_REMATCH[2]}" "${BASH_REMATCH[4]}"
	done
}

# Pids of the processes in /proc, less those already on the command line.
_proclab_pids()
{
	local -a pids=(/proc/[0-9]*)
	local p w
	local -A given=()

	for w in "${COMP_WORDS[@]:2:COMP_CWORD-2}"; do
		[[ -n $w ]] && given[$w]=1
	done
	for p in "${pids[@]#/proc/}"; do
		[[ -z ${given[$p]-} && $p == "$1"* ]] && COMPREPLY+=("$p")
	done
}

_proclab()
{
	local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD - 1]} cmd=${COMP_WORDS[1]-}
	local opt arg operand i
	local -a labs names=()

	COMPREPLY=()
	prog=${prog/#\~/$HOME}
	mapfile -t labs < <("$prog" list 2>/dev/null | cut -d ' ' -f 1)
	((${#labs[@]} > 0)) || return	# not a proclab we can run

	if ((COMP_CWORD == 1)); then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W '--help --version -h -V' \
				-- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "${labs[*]} list claims help grade" \
				-- "$cur")
		fi
		return
	fi
	case $cmd in
	help | --help | -h)
		((COMP_CWORD == 2)) &&
			mapfile -t COMPREPLY < <(compgen -W "${labs[*]}" -- "$cur")
		return ;;
	claims)
		mapfile -t COMPREPLY < <(compgen -W '--check --json --help -h' \
			-- "$cur")
		return ;;
	list)
		((COMP_CWORD == 2)) &&
			mapfile -t COMPREPLY < <(compgen -W '--json' -- "$cur")
		return ;;
	grade)
		# records and the class list are files
		if [[ $cur == -* && $prev != --class ]]; then
			mapfile -t COMPREPLY < <(compgen -W '--csv --class --help -h' \
				-- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return ;;
	esac
	[[ " ${labs[*]} " == *" $cmd "* ]] || return

	# --name=value: bash splits it into --name, =, value
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	# after "--" every word is an operand
	for ((i = 2; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == -- ]] && operand=1
	done

	if [[ -z ${operand-} ]]; then
		while read -r opt arg; do
			names+=("$opt")
			[[ $opt == "$prev" && -n $arg ]] || continue
			# the value of an option: a pid, or a number (none)
			[[ $arg == PID* ]] && _proclab_pids "$cur"
			return
		done < <(_proclab_options "$prog" "$cmd")
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "${names[*]} --" \
				-- "$cur")
			return
		fi
	fi
	# operands: what the lab's usage line names, e.g. "watch PID..."
	"$prog" "$cmd" --help 2>/dev/null | head -n 1 |
		grep -q "^usage: proclab $cmd PID" && _proclab_pids "$cur"
}

complete -F _proclab proclab
