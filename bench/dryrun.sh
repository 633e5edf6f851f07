#!/usr/bin/env bash
# Measures `reconciler reconcile --dry-run` over N manifests in N files against an
# empty emulated host: wall time and peak RSS (targets for N=10000: ≤ 1.0 s, ≤ 150 MB).
# Usage: bench/dryrun.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
runs=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/reconciler" ./cmd/reconciler
# The same files bench/decodefloor measures its floor on.
go run ./bench/decodefloor -generate "$work/manifests" -n "$n"
export RECONCILER_SIM_STATE="$work/host/state.json"
"$work/reconciler" sim host >/dev/null
echo "reconcile --dry-run over $n manifests in $n files, empty emulated host, $runs runs:"
for ((r = 1; r <= runs; r++)); do
  /usr/bin/time -f "wall %e s, peak RSS %M KB" "$work/reconciler" --log-level warn reconcile --dry-run -o json "$work/manifests" 2>&1 >"$work/plan.json" | tail -1
done
grep -c '"action": "create"' "$work/plan.json" | sed 's/^/planned creates: /'
