#!/bin/bash
# data_dirs: a server's data directories are kept whole or dropped whole,
# never in part (issue 12, item 5). The image this test writes: the User
# db, whose home /home/db holds a pre-made "cluster" (PG_VERSION, a 2 MiB
# base/1, .profile), a declared Volume /var/lib/dbvol holding a seed file,
# the host's dash as /bin/sh with its C library and loader, and two
# entrypoint scripts:
#  - /entry-read.sh reads the cluster (PGDATA=/home/db/cluster): the home
#    is kept whole, the report saying the script names it;
#  - /entry-init.sh recreates its cluster under /tmp and names nothing in
#    the home: the home is dropped whole (its directory stays, empty, owned
#    by db).
# Nothing names the Volume: dropped whole, its directory stays with its
# owner and mode. Each slimmed image is unpacked (umoci) and its
# entrypoint run under chroot; the expected values follow from the SPEC.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, umoci unpack keeps owners)"
need_cmd umoci chroot python3 ldd
: "${MKIMAGE:?}"
cd "$T"

dash=$(command -v dash || true)
[ -n "$dash" ] || skip "needs dash"
dash=$(readlink -f "$dash")
libc=$(ldd "$dash" | sed -n 's/.*libc\.so\.6 => \([^ ]*\).*/\1/p')
interp=$(ldd "$dash" | sed -n 's/^[[:space:]]*\(\/[^ ]*ld-linux[^ ]*\).*/\1/p')
[ -f "$libc" ] && [ -f "$interp" ] || { bad "dash's C library ($libc) or loader ($interp) not found"; finish; exit 1; }
ib=$(basename "$interp")

cat >entry-read.sh <<'EOF'
#!/bin/sh
PGDATA=/home/db/cluster
read v <"$PGDATA/PG_VERSION" && echo "cluster $v"
EOF
cat >entry-init.sh <<'EOF'
#!/bin/sh
# recreates its cluster at start, under /tmp
echo 15 >/tmp/PG_VERSION
read v </tmp/PG_VERSION && echo "new cluster $v"
EOF
cat >spec <<EOF
layer the system: dash as /bin/sh, its C library, the user db
dir usr 0755 0 0
dir usr/bin 0755 0 0
dir usr/lib 0755 0 0
dir usr/lib/x86_64-linux-gnu 0755 0 0
dir usr/lib64 0755 0 0
symlink bin usr/bin
symlink lib usr/lib
symlink lib64 usr/lib64
file usr/bin/dash 0755 0 0 <$dash
symlink usr/bin/sh dash
file usr/lib/x86_64-linux-gnu/libc.so.6 0755 0 0 <$libc
file usr/lib/x86_64-linux-gnu/$ib 0755 0 0 <$interp
symlink usr/lib64/$ib ../lib/x86_64-linux-gnu/$ib
dir etc 0755 0 0
file etc/passwd 0644 0 0 root:x:0:0::/root:/bin/sh\ndb:x:1000:1000::/home/db:/bin/sh\n
file etc/group 0644 0 0 root:x:0:\ndb:x:1000:\n
dir tmp 1777 0 0
dir home 0755 0 0
dir home/db 0750 1000 1000
file home/db/.profile 0644 1000 1000 umask 077\n
dir home/db/cluster 0700 1000 1000
file home/db/cluster/PG_VERSION 0600 1000 1000 15\n
dir home/db/cluster/base 0700 1000 1000
file home/db/cluster/base/1 0600 1000 1000 @2097152:x
dir var 0755 0 0
dir var/lib 0755 0 0
dir var/lib/dbvol 0710 1000 1000
file var/lib/dbvol/seed 0600 1000 1000 seed\n
layer the entrypoints
file entry-read.sh 0755 0 0 <$T/entry-read.sh
file entry-init.sh 0755 0 0 <$T/entry-init.sh
EOF
"$MKIMAGE" --format oci-archive --user db --volume /var/lib/dbvol --entrypoint '["/entry-read.sh"]' spec img.tar \
	>/dev/null || { bad "mkimage failed"; finish; exit 1; }

# slim NAME ARGS...: --auto into oci:$T/out-NAME:slim with a report, unpacked to $T/b-NAME
slim() {
	local name=$1 rc=0
	shift
	"$WHITTLE" --auto -o "oci:$T/out-$name:slim" --report "$T/$name.json" "$@" img.tar \
		>"$T/$name.auto.out" 2>"$T/$name.auto.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		bad "$name: whittle --auto $* exits $rc: $(head -c 400 "$T/$name.auto.err")"
		return 1
	fi
	validate_report "$T/$name.json" || bad "$name: the report does not match the schema"
	umoci unpack --image "$T/out-$name:slim" "$T/b-$name" >/dev/null 2>"$T/umoci.err" ||
		{ bad "$name: umoci unpack: $(head -c 400 "$T/umoci.err")"; return 1; }
}

# dd NAME PATH: "kept files bytes" of the report's data directory PATH, then its why on a second line
dd() {
	python3 - "$T/$1.json" "$2" <<'PY'
import json, sys
for d in json.load(open(sys.argv[1]))["reach"]["data_dirs"]:
    if d["path"] == sys.argv[2]:
        print(d["kept"], d["files"], d["bytes"], d["kind"])
        print(d["why"])
PY
}

# present ROOT: the data directories' files that the unpacked ROOT has
present() {
	(cd "$1" && find home/db var/lib/dbvol -mindepth 1 | sort | tr '\n' ' ')
}

# 1. the entrypoint reads the cluster: the home kept whole
if slim read; then
	S=$T/b-read/rootfs
	eq "read: the home is kept whole (report)" "$(dd read /home/db | head -1)" "True 3 2097165 User's home"
	check "read: the reason names the script and the path" \
		grep -q "the entrypoint may read it: /entry-read.sh names /home/db/cluster" <(dd read /home/db)
	eq "read: the Volume nothing names is dropped whole" "$(dd read /var/lib/dbvol | head -1)" "False 1 5 Volume"
	eq "read: the written image has all of the home, none of the Volume" "$(present "$S")" \
		"home/db/.profile home/db/cluster home/db/cluster/PG_VERSION home/db/cluster/base home/db/cluster/base/1 "
	eq "read: the Volume's directory stays, owner and mode" "$(stat -c '%u:%g %a' "$S/var/lib/dbvol")" "1000:1000 710"
	check "read: the summary says kept whole" grep -q "^    kept whole /home/db (2.1 MB, 3 files): User's home; the entrypoint may read it" "$T/read.auto.out"
	check "read: the summary says the Volume is dropped whole" grep -q "^    dropped whole /var/lib/dbvol (5 B, 1 file): Volume; nothing the entrypoint runs names it" "$T/read.auto.out"
	"$WHITTLE" --why /home/db/cluster/base/1 --entrypoint /entry-read.sh img.tar >"$T/why.out" 2>&1 || true
	check "read: --why says data-dir" grep -q "data-dir" "$T/why.out"
	chroot_run "$S" run-read /entry-read.sh
	eq "read: the slimmed entrypoint reads its cluster" "$(cat "$T/run-read.rc"):$(cat "$T/run-read.out")" "0:cluster 15"
fi

# 2. the entrypoint recreates its cluster elsewhere: the home dropped whole
if slim init --entrypoint /entry-init.sh; then
	S=$T/b-init/rootfs
	eq "init: the home is dropped whole (report)" "$(dd init /home/db | head -1)" "False 3 2097165 User's home"
	check "init: the reason says nothing names it" \
		grep -q "nothing the entrypoint runs names it or a path inside it" <(dd init /home/db)
	eq "init: the written image has none of the home" "$(present "$S")" ""
	eq "init: the home's directory stays, owner and mode" "$(stat -c '%u:%g %a' "$S/home/db")" "1000:1000 750"
	check "init: the summary says dropped whole" grep -q "^    dropped whole /home/db (2.1 MB, 3 files): User's home" "$T/init.auto.out"
	chroot_run "$S" run-init /entry-init.sh
	eq "init: the slimmed entrypoint makes its cluster" "$(cat "$T/run-init.rc"):$(cat "$T/run-init.out")" "0:new cluster 15"
fi

# 3. a file inside kept by another rule: the whole home stays, never a part
if slim part --entrypoint /entry-init.sh --keep /home/db/.profile; then
	S=$T/b-part/rootfs
	eq "part: --keep of one member keeps the home whole" "$(dd part /home/db | head -1)" "True 3 2097165 User's home"
	check "part: the reason names the kept member" grep -q "/home/db/.profile is kept (keep" <(dd part /home/db)
	eq "part: the written image has all of the home" "$(present "$S")" \
		"home/db/.profile home/db/cluster home/db/cluster/PG_VERSION home/db/cluster/base home/db/cluster/base/1 "
fi

finish
