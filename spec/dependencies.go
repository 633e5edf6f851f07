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
	// names and missingMsgs are built when a name is missing.
	names       []string
	missingMsgs map[string]string
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
		default:
			g.fail(i, j, "name", "%s", g.missing(d.Name, declared))
		}
	}
}

// missing says why name is not in the set and what to do, once per name
// (a name many wait for is looked up once).
func (g *depGraph) missing(name string, declared []Container) string {
	if msg, ok := g.missingMsgs[name]; ok {
		return msg
	}
	var at []string
	for i := range declared {
		if declared[i].Metadata.Name == name {
			at = append(at, declared[i].Origin.String())
		}
	}
	var msg string
	if len(at) > 0 {
		msg = fmt.Sprintf("%s is left out of the desired set by a problem of its own (declared at %s); this container waits for it, so it is left out too until that is fixed",
			name, strings.Join(at, ", "))
	} else {
		if g.names == nil {
			g.names = make([]string, len(g.cs))
			for i := range g.cs {
				g.names[i] = g.cs[i].Metadata.Name
			}
		}
		fix := "declare it, fix its manifest, or remove this entry"
		if s := closest(name, g.names); s != "" {
			fix = fmt.Sprintf("did you mean %q? Else %s", s, fix)
		}
		msg = fmt.Sprintf("%q is not a container of the desired set (no valid manifest declares it); %s", name, fix)
	}
	if g.missingMsgs == nil {
		g.missingMsgs = make(map[string]string)
	}
	g.missingMsgs[name] = msg
	return msg
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
// wait for one left out, and those that wait for them, and so on: a walk
// back along the dependsOn entries from every container left out.
func (g *depGraph) leaveOutDependents() {
	if len(g.cause) == 0 {
		return
	}
	type entry struct{ container, index int }
	waiting := make(map[int][]entry)
	for i := range g.cs {
		for j, d := range g.cs[i].Spec.DependsOn {
			if t, ok := g.index[d.Name]; ok {
				waiting[t] = append(waiting[t], entry{i, j})
			}
		}
	}
	queue := make([]int, 0, len(g.cause))
	for i := range g.cs {
		if _, out := g.cause[i]; out {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		for _, w := range waiting[t] {
			if _, out := g.cause[w.container]; out {
				continue
			}
			g.fail(w.container, w.index, "name", "%s is left out of the desired set by the problem at %s; %s waits for it, so it is left out too until that is fixed",
				g.cs[t].Metadata.Name, g.cause[t], g.cs[w.container].Metadata.Name)
			queue = append(queue, w.container)
		}
	}
}
