#!/usr/bin/env python3
"""Write a one-layer OCI layout directory with N small files (for the memory
and responsiveness benchmarks): bench/mkbig.py DIR N"""
import gzip, hashlib, io, json, os, sys, tarfile

def blob(d, data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(d, "blobs", "sha256", h), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + h, "size": len(data)}

def main():
    out, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        per_dir = 1000
        for i in range(n):
            if i % per_dir == 0:
                ti = tarfile.TarInfo(f"usr/share/pkg{i // per_dir:05d}")
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            data = f"file {i}\n".encode()
            ti = tarfile.TarInfo(f"usr/share/pkg{i // per_dir:05d}/some-longer-file-name-{i:07d}.txt")
            ti.size, ti.mode = len(data), 0o644
            t.addfile(ti, io.BytesIO(data))
    tar = raw.getvalue()
    gz = gzip.compress(tar, mtime=0)
    layer = blob(out, gz)
    layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    cfg = {"architecture": "amd64", "os": "linux", "config": {},
           "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
           "history": [{"created_by": f"{n} files"}]}
    c = blob(out, json.dumps(cfg).encode())
    c["mediaType"] = "application/vnd.oci.image.config.v1+json"
    m = blob(out, json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                              "config": c, "layers": [layer]}).encode())
    m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    m["annotations"] = {"org.opencontainers.image.ref.name": "big"}
    json.dump({"schemaVersion": 2, "manifests": [m]}, open(os.path.join(out, "index.json"), "w"))
    json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))

main()
