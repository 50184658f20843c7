#!/usr/bin/env bash
# fsync-latency.sh: the distribution of a running hub's fdatasync latencies, to show beside a
# publish percentile that the disk's tail decides (docs/performance.md, issue 19).
#
# Usage: bench/fsync-latency.sh PID SECONDS
#        bench/fsync-latency.sh PID -- COMMAND [ARG ...]
# Traces process PID (every thread) for SECONDS, or while COMMAND runs (for instance a
# `herald bench publish` against that hub; its stdout passes through untouched), then prints
# one line, on stdout after SECONDS, on stderr after COMMAND (so that COMMAND's output can be
# piped on), and exits with COMMAND's status:
#   fdatasync n=N p50=Xus p90=Xus p99=Xus max=Xus (TRACER)
# Tracers, the first present: perf (the syscalls:sys_{enter,exit}_fdatasync tracepoints,
# which do not stop the hub), bpftrace (the same tracepoints), strace -T (which stops every
# thread at every system call it makes: the hub slows down, so its figures are a warning
# sign, not a measurement). Needs permission to trace PID (root, or perf_event_paranoid
# low enough).
set -euo pipefail

case ${1:-} in
-h | --help | '') sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
say() { printf 'fsync-latency: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

pid=$1; shift
[ $# -gt 0 ] || die "needs SECONDS or -- COMMAND after the PID"
kill -0 "$pid" 2>/dev/null || die "no process $pid"
seconds='' cmd=() summary_fd=1
if [ "$1" = -- ]; then
  shift; cmd=("$@") summary_fd=2
  [ ${#cmd[@]} -gt 0 ] || die "needs a COMMAND after --"
else
  seconds=$1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fsync-latency.XXXXXX")
tracer_pid=''
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  if [ -n "$tracer_pid" ] && kill -0 "$tracer_pid" 2>/dev/null; then
    kill -INT "$tracer_pid" 2>/dev/null || true
    wait "$tracer_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The tracer writes one latency in microseconds a line to $tmp/us (after it stops).
if command -v perf >/dev/null; then
  tracer=perf
  perf record -q -e syscalls:sys_enter_fdatasync,syscalls:sys_exit_fdatasync -p "$pid" \
    -o "$tmp/perf.data" >/dev/null 2>"$tmp/tracer.err" &
elif command -v bpftrace >/dev/null; then
  tracer=bpftrace
  bpftrace -e "tracepoint:syscalls:sys_enter_fdatasync /pid == $pid/ { @s[tid] = nsecs; }
    tracepoint:syscalls:sys_exit_fdatasync /pid == $pid && @s[tid]/ {
      printf(\"%d\\n\", (nsecs - @s[tid]) / 1000); delete(@s[tid]); }" \
    >"$tmp/bpf.out" 2>"$tmp/tracer.err" &
elif command -v strace >/dev/null; then
  tracer='strace, which slows the hub'
  say "WARNING: neither perf nor bpftrace; strace -T stops the hub at every system call, so the hub runs slower and these latencies are not those of an untraced run"
  strace -f -T -e trace=fdatasync -p "$pid" -o "$tmp/strace.out" 2>"$tmp/tracer.err" &
else
  die "needs perf, bpftrace or strace"
fi
tracer_pid=$!
sleep 0.5 # let the tracer attach before the load starts
kill -0 "$tracer_pid" 2>/dev/null || die "$tracer did not start: $(tail -3 "$tmp/tracer.err")"

status=0
if [ -n "$seconds" ]; then
  sleep "$seconds"
else
  "${cmd[@]}" || status=$?
fi
kill -INT "$tracer_pid" 2>/dev/null || true
wait "$tracer_pid" 2>/dev/null || true
tracer_pid=''

case $tracer in
perf)
  perf script -i "$tmp/perf.data" -F tid,time,event 2>/dev/null | awk '
    { t = $2; sub(":", "", t) }
    /sys_enter_fdatasync/ { s[$1] = t }
    /sys_exit_fdatasync/ && ($1 in s) { printf "%.0f\n", (t - s[$1]) * 1e6; delete s[$1] }' >"$tmp/us" ;;
bpftrace) grep -E '^[0-9]+$' "$tmp/bpf.out" >"$tmp/us" || true ;;
*) sed -n 's/.*fdatasync(.*<\([0-9.]*\)>$/\1/p' "$tmp/strace.out" | awk '{ printf "%.0f\n", $1 * 1e6 }' >"$tmp/us" ;;
esac

sort -n "$tmp/us" | awk -v tracer="$tracer" '
  { a[NR] = $1 }
  function q(p,  i) { i = int(NR * p + 0.999999); if (i < 1) i = 1; return a[i] }
  END {
    if (NR == 0) { printf "fdatasync n=0 (%s)\n", tracer; exit }
    printf "fdatasync n=%d p50=%dus p90=%dus p99=%dus max=%dus (%s)\n", NR, q(0.5), q(0.9), q(0.99), a[NR], tracer
  }' >&"$summary_fd"
exit "$status"
