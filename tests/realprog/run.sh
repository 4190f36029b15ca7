#!/bin/bash
# realprog/PROGRAM: one real program, slimmed with plain `whittle --auto`
# (no --keep), must do for a client what the original does.
#
# The image (tests/build-realprog-image.sh, shared by the suite) has a tag
# per program whose config runs it as its usual container image does. The
# test slims that tag, unpacks the output with umoci, and runs the
# program's scenario (scenarios.sh) against the original's rootfs (umoci
# unpack, under an overlay so it is never written) and against the slimmed
# one, each in its own `unshare --net --mount --pid --fork` (inner.sh). The
# transcripts of what the clients saw must be equal, and the original's
# must hold the strings expect.txt lists for the program. When they differ,
# the slimmed run is repeated under strace -f and the paths it could not
# find that exist in the original are named (enoent.py).
#
# Expected failures: a program listed in xfail.txt passes when its runs
# differ, and fails when they agree (its line must go then).
#
# usage (meson sets WHITTLE, SRCDIR, BUILDDIR): run.sh PROGRAM
# With REALPROG_RESULT_DIR set (bench/slim.sh), the report goes to
# DIR/PROGRAM.json and the verdict ("same" or "differs: ...") to
# DIR/PROGRAM.verdict. REALPROG_ARGS adds options to --auto, to try by
# hand what a fix would keep (e.g. REALPROG_ARGS="--keep /bin/sh"); the
# suite itself never sets it.
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/realprog/lib.sh"
HOSTLISTENER=
# REALPROG_KEEP=1 keeps the scratch directory (printed) for a look
cleanup() {
	[ -z "$HOSTLISTENER" ] || kill "$HOSTLISTENER" 2>/dev/null || true
	if [ -n "${REALPROG_KEEP:-}" ]; then echo "kept $T"; else rm -rf --one-file-system "$T"; fi
}
trap cleanup EXIT

[ $# -eq 1 ] || { echo "usage: $0 PROGRAM" >&2; exit 2; }
P=$1
HERE=$SRCDIR/tests/realprog
[ "$(id -u)" -eq 0 ] || skip "needs root (unshare, chroot, umoci unpack)"
need_cmd umoci unshare ip strace curl chroot mount
need_realprog_image
grep -qx "$P" "$RP_IMG/programs.txt" || { echo "FAIL: no program $P in $RP_IMG/programs.txt" >&2; exit 1; }
XFAIL=$(rp_lookup "$HERE/xfail.txt" "$P")

# a listener on the host's loopback that no run may reach (inner.sh tries)
/usr/bin/python3 -c 'import socket,sys,time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(3600)' "$T/hostport" &
HOSTLISTENER=$!
for _ in $(seq 50); do [ -s "$T/hostport" ] && break; sleep 0.1; done
export RP_HOST_PORT
RP_HOST_PORT=$(cat "$T/hostport")

# run_scenario NAME OCI_DIR ROOT STRACE: the scenario in fresh namespaces, into $T/NAME
run_scenario() {
	mkdir -p "$T/$1"
	timeout 600 unshare --net --mount --pid --fork --kill-child \
		bash "$HERE/inner.sh" "$P" "$2" "$P" "$3" "$RP_IMG/rootfs" "$T/$1" "$4" \
		>"$T/$1.log" 2>&1 || echo "## inner.sh exit $?" >>"$T/$1/transcript"
	eq "$P: $1 run isolated (its own pid namespace; a listener on the host's loopback unreachable)" \
		"$(tr '\n' ' ' <"$T/$1/isolation" 2>/dev/null)" "pid 1 host unreachable "
}

# --- slim ----------------------------------------------------------------------------------
rc=0
# shellcheck disable=SC2086 # REALPROG_ARGS: words
"$WHITTLE" --auto -q -o "oci:$T/slim:$P" --report "$T/report.json" ${REALPROG_ARGS:-} "oci:$RP_IMG/oci:$P" \
	>"$T/auto.out" 2>"$T/auto.err" || rc=$?
if [ "$rc" -ne 0 ]; then
	bad "$P: whittle --auto exits $rc: $(head -c 400 "$T/auto.err")"
	finish
	exit 1
fi
ok "$P: whittle --auto wrote oci:.../slim:$P"
if [ -n "${REALPROG_RESULT_DIR:-}" ]; then cp "$T/report.json" "$REALPROG_RESULT_DIR/$P.json"; fi
unpack_slim() {
	umoci unpack --image "$T/slim:$P" "$T/$1" >/dev/null 2>"$T/umoci.err" ||
		{ bad "$P: umoci unpack of the output: $(head -c 300 "$T/umoci.err")"; finish; exit 1; }
}
unpack_slim sb

# --- the original and the slimmed run ----------------------------------------------------
run_scenario orig "$RP_IMG/oci" overlay 0
run_scenario slim "$T/slim" "$T/sb/rootfs" 0

# the original's run is the scenario working at all
while IFS= read -r want; do
	if grep -qF -- "$want" "$T/orig/transcript"; then
		ok "$P: the original's run shows [$want]"
	else
		bad "$P: the original's run lacks [$want]; transcript: $(head -c 600 "$T/orig/transcript" | tr '\n' '|'); log: $(tail -c 400 "$T/orig.log" | tr '\n' '|')"
	fi
done < <(rp_lookup "$HERE/expect.txt" "$P")

if cmp -s "$T/orig/transcript" "$T/slim/transcript"; then
	verdict=same
else
	# what the slimmed program could not find: its run again, under strace
	unpack_slim sb2
	run_scenario slimtrace "$T/slim" "$T/sb2/rootfs" 1
	missing=$(/usr/bin/python3 "$HERE/enoent.py" "$RP_IMG/rootfs" "$T"/slimtrace/strace.* 2>&1 | head -40 | tr '\n' ' ' || true)
	difference=$(diff "$T/orig/transcript" "$T/slim/transcript" | head -12 | tr '\n' '|' | head -c 900 || true)
	verdict="differs: $difference; the slimmed run could not find (ENOENT, present in the original): ${missing:-nothing}"
	echo "--- diff original slimmed (what a client saw) ---"
	diff "$T/orig/transcript" "$T/slim/transcript" | head -40 || true
	echo "--- the slimmed program's own output (server log / stderr) ---"
	tail -c 1500 "$T/slim/server.log" "$T/slim/stderr" 2>/dev/null || true
fi
if [ -n "${REALPROG_RESULT_DIR:-}" ]; then echo "$verdict" >"$REALPROG_RESULT_DIR/$P.verdict"; fi

if [ "$verdict" = same ]; then
	if [ -n "$XFAIL" ]; then
		bad "$P: runs the same slimmed, but xfail.txt marks it ($XFAIL): drop its line from tests/realprog/xfail.txt"
	else
		ok "$P: the slimmed image does for a client what the original does ($(wc -l <"$T/orig/transcript") transcript lines)"
	fi
elif [ -n "$XFAIL" ]; then
	ok "$P: expected failure (xfail.txt: $XFAIL): $verdict"
else
	bad "$P: $verdict"
fi
finish
