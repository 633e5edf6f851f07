#!/usr/bin/env bash
# Measures the emulated host (driver/sim) with its Go benchmarks and prints
# the figures of issue 14, point 3:
#   - apply: 200 creates at 200 ms injected latency by P = 4, 8, 16 parallel
#     callers, against the ideal ceil(N/P)*L (target <= 1.15x);
#   - reading a host of 10,000 systems (Open + List, on the state 10,000
#     creates leave): wall (target <= 30 ms), CPU, and the journal's size,
#     each the median of ROUNDS rounds of OPEN_RUNS reads (each round
#     builds its own state: its journal's length depends on when the
#     group commits compacted).
# Usage: bench/sim.sh [OPEN_RUNS [ROUNDS]]   (needs nothing but go; about 60 s)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
rounds=${2:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench 'BenchmarkApply' -benchtime 1x ./driver/sim/ >"$out"
go test -run '^$' -bench 'BenchmarkOpenList' -benchtime "${runs}x" -count "$rounds" ./driver/sim/ >>"$out"
awk '
function median(a, n,   i, j, t) {
  for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
  return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
/^BenchmarkApply\/P=/ {
  split($1, name, /[=-]/)
  for (i = 2; i < NF; i++) if ($(i+1) == "x-ideal") printf "figure: sim-apply-200x200ms P=%s = %.3f x-ideal (target <= 1.15 x-ideal)\n", name[2], $i
}
/^BenchmarkOpenList/ {
  n++
  for (i = 2; i < NF; i++) {
    if ($(i+1) == "ns/op") wall[n] = $i / 1e6
    if ($(i+1) == "cpu-ms/op") cpu[n] = $i
    if ($(i+1) == "journal-MB") journal[n] = $i
  }
}
END {
  if (n == 0) exit 1
  printf "figure: sim-open-list-10k wall = %.1f ms (target <= 30 ms)\n", median(wall, n)
  printf "figure: sim-open-list-10k cpu = %.1f ms (no target)\n", median(cpu, n)
  printf "figure: sim-journal-10k size = %.2f MB (no target: compacted once longer than the state file)\n", median(journal, n)
}' "$out"
