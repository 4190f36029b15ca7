#!/bin/bash
# bench/probe.sh: what a probe costs (not run by CI).
#
# For each image and command, the median of N runs (default 3, interleaved) of:
#   base     whittle --auto -q (no probe)
#   probe    whittle --auto -q --probe CMD --no-verify-probes
#   proof    whittle --auto -q --probe CMD (the probe, then the proof)
#   chroot   the same command under plain chroot of the image unpacked by
#            umoci (unpacking not timed)
# and prints one Markdown row each: the probe run (probe - base: copying
# the image's filesystem, sandbox set-up, the traced run), the proof
# (proof - probe: the original's second run, reading the staged output,
# its copy, the run on it), the report's duration_s of the traced run
# alone (sandbox set-up included), and each as a ratio to chroot.
#
# usage: bench/probe.sh [WHITTLE]   (needs root, umoci, skopeo, chroot, bwrap;
#   DEBIAN_IMAGE_DIR: tests/build-debian-image.sh's output, e.g.
#   build-test/debian-image, for the Debian rows; N: runs per figure)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
WHITTLE=$(realpath "${1:-${WHITTLE:-$SRC/build/whittle}}")
FIXTURES=${WH_FIXTURES:-$SRC/../shared/fixtures/dive}
N=${N:-3}
PY=/usr/bin/python3
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[ -x "$WHITTLE" ] || { echo "bench/probe.sh: no whittle binary at $WHITTLE" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench/probe.sh: needs root (umoci unpack, chroot)" >&2; exit 2; }
for c in umoci skopeo chroot bwrap; do
	command -v "$c" >/dev/null || { echo "bench/probe.sh: needs $c" >&2; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/whittle-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

now() { date +%s.%N; }
# seconds one run of a command takes (wall clock)
once() {
	local t0
	rm -rf "$T/o.tar"
	t0=$(now)
	"$@" >/dev/null 2>&1 || { echo "bench/probe.sh: failed: $*" >&2; return 1; }
	$PY -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$(now)"
}
median() { sort -g | sed -n "$(((N + 1) / 2))p"; }

rows=()
# bench LABEL SOURCE_REF PROBE_TEXT CMD_WORDS... (the same command for chroot)
bench() {
	local label=$1 src=$2 cmd=$3
	shift 3
	echo "timing $label: $cmd ..." >&2
	skopeo copy -q "$src" "oci:$T/img:orig"
	umoci unpack --image "$T/img:orig" "$T/root" >/dev/null
	local base probe proof chr i
	# interleaved, so that a change of the machine's load falls on all three alike
	for ((i = 0; i < N; i++)); do
		once "$WHITTLE" --auto -q -o "oci-archive:$T/o.tar" "$src" >>"$T/base"
		once "$WHITTLE" --auto -q -o "oci-archive:$T/o.tar" --no-verify-probes --probe "$cmd" "$src" >>"$T/probe"
		once "$WHITTLE" --auto -q -o "oci-archive:$T/o.tar" --probe "$cmd" "$src" >>"$T/proof"
		once env -i PATH="$IMAGE_PATH" LC_ALL=C chroot "$T/root/rootfs" "$@" >>"$T/chroot"
	done
	base=$(median <"$T/base")
	probe=$(median <"$T/probe")
	proof=$(median <"$T/proof")
	chr=$(median <"$T/chroot")
	rm -f "$T/base" "$T/probe" "$T/proof" "$T/chroot"
	"$WHITTLE" --auto -q -o "oci-archive:$T/o2.tar" --report "$T/r.json" --no-verify-probes --probe "$cmd" "$src" \
		>/dev/null 2>&1
	rows+=("$($PY - "$label" "$cmd" "$base" "$probe" "$proof" "$chr" "$T/r.json" <<'PY'
import json, sys
label, cmd, base, probe, proof, chr_, rep = sys.argv[1:]
base, probe, proof, chr_ = map(float, (base, probe, proof, chr_))
run = json.load(open(rep))["probe"][0]["duration_s"]
p, v = probe - base, proof - probe
print("| %s | `%s` | %.3f s | %.2f s (x%.0f) | %.2f s (x%.0f) | %.2f s (x%.0f) | %.3f s (x%.0f) |" % (
    label, cmd, chr_, p, p / chr_, v, v / chr_, p + v, (p + v) / chr_, run, run / chr_))
PY
)")
	rm -rf "$T/img" "$T/root" "$T/o2.tar" "$T/r.json"
}

if [ -f "$FIXTURES/test-docker-image.tar" ]; then
	bench "dive fixture (busybox, 1.2 MB)" "docker-archive:$FIXTURES/test-docker-image.tar" \
		'cat /root/saved.txt' cat /root/saved.txt
fi
if [ -n "${DEBIAN_IMAGE_DIR:-}" ]; then
	bench "Debian bookworm + python3 (211.5 MB)" "oci:$DEBIAN_IMAGE_DIR/oci:bookworm" \
		/usr/local/bin/whtest.py /usr/local/bin/whtest.py
fi

echo "| Image | Probe | chroot | probe run (copy, sandbox, trace) | proof | both | traced run alone |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
