#!/bin/bash
# Pictures of the explorer for the README, from real tmux sessions:
# whittle runs in tmux, the pane is captured with its colours
# (capture-pane -e), aha turns the ANSI text into HTML, and headless
# chromium renders the HTML to PNG. Not part of CI.
#
#   screenshots/make.sh WHITTLE [DEBIAN_IMAGE_REF]
#
# Needs: tmux, aha, chromium (Debian packages tmux, aha, chromium,
# fonts-dejavu-core). DEBIAN_IMAGE_REF: e.g. oci:BUILD/debian-image/oci:bookworm
# (tests/build-debian-image.sh makes one).
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

if [ -n "$DEBIAN" ]; then
	start b "$DEBIAN"
	wait_for b "Files: layer 0 changes"
	TM send-keys -t b C-a End
	wait_for b "aggregated"
	TM send-keys -t b Tab C-o
	wait_for b "sort: size"
	shot b debian-by-size
	TM send-keys -t b C-f l i b s s l Enter
	wait_for b "filter: libssl"
	shot b debian-filter
	# the slim view: what slimming keeps, the projected size, why a file is kept
	TM send-keys -t b Escape
	sleep 0.3
	TM send-keys -t b C-o s
	wait_for b "Slim "
	TM send-keys -t b / g n u / l i b s s l Enter
	wait_for b "search: gnu/libs"
	TM send-keys -t b Escape
	sleep 0.5
	shot b debian-slim
	TM send-keys -t b Escape
	sleep 0.3
	TM send-keys -t b p
	wait_for b "Packages: "
	shot b debian-packages
fi
