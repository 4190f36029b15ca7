#!/bin/bash
# Every whiteout / opaque / type-change / link case (merge-cases.spec), written
# by mkimage in each format and compression: whittle reports the same figures
# for all, and they equal what spec_model.py derives from the SPEC alone.
# Then multi-image layouts (tags, nested indexes, platforms, docker-archive
# with two images) and bare-path sniffing.
source "$SRCDIR/tests/integration/lib.sh"
: "${MKIMAGE:?}"
HERE="$SRCDIR/tests/integration"
SPEC="$HERE/merge-cases.spec"

# figures IMAGE_REPORT: what must not depend on the form (image minus
# reference/format, layers minus digest), one canonical JSON line
figures() {
	/usr/bin/python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
i = {k: v for k, v in d["image"].items() if k not in ("reference", "format")}
ls = [{k: v for k, v in l.items() if k != "digest"} for l in d["layers"]]
print(json.dumps({"image": i, "layers": ls}, sort_keys=True))
PY
}

# expected IMAGE_REPORT MODEL_JSON: the report's figures against the model's
expected() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))
bad = []
for k in ("file_count", "visible_bytes", "size_bytes"):
    if r["image"][k] != m[k]:
        bad.append("%s: report %s, spec %s" % (k, r["image"][k], m[k]))
if r["image"]["reclaimable_bytes"] != m["size_bytes"] - m["visible_bytes"]:
    bad.append("reclaimable_bytes %s" % r["image"]["reclaimable_bytes"])
if len(r["layers"]) != len(m["layers"]):
    bad.append("%d layers, spec has %d" % (len(r["layers"]), len(m["layers"])))
for i, (rl, ml) in enumerate(zip(r["layers"], m["layers"])):
    for k in ("size_bytes", "added", "modified", "removed"):
        if rl[k] != ml[k]:
            bad.append("layer %d %s: report %s, spec %s" % (i, k, rl[k], ml[k]))
    if rl["index"] != i:
        bad.append("layer %d index %s" % (i, rl["index"]))
if bad:
    print("; ".join(bad)); sys.exit(1)
PY
}

ref_of() { # FORMAT PATH
	case $1 in
	oci) echo "oci:$2" ;;
	oci-archive) echo "oci-archive:$2" ;;
	*) echo "docker-archive:$2" ;;
	esac
}

/usr/bin/python3 "$HERE/spec_model.py" "$SPEC" >"$T/model.json"
eq "the model itself: 25 final nodes" "$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["file_count"])' "$T/model.json")" 25

first=""
for fmt in docker-archive docker25 kaniko oci oci-archive; do
	for comp in none gzip zstd; do
		img="$T/img-$fmt-$comp"
		"$MKIMAGE" --format "$fmt" --compression "$comp" --tag test/cases:1 "$SPEC" "$img"
		rep="$T/r-$fmt-$comp.json"
		if ! "$WHITTLE" -q --report "$rep" "$(ref_of "$fmt" "$img")" 2>"$T/err"; then
			bad "$fmt/$comp: whittle failed: $(cat "$T/err")"
			continue
		fi
		if msg=$(expected "$rep" "$T/model.json"); then ok "$fmt/$comp: figures equal the spec's"; else bad "$fmt/$comp: $msg"; fi
		eq "$fmt/$comp: format" "$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["image"]["format"])' "$rep")" \
			"$(case $fmt in oci | oci-archive) echo "$fmt" ;; *) echo docker-archive ;; esac)"
		check "$fmt/$comp: report valid against the schema" validate_report "$rep"
		f=$(figures "$rep")
		if [ -z "$first" ]; then
			first=$f
		else
			eq "$fmt/$comp: same figures as docker-archive/none" "$f" "$first"
		fi
	done
done

# --- several images in one oci layout: tags ------------------------------------
printf 'layer one\nfile one 0644 0 0 1\n' >"$T/one.spec"
printf 'layer two\ndir d 0755 0 0\nfile d/two 0644 0 0 22\nfile d/2 0644 0 0 333\n' >"$T/two.spec"
count() { python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));print(d["image"]["file_count"], d["image"]["visible_bytes"], d["image"]["architecture"])' "$1"; }

L="$T/tags"
"$MKIMAGE" --format oci --tag one "$T/one.spec" "$L"
"$MKIMAGE" --format oci --add-to "$L" --tag two "$T/two.spec"
set +e
"$WHITTLE" -q --report "$T/out.json" "oci:$L" 2>"$T/err"; rc=$?
set -e
eq "two tags, no tag given: exit 2" "$rc" 2
check "two tags, no tag given: the message lists the tags" grep -q 'one.*two' "$T/err"
check "two tags, no tag given: no report written" test ! -e "$T/out.json"
"$WHITTLE" -q --report "$T/one.json" "oci:$L:one"
eq "oci:DIR:one picks one" "$(count "$T/one.json")" "1 1 amd64"
"$WHITTLE" -q --report "$T/two.json" "oci:$L:two"
eq "oci:DIR:two picks two" "$(count "$T/two.json")" "3 5 amd64"
set +e
"$WHITTLE" -q --report - "oci:$L:three" >/dev/null 2>"$T/err"; rc=$?
set -e
eq "unknown tag: exit 2" "$rc" 2
check "unknown tag: the message names it and lists the tags" grep -q 'three.*one, two' "$T/err"

# one manifest under two tags is one image
"$MKIMAGE" --format oci-archive --tag a --tag b "$T/one.spec" "$T/same.tar"
"$WHITTLE" -q --report "$T/same.json" "oci-archive:$T/same.tar"
eq "one image under two tags opens without a tag" "$(count "$T/same.json")" "1 1 amd64"

# --- nested indexes and platforms ---------------------------------------------------
P="$T/plat"
"$MKIMAGE" --format oci --nested --arch arm64 --tag multi "$T/one.spec" "$P"
"$WHITTLE" -q --report "$T/p1.json" "oci:$P"
eq "one nested manifest opens whatever its platform" "$(count "$T/p1.json")" "1 1 arm64"
"$MKIMAGE" --format oci --add-to "$P" --nested --arch amd64 --tag multi "$T/two.spec"
"$WHITTLE" -q --report "$T/p2.json" --platform linux/amd64 "oci:$P"
eq "--platform linux/amd64 picks amd64" "$(count "$T/p2.json")" "3 5 amd64"
"$WHITTLE" -q --report "$T/p3.json" --platform linux/arm64 "oci:$P:multi"
eq "--platform linux/arm64 with :multi picks arm64" "$(count "$T/p3.json")" "1 1 arm64"
set +e
"$WHITTLE" -q --report "$T/p4.json" --platform linux/s390x "oci:$P" 2>"$T/err"; rc=$?
set -e
eq "platform mismatch: exit 2" "$rc" 2
check "platform mismatch: the message lists the platforms" grep -q 'linux/arm64.*linux/amd64\|linux/amd64.*linux/arm64' "$T/err"
check "platform mismatch: no report written" test ! -e "$T/p4.json"
"$MKIMAGE" --format oci-archive --nested --arch arm64 "$T/two.spec" "$T/nested.tar"
"$WHITTLE" -q --report "$T/p5.json" "oci-archive:$T/nested.tar"
eq "oci-archive with a nested index, no tag" "$(count "$T/p5.json")" "3 5 arm64"

# buildx writes an attestation manifest (platform unknown/unknown) beside the
# image in its nested index: it is skipped, so the one arm64 image opens on
# this amd64 host without --platform; counted, it would need a platform choice.
"$MKIMAGE" --format oci --nested --arch arm64 --tag att "$T/two.spec" "$T/att"
/usr/bin/python3 - "$T/att" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
def put(obj):
    b = json.dumps(obj).encode()
    h = hashlib.sha256(b).hexdigest()
    open(os.path.join(d, "blobs/sha256", h), "wb").write(b)
    return "sha256:" + h, len(b)
idx = json.load(open(os.path.join(d, "index.json")))
nested_desc = idx["manifests"][0]
nested = json.load(open(os.path.join(d, "blobs/sha256", nested_desc["digest"].split(":")[1])))
image_desc = nested["manifests"][0]
cfg_d, cfg_n = put({"architecture": "unknown", "os": "unknown", "rootfs": {"type": "layers", "diff_ids": []}})
man_d, man_n = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_d, "size": cfg_n},
                    "layers": []})
nested["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_d, "size": man_n,
                            "platform": {"architecture": "unknown", "os": "unknown"},
                            "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                            "vnd.docker.reference.digest": image_desc["digest"]}})
nd, nn = put(nested)
nested_desc["digest"], nested_desc["size"] = nd, nn
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
PY
"$WHITTLE" -q --report "$T/att.json" "oci:$T/att:att"
eq "an attestation manifest beside the image is skipped" "$(count "$T/att.json")" "3 5 arm64"

# --- docker-archive with two images -------------------------------------------------
"$MKIMAGE" --format docker-archive --tag example.com/one:1 "$T/one.spec" "$T/d1.tar"
"$MKIMAGE" --format docker-archive --tag example.com/two:2 "$T/two.spec" "$T/d2.tar"
/usr/bin/python3 - "$T/d1.tar" "$T/d2.tar" "$T/both.tar" <<'PY'
# one archive holding both images, as `docker save a b` writes it
import io, json, sys, tarfile
members, data, manifest, repos = {}, {}, [], {}
for src in sys.argv[1:3]:
    with tarfile.open(src) as t:
        for m in t.getmembers():
            b = t.extractfile(m).read() if m.isfile() else None
            if m.name == "manifest.json":
                manifest += json.loads(b)
            elif m.name == "repositories":
                repos.update(json.loads(b))
            else:
                members[m.name] = m
                data[m.name] = b
with tarfile.open(sys.argv[3], "w", format=tarfile.USTAR_FORMAT) as out:
    for extra, obj in (("manifest.json", manifest), ("repositories", repos)):
        b = json.dumps(obj).encode()
        m = tarfile.TarInfo(extra); m.size = len(b); m.mode = 0o644
        members[extra], data[extra] = m, b
    for name in sorted(members):
        m = members[name]
        out.addfile(m, io.BytesIO(data[name]) if data[name] is not None else None)
PY
set +e
"$WHITTLE" -q --report - "docker-archive:$T/both.tar" >/dev/null 2>"$T/err"; rc=$?
set -e
eq "docker-archive with two images, none named: exit 2" "$rc" 2
check "docker-archive with two images: the message lists both" grep -q 'example.com/one:1.*example.com/two:2' "$T/err"
"$WHITTLE" -q --report "$T/da0.json" "docker-archive:$T/both.tar:example.com/one:1"
eq "docker-archive :NAME:TAG picks one" "$(count "$T/da0.json")" "1 1 amd64"
"$WHITTLE" -q --report "$T/da1.json" "docker-archive:$T/both.tar:@1"
eq "docker-archive :@1 picks the second" "$(count "$T/da1.json")" "3 5 amd64"
"$WHITTLE" -q --report "$T/da2.json" "docker-archive:$T/both.tar:example.com/two:2"
eq "docker-archive :NAME:TAG picks two" "$(count "$T/da2.json")" "3 5 amd64"
set +e
"$WHITTLE" -q --report - "docker-archive:$T/both.tar:@2" >/dev/null 2>"$T/err"; rc=$?
set -e
eq "docker-archive :@2 of 2: exit 2" "$rc" 2

# --- bare paths are sniffed ------------------------------------------------------------
sniff() { python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));print(d["image"]["format"], d["image"]["file_count"])' "$1"; }
"$WHITTLE" -q --report "$T/s1.json" "$T/img-oci-gzip"
eq "bare directory: oci" "$(sniff "$T/s1.json")" "oci 25"
"$WHITTLE" -q --report "$T/s2.json" "$T/img-docker-archive-none"
eq "bare docker tar: docker-archive" "$(sniff "$T/s2.json")" "docker-archive 25"
"$WHITTLE" -q --report "$T/s3.json" "$T/img-oci-archive-zstd"
eq "bare oci tar: oci-archive" "$(sniff "$T/s3.json")" "oci-archive 25"
"$WHITTLE" -q --report "$T/s4.json" "$T/img-kaniko-gzip"
eq "bare kaniko tar: docker-archive" "$(sniff "$T/s4.json")" "docker-archive 25"
"$WHITTLE" -q --report "$T/s5.json" "$T/tags:two"
eq "bare directory with :TAG" "$(sniff "$T/s5.json")" "oci 3"

finish
