#!/bin/bash
# bench/slim.sh: the README's "Slimming results" table (not run by CI).
#
# For the real Debian image of tests/build-debian-image.sh, once per
# entrypoint (whtest: C with NSS, iconv, pthread_cancel, libcrypto; curl;
# whtest.py: python3 with C extension modules), and for dive's fixtures
# that have an Entrypoint or Cmd, it runs `whittle --auto` and prints one
# Markdown row each: visible bytes before and after (the report's
# image.visible_bytes and slim.visible_bytes), their ratio, the compressed
# layer bytes before (all layers, as stored) and after (the one gzip layer),
# and whether the entrypoint still runs: the original and the output
# unpacked by umoci, the same command run with chroot in both, stdout,
# stderr and exit status compared.
#
# Then a second table: the real-program suite (tests/realprog/), one row
# a program of its image (tests/build-realprog-image.sh), each slimmed with
# plain --auto and run by tests/realprog/run.sh against the original (what
# a client sees compared), with docker-slim's published examples beside
# them as scale (their figures, not measured here; not like for like:
# other images and docker-slim probes the running container), and the
# flask app slimmed led by its probes (tests/realprog/probe_flask.sh).
#
# usage: bench/slim.sh [WHITTLE]   (needs root, umoci, skopeo, chroot;
#   mmdebstrap for the Debian images, built into $BENCH_DIR/debian-image
#   and $BENCH_DIR/realprog-image, default /tmp/whittle-bench, or taken
#   from DEBIAN_IMAGE_DIR when set; REALPROG=0 leaves out the second table)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
WHITTLE=$(realpath "${1:-${WHITTLE:-$SRC/build/whittle}}")
FIXTURES=${WH_FIXTURES:-$SRC/../shared/fixtures/dive}
BENCH_DIR=${BENCH_DIR:-/tmp/whittle-bench}
PY=/usr/bin/python3
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[ -x "$WHITTLE" ] || { echo "bench/slim.sh: no whittle binary at $WHITTLE" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench/slim.sh: needs root (umoci unpack, chroot)" >&2; exit 2; }
for c in umoci skopeo chroot; do
	command -v "$c" >/dev/null || { echo "bench/slim.sh: needs $c" >&2; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/whittle-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

if [ -n "${DEBIAN_IMAGE_DIR:-}" ]; then
	DEB=$DEBIAN_IMAGE_DIR
else
	DEB=$BENCH_DIR/debian-image
	mkdir -p "$BENCH_DIR"
	echo "building the Debian image (cached in $DEB) ..." >&2
	"$SRC/tests/build-debian-image.sh" "$DEB" >"$BENCH_DIR/debian-image.log" 2>&1 ||
		{ tail -20 "$BENCH_DIR/debian-image.log" >&2; exit 1; }
fi

# compressed bytes of an image's layers as stored
layer_bytes() {
	skopeo inspect --raw "$1" | $PY -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))'
}

# run_in ROOT NAME CMD... (stdin from $T/NAME.in when present)
run_in() {
	local root=$1 name=$2 rc=0 in=/dev/null
	shift 2
	[ -f "$T/$name.in" ] && in=$T/$name.in
	env -i PATH="$IMAGE_PATH" LC_ALL=C timeout 60 chroot "$root" "$@" <"$in" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
	echo "$rc" >"$T/$name.rc"
}

rows=()
# bench LABEL ENTRY_DESC OCI_ORIG(oci:DIR:TAG of the original) SOURCE_REF STDIN RUNCMD -- WHITTLE_ARGS...
bench() {
	local label=$1 desc=$2 orig=$3 src=$4 stdin=$5 runcmd=$6
	shift 7
	local n=${#rows[@]}
	local out="$T/out$n" rep="$T/rep$n.json"
	echo "slimming $label ($desc) ..." >&2
	if ! "$WHITTLE" --auto -q -o "oci:$out:slim" --report "$rep" "$@" "$src" 2>"$T/err$n"; then
		rows+=("| $label | $desc | failed: $(head -c 120 "$T/err$n" | tr '\n|' '  ') | | | | | |")
		return
	fi
	local runs="no entrypoint"
	if [ -n "$runcmd" ]; then
		umoci unpack --image "${orig#oci:}" "$T/o$n" >/dev/null
		umoci unpack --image "$out:slim" "$T/s$n" >/dev/null
		[ -n "$stdin" ] && printf '%s\n' "$stdin" >"$T/o$n.run.in" && cp "$T/o$n.run.in" "$T/s$n.run.in"
		# shellcheck disable=SC2086
		run_in "$T/o$n/rootfs" "o$n.run" $runcmd
		# shellcheck disable=SC2086
		run_in "$T/s$n/rootfs" "s$n.run" $runcmd
		if [ "$(cat "$T/o$n.run.rc")" != 0 ]; then
			runs="original fails (exit $(cat "$T/o$n.run.rc"))"
		elif cmp -s "$T/o$n.run.out" "$T/s$n.run.out" && cmp -s "$T/o$n.run.err" "$T/s$n.run.err" &&
			[ "$(cat "$T/s$n.run.rc")" = 0 ]; then
			runs="yes: \`$runcmd\` same output"
		else
			runs="**no**: \`$runcmd\` exit $(cat "$T/s$n.run.rc")"
		fi
		rm -rf "$T/o$n" "$T/s$n"
	fi
	local before
	before=$(layer_bytes "$src")
	rows+=("$($PY - "$rep" "$label" "$desc" "$before" "$runs" <<'PY'
import json, sys
rep, label, desc, before, runs = sys.argv[1:]
d = json.load(open(rep))
vb, va = d["image"]["visible_bytes"], d["slim"]["visible_bytes"]
mb = lambda b: "%.1f MB" % (b / 1e6) if b >= 1e5 else "%.1f kB" % (b / 1e3)
print("| %s | %s | %s | %s | %.3f | %s | %s | %s |" % (label, desc, mb(vb), mb(va), d["slim"]["ratio"],
      mb(int(before)), mb(d["slim"]["layer_size_bytes"]), runs))
PY
)")
	rm -rf "$out"
}

DREF=oci:$DEB/oci:bookworm
bench "Debian bookworm + python3, curl (4 layers)" "whtest (C: NSS, iconv, pthreads, libcrypto)" \
	"$DREF" "$DREF" "" "/usr/local/bin/whtest" --
bench "Debian bookworm + python3, curl (4 layers)" "curl --version" \
	"$DREF" "$DREF" "" "curl --version" -- --entrypoint curl --cmd --version
bench "Debian bookworm + python3, curl (4 layers)" "whtest.py (python3, C extensions)" \
	"$DREF" "$DREF" "" "/usr/local/bin/whtest.py" -- --entrypoint /usr/local/bin/whtest.py

# dive's fixtures: their own Cmd ("sh", busybox) fed "echo ok" on stdin (a command it names, like ls, would need --keep-exe)
# (the buildx OCI fixtures are arm64 with one layer and no program: nothing to slim or run here)
for f in test-docker-image.tar test-kaniko-image.tar; do
	[ -f "$FIXTURES/$f" ] || continue
	src="docker-archive:$FIXTURES/$f"
	skopeo copy -q "$src" "oci:$T/fx:orig"
	cmd=$(skopeo inspect --config "$src" | $PY -c 'import json,sys; c=json.load(sys.stdin).get("config",{}); print(" ".join((c.get("Entrypoint") or []) + (c.get("Cmd") or [])))')
	bench "dive fixture $f" "$cmd (its Cmd; stdin: \`echo ok\`)" "oci:$T/fx:orig" "$src" 'echo ok' "$cmd" --
	rm -rf "$T/fx"
done

echo "| Image | Entrypoint | Visible before | Visible after | Ratio | Layers before (compressed) | Layer after (gzip) | Still runs |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"

[ "${REALPROG:-1}" = 1 ] || exit 0

# --- the real-program suite ------------------------------------------------------------
echo "slimming the real-program suite (image cached in $BENCH_DIR/realprog-image) ..." >&2
mkdir -p "$T/rp"
flock "$BENCH_DIR/realprog-image.lock" "$SRC/tests/build-realprog-image.sh" "$BENCH_DIR/realprog-image" \
	>>"$BENCH_DIR/realprog-image.log" 2>&1 || { tail -20 "$BENCH_DIR/realprog-image.log" >&2; exit 1; }
rprows=()
while read -r prog; do
	echo "  $prog ..." >&2
	WHITTLE=$WHITTLE SRCDIR=$SRC BUILDDIR=$BENCH_DIR REALPROG_RESULT_DIR=$T/rp \
		"$SRC/tests/realprog/run.sh" "$prog" >"$T/rp/$prog.log" 2>&1 || true
	if [ ! -f "$T/rp/$prog.json" ]; then
		rprows+=("| $prog | failed: $(grep -m1 FAIL "$T/rp/$prog.log" | head -c 150 | tr '|' ' ') | | | | |")
		continue
	fi
	rprows+=("$($PY - "$BENCH_DIR/realprog-image/oci" "$prog" "$T/rp/$prog.json" "$T/rp/$prog.verdict" <<'PY'
import json, os, re, sys
oci, tag, rep, verdict = sys.argv[1:]
def blob(d):
    a, h = d.split(":", 1)
    return json.load(open(os.path.join(oci, "blobs", a, h)))
idx = json.load(open(os.path.join(oci, "index.json")))
m = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
c = blob(blob(m["digest"])["config"]["digest"]).get("config", {})
run = " ".join((c.get("Entrypoint") or []) + (c.get("Cmd") or []))
if c.get("User"):
    run += " (user %s)" % c["User"]
d = json.load(open(rep))
vb, va = d["image"]["visible_bytes"], d["slim"]["visible_bytes"]
v = open(verdict).read().strip() if os.path.exists(verdict) else "not run"
if v == "same":
    runs = "yes"
else:
    miss = re.sub(r".*could not find \(ENOENT, present in the original\): ", "", v).split()
    miss = [p for p in miss if p != "/etc/ld.so.cache"] or miss
    runs = "**no**: lacks " + ", ".join("`%s`" % p for p in miss[:3]) + (" ..." if len(miss) > 3 else "")
mb = lambda b: "%.1f MB" % (b / 1e6)
print("| %s | `%s` | %s | %s | %.3f | %s |" % (tag, run, mb(vb), mb(va), d["slim"]["ratio"], runs))
PY
)")
done <"$BENCH_DIR/realprog-image/programs.txt"
# the flask app led by its probes (tests/realprog/probe_flask.sh: README, probe-led slimming)
echo "  flask, probe-led ..." >&2
fpv=no
WHITTLE=$WHITTLE SRCDIR=$SRC BUILDDIR=$BENCH_DIR REALPROG_RESULT_DIR=$T/rp \
	"$SRC/tests/realprog/probe_flask.sh" >"$T/rp/flask-probe.log" 2>&1 && fpv=yes
if [ -f "$T/rp/flask-probe.json" ]; then
	rprows+=("$($PY - "$T/rp/flask-probe.json" "$fpv" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
vb, va = d["image"]["visible_bytes"], d["slim"]["visible_bytes"]
mb = lambda b: "%.1f MB" % (b / 1e6)
print("| flask, probe-led (`--rule python=off --drop-pycache`, the service and 3 GETs) | `python3 app.py` | %s | %s | %.3f | %s |"
      % (mb(vb), mb(va), d["slim"]["ratio"], "yes" if sys.argv[2] == "yes" else "**no**: see tests/realprog/probe_flask.sh"))
PY
)")
fi

echo
echo "| Program (tests/realprog) | Entrypoint + Cmd | Visible before | Visible after | Ratio | Still runs |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rprows[@]}"
echo "| *docker-slim's README: node* | *published example, not run here* | *406 MB* | *25 MB* | *0.062* | |"
echo "| *docker-slim's README: ruby* | *published example, not run here* | *978 MB* | *30 MB* | *0.031* | |"
echo "| *docker-slim's README: python* | *published example, not run here* | *916 MB* | *27.5 MB* | *0.030* | |"
