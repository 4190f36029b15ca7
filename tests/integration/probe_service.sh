#!/bin/bash
# The service probe (--probe-entrypoint, --probe-wait, --probe-exec,
# --probe-http) on the real Debian image plus a layer (need_page_image in lib.sh,
# oci_addlayer.py): the entrypoint is a python HTTP server that opens
# /srv/data/PAGE only when a request names it (the name is computed:
# nothing in the image names /srv/data/page.txt).
# - plain --auto drops the page: the output's layers lack it (a tar listing)
#   and the output's server, run under chroot in a network namespace of the
#   test's own, answers 404;
# - with the service probes the page is kept: in the output's layers, in the
#   report's added_by_probe of the service, the HTTP body whittle recorded and
#   the exec client's stdout equal the page the test wrote, the proof passed,
#   and the output's server answers 200 with the page under chroot;
# - --drop of the page with the same probes: the proof fails, exit 3,
#   nothing written;
# - as an ordinary user (nobody, one id mapped) the same probes record the
#   same results and the output is root's, byte for byte;
# - no process of the service is left (pgrep of a unique marker in its argv).
. "$(dirname "$0")/lib.sh"
need_cmd bwrap umoci /usr/sbin/chroot unshare ip /usr/bin/python3
[ "$(id -u)" = 0 ] || skip "needs root (chroot, network namespaces)"
mkdir -p "$T/tmp"
export TMPDIR="$T/tmp"
need_page_image
REF=$PAGE_REF

# in_output OCI TAG PATH: PATH is a file of the image's layers (a tar listing)
in_output() {
	/usr/bin/python3 - "$@" <<'PY'
import json, os, sys, tarfile
oci, tag, path = sys.argv[1], sys.argv[2], sys.argv[3].lstrip("/")
blob = lambda d: os.path.join(oci, "blobs/sha256", d.split(":")[1])
idx = json.load(open(os.path.join(oci, "index.json")))
m = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
found = False
for l in json.load(open(blob(m["digest"])))["layers"]:
    with tarfile.open(blob(l["digest"])) as t:
        for n in t.getnames():
            n = n.lstrip("./").lstrip("/")
            if n == path:
                found = True
            if n == os.path.join(os.path.dirname(path), ".wh." + os.path.basename(path)):
                found = False
sys.exit(0 if found else 1)
PY
}

# serve_get OCI TAG NAME: unpack the image, run its server under chroot in a
# network namespace of the test's own, GET /page.txt with the test's client;
# "STATUS BODY" into $T/NAME.get
serve_get() {
	local root="$T/$3.root"
	mkdir -p "$root"
	umoci unpack --image "$1:$2" "$root" >/dev/null
	unshare --net bash -c '
		ip link set lo up
		env -i PATH=/usr/local/bin:/usr/bin:/bin /usr/sbin/chroot "$1/rootfs" /usr/local/bin/pageserver.py "$2" &
		pid=$!
		/usr/bin/python3 - <<PY
import time, urllib.request, urllib.error
for i in range(100):
    try:
        r = urllib.request.urlopen("http://127.0.0.1:8080/page.txt", timeout=5)
        print(r.status, r.read().decode(), end="")
        break
    except urllib.error.HTTPError as e:
        print(e.code, end="")
        break
    except OSError:
        time.sleep(0.1)
PY
		kill $pid; wait $pid 2>/dev/null || true' _ "$root" "$MARK" >"$T/$3.get" 2>"$T/$3.get.err" || true
	rm -rf "$root"
}

# the options: the service's probes need the service; a wait is a port or seconds
while IFS='|' read -r args want; do
	rc=0
	# shellcheck disable=SC2086
	"$WHITTLE" --auto -o "oci:$T/bad:b" $args "$REF" </dev/null >/dev/null 2>"$T/bad.err" || rc=$?
	eq "usage '$args': exit 2" "$rc" 2
	check "usage '$args': the message says '$want'" grep -qF -- "$want" "$T/bad.err"
done <<'LIST'
--probe-exec true|need --probe-entrypoint
--probe-http 8080|need --probe-entrypoint
--probe-entrypoint --probe-wait 0|--probe-wait takes a TCP port (1-65535) or seconds
--probe-entrypoint --probe-wait x5s|--probe-wait takes a TCP port (1-65535) or seconds
--probe-entrypoint --probe-http 8080page|--probe-http takes PORT[/PATH]
LIST

check "the original has the page" in_output "$T/oci" bookworm /srv/data/page.txt
serve_get "$T/oci" bookworm orig
eq "the original's server answers the page (under chroot)" "$(cat "$T/orig.get")" "200 $PAGE"

# without the probes: the page is dropped, the output's server answers 404
rc=0
"$WHITTLE" --auto -o "oci:$T/plain:p" "$REF" >"$T/p.out" 2>"$T/p.err" || rc=$?
eq "plain --auto: exit status" "$rc" 0
if in_output "$T/plain" p /srv/data/page.txt; then bad "plain --auto: the page is in the output"; else ok "plain --auto: the page is not in the output"; fi
serve_get "$T/plain" p plain
eq "plain --auto: the output's server answers 404" "$(cat "$T/plain.get")" "404"

# with the service probes
rc=0
"$WHITTLE" --auto -o "oci:$T/slim:s" --report "$T/r.json" --probe-entrypoint --probe-wait 8080 \
	--probe-http 8080/page.txt --probe-exec '/usr/local/bin/pageclient.py page.txt' "$REF" \
	>"$T/s.out" 2>"$T/s.err" || rc=$?
eq "service probes: exit status" "$rc" 0
[ "$rc" = 0 ] || cat "$T/s.err" >&2
check "report valid" validate_report "$T/r.json"
check "the probes keep the page" in_output "$T/slim" s /srv/data/page.txt
# probe_list REPORT: per probe, what it ran and recorded, whether it kept the page, the proof
probe_list() {
	/usr/bin/python3 - "$1" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))["probe"]:
    print(json.dumps([p["command"], p.get("kind"), p["exit_status"], p.get("http_status"), p.get("body"),
                      p.get("stdout"), "/srv/data/page.txt" in p["added_by_probe"], p["verify"]["equal"]]))
PY
}
probe_list "$T/r.json" >"$T/probes"
page_json=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps(sys.argv[1] + "\n"))' "$PAGE")
eq "the service: recorded, killed by SIGTERM after the probes, kept the page, proven" "$(sed -n 1p "$T/probes")" \
	"[\"entrypoint: /usr/local/bin/pageserver.py $MARK\", \"service\", 143, null, null, \"\", true, true]"
eq "the exec client: its output is the page, proven" "$(sed -n 2p "$T/probes")" \
	"[\"exec: /usr/local/bin/pageclient.py page.txt\", \"exec\", 0, null, null, $page_json, false, true]"
eq "the HTTP probe: status 200, the body is the page, proven" "$(sed -n 3p "$T/probes")" \
	"[\"http: 8080/page.txt\", \"http\", 0, 200, $page_json, null, false, true]"
serve_get "$T/slim" s slim
eq "the output's server answers the page (under chroot)" "$(cat "$T/slim.get")" "200 $PAGE"

# the same as an ordinary user (one id mapped): the same probes' results, the same output
need_nobody
rc=0
as_nobody "$WHITTLE" --auto -o "oci:$T/nobody/slim:s" --report "$T/nobody/r.json" --probe-entrypoint \
	--probe-wait 8080 --probe-http 8080/page.txt --probe-exec '/usr/local/bin/pageclient.py page.txt' "$REF" \
	>"$T/ns.out" 2>"$T/ns.err" || rc=$?
eq "as nobody, service probes: exit status" "$rc" 0
[ "$rc" = 0 ] || tail -5 "$T/ns.err" >&2
probe_list "$T/nobody/r.json" >"$T/nobody.probes" || true
check "as nobody: the service, the exec client and the HTTP probe recorded as root's" cmp "$T/probes" "$T/nobody.probes"
eq "as nobody: the output is root's, byte for byte (its manifest digest)" \
	"$(oci_manifest "$T/nobody/slim" s)" "$(oci_manifest "$T/slim" s)"

# --drop of the page: the proof fails
rc=0
"$WHITTLE" --auto -o "oci:$T/dropped:d" --drop /srv/data/page.txt --probe-entrypoint --probe-wait 8080 \
	--probe-http 8080/page.txt "$REF" >"$T/d.out" 2>"$T/d.err" || rc=$?
eq "--drop of the page: the proof fails, exit 3" "$rc" 3
check "--drop of the page: the message names the http probe" grep -q "probe \`http: 8080/page.txt\`" "$T/d.err"
check "--drop of the page: nothing written" test ! -e "$T/dropped/index.json"

eq "no process of the service is left" "$(pgrep -f "$MARK" || true)" ""
finish
