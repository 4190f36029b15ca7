#!/usr/bin/python3
"""Write OCI layouts (tag "t", gzip layers) whose layers mkimage cannot write
or would take long to: names with any byte (GNU tar headers, raw bytes),
files of hundreds of MiB streamed from generators, tens of thousands of
entries. Every expected value of hostile.sh comes from what this writes.

usage: hostile_image.py KIND DIR
  esc      names with ESC, OSC, CR, LF, DEL, C1 and invalid UTF-8 bytes, a
           script whose "#!" line names a missing interpreter with an OSC
  bigelf   one 600 MiB ELF: its dynamic segment and tables after 600 MiB
           of zeros (DT_NEEDED libhostile.so.1, imports getpwnam)
  lists    100 dpkg info/*.list files of 16 MiB
  scripts  50,000 "#!/bin/sh" scripts of 64 KiB
"""
import gzip, hashlib, io, json, os, struct, sys, tarfile

MiB = 1 << 20


class Pattern(io.RawIOBase):
    """size bytes: head, then fill bytes, then tail, with extra pieces
    {offset: bytes} laid over the fill (never all in memory)."""

    def __init__(self, size, head=b"", tail=b"", fill=b"\0", pieces=None):
        self.size, self.pos = size, 0
        self.pieces = sorted(((0, head), (size - len(tail), tail)) + tuple((pieces or {}).items()))
        self.block = fill * (65536 // len(fill))

    def byte_range(self, p, end):
        out = bytearray()
        while p < end:
            piece = next(((o, b) for o, b in self.pieces if o <= p < o + len(b)), None)
            if piece:
                o, b = piece
                c = b[p - o:min(len(b), end - o)]
            else:
                nxt = min([o for o, b in self.pieces if o > p] + [end])
                k = min(nxt, end) - p
                c = (self.block * (k // len(self.block) + 1))[:k] if k > len(self.block) else self.block[:k]
            out += c
            p += len(c)
        return bytes(out)

    def read(self, n=-1):
        if n < 0:
            n = self.size - self.pos
        n = min(n, self.size - self.pos)
        out = self.byte_range(self.pos, self.pos + n)
        self.pos += len(out)
        return out


class Hashing:
    def __init__(self, f):
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def write(self, b):
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)

    def tell(self):
        return self.n

    def flush(self):
        pass


def info(name, size=0, mode=0o644, typ=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.type, ti.linkname, ti.mtime = size, mode, typ, link, 0
    return ti


def write_layout(out, layers, entrypoint=None):
    """layers: lists of generators of (TarInfo, fileobj or None)."""
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs)
    descs, diff_ids = [], []
    for entries in layers:
        tmp = os.path.join(out, "layer.tmp")
        with open(tmp, "wb") as raw:
            comp = Hashing(raw)
            gz = gzip.GzipFile(fileobj=comp, mode="wb", compresslevel=1, mtime=0)
            diff = Hashing(gz)
            tf = tarfile.TarFile(fileobj=diff, mode="w", format=tarfile.GNU_FORMAT,
                                 encoding="utf-8", errors="surrogateescape")
            for ti, f in entries:
                tf.addfile(ti, f)
            tf.close()
            gz.close()
        d = comp.h.hexdigest()
        os.rename(tmp, os.path.join(blobs, d))
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                      "digest": "sha256:" + d, "size": os.path.getsize(os.path.join(blobs, d))})
        diff_ids.append("sha256:" + diff.h.hexdigest())

    def blob(obj):
        b = json.dumps(obj, sort_keys=True).encode()
        d = hashlib.sha256(b).hexdigest()
        open(os.path.join(blobs, d), "wb").write(b)
        return {"digest": "sha256:" + d, "size": len(b)}

    cfg = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids},
           "config": {"Entrypoint": entrypoint} if entrypoint else {}}
    c = blob(cfg)
    c["mediaType"] = "application/vnd.oci.image.config.v1+json"
    m = blob({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "config": c, "layers": descs})
    m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    m["annotations"] = {"org.opencontainers.image.ref.name": "t"}
    json.dump({"schemaVersion": 2, "manifests": [m]}, open(os.path.join(out, "index.json"), "w"))
    json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))


def raw(b):
    """bytes -> the str tarfile writes back as those bytes"""
    return b.decode("utf-8", "surrogateescape")


def regular(name, data, mode=0o644):
    return info(raw(name), len(data), mode), io.BytesIO(data)


ESC_NAMES = [b"esc-\x1b[31mred", b"esc-cr\rforged", b"esc-lf\nforged: line", b"esc-del\x7f",
             b"esc-c1\x9b31m", b"esc-c1utf8\xc2\x9b31m", b"esc-bad\xff\xfe\xc3", b"esc-back\\slash"]
ESC_SCRIPT = b"app/run\x1b]0;pwned\x07"
ESC_INTERP = b"/opt/\x1b]0;title\x07/sh\x9b"
ESC_DUP = b"dup-\x1b[2Jwasted"


def esc(out):
    l1 = [(info("app", 0, 0o755, tarfile.DIRTYPE), None),
          (info("dup", 0, 0o755, tarfile.DIRTYPE), None),
          regular(ESC_SCRIPT, b"#!" + ESC_INTERP + b"\necho hi\n", 0o755)]
    l1 += [regular(n, b"x") for n in ESC_NAMES]
    l1.append(regular(ESC_DUP, b"a" * 4096))
    l2 = [regular(ESC_DUP, b"b" * 4096)]
    write_layout(out, [l1, l2], entrypoint=["/" + raw(ESC_SCRIPT)])


def elf64(size, needed, imports, tables_at=None):
    """A little-endian x86-64 ET_DYN of `size` bytes: headers, PT_INTERP,
    .dynsym, .hash and .dynstr in a first PT_LOAD at the front; zeros; the
    dynamic segment in a second PT_LOAD at the very end."""
    strs = b"\0"
    off_of = {}
    for s in needed + imports:
        off_of[s] = len(strs)
        strs += s.encode() + b"\0"
    interp = b"/lib64/ld-linux-x86-64.so.2\0"
    # first segment: ehdr(64) phdrs(4*56) interp, symtab, hash, strtab
    ph_off, n_ph = 64, 4
    interp_off = ph_off + n_ph * 56
    sym_off = (interp_off + len(interp) + 7) & ~7 if tables_at is None else tables_at
    nsyms = 1 + len(imports)
    syms = b"\0" * 24
    for s in imports:  # st_name, st_info (GLOBAL FUNC), st_other, st_shndx UNDEF, value, size
        syms += struct.pack("<IBBHQQ", off_of[s], 0x12, 0, 0, 0, 0)
    hash_off = sym_off + len(syms)
    hashtab = struct.pack("<II", 1, nsyms) + struct.pack("<I", 0) + b"\0" * (4 * nsyms)
    str_off = hash_off + len(hashtab)
    head_end = str_off + len(strs)
    dyn = b""
    for s in needed:
        dyn += struct.pack("<qQ", 1, off_of[s])          # DT_NEEDED
    dyn += struct.pack("<qQ", 5, str_off)                 # DT_STRTAB (vaddr = offset)
    dyn += struct.pack("<qQ", 10, len(strs))              # DT_STRSZ
    dyn += struct.pack("<qQ", 6, sym_off)                 # DT_SYMTAB
    dyn += struct.pack("<qQ", 11, 24)                     # DT_SYMENT
    dyn += struct.pack("<qQ", 4, hash_off)                # DT_HASH
    dyn += struct.pack("<qQ", 0, 0)                       # DT_NULL
    dyn_off = size - len(dyn)
    ehdr = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0, ph_off, 0, 0, 64, 56, n_ph, 64, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 3, 4, interp_off, interp_off, interp_off, len(interp), len(interp), 1)
    ph += struct.pack("<IIQQQQQQ", 1, 4, 0, 0, 0, head_end, head_end, 4096)
    ph += struct.pack("<IIQQQQQQ", 1, 6, dyn_off, dyn_off, dyn_off, len(dyn), len(dyn), 4096)
    ph += struct.pack("<IIQQQQQQ", 2, 6, dyn_off, dyn_off, dyn_off, len(dyn), len(dyn), 8)
    head = bytearray(ehdr + ph)
    head += b"\0" * (interp_off - len(head)) + interp
    if tables_at is None:
        head += b"\0" * (sym_off - len(head)) + syms + hashtab + strs
        return Pattern(size, bytes(head), dyn)
    return Pattern(size, bytes(head), dyn, pieces={sym_off: syms + hashtab + strs})


def bigelf(out):
    """/bin/big: its tables at the front (as linkers put them), its dynamic
    segment at the end, 600 MiB on; /bin/far: its tables 300 MiB in, named
    by a dynamic segment at the end (no forward pass keeps them within a
    bounded buffer)."""
    size = 600 * MiB
    big = elf64(size, ["libhostile.so.1"], ["getpwnam"])
    far = elf64(size, ["libfar.so.1"], ["getpwnam"], tables_at=300 * MiB)
    write_layout(out, [[(info("bin", 0, 0o755, tarfile.DIRTYPE), None),
                        (info("bin/big", size, 0o755), big), (info("bin/far", size, 0o755), far)]],
                 entrypoint=["/bin/big"])


def lists(out):
    ents = [(info(d, 0, 0o755, tarfile.DIRTYPE), None) for d in ("var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info")]
    for i in range(100):
        ents.append((info("var/lib/dpkg/info/pkg%03d.list" % i, 16 * MiB), Pattern(16 * MiB, b"/.\n", b"\n", b"/usr/x\n")))
    write_layout(out, [ents])


def scripts(out):
    def gen():
        yield info("bin", 0, 0o755, tarfile.DIRTYPE), None
        yield regular(b"bin/sh", b"#!/bin/sh\n", 0o755)  # no unresolved need per script
        yield info("s", 0, 0o755, tarfile.DIRTYPE), None
        for i in range(50000):
            if i % 1000 == 0:
                yield info("s/%02d" % (i // 1000), 0, 0o755, tarfile.DIRTYPE), None
            yield info("s/%02d/x%05d" % (i // 1000, i), 64 * 1024, 0o755), Pattern(64 * 1024, b"#!/bin/sh\n", b"\n", b"# pad\n")
    write_layout(out, [gen()])


if __name__ == "__main__":
    {"esc": esc, "bigelf": bigelf, "lists": lists, "scripts": scripts}[sys.argv[1]](sys.argv[2])
