package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// containerDetail is `status NAME -o json`.
type containerDetail struct {
	statusContainer
	// Spec is what the system was created with, env values hidden; nil
	// when the driver kept no record of it.
	Spec *spec.ContainerSpec `json:"spec,omitempty"`
}

// statusOf prints one compute system in detail.
func (g *globals) statusOf(cmd *cobra.Command, d driver.Driver, nameOrID string) error {
	sys, err := findSystem(cmd, d, nameOrID, g.owner)
	if err != nil {
		return err
	}
	detail := containerDetail{statusContainer: statusContainer{System: sys, Managed: sys.Owner == g.owner}}
	one := []statusContainer{detail.statusContainer}
	g.annotate(cmd.Context(), d, one)
	detail.statusContainer = one[0]
	if reader, ok := d.(driver.RequestReader); ok {
		req, err := reader.CreatedWith(cmd.Context(), sys.ID)
		switch {
		case err == nil:
			s := hideEnv(req.Spec)
			detail.Spec = &s
		case !errors.Is(err, driver.ErrNotFound):
			return err
		}
	}
	if g.data() {
		return g.writeData(detail)
	}
	return writeDetail(g, detail, time.Now())
}

// hideEnv returns s with every environment value replaced by
// spec.HiddenValue.
func hideEnv(s spec.ContainerSpec) spec.ContainerSpec {
	if len(s.Env) > 0 {
		env := make(map[string]string, len(s.Env))
		for k := range s.Env {
			env[k] = spec.HiddenValue
		}
		s.Env = env
	}
	return s
}

// writeDetail prints detail as text.
func writeDetail(g *globals, c containerDetail, now time.Time) error {
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "%-10s %s\n", k+":", v) }
	row("name", c.Name)
	row("id", c.ID)
	row("owner", c.Owner+yesNo(c.Managed, " (this agent's)", " (not this agent's: never touched)"))
	row("isolation", string(c.Isolation))
	state := c.stateText()
	if c.State == driver.StateStopped {
		state += fmt.Sprintf(", exit code %d", c.ExitCode)
	}
	row("state", state)
	if c.LastHealthFailure != "" {
		row("checked", "failed: "+c.LastHealthFailure)
	}
	row("image", c.Image)
	if c.SpecHash != "" {
		row("spec hash", c.SpecHash)
	}
	if !c.Created.IsZero() {
		created := fmt.Sprintf("%s (%s ago)", c.Created.UTC().Format(time.RFC3339), now.Sub(c.Created).Round(time.Second))
		if c.HostOS != (spec.OSVersion{}) {
			created += " on host " + c.HostOS.String()
		}
		row("created", created)
	}
	if c.Spec == nil {
		row("spec", "not kept by the driver (a system it did not create, or one from an older build)")
	} else {
		text, err := yaml.Marshal(c.Spec)
		if err != nil {
			return err
		}
		b.WriteString("spec (as created")
		if len(c.Spec.Env) > 0 {
			b.WriteString("; env values hidden")
		}
		b.WriteString("):\n")
		for _, line := range strings.SplitAfter(strings.TrimRight(string(text), "\n"), "\n") {
			b.WriteString("  " + line)
		}
		b.WriteString("\n")
	}
	_, err := fmt.Fprint(g.stdout, b.String())
	return err
}
