#!/bin/bash
# Probe-led slimming of a python program: on the real Debian image,
# whtest.py (imports json, hashlib, ssl, ctypes, decimal, bz2, lzma, zlib)
# slimmed with --rule python=off and --probe whtest.py keeps only what the
# program imported. Independently of whittle: the original, unpacked by
# umoci, runs whtest.py under chroot with -X importtime, which names every
# module imported, and importlib finds their files (frozen ones left out:
# python 3.11 never reads their files), plus os.py, the landmark python
# looks for to find its standard library; every one is in the
# output, and every .py file of the output's /usr/lib/python3.11 is one of
# them (a module nothing imported, http/server.py, is gone). The output,
# unpacked by umoci, runs whtest.py under chroot with the same stdout,
# stderr and exit status as the original; the proof compared them too.
# Run again as an ordinary user (nobody, one id mapped), the output is the
# same byte for byte.
. "$(dirname "$0")/lib.sh"
need_cmd bwrap umoci chroot /usr/bin/python3
[ "$(id -u)" = 0 ] || skip "needs root (umoci unpack, chroot)"
need_debian_image
mkdir -p "$T/tmp"
export TMPDIR="$T/tmp"
PYLIB=usr/lib/python3.11

rc=0
"$WHITTLE" --auto -o "oci:$T/slim:py" --report "$T/r.json" --entrypoint /usr/local/bin/whtest.py \
	--rule python=off --probe /usr/local/bin/whtest.py "$DEBIAN_REF" >"$T/o" 2>"$T/e" || rc=$?
eq "python=off with a probe: exit status" "$rc" 0
[ "$rc" = 0 ] || { cat "$T/e" >&2; finish; exit 1; }
check "report valid" validate_report "$T/r.json"
eq "the proof compared the probe's output" \
	"$(/usr/bin/python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["probe"][0]["verify"]; print(v["equal"], v["compared"])' "$T/r.json")" \
	"True ['exit_status', 'stdout', 'stderr']"

umoci unpack --image "$DEBIAN_OCI:bookworm" "$T/orig" >/dev/null
umoci unpack --image "$T/slim:py" "$T/out" >/dev/null

# the original: the modules whtest.py imports (python -X importtime names
# each), then the file each is loaded from (importlib's find_spec; frozen
# and built-in ones left out: python 3.11 never reads a file for them)
chroot_run "$T/orig/rootfs" importtime /usr/bin/python3 -X importtime /usr/local/bin/whtest.py
eq "the original runs whtest.py with -X importtime" "$(cat "$T/importtime.rc")" 0
sed -n 's/^import time: *[0-9]* | *[0-9]* | *//p' "$T/importtime.stderr" >"$T/orig/rootfs/tmp/names"
cat >"$T/orig/rootfs/tmp/origins.py" <<'PY'
import importlib.util
for name in open("/tmp/names").read().split():
    spec = importlib.util.find_spec(name)
    if spec and spec.has_location and spec.origin not in ("frozen", "built-in"):
        print(spec.origin.lstrip("/"))
PY
chroot_run "$T/orig/rootfs" origins /usr/bin/python3 /tmp/origins.py
eq "the modules' files found" "$(cat "$T/origins.rc")" 0
# plus os.py, the landmark by which python finds its standard library
# (Modules/getpath.py: STDLIB_LANDMARKS), though os itself is frozen
{ grep "^$PYLIB/.*\.py$" "$T/origins.out"; echo "$PYLIB/os.py"; } | sort -u >"$T/imported"
check "the original imports json/decoder.py" grep -qx "$PYLIB/json/decoder.py" "$T/imported"
(cd "$T/out/rootfs" && find "$PYLIB" -name '*.py' -not -path '*/__pycache__/*' | sort) >"$T/kept"
missing=$(comm -23 "$T/imported" "$T/kept" | head -5)
eq "every imported module file is in the output" "$missing" ""
extra=$(comm -13 "$T/imported" "$T/kept" | head -5)
eq "every .py of the output's stdlib was imported" "$extra" ""
check "the original has http/server.py" test -f "$T/orig/rootfs/$PYLIB/http/server.py"
check "the output has no http/server.py (nothing imported it)" test ! -e "$T/out/rootfs/$PYLIB/http/server.py"

# the same output as the original's
chroot_run "$T/orig/rootfs" orig /usr/local/bin/whtest.py
chroot_run "$T/out/rootfs" slim /usr/local/bin/whtest.py
eq "the original runs" "$(cat "$T/orig.rc")" 0
eq "the output's exit status is the original's" "$(cat "$T/slim.rc")" "$(cat "$T/orig.rc")"
check "the output's stdout is the original's" cmp "$T/orig.out" "$T/slim.out"
check "the output's stderr is the original's" cmp "$T/orig.stderr" "$T/slim.stderr"
check "whtest.py says ok" grep -qx "whtest.py: ok" "$T/slim.out"
# the same as an ordinary user (one id mapped: every file appears owned by
# the image's User): the same output, byte for byte
need_nobody
rc=0
as_nobody "$WHITTLE" --auto -o "oci:$T/nobody/slim:py" --report "$T/nobody/r.json" \
	--entrypoint /usr/local/bin/whtest.py --rule python=off --probe /usr/local/bin/whtest.py "$DEBIAN_REF" \
	>"$T/nobody.o" 2>"$T/nobody.e" || rc=$?
eq "as nobody: exit status" "$rc" 0
[ "$rc" = 0 ] || tail -5 "$T/nobody.e" >&2
eq "as nobody: the proof passed" \
	"$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["probe"][0]["verify"]["equal"])' "$T/nobody/r.json")" True
eq "as nobody: the output is root's, byte for byte (its manifest digest)" \
	"$(oci_manifest "$T/nobody/slim" py)" "$(oci_manifest "$T/slim" py)"

/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("visible bytes: %d -> %d" % (d["image"]["visible_bytes"], d["slim"]["visible_bytes"]))' "$T/r.json"

finish
