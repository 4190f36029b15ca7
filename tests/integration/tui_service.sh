#!/bin/bash
# The explorer runs the command line's service probes (--probe-entrypoint
# --probe-wait PORT --probe-http PORT/PATH) when the slim view opens, and
# the proof after w, driven in tmux, on the service probe tests' image
# (need_page_image in lib.sh: a python HTTP server that opens
# /srv/data/page.txt only when a request names it, so slimming alone drops
# the page; tests/integration/probe_service.sh):
#   - s: the popup says the command line's probes ran and lists the page as
#     kept by the service; the key bar counts 2 probes;
#   - the tree marks /srv/data/page.txt P (kept by probe);
#   - w to an oci-archive: the key bar says the proof passed for 2 probes; the
#     written image (skopeo, umoci) holds the page byte for byte;
#   - no process of the service is left (pgrep of a unique marker in its
#     argv), no probe tree in TMPDIR.
. "$(dirname "$0")/lib.sh"
need_cmd bwrap skopeo umoci /usr/bin/python3
[ "$(id -u)" = 0 ] || skip "needs root (as probe_service: the service probes as root)"
. "$(dirname "$0")/tmux.sh"
mkdir -p "$T/tmp" "$T/o"
need_page_image

tui_launcher
W=200 H=60
w() { wait_for "$@" || bad "timed out waiting for [$2]"; }
bar() { tail -n 1 "$T/screen"; }
bar_has() { bar | grep -qF -- "$1" || { echo "bar: [$(bar)]" >&2; return 1; }; }
# the tree pane starts right of the layers pane's border (its width is capped)
rows() {
	local col
	col=$(/usr/bin/python3 -c 'import sys; print(open(sys.argv[1], encoding="utf-8").read().split("\n")[2].index("│") + 1)' "$T/screen")
	EXP parse "$T/screen" "$col" markers
}
marker_of() { rows | awk -v p="$1" '$2 == p { print $1 }'; }
no_tree_left() { [ -z "$(ls -A "$T/tmp")" ]; }

TM new-session -d -s c -x $W -y $H \
	"cd '$T' && env -u CI -u NO_COLOR TMPDIR='$T/tmp' TERM=xterm-256color LANG=C.UTF-8 $T/run.sh \
	--probe-entrypoint --probe-wait 8080 --probe-http 8080/page.txt '$PAGE_REF'"
w c "Layers (per layer)"
keys c s
WAIT_TRIES=2400 w c "Probes: the command line's"
check "popup: the command line's probes ran" on_screen "the command line's probes ran; what each kept is marked P in the tree"
check "popup: the service ran, its exit status (SIGTERM after the probes)" \
	on_screen "probe \`entrypoint: /usr/local/bin/pageserver.py $MARK\`: exit 143 in "
check "popup: the HTTP probe got 200" on_screen 'probe `http: 8080/page.txt`: HTTP status 200 (0: no answer)'
# the page among the files the service kept: the lines under its "kept N" line
check "popup: the service kept the page" /usr/bin/python3 - "$T/screen" <<'PY'
import re, sys
kept = False
for line in open(sys.argv[1]):
    if re.search(r"probe `entrypoint: .*; kept \d+ that the analysis missed:", line):
        kept = True
    elif kept and re.search(r"│\s+/srv/data/page\.txt\s+│", line):
        sys.exit(0)
    elif re.search(r"probe `", line):
        kept = False
sys.exit(1)
PY
check "key bar: the command line's 2 probes ran" bar_has "the command line's 2 probes ran: the slimmed image would hold"
keys c Escape
w c "sort: name"
keys c / "/page.txt\$" Enter
w c "search: /page.txt\$ (1/1)"
keys c Escape
w c "sort: name"
eq "the page is kept by probe" "$(marker_of /srv/data/page.txt)" "P"

OUT=$T/o/slim.tar
write_to c "oci-archive:$OUT"
WAIT_TRIES=4800 w c "wrote oci-archive:$OUT"
check "key bar: the proof passed for the 2 probes" bar_has "proof: 2 probes behave the same on the output; wrote"
if skopeo copy -q "oci-archive:$OUT" "oci:$T/out:slim" 2>"$T/copy.err" &&
	umoci unpack --image "$T/out:slim" "$T/bundle" >/dev/null 2>"$T/umoci.err"; then
	check "the written image holds the page, byte for byte" cmp "$T/add/srv/data/page.txt" "$T/bundle/rootfs/srv/data/page.txt"
else
	bad "skopeo copy / umoci unpack: $(cat "$T/copy.err" "$T/umoci.err" 2>/dev/null)"
fi
keys c q
w c "EXITED 0"
eq "no process of the service is left" "$(pgrep -f "$MARK" || true)" ""
check "no probe tree left" no_tree_left
finish
