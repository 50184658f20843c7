#!/usr/bin/env bash
# targets.sh: measure the performance targets of docs/performance.md, RUNS times each.
#
# Builds herald (or takes HERALD=/path/to/herald, to compare two builds in one sitting), and
# for every run of every target starts a fresh `herald serve` (bolt
# store, default settings, unless the target says otherwise) on a loopback port, loads it
# with `herald bench`, and stops it. Prints one line per run, then per target the median
# and the spread (lowest to highest) of the runs. The hub and the load generator share the
# machine's cores, as they do in docs/performance.md.
#
# Usage: bench/targets.sh [TARGET ...]
#   targets: idle fanout19k fanout19k-memory fanout2k fanout2k-memory throughput
#            publish19k publish0 publish19k-memory publish0-memory restart
#            idle-h2 fanout2k-h2 fanout19k-h2 (default: all)
#   and the durable publish path (issue 19), not in the default set: publish1 publish32
#            publish128 publish32-2k publish32-memory; each publishes for PUBLISH_DURATION
#            as fast as its publishers go and records publishes/s, the publish latency's
#            p50 and p99, and the hub's CPU time per publish (publish32-2k: 1,000 publishes
#            a second, every one to 2,000 subscribers, checked for losses and duplicates:
#            as fast as they go, the generator on the same cores cannot read 2,000 copies
#            of each, its streams are ended as slow consumers, and the history outruns them).
# The -h2 targets serve HTTPS (a certificate made with openssl for the run) and subscribe
# over HTTP/2 with `herald bench --http2`, 100 streams to a connection.
# Environment: RUNS (default 3), PORT (default 18180), SUBSCRIBERS (default 19000),
# OUT (a file to keep every run's JSON in, one object a line), HERALD (a herald binary to
# use instead of building one), PUBLISH_DURATION (default 10s).
# Needs: go (unless HERALD), jq, ss, openssl (for the -h2 targets); an open-file limit
# above SUBSCRIBERS for each process.
set -euo pipefail

runs=${RUNS:-3}
port=${PORT:-18180}
subs=${SUBSCRIBERS:-19000}
pub_duration=${PUBLISH_DURATION:-10s}
case ${1:-} in
-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(idle fanout19k fanout19k-memory fanout2k fanout2k-memory throughput publish19k publish0
    publish19k-memory publish0-memory restart idle-h2 fanout2k-h2 fanout19k-h2)
fi

say() { printf 'targets: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
tools=(jq ss)
[ -n "${HERALD:-}" ] || tools+=(go)
case " ${targets[*]} " in *-h2\ *) tools+=(openssl) ;; esac
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || die "needs $tool"
done

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/targets.XXXXXX")
out=${OUT:-$tmp/runs.jsonl}
results=$tmp/results.tsv
hub_pid=''
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  if [ -n "$hub_pid" ] && kill -0 "$hub_pid" 2>/dev/null; then
    kill "$hub_pid" 2>/dev/null || true
    wait "$hub_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

herald=${HERALD:-$tmp/herald}
if [ -n "${HERALD:-}" ]; then
  [ -x "$herald" ] || die "HERALD=$herald is not an executable"
  say "using $herald ($("$herald" version 2>/dev/null | head -1))"
else
  say "building herald"
  (cd "$root" && go build -o "$herald" ./cmd/herald)
fi
bencher=${BENCH:-$herald}
[ -x "$bencher" ] || die "BENCH=$bencher is not an executable"
hub=http://127.0.0.1:$port/.well-known/mercure
tls_flags=()

# tls_on: the next hubs serve HTTPS with a self-signed certificate for 127.0.0.1, which
# the bench trusts with --ca (checked, not skipped).
tls_on() {
  if [ ! -f "$tmp/cert.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
      -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
      -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>>"$tmp/openssl.log" ||
      die "openssl could not make a certificate: $(tail -3 "$tmp/openssl.log")"
  fi
  hub=https://127.0.0.1:$port/.well-known/mercure
  tls_flags=(--tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem")
}

# tls_off: the next hubs serve plain HTTP.
tls_off() {
  hub=http://127.0.0.1:$port/.well-known/mercure
  tls_flags=()
}

# The bench flags that subscribe over HTTP/2 to the HTTPS hub.
h2=(--http2 --streams-per-conn 100 --ca "$tmp/cert.pem")

hub_start() {
  rm -rf "$tmp/data"
  "$herald" serve --addr "127.0.0.1:$port" --data "$tmp/data" --jwt-key benchkey \
    --log-level warn ${tls_flags[@]+"${tls_flags[@]}"} "$@" 2>>"$tmp/hub.log" >/dev/null &
  hub_pid=$!
  for _ in $(seq 1 100); do
    if [ -n "$(ss -Htln "( sport = :$port )")" ]; then return; fi
    sleep 0.05
  done
  die "the hub did not start: $(tail -3 "$tmp/hub.log")"
}

hub_stop() {
  kill "$hub_pid" 2>/dev/null || true
  wait "$hub_pid" 2>/dev/null || true
  hub_pid=''
  # Let the kernel finish closing the last run's connections.
  while [ "$(ss -Htn state established "( sport = :$port or dport = :$port )" | wc -l)" -gt 0 ]; do sleep 0.2; done
}

# bench SCENARIO FLAGS...: one run against the current hub; its JSON on stdout.
bench() {
  local json
  json=$("$bencher" bench "$@" --hub "$hub" --jwt-key benchkey --hub-pid "$hub_pid" --json) || {
    local code=$?
    [ "$code" -eq 3 ] || die "herald bench $* failed (exit $code)"
  }
  echo "$json" | jq -c 'del(.series, .latency_histogram)' >>"$out"
  echo "$json"
}

# record TARGET RUN NAME VALUE
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" | tee -a "$results"; }

# check JSON: every run must lose and duplicate nothing.
check() {
  local lost dup
  lost=$(echo "$1" | jq '.lost // 0') dup=$(echo "$1" | jq '.duplicates // 0')
  if [ "$lost" != 0 ] || [ "$dup" != 0 ]; then die "a run lost $lost and duplicated $dup events"; fi
}

ms() { jq -r "$1 / 1000"; }

for run in $(seq 1 "$runs"); do
  for t in "${targets[@]}"; do
    case $t in
    idle)
      hub_start
      j=$(bench idle --subscribers "$subs" --duration 5s)
      record idle "$run" "rss_bytes_per_conn" "$(echo "$j" | jq '.hub_process.rss_per_connection_bytes')"
      record idle "$run" "streams_per_s" "$(echo "$j" | jq '.connect_rate_per_s | floor')"
      record idle "$run" "kernel_tcp_mib" "$(echo "$j" | jq '.sockstat_after.tcp_mem_bytes / 1048576 * 10 | floor / 10')"
      hub_stop ;;
    fanout19k | fanout19k-memory)
      if [ "$t" = fanout19k ]; then hub_start; else hub_start --store memory; fi
      j=$(bench fanout --subscribers "$subs" --events 5 --rate 1 --size 130); check "$j"
      record "$t" "$run" p50_ms "$(echo "$j" | ms .latency.p50_us)"
      record "$t" "$run" p99_ms "$(echo "$j" | ms .latency.p99_us)"
      record "$t" "$run" slowest_publish_ms "$(echo "$j" | ms .publish_latency.max_us)"
      record "$t" "$run" hub_us_per_delivery "$(echo "$j" | jq '.hub_process.cpu_per_delivery_ns / 1000')"
      record "$t" "$run" bench_us_per_delivery "$(echo "$j" | jq '.generator_cpu_per_delivery_ns / 1000')"
      hub_stop ;;
    fanout2k | fanout2k-memory)
      if [ "$t" = fanout2k ]; then hub_start; else hub_start --store memory; fi
      j=$(bench fanout --subscribers 2000 --events 10 --rate 2 --size 130); check "$j"
      record "$t" "$run" p50_ms "$(echo "$j" | ms .latency.p50_us)"
      record "$t" "$run" p99_ms "$(echo "$j" | ms .latency.p99_us)"
      hub_stop ;;
    throughput)
      hub_start
      j=$(bench fanout --subscribers 2000 --events 4000 --rate 0 --publishers 16 --size 130); check "$j"
      record throughput "$run" deliveries_per_s "$(echo "$j" | jq '.deliveries_per_s | floor')"
      record throughput "$run" hub_us_per_delivery "$(echo "$j" | jq '.hub_process.cpu_per_delivery_ns / 1000')"
      record throughput "$run" bench_us_per_delivery "$(echo "$j" | jq '.generator_cpu_per_delivery_ns / 1000')"
      hub_stop ;;
    publish19k | publish19k-memory)
      if [ "$t" = publish19k ]; then hub_start; else hub_start --store memory; fi
      j=$(bench fanout --subscribers "$subs" --events 100 --rate 5 --size 130); check "$j"
      record "$t" "$run" publish_p50_ms "$(echo "$j" | ms .publish_latency.p50_us)"
      record "$t" "$run" publish_p99_ms "$(echo "$j" | ms .publish_latency.p99_us)"
      hub_stop ;;
    publish0 | publish0-memory)
      if [ "$t" = publish0 ]; then hub_start; else hub_start --store memory; fi
      j=$(bench publish --subscribers 0 --publishers 4 --rate 5 --duration 20s --size 130)
      record "$t" "$run" publish_p50_ms "$(echo "$j" | ms .publish_latency.p50_us)"
      record "$t" "$run" publish_p99_ms "$(echo "$j" | ms .publish_latency.p99_us)"
      hub_stop ;;
    publish1 | publish32 | publish128 | publish32-2k | publish32-memory)
      pubs=${t#publish} pubs=${pubs%%-*} n=0 store=()
      rate=0
      case $t in
      *-2k) n=2000 rate=1000 ;;
      *-memory) store=(--store memory) ;;
      esac
      hub_start ${store[@]+"${store[@]}"}
      j=$(bench publish --subscribers "$n" --publishers "$pubs" --rate "$rate" --duration "$pub_duration" --size 130)
      check "$j"
      [ "$(echo "$j" | jq '.publish_errors')" = 0 ] || die "$t: $(echo "$j" | jq '.publish_errors') publishes failed"
      record "$t" "$run" publishes_per_s "$(echo "$j" | jq '.publishes_per_s | floor')"
      record "$t" "$run" publish_p50_ms "$(echo "$j" | ms .publish_latency.p50_us)"
      record "$t" "$run" publish_p99_ms "$(echo "$j" | ms .publish_latency.p99_us)"
      record "$t" "$run" hub_us_per_publish "$(echo "$j" | jq '.hub_process.cpu_per_publish_ns / 1000')"
      record "$t" "$run" bench_us_per_publish "$(echo "$j" | jq '.generator_cpu_per_publish_ns / 1000')"
      if [ "$n" -gt 0 ]; then
        record "$t" "$run" deliveries_per_s "$(echo "$j" | jq '.deliveries_per_s | floor')"
      fi
      hub_stop ;;
    restart)
      j=$(HERALD=$herald PORT=$((port + 1)) SUBSCRIBERS=$subs bash "$root/bench/restart-storm.sh" -- --json 2>>"$tmp/restart.log" | grep '^{') ||
        die "restart-storm failed: $(tail -3 "$tmp/restart.log")"
      echo "$j" | jq -c 'del(.series, .latency_histogram)' >>"$out"
      check "$j"
      record restart "$run" all_open_s "$(echo "$j" | jq '.outage.all_open_after_s')"
      record restart "$run" caught_up_s "$(echo "$j" | jq '.outage.caught_up_after_s')"
      record restart "$run" streams_per_s_first_connect "$(echo "$j" | jq '.connect_rate_per_s | floor')" ;;
    idle-h2)
      tls_on; hub_start
      j=$(bench idle --subscribers "$subs" --duration 5s "${h2[@]}")
      record idle-h2 "$run" "rss_bytes_per_stream" "$(echo "$j" | jq '.hub_process.rss_per_connection_bytes')"
      record idle-h2 "$run" "streams_per_s" "$(echo "$j" | jq '.connect_rate_per_s | floor')"
      record idle-h2 "$run" "connections" "$(echo "$j" | jq '.http2_connections')"
      record idle-h2 "$run" "kernel_tcp_mib" "$(echo "$j" | jq '.sockstat_after.tcp_mem_bytes / 1048576 * 10 | floor / 10')"
      hub_stop; tls_off ;;
    fanout2k-h2 | fanout19k-h2)
      n=2000 events=10 rate=2
      if [ "$t" = fanout19k-h2 ]; then n=$subs events=5 rate=1; fi
      tls_on; hub_start
      j=$(bench fanout --subscribers "$n" --events "$events" --rate "$rate" --size 130 "${h2[@]}"); check "$j"
      record "$t" "$run" p50_ms "$(echo "$j" | ms .latency.p50_us)"
      record "$t" "$run" p99_ms "$(echo "$j" | ms .latency.p99_us)"
      record "$t" "$run" hub_us_per_delivery "$(echo "$j" | jq '.hub_process.cpu_per_delivery_ns / 1000')"
      record "$t" "$run" bench_us_per_delivery "$(echo "$j" | jq '.generator_cpu_per_delivery_ns / 1000')"
      hub_stop; tls_off ;;
    *) die "unknown target $t" ;;
    esac
  done
done

echo
echo "target	figure	median	spread (runs: $runs)"
sort -t$'\t' -k1,1 -k3,3 -k4,4g "$results" | awk -F'\t' '
  function flush() {
    if (n == 0) return
    printf "%s\t%s\t%s\t%s-%s\n", t, f, v[int((n + 1) / 2)], v[1], v[n]
  }
  $1 != t || $3 != f { flush(); t = $1; f = $3; n = 0 }
  { v[++n] = $4 }
  END { flush() }'
if [ -n "${OUT:-}" ]; then say "every run's JSON is in $out"; fi
