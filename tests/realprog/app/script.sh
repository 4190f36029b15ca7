#!/bin/bash
# whittle's real-program suite: bash through coreutils, grep, sed, gawk,
# xargs, find -exec, env, timeout.
set -euo pipefail
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
printf '%s\n' banana apple cherry apple date | sort | uniq -c | sort -rn | head -3
seq 1 10 | paste -sd+ | tr -d '\n' | wc -c
printf 'x=1\ny=2\nz=3\n' | grep -v y | sed 's/=/ is /' | awk '{ print toupper($1), $3 * 10 }'
for i in 1 2 3; do echo "file $i" >"$d/f$i.txt"; done
find "$d" -name '*.txt' -exec cat {} + | sort | md5sum | cut -c1-8
find "$d" -name 'f2.txt' -exec basename {} \;
printf '%s\n' one two three | xargs echo words:
printf '%s\0' "$d"/f1.txt "$d"/f3.txt | xargs -0 wc -l | tail -1 | awk '{ print $1 }'
env GREETING=hi printenv GREETING
env -i PATH=/usr/bin:/bin sh -c 'echo "sh via env: $PATH"'
timeout 5 sleep 0.1 && echo "timeout ok"
timeout 1 sleep 5 || echo "timeout killed: $?"
stat -c '%s' "$d/f1.txt"
echo "whittle" | sha256sum | cut -c1-16
date -u -d @0 +%Y-%m-%d
id -u
