#!/bin/bash
# Pictures of the explorer for the README, from real tmux sessions:
# whittle runs in tmux, the pane is captured with its colours
# (capture-pane -e), aha turns the ANSI text into HTML, and headless
# chromium renders the HTML to PNG. Not part of CI.
#
#   screenshots/make.sh WHITTLE [DEBIAN_IMAGE_REF]
#
# Needs: tmux, aha, chromium (Debian packages tmux, aha, chromium,
# fonts-dejavu-core); python3-pil for session.gif (made only with a
# DEBIAN_IMAGE_REF, at most 1 MB). DEBIAN_IMAGE_REF: e.g.
# oci:BUILD/debian-image/oci:bookworm (tests/build-debian-image.sh makes one).
set -euo pipefail
WHITTLE=$(realpath "${1:?usage: make.sh WHITTLE [DEBIAN_IMAGE_REF]}")
DEBIAN=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
FIX="$HERE/../../shared/fixtures/dive/test-docker-image.tar"
for c in tmux aha chromium; do command -v "$c" >/dev/null || { echo "needs $c" >&2; exit 1; }; done
T=$(mktemp -d)
SOCK="whittle-shots-$$"
TM() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'TM kill-server >/dev/null 2>&1 || true; rm -rf "$T"' EXIT

W=120 H=36
wait_for() { # SESSION TEXT
	for _ in $(seq 1 600); do
		TM capture-pane -t "$1" -p | grep -qF -- "$2" && { sleep 0.3; return 0; }
		sleep 0.1
	done
	echo "timed out waiting for [$2]" >&2
	return 1
}
# shot SESSION NAME: capture with colours, render to NAME.png
shot() {
	TM capture-pane -t "$1" -p -e >"$T/$2.ans"
	aha --black --no-header <"$T/$2.ans" >"$T/$2.body"
	{
		echo '<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
		echo 'body{margin:0;background:#000;color:#ddd}'
		echo 'pre{margin:8px;font:14px/1.2 "DejaVu Sans Mono",monospace}'
		echo '</style></head><body><pre>'
		cat "$T/$2.body"
		echo '</pre></body></html>'
	} >"$T/$2.html"
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--window-size=$((W * 85 / 10 + 16)),$((H * 17 + 16)) \
		--screenshot="$HERE/$2.png" "file://$T/$2.html" >/dev/null 2>&1
	echo "wrote $HERE/$2.png"
}
start() { # SESSION IMAGE
	TM new-session -d -s "$1" -x $W -y $H "env -u CI -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 '$WHITTLE' '$2'; sleep 60"
}

start d "$FIX"
wait_for d "Files: layer 0 changes"
TM send-keys -t d j j j j j j j j j
wait_for d "Files: layer 9 changes"
TM send-keys -t d Tab Space
wait_for d "⊕ bin"
shot d dive-per-layer
TM send-keys -t d Tab C-a
wait_for d "aggregated"
TM send-keys -t d Tab C-Space
wait_for d "⊕ var"
TM send-keys -t d j j j j Space
wait_for d "saved.txt"
shot d dive-aggregated
TM send-keys -t d '?'
wait_for d "Keys (any other key closes)"
shot d help
TM send-keys -t d x / s a v e d Enter
wait_for d "search: saved"
shot d dive-search

# the probe (r) in the slim view: its output and keeps, then the proof after w
# (needs root and bubblewrap, as every probe)
if command -v bwrap >/dev/null; then
	start q "$FIX"
	wait_for q "Files: layer 0 changes"
	TM send-keys -t q s
	wait_for q "Slim "
	TM send-keys -t q r
	wait_for q "Probe (a command run in the image's sandbox"
	TM send-keys -t q -l 'cat /root/saved.txt'
	TM send-keys -t q Enter
	wait_for q "Probe: its exit status, what it kept, its output"
	shot q dive-probe
	TM send-keys -t q Escape
	sleep 0.5
	TM send-keys -t q /
	TM send-keys -t q -l '^/root/saved\.txt$'
	TM send-keys -t q Enter
	wait_for q "/root/saved.txt  kept by probe"
	TM send-keys -t q Escape w
	wait_for q "Write the slimmed image to:"
	TM send-keys -t q C-u
	TM send-keys -t q -l "oci-archive:$T/probed.tar"
	TM send-keys -t q Enter
	wait_for q "proof: "
	shot q dive-probe-proof
fi

if [ -n "$DEBIAN" ]; then
	start b "$DEBIAN"
	wait_for b "Files: layer 0 changes"
	TM send-keys -t b C-a End
	wait_for b "aggregated"
	# by size, as ncdu: everything folded, the biggest directory opened
	TM send-keys -t b Tab C-o
	wait_for b "sort: size"
	TM send-keys -t b Home C-Space
	wait_for b "├─⊕ "
	TM send-keys -t b Enter
	wait_for b "Share"
	sleep 0.5
	shot b debian-by-size
	TM send-keys -t b C-Space C-Space # (all folded, then all open)
	sleep 0.5
	TM send-keys -t b C-f l i b s s l Enter
	wait_for b "libssl"
	shot b debian-filter
	# the slim view: what slimming keeps, the projected size, why a file is kept
	TM send-keys -t b Escape
	sleep 0.3
	# the slim view by size: /usr open, and /usr/lib/x86_64-linux-gnu in it:
	# kept, partly kept and removable rows together
	TM send-keys -t b s
	wait_for b "Slim "
	TM send-keys -t b Home C-Space
	wait_for b "├─⊕ "
	TM send-keys -t b /
	TM send-keys -t b -l '^/usr$'
	TM send-keys -t b Enter
	wait_for b "search: ^/usr\$"
	TM send-keys -t b Escape Enter /
	TM send-keys -t b -l '^/usr/lib/x86_64-linux-gnu$'
	TM send-keys -t b Enter
	wait_for b "x86_64-linux-gnu\$ (1/1)"
	TM send-keys -t b Escape Enter
	sleep 0.5
	shot b debian-slim
	TM send-keys -t b Escape
	sleep 0.3
	TM send-keys -t b p
	wait_for b "Packages: "
	shot b debian-packages
fi

# An animated picture of a slimming session (s, x, p, w) for the README,
# from frames captured as the screenshots above; python3-pil makes the GIF.
if [ -n "$DEBIAN" ] && /usr/bin/python3 -c "import PIL" 2>/dev/null; then
	start g "$DEBIAN"
	wait_for g "Files: layer 0 changes"
	shot g f0
	TM send-keys -t g s
	wait_for g "Slim "
	shot g f1
	TM send-keys -t g /
	TM send-keys -t g -l 'libc\.so\.6$'
	TM send-keys -t g Enter
	wait_for g "search: libc"
	TM send-keys -t g Escape
	sleep 0.5
	shot g f2
	TM send-keys -t g x
	wait_for g "Drop it anyway? y/n"
	shot g f3
	TM send-keys -t g n
	wait_for g "not dropped"
	TM send-keys -t g p
	wait_for g "Packages: "
	shot g f4
	TM send-keys -t g Escape w
	wait_for g "Write the slimmed image to:"
	TM send-keys -t g C-u
	TM send-keys -t g -l "oci-archive:$T/slim.tar"
	TM send-keys -t g Enter
	wait_for g "wrote oci-archive:"
	shot g f5
	/usr/bin/python3 - "$HERE" <<'PY'
import sys
from PIL import Image
here = sys.argv[1]
frames = [Image.open("%s/f%d.png" % (here, i)).convert("RGB") for i in range(6)]
pal = [f.quantize(colors=32, method=Image.Quantize.MEDIANCUT) for f in frames]
pal[0].save(here + "/session.gif", save_all=True, append_images=pal[1:], duration=[1500, 2500, 2000, 3500, 3000, 3500],
            loop=0, optimize=True)
PY
	rm -f "$HERE"/f[0-9].png
	size=$(stat -c %s "$HERE/session.gif")
	echo "wrote $HERE/session.gif ($size bytes)"
	[ "$size" -le 1048576 ] || { echo "session.gif is over 1 MB" >&2; exit 1; }
fi
