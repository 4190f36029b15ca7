#!/bin/bash
# whittle --auto writes slimmed images that peers accept. The test builds
# its image with mkimage from a SPEC, drops paths with --drop, and knows
# from its own construction which paths the output must hold (EXPECT
# below). Peers check every output form and compression: skopeo inspect
# and copy, umoci unpack (it verifies diff_ids) compared with EXPECT,
# podman load (vfs storage). Then: byte-for-byte reproducibility (other
# temp dirs, other --jobs, seconds apart; SOURCE_DATE_EPOCH clamping),
# SIGINT during a write, an existing output without --force, and the
# input's bytes unchanged after every run.
. "$(dirname "$0")/lib.sh"
need_cmd skopeo umoci tar sha256sum cmp /usr/bin/python3
: "${MKIMAGE:?}"
PODMAN=$(command -v podman || true)

cd "$T"
cat >spec <<'EOF'
layer base
mtime 1000
dir etc 0755 0 0
file etc/os-release 0644 0 0 ID=test\n
file etc/old 0644 0 0 old
dir usr 0711 0 0
dir usr/bin 0755 0 0
file usr/bin/app 0755 0 0 #!/bin/sh\necho app\n
hardlink usr/bin/app-link usr/bin/app
file usr/bin/big 0755 0 0 @30000:b
hardlink usr/bin/abig usr/bin/big
symlink bin usr/bin
dir usr/share 0755 0 0
dir usr/share/doc 0755 0 0
dir usr/share/doc/app 0755 0 0
file usr/share/doc/app/README 0644 1000 1000 @20000:d
file usr/share/doc/app/NEWS 0644 0 0 news
dir home 0755 0 0
dir home/user 0700 1000 1000
file home/user/.profile 0600 1000 1000 PS1=x\n
dir var 0755 0 0
dir var/lib 0755 0 0
dir var/lib/dpkg 0755 0 0
dir var/lib/dpkg/info 0755 0 0
file var/lib/dpkg/status 0644 0 0 Package: app\nStatus: install ok installed\nArchitecture: amd64\n\nPackage: appdoc\nStatus: install ok installed\nArchitecture: all\n\n
file var/lib/dpkg/info/app.list 0644 0 0 /.\n/usr\n/usr/bin\n/usr/bin/app\n/usr/bin/big\n
file var/lib/dpkg/info/appdoc.list 0644 0 0 /usr/share/doc/app/README\n/usr/share/doc/app/NEWS\n
file var/lib/dpkg/info/appdoc.md5sums 0644 0 0 x  usr/share/doc/app/README\n
dir tmp 01777 0 0
fifo run/ctl 0600
layer update
mtime 2000000000
file usr/bin/tool 0755 0 0 tool\n
whiteout etc/old
symlink usr/bin/app2 app
EOF
# What the output must hold with --drop /usr/share/doc/app (the package
# appdoc then has no files left: its status paragraph and info files go;
# usr/share/doc stays, not matched).
cat >expect <<'EOF'
bin l
etc d
etc/os-release f
home d
home/user d
home/user/.profile f
run d
run/ctl p
tmp d
usr d
usr/bin d
usr/bin/abig f
usr/bin/app f
usr/bin/app-link f
usr/bin/app2 l
usr/bin/big f
usr/bin/tool f
usr/share d
usr/share/doc d
var d
var/lib d
var/lib/dpkg d
var/lib/dpkg/info d
var/lib/dpkg/info/app.list f
var/lib/dpkg/status f
EOF
"$MKIMAGE" spec in.tar
"$MKIMAGE" --format docker-archive spec in-docker.tar
IN_SUM=$(sha256sum in.tar in-docker.tar)
# The image has no entrypoint: --keep / keeps everything reachability would
# not, so the output is the whole image minus the --drop (the test's model).
DROP=(--keep / --drop /usr/share/doc/app)

input_unchanged() { eq "input bytes unchanged ($1)" "$(sha256sum in.tar in-docker.tar)" "$IN_SUM"; }

# unpack with umoci (as root: owners and modes kept) and list "path type"
unpack_list() { # OCI_REF BUNDLE
	umoci unpack --image "$1" "$2" >/dev/null 2>"$T/umoci.err" || { cat "$T/umoci.err" >&2; return 1; }
	(cd "$2/rootfs" && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort)
}

n=0
check_output() { # DEST_REF KIND(oci|oci-archive|docker-archive) COMPRESSION
	local ref=$1 kind=$2 comp=$3
	n=$((n + 1))
	local w="$T/w$n"
	mkdir -p "$w"
	if skopeo inspect "$ref" >"$w/inspect.json" 2>"$w/err"; then ok "skopeo inspect $kind/$comp"; else bad "skopeo inspect $kind/$comp: $(cat "$w/err")"; return; fi
	# the label names the source config digest (mkimage's config, digest by sha256sum)
	eq "$kind/$comp: source label" "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Labels"]["org.whittle.source-image-id"])' "$w/inspect.json")" "$SRC_CONFIG"
	eq "$kind/$comp: one layer" "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["Layers"]))' "$w/inspect.json")" 1
	# skopeo copy to another transport, decompressing zstd for umoci
	local copy_args=()
	[ "$comp" = zstd ] && copy_args=(--dest-compress --dest-compress-format gzip)  # umoci reads gzip or plain only
	if skopeo copy -q "${copy_args[@]}" "$ref" "oci:$w/copy:t" 2>"$w/err"; then ok "skopeo copy $kind/$comp -> oci"; else bad "skopeo copy $kind/$comp: $(cat "$w/err")"; return; fi
	# (skopeo refuses zstd layers in docker-archive: "zstd compression is not supported for docker images")
	if [ "$kind" != docker-archive ] && [ "$comp" != zstd ]; then
		if skopeo copy -q "${copy_args[@]}" "$ref" "docker-archive:$w/copy-docker.tar:x/y:z" 2>"$w/err"; then ok "skopeo copy $kind/$comp -> docker-archive"; else bad "skopeo copy $kind/$comp -> docker-archive: $(cat "$w/err")"; fi
	fi
	if unpack_list "$w/copy:t" "$w/bundle" >"$w/list"; then
		if diff -u expect "$w/list" >"$w/diff"; then ok "umoci unpack $kind/$comp: file list = expectation"; else bad "umoci unpack $kind/$comp: $(cat "$w/diff")"; fi
		local r="$w/bundle/rootfs"
		eq "$kind/$comp: usr mode" "$(stat -c %a "$r/usr")" 711
		eq "$kind/$comp: home/user owner+mode" "$(stat -c '%u:%g %a' "$r/home/user")" "1000:1000 700"
		eq "$kind/$comp: tmp sticky" "$(stat -c %a "$r/tmp")" 1777
		eq "$kind/$comp: hard-link set" "$(stat -c %i "$r/usr/bin/abig")" "$(stat -c %i "$r/usr/bin/big")"
		eq "$kind/$comp: hard link pair" "$(stat -c %i "$r/usr/bin/app")" "$(stat -c %i "$r/usr/bin/app-link")"
		eq "$kind/$comp: big content" "$(sha256sum <"$r/usr/bin/abig")" "$(head -c 30000 /dev/zero | tr '\0' b | sha256sum)"
		eq "$kind/$comp: bin link" "$(readlink "$r/bin")" usr/bin
		eq "$kind/$comp: dpkg status" "$(cat "$r/var/lib/dpkg/status")" "$(printf 'Package: app\nStatus: install ok installed\nArchitecture: amd64\n')"
		eq "$kind/$comp: tool mtime" "$(stat -c %Y "$r/usr/bin/tool")" 2000000000
	else
		bad "umoci unpack $kind/$comp: $(cat "$T/umoci.err")"
	fi
	if [ -n "$PODMAN" ] && [ "$kind" != oci ]; then
		local p=("$PODMAN" --storage-driver vfs --root "$w/storage" --runroot "$w/run")
		if "${p[@]}" load -q -i "${ref#*:}" >"$w/load" 2>&1; then ok "podman load $kind/$comp"; else bad "podman load $kind/$comp: $(tail -3 "$w/load")"; fi
		"${p[@]}" rmi -a -f >/dev/null 2>&1 || true
		rm -rf "$w/storage" "$w/run" 2>/dev/null || true
	fi
}

SRC_CONFIG=$(/usr/bin/python3 - <<'PY'
import json, tarfile
t = tarfile.open("in.tar")
idx = json.load(t.extractfile("index.json"))
man = json.load(t.extractfile("blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print(man["config"]["digest"])
PY
)

# --- every output form and compression ------------------------------------------------
run() { # whittle args...; sets rc
	set +e
	"$WHITTLE" -q --auto "$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
}
run "${DROP[@]}" -o oci-archive:o-gzip.tar in.tar
eq "oci-archive gzip: exit" "$rc:$(cat "$T/err")" "0:"
check_output oci-archive:o-gzip.tar oci-archive gzip
run "${DROP[@]}" --compression zstd -o oci:o-zstd:slim in.tar
eq "oci zstd: exit" "$rc:$(cat "$T/err")" "0:"
check_output oci:o-zstd:slim oci zstd
run "${DROP[@]}" --compression none -o oci:o-none in.tar
eq "oci none: exit" "$rc:$(cat "$T/err")" "0:"
check_output oci:o-none oci none
run "${DROP[@]}" -o docker-archive:d-none.tar:slim/app:v1 in-docker.tar
eq "docker-archive: exit" "$rc:$(cat "$T/err")" "0:"
check_output docker-archive:d-none.tar docker-archive none
# docker save writes layers uncompressed: the layer member is a plain tar
eq "docker-archive: layer uncompressed" "$(tar -xOf d-none.tar manifest.json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][0].endswith(".tar"))')" True
eq "docker-archive: RepoTags" "$(tar -xOf d-none.tar manifest.json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RepoTags"])')" "['slim/app:v1']"
run "${DROP[@]}" --compression gzip -o docker-archive:d-gzip.tar in.tar
eq "docker-archive gzip: exit" "$rc:$(cat "$T/err")" "0:"
check_output docker-archive:d-gzip.tar docker-archive gzip
run "${DROP[@]}" --compression zstd -o oci-archive:o-zstd.tar in.tar
check_output oci-archive:o-zstd.tar oci-archive zstd
input_unchanged "after writing every form"
# the docker-archive and oci-archive inputs slim to the same layer and config
diffids() { skopeo inspect --config "$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rootfs"]["diff_ids"])'; }
eq "same layer (diff_id) from either input format" "$(diffids oci:o-none)" "$(diffids docker-archive:d-none.tar)"

# --- adding to an existing layout (skopeo's rule: the name moves, nothing is replaced) ----
skopeo copy -q oci-archive:in.tar oci:layout:orig
run "${DROP[@]}" -o oci:layout:slim in.tar
eq "add a tag to an existing layout: exit" "$rc:$(cat "$T/err")" "0:"
eq "existing layout keeps its image" "$(skopeo inspect oci:layout:orig >/dev/null 2>&1 && echo yes)" yes
check_output oci:layout:slim oci gzip
run --keep /etc -o oci:layout:slim in.tar  # same tag again, another image: the tag moves
eq "retag: exit" "$rc" 0
eq "retag: index entries" "$(/usr/bin/python3 -c 'import json; m=json.load(open("layout/index.json"))["manifests"]; print(len(m), sorted(x.get("annotations",{}).get("org.opencontainers.image.ref.name","") for x in m))')" "3 ['', 'orig', 'slim']"

# --- the report's slim section against skopeo ---------------------------------------------
run "${DROP[@]}" -o oci-archive:rep.tar --report rep.json in.tar
eq "report run: exit" "$rc" 0
/usr/bin/python3 - rep.json "$(skopeo inspect oci-archive:rep.tar | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')" \
	"$(skopeo inspect --raw oci-archive:rep.tar | /usr/bin/python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["config"]["digest"], m["layers"][0]["size"])')" >"$T/rep.out" 2>&1 <<'PY' && ok "report slim section = skopeo's digests; visible bytes = the expectation" || bad "report slim: $(cat "$T/rep.out")"
import json, sys
s = json.load(open(sys.argv[1]))["slim"]
cfg, size = sys.argv[3].split()
assert s["manifest_digest"] == sys.argv[2], (s, sys.argv[2])
assert s["config_digest"] == cfg, (s, cfg)
assert s["layer_size_bytes"] == int(size), s
files = ["#!/bin/sh\necho app\n", "b" * 30000, "ID=test\n", "PS1=x\n", "tool\n",
         "Package: app\nStatus: install ok installed\nArchitecture: amd64\n\n",
         "/.\n/usr\n/usr/bin\n/usr/bin/app\n/usr/bin/big\n"]
want = sum(len(f) for f in files)
assert s["visible_bytes"] == want, (s["visible_bytes"], want)
assert s["output"] == "oci-archive:rep.tar", s
PY

# --- the default destination: NAME-slim.tar beside the input ------------------------------
mkdir -p def && cp in.tar def/img.tar
(cd / && "$WHITTLE" -q --auto --keep / "$T/def/img.tar") && ok "default output: exit 0" || bad "default output: exit $?"
check "default output: def/img-slim.tar is an image" skopeo inspect oci-archive:def/img-slim.tar

# --- dry run: lists what goes, writes nothing ------------------------------------------------
before=$(ls -A | LC_ALL=C sort)
set +e
"$WHITTLE" --auto --dry-run "${DROP[@]}" -o oci-archive:dry.tar in.tar >dry.out 2>&1
rc=$?
set -e
eq "dry run: exit" "$rc" 0
check "dry run: lists the dropped directory" grep -q ' /usr/share/doc/app/$' dry.out
check "dry run: lists the appdoc info file" grep -q '/var/lib/dpkg/info/appdoc.list$' dry.out
eq "dry run: nothing written" "$(ls -A | grep -v '^dry.out$' | LC_ALL=C sort)" "$before"

# --- --min-reduction ----------------------------------------------------------------------------
run "${DROP[@]}" --min-reduction 0.3 -o oci-archive:mr1.tar in.tar
eq "--min-reduction 0.3 (ratio ~0.6): exit 0" "$rc" 0
run "${DROP[@]}" --min-reduction 0.5 -o oci-archive:mr2.tar in.tar
eq "--min-reduction 0.5 (ratio ~0.6): exit 1" "$rc" 1

# --- existing output: exit 3 and untouched without --force; replaced with it ----------------------
echo precious >exists.tar
run --keep / -o oci-archive:exists.tar in.tar
eq "existing output without --force: exit 3" "$rc" 3
eq "existing output untouched" "$(cat exists.tar)" precious
run --keep / --force -o oci-archive:exists.tar in.tar
eq "--force replaces: exit" "$rc" 0
check "--force: a readable image now" skopeo inspect oci-archive:exists.tar
run --keep / -o oci-archive:in.tar --force in.tar
eq "never the input itself: exit 3" "$rc" 3
input_unchanged "after trying to write onto it"
eq "no temp dirs left" "$(ls -A | grep -c whittle-tmp || true)" 0

# --- reproducibility ------------------------------------------------------------------------------
mkdir -p r1 r2 r3 r4
for c in gzip zstd none; do
	(cd r1 && "$WHITTLE" -q --auto "${DROP[@]}" -j 1 --compression $c -o oci-archive:$c.tar ../in.tar)
	(cd r1 && "$WHITTLE" -q --auto "${DROP[@]}" -j 1 --compression $c -o docker-archive:d-$c.tar:a/b:c ../in-docker.tar)
done
sleep 2
for c in gzip zstd none; do
	(cd r2 && TMPDIR="$T/r2" "$WHITTLE" -q --auto "${DROP[@]}" -j 4 --compression $c -o oci-archive:"$T/r2/$c.tar" "$T/in.tar")
	(cd r2 && "$WHITTLE" -q --auto "${DROP[@]}" -j 3 --compression $c -o docker-archive:d-$c.tar:a/b:c ../in-docker.tar)
	check "reproducible oci-archive $c (other dir, time, --jobs)" cmp r1/$c.tar r2/$c.tar
	check "reproducible docker-archive $c" cmp r1/d-$c.tar r2/d-$c.tar
done
SDE=1500
(cd r3 && SOURCE_DATE_EPOCH=$SDE "$WHITTLE" -q --auto "${DROP[@]}" -j 1 -o oci-archive:s.tar ../in.tar)
sleep 1
(cd r4 && SOURCE_DATE_EPOCH=$SDE "$WHITTLE" -q --auto "${DROP[@]}" -j 2 -o oci-archive:s.tar ../in.tar)
check "reproducible with SOURCE_DATE_EPOCH" cmp r3/s.tar r4/s.tar
check "SOURCE_DATE_EPOCH changes the output" bash -c '! cmp -s r3/s.tar r1/gzip.tar'
mkdir -p sde && tar -xf r3/s.tar -C sde
layer=$(/usr/bin/python3 -c 'import json; i=json.load(open("sde/index.json")); m=json.load(open("sde/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print(m["layers"][0]["digest"][7:])')
tar -tvzf "sde/blobs/sha256/$layer" --full-time >sde.list
eq "SDE: tool mtime clamped" "$(awk '$6=="usr/bin/tool"{print $4" "$5}' sde.list)" "1970-01-01 00:25:00"
eq "SDE: older mtimes kept" "$(awk '$6=="usr/bin/abig"{print $4" "$5}' sde.list)" "1970-01-01 00:16:40"
eq "SDE: no mtime above it" "$(awk '$4" "$5 > "1970-01-01 00:25:00"' sde.list | wc -l)" 0
eq "SDE: created" "$(skopeo inspect oci-archive:r3/s.tar | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["Created"])')" "1970-01-01T00:25:00Z"
# numeric owners, empty names, no atime/ctime records in the layer
check "layer: numeric owners, empty names" bash -c "tar -tvzf sde/blobs/sha256/$layer --numeric-owner | grep -q '1000/1000.*home/user/'"
check "layer: no atime/ctime pax records" bash -c "! zcat sde/blobs/sha256/$layer | grep -aq -e 'atime=' -e 'ctime='"
input_unchanged "after the reproducibility runs"

# --- SIGINT during a write leaves nothing ----------------------------------------------------------
mkdir -p big
cat >big/spec <<'EOF'
layer big
file data/a 0644 0 0 @200000000:x
file data/b 0644 0 0 @100000000:y
EOF
"$MKIMAGE" --compression gzip big/spec big/in.tar
BIG_SUM=$(sha256sum big/in.tar)
set +e
"$WHITTLE" -q --auto --keep / -j 1 -o oci-archive:big/out.tar big/in.tar 2>big/err &
pid=$!
# wait until the write has started (its temp dir beside the output), then interrupt
started=no
for _ in $(seq 1 2400); do
	if ls -A big | grep -q whittle-tmp; then started=yes; break; fi
	sleep 0.05
done
sleep 0.3
kill -INT $pid
wait $pid
rc=$?
set -e
eq "SIGINT: the write had started (its temp dir was there)" "$started" yes
eq "SIGINT during the write: exit 130" "$rc" 130
eq "SIGINT: nothing left beside the output" "$(ls -A big | LC_ALL=C sort | tr '\n' ' ')" "err in.tar spec "
eq "SIGINT: input unchanged" "$(sha256sum big/in.tar)" "$BIG_SUM"

# --- dive's fixtures --------------------------------------------------------------------------------
if [ -f "$FIXTURES/test-docker-image.tar" ]; then
	DIVE="$FIXTURES/test-docker-image.tar"
	DSUM=$(sha256sum "$DIVE")
	# the expectation: the original unpacked by umoci, minus /root/example
	skopeo copy -q "docker-archive:$DIVE" oci:dive-orig:t
	unpack_list dive-orig:t dive-orig-b | grep -v -e '^root/example ' -e '^root/example/' >dive.expect
	run --keep / --drop /root/example -o docker-archive:dive-slim.tar:dive/slim:1 "docker-archive:$DIVE"
	eq "dive fixture: exit" "$rc:$(cat "$T/err")" "0:"
	skopeo copy -q docker-archive:dive-slim.tar oci:dive-slim:t
	unpack_list dive-slim:t dive-slim-b >dive.list
	check "dive fixture: unpacked = original minus /root/example" diff -u dive.expect dive.list
	check "dive fixture: same file contents" diff -r --no-dereference -x example dive-orig-b/rootfs dive-slim-b/rootfs
	if [ -n "$PODMAN" ]; then
		check "dive fixture: podman load" "$PODMAN" --storage-driver vfs --root "$T/dstore" --runroot "$T/drun" load -q -i dive-slim.tar
		"$PODMAN" --storage-driver vfs --root "$T/dstore" --runroot "$T/drun" rmi -a -f >/dev/null 2>&1 || true
	fi
	for f in test-oci-zstd-image.tar test-oci-estargz-image.tar; do
		run --keep / -o oci-archive:"slim-$f" "oci-archive:$FIXTURES/$f"
		eq "dive $f: exit" "$rc:$(cat "$T/err")" "0:"
		check "dive $f: skopeo inspect" skopeo inspect oci-archive:"slim-$f"
	done
	eq "dive fixture unchanged" "$(sha256sum "$DIVE")" "$DSUM"
else
	missing="needs ../shared/fixtures/dive"
fi

[ -n "$PODMAN" ] || missing="${missing:-} needs podman (apt-get install podman) for the load checks"
# what is missing skips (fails under CI) only when everything that ran passed
if [ "$fails" -eq 0 ] && [ -n "${missing:-}" ]; then finish; skip "$missing"; fi
finish
