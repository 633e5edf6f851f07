package spec

import (
	"fmt"
	"slices"
	"strings"
)

// checkDependencies checks the dependsOn entries of cs, containers of
// unique names, against one another; declared is every container of the
// input, cs and those CheckUnique left out (to say why a name is missing).
// It returns, in order, the containers whose dependencies can all be met,
// and one problem per entry that cannot, placed at that entry:
//
//   - a name no container of the set has;
//   - condition healthy on a container that declares no healthcheck;
//   - a cycle ("web → api → web"), reported at the entry that closes it.
//
// Such a container is left out of the set, and so is every container that
// waits for one left out (a problem at its entry says so): it could not be
// created in order. As for duplicate names, leaving a container out never
// removes it while the problem lasts, since every problem holds removals:
// a running container stays as it runs. When no container depends on
// another, the containers returned are cs itself.
func checkDependencies(cs, declared []Container) ([]Container, []Problem) {
	if !slices.ContainsFunc(cs, func(c Container) bool { return len(c.Spec.DependsOn) > 0 }) {
		return cs, nil
	}
	g := depGraph{cs: cs, index: make(map[string]int, len(cs)), cause: make(map[int]string)}
	for i := range cs {
		g.index[cs[i].Metadata.Name] = i
	}
	for i := range cs {
		g.checkTargets(i, declared)
	}
	g.findCycles()
	g.leaveOutDependents()
	if len(g.cause) == 0 {
		return cs, nil
	}
	kept := make([]Container, 0, len(cs)-len(g.cause))
	for i, c := range cs {
		if _, out := g.cause[i]; !out {
			kept = append(kept, c)
		}
	}
	slices.SortStableFunc(g.problems, func(a, b Problem) int { return g.index[a.Name] - g.index[b.Name] })
	return kept, g.problems
}

// depGraph is the dependsOn graph of a set of containers of unique names.
type depGraph struct {
	cs    []Container
	index map[string]int
	// cause maps each container left out to where its first problem is
	// ("web.yaml:9").
	cause    map[int]string
	problems []Problem
}

// fail records a problem of entry j of container i's dependsOn and leaves
// the container out.
func (g *depGraph) fail(i, j int, field, format string, args ...any) {
	c := &g.cs[i]
	p := Problem{File: c.Origin.File, Line: c.Origin.Line, Name: c.Metadata.Name,
		Field: fmt.Sprintf("spec.dependsOn[%d].%s", j, field), Message: fmt.Sprintf(format, args...)}
	if j < len(c.Origin.DependsOn) && c.Origin.DependsOn[j] > 0 {
		p.Line = c.Origin.DependsOn[j]
	}
	if _, out := g.cause[i]; !out {
		g.cause[i] = Origin{File: p.File, Line: p.Line}.String()
	}
	g.problems = append(g.problems, p)
}

// checkTargets checks that each container i waits for is in the set and
// can reach the condition waited for.
func (g *depGraph) checkTargets(i int, declared []Container) {
	c := &g.cs[i]
	for j, d := range c.Spec.DependsOn {
		t, ok := g.index[d.Name]
		switch {
		case ok:
			if d.ConditionOrDefault() == ConditionHealthy && !g.cs[t].Spec.Healthcheck.Defined() {
				g.fail(i, j, "condition", "%s waits for %s to be healthy, but %s (%s) declares no healthcheck; add a healthcheck to %s, or write condition: started",
					c.Metadata.Name, d.Name, d.Name, g.cs[t].Origin, d.Name)
			}
		case slices.ContainsFunc(declared, func(o Container) bool { return o.Metadata.Name == d.Name }):
			g.fail(i, j, "name", "%s is left out of the desired set by a problem of its own (declared at %s); %s waits for it, so it is left out too until that is fixed",
				d.Name, strings.Join(declaredAt(declared, d.Name), ", "), c.Metadata.Name)
		default:
			fix := "declare it, fix its manifest, or remove this entry"
			if s := closest(d.Name, g.names()); s != "" {
				fix = fmt.Sprintf("did you mean %q? Else %s", s, fix)
			}
			g.fail(i, j, "name", "%q is not a container of the desired set (no valid manifest declares it); %s", d.Name, fix)
		}
	}
}

// declaredAt returns where the containers of cs named name are declared.
func declaredAt(cs []Container, name string) []string {
	var at []string
	for i := range cs {
		if cs[i].Metadata.Name == name {
			at = append(at, cs[i].Origin.String())
		}
	}
	return at
}

// names returns the names of the set, in order.
func (g *depGraph) names() []string {
	out := make([]string, len(g.cs))
	for i := range g.cs {
		out[i] = g.cs[i].Metadata.Name
	}
	return out
}

// findCycles reports each cycle of the graph once, at the entry that
// closes it in a depth-first walk in set order, and leaves out every
// container on it.
func (g *depGraph) findCycles() {
	const (
		unvisited = iota
		onPath
		done
	)
	state := make([]uint8, len(g.cs))
	var path []int
	var visit func(i int)
	visit = func(i int) {
		state[i] = onPath
		path = append(path, i)
		for j, d := range g.cs[i].Spec.DependsOn {
			t, ok := g.index[d.Name]
			if !ok {
				continue
			}
			switch state[t] {
			case unvisited:
				visit(t)
			case onPath:
				g.cycle(path[slices.Index(path, t):], i, j)
			}
		}
		path = path[:len(path)-1]
		state[i] = done
	}
	for i := range g.cs {
		if state[i] == unvisited {
			visit(i)
		}
	}
}

// cycle reports the cycle through the containers on (in dependency order)
// that entry j of container i closes.
func (g *depGraph) cycle(on []int, i, j int) {
	// Told from i, whose entry closes it: i waits for on[0], which waits
	// for on[1]…, which waits for i.
	order := append([]int{i}, on[:len(on)-1]...)
	names := make([]string, 0, len(order)+1)
	var where []string
	for _, k := range order {
		names = append(names, g.cs[k].Metadata.Name)
		if k != i {
			where = append(where, fmt.Sprintf("%s (%s)", g.cs[k].Metadata.Name, g.cs[k].Origin))
		}
	}
	names = append(names, g.cs[i].Metadata.Name)
	msg := fmt.Sprintf("dependency cycle: %s; no container of it could ever be created first: remove one of these dependsOn entries", strings.Join(names, " → "))
	if len(where) > 0 {
		msg += "; the others are " + strings.Join(where, ", ")
	}
	g.fail(i, j, "name", "%s", msg)
	for _, k := range on {
		if _, out := g.cause[k]; !out {
			g.cause[k] = g.cause[i]
		}
	}
}

// leaveOutDependents leaves out, with a problem each, the containers that
// wait for one left out, until none does.
func (g *depGraph) leaveOutDependents() {
	for changed := true; changed; {
		changed = false
		for i := range g.cs {
			if _, out := g.cause[i]; out {
				continue
			}
			for j, d := range g.cs[i].Spec.DependsOn {
				t, ok := g.index[d.Name]
				if !ok {
					continue
				}
				if at, out := g.cause[t]; out {
					g.fail(i, j, "name", "%s is left out of the desired set by the problem at %s; %s waits for it, so it is left out too until that is fixed",
						d.Name, at, g.cs[i].Metadata.Name)
					changed = true
					break
				}
			}
		}
	}
}
