#!/bin/sh
# po.sh - every translation is whole and matches the code: each message the
# code and the tables have now (the template `make` builds, as `make pot`
# does) is translated, none is fuzzy, and msgfmt --check finds no format
# that differs from its msgid.  `make check` runs it (in the C locale).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
pot=$BUILD/po/proclab.pot
fail() { echo "po.sh: $*" >&2; exit 1; }
[ -s "$pot" ] || fail "no $pot (make $pot)"
n=0
for l in $(cat po/LINGUAS); do
	po=po/$l.po
	stats=$(LC_ALL=C msgfmt --check --statistics -o /dev/null "$po" 2>&1) ||
		fail "$po: msgfmt --check failed: $stats"
	case $stats in
	*fuzzy*|*untranslated*) fail "$po: $stats (make pot, then translate)" ;;
	esac
	# each message of the code, translated (untranslated and fuzzy
	# entries count as missing)
	missing=$(LC_ALL=C msgcmp "$po" "$pot" 2>&1) ||
		fail "$po lacks messages of the code (make pot):
$(printf '%s\n' "$missing" | head -n 20)"
	n=$((n + 1))
	echo "po.sh: $po: $stats"
done
[ "$n" -gt 0 ] || fail "no language in po/LINGUAS"
