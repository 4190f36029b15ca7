#!/usr/bin/python3
"""Expected values for tests/integration/tui.sh, computed from the image's
own files (manifest, config, the layer tars' headers) with OCI whiteout
semantics -- never from whittle's output -- and a parser for the file tree
pane as tmux captures it.

  tui_expect.py layers IMAGE.tar          idx|size|command prefix|diff_id|entries
  tui_expect.py tree IMAGE.tar L per|agg  per: "M /path" (M: + added, - removed,
                                          ~ modified or a changed child, space),
                                          agg: "/path", in tree order (by name)
  tui_expect.py sizeorder IMAGE.tar L     top-level names of the aggregated tree
                                          by size (descending), then name
  tui_expect.py filter IMAGE.tar L REGEX  paths the aggregated tree keeps: the
                                          matches and their ancestors
  tui_expect.py search IMAGE.tar L REGEX  matches in tree order
  tui_expect.py inefficient IMAGE.tar     count|bytes|path of files in >1 layer
  tui_expect.py total IMAGE.tar           sum of regular file sizes, all layers
  tui_expect.py content IMAGE.tar L PATH  write the file's bytes to stdout
  tui_expect.py parse SCREEN COL [markers]  the tree rows of a capture whose
                                          pane starts at column COL
"""
import io
import json
import posixpath
import re
import sys
import tarfile


def human(n):
    units = ["B", "kB", "MB", "GB", "TB"]
    v, u = float(n), 0
    while v >= 1000 and u + 1 < len(units):
        v /= 1000
        u += 1
    return "%d B" % n if u == 0 else "%.1f %s" % (v, units[u])


def open_image(path):
    outer = tarfile.open(path)
    manifest = json.load(outer.extractfile("manifest.json"))[0]
    config = json.load(outer.extractfile(manifest["Config"]))
    layers = []
    for name in manifest["Layers"]:
        data = outer.extractfile(name).read()
        layers.append(tarfile.open(fileobj=io.BytesIO(data)))
    return config, layers


def norm(name):
    n = posixpath.normpath("/" + name)
    return "" if n == "/" else n.lstrip("/")


def meta(m):
    kind = "h" if m.islnk() else "l" if m.issym() else "d" if m.isdir() else "f"
    return (kind, m.mode & 0o7777, m.uid, m.gid, m.size if kind == "f" else 0,
            m.linkname if kind in "hl" else "")


def merge(layers, upto):
    """State after layer upto: {path: meta}; and for layer upto the added,
    removed and modified path sets."""
    state = {}
    added = removed = modified = set()
    for i, lt in enumerate(layers[: upto + 1]):
        before = dict(state)
        gone = set()
        members = lt.getmembers()
        for m in members:  # opaque directories first
            p = norm(m.name)
            d, b = posixpath.split(p)
            if b == ".wh..wh..opq":
                for k in [k for k in state if k.startswith(d + "/") if d] or \
                         ([k for k in state] if not d else []):
                    gone.add(k)
                    del state[k]
        for m in members:
            p = norm(m.name)
            d, b = posixpath.split(p)
            if b.startswith(".wh.") and b != ".wh..wh..opq":
                t = posixpath.join(d, b[4:])
                for k in [k for k in state if k == t or k.startswith(t + "/")]:
                    gone.add(k)
                    del state[k]
        listed = {}
        for m in members:
            p = norm(m.name)
            b = posixpath.basename(p)
            if b.startswith(".wh.") or not p:
                continue
            parts = p.split("/")
            for j in range(1, len(parts)):
                a = "/".join(parts[:j])
                if a not in state or state[a][0] != "d":
                    state[a] = ("d", None, None, None, 0, "")
            if not m.isdir():
                for k in [k for k in state if k.startswith(p + "/")]:
                    gone.add(k)
                    del state[k]
            state[p] = meta(m)
            listed[p] = meta(m)
        if i == upto:
            added = {p for p in state if p not in before}
            removed = {p for p in gone if p not in state}
            modified = {p for p in listed if p in before and before[p][1] is not None
                        and before[p] != listed[p]}
    return state, added, removed, modified


def children_map(paths):
    kids = {}
    for p in paths:
        kids.setdefault(posixpath.dirname(p), []).append(p)
    return kids


def preorder(paths, key=lambda p: posixpath.basename(p).encode()):
    kids = children_map(paths)
    out = []

    def walk(d):
        for c in sorted(kids.get(d, []), key=key):
            out.append(c)
            walk(c)
    walk("")
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "parse":
        return parse(sys.argv[2], int(sys.argv[3]), len(sys.argv) > 4)
    config, layers = open_image(sys.argv[2])
    if cmd == "layers":
        hist = [h for h in config.get("history", []) if not h.get("empty_layer")]
        for i, lt in enumerate(layers):
            size = sum(m.size for m in lt.getmembers() if m.isreg())
            c = hist[i].get("created_by", "") if i < len(hist) else ""
            c = re.sub(r"\s+", " ", c).strip()
            if c.startswith("/bin/sh -c #(nop)"):
                c = c[len("/bin/sh -c #(nop)"):].strip()
            elif c.startswith("/bin/sh -c "):
                c = "RUN " + c[len("/bin/sh -c "):].strip()
            print("%d|%s|%s|%s|%d" % (i, human(size), c[:24], config["rootfs"]["diff_ids"][i],
                                      len(lt.getmembers())))
        return 0
    if cmd == "total":
        print(sum(m.size for lt in layers for m in lt.getmembers() if m.isreg()))
        return 0
    if cmd == "inefficient":
        seen = {}
        for lt in layers:
            for m in lt.getmembers():
                p = norm(m.name)
                b = posixpath.basename(p)
                if m.isdir() or not p:
                    continue
                if b == ".wh..wh..opq":
                    continue
                if b.startswith(".wh."):  # dive counts a whiteout as one more copy, 0 bytes
                    p = posixpath.join(posixpath.dirname(p), b[4:])
                c, s = seen.get(p, (0, 0))
                if b.startswith(".wh."):
                    seen[p] = (c + 1, s)
                    continue
                seen[p] = (c + 1, s + (m.size if m.isreg() else 0))
        for p, (c, s) in sorted(seen.items(), key=lambda kv: (-kv[1][1], kv[0])):
            if c > 1:
                print("%d|%s|/%s" % (c, human(s), p))
        return 0
    L = int(sys.argv[3])
    state, added, removed, modified = merge(layers, L)
    if cmd == "tree":
        if sys.argv[4] == "agg":
            for p in preorder(state):
                print("/" + p)
            return 0
        allp = set(state) | removed
        changed = {}
        for p in allp:
            changed[p] = "+" if p in added else "-" if p in removed else "~" if p in modified else " "
        # a directory takes its children's colour: changed beneath -> modified
        for p in sorted(allp, key=lambda p: -p.count("/")):
            if changed[p] != " ":
                d = posixpath.dirname(p)
                while d and changed[d] == " ":
                    changed[d] = "~"
                    d = posixpath.dirname(d)
        for p in preorder(allp):
            print("%s /%s" % (changed[p], p))
        return 0
    if cmd == "sizeorder":
        size = {}
        for p, m in state.items():
            top = p.split("/")[0]
            size[top] = size.get(top, 0) + (m[4] if m[0] == "f" else 0)
        for t in sorted(size, key=lambda t: (-size[t], t.encode())):
            print(t)
        return 0
    if cmd in ("filter", "search"):
        rx = re.compile(sys.argv[4])
        hits = [p for p in preorder(state) if rx.search("/" + p)]
        if cmd == "search":
            for p in hits:
                print("/" + p)
            return 0
        keep = set()
        for p in hits:
            while p:
                keep.add(p)
                p = posixpath.dirname(p)
        for p in preorder(keep):
            print("/" + p)
        return 0
    if cmd == "content":
        want = sys.argv[4].lstrip("/")
        for m in layers[L].getmembers():
            if norm(m.name) == want:
                sys.stdout.buffer.write(layers[L].extractfile(m).read())
                return 0
        return 1
    return 2


def parse(screen, col, markers):
    """Rows of the file tree pane: '[M ]/path' per row (M only with markers)."""
    conns = ("├── ", "└── ", "├─⊕ ", "└─⊕ ", "|-- ", "`-- ", "|-+ ", "`-+ ")
    gaps = ("│   ", "    ", "|   ")
    stack = []
    out = []
    lines = open(screen, encoding="utf-8", errors="replace").read().split("\n")
    head = lines[1][col:] if len(lines) > 1 else ""
    # the attribute columns: "mode uid:gid size  " or, when narrow, "mode size  ";
    # the slim view: "mode kept/size  " or, when narrow, "kept/size  "
    if "UID:GID" in head or ("Kept/Size" in head and "Permission" in head):
        attrs = 34
    elif "Permission" in head:
        attrs = 22
    elif "Kept/Size" in head:
        attrs = 21
    else:
        attrs = 0
    if "Share" in head:  # sorted by size: " 42.0% [###     ] "
        attrs += 18
    for line in lines[2:]:
        s = line[col:]
        mark = ""
        if markers:
            mark, s = s[:1], s[2:]
        s = s[attrs:]
        i = depth = 0
        while s[i:i + 4] in gaps:
            i += 4
            depth += 1
        if s[i:i + 4] not in conns:
            continue
        name = s[i + 4:].rstrip()
        for arrow in (" → ", " ⇒ ", " -> ", " => "):
            if arrow in name:
                name = name[: name.index(arrow)]
        stack = stack[:depth] + [name]
        out.append((mark + " " if markers else "") + "/" + "/".join(stack))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
