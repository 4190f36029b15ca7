#!/usr/bin/python3
"""Write an OCI layout whose one layer holds tar headers mkimage cannot
write (an empty name) or too many of them to write quickly.

usage: rawimage.py many N DIR        N empty files in N/1000 directories, zstd
       rawimage.py emptyname DIR     a file "ok", then a file with an empty name
Prints the expected file count (directories included) of the layer."""
import hashlib, json, os, subprocess, sys


def header(name, typ=b"0", size=0, mode=0o644):
    h = bytearray(512)
    n = name.encode()
    h[0:len(n)] = n
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = typ
    h[257:265] = b"ustar\x0000"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def write_layout(out, layer_chunks, compress):
    os.makedirs(os.path.join(out, "blobs", "sha256"))
    tmp = os.path.join(out, "layer.tmp")
    diff = hashlib.sha256()
    with open(tmp, "wb") as f:
        p = subprocess.Popen(["zstd", "-q", "-1", "-c"], stdin=subprocess.PIPE, stdout=f) if compress else None
        sink = p.stdin if p else f
        for c in layer_chunks:
            diff.update(c)
            sink.write(c)
        if p:
            p.stdin.close()
            p.wait()
    blob = hashlib.sha256(open(tmp, "rb").read()).hexdigest()
    size = os.path.getsize(tmp)
    os.rename(tmp, os.path.join(out, "blobs", "sha256", blob))

    def put(obj):
        b = json.dumps(obj).encode()
        d = hashlib.sha256(b).hexdigest()
        open(os.path.join(out, "blobs", "sha256", d), "wb").write(b)
        return {"digest": "sha256:" + d, "size": len(b)}

    cfg = put({"architecture": "amd64", "os": "linux", "config": {},
               "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff.hexdigest()]},
               "history": [{"created_by": "raw"}]})
    mt = "application/vnd.oci.image.layer.v1.tar" + ("+zstd" if compress else "")
    man = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
               "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
               "layers": [{"mediaType": mt, "digest": "sha256:" + blob, "size": size}]})
    json.dump({"schemaVersion": 2, "manifests": [dict(man, mediaType="application/vnd.oci.image.manifest.v1+json")]},
              open(os.path.join(out, "index.json"), "w"))
    open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')


def many(n):
    per = 1000
    buf = []
    for d in range((n + per - 1) // per):
        buf.append(header("d%d/" % d, b"5", mode=0o755))
        for i in range(min(per, n - d * per)):
            buf.append(header("d%d/%d" % (d, i)))
        yield b"".join(buf)
        buf = []
    yield b"\0" * 1024


def main():
    kind = sys.argv[1]
    if kind == "many":
        n = int(sys.argv[2])
        write_layout(sys.argv[3], many(n), True)
        print(n + (n + 999) // 1000)
    elif kind == "emptyname":
        body = b"ok\n"
        chunks = [header("ok", size=len(body)), body + b"\0" * (512 - len(body)), header(""), b"\0" * 1024]
        write_layout(sys.argv[2], chunks, False)
        print(1)
    else:
        sys.exit("rawimage.py: many N DIR | emptyname DIR")


main()
