#!/bin/sh
# seeds.sh OUTDIR: write a seed corpus for every fuzz target under OUTDIR/NAME
# (host files, archives made with tar/gzip/zstd, small texts). Not committed:
# made fresh on the machine that fuzzes.
set -eu
out=$1
sep='
--
'
mkdir -p "$out"
for t in elf ldso_cache ldso_conf dpkg layer tarscan oci scripts; do mkdir -p "$out/$t"; done

# elf: small host ELF files (an executable, a shared library, the loader, an object)
for f in /bin/true /usr/bin/env /usr/lib/x86_64-linux-gnu/libdl.so.2 /lib64/ld-linux-x86-64.so.2; do
	[ -f "$f" ] && cp -L "$f" "$out/elf/$(basename "$f")"
done
printf 'int main(void){return 0;}\n' > "$out/t.c"
if cc -c -o "$out/elf/obj.o" "$out/t.c" 2>/dev/null; then :; fi
if cc -m32 -o "$out/elf/true32" "$out/t.c" 2>/dev/null; then :; fi
rm -f "$out/t.c"

# ldso_cache: the host's cache
cp /etc/ld.so.cache "$out/ldso_cache/host"

# ldso_conf: conf, conf.d/a.conf, conf.d/b.conf, other.conf, conf.d/sub/c.conf
printf 'include /etc/ld.so.conf.d/*.conf\n/usr/local/lib # comment\n%s/usr/lib/x86_64-linux-gnu=libc6\n%s/opt/lib/\n%shwcap 0 x\ninclude sub/*.conf other.conf\n%s/lib/$LIB\n' \
	"" "" "" "" > "$out/ldso_conf/plain"
printf 'include /etc/ld.so.conf.d/*.conf%s/a/lib%s/b/lib $ORIGIN/../lib%sinclude ../other.conf%s/c' \
	"$sep" "$sep" "$sep" "$sep" > "$out/ldso_conf/nested"
printf 'include ld.so.conf\n' > "$out/ldso_conf/loop"

# dpkg: status, info/a.list, info/b:amd64.list, diversions, status.d/c, status.d/c.md5sums
{
	printf 'Package: a\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n\n'
	printf 'Package: b\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nVersion: 2\nDescription: x\n more\n\n'
	printf 'Package: old\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 0\n'
	printf '%s/.\n/usr\n/usr/bin\n/bin/ls\n/etc/a.conf%s/usr/bin/a\n/etc/loop/x%s/bin/ls\n/usr/bin/ls.distrib\nb\n' "$sep" "$sep" "$sep"
	printf '%sPackage: c\nArchitecture: amd64\nVersion: 3\n%s0123456789abcdef0123456789abcdef  usr/bin/a\n' "$sep" "$sep"
} > "$out/dpkg/all"
printf 'Package: z\nStatus: install ok installed\n' > "$out/dpkg/status-only"

# layer: tar, tar.gz, tar.zst with the kinds of entries layers have
tmp=$(mktemp -d)
mkdir -p "$tmp/r/etc/ld.so.conf.d" "$tmp/r/usr/bin" "$tmp/r/var/lib/dpkg/info" "$tmp/r/d"
printf '/usr/local/lib\n' > "$tmp/r/etc/ld.so.conf.d/a.conf"
printf '#!/bin/sh\necho hi\n' > "$tmp/r/usr/bin/s"
chmod +x "$tmp/r/usr/bin/s"
cp /bin/true "$tmp/r/usr/bin/true"
printf 'Package: a\nStatus: install ok installed\n' > "$tmp/r/var/lib/dpkg/status"
ln -s usr/bin "$tmp/r/bin"
ln "$tmp/r/usr/bin/s" "$tmp/r/usr/bin/s2"
: > "$tmp/r/d/.wh.gone"
: > "$tmp/r/d/.wh..wh..opq"
tar -C "$tmp/r" --sort=name --owner=0 --group=0 -cf "$out/layer/layer.tar" .
# keep the seeds small: a second tar without the ELF for the compressed ones
rm "$tmp/r/usr/bin/true"
tar -C "$tmp/r" --sort=name -cf "$tmp/small.tar" .
gzip -9n < "$tmp/small.tar" > "$out/layer/layer.tar.gz"
zstd -q -19 < "$tmp/small.tar" > "$out/layer/layer.tar.zst"
tar -C "$tmp/r" --format=pax --sort=name -cf "$out/layer/pax.tar" etc var
tar -C "$tmp/r" --format=gnu --sort=name -cf "$out/layer/gnu.tar" etc bin

# layer: the hostile layers of issue 13 (tests/integration/hostile.sh), small:
# writes through symlinks (absolute, climbing, same layer, a loop), .wh.
# names (.wh.., .wh..., a .wh.x directory), a hard-link chain and a hard
# link to a symlink, names with ESC/OSC/CR/LF/DEL/C1/invalid UTF-8, an ELF
# whose dynamic segment lies after 64 KiB of zeros, a "#!" script over its
# capture cap
/usr/bin/python3 - "$out/layer" <<'PY'
import io, struct, sys, tarfile
out = sys.argv[1]
def ti(name, typ=tarfile.REGTYPE, size=0, link=""):
    t = tarfile.TarInfo(name.decode("utf-8", "surrogateescape") if isinstance(name, bytes) else name)
    t.type, t.size, t.linkname, t.mode = typ, size, link, 0o755
    return t
def write(name, ents):
    with tarfile.open("%s/%s" % (out, name), "w", format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as tf:
        for e in ents:
            if isinstance(e, tuple):
                t, data = e
                t.size = len(data)
                tf.addfile(t, io.BytesIO(data))
            else:
                tf.addfile(e)
S, H, D = tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE
write("symlinks.tar", [ti("etc", D), (ti("etc/passwd"), b"old"), ti("b", S, link="/etc"),
      ti("x/y", D), ti("x/y/c", S, link="../../../.."), (ti("b/passwd"), b"new"),
      (ti("x/y/c/etc/hosts"), b"h"), ti("d", S, link="etc"), (ti("d/shadow"), b"s"),
      ti("b/.wh.group"), ti("b/skel/.wh..wh..opq"), ti("l1", S, link="l2"), ti("l2", S, link="l1"),
      (ti("l1/f"), b"x")])
write("wh-names.tar", [ti("a", D), ti("a/.wh.."), ti("a/.wh..."), (ti("a/.wh.x/y"), b"y")])
chain = [(ti("f"), b"data"), ti("h1", H, link="f")] + [ti("h%d" % i, H, link="h%d" % (i - 1)) for i in range(2, 120)]
write("hardlinks.tar", chain + [ti("s", S, link="f"), ti("hs", H, link="s")])
write("escapes.tar", [(ti(n), b"x") for n in (b"\x1b[31mred", b"\x1b]0;t\x07", b"cr\rlf\n", b"del\x7f",
      b"c1\x9b", b"c1u\xc2\x9b", b"bad\xff\xfe\xc3", b"back\\slash")] +
      [(ti(b"run\x1b]0;t\x07"), b"#!/opt/\x1b]0;x\x07/sh\x9b\necho\n")])
# ELF64: headers, interp and tables at the front, dynamic segment at the end
strs = b"\0libhostile.so.1\0getpwnam\0"
interp = b"/lib64/ld-linux-x86-64.so.2\0"
ip = 64 + 4 * 56; so = (ip + len(interp) + 7) & ~7
syms = b"\0" * 24 + struct.pack("<IBBHQQ", 17, 0x12, 0, 0, 0, 0)
ho = so + len(syms); hashtab = struct.pack("<III", 1, 2, 0) + b"\0" * 8
st = ho + len(hashtab); he = st + len(strs)
dyn = b"".join(struct.pack("<qQ", t, v) for t, v in ((1, 1), (5, st), (10, len(strs)), (6, so), (11, 24), (4, ho), (0, 0)))
size = 65536 + 4096; do = size - len(dyn)
eh = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, 4, 64, 0, 0)
ph = struct.pack("<IIQQQQQQ", 3, 4, ip, ip, ip, len(interp), len(interp), 1)
ph += struct.pack("<IIQQQQQQ", 1, 4, 0, 0, 0, he, he, 4096)
ph += struct.pack("<IIQQQQQQ", 1, 6, do, do, do, len(dyn), len(dyn), 4096)
ph += struct.pack("<IIQQQQQQ", 2, 6, do, do, do, len(dyn), len(dyn), 8)
head = bytearray(eh + ph); head += b"\0" * (ip - len(head)) + interp; head += b"\0" * (so - len(head)) + syms + hashtab + strs
elf = bytes(head) + b"\0" * (do - len(head)) + dyn
open("%s/../elf/dyn-at-end" % out, "wb").write(elf)
write("elf-dyn-at-end.tar", [(ti("bin/big"), elf), (ti("s.sh"), b"#!/bin/sh\n" + b"# pad\n" * 8000)])
PY
gzip -9n < "$out/layer/elf-dyn-at-end.tar" > "$out/layer/elf-dyn-at-end.tar.gz"
rm "$out/layer/elf-dyn-at-end.tar"

# tarscan: outer archives: an OCI-archive-like tar (ustar, pax, gnu long names)
mkdir -p "$tmp/o/blobs/sha256"
printf '{"schemaVersion":2}' > "$tmp/o/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$tmp/o/oci-layout"
printf 'x' > "$tmp/o/blobs/sha256/$(printf x | sha256sum | cut -c1-64)"
ln -s index.json "$tmp/o/link.json"
ln "$tmp/o/index.json" "$tmp/o/hard.json"
mkdir -p "$tmp/o/$(printf 'n%.0s' $(seq 1 120))"
tar -C "$tmp/o" --sort=name -cf "$out/tarscan/ustar.tar" index.json oci-layout blobs link.json hard.json
tar -C "$tmp/o" --format=pax --sort=name -cf "$out/tarscan/pax.tar" .
tar -C "$tmp/o" --format=gnu --sort=name -cf "$out/tarscan/gnu.tar" .
rm -rf "$tmp"

# oci: index.json, manifest, config ("@M", "@C", "@S" replaced by the harness)
cfg='{"architecture":"amd64","os":"linux","config":{"User":"1000","Env":["A=b"]},"rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]},"history":[{"created_by":"ADD x"},{"created_by":"ENV","empty_layer":true}]}'
man='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"@C","size":@S},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"@L","size":5}]}'
idx='{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"@M","size":1,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}'
printf '%s%s%s%s%s' "$idx" "$sep" "$man" "$sep" "$cfg" > "$out/oci/one"
idx2='{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"@M","size":1},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"@M","platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}'
printf '%s%s%s%s%s' "$idx2" "$sep" "$man" "$sep" "$cfg" > "$out/oci/nested"

# scripts: the first byte picks the reader (0 python, 1 perl, 2 ruby, 3 node,
# 4 apache2.conf, 5 my.cnf), the rest is the text
printf '\000#!/usr/bin/env python3\nimport importlib, sys\nm = importlib.import_module("plugins." + sys.argv[1])\nos = __import__("os")\n' > "$out/scripts/python"
printf '\001#!/usr/bin/perl\nuse strict;\nmy $c = shift;\neval "require $c" or die;\nrequire POSIX;\n' > "$out/scripts/perl"
printf '\002require "json"\nname = ARGV[0]\nrequire "plugins/#{name}"\n' > "$out/scripts/ruby"
printf '\003// a comment\nconst fs = require("fs");\nconst p = require("./plugins/" + process.argv[2]);\n' > "$out/scripts/node"
printf '\004ServerRoot "/etc/apache2"\nInclude mods-enabled/*.load\nIncludeOptional conf-enabled/*.conf\nLoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so\nDocumentRoot /var/www/html\n<Directory /var/www/>\n\tOptions Indexes\n</Directory>\nErrorLog ${APACHE_LOG_DIR}/error.log\n' > "$out/scripts/apache"
printf '\005[mysqld]\ndatadir = /var/lib/mysql\nsocket = /run/mysqld/mysqld.sock\nplugin_dir=/usr/lib/mysql/plugin\n!includedir /etc/mysql/conf.d/\n!include /etc/mysql/x.cnf\n' > "$out/scripts/mysql"

