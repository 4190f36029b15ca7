#!/usr/bin/env bash
# The command line itself: usage errors, modes, progress, report destinations.
source "$SRCDIR/tests/integration/lib.sh"
need_cmd script mkfifo

spec=$T/one.spec
cat >"$spec" <<'SPEC'
layer base
dir etc 0755 0 0
file etc/hello 0644 0 0 hello\n
SPEC
"$MKIMAGE" --format oci-archive --tag t "$spec" "$T/img.tar"

# usage errors: exit 2 and a message, nothing on stdout
for args in "--no-such-flag $T/img.tar" "--jobs 0 $T/img.tar" "--compression lzma --auto $T/img.tar" \
	"--dry-run $T/img.tar" "--report" "--report - a b"; do
	set +e
	# shellcheck disable=SC2086
	out=$("$WHITTLE" $args 2>"$T/err"); rc=$?
	set -e
	eq "usage '$args' exits 2" "$rc" 2
	eq "usage '$args' prints nothing on stdout" "$out" ""
	check "usage '$args' explains on stderr" grep -q "whittle:" "$T/err"
done

# no mode and no terminal: the explorer is refused with a hint
set +e
"$WHITTLE" "$T/img.tar" </dev/null >"$T/out" 2>"$T/err"; rc=$?
set -e
eq "explorer without a terminal exits 2" "$rc" 2
check "the hint names --report, --ci and --auto" grep -q -- "--report.*--ci.*--auto" "$T/err"

check "--version prints a version" sh -c "'$WHITTLE' --version | grep -Eq '^whittle [0-9]+\.[0-9]+'"
check "--help lists the modes" sh -c "'$WHITTLE' --help | grep -q -- '--auto'"

# quiet when stderr is not a terminal; progress when it is
"$WHITTLE" --report "$T/r1.json" "$T/img.tar" 2>"$T/err"
eq "no progress when stderr is not a terminal" "$(wc -c <"$T/err")" 0
script -qec "'$WHITTLE' --report '$T/r2.json' '$T/img.tar'" /dev/null >"$T/tty.out" </dev/null
check "progress on a terminal names the layer" grep -q "loading layer 1/1" "$T/tty.out"
script -qec "'$WHITTLE' -q --report '$T/r3.json' '$T/img.tar'" /dev/null >"$T/tty.out" </dev/null
check "-q silences progress on a terminal" sh -c "! grep -q 'loading layer' '$T/tty.out'"
check "the same image gives the same report bytes" cmp -s "$T/r1.json" "$T/r2.json"

# report destinations: a FIFO stays a FIFO and receives the document
mkfifo "$T/fifo"
timeout 30 cat "$T/fifo" >"$T/from-fifo" &
reader=$!
"$WHITTLE" --report "$T/fifo" "$T/img.tar"
wait "$reader"
check "a FIFO destination is still a FIFO" test -p "$T/fifo"
check "the FIFO carried the report" cmp -s "$T/from-fifo" "$T/r1.json"
check "the report validates" validate_report "$T/r1.json"

# an unwritable destination: exit 3, nothing left behind
mkdir "$T/ro" && chmod 0555 "$T/ro"
set +e
if [ "$(id -u)" -ne 0 ]; then
	"$WHITTLE" --report "$T/ro/r.json" "$T/img.tar" 2>"$T/err"; rc=$?
	eq "unwritable report directory exits 3" "$rc" 3
fi
"$WHITTLE" --report "$T/nodir/r.json" "$T/img.tar" 2>"$T/err"; rc=$?
set -e
eq "a report into a missing directory exits 3" "$rc" 3
check "the error names the destination" grep -q "$T/nodir/r.json" "$T/err"
check "a directory destination is refused" sh -c "! '$WHITTLE' --report '$T/ro' '$T/img.tar' 2>/dev/null"
eq "nothing left in the read-only directory" "$(ls -A "$T/ro" | wc -l)" 0


# the write's progress (--auto): on a terminal, one line per phase start at
# least (re-reading, writing, packing, verifying), cleared before the
# summary; the totals are the file bytes the spec below holds (3,000,006 in
# layer 1 and 1,000,000 in layer 2, all kept: 4.0 MB)
cat >"$T/w.spec" <<'SPEC'
layer base
dir etc 0755 0 0
file etc/hello 0644 0 0 hello\n
dir opt 0755 0 0
file opt/data 0644 0 0 @3000000:x
layer more
file opt/more 0644 0 0 @1000000:y
SPEC
"$MKIMAGE" --format oci-archive --tag t "$T/w.spec" "$T/w.tar"
script -qec "'$WHITTLE' --auto --keep / -o 'oci-archive:$T/w-tty.tar' '$T/w.tar'" /dev/null >"$T/tty.out" </dev/null
tr '\r' '\n' <"$T/tty.out" | sed 's/\x1b\[K//g' >"$T/tty.lines"
check "write progress: re-reading the first of the 2 layers, of 4.0 MB" \
	grep -q "re-reading layer 1/2  0 B / 4.0 MB" "$T/tty.lines"
check "write progress: writing the layer, 4.0 MB of file bytes" grep -q "writing the layer  0 B / 4.0 MB" "$T/tty.lines"
check "write progress: packing the archive" grep -q "packing the archive" "$T/tty.lines"
check "write progress: verifying" grep -q "verifying" "$T/tty.lines"
check "write progress: a rate" grep -Eq "re-reading layer .* [0-9.]+ [kMG]?B/s" "$T/tty.lines"
check "write progress: cleared before the summary" grep -q $'\r\033\[Kwrote oci-archive:' "$T/tty.out"
check "write progress: the summary follows" grep -q "^wrote oci-archive:$T/w-tty.tar" "$T/tty.lines"
"$WHITTLE" --auto --keep / -o "oci-archive:$T/w-notty.tar" "$T/w.tar" >"$T/out" 2>"$T/err"
eq "no write progress when stderr is not a terminal" "$(wc -c <"$T/err")" 0
check "the summary still goes to stdout" grep -q "^wrote oci-archive:$T/w-notty.tar" "$T/out"
check "progress shown or not, the same output bytes" cmp -s "$T/w-tty.tar" "$T/w-notty.tar"
script -qec "'$WHITTLE' -q --auto --keep / -o 'oci-archive:$T/w-q.tar' '$T/w.tar'" /dev/null >"$T/tty.out" </dev/null
check "-q silences the write progress on a terminal" \
	sh -c "! grep -Eq 're-reading|writing the layer|packing|verifying' '$T/tty.out'"
check "-q on a terminal still writes the image" test -s "$T/w-q.tar"

# --auto with nothing to slim from: no Entrypoint, Cmd, --entrypoint, --cmd,
# --keep*, --keep-from: exit 2, saying how to name one, nothing written
for extra in "" "--entrypoint '' --cmd ''"; do
	set +e
	(cd "$T" && eval "'$WHITTLE' --auto $extra '$T/w.tar'") >"$T/out" 2>"$T/err"; rc=$?
	set -e
	eq "--auto without a root ($extra) exits 2" "$rc" 2
	check "--auto without a root ($extra): says how to name one" grep -q -- "--entrypoint /usr/bin/myapp.*--keep /app" "$T/err"
	check "--auto without a root ($extra): writes nothing" test ! -e "$T/w-slim.tar"
done
# a root of any kind is enough
for extra in "--keep /etc/hello" "--keep-exe hello" "--entrypoint /etc/hello"; do
	set +e
	# shellcheck disable=SC2086
	"$WHITTLE" --auto --dry-run $extra "$T/w.tar" >"$T/out" 2>"$T/err"; rc=$?
	set -e
	check "--auto with $extra is not refused for want of a root" sh -c "! grep -q 'nothing to slim from' '$T/err'"
done
# an Entrypoint that is not in the image: exit 2 naming it, nothing written
"$MKIMAGE" --format oci-archive --tag t --entrypoint '["/usr/bin/missing"]' "$T/w.spec" "$T/noprog.tar"
set +e
"$WHITTLE" --auto -o "oci-archive:$T/noprog-slim.tar" "$T/noprog.tar" >"$T/out" 2>"$T/err"; rc=$?
set -e
eq "--auto with an Entrypoint missing from the image exits 2" "$rc" 2
check "the error names the missing program" grep -q 'Entrypoint command "/usr/bin/missing"' "$T/err"
check "nothing written for a missing Entrypoint" test ! -e "$T/noprog-slim.tar"
set +e
"$WHITTLE" --auto --entrypoint /opt/nope -o "oci-archive:$T/noprog-slim.tar" "$T/w.tar" >"$T/out" 2>"$T/err"; rc=$?
set -e
eq "--auto --entrypoint PATH missing from the image exits 2" "$rc" 2
# without -o: where it writes, said before it starts
(cd "$T" && "$WHITTLE" --auto --keep /etc "$T/w.tar") >"$T/out" 2>"$T/err"
check "--auto without -o says where it writes" grep -q "no -o given: writing oci-archive:$T/w-slim.tar" "$T/err"

# transports: an unknown PREFIX: in -o is refused whatever follows, in IMAGE
# when the whole is no NAME[:TAG] either; exit 2 with the known transports
# and the one within two edits; nothing written
mkdir -p "$T/tp" && cd "$T/tp"
for o in "oic:/x" "oci-achive:$T/tp/x.tar" "foo:$T/tp/x.tar" "docker-archiv:$T/tp/y.tar"; do
	set +e
	"$WHITTLE" --auto --keep / -o "$o" "$T/w.tar" >"$T/out" 2>"$T/err"; rc=$?
	set -e
	eq "-o $o: exit 2" "$rc" 2
	check "-o $o: lists the known transports" grep -q "oci:DIR\[:TAG\], oci-archive:FILE\[:TAG\] or docker-archive:FILE" "$T/err"
	eq "-o $o: nothing written here" "$(ls -A "$T/tp" | wc -l)" 0
done
check "-o oic:/x suggests oci:" grep -q 'did you mean oci:?' <("$WHITTLE" --auto --keep / -o oic:/x "$T/w.tar" 2>&1)
check "-o oci-achive: suggests oci-archive:" grep -q 'did you mean oci-archive:?' \
	<("$WHITTLE" --auto --keep / -o "oci-achive:$T/tp/x.tar" "$T/w.tar" 2>&1)
for img in "oic:/x" "oci-achive:$T/w.tar"; do
	set +e
	"$WHITTLE" --report - "$img" >"$T/out" 2>"$T/err"; rc=$?
	set -e
	eq "IMAGE $img: exit 2" "$rc" 2
	check "IMAGE $img: lists the known transports" grep -q "docker-archive:PATH, oci-archive:PATH, oci:DIR" "$T/err"
done
check "IMAGE oci-achive:PATH suggests oci-archive:" grep -q 'did you mean oci-archive:?' "$T/err"
# a valid NAME:TAG goes to the engine, not refused as a transport
set +e
DOCKER_HOST=unix://$T/no.sock "$WHITTLE" --report - "oic:bar" >"$T/out" 2>"$T/err"; rc=$?
set -e
check "IMAGE oic:bar (a NAME:TAG) is not refused as a transport" sh -c "! grep -q 'unknown transport' '$T/err'"
check "IMAGE oic:bar: the engine's error suggests oci:" grep -q 'did you mean oci:?' "$T/err"
# docker-archive: given an OCI archive
set +e
"$WHITTLE" --report - "docker-archive:$T/w.tar" >"$T/out" 2>"$T/err"; rc=$?
set -e
eq "docker-archive: on an OCI archive: exit 2" "$rc" 2
check "docker-archive: on an OCI archive says to use oci-archive:" grep -q "use oci-archive:$T/w.tar" "$T/err"
cd "$T"

finish
