package reconcile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/reconciler/reconciler/spec"
)

// The JSON view of a plan (DESIGN §6), stable for scripts.
type (
	planJSON struct {
		DryRun    bool          `json:"dryRun"`
		Host      HostJSON      `json:"host"`
		Actions   []actionJSON  `json:"actions"`
		Unchanged []string      `json:"unchanged"`
		Errors    []errorJSON   `json:"errors"`
		Warnings  []warningJSON `json:"warnings"`
		// AutoIsolation is there when a container says isolation: auto.
		AutoIsolation []autoJSON `json:"autoIsolation,omitempty"`
	}
	autoJSON struct {
		Name      string         `json:"name"`
		Isolation spec.Isolation `json:"isolation"`
		Reason    string         `json:"reason"`
	}
	// HostJSON is the JSON view of a host, shared by plans and status.
	HostJSON struct {
		Build            uint32         `json:"build"`
		Revision         uint32         `json:"revision"`
		SKU              spec.SKU       `json:"sku"`
		DefaultIsolation spec.Isolation `json:"defaultIsolation"`
	}
	actionJSON struct {
		Action    ActionKind     `json:"action"`
		Name      string         `json:"name"`
		Isolation spec.Isolation `json:"isolation"`
		Image     string         `json:"image"`
		Reason    string         `json:"reason"`
		Source    string         `json:"source"`
		Status    Status         `json:"status"`
		Error     string         `json:"error"`
		// HoldReason is set on held actions only.
		HoldReason string `json:"holdReason,omitempty"`
		// Changes, on a recreate, are the fields of the spec that change.
		Changes []spec.Change `json:"changes,omitempty"`
		// Strategy, on a recreate, is how it replaces the container.
		Strategy spec.UpdateStrategy `json:"strategy,omitempty"`
		// StrategyNote says why a startFirst falls back to recreate.
		StrategyNote string `json:"strategyNote,omitempty"`
		// RolledBack, on a rollout that was rolled back, names both specs
		// and the health failure.
		RolledBack *rollbackJSON `json:"rolledBack,omitempty"`
	}
	rollbackJSON struct {
		SpecHash         string `json:"specHash"`
		PreviousSpecHash string `json:"previousSpecHash"`
		Reason           string `json:"reason"`
		// At is RFC 3339, UTC.
		At string `json:"at"`
	}
	errorJSON struct {
		Source  string `json:"source"`
		Line    int    `json:"line"`
		Name    string `json:"name"`
		Message string `json:"message"`
	}
	warningJSON struct {
		Source  string `json:"source"`
		Name    string `json:"name"`
		Message string `json:"message"`
	}
)

// HostView is the JSON view of a host.
func HostView(h spec.Host) HostJSON {
	return HostJSON{Build: h.Build, Revision: h.Revision, SKU: h.SKU, DefaultIsolation: h.DefaultIsolation()}
}

// problemMessage puts the field path in front of the message.
func problemMessage(p spec.Problem) string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// WriteJSON writes the plan as the JSON of DESIGN §6, one document and a
// newline.
func WriteJSON(w io.Writer, p Plan) error {
	out := planJSON{
		DryRun:    p.DryRun,
		Host:      HostView(p.Host),
		Actions:   make([]actionJSON, 0, len(p.Actions)),
		Unchanged: p.Unchanged,
		Errors:    make([]errorJSON, 0, len(p.Errors)),
		Warnings:  make([]warningJSON, 0, len(p.Warnings)),
	}
	if out.Unchanged == nil {
		out.Unchanged = []string{}
	}
	for _, a := range p.Actions {
		aj := actionJSON{Action: a.Kind, Name: a.Name, Isolation: a.Isolation, Image: a.Image,
			Reason: a.Reason, Source: a.Source, Status: a.Status, HoldReason: a.HoldReason, Changes: a.Changes,
			Strategy: a.Strategy, StrategyNote: a.StrategyNote}
		if r := a.RolledBack; r != nil {
			aj.RolledBack = &rollbackJSON{SpecHash: r.SpecHash, PreviousSpecHash: r.PreviousSpecHash, Reason: r.Reason, At: r.At.UTC().Format(time.RFC3339)}
		}
		if a.Err != nil {
			aj.Error = a.Err.Error()
		}
		out.Actions = append(out.Actions, aj)
	}
	for _, e := range p.Errors {
		out.Errors = append(out.Errors, errorJSON{Source: e.File, Line: e.Line, Name: e.Name, Message: problemMessage(e)})
	}
	for _, e := range p.Warnings {
		out.Warnings = append(out.Warnings, warningJSON{Source: e.File, Name: e.Name, Message: problemMessage(e)})
	}
	for _, a := range p.Auto {
		out.AutoIsolation = append(out.AutoIsolation, autoJSON(a))
	}
	// Encoded compact, then indented into a buffer grown once: the
	// Encoder's own indenting grows its buffer by doubling, which for a
	// plan of 10,000 actions costs more than the encoding itself.
	var compact, indented bytes.Buffer
	enc := json.NewEncoder(&compact)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	if err := json.Indent(&indented, compact.Bytes(), "", "  "); err != nil {
		return err
	}
	_, err := w.Write(indented.Bytes())
	return err
}

// ANSI colours for terminals.
const (
	colorReset  = "\x1b[0m"
	colorRed    = "\x1b[31m"
	colorGreen  = "\x1b[32m"
	colorYellow = "\x1b[33m"
)

var actionMarks = map[ActionKind]struct{ mark, color string }{
	ActionCreate:   {"+", colorGreen},
	ActionRecreate: {"~", colorYellow},
	ActionRemove:   {"-", colorRed},
}

// painter returns a function that wraps s in the ANSI colour c when color
// is set, and returns s as it is otherwise.
func painter(color bool) func(c, s string) string {
	return func(c, s string) string {
		if !color {
			return s
		}
		return c + s + colorReset
	}
}

// heldMark marks a held removal in text.
const heldMark = "-?"

// heldMarkOf marks a held action of kind k in text: "-?" for a removal,
// "~?" for a recreate to a spec that was rolled back.
func heldMarkOf(k ActionKind) string {
	if k == ActionRemove {
		return heldMark
	}
	return actionMarks[k].mark + "?"
}

// WriteText writes the plan for a person: one line per action (+ create,
// ~ recreate, - remove, -? held removal) with its reason, one per
// isolation: auto decision of the containers without an action (=), one
// per hold reason, one per error (!) and warning, and a summary line.
// color adds ANSI colours (for terminals only).
func WriteText(w io.Writer, p Plan, color bool) error {
	paint := painter(color)
	fmt.Fprintf(w, "host: %s, %s, default isolation %s\n", p.Host, p.Host.SKU, p.Host.DefaultIsolation())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// The strategy column is there when a manifest asks for startFirst.
	strategies := slices.ContainsFunc(p.Actions, func(a Action) bool {
		return a.Strategy == spec.UpdateStartFirst || a.StrategyNote != ""
	})
	for _, a := range p.Actions {
		m := actionMarks[a.Kind]
		if a.Status == StatusHeld {
			m.mark, m.color = heldMarkOf(a.Kind), colorYellow
		}
		kind := string(a.Kind)
		if strategies {
			kind += "\t" + string(a.Strategy)
		}
		reason := a.Reason
		if a.StrategyNote != "" {
			reason += "; " + a.StrategyNote
		}
		line := fmt.Sprintf("%s %s\t%s\t%s\t%s", paint(m.color, m.mark), a.Name, kind, a.Isolation, reason)
		switch a.Status {
		case StatusDone:
			line += "\tdone"
		case StatusFailed:
			line += "\t" + paint(colorRed, "failed: "+errString(a.Err))
		case StatusHeld:
			line += "\t" + paint(colorYellow, "held")
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Auto) > 0 {
		acted := make(map[string]bool, len(p.Actions))
		for _, a := range p.Actions {
			acted[a.Name] = acted[a.Name] || a.Kind != ActionRemove
		}
		writeAuto(w, p, func(name string) bool { return !acted[name] })
	}
	for _, h := range holds(p) {
		fmt.Fprintln(w, paint(colorYellow, fmt.Sprintf("%s held: %s: %s", heldMarkOf(h.kind), strings.Join(h.names, ", "), h.reason)))
	}
	writeProblems(w, p, paint)
	_, err := fmt.Fprintln(w, Summary(p))
	return err
}

// autoMark marks an isolation: auto decision in text.
const autoMark = "="

// writeAuto writes the plan's isolation: auto decisions of the containers
// shown says to, one line per isolation and reason: "= isolation auto →
// hyperv for api, web: image build … cannot run with process isolation
// on …".
func writeAuto(w io.Writer, p Plan, shown func(name string) bool) {
	type group struct {
		iso    spec.Isolation
		reason string
		names  []string
	}
	var groups []group
	for _, a := range p.Auto {
		if !shown(a.Name) {
			continue
		}
		i := slices.IndexFunc(groups, func(g group) bool { return g.iso == a.Isolation && g.reason == a.Reason })
		if i < 0 {
			groups = append(groups, group{iso: a.Isolation, reason: a.Reason})
			i = len(groups) - 1
		}
		groups[i].names = append(groups[i].names, a.Name)
	}
	for _, g := range groups {
		fmt.Fprintf(w, "%s isolation auto → %s for %s: %s\n", autoMark, g.iso, strings.Join(g.names, ", "), g.reason)
	}
}

// writeProblems writes one line per error (!) and warning of the plan.
func writeProblems(w io.Writer, p Plan, paint func(color, s string) string) {
	for _, e := range p.Errors {
		fmt.Fprintln(w, paint(colorRed, "! "+e.Error()))
	}
	for _, e := range p.Warnings {
		fmt.Fprintln(w, paint(colorYellow, "warning: "+e.Error()))
	}
}

// WriteValidation writes what validate found for a person: what
// isolation: auto resolves to on the host, the plan's errors and warnings
// as WriteText writes them, and a line that counts the checked
// containers, the host and the problems. The plan's actions are not
// shown: validate changes nothing and has no live state to compare with.
// color adds ANSI colours (for terminals only).
func WriteValidation(w io.Writer, p Plan, checked int, color bool) error {
	writeAuto(w, p, func(string) bool { return true })
	writeProblems(w, p, painter(color))
	_, err := fmt.Fprintf(w, "%d container(s) checked against %s: %d error(s), %d warning(s)\n",
		checked, p.Host, len(p.Errors), len(p.Warnings))
	return err
}

// Summary is the plan's one-line summary.
func Summary(p Plan) string {
	c := p.Counts()
	var b strings.Builder
	if p.DryRun {
		fmt.Fprintf(&b, "Plan: %d to create, %d to recreate, %d to remove, %s%d unchanged", c.Create, c.Recreate, c.Remove, held(c), c.Unchanged)
	} else {
		fmt.Fprintf(&b, "Applied: %d created, %d recreated, %d removed, %s%d unchanged", c.Create-failedOf(p, ActionCreate), c.Recreate-failedOf(p, ActionRecreate), c.Remove-failedOf(p, ActionRemove), held(c), c.Unchanged)
		if c.Failed > 0 {
			fmt.Fprintf(&b, ", %d failed", c.Failed)
		}
	}
	fmt.Fprintf(&b, "; %d error(s), %d warning(s)", c.Errors, c.Warnings)
	if p.DryRun {
		b.WriteString(" (dry run: nothing was changed)")
	}
	b.WriteString(".")
	return b.String()
}

// held is the summary's count of held removals, when there are some.
func held(c Counts) string {
	if c.Held == 0 {
		return ""
	}
	return fmt.Sprintf("%d held, ", c.Held)
}

// holdGroup is the held actions of one kind and hold reason.
type holdGroup struct {
	kind       ActionKind
	reason     string
	names      []string
	approvable bool
}

// holds groups the plan's held actions by reason, in order of first
// appearance.
func holds(p Plan) []holdGroup {
	var out []holdGroup
	for _, a := range p.Actions {
		if a.Status != StatusHeld {
			continue
		}
		i := slices.IndexFunc(out, func(h holdGroup) bool { return h.kind == a.Kind && h.reason == a.HoldReason })
		if i < 0 {
			out = append(out, holdGroup{kind: a.Kind, reason: a.HoldReason, approvable: a.approvable})
			i = len(out) - 1
		}
		out[i].names = append(out[i].names, a.Name)
	}
	return out
}

func failedOf(p Plan, k ActionKind) int {
	n := 0
	for _, a := range p.Actions {
		if a.Kind == k && a.Status == StatusFailed {
			n++
		}
	}
	return n
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
