#!/bin/bash
# build-realprog-image.sh OUTDIR: the image of the real-program suite
# (tests/realprog/), built once per build directory under flock by
# need_realprog_image in tests/realprog/lib.sh.
#
# A Debian bookworm OCI image with real programs and one tag per program,
# whose config sets Entrypoint/Cmd/User/WorkingDir as that program's usual
# container image does. Needs root, mmdebstrap, umoci and Debian's archive.
#
# OUTDIR, once built:
#   oci/          OCI layout; tags: base and one per program (programs.txt)
#   rootfs/       the final filesystem as `umoci unpack` writes it (all tags
#                 share the layers), read-only lower layer of the tests' runs
#   programs.txt  the tags, one a line
#   done          hash of this script, tests/realprog/app/* and host tools
# Beside OUTDIR: OUTDIR.debs/ (the .deb cache, kept across builds) and,
# while a build runs, .NAME.build.XXXXXX/ (renamed to OUTDIR when complete).
#
# The layers:
#   0  mmdebstrap --variant=minbase bookworm
#   1  apt-get install --no-install-recommends the programs; apt lists and
#      caches removed in the same step, as a Dockerfile RUN does
#   2  the suite's files: /app (scripts, the flask app, a jar built in the
#      image with its own JRE's compiler module), apache2's entrypoint,
#      page, CGI script and listing configuration, run directories
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUTDIR=$(realpath -m "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
APP=$HERE/realprog/app
. "$HERE/image-build-lib.sh"
export SOURCE_DATE_EPOCH=1747699200 # 2025-05-20T00:00:00Z
export LC_ALL=C.UTF-8 TZ=UTC
CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
PACKAGES=(apache2 memcached mariadb-server mariadb-client git openjdk-17-jre-headless
	nodejs ruby perl python3 python3-flask bash coreutils grep sed gawk findutils tzdata)

inputs_hash() {
	{
		cat "$0" "$HERE/image-build-lib.sh"
		(cd "$APP" && find . -type f | LC_ALL=C sort | xargs sha256sum)
		dpkg-query -W -f '${Package} ${Version}\n' mmdebstrap umoci 2>&1
	} | sha256sum | cut -d' ' -f1
}
HASH=$(inputs_hash)
build_needed "$OUTDIR" "$HASH" mmdebstrap umoci chroot

PARENT=$(dirname "$OUTDIR")
NAME=$(basename "$OUTDIR")
DEBS=$OUTDIR.debs
mkdir -p "$PARENT" "$DEBS"

remove_leftovers "$PARENT" "$NAME"

WORK=$(mktemp -d "$PARENT/.$NAME.build.XXXXXX")
trap 'remove_tree "$WORK"' EXIT
OUT=$WORK/out
OCI=$OUT/oci
B=$WORK/bundle
R=$B/rootfs
mkdir -p "$OUT"
START=$(date +%s)
log() { echo "[$(($(date +%s) - START))s] $*"; }

repack() {
	umoci repack --refresh-bundle --image "$OCI:base" \
		--history.created "$CREATED" --history.created_by "$1" "$B"
	log "layer done: $1"
}

umoci init --layout "$OCI"
umoci new --image "$OCI:base"
umoci unpack --image "$OCI:base" "$B"

# --- layer 0: mmdebstrap minbase ------------------------------------------
rmdir "$R"
log "mmdebstrap"
mmdebstrap_minbase "$R" "$DEBS"
repack "mmdebstrap --variant=minbase bookworm"

# --- layer 1: apt-get install in a chroot ---------------------------------
# resolv.conf copied in, proc and dev mounted, services kept from starting
# (policy-rc.d, as Debian's container images have); all undone before repack.
log "apt-get install ${PACKAGES[*]}"
chroot_apt_begin "$R" "$WORK" "$DEBS"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"
chroot "$R" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y --no-install-recommends "${PACKAGES[@]}" </dev/null
# apache2: CGI (mod_cgid under mpm_event) and the listing's configuration
install -m 0644 "$APP/apache2/realprog.conf" "$R/etc/apache2/conf-available/realprog.conf"
chroot "$R" a2enmod -q cgid
chroot "$R" a2enconf -q realprog
chroot_apt_end "$R" "$WORK" "$DEBS"
rm -f "$R/usr/sbin/policy-rc.d"
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/log/apt/* "$R"/var/log/dpkg.log
# the data directory is made by the container's first start, not the image
rm -rf "$R"/var/lib/mysql/*
repack "RUN apt-get install -y --no-install-recommends ${PACKAGES[*]} && a2enmod cgid && a2enconf realprog && rm -rf /var/lib/apt/lists/*"

# --- layer 2: the suite's files -------------------------------------------
log "app layer"
mkdir -p "$R/app" "$R/git"
install -m 0644 "$APP"/app.js "$APP"/app.rb "$APP"/app.pl "$APP"/app.py "$R/app/"
install -m 0755 "$APP"/script.sh "$R/app/"
mkdir -p "$R/app/flask"
install -m 0644 "$APP/flask/app.py" "$R/app/flask/app.py"
install -m 0755 "$APP/apache2/apache2-foreground" "$R/usr/local/bin/apache2-foreground"
install -m 0644 "$APP/apache2/index.html" "$R/var/www/html/index.html"
mkdir -p "$R/var/www/html/files"
echo one >"$R/var/www/html/files/one.txt"
echo two >"$R/var/www/html/files/two.txt"
install -m 0755 "$APP/apache2/hello.cgi" "$R/usr/lib/cgi-bin/hello.cgi"
mkdir -p "$R/run/mysqld"
chroot "$R" chown mysql:mysql /run/mysqld /var/lib/mysql
# the jar, compiled and packed by the image's own JRE (its modules image
# holds jdk.compiler and jdk.jartool; the launchers javac and jar are not in
# the -headless JRE)
J=$R/tmp/javabuild
mkdir -p "$J/classes"
cp "$APP/java/Hello.java" "$APP/java/MANIFEST.MF" "$J/"
cp "$APP/java/greeting.txt" "$J/classes/"
mount -t proc proc "$R/proc"
chroot "$R" java -m jdk.compiler/com.sun.tools.javac.Main -encoding UTF-8 --release 17 -d /tmp/javabuild/classes /tmp/javabuild/Hello.java
chroot "$R" java -m jdk.jartool/sun.tools.jar.Main --create --file /app/hello.jar \
	--manifest /tmp/javabuild/MANIFEST.MF --date "$CREATED" -C /tmp/javabuild/classes .
umount "$R/proc"
rm -rf "$J"
find "$R/app" "$R/usr/local/bin" "$R/var/www/html" "$R/usr/lib/cgi-bin" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
repack "COPY the suite's apps to /app, apache2-foreground, index.html, hello.cgi; javac + jar hello.jar"

# --- one tag per program --------------------------------------------------
# tag NAME CREATED_BY UMOCI_CONFIG_ARGS...
tag() {
	local name=$1
	shift
	umoci config --image "$OCI:base" --tag "$name" --created "$CREATED" \
		--history.created "$CREATED" --history.created_by "umoci config $*" \
		--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--config.env LANG=C.UTF-8 "$@"
	echo "$name" >>"$OUT/programs.txt"
}
: >"$OUT/programs.txt"
tag apache2 --config.entrypoint apache2-foreground --config.workingdir /var/www/html \
	--config.exposedports 80/tcp
tag memcached --config.entrypoint memcached --config.user memcache --config.exposedports 11211/tcp
tag mariadb --config.entrypoint mariadbd --config.user mysql --config.exposedports 3306/tcp
tag git --config.entrypoint git --config.workingdir /git
tag java --config.entrypoint java --config.entrypoint -jar --config.entrypoint /app/hello.jar --config.workingdir /app
tag node --config.cmd node --config.cmd app.js --config.workingdir /app
tag ruby --config.cmd ruby --config.cmd app.rb --config.workingdir /app
tag perl --config.cmd perl --config.cmd app.pl --config.workingdir /app
tag python --config.cmd python3 --config.cmd app.py --config.workingdir /app
tag flask --config.cmd python3 --config.cmd app.py --config.workingdir /app/flask --config.exposedports 5000/tcp
tag bash --config.cmd bash --config.cmd /app/script.sh --config.workingdir /app
umoci gc --layout "$OCI"

log "unpacking the final filesystem"
remove_tree "$B"
umoci unpack --image "$OCI:base" "$WORK/final" >/dev/null
mv "$WORK/final/rootfs" "$OUT/rootfs"
remove_tree "$WORK/final"

chmod -R a+rX "$OCI"
echo "$HASH" >"$OUT/done"
if [ -e "$OUTDIR" ]; then
	mv "$OUTDIR" "$PARENT/.$NAME.old.$$"
fi
mv "$OUT" "$OUTDIR"
remove_tree "$PARENT/.$NAME.old.$$" 2>/dev/null || true
du -sh "$OUTDIR/oci" "$OUTDIR/rootfs" 2>/dev/null || true
log "built $OUTDIR"
