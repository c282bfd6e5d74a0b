# Helpers shared by the iperf3 benchmarks (tun-forward, tun-vpn); sourced, not run.

# The newest JDK 22+ among JAVA_HOME and /usr/lib/jvm/* (the native layer needs 22+); sets $java.
find_java() {
  java=""
  local best=0 candidate v
  for candidate in ${JAVA_HOME:-} /usr/lib/jvm/*; do
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$candidate/release" 2>/dev/null || true)
    if [ -n "$v" ] && [ "$v" -ge 22 ] && [ "$v" -gt "$best" ]; then best=$v; java="$candidate/bin/java"; fi
  done
  [ -n "$java" ] || { echo "no JDK 22+ found" >&2; exit 1; }
}

# iperf3, installed with apt-get if missing: call before leaving the host's network.
ensure_iperf3() {
  if ! command -v iperf3 >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null
  fi
}

# Enters a private network and mount namespace (re-running the calling script there), in which
# `ip netns add` keeps its namespaces in a tmpfs only this script sees: nothing of the host's
# network is touched, and nothing is left behind when the script ends, however it ends.
enter_private_namespaces() { # "$@" = the script's arguments
  if [ -z "${TUNTAP_BENCH_NETNS:-}" ]; then
    exec unshare --net --mount env TUNTAP_BENCH_NETNS=1 "$0" "$@"
  fi
  mount --make-rprivate /
  mkdir -p /run/netns
  mount -t tmpfs tmpfs /run/netns
  ip link set lo up
}

machine_line() {
  echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), kernel $(uname -r), $(date -u +%F)"
}

# Waits until file $2 holds "ready" (process $1 printed it); fails with the file if $1 dies or 20 s pass.
await_ready() {
  local _
  for _ in $(seq 1 200); do
    grep -q '^ready' "$2" && return 0
    kill -0 "$1" 2>/dev/null || { echo "$2:" >&2; cat "$2" >&2; exit 1; }
    sleep 0.1
  done
  echo "not ready after 20 s: $2" >&2; cat "$2" >&2; exit 1
}

# iperf3 TCP from namespace $1 to $3 (a server in namespace $2) for $4 seconds, after a warm-up
# connection of WARMUP_SECONDS (default 3: the JVM's JIT compilers need seconds, more on a busy
# machine; the C side loses nothing by it); prints the receiver's Gbit/s.
iperf_gbps() { # $1 client ns, $2 server ns, $3 server address, $4 seconds
  local server text="" gbps _
  ip netns exec "$2" iperf3 -s -1 -B "$3" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 1 50); do ip netns exec "$1" iperf3 -c "$3" -t "${WARMUP_SECONDS:-3}" >/dev/null 2>&1 && break; sleep 0.1; done
  kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true
  ip netns exec "$2" iperf3 -s -1 -B "$3" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 1 50); do
    text=$(ip netns exec "$1" iperf3 -c "$3" -t "$4" -f m 2>/dev/null) && break
    sleep 0.1
  done
  kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true
  gbps=$(awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") printf "%.3f\n", $i / 1000 }' <<<"$text" | tail -n 1)
  [ -n "$gbps" ] || { echo "iperf3 to $3 failed: $text" >&2; exit 1; }
  echo "$gbps"
}

# The median of the numbers on stdin (separated by spaces or lines).
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

ratio() { awk -v n="$1" -v d="$2" 'BEGIN { printf "%.3f", (d > 0 ? n / d : 0) }'; }
