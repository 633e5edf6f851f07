package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/spec"
)

// factsFlags are --hostname and --host-label: what spec.placement and
// path templates know of this host besides its OS.
type factsFlags struct {
	hostname string
	labels   []string
}

func (f *factsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.hostname, "hostname", "", "this host's name for placement.hostnames and {hostname} in paths (default: the machine's name)")
	fs.StringArrayVar(&f.labels, "host-label", nil, "KEY=VALUE: a label of this host for placement.labels and {label:KEY} in paths (repeatable)")
}

// facts reads the flags: the host name defaults to the machine's.
func (f *factsFlags) facts() (spec.HostFacts, error) {
	facts := spec.HostFacts{Hostname: f.hostname}
	if facts.Hostname == "" {
		name, err := os.Hostname()
		if err != nil {
			return spec.HostFacts{}, fmt.Errorf("this machine's name: %w (give --hostname)", err)
		}
		facts.Hostname = name
	}
	for _, kv := range f.labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return spec.HostFacts{}, fmt.Errorf("--host-label %q: want KEY=VALUE", kv)
		}
		if prev, dup := facts.Labels[k]; dup && prev != v {
			return spec.HostFacts{}, fmt.Errorf("--host-label %q: %s is already %q", kv, k, prev)
		}
		if facts.Labels == nil {
			facts.Labels = map[string]string{}
		}
		facts.Labels[k] = v
	}
	return facts, nil
}

// isTemplate reports whether a path holds a placeholder.
func isTemplate(path string) bool { return strings.ContainsAny(path, "{}") }

// expandPaths fills the facts of this host into path templates (see
// spec.ExpandPath); host is asked only when a path is one.
func (g *globals) expandPaths(paths []string, facts spec.HostFacts, host func() (spec.Host, error)) ([]string, error) {
	if !slices.ContainsFunc(paths, isTemplate) {
		return paths, nil
	}
	h, err := host()
	if err != nil {
		return nil, err
	}
	out, err := expandAll(paths, facts, h)
	if err != nil {
		return nil, err
	}
	for i, p := range paths {
		if out[i] != p {
			g.log.Info("path template filled", zap.String("template", p), zap.String("path", out[i]))
		}
	}
	return out, nil
}

// expandAll fills the facts of host h into every path template.
func expandAll(paths []string, facts spec.HostFacts, h spec.Host) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		var err error
		if out[i], err = spec.ExpandPath(p, facts, h); err != nil {
			return nil, err
		}
	}
	return out, nil
}
