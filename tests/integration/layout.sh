#!/bin/bash
# The OCI layout writer (analyzer/oci_layout) and the temporaries
# (analyzer/tmpfiles), driven through whittle --auto:
# - 20 concurrent writers of different tags into one oci: layout, 5 that
#   make one new layout together, and one
#   writer paused (an LD_PRELOAD shim) between reading and replacing
#   index.json while another commits: every tag is in index.json and
#   readable by skopeo;
# - an output inside the input (a path under an input layout, the input
#   archive, through a symlink) is refused, with --force too, and the input
#   stays byte-identical;
# - a corrupt file named like a blob being added is replaced (sha256sum of
#   every blob equals its name; skopeo inspects the new tag);
# - temporaries a kill -9 left (.whittle-tmp.* beside the output,
#   whittle-spool.* in $TMPDIR) are removed by the next run; a live run's,
#   and names that only look alike, symlinks and other users' are not.
. "$(dirname "$0")/lib.sh"
need_cmd skopeo sha256sum cc /usr/bin/python3
: "${MKIMAGE:?}"
cd "$T"

cat >spec <<'EOF2'
layer base
file etc/os-release 0644 0 0 ID=test\n
file bin/app 0755 0 0 #!/bin/sh\necho app\n
file usr/share/doc/README 0644 0 0 @5000:d
EOF2
"$MKIMAGE" spec in.tar
auto() { "$WHITTLE" -q --auto --keep / "$@"; }
inspects() { skopeo inspect "$1" >/dev/null 2>&1; }

# tags listed in an index.json (python's json, not whittle's reader)
tags_of() {
	/usr/bin/python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(" ".join(sorted(m.get("annotations",{}).get("org.opencontainers.image.ref.name","") for m in d["manifests"])))' "$1"
}
# every blob file hashes to its own name
blobs_ok() {
	local f
	for f in "$1"/blobs/sha256/*; do
		[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || { echo "bad blob $f" >&2; return 1; }
	done
}

# writers DIR TAG...: one --auto writer a tag into oci:DIR, all at once;
# prints how many did not exit 0
writers() {
	local dir=$1 t p rcs=0 pids=()
	shift
	for t in "$@"; do
		auto -j 1 -o "oci:$dir:$t" in.tar >"$dir.$t.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
	echo "$rcs"
}

# --- 20 concurrent writers ------------------------------------------------------------------------
auto -o oci:L:t00 in.tar >/dev/null 2>&1
want="t00 $(seq -f 't%02g' 1 20 | tr '\n' ' ')"
want=${want% }
eq "20 concurrent writers: all exit 0" "$(writers L ${want#t00 })" 0
eq "20 concurrent writers: every tag in index.json" "$(tags_of L/index.json)" "$want"
unreadable=0
for t in $want; do skopeo inspect "oci:L:$t" >/dev/null 2>&1 || unreadable=$((unreadable + 1)); done
eq "20 concurrent writers: skopeo inspects every tag" "$unreadable" 0

# --- 5 concurrent writers making one new layout: the first rename makes it, the others add to it -------
eq "5 writers of a new layout: all exit 0" "$(writers N n1 n2 n3 n4 n5)" 0
eq "5 writers of a new layout: every tag in index.json" "$(tags_of N/index.json)" "n1 n2 n3 n4 n5"

# --- one writer paused between reading and replacing index.json -------------------------------------
cc -shared -fPIC -O1 -o rename_pause.so "$SRCDIR/tests/integration/rename_pause.c" -ldl
auto -o oci:P:first in.tar >/dev/null 2>&1
rm -f P.paused P.go
PAUSE_DIR=P LD_PRELOAD="$T/rename_pause.so" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
	"$WHITTLE" -q --auto --keep / -o oci:P:slow in.tar >slow.log 2>&1 &
slow=$!
for _ in $(seq 1 1200); do [ -e P.paused ] && break; sleep 0.05; done
eq "paused writer: it reached the index.json rename" "$([ -e P.paused ] && echo yes || echo no)" yes
auto -o oci:P:fast in.tar >fast.log 2>&1 &
fast=$!
# the fast writer commits now (today's code) or waits for the lock (up to 5 s here)
for _ in $(seq 1 100); do kill -0 $fast 2>/dev/null || break; sleep 0.05; done
touch P.go
rc_slow=0; rc_fast=0
wait $slow || rc_slow=$?
wait $fast || rc_fast=$?
eq "paused writer: both exit 0" "$rc_slow $rc_fast" "0 0"
eq "paused writer: every tag in index.json" "$(tags_of P/index.json)" "fast first slow"
for t in first slow fast; do
	check "paused writer: skopeo inspects oci:P:$t" inspects "oci:P:$t"
done

# --- an output inside the input is refused -----------------------------------------------------------
skopeo copy -q oci-archive:in.tar oci:IN:src >/dev/null
snap() { (cd "$1" && find . -printf '%p %y %s\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort); }
before=$(snap IN)
in_sum=$(sha256sum in.tar)
ln -s IN link
mkdir sub && ln -s .. sub/up
man=$(ls IN/blobs/sha256 | head -1)
for dest in "oci-archive:IN/index.json" "oci-archive:IN/blobs/sha256/$man" "oci:IN/blobs/new" \
	"oci:IN:other" "docker-archive:link/index.json" "oci-archive:sub/up/IN/oci-layout" "oci:link/x"; do
	for force in "" --force; do
		rc=0
		auto $force -o "$dest" oci:IN:src >inside.log 2>&1 || rc=$?
		eq "inside the input: $dest $force refused (exit 3)" "$rc" 3
	done
done
check "inside the input: the message says so" grep -q "input" inside.log
eq "inside the input: the layout is byte-identical" "$(snap IN)" "$before"
for dest in "oci-archive:in.tar" "oci-archive:sub/up/in.tar" "docker-archive:$T/sub/up/in.tar"; do
	rc=0
	auto --force -o "$dest" in.tar >inside.log 2>&1 || rc=$?
	eq "the input archive: $dest --force refused (exit 3)" "$rc" 3
done
eq "the input archive is byte-identical" "$(sha256sum in.tar)" "$in_sum"

# --- a corrupt blob of the same name is replaced ---------------------------------------------------------
auto -o oci:C:a in.tar >/dev/null 2>&1
for f in C/blobs/sha256/*; do printf 'corrupt' >"$f"; done
# the tag a is gone with its blobs: only the new tag must be readable
rc=0
auto -o oci:C:b in.tar >corrupt.log 2>&1 || rc=$?
eq "corrupt blobs: exit 0" "$rc" 0
check "corrupt blobs: every blob hashes to its name" blobs_ok C
check "corrupt blobs: skopeo inspects the new tag" inspects oci:C:b
check "corrupt blobs: skopeo copies the new tag (layer digests checked)" skopeo copy -q oci:C:b oci:Ccopy:b

# --- stale temporaries --------------------------------------------------------------------------------
mkdir -p big O tmp victim
touch victim/keep
cat >big/spec <<'EOF2'
layer big
file data/a 0644 0 0 @60000000:x
file data/b 0644 0 0 @60000000:y
EOF2
"$MKIMAGE" --compression gzip big/spec big/in.tar
# start_big NAME: a slow --auto into O/NAME.tar; returns when its
# .whittle-tmp.* (new_tmp) is there
start_big() {
	local before
	before=$(ls -A O | grep '^\.whittle-tmp\.' || true)
	"$WHITTLE" -q --auto --keep / -j 1 -o "oci-archive:O/$1.tar" big/in.tar >"O.$1.log" 2>&1 &
	big_pid=$!
	for _ in $(seq 1 2400); do
		new_tmp=$(ls -A O | grep '^\.whittle-tmp\.' | grep -v -x -F "${before:-/}" || true)
		[ -n "$new_tmp" ] && return 0
		sleep 0.05
	done
	return 1
}
check "kill -9: the write started" start_big killed
kill -9 $big_pid
wait $big_pid 2>/dev/null || true
stale=$new_tmp
eq "kill -9: its .whittle-tmp is left beside the output" "$([ -d "O/$stale" ] && echo there || echo gone)" there
# look-alikes that must stay: wrong length, a file, a symlink to a directory
mkdir O/.whittle-tmp.abc O/.whittle-tmp.abcdefg
touch O/.whittle-tmp.File01
ln -s "$T/victim" O/.whittle-tmp.Link01
# a live run's temporary
check "a live run: its write started" start_big live
live_tmp=$new_tmp
rc=0
auto -o oci-archive:O/small.tar in.tar >small.log 2>&1 || rc=$?
eq "the next run: exit 0" "$rc" 0
eq "the next run removed the stale one" "$([ -e "O/$stale" ] && echo there || echo gone)" gone
eq "the live run's temporary is left alone" "$([ -n "$live_tmp" ] && [ -d "O/$live_tmp" ] && echo there || echo gone)" there
for n in .whittle-tmp.abc .whittle-tmp.abcdefg .whittle-tmp.File01 .whittle-tmp.Link01; do
	eq "look-alike $n left alone" "$([ -e "O/$n" ] || [ -L "O/$n" ] && echo there || echo gone)" there
done
eq "the symlink's target is untouched" "$(ls victim)" keep
rc=0
wait $big_pid || rc=$?
eq "the live run completes" "$rc" 0
check "the live run's output is readable" inspects oci-archive:O/live.tar
eq "nothing of the live run is left" "$(ls -A O | grep -c -x -e "$live_tmp" || true)" 0

# whittle-spool.* in $TMPDIR: a killed run's spool (a directory nobody
# locks) goes when the next run spools (an engine run here: it spools
# before it connects), look-alikes stay
mkdir tmp/whittle-spool.Ab12Cd tmp/whittle-spool.Ab12C
echo data >tmp/whittle-spool.Ab12Cd/image.tar
ln -s "$T/victim" tmp/whittle-spool.Sym123
others=""
if [ "$(id -u)" = 0 ]; then # another user's: never ours to remove
	mkdir tmp/whittle-spool.Oth123 && chown 12345 tmp/whittle-spool.Oth123
	others="whittle-spool.Oth123 "
fi
TMPDIR="$T/tmp" DOCKER_HOST="unix://$T/no.sock" "$WHITTLE" --report "$T/r.json" docker-daemon:img:1 >/dev/null 2>&1 || true
eq "a stale spool in TMPDIR is removed" "$(ls -A tmp | LC_ALL=C sort | tr '\n' ' ')" "whittle-spool.Ab12C ${others}whittle-spool.Sym123 "
eq "the spool symlink's target is untouched" "$(ls victim)" keep

finish
