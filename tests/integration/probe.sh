#!/bin/bash
# --probe: the image's own commands run in a sandbox, traced; what they
# touch is kept. On dive's busybox-based test-docker-image.tar (its
# Dockerfile: /root/saved.txt is a copy of README.md that nothing in the
# image's config names): the plain --auto output drops /root/saved.txt,
# with --probe 'cat /root/saved.txt' it keeps it (the output layer's tar
# listing). A directory a probe listed (ls /home, empty) or entered (cd
# /root/.data) is kept as the original's directory (owner, mode) without
# its members, and added_by_probe names it. The sandbox's tmpfs /tmp holds
# the image's /tmp (mode 1777, its file, then kept). The sandbox holds: a probe writing /etc/MARKER and a fresh host
# directory's path leaves both absent on the host; /proc/self/uid_map read
# in a probe maps no inside id to host uid 0; an endless loop and a tree of
# 200 processes are killed at the timeout with no process left (pgrep on a
# unique marker); the temporary tree is gone after success, failure,
# timeout and SIGINT; another architecture is exit 2 naming both. As an
# ordinary user (setpriv to nobody, one id mapped) the probe keeps what it
# keeps as root, and a probe that switches ids is exit 2 saying why.
. "$(dirname "$0")/lib.sh"
need_cmd bwrap tar pgrep /usr/bin/python3
need_fixtures
: "${MKIMAGE:?}"
IMG="$FIXTURES/test-docker-image.tar"
M="whittle-test-$$-marker"
mkdir -p "$T/tmp" "$T/fresh"
export TMPDIR="$T/tmp"

NS="whprobe$$"
cleanup_markers() {
	rm -f "/etc/$M" "$T/fresh/$M"
	pkill -KILL -f "[w]hittle-test-$$-marker" 2>/dev/null || true
	if [ -n "${LISTENER:-}" ]; then kill "$LISTENER" 2>/dev/null || true; fi
	ip netns del "${NS}a" 2>/dev/null || true
	ip netns del "${NS}b" 2>/dev/null || true
}
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
# the entries of an image's layers (an oci-archive, or a docker-archive with
# manifest.json), the last layer's winning: "PATH TYPE MODE UID GID" (d: a directory)
layer_entries() {
	/usr/bin/python3 - "$1" <<'PY'
import json, sys, tarfile, io
t = tarfile.open(sys.argv[1])
names = t.getnames()
if "manifest.json" in names:
    layers = [t.extractfile(l).read() for l in json.loads(t.extractfile("manifest.json").read())[0]["Layers"]]
else:
    blob = lambda d: t.extractfile("blobs/sha256/" + d.split(":")[1]).read()
    man = json.loads(blob(json.loads(t.extractfile("index.json").read())["manifests"][0]["digest"]))
    layers = [blob(l["digest"]) for l in man["layers"]]
seen = {}
for data in layers:
    with tarfile.open(fileobj=io.BytesIO(data)) as lt:
        for m in lt.getmembers():
            seen[m.name.lstrip("./").rstrip("/")] = "%s %o %d %d" % ("d" if m.isdir() else "f", m.mode & 0o7777, m.uid, m.gid)
for k in sorted(seen):
    print(k, seen[k])
PY
}
no_tree_left() { [ -z "$(ls -A "$T/tmp")" ]; }
probe_field() { /usr/bin/python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["probe"][int(sys.argv[2])]; print(p[sys.argv[3]])' "$@"; }

# 1. the probe keeps what the static analysis drops
"$WHITTLE" --auto -q -o "oci-archive:$T/plain.tar" "$IMG" >/dev/null 2>&1
if layer_files "$T/plain.tar" | grep -qx 'root/saved.txt'; then bad "plain --auto keeps root/saved.txt"; else ok "plain --auto drops root/saved.txt"; fi
rc=0
"$WHITTLE" --auto -q -o "oci-archive:$T/probed.tar" --report "$T/r1.json" --report-files --probe 'cat /root/saved.txt' "$IMG" \
	>/dev/null 2>"$T/e1" || rc=$?
eq "probe run exit status" "$rc" 0
if layer_files "$T/probed.tar" | grep -qx 'root/saved.txt'; then ok "--probe keeps root/saved.txt"; else bad "--probe did not keep root/saved.txt"; fi
check "report valid with a probe list" validate_report "$T/r1.json"
eq "probe exit status in the report" "$(probe_field "$T/r1.json" 0 exit_status)" 0
eq "added_by_probe names /root/saved.txt" "$(probe_field "$T/r1.json" 0 added_by_probe | grep -o "'/root/saved.txt'")" "'/root/saved.txt'"
eq "the kept list gives rule probe for /root/saved.txt" \
	"$(/usr/bin/python3 -c 'import json,sys; print([k["rule"] for k in json.load(open(sys.argv[1]))["reach"]["kept"] if k["path"] == "/root/saved.txt"])' "$T/r1.json")" "['probe']"
# --drop wins over the probe (the proof would refuse the output: probe_verify.sh)
"$WHITTLE" --auto -q -o "oci-archive:$T/dropped.tar" --no-verify-probes --drop /root/saved.txt \
	--report "$T/rdrop.json" --probe 'cat /root/saved.txt' "$IMG" >/dev/null 2>&1
if layer_files "$T/dropped.tar" | grep -qx 'root/saved.txt'; then bad "--drop did not win over the probe"; else ok "--drop wins over the probe"; fi
# ... and reach.unresolved names the dropped path and the probe that needed it
check "the dropped path is unresolved, needed by the probe" /usr/bin/python3 -c '
import json, sys
u = json.load(open(sys.argv[1]))["reach"]["unresolved"]
sys.exit(0 if any("/root/saved.txt" in x["needs"] and "probe: cat /root/saved.txt" in x["needs"] for x in u) else "not in %r" % u)' "$T/rdrop.json"
check "no temporary tree after success" no_tree_left

# 1b. a directory the probe listed (ls of the empty /home) or entered (cd into
# /root/.data, which holds three files) is kept as a directory, with its
# owner and mode, without its members
rc=0
"$WHITTLE" --auto -q -o "oci-archive:$T/dirs.tar" --report "$T/rdirs.json" --probe 'ls /home' \
	--probe '["sh","-c","cd /root/.data && pwd"]' "$IMG" >/dev/null 2>"$T/edirs" || rc=$?
eq "directory probes: exit status" "$rc" 0
layer_entries "$IMG" >"$T/orig.entries"
layer_entries "$T/plain.tar" >"$T/plain.entries"
layer_entries "$T/dirs.tar" >"$T/dirs.entries" || true
check "the original has /root/.data/test.sh" grep -q '^root/.data/test.sh f' "$T/orig.entries"
check "plain --auto drops /home" bash -c "! grep -q '^home ' '$T/plain.entries'"
check "plain --auto drops /root/.data" bash -c "! grep -q '^root/.data ' '$T/plain.entries'"
for d in home root/.data; do
	eq "the listed or entered /$d is kept as the original's directory" \
		"$(grep "^$d " "$T/dirs.entries")" "$(grep "^$d " "$T/orig.entries")"
done
eq "no member of /root/.data is kept" "$(grep -c '^root/.data/' "$T/dirs.entries")" 0
eq "added_by_probe of ls /home names /home" "$(probe_field "$T/rdirs.json" 0 added_by_probe | grep -o "'/home'")" "'/home'"
eq "added_by_probe of the cd names /root/.data alone" "$(probe_field "$T/rdirs.json" 1 added_by_probe)" "['/root/.data']"

# 1c. the sandbox's /tmp and /run are tmpfs that hold what the image has
# there, with its mode: a probe reads /tmp's mode and /tmp/saved.again1.txt
# (a file of the image's layers), which is then kept
rc=0
"$WHITTLE" --auto -q -o "oci-archive:$T/tmpdir.tar" --report "$T/rtmp.json" \
	--probe '["sh","-c","stat -c %a /tmp; head -c 6 /tmp/saved.again1.txt"]' "$IMG" >/dev/null 2>"$T/etmp" || rc=$?
eq "a probe reading the image's /tmp: exit status" "$rc" 0
eq "a probe reading the image's /tmp: /tmp's mode and the file" "$(probe_field "$T/rtmp.json" 0 stdout)" "1777
# dive"
if layer_files "$T/plain.tar" | grep -qx 'tmp/saved.again1.txt'; then bad "plain --auto keeps tmp/saved.again1.txt"; else ok "plain --auto drops tmp/saved.again1.txt"; fi
if layer_files "$T/tmpdir.tar" | grep -qx 'tmp/saved.again1.txt'; then ok "the probe keeps tmp/saved.again1.txt"; else bad "the probe did not keep tmp/saved.again1.txt"; fi
check "added_by_probe names /tmp/saved.again1.txt" grep -q "'/tmp/saved.again1.txt'" <(probe_field "$T/rtmp.json" 0 added_by_probe)

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
	--probe "[\"sh\",\"-c\",\"trap '' TERM; while :; do sleep 1; done\",\"$M\"]" \
	"$IMG" >/dev/null 2>"$T/e5" || rc=$?
eq "timeouts: whittle's status" "$rc" 0
eq "a probe ignoring SIGTERM timed out" "$(probe_field "$T/r5.json" 2 timed_out)" True
eq "a probe ignoring SIGTERM: killed by SIGKILL" "$(probe_field "$T/r5.json" 2 exit_status)" 137
eq "endless loop timed out" "$(probe_field "$T/r5.json" 0 timed_out)" True
eq "process tree timed out" "$(probe_field "$T/r5.json" 1 timed_out)" True
sleep 0.5
check "no process of the probes left" bash -c "! pgrep -f '[w]hittle-test-$$-marker' >/dev/null"
check "no temporary tree after a timeout" no_tree_left

# 6. SIGINT during a probe: exit 130, nothing left
"$WHITTLE" --report "$T/r6.json" -q --probe "[\"sh\",\"-c\",\"sleep 7$$; true\",\"$M\"]" "$IMG" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do pgrep -f "^sh -c sleep 7$$; true $M" >/dev/null && break; sleep 0.1; done
check "the probe runs" pgrep -f "^sh -c sleep 7$$; true $M" >/dev/null
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
eq "SIGINT: exit status" "$rc" 130
sleep 0.5
check "SIGINT: no process of the probe left" bash -c "! pgrep -f '[w]hittle-test-$$-marker' >/dev/null && ! pgrep -f '^sleep 7$$\$' >/dev/null"
check "SIGINT: no temporary tree" no_tree_left

# 7. another architecture: exit 2 naming both
printf 'layer\nfile bin/true 0755 0 0 x\n' >"$T/arm.spec"
"$MKIMAGE" --arch arm64 "$T/arm.spec" "$T/arm.tar"
rc=0
"$WHITTLE" --report "$T/r7.json" -q --probe 'true' "oci-archive:$T/arm.tar" >/dev/null 2>"$T/e7" || rc=$?
eq "arm64 image: exit status" "$rc" 2
check "the message names arm64 and amd64" grep -q "arm64.*amd64" "$T/e7"

# 8. kill -9 of whittle leaves no image process; the next run removes the tree it left
"$WHITTLE" --report "$T/r8.json" -q --probe "[\"sh\",\"-c\",\"sleep 7$$; true\",\"$M\"]" "$IMG" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do pgrep -f "^sh -c sleep 7$$; true $M" >/dev/null && break; sleep 0.1; done
check "kill -9: the probe runs" pgrep -f "^sh -c sleep 7$$; true $M" >/dev/null
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
sleep 0.5
check "kill -9: no process of the probe left" bash -c "! pgrep -f '[w]hittle-test-$$-marker' >/dev/null && ! pgrep -f '^sleep 7$$\$' >/dev/null"
"$WHITTLE" --report "$T/r8b.json" -q --probe true "$IMG" >/dev/null 2>&1
check "kill -9: the next probe run removed the tree left behind" no_tree_left

# 9. as an ordinary user (no subordinate ids: one id mapped)
if [ "$(id -u)" = 0 ]; then
	need_nobody
	rc=0
	as_nobody "$WHITTLE" --auto -q \
		-o "oci-archive:$T/nobody/probed.tar" --report "$T/nobody/r.json" --probe 'cat /root/saved.txt' \
		--probe 'cat /proc/self/uid_map' "$IMG" >/dev/null 2>"$T/e9" || rc=$?
	eq "as nobody: exit status" "$rc" 0
	if layer_files "$T/nobody/probed.tar" | grep -qx 'root/saved.txt'; then ok "as nobody: --probe keeps root/saved.txt"; else bad "as nobody: root/saved.txt not kept"; fi
	probe_field "$T/nobody/r.json" 1 stdout >"$T/uidmap9"
	check "as nobody: one id mapped, to 65534" awk 'NF { n++; if ($2 == 65534 && $3 == 1) f = 1 } END { exit !(f && n == 1) }' "$T/uidmap9"
	check "as nobody: no temporary tree" test -z "$(ls -A "$T/nobody" | grep -v -e probed.tar -e r.json)"
	# an image that must switch to another id (busybox's setuidgid: setgroups, then setgid and setuid
	# to nobody) cannot be probed with one id mapped: exit 2 saying so, nothing written; as root it runs
	rc=0
	as_nobody "$WHITTLE" --auto -q -o "oci-archive:$T/nobody/switch.tar" --probe 'setuidgid nobody id' "$IMG" >/dev/null 2>"$T/e9b" || rc=$?
	eq "as nobody, a probe switching ids: exit status" "$rc" 2
	check "as nobody, a probe switching ids: the message names the image, the call, the ids and root" \
		grep -q "the image .*test-docker-image.tar must switch to another id: setgroups(1 groups) by /bin/setuidgid was refused (Operation not permitted).*uid 65534.*User (uid 0, gid 0).*Run whittle as root" "$T/e9b"
	check "as nobody, a probe switching ids: nothing written" test ! -e "$T/nobody/switch.tar"
	check "as nobody, a probe switching ids: no temporary tree" test -z "$(ls -A "$T/nobody" | grep -v -e probed.tar -e r.json)"
	rc=0
	"$WHITTLE" --report "$T/r9c.json" -q --probe 'setuidgid nobody id' "$IMG" >/dev/null 2>"$T/e9c" || rc=$?
	eq "as root, the same probe: exit status" "$rc" 0
	eq "as root, the probe switched to nobody" "$(probe_field "$T/r9c.json" 0 stdout)" \
		"uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"
fi

# 10. the probe's network is loopback only: whittle runs in a namespace linked
# by a veth pair to another one holding a listener
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
	ip netns add "${NS}a"
	ip netns add "${NS}b"
	ip link add "v${NS}" netns "${NS}a" type veth peer name "w${NS}" netns "${NS}b"
	ip -n "${NS}a" addr add 10.231.7.1/24 dev "v${NS}"
	ip -n "${NS}b" addr add 10.231.7.2/24 dev "w${NS}"
	ip -n "${NS}a" link set "v${NS}" up
	ip -n "${NS}b" link set "w${NS}" up
	ip -n "${NS}a" link set lo up
	: >"$T/conns"
	ip netns exec "${NS}b" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.231.7.2", 8765)); s.listen(8)
while True:
    c, a = s.accept()
    open(sys.argv[1], "a").write("conn\n"); c.close()' "$T/conns" &
	LISTENER=$!
	for _ in $(seq 50); do ip netns exec "${NS}a" /usr/bin/python3 -c 'import socket; socket.create_connection(("10.231.7.2", 8765), 1)' 2>/dev/null && break; sleep 0.1; done
	eq "a plain client in whittle's namespace reaches the listener" "$(wc -l <"$T/conns")" 1
	rc=0
	ip netns exec "${NS}a" "$WHITTLE" --report "$T/r10.json" -q --probe-timeout 10 \
		--probe '["sh","-c","echo hi | nc -w 2 10.231.7.2 8765; echo status $?"]' "$IMG" >/dev/null 2>"$T/e10" || rc=$?
	eq "network probe: whittle's status" "$rc" 0
	check "network probe ran nc" grep -q status "$T/r10.json"
	sleep 0.5
	eq "the probe's connection never arrived" "$(wc -l <"$T/conns")" 1
fi

finish
