#!/bin/bash
# --probe: the image's own commands run in a sandbox, traced; what they
# touch is kept. On dive's busybox-based test-docker-image.tar (its
# Dockerfile: /root/saved.txt is a copy of README.md that nothing in the
# image's config names): the plain --auto output drops /root/saved.txt,
# with --probe 'cat /root/saved.txt' it keeps it (the output layer's tar
# listing). The sandbox holds: a probe writing /etc/MARKER and a fresh host
# directory's path leaves both absent on the host; /proc/self/uid_map read
# in a probe maps no inside id to host uid 0; an endless loop and a tree of
# 200 processes are killed at the timeout with no process left (pgrep on a
# unique marker); the temporary tree is gone after success, failure,
# timeout and SIGINT; another architecture is exit 2 naming both.
. "$(dirname "$0")/lib.sh"
need_cmd bwrap tar pgrep /usr/bin/python3
need_fixtures
: "${MKIMAGE:?}"
IMG="$FIXTURES/test-docker-image.tar"
M="whittle-test-$$-marker"
mkdir -p "$T/tmp" "$T/fresh"
export TMPDIR="$T/tmp"

cleanup_markers() { rm -f "/etc/$M" "$T/fresh/$M"; pkill -KILL -f "$M" 2>/dev/null || true; }
trap 'cleanup_markers; rm -rf "$T"' EXIT

# the files of an oci-archive's one layer, sorted, without leading ./ or /
layer_files() {
	/usr/bin/python3 - "$1" <<'PY'
import json, sys, tarfile, io
t = tarfile.open(sys.argv[1])
blob = lambda d: t.extractfile("blobs/sha256/" + d.split(":")[1]).read()
idx = json.loads(t.extractfile("index.json").read())
man = json.loads(blob(idx["manifests"][0]["digest"]))
for l in man["layers"]:
    with tarfile.open(fileobj=io.BytesIO(blob(l["digest"]))) as lt:
        for m in lt.getmembers():
            if not m.isdir():
                print(m.name.lstrip("./").lstrip("/"))
PY
}
no_tree_left() { [ -z "$(ls -A "$T/tmp")" ]; }
probe_field() { /usr/bin/python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["probe"][int(sys.argv[2])]; print(p[sys.argv[3]])' "$@"; }

# 1. the probe keeps what the static analysis drops
"$WHITTLE" --auto -q -o "oci-archive:$T/plain.tar" "$IMG" >/dev/null 2>&1
if layer_files "$T/plain.tar" | grep -qx 'root/saved.txt'; then bad "plain --auto keeps root/saved.txt"; else ok "plain --auto drops root/saved.txt"; fi
rc=0
"$WHITTLE" --auto -q -o "oci-archive:$T/probed.tar" --report "$T/r1.json" --probe 'cat /root/saved.txt' "$IMG" \
	>/dev/null 2>"$T/e1" || rc=$?
eq "probe run exit status" "$rc" 0
if layer_files "$T/probed.tar" | grep -qx 'root/saved.txt'; then ok "--probe keeps root/saved.txt"; else bad "--probe did not keep root/saved.txt"; fi
check "report valid with a probe list" validate_report "$T/r1.json"
eq "probe exit status in the report" "$(probe_field "$T/r1.json" 0 exit_status)" 0
check "added_by_probe names /root/saved.txt" grep -q '"/root/saved.txt"' "$T/r1.json"
check "no temporary tree after success" no_tree_left

# 2. the host is untouched by a probe writing /etc and a fresh host directory's path
rc=0
"$WHITTLE" --report "$T/r2.json" -q \
	--probe "[\"sh\",\"-c\",\"echo x >/etc/$M; mkdir -p $T/fresh; echo y >$T/fresh/$M; cat /etc/$M\"]" \
	"$IMG" >/dev/null 2>"$T/e2" || rc=$?
eq "writing probe: whittle's status" "$rc" 0
eq "writing probe: it wrote inside its sandbox" "$(probe_field "$T/r2.json" 0 stdout)" "x"
check "host /etc has no $M" test ! -e "/etc/$M"
check "the fresh host directory has no $M" test ! -e "$T/fresh/$M"
check "no temporary tree after the writing probe" no_tree_left

# 3. no inside id maps to host uid 0
"$WHITTLE" --report "$T/r3.json" -q --probe 'cat /proc/self/uid_map' "$IMG" >/dev/null 2>"$T/e3"
probe_field "$T/r3.json" 0 stdout >"$T/uidmap"
check "uid_map read" test -s "$T/uidmap"
check "no inside id maps to host uid 0" awk '{ if ($2 <= 0 && 0 < $2 + $3) bad = 1 } END { exit bad }' "$T/uidmap"
if [ "$(id -u)" = 0 ]; then
	check "as root, 65536 inside ids are mapped" awk '$1 == 0 && $3 == 65536 { f = 1 } END { exit !f }' "$T/uidmap"
fi

# 4. a failing probe: its status is recorded, nothing left
rc=0
"$WHITTLE" --report "$T/r4.json" -q --probe '["sh","-c","exit 7"]' "$IMG" >/dev/null 2>&1 || rc=$?
eq "failing probe: whittle's status" "$rc" 0
eq "failing probe: its status" "$(probe_field "$T/r4.json" 0 exit_status)" 7
check "no temporary tree after a failing probe" no_tree_left

# 5. an endless loop and a tree of 200 processes are killed at the timeout
rc=0
"$WHITTLE" --report "$T/r5.json" -q --probe-timeout 2 \
	--probe "[\"sh\",\"-c\",\"while :; do :; done\",\"$M\"]" \
	--probe "[\"sh\",\"-c\",\"i=0; while [ \$i -lt 200 ]; do (while :; do sleep 1; done) & i=\$((i+1)); done; wait\",\"$M\"]" \
	"$IMG" >/dev/null 2>"$T/e5" || rc=$?
eq "timeouts: whittle's status" "$rc" 0
eq "endless loop timed out" "$(probe_field "$T/r5.json" 0 timed_out)" True
eq "process tree timed out" "$(probe_field "$T/r5.json" 1 timed_out)" True
sleep 0.5
check "no process of the probes left" bash -c "! pgrep -f '[w]hittle-test-$$-marker' >/dev/null"
check "no temporary tree after a timeout" no_tree_left

# 6. SIGINT during a probe: exit 130, nothing left
"$WHITTLE" --report "$T/r6.json" -q --probe "[\"sh\",\"-c\",\"sleep 1000\",\"$M\"]" "$IMG" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do pgrep -f "$M" >/dev/null && break; sleep 0.1; done
check "the probe runs" pgrep -f "$M" >/dev/null
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
eq "SIGINT: exit status" "$rc" 130
sleep 0.5
check "SIGINT: no process of the probe left" bash -c "! pgrep -f '[w]hittle-test-$$-marker' >/dev/null"
check "SIGINT: no temporary tree" no_tree_left

# 7. another architecture: exit 2 naming both
printf 'layer\nfile bin/true 0755 0 0 x\n' >"$T/arm.spec"
"$MKIMAGE" --arch arm64 "$T/arm.spec" "$T/arm.tar"
rc=0
"$WHITTLE" --report "$T/r7.json" -q --probe 'true' "oci-archive:$T/arm.tar" >/dev/null 2>"$T/e7" || rc=$?
eq "arm64 image: exit status" "$rc" 2
check "the message names arm64 and amd64" grep -q "arm64.*amd64" "$T/e7"

finish
