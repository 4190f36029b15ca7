#!/bin/bash
# The explorer, driven in tmux: each pane's content, each key, filter and
# search, the per-layer and aggregated trees of dive's test image against
# trees computed from its layer tars (tui_expect.py), sort by size, resize,
# NO_COLOR and --no-color, the ASCII fallback, the mouse, and that every
# way out (q, ctrl+c, SIGTERM, SIGSEGV) restores the terminal.
. "$(dirname "$0")/lib.sh"
need_cmd file
need_fixtures
. "$(dirname "$0")/tmux.sh"
WAIT_TRIES=150

IMG="$FIXTURES/test-docker-image.tar"

# The pane runs whittle, then says how it ended and whether the tty
# settings are what they were before.
cat >"$T/run.sh" <<RUN
#!/bin/sh
before=\$(stty -g)
"$WHITTLE" "\$@"
rc=\$?
[ "\$(stty -g)" = "\$before" ] && echo TTY-RESTORED
echo "EXITED \$rc"
exec sleep 600
RUN
chmod +x "$T/run.sh"

# start SESSION W H [VAR=VALUE...] [-- whittle args]: whittle on the image
start() {
	local s=$1 w=$2 h=$3
	shift 3
	local envs="" args=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs $1"; shift; done
	[ "${1:-}" = "--" ] && { shift; args="$*"; }
	TM new-session -d -s "$s" -x "$w" -y "$h" \
		"env -u CI -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 $envs $T/run.sh $args '$IMG'"
}
# the tree rows as paths ("M /path" with markers)
rows() { EXP parse "$T/screen" "$((LW + 1))" ${1:-}; }
# send KEY and wait until TEXT shows
press() { local s=$1 k=$2 text=$3; keys "$s" "$k"; wait_for "$s" "$text"; }
# the same as a check named DESC
pressok() { if press "$1" "$2" "$3"; then ok "$4"; else bad "$4"; fi; }
waitok() { if wait_for "$1" "$2"; then ok "$3"; else bad "$3"; fi; }
# wait, and count a timeout as a failure
w() { wait_for "$1" "$2" || bad "timed out waiting for [$2]"; }

# --- without a terminal: the hint ------------------------------------------------
"$WHITTLE" "$IMG" </dev/null >"$T/out" 2>&1 && rc=0 || rc=$?
eq "no terminal: exit 2" "$rc" 2
check "no terminal: hint names --report, --ci, --auto" grep -q -- "--report.*--ci.*--auto" "$T/out"

# --- the panes (120x40) ----------------------------------------------------------
LW=48 # the left column at 120 columns: 2/5 of the width
start m 120 40
wait_for m "Layers (per layer)" || { bad "explorer did not start"; finish; exit 1; }
for t in "Layer details" "Image details" "Files: layer 0 changes" "Permission" "sort: name"; do
	check "pane shows [$t]" on_screen "$t"
done
EXP layers "$IMG" >"$T/layers"
while IFS='|' read -r i size cmd diff n; do
	check "layers pane row $i: size $size, command [${cmd:0:20}]" \
		on_screen "$(printf '%3d %9s  %s' "$i" "$size" "${cmd:0:20}")"
done <"$T/layers"
diff0=$(sed -n 1p "$T/layers" | cut -d'|' -f4)
n0=$(sed -n 1p "$T/layers" | cut -d'|' -f5)
check "layer details: layer 0 diff_id" on_screen "DiffID   ${diff0:0:39}"
check "layer details: layer 0 adds its $n0 entries" on_screen "Changes  $n0 added, 0 modified, 0 removed"
check "layer details: layer 0 command" on_screen "Command  ADD file:ce026b62356eec3ad1214f92"
total=$(EXP total "$IMG")
total_h=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$SRCDIR/tests/integration'); import tui_expect; print(tui_expect.human($total))")
check "image details: total $total_h in 14 layers" on_screen "Total size   $total_h in 14 layers"
# dive's own tests: efficiency 0.9844212134184309, wasted bytes 32025
check "image details: dive's efficiency" on_screen "Efficiency   98.44 %"
check "image details: dive's wasted bytes" on_screen "Wasted       32.0 kB"
EXP inefficient "$IMG" >"$T/ineff"
check "image details: inefficient file count" on_screen "Inefficient files: $(wc -l <"$T/ineff")"
while IFS='|' read -r c s p; do
	check "image details: inefficient $p" on_screen "$(printf '%6s %11s  %s' "$c" "$s" "${p:0:20}")"
done <"$T/ineff"
check "key bar" on_screen "? help"
# what the image runs, from its config (read from the archive here)
cfg_cmd=$(/usr/bin/python3 - "$IMG" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
m = json.load(t.extractfile("manifest.json"))[0]
c = json.load(t.extractfile(m["Config"]))["config"]
print(json.dumps(c.get("Cmd"), separators=(",", ":")), json.dumps(c.get("Entrypoint")))
PY
)
keys m I End
w m "Runs (what slimming starts from)"
check "image details: the Cmd ${cfg_cmd% *}" on_screen "Cmd          ${cfg_cmd% *}"
[ "${cfg_cmd#* }" = null ] && check "image details: no Entrypoint" on_screen "Entrypoint   (none)"
check "image details: the User" on_screen "User         (none: root)"
check "image details: user wasted explained" on_screen "user wasted %: dive's figure"
keys m Home Tab
w m "Layers (per layer)"
sleep 0.2

# --- keys of the layers pane -----------------------------------------------------
pressok m j "Files: layer 1 changes" "j Files: layer 1 changes"; check "j: layer 1 details" on_screen "Layer    1 (of 14 layers)"
pressok m Down "Files: layer 2 changes" "Down: next layer"
pressok m k "Files: layer 1 changes" "k: previous layer"
pressok m Up "Files: layer 0 changes" "Up: previous layer"
pressok m NPage "Files: layer 13 changes" "PgDn: a page of layers"
pressok m PPage "Files: layer 0 changes" "PgUp: a page of layers"
pressok m d "Files: layer 13 changes" "d: a page of layers"
pressok m u "Files: layer 0 changes" "u: a page of layers"
pressok m C-a "Layers (aggregated)" "C-a Layers (aggregated)"; check "ctrl+a: aggregated tree" on_screen "Files: layers 0-0 aggregated"
pressok m C-l "Layers (per layer)" "C-l Layers (per layer)"; check "ctrl+l: per-layer tree" on_screen "Files: layer 0 changes"

# --- keys of the tree pane ---------------------------------------------------------
keys m Tab
pressok m j "/bin/[ " "Tab, j: the tree cursor moves (details line)"
pressok m k "/bin  directory" "k: up"
pressok m Down "/bin/[ " "Down"
pressok m Up "/bin  directory" "Up"
keys m d; w m "Files:"
p1=$(details)
check "d: a page down" test "${p1%%  *}" != "/bin"
pressok m u "/bin  directory" "u: a page up"
keys m NPage; sleep 0.2; w m "Files:"
check "PgDn: a page down" test "$(details | cut -c1-6)" != "/bin  "
# after the jump the cursor keeps rows of context below it
cur=$(details | sed 's/  .*//')
rows >"$T/rows"
# (rows scrolled off the top leave the parsed paths without their start: compare names)
nrows=$(wc -l <"$T/rows") at=$(awk -F/ '{ print $NF }' "$T/rows" | grep -nxF -- "${cur##*/}" | head -1 | cut -d: -f1 || true)
[ -n "$at" ] || { echo "cursor [$cur] not among the rows:" >&2; tail -5 "$T/rows" >&2; }
check "PgDn: 3 rows of context below the cursor (row ${at:-?} of $nrows shown)" test "${at:-999}" -le $((nrows - 3))
pressok m PPage "/bin  directory" "PgUp: a page up"
pressok m Space "├─⊕ bin" "space collapses /bin"
pressok m Space "├── bin" "space expands /bin"
pressok m Enter "├─⊕ bin" "Enter closes /bin (as in dive and ncdu)"
check "Enter: nothing hidden" sh -c "! grep -q 'hidden:' '$T/screen'"
pressok m Enter "├── bin" "Enter opens /bin"
pressok m h "├─⊕ bin" "h collapses"
pressok m l "├── bin" "l expands"
pressok m Left "├─⊕ bin" "Left collapses"
pressok m Right "├── bin" "Right expands"
keys m C-Space
w m "└─⊕ var"
rows >"$T/rows"
check "ctrl+space: all collapsed (top level only)" test "$(grep -c '^/[^/]*$' "$T/rows")" = "$(wc -l <"$T/rows")"
check "ctrl+space: /etc shows folded" on_screen "├─⊕ etc"
pressok m C-Space "├── bin" "ctrl+space again: all expanded"
pressok m C-b "Name" "C-b Name"; check "ctrl+b hides the attributes" sh -c "! grep -q Permission '$T/screen'"
pressok m C-b "Permission" "ctrl+b shows them again"
pressok m C-o "sort: size▼" "ctrl+o: sort by size shown"
check "sorted by size: a share column as in ncdu" on_screen "Size  Share"
keys m C-Space
w m "└─⊕ "
# the top-level rows' shares of the root add up to 100 %
check "sorted by size: the top-level shares add up to 100 %" /usr/bin/python3 - "$T/screen" "$((LW + 1))" <<'PY'
import sys
col = int(sys.argv[2])
total = n = 0
for line in open(sys.argv[1], encoding="utf-8").read().split("\n")[2:]:
    s = line[col:]
    if s[52:56] in ("├── ", "└── ", "├─⊕ ", "└─⊕ "):
        total += float(s[34:39]); n += 1
sys.exit(0 if n and abs(total - 100) <= 0.1 * n else 1)
PY
rows >"$T/rows.size"
check "sorted by size: the rows still parse (paths)" grep -q '^/bin$' "$T/rows.size"
pressok m C-Space "├── " "ctrl+space: expanded again"
pressok m C-o "sort: name▲" "ctrl+o: sort by name shown"
# the file type on request: libmagic on the bytes, against file(1) on the same bytes
keys m Tab j
w m "Files: layer 1 changes"
keys m Tab / s o m e f i l e Enter
w m "/somefile.txt  "
EXP content "$IMG" 1 /somefile.txt >"$T/somefile"
want=$(file -b "$T/somefile")
pressok m i "/somefile.txt  ${want:0:30}" "i: file type [$want]"
pressok m i "(i: file type)" "i again: back to the summary"
keys m Escape

# --- help ---------------------------------------------------------------------------
keys m '?'
w m "Keys (any other key closes)"
for k in "Tab / Shift+Tab" "/" "n / N" "Ctrl+F" "Ctrl+B" "Ctrl+O" "Esc" "q / Ctrl+C" "mouse" \
	"Ctrl+A" "Ctrl+L" "Left / h" "Right / l" "Enter / Space" "Ctrl+Space" "Ctrl+R" "Ctrl+T" "Ctrl+U" "PgUp PgDn / u d" \
	"Up Down / k j"; do
	check "help lists [$k]" on_screen "$k"
done
keys m x
wait_gone m "Keys (any other key closes)" && ok "any key closes the help" || bad "help did not close"

# --- mouse (SGR 1006 reports, as xterm sends them) ------------------------------------
keys m Home
keys m -l $'\e[<0;5;8M'
keys m -l $'\e[<0;5;8m'
waitok m "Files: layer 5 changes" "click on the layers pane selects layer 5"
EXP tree "$IMG" 5 per | cut -c3- >"$T/exp5"
keys m -l $'\e[<0;80;3M' $'\e[<0;80;3m'
waitok m "/bin  directory" "click on the tree selects its first row"
keys m -l $'\e[<65;80;10M'
waitok m "$(sed -n 4p "$T/exp5")  " "wheel down in the tree moves 3 rows"
keys m -l $'\e[<64;80;10M'
waitok m "/bin  directory" "wheel up in the tree"

# --- resize ---------------------------------------------------------------------------------
TM resize-window -t m -x 80 -y 24
w m "Image details"
check "80x24: no line wider than 80" /usr/bin/python3 -c "import sys; sys.exit(max(len(l) for l in open('$T/screen', encoding='utf-8').read().split('\n')) > 80)"
check "80x24: layers pane" on_screen "Layers (per layer)"
check "80x24: tree pane" on_screen "Files: layer 5 changes"
check "80x24: details line" on_screen "/bin  directory"
TM resize-window -t m -x 120 -y 40
waitok m " 13    6.4 kB  RUN chmod +x /root/saved.txt" "back to 120x40: all 14 layers again"

# --- colours -----------------------------------------------------------------------------------
keys m Home
TM capture-pane -t m -p -e >"$T/color"
check "colours: an added entry is green" grep -q $'\e\[32m.*bin' "$T/color"

# --- quitting restores the terminal --------------------------------------------------------------
keys m q
waitok m "EXITED 0" "q quits with 0"
check "q: the tty settings are restored" on_screen "TTY-RESTORED"
check "q: the explorer's screen is gone" sh -c "! grep -q 'Layers (' '$T/screen'"

# --- trees against the layer tars (NO_COLOR: change markers + ~ - in the text) -----------------
LW=48
start t 120 480 NO_COLOR=1
w t "Files: layer 0 changes"
TM capture-pane -t t -p -e >"$T/color"
check "NO_COLOR: no colour escapes" sh -c "! grep -qE $'\e\\\\[([0-9;]*;)?(3[0-7]|38;5|4[0-7])[;m]' '$T/color'"
keys t C-b
w t "  Name"
for L in $(seq 0 13); do
	[ "$L" -gt 0 ] && keys t j
	w t "Files: layer $L changes"
	rows m >"$T/got"
	EXP tree "$IMG" "$L" per >"$T/want"
	if diff -u "$T/want" "$T/got" >"$T/diff"; then ok "per-layer tree of layer $L ($(wc -l <"$T/want") rows, markers)"
	else bad "per-layer tree of layer $L"; head -20 "$T/diff" >&2; fi
done
keys t C-a
for L in $(seq 13 -1 0); do
	[ "$L" -lt 13 ] && keys t k
	w t "Files: layers 0-$L aggregated"
	rows m | cut -c3- >"$T/got"
	EXP tree "$IMG" "$L" agg >"$T/want"
	if diff -u "$T/want" "$T/got" >"$T/diff"; then ok "aggregated tree up to layer $L ($(wc -l <"$T/want") rows)"
	else bad "aggregated tree up to layer $L"; head -20 "$T/diff" >&2; fi
done
# layer 13, aggregated
keys t End
w t "Files: layers 0-13 aggregated"
keys t Tab C-Space
w t "└─⊕ var"
pressok t C-o "sort: size▼" "C-o: sort: size▼"
rows m | cut -c4- | grep -v / >"$T/got"
EXP sizeorder "$IMG" 13 >"$T/want"
if diff -u "$T/want" "$T/got" >"$T/diff"; then ok "ctrl+o: top level by size: $(tr '\n' ' ' <"$T/want")"
else bad "sort by size"; cat "$T/diff" >&2; fi
pressok t C-o "sort: name▲" "C-o: sort: name▲"
rows m | cut -c4- | grep -v / >"$T/got"
check "ctrl+o again: by name" test "$(tr '\n' ' ' <"$T/got")" = "bin dev etc home root somefile.txt tmp usr var "
pressok t C-Space "├── bin" "C-Space: ├── bin"
# filter
keys t C-f s a v e d Enter
w t "filter: saved"
rows m | cut -c3- >"$T/got"
EXP filter "$IMG" 13 saved >"$T/want"
if diff -u "$T/want" "$T/got" >"$T/diff"; then ok "ctrl+f saved: matches and their ancestors ($(wc -l <"$T/want") rows)"
else bad "filter"; cat "$T/diff" >&2; fi
keys t C-f C-u '[.]sh$' Enter
w t 'filter: [.]sh$'
rows m | cut -c3- >"$T/got"
EXP filter "$IMG" 13 '[.]sh$' >"$T/want"
if diff -u "$T/want" "$T/got" >"$T/diff"; then ok "ctrl+f [.]sh\$: a regex ($(wc -l <"$T/want") rows)"
else bad "filter regex"; cat "$T/diff" >&2; fi
keys t Escape
wait_gone t "filter:" && ok "esc clears the filter" || bad "esc did not clear the filter"
# search: jumps, hides nothing
w t "Files:"
nall=$(rows m | wc -l)
EXP search "$IMG" 13 saved >"$T/hits"
keys t Home / s a v e d Enter
waitok t "$(sed -n 1p "$T/hits")  " "/saved: the first match $(sed -n 1p "$T/hits")"
check "/saved: nothing hidden" test "$(rows m | wc -l)" = "$nall"
check "/saved: match count shown" on_screen "search: saved (1/$(wc -l <"$T/hits"))"
pressok t n "$(sed -n 2p "$T/hits")  " "n: the next match $(sed -n 2p "$T/hits")"
pressok t N "$(sed -n 1p "$T/hits")  " "N: the previous match"
pressok t N "$(tail -n 1 "$T/hits")  " "N: wraps to the last match"
check "N: wrap noted" on_screen "search wrapped to the bottom"
keys t Escape
wait_gone t "search:"
# hide keys, per layer
keys t Tab C-l
for i in $(seq 13 -1 10); do keys t k; done
w t "Files: layer 9 changes"
keys t Tab
pressok t C-r "hidden: removed" "C-r: hidden: removed"
rows m >"$T/got"
EXP tree "$IMG" 9 per | grep -v '^-' >"$T/want"
if diff -u "$T/want" "$T/got" >"$T/diff"; then ok "ctrl+r hides the removed entries"
else bad "ctrl+r"; cat "$T/diff" >&2; fi
keys t C-r
pressok t C-u "hidden: unmodified" "C-u: hidden: unmodified"
rows m >"$T/got"
EXP tree "$IMG" 9 per | grep -v '^ ' >"$T/want"
if diff -u "$T/want" "$T/got" >"$T/diff"; then ok "ctrl+u hides the unmodified entries ($(wc -l <"$T/want") left)"
else bad "ctrl+u"; cat "$T/diff" >&2; fi
keys t C-a
w t "hidden: unmodified,added"
rows m >"$T/got"
check "ctrl+a hides the added entries too (layer 9 adds none)" cmp -s "$T/want" "$T/got"
keys t C-r C-t
w t "nothing to show: every entry here is hidden: unmodified (Ctrl+U), adde"
check "everything hidden: the header lists the four kinds" on_screen "hidden: unmodified,added,modified,removed"
ok "everything hidden: the tree says so and how to show them again"
keys t C-r C-t
w t "hidden: unmodified,added"
keys t C-a C-u
keys t Tab j j j j Tab
w t "Files: layer 13 changes"
pressok t C-t "hidden: modified" "C-t: hidden: modified"
rows m >"$T/got"
check "ctrl+t hides /root/saved.txt (chmod +x)" sh -c "! grep -q '/root/saved.txt$' '$T/got'"
check "ctrl+t keeps /root/.saved.txt" grep -q '/root/.saved.txt$' "$T/got"
keys t C-c
waitok t "EXITED 0" "ctrl+c quits with 0"
check "ctrl+c: the tty settings are restored" on_screen "TTY-RESTORED"

# --- --no-color, ASCII under LANG=C -----------------------------------------------------------------
start n 120 40 -- --no-color
w n "Files: layer 0 changes"
TM capture-pane -t n -p -e >"$T/color"
check "--no-color: no colour escapes" sh -c "! grep -qE $'\e\\\\[([0-9;]*;)?(3[0-7]|38;5|4[0-7])[;m]' '$T/color'"
check "--no-color: change markers instead" on_screen "│+ drwxr-xr-x"
start a 120 40 LANG=C
w a "Files: layer 0 changes"
check "LANG=C: ASCII tree lines" on_screen "|-- bin"
keys a Tab C-Space
w a "\`-+ var"
check "LANG=C: ASCII last-child lines" on_screen "\`-+ var"
check "LANG=C: no box drawing characters" sh -c "! grep -q '[├└│─]' '$T/screen'"

# --- signals restore the terminal ---------------------------------------------------------------------
for sig in TERM SEGV; do
	s=$(echo "$sig" | tr 'A-Z' 'a-z')
	start "$s" 100 30
	w "$s" "Files: layer 0 changes"
	shpid=$(TM display-message -p -t "$s" '#{pane_pid}')
	wpid=$(pgrep -P "$shpid" -f "$WHITTLE" | head -n 1)
	kill -"$sig" "$wpid"
	want=$((128 + $(kill -l "$sig")))
	w "$s" "EXITED" && eq "SIG$sig: exit status" "$(grep -o 'EXITED [0-9]*' "$T/screen")" "EXITED $want"
	check "SIG$sig: the tty settings are restored" on_screen "TTY-RESTORED"
	check "SIG$sig: the explorer's screen is gone" sh -c "! grep -q 'Layers (' '$T/screen'"
done

finish
