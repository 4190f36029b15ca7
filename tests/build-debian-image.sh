#!/bin/bash
# build-debian-image.sh OUTDIR: build whittle's real Debian test image.
#
# A multi-layer Debian bookworm OCI image, built once per build directory
# (tests/integration/lib.sh, need_debian_image, runs this under flock) and
# shared by every test that needs it. Needs root, mmdebstrap, umoci, gcc,
# libssl-dev, /usr/bin/python3 and Debian's package archive.
#
# OUTDIR, once built:
#   oci/          OCI layout, tag "bookworm"   (reference oci:OUTDIR/oci:bookworm)
#   expect.json   what the layers hold and hide (written by tests/debian/layer-expect.py)
#   layers.txt    one line per layer: "INDEX DIGEST DESCRIPTION"
#   done          hash of this script, tests/debian/* and the host tools' versions
# Beside OUTDIR: OUTDIR.debs/ (a cache of .deb files, kept across builds) and,
# while a build runs, .NAME.build.XXXXXX/ (renamed to OUTDIR when complete,
# so a killed build never leaves half an image behind).
#
# The layers (history created_by says the same):
#   0  mmdebstrap --variant=minbase bookworm, apt lists kept (/var/lib/apt/lists)
#   1  apt-get install --no-install-recommends python3 curl ca-certificates
#   2  the tests' programs: /usr/local/bin/whtest (C: NSS, gconv, pthread_cancel,
#      libcrypto), whtest.py (python C extensions), whtest.sh (sh -> curl)
#   3  cleanup: deletes a few changelog.Debian.gz, /var/lib/apt/lists/*,
#      /var/cache/apt/*.bin and all of /usr/share/man; overwrites /etc/motd;
#      reruns ldconfig (rewrites /etc/ld.so.cache); chmods one file (0600)
# then `umoci config` (an empty_layer history entry): entrypoint
# /usr/local/bin/whtest, Env PATH, WorkingDir /.
#
# Definitions used in expect.json (and by the tests that read it):
#   - A layer's size is the sum of the sizes, from the tar headers, of the
#     regular files in its tar. A hard link, directory, symlink, device or
#     whiteout counts 0.
#   - size_bytes is the sum over all layers; visible_bytes is the same sum
#     over the merged, final filesystem (whiteouts and opaque directories
#     applied, a later entry for a path replacing the earlier one).
#   - reclaimable_bytes = size_bytes - visible_bytes = the sum of the sizes
#     of the regular-file copies, in any layer, that are not visible in the
#     final filesystem: deleted by a later whiteout (of the file or of a
#     directory above it) or replaced by a later layer's entry for the same
#     path. A chmod or a rewrite with identical bytes counts too, because
#     umoci (like docker) re-adds the whole file; a path present in several
#     lower layers counts each lower copy. expect.json "hidden" lists every
#     such copy ({path, layer, size_bytes, hidden_by_layer, how}).
#   - "hidden_by_layer"[K].hidden_bytes: the copies layer K hid; their sum
#     over K is reclaimable_bytes. Layer 1 hides a few base-layer files too
#     (dpkg status, debconf caches, ld.so.cache: apt rewrote them).
#   - "cleanup_layer" lists what layer 3 deleted, overwrote or chmodded,
#     computed from `find` snapshots of the rootfs (not from the tars), each
#     path with every lower copy {layer, size_bytes, hidden_by_layer}:
#     size_bytes sums all its lower copies (a file rewritten in layers 0, 1
#     and 3 has two), hidden_bytes only the copy layer 3 itself hid.
#     cleanup_layer.hidden_bytes equals hidden_by_layer[3].hidden_bytes and
#     the copies equal the tar-derived "hidden" entries (the script checks).
#   - Figures vary a little between builds (apt's pkgcache.bin, dates):
#     tests read them from expect.json, never hard-code them.
# The build also checks that each layer's tar holds exactly the entries that
# changed in the rootfs (and whiteouts for the tops of deleted subtrees), and
# that the final image runs (whtest, whtest.py, whtest.sh in a chroot).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUTDIR=$(realpath -m "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$HERE/debian
. "$HERE/image-build-lib.sh"
TAG=bookworm
CLEANUP_LAYER=3
export SOURCE_DATE_EPOCH=1747699200 # 2025-05-20T00:00:00Z
export LC_ALL=C.UTF-8 TZ=UTC
CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

# Idempotence: the hash of everything the build reads from this host.
inputs_hash() {
	{
		cat "$0" "$HERE/image-build-lib.sh" "$SRC"/whtest.c "$SRC"/whtest.py "$SRC"/whtest.sh "$SRC"/layer-expect.py
		dpkg-query -W -f '${Package} ${Version}\n' gcc libc6-dev libssl-dev mmdebstrap umoci 2>&1
	} | sha256sum | cut -d' ' -f1
}
HASH=$(inputs_hash)
build_needed "$OUTDIR" "$HASH" mmdebstrap umoci gcc chroot /usr/bin/python3
[ -f /usr/include/openssl/evp.h ] || { echo "$0: needs libssl-dev (apt-get install libssl-dev)" >&2; exit 1; }

PARENT=$(dirname "$OUTDIR")
NAME=$(basename "$OUTDIR")
DEBS=$OUTDIR.debs
mkdir -p "$PARENT" "$DEBS"

# Leftovers of a killed build (we hold the lock, so none is running).
remove_leftovers "$PARENT" "$NAME"

WORK=$(mktemp -d "$PARENT/.$NAME.build.XXXXXX")
trap 'remove_tree "$WORK"' EXIT
OUT=$WORK/out            # becomes OUTDIR
OCI=$OUT/oci
B=$WORK/bundle
R=$B/rootfs
SNAPS=$WORK/snaps
mkdir -p "$OUT" "$SNAPS"
START=$(date +%s)
log() { echo "[$(($(date +%s) - START))s] $*"; }

nlayers=0
snapshot() {
	find "$R" -xdev -printf '%y\0%s\0%m\0%U\0%G\0%T@\0%n\0%l\0%P\0' >"$SNAPS/snap$1"
}
# repack DESCRIPTION: commit the rootfs as the next layer.
repack() {
	umoci repack --refresh-bundle --image "$OCI:$TAG" \
		--history.created "$CREATED" --history.created_by "$1" "$B"
	nlayers=$((nlayers + 1))
	snapshot "$nlayers"
	log "layer $((nlayers - 1)) done: $1"
}

umoci init --layout "$OCI"
umoci new --image "$OCI:$TAG"
umoci unpack --image "$OCI:$TAG" "$B"
snapshot 0

# --- layer 0: mmdebstrap minbase, apt lists kept --------------------------
rmdir "$R" # mmdebstrap creates it
log "mmdebstrap"
mmdebstrap_minbase "$R" "$DEBS" --skip=essential/unlink
compgen -G "$R/var/lib/apt/lists/*_Packages" >/dev/null ||
	{ echo "$0: mmdebstrap left no apt lists" >&2; exit 1; }
repack "mmdebstrap --variant=minbase bookworm (apt lists kept in /var/lib/apt/lists)"

# --- layer 1: apt-get install in a chroot ---------------------------------
log "apt-get install"
chroot_apt_begin "$R" "$WORK" "$DEBS"
chroot "$R" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y --no-install-recommends python3 curl ca-certificates </dev/null
chroot_apt_end "$R" "$WORK" "$DEBS"
repack "apt-get install -y --no-install-recommends python3 curl ca-certificates"

# --- layer 2: the tests' own programs -------------------------------------
log "whtest"
gcc -O2 -Wall -Wextra -Werror -o "$WORK/whtest" "$SRC/whtest.c" -lcrypto -lpthread
install -m 0755 "$WORK/whtest" "$R/usr/local/bin/whtest"
install -m 0755 "$SRC/whtest.py" "$R/usr/local/bin/whtest.py"
install -m 0755 "$SRC/whtest.sh" "$R/usr/local/bin/whtest.sh"
touch -h -d "@$SOURCE_DATE_EPOCH" "$R"/usr/local/bin/whtest* "$R/usr/local/bin"
repack "COPY whtest whtest.py whtest.sh /usr/local/bin/ (the tests' programs: C, python3, sh)"

# --- layer 3: delete, overwrite, chmod ------------------------------------
log "cleanup layer"
n=0
for pkg in curl libcurl4 python3.11 python3.11-minimal libssl3 ca-certificates openssl; do
	f=$R/usr/share/doc/$pkg/changelog.Debian.gz
	if [ -f "$f" ] && [ ! -L "$f" ]; then rm "$f"; n=$((n + 1)); fi
done
[ "$n" -ge 3 ] || { echo "$0: only $n changelogs to delete" >&2; exit 1; }
rm -rf "$R"/var/lib/apt/lists/*
rm -f "$R"/var/cache/apt/*.bin
[ -d "$R/usr/share/man" ] || { echo "$0: no /usr/share/man to delete" >&2; exit 1; }
rm -rf "$R/usr/share/man"
printf 'whittle test image: this file was overwritten in layer 3\n' >"$R/etc/motd"
chroot "$R" /sbin/ldconfig
[ -f "$R/usr/share/common-licenses/GPL-3" ] || { echo "$0: no GPL-3 to chmod" >&2; exit 1; }
chmod 0600 "$R/usr/share/common-licenses/GPL-3"
repack "RUN rm changelog.Debian.gz /var/lib/apt/lists/* /var/cache/apt/*.bin; rm -r /usr/share/man; overwrite /etc/motd; ldconfig; chmod 0600 /usr/share/common-licenses/GPL-3"

# --- config ----------------------------------------------------------------
umoci config --image "$OCI:$TAG" --created "$CREATED" --history.created "$CREATED" \
	--history.created_by "umoci config --config.entrypoint /usr/local/bin/whtest --config.env PATH=... --config.workingdir /" \
	--config.entrypoint /usr/local/bin/whtest \
	--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--config.workingdir /
umoci gc --layout "$OCI"

# --- check and describe ------------------------------------------------------
log "checking layers"
/usr/bin/python3 "$SRC/layer-expect.py" "$OUT" "$TAG" "$SNAPS" "$CLEANUP_LAYER"

log "smoke test of the final image"
remove_tree "$B"
umoci unpack --image "$OCI:$TAG" "$WORK/check"
C=$WORK/check/rootfs
mount -t proc proc "$C/proc"
chroot "$C" /usr/local/bin/whtest
chroot "$C" /usr/local/bin/whtest.py
chroot "$C" /usr/local/bin/whtest.sh >/dev/null
umount "$C/proc"
if command -v skopeo >/dev/null; then skopeo inspect "oci:$OCI:$TAG" >/dev/null; fi
remove_tree "$WORK/check"

chmod -R a+rX "$OUT" # umoci writes 0600 blobs; let any user read the image
echo "$HASH" >"$OUT/done"
if [ -e "$OUTDIR" ]; then
	mv "$OUTDIR" "$PARENT/.$NAME.old.$$"
fi
mv "$OUT" "$OUTDIR"
remove_tree "$PARENT/.$NAME.old.$$" 2>/dev/null || true
du -sh "$OCI" 2>/dev/null | sed "s|$OCI|$OUTDIR/oci|" || true
log "built $OUTDIR"
