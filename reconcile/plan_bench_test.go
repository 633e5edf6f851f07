package reconcile

import (
	"fmt"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// BenchmarkComputePlan plans 10,000 desired containers against 10,000
// observed systems: half unchanged, a quarter recreated (isolation
// flipped), a quarter created, and 2,500 observed ones removed. Target:
// ≤ 20 ms per plan on 2 cores.
func BenchmarkComputePlan(b *testing.B) {
	const n = 10000
	desired := make([]spec.Container, 0, n)
	observed := make([]driver.System, 0, n)
	for i := range n {
		c := ctr(fmt.Sprintf("app-%05d", i), img2022, spec.IsolationProcess)
		desired = append(desired, c)
		switch {
		case i < n/2:
			observed = append(observed, running(c, spec.IsolationProcess))
		case i < n*3/4:
			observed = append(observed, running(c, spec.IsolationHyperV))
		}
	}
	for i := range n / 4 {
		observed = append(observed, running(ctr(fmt.Sprintf("gone-%05d", i), img2022, spec.IsolationProcess), spec.IsolationProcess))
	}
	d := spec.Set{Containers: desired}
	policy := Policy{Owner: "reconciler", AllowMassRemoval: true}
	b.ReportAllocs()
	for b.Loop() {
		plan := ComputePlan(d, observed, server2022, policy)
		if c := plan.Counts(); c.Create != n/4 || c.Recreate != n/4 || c.Remove != n/4 || c.Unchanged != n/2 {
			b.Fatalf("counts %+v", c)
		}
	}
}
