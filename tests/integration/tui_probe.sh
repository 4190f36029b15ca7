#!/bin/bash
# The explorer's probe key (r) and the proof after w, driven in tmux, on
# dive's busybox-based test-docker-image.tar, whose /root/saved.txt (a copy
# of README.md) nothing in the image's config names, so slimming alone
# drops it (tests/integration/probe.sh):
#   - the slim view marks /root/saved.txt removable; r, `cat
#     /root/saved.txt`: the popup shows the exit status, the file kept and
#     its output (the file's first lines, read by the test from the image);
#     the tree marks the file P (kept by probe), the why line and i give the
#     reason "probe: cat /root/saved.txt", the projection grows by at least
#     the file's size;
#   - a second probe (`cat /etc/group`) accumulates: both files P, the
#     key bar counts 2 probes;
#   - w: the key bar says the proof passed for 2 probes; the written
#     oci-archive (skopeo, umoci) holds both files with the original bytes;
#   - x drops /root/saved.txt (the question names the probe that needs it),
#     w: "proof failed", the popup names the probe and the missing path,
#     nothing is written at the destination nor left beside it;
#   - a command that does not parse, and bubblewrap missing from PATH (a
#     second session), give a message, not a probe; the explorer goes on;
#   - the command line's --probe runs when the slim view opens (P, the
#     proof after w);
#   - no probe tree is left in TMPDIR.
. "$(dirname "$0")/lib.sh"
need_cmd bwrap skopeo umoci /usr/bin/python3
need_fixtures
. "$(dirname "$0")/tmux.sh"
IMG="$FIXTURES/test-docker-image.tar"
mkdir -p "$T/tmp" "$T/o1" "$T/o2" "$T/nobin"
LAST=$(EXP layers "$IMG" | wc -l)
LAST=$((LAST - 1))
EXP content "$IMG" "$LAST" /root/saved.txt >"$T/saved.txt" || { bad "the fixture has no /root/saved.txt"; finish; exit 1; }
saved_size=$(stat -c %s "$T/saved.txt")
# dive's README: its first line, then one further down
first_line=$(head -n 1 "$T/saved.txt")
[ -n "$first_line" ] || { bad "/root/saved.txt starts with an empty line"; finish; exit 1; }

tui_launcher '[ -n "$NOBWRAP" ] && PATH='"$T/nobin"
W=160 H=50 LW=64
start() { # SESSION ENV ARGS (shell words)
	TM new-session -d -s "$1" -x $W -y $H \
		"cd '$T' && env -u CI -u NO_COLOR TMPDIR='$T/tmp' TERM=xterm-256color LANG=C.UTF-8 $2 $T/run.sh $3"
}
w() { wait_for "$@" || bad "timed out waiting for [$2]"; }
why_has() { details | grep -qF -- "$1" || { echo "details: [$(details)]" >&2; return 1; }; }
bar() { tail -n 1 "$T/screen"; }
bar_has() { bar | grep -qF -- "$1" || { echo "bar: [$(bar)]" >&2; return 1; }; }
figures() { sed -n 's/.*Slim .*\[\([0-9]*\) → \([0-9]*\) B\].*/\1 \2/p' "$T/screen"; }
rows() { EXP parse "$T/screen" "$((LW + 1))" markers; }
marker_of() { rows | awk -v p="$1" '$2 == p { print $1 }'; }
goto() { # SESSION NAME: the cursor on the one path ending in /NAME
	keys "$1" / "/$2\$" Enter
	w "$1" "search: /$2\$ (1/1)"
	keys "$1" Escape
	w "$1" "sort: name"
	wait_gone "$1" "search: " 100 || bad "still on the screen: [search: ]"
}
# probe SESSION CMD: r, the command, Enter; waits for the popup
probe() {
	keys "$1" r
	w "$1" "Probe (a command run in the image's sandbox"
	keys "$1" -l "$2"
	keys "$1" Enter
	WAIT_TRIES=1200 w "$1" "Probe: its exit status, what it kept, its output"
}
no_tree_left() { [ -z "$(ls -A "$T/tmp")" ]; }

start p "" "'$IMG'"
w p "Layers (per layer)"
keys p s
w p "Slim "
goto p saved.txt
check "slim view: the key bar names r probe" bar_has "w write  r probe"
eq "before a probe: /root/saved.txt is removable" "$(marker_of /root/saved.txt)" "✗"
read -r _ kept0 <<<"$(figures)"

# --- r: the probe, its output, its keeps ------------------------------------------------
probe p "cat /root/saved.txt"
check "popup: the command" on_screen 'probe `cat /root/saved.txt`'
check "popup: its exit status" on_screen "exit status 0 in "
check "popup: the file it kept" grep -qE "│ +/root/saved.txt +│" "$T/screen"
check "popup: the reason" on_screen 'reason "probe: cat /root/saved.txt"'
check "popup: its stdout is the file ($saved_size bytes)" on_screen "stdout ($saved_size bytes):"
check "popup: the file's first line: $first_line" grep -qF "│   $first_line" "$T/screen"
check "key bar: the probe's verdict" bar_has 'probe `cat /root/saved.txt`: exit 0, kept '
check "key bar: one probe, w runs the proof" bar_has "(1 probe; w runs the proof)"
# the popup scrolls: its end, stderr
keys p End
w p "stderr: (empty)"
check "popup: scrolled to its end, stderr is empty" on_screen "stderr: (empty)"
keys p Escape
w p "sort: name"
wait_gone p "Probe: its exit status" || bad "the popup did not close"
eq "after the probe: /root/saved.txt is kept by probe" "$(marker_of /root/saved.txt)" "P"
check "why: kept by probe, the command" why_has "kept by probe (probe: cat /root/saved.txt)"
read -r _ kept1 <<<"$(figures)"
check "the projection grew by at least the file's $saved_size bytes ($kept0 -> $kept1)" \
	test "$((kept1 - kept0))" -ge "$saved_size"
keys p i
w p "Slimming: the entry in full"
check "i: the rule is the probe's reason" on_screen "Rule      probe: cat /root/saved.txt"
check "i: kept by probe" on_screen "Slimming  kept by probe (probe: cat /root/saved.txt)"
keys p Escape
w p "sort: name"

# --- a second probe accumulates -----------------------------------------------------------
goto p group
eq "before the second probe: /etc/group is removable" "$(marker_of /etc/group)" "✗"
probe p "cat /etc/group"
check "popup: the second probe's output" on_screen "root:x:0:"
# as --probe A --probe B: each probe's keeps are counted against the static
# analysis alone, so /bin/cat (kept by the first probe too) is the second's as well
"$WHITTLE" --report "$T/two.json" -q --probe 'cat /root/saved.txt' --probe 'cat /etc/group' "$IMG" >/dev/null 2>&1
want=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["probe"][1]["added_by_probe"]))' "$T/two.json")
check "popup: kept $want files the analysis missed, as the command line's second probe" \
	on_screen "kept $want files the analysis missed"
check "popup: /bin/cat among them" grep -qE "│ +/bin/cat +│" "$T/screen"
check "key bar: two probes" bar_has "(2 probes; w runs the proof)"
keys p Escape
w p "sort: name"
eq "after the second probe: /etc/group is kept by probe" "$(marker_of /etc/group)" "P"
goto p saved.txt
eq "the first probe's keep stays" "$(marker_of /root/saved.txt)" "P"

# --- R forgets the last probe: its keeps go, the first probe's stay; then it runs again -------
keys p R
WAIT_TRIES=1200 w p "forgot the last probe"
check "key bar: one probe left" bar_has "(1 probe left)"
eq "after R: the first probe's keep stays" "$(marker_of /root/saved.txt)" "P"
goto p group
eq "after R: /etc/group is removable again" "$(marker_of /etc/group)" "✗"
probe p "cat /etc/group"
keys p Escape
w p "sort: name"
eq "the second probe again: /etc/group is kept by probe" "$(marker_of /etc/group)" "P"

# --- w: the proof passes ----------------------------------------------------------------------
OUT=$T/o1/slim.tar
write_to p "oci-archive:$OUT"
WAIT_TRIES=2400 w p "wrote oci-archive:$OUT"
check "key bar: the proof passed for both probes" bar_has "proof: 2 probes behave the same on the output; wrote"
if skopeo copy -q "oci-archive:$OUT" "oci:$T/oci:slim" 2>"$T/copy.err" &&
	umoci unpack --image "$T/oci:slim" "$T/bundle" >/dev/null 2>"$T/umoci.err"; then
	check "the written image holds /root/saved.txt, its bytes" cmp "$T/saved.txt" "$T/bundle/rootfs/root/saved.txt"
	check "the written image holds /etc/group" test -f "$T/bundle/rootfs/etc/group"
else
	bad "skopeo copy / umoci unpack: $(cat "$T/copy.err" "$T/umoci.err" 2>/dev/null)"
fi
check "no probe tree left after the proof" no_tree_left

# --- a drop the probe needs: the proof fails, nothing is written ---------------------------
goto p saved.txt
keys p x
w p "Drop it anyway? y/n"
check "the question names the probe that needs it" bar_has "needed by probe: cat /root/saved.txt"
keys p y
w p "dropped /root/saved.txt"
OUT2=$T/o2/slim.tar
write_to p "oci-archive:$OUT2"
WAIT_TRIES=2400 w p "The proof failed: nothing was written"
check "key bar: proof failed, the probe named" bar_has 'proof failed: probe `cat /root/saved.txt` behaves differently'
check "popup: the exit status differs" on_screen "exit status: original 0, slimmed 1"
check "popup: the path the slimmed run could not find" grep -qE "│ +/root/saved.txt +│" "$T/screen"
check "nothing at the destination" test ! -e "$OUT2"
eq "nothing left beside the destination" "$(ls -A "$T/o2")" ""
check "no probe tree left after the failed proof" no_tree_left
keys p Escape
w p "sort: name"

# --- a command that does not parse: a message, no probe ----------------------------------------
keys p r
w p "Probe (a command run in the image's sandbox"
keys p -l "cat 'unterminated"
keys p Enter
w p "no probe: "
check "a bad command: the message says why" bar_has "unterminated ' quote"
keys p q
w p "Quit anyway? y/N"
keys p y
w p "EXITED 0"

# --- no bubblewrap: a message, the explorer goes on ----------------------------------------------
start nb NOBWRAP=1 "'$IMG'"
w nb "Layers (per layer)"
keys nb s
w nb "Slim "
probe_nb() {
	keys nb r
	w nb "Probe (a command run in the image's sandbox"
	keys nb -l "cat /root/saved.txt"
	keys nb Enter
	WAIT_TRIES=1200 w nb "no probe: "
}
probe_nb
check "no bubblewrap: the message names it" bar_has "the probe needs bubblewrap"
goto nb saved.txt
eq "no bubblewrap: /root/saved.txt stays removable" "$(marker_of /root/saved.txt)" "✗"
keys nb q
w nb "EXITED 0"

# --- the command line's --probe: run when the slim view opens, proven after w -------------------
start c "" "--probe 'cat /root/saved.txt' '$IMG'"
w c "Layers (per layer)"
keys c s
WAIT_TRIES=1200 w c "Probes: the command line's"
check "--probe: the popup sums the probe up" on_screen 'probe `cat /root/saved.txt`: exit 0'
check "--probe: the key bar says it ran" bar_has "the command line's 1 probe ran"
keys c Escape
w c "sort: name"
goto c saved.txt
eq "--probe: /root/saved.txt is kept by probe" "$(marker_of /root/saved.txt)" "P"
write_to c "oci-archive:$T/o1/cl.tar"
WAIT_TRIES=2400 w c "wrote oci-archive:$T/o1/cl.tar"
check "--probe: w runs the proof" bar_has "proof: 1 probe behaves the same on the output; wrote"
keys c q
w c "EXITED 0"
check "no probe tree left" no_tree_left

finish
