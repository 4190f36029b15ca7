#!/bin/bash
# reach_debian: whittle's keep set on the real Debian image of the shared
# builder (tests/build-debian-image.sh), checked against the image itself.
#
# For each entrypoint (/usr/local/bin/whtest: NSS, gconv, pthread_cancel,
# libcrypto; curl; /usr/local/bin/whtest.py: python3 with C extensions):
#   a. for every kept ELF, the libraries the image's own loader lists
#      (chroot ROOT /lib64/ld-linux-x86-64.so.2 --list FILE), each mapped
#      through its symlinks inside the rootfs, are kept, with every link on
#      the way; and what whittle kept as "needed"/"interp" is no more than
#      the union of those lists (the report names one reason per file, so
#      a library first kept by another rule, e.g. a gconv module's
#      dependency, is not counted as "needed"; per-ELF equality is beyond
#      what the report shows). Every kept path exists in the image, has a
#      rule, and has its parent directory kept.
#   b. the kept set materialized into a directory (only kept files, links
#      and directories, copied from the unpacked rootfs by tar) runs the
#      entrypoint under chroot with the same stdout and exit status as the
#      full rootfs.
#   c. a run-time rule switched off breaks the program that needs it
#      (gconv: whtest's iconv; libgcc_s: whtest's pthread_cancel; python:
#      whtest.py): the off run keeps none of the rule's files, and its
#      materialized tree fails exactly at the check that needs them (the
#      other output lines unchanged); and the on run's kept set minus only
#      what that rule brought in (its files and, through "from", what they
#      led to) fails the same way, so the rule's files are the reason.
#      nss: whtest's getpwnam("root") needs only /etc/passwd (see below).
#   d. the report's packages: size_bytes and kept_bytes of every package
#      against the image's own dpkg database read by the host's dpkg-query
#      --admindir (files from dpkg-query -L, diversions from dpkg-divert
#      --list, sizes from lstat in the rootfs).
# Expected values come from the image (its loader, its dpkg database, the
# programs' own output), never from whittle.
. "$SRCDIR/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (umoci unpack, chroot)"
need_cmd umoci chroot tar dpkg-query dpkg-divert
need_debian_image

PY=/usr/bin/python3
B=$T/bundle
umoci unpack --image "$DEBIAN_OCI:bookworm" "$B" >/dev/null 2>"$T/umoci.err" ||
	{ cat "$T/umoci.err" >&2; echo "umoci unpack failed" >&2; exit 1; }
ROOT=$B/rootfs
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Python helpers, one file, subcommands.
cat >"$T/h.py" <<'PY'
import json, os, shutil, stat, subprocess, sys

CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"

def kept_items(report):
    doc = json.load(open(report))
    return doc, doc.get("reach", {}).get("kept", [])

def resolve(root, path, follow_last=True, links=None):
    """Resolve an absolute image path inside root, as the kernel would in a
    chroot; append each symlink traversed (image path) to links."""
    parts = [p for p in path.split("/") if p]
    cur = ""
    hops = 0
    while parts:
        c = parts.pop(0)
        if c == ".":
            continue
        if c == "..":
            cur = os.path.dirname(cur) if cur else ""
            if cur == "/":
                cur = ""
            continue
        nxt = cur + "/" + c
        hp = root + nxt
        if os.path.islink(hp) and (parts or follow_last):
            hops += 1
            if hops > 40:
                raise OSError("symlink loop at " + path)
            if links is not None:
                links.append(nxt)
            t = os.readlink(hp)
            if t.startswith("/"):
                cur = ""
            parts = [p for p in t.split("/") if p] + parts
        else:
            cur = nxt
    return cur or "/"

def out(ok, desc):
    print(("ok " if ok else "FAIL ") + desc)

def cmd_kept(report, dest):
    """The kept paths, relative, sorted (for tar -T)."""
    _, kept = kept_items(report)
    paths = sorted({k["path"].lstrip("/") for k in kept if k["path"] != "/"})
    with open(dest, "w") as f:
        for p in paths:
            f.write(p + "\n")

def is_elf(hp):
    try:
        st = os.lstat(hp)
        if not stat.S_ISREG(st.st_mode):
            return False
        with open(hp, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False

def cmd_loader(root, report, label):
    doc, kept = kept_items(report)
    keptset = {k["path"] for k in kept}
    # every kept path exists, has a rule, and its parent is kept
    missing = [p for p in keptset if not os.path.lexists(root + p)]
    out(not missing, "%s: every kept path exists in the rootfs (%d kept)%s" % (label, len(keptset), "" if not missing else ": missing " + " ".join(sorted(missing)[:5])))
    norule = [k["path"] for k in kept if not k.get("rule")]
    out(not norule, "%s: every kept path has a rule%s" % (label, "" if not norule else ": " + " ".join(norule[:5])))
    orphans = [p for p in keptset if p != "/" and os.path.dirname(p) not in keptset]
    out(not orphans, "%s: every kept path's parent directory is kept%s" % (label, "" if not orphans else ": " + " ".join(sorted(orphans)[:5])))

    elfs = sorted(p for p in keptset if is_elf(root + p))
    listed = {}     # canonical lib path -> set of ELFs that need it
    link_miss = set()
    not_found = []
    for e in elfs:
        r = subprocess.run([CHROOT, root, "/lib64/ld-linux-x86-64.so.2", "--list", e],
                           capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
        if "statically linked" in r.stdout or "not a dynamic executable" in r.stdout + r.stderr:
            continue
        for line in r.stdout.splitlines():
            line = line.strip()
            if "=> not found" in line:
                not_found.append("%s: %s" % (e, line))
                continue
            if "=>" in line:
                p = line.split("=>", 1)[1].strip().rsplit(" (", 1)[0].strip()
            elif line.startswith("/"):
                p = line.rsplit(" (", 1)[0].strip()
            else:
                continue  # linux-vdso.so.1
            if not p:
                continue
            links = []
            canon = resolve(root, p, True, links)
            listed.setdefault(canon, set()).add(e)
            for l in links:
                if l not in keptset:
                    link_miss.add("%s (on the way to %s, for %s)" % (l, p, e))
    out(not not_found, "%s: the image's loader finds every library of the %d kept ELF files%s" % (label, len(elfs), "" if not not_found else ": " + "; ".join(not_found[:5])))
    absent = sorted(p for p in listed if p not in keptset)
    out(not absent, "%s: every library the loader lists (%d, through symlinks) is kept%s" % (
        label, len(listed), "" if not absent else ": not kept: " + "; ".join("%s (for %s)" % (p, ", ".join(sorted(listed[p])[:2])) for p in absent[:8])))
    out(not link_miss, "%s: every symlink on the loader's paths is kept%s" % (label, "" if not link_miss else ": " + "; ".join(sorted(link_miss)[:5])))
    # what whittle resolved as needed/interp: no more than what the loader lists
    resolved = set()
    for k in kept:
        if k.get("rule") in ("needed", "interp"):
            try:
                c = resolve(root, k["path"], True)
            except OSError:
                continue
            if is_elf(root + c):
                resolved.add(c)
    extra = sorted(resolved - set(listed))
    out(not extra, "%s: every library whittle kept as needed/interp (%d) is one the loader lists (%d)%s" % (
        label, len(resolved), len(listed), "" if not extra else ": whittle alone keeps " + " ".join(extra[:8])))

def cmd_rulefiles(report, rule, kept_list, dest, *extra):
    """The kept list minus what a rule kept: its files and, transitively,
    every file kept because of one of them (its "from" is one), and any
    extra paths given."""
    _, kept = kept_items(report)
    drop = {k["path"] for k in kept if k.get("rule") == rule}
    drop |= set(extra)
    while True:
        more = {k["path"] for k in kept if k.get("from") in drop and k["path"] not in drop}
        if not more:
            break
        drop |= more
    drop = {p.lstrip("/") for p in drop}
    with open(kept_list) as f, open(dest, "w") as o:
        for l in f:
            if l.rstrip("\n") not in drop:
                o.write(l)
    print(len(drop))

def cmd_rulekept(report, path):
    """The rule that kept path, or "-"."""
    _, kept = kept_items(report)
    print(next((k["rule"] for k in kept if k["path"] == path), "-"))

def cmd_rulecount(report, rule):
    _, kept = kept_items(report)
    print(sum(1 for k in kept if k.get("rule") == rule))

def cmd_packages(root, report, label):
    doc, kept = kept_items(report)
    keptset = {k["path"] for k in kept}
    pkgs = doc["reach"].get("packages")
    if pkgs is None:
        out(False, "%s: the report has reach.packages" % label)
        return
    admin = root + "/var/lib/dpkg"
    q = subprocess.run(["dpkg-query", "--admindir=" + admin, "-W", "-f", "${Package}\n"],
                       capture_output=True, text=True, check=True).stdout.split()
    divs = {}
    d = subprocess.run(["dpkg-divert", "--admindir=" + admin, "--list"], capture_output=True, text=True, check=True).stdout
    for line in d.splitlines():
        # "diversion of /bin/sh to /bin/sh.distrib by dash" / "local diversion of A to B"
        w = line.split()
        if "of" in w and "to" in w:
            frm = w[w.index("of") + 1]
            to = w[w.index("to") + 1]
            by = w[w.index("by") + 1] if "by" in w else None
            divs[frm] = (to, by)
    want = {}
    for name in q:
        r = subprocess.run(["dpkg-query", "--admindir=" + admin, "-L", name], capture_output=True, text=True)
        seen = set()
        inodes = {}
        size = keptb = 0
        for p in r.stdout.splitlines():
            if not p.startswith("/") or p == "/.":
                continue
            if p in divs and divs[p][1] != name:
                p = divs[p][0]
            try:
                canon = resolve(root, p, False)
            except OSError:
                continue
            if canon in seen:
                continue
            seen.add(canon)
            try:
                st = os.lstat(root + canon)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                # hard links: one copy (DESIGN: a hard link counts 0)
                ino = (st.st_dev, st.st_ino)
                if ino in inodes:
                    if canon in keptset and not inodes[ino]:
                        inodes[ino] = True
                        keptb += st.st_size
                    continue
                inodes[ino] = canon in keptset
                size += st.st_size
                if canon in keptset:
                    keptb += st.st_size
        want[name] = (size, keptb)
    if os.environ.get("WH_DUMP_PACKAGES"):
        json.dump(want, open(os.environ["WH_DUMP_PACKAGES"], "w"), sort_keys=True)
    got = {p["name"]: (p["size_bytes"], p["kept_bytes"]) for p in pkgs}
    bad = ["%s: got %s want %s" % (n, got.get(n), want.get(n)) for n in sorted(set(got) | set(w for w in want if want[w][0] > 0))
           if got.get(n, (0, 0)) != want.get(n, (0, 0))]
    out(not bad, "%s: reach.packages (%d) size_bytes and kept_bytes agree with dpkg-query --admindir on the image (%d packages)%s" % (
        label, len(got), len(want), "" if not bad else ": " + "; ".join(bad[:6])))

if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
    if sys.argv[1] in ("loader", "packages"):
        print("done")  # the verdicts are complete
PY

# Feed the helper's "ok ..."/"FAIL ..." lines into the test's counters.
verdicts() {
	local st desc done=
	while IFS= read -r line; do
		[ "$line" = done ] && { done=1; continue; }
		st=${line%% *}
		desc=${line#* }
		case $st in
		ok) ok "$desc" ;;
		FAIL) bad "$desc" ;;
		*) echo "$line" ;;
		esac
	done
	[ -n "$done" ] || bad "the check helper stopped before its end (see the traceback above)"
}

# whittle_report NAME ARGS...: $T/NAME.json and $T/NAME.kept (relative, sorted)
whittle_report() {
	local name=$1
	shift
	local rc=0
	"$WHITTLE" --report "$T/$name.json" --report-files "$@" "$DEBIAN_REF" 2>"$T/$name.err" || rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$T/$name.json" ]; then
		bad "whittle --report --report-files $* exits $rc: $(head -c 400 "$T/$name.err")"
		return 1
	fi
	if ! $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if "kept" in d.get("reach", {}) else 1)' "$T/$name.json"; then
		bad "$name: the report has no reach.kept (--report-files)"
		return 1
	fi
	check "$name: report valid against the schema" validate_report "$T/$name.json"
	$PY "$T/h.py" kept "$T/$name.json" "$T/$name.kept"
	touch "$T/$name.good"
}

# materialize LIST DIR: only the listed paths, copied from the rootfs
materialize() {
	rm -rf "$2"
	mkdir -p "$2"
	tar -C "$ROOT" --no-recursion -cf - -T "$1" | tar -C "$2" -xpf -
}

# same_run NAME DIR CMD...: the command in DIR and in the full rootfs agree
same_run() {
	local label=$1 dir=$2 name=${1//[^A-Za-z0-9_.-]/_}
	shift 2
	chroot_run "$ROOT" "$name.full" "$@"
	chroot_run "$dir" "$name.slim" "$@"
	if [ "$(cat "$T/$name.full.rc")" != 0 ]; then
		bad "$label: $* fails in the full rootfs (exit $(cat "$T/$name.full.rc")): $(head -c 300 "$T/$name.full.stderr")"
		return
	fi
	if cmp -s "$T/$name.full.out" "$T/$name.slim.out" && [ "$(cat "$T/$name.slim.rc")" = 0 ]; then
		ok "$label: $* in the kept set: same output as the full image ($(wc -l <"$T/$name.full.out") lines), exit 0"
	else
		bad "$label: $* in the kept set: exit $(cat "$T/$name.slim.rc"), stderr: $(head -c 300 "$T/$name.slim.stderr"); diff: $(diff "$T/$name.full.out" "$T/$name.slim.out" | head -8 | tr '\n' '|')"
	fi
}

# --- a, b, d: per entrypoint ------------------------------------------------
declare -A ENTRY=([whtest]=/usr/local/bin/whtest [curl]=curl [whtestpy]=/usr/local/bin/whtest.py)
for name in whtest curl whtestpy; do
	whittle_report "$name" --entrypoint "${ENTRY[$name]}" || continue
	verdicts < <($PY "$T/h.py" loader "$ROOT" "$T/$name.json" "$name")
	materialize "$T/$name.kept" "$T/m-$name"
	case $name in
	whtest) same_run whtest "$T/m-$name" /usr/local/bin/whtest ;;
	curl)
		same_run curl-version "$T/m-$name" curl --version
		same_run curl-file "$T/m-$name" curl -sS file:///etc/os-release
		;;
	whtestpy) same_run whtestpy "$T/m-$name" /usr/local/bin/whtest.py ;;
	esac
done
if [ -e "$T/whtest.good" ]; then
	verdicts < <($PY "$T/h.py" packages "$ROOT" "$T/whtest.json" whtest)
fi

# --- c: a rule switched off breaks what needs it ------------------------------
# rule_off NAME ON_REPORT RULE CHECKER CMD...: CHECKER DESC RUN judges a run
rule_off() {
	local name=$1 on=$2 rule=$3 checker=$4
	shift 4
	[ -e "$T/$on.good" ] || { bad "$rule=off: no report of the on run"; return; }
	local n_on
	n_on=$($PY "$T/h.py" rulecount "$T/$on.json" "$rule")
	if [ "$n_on" -eq 0 ]; then
		bad "$rule: the on run keeps no file by rule $rule"
		return
	fi
	whittle_report "$name" --entrypoint "${ENTRY[$on]}" --rule "$rule=off" || return
	eq "$rule=off: files kept by rule $rule (the on run: $n_on)" "$($PY "$T/h.py" rulecount "$T/$name.json" "$rule")" 0
	materialize "$T/$name.kept" "$T/m-$name"
	chroot_run "$T/m-$name" "$name.run" "$@"
	$checker "$rule=off" "$name.run"
	# the on run's set minus only what the rule brought in
	local n
	n=$($PY "$T/h.py" rulefiles "$T/$on.json" "$rule" "$T/$on.kept" "$T/$name.minus")
	materialize "$T/$name.minus" "$T/m-$name-minus"
	chroot_run "$T/m-$name-minus" "$name.minus" "$@"
	$checker "the on run minus the $n paths rule $rule brought in" "$name.minus"
}

# whtest's output with one line failing, the others as in the full image
whtest_fails_at() {
	local what=$1 desc=$2 run=$3
	local full=$T/whtest.full.out
	[ -s "$full" ] || { bad "$desc: no full-image output of whtest"; return; }
	local rc
	rc=$(cat "$T/$run.rc")
	if [ "$rc" = 0 ] || ! grep -q "^$what: FAILED" "$T/$run.out"; then
		bad "$desc: whtest exit $rc, want a failing \"$what\" line; got: $(tr '\n' '|' <"$T/$run.out" | head -c 300)"
		return
	fi
	# every other line as in the full image (the summary line aside)
	if diff <(grep -v -e "^$what:" -e '^whtest:' "$full") <(grep -v -e "^$what:" -e '^whtest:' "$T/$run.out") >/dev/null; then
		ok "$desc: whtest fails at $what only (exit $rc), the other checks as in the full image"
	else
		bad "$desc: whtest differs beyond $what: $(diff "$full" "$T/$run.out" | head -8 | tr '\n' '|')"
	fi
}
gconv_check() { whtest_fails_at iconv "$@"; }
nss_check() { whtest_fails_at getpwnam "$@"; }
libgcc_check() {
	local desc=$1 run=$2 rc
	rc=$(cat "$T/$run.rc")
	if [ "$rc" != 0 ] && grep -q "libgcc_s.so.1 must be installed for pthread_cancel" "$T/$run.stderr"; then
		ok "$desc: whtest aborts (exit $rc): $(grep -m1 libgcc_s "$T/$run.stderr")"
	else
		bad "$desc: whtest exit $rc, want glibc's libgcc_s abort; stderr: $(head -c 300 "$T/$run.stderr")"
	fi
}
python_check() {
	local desc=$1 run=$2 rc
	rc=$(cat "$T/$run.rc")
	if [ "$rc" != 0 ] && ! grep -q '^whtest.py: ok' "$T/$run.out"; then
		ok "$desc: whtest.py fails (exit $rc): $(grep -v '^ *$' "$T/$run.stderr" | tail -1 | head -c 160)"
	else
		bad "$desc: whtest.py exit $rc, output: $(tr '\n' '|' <"$T/$run.out" | head -c 300)"
	fi
}

rule_off off-gconv whtest gconv gconv_check /usr/local/bin/whtest
rule_off off-libgcc whtest libgcc_s libgcc_check /usr/local/bin/whtest
rule_off off-python whtestpy python python_check /usr/local/bin/whtest.py

# nss: getpwnam("root") needs /etc/passwd and nothing else of NSS on
# glibc >= 2.34 (nss_files is built into libc, and without
# /etc/nsswitch.conf "files" is the default). So with nss=off whtest runs
# exactly when /etc/passwd is still kept by another rule (the user rule may
# keep it), and fails at getpwnam when it is not; and the on run's set minus
# what nss brought in and /etc/passwd fails at getpwnam.
if [ -e "$T/whtest.good" ]; then
	whittle_report off-nss --entrypoint /usr/local/bin/whtest --rule nss=off && {
		eq "nss=off: files kept by rule nss (the on run: $($PY "$T/h.py" rulecount "$T/whtest.json" nss))" \
			"$($PY "$T/h.py" rulecount "$T/off-nss.json" nss)" 0
		materialize "$T/off-nss.kept" "$T/m-off-nss"
		rk=$($PY "$T/h.py" rulekept "$T/off-nss.json" /etc/passwd)
		if [ "$rk" = "-" ]; then
			chroot_run "$T/m-off-nss" off-nss.run /usr/local/bin/whtest
			nss_check "nss=off (/etc/passwd not kept)" off-nss.run
		else
			same_run "nss=off (/etc/passwd kept by rule $rk)" "$T/m-off-nss" /usr/local/bin/whtest
		fi
		n=$($PY "$T/h.py" rulefiles "$T/whtest.json" nss "$T/whtest.kept" "$T/nss.minus" /etc/passwd)
		materialize "$T/nss.minus" "$T/m-nss-minus"
		chroot_run "$T/m-nss-minus" nss.minus /usr/local/bin/whtest
		nss_check "the on run minus what nss brought in and /etc/passwd ($n paths)" nss.minus
	}
fi

finish
