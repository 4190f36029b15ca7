#!/bin/bash
# A registry that misbehaves (issue 13): a small HTTP server on 127.0.0.1
# (this script's own Python, bounded: each request handler stops after 40
# s, the server after 300 s, each whittle run after 60 s) serving
# - a layer blob longer than its descriptor: exit 2, "larger than its
#   descriptor" naming the blob, nothing left in TMPDIR;
# - a manifest at 2 bytes/s: aborted by the low-speed limit (lowered with
#   WHITTLE_LOW_SPEED for the test): exit 2, curl's "too slow";
# - a manifest that keeps coming at a good speed: --timeout 2 ends it;
# - a token response, a manifest and a config over 4 MiB (its descriptor
#   saying so, or giving no size): exit 2, a message that names the limit;
# - an honest image (sizes as its descriptors say) still opens.
. "$(dirname "$0")/lib.sh"
need_cmd timeout /usr/bin/python3
cd "$T"
mkdir tmp
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >server.py <<'PY'
import hashlib, json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port = int(sys.argv[1])
def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()

# a one-layer image: an empty tar as the layer, a minimal config
layer = b"\0" * 1024
config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [sha(layer)]},
                     "config": {}}).encode()
def manifest(cfg, cfg_size, lay, lay_size):
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": cfg_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": lay, "size": lay_size}]}).encode()
honest = manifest(sha(config), len(config), sha(layer), len(layer))
big_config = b"{" + b" " * (5 << 20) + b"}"
manifests = {
    "honest": honest,
    "oversize": honest,  # its layer blob is served too long (below)
    "bigconfig": manifest(sha(big_config), len(big_config), sha(layer), len(layer)),
}
# a config descriptor without a size, the config over 4 MiB
m = json.loads(manifest(sha(big_config), 0, sha(layer), len(layer)))
del m["config"]["size"]
manifests["nosize"] = json.dumps(m).encode()
blobs = {sha(config): config, sha(layer): layer, sha(big_config): big_config}
DEADLINE = time.time() + 300

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a): pass
    def send(self, code, body, ctype="application/json", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra: self.send_header(k, v)
        self.end_headers()
        try: self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError): pass
    def trickle(self, total, chunk, pause):
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        self.send_header("Content-Length", str(total))
        self.end_headers()
        end = time.time() + 40
        try:
            while time.time() < end:
                self.wfile.write(b" " * chunk); self.wfile.flush(); time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError): pass
    def do_GET(self):
        p = self.path.split("?")[0]
        parts = p.split("/")  # /v2/REPO/manifests/REF
        if p == "/v2/":
            if self.headers.get("Authorization") is None and getattr(self.server, "auth", False):
                return self.send(401, b"{}", extra=[("WWW-Authenticate",
                    'Bearer realm="http://127.0.0.1:%d/token",service="t"' % port)])
            return self.send(200, b"{}")
        if p == "/token":
            return self.send(200, b'{"token":"' + b"a" * (5 << 20) + b'"}')
        if len(parts) == 5 and parts[1] == "v2" and parts[3] == "manifests":
            repo, ref = parts[2], parts[4]
            if repo == "tokenbig" and self.headers.get("Authorization") is None:
                return self.send(401, b"{}", extra=[("WWW-Authenticate",
                    'Bearer realm="http://127.0.0.1:%d/token",service="t"' % port)])
            if repo == "slow": return self.trickle(1000, 2, 1.0)       # 2 bytes/s
            if repo == "long": return self.trickle(50 << 20, 4096, 0.01)  # ~400 KB/s, 50 MiB
            if repo == "bigmanifest": return self.send(200, b"{" + b" " * (5 << 20) + b"}")
            m = manifests.get(repo)
            if m: return self.send(200, m, "application/vnd.oci.image.manifest.v1+json")
            return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"no"}]}')
        if len(parts) == 5 and parts[1] == "v2" and parts[3] == "blobs":
            repo, dg = parts[2], parts[4]
            b = blobs.get(dg)
            if b is None: return self.send(404, b"{}")
            if repo == "oversize" and dg == sha(layer):
                # the right bytes, then 64 MiB more than the descriptor says
                self.send_response(200)
                self.send_header("Content-Length", str(len(b) + (64 << 20)))
                self.end_headers()
                try:
                    self.wfile.write(b)
                    for _ in range(1024): self.wfile.write(b"\1" * 65536)
                except (BrokenPipeError, ConnectionResetError): pass
                return
            return self.send(200, b, "application/octet-stream")
        self.send(404, b"{}")

srv = ThreadingHTTPServer(("127.0.0.1", port), H)
srv.daemon_threads = True
threading.Thread(target=lambda: (time.sleep(max(0, DEADLINE - time.time())), srv.shutdown()), daemon=True).start()
srv.serve_forever()
PY
/usr/bin/python3 server.py "$PORT" >server.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 100); do /usr/bin/python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/v2/')" 2>/dev/null && break; sleep 0.1; done

# run NAME [ENV...] -- ARGS...: whittle --report on docker://127.0.0.1:PORT/..., 60 s at most
run() {
	local name=$1 rc=0
	shift
	env TMPDIR="$T/tmp" "$@" --report "$T/$name.json" >"$name.out" 2>"$name.err" || rc=$?
	echo "$rc" >"$name.rc"
}
W="timeout 60 $WHITTLE --tls-verify=false"
R="docker://127.0.0.1:$PORT"

run honest $W "$R/honest:1"
eq "an honest image opens: exit 0" "$(cat honest.rc)" 0

run oversize $W "$R/oversize:1"
eq "blob larger than its descriptor: exit 2" "$(cat oversize.rc)" 2
check "blob larger than its descriptor: the message says so" grep -q "larger than its descriptor" oversize.err
layer_digest=$(/usr/bin/python3 -c 'import hashlib;print("sha256:"+hashlib.sha256(b"\0"*1024).hexdigest())')
check "blob larger than its descriptor: the message names the blob" grep -q "$layer_digest" oversize.err
eq "blob larger than its descriptor: nothing left in TMPDIR" "$(ls -A tmp)" ""

run slow env WHITTLE_LOW_SPEED=1024:2 $W "$R/slow:1"
eq "a manifest at 2 bytes/s: exit 2" "$(cat slow.rc)" 2
check "a manifest at 2 bytes/s: aborted as too slow" grep -qi "too slow" slow.err

run long $W --timeout 2 "$R/long:1"
eq "--timeout 2 on an endless manifest: exit 2" "$(cat long.rc)" 2
check "--timeout 2: the message names it" grep -q -- "--timeout of 2 s has passed" long.err

run tokenbig $W "$R/tokenbig:1"
eq "a token response over 4 MiB: exit 2" "$(cat tokenbig.rc)" 2
check "a token response over 4 MiB: the message says so" grep -q "token.*larger than 4 MiB" tokenbig.err

run bigmanifest $W "$R/bigmanifest:1"
eq "a manifest over 4 MiB: exit 2" "$(cat bigmanifest.rc)" 2
check "a manifest over 4 MiB: the message says so" grep -q "larger than 4 MiB" bigmanifest.err

run bigconfig $W "$R/bigconfig:1"
eq "a config over 4 MiB: exit 2" "$(cat bigconfig.rc)" 2
check "a config over 4 MiB: refused by its descriptor's size" grep -q "more than the 4 MiB" bigconfig.err
run nosize $W "$R/nosize:1"
eq "a config over 4 MiB, no size in its descriptor: exit 2" "$(cat nosize.rc)" 2
check "a config over 4 MiB, no size in its descriptor: stopped at 4 MiB" grep -q "larger than 4 MiB.*gives no size" nosize.err
eq "nothing left in TMPDIR after every case" "$(ls -A tmp)" ""

for f in *.err; do echo "--- $f"; cat "$f"; done
finish
