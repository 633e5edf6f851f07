// Command updates measures the downtime of an image update per update
// strategy on the emulated host, with a create (and remove) latency L and
// an image pull time P: the container web is created, then its manifest
// moves to an image the host does not have, and the agent's executor rolls
// it out, runs times per strategy. An observer with its own handle on the
// host's state polls the live systems every millisecond and measures the
// longest time no container named web ran; the executor's own measure
// (Action.Downtime, what the pass log reports) is printed beside it.
//
// Goals (issue 11): startFirst 0; recreate at most L + stop (on the
// emulated host a stop takes L), never + P: the image is pulled before the
// old container is touched.
//
// Usage: go run ./bench/updates [-latency 200ms] [-pull 1s] [-runs 3]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

const (
	oldImage = "mcr.microsoft.com/windows/servercore:ltsc2022"
	newImage = "mcr.microsoft.com/windows/nanoserver:ltsc2022"
)

func main() {
	latency := flag.Duration("latency", 200*time.Millisecond, "create and remove latency L")
	pull := flag.Duration("pull", time.Second, "pull time P of an image the host does not have")
	runs := flag.Int("runs", 3, "updates per strategy; the worst is reported")
	flag.Parse()
	if err := run(*latency, *pull, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "updates:", err)
		os.Exit(1)
	}
}

func run(latency, pull time.Duration, runs int) error {
	work, err := os.MkdirTemp("", "updates")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	for _, strategy := range []spec.UpdateStrategy{spec.UpdateStartFirst, spec.UpdateRecreate} {
		var worstSeen, worstLogged time.Duration
		for i := range runs {
			seen, logged, err := update(filepath.Join(work, fmt.Sprintf("%s-%d", strategy, i), "state.json"), strategy, latency, pull)
			if err != nil {
				return fmt.Errorf("%s: %w", strategy, err)
			}
			worstSeen, worstLogged = max(worstSeen, seen), max(worstLogged, logged)
		}
		ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
		switch strategy {
		case spec.UpdateStartFirst:
			fmt.Printf("figure: update downtime startFirst (L=%s, P=%s) = %s (target = 0 ms)\n", latency, pull, ms(worstSeen))
			fmt.Printf("figure: update downtime startFirst, as the pass log says = %s (target = 0 ms)\n", ms(worstLogged))
		default:
			fmt.Printf("figure: update downtime recreate (L=%s, P=%s) = %s (target <= %s: L + stop, never + P)\n", latency, pull, ms(worstSeen), ms(2*latency))
			fmt.Printf("figure: update downtime recreate, as the pass log says (stop start to new running) = %s (target < %s: L + stop + P)\n", ms(worstLogged), ms(2*latency+pull))
		}
	}
	return nil
}

// update creates web on a new emulated host at state, then rolls it out to
// an image the host does not have with strategy, and returns the longest
// time an observer saw no web running and the executor's own measure.
func update(state string, strategy spec.UpdateStrategy, latency, pull time.Duration) (seen, logged time.Duration, err error) {
	ctx := context.Background()
	h, err := sim.Open(state, nil)
	if err != nil {
		return 0, 0, err
	}
	defer h.Close()
	ex := &reconcile.Executor{Driver: h}
	policy := reconcile.Policy{Owner: "bench"}
	if _, err := converge(ctx, h, web(oldImage, strategy), policy, ex); err != nil {
		return 0, 0, err
	}
	if err := h.SetFaults(ctx, sim.Faults{Latency: latency, PullLatency: pull}); err != nil {
		return 0, 0, err
	}
	obs, err := observe(state)
	if err != nil {
		return 0, 0, err
	}
	a, err := converge(ctx, h, web(newImage, strategy), policy, ex)
	seen = obs.stop()
	if err != nil {
		return 0, 0, err
	}
	if a.Strategy != strategy || !a.DowntimeMeasured {
		return 0, 0, fmt.Errorf("the update ran as %q (downtime measured: %t)", a.Strategy, a.DowntimeMeasured)
	}
	return seen, a.Downtime, nil
}

// converge runs one pass for c and returns its one action.
func converge(ctx context.Context, h *sim.EmulatedHost, c spec.Container, policy reconcile.Policy, ex *reconcile.Executor) (reconcile.Action, error) {
	plan, err := reconcile.Converge(ctx, h, spec.Set{Containers: []spec.Container{c}}, policy, ex, false)
	switch {
	case err != nil:
		return reconcile.Action{}, err
	case plan.Failed() || len(plan.Actions) != 1:
		return reconcile.Action{}, fmt.Errorf("pass for %s: %v %v", c.Spec.Image, plan.Errors, plan.Actions)
	}
	return plan.Actions[0], nil
}

func web(image string, strategy spec.UpdateStrategy) spec.Container {
	c := spec.Container{APIVersion: spec.APIVersion, Kind: spec.Kind, Metadata: spec.Metadata{Name: "web"},
		Spec:   spec.ContainerSpec{Image: image, Isolation: spec.IsolationProcess, Update: spec.Update{Strategy: strategy}},
		Origin: spec.Origin{File: "web.yaml", Line: 1}}
	c.ApplyDefaults()
	return c
}

// observer polls the host's systems with its own handle and keeps the
// longest stretch in which no web ran.
type observer struct {
	done    chan struct{}
	wg      sync.WaitGroup
	longest time.Duration
}

func observe(state string) (*observer, error) {
	h, err := sim.Open(state, nil)
	if err != nil {
		return nil, err
	}
	o := &observer{done: make(chan struct{})}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		defer h.Close()
		var down time.Time // when web was first seen not running; zero while it runs
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-o.done:
				return
			case <-tick.C:
			}
			up, err := running(h, "web")
			now := time.Now()
			switch {
			case err != nil:
			case !up && down.IsZero():
				down = now
			case up && !down.IsZero():
				o.longest = max(o.longest, now.Sub(down))
				down = time.Time{}
			}
		}
	}()
	return o, nil
}

// stop ends the polling and returns the longest downtime seen.
func (o *observer) stop() time.Duration {
	close(o.done)
	o.wg.Wait()
	return o.longest
}

func running(h *sim.EmulatedHost, name string) (bool, error) {
	list, err := h.List(context.Background())
	if err != nil {
		return false, err
	}
	for _, s := range list {
		if s.Name == name && s.State == driver.StateRunning {
			return true, nil
		}
	}
	return false, nil
}
