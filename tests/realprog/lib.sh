# shellcheck shell=bash
# Helpers of the real-program suite, sourced after tests/integration/lib.sh.

# need_realprog_image: the suite's image, built once per build directory
# under flock (tests/build-realprog-image.sh) and shared by every program's
# test. Sets RP_IMG (the built directory: oci/, rootfs/, programs.txt).
need_realprog_image() {
	need_cmd mmdebstrap umoci flock
	local dir="$BUILDDIR/realprog-image"
	mkdir -p "$dir"
	flock "$dir.lock" "$SRCDIR/tests/build-realprog-image.sh" "$dir" >>"$dir.log" 2>&1 ||
		{ echo "building the real-program image failed; log:" >&2; tail -40 "$dir.log" >&2; exit 1; }
	# shellcheck disable=SC2034 # read by run.sh, which sources this file
	RP_IMG=$dir
}

# rp_lookup FILE PROGRAM: the rest of each line of FILE that starts with PROGRAM
rp_lookup() {
	awk -v p="$2" '$1 == p { sub(/^[^ \t]+[ \t]+/, ""); print }' "$1"
}
