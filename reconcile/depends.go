package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// ErrDependencyNotReady marks a create or recreate that was not carried
// out because a container it depends on (spec dependsOn) is not running,
// or not healthy when its condition says healthy. It says nothing of the
// action's own spec: the next pass tries again.
var ErrDependencyNotReady = errors.New("dependency not ready")

// ErrDependencyCycle marks a create or recreate whose dependencies form a
// cycle. Validation refuses cycles; the executor refuses them too, so that
// it can never wait forever.
var ErrDependencyCycle = errors.New("dependency cycle")

// dependencyError is why an action waited for a dependency in vain: "waits
// for db: not healthy: …".
type dependencyError struct {
	dep string
	err error
}

func (e *dependencyError) Error() string { return "waits for " + e.dep + ": " + e.err.Error() }

func (e *dependencyError) Unwrap() []error { return []error{ErrDependencyNotReady, e.err} }

// depGraph orders the actions of one phase of Apply by their dependencies
// (spec dependsOn): a create or recreate starts only once each dependency
// is running (condition started) or healthy (condition healthy), and a
// removal starts only once the removals of the containers that depend on
// it are over. Waiting holds no slot of Executor.Parallel, so a wait for
// health never holds up independent actions.
type depGraph struct {
	e    *Executor
	plan *Plan
	mu   *sync.Mutex // guards plan.Actions, as in Apply
	// after[i] are the actions of the phase that action i waits for.
	after map[int][]int
	// deps[i] are action i's dependencies (creates and recreates only).
	deps map[int][]spec.Dependency
	// byName is the create or recreate of each name in the phase.
	byName map[string]int
	// cycle[i] describes the dependency cycle action i is on, if any.
	cycle map[int]string
	done  map[int]chan struct{}
	// removals marks a phase of removals: waits are for order only.
	removals bool

	live    liveSystems
	healthy sync.Map // dependency name → *healthWait
}

// healthWait is one wait for a dependency's health, shared by all its
// dependents.
type healthWait struct {
	once sync.Once
	err  error
}

// liveSystems reads the host's systems once, when a dependency that has no
// action in the plan must be looked up.
type liveSystems struct {
	once    sync.Once
	systems []driver.System
	err     error
}

// dependencyGraph returns the order of the actions idx of one phase, or nil
// when none of them waits for another nor for a dependency: the phase then
// runs as it always did.
func (e *Executor) dependencyGraph(ctx context.Context, plan *Plan, idx []int, mu *sync.Mutex, removals bool) *depGraph {
	g := &depGraph{e: e, plan: plan, mu: mu, removals: removals, after: map[int][]int{}, deps: map[int][]spec.Dependency{},
		byName: map[string]int{}, cycle: map[int]string{}, done: map[int]chan struct{}{}}
	if removals {
		g.orderRemovals(ctx, idx)
	} else {
		g.orderCreates(idx)
	}
	if len(g.after) == 0 && len(g.deps) == 0 {
		return nil
	}
	for _, i := range idx {
		g.done[i] = make(chan struct{})
	}
	g.findCycles(idx)
	return g
}

// orderCreates makes each create or recreate wait for those of its
// dependencies in the phase.
func (g *depGraph) orderCreates(idx []int) {
	for _, i := range idx {
		if a := g.plan.Actions[i]; a.request != nil {
			g.byName[a.Name] = i
		}
	}
	for _, i := range idx {
		a := g.plan.Actions[i]
		if a.request == nil || len(a.request.Spec.DependsOn) == 0 {
			continue
		}
		g.deps[i] = a.request.Spec.DependsOn
		for _, d := range a.request.Spec.DependsOn {
			if j, ok := g.byName[d.Name]; ok && j != i {
				g.after[i] = append(g.after[i], j)
			}
		}
	}
}

// orderRemovals makes the removal of each container wait for the
// removals of the containers that depend on it, as their recorded specs
// say (driver.RequestReader): a container no longer declared has no other
// spec. One removal alone has nothing to wait for, and nothing is read.
func (g *depGraph) orderRemovals(ctx context.Context, idx []int) {
	if _, ok := g.e.Driver.(driver.RequestReader); !ok || len(idx) < 2 {
		return
	}
	byName := map[string][]int{}
	for _, i := range idx {
		byName[g.plan.Actions[i].Name] = append(byName[g.plan.Actions[i].Name], i)
	}
	for _, i := range idx {
		a := g.plan.Actions[i]
		for _, s := range a.remove {
			req, err := g.e.createdWith(ctx, s.ID)
			if err != nil {
				continue // no record: nothing known of what it depends on
			}
			for _, d := range req.Spec.DependsOn {
				for _, j := range byName[d.Name] {
					if j != i {
						g.after[j] = append(g.after[j], i) // the dependency waits for its dependent
					}
				}
			}
		}
	}
}

// findCycles marks the actions that are on a cycle of waits, with the
// cycle in words. Validation refuses cycles; this keeps the executor from
// ever waiting on one.
func (g *depGraph) findCycles(idx []int) {
	// Kahn's algorithm: what it cannot order is on a cycle or behind one.
	waiting := make(map[int]int, len(idx))
	waitedBy := map[int][]int{}
	for _, i := range idx {
		waiting[i] = len(g.after[i])
		for _, j := range g.after[i] {
			waitedBy[j] = append(waitedBy[j], i)
		}
	}
	ready := make([]int, 0, len(idx))
	for _, i := range idx {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		j := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		delete(waiting, j)
		for _, i := range waitedBy[j] {
			if waiting[i]--; waiting[i] == 0 {
				ready = append(ready, i)
			}
		}
	}
	for _, i := range idx {
		if _, stuck := waiting[i]; stuck {
			if path := g.cycleFrom(i); path != nil {
				g.cycle[i] = strings.Join(path, " → ")
			}
		}
	}
}

// cycleFrom returns the names along a cycle of waits from action i back
// to it, or nil when i is only behind a cycle.
func (g *depGraph) cycleFrom(start int) []string {
	seen := map[int]bool{}
	var path []int
	var walk func(i int) bool
	walk = func(i int) bool {
		if i == start && len(path) > 0 {
			return true
		}
		if seen[i] {
			return false
		}
		seen[i] = true
		path = append(path, i)
		for _, j := range g.after[i] {
			if walk(j) {
				return true
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if !walk(start) {
		return nil
	}
	names := make([]string, 0, len(path)+1)
	for _, i := range append(path, start) {
		names = append(names, g.plan.Actions[i].Name)
	}
	return names
}

// run runs the phase: one goroutine per action waits for what the action
// waits for, then takes one of parallel slots to carry it out.
func (g *depGraph) run(ctx context.Context, idx []int, parallel int) {
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, i := range idx {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(g.done[i])
			if err := g.wait(ctx, i); errors.Is(err, ErrNotStarted) {
				g.e.notStarted(ctx, g.plan, i, g.mu)
				return
			} else if err != nil {
				g.mu.Lock()
				a := g.plan.Actions[i]
				g.mu.Unlock()
				g.e.finish(g.plan, i, a, 0, err, g.mu)
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				g.e.notStarted(ctx, g.plan, i, g.mu)
				return
			}
			sl := &slot{sem: sem, held: true}
			defer sl.release()
			g.e.runOne(ctx, g.plan, i, g.mu, sl)
		}()
	}
	wg.Wait()
}

// wait blocks until action i may start, and says why it may not: its
// dependencies are on a cycle, failed, or are not running or healthy.
func (g *depGraph) wait(ctx context.Context, i int) error {
	if c, ok := g.cycle[i]; ok {
		if g.removals {
			return nil // records from several manifest versions: order what can be
		}
		return fmt.Errorf("%w: %s; validation refuses it, fix the manifests", ErrDependencyCycle, c)
	}
	for _, j := range g.after[i] {
		if _, onCycle := g.cycle[j]; onCycle && g.removals {
			continue
		}
		select {
		case <-g.done[j]:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrNotStarted, context.Cause(ctx))
		}
	}
	if g.removals {
		return nil
	}
	for _, d := range g.deps[i] {
		if err := g.ready(ctx, d, g.plan.Actions[i].request.Owner); err != nil {
			if errors.Is(err, ErrNotStarted) {
				return err
			}
			return &dependencyError{dep: d.Name, err: err}
		}
	}
	return nil
}

// ready says whether dependency d is running, and healthy when its
// condition asks for it. A dependency created or recreated in this phase
// counts once its action is done; any other is looked up on the host.
func (g *depGraph) ready(ctx context.Context, d spec.Dependency, owner string) error {
	var id string
	var hc spec.Healthcheck
	var deadline spec.Update
	if j, ok := g.byName[d.Name]; ok {
		g.mu.Lock()
		a := g.plan.Actions[j]
		g.mu.Unlock()
		switch {
		case a.Status == StatusDone:
		case errors.Is(a.Err, driver.ErrUnhealthy) && d.ConditionOrDefault() != spec.ConditionHealthy:
			return nil // not healthy, but a container of the name runs: started
		case errors.Is(a.Err, driver.ErrUnhealthy):
			return a.Err
		default:
			return fmt.Errorf("its %s failed: %w", a.Kind, a.Err)
		}
		id = driver.SystemID(a.request.Name, a.request.Owner, a.request.SpecHash)
		hc, deadline = a.request.Spec.Healthcheck, a.request.Spec.Update
	} else {
		s, err := g.running(ctx, d.Name, owner)
		if err != nil {
			return err
		}
		id = s.ID
		if d.ConditionOrDefault() == spec.ConditionHealthy {
			if hc, deadline, err = g.recordedHealth(ctx, s); err != nil {
				return err
			}
		}
	}
	if d.ConditionOrDefault() != spec.ConditionHealthy {
		return nil
	}
	if !hc.Defined() {
		return fmt.Errorf("condition healthy, but %s declares no healthcheck", d.Name)
	}
	w, _ := g.healthy.LoadOrStore(d.Name, &healthWait{})
	hw := w.(*healthWait)
	hw.once.Do(func() {
		wctx, cancel := context.WithTimeout(ctx, deadline.Deadline())
		defer cancel()
		g.e.logger().Info("waiting for a dependency to be healthy", zap.String("name", d.Name), zap.Duration("deadline", deadline.Deadline()))
		err := WaitHealthy(wctx, g.e.Driver, id, hc)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			err = fmt.Errorf("%w: %w", ErrNotStarted, context.Cause(ctx))
		case wctx.Err() != nil:
			err = fmt.Errorf("not healthy within %s (update.progressDeadline): %w", deadline.Deadline(), err)
		default:
			err = fmt.Errorf("not healthy: %w", err)
		}
		hw.err = err
	})
	return hw.err
}

// running finds the running system of name and owner on the host.
func (g *depGraph) running(ctx context.Context, name, owner string) (driver.System, error) {
	g.live.once.Do(func() {
		g.live.err = g.e.call(ctx, "list compute systems", func(ctx context.Context) error {
			var err error
			g.live.systems, err = g.e.Driver.List(ctx)
			return err
		})
	})
	if g.live.err != nil {
		return driver.System{}, fmt.Errorf("the host could not be read: %w", g.live.err)
	}
	state := "not running"
	for _, s := range g.live.systems {
		if s.Name != name || s.Owner != owner {
			continue
		}
		if s.State == driver.StateRunning {
			return s, nil
		}
		state = string(s.State)
	}
	return driver.System{}, errors.New(state)
}

// recordedHealth reads the healthcheck and update deadline a live
// dependency was created with.
func (g *depGraph) recordedHealth(ctx context.Context, s driver.System) (spec.Healthcheck, spec.Update, error) {
	if _, ok := g.e.Driver.(driver.RequestReader); !ok {
		return spec.Healthcheck{}, spec.Update{}, errors.New("condition healthy, but the driver keeps no record of its healthcheck")
	}
	req, err := g.e.createdWith(ctx, s.ID)
	if err != nil {
		return spec.Healthcheck{}, spec.Update{}, fmt.Errorf("its healthcheck could not be read: %w", err)
	}
	return req.Spec.Healthcheck, req.Spec.Update, nil
}

// createdWith reads back the request the system id was created with (the
// driver is a driver.RequestReader), retried as any driver call.
func (e *Executor) createdWith(ctx context.Context, id string) (driver.CreateRequest, error) {
	var req driver.CreateRequest
	err := e.call(ctx, "read the spec of "+id, func(ctx context.Context) error {
		var err error
		req, err = e.Driver.(driver.RequestReader).CreatedWith(ctx, id)
		return err
	})
	return req, err
}
