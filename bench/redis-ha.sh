#!/usr/bin/env bash
# redis-ha.sh: publish throughput and latency of herald serve on three Redis set-ups, in
# one sitting: a single redis-server, a master with one replica under three Sentinels
# (with --redis-min-replicas 1, so every publish waits for WAIT 1), and a Redis Cluster of
# three masters with one replica each.
#
# Builds herald, starts every Redis process on loopback ports from BASE_PORT (default
# 17000) in a temporary directory, and for RUNS rounds (default 3) runs, for each set-up in
# turn, a fresh `herald serve --store URL` and `herald bench publish` against it for
# DURATION (default 5s) with PUBLISHERS (default 8) concurrent publishers. The set-ups
# take turns within a round so that a busy moment of a shared machine hits all of them.
# Prints one line per run: set-up, publishes/s, p50 and p99 publish latency.
#
# Usage: bench/redis-ha.sh [--runs N] [--duration D] [--publishers P]
# Everything started is stopped on exit. Needs redis-server and redis-cli (Redis 7+).
set -euo pipefail

runs=${RUNS:-3}
duration=${DURATION:-5s}
publishers=${PUBLISHERS:-8}
base=${BASE_PORT:-17000}
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --publishers) publishers=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "redis-ha: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'redis-ha: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
for c in redis-server redis-cli go; do command -v $c >/dev/null || die "needs $c"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/redis-ha.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/herald" ./cmd/herald

# redis PORT [ARGS...]: a redis-server in a directory of its own, persistence off.
redis() {
  local port=$1; shift
  mkdir -p "$tmp/r$port"
  redis-server ${CONF:-} --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$tmp/r$port" --loglevel warning "$@" >"$tmp/r$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
  die "redis-server on $port did not start: $(cat "$tmp/r$port.log")"
}

# The single server.
single=$base
redis $single
# Master, replica, three Sentinels.
master=$((base + 10)) replica=$((base + 11))
redis $master
redis $replica --replicaof 127.0.0.1 $master
for i in 0 1 2; do
  port=$((base + 20 + i))
  printf 'sentinel monitor ha 127.0.0.1 %d 2\nsentinel down-after-milliseconds ha 5000\n' $master >"$tmp/s$i.conf"
  CONF="$tmp/s$i.conf" redis $port --sentinel
done
# Cluster: three masters, three replicas.
nodes=()
for i in 0 1 2 3 4 5; do
  port=$((base + 30 + i))
  redis $port --cluster-enabled yes --cluster-config-file "$tmp/nodes-$port.conf" --cluster-node-timeout 5000
  nodes+=(127.0.0.1:$port)
done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$tmp/cluster.log" 2>&1 ||
  die "redis-cli --cluster create: $(cat "$tmp/cluster.log")"
for _ in $(seq 200); do
  ok=1
  for n in "${nodes[@]}"; do
    redis-cli -p "${n#*:}" cluster info | grep -q cluster_state:ok || ok=0
  done
  [ $ok = 1 ] && [ "$(redis-cli -p $master info replication | grep -c state=online)" = 1 ] && break
  sleep 0.1
done

declare -A store=(
  [single]="redis://127.0.0.1:$single/0"
  [sentinel-wait1]="redis-sentinel://127.0.0.1:$((base + 20)),127.0.0.1:$((base + 21)),127.0.0.1:$((base + 22))/0?master=ha"
  [cluster]="redis-cluster://$(IFS=,; echo "${nodes[*]}")"
)
declare -A extra=([single]="" [sentinel-wait1]="--redis-min-replicas 1" [cluster]="")
key=redis-ha-bench-key-0123456789abcdef
hubport=$((base + 50))

say "machine: $(nproc) CPUs; $(uptime)"
for run in $(seq "$runs"); do
  for name in single sentinel-wait1 cluster; do
    # shellcheck disable=SC2086
    "$tmp/herald" serve --store "${store[$name]}" ${extra[$name]} --jwt-key $key --addr 127.0.0.1:$hubport \
      --log-level warn --history-size 100000 >/dev/null 2>"$tmp/hub.log" &
    hub=$!
    for _ in $(seq 100); do "$tmp/herald" healthcheck http://127.0.0.1:$hubport/readyz 2>/dev/null && break; sleep 0.05; done
    out=$("$tmp/herald" bench publish --hub http://127.0.0.1:$hubport/.well-known/mercure --jwt-key $key \
      --publishers "$publishers" --duration "$duration" 2>&1) || { say "bench failed: $out"; cat "$tmp/hub.log" >&2; }
    kill -TERM $hub; wait $hub || true
    rate=$(echo "$out" | sed -n 's/.*published: .*(\([0-9]*\)\/s).*errors*$/\1/p; s/.*published: .*(\([0-9]*\)\/s).*/\1/p' | head -1)
    errors=$(echo "$out" | sed -n 's/.*publishers, \([0-9]*\) errors.*/\1/p' | head -1)
    lat=$(echo "$out" | sed -n 's/.*publish time: *\(p50 [^ ]*\) .*\(p99 [^ ]*\).*/\1 \2/p' | head -1)
    printf '%-15s run %d: %6s publishes/s  %s  errors %s\n' "$name" "$run" "$rate" "$lat" "$errors"
  done
done
