#!/usr/bin/python3
"""The expected figures of an unpacked image, from `tar -tvf` listings of
its layer blobs (GNU tar reads gzip and zstd itself) and OCI whiteout rules
(spec_model.merge). Added and removed counts, sizes and the final file list
need no file contents; `modified` does, and is left out.

usage: tar_model.py DIR    (an unpacked docker-archive, kaniko tar or OCI layout)"""
import json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec_model  # noqa: E402


def layer_files(d):
    if os.path.exists(os.path.join(d, "manifest.json")):
        m = json.load(open(os.path.join(d, "manifest.json")))
        return [os.path.join(d, l) for l in m[0]["Layers"]]
    idx = json.load(open(os.path.join(d, "index.json")))
    desc = idx["manifests"][0]
    while True:
        blob = json.load(open(os.path.join(d, "blobs", "sha256", desc["digest"][7:])))
        if "manifests" in blob:
            desc = blob["manifests"][0]
            continue
        return [os.path.join(d, "blobs", "sha256", l["digest"][7:]) for l in blob["layers"]]


def norm(name):
    while name.startswith("./") or name.startswith("/"):
        name = name[2:] if name.startswith("./") else name[1:]
    return name.rstrip("/")


def listing(path):
    out = subprocess.run(["tar", "--numeric-owner", "-tvf", path], check=True,
                         capture_output=True, text=True).stdout
    ents = []
    for line in out.splitlines():
        perm, owner, size, _date, _time, rest = line.split(None, 5)
        kind = perm[0]
        link = None
        if kind == "l":
            rest, link = rest.split(" -> ", 1)
        elif kind == "h":
            rest, link = rest.split(" link to ", 1)
            link = norm(link)
        p = norm(rest)
        if p == "":
            continue  # the root's own entry
        base = p.rsplit("/", 1)[-1]
        parent = p[: -len(base)].rstrip("/")
        if base == ".wh..wh..opq":
            ents.append(("o", parent, None))
            continue
        if base.startswith(".wh..wh."):
            continue
        if base.startswith(".wh."):
            ents.append(("w", (parent + "/" if parent else "") + base[4:], None))
            continue
        t = {"-": "f", "d": "d", "l": "l", "h": "h", "c": "c", "b": "b", "p": "p"}[kind]
        n = int(size) if t == "f" else 0
        ents.append((t, p, (perm[1:], owner, link, n)))
    # spec_model reads a regular file's size at meta[3]
    return [(t, p, (m[0], m[1], m[2], m[3]) if m else None) for t, p, m in ents]


def main():
    layers = [listing(f) for f in layer_files(sys.argv[1])]
    out = spec_model.merge(layers)
    out["entries"] = [len([e for e in l if e[0] != "o"]) for l in layers]
    print(json.dumps(out, indent=1, sort_keys=True))


main()
