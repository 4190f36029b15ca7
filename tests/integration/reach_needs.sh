#!/bin/bash
# reach_needs: needs that static analysis missed (issue 11), each shown on
# an image this test builds and runs under chroot before and after
# `whittle --auto`:
#  1. a library found only through /etc/ld.so.cache: it lives in a
#     directory that only /etc/ld.so.conf.d names, and the cache is written
#     by a real `ldconfig -r`; ld.so(8) searches no such directory without
#     the cache, so the slimmed program must keep it (else exit 127);
#  2. a program that calls system(3), which runs "/bin/sh -c" (POSIX names
#     the path): /bin is a merged-/usr link, /usr/bin/sh links to the shell;
#  3. --keep-exe sh keeps /bin/sh, not only /usr/bin/sh;
#  4. a program that dlopens a name it builds at run time from a directory
#     it names is uncertain (reach.uncertain, its hint the directory):
#     --fail-on-unresolved exits 1, --keep of the hint clears it and the
#     slimmed program loads its plugin.
#  5. a python script that imports a module by a computed name
#     (importlib.import_module(name)) is uncertain when the python rule is
#     off: --fail-on-unresolved exits 1, --keep of its interpreter's library
#     clears it; a literal import is not, and with the rule on the library
#     is kept whole and nothing is uncertain. (The "interpreter" is gcc's
#     prog under python's name: nothing runs it.)
# The image holds the toolchain's own C library and loader (the files gcc
# links the test programs against) and programs gcc builds here; the
# expected outputs are the programs' own, from their source below.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (chroot)"
need_cmd gcc ldconfig umoci chroot readelf python3
: "${MKIMAGE:?}"
cd "$T"

R=$T/root
mkdir -p "$R/usr/bin" "$R/usr/lib/x86_64-linux-gnu" "$R/usr/lib64" "$R/etc/ld.so.conf.d" "$R/opt/foo/lib" "$R/tmp"
ln -s usr/bin "$R/bin"
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"

cat >foo.c <<'EOF'
int foo(void) { return 42; }
EOF
cat >prog.c <<'EOF'
#include <stdio.h>
int foo(void);
int main(void) { printf("foo=%d\n", foo()); return 0; }
EOF
cat >shprog.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
int main(void) { int rc = system("echo via-system"); printf("rc=%d\n", rc); return rc != 0; }
EOF
# the shell: enough of sh -c for system(): prints the command it was given
cat >minish.c <<'EOF'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
	if (argc >= 3 && !strcmp(argv[1], "-c")) { printf("sh -c %s\n", argv[2]); return 0; }
	return 2;
}
EOF
gcc -shared -fPIC -Wl,-soname,libfoo.so.1 foo.c -o "$R/opt/foo/lib/libfoo.so.1" &&
	gcc prog.c -L"$R/opt/foo/lib" -l:libfoo.so.1 -o "$R/usr/bin/prog" &&
	gcc shprog.c -o "$R/usr/bin/shprog" &&
	gcc minish.c -o "$R/usr/bin/dash" || { bad "gcc failed"; finish; exit 1; }
ln -s dash "$R/usr/bin/sh"
mkdir -p "$R/usr/lib/whplug"
# two plugins: a probe that loads hello leaves other unkept (still uncertain, settled by the probe)
gcc -shared -fPIC "$SRCDIR/tests/integration/plug.c" -o "$R/usr/lib/whplug/hello.so" && gcc -shared -fPIC "$SRCDIR/tests/integration/plug.c" -o "$R/usr/lib/whplug/other.so" &&
	gcc "$SRCDIR/tests/integration/plugprog.c" -o "$R/usr/bin/plugprog" ||
	{ bad "gcc failed (plugin)"; finish; exit 1; }
libc=$(gcc -print-file-name=libc.so.6)
interp=$(readelf -l "$R/usr/bin/prog" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
[ -f "$libc" ] && [ -n "$interp" ] && [ -e "$interp" ] || { bad "no C library ($libc) or loader ($interp)"; finish; exit 1; }
cp -L "$libc" "$R/usr/lib/x86_64-linux-gnu/libc.so.6"
cp -L "$interp" "$R/usr/lib/x86_64-linux-gnu/$(basename "$interp")"
ln -s "../lib/x86_64-linux-gnu/$(basename "$interp")" "$R/usr/lib64/$(basename "$interp")"
printf 'include /etc/ld.so.conf.d/*.conf\n' >"$R/etc/ld.so.conf"
printf '/opt/foo/lib\n' >"$R/etc/ld.so.conf.d/foo.conf"
ldconfig -r "$R" || { bad "ldconfig -r failed"; finish; exit 1; }
mkdir -p "$R/usr/lib/python3.11" "$R/app"
cp "$R/usr/bin/prog" "$R/usr/bin/python3.11"
echo '# os' >"$R/usr/lib/python3.11/os.py"
printf '#!/usr/bin/python3.11\nimport importlib, sys\nm = importlib.import_module(sys.argv[1])\n' >"$R/app/dyn.py"
printf '#!/usr/bin/python3.11\nimport importlib\nm = importlib.import_module("os")\n' >"$R/app/lit.py"
chmod 0755 "$R/app/dyn.py" "$R/app/lit.py"
grep -q /opt/foo/lib/libfoo.so.1 "$R/etc/ld.so.cache" || bad "ldconfig's cache names /opt/foo/lib/libfoo.so.1"

# the image: a SPEC listing the tree
spec_of_tree "$R" "gcc's programs and the toolchain's C library; ldconfig -r" >spec
"$MKIMAGE" --format oci-archive --entrypoint '["/usr/bin/prog"]' spec img.tar >/dev/null ||
	{ bad "mkimage failed"; finish; exit 1; }

chroot_run "$R" orig-prog /usr/bin/prog
eq "the built image runs prog" "$(cat "$T/orig-prog.rc"):$(cat "$T/orig-prog.out")" "0:foo=42"
chroot_run "$R" orig-shprog /usr/bin/shprog
eq "the built image runs shprog" "$(cat "$T/orig-shprog.rc"):$(tr '\n' ' ' <"$T/orig-shprog.out")" \
	"0:sh -c echo via-system rc=0 "

# slim NAME ARGS...: --auto into oci:$T/out-NAME:slim, unpacked to $T/b-NAME
slim() {
	local name=$1 rc=0
	shift
	"$WHITTLE" --auto -q -o "oci:$T/out-$name:slim" "$@" img.tar >"$T/$name.auto.out" 2>"$T/$name.auto.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		bad "$name: whittle --auto $* exits $rc: $(head -c 400 "$T/$name.auto.err")"
		return 1
	fi
	umoci unpack --image "$T/out-$name:slim" "$T/b-$name" >/dev/null 2>"$T/umoci.err" ||
		{ bad "$name: umoci unpack: $(head -c 400 "$T/umoci.err")"; return 1; }
}

# 1. the library found only through the cache
if slim cache; then
	S=$T/b-cache/rootfs
	check "cache: /etc/ld.so.cache kept" test -f "$S/etc/ld.so.cache"
	check "cache: libfoo kept" test -f "$S/opt/foo/lib/libfoo.so.1"
	chroot_run "$S" slim-prog /usr/bin/prog
	eq "cache: the slimmed prog runs" "$(cat "$T/slim-prog.rc"):$(cat "$T/slim-prog.out")" "0:foo=42"
	[ "$(cat "$T/slim-prog.rc")" = 0 ] || echo "  stderr: $(head -c 300 "$T/slim-prog.stderr")" >&2
	"$WHITTLE" --why /etc/ld.so.cache img.tar >"$T/why.out" 2>&1 || true
	check "cache: --why says kept, through libfoo" grep -q "^  /etc/ld.so.cache .*ld-cache .*<- /opt/foo/lib/libfoo.so.1" "$T/why.out"
fi

# 2. system(3) needs /bin/sh as written
if slim system --entrypoint /usr/bin/shprog; then
	S=$T/b-system/rootfs
	check "system: /bin is the merged-/usr link" test "$(readlink "$S/bin")" = usr/bin
	check "system: /usr/bin/sh links to dash" test "$(readlink "$S/usr/bin/sh")" = dash
	check "system: dash kept" test -f "$S/usr/bin/dash"
	chroot_run "$S" slim-shprog /usr/bin/shprog
	eq "system: the slimmed shprog runs its command" \
		"$(cat "$T/slim-shprog.rc"):$(tr '\n' ' ' <"$T/slim-shprog.out")" "0:sh -c echo via-system rc=0 "
fi

# 3. --keep-exe sh: /bin/sh too
if slim keepexe --keep-exe sh; then
	S=$T/b-keepexe/rootfs
	check "keep-exe sh: /bin/sh resolves in the output" test -x "$S/bin/sh"
	chroot_run "$S" slim-binsh /bin/sh -c x
	eq "keep-exe sh: /bin/sh runs" "$(cat "$T/slim-binsh.rc"):$(cat "$T/slim-binsh.out")" "0:sh -c x"
fi

# 4. dlopen of a computed name: uncertain until its hint is kept
rc=0
"$WHITTLE" --auto -q --fail-on-unresolved --entrypoint /usr/bin/plugprog --report "$T/unc.json" \
	-o "oci:$T/out-unc:slim" img.tar >"$T/unc.out" 2>"$T/unc.err" || rc=$?
eq "dlopen: --fail-on-unresolved exits 1" "$rc" 1
eq "dlopen: reach.uncertain names plugprog, hint the plugin directory" \
	"$(python3 -c 'import json,sys; print([[u["path"], u["hint"]] for u in json.load(open(sys.argv[1]))["reach"]["uncertain"]])' "$T/unc.json")" \
	"[['/usr/bin/plugprog', ['/usr/lib/whplug']]]"
eq "dlopen: the plugin is not an unneeded library" \
	"$(python3 -c 'import json,sys; print([l["path"] for l in json.load(open(sys.argv[1]))["reach"]["unneeded_libraries"] if "whplug" in l["path"]])' "$T/unc.json")" "[]"
if slim unc-keep --fail-on-unresolved --entrypoint /usr/bin/plugprog --keep /usr/lib/whplug; then
	chroot_run "$T/b-unc-keep/rootfs" slim-plug /usr/bin/plugprog
	eq "dlopen: with --keep of the hint the slimmed program loads its plugin" \
		"$(cat "$T/slim-plug.rc"):$(cat "$T/slim-plug.out")" "0:plug=7"
fi

# 4b. a probe that runs the program and passes settles its entry (issue 14:
# "a probe that passes clears the uncertain entries of the programs it
# ran"); one that fails does not
if command -v bwrap >/dev/null; then
	rc=0
	"$WHITTLE" --auto --fail-on-unresolved --entrypoint /usr/bin/plugprog --probe '/usr/bin/plugprog hello' \
		--report "$T/settled.json" -o "oci:$T/out-settled:slim" img.tar >"$T/settled.out" 2>"$T/settled.err" || rc=$?
	eq "dlopen: a passing probe of plugprog: --fail-on-unresolved exits 0" "$rc" 0
	[ "$rc" = 0 ] || echo "  stderr: $(head -c 400 "$T/settled.err")" >&2
	eq "dlopen: its entry moved from reach.uncertain to reach.settled_by_probe, naming the probe" \
		"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["reach"]; print(r["uncertain"], [[u["path"], u["probe"]] for u in r["settled_by_probe"]])' "$T/settled.json")" \
		"[] [['/usr/bin/plugprog', 'probe: /usr/bin/plugprog hello']]"
	eq "dlopen: settled, the plugin directory's libraries are still not unneeded" \
		"$(python3 -c 'import json,sys; print([l["path"] for l in json.load(open(sys.argv[1]))["reach"]["unneeded_libraries"] if "whplug" in l["path"]])' "$T/settled.json")" "[]"
	rc=0
	"$WHITTLE" --auto -q --dry-run --fail-on-unresolved --entrypoint /usr/bin/plugprog --probe '/usr/bin/plugprog nosuch' \
		--report "$T/unsettled.json" img.tar >"$T/unsettled.out" 2>"$T/unsettled.err" || rc=$?
	eq "dlopen: a failing probe (exit 1) settles nothing: --fail-on-unresolved exits 1" "$rc" 1
	eq "dlopen: still uncertain, nothing settled" \
		"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["reach"]; print([u["path"] for u in r["uncertain"]], r["settled_by_probe"])' "$T/unsettled.json")" \
		"['/usr/bin/plugprog'] []"
	check "dlopen: the summary says the passing probe settled it" \
		grep -qF "settled (not uncertain): /usr/bin/plugprog, run by the passing probe: /usr/bin/plugprog hello" "$T/settled.out"
elif [ "${CI:-}" = true ]; then
	bad "bwrap is missing (a probe settles an uncertain entry)"
fi

# 5. python's dynamic import
pyunc() { # NAME ARGS...: exit status, then the report's uncertain [path, first hint]
	local name=$1 rc=0
	shift
	"$WHITTLE" --auto -q --dry-run --fail-on-unresolved --report "$T/$name.json" "$@" img.tar \
		>"$T/$name.out" 2>"$T/$name.err" || rc=$?
	echo "$rc $(python3 -c 'import json,sys; print([[u["path"], u["hint"][0]] for u in json.load(open(sys.argv[1]))["reach"]["uncertain"]])' "$T/$name.json")"
}
eq "import: computed name, python rule off: uncertain, --fail-on-unresolved exits 1" \
	"$(pyunc dyn-off --entrypoint /app/dyn.py --rule python=off)" "1 [['/app/dyn.py', '/usr/lib/python3.11']]"
check "import: the reason names the line" grep -q "imports a module by a computed name at line 3" "$T/dyn-off.json"
"$WHITTLE" --auto --dry-run --entrypoint /app/dyn.py --rule python=off img.tar >"$T/dyn-sum.out" 2>&1 || true
check "import: the summary names every directory of the hint" \
	grep -q "^    settled by keeping: --keep /usr/lib/python3.11 --keep /app$" "$T/dyn-sum.out"
eq "import: --keep of the interpreter's library and the script's directory clears it" \
	"$(pyunc dyn-keep --entrypoint /app/dyn.py --rule python=off --keep /usr/lib/python3.11 --keep /app)" "0 []"
eq "import: a literal name is not uncertain" "$(pyunc lit-off --entrypoint /app/lit.py --rule python=off)" "0 []"
eq "import: with the python rule on its library is kept whole: settled" \
	"$(pyunc dyn-on --entrypoint /app/dyn.py --keep /app)" "0 []"

finish
