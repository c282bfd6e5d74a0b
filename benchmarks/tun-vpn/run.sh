#!/usr/bin/env bash
# The VPN benchmark (issue 12): iperf3 TCP from one network namespace to another through a
# user-space UDP tunnel at each end, the two ends talking UDP over a veth pair: the examples'
# tun-vpn.jar (a TunChannel and an EpollDatagramChannel on one epoll loop) and its C twin
# (c-tunnel.c: poll, read/sendto, recvmsg/write; the same wire format), each plain (one datagram
# per IP packet) and with offloads (64 KiB super-packets from the device carried whole in chunks,
# UDP GSO and GRO on the sockets). The ceiling is the kernel alone: iperf3 straight over the veth.
# Runs are interleaved (kernel, c plain, ours plain, c offload, ours offload, then again) for
# ROUNDS rounds; the table gives median Gbit/s, ours as a ratio of C's in each mode, and each as
# a ratio of the kernel's.
#
#   vpn-a: iperf3 client -> vt 198.51.100.1 (MTU 1420) -> tunnel end -> va 192.0.2.1 ─┐ veth,
#   vpn-b: iperf3 server <- vt 198.51.100.2 (MTU 1420) <- tunnel end <- vb 192.0.2.2 ─┘ MTU 1500
#
# Everything happens in a private network and mount namespace (namespaces vpn-a and vpn-b live in
# a tmpfs on /run/netns that only this script sees); the host's interfaces are never touched.
#
# usage: benchmarks/tun-vpn/run.sh [SECONDS] [ROUNDS]   (as root; build the project first:
#        ./mvnw -B -q package -DskipTests; installs iperf3 with apt-get if it is missing).
#        VPN_JAVA_OPTS adds JVM options to our tunnel ends; WARMUP_SECONDS (default 10 here) is
#        the warm-up connection before each measured one: a tunnel end's JVM needs several seconds
#        of traffic before its JIT has compiled the per-datagram path (far more on a busy machine).
set -euo pipefail
export WARMUP_SECONDS=${WARMUP_SECONDS:-10}
seconds=${1:-10}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../lib/iperf.sh"

[ -z "${TUNTAP_BENCH_NETNS:-}" ] && ensure_iperf3
enter_private_namespaces "$@"

out="$root/benchmarks/target/tun-vpn"
mkdir -p "$out"
gcc -O2 -Wall -o "$out/c-tunnel" "$here/c-tunnel.c"
jar="$root/examples/target/tun-vpn.jar"
[ -f "$jar" ] || { echo "build first: ./mvnw -B -q package -DskipTests" >&2; exit 1; }
find_java

ip netns add vpn-a
ip netns add vpn-b
ip -n vpn-a link set lo up
ip -n vpn-b link set lo up
ip link add va netns vpn-a type veth peer name vb netns vpn-b
ip -n vpn-a addr add 192.0.2.1/24 dev va
ip -n vpn-b addr add 192.0.2.2/24 dev vb
ip -n vpn-a link set va up
ip -n vpn-b link set vb up
machine_line
echo "load: iperf3 TCP for ${seconds}s per run (after a ${WARMUP_SECONDS:-3} s warm-up); kernel: 192.0.2.1 -> 192.0.2.2 over the veth;" \
  "tunnel: 198.51.100.1 -> 198.51.100.2 through tun-vpn at both ends"

pids=()
start_tunnel() { # $1 = c|netty, $2 = plain|offload: one end in each namespace, device vt, then its address
  local side local_ip peer_ip inner log
  pids=()
  for side in a b; do
    if [ "$side" = a ]; then local_ip=192.0.2.1; peer_ip=192.0.2.2; inner=198.51.100.1
    else local_ip=192.0.2.2; peer_ip=192.0.2.1; inner=198.51.100.2; fi
    log="$out/$1-$2-$side.log"
    : >"$log"
    case "$1" in
      c) ip netns exec "vpn-$side" "$out/c-tunnel" vt "$local_ip:51820" "$peer_ip:51820" \
           $([ "$2" = offload ] && echo offload) >"$log" 2>&1 & ;;
      netty) ip netns exec "vpn-$side" "$java" --enable-native-access=ALL-UNNAMED ${VPN_JAVA_OPTS:-} -jar "$jar" \
           --device vt --listen "$local_ip:51820" --peer "$peer_ip:51820" $([ "$2" = offload ] && echo --offload) >"$log" 2>&1 & ;;
    esac
    pids+=($!)
    await_ready "$!" "$log"
    ip -n "vpn-$side" link set vt mtu 1420
    ip -n "vpn-$side" addr add "$inner/24" dev vt
    ip -n "vpn-$side" link set vt up
  done
}
stop_tunnel() { # the devices are the tunnels' own (not persistent): they go with them
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid"; done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
}

# Datagrams the kernel dropped because a tunnel end's socket buffer was full: each one is a loss
# the TCP inside takes for congestion, so they explain a slow run.
udp_rcvbuf_errors() { # $1 = namespace
  ip netns exec "$1" awk '/^Udp:/ { if (!n) { for (i = 1; i <= NF; i++) col[$i] = i; n = 1 } else print $col["RcvbufErrors"] }' /proc/net/snmp
}

declare -A runs
for round in $(seq 1 "$rounds"); do
  gbps=$(iperf_gbps vpn-a vpn-b 192.0.2.2 "$seconds")
  echo "run impl=kernel round=$round gbps=$gbps"
  runs[kernel]="${runs[kernel]:-} $gbps"
  for mode in plain offload; do
    for impl in c netty; do
      drops_before=$(( $(udp_rcvbuf_errors vpn-a) + $(udp_rcvbuf_errors vpn-b) ))
      start_tunnel "$impl" "$mode"
      gbps=$(iperf_gbps vpn-a vpn-b 198.51.100.2 "$seconds")
      stop_tunnel
      drops=$(( $(udp_rcvbuf_errors vpn-a) + $(udp_rcvbuf_errors vpn-b) - drops_before ))
      echo "run impl=$impl mode=$mode round=$round gbps=$gbps udp_rcvbuf_drops=$drops a: $(tail -n 1 "$out/$impl-$mode-a.log")"
      runs[$impl-$mode]="${runs[$impl-$mode]:-} $gbps"
    done
  done
done

echo
echo "medians of $rounds rounds, Gbit/s (iperf3 TCP, ${seconds}s)"
k=$(median <<<"${runs[kernel]}")
echo "kernel over the veth (the ceiling): $k"
printf '%-10s %12s %12s %10s %14s %14s\n' mode "C tunnel" "tun-vpn" "ours/C" "C/kernel" "ours/kernel"
for mode in plain offload; do
  c=$(median <<<"${runs[c-$mode]}")
  n=$(median <<<"${runs[netty-$mode]}")
  printf '%-10s %12s %12s %10s %14s %14s\n' "$mode" "$c" "$n" "$(ratio "$n" "$c")" "$(ratio "$c" "$k")" "$(ratio "$n" "$k")"
  echo "MEDIAN mode=$mode c_gbps=$c netty_gbps=$n ratio_to_c=$(ratio "$n" "$c") kernel_gbps=$k"
done
echo "offload/plain: C $(ratio "$(median <<<"${runs[c-offload]}")" "$(median <<<"${runs[c-plain]}")")," \
  "ours $(ratio "$(median <<<"${runs[netty-offload]}")" "$(median <<<"${runs[netty-plain]}")")"
