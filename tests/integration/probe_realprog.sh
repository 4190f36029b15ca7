#!/bin/bash
# Probes on the real-program suite's image for what static analysis cannot
# see. The suite's image (tests/build-realprog-image.sh) is not changed: this
# test links its layout and adds one layer of its own to the apache2 tag
# (oci_addlayer.py writes new blobs and a new index.json only), holding
# - /opt/whapp/run.py, which reads /etc/whapp/whapp.conf, imports a module
#   by a computed name (/opt/whapp/lib/greeting.py) and loads, with ctypes
#   (dlopen), the native plugin its configuration names
#   (/opt/whapp/plugins/libwhsum.so, built here by gcc without libc);
# - /usr/lib/cgi-bin/note.cgi, a CGI that apache2 (the tag's own
#   entrypoint) runs and that reads /srv/whapp/notes/NAME.txt only when a
#   request names it.
# The scenario (run under `unshare --net --mount --pid --fork`, on an
# overlay of the suite's unpacked rootfs and the layer for the original, on
# the output unpacked by umoci for a slimmed image): run.py under chroot
# (stdout and exit status), then apache2 started as the image starts it
# (tests/realprog/launch.py) and a GET of /cgi-bin/note.cgi?hello.
# - plain --auto (--keep /opt/whapp/run.py, in both runs): run.py fails
#   with python's error and apache2 answers "no note hello";
# - with --probe /opt/whapp/run.py --probe-entrypoint --probe-http
#   '80/cgi-bin/note.cgi?hello': the scenario's transcript is the
#   original's, the proof passed, and the report's added_by_probe lists the
#   configuration, the module and the plugin (run.py's probe) and the note
#   (the service's: apache2's CGI read it).
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/realprog/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (unshare, mount, chroot, umoci unpack)"
need_cmd bwrap umoci unshare ip curl chroot mount gcc readelf /usr/bin/python3
need_realprog_image
mkdir -p "$T/tmp" "$T/add/opt/whapp/lib" "$T/add/opt/whapp/plugins" "$T/add/etc/whapp" \
	"$T/add/usr/lib/cgi-bin" "$T/add/srv/whapp/notes"
export TMPDIR="$T/tmp"
cleanup() { rm -rf --one-file-system "$T"; }
trap cleanup EXIT

cat >"$T/add/opt/whapp/run.py" <<'PY'
#!/usr/bin/python3
# reads its configuration; greets through a module imported by a computed
# name; loads the native plugin the configuration names (ctypes: dlopen)
import ctypes, importlib, sys
conf = dict(l.strip().split("=", 1) for l in open("/etc/whapp/whapp.conf") if "=" in l)
sys.path.insert(0, "/opt/whapp/lib")
greeter = importlib.import_module("".join(["gree", "ting"]))
print(greeter.greet(conf["name"]))
plugin = ctypes.CDLL("/opt/whapp/plugins/" + conf["plugin"])
print("plugin sum", plugin.whsum(40, 2))
PY
printf 'def greet(name):\n    return "hello, %%s" %% name\n' >"$T/add/opt/whapp/lib/greeting.py"
printf 'name=whittle\nplugin=libwhsum.so\n' >"$T/add/etc/whapp/whapp.conf"
printf 'int whsum(int a, int b) { return a + b; }\n' >"$T/whsum.c"
gcc -shared -fPIC -nostdlib -O2 -o "$T/add/opt/whapp/plugins/libwhsum.so" "$T/whsum.c"
check "the plugin needs no library" bash -c "! readelf -d '$T/add/opt/whapp/plugins/libwhsum.so' | grep -q NEEDED"
cat >"$T/add/usr/lib/cgi-bin/note.cgi" <<'SH'
#!/bin/sh
# a note, read only when a request names it (the file's name is computed)
echo "Content-Type: text/plain"
echo
f="/srv/whapp/notes/$QUERY_STRING.txt"
if [ -r "$f" ]; then cat "$f"; else echo "no note $QUERY_STRING"; fi
SH
chmod 755 "$T/add/opt/whapp/run.py" "$T/add/usr/lib/cgi-bin/note.cgi"
echo "the note of the day, test $$" >"$T/add/srv/whapp/notes/hello.txt"
# the suite's blobs linked (never written: oci_addlayer.py writes new files only)
cp -al "$RP_IMG/oci" "$T/oci"
/usr/bin/python3 "$SRCDIR/tests/integration/oci_addlayer.py" "$T/oci" apache2 "$T/add" '["apache2-foreground"]' '[]'
REF="oci:$T/oci:apache2"

# the scenario, run inside `unshare --net --mount --pid --fork`: ROOT LOWER OUT
# (ROOT "overlay": the original, an overlay of LOWER's directories)
cat >"$T/scenario.sh" <<'SH'
set -u
root=$1 lower=$2 out=$3 oci=$4 tag=$5 launch=$6
ip link set lo up
if [ "$root" = overlay ]; then
	mkdir -p "$out.upper" "$out.work" "$out.merged"
	mount -t overlay overlay -o "lowerdir=$lower,upperdir=$out.upper,workdir=$out.work" "$out.merged"
	root=$out.merged
fi
mkdir -p "$root/proc" "$root/dev"
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=0755 tmpfs "$root/dev"
for d in null:3 zero:5 random:8 urandom:9; do mknod -m 0666 "$root/dev/${d%:*}" c 1 "${d#*:}"; done
{
	echo "## run.py"
	rc=0
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin timeout 60 chroot "$root" \
		/opt/whapp/run.py 2>"$out.stderr" || rc=$?
	echo "## exit $rc"
} >"$out.transcript"
/usr/bin/python3 "$launch" "$oci" "$tag" "$root" </dev/null >"$out.server.log" 2>&1 &
for _ in $(seq 150); do curl -s -o /dev/null http://127.0.0.1/ && break; sleep 0.2; done
{
	echo "## GET /cgi-bin/note.cgi?hello"
	curl -sS --max-time 20 -w '## status %{http_code}\n' 'http://127.0.0.1/cgi-bin/note.cgi?hello' 2>&1 || echo "## curl failed"
} >>"$out.transcript"
SH
# scenario NAME ROOT OCI TAG: the scenario's transcript into $T/NAME.transcript
scenario() {
	timeout 300 unshare --net --mount --pid --fork --kill-child bash "$T/scenario.sh" "$2" \
		"$T/add:$RP_IMG/rootfs" "$T/$1" "$3" "$4" "$SRCDIR/tests/realprog/launch.py" \
		>"$T/$1.log" 2>&1 || echo "## scenario exit $?" >>"$T/$1.transcript"
}
unpack() { umoci unpack --image "$1" "$T/$2" >/dev/null; }

scenario orig overlay "$T/oci" apache2
eq "the original: run.py and the CGI's note" "$(cat "$T/orig.transcript")" "## run.py
hello, whittle
plugin sum 42
## exit 0
## GET /cgi-bin/note.cgi?hello
the note of the day, test $$
## status 200"

# plain --auto (run.py kept, as the probed run keeps it): what a computed
# name, a configuration and a request name is dropped
rc=0
"$WHITTLE" --auto -q -o "oci:$T/plain:p" --keep /opt/whapp/run.py "$REF" >"$T/plain.out" 2>"$T/plain.err" || rc=$?
eq "plain --auto: exit status" "$rc" 0
unpack "$T/plain:p" plain.root
scenario plain "$T/plain.root/rootfs" "$T/plain" p
check "plain --auto: run.py fails (python's error, not a missing run.py)" bash -c \
	"grep -q '^## exit 1\$' '$T/plain.transcript' && grep -q Error '$T/plain.stderr'"
check "plain --auto: apache2 finds no note" grep -qx "no note hello" "$T/plain.transcript"
check "plain --auto: the module, the plugin and the note are not in the output" bash -c \
	"cd '$T/plain.root/rootfs' && ! ls opt/whapp/lib/greeting.py opt/whapp/plugins/libwhsum.so srv/whapp/notes/hello.txt 2>/dev/null | grep -q ."
rm -rf --one-file-system "$T/plain.root"

# with the probes: the same transcript as the original's
rc=0
"$WHITTLE" --auto -o "oci:$T/slim:s" --report "$T/r.json" --keep /opt/whapp/run.py \
	--probe /opt/whapp/run.py --probe-entrypoint \
	--probe-wait 80 --probe-http '80/cgi-bin/note.cgi?hello' "$REF" >"$T/s.out" 2>"$T/s.err" || rc=$?
eq "with the probes: exit status" "$rc" 0
[ "$rc" = 0 ] || tail -5 "$T/s.err" >&2
check "report valid" validate_report "$T/r.json"
unpack "$T/slim:s" slim.root
scenario slim "$T/slim.root/rootfs" "$T/slim" s
check "with the probes: the scenario's transcript is the original's" cmp "$T/orig.transcript" "$T/slim.transcript"
[ -s "$T/slim.transcript" ] && diff "$T/orig.transcript" "$T/slim.transcript" | head -20 || true
/usr/bin/python3 - "$T/r.json" >"$T/added" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))["probe"]:
    print(p["kind"], p["verify"]["equal"], " ".join(x for x in p["added_by_probe"] if x.startswith(("/opt/whapp", "/etc/whapp", "/srv/whapp"))))
PY
eq "the report: what each probe added, the proof" "$(cat "$T/added")" \
	"command True /etc/whapp/whapp.conf /opt/whapp/lib /opt/whapp/lib/greeting.py /opt/whapp/plugins/libwhsum.so
service True /srv/whapp/notes/hello.txt
http True "
check "the summary names the plugin" grep -q "^  /opt/whapp/plugins/libwhsum.so" "$T/s.out" "$T/s.err"
finish
