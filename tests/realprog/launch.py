#!/usr/bin/python3
"""launch.py OCI_DIR TAG ROOT [--env K=V]... [--entrypoint PROG] [-- ARGS...]

Run an image's process as a container runtime would, in ROOT (an unpacked
rootfs): the config of OCI_DIR:TAG gives Entrypoint, Cmd, User, WorkingDir
and Env; ARGS replace Cmd (as `docker run IMAGE ARGS`), --entrypoint
replaces the Entrypoint. User names are looked up in ROOT's own
/etc/passwd and /etc/group. chroot, chdir, setgroups/setgid/setuid, then
exec through the config's PATH. Reads only the OCI layout and ROOT.
"""
import json
import os
import sys


def blob(oci, digest):
    algo, hexd = digest.split(":", 1)
    with open(os.path.join(oci, "blobs", algo, hexd)) as f:
        return json.load(f)


def image_config(oci, tag):
    with open(os.path.join(oci, "index.json")) as f:
        index = json.load(f)
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return blob(oci, blob(oci, m["digest"])["config"]["digest"]).get("config", {})
    sys.exit("launch.py: no tag %s in %s" % (tag, oci))


def lookup_user(root, user):
    """uid, gid, supplementary gids, home: as runc resolves USER."""
    name, _, group = user.partition(":")
    uid = gid = None
    home = "/"
    try:
        with open(os.path.join(root, "etc/passwd")) as f:
            for line in f:
                p = line.rstrip("\n").split(":")
                if len(p) >= 7 and (p[0] == name or p[2] == name):
                    uid, gid, home = int(p[2]), int(p[3]), p[5]
                    break
    except FileNotFoundError:
        pass
    if uid is None:
        if not name.isdigit():
            sys.exit("launch.py: unable to find user %s: no matching entries in passwd file" % name)
        uid, gid = int(name), 0
    groups = []
    try:
        with open(os.path.join(root, "etc/group")) as f:
            for line in f:
                p = line.rstrip("\n").split(":")
                if len(p) >= 4 and name in p[3].split(","):
                    groups.append(int(p[2]))
                if group and (p[0] == group or p[2] == group):
                    gid = int(p[2])
    except FileNotFoundError:
        pass
    if group and group.isdigit():
        gid = int(group)
    return uid, gid, groups, home


def main():
    argv = sys.argv[1:]
    if len(argv) < 3:
        sys.exit(__doc__)
    oci, tag, root = argv[:3]
    rest = argv[3:]
    extra_env, entry, args = [], None, None
    while rest:
        a = rest.pop(0)
        if a == "--env":
            extra_env.append(rest.pop(0))
        elif a == "--entrypoint":
            entry = [rest.pop(0)]
        elif a == "--":
            args = rest
            break
        else:
            sys.exit("launch.py: unknown option " + a)
    cfg = image_config(oci, tag)
    entry = entry if entry is not None else (cfg.get("Entrypoint") or [])
    cmd = args if args is not None else (cfg.get("Cmd") or [])
    command = entry + cmd
    if not command:
        sys.exit("launch.py: no Entrypoint or Cmd")
    uid, gid, groups, home = lookup_user(root, cfg.get("User") or "0")
    env = {}
    for kv in (cfg.get("Env") or []) + extra_env:
        k, _, v = kv.partition("=")
        env[k] = v
    env.setdefault("HOME", home)
    env.setdefault("HOSTNAME", "realprog")
    os.chroot(root)
    os.chdir(cfg.get("WorkingDir") or "/")
    os.setgroups(groups)
    os.setgid(gid)
    os.setuid(uid)
    # the PATH search by hand: after chroot, the host's python can import
    # nothing (the image under test need not have python)
    prog = command[0]
    candidates = [prog] if "/" in prog else \
        [os.path.join(d or ".", prog) for d in env.get("PATH", "/usr/bin:/bin").split(":")]
    err = "not found in PATH"
    for c in candidates:
        try:
            os.execve(c, command, env)
        except OSError as e:
            err = e.strerror
    sys.stderr.write("launch.py: exec %s: %s\n" % (prog, err))
    os._exit(127)


main()
