//go:build unix

// Command healthbench measures what the agent's health polling costs at
// 1,000 containers (issue 11: ≤ 1 % of a core). From the repository root:
//
//	go run ./bench/healthbench                 # 1,000 containers, the default interval, 30 s
//	go run ./bench/healthbench -interval 1s    # ten times the checks
//
// It creates -n containers that declare an exec healthcheck of -interval on
// an emulated host (a temporary state file), then measures, in this
// process, with getrusage (user and system CPU of every thread, the
// garbage collector included):
//
//   - the floor: the emulated host's CheckHealth called -floor times in a
//     loop, one container after another (what the checks themselves cost);
//   - the monitor: reconcile.HealthMonitor watching all -n containers for
//     -window (each on its interval, with jitter, each check bounded by its
//     timeout), as `reconciler watch` runs it: CPU over the window and the
//     checks it ran.
//
// It prints "figure:" lines: the monitor's CPU as a percentage of one core,
// and its CPU per check (within 100 µs, 1,000 containers at the default
// interval stay within 1 % of a core), with the floor's beside it (what
// scheduling, timers and health bookkeeping add). Figures taken on a
// loaded machine are indicative; the ratio is measured in one run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

// Targets: issue 11's, ≤ 1 % of one core at 1,000 containers; per
// check, the budget that keeps 1,000 containers at the default interval
// within it (1 % of 10 s / 1,000 = 100 µs).
const (
	targetCorePercent = 1.0
	targetPerCheck    = 100 * time.Microsecond
)

func main() {
	n := flag.Int("n", 1000, "containers with a health check")
	interval := flag.Duration("interval", spec.DefaultHealthInterval, "the health checks' interval")
	window := flag.Duration("window", 30*time.Second, "how long the monitor is measured")
	floor := flag.Int("floor", 20000, "checks of the floor measurement")
	flag.Parse()
	if err := run(*n, *interval, *window, *floor); err != nil {
		fmt.Fprintln(os.Stderr, "healthbench:", err)
		os.Exit(1)
	}
}

// counting counts the health checks run through it.
type counting struct {
	*sim.EmulatedHost
	checks atomic.Int64
}

func (c *counting) CheckHealth(ctx context.Context, id string, hc spec.Healthcheck) error {
	c.checks.Add(1)
	return c.EmulatedHost.CheckHealth(ctx, id, hc)
}

func run(n int, interval, window time.Duration, floorChecks int) error {
	dir, err := os.MkdirTemp("", "healthbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	h, err := sim.Open(filepath.Join(dir, "state.json"), zap.NewNop())
	if err != nil {
		return err
	}
	defer h.Close()
	ctx := context.Background()
	hc := spec.Healthcheck{Exec: []string{"cmd", "/c", "exit 0"}, Interval: spec.Duration(interval.String())}
	set := spec.Set{Containers: make([]spec.Container, n)}
	for i := range set.Containers {
		c := spec.Container{APIVersion: spec.APIVersion, Kind: spec.Kind, Metadata: spec.Metadata{Name: fmt.Sprintf("app-%04d", i)},
			Spec: spec.ContainerSpec{Image: "mcr.microsoft.com/windows/servercore:ltsc2022", Healthcheck: hc}}
		c.ApplyDefaults()
		set.Containers[i] = c
	}
	ex := &reconcile.Executor{Driver: h, Parallel: 16}
	plan, err := reconcile.Converge(ctx, h, set, reconcile.Policy{Owner: "reconciler"}, ex, false)
	if err != nil {
		return err
	}
	if plan.Failed() {
		return fmt.Errorf("%d containers not created", plan.Counts().Failed)
	}
	systems, err := h.List(ctx)
	if err != nil {
		return err
	}
	targets := make([]reconcile.HealthTarget, 0, len(systems))
	for _, s := range systems {
		targets = append(targets, reconcile.HealthTarget{Name: s.Name, ID: s.ID, Check: hc, Started: s.Created})
	}

	// The floor: the checks alone, back to back.
	cpu := processCPU()
	for i := range floorChecks {
		if err := h.CheckHealth(ctx, systems[i%len(systems)].ID, hc); err != nil && !errors.Is(err, driver.ErrUnhealthy) {
			return err
		}
	}
	floorPerCheck := float64(processCPU()-cpu) / float64(floorChecks)

	// The monitor, as the agent runs it.
	c := &counting{EmulatedHost: h}
	m := reconcile.NewHealthMonitor(c, zap.NewNop(), nil)
	cpu, start := processCPU(), time.Now()
	m.Set(targets)
	time.Sleep(window) // a bench measures over wall time: the monitor runs on its own
	used, took, checks := processCPU()-cpu, time.Since(start), c.checks.Load()
	m.Close()
	if checks == 0 {
		return errors.New("the monitor ran no check")
	}
	core := float64(used) / float64(took) * 100
	perCheck := float64(used) / float64(checks)
	fmt.Printf("# %d containers, interval %s, window %s: %d checks (%.0f/s), %s CPU; floor %.1f µs/check over %d checks\n",
		n, interval, took.Round(time.Millisecond), checks, float64(checks)/took.Seconds(), used.Round(time.Millisecond), floorPerCheck/1e3, floorChecks)
	fmt.Printf("figure: health-poll-%d cpu at interval %s = %.3f %% of a core (target <= %g %% of a core)\n", n, interval, core, targetCorePercent)
	fmt.Printf("figure: health-poll cpu per check = %.1f µs (target <= %d µs)\n", perCheck/1e3, targetPerCheck.Microseconds())
	fmt.Printf("# the checks alone (floor): %.1f µs each; the monitor adds %.1fx\n", floorPerCheck/1e3, perCheck/floorPerCheck)
	return nil
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
