#!/bin/bash
# layering: the includes keep the layers apart (DESIGN.md): analyzer includes
# nothing from slimmer/, tui/ or cli/; slimmer nothing from tui/ or cli/; tui
# nothing from cli/ (tui and cli are siblings over slimmer and analyzer).
#
# layering.sh SRCDIR      check the tree at SRCDIR (what meson runs)
# layering.sh --self-test check that the checker finds a violation in a
#                         small tree of its own making, and passes a clean one
set -euo pipefail

# check ROOT: prints each forbidden include as FILE:LINE: INCLUDE; exit 1 if any
check() {
	local root=$1 bad=0 layer forbidden f
	for layer in analyzer slimmer tui; do
		case $layer in
		analyzer) forbidden='slimmer|tui|cli' ;;
		slimmer) forbidden='tui|cli' ;;
		tui) forbidden='cli' ;;
		esac
		[ -d "$root/$layer" ] || { echo "layering: no $root/$layer" >&2; return 2; }
		while IFS= read -r -d '' f; do
			# #include "X/..." or "../X/..." (also with spaces after # and <...>)
			if grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<](\.\./)*($forbidden)/" "$f" \
				| sed "s|^|${f#"$root"/}:|"; then
				bad=1
			fi
		done < <(find "$root/$layer" -type f \( -name '*.c' -o -name '*.h' \) -print0)
	done
	return $bad
}

if [ "${1:-}" = "--self-test" ]; then
	T=$(mktemp -d "${TMPDIR:-/tmp}/whittle-layering.XXXXXX")
	trap 'rm -rf "$T"' EXIT
	mkdir -p "$T"/{analyzer,slimmer,tui,cli}
	printf '#include "analyzer/util.h"\n' >"$T/analyzer/a.c"
	printf '#include "analyzer/util.h"\n#include "slimmer/s.h"\n' >"$T/tui/t.c"
	printf '#include "tui/t.h"\n' >"$T/cli/c.c"
	check "$T" >/dev/null || { echo "FAIL: a clean tree is reported" >&2; exit 1; }
	fails=0
	for v in 'analyzer/a.c:#include "cli/cli.h"' 'analyzer/a.h:# include <tui/crt.h>' \
		'slimmer/s.c:#include "../tui/crt.h"' 'slimmer/s.h:#include "cli/cli.h"' \
		'tui/t.h:  #include "cli/cli.h"'; do
		file=${v%%:*} line=${v#*:}
		cp -r "$T" "$T.v"
		printf '%s\n' "$line" >>"$T.v/$file"
		if out=$(check "$T.v"); then
			echo "FAIL: not found: $line in $file" >&2
			fails=$((fails + 1))
		elif [ "$out" != "$file:2:$line" ] && [ "$out" != "$file:1:$line" ]; then
			echo "FAIL: $line in $file reported as: $out" >&2
			fails=$((fails + 1))
		else
			echo "ok   found: $out"
		fi
		rm -rf "$T.v"
	done
	[ $fails = 0 ] || exit 1
	echo "ok   layering checker self-test"
	exit 0
fi

root=${1:?usage: layering.sh SRCDIR | --self-test}
if ! check "$root"; then
	echo "FAIL: the includes above cross the layers (analyzer < slimmer < tui, cli)" >&2
	exit 1
fi
echo "ok   the includes keep the layers: analyzer < slimmer < tui, cli"
