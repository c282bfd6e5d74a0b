#!/usr/bin/env bash
# The forwarder benchmark (issue 12): iperf3 TCP from one network namespace to another through
# two TUN devices and a user-space forwarder that writes what it reads from one to the other:
# the minimal C forwarder (c-forward.c) and ours (examples' tun-forward.jar: two TunChannels on
# one epoll loop), each plain and with offloads (virtio-net headers, TSO: 64 KiB per read).
# Runs are interleaved (c, netty, c+offload, netty+offload, then again) for ROUNDS rounds; the
# table gives median Gbit/s and each forwarder's ratio to C's in the same mode.
#
# Everything happens in a private network and mount namespace (namespaces fwd-a and fwd-b live
# in a tmpfs on /run/netns that only this script sees); the host's interfaces are never touched.
#
# usage: benchmarks/tun-forward/run.sh [SECONDS] [ROUNDS]   (as root; build the project first:
#        ./mvnw -B -q package -DskipTests; installs iperf3 with apt-get if it is missing)
set -euo pipefail
seconds=${1:-10}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${TUNTAP_BENCH_NETNS:-}" ]; then
  if ! command -v iperf3 >/dev/null; then # before leaving the host's network
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null
  fi
  exec unshare --net --mount env TUNTAP_BENCH_NETNS=1 "$0" "$@"
fi
mount --make-rprivate /
mkdir -p /run/netns
mount -t tmpfs tmpfs /run/netns
ip link set lo up

out="$root/benchmarks/target/tun-forward"
mkdir -p "$out"
gcc -O2 -Wall -o "$out/c-forward" "$here/c-forward.c"

jar="$root/examples/target/tun-forward.jar"
[ -f "$jar" ] || { echo "build first: ./mvnw -B -q package -DskipTests" >&2; exit 1; }
java=""
best=0
for candidate in ${JAVA_HOME:-} /usr/lib/jvm/*; do
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$candidate/release" 2>/dev/null || true)
  if [ -n "$v" ] && [ "$v" -ge 22 ] && [ "$v" -gt "$best" ]; then best=$v; java="$candidate/bin/java"; fi
done
[ -n "$java" ] || { echo "no JDK 22+ found" >&2; exit 1; }

ip netns add fwd-a
ip netns add fwd-b
ip -n fwd-a link set lo up
ip -n fwd-b link set lo up
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), kernel $(uname -r), $(date -u +%F)"
echo "load: iperf3 TCP for ${seconds}s per run, fwd-a 198.51.100.1 -> fwd-b 198.51.100.2 through fa/fb"

forwarder_pid=""
start_forwarder() { # $1 = c|netty, $2 = plain|offload; devices fa and fb, moved into the namespaces once attached
  local log="$out/$1-$2.log"
  : >"$log"
  ip tuntap add dev fa mode tun
  ip tuntap add dev fb mode tun
  case "$1" in
    c) "$out/c-forward" fa fb $([ "$2" = offload ] && echo offload) >"$log" 2>&1 & ;;
    netty) "$java" --enable-native-access=ALL-UNNAMED -jar "$jar" fa fb $([ "$2" = offload ] && echo --offload) >"$log" 2>&1 & ;;
  esac
  local pid=$!
  for _ in $(seq 1 100); do
    if grep -q 'ready' "$log"; then
      forwarder_pid=$pid
      ip link set fa netns fwd-a
      ip link set fb netns fwd-b
      ip -n fwd-a addr add 198.51.100.1/24 dev fa
      ip -n fwd-b addr add 198.51.100.2/24 dev fb
      ip -n fwd-a link set fa up
      ip -n fwd-b link set fb up
      return
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "forwarder $1 did not start" >&2; cat "$log" >&2; exit 1
}
stop_forwarder() {
  kill -TERM "$forwarder_pid"; wait "$forwarder_pid" || true
  ip -n fwd-a link del fa 2>/dev/null || true
  ip -n fwd-b link del fb 2>/dev/null || true
}

declare -A runs
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
for round in $(seq 1 "$rounds"); do
  for mode in plain offload; do
    for impl in c netty; do
      start_forwarder "$impl" "$mode"
      ip netns exec fwd-b iperf3 -s -1 >/dev/null 2>&1 &
      server=$!
      sleep 0.5
      ip netns exec fwd-a iperf3 -c 198.51.100.2 -t 1 >/dev/null # warm-up: JIT, ARP-free TUN, slow start
      wait "$server" || true
      ip netns exec fwd-b iperf3 -s -1 >/dev/null 2>&1 &
      server=$!
      sleep 0.5
      json=$(ip netns exec fwd-a iperf3 -c 198.51.100.2 -t "$seconds" -J)
      wait "$server" || true
      gbps=$(python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))' <<<"$json")
      stop_forwarder
      echo "run impl=$impl mode=$mode round=$round gbps=$gbps $(tail -n 1 "$out/$impl-$mode.log")"
      runs[$impl-$mode]="${runs[$impl-$mode]:-} $gbps"
    done
  done
done
for mode in plain offload; do
  c=$(median <<<"${runs[c-$mode]}")
  for impl in c netty; do
    m=$(median <<<"${runs[$impl-$mode]}")
    echo "MEDIAN mode=$mode $impl gbps=$m ratio_to_c=$(awk -v n="$m" -v c="$c" 'BEGIN { printf "%.3f", (c > 0 ? n / c : 0) }')"
  done
done
