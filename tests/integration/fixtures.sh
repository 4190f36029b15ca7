#!/bin/bash
# The images of ../shared/fixtures/dive (docker save, kaniko, buildx OCI in
# four compressions) open, verify and report what `tar -tvf` of their layer
# blobs says (tar_model.py); the docker image converted by skopeo to other
# forms reports the same figures; reports are valid, byte-identical across
# runs and across --jobs.
source "$SRCDIR/tests/integration/lib.sh"
need_fixtures
need_cmd skopeo tar zstd
HERE="$SRCDIR/tests/integration"

# compare REPORT MODEL: file_count, visible and layer bytes, added and removed
# per layer against tar_model.py's figures
compare() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))
bad = []
for k in ("file_count", "visible_bytes", "size_bytes"):
    if r["image"][k] != m[k]:
        bad.append("%s: report %s, tar listings %s" % (k, r["image"][k], m[k]))
if len(r["layers"]) != len(m["layers"]):
    bad.append("%d layers, tar listings %d" % (len(r["layers"]), len(m["layers"])))
for i, (rl, ml) in enumerate(zip(r["layers"], m["layers"])):
    for k in ("size_bytes", "added", "removed"):
        if rl[k] != ml[k]:
            bad.append("layer %d %s: report %s, tar listing %s" % (i, k, rl[k], ml[k]))
if bad:
    print("; ".join(bad)); sys.exit(1)
PY
}

# the figures that may not depend on the form: all but reference, format,
# config_digest (skopeo rewrites the config when it converts to OCI) and
# the layer digests
figures() {
	/usr/bin/python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
i = {k: v for k, v in d["image"].items() if k not in ("reference", "format", "config_digest")}
ls = [{k: v for k, v in l.items() if k != "digest"} for l in d["layers"]]
print(json.dumps({"image": i, "layers": ls}, sort_keys=True))
PY
}

field() { python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));print(eval("d"+sys.argv[2]))' "$1" "$2"; }

for name in docker kaniko oci-uncompressed oci-gzip oci-zstd oci-estargz; do
	f="$FIXTURES/test-$name-image.tar"
	mkdir "$T/x-$name"
	tar -xf "$f" -C "$T/x-$name"
	/usr/bin/python3 "$HERE/tar_model.py" "$T/x-$name" >"$T/m-$name.json"
	rep="$T/r-$name.json"
	if ! "$WHITTLE" -q --report "$rep" "$f" 2>"$T/err"; then
		bad "$name: whittle failed: $(cat "$T/err")"
		continue
	fi
	ok "$name: opens and verifies"
	if msg=$(compare "$rep" "$T/m-$name.json"); then ok "$name: figures equal the tar listings'"; else bad "$name: $msg"; fi
	check "$name: report valid against the schema" validate_report "$rep"
	"$WHITTLE" -q --report "$T/again.json" "$f"
	check "$name: the same bytes on a second run" cmp -s "$rep" "$T/again.json"
done

eq "docker: 14 layers" "$(field "$T/r-docker.json" '["layers"].__len__()')" 14
eq "kaniko: 14 layers" "$(field "$T/r-kaniko.json" '["layers"].__len__()')" 14
eq "oci fixtures are arm64" "$(field "$T/r-oci-zstd.json" '["image"]["architecture"]')" arm64

# The four OCI fixtures hold the same layer content: same figures
o=$(figures "$T/r-oci-uncompressed.json")
for c in gzip zstd; do
	eq "oci-$c: same figures as oci-uncompressed" "$(figures "$T/r-oci-$c.json")" "$o"
done
# estargz's tar stream differs (its table of contents follows the tar): all but the diff_id
eq "oci-estargz: same figures as oci-uncompressed but the diff_id" \
	"$(figures "$T/r-oci-estargz.json" | sed 's/"diff_id": "[^"]*"//')" "$(echo "$o" | sed 's/"diff_id": "[^"]*"//')"

# estargz: the diff_id covers the bytes after the tar's end (its table of
# contents); a reader stopping at the end marker could not match it
/usr/bin/python3 - "$T/x-oci-estargz" >"$T/estargz.txt" <<'PY'
import gzip, hashlib, json, os, sys, tarfile
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
man = json.load(open(os.path.join(d, "blobs/sha256", idx["manifests"][0]["digest"][7:])))
cfg = json.load(open(os.path.join(d, "blobs/sha256", man["config"]["digest"][7:])))
raw = gzip.open(os.path.join(d, "blobs/sha256", man["layers"][0]["digest"][7:])).read()
t = tarfile.open(fileobj=__import__("io").BytesIO(raw))
last = t.getmembers()[-1]
end = last.offset_data + ((last.size + 511) // 512) * 512 + 1024
print(cfg["rootfs"]["diff_ids"][0] == "sha256:" + hashlib.sha256(raw).hexdigest(),
      end < len(raw),
      cfg["rootfs"]["diff_ids"][0] != "sha256:" + hashlib.sha256(raw[:end]).hexdigest())
PY
eq "estargz: the diff_id is the whole stream's, which goes on past the tar's end" "$(cat "$T/estargz.txt")" "True True True"

# --- the docker image in other forms, converted by skopeo -------------------------
D="$FIXTURES/test-docker-image.tar"
sk() { skopeo copy -q --insecure-policy "$@"; }
sk "docker-archive:$D" "oci:$T/c-oci:conv"
sk "docker-archive:$D" "oci-archive:$T/c-oci.tar:conv"
sk --dest-compress-format zstd "docker-archive:$D" "oci:$T/c-zstd:conv"
sk "docker-archive:$D" "docker-archive:$T/c-docker.tar:example/conv:1"
n=$(file "$T"/c-zstd/blobs/sha256/* | grep -c Zstandard || true)
eq "skopeo wrote 14 zstd layers" "$n" 14
want=$(figures "$T/r-docker.json")
for ref in "oci:$T/c-oci:conv" "oci-archive:$T/c-oci.tar" "oci:$T/c-zstd" "docker-archive:$T/c-docker.tar" \
	"docker-archive:$T/c-docker.tar:example/conv:1"; do
	if "$WHITTLE" -q --report "$T/conv.json" "$ref" 2>"$T/err"; then
		eq "$ref: same figures as the docker save archive" "$(figures "$T/conv.json")" "$want"
		check "$ref: report valid against the schema" validate_report "$T/conv.json"
	else
		bad "$ref: whittle failed: $(cat "$T/err")"
	fi
done

# --- the same bytes whatever the number of threads ------------------------------------
for name in docker kaniko; do
	f="$FIXTURES/test-$name-image.tar"
	"$WHITTLE" -q --jobs 1 --report "$T/j1.json" "$f"
	"$WHITTLE" -q --jobs 4 --report "$T/j4.json" "$f"
	check "$name: --jobs 1 and --jobs 4 write the same bytes" cmp -s "$T/j1.json" "$T/j4.json"
	check "$name: --jobs 4 and the default write the same bytes" cmp -s "$T/j4.json" "$T/r-$name.json"
done

finish
