#!/bin/bash
# slim_debian: whittle --auto on the real Debian image of the shared builder
# (tests/build-debian-image.sh), each output unpacked by umoci and run.
#
#  a. The image's own figures: whittle's size_bytes, visible_bytes,
#     reclaimable_bytes and file_count against expect.json (computed by the
#     builder from the layer tars) and against the rootfs umoci unpacks
#     (entries: find -mindepth 1; bytes: regular files, one per inode).
#  b. Per entrypoint (the image's own, whtest; whtest.py; whtest.sh; curl
#     --version): `--auto -o oci:...`, the output unpacked by umoci (it
#     verifies the diff_ids), the entrypoint run with chroot in the output
#     and in the original: same stdout, stderr and exit status. The issue's
#     targets in visible bytes (C program < 20 MB, curl < 25 MB, python3
#     script < 60 MB), read from the report's slim section and, on their
#     own, from the unpacked rootfs (which must agree).
#  c. The dpkg database of every output lists exactly the packages with a
#     file left: dpkg-query --admindir on the output against the original's
#     info/*.list files whose non-directory paths remain in the output.
#  d. --rule gconv=off: whtest fails at its iconv check only, and what the
#     output lacks compared with the gconv=on output is the gconv modules.
#  e. Reproducible: two runs with other --jobs, TMPDIR and working
#     directory give identical bytes.
# Expected values come from the image (the builder's figures, umoci's
# rootfs, the programs' own output, dpkg-query), never from whittle.
. "$SRCDIR/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (umoci unpack, chroot)"
need_cmd umoci chroot dpkg-query cmp find
need_debian_image

PY=/usr/bin/python3
EXPECT=$BUILDDIR/debian-image/expect.json
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
MB=1000000

unpack() { # OCI_DIR:TAG DEST
	umoci unpack --image "$1" "$2" >/dev/null 2>"$T/umoci.err" || {
		bad "umoci unpack $1: $(head -c 400 "$T/umoci.err")"
		return 1
	}
}
unpack "$DEBIAN_OCI:bookworm" "$T/orig" || { finish; exit 1; }
ORIG=$T/orig/rootfs

# regular-file bytes of a rootfs, each inode once (a hard link counts 0)
rootfs_bytes() { find "$1" -type f -printf '%D:%i %s\n' | sort -u | awk '{s += $2} END {print s + 0}'; }
jq_get() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d[k]
print(d)' "$1" "$2"; }

# --- a. the image's own figures -----------------------------------------------------------
if "$WHITTLE" --report "$T/full.json" "$DEBIAN_REF" 2>"$T/full.err"; then
	for k in size_bytes visible_bytes reclaimable_bytes; do
		eq "image $k = expect.json (the builder's, from the layer tars)" \
			"$(jq_get "$T/full.json" "image.$k")" "$(jq_get "$EXPECT" "$k")"
	done
	eq "image file_count = expect.json visible_file_count" \
		"$(jq_get "$T/full.json" image.file_count)" "$(jq_get "$EXPECT" visible_file_count)"
	# the root is the filesystem, not an entry in it
	eq "image file_count = entries of the unpacked rootfs (find -mindepth 1)" \
		"$(jq_get "$T/full.json" image.file_count)" "$(find "$ORIG" -mindepth 1 | wc -l)"
	eq "image visible_bytes = regular-file bytes of the unpacked rootfs" \
		"$(jq_get "$T/full.json" image.visible_bytes)" "$(rootfs_bytes "$ORIG")"
else
	bad "whittle --report: $(head -c 400 "$T/full.err")"
fi

# --- b. per entrypoint ----------------------------------------------------------------------
# same_run LABEL SLIMROOT CMD...: the command in the output and in the original agree
same_run() {
	local label=$1 root=$2 name=${1//[^A-Za-z0-9_.-]/_}
	shift 2
	chroot_run "$ORIG" "$name.orig" "$@"
	chroot_run "$root" "$name.slim" "$@"
	local want got
	want="exit $(cat "$T/$name.orig.rc")"
	got="exit $(cat "$T/$name.slim.rc")"
	if [ "$want" = "$got" ] && cmp -s "$T/$name.orig.out" "$T/$name.slim.out" &&
		cmp -s "$T/$name.orig.stderr" "$T/$name.slim.stderr"; then
		ok "$label: $* in the slimmed image: same output as the original ($(wc -l <"$T/$name.orig.out") lines, $want)"
	else
		bad "$label: $* slimmed $got, original $want; stderr: $(head -c 300 "$T/$name.slim.stderr"); diff: $(diff "$T/$name.orig.out" "$T/$name.slim.out" | head -8 | tr '\n' '|')"
	fi
}

# slim NAME ARGS...: --auto into oci:$T/out-NAME:slim with a report, unpacked to $T/b-NAME
slim() {
	local name=$1 rc=0
	shift
	"$WHITTLE" --auto -q -o "oci:$T/out-$name:slim" --report "$T/$name.json" "$@" "$DEBIAN_REF" \
		>"$T/$name.auto.out" 2>"$T/$name.auto.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		bad "$name: whittle --auto $* exits $rc: $(head -c 400 "$T/$name.auto.err")"
		return 1
	fi
	check "$name: report valid against the schema" validate_report "$T/$name.json"
	unpack "$T/out-$name:slim" "$T/b-$name" || return 1
	ok "$name: umoci unpacks the output (diff_ids verified)"
}

# target NAME LIMIT_MB: visible bytes from the report and from the rootfs, under the limit
target() {
	local name=$1 limit=$2 rep fs
	rep=$(jq_get "$T/$name.json" slim.visible_bytes)
	fs=$(rootfs_bytes "$T/b-$name/rootfs")
	eq "$name: report slim.visible_bytes = regular-file bytes of the unpacked output" "$rep" "$fs"
	if [ "$fs" -lt $((limit * MB)) ]; then
		ok "$name: visible bytes $fs < $limit MB (original $(jq_get "$EXPECT" visible_bytes))"
	else
		bad "$name: visible bytes $fs, target < $limit MB"
	fi
}

# c. the dpkg database: exactly the packages that keep a path of their own: a
#    file, or a symlink no other package lists (the /lib and /bin links of merged
#    /usr, listed by many, keep nobody); packages without own paths stay as they are
dpkg_check() {
	local name=$1 root=$T/b-$1/rootfs
	if ! dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Package}\n' 2>"$T/$name.dq.err" |
		LC_ALL=C sort -u >"$T/$name.pkgs"; then
		bad "$name: dpkg-query on the output: $(head -c 300 "$T/$name.dq.err")"
		return
	fi
	$PY - "$ORIG" "$root" >"$T/$name.pkgs.want" <<'PY'
import os, sys
orig, slim = sys.argv[1], sys.argv[2]
admin = orig + "/var/lib/dpkg"

def canon(root, p):
    """p's place in the image: directory links followed inside root, the last component not"""
    todo = [x for x in p.split("/") if x]
    cur, hops = [], 0
    while len(todo) > 1:
        c = todo.pop(0)
        if c == ".":
            continue
        if c == "..":
            cur = cur[:-1]
            continue
        full = root + "/" + "/".join(cur + [c])
        if os.path.islink(full) and hops < 40:
            hops += 1
            t = os.readlink(full)
            if t.startswith("/"):
                cur = []
            todo = [x for x in t.split("/") if x] + todo
            continue
        cur.append(c)
    return "/" + "/".join(cur + todo)

divs = {}
try:
    d = open(admin + "/diversions").read().split("\n")
    for i in range(0, len(d) - 2, 3):
        divs[d[i]] = (d[i + 1], d[i + 2])
except OSError:
    pass
names = set(l[9:].strip() for l in open(admin + "/status", errors="replace") if l.startswith("Package: "))
listers, owned = {}, {}
for f in os.listdir(admin + "/info"):
    if not f.endswith(".list"):
        continue
    stem = f[:-5]
    owned.setdefault(stem, set())
    for line in open(os.path.join(admin, "info", f), errors="replace"):
        p = line.rstrip("\n")
        if not p.startswith("/") or p == "/.":
            continue
        dv = divs.get(p)
        if dv and dv[1] != stem.split(":")[0]:
            p = dv[0]  # another package's (or a local) diversion: the file is at its target
        c = canon(orig, p)
        if not os.path.lexists(orig + c) or (os.path.isdir(orig + c) and not os.path.islink(orig + c)):
            continue
        listers.setdefault(c, set()).add(stem)
        owned[stem].add(c)
removed, stays = set(), set()
for stem, paths in owned.items():
    own = [c for c in paths if not (os.path.islink(orig + c) and len(listers[c]) > 1)]
    (removed if own and not any(os.path.lexists(slim + c) for c in own) else stays).add(stem.split(":")[0])
for p in sorted(names - (removed - stays)):
    print(p)
PY
	if diff "$T/$name.pkgs.want" "$T/$name.pkgs" >"$T/$name.pkgs.diff"; then
		ok "$name: dpkg status lists exactly the $(wc -l <"$T/$name.pkgs") packages with own paths left (of $(dpkg-query --admindir="$ORIG/var/lib/dpkg" -W | wc -l))"
	else
		bad "$name: dpkg-query packages differ from those with own paths left (< expected, > listed): $(head -12 "$T/$name.pkgs.diff" | tr '\n' ' ')"
	fi
	# the info lists travel with their packages
	(cd "$root/var/lib/dpkg/info" && ls | sed -n 's/\.list$//p' | sed 's/:.*//' | LC_ALL=C sort -u) >"$T/$name.lists"
	check "$name: info/*.list files = the listed packages" cmp -s "$T/$name.lists" "$T/$name.pkgs"
}

if slim whtest; then
	same_run whtest "$T/b-whtest/rootfs" /usr/local/bin/whtest
	target whtest 20
	dpkg_check whtest
fi
if slim whtestpy --entrypoint /usr/local/bin/whtest.py; then
	same_run whtestpy "$T/b-whtestpy/rootfs" /usr/local/bin/whtest.py
	target whtestpy 60
	dpkg_check whtestpy
fi
if slim whtestsh --entrypoint /usr/local/bin/whtest.sh; then
	same_run whtestsh "$T/b-whtestsh/rootfs" /usr/local/bin/whtest.sh
	target whtestsh 25
fi
if slim curl --entrypoint curl --cmd --version; then
	same_run curl-version "$T/b-curl/rootfs" curl --version
	same_run curl-file "$T/b-curl/rootfs" curl -sS file:///etc/os-release
	# a non-ASCII host: libidn2 converts from the locale's charset (iconv)
	same_run curl-idn "$T/b-curl/rootfs" curl -sS -m 5 "http://b$(printf '\303\274')cher.invalid/"
	target curl 25
	dpkg_check curl
fi

# --- d. --rule gconv=off breaks whtest's iconv, and only that ----------------------------------
if [ -d "$T/b-whtest" ] && slim gconv-off --rule gconv=off; then
	chroot_run "$T/b-gconv-off/rootfs" gconv-off.run /usr/local/bin/whtest
	full=$T/whtest.orig.out
	if [ "$(cat "$T/gconv-off.run.rc")" != 0 ] && grep -q '^iconv: FAILED' "$T/gconv-off.run.out" &&
		diff <(grep -v -e '^iconv:' -e '^whtest:' "$full") \
			<(grep -v -e '^iconv:' -e '^whtest:' "$T/gconv-off.run.out") >/dev/null; then
		ok "gconv=off: whtest fails at iconv only (exit $(cat "$T/gconv-off.run.rc")), its other checks as in the original"
	else
		bad "gconv=off: whtest exit $(cat "$T/gconv-off.run.rc"), want a failing iconv line and the rest unchanged: $(tr '\n' '|' <"$T/gconv-off.run.out" | head -c 300)"
	fi
	# what the off output lacks: gconv modules and configuration, nothing else
	(cd "$T/b-whtest/rootfs" && find . -mindepth 1 | LC_ALL=C sort) >"$T/on.list"
	(cd "$T/b-gconv-off/rootfs" && find . -mindepth 1 | LC_ALL=C sort) >"$T/off.list"
	comm -23 "$T/on.list" "$T/off.list" >"$T/gconv.only"
	eq "gconv=off: the off output keeps nothing the on output does not" "$(comm -13 "$T/on.list" "$T/off.list" | wc -l)" 0
	check "gconv=off: the on output has IBM1047.so, the module whtest's iconv_open loads" \
		grep -qx './usr/lib/x86_64-linux-gnu/gconv/IBM1047.so' "$T/gconv.only"
	eq "gconv=off: every path only the on output has is under the gconv directory ($(wc -l <"$T/gconv.only") paths)" \
		"$(grep -vc '^\./usr/lib/x86_64-linux-gnu/gconv\(/\|$\)' "$T/gconv.only" || true)" 0
fi

# --- e. reproducible on the real image --------------------------------------------------------
mkdir -p "$T/r1" "$T/r2" "$T/tmp1" "$T/tmp2"
(cd "$T/r1" && TMPDIR="$T/tmp1" "$WHITTLE" --auto -q -j 1 -o oci-archive:o.tar "$DEBIAN_REF") 2>"$T/r1.err" ||
	bad "reproducibility run 1: $(head -c 300 "$T/r1.err")"
sleep 1
(cd "$T/r2" && TMPDIR="$T/tmp2" "$WHITTLE" --auto -q -j 2 -o oci-archive:"$T/r2/o.tar" "$DEBIAN_REF") 2>"$T/r2.err" ||
	bad "reproducibility run 2: $(head -c 300 "$T/r2.err")"
if [ -s "$T/r1/o.tar" ] && [ -s "$T/r2/o.tar" ]; then
	check "reproducible: -j 1 and -j 2, other TMPDIR and directory, a second apart: identical oci-archive bytes" \
		cmp -s "$T/r1/o.tar" "$T/r2/o.tar"
else
	bad "reproducibility: an output is missing"
fi

finish
