#!/bin/bash
# realprog/flask-probe: probe-led slimming of the suite's flask app (issue
# 15). The flask tag slimmed with --rule python=off (no whole standard
# library), --drop-pycache (the sources stay, python compiles them at
# import) and probes that exercise the app: its own Entrypoint as a
# service and HTTP GETs of its three routes. Checked here:
#   - the output's visible bytes (the report's slim.visible_bytes) are
#     under 25,000,000 (decimal MB, as docker-slim's 27.5 MB for its
#     python example is counted);
#   - whittle's proof ran every probe on the output and found it equal;
#   - modules nothing imported are gone (smtplib.py, xmlrpc/server.py),
#     and no __pycache__/*.pyc of a kept .py is left;
#   - the original and the output (each unpacked by umoci, each run in its
#     own `unshare --net --mount --pid --fork` by inner.sh) answer the
#     scenario flask_probe the same, byte for byte, as curl sees it: the
#     probed routes and ones no probe asked for (another word, an empty
#     one, UTF-8, an unknown URL, a POST the route does not allow).
# With REALPROG_RESULT_DIR set (bench/slim.sh), the report goes to
# DIR/flask-probe.json.
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/realprog/lib.sh"
HERE=$SRCDIR/tests/realprog
P=flask
LIMIT=25000000
[ "$(id -u)" -eq 0 ] || skip "needs root (probes as root, unshare, chroot, umoci unpack)"
need_cmd bwrap umoci unshare ip curl chroot mount /usr/bin/python3
need_realprog_image
mkdir -p "$T/tmp"
export TMPDIR="$T/tmp" RP_HOST_PORT

# a listener on the host's loopback that no run may reach (inner.sh checks)
/usr/bin/python3 -c 'import socket,sys,time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(3600)' "$T/hostport" &
HOSTLISTENER=$!
trap 'kill $HOSTLISTENER 2>/dev/null; rm -rf --one-file-system "$T"' EXIT
for _ in $(seq 50); do [ -s "$T/hostport" ] && break; sleep 0.1; done
RP_HOST_PORT=$(cat "$T/hostport")

# --- slim, led by the probes -------------------------------------------------------------
rc=0
"$WHITTLE" --auto -q -o "oci:$T/slim:$P" --report "$T/r.json" --rule python=off --drop-pycache \
	--probe-entrypoint --probe-wait 5000 --probe-http 5000/ --probe-http '5000/hash?word=whittle' \
	--probe-http 5000/missing "oci:$RP_IMG/oci:$P" >"$T/auto.out" 2>"$T/auto.err" || rc=$?
eq "$P probe-led: whittle --auto exit status" "$rc" 0
[ "$rc" = 0 ] || { head -c 2000 "$T/auto.err" >&2; finish; exit 1; }
check "report valid" validate_report "$T/r.json"
# bench/slim.sh: the report for its table
if [ -n "${REALPROG_RESULT_DIR:-}" ]; then cp "$T/r.json" "$REALPROG_RESULT_DIR/flask-probe.json"; fi
/usr/bin/python3 - "$T/r.json" "$LIMIT" >"$T/facts" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("visible", d["slim"]["visible_bytes"], d["image"]["visible_bytes"])
print("under", d["slim"]["visible_bytes"] < int(sys.argv[2]))
print("probes", len(d["probe"]))
for p in d["probe"]:
    v = p.get("verify") or {}
    print("verify", p["command"], v.get("equal"), p.get("http_status", p["exit_status"]))
print("python-rule", [r["files"] for r in d["reach"]["rules"] if r["name"] == "python"])
PY
cat "$T/facts"
eq "the output is under $LIMIT visible bytes" "$(sed -n 's/^under //p' "$T/facts")" True
eq "four probes: the service and three GETs" "$(sed -n 's/^probes //p' "$T/facts")" 4
eq "the python rule kept nothing" "$(sed -n 's/^python-rule //p' "$T/facts")" "[0]"
eq "whittle's proof: every probe equal on the output" "$(grep -c '^verify .* True [0-9]*$' "$T/facts")" 4
eq "the probed GETs answered 200, 200, 404" "$(grep '^verify http' "$T/facts" | awk '{print $NF}' | tr '\n' ' ')" "200 200 404 "

umoci unpack --image "$T/slim:$P" "$T/sb" >/dev/null 2>"$T/umoci.err" || bad "umoci unpack: $(head -c 300 "$T/umoci.err")"
PYLIB=usr/lib/python3.11
for m in smtplib.py xmlrpc/server.py; do
	check "the original has $PYLIB/$m" test -f "$RP_IMG/rootfs/$PYLIB/$m"
	check "the output has no $PYLIB/$m (nothing imported it)" test ! -e "$T/sb/rootfs/$PYLIB/$m"
done
check "the output keeps flask/app.py" test -f "$T/sb/rootfs/usr/lib/python3/dist-packages/flask/app.py"
check "the original has flask's bytecode cache" \
	test -f "$RP_IMG/rootfs/usr/lib/python3/dist-packages/flask/__pycache__/app.cpython-311.pyc"
pyc=$(cd "$T/sb/rootfs" && find . -name '*.pyc' -path '*/__pycache__/*' | head -3)
eq "--drop-pycache: no bytecode cache in the output" "$pyc" ""

# --- the original and the output, as curl sees them --------------------------------------
run() { # NAME OCI ROOT
	mkdir -p "$T/$1"
	timeout 600 unshare --net --mount --pid --fork --kill-child \
		bash "$HERE/inner.sh" flask_probe "$2" "$P" "$3" "$RP_IMG/rootfs" "$T/$1" 0 \
		>"$T/$1.log" 2>&1 || echo "## inner.sh exit $?" >>"$T/$1/transcript"
	eq "$1 run isolated" "$(tr '\n' ' ' <"$T/$1/isolation" 2>/dev/null)" "pid 1 host unreachable "
}
run orig "$RP_IMG/oci" overlay
run slim "$T/slim" "$T/sb/rootfs"
check "the original says hello" grep -qx "flask says hello" "$T/orig/transcript"
check "the original hashes whittle" \
	grep -q "$(printf whittle | sha256sum | cut -d' ' -f1)" "$T/orig/transcript"
check "the original answers 405 to a POST" grep -qx 405 "$T/orig/transcript"
if cmp -s "$T/orig/transcript" "$T/slim/transcript"; then
	ok "the output answers every request as the original ($(grep -c '^## ' "$T/orig/transcript") requests)"
else
	bad "the output's answers differ: $(diff "$T/orig/transcript" "$T/slim/transcript" | head -20 | tr '\n' '|')"
	tail -c 1500 "$T/slim/server.log" >&2 || true
fi
finish
