package reconcile

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/reconciler/reconciler/spec"
)

// FleetPlan is what each host of a fleet would run from one desired set:
// the plan of every host against an empty host, by the planner's own
// rules (placement, isolation, compatibility).
type FleetPlan struct {
	Hosts []HostPlan
	// Errors and Warnings are the set's own problems (invalid manifests),
	// and the manifests whose placement admits no host of the fleet.
	Errors, Warnings []spec.Problem
}

// HostPlan is one host's plan.
type HostPlan struct {
	Name   string
	Labels map[string]string
	Plan   Plan
}

// PlanFleet plans on every host of a fleet the desired set it would load
// (sets[i] for hosts[i]: the same set for all, or each its own when the
// paths are templates), each as if it ran nothing yet, with p's checks
// (Strict, DenyHostAccess). The sets' own problems are reported once. A
// manifest whose placement admits none of the hosts that load it is an
// error: nothing would run it, which is most often a typo. Pure.
func PlanFleet(hosts []spec.FleetHost, sets []spec.Set, p Policy) FleetPlan {
	var fp FleetPlan
	// placed says, per manifest with a placement, whether a host runs it.
	placed := map[string]bool{}
	var order []*spec.Container
	for i, h := range hosts {
		set := sets[i]
		fp.Errors = appendNew(fp.Errors, set.Errors)
		fp.Warnings = appendNew(fp.Warnings, set.Warnings)
		hp := p
		hp.Facts = h.Facts()
		plan := ComputePlan(spec.Set{Containers: set.Containers}, nil, h.Host(), hp)
		plan.DryRun = true
		fp.Hosts = append(fp.Hosts, HostPlan{Name: h.Name, Labels: h.Labels, Plan: plan})
		for j := range set.Containers {
			c := &set.Containers[j]
			if !c.Spec.Placement.Defined() {
				continue
			}
			key := c.Origin.String() + " " + c.Metadata.Name
			if _, seen := placed[key]; !seen {
				order = append(order, c)
			}
			ok, _, _ := c.Spec.Placement.Admits(h.Facts(), h.Host())
			placed[key] = placed[key] || ok
		}
	}
	for _, c := range order {
		if placed[c.Origin.String()+" "+c.Metadata.Name] {
			continue
		}
		fp.Errors = append(fp.Errors, spec.Problem{File: c.Origin.File, Line: c.Origin.Line, Name: c.Metadata.Name, Field: "spec.placement",
			Message: "admits no host of the fleet: nothing would run this container; check the host names, labels and builds it matches"})
	}
	return fp
}

// appendNew appends to ps the problems of more it does not hold yet.
func appendNew(ps, more []spec.Problem) []spec.Problem {
	for _, p := range more {
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// Failed reports whether any host, or the set itself, has an error.
func (fp FleetPlan) Failed() bool {
	n, _ := fp.counts()
	return n > 0
}

// counts are the errors and warnings of the whole fleet.
func (fp FleetPlan) counts() (errs, warns int) {
	errs, warns = len(fp.Errors), len(fp.Warnings)
	for _, h := range fp.Hosts {
		errs += len(h.Plan.Errors)
		warns += len(h.Plan.Warnings)
	}
	return errs, warns
}

// WriteFleet writes the fleet plan as a table (host, OS, container,
// isolation, image), then every problem prefixed by its host, then a
// summary line.
func WriteFleet(w io.Writer, fp FleetPlan, color bool) error {
	paint := painter(color)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tOS\tCONTAINER\tISOLATION\tIMAGE")
	runs := 0
	for _, h := range fp.Hosts {
		os := h.Plan.Host.String()
		if len(h.Plan.Actions) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\n", h.Name, os)
		}
		for _, a := range h.Plan.Actions {
			iso := string(a.Isolation)
			if auto, ok := autoOf(h.Plan, a.Name); ok {
				iso = "auto → " + string(auto.Isolation)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Name, os, a.Name, iso, a.Image)
			runs++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range fp.Errors {
		fmt.Fprintln(w, paint(colorRed, "! "+e.Error()))
	}
	for _, e := range fp.Warnings {
		fmt.Fprintln(w, paint(colorYellow, "warning: "+e.Error()))
	}
	for _, h := range fp.Hosts {
		for _, e := range h.Plan.Errors {
			fmt.Fprintln(w, paint(colorRed, "! "+h.Name+": "+e.Error()))
		}
		for _, e := range h.Plan.Warnings {
			fmt.Fprintln(w, paint(colorYellow, "warning: "+h.Name+": "+e.Error()))
		}
	}
	errs, warns := fp.counts()
	_, err := fmt.Fprintf(w, "%d host(s), %d container(s) placed: %d error(s), %d warning(s)\n", len(fp.Hosts), runs, errs, warns)
	return err
}

// autoOf is what isolation: auto resolved to for container name.
func autoOf(p Plan, name string) (AutoIsolation, bool) {
	for _, a := range p.Auto {
		if a.Name == name {
			return a, true
		}
	}
	return AutoIsolation{}, false
}

// FleetJSON is the JSON view of a fleet plan (validate --fleet -o json).
type FleetJSON struct {
	Hosts    []HostPlanJSON `json:"hosts"`
	Errors   []errorJSON    `json:"errors"`
	Warnings []warningJSON  `json:"warnings"`
}

// HostPlanJSON is one host of FleetJSON: what it would run, with the
// isolation each container gets and why when auto chose it.
type HostPlanJSON struct {
	Name       string            `json:"name"`
	Labels     map[string]string `json:"labels,omitempty"`
	Host       HostJSON          `json:"host"`
	Containers []FleetRunJSON    `json:"containers"`
	Errors     []errorJSON       `json:"errors"`
	Warnings   []warningJSON     `json:"warnings"`
}

// FleetRunJSON is one container a host would run.
type FleetRunJSON struct {
	Name      string         `json:"name"`
	Isolation spec.Isolation `json:"isolation"`
	Image     string         `json:"image"`
	Source    string         `json:"source"`
	// AutoReason says why isolation: auto chose Isolation.
	AutoReason string `json:"autoReason,omitempty"`
}

// View is fp's JSON view.
func (fp FleetPlan) View() FleetJSON {
	out := FleetJSON{Hosts: make([]HostPlanJSON, 0, len(fp.Hosts)), Errors: errorsJSON(fp.Errors), Warnings: warningsJSON(fp.Warnings)}
	for _, h := range fp.Hosts {
		hj := HostPlanJSON{Name: h.Name, Labels: h.Labels, Host: HostView(h.Plan.Host), Containers: make([]FleetRunJSON, 0, len(h.Plan.Actions)),
			Errors: errorsJSON(h.Plan.Errors), Warnings: warningsJSON(h.Plan.Warnings)}
		for _, a := range h.Plan.Actions {
			run := FleetRunJSON{Name: a.Name, Isolation: a.Isolation, Image: a.Image, Source: a.Source}
			if auto, ok := autoOf(h.Plan, a.Name); ok {
				run.AutoReason = auto.Reason
			}
			hj.Containers = append(hj.Containers, run)
		}
		out.Hosts = append(out.Hosts, hj)
	}
	return out
}

func errorsJSON(ps []spec.Problem) []errorJSON {
	out := make([]errorJSON, 0, len(ps))
	for _, e := range ps {
		out = append(out, errorJSON{Source: e.File, Line: e.Line, Name: e.Name, Message: problemMessage(e)})
	}
	return out
}

func warningsJSON(ps []spec.Problem) []warningJSON {
	out := make([]warningJSON, 0, len(ps))
	for _, e := range ps {
		out = append(out, warningJSON{Source: e.File, Name: e.Name, Message: problemMessage(e)})
	}
	return out
}
