package sim

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// BenchmarkCreate measures one Create into a host already holding 0 or
// 5,000 systems: the cost per create must not grow with the number of
// systems (an append to the journal, not a rewrite of the state).
//
//	go test -run '^$' -bench BenchmarkCreate -benchtime 2000x ./driver/sim/
func BenchmarkCreate(b *testing.B) {
	for _, existing := range []int{0, 5000} {
		b.Run(fmt.Sprintf("existing=%d", existing), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "host.json")
			h, err := Open(path, zap.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			populate(b, h, existing)
			b.ResetTimer()
			for i := range b.N {
				req := createReq(fmt.Sprintf("bench-%d", i), spec.IsolationProcess, "nanoserver:ltsc2022")
				if _, err := h.Create(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// populate folds n running systems into the snapshot at once.
func populate(b *testing.B, h *EmulatedHost, n int) {
	b.Helper()
	err := h.st.locked(b.Context(), true, func() error {
		m := h.st.m
		pids := pidCounter{next: m.nextPID}
		for i := range n {
			req := createReq(fmt.Sprintf("existing-%d", i), spec.IsolationProcess, "nanoserver:ltsc2022")
			id := driver.SystemID(req.Name, req.Owner, req.SpecHash)
			inside, worker := startProcesses(req.Isolation, id, req.Spec.Command, &pids)
			m.systems[id] = &systemRecord{ID: id, Name: req.Name, Owner: req.Owner, Isolation: req.Isolation, Image: req.Spec.Image,
				State: driver.StateRunning, SpecHash: req.SpecHash, Created: time.Now().UTC(), Processes: inside, VMWorker: worker, Spec: req.Spec}
		}
		m.nextPID = pids.next
		return h.st.compact()
	})
	if err != nil {
		b.Fatal(err)
	}
}
