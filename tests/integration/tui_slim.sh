#!/bin/bash
# The explorer's slimming, driven in tmux: on an image the test builds
# (a gcc-built program, the host's libraries and loader it needs, and junk
# of known sizes), the slim view (s) marks the program, its libraries and
# the always-kept files as kept and the junk as removable; the projected
# size is the sum of the kept files' sizes the test knows from its own
# construction; x keeps a junk file (the projection grows by exactly its
# size) or drops a library (shrinks by its size), z undoes; the why line
# names the rule and the chain; w writes an oci-archive that skopeo
# accepts and whose files (umoci unpack) are the kept set the view shows;
# an existing destination asks y/N. On the Debian image: p lists the
# packages with their sizes (dpkg-query's Installed-Size order of
# magnitude is not whittle's figure, so the sizes are checked against the
# image's own files), x drops one and the projection shrinks.
. "$(dirname "$0")/lib.sh"
need_cmd gcc readelf skopeo umoci
. "$(dirname "$0")/tmux.sh"

# --- the image: a dynamic program, what it needs, and junk ------------------------
cat >"$T/hello.c" <<'C'
#include <math.h>
#include <stdio.h>
int main(int argc, char **argv) { (void)argv; printf("%f\n", sqrt((double)argc)); return 0; }
C
gcc -O2 -o "$T/hello" "$T/hello.c" -Wl,--no-as-needed -lm || skip "gcc cannot link a program against libm"
interp=$(readelf -l "$T/hello" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ -n "$interp" ] || skip "gcc made a static program"
# the libraries as the host's loader finds them (the image gets them at those paths)
declare -A KEEP_SRC # image path -> host file
KEEP_SRC[$interp]=$(readlink -f "$interp")
while read -r name _ path _; do
	case $name in libc.so.*|libm.so.*) KEEP_SRC[$path]=$(readlink -f "$path") ;; esac
done < <(ldd "$T/hello")
[ "${#KEEP_SRC[@]}" -eq 3 ] || skip "ldd did not name libc and libm: $(ldd "$T/hello" | tr '\n' ' ')"
KEEP_SRC[/app/hello]=$T/hello
printf 'ID=whittle-test\n' >"$T/os-release"
KEEP_SRC[/etc/os-release]=$T/os-release
libm=$(for p in "${!KEEP_SRC[@]}"; do case $p in */libm.so.*) echo "$p" ;; esac; done)
libdir=$(dirname "$libm")
# junk: path -> size (made of one repeated byte)
declare -A JUNK=([/opt/junk/a.bin]=1000000 [/opt/junk/b.bin]=12345 [/usr/share/doc/readme.txt]=777
	[/app/notes.txt]=4321)
# an unused library (a copy of libm under another name) is junk too
JUNK_LIB=$libdir/libunused.so.1

dirs_of() { local p=$1; while p=$(dirname "$p"); [ "$p" != / ]; do echo "${p#/}"; done; }
{
	echo "layer ADD base"
	for p in "${!KEEP_SRC[@]}" "${!JUNK[@]}" "$JUNK_LIB" /opt/junk/old.bin; do dirs_of "$p"; done | sort -u |
		while read -r d; do echo "dir $d 0755 0 0"; done
	for p in "${!KEEP_SRC[@]}"; do
		[ "$p" = /app/hello ] && continue
		echo "file ${p#/} 0755 0 0 <${KEEP_SRC[$p]}"
	done
	echo "file ${JUNK_LIB#/} 0755 0 0 <${KEEP_SRC[$libm]}"
	for p in "${!JUNK[@]}"; do [ "$p" = /app/notes.txt ] || echo "file ${p#/} 0644 0 0 @${JUNK[$p]}:j"; done
	# removed by the next layer: never visible
	echo "file opt/junk/old.bin 0644 0 0 @5000:o"
	echo "layer COPY hello /app/"
	echo "file app/hello 0755 0 0 <$T/hello"
	echo "file app/notes.txt 0644 0 0 @4321:n"
	echo "whiteout opt/junk/old.bin"
} >"$T/spec"
IMG="$T/img.tar"
"$MKIMAGE" --entrypoint '["/app/hello"]' "$T/spec" "$IMG"

# the test's own figures
size() { stat -L -c %s "$1"; }
kept_bytes=0
for p in "${!KEEP_SRC[@]}"; do kept_bytes=$((kept_bytes + $(size "${KEEP_SRC[$p]}"))); done
visible=$((kept_bytes + $(size "${KEEP_SRC[$libm]}")))
for p in "${!JUNK[@]}"; do visible=$((visible + JUNK[$p])); done
printf '%s\n' "${!KEEP_SRC[@]}" | sort >"$T/kept.expect"
echo "expected: visible $visible, kept $kept_bytes in $(wc -l <"$T/kept.expect") files"

# --- tmux ------------------------------------------------------------------------------
tui_launcher
W=160 H=50 LW=64 # the left column at 160 columns: 2/5 of the width
start() { # SESSION IMAGE
	TM new-session -d -s "$1" -x $W -y $H \
		"cd '$T' && env -u CI -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 $T/run.sh '$2'"
}
w() { wait_for "$@" || bad "timed out waiting for [$2]"; }
human() { /usr/bin/python3 -c "import sys; sys.path.insert(0, '$SRCDIR/tests/integration'); import tui_expect; print(tui_expect.human($1))"; }
# the details line holds TEXT (else say what it holds)
why_has() { details | grep -qF -- "$1" || { echo "details: [$(details)]" >&2; return 1; }; }
bar() { tail -n 1 "$T/screen"; }
# the projected figures of the slim line: "VISIBLE KEPT"
figures() { sed -n 's/.*Slim .*\[\([0-9]*\) → \([0-9]*\) B\].*/\1 \2/p' "$T/screen"; }
# the tree rows as "M /path" (M: the slim marker)
rows() { EXP parse "$T/screen" "$((LW + 1))" markers; }
marker_of() { rows | awk -v p="$1" '$2 == p { print $1 }'; }
# put the cursor on PATH with a search for its name
goto() {
	keys "$1" / "/$2\$" Enter
	w "$1" "search: /$2\$ (1/1)"
	# Esc ends the search (and its "wrapped" note) with the cursor kept
	keys "$1" Escape
	w "$1" "sort: name"
	wait_gone "$1" "search: " 100 || bad "still on the screen: [search: ]"
}

start m "$IMG"
w m "Layers (per layer)"
keys m s
wait_for m "Slim " || { bad "the slim view did not open"; finish; exit 1; }
check "slim view: the title names the program slimming starts from" \
	on_screen "Files: slim view of the final image (layers 0-1), slimming from /app/hello"
n_kept=$(wc -l <"$T/kept.expect") n_all=$((${#KEEP_SRC[@]} + ${#JUNK[@]} + 1))
check "slim view: the status counts the files kept in user words ($n_kept of $n_all)" \
	on_screen "slimmed, the image would keep $n_kept of $n_all files"
check "slim view: the slim line counts the same files" on_screen "$n_kept of $n_all files kept"
read -r got_visible got_kept <<<"$(figures)"
eq "slim view: visible bytes now" "$got_visible" "$visible"
eq "slim view: projected bytes = the program, its libraries, loader, /etc/os-release" "$got_kept" "$kept_bytes"
ratio=$(/usr/bin/python3 -c "print('%.3f' % ($kept_bytes / $visible))")
check "slim view: ratio $ratio" grep -q "ratio $ratio" "$T/screen"
rows >"$T/rows"
for p in "${!KEEP_SRC[@]}"; do eq "kept: $p" "$(marker_of "$p")" "✓"; done
for p in "${!JUNK[@]}" "$JUNK_LIB"; do eq "removable: $p" "$(marker_of "$p")" "✗"; done
check "/opt/junk/old.bin (removed in layer 1) is not shown" sh -c "! grep -q old.bin '$T/rows'"
eq "a directory with kept and removable files: partly kept" "$(marker_of "$libdir")" "◐"
eq "a directory of junk only: removable" "$(marker_of /opt/junk)" "✗"
# the kept and the removable rows as shown
rows | awk '$1 == "✓" || $1 == "K" || $1 == "◐" { print $2 }' | sort >"$T/kept.rows"
rows | awk '$1 == "✗" || $1 == "D" { print $2 }' | sort >"$T/gone.rows"

# --- why --------------------------------------------------------------------------------
goto m hello
check "slim view: the key bar names x z p w" sh -c "tail -1 '$T/screen' | grep -q 'x keep/drop  z undo  p packages  w write'"
check "why /app/hello: the entrypoint" why_has "kept (entrypoint: Entrypoint)"
goto m "$(basename "$libm")"
check "why libm: needed by /app/hello, the entrypoint" \
	why_has "kept (needed) ← /app/hello (entrypoint: Entrypoint)"
# i: the entry in full
keys m i
w m "Slimming: the entry in full"
check "i: the full path" grep -q "│ $libm *│" "$T/screen"
check "i: the rule" on_screen "Rule      needed"
check "i: the package (none: no database)" on_screen "Package   (no package database)"
want_type=$(file -b -L "${KEEP_SRC[$libm]}")
check "i: the file type (file(1) on the same bytes: ${want_type:0:30})" on_screen "Type      ${want_type:0:30}"
check "i: the size" on_screen "($(size "${KEEP_SRC[$libm]}") B)"
"$WHITTLE" --why "$libm" "$IMG" >"$T/why.out" 2>/dev/null
check "i: the chain as --why prints it ($(wc -l <"$T/why.out") lines)" \
	sh -c "while IFS= read -r l; do grep -qF -- \"\$l\" '$T/screen' || exit 1; done <'$T/why.out'"
check "i: the chain reaches /app/hello" grep -q "<- /app/hello" "$T/screen"
keys m Escape
wait_gone m "Slimming: the entry in full" || bad "Esc did not close the detail view"
goto m os-release
check "why /etc/os-release: always kept" why_has "kept (always)"
goto m a.bin
check "why a.bin: removable with its size" \
	why_has "removable (1.0 MB): nothing the entrypoint or the rules reach needs it"

# --- x and z ------------------------------------------------------------------------------
keys m x
w m "kept /opt/junk/a.bin"
read -r _ k2 <<<"$(figures)"
eq "x on a.bin: the projection grows by its 1000000 bytes" "$k2" "$((kept_bytes + 1000000))"
eq "x on a.bin: marked as the user's keep" "$(marker_of /opt/junk/a.bin)" "K"
check "x on a.bin: why says the user kept it" why_has "kept (keep: yours, x)"
check "x on a.bin: the slim line counts one override" on_screen ", 1 yours"
keys m z
w m "undone: /opt/junk/a.bin"
read -r _ k3 <<<"$(figures)"
eq "z: the projection is back" "$k3" "$kept_bytes"
eq "z: a.bin removable again" "$(marker_of /opt/junk/a.bin)" "✗"
goto m "$(basename "$libm")"
# libm is needed by /app/hello (the test links it with -lm): x asks first
keys m x
w m "Drop it anyway? y/n"
check "x on libm: names what would break" on_screen "dropping $(basename "$libm") breaks 1 need: needed by /app/hello."
read -r _ kq <<<"$(figures)"
eq "x on libm: nothing dropped while asking" "$kq" "$kept_bytes"
keys m n
w m "not dropped: $libm stays"
read -r _ kn <<<"$(figures)"
eq "n: the projection unchanged" "$kn" "$kept_bytes"
eq "n: libm still kept" "$(marker_of "$libm")" "✓"
keys m x
w m "Drop it anyway? y/n"
keys m y
w m "dropped $libm"
check "y: the message says the need is left unmet" on_screen "1 need unmet"
read -r _ k4 <<<"$(figures)"
eq "x on libm: the projection shrinks by its size" "$k4" "$((kept_bytes - $(size "${KEEP_SRC[$libm]}")))"
# the same as --auto --drop would write
"$WHITTLE" -q --auto --drop "$libm" -o "oci-archive:$T/drop.tar" --report "$T/drop.json" "$IMG" >/dev/null 2>&1 ||
	bad "--auto --drop $libm failed"
eq "x on libm: the projection = the visible bytes --auto --drop writes" "$k4" \
	"$(/usr/bin/python3 -c "import json; print(json.load(open('$T/drop.json'))['slim']['visible_bytes'])")"
# K: the choices as a --keep-from file, which --auto loads to the same projection
keys m K
w m "Save your keeps and drops (--keep-from file) to: whittle-keep.txt_"
keys m Enter
w m "saved 1 line to whittle-keep.txt"
check "K: the file holds the drop as -PATH" grep -qx -- "-$libm" "$T/whittle-keep.txt"
"$WHITTLE" -q --auto --keep-from "$T/whittle-keep.txt" -o "oci-archive:$T/kf.tar" --report "$T/kf.json" "$IMG" >/dev/null 2>&1 ||
	bad "--auto --keep-from the saved file failed"
eq "K: --auto --keep-from the saved file writes the projection" "$k4" \
	"$(/usr/bin/python3 -c "import json; print(json.load(open('$T/kf.json'))['slim']['visible_bytes'])")"
# ... and the explorer loads it again
TM new-session -d -s k -x $W -y $H \
	"cd '$T' && env -u CI -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 $T/run.sh --keep-from '$T/whittle-keep.txt' '$IMG'"
w k "Layers (per layer)"
keys k s
w k "Slim "
read -r _ kk <<<"$(figures)"
eq "K: the explorer started with --keep-from the saved file projects the same" "$kk" "$k4"
eq "K: ... and shows libm removable" "$(marker_of "$libm")" "✗"
keys k C-c
w m "Slim " # (the screen read below is m's again)
eq "x on libm: marked as the user's drop" "$(marker_of "$libm")" "D"
check "x on libm: why says the user dropped it" why_has "removable ($(human "$(size "${KEEP_SRC[$libm]}")")): dropped by you (x)"
keys m z
w m "undone: $libm"
read -r _ k5 <<<"$(figures)"
eq "z after a drop: the projection is back" "$k5" "$kept_bytes"
keys m z
w m "nothing to undo"
ok "z with nothing left to undo says so"
# e: slim from another program; Enter on nothing goes back to the image's
keys m e
w m "Slim from (entrypoint and cmd: words or a JSON array): /app/hello_"
ok "e: the prompt holds the image's Entrypoint"
keys m C-u
keys m /opt/junk/a.bin Enter
w m "slimming from /opt/junk/a.bin: "
check "e: the title names the new program" on_screen "slimming from /opt/junk/a.bin"
read -r _ ke <<<"$(figures)"
eq "e: the projection is the new program and /etc/os-release" "$ke" "$((1000000 + $(size "$T/os-release")))"
eq "e: the new program is kept" "$(marker_of /opt/junk/a.bin)" "✓"
eq "e: the old one is removable" "$(marker_of /app/hello)" "✗"
keys m e
w m "Slim from (entrypoint"
keys m C-u Enter
w m "slimming from /app/hello: "
read -r _ ke2 <<<"$(figures)"
eq "e, Enter on nothing: back to the image's program" "$ke2" "$kept_bytes"
keys m p
w m "Packages: 0"
check "p without a package database says so" on_screen "no package database in this image"
keys m Escape
sleep 0.1

# --- w -------------------------------------------------------------------------------------
keys m w
w m "Write the slimmed image to:"
check "w: the prompt holds the default destination" on_screen "Write the slimmed image to: oci-archive:$T/img-slim.tar_"
keys m Enter
w m "wrote oci-archive:$T/img-slim.tar" 600
check "w: the result names the visible bytes written" on_screen "($kept_bytes B, ratio $ratio)"
# the write's progress shares the key bar: once written, the bar holds the
# result, and no progress text (a phase, "(writing DEST)") is left over
check "w: the key bar holds the result after the progress" sh -c "tail -1 '$T/screen' | grep -q '^wrote oci-archive:'"
check "w: no progress left on the screen" sh -c "! grep -Eq 're-reading layer|writing the layer|packing the archive|verifying|\(writing ' '$T/screen'"
OUT="$T/img-slim.tar"
if skopeo inspect "oci-archive:$OUT" >"$T/inspect.json" 2>"$T/inspect.err"; then
	ok "skopeo inspect accepts the written oci-archive"
else
	bad "skopeo inspect: $(cat "$T/inspect.err")"
fi
rm -rf "$T/oci" "$T/bundle"
if skopeo copy -q "oci-archive:$OUT" "oci:$T/oci:slim" 2>"$T/copy.err" &&
	umoci unpack --image "$T/oci:slim" "$T/bundle" >/dev/null 2>"$T/umoci.err"; then
	(cd "$T/bundle/rootfs" && find . ! -type d | sed 's|^\.||' | sort) >"$T/kept.unpacked"
	check "the written image's files (umoci) = the kept set the test built" diff "$T/kept.expect" "$T/kept.unpacked"
	while read -r p; do [ -d "$T/bundle/rootfs$p" ] || echo "$p"; done <"$T/kept.rows" >"$T/kept.shown"
	check "the written image's files (umoci) = the files the view showed kept" diff "$T/kept.shown" "$T/kept.unpacked"
	check "the view showed every kept directory: all in the image" \
		sh -c "while read -r p; do [ -e \"$T/bundle/rootfs\$p\" ] || exit 1; done <'$T/kept.rows'"
	check "nothing the view showed removable is in the image" \
		sh -c "while read -r p; do [ ! -e \"$T/bundle/rootfs\$p\" ] || exit 1; done <'$T/gone.rows'"
	check "the program runs from the written image's files" \
		sh -c "'$T/bundle/rootfs$interp' --library-path '$T/bundle/rootfs$libdir' '$T/bundle/rootfs/app/hello' >/dev/null"
else
	bad "skopeo copy / umoci unpack: $(cat "$T/copy.err" "$T/umoci.err" 2>/dev/null)"
fi
# an existing destination: y/N
keys m w
w m "Write the slimmed image to:"
keys m Enter
w m "exists: replace it? y/N"
ok "w onto an existing file asks y/N"
keys m n
w m "not written: oci-archive:$T/img-slim.tar exists"
ok "n leaves it"
before=$(stat -c %i "$OUT")
keys m w
w m "Write the slimmed image to:"
keys m Enter
w m "exists: replace it? y/N"
keys m y
w m "wrote oci-archive:$T/img-slim.tar" 600
check "y replaces it" test "$(stat -c %i "$OUT")" != "$before"
# a destination that cannot be written: the error, and the UI goes on
keys m w
w m "Write the slimmed image to:"
keys m C-u
keys m "oci-archive:$T/no/such/dir/x.tar" Enter
w m "not written:"
check "an unwritable destination: the error names it" on_screen "$T/no/such/dir"
keys m j
wait_for m "Slim " >/dev/null || true
check "the UI goes on after a failed write" on_screen "Slim "
# an unknown transport is refused, not taken as a file name
keys m w
w m "Write the slimmed image to:"
keys m C-u
keys m "oci-achive:$T/typo.tar" Enter
w m "not written: the destination oci-achive:$T/typo.tar: unknown transport"
check "w: an unknown transport suggests the nearest" on_screen 'did you mean oci-archive:?'
check "w: nothing written for an unknown transport" sh -c "! ls '$T' | grep -q -e achive -e typo"
# 80x24: the key bar keeps ? help and q quit (the later hints go first)
keys m Escape # (the status of the last key goes; the key bar comes back)
TM resize-window -t m -x 80 -y 24
wait_for m "q quit" || bad "80x24: no q quit on the key bar"
check "80x24: the key bar has ? help" sh -c "tail -1 '$T/screen' | grep -q '? help  q quit'"
check "80x24: the key bar starts with the slim view's keys" sh -c "tail -1 '$T/screen' | grep -q '^x keep/drop  z undo'"
TM resize-window -t m -x $W -y $H
sleep 0.3
keys m '?'
w m "Keys (any other key closes)"
check "help: as wide as its longest line (wider than 78 columns)" \
	on_screen "in the slim view: all about the entry (why, rule, package, type)"
keys m PgDn
keys m PgDn
w m "keep or drop the entry under the cursor"
check "help: w" on_screen "write the slimmed image"
keys m q
w m "EXITED 0"
ok "q after writing exits 0"

# --- q with unwritten keeps and drops asks; Ctrl+C does not -----------------------------
start q "$IMG"
w q "Layers (per layer)"
keys q s
w q "Slim "
goto q a.bin
keys q x
w q "kept /opt/junk/a.bin"
keys q q
w q "Quit anyway? y/N"
check "q with a keep not written: asks" on_screen "1 keep/drop choice of yours is not written or saved."
keys q n
w q "not quit"
check "n: the explorer goes on" sh -c "! grep -q EXITED '$T/screen'"
keys q q
w q "Quit anyway? y/N"
keys q y
w q "EXITED 0"
ok "q, y: quits"
start c "$IMG"
w c "Layers (per layer)"
keys c s
w c "Slim "
goto c a.bin
keys c x
w c "kept /opt/junk/a.bin"
keys c C-c
w c "EXITED"
check "Ctrl+C quits at once" sh -c "! grep -q 'Quit anyway' '$T/screen'"

# --- the Debian image: packages -------------------------------------------------------
if [ -z "${WH_SKIP_DEBIAN:-}" ]; then
	need_debian_image
	start d "$DEBIAN_REF"
	w d "Layers (per layer)" 1200
	keys d s
	w d "Slim " 600
	read -r dvis dkept <<<"$(figures)"
	check "debian: projected smaller than visible" test "$dkept" -lt "$dvis"
	# the libc every program needs: x names what would break and asks
	goto d libc.so.6
	keys d x
	w d "Drop it anyway? y/n" 600
	# the image's entrypoint (the builder's whtest) is named first among them
	ep=$(/usr/bin/python3 -c "
import json, os
d = '$DEBIAN_OCI'
def blob(dg): return os.path.join(d, 'blobs', *dg.split(':'))
i = json.load(open(os.path.join(d, 'index.json')))
m = json.load(open(blob(i['manifests'][0]['digest'])))
c = json.load(open(blob(m['config']['digest'])))['config']
print((c.get('Entrypoint') or c.get('Cmd'))[0])")
	check "debian: x on libc.so.6 names its users, the entrypoint $ep first" \
		grep -Eq "dropping libc.so.6 breaks [0-9]+ needs: needed by $ep and [0-9]+ more. Drop it anyway" "$T/screen"
	keys d n
	w d "not dropped: /usr/lib/x86_64-linux-gnu/libc.so.6 stays" 600
	read -r _ dkn <<<"$(figures)"
	eq "debian: n leaves the projection" "$dkn" "$dkept"
	dfiles=$(sed -n 's/.*B\]  \([0-9]*\) of [0-9]* files kept.*/\1/p' "$T/screen")
	# one set of numbers: the explorer, --auto's summary and --report against tar tv of the written layer
	"$WHITTLE" --auto -o "oci:$T/dn:slim" --report "$T/dn.json" "$DEBIAN_REF" >"$T/dn.out" 2>"$T/dn.err" ||
		bad "debian: --auto failed: $(head -c 300 "$T/dn.err")"
	layer=$(/usr/bin/python3 -c "
import json, os
d = '$T/dn'
i = json.load(open(os.path.join(d, 'index.json')))
m = json.load(open(os.path.join(d, 'blobs', *i['manifests'][0]['digest'].split(':'))))
print(os.path.join(d, 'blobs', *m['layers'][0]['digest'].split(':')))")
	tar -tvf "$layer" >"$T/dn.tv"
	# regular files: '-' (and hard links, 'h', which tar lists with size 0); bytes: the '-' sizes
	tv_files=$(grep -c '^[-h]' "$T/dn.tv")
	tv_bytes=$(awk '/^-/ { s += $3 } END { print s + 0 }' "$T/dn.tv")
	tv_entries=$(wc -l <"$T/dn.tv")
	eq "numbers: the explorer's projected bytes = the layer's file bytes (tar tv)" "$dkept" "$tv_bytes"
	eq "numbers: the explorer's kept files = the layer's regular files (tar tv)" "$dfiles" "$tv_files"
	eq "numbers: --report reach.kept_bytes = tar tv" \
		"$(/usr/bin/python3 -c "import json; print(json.load(open('$T/dn.json'))['reach']['kept_bytes'])")" "$tv_bytes"
	eq "numbers: --report reach.kept_files = tar tv" \
		"$(/usr/bin/python3 -c "import json; print(json.load(open('$T/dn.json'))['reach']['kept_files'])")" "$tv_files"
	eq "numbers: --report slim.visible_bytes = tar tv" \
		"$(/usr/bin/python3 -c "import json; print(json.load(open('$T/dn.json'))['slim']['visible_bytes'])")" "$tv_bytes"
	check "numbers: --auto's summary: $tv_files files kept, $tv_entries entries" \
		grep -Eq "files +$tv_files kept, [0-9]+ removed +\(entries with directories and links: $tv_entries kept" "$T/dn.out"
	grep -o "reachability [0-9]* ms, plan [0-9]* ms" "$T/screen" || true
	keys d p
	w d "Packages: "
	n=$(sed -n 's/.*Packages: \([0-9]*\) .*/\1/p' "$T/screen")
	want=$(/usr/bin/python3 - "$DEBIAN_OCI" <<'PY'
import sys, json, os
# packages with status installed in the image's dpkg status (from the layer tars)
import tarfile, gzip, io
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
def blob(dg): return os.path.join(d, "blobs", *dg.split(":"))
m = json.load(open(blob(idx["manifests"][0]["digest"])))
status = None
for l in m["layers"]:
    t = tarfile.open(blob(l["digest"]))
    for e in t:
        if e.name.lstrip("./") == "var/lib/dpkg/status" and e.isfile():
            status = t.extractfile(e).read().decode()
n = 0
for para in status.split("\n\n"):
    for line in para.split("\n"):
        if line.startswith("Status:") and line.split()[-1] not in ("not-installed", "config-files"):
            n += 1
print(n)
PY
)
	eq "debian: p lists every installed package of the status file" "$n" "$want"
	# the rows: name, size, kept; sorted by size, descending
	/usr/bin/python3 - "$T/screen" >"$T/pkgs" <<'PY'
import re, sys
units = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.search(r"│ (\S+) +([\d.]+) (B|kB|MB|GB) +([\d.]+) (B|kB|MB|GB)  ", line)
    if m:
        print("%s|%d|%d" % (m.group(1), float(m.group(2)) * units[m.group(3)], float(m.group(4)) * units[m.group(5)]))
PY
	check "debian: p shows package rows" test "$(wc -l <"$T/pkgs")" -gt 10
	check "debian: packages sorted by size, descending" sh -c "cut -d'|' -f2 '$T/pkgs' | sort -s -n -r -c"
	IFS='|' read -r top tsize tkept <"$T/pkgs"
	keys d x
	w d "package $top" 600
	read -r _ dk2 <<<"$(figures)"
	if [ "$tkept" = 0 ]; then
		# kept whole (--keep-package): at least its bytes more (its size as shown, rounded)
		check "debian: x keeps the removable package $top: the projection grows by its size ($dkept -> $dk2)" \
			test "$((dk2 - dkept))" -ge "$((tsize * 99 / 100))"
	else
		check "debian: x drops the package $top: the projection shrinks ($dkept -> $dk2)" test "$dk2" -lt "$dkept"
	fi
	keys d z
	w d "undone: package $top" 600
	read -r _ dk3 <<<"$(figures)"
	eq "debian: z: the projection is back" "$dk3" "$dkept"
	keys d Escape q
	w d "EXITED 0"
fi

finish
