#!/bin/bash
# The proof after writing (--auto with --probe): the probes run again on
# the original and on the staged output before it is committed. On dive's
# busybox-based test-docker-image.tar, whose /root/saved.txt (a copy of
# README.md) nothing in the config names:
#   - `--drop /root/saved.txt` with a probe that cats it: exit 3, the
#     archive destination absent and nothing else left in its directory, an
#     existing OCI layout unchanged byte for byte (sha256 of every file,
#     every path and mode), the file named in the message and in the
#     report's verify.missing_paths;
#   - a probe whose stdout differs between two runs of the original (a
#     random UUID from the kernel) passes, the report lists stdout under
#     not_compared and stderr under compared;
#   - --no-verify-probes skips the proof (the broken output is written);
#   - SIGINT during the proof: exit 130, nothing left;
#   - a probe that behaves the same: exit 0, verify.equal true;
#   - as an ordinary user (nobody), the first and the last again.
. "$(dirname "$0")/lib.sh"
need_cmd bwrap /usr/bin/python3 sha256sum
need_fixtures
IMG="$FIXTURES/test-docker-image.tar"
mkdir -p "$T/tmp" "$T/out"
export TMPDIR="$T/tmp"

vfield() { /usr/bin/python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["probe"][int(sys.argv[2])]["verify"]; print(v[sys.argv[3]])' "$@"; }
has_verify() { /usr/bin/python3 -c 'import json,sys; sys.exit(0 if "verify" in json.load(open(sys.argv[1]))["probe"][0] else 1)' "$1"; }
# every path with its type and mode, every file's sha256
snapshot() { (cd "$1" && find . -printf '%p %y %m\n' | sort && find . -type f -exec sha256sum {} + | sort); }
no_tree_left() { [ -z "$(ls -A "$T/tmp")" ]; }

# 1. a probe needs a dropped file: exit 3, nothing written, the file named
rc=0
"$WHITTLE" --auto -q -o "oci-archive:$T/out/slim.tar" --report "$T/r1.json" --drop /root/saved.txt \
	--probe 'cat /root/saved.txt' "$IMG" >"$T/o1" 2>"$T/e1" || rc=$?
eq "dropped file a probe needs: exit status" "$rc" 3
check "no archive at the destination" test ! -e "$T/out/slim.tar"
eq "nothing left beside the destination" "$(ls -A "$T/out")" ""
check "the message names /root/saved.txt" grep -q "could not find /root/saved.txt" "$T/e1"
check "the message names the probe" grep -q 'probe `cat /root/saved.txt`' "$T/e1"
check "the first differing line is shown (stderr of the slimmed run)" grep -q "stderr line 1: .*saved.txt" "$T/e1"
check "report valid" validate_report "$T/r1.json"
eq "report: verify.equal" "$(vfield "$T/r1.json" 0 equal)" False
eq "report: verify.missing_paths" "$(vfield "$T/r1.json" 0 missing_paths)" "['/root/saved.txt']"
check "report: first_difference given" bash -c "[ '$(vfield "$T/r1.json" 0 first_difference)' != None ]"
check "no probe tree left" no_tree_left

# the same into docker-archive: nothing left either
rc=0
"$WHITTLE" --auto -q -o "docker-archive:$T/out/slim-d.tar" --drop /root/saved.txt \
	--probe 'cat /root/saved.txt' "$IMG" >/dev/null 2>"$T/e1d" || rc=$?
eq "docker-archive: exit status" "$rc" 3
check "docker-archive: the proof failed on /root/saved.txt" grep -q "the proof failed.*could not find /root/saved.txt" "$T/e1d"
eq "docker-archive: nothing left beside the destination" "$(ls -A "$T/out")" ""

# 2. an existing layout keeps its index.json, tags and blobs
"$WHITTLE" --auto -q -o "oci:$T/lay:first" "$IMG" >/dev/null 2>&1
check "the first image is in the layout" grep -q '"first"' "$T/lay/index.json"
snapshot "$T/lay" >"$T/lay.before"
rc=0
"$WHITTLE" --auto -q -o "oci:$T/lay:second" --drop /root/saved.txt --probe 'cat /root/saved.txt' "$IMG" \
	>/dev/null 2>"$T/e2" || rc=$?
eq "existing layout: exit status" "$rc" 3
snapshot "$T/lay" >"$T/lay.after"
check "existing layout unchanged byte for byte" cmp -s "$T/lay.before" "$T/lay.after"
eq "nothing left beside the layout" "$(ls -A "$T" | grep -c whittle-tmp || true)" 0

# 3. output that differs between two runs of the original is not compared
rc=0
"$WHITTLE" --auto -o "oci-archive:$T/out/rand.tar" --report "$T/r3.json" \
	--probe '["sh","-c","cat /proc/sys/kernel/random/uuid; echo steady >&2"]' "$IMG" >"$T/o3" 2>"$T/e3" || rc=$?
eq "random stdout: exit status" "$rc" 0
check "random stdout: written" test -s "$T/out/rand.tar"
check "report valid (random stdout)" validate_report "$T/r3.json"
eq "random stdout: verify.equal" "$(vfield "$T/r3.json" 0 equal)" True
eq "random stdout: compared" "$(vfield "$T/r3.json" 0 compared)" "['exit_status', 'stderr']"
eq "random stdout: not_compared" "$(vfield "$T/r3.json" 0 not_compared)" "['stdout']"
check "the summary says stdout was not compared" grep -q "not compared: stdout of" "$T/o3"

# 4. --no-verify-probes: no proof, the broken output is written
rc=0
"$WHITTLE" --auto -q -o "oci-archive:$T/out/unproven.tar" --report "$T/r4.json" --no-verify-probes \
	--drop /root/saved.txt --probe 'cat /root/saved.txt' "$IMG" >/dev/null 2>&1 || rc=$?
eq "--no-verify-probes: exit status" "$rc" 0
check "--no-verify-probes: written" test -s "$T/out/unproven.tar"
if has_verify "$T/r4.json"; then bad "--no-verify-probes: the report has a verify"; else ok "--no-verify-probes: no verify in the report"; fi

# 4b. SIGINT during the proof (the staging directory exists, a probe runs):
# exit 130, nothing left beside the destination or in $TMPDIR
M="whittle-test-$$-proof"
mkdir "$T/int"
"$WHITTLE" --auto -q -o "oci-archive:$T/int/o.tar" --probe "[\"sh\",\"-c\",\"sleep 2; echo x\",\"$M\"]" \
	"$IMG" >/dev/null 2>"$T/e4b" &
pid=$!
for _ in $(seq 200); do
	if ls -A "$T/int" | grep -q whittle-tmp && pgrep -f "^sh -c sleep 2; echo x $M" >/dev/null; then break; fi
	sleep 0.1
done
check "SIGINT: the proof is running" bash -c "ls -A '$T/int' | grep -q whittle-tmp"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
eq "SIGINT during the proof: exit status" "$rc" 130
sleep 0.3
eq "SIGINT during the proof: nothing beside the destination" "$(ls -A "$T/int")" ""
check "SIGINT during the proof: no probe tree left" no_tree_left
check "SIGINT during the proof: no probe process left" bash -c "! pgrep -f '[w]hittle-test-$$-proof' >/dev/null"

# 5. a probe that behaves the same passes the proof
rc=0
"$WHITTLE" --auto -o "oci-archive:$T/out/good.tar" --report "$T/r5.json" --probe 'cat /root/saved.txt' \
	"$IMG" >"$T/o5" 2>"$T/e5" || rc=$?
eq "same behaviour: exit status" "$rc" 0
check "same behaviour: written" test -s "$T/out/good.tar"
check "same behaviour: the probe was run" has_verify "$T/r5.json"
eq "same behaviour: verify.equal" "$(vfield "$T/r5.json" 0 equal)" True
eq "same behaviour: compared" "$(vfield "$T/r5.json" 0 compared)" "['exit_status', 'stdout', 'stderr']"
check "the summary has the proof line" grep -q "proof .*1 probe behaves the same" "$T/o5"
check "no probe tree left at the end" no_tree_left

# 6. as an ordinary user (nobody, one id mapped): the proof refuses a dropped
# file a probe needs (exit 3, nothing written) and passes a good output
need_nobody
# (run as root: as an ordinary user already, the sections above were that)
if [ "$(id -u)" = 0 ]; then
	rc=0
	as_nobody "$WHITTLE" --auto -q -o "oci-archive:$T/nobody/slim.tar" --drop /root/saved.txt \
		--probe 'cat /root/saved.txt' "$IMG" >/dev/null 2>"$T/e6" || rc=$?
	eq "as nobody, dropped file a probe needs: exit status" "$rc" 3
	check "as nobody: the message names /root/saved.txt" grep -q "could not find /root/saved.txt" "$T/e6"
	rc=0
	as_nobody "$WHITTLE" --auto -q -o "oci-archive:$T/nobody/good.tar" --report "$T/nobody/r6.json" \
		--probe 'cat /root/saved.txt' "$IMG" >/dev/null 2>"$T/e6b" || rc=$?
	eq "as nobody, same behaviour: exit status" "$rc" 0
	eq "as nobody, same behaviour: verify.equal" "$(vfield "$T/nobody/r6.json" 0 equal)" True
	eq "as nobody: written, and nothing else left" "$(ls -A "$T/nobody")" "good.tar
r6.json"
fi

finish
