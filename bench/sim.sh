#!/usr/bin/env bash
# Measures the emulated host (driver/sim) with its Go benchmarks and prints
# the figures of issue 14, point 3:
#   - apply: 200 creates at 200 ms injected latency by P = 4, 8, 16 parallel
#     callers, against the ideal ceil(N/P)*L (target <= 1.15x);
#   - reading a host of 10,000 systems (Open + List, on the state 10,000
#     creates leave): wall (target <= 30 ms), CPU, and the journal's size.
# Usage: bench/sim.sh [OPEN_RUNS]   (needs nothing but go; about 40 s)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench 'BenchmarkApply' -benchtime 1x ./driver/sim/ >"$out"
go test -run '^$' -bench 'BenchmarkOpenList' -benchtime "${runs}x" ./driver/sim/ >>"$out"
awk '
/^BenchmarkApply\/P=/ {
  split($1, name, /[=-]/)
  for (i = 2; i < NF; i++) if ($(i+1) == "x-ideal") printf "figure: sim-apply-200x200ms P=%s = %.3f x-ideal (target <= 1.15 x-ideal)\n", name[2], $i
}
/^BenchmarkOpenList/ {
  for (i = 2; i < NF; i++) {
    if ($(i+1) == "ns/op") printf "figure: sim-open-list-10k wall = %.1f ms (target <= 30 ms)\n", $i / 1e6
    if ($(i+1) == "cpu-ms/op") printf "figure: sim-open-list-10k cpu = %.1f ms (no target)\n", $i
    if ($(i+1) == "journal-MB") printf "figure: sim-journal-10k size = %.2f MB (no target: compacted once longer than the state file)\n", $i
  }
}' "$out"
