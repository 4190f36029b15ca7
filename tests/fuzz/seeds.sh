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
for t in elf ldso_cache ldso_conf dpkg layer tarscan oci; do mkdir -p "$out/$t"; done

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
