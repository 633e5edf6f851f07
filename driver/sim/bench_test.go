package sim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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
func populate(b testing.TB, h *EmulatedHost, n int) {
	b.Helper()
	err := h.st.locked(b.Context(), true, func() error {
		m := h.st.m
		pids := pidCounter{next: m.nextPID}
		for i := range n {
			req := createReq(fmt.Sprintf("existing-%d", i), spec.IsolationProcess, "nanoserver:ltsc2022")
			id := driver.SystemID(req.Name, req.Owner, req.SpecHash)
			inside, worker := startProcesses(req.Isolation, id, req.Spec.Command, &pids)
			m.put(&systemRecord{ID: id, Name: req.Name, Owner: req.Owner, Isolation: req.Isolation, Image: req.Spec.Image,
				State: driver.StateRunning, SpecHash: req.SpecHash, Created: time.Now().UTC(), RecordDetail: &RecordDetail{Processes: inside, VMWorker: worker, Spec: req.Spec}})
		}
		m.nextPID = pids.next
		return h.st.compact()
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkApply measures an apply's worth of creates on a host with the
// injected latency of a real HCS create: N creates by P parallel callers
// sharing one EmulatedHost, against the ideal ⌈N/P⌉·L of callers that
// only wait out the latency. x-ideal is the ratio (target ≤ 1.15 at P=4, 8
// and 16): what the host adds to each call (lock, journal, fsync) beyond
// the latency it emulates.
//
//	go test -run '^$' -bench BenchmarkApply -benchtime 1x ./driver/sim/
func BenchmarkApply(b *testing.B) {
	const (
		n       = 200
		latency = 200 * time.Millisecond
	)
	for _, p := range []int{4, 8, 16} {
		b.Run(fmt.Sprintf("P=%d", p), func(b *testing.B) {
			ideal := time.Duration((n+p-1)/p) * latency
			var total time.Duration
			for i := range b.N {
				h, err := Open(filepath.Join(b.TempDir(), fmt.Sprintf("host-%d.json", i)), zap.NewNop())
				if err != nil {
					b.Fatal(err)
				}
				if err := h.SetFaults(b.Context(), Faults{Latency: latency}); err != nil {
					b.Fatal(err)
				}
				total += applyCreates(b, h, n, p)
				if err := h.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(ideal), "x-ideal")
		})
	}
}

// applyCreates creates n systems by p parallel callers, as an apply does,
// and returns how long it took.
func applyCreates(b *testing.B, h *EmulatedHost, n, p int) time.Duration {
	b.Helper()
	work := make(chan int, n)
	for i := range n {
		work <- i
	}
	close(work)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, p)
	for range p {
		wg.Go(func() {
			for i := range work {
				if _, err := h.Create(b.Context(), createReq(fmt.Sprintf("apply-%d", i), spec.IsolationProcess, "nanoserver:ltsc2022")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return elapsed
}

// BenchmarkOpenList measures what reading a host of 10,000 systems costs a
// new process: Open (snapshot and journal read and checked) and one List,
// on the state 10,000 creates leave (target ≤ 30 ms). cpu-ms/op is the
// CPU time it takes (on all cores), journal-MB the journal's size.
//
//	go test -run '^$' -bench BenchmarkOpenList -benchtime 20x ./driver/sim/
func BenchmarkOpenList(b *testing.B) {
	const systems = 10000
	path := filepath.Join(b.TempDir(), "host.json")
	h, err := Open(path, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	applyCreates(b, h, systems, 64)
	if err := h.Close(); err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(path + ".journal")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := processCPU()
	for range b.N {
		h, err := Open(path, zap.NewNop())
		if err != nil {
			b.Fatal(err)
		}
		list, err := h.List(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if len(list) != systems {
			b.Fatalf("List: %d systems, want %d", len(list), systems)
		}
		if err := h.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(info.Size())/1e6, "journal-MB")
}

// BenchmarkCheckHealth measures one health check on a host of 1,000
// running systems, checked in turn as an agent polling them all does
// (some fail, by image). cpu-us/op is the CPU time per check (all
// threads of the process); core-% is what polling all 1,000 at the
// default interval (spec.DefaultHealthInterval) costs of one core, and
// core-%@1s at an interval of 1 s (target ≤ 1 % at the default).
//
//	go test -run '^$' -bench BenchmarkCheckHealth -benchtime 20000x ./driver/sim/
func BenchmarkCheckHealth(b *testing.B) {
	const systems = 1000
	h, err := Open(filepath.Join(b.TempDir(), "host.json"), zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	populate(b, h, systems)
	list, err := h.List(b.Context())
	if err != nil || len(list) != systems {
		b.Fatalf("List: %d systems, %v", len(list), err)
	}
	if err := h.SetHealth(b.Context(), HealthSetting{Name: list[0].Name, State: HealthFail}); err != nil {
		b.Fatal(err)
	}
	hc := spec.Healthcheck{Exec: []string{"cmd", "/c", "exit 0"}}
	b.ResetTimer()
	cpu := processCPU()
	for i := range b.N {
		id := list[i%systems].ID
		if err := h.CheckHealth(b.Context(), id, hc); err != nil && !errors.Is(err, driver.ErrUnhealthy) {
			b.Fatal(err)
		}
	}
	perCall := float64(processCPU()-cpu) / float64(b.N) // ns of CPU
	b.ReportMetric(perCall/1e3, "cpu-us/op")
	b.ReportMetric(perCall*systems/float64(spec.DefaultHealthInterval)*100, "core-%")
	b.ReportMetric(perCall*systems/float64(time.Second)*100, "core-%@1s")
}
