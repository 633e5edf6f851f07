package spec

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Placement says which hosts of a fleet a container is meant for, so that
// one folder can serve many hosts. Every criterion given must admit the
// host; within a list, any entry does. An empty placement admits every
// host. It is outside the spec hash: it says where a container runs, not
// what it is.
type Placement struct {
	// Hostnames are globs (path.Match syntax: *, ?, [a-z]) matched against
	// the host's name, case-insensitively (Windows host names are).
	Hostnames []string `json:"hostnames,omitempty"`
	// Labels are matchers of the host's labels (the agent's --host-label):
	// each key's value is a glob the host's value must match. A key the
	// host has no label for admits nothing and is a problem of the set,
	// which holds removals: a mistyped key never removes a container.
	Labels map[string]string `json:"labels,omitempty"`
	// OSBuilds are host OS versions as ParseOSVersion reads them
	// (ltsc2022, 20348, 10.0.20348); a revision given must match too.
	OSBuilds []string `json:"osBuilds,omitempty"`
}

// Defined reports whether p says anything.
func (p Placement) Defined() bool {
	return len(p.Hostnames) > 0 || len(p.Labels) > 0 || len(p.OSBuilds) > 0
}

// HostFacts are what placement and path templates know of a host besides
// its OS: its name and the labels the operator gave it.
type HostFacts struct {
	Hostname string            `json:"hostname"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// Admits reports whether p admits host h named by f; when it does not,
// why says which criterion refused it. missing are the label keys p
// matches on that f has no label for (they refuse the host too).
func (p Placement) Admits(f HostFacts, h Host) (ok bool, why string, missing []string) {
	if len(p.Hostnames) > 0 && !slices.ContainsFunc(p.Hostnames, func(g string) bool { return globMatch(g, f.Hostname) }) {
		return false, fmt.Sprintf("host name %q matches none of placement.hostnames %s", f.Hostname, quoteList(p.Hostnames)), nil
	}
	for _, k := range sortedKeys(p.Labels) {
		v, has := f.Labels[k]
		if !has {
			missing = append(missing, k)
			continue
		}
		if !globMatch(p.Labels[k], v) {
			return false, fmt.Sprintf("host label %s=%q does not match placement.labels[%q] %q", k, v, k, p.Labels[k]), nil
		}
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("the host has no label %s (placement.labels)", strings.Join(missing, ", ")), missing
	}
	if len(p.OSBuilds) > 0 && !slices.ContainsFunc(p.OSBuilds, func(b string) bool { return buildMatches(b, h) }) {
		return false, fmt.Sprintf("host OS %s matches none of placement.osBuilds %s", OSVersion{Build: h.Build, Revision: h.Revision}, quoteList(p.OSBuilds)), nil
	}
	return true, "", nil
}

// globMatch matches a glob case-insensitively; a malformed glob (which
// validation refuses) matches nothing.
func globMatch(glob, s string) bool {
	ok, err := path.Match(strings.ToLower(glob), strings.ToLower(s))
	return err == nil && ok
}

// buildMatches reports whether host h runs OS version b.
func buildMatches(b string, h Host) bool {
	v, err := ParseOSVersion(b)
	return err == nil && v.Build == h.Build && (v.Revision == 0 || v.Revision == h.Revision)
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// Elsewhere is a declared container whose placement does not admit a host.
type Elsewhere struct {
	Container *Container
	// Why says which criterion refused the host.
	Why string
}

// PlaceOn splits containers into those whose placement admits host h named
// by f and those meant for other hosts. A placement that matches on a label
// the host does not have is a problem (a warning, which holds removals):
// it may be a typo, and must never remove a container here.
func PlaceOn(containers []Container, f HostFacts, h Host) (here []*Container, elsewhere []Elsewhere, problems []Problem) {
	here = make([]*Container, 0, len(containers))
	for i := range containers {
		c := &containers[i]
		if !c.Spec.Placement.Defined() {
			here = append(here, c)
			continue
		}
		ok, why, missing := c.Spec.Placement.Admits(f, h)
		if ok {
			here = append(here, c)
			continue
		}
		elsewhere = append(elsewhere, Elsewhere{Container: c, Why: why})
		if len(missing) > 0 {
			problems = append(problems, Problem{File: c.Origin.File, Line: c.Origin.Line, Name: c.Metadata.Name, Field: "spec.placement.labels", Warning: true,
				Message: fmt.Sprintf("this host has no label %s, so the placement cannot be decided here and every removal is held; give the agent --host-label %s=VALUE (any value, if the container is not meant for it)",
					strings.Join(missing, ", "), missing[0])})
		}
	}
	return here, elsewhere, problems
}

// placement validates spec.placement: well-formed globs and OS versions,
// label keys not empty.
func (v *checker) placement(p Placement) {
	in := field("spec", "placement")
	for i, g := range p.Hostnames {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			v.add(in.dot("hostnames").at(i), "%q is not a glob: want a host name with *, ? or [a-z] wildcards", g)
		}
	}
	for _, k := range sortedKeys(p.Labels) {
		if k == "" {
			v.add(in.dot("labels").key(k), "label keys must not be empty")
			continue
		}
		if _, err := path.Match(p.Labels[k], ""); err != nil {
			v.add(in.dot("labels").key(k), "%q is not a glob: want a value with *, ? or [a-z] wildcards", p.Labels[k])
		}
	}
	for i, b := range p.OSBuilds {
		if _, err := ParseOSVersion(b); err != nil {
			v.add(in.dot("osBuilds").at(i), "%s", err.Error())
		}
	}
}
