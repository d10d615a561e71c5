#!/bin/sh
# install.sh - `make install` and `make uninstall` into a temporary DESTDIR:
# every file in its place with its mode, the installed proclab runs, the
# installed bash completion completes, and uninstall leaves no file behind.
# `make check` runs it: PROCLAB=./proclab MAKE=make sh tests/install.sh
set -eu
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
PROCLAB=${PROCLAB:-./proclab}
prefix=/opt/proclab
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail() { echo "install.sh: $*" >&2; exit 1; }

$MAKE -s install DESTDIR="$dest" PREFIX="$prefix" >/dev/null

# mode, then path under PREFIX: exactly these files
{
	echo "755 bin/proclab"
	echo "644 share/man/man1/proclab.1"
	echo "644 share/bash-completion/completions/proclab"
	echo "644 share/zsh/site-functions/_proclab"
	for f in README.md docs/*.md labs/*.md; do
		echo "644 share/doc/proclab/${f##*/}"
	done
	echo "755 share/doc/proclab/grade.sh"
	for l in $(cat po/LINGUAS); do
		echo "644 share/locale/$l/LC_MESSAGES/proclab.mo"
		echo "644 share/man/$l/man1/proclab.1"
		for f in labs/$l/*.md; do
			echo "644 share/doc/proclab/$l/${f##*/}"
		done
	done
} | sort -k 2 >"$dest/expected"
(cd "$dest$prefix" && find . -type f -printf '%m %P\n' | sort -k 2) >"$dest/got"
cmp -s "$dest/expected" "$dest/got" ||
	fail "installed files differ (- expected, + installed):
$(diff -u "$dest/expected" "$dest/got" | tail -n +3)"
grep -q ' share/doc/proclab/zombie.md$' "$dest/got" || fail "no worksheet"

# the installed proclab finds its catalogue (PREFIX/share/locale beside
# PREFIX/bin), and the Chinese man page has break points for groff
LC_ALL= LANGUAGE=zh_CN LANG=C.UTF-8 "$dest$prefix/bin/proclab" list >"$dest/list.zh" ||
	fail "proclab list in Chinese failed"
LANGUAGE= LC_ALL=C "$dest$prefix/bin/proclab" list | cmp -s - "$dest/list.zh" &&
	fail "installed proclab does not find its zh_CN catalogue"
grep -q '\\:' "$dest$prefix/share/man/zh_CN/man1/proclab.1" ||
	fail "the zh_CN man page has no break points"

# the installed proclab is the one built
"$dest$prefix/bin/proclab" --version >"$dest/version" || fail "--version failed"
"$PROCLAB" --version | cmp -s - "$dest/version" ||
	fail "installed --version differs: $(cat "$dest/version")"
head -n 1 "$dest/version" | grep -qx 'proclab [0-9][0-9.]*' ||
	fail "--version's first line: $(head -n 1 "$dest/version")"
# its bash completion, as bash-completion would load it
got=$(bash -c '. "$1"; COMP_WORDS=("$2" zo); COMP_CWORD=1; _proclab
	echo "${COMPREPLY[*]}"' - "$dest$prefix/share/bash-completion/completions/proclab" \
	"$dest$prefix/bin/proclab")
[ "$got" = zombie ] || fail "installed completion of 'proclab zo': '$got'"

$MAKE -s uninstall DESTDIR="$dest" PREFIX="$prefix" >/dev/null
left=$(cd "$dest$prefix" && find . ! -type d)
[ -z "$left" ] || fail "left after uninstall: $left"
[ ! -e "$dest$prefix/share/doc/proclab" ] || fail "share/doc/proclab left"
echo "install.sh: $(wc -l <"$dest/expected") files installed and uninstalled"
