#!/bin/bash
# --ci: dive's three rules, their sources (flags, --ci-config, ./.dive-ci)
# and dive's text. The figures of dive's test image come from dive's own
# test suite (dive/image/docker/image_archive_analysis_test.go):
#   efficiency 0.9844212134184309, wastedBytes 32025,
#   userWastedPercent 0.4834911001404049.
. "$(dirname "$0")/lib.sh"
need_fixtures
need_cmd /usr/bin/python3

IMG="$FIXTURES/test-docker-image.tar"
# whittle reads ./.dive-ci when present: run where there is none, unless a
# check says otherwise
mkdir -p "$T/empty"

# ci NAME WANT_EXIT ARGS...: run whittle --ci (in $CI_CWD, default $T/empty), keep
# stdout in $T/out and stderr in $T/err, check the exit status.
ci() {
	local name=$1 want=$2
	shift 2
	local rc=0
	(cd "${CI_CWD:-$T/empty}" && exec "$WHITTLE" -q --ci "$@") >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$name: exit $rc"
	else
		bad "$name: exit $rc, want $want; stderr: $(head -c 400 "$T/err"); stdout: $(tail -4 "$T/out")"
	fi
}
# status RULE: PASS, FAIL or SKIP from the Evaluation block of $T/out
status() { sed -n "s/^  \(PASS\|FAIL\|SKIP\)  $1 (.*/\1/p" "$T/out"; }
summary() { tail -1 "$T/out"; }
has_err() { grep -qF -- "$1" "$T/err"; }
has_out() { grep -qF -- "$1" "$T/out"; }

OFF=(--lowest-efficiency disabled --highest-wasted-bytes disabled --highest-user-wasted-percent disabled)

# --- thresholds just below and just above each figure ----------------------------------
# lowestEfficiency fails when the threshold is above the efficiency (strict)
ci "lowestEfficiency 0.98442 (< 0.98442121...)" 0 "${OFF[@]}" --lowest-efficiency 0.98442 "$IMG"
eq "lowestEfficiency 0.98442: PASS" "$(status lowestEfficiency)" PASS
ci "lowestEfficiency 0.98443 (> 0.98442121...)" 1 "${OFF[@]}" --lowest-efficiency 0.98443 "$IMG"
eq "lowestEfficiency 0.98443: FAIL" "$(status lowestEfficiency)" FAIL
check "lowestEfficiency FAIL reason" has_out "lowestEfficiency (image efficiency is too low (efficiency=0.9844212134184309 < threshold=0.98443))"
ci "lowestEfficiency equal to the efficiency" 0 "${OFF[@]}" --lowest-efficiency 0.9844212134184309 "$IMG"

# highestWastedBytes fails when the wasted bytes are above it
ci "highestWastedBytes 32025 (equal)" 0 "${OFF[@]}" --highest-wasted-bytes 32025 "$IMG"
eq "highestWastedBytes 32025: PASS" "$(status highestWastedBytes)" PASS
ci "highestWastedBytes 32024" 1 "${OFF[@]}" --highest-wasted-bytes 32024 "$IMG"
eq "highestWastedBytes 32024: FAIL" "$(status highestWastedBytes)" FAIL
check "highestWastedBytes FAIL reason" has_out "highestWastedBytes (too many bytes wasted (wasted-bytes=32025 > threshold=32024))"

# highestUserWastedPercent fails when the ratio is above it
ci "highestUserWastedPercent 0.4835" 0 "${OFF[@]}" --highest-user-wasted-percent 0.4835 "$IMG"
eq "highestUserWastedPercent 0.4835: PASS" "$(status highestUserWastedPercent)" PASS
ci "highestUserWastedPercent 0.48349" 1 "${OFF[@]}" --highest-user-wasted-percent 0.48349 "$IMG"
eq "highestUserWastedPercent 0.48349: FAIL" "$(status highestUserWastedPercent)" FAIL
ci "highestUserWastedPercent equal to the ratio" 0 "${OFF[@]}" --highest-user-wasted-percent 0.4834911001404049 "$IMG"

# --- size units (go-humanize ParseBytes: kB = 1000, KiB = 1024, case-insensitive) -----------
ci "32.025kb = 32025 bytes" 0 "${OFF[@]}" --highest-wasted-bytes 32.025kb "$IMG"
ci "32.024KB = 32024 bytes" 1 "${OFF[@]}" --highest-wasted-bytes 32.024KB "$IMG"
check "32.024KB read as 32024" has_out "threshold=32024)"
ci "31.28KiB = 32030 bytes" 0 "${OFF[@]}" --highest-wasted-bytes 31.28KiB "$IMG"
ci "31.27kib = 32020 bytes" 1 "${OFF[@]}" --highest-wasted-bytes 31.27kib "$IMG"
check "31.27kib read as 32020" has_out "threshold=32020)"
ci "\"32 k\" = 32000 bytes (unit alone, space)" 1 "${OFF[@]}" --highest-wasted-bytes "32 k" "$IMG"
check "\"32 k\" read as 32000" has_out "threshold=32000)"
ci "32,024 (commas dropped)" 1 "${OFF[@]}" --highest-wasted-bytes 32,024 "$IMG"
check "32,024 read as 32024" has_out "threshold=32024)"

# MB and MiB need an image wasting more than 20 MB: a 10,000,001-byte file
# written in two layers (two records, 20,000,002 bytes wasted)
cat >"$T/big.spec" <<'EOF'
layer
file big 0644 0 0 @10000001:a
layer
file big 0644 0 0 @10000001:b
EOF
if "$MKIMAGE" "$T/big.spec" "$T/big.tar" 2>"$T/mk.err"; then
	BIG="oci-archive:$T/big.tar"
	for v in 20MB 20Mb 20mb "20 MB" 20M; do
		ci "$v = 20,000,000 bytes < 20,000,002" 1 "${OFF[@]}" --highest-wasted-bytes "$v" "$BIG"
		check "$v read as 20000000" has_out "(wasted-bytes=20000002 > threshold=20000000)"
	done
	for v in 20MiB 20mib 20Mi; do
		ci "$v = 20,971,520 bytes > 20,000,002" 0 "${OFF[@]}" --highest-wasted-bytes "$v" "$BIG"
	done
	ci "20000002 (equal)" 0 "${OFF[@]}" --highest-wasted-bytes 20000002 "$BIG"
	ci "0.02GB = 20,000,000" 1 "${OFF[@]}" --highest-wasted-bytes 0.02GB "$BIG"
	check "0.02GB read as 20000000" has_out "threshold=20000000)"
else
	bad "mkimage big.spec: $(cat "$T/mk.err")"
fi

# --- dive's evaluator test table (cmd/dive/cli/internal/command/ci/evaluator_test.go) ------
ci "dive allFail" 1 --lowest-efficiency 0.99 --highest-wasted-bytes 1B --highest-user-wasted-percent 0.01 "$IMG"
eq "dive allFail: statuses" "$(status lowestEfficiency) $(status highestWastedBytes) $(status highestUserWastedPercent)" "FAIL FAIL FAIL"
eq "dive allFail: summary" "$(summary)" "FAIL [pass:0 fail:3 skip:0]"
ci "dive allPass" 0 --lowest-efficiency 0.9 --highest-wasted-bytes 50kB --highest-user-wasted-percent 0.5 "$IMG"
eq "dive allPass: statuses" "$(status lowestEfficiency) $(status highestWastedBytes) $(status highestUserWastedPercent)" "PASS PASS PASS"
eq "dive allPass: summary" "$(summary)" "PASS [pass:3 fail:0 skip:0]"
ci "dive allDisabled" 0 "${OFF[@]}" "$IMG"
eq "dive allDisabled: statuses" "$(status lowestEfficiency) $(status highestWastedBytes) $(status highestUserWastedPercent)" "SKIP SKIP SKIP"
eq "dive allDisabled: summary" "$(summary)" "PASS [pass:0 fail:0 skip:3]"
ci "dive mixedResults" 1 --lowest-efficiency 0.9 --highest-wasted-bytes 1B --highest-user-wasted-percent 0.5 "$IMG"
eq "dive mixedResults: statuses" "$(status lowestEfficiency) $(status highestWastedBytes) $(status highestUserWastedPercent)" "PASS FAIL PASS"
eq "dive mixedResults: summary" "$(summary)" "FAIL [pass:2 fail:1 skip:0]"

# dive's misconfigurations (Test_Evaluator_Misconfigurations): usage errors, exit 2
for bad_args in "--lowest-efficiency 1.1" "--lowest-efficiency -0.1" "--lowest-efficiency not_a_number" \
	"--highest-wasted-bytes not_a_size" "--highest-user-wasted-percent 1.1" \
	"--highest-user-wasted-percent -0.1" "--highest-user-wasted-percent not_a_number"; do
	set -- $bad_args
	ci "misconfigured $bad_args" 2 "$1=$2" "$IMG"
	check "misconfigured $bad_args: the message names $1" has_err "$1"
	check "misconfigured $bad_args: no evaluation printed" test ! -s "$T/out"
done

# --- the defaults (dive's: 0.9, disabled, 0.1) ------------------------------------------
ci "defaults" 1 "$IMG"
eq "defaults: statuses" "$(status lowestEfficiency) $(status highestWastedBytes) $(status highestUserWastedPercent)" "PASS SKIP FAIL"
check "defaults: lowestEfficiency shows 0.9" has_out "  PASS  lowestEfficiency (0.9)"
check "defaults: highestWastedBytes disabled" has_out "  SKIP  highestWastedBytes (disabled)"
check "defaults: highestUserWastedPercent reason" has_out "  FAIL  highestUserWastedPercent (too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes=0.4834911001404049 > threshold=0.1))"
eq "defaults: summary" "$(summary)" "FAIL [pass:1 fail:1 skip:1]"

# --- the text: dive's blocks (cmd/dive/cli/testdata/snapshots/cli_load_test.snap,
# Test_LoadImage/from_archive, run with 0.9 / 20MB / 0.90) ----------------------------------
ci "dive's snapshot rules" 0 --lowest-efficiency 0.9 --highest-wasted-bytes 20MB --highest-user-wasted-percent 0.90 "$IMG"
cat >"$T/want.analysis" <<'EOF'
Analysis:
  efficiency:        98.44 %
  wastedBytes:       32025 bytes (32 kB)
  userWastedPercent: 48.35 %

EOF
eq "text: Analysis block" "$(head -5 "$T/out")" "$(cat "$T/want.analysis")"
eq "text: Inefficient Files header" "$(sed -n 6,7p "$T/out")" "Inefficient Files:
  Count  Wasted Space  File Path"
# dive lists the two 12810-byte files in no fixed order; whittle by path
eq "text: Inefficient Files rows" "$(sed -n 8,10p "$T/out")" "  2      13 kB         /root/example/somefile1.txt
  2      13 kB         /root/saved.txt
  2      6.4 kB        /root/example/somefile3.txt"
eq "text: Evaluation block" "$(sed -n 11,15p "$T/out")" "
Evaluation:
  PASS  highestUserWastedPercent (0.90)
  PASS  highestWastedBytes (20MB)
  PASS  lowestEfficiency (0.9)"
eq "text: summary" "$(sed -n '16,$p' "$T/out")" "
PASS [pass:3 fail:0 skip:0]"

# no inefficient files: dive prints "Inefficient Files: (None)" and "0 bytes"
cat >"$T/clean.spec" <<'EOF'
layer
file a 0644 0 0 hello
layer
file b 0644 0 0 world
EOF
if "$MKIMAGE" "$T/clean.spec" "$T/clean.tar" 2>"$T/mk.err"; then
	ci "clean image" 0 "oci-archive:$T/clean.tar"
	check "clean image: Inefficient Files: (None)" has_out "Inefficient Files: (None)"
	check "clean image: efficiency 100.00 %" has_out "  efficiency:        100.00 %"
	check "clean image: 0 bytes" has_out "  wastedBytes:       0 bytes"
	check "clean image: 0 %" has_out "  userWastedPercent: 0 %"
else
	bad "mkimage clean.spec: $(cat "$T/mk.err")"
fi

# --- camelCase flags (dive's spellings) ---------------------------------------------------
ci "camelCase flags fail" 1 --lowestEfficiency 0.99 --highestWastedBytes 1B --highestUserWastedPercent 0.01 "$IMG"
eq "camelCase flags: statuses" "$(status lowestEfficiency) $(status highestWastedBytes) $(status highestUserWastedPercent)" "FAIL FAIL FAIL"
ci "camelCase flags pass" 0 --lowestEfficiency=0.9 --highestWastedBytes=50kB --highestUserWastedPercent=0.5 "$IMG"

# --- disabled values -------------------------------------------------------------------------
for v in disabled off false "" Disabled OFF " false "; do
	ci "flag value \"$v\" disables" 0 --highest-user-wasted-percent "$v" "$IMG"
	eq "flag value \"$v\": SKIP" "$(status highestUserWastedPercent)" SKIP
done

# --- rules files and precedence ------------------------------------------------------------
# dive's own .dive-ci: unknown keys (plugins, plugin1/rule1) warned about and ignored
ci "fixture dive-ci" 0 --ci-config "$FIXTURES/dive-ci" "$IMG"
check "fixture dive-ci: warns about plugins" has_err "plugins"
check "fixture dive-ci: warns about plugin1/rule1" has_err "plugin1/rule1"
check "fixture dive-ci: lowestEfficiency 0.95" has_out "  PASS  lowestEfficiency (0.95)"
check "fixture dive-ci: highestWastedBytes 20Mb" has_out "  PASS  highestWastedBytes (20Mb)"
check "fixture dive-ci: highestUserWastedPercent 0.5" has_out "  PASS  highestUserWastedPercent (0.5)"
# dive's Makefile (ci-test-linux-run) runs the kaniko image with this file and expects success
ci "kaniko with dive's .dive-ci passes, as in dive's Makefile" 0 --ci-config "$FIXTURES/dive-ci" "$FIXTURES/test-kaniko-image.tar"

mkdir -p "$T/wd"
cat >"$T/wd/.dive-ci" <<'EOF'
rules:
  lowestEfficiency: 0.99
  highestUserWastedPercent: disabled
EOF
cat >"$T/other.yaml" <<'EOF'
rules:
  lowestEfficiency: 0.5
  highestUserWastedPercent: off
EOF
CI_CWD="$T/wd" ci "./.dive-ci is read" 1 "$IMG"
eq "./.dive-ci: lowestEfficiency FAIL, highestUserWastedPercent SKIP" "$(status lowestEfficiency) $(status highestUserWastedPercent)" "FAIL SKIP"
CI_CWD="$T/wd" ci "--ci-config wins over ./.dive-ci" 0 --ci-config "$T/other.yaml" "$IMG"
eq "--ci-config: lowestEfficiency (0.5)" "$(grep -c '  PASS  lowestEfficiency (0.5)' "$T/out")" 1
CI_CWD="$T/wd" ci "a flag wins over ./.dive-ci" 0 --lowest-efficiency 0.5 "$IMG"
CI_CWD="$T/wd" ci "a flag wins over --ci-config" 1 --ci-config "$T/other.yaml" --lowest-efficiency 0.99 "$IMG"
eq "flag over --ci-config: FAIL lowestEfficiency, file's SKIP kept" "$(status lowestEfficiency) $(status highestUserWastedPercent)" "FAIL SKIP"
# a rule the file does not name keeps dive's default (highestUserWastedPercent 0.1)
printf 'rules:\n  lowestEfficiency: 0.5\n' >"$T/partial.yaml"
ci "a rule the file leaves out keeps its default" 1 --ci-config "$T/partial.yaml" "$IMG"
eq "partial file: statuses" "$(status lowestEfficiency) $(status highestWastedBytes) $(status highestUserWastedPercent)" "PASS SKIP FAIL"

# YAML types and spellings: a YAML boolean false, a null, an empty value
# disable; a quoted number works; keys are matched without case, as viper does
cat >"$T/types.yaml" <<'EOF'
---
rules:
  lowestefficiency: "0.98443"
  highestWastedBytes: false
  highestUserWastedPercent:
EOF
ci "YAML types" 1 --ci-config "$T/types.yaml" "$IMG"
eq "YAML types: statuses" "$(status lowestEfficiency) $(status highestWastedBytes) $(status highestUserWastedPercent)" "FAIL SKIP SKIP"
printf 'rules:\n  highestWastedBytes: ~\n  highestUserWastedPercent: null\n  lowestEfficiency: "0.9"\n' >"$T/null.yaml"
ci "YAML nulls" 0 --ci-config "$T/null.yaml" "$IMG"
eq "YAML nulls: statuses" "$(status lowestEfficiency) $(status highestWastedBytes) $(status highestUserWastedPercent)" "PASS SKIP SKIP"
printf 'rules:\n  highestWastedBytes: 31.27KiB\n  highestUserWastedPercent: disabled\n' >"$T/size.yaml"
ci "a size in the file" 1 --ci-config "$T/size.yaml" "$IMG"
check "a size in the file: 31.27KiB read as 32020" has_out "threshold=32020)"

# bad files: exit 2, the message names the file and the key
printf 'rules:\n  highestWastedBytes: 20XB\n' >"$T/bad1.yaml"
ci "bad size in the file" 2 --ci-config "$T/bad1.yaml" "$IMG"
check "bad size: names the file" has_err "$T/bad1.yaml"
check "bad size: names the key" has_err "rules.highestWastedBytes"
printf 'rules:\n  lowestEfficiency: 1.5\n' >"$T/bad2.yaml"
ci "ratio out of range in the file" 2 --ci-config "$T/bad2.yaml" "$IMG"
check "ratio out of range: names the key" has_err "rules.lowestEfficiency"
printf 'rules:\n  highestUserWastedPercent: [0.1]\n' >"$T/bad3.yaml"
ci "a list as a value" 2 --ci-config "$T/bad3.yaml" "$IMG"
check "a list as a value: names the key" has_err "rules.highestUserWastedPercent"
printf 'rules: [\n' >"$T/bad4.yaml"
ci "not YAML" 2 --ci-config "$T/bad4.yaml" "$IMG"
check "not YAML: names the file" has_err "$T/bad4.yaml"
printf -- '- a\n- b\n' >"$T/bad5.yaml"
ci "not a mapping" 2 --ci-config "$T/bad5.yaml" "$IMG"
ci "--ci-config FILE missing" 2 --ci-config "$T/nonexistent.yaml" "$IMG"
check "missing file: named" has_err "$T/nonexistent.yaml"
CI_CWD="$T/wd" ci "a bad flag is named even beside a good ./.dive-ci" 2 --highest-wasted-bytes 5XB "$IMG"
check "bad flag: names it" has_err "--highest-wasted-bytes"

# --- --report beside --ci -------------------------------------------------------------------
ci "--ci --report FILE" 1 --report "$T/r.json" "$IMG"
check "--ci --report FILE: the text" has_out "Evaluation:"
if validate_report "$T/r.json" 2>"$T/verr"; then ok "--ci --report FILE: a valid report"; else bad "--ci --report FILE: $(tail -3 "$T/verr")"; fi
ci "--ci --report -" 1 --report - "$IMG"
if /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" 2>/dev/null; then
	ok "--ci --report -: stdout is the JSON alone"
else
	bad "--ci --report -: stdout is not JSON"
fi
check "--ci --report -: the text on stderr" has_err "Evaluation:"

finish
