#!/usr/bin/env bash
# restart-storm.sh: restart a herald hub under load and measure how it recovers.
#
# Builds herald, starts `herald serve` (bolt store, default settings) on a loopback port,
# connects SUBSCRIBERS subscribers with `herald bench fanout`, and once they are all
# connected and publishing has gone on for RESTART_AFTER seconds, stops the hub with
# SIGTERM (it tells every stream to come back after a 1-2 s retry hint, and exits within
# its --shutdown-grace) and starts it again on the same port and data directory. The
# bench's summary then has a "restart:" line: how long until every subscriber was open
# again, and until each had every acknowledged event it missed; "lost" must be 0.
# Publishes refused while the hub is down are publish errors, not expected deliveries.
#
# Usage: bench/restart-storm.sh [--subscribers N] [--events E] [--rate R] [--port P]
#                               [--restart-after S] [-- more herald bench flags]
# The same settings may come from the environment: SUBSCRIBERS (default 19000), EVENTS
# (40), RATE (4 per second), PORT (the first free one from 18080), RESTART_AFTER (3);
# HERALD, a herald binary to use instead of building one.
#
# Exit status: the bench's (0 when nothing was lost, 3 when events were lost or duplicated),
# or 1 when the hub or the bench could not be run. Everything started is stopped on exit.
# Everything runs on 127.0.0.1; each side needs an open-file limit above SUBSCRIBERS.
set -euo pipefail

subscribers=${SUBSCRIBERS:-19000}
events=${EVENTS:-40}
rate=${RATE:-4}
port=${PORT:-}
restart_after=${RESTART_AFTER:-3}
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --subscribers) subscribers=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --restart-after) restart_after=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "restart-storm: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'restart-storm: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
command -v ss >/dev/null || die "needs ss (iproute2) to watch the hub's connections"
[ -n "${HERALD:-}" ] || command -v go >/dev/null || die "needs go to build herald (or HERALD=/path/to/herald)"

listening() { [ -n "$(ss -Htln "( sport = :$1 )")" ]; }
if [ -z "$port" ]; then
  for p in $(seq 18080 18179); do
    if ! listening "$p"; then port=$p; break; fi
  done
  [ -n "$port" ] || die "no free port in 18080-18179: pass --port"
elif listening "$port"; then
  die "port $port is in use"
fi
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -le $((subscribers + 100)) ]; then
  die "the open-file limit ($(ulimit -Hn)) is too low for $subscribers subscribers"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/restart-storm.XXXXXX")
hub_pid='' bench_pid=''
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  local pid
  for pid in $bench_pid $hub_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

root=$(cd "$(dirname "$0")/.." && pwd)
herald=${HERALD:-$tmp/herald}
if [ -n "${HERALD:-}" ]; then
  [ -x "$herald" ] || die "HERALD=$herald is not an executable"
else
  say "building herald"
  (cd "$root" && go build -o "$herald" ./cmd/herald)
fi

now() { echo "${EPOCHREALTIME/./}"; } # microseconds
since() { local d=$(($(now) - $1)); printf '%d.%02ds' $((d / 1000000)) $((d % 1000000 / 10000)); }

# start_hub starts herald serve in the background and waits until it listens.
start_hub() {
  "$herald" serve --addr "127.0.0.1:$port" --data "$tmp/data" --jwt-key benchkey --log-level warn \
    >>"$tmp/hub.out" 2>>"$tmp/hub.err" &
  hub_pid=$!
  for _ in $(seq 200); do
    listening "$port" && return 0
    kill -0 "$hub_pid" 2>/dev/null || { cat "$tmp/hub.err" >&2; die "herald serve exited"; }
    sleep 0.05
  done
  die "herald serve did not listen on port $port within 10s"
}

start_hub
hub="http://127.0.0.1:$port/.well-known/mercure"
say "hub $hub (pid $hub_pid); $subscribers subscribers, $events events at $rate/s"
timeout=$((120 + subscribers / 100))s
"$herald" bench fanout --subscribers "$subscribers" --events "$events" --rate "$rate" \
  --hub "$hub" --jwt-key benchkey --hub-pid "$hub_pid" --timeout "$timeout" --drain 30s \
  ${extra[@]+"${extra[@]}"} >"$tmp/bench.out" 2>"$tmp/bench.err" &
bench_pid=$!

# still_running fails the script when the bench ended before the restart.
still_running() {
  kill -0 "$bench_pid" 2>/dev/null && return 0
  local status=0
  wait "$bench_pid" || status=$?
  bench_pid=''
  cat "$tmp/bench.out"
  cat "$tmp/bench.err" >&2
  die "the bench ended (status $status) before the restart"
}
# The subscribers connect before the first publish, so until then the established
# connections to the port are the subscribers'.
started=$(now)
while [ "$(ss -Htn state established "( sport = :$port )" | wc -l)" -lt "$subscribers" ]; do
  still_running
  sleep 0.2
done
say "all $subscribers subscribers connected after $(since "$started"); restarting the hub in ${restart_after}s"
sleep "$restart_after"
still_running

stopping=$(now)
old_pid=$hub_pid
kill -TERM "$hub_pid"
wait "$hub_pid" || die "herald serve exited with status $? on SIGTERM"
say "hub (pid $old_pid) exited $(since "$stopping") after SIGTERM"
start_hub
say "hub listening again $(since "$stopping") after SIGTERM (pid $hub_pid)"

status=0
wait "$bench_pid" || status=$?
bench_pid=''
cat "$tmp/bench.out"
grep -v '^herald bench: open-file limit' "$tmp/bench.err" >&2 || true
if [ -s "$tmp/hub.err" ]; then
  say "the hub's warnings:"
  tail -n 20 "$tmp/hub.err" >&2
fi
exit "$status"
