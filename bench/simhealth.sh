#!/usr/bin/env bash
# Measures health polling on the emulated host (driver/sim, BenchmarkCheckHealth):
# one CheckHealth on a host of 1,000 running systems, checked in turn as an agent
# polling them all does, and what polling all 1,000 costs of one core at the
# default interval (10 s, target <= 1 %) and at 1 s. CPU time of the process
# (getrusage), so other load on the machine inflates it little.
# Usage: bench/simhealth.sh [CHECKS]   (needs nothing but go; about 10 s)
set -euo pipefail
cd "$(dirname "$0")/.."
checks=${1:-20000}
go test -run '^$' -bench 'BenchmarkCheckHealth' -benchtime "${checks}x" ./driver/sim/ | awk '
/^BenchmarkCheckHealth/ {
  for (i = 2; i < NF; i++) {
    if ($(i+1) == "cpu-us/op") printf "figure: sim-health-check cpu = %.1f us (no target)\n", $i
    if ($(i+1) == "core-%") printf "figure: sim-health-poll-1000 at 10s = %.3f %% of a core (target <= 1 %% of a core)\n", $i
    if ($(i+1) == "core-%@1s") printf "figure: sim-health-poll-1000 at 1s = %.2f %% of a core (no target)\n", $i
  }
}'
