#!/usr/bin/python3
"""enoent.py ORIG_ROOT STRACE_LOG...: the paths the traced run could not
find (ENOENT) that exist in ORIG_ROOT, one a line, sorted.

The logs are strace -ff's, one a process: in the one that holds the
launcher's chroot(2), only what follows it counts (before it, the host's
python starts). Paths resolve inside ORIG_ROOT, its symlinks followed
within it; relative paths are left out.
"""
import os
import re
import sys

CALL = re.compile(r'^(?:\d+\s+)?(\w+)\((?:AT_FDCWD, |-?\d+, )?"([^"]*)".*= -1 ENOENT')


def exists_in(root, path):
    parts = [p for p in path.split("/") if p and p != "."]
    cur = []
    hops = 0
    while parts:
        name = parts.pop(0)
        if name == "..":
            if cur:
                cur.pop()
            continue
        full = os.path.join(root, *cur, name)
        if os.path.islink(full):
            hops += 1
            if hops > 40:
                return False
            target = os.readlink(full)
            if target.startswith("/"):
                cur = []
            parts = [p for p in target.split("/") if p and p != "."] + parts
            continue
        if not os.path.lexists(full):
            return False
        cur.append(name)
    return True


def main():
    root = sys.argv[1]
    found = set()
    for log in sys.argv[2:]:
        with open(log, errors="replace") as f:
            started = 'chroot("' not in f.read()
        with open(log, errors="replace") as f:
            for line in f:
                if not started:
                    started = re.search(r'\bchroot\("[^"]*"\) = 0', line) is not None
                    continue
                m = CALL.match(line)
                if m and m.group(2).startswith("/") and exists_in(root, m.group(2)):
                    found.add(m.group(2))
    for p in sorted(found):
        print(p)


main()
