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
# usage: benchmarks/native-echo/run.sh [SECONDS] [WINDOW] [ROUNDS]   (as root; build the project
#        first: ./mvnw -B -q package -DskipTests)
set -euo pipefail
seconds=${1:-5}
window=${2:-32}
rounds=${3:-3}
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

device=tunbench
ip tuntap add dev "$device" mode tun
ip addr add 198.51.100.1/24 dev "$device"
ip link set "$device" up
target=198.51.100.2

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), kernel $(uname -r), $(date -u +%F)"
echo "load: $window datagrams in flight for ${seconds}s per run, to $target:7 through $device"

echo_pid=""
start_echo() { # $1 = c|netty-raw|netty; sets echo_pid once the echo is ready
  local log="$out/$1.log"
  case "$1" in
    c) "$out/c-echo" "$device" >"$log" 2>&1 & ;;
    netty-raw) "$java" --enable-native-access=ALL-UNNAMED -jar "$jar" native --name "$device" --address none --raw >"$log" 2>&1 & ;;
    netty) "$java" --enable-native-access=ALL-UNNAMED -jar "$jar" native --name "$device" --address none >"$log" 2>&1 & ;;
  esac
  local pid=$!
  for _ in $(seq 1 100); do
    if grep -q -e 'ready' -e 'echoing' "$log"; then echo_pid=$pid; return; fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "echo $1 did not start" >&2; cat "$log" >&2; exit 1
}

declare -A runs
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
for size in 64 1400; do
  for round in $(seq 1 "$rounds"); do
    for impl in c netty-raw netty; do
      start_echo "$impl"
      "$out/loadgen" "$target" 7 "$size" "$window" 2 warmup >/dev/null # JIT and caches
      line=$("$out/loadgen" "$target" 7 "$size" "$window" "$seconds" "$impl")
      echo "$line round=$round"
      kill -TERM "$echo_pid"; wait "$echo_pid" || true
      runs[$impl-$size]="${runs[$impl-$size]:-} $(sed -n 's/.* pps=\([0-9]*\).*/\1/p' <<<"$line")"
    done
  done
  c=$(median <<<"${runs[c-$size]}")
  for impl in c netty-raw netty; do
    m=$(median <<<"${runs[$impl-$size]}")
    echo "MEDIAN size=$size $impl pps=$m ratio_to_c=$(awk -v n="$m" -v c="$c" 'BEGIN { printf "%.3f", (c > 0 ? n / c : 0) }')"
  done
done
