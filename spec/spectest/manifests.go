package spectest

import "fmt"

// DryRunManifest is manifest i of the 10,000 that bench/decodefloor and
// bench/dryrun.sh write, one per file in 100 team folders: the usual shape
// of a manifest (block mappings, a block list, one-line flow collections).
// Each has a name and a host port of its own.
func DryRunManifest(i int) string {
	return fmt.Sprintf(`apiVersion: reconciler/v1
kind: Container
metadata:
  name: app-%d
  labels: {team: team-%d}
spec:
  image: mcr.microsoft.com/windows/servercore:ltsc2022
  isolation: process
  command: [ping, localhost, -t]
  env: {LOG_LEVEL: info}
  resources: {cpuCount: 1, memoryMB: 512}
  ports:
    - {hostPort: %d, containerPort: 80}
`, i, i%100, 10000+i%50000)
}
