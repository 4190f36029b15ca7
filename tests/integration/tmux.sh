# Shared by the explorer's tests (sourced after lib.sh): a private tmux
# server, reading the screen, sending keys, waiting for text.
need_cmd tmux
# tmux's server daemonizes, which needs /dev/null to be the character device
[ -c /dev/null ] || skip "/dev/null is not a character device on this host (tmux cannot start its server)"

EXP() { /usr/bin/python3 "$SRCDIR/tests/integration/tui_expect.py" "$@"; }
SOCK="whittle-$(basename "$0" .sh)-$$"
: >"$T/tmux.conf"
TM() { tmux -L "$SOCK" -f "$T/tmux.conf" "$@"; }
trap 'TM kill-server >/dev/null 2>&1; rm -rf "$T"' EXIT

screen() { TM capture-pane -t "$1" -p; }
keys() { local s=$1; shift; TM send-keys -t "$s" "$@"; }
# wait_for SESSION TEXT [TRIES]: poll (every 50 ms, TRIES or $WAIT_TRIES
# times) until TEXT is on the screen, then until the screen stops changing;
# the last screen is in $T/screen.
wait_for() {
	local s=$1 text=$2 i prev=""
	for i in $(seq 1 "${3:-${WAIT_TRIES:-200}}"); do
		screen "$s" >"$T/screen"
		if grep -qF -- "$text" "$T/screen"; then
			[ "$(cat "$T/screen")" = "$prev" ] && return 0
			prev=$(cat "$T/screen")
		fi
		sleep 0.05
	done
	echo "timed out waiting for [$text]; screen:" >&2
	cat "$T/screen" >&2
	return 1
}
# wait_gone SESSION TEXT [TRIES]: poll until TEXT is off the screen
wait_gone() {
	local s=$1 text=$2 i
	for i in $(seq 1 "${3:-150}"); do
		screen "$s" >"$T/screen"
		grep -qF -- "$text" "$T/screen" || return 0
		sleep 0.05
	done
	return 1
}
on_screen() { grep -qF -- "$1" "$T/screen"; }
# the details line of the tree pane (second to last screen line), right of column LW
details() { tail -n 2 "$T/screen" | head -n 1 | cut -c"$((LW + 2))"-; }
# tui_launcher [PRELUDE]: $T/run.sh runs $WHITTLE with its arguments, then
# prints "EXITED <status>" and stays, so the pane can still be read;
# PRELUDE, a shell line, runs first.
tui_launcher() {
	{
		echo '#!/bin/sh'
		if [ -n "${1:-}" ]; then echo "$1"; fi
		printf '"%s" "$@"\necho "EXITED $?"\nexec /bin/sleep 600\n' "$WHITTLE"
	} >"$T/run.sh"
	chmod +x "$T/run.sh"
}
# write_to SESSION DEST: w, the prompt cleared, DEST typed, Enter (the
# caller waits for the outcome it expects)
write_to() {
	keys "$1" w
	wait_for "$1" "Write the slimmed image to:" || bad "timed out waiting for [Write the slimmed image to:]"
	keys "$1" C-u
	keys "$1" -l "$2"
	keys "$1" Enter
}
