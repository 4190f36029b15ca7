#!/bin/bash
# Waste figures on dive's test images, against three independent sources:
#  1. dive's own test suite, for test-docker-image.tar;
#  2. the layer tars themselves: `tar -tvf` listings, merged with whiteouts
#     and measured with dive's published algorithm by the Python below;
#  3. the same image converted by skopeo to oci:, oci-archive: and zstd
#     oci: must give the very same figures.
. "$(dirname "$0")/lib.sh"
need_fixtures
need_cmd skopeo tar /usr/bin/python3

DOCKER="$FIXTURES/test-docker-image.tar"
KANIKO="$FIXTURES/test-kaniko-image.tar"
PY=/usr/bin/python3

report() { # OUT REF
	if ! "$WHITTLE" -q --report "$1" "$2" 2>"$T/err"; then
		bad "whittle --report $2: $(cat "$T/err")"
		return 1
	fi
	if validate_report "$1" 2>"$T/verr"; then ok "schema: $2"; else bad "schema: $2: $(tail -3 "$T/verr")"; fi
}

# The figures every form of one image must share (DESIGN.md: all but
# reference, format and layer digests).
figures() {
	$PY - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
i = d["image"]
keys = ["size_bytes", "visible_bytes", "reclaimable_bytes", "efficiency", "wasted_bytes",
        "user_wasted_percent", "file_count", "inefficient_files", "duplicates"]
out = {k: i.get(k) for k in keys}
out["layers"] = [[l["size_bytes"], l["added"], l["modified"], l["removed"]] for l in d["layers"]]
print(json.dumps(out, sort_keys=True))
PY
}

# --- 1. dive's numbers ---------------------------------------------------------------
report "$T/docker.json" "docker-archive:$DOCKER" || { finish; exit 1; }

# Expected values typed in from dive's test suite (github.com/wagoodman/dive):
#   dive/image/docker/image_archive_analysis_test.go, Test_Analysis "docker-image":
#     efficiency 0.9844212134184309, sizeBytes 1220598, userSizeBytes 66237,
#     wastedBytes 32025, wastedPercent 0.4834911001404049
#   runtime/export/export_test.go, Test_Export (image.fileReference):
#     /root/saved.txt count 2 12810; /root/example/somefile1.txt count 2 12810;
#     /root/example/somefile3.txt count 2 6405
# Floats are compared exactly: the same double, not a rounded one.
if $PY - "$T/docker.json" >"$T/dive.out" 2>&1 <<'PY'; then ok "docker-archive: dive's test-suite figures"; else bad "docker-archive: dive's figures: $(cat "$T/dive.out")"; fi
import json, sys
d = json.load(open(sys.argv[1]))
i = d["image"]
errs = []
def want(name, got, exp):
    if got != exp or type(got) is not type(exp):
        errs.append(f"{name}: got {got!r} want {exp!r}")
want("efficiency", i["efficiency"], 0.9844212134184309)
want("size_bytes", i["size_bytes"], 1220598)
want("user size (layers 1..)", sum(l["size_bytes"] for l in d["layers"][1:]), 66237)
want("wasted_bytes", i["wasted_bytes"], 32025)
want("user_wasted_percent", i["user_wasted_percent"], 0.4834911001404049)
files = sorted((f["path"], f["count"], f["size_bytes"]) for f in i["inefficient_files"])
want("inefficient_files", files, sorted([("/root/saved.txt", 2, 12810),
                                          ("/root/example/somefile1.txt", 2, 12810),
                                          ("/root/example/somefile3.txt", 2, 6405)]))
# DESIGN.md: lists sorted by size descending, then path
order = [(-f["size_bytes"], f["path"]) for f in i["inefficient_files"]]
want("inefficient_files order", order, sorted(order))
if errs:
    print("\n".join(errs))
    sys.exit(1)
PY

# --- 2. from the layer tars -------------------------------------------------------------
# Unpack the archive, list each layer with tar -tvf, merge the listings with
# OCI whiteouts and compute: all bytes, visible bytes, reclaimable bytes,
# merged entries, and dive's efficiency / wasted / user-wasted figures.
tar_figures() { # ARCHIVE DIR
	mkdir -p "$2"
	tar -xf "$1" -C "$2"
	$PY - "$2" >"$2.lists" <<'PY'
import json, os, sys
d = sys.argv[1]
for layer in json.load(open(os.path.join(d, "manifest.json")))[0]["Layers"]:
    print(os.path.join(d, layer))
PY
	: >"$2.listing"
	local n=0
	while read -r layer; do
		echo "== layer $n" >>"$2.listing"
		LC_ALL=C tar --quoting-style=literal -tvf "$layer" >>"$2.listing" 2>"$2.err" ||
			{ cat "$2.err" >&2; return 1; }
		n=$((n + 1))
	done <"$2.lists"
	$PY - "$2.listing" <<'PY'
import json, posixpath, sys

def norm(name):
    name = name.strip("/")
    while name.startswith("./"):
        name = name[2:]
    return posixpath.normpath(name) if name not in ("", ".") else ""

layers = []
for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    line = line.rstrip("\n")
    if line.startswith("== layer"):
        layers.append([])
        continue
    perms, _owner, size, _date, _time, rest = line.split(None, 5)
    t = perms[0]
    if t == "l":
        rest = rest.split(" -> ", 1)[0]
    elif t == "h":
        rest = rest.split(" link to ", 1)[0]
    path = norm(rest)
    if not path:
        continue
    base = posixpath.basename(path)
    parent = posixpath.dirname(path)
    if base == ".wh..wh..opq":
        layers[-1].append(("opq", parent, 0))
    elif base.startswith(".wh."):
        layers[-1].append(("wh", posixpath.join(parent, base[4:]), 0))
    else:
        kind = {"-": "reg", "d": "dir"}.get(t, "other")
        layers[-1].append((kind, path, int(size) if kind == "reg" else 0))

def under(p, q):  # q is p or beneath p
    return q == p or q.startswith(p + "/")

state = {}  # path -> (kind, size): the merged filesystem so far
records = {}  # path -> [sizes], dive's per-path records
total = 0
layer_sizes = []
for entries in layers:
    lower = dict(state)
    # dive's records for this layer: entries with nothing beneath them in the
    # layer's own tree; a whiteout is a node of its own, always a leaf
    nodes = {}
    for kind, path, size in entries:
        if kind == "opq":
            nodes.setdefault((path, False), 0)
        elif kind == "wh":
            sz = 0
            if lower.get(path, ("",))[0] == "dir":
                sz = sum(s for q, (k, s) in lower.items() if k == "reg" and under(path, q) and q != path)
            nodes[(path, True)] = sz
        else:
            nodes[(path, False)] = size
    paths = [p for p, _ in nodes]
    for (path, wh), size in nodes.items():
        if wh or not any(q.startswith(path + "/") for q in paths):
            records.setdefault(path, []).append(size)
    # the merge: opaque markers and whiteouts hide what lower layers had
    for kind, path, _ in entries:
        if kind == "opq":
            for q in list(state):
                if q.startswith(path + "/") and q in lower:
                    del state[q]
        elif kind == "wh":
            for q in list(state):
                if under(path, q) and q in lower:
                    del state[q]
    lsize = 0
    for kind, path, size in entries:
        if kind in ("opq", "wh"):
            continue
        parts = path.split("/")
        for k in range(1, len(parts)):  # parents are directories
            par = "/".join(parts[:k])
            if state.get(par, ("",))[0] != "dir":
                for q in list(state):
                    if q.startswith(par + "/"):
                        del state[q]
                state[par] = ("dir", 0)
        if kind != "dir":
            for q in list(state):
                if q.startswith(path + "/"):
                    del state[q]
        state[path] = (kind, size)
        lsize += size
    total += lsize
    layer_sizes.append(lsize)

visible = sum(s for k, s in state.values() if k == "reg")
sum_min = sum(min(v) for v in records.values())
sum_cum = sum(sum(v) for v in records.values())
wasted = sum(sum(v) for v in records.values() if len(v) >= 2)
user = sum(layer_sizes[1:])
print(json.dumps({
    "size_bytes": total, "visible_bytes": visible, "reclaimable_bytes": total - visible,
    "file_count": len(state),
    "efficiency": sum_min / sum_cum if sum_cum else 1.0,
    "wasted_bytes": wasted,
    "user_wasted_percent": wasted / user if user else 0.0,
    "inefficient_files": sorted([["/" + p, len(v), sum(v)] for p, v in records.items() if len(v) >= 2]),
    "layer_sizes": layer_sizes,
}, sort_keys=True))
PY
}

whittle_as_tar_figures() { # REPORT
	$PY - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
i = d["image"]
out = {k: i[k] for k in ["size_bytes", "visible_bytes", "reclaimable_bytes", "file_count", "efficiency",
                         "wasted_bytes", "user_wasted_percent"]}
out["inefficient_files"] = sorted([[f["path"], f["count"], f["size_bytes"]] for f in i["inefficient_files"]])
out["layer_sizes"] = [l["size_bytes"] for l in d["layers"]]
print(json.dumps(out, sort_keys=True))
PY
}

if tar_figures "$DOCKER" "$T/docker-x" >"$T/docker.tar.json"; then
	# the listing itself must reproduce dive's numbers, or it proves nothing
	eq "tar listings: docker reclaimable bytes (5 copies of the 6405-byte README gone)" \
		"$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["reclaimable_bytes"])' "$T/docker.tar.json")" "32025"
	eq "tar listings vs whittle: docker-archive" "$(whittle_as_tar_figures "$T/docker.json")" "$(cat "$T/docker.tar.json")"
else
	bad "tar listings of $DOCKER"
fi

# --- 3. the same image in every form -------------------------------------------------------
want_fig=$(figures "$T/docker.json")
convert() { # NAME DEST [skopeo options...]
	local name=$1 dest=$2
	shift 2
	if skopeo copy -q "$@" "docker-archive:$DOCKER" "$dest" >"$T/skopeo.log" 2>&1; then
		return 0
	fi
	bad "skopeo copy to $name: $(tail -3 "$T/skopeo.log")"
	return 1
}
if convert oci "oci:$T/oci:test"; then
	report "$T/oci.json" "oci:$T/oci:test" && eq "oci: same figures as docker-archive" "$(figures "$T/oci.json")" "$want_fig"
fi
if convert oci-archive "oci-archive:$T/oci.tar:test"; then
	report "$T/ocia.json" "oci-archive:$T/oci.tar:test" &&
		eq "oci-archive: same figures as docker-archive" "$(figures "$T/ocia.json")" "$want_fig"
fi
if convert "oci zstd" "oci:$T/ociz:test" --dest-compress-format zstd; then
	# make sure the layers really are zstd
	zl=$($PY - "$T/ociz" <<'PY'
import json, os, sys
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
alg, hx = idx["manifests"][0]["digest"].split(":")
m = json.load(open(os.path.join(d, "blobs", alg, hx)))
print(sum(1 for l in m["layers"] if "zstd" in l["mediaType"]), len(m["layers"]))
PY
)
	eq "oci zstd: every layer is zstd" "$zl" "14 14"
	report "$T/ociz.json" "oci:$T/ociz:test" && eq "oci zstd: same figures as docker-archive" "$(figures "$T/ociz.json")" "$want_fig"
fi
# the bare path (sniffed) is the docker-archive
report "$T/bare.json" "$DOCKER" && eq "bare path: same figures as docker-archive" "$(figures "$T/bare.json")" "$want_fig"

# --- kaniko: another build of the same Dockerfile ---------------------------------------
# dive's suite asserts no figures for it (its Makefile only runs --ci on it,
# see ci.sh); check it against its own layer tars and the Dockerfile.
if report "$T/kaniko.json" "$KANIKO"; then
	if tar_figures "$KANIKO" "$T/kaniko-x" >"$T/kaniko.tar.json"; then
		eq "tar listings vs whittle: kaniko" "$(whittle_as_tar_figures "$T/kaniko.json")" "$(cat "$T/kaniko.tar.json")"
	else
		bad "tar listings of $KANIKO"
	fi
	# Dockerfile.test-image: layer 1 adds README.md (s bytes) as /somefile.txt;
	# copies of it: somefile1 (then chmod: 2 records), somefile3 (then mv: a
	# file whiteout, 0), saved.txt (then chmod +x: 2 records)
	if $PY - "$T/kaniko.json" >"$T/kan.out" 2>&1 <<'PY'; then ok "kaniko: figures follow from the Dockerfile"; else bad "kaniko: $(cat "$T/kan.out")"; fi
import json, sys
d = json.load(open(sys.argv[1]))
i = d["image"]
s = d["layers"][1]["size_bytes"]
errs = []
def want(name, got, exp):
    if got != exp:
        errs.append(f"{name}: got {got!r} want {exp!r}")
want("layers", len(d["layers"]), 14)
want("inefficient_files", sorted((f["path"], f["count"], f["size_bytes"]) for f in i["inefficient_files"]),
     sorted([("/root/saved.txt", 2, 2 * s), ("/root/example/somefile1.txt", 2, 2 * s),
             ("/root/example/somefile3.txt", 2, s)]))
want("wasted_bytes", i["wasted_bytes"], 5 * s)
want("size_bytes", i["size_bytes"], sum(l["size_bytes"] for l in d["layers"]))
want("user_wasted_percent", i["user_wasted_percent"], 5 * s / sum(l["size_bytes"] for l in d["layers"][1:]))
want("reclaimable", i["reclaimable_bytes"], i["size_bytes"] - i["visible_bytes"])
want("duplicates", [(x["size_bytes"], len(x["paths"])) for x in i["duplicates"]], [(s, 5)])
if errs:
    print("\n".join(errs))
    sys.exit(1)
PY
fi

finish
