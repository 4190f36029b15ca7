#!/usr/bin/env python3
"""Benchmark the index pass: whittle --report against a reference run in the
same process, on the same image.

Reference: reading every layer blob, decompressing it and hashing the stream
(what any verifying reader must do at least), with zcat/zstdcat | sha256sum.
Prints time ratios (whittle / reference, per job count) and the memory
whittle holds per entry: (peak RSS on the image - peak RSS on a tiny image)
/ entries.

usage: bench/index.py WHITTLE IMAGE_REF OCI_DIR TINY_IMAGE_REF
"""
import json, os, resource, subprocess, sys, time

def run(cmd, **kw):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    dt = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {p.stderr.decode()[-500:]}")
    return dt, after.ru_maxrss, p.stdout

def peak_rss(cmd):
    # ru_maxrss of children is a high-water mark over all children: use /usr/bin/time-free way
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"{cmd} failed")
    return ru.ru_maxrss * 1024

def main():
    whittle, ref, oci_dir, tiny = sys.argv[1:5]
    idx = json.load(open(os.path.join(oci_dir, "index.json")))
    man_digest = idx["manifests"][0]["digest"].split(":")[1]
    man = json.load(open(os.path.join(oci_dir, "blobs/sha256", man_digest)))
    blobs = [os.path.join(oci_dir, "blobs/sha256", l["digest"].split(":")[1]) for l in man["layers"]]

    def reference():
        for b in blobs:
            with open(b, "rb") as f:
                magic = f.read(4)
            dec = "zstdcat" if magic == b"\x28\xb5\x2f\xfd" else ("zcat" if magic[:2] == b"\x1f\x8b" else "cat")
            subprocess.run(f"{dec} < '{b}' | sha256sum > /dev/null && sha256sum '{b}' > /dev/null",
                           shell=True, check=True)

    reps = 3
    ref_t = min(timed(reference) for _ in range(reps))
    print(f"reference (decompress + sha256 of every layer, serial): {ref_t:.2f} s")
    report = None
    for jobs in (1, 2):
        ts = []
        for _ in range(reps):
            dt, _, out = run([whittle, "-q", "-j", str(jobs), "--report", "-", ref])
            ts.append(dt)
            report = out
        print(f"whittle --report -j {jobs}: {min(ts):.2f} s   ratio {min(ts) / ref_t:.2f}")
    entries = sum(l["added"] for l in json.loads(report)["layers"])  # rough count of entries
    files = json.loads(report)["image"]["file_count"]
    big = peak_rss([whittle, "-q", "-j", "1", "--report", "/dev/null", ref])
    small = peak_rss([whittle, "-q", "-j", "1", "--report", "/dev/null", tiny])
    print(f"peak RSS: {big / 1e6:.1f} MB on {files} files; {small / 1e6:.1f} MB on a tiny image")
    print(f"memory per file of the final tree: {(big - small) / max(files, 1):.0f} bytes"
          f" (entries, names, tree nodes and ELF facts together; {entries} entries added over all layers)")

def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0

if __name__ == "__main__":
    main()
