#!/usr/bin/env bash
# The forwarder benchmark (issue 12): iperf3 TCP from one network namespace to another through
# two TUN devices and a user-space forwarder that writes what it reads from one to the other:
# the minimal C forwarder (c-forward.c) and ours (examples' tun-forward.jar: two TunChannels on
# one epoll loop), each plain and with offloads (virtio-net headers, TSO: 64 KiB per read).
# Runs are interleaved (c, netty, c+offload, netty+offload, then again) for ROUNDS rounds; the
# table gives median Gbit/s and ours as a ratio of C's in the same mode.
#
# Everything happens in a private network and mount namespace (namespaces fwd-a and fwd-b live
# in a tmpfs on /run/netns that only this script sees); the host's interfaces are never touched.
#
# usage: benchmarks/tun-forward/run.sh [SECONDS] [ROUNDS]   (as root; build the project first:
#        ./mvnw -B -q package -DskipTests; installs iperf3 with apt-get if it is missing).
#        FORWARD_JAVA_OPTS adds JVM options to our forwarder.
set -euo pipefail
seconds=${1:-10}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../lib/iperf.sh"

[ -z "${TUNTAP_BENCH_NETNS:-}" ] && ensure_iperf3
enter_private_namespaces "$@"

out="$root/benchmarks/target/tun-forward"
mkdir -p "$out"
gcc -O2 -Wall -o "$out/c-forward" "$here/c-forward.c"
jar="$root/examples/target/tun-forward.jar"
[ -f "$jar" ] || { echo "build first: ./mvnw -B -q package -DskipTests" >&2; exit 1; }
find_java

ip netns add fwd-a
ip netns add fwd-b
ip -n fwd-a link set lo up
ip -n fwd-b link set lo up
machine_line
echo "load: iperf3 TCP for ${seconds}s per run (after a ${WARMUP_SECONDS:-3} s warm-up), fwd-a 198.51.100.1 -> fwd-b 198.51.100.2 through fa, the forwarder, fb"

forwarder_pid=""
start_forwarder() { # $1 = c|netty, $2 = plain|offload; devices fa and fb, moved into the namespaces once attached
  local log="$out/$1-$2.log"
  : >"$log"
  ip tuntap add dev fa mode tun
  ip tuntap add dev fb mode tun
  case "$1" in
    c) "$out/c-forward" fa fb $([ "$2" = offload ] && echo offload) >"$log" 2>&1 & ;;
    netty) "$java" --enable-native-access=ALL-UNNAMED ${FORWARD_JAVA_OPTS:-} -jar "$jar" fa fb \
             $([ "$2" = offload ] && echo --offload) >"$log" 2>&1 & ;;
  esac
  forwarder_pid=$!
  await_ready "$forwarder_pid" "$log"
  # The fds stay attached to the devices when they move to another namespace.
  ip link set fa netns fwd-a
  ip link set fb netns fwd-b
  ip -n fwd-a addr add 198.51.100.1/24 dev fa
  ip -n fwd-b addr add 198.51.100.2/24 dev fb
  ip -n fwd-a link set fa up
  ip -n fwd-b link set fb up
}
stop_forwarder() {
  kill -TERM "$forwarder_pid"; wait "$forwarder_pid" || true
  ip -n fwd-a link del fa
  ip -n fwd-b link del fb
}

declare -A runs
for round in $(seq 1 "$rounds"); do
  for mode in plain offload; do
    for impl in c netty; do
      start_forwarder "$impl" "$mode"
      gbps=$(iperf_gbps fwd-a fwd-b 198.51.100.2 "$seconds")
      stop_forwarder
      echo "run impl=$impl mode=$mode round=$round gbps=$gbps $(tail -n 1 "$out/$impl-$mode.log")"
      runs[$impl-$mode]="${runs[$impl-$mode]:-} $gbps"
    done
  done
done

echo
echo "medians of $rounds rounds, Gbit/s (iperf3 TCP, ${seconds}s)"
printf '%-10s %14s %14s %10s\n' mode "C forwarder" "tun-forward" "ours/C"
for mode in plain offload; do
  c=$(median <<<"${runs[c-$mode]}")
  n=$(median <<<"${runs[netty-$mode]}")
  printf '%-10s %14s %14s %10s\n' "$mode" "$c" "$n" "$(ratio "$n" "$c")"
  echo "MEDIAN mode=$mode c_gbps=$c netty_gbps=$n ratio_to_c=$(ratio "$n" "$c")"
done
echo "offload/plain: C $(ratio "$(median <<<"${runs[c-offload]}")" "$(median <<<"${runs[c-plain]}")")," \
  "ours $(ratio "$(median <<<"${runs[netty-offload]}")" "$(median <<<"${runs[netty-plain]}")")"
