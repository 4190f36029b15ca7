#!/bin/bash
# The two transports that fetch: a registry (docker://, a private
# docker-registry on 127.0.0.1, images pushed by skopeo) and the engine API
# (docker-daemon: and a bare NAME:TAG, a private podman service on a unix
# socket). Every image is also read from the file it was pushed or loaded
# from: the figures must be the same. Errors (missing tag or image, plain
# HTTP without --tls-verify=false, no engine) exit 2 naming what is wrong,
# and the spool is gone after every run (TMPDIR is $T/tmp, checked empty).
source "$SRCDIR/tests/integration/lib.sh"
: "${MKIMAGE:?}"
HERE="$SRCDIR/tests/integration"
need_cmd skopeo docker-registry podman
need_fixtures
F=$FIXTURES

REG_PID="" POD_PID="" PROXY_PID=""
stop() { [ -n "$1" ] || return 0; kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
cleanup() {
	stop "$REG_PID"
	stop "$POD_PID"
	stop "$PROXY_PID"
	rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/tmp" "$T/work"
# whittle with its own TMPDIR: anything left there after a run is a leak
wh() { TMPDIR="$T/tmp" "$WHITTLE" "$@"; }
spool_clean() { # DESCRIPTION
	local left
	left=$(ls -A "$T/tmp")
	if [ -z "$left" ]; then ok "$1: no spool left"; else bad "$1: left in TMPDIR: $left"; rm -rf "${T:?}/tmp/"*; fi
}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # URL
	/usr/bin/python3 - "$1" <<'PY'
import sys, time, urllib.request, urllib.error
for _ in range(100):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1); sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
}

# figures REPORT: what must not depend on the transport (image minus
# reference/format, layers minus digest), one canonical JSON line
figures() {
	/usr/bin/python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
i = {k: v for k, v in d["image"].items() if k not in ("reference", "format")}
ls = [{k: v for k, v in l.items() if k != "digest"} for l in d["layers"]]
print(json.dumps({"image": i, "layers": ls}, sort_keys=True))
PY
}
field() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["image"][sys.argv[2]])' "$1" "$2"; }

# same_as_file DESCRIPTION LOCAL_REF REMOTE_REF FORMAT [whittle options...]
same_as_file() {
	local d=$1 local=$2 remote=$3 fmt=$4
	shift 4
	if ! wh -q "$@" --report "$T/local.json" "$local" 2>"$T/err"; then
		bad "$d: the local file failed: $(cat "$T/err")"
		return
	fi
	if ! wh -q "$@" --report "$T/remote.json" "$remote" 2>"$T/err"; then
		bad "$d: $remote failed: $(cat "$T/err")"
		spool_clean "$d"
		return
	fi
	eq "$d: same figures as $local" "$(figures "$T/remote.json")" "$(figures "$T/local.json")"
	eq "$d: reference" "$(field "$T/remote.json" reference)" "$remote"
	eq "$d: format" "$(field "$T/remote.json" format)" "$fmt"
	check "$d: report valid against the schema" validate_report "$T/remote.json"
	spool_clean "$d"
}

# expect_fail DESCRIPTION WANT_IN_STDERR whittle-args...: exit 2, message names WANT
expect_fail() {
	local d=$1 want=$2
	shift 2
	local rc=0
	wh -q --report "$T/fail.json" "$@" 2>"$T/err" >/dev/null || rc=$?
	eq "$d: exit 2" "$rc" 2
	if grep -qF -- "$want" "$T/err"; then ok "$d: the message names $want"; else bad "$d: message without \"$want\": $(cat "$T/err")"; fi
	if [ -e "$T/fail.json" ]; then bad "$d: a report was written"; rm -f "$T/fail.json"; else ok "$d: no report"; fi
	spool_clean "$d"
}

# === the registry ==================================================================================
PORT=$(free_port)
REG=127.0.0.1:$PORT
cat >"$T/registry.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $T/registry
  delete:
    enabled: true
http:
  addr: $REG
EOF
docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
REG_PID=$!
wait_http "http://$REG/v2/" || { cat "$T/registry.log" >&2; bad "the registry did not start"; finish; exit 1; }
ok "registry on $REG"

push() { # SRC DEST [skopeo options]
	local src=$1 dst=$2
	shift 2
	skopeo copy -q "$@" --dest-tls-verify=false "$src" "docker://$REG/$dst" >"$T/push.log" 2>&1 ||
		{ bad "skopeo copy $src: $(tail -3 "$T/push.log")"; return 1; }
}

# an mkimage image of every merge case, with its figures from the SPEC itself
"$MKIMAGE" --format oci-archive --tag 1 "$HERE/merge-cases.spec" "$T/cases.tar"
push "oci-archive:$T/cases.tar:1" test/img:tag
same_as_file "registry: mkimage image by tag" "oci-archive:$T/cases.tar" "docker://$REG/test/img:tag" docker --tls-verify=false
/usr/bin/python3 "$HERE/spec_model.py" "$HERE/merge-cases.spec" >"$T/model.json"
eq "registry: file_count from the SPEC" "$(field "$T/remote.json" file_count)" \
	"$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["file_count"])' "$T/model.json")"
eq "registry: visible_bytes from the SPEC" "$(field "$T/remote.json" visible_bytes)" \
	"$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["visible_bytes"])' "$T/model.json")"

# by digest: skopeo's digest of the pushed manifest
DIG=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/test/img:tag")
same_as_file "registry: by @digest" "oci-archive:$T/cases.tar" "docker://$REG/test/img@$DIG" docker --tls-verify=false
eq "registry: by @digest: config digest as skopeo reports it" "$(field "$T/remote.json" config_digest)" \
	"$(skopeo inspect --tls-verify=false --raw "docker://$REG/test/img@$DIG" | /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["config"]["digest"])')"

# dive's fixtures (docker-archive, OCI gzip and zstd)
push "docker-archive:$F/test-docker-image.tar" test/dive:docker
same_as_file "registry: dive docker-archive" "$F/test-docker-image.tar" "docker://$REG/test/dive:docker" docker --tls-verify=false
for c in gzip zstd; do
	push "oci-archive:$F/test-oci-$c-image.tar" "test/dive:$c"
	same_as_file "registry: dive oci $c" "oci-archive:$F/test-oci-$c-image.tar" "docker://$REG/test/dive:$c" docker --tls-verify=false
done

# a multi-arch index: two images (different SPECs) under one index with platforms, pushed with --all
cat >"$T/amd.spec" <<'EOF'
layer
file bin/amd 0755 0 0 @1000:a
file etc/os 0644 0 0 amd64
layer
file bin/amd 0755 0 0 @1500:b
EOF
cat >"$T/arm.spec" <<'EOF'
layer
file bin/arm 0755 0 0 @3000:c
dir usr 0755 0 0
file usr/one 0644 0 0 one
file usr/two 0644 0 0 two
EOF
"$MKIMAGE" --format oci --arch amd64 "$T/amd.spec" "$T/amd"
"$MKIMAGE" --format oci --arch arm64 "$T/arm.spec" "$T/arm"
/usr/bin/python3 - "$T/amd" "$T/arm" "$T/multi" <<'PY'
import hashlib, json, os, shutil, sys
amd, arm, out = sys.argv[1:]
os.makedirs(out + "/blobs/sha256")
descs = []
for src, arch in ((amd, "amd64"), (arm, "arm64")):
    for b in os.listdir(src + "/blobs/sha256"):
        shutil.copy(src + "/blobs/sha256/" + b, out + "/blobs/sha256/" + b)
    d = json.load(open(src + "/index.json"))["manifests"][0]
    descs.append({"mediaType": d["mediaType"], "digest": d["digest"], "size": d["size"],
                  "platform": {"architecture": arch, "os": "linux"}})
idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                  "manifests": descs}).encode()
h = hashlib.sha256(idx).hexdigest()
open(out + "/blobs/sha256/" + h, "wb").write(idx)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
           "digest": "sha256:" + h, "size": len(idx), "annotations": {"org.opencontainers.image.ref.name": "multi"}}]},
          open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
push "oci:$T/multi:multi" test/multi:1 --all
same_as_file "registry: index, --platform linux/arm64" "oci:$T/arm" "docker://$REG/test/multi:1" docker --tls-verify=false --platform linux/arm64
eq "registry: index, arm64 chosen" "$(field "$T/remote.json" architecture)" arm64
same_as_file "registry: index, --platform linux/amd64" "oci:$T/amd" "docker://$REG/test/multi:1" docker --tls-verify=false --platform linux/amd64
eq "registry: index, amd64 chosen" "$(field "$T/remote.json" architecture)" amd64
# only the chosen platform is downloaded: the arm64 run never asked for amd64's layer blobs
: >"$T/registry.log"
wh -q --tls-verify=false --platform linux/arm64 --report /dev/null "docker://$REG/test/multi:1"
amd_layers=$(/usr/bin/python3 - "$T/amd" <<'PY'
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/index.json"))["manifests"][0]["digest"]
print(" ".join(l["digest"] for l in json.load(open(d + "/blobs/sha256/" + m[7:]))["layers"]))
PY
)
arm_layer=$(/usr/bin/python3 - "$T/arm" <<'PY'
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/index.json"))["manifests"][0]["digest"]
print(json.load(open(d + "/blobs/sha256/" + m[7:]))["layers"][0]["digest"])
PY
)
check "registry: the arm64 layer was fetched (the access log shows it)" grep -q "GET /v2/test/multi/blobs/$arm_layer" "$T/registry.log"
fetched_amd=no
for l in $amd_layers; do grep -q "blobs/$l" "$T/registry.log" && fetched_amd=yes; done
eq "registry: amd64's layers were not fetched for arm64" "$fetched_amd" no
spool_clean "registry: lazy platform fetch"
expect_fail "registry: index, --platform linux/s390x" "linux/arm64" --tls-verify=false --platform linux/s390x "docker://$REG/test/multi:1"

# errors
expect_fail "registry: missing tag" "docker://$REG/test/img:missing" --tls-verify=false "docker://$REG/test/img:missing"
expect_fail "registry: missing repository" "docker://$REG/test/nothing:1" --tls-verify=false "docker://$REG/test/nothing:1"
expect_fail "registry: plain HTTP without --tls-verify=false" "--tls-verify=false" "docker://$REG/test/img:tag"
NPORT=$(free_port)
expect_fail "registry: nothing listening" "127.0.0.1:$NPORT" --tls-verify=false "docker://127.0.0.1:$NPORT/test/img:tag"
expect_fail "registry: malformed reference" "docker://$REG/Test/IMG:tag" --tls-verify=false "docker://$REG/Test/IMG:tag"

# anonymous token auth: a proxy in front of the registry answers 401 with a
# Bearer challenge, its realm issues a token for the right service and scope
# only, and only requests carrying that token are forwarded
PPORT=$(free_port)
/usr/bin/python3 - "$PPORT" "$REG" "$T/proxy.log" >"$T/proxy.err" 2>&1 <<'PY' &
import http.server, sys, urllib.request, urllib.error, urllib.parse
port, upstream, logf = int(sys.argv[1]), sys.argv[2], sys.argv[3]
TOKEN = "tok-1234"
def log(s):
    with open(logf, "a") as f: f.write(s + "\n")
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == "/token":
            q = urllib.parse.parse_qs(u.query)
            log("token service=%s scope=%s" % (q.get("service"), q.get("scope")))
            if q.get("service") == ["whtest"] and q.get("scope") == ["repository:test/img:pull"]:
                body = b'{"token":"%s"}' % TOKEN.encode()
                self.send_response(200); self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            else:
                self.send_response(403); self.send_header("Content-Length", "0"); self.end_headers()
            return
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            log("401 " + self.path)
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:%d/token",service="whtest",scope="repository:test/img:pull"' % port)
            self.send_header("Content-Length", "0"); self.end_headers()
            return
        log("200 " + self.path)
        req = urllib.request.Request("http://" + upstream + self.path, headers={"Accept": self.headers.get("Accept", "*/*")})
        try:
            r = urllib.request.urlopen(req)
        except urllib.error.HTTPError as e:
            r = e
        body = r.read()
        self.send_response(r.status if hasattr(r, "status") else r.code)
        for k in ("Content-Type", "Docker-Content-Digest"):
            if r.headers.get(k): self.send_header(k, r.headers.get(k))
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
PROXY_PID=$!
if wait_http "http://127.0.0.1:$PPORT/v2/"; then
	same_as_file "registry behind token auth" "oci-archive:$T/cases.tar" "docker://127.0.0.1:$PPORT/test/img:tag" docker --tls-verify=false
	check "token auth: a token was asked for with the challenge's service and scope" \
		grep -q "token service=\['whtest'\] scope=\['repository:test/img:pull'\]" "$T/proxy.log"
	check "token auth: blobs were fetched with the token" grep -q "^200 /v2/test/img/blobs/" "$T/proxy.log"
else
	bad "the token proxy did not start: $(cat "$T/proxy.err")"
fi
stop "$PROXY_PID"; PROXY_PID=""

# SIGINT while a layer downloads: exit 130, no spool left. A throttling
# proxy holds the big layer back (it sends a little, then waits).
# (random bytes: skopeo compresses the layer on the way, and must not shrink it)
head -c 4000000 /dev/urandom >"$T/random.bin"
printf 'layer\nfile big 0644 0 0 <%s\n' "$T/random.bin" >"$T/big.spec"
"$MKIMAGE" --format oci-archive --compression none --tag 1 "$T/big.spec" "$T/big.tar"
push "oci-archive:$T/big.tar:1" test/big:1
SPORT=$(free_port)
/usr/bin/python3 - "$SPORT" "$REG" >"$T/slow.err" 2>&1 <<'PY' &
import http.server, sys, time, urllib.request, urllib.error
port, upstream = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        req = urllib.request.Request("http://" + upstream + self.path, headers={"Accept": self.headers.get("Accept", "*/*")})
        try:
            r = urllib.request.urlopen(req)
        except urllib.error.HTTPError as e:
            r = e
        body = r.read()
        self.send_response(r.code)
        for k in ("Content-Type", "Docker-Content-Digest"):
            if r.headers.get(k): self.send_header(k, r.headers.get(k))
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        if len(body) > 1000000:
            self.wfile.write(body[:65536]); self.wfile.flush(); time.sleep(30)
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
PROXY_PID=$!
if wait_http "http://127.0.0.1:$SPORT/v2/"; then
	TMPDIR="$T/tmp" "$WHITTLE" -q --tls-verify=false --report /dev/null "docker://127.0.0.1:$SPORT/test/big:1" 2>"$T/err" &
	wpid=$!
	started=no
	for _ in $(seq 100); do
		if ls "$T"/tmp/*/blobs/sha256/*.part >/dev/null 2>&1; then started=yes; break; fi
		sleep 0.1
	done
	eq "SIGINT: the layer download had started (a .part blob in the spool)" "$started" yes
	kill -INT "$wpid" || true
	rc=0
	wait "$wpid" || rc=$?
	eq "SIGINT during a download: exit 130" "$rc" 130
	spool_clean "SIGINT during a download"
	# the explorer while it loads: ctrl+c in tmux
	if command -v tmux >/dev/null 2>&1; then
		TM=(tmux -L "whtr-$$" -f /dev/null)
		"${TM[@]}" new-session -d -x 100 -y 30 \
			"TMPDIR='$T/tmp' '$WHITTLE' --tls-verify=false 'docker://127.0.0.1:$SPORT/test/big:1'; echo \$? >'$T/tui.rc'; sleep 2"
		started=no
		for _ in $(seq 100); do
			if ls "$T"/tmp/*/blobs/sha256/*.part >/dev/null 2>&1; then started=yes; break; fi
			sleep 0.1
		done
		eq "explorer: the download had started" "$started" yes
		"${TM[@]}" send-keys C-c
		for _ in $(seq 50); do [ -s "$T/tui.rc" ] && break; sleep 0.1; done
		eq "explorer: ctrl+c while loading: exit 130" "$(cat "$T/tui.rc" 2>/dev/null)" 130
		"${TM[@]}" kill-server 2>/dev/null || true
		spool_clean "explorer: ctrl+c while loading"
	else
		missing_tmux=1
	fi
else
	bad "the slow proxy did not start: $(cat "$T/slow.err")"
fi
stop "$PROXY_PID"; PROXY_PID=""

# a report into a pipe closed early (SIGPIPE) leaves no spool either
wh -q --tls-verify=false --report - "docker://$REG/test/img:tag" 2>/dev/null | head -c 10 >/dev/null || true
spool_clean "registry: report into a pipe closed early"

stop "$REG_PID"; REG_PID=""

# === the engine (podman's Docker-compatible API) ===================================================
P=(podman --storage-driver vfs --root "$T/storage" --runroot "$T/run")
SOCK="$T/podman.sock"
"${P[@]}" system service --time=0 "unix://$SOCK" >"$T/podman.log" 2>&1 &
POD_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { cat "$T/podman.log" >&2; bad "the podman service did not start"; finish; exit 1; }
ok "podman service on $SOCK"
export DOCKER_HOST="unix://$SOCK"

load() { # ARCHIVE -> the name podman gives it ("Loaded image: NAME")
	"${P[@]}" load -i "$1" 2>/dev/null | sed -n 's/^Loaded image[^:]*: //p' | head -1
}
name=$(load "$F/test-docker-image.tar")
eq "podman load: the dive image's name" "$name" "localhost/dive-test:latest"
same_as_file "engine: docker-daemon:NAME:TAG" "$F/test-docker-image.tar" "docker-daemon:localhost/dive-test:latest" docker-daemon
same_as_file "engine: bare NAME:TAG" "$F/test-docker-image.tar" "dive-test:latest" docker-daemon
ID=$("${P[@]}" inspect --format '{{.Id}}' localhost/dive-test:latest)
same_as_file "engine: docker-daemon:sha256:ID" "$F/test-docker-image.tar" "docker-daemon:sha256:$ID" docker-daemon

# (podman refuses some of merge-cases.spec's type changes: the amd64 SPEC above)
"$MKIMAGE" --format docker-archive --tag test/small:1 "$T/amd.spec" "$T/small-docker.tar"
name=$(load "$T/small-docker.tar")
eq "podman load: the mkimage image's name" "$name" "localhost/test/small:1"
same_as_file "engine: mkimage image" "docker-archive:$T/small-docker.tar" "docker-daemon:$name" docker-daemon
eq "engine: mkimage image: file_count from its SPEC (bin, bin/amd, etc, etc/os)" "$(field "$T/remote.json" file_count)" 4
eq "engine: mkimage image: visible_bytes from its SPEC (1500 + 5)" "$(field "$T/remote.json" visible_bytes)" 1505

# --auto from the engine writes NAME-slim.tar into the current directory
rc=0
(cd "$T/work" && wh -q --auto "docker-daemon:localhost/dive-test:latest" >"$T/auto.out" 2>&1) || rc=$?
eq "engine --auto: exit 0" "$rc" 0
check "engine --auto: dive-test-slim.tar in the current directory" test -f "$T/work/dive-test-slim.tar"
check "engine --auto: skopeo reads the output" eval "skopeo inspect oci-archive:$T/work/dive-test-slim.tar >/dev/null"
spool_clean "engine --auto"

expect_fail "engine: missing image" "no such image" "docker-daemon:localhost/nothing:1"
expect_fail "engine: bare missing image" "nothing:1" "nothing:1"
DOCKER_HOST="unix://$T/none.sock" expect_fail "engine: no daemon" "$T/none.sock" "docker-daemon:localhost/dive-test:latest"
DOCKER_HOST="unix://$T/none.sock" expect_fail "engine: no daemon, bare NAME:TAG" "$T/none.sock" "dive-test:latest"
expect_fail "a bare missing file is not sent to the engine" "no such file" "$T/missing.tar"

stop "$POD_PID"; POD_PID=""
[ -z "${missing_tmux:-}" ] || { [ "$fails" -eq 0 ] && skip "needs tmux for the explorer's ctrl+c check"; }
finish
