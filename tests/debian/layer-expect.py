#!/usr/bin/python3
"""Check the layers of whittle's Debian test image and write its expectations.

Called by tests/build-debian-image.sh once the image is complete:

    layer-expect.py OUTDIR TAG SNAPDIR CLEANUP_LAYER

OUTDIR/oci is the OCI layout; SNAPDIR holds snap0 .. snapN, NUL-separated
`find -printf` listings of the bundle's rootfs: snap0 before the first
layer (empty), snapK+1 right after layer K was repacked. CLEANUP_LAYER is
the index of the layer whose deletions, overwrites and chmods are listed.

It does three things, failing (exit 1) on any mismatch:

1. Verifies every layer blob against its manifest digest and its diff_id.
2. Verifies that each layer's tar holds exactly what changed in the rootfs
   between the two snapshots around it (added or changed entries; whiteouts
   for the top of every deleted subtree), so umoci's diff held nothing else.
3. Computes, from the tar headers alone, the image's size, visible and
   reclaimable bytes and every hidden copy of a regular file, and checks the
   cleanup layer's share of them against the snapshots (what that layer
   deleted, overwrote or chmodded, with each lower copy's size).

It writes OUTDIR/expect.json and OUTDIR/layers.txt. The definitions are in
the comment at the top of tests/build-debian-image.sh.
"""
import gzip
import hashlib
import json
import os
import sys
import tarfile

WH = ".wh."
OPQ = ".wh..wh..opq"

errors = []


def err(msg):
    errors.append(msg)
    print("layer-expect: " + msg, file=sys.stderr)


def norm(name):
    while name.startswith("./"):
        name = name[2:]
    name = name.strip("/")
    return "" if name == "." else name


def parent(p):
    return p.rsplit("/", 1)[0] if "/" in p else ""


def read_snapshot(path):
    """find -printf '%y\\0%s\\0%m\\0%U\\0%G\\0%T@\\0%n\\0%l\\0%P\\0' -> dict"""
    with open(path, "rb") as f:
        fields = f.read().split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    if len(fields) % 9:
        raise SystemExit("layer-expect: bad snapshot %s" % path)
    snap = {}
    for i in range(0, len(fields), 9):
        y, s, m, u, g, t, n, l, p = (x.decode("utf-8", "surrogateescape") for x in fields[i:i + 9])
        snap[p] = {"type": y, "size": int(s), "mode": m, "uid": u, "gid": g,
                   "mtime": t, "nlink": int(n), "link": l}
    return snap


def snap_diff(a, b):
    added = sorted(set(b) - set(a))
    deleted = sorted(set(a) - set(b))
    changed = sorted(p for p in set(a) & set(b) if a[p] != b[p] and
                     {k: v for k, v in a[p].items() if k != "nlink"} !=
                     {k: v for k, v in b[p].items() if k != "nlink"})
    return added, changed, deleted


def top_deleted(deleted):
    dset = set(deleted)
    return sorted(p for p in deleted if parent(p) not in dset)


def blob_path(oci, digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(oci, "blobs", algo, hexd)


def read_json_blob(oci, digest):
    with open(blob_path(oci, digest), "rb") as f:
        data = f.read()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        err("blob %s does not match its digest" % digest)
    return json.loads(data)


def read_layer(oci, desc, diff_id):
    path = blob_path(oci, desc["digest"])
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if "sha256:" + h.hexdigest() != desc["digest"]:
        err("layer blob %s does not match its digest" % desc["digest"])
    if os.path.getsize(path) != desc["size"]:
        err("layer blob %s: size differs from the manifest" % desc["digest"])
    d = hashlib.sha256()
    entries = []
    with gzip.open(path, "rb") as gz:
        class Tee:
            def read(self, n=-1):
                b = gz.read(n)
                d.update(b)
                return b
        with tarfile.open(fileobj=Tee(), mode="r|") as tf:
            for ti in tf:
                entries.append(ti)
        # drain the tar padding so diff_id covers the whole stream
        while True:
            b = gz.read(1 << 20)
            if not b:
                break
            d.update(b)
    if "sha256:" + d.hexdigest() != diff_id:
        err("layer blob %s: uncompressed digest differs from diff_id %s" % (desc["digest"], diff_id))
    return entries


def main():
    if len(sys.argv) != 5:
        raise SystemExit("usage: layer-expect.py OUTDIR TAG SNAPDIR CLEANUP_LAYER")
    outdir, tag, snapdir, cleanup = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    oci = os.path.join(outdir, "oci")

    with open(os.path.join(oci, "index.json")) as f:
        index = json.load(f)
    mdesc = [m for m in index["manifests"]
             if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    if len(mdesc) != 1:
        raise SystemExit("layer-expect: tag %s not found exactly once in index.json" % tag)
    manifest_digest = mdesc[0]["digest"]
    manifest = read_json_blob(oci, manifest_digest)
    config = read_json_blob(oci, manifest["config"]["digest"])
    diff_ids = config["rootfs"]["diff_ids"]
    layers = manifest["layers"]
    if len(layers) != len(diff_ids):
        raise SystemExit("layer-expect: manifest has %d layers, config %d diff_ids" % (len(layers), len(diff_ids)))
    history = [h for h in config.get("history", []) if not h.get("empty_layer")]
    if len(history) != len(layers):
        err("%d non-empty history entries for %d layers" % (len(history), len(layers)))

    snaps = [read_snapshot(os.path.join(snapdir, "snap%d" % i)) for i in range(len(layers) + 1)]

    # merged tree from the tar headers alone
    merged = {}      # path -> (layer, type, size)
    hidden = []      # every hidden copy of a regular file (or hard link, 0 bytes)
    links = {}       # hard link path -> (layer, target path)
    out_layers = []
    size_bytes = 0
    for k, (desc, diff_id) in enumerate(zip(layers, diff_ids)):
        entries = read_layer(oci, desc, diff_id)
        lsize = 0
        nreg = 0
        whiteouts = []
        paths = {}
        names_seen = set()

        def hide(p, how):
            layer, typ, size = merged.pop(p)
            hidden.append({"path": "/" + p, "layer": layer, "size_bytes": size,
                           "hidden_by_layer": k, "how": how})

        for ti in entries:
            p = norm(ti.name)
            if p in names_seen:
                err("layer %d: %s appears twice" % (k, p))
            names_seen.add(p)
            base = p.rsplit("/", 1)[-1]
            if base == OPQ:
                d = parent(p)
                whiteouts.append("/" + p)
                for q in [q for q in merged if q.startswith(d + "/") and merged[q][0] < k]:
                    hide(q, "deleted")
                continue
            if base.startswith(WH):
                target = (parent(p) + "/" if parent(p) else "") + base[len(WH):]
                whiteouts.append("/" + target)
                if target not in merged:
                    err("layer %d: whiteout for %s, which no lower layer has" % (k, target))
                for q in [q for q in merged if q == target or q.startswith(target + "/")]:
                    hide(q, "deleted")
                continue
            if ti.isreg():
                typ, size = "f", ti.size
                nreg += 1
            elif ti.islnk():
                typ, size = "h", 0
                links[p] = (k, norm(ti.linkname))
            elif ti.isdir():
                typ, size = "d", 0
            elif ti.issym():
                typ, size = "l", 0
            else:
                typ, size = "o", 0
            lsize += size
            paths[p] = typ
            if p in merged:
                if merged[p][1] == "d" and typ != "d":
                    for q in [q for q in merged if q.startswith(p + "/")]:
                        hide(q, "replaced")
                if merged[p][1] in ("f", "h"):
                    hide(p, "replaced")
            merged[p] = (k, typ, size)
        size_bytes += lsize
        created_by = history[k].get("created_by", "") if k < len(history) else ""

        # 2. the tar holds exactly what changed between the snapshots
        added, changed, deleted = snap_diff(snaps[k], snaps[k + 1])
        want = set(added) | set(changed)
        got = set(paths)
        for p in sorted(got - want):
            err("layer %d holds %s, which did not change" % (k, p))
        for p in sorted(want - got):
            err("layer %d lacks %s, which changed" % (k, p))
        want_wh = set("/" + p for p in top_deleted(deleted))
        if want_wh != set(whiteouts):
            err("layer %d whiteouts %s, expected %s" % (k, sorted(whiteouts), sorted(want_wh)))
        for p in sorted(got & want):
            y = snaps[k + 1][p]["type"]
            t = paths[p]
            if not (y == t or (t == "h" and y == "f") or (t == "o" and y in "cbp")):
                err("layer %d: %s is %s in the tar, %s in the rootfs" % (k, p, t, y))

        out_layers.append({
            "index": k, "digest": desc["digest"], "diff_id": diff_id,
            "blob_bytes": desc["size"], "created_by": created_by,
            "entries": len(entries), "regular_files": nreg, "size_bytes": lsize,
            "whiteouts": sorted(whiteouts),
            "added": len(added), "changed": len(changed), "deleted": len(deleted)})

    visible = sum(v[2] for v in merged.values())
    reclaimable = size_bytes - visible
    hidden.sort(key=lambda h: (h["hidden_by_layer"], h["path"], h["layer"]))
    if sum(h["size_bytes"] for h in hidden) != reclaimable:
        err("hidden copies sum to %d, size - visible is %d" % (sum(h["size_bytes"] for h in hidden), reclaimable))
    # a visible hard link whose target copy is hidden would make the header
    # sums lie (the bytes would count as reclaimable yet stay needed)
    for p, (layer, target) in sorted(links.items()):
        if p in merged and merged[p][0] == layer and merged.get(target, (None,))[0] != layer:
            err("visible hard link /%s points at /%s, hidden or replaced" % (p, target))

    # 3. the cleanup layer's share, from the snapshots alone
    L = cleanup
    before, after = snaps[L], snaps[L + 1]
    added, changed, deleted = snap_diff(before, after)
    layer_changes = []
    for k in range(L):
        a, c, _ = snap_diff(snaps[k], snaps[k + 1])
        layer_changes.append(set(a) | set(c))

    def copies(p):
        out = []
        for k in range(L):
            if p in layer_changes[k]:
                e = snaps[k + 1][p]
                if e["type"] == "f":
                    if e["nlink"] != 1:
                        err("cleanup layer touches %s, a hard link (nlink %d): pick another file" % (p, e["nlink"]))
                    if out:
                        out[-1]["hidden_by_layer"] = k
                    out.append({"layer": k, "size_bytes": e["size"], "hidden_by_layer": L})
        return out

    def item(p):
        c = copies(p)
        return {"path": "/" + p, "copies": c,
                "size_bytes": sum(x["size_bytes"] for x in c),
                "hidden_bytes": sum(x["size_bytes"] for x in c if x["hidden_by_layer"] == L)}

    del_items = [item(p) for p in deleted if before[p]["type"] == "f"]
    over_items, chmod_items = [], []
    for p in changed:
        a, b = before[p], after[p]
        if a["type"] != "f":
            continue
        only_mode = all(a[x] == b[x] for x in ("type", "size", "uid", "gid", "mtime", "link")) and a["mode"] != b["mode"]
        it = item(p)
        if only_mode:
            it["mode_before"], it["mode_after"] = a["mode"], b["mode"]
            chmod_items.append(it)
        else:
            it["new_size_bytes"] = b["size"]
            over_items.append(it)
    items = del_items + over_items + chmod_items
    all_copies = sum(x["size_bytes"] for x in items)
    reclaimed = sum(x["hidden_bytes"] for x in items)

    # the same copies from the tar headers: every hidden copy of a path the
    # cleanup layer touched, whichever layer hid it
    touched = set(x["path"] for x in items)
    by_tar = sorted((h["path"], h["layer"], h["size_bytes"], h["hidden_by_layer"]) for h in hidden
                    if h["path"] in touched or h["hidden_by_layer"] == L)
    by_tar = [t for t in by_tar if t[2] or t[3] != L or t[0] in touched]
    by_snap = sorted((x["path"], c["layer"], c["size_bytes"], c["hidden_by_layer"])
                     for x in items for c in x["copies"])
    if by_tar != by_snap:
        err("cleanup layer: tar headers and snapshots disagree on what it hid:\n tar only: %s\n snap only: %s"
            % (sorted(set(by_tar) - set(by_snap))[:20], sorted(set(by_snap) - set(by_tar))[:20]))
    tar_l = sum(h["size_bytes"] for h in hidden if h["hidden_by_layer"] == L)
    if tar_l != reclaimed:
        err("cleanup layer: tar headers say it hid %d bytes, snapshots %d" % (tar_l, reclaimed))

    by_layer = [{"index": k, "hidden_bytes": sum(h["size_bytes"] for h in hidden if h["hidden_by_layer"] == k),
                 "hidden_files": sum(1 for h in hidden if h["hidden_by_layer"] == k)}
                for k in range(len(layers))]

    expect = {
        "schema": "whittle.test.debian-image/v1",
        "reference": "oci:oci:" + tag,
        "tag": tag,
        "manifest_digest": manifest_digest,
        "config_digest": manifest["config"]["digest"],
        "entrypoint": config.get("config", {}).get("Entrypoint"),
        "size_bytes": size_bytes,
        "visible_bytes": visible,
        "reclaimable_bytes": reclaimable,
        # entries of the merged filesystem below its root: layer 0's tar
        # lists "./" (norm gives ""), which is the root itself, not an entry
        # in it (a docker-built base layer has no such entry; the unpacked
        # rootfs has `find -mindepth 1 | wc -l` entries)
        "visible_file_count": len([p for p in merged if p]),
        "layers": out_layers,
        "hidden_by_layer": by_layer,
        "cleanup_layer": {
            "index": L,
            "created_by": out_layers[L]["created_by"],
            "deleted": del_items,
            "overwritten": over_items,
            "chmodded": chmod_items,
            "whiteouts": out_layers[L]["whiteouts"],
            "hidden_bytes": reclaimed,
            "all_copies_bytes": all_copies,
        },
        "hidden": hidden,
    }
    if errors:
        print("layer-expect: %d problems" % len(errors), file=sys.stderr)
        sys.exit(1)
    with open(os.path.join(outdir, "expect.json"), "w") as f:
        json.dump(expect, f, indent=1, sort_keys=False)
        f.write("\n")
    with open(os.path.join(outdir, "layers.txt"), "w") as f:
        for l in out_layers:
            f.write("%d %s %s\n" % (l["index"], l["digest"], l["created_by"]))
    for l in out_layers:
        print("layer %d %s: %d entries, %d regular files, %d bytes, %d whiteouts"
              % (l["index"], l["digest"][:19], l["entries"], l["regular_files"], l["size_bytes"], len(l["whiteouts"])))
    print("size %d visible %d reclaimable %d (cleanup layer %d)" % (size_bytes, visible, reclaimable, reclaimed))


if __name__ == "__main__":
    main()
