#!/usr/bin/env python3
"""Keypress-to-redraw latency of the explorer on a big tree, as a ratio
against the same measurement on a tiny image in the same run.

usage: bench/tui_latency.py WHITTLE [N_FILES]   (default 400000)
Builds the big image with bench/mkbig.py into a temp dir, runs whittle in
tmux, sends cursor and paging keys to the file tree, and times how long the
screen takes to change (polling capture-pane)."""
import os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))

def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", "whbench", *args], check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()

def screen():
    return tmux("capture-pane", "-p", "-t", "b")

def wait_for(pred, timeout=120):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        s = screen()
        if pred(s):
            return s
        time.sleep(0.002)
    raise SystemExit("timed out waiting for the screen")

def measure(whittle, ref, keys, reps=20):
    tmux("kill-server", check=False)
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "b", "-x", "160", "-y", "50",
         f"env -u CI TERM=xterm-256color LANG=C.UTF-8 {whittle} {ref}")
    wait_for(lambda s: "Layers" in s and "fficiency" in s)
    tmux("send-keys", "-t", "b", "Tab")  # to the file tree pane
    time.sleep(0.5)
    times = []
    for i in range(reps):
        key = keys[i % len(keys)]
        before = screen()
        t0 = time.monotonic()
        tmux("send-keys", "-t", "b", key)
        wait_for(lambda s: s != before, timeout=30)
        times.append(time.monotonic() - t0)
    tmux("kill-server", check=False)
    times.sort()
    return times[len(times) // 2], times[-1]

def main():
    whittle = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 400000
    tmp = tempfile.mkdtemp()
    try:
        subprocess.run([sys.executable, os.path.join(HERE, "mkbig.py"), f"{tmp}/tiny", "50"], check=True)
        subprocess.run([sys.executable, os.path.join(HERE, "mkbig.py"), f"{tmp}/big", str(n)], check=True)
        keys = ["Down", "Down", "NPage", "Down", "Up", "PPage"]
        tiny = measure(whittle, f"oci:{tmp}/tiny:big", keys)
        big = measure(whittle, f"oci:{tmp}/big:big", keys)
        print(f"tiny image (50 files):   median {tiny[0] * 1000:.1f} ms, worst {tiny[1] * 1000:.1f} ms")
        print(f"big image ({n} files): median {big[0] * 1000:.1f} ms, worst {big[1] * 1000:.1f} ms")
        print(f"ratio big/tiny: median {big[0] / tiny[0]:.2f}, worst {big[1] / tiny[1]:.2f}")
    finally:
        shutil.rmtree(tmp)

main()
