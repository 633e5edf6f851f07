#!/usr/bin/env bash
# Every performance figure of the project, each with its target, in one run:
# the lines "figure: NAME = VALUE UNIT (target …)" of each bench, then a
# Markdown table of them (the README's performance table is this output).
# Run it on a quiet machine: the figures are wall-clock and CPU times.
# Usage: bench/all.sh [--quick]   (about 5 minutes on 2 cores; --quick: fewer runs)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5
[ "${1:-}" = "--quick" ] && runs=2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

step() { echo "== $*" >&2; }

step "dry run over 10,000 files against the yaml.v3 floor (bench/decodefloor)"
go run ./bench/decodefloor -runs "$runs" | tee -a "$out" >&2
step "the watch agent holding 10,000 containers (bench/folderbench)"
go run ./bench/folderbench -n 10000 | tee -a "$out" >&2
step "the emulated host: apply by P parallel callers, reading 10,000 systems (bench/sim.sh)"
bench/sim.sh $((runs * 4)) | tee -a "$out" >&2
step "the git source at 20,000 manifests / 2,000 commits (bench/gitbench)"
go run ./bench/gitbench | tee -a "$out" >&2
step "downtime of an image update per strategy (bench/updates)"
go run ./bench/updates | tee -a "$out" >&2
step "health polling of 1,000 containers (bench/healthbench, bench/simhealth.sh)"
go run ./bench/healthbench | tee -a "$out" >&2
bench/simhealth.sh | tee -a "$out" >&2

echo "| figure | value | target |"
echo "|---|---|---|"
sed -n 's/^figure: \(.*\) = \([^(]*[^ (]\) *(\(.*\))$/| \1 | \2 | \3 |/p' "$out"
