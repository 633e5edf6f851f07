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
mkdir -p "$work/manifests"
for ((i = 0; i < n; i++)); do
  d="$work/manifests/team-$((i % 100))"
  mkdir -p "$d"
  cat >"$d/app-$i.yaml" <<YAML
apiVersion: reconciler/v1
kind: Container
metadata:
  name: app-$i
  labels: {team: team-$((i % 100))}
spec:
  image: mcr.microsoft.com/windows/servercore:ltsc2022
  isolation: process
  command: [ping, localhost, -t]
  env: {LOG_LEVEL: info}
  resources: {cpuCount: 1, memoryMB: 512}
  ports:
    - {hostPort: $((10000 + i % 50000)), containerPort: 80}
YAML
done
export RECONCILER_SIM_STATE="$work/host/state.json"
"$work/reconciler" sim host >/dev/null
echo "reconcile --dry-run over $n manifests in $n files, empty emulated host, $runs runs:"
for ((r = 1; r <= runs; r++)); do
  /usr/bin/time -f "wall %e s, peak RSS %M KB" "$work/reconciler" --log-level warn reconcile --dry-run -o json "$work/manifests" 2>&1 >"$work/plan.json" | tail -1
done
grep -c '"action": "create"' "$work/plan.json" | sed 's/^/planned creates: /'
