#!/usr/bin/env bash
# Quick-start timing on a fresh Debian 12: the README's first command (`bash scripts/demo.sh`)
# run from a clean clone inside a new Debian 12 root made by debootstrap (minbase: not even
# g++, cmake or git), so apt's downloads and installs are part of the time, as on a new
# machine. `--tests` then times the second command (`bash scripts/test.sh`) in the same root.
#
#   bash bench/quickstart_bench.sh [--workdir DIR] [--tests] [--mirror URL]
#
# Needs root (debootstrap, chroot, mounts) and Debian's mirror. The base root is made once
# and kept in WORKDIR/base (not timed); every run copies it, so each run starts fresh.
# The chroot shares this machine's kernel, network and CPUs (nproc inside = nproc here).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
workdir=/tmp/cairn-quickstart-bench
mirror=http://deb.debian.org/debian
tests=0
while [ $# -gt 0 ]; do
  case "$1" in
    --workdir) workdir=$2; shift 2 ;;
    --mirror) mirror=$2; shift 2 ;;
    --tests) tests=1; shift ;;
    *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "quickstart_bench: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null

marker=.cairn-quickstart-bench
if [ -e "$workdir" ] && [ -n "$(ls -A "$workdir")" ] && [ ! -e "$workdir/$marker" ]; then
  echo "quickstart_bench: $workdir is not empty and was not made by this benchmark" >&2
  exit 1
fi
mkdir -p "$workdir"
touch "$workdir/$marker"
base=$workdir/base
run=$workdir/run

mounted=()
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" 2>/dev/null || true; done
  mounted=()
}
trap unmount_all EXIT
# Never delete a tree with anything still mounted under it (/dev is bound in).
remove_tree() {
  if findmnt -rn -o TARGET | grep -q "^$1\(/\|$\)"; then
    echo "quickstart_bench: something is still mounted under $1; not removing it" >&2
    exit 1
  fi
  rm -rf "$1"
}

if [ ! -x "$base/bin/bash" ]; then
  echo "making a Debian 12 base root in $base (debootstrap, not timed) ..."
  remove_tree "$base"
  debootstrap --variant=minbase bookworm "$base" "$mirror" >"$workdir/debootstrap.log" 2>&1 || {
    echo "quickstart_bench: debootstrap failed; see $workdir/debootstrap.log" >&2
    exit 1
  }
fi
remove_tree "$run"
cp -a "$base" "$run"
cp /etc/resolv.conf "$run/etc/resolv.conf"
if [ -d /etc/apt/sources.list.d ] && ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
  rm -f "$run/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/*.sources "$run/etc/apt/sources.list.d/"
fi
for m in proc sys dev dev/pts dev/shm; do
  case $m in
    proc) mount -t proc proc "$run/proc" ;;
    sys) mount -t sysfs sys "$run/sys" ;;
    dev | dev/pts) mount --bind "/$m" "$run/$m" ;;
    dev/shm) mount -t tmpfs tmpfs "$run/dev/shm" ;;
  esac
  mounted+=("$run/$m")
done
git clone -q "$root" "$run/root/cairn"
echo "clone of $(git -C "$root" rev-parse --short HEAD) in $run/root/cairn"

# time_in_root LABEL COMMAND: runs COMMAND in the clone inside the root with a clean
# environment; prints and records the wall time.
time_in_root() {
  local label=$1 cmd=$2 start end rc=0
  start=$(date +%s.%N)
  echo "$cmd: started at $(date -d "@$start" '+%F %T')"
  chroot "$run" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd /root/cairn && $cmd" >"$workdir/$label.out" 2>&1 || rc=$?
  end=$(date +%s.%N)
  printf '%s: %.1f s (exit %d, output in %s)\n' "$cmd" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$rc" "$workdir/$label.out"
  return "$rc"
}

echo
time_in_root demo "bash scripts/demo.sh"
# apt's share: from the start of the run to the end of the install apt logged.
apt_end=$(sed -n 's/^End-Date: //p' "$run/var/log/apt/history.log" | tail -1)
[ -n "$apt_end" ] && echo "  apt finished installing at $apt_end (the demo's own output follows it)"
if [ "$tests" = 1 ]; then
  time_in_root tests "bash scripts/test.sh"
fi
unmount_all
