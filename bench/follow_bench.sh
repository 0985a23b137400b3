#!/usr/bin/env bash
# Hosts following over HTTP at scale: N hosts (default 200), each a `cairn checkout prod
# --into DIR --follow --from http://127.0.0.1:PORT` process with no store, on one
# cairn-serve; after a promote, a rollback and a second promote, how long each host took
# to switch DIR/current to the new snapshot — p50/p99/max from the moment the move command
# returned — and the memory of the server and of one follower. Target (issue 19): every
# host switched within 3 s of the move.
#   bash bench/follow_bench.sh [--hosts N]
# Results: a table on stdout and out/follow-bench/results.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/common.sh"
hosts=200
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) hosts=$2; shift 2 ;;
    *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
bench_build cairn cairn-serve
bin="$root/build/bin"
work="$root/out/follow-bench"
bench_workdir "$work" .follow-bench
store="$work/store"
export CAIRN_ACTOR="bench@follow"
"$bin/cairn" --store "$store" init >/dev/null
v1=$("$bin/cairn" --store "$store" snapshot create "$root/fixtures/releases/v1" -m v1 -q | cut -c1-64)
v2=$("$bin/cairn" --store "$store" snapshot create "$root/fixtures/releases/v2" -m v2 -q | cut -c1-64)
v3=$("$bin/cairn" --store "$store" snapshot create "$root/fixtures/releases/v3" -m v3 -q | cut -c1-64)
"$bin/cairn" --store "$store" promote "$v1" --to prod --reason start >/dev/null

# The measuring is in Python (Debian's /usr/bin/python3): it starts the server and the
# followers, runs each move, and polls every host's `current` link every 5 ms.
/usr/bin/python3 - "$bin" "$store" "$work" "$hosts" "$v1" "$v2" "$v3" <<'PY'
import json, os, re, signal, statistics, subprocess, sys, time

bin_dir, store, work, hosts, v1, v2, v3 = sys.argv[1:8]
hosts = int(hosts)
cairn = os.path.join(bin_dir, "cairn")

def status_kb(pid, field):
    """A memory field of /proc/PID/status (VmRSS: now, VmHWM: peak), in KB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

server_out = open(os.path.join(work, "serve.out"), "w")
server = subprocess.Popen([cairn, "--store", store, "serve", "--listen", "127.0.0.1:0"],
                          stdout=server_out, stderr=subprocess.STDOUT)
procs = [server]

def stop_all():
    # The hosts first: a server stopped under them would only make them warn.
    for p in procs[1:] + procs[:1]:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs[1:] + procs[:1]:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()

port = None
for _ in range(200):
    with open(os.path.join(work, "serve.out")) as f:
        m = re.search(r"127\.0\.0\.1:(\d+)", f.read())
    if m:
        port = m.group(1)
        break
    time.sleep(0.05)
if port is None:
    stop_all()
    sys.exit("cairn serve did not start: " + open(os.path.join(work, "serve.out")).read())

# `cairn serve` execs cairn-serve: the pid is the server's.
dirs = [os.path.join(work, f"host-{i:03d}") for i in range(hosts)]
logs = open(os.path.join(work, "followers.log"), "w")
for d in dirs:
    procs.append(subprocess.Popen(
        [cairn, "checkout", "prod", "--into", d, "--follow", "--from", f"http://127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=logs))

def target_of(d):
    try:
        return os.path.basename(os.readlink(os.path.join(d, "current")))
    except OSError:
        return ""

def wait_all(snapshot, limit):
    """Seconds from now until each host's current names `snapshot` (None: not within limit)."""
    start = time.monotonic()
    done = [None] * len(dirs)
    while time.monotonic() - start < limit:
        pending = False
        for i, d in enumerate(dirs):
            if done[i] is None:
                if target_of(d).startswith(snapshot[:12]):
                    done[i] = time.monotonic() - start
                else:
                    pending = True
        if not pending:
            break
        time.sleep(0.005)
    return done

try:
    t0 = time.monotonic()
    first = wait_all(v1, 120)
    missing = sum(1 for x in first if x is None)
    if missing:
        sys.exit(f"{missing} of {hosts} hosts never checked out prod; see {work}/followers.log")
    print(f"{hosts} hosts following prod over HTTP (port {port}); all on v1 after "
          f"{time.monotonic() - t0:.1f} s")
    time.sleep(1.5)  # every follower is back in its long-poll
    server_idle = status_kb(server.pid, "VmRSS")
    follower_rss = statistics.median(status_kb(p.pid, "VmRSS") for p in procs[1:])
    moves = [("promote v2", v2, ["promote", v2, "--to", "prod", "--reason", "bench"]),
             ("rollback", v1, ["rollback", "prod", "--reason", "bench"]),
             ("promote v3", v3, ["promote", v3, "--to", "prod", "--reason", "bench"])]
    results = []
    print(f"{'move':<12} {'p50':>8} {'p99':>8} {'max':>8} {'switched':>10}   target: all within 3 s")
    for name, snap, args in moves:
        subprocess.run([cairn, "--store", store] + args, check=True, stdout=subprocess.DEVNULL)
        times = wait_all(snap, 30)
        ok = [x for x in times if x is not None]
        ok.sort()
        p50 = ok[len(ok) // 2] if ok else float("nan")
        p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))] if ok else float("nan")
        worst = ok[-1] if ok else float("nan")
        verdict = "PASS" if len(ok) == hosts and worst <= 3.0 else "FAIL"
        print(f"{name:<12} {p50:7.3f}s {p99:7.3f}s {worst:7.3f}s {len(ok):>5}/{hosts:<4}   {verdict}")
        results.append({"move": name, "p50_s": p50, "p99_s": p99, "max_s": worst,
                        "switched": len(ok), "hosts": hosts})
        time.sleep(1.5)
    server_peak = status_kb(server.pid, "VmHWM")
    print(f"server RSS: {server_idle // 1024} MB with every host waiting, peak {server_peak // 1024} MB; "
          f"one follower: {int(follower_rss) // 1024} MB (median)")
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"hosts": hosts, "moves": results, "server_rss_kb": server_idle,
                   "server_peak_kb": server_peak, "follower_rss_kb": follower_rss}, f, indent=1)
    print(f"results: {work}/results.json")
finally:
    stop_all()
PY
