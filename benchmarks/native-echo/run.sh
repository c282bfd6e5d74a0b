#!/usr/bin/env bash
# The native echo benchmark: the Netty UDP echo (examples' udp-echo.jar, TunChannel + codecs on
# an epoll loop; and with --raw, TunChannel alone swapping packets in place as the C loop does)
# against a minimal C echo (c-echo.c: read / swap / write), on the same kind of
# TUN device under the same load (loadgen.c: a kernel UDP socket keeping WINDOW datagrams in
# flight), in a private network namespace. Prints each run and Netty's rate as a ratio of C's.
#
# Runs are interleaved (c, netty-raw, netty, then again) for ROUNDS rounds, and the ratios are of
# the median rates, because one run on a small shared machine varies by several percent.
#
# MODE tap runs the same on a TAP device: the C echo swaps MACs too, the Netty echo runs the TAP
# pipeline (Ethernet + ARP + IPv4 + UDP), and the kernel's neighbour entry for the echo is made
# permanent after the warm-up (C: a static entry; Netty: the MAC its ArpHandler answered with),
# so no ARP falls in the measured window. There is no raw Netty echo on TAP.
#
# netty-offload is the same pipeline with the transport's VNET_HDR and offloads: the echoes of
# one read batch leave as one USO super-packet (one write for up to 64 datagrams; on TAP behind
# one Ethernet header), which the kernel segments again.
#
# netty-uring and netty-raw-uring are netty and netty-raw on Netty's io_uring loop instead of
# epoll (--io-uring): reads and writes queued in the ring, a batch of them per io_uring_enter,
# where the epoll echoes and the C loop make one read and one write system call per packet.
# IMPLS="c netty-uring" runs a subset (c first: the ratios are to it).
#
# Each run also reports the echo process's CPU time per echoed packet, user and system (from
# /proc/PID/stat over the measured window, every thread of the process): where the time goes
# when a C loop and a JVM echo make the same two system calls per packet.
#
# usage: benchmarks/native-echo/run.sh [SECONDS] [WINDOW] [ROUNDS] [tun|tap]   (as root; build the
#        project first: ./mvnw -B -q package -DskipTests). ECHO_JAVA_OPTS adds JVM options to the
#        Netty echoes (e.g. -Dio.netty.leakDetection.level=disabled, -Xlog:gc). WARMUP_SECONDS
#        (default 15) is the load each echo gets before its measured run: the JVM's C2 compiler
#        is still busy for several seconds after start, and a window it falls into measures the
#        compiler (7% of a core in the window after a 2 s warm-up); each run prints the compiler threads' CPU
#        time in its window (jit_ms), not the echo.
set -euo pipefail
seconds=${1:-5}
warmup=${WARMUP_SECONDS:-15}
window=${2:-32}
rounds=${3:-3}
mode=${4:-tun}
case "$mode" in tun|tap) ;; *) echo "MODE is tun or tap" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${TUNTAP_BENCH_NETNS:-}" ]; then
  exec unshare --net env TUNTAP_BENCH_NETNS=1 "$0" "$@"
fi
ip link set lo up

out="$root/benchmarks/target/native-echo"
mkdir -p "$out"
gcc -O2 -Wall -o "$out/c-echo" "$here/c-echo.c"
gcc -O2 -Wall -o "$out/loadgen" "$here/loadgen.c"

jar="$root/examples/target/udp-echo.jar"
[ -f "$jar" ] || { echo "build first: ./mvnw -B -q package -DskipTests" >&2; exit 1; }
java=""
best=0
for candidate in ${JAVA_HOME:-} /usr/lib/jvm/*; do
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$candidate/release" 2>/dev/null || true)
  if [ -n "$v" ] && [ "$v" -ge 22 ] && [ "$v" -gt "$best" ]; then best=$v; java="$candidate/bin/java"; fi
done
[ -n "$java" ] || { echo "no JDK 22+ found" >&2; exit 1; }

device=${mode}bench
# A new device for every run: an echo with offloads leaves the device's features set (the
# kernel would then hand the next echo packets with partial checksums).
fresh_device() {
  ip link del "$device" 2>/dev/null || true
  ip tuntap add dev "$device" mode "$mode"
  ip addr add 198.51.100.1/24 dev "$device"
  ip link set "$device" up
}
target=198.51.100.2
impls="c netty-raw netty netty-raw-uring netty-uring netty-offload"
[ "$mode" = tap ] && impls="c netty netty-uring netty-offload"
impls=${IMPLS:-$impls}
c_mac=02:00:00:00:00:02 # the C echo's MAC in TAP mode: whatever the kernel is told

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), kernel $(uname -r), $(date -u +%F)"
echo "load: $window datagrams in flight for ${seconds}s per run after ${warmup}s of warm-up, to $target:7 through $device ($mode)"

echo_pid=""
start_echo() { # $1 = c|netty-raw|netty; sets echo_pid once the echo is ready
  local log="$out/$1.log"
  case "$1" in
    c) "$out/c-echo" "$device" $([ "$mode" = tap ] && echo tap) >"$log" 2>&1 & ;;
    netty-raw) "$java" --enable-native-access=ALL-UNNAMED ${ECHO_JAVA_OPTS:-} -jar "$jar" native --name "$device" --address none --raw >"$log" 2>&1 & ;;
    netty) "$java" --enable-native-access=ALL-UNNAMED ${ECHO_JAVA_OPTS:-} -jar "$jar" native --name "$device" --mode "$mode" --address none >"$log" 2>&1 & ;;
    netty-offload) "$java" --enable-native-access=ALL-UNNAMED ${ECHO_JAVA_OPTS:-} -jar "$jar" native --name "$device" --mode "$mode" --address none --offload >"$log" 2>&1 & ;;
    netty-uring) "$java" --enable-native-access=ALL-UNNAMED ${ECHO_JAVA_OPTS:-} -jar "$jar" native --name "$device" --mode "$mode" --address none --io-uring >"$log" 2>&1 & ;;
    netty-raw-uring) "$java" --enable-native-access=ALL-UNNAMED ${ECHO_JAVA_OPTS:-} -jar "$jar" native --name "$device" --address none --raw --io-uring >"$log" 2>&1 & ;;
  esac
  local pid=$!
  for _ in $(seq 1 100); do
    if grep -q -e 'ready' -e 'echoing' "$log"; then echo_pid=$pid; return; fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "echo $1 did not start" >&2; cat "$log" >&2; exit 1
}

declare -A runs p99 p999 user_us sys_us
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; } # utime stime, in clock ticks
jit_ticks() { # user + system ticks of the JVM's compiler threads (none in the C echo)
  local total=0 task
  for task in /proc/"$1"/task/*; do
    case "$(cat "$task/comm" 2>/dev/null)" in C1\ Compiler*|C2\ Compiler*) total=$((total + $(awk '{ print $14 + $15 }' "$task/stat"))) ;; esac
  done
  echo "$total"
}
per_packet_us() { awk -v t="$1" -v n="$2" -v hz="$ticks" 'BEGIN { printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0) }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
for size in 64 1400; do
  for round in $(seq 1 "$rounds"); do
    for impl in $impls; do
      fresh_device
      if [ "$mode" = tap ]; then
        ip neigh flush dev "$device" nud all # permanent entries too: the last echo's MAC is not this one's
        [ "$impl" = c ] && ip neigh replace "$target" lladdr "$c_mac" nud permanent dev "$device"
      fi
      start_echo "$impl"
      "$out/loadgen" "$target" 7 "$size" "$window" "$warmup" warmup >/dev/null # JIT and caches
      if [ "$mode" = tap ] && [ "$impl" != c ]; then # pin what ARP learned during the warm-up
        learned=$(ip neigh show "$target" dev "$device" | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
        [ -n "$learned" ] || { echo "the kernel did not resolve $target through $impl's ARP" >&2; exit 1; }
        ip neigh replace "$target" lladdr "$learned" nud permanent dev "$device"
      fi
      read -r user0 sys0 < <(cpu_ticks "$echo_pid")
      jit0=$(jit_ticks "$echo_pid")
      line=$("$out/loadgen" "$target" 7 "$size" "$window" "$seconds" "$impl")
      read -r user1 sys1 < <(cpu_ticks "$echo_pid")
      jit_ms=$(( ($(jit_ticks "$echo_pid") - jit0) * 1000 / ticks ))
      received=$(sed -n 's/.* received=\([0-9]*\).*/\1/p' <<<"$line")
      user=$(per_packet_us $((user1 - user0)) "$received")
      sys=$(per_packet_us $((sys1 - sys0)) "$received")
      echo "$line user_us_per_packet=$user sys_us_per_packet=$sys jit_ms=$jit_ms round=$round"
      user_us[$impl-$size]="${user_us[$impl-$size]:-} $user"
      sys_us[$impl-$size]="${sys_us[$impl-$size]:-} $sys"
      kill -TERM "$echo_pid"; wait "$echo_pid" || true
      runs[$impl-$size]="${runs[$impl-$size]:-} $(sed -n 's/.* pps=\([0-9]*\).*/\1/p' <<<"$line")"
      p99[$impl-$size]="${p99[$impl-$size]:-} $(sed -n 's/.* p99_us=\([0-9.]*\).*/\1/p' <<<"$line")"
      p999[$impl-$size]="${p999[$impl-$size]:-} $(sed -n 's/.* p999_us=\([0-9.]*\).*/\1/p' <<<"$line")"
    done
  done
  c=$(median <<<"${runs[c-$size]}")
  for impl in $impls; do
    m=$(median <<<"${runs[$impl-$size]}")
    echo "MEDIAN size=$size $impl pps=$m ratio_to_c=$(awk -v n="$m" -v c="$c" 'BEGIN { printf "%.3f", (c > 0 ? n / c : 0) }')" \
      "p99_us=$(median <<<"${p99[$impl-$size]}") p999_us=$(median <<<"${p999[$impl-$size]}")" \
      "cpu_us_per_packet: user=$(median <<<"${user_us[$impl-$size]}") sys=$(median <<<"${sys_us[$impl-$size]}")"
  done
done
