# addlayer.py OCI TAG DIR ENTRYPOINT_JSON CMD_JSON: one more layer (DIR's files, owned by root) on the image
# OCI:TAG, and its Entrypoint and Cmd set; new blobs, a new index.json (nothing else is changed in place).
import gzip, hashlib, io, json, os, sys, tarfile
oci, tag, src = sys.argv[1:4]
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(oci, "blobs/sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d
def read(digest):
    return open(os.path.join(oci, "blobs/sha256", digest.split(":")[1]), "rb").read()
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    def owned(ti):
        ti.uid = ti.gid = 0; ti.uname = ti.gname = "root"; ti.mtime = 0
        return ti
    for name in sorted(os.listdir(src)):
        t.add(os.path.join(src, name), arcname=name, filter=owned)
layer = gzip.compress(raw.getvalue(), mtime=0)
index = json.loads(open(os.path.join(oci, "index.json")).read())
desc = [m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
manifest = json.loads(read(desc["digest"]))
config = json.loads(read(manifest["config"]["digest"]))
config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw.getvalue()).hexdigest())
config.setdefault("history", []).append({"created_by": "addlayer.py"})
config["config"]["Entrypoint"] = json.loads(sys.argv[4])
config["config"]["Cmd"] = json.loads(sys.argv[5])
cdata = json.dumps(config).encode()
manifest["config"] = {"mediaType": manifest["config"]["mediaType"], "digest": blob(cdata), "size": len(cdata)}
manifest["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(layer),
                           "size": len(layer)})
mdata = json.dumps(manifest).encode()
desc["digest"], desc["size"] = blob(mdata), len(mdata)
tmp = os.path.join(oci, "index.json.new")
open(tmp, "w").write(json.dumps(index))
os.replace(tmp, os.path.join(oci, "index.json"))
