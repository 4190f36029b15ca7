# Shared helpers for integration tests (sourced by each test script).
# meson passes: WHITTLE (the binary), MKIMAGE (the test image writer),
# SRCDIR (source root), BUILDDIR (build root).
set -euo pipefail

: "${WHITTLE:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
FIXTURES="${WH_FIXTURES:-$SRCDIR/../shared/fixtures/dive}"
SCHEMA="$SRCDIR/schema/report.schema.json"

T=$(mktemp -d "${TMPDIR:-/tmp}/whittle-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

fails=0
checks=0

# A prerequisite is missing: skip (77) on a user's clone, fail under CI.
skip() {
	if [ "${CI:-}" = "true" ]; then
		echo "FAIL (CI=true, nothing may skip): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

need_cmd() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "needs $c"; done; }
need_fixtures() { [ -f "$FIXTURES/test-docker-image.tar" ] || skip "needs ../shared/fixtures/dive"; }

ok() { checks=$((checks + 1)); echo "ok   $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL $*" >&2; }

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
# eq DESCRIPTION GOT WANT
eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got [$2] want [$3]"; fi
}

# Validate a report against the committed JSON Schema.
validate_report() {
	/usr/bin/python3 - "$SCHEMA" "$1" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
PY
}

# The real Debian image, built once per build directory and shared by every
# test that needs it (tests/build-debian-image.sh). Sets DEBIAN_OCI (oci dir)
# and DEBIAN_REF (oci:DIR:TAG).
need_debian_image() {
	need_cmd mmdebstrap umoci skopeo flock
	local dir="$BUILDDIR/debian-image"
	mkdir -p "$dir"
	flock "$dir.lock" "$SRCDIR/tests/build-debian-image.sh" "$dir" >"$dir.log" 2>&1 ||
		{ echo "building the Debian image failed; log:" >&2; tail -40 "$dir.log" >&2; exit 1; }
	DEBIAN_OCI="$dir/oci"
	DEBIAN_REF="oci:$DEBIAN_OCI:bookworm"
}

# chroot_run ROOT NAME CMD...: run CMD under chroot ROOT with a clean
# environment (the image's PATH, LC_ALL=C, 60 s at most); stdout, stderr and
# exit status into $T/NAME.out, $T/NAME.stderr and $T/NAME.rc.
chroot_run() {
	local root=$1 name=$2 rc=0
	shift 2
	env -i PATH="${IMAGE_PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}" LC_ALL=C \
		timeout 60 chroot "$root" "$@" >"$T/$name.out" 2>"$T/$name.stderr" || rc=$?
	echo "$rc" >"$T/$name.rc"
}

# The probe tests' runs as an ordinary user. need_nobody: when this test runs
# as root, make $T searchable and $T/nobody writable for nobody (65534), and
# check that bubblewrap can make a user namespace as nobody: a host that
# refuses unprivileged user namespaces skips the test (exit 77), which under
# CI=true is a failure (the feature is expected there). As an ordinary user
# already, nothing: the whole test is the unprivileged run. as_nobody CMD...:
# CMD as nobody, no supplementary groups, no subordinate ids, TMPDIR $T/nobody.
need_nobody() {
	[ "$(id -u)" = 0 ] || return 0
	need_cmd setpriv bwrap
	chmod 711 "$T"
	mkdir -p -m 0777 "$T/nobody"
	setpriv --reuid=65534 --regid=65534 --clear-groups bwrap --unshare-user --ro-bind / / true 2>"$T/nobody.userns" ||
		skip "bubblewrap cannot make a user namespace as an ordinary user (unprivileged user namespaces refused?): $(head -c 200 "$T/nobody.userns")"
}
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups env TMPDIR="$T/nobody" "$@"
}

# oci_manifest DIR TAG: the digest of TAG's manifest in the OCI layout DIR
oci_manifest() {
	/usr/bin/python3 -c 'import json,sys
for m in json.load(open(sys.argv[1] + "/index.json"))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]: print(m["digest"])' "$1" "$2"
}

finish() {
	echo "$checks checks, $fails failed"
	[ "$fails" -eq 0 ]
}

# spec_of_tree ROOT TITLE: a tests/tools/mkimage SPEC of one layer (TITLE)
# holding the tree under ROOT as it is: directories 0755 root, files with
# their modes, symlinks as they are.
spec_of_tree() {
	(
		cd "$1" || exit 1
		echo "layer $2"
		find . -mindepth 1 | sort | while read -r p; do
			p=${p#./}
			if [ -L "$p" ]; then
				echo "symlink $p $(readlink "$p")"
			elif [ -d "$p" ]; then
				echo "dir $p 0755 0 0"
			else
				echo "file $p $(stat -c %a "$p" | sed 's/^/0/') 0 0 <$1/$p"
			fi
		done
	)
}

# need_page_image: the service probe tests' image (probe_service, tui_service):
# the real Debian image plus a layer (oci_addlayer.py) whose entrypoint,
# /usr/local/bin/pageserver.py MARK, is a python HTTP server on 127.0.0.1:8080
# that opens /srv/data/PAGE only when a request names it (the name is
# computed: nothing in the image names /srv/data/page.txt), and a client,
# /usr/local/bin/pageclient.py NAME, that prints the answer to GET /NAME.
# Sets MARK (a unique word in the service's argv, for pgrep), PAGE (the text
# of /srv/data/page.txt, without its newline) and PAGE_REF (oci:$T/oci:bookworm).
need_page_image() {
	need_debian_image
	mkdir -p "$T/add/srv/data" "$T/add/usr/local/bin"
	MARK="whittle-svc-marker-$$-$RANDOM"
	PAGE="the page of test $$, $RANDOM"

	cat >"$T/add/usr/local/bin/pageserver.py" <<'PY'
#!/usr/bin/python3
# serves the files of a directory, each opened only when a request names it
import http.server
ROOT = "/".join(["", "srv", "data"])  # a computed name
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            with open(ROOT + self.path, "rb") as f:
                body, code = f.read(), 200
        except OSError:
            body, code = b"no such page\n", 404
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", 8080), H).serve_forever()
PY
	cat >"$T/add/usr/local/bin/pageclient.py" <<'PY'
#!/usr/bin/python3
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:8080/" + sys.argv[1]).read().decode(), end="")
PY
	chmod 755 "$T/add/usr/local/bin/"*.py
	printf '%s\n' "$PAGE" >"$T/add/srv/data/page.txt"
	# the shared image's blobs linked (never written: oci_addlayer.py writes new files only)
	cp -al "$DEBIAN_OCI" "$T/oci"
	/usr/bin/python3 "$SRCDIR/tests/integration/oci_addlayer.py" "$T/oci" bookworm "$T/add" \
		'["/usr/local/bin/pageserver.py"]' "[\"$MARK\"]"
	PAGE_REF="oci:$T/oci:bookworm"
}
