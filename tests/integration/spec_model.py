#!/usr/bin/python3
"""The expected figures of an image, from its mkimage SPEC alone.

Applies OCI layer semantics (opaque markers and whiteouts hide what the
layers below have, whatever their place in the tar; a non-directory
replaces a directory and its children; a path's missing parents are
directories) and prints JSON:
  file_count     nodes of the final filesystem (directories included)
  visible_bytes  regular-file bytes of the final filesystem
  size_bytes     regular-file bytes of every layer
  layers         [{size_bytes, added, modified, removed}]
  files          sorted "path type" lines of the final filesystem
where, per layer, added = entries whose path the layers below did not
have, modified = entries whose path they had with another type, content,
mode, owner or link target, removed = paths gone after the layer.
Only what the formats test uses: layer, history, mtime, file, dir,
symlink, hardlink, whiteout, opaque."""
import json, sys


def parse(spec):
    layers = []
    for raw in open(spec):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 1)
        kw, rest = parts[0], (parts[1] if len(parts) > 1 else "")
        if kw == "layer":
            layers.append([])
        elif kw in ("history", "mtime"):
            pass
        elif kw == "file":
            f = rest.split(None, 4)
            content = f[4].rstrip() if len(f) > 4 else ""
            if content.startswith("@"):
                n, _, byte = content[1:].partition(":")
                data = byte.encode() * int(n)
            else:
                data = content.encode()
            layers[-1].append(("f", f[0], (int(f[1], 8), int(f[2]), int(f[3]), len(data), data)))
        elif kw == "dir":
            f = rest.split()
            layers[-1].append(("d", f[0], (int(f[1], 8), int(f[2]), int(f[3]))))
        elif kw == "symlink":
            p, t = rest.split()
            layers[-1].append(("l", p, (0o777, 0, 0, t)))
        elif kw == "hardlink":
            p, t = rest.split()
            layers[-1].append(("h", p, (0o644, 0, 0, t)))
        elif kw == "whiteout":
            layers[-1].append(("w", rest.strip(), None))
        elif kw == "opaque":
            layers[-1].append(("o", rest.strip(), None))
        else:
            sys.exit("spec_model: unsupported line: " + line)
    return layers


def below(tree, p):
    pre = p + "/" if p else ""
    return [q for q in tree if q.startswith(pre) and q != p]


def merge(layers):
    """layers: lists of (type, path, meta); type f d l h (c b p) w o.
    Returns the figures described above."""
    tree = {}  # path -> (type, meta); meta None for a directory no layer lists
    out = {"layers": []}
    total = 0
    for ents in layers:
        before = dict(tree)
        for t, p, _ in ents:
            if t == "o":
                for q in below(tree, p):
                    del tree[q]
        for t, p, _ in ents:
            if t == "w" and p in before:
                for q in below(tree, p) + [p]:
                    tree.pop(q, None)
        listed = {}
        size = 0
        for t, p, meta in ents:
            if t in "ow":
                continue
            parts = p.split("/")
            for i in range(1, len(parts)):
                a = "/".join(parts[:i])
                if a not in tree or tree[a][0] != "d":
                    tree[a] = ("d", None)
            if t != "d" or (p in tree and tree[p][0] != "d"):
                for q in below(tree, p):
                    del tree[q]
            tree[p] = (t, meta)
            listed[p] = True
            if t == "f":
                size += meta[3]
        total += size
        added = modified = 0
        for p in listed:
            if p not in before:
                added += 1
            else:
                old, new = before[p], tree[p]
                if old[1] is None and new[0] == "d" and old[0] == "d":
                    continue
                if old != new:
                    modified += 1
        removed = len([p for p in before if p not in tree])
        out["layers"].append({"size_bytes": size, "added": added, "modified": modified, "removed": removed})
    out["file_count"] = len(tree)
    out["visible_bytes"] = sum(m[3] for t, m in tree.values() if t == "f")
    out["size_bytes"] = total
    out["files"] = sorted("/%s %s" % (p, t) for p, (t, _) in tree.items())
    return out


def main():
    print(json.dumps(merge(parse(sys.argv[1])), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
