# Shared by the Debian image builders (tests/build-debian-image.sh,
# tests/build-realprog-image.sh), which source it: their build directory's
# cleanup, mmdebstrap with a .deb cache, and apt in a chroot.

# umount_below DIR: unmount whatever is mounted below DIR, deepest first;
# fail when one stays.
umount_below() {
	local m
	awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r m; do umount "$m" || umount -l "$m"; done
	! awk -v d="$1/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts
}
remove_tree() { umount_below "$1" && rm -rf --one-file-system "$1"; }

# remove_leftovers PARENT NAME: what a killed build of PARENT/NAME left
# (.NAME.build.* and .NAME.old.*); the caller holds the build's lock.
remove_leftovers() {
	local old
	for old in "$1/.$2".build.* "$1/.$2".old.*; do
		if [ -e "$old" ]; then remove_tree "$old"; fi
	done
}

# mmdebstrap_minbase ROOTFS DEBS [MMDEBSTRAP_OPTION...]: Debian bookworm,
# variant minbase, apt lists kept, into ROOTFS (which must not exist);
# the .debs come from and go to the cache directory DEBS.
mmdebstrap_minbase() {
	local r=$1 debs=$2
	shift 2
	# shellcheck disable=SC2016 # mmdebstrap gives the hooks "$1" (the rootfs)
	mmdebstrap --variant=minbase --mode=root --format=directory \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--skip=cleanup/apt/lists "$@" \
		--setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
		--setup-hook="sync-in $debs /var/cache/apt/archives" \
		--customize-hook="sync-out /var/cache/apt/archives $debs" \
		--customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
		bookworm "$r" \
		"deb http://deb.debian.org/debian bookworm main" \
		"deb http://deb.debian.org/debian bookworm-updates main" \
		"deb http://deb.debian.org/debian-security bookworm-security main" </dev/null
}

# chroot_apt_begin ROOTFS SAVEDIR DEBS: ready ROOTFS for apt-get in a
# chroot: the host's resolv.conf copied in (the image's own kept in
# SAVEDIR), proc, dev and dev/pts mounted, the cached .debs in apt's archive.
chroot_apt_begin() {
	local r=$1 save=$2 debs=$3
	rm -f "$save/resolv.conf.none"
	if [ -e "$r/etc/resolv.conf" ] || [ -L "$r/etc/resolv.conf" ]; then
		mv "$r/etc/resolv.conf" "$save/resolv.conf.image"
	else
		: >"$save/resolv.conf.none"
	fi
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	mount -t proc proc "$r/proc"
	mount --bind /dev "$r/dev"
	mount --bind /dev/pts "$r/dev/pts"
	find "$debs" -maxdepth 1 -name '*.deb' -exec cp -t "$r/var/cache/apt/archives/" {} +
}

# chroot_apt_end ROOTFS SAVEDIR DEBS: the new .debs into DEBS, the archive
# emptied, the mounts and resolv.conf undone.
chroot_apt_end() {
	local r=$1 save=$2 debs=$3
	find "$r/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$debs/" {} +
	find "$r/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -delete
	umount "$r/dev/pts"
	umount "$r/dev"
	umount "$r/proc"
	rm -f "$r/etc/resolv.conf"
	if [ -e "$save/resolv.conf.none" ]; then
		rm -f "$save/resolv.conf.none"
	else
		mv "$save/resolv.conf.image" "$r/etc/resolv.conf"
	fi
	umount_below "$r"
}

# build_needed OUTDIR HASH COMMAND...: exit 0 (from the sourcing builder)
# when OUTDIR/done holds HASH and its layout is complete; otherwise check
# that the build can run here: root and each COMMAND on PATH.
build_needed() {
	local out=$1 hash=$2 c
	shift 2
	if [ -f "$out/done" ] && [ "$(cat "$out/done")" = "$hash" ] && [ -f "$out/oci/index.json" ]; then
		echo "up to date: $out"
		exit 0
	fi
	[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (mmdebstrap, chroot, umoci unpack)" >&2; exit 1; }
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "$0: needs $c" >&2; exit 1; }
	done
}
