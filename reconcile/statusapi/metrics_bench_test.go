package statusapi

import (
	"fmt"
	"testing"

	"github.com/reconciler/reconciler/reconcile"
)

// BenchmarkMetricsObserve10k is what the metrics add to a pass of 10,000
// unchanged containers (the drift bookkeeping included): compare with
// BenchmarkComputePlan in reconcile, the planning of such a pass.
func BenchmarkMetricsObserve10k(b *testing.B) {
	r := reconcile.PassReport{Sources: []reconcile.SourceReport{{Name: "dir /m"}}}
	for i := range 10000 {
		r.Plan.Unchanged = append(r.Plan.Unchanged, fmt.Sprintf("c%05d", i))
	}
	m := NewMetrics(listDriver{}, "reconciler", nil)
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(r)
	}
}
