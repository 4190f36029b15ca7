#!/bin/bash
# whittle --auto reduces the dpkg database to the packages that keep a path
# of their own, in the three layouts dpkg images have. Each image is built
# here with mkimage; which packages stay follows from the SPEC and the keep
# set (--keep, the entrypoint):
#   - distroless: var/lib/dpkg/status.d/NAME and NAME.md5sums, no status
#     (dpkg-query reads no status.d: the test parses what is left itself);
#   - merged /usr with diversions: status, info/*.list (NAME:ARCH.list for
#     Multi-Arch: same), diversions by packages and a local one. The
#     links /bin and /lib, listed by many packages, keep nobody installed;
#     the entrypoint, a symlink only its package lists, keeps that package.
# The output is unpacked with umoci; dpkg-query --admindir reads its
# database where it can.
. "$(dirname "$0")/lib.sh"
need_cmd umoci dpkg-query /usr/bin/python3
: "${MKIMAGE:?}"
cd "$T"

slim() { # NAME whittle-args...: slim in-NAME.tar to oci:out-NAME:slim and unpack it to b-NAME
	local name=$1 rc=0
	shift
	"$WHITTLE" -q --auto "$@" -o "oci:out-$name:slim" "in-$name.tar" >"$name.out" 2>"$name.err" || rc=$?
	eq "$name: whittle --auto exit" "$rc:$(cat "$name.err")" "0:"
	umoci unpack --image "out-$name:slim" "b-$name" >/dev/null 2>"$name.umoci" || bad "$name: umoci unpack: $(cat "$name.umoci")"
}
listdir() { (cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | tr '\n' ' '); }

# --- distroless: status.d ---------------------------------------------------------------
M=0123456789abcdef0123456789abcdef
cat >spec-dl <<EOF
layer distroless
dir etc 0755 0 0
file etc/os-release 0644 0 0 ID=debian\n
dir usr 0755 0 0
file usr/lib/x86_64-linux-gnu/libc.so.6 0755 0 0 @4000:c
file usr/share/doc/libc6/copyright 0644 0 0 libc6 copyright\n
file usr/share/doc/base-files/copyright 0644 0 0 base copyright\n
file usr/share/zoneinfo/UTC 0644 0 0 @100:u
file usr/share/zoneinfo/Europe/Paris 0644 0 0 @200:p
file usr/bin/openssl 0755 0 0 @3000:o
file etc/ssl/openssl.cnf 0644 0 0 cnf\n
file app 0755 0 0 app\n
dir var/lib/dpkg/status.d 0755 0 0
file var/lib/dpkg/status.d/base 0644 0 0 Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\nMaintainer: x\n
file var/lib/dpkg/status.d/base.md5sums 0644 0 0 $M  etc/os-release\n$M  usr/share/doc/base-files/copyright\n
file var/lib/dpkg/status.d/libc6 0644 0 0 Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nMulti-Arch: same\n
file var/lib/dpkg/status.d/libc6.md5sums 0644 0 0 $M  usr/lib/x86_64-linux-gnu/libc.so.6\n$M  usr/share/doc/libc6/copyright\n
file var/lib/dpkg/status.d/tzdata 0644 0 0 Package: tzdata\nVersion: 2024a\nArchitecture: all\n
file var/lib/dpkg/status.d/tzdata.md5sums 0644 0 0 $M  usr/share/zoneinfo/UTC\n$M  usr/share/zoneinfo/Europe/Paris\n
file var/lib/dpkg/status.d/openssl 0644 0 0 Package: openssl\nVersion: 3.0.11\nArchitecture: amd64\n
file var/lib/dpkg/status.d/openssl.md5sums 0644 0 0 $M  usr/bin/openssl\n$M  etc/ssl/openssl.cnf\n
file var/lib/dpkg/status.d/netbase 0644 0 0 Package: netbase\nVersion: 6.4\nArchitecture: all\n
EOF
"$MKIMAGE" --entrypoint '["/app"]' spec-dl in-dl.tar
slim dl --keep /etc/os-release --keep /usr/lib/x86_64-linux-gnu/libc.so.6
# base-files and libc6 keep a file each; tzdata and openssl keep none; netbase has no file list
eq "distroless: status.d holds exactly the kept packages' files" "$(listdir b-dl/rootfs/var/lib/dpkg/status.d)" \
	"base base.md5sums libc6 libc6.md5sums netbase "
eq "distroless: the packages its paragraphs name" \
	"$(cat b-dl/rootfs/var/lib/dpkg/status.d/* | sed -n 's/^Package: //p' | LC_ALL=C sort | tr '\n' ' ')" "base-files libc6 netbase "
eq "distroless: a kept paragraph is unchanged" "$(cat b-dl/rootfs/var/lib/dpkg/status.d/libc6)" \
	"$(printf 'Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nMulti-Arch: same')"
eq "distroless: no status file appears" "$(test -e b-dl/rootfs/var/lib/dpkg/status && echo yes || echo no)" no

# --- merged /usr, Multi-Arch, diversions ---------------------------------------------------
para() { # NAME ARCH [STATUS]: a status paragraph, escaped for the SPEC
	printf 'Package: %s\\nStatus: %s\\nMaintainer: t\\nArchitecture: %s\\n%sVersion: 1\\nDescription: %s\\n\\n' \
		"$1" "${3:-install ok installed}" "$2" "$([ "$2" = amd64 ] && [ "$1" = libc6 ] && echo 'Multi-Arch: same\n')" "$1"
}
STATUS="$(para base-files all)$(para libc6 amd64)$(para dash amd64)$(para coreutils amd64)$(para apt amd64)"
STATUS+="$(para dpkg amd64)$(para e2fsprogs amd64)$(para app-alias all)$(para app all)$(para wrapper all)"
STATUS+="$(para original all)$(para docs-diverter all)$(para metapkg all)$(para oldpkg all 'deinstall ok config-files')"
cat >spec-mu <<EOF
layer merged-usr
symlink bin usr/bin
symlink lib usr/lib
symlink sbin usr/sbin
dir usr/bin 0755 0 0
dir usr/sbin 0755 0 0
dir usr/lib/x86_64-linux-gnu 0755 0 0
file etc/os-release 0644 0 0 ID=debian\n
file etc/issue 0644 0 0 admin's issue\n
file etc/issue.dist 0644 0 0 Debian\n
file usr/lib/x86_64-linux-gnu/libc.so.6 0755 0 0 @4000:c
file usr/lib/x86_64-linux-gnu/libapt-pkg.so.6.0 0644 0 0 @3000:a
file usr/bin/dash 0755 0 0 @1000:d
symlink usr/bin/sh dash
file usr/bin/ls 0755 0 0 @1500:l
file usr/bin/cat 0755 0 0 @1200:k
file usr/bin/apt 0755 0 0 @900:a
file usr/bin/dpkg 0755 0 0 @800:p
file usr/sbin/start-stop-daemon 0755 0 0 @700:s
file usr/sbin/e2fsck 0755 0 0 @600:e
file usr/bin/realbin 0755 0 0 #!/bin/sh\necho hi\n
symlink usr/bin/entry realbin
file usr/share/doc/app-alias/copyright 0644 0 0 @300:y
file usr/bin/tool 0755 0 0 #!/bin/sh\necho wrapped\n
file usr/bin/tool.real 0755 0 0 @500:t
file usr/share/doc/z/README 0644 0 0 docs-diverter's README\n
file usr/share/doc/z/README.orig 0644 0 0 @50:r
dir var/lib/dpkg/info 0755 0 0
file var/lib/dpkg/status 0644 0 0 $STATUS
file var/lib/dpkg/diversions 0644 0 0 /usr/bin/tool\n/usr/bin/tool.real\nwrapper\n/etc/issue\n/etc/issue.dist\n:\n/usr/share/doc/z/README\n/usr/share/doc/z/README.orig\ndocs-diverter\n
file var/lib/dpkg/info/format 0644 0 0 1\n
file var/lib/dpkg/info/base-files.list 0644 0 0 /.\n/etc\n/etc/os-release\n
file var/lib/dpkg/info/base-files.conffiles 0644 0 0 /etc/os-release\n
file var/lib/dpkg/info/libc6:amd64.list 0644 0 0 /.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n
file var/lib/dpkg/info/libc6:amd64.md5sums 0644 0 0 $M  lib/x86_64-linux-gnu/libc.so.6\n
file var/lib/dpkg/info/dash.list 0644 0 0 /.\n/bin\n/bin/dash\n/bin/sh\n
file var/lib/dpkg/info/coreutils.list 0644 0 0 /.\n/bin\n/bin/ls\n/bin/cat\n
file var/lib/dpkg/info/coreutils.md5sums 0644 0 0 $M  bin/ls\n$M  bin/cat\n
file var/lib/dpkg/info/apt.list 0644 0 0 /.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libapt-pkg.so.6.0\n/usr/bin/apt\n
file var/lib/dpkg/info/apt.postinst 0755 0 0 #!/bin/sh\n
file var/lib/dpkg/info/dpkg.list 0644 0 0 /.\n/lib\n/sbin\n/sbin/start-stop-daemon\n/usr/bin/dpkg\n
file var/lib/dpkg/info/e2fsprogs.list 0644 0 0 /.\n/lib\n/sbin\n/sbin/e2fsck\n
file var/lib/dpkg/info/app-alias.list 0644 0 0 /.\n/usr\n/usr/bin\n/usr/bin/entry\n/usr/share/doc/app-alias/copyright\n
file var/lib/dpkg/info/app.list 0644 0 0 /.\n/usr\n/usr/bin\n/usr/bin/realbin\n
file var/lib/dpkg/info/wrapper.list 0644 0 0 /.\n/usr/bin/tool\n
file var/lib/dpkg/info/original.list 0644 0 0 /.\n/usr/bin/tool\n
file var/lib/dpkg/info/docs-diverter.list 0644 0 0 /.\n/usr/share/doc/z/README\n
file var/lib/dpkg/info/metapkg.list 0644 0 0 /.\n/usr\n/usr/share\n
EOF
"$MKIMAGE" --entrypoint '["/usr/bin/entry"]' spec-mu in-mu.tar
slim mu --keep /etc/os-release --keep /lib/x86_64-linux-gnu/libc.so.6 --keep /usr/bin/tool --keep /etc/issue \
	--report mu.json
R=b-mu/rootfs
# sanity of the keep set the expectations rest on
eq "merged-usr: kept through the links" "$(readlink $R/bin) $(readlink $R/lib) $(readlink $R/usr/bin/entry) $(test -f $R/usr/bin/dash && echo dash)" \
	"usr/bin usr/lib realbin dash"
eq "merged-usr: dropped files" "$(ls $R/usr/bin/ls $R/usr/bin/apt $R/usr/sbin/e2fsck $R/usr/bin/tool.real 2>/dev/null | wc -l)" 0
# base-files, libc6, dash keep files; app-alias its own link (the entrypoint), app its target;
# wrapper its diverting tool; metapkg has no own path, oldpkg no files: both stay as they were.
# coreutils, apt, dpkg, e2fsprogs list /bin or /lib but keep no file; original's tool is
# at tool.real (diverted), dropped; docs-diverter's README is dropped.
WANT="app app-alias base-files dash libc6:amd64 metapkg oldpkg wrapper "
eq "merged-usr: dpkg-query -W lists the kept packages" \
	"$(dpkg-query --admindir=$R/var/lib/dpkg -W -f '${binary:Package}\n' 2>mu.dq | LC_ALL=C sort | tr '\n' ' ')" "$WANT"
eq "merged-usr: dpkg-query -W without errors" "$(grep -v "missing 'Description'\|missing 'Maintainer'\|^ \|parsing file" mu.dq || true)" ""
eq "merged-usr: oldpkg still config-files" "$(dpkg-query --admindir=$R/var/lib/dpkg -W -f '${db:Status-Status}' oldpkg 2>/dev/null)" config-files
eq "merged-usr: info holds the kept packages' files" "$(listdir $R/var/lib/dpkg/info)" \
	"app-alias.list app.list base-files.conffiles base-files.list dash.list format libc6:amd64.list libc6:amd64.md5sums metapkg.list wrapper.list "
eq "merged-usr: diversions keep the kept diverter's and the local one" "$(cat $R/var/lib/dpkg/diversions)" \
	"$(printf '/usr/bin/tool\n/usr/bin/tool.real\nwrapper\n/etc/issue\n/etc/issue.dist\n:')"
eq "merged-usr: dpkg-query -S sees wrapper's diversion" \
	"$(dpkg-query --admindir=$R/var/lib/dpkg -S /usr/bin/tool 2>/dev/null | head -1)" "diversion by wrapper from: /usr/bin/tool"
eq "merged-usr: dpkg-query -L of the entrypoint's package" \
	"$(dpkg-query --admindir=$R/var/lib/dpkg -L app-alias 2>/dev/null | tr '\n' ' ')" \
	"/. /usr /usr/bin /usr/bin/entry /usr/share/doc/app-alias/copyright "
# the report: app-alias keeps no file bytes (its copyright goes), but the entrypoint is its link:
# used. The packages whose files all go are the unused ones (those with regular files in the image).
eq "merged-usr: report's unused packages" \
	"$(/usr/bin/python3 -c 'import json,sys; print(" ".join(sorted(p["name"] for p in json.load(open(sys.argv[1]))["reach"]["unused_packages"])))' mu.json)" \
	"apt coreutils docs-diverter dpkg e2fsprogs original"
eq "merged-usr: report's app-alias" \
	"$(/usr/bin/python3 -c 'import json,sys; print([(p["size_bytes"], p["kept_bytes"]) for p in json.load(open(sys.argv[1]))["reach"]["packages"] if p["name"] == "app-alias"])' mu.json)" \
	"[(300, 0)]"

finish
