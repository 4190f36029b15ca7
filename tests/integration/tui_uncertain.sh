#!/bin/bash
# The explorer's uncertain list (reach.uncertain, issue 12), driven in
# tmux. The image (as tests/integration/reach_needs.sh section 4 builds
# it): a gcc-built program that dlopens a name it builds at run time from
# a directory it names (/usr/lib/whplug), its plugin there, the
# toolchain's C library and loader. The slim view shows the entry above
# the file rows (the program, the hint, why); U lists it in full; x on the
# hint's directory (kept partly, by name, which x would otherwise drop)
# keeps it whole and the entry leaves the list; z brings it back. U also
# lists the data directories (a Volume nothing names: dropped whole) and the
# directories kept partly (the hint's, before x). A program without dlopen (the same image slimmed from another
# entrypoint) shows no list.
. "$(dirname "$0")/lib.sh"
need_cmd gcc readelf /usr/bin/python3
: "${MKIMAGE:?}"
. "$(dirname "$0")/tmux.sh"

R=$T/root
mkdir -p "$R/usr/bin" "$R/usr/lib/x86_64-linux-gnu" "$R/usr/lib64" "$R/usr/lib/whplug"
# a declared Volume nothing names: a data directory dropped whole
mkdir -p "$R/srv/data"
printf 'seed\n' >"$R/srv/data/seed"
ln -s usr/bin "$R/bin"
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"
cat >"$T/plain.c" <<'EOF'
#include <stdio.h>
int main(void) { puts("plain"); return 0; }
EOF
gcc -shared -fPIC "$SRCDIR/tests/integration/plug.c" -o "$R/usr/lib/whplug/hello.so" && gcc "$SRCDIR/tests/integration/plugprog.c" -o "$R/usr/bin/plugprog" &&
	gcc "$T/plain.c" -o "$R/usr/bin/plain" || skip "gcc cannot build the test programs"
libc=$(gcc -print-file-name=libc.so.6)
interp=$(readelf -l "$R/usr/bin/plugprog" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
[ -f "$libc" ] && [ -n "$interp" ] && [ -e "$interp" ] || skip "no C library ($libc) or loader ($interp) to copy"
cp -L "$libc" "$R/usr/lib/x86_64-linux-gnu/libc.so.6"
cp -L "$interp" "$R/usr/lib/x86_64-linux-gnu/$(basename "$interp")"
ln -s "../lib/x86_64-linux-gnu/$(basename "$interp")" "$R/usr/lib64/$(basename "$interp")"
spec_of_tree "$R" "gcc's programs and the toolchain's C library" >"$T/spec"
IMG=$T/img.tar
"$MKIMAGE" --format oci-archive --volume /srv/data --entrypoint '["/usr/bin/plugprog"]' "$T/spec" "$IMG" >/dev/null ||
	{ bad "mkimage failed"; finish; exit 1; }

tui_launcher
W=160 H=50 LW=64
start() { # SESSION ARGS...
	local s=$1
	shift
	TM new-session -d -s "$s" -x $W -y $H \
		"cd '$T' && env -u CI -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 $T/run.sh $*"
}
w() { wait_for "$@" || bad "timed out waiting for [$2]"; }
rows() { EXP parse "$T/screen" "$((LW + 1))" markers; }
marker_of() { rows | awk -v p="$1" '$2 == p { print $1 }'; }
# the tree pane's line N (1: its title)
pane_line() { sed -n "${1}p" "$T/screen" | cut -c"$((LW + 2))"-; }
ENTRY="uncertain: /usr/bin/plugprog (keeping /usr/lib/whplug settles it): imports dlopen"

start u "'$IMG'"
w u "Layers (per layer)"
keys u s
w u "Slim "
check "the entry is shown: the program, its hint, why" on_screen "$ENTRY"
check "it is the first line above the file rows (under the column header)" \
	sh -c "sed -n 3p '$T/screen' | cut -c$((LW + 2))- | grep -qF '$ENTRY'"
check "the file rows follow it" sh -c "sed -n 4p '$T/screen' | grep -qF '── bin'"
eq "the plugin is removable" "$(marker_of /usr/lib/whplug/hello.so)" "✗"
eq "its directory is kept partly (by name)" "$(marker_of /usr/lib/whplug)" "◐"

# U: the list in full
keys u U
w u "Uncertain: what the analysis cannot see"
check "U: one entry" on_screen "1 uncertain: kept programs that may load code or data"
check "U: the program" grep -qE "│ /usr/bin/plugprog +│" "$T/screen"
check "U: what settles it" on_screen "settled  by keeping /usr/lib/whplug (x on it keeps it whole)"
# and what the analysis decided whole or in part: the Volume, the named directory
check "U: the Volume, a data directory dropped whole" on_screen "dropped whole /srv/data (Volume, 5 B, 1 file)"
check "U: the directory the program names, kept partly" on_screen "kept partly /usr/lib/whplug"
check "U: named by the program" on_screen "named by /usr/bin/plugprog"
check "U: its one member dropped" on_screen "members  0 kept, 1 dropped"
keys u Escape
w u "sort: name"

# x on the hint (a partly kept directory, which x would otherwise drop):
# kept whole, the entry leaves the list
keys u / '/whplug$' Enter
w u 'search: /whplug$ (1/1)'
keys u Escape
w u "sort: name"
wait_gone u "search: " 100 || bad "still on the screen: [search: ]"
keys u x
w u "kept /usr/lib/whplug"
wait_gone u "uncertain: /usr/bin/plugprog" || bad "the entry stays after the hint is kept"
check "kept: the entry is gone" sh -c "! grep -qF 'uncertain: ' '$T/screen'"
eq "the plugin is kept now" "$(marker_of /usr/lib/whplug/hello.so)" "✓"
eq "its directory is yours" "$(marker_of /usr/lib/whplug)" "K"
check "the file rows start under the column header again" sh -c "sed -n 3p '$T/screen' | grep -qF '── bin'"
keys u U
w u "Uncertain: what the analysis cannot see"
check "U: none left" on_screen "(none: every kept program's loads are seen)"
keys u Escape
w u "sort: name"
# z: the keep undone, the entry back
keys u z
w u "undone: /usr/lib/whplug"
w u "$ENTRY"
check "z: the entry is back" on_screen "$ENTRY"
keys u q
w u "EXITED 0"

# a program that does not dlopen: no list
start p --entrypoint /usr/bin/plain "'$IMG'"
w p "Layers (per layer)"
keys p s
w p "Slim "
check "another entrypoint without dlopen: no uncertain line" sh -c "! grep -qF 'uncertain: ' '$T/screen'"
check "the file rows start under the column header" sh -c "sed -n 3p '$T/screen' | grep -qF '── bin'"
keys p q
w p "EXITED 0"

finish
