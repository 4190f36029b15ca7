#!/bin/bash
# inner.sh PROGRAM OCI_DIR TAG ROOT LOWER OUT STRACE
#
# Runs inside `unshare --net --mount --pid --fork` (see run.sh): one
# program's scenario against one root, isolated from the host. Brings up
# loopback; when ROOT is "overlay", the root is an overlay mount of LOWER
# (the original's unpacked rootfs, never written) with an upper directory
# under OUT; mounts what a container runtime provides (proc, sysfs
# read-only, a tmpfs /dev with the usual device nodes, /dev/shm) and writes
# /etc/hosts, /etc/hostname and /etc/resolv.conf as a runtime does. All of
# it lives in this mount namespace only: no host path is bind-mounted.
# Clients run in this namespace too: curl and python3 from the host, the
# mariadb client from a second overlay of LOWER ($CROOT).
# The scenario (scenarios.sh) writes what a client sees to OUT/transcript;
# with STRACE=1 every process started from the image runs under strace -f,
# one log a process in OUT/strace.N.PID (strace -ff).
set -euo pipefail
PROGRAM=$1 OCI=$2 TAG=$3 ROOT=$4 LOWER=$5 OUT=$6 STRACE=$7
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

ip link set lo up
# isolation, checked by run.sh: pid 1 of a new pid namespace, and the
# listener run.sh keeps on the host's loopback (port RP_HOST_PORT) unreachable
{
	[ "$$" -eq 1 ] && echo "pid 1" || echo "pid $$, not a new pid namespace"
	if $PY -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2).close()' \
		"${RP_HOST_PORT:?}" 2>/dev/null; then
		echo "the host's loopback answers"
	else
		echo "host unreachable"
	fi
} >"$OUT/isolation"

overlay() { # overlay NAME: an overlay of LOWER at OUT/NAME.merged, printed
	mkdir -p "$OUT/$1.upper" "$OUT/$1.work" "$OUT/$1.merged"
	mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$OUT/$1.upper,workdir=$OUT/$1.work" "$OUT/$1.merged"
	echo "$OUT/$1.merged"
}
# runtime_mounts ROOT: what docker/runc give every container
runtime_mounts() {
	local r=$1
	mkdir -p "$r/proc" "$r/sys" "$r/dev" "$r/etc"
	mount -t proc proc "$r/proc"
	mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"
	mount -t tmpfs -o nosuid,mode=0755,size=65536k tmpfs "$r/dev"
	mknod -m 0666 "$r/dev/null" c 1 3
	mknod -m 0666 "$r/dev/zero" c 1 5
	mknod -m 0666 "$r/dev/full" c 1 7
	mknod -m 0666 "$r/dev/random" c 1 8
	mknod -m 0666 "$r/dev/urandom" c 1 9
	mknod -m 0666 "$r/dev/tty" c 5 0
	ln -s /proc/self/fd "$r/dev/fd"
	ln -s /proc/self/fd/0 "$r/dev/stdin"
	ln -s /proc/self/fd/1 "$r/dev/stdout"
	ln -s /proc/self/fd/2 "$r/dev/stderr"
	mkdir -p "$r/dev/shm" "$r/dev/pts"
	mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm "$r/dev/shm"
	rm -f "$r/etc/hosts" "$r/etc/hostname" "$r/etc/resolv.conf"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\trealprog\n' >"$r/etc/hosts"
	echo realprog >"$r/etc/hostname"
	: >"$r/etc/resolv.conf"
}

if [ "$ROOT" = overlay ]; then
	ROOT=$(overlay root)
fi
runtime_mounts "$ROOT"
CROOT=
client_root() { # the original's tools for clients (the mariadb client)
	if [ -z "$CROOT" ]; then
		CROOT=$(overlay client)
		runtime_mounts "$CROOT"
	fi
}

nstrace=0
# launch_cmd [launch.py options] [-- ARGS]: sets LAUNCH, the command that
# runs the image's process in ROOT (under strace -f when STRACE=1)
launch_cmd() {
	LAUNCH=()
	if [ "$STRACE" = 1 ]; then
		nstrace=$((nstrace + 1))
		# shellcheck disable=SC2054 # commas inside strace -e, not between words
		LAUNCH=(strace -f -ff -qq -o "$OUT/strace.$nstrace" -e trace=%file,%process)
	fi
	LAUNCH+=("$PY" "$HERE/launch.py" "$OCI" "$TAG" "$ROOT" "$@")
}
TR=$OUT/transcript
: >"$TR"
note() { printf '%s\n' "$*" >>"$TR"; }
# run_entry [launch.py options] [-- ARGS]: a one-shot run, its stdout and status into the transcript
run_entry() {
	local rc=0
	note "## run $*"
	launch_cmd "$@"
	timeout 120 "${LAUNCH[@]}" </dev/null >>"$TR" 2>>"$OUT/stderr" || rc=$?
	note "## exit $rc"
}
# start_server [launch.py options] [-- ARGS]: the image's process in the background
SERVER_PID=
# shellcheck disable=SC2120 # the scenarios use the image's own command so far
start_server() {
	launch_cmd "$@"
	"${LAUNCH[@]}" </dev/null >>"$OUT/server.log" 2>&1 &
	SERVER_PID=$!
}
# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT; notes a timeout
wait_port() {
	local i
	for ((i = 0; i < ${2:-60} * 5; i++)); do
		if $PY -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; then
			return 0
		fi
		if [ -n "$SERVER_PID" ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
			wait "$SERVER_PID" && rc=0 || rc=$?
			note "## server exited ($rc) before port $1 opened"
			return 1
		fi
		sleep 0.2
	done
	note "## nothing listens on port $1 after ${2:-60} s"
	return 1
}
# http PATH...: status and body of each GET on 127.0.0.1:$HTTP_PORT
http() {
	local p
	for p in "$@"; do
		note "## GET $p"
		curl -sS --max-time 20 -o "$OUT/body" -w '%{http_code}\n' "http://127.0.0.1:$HTTP_PORT$p" >>"$TR" 2>&1 || note "## curl failed"
		cat "$OUT/body" >>"$TR" 2>/dev/null || true
		note ""
		rm -f "$OUT/body"
	done
}

# shellcheck source=tests/realprog/scenarios.sh
. "$HERE/scenarios.sh"
"scenario_$PROGRAM"
