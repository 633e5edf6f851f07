package spec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrPathTemplate classes a path template that cannot be filled: an
// unknown placeholder, an unclosed brace, a label the host does not have,
// or a fact that is not one path element.
var ErrPathTemplate = errors.New("invalid path template")

// PathPlaceholders lists what ExpandPath fills in, for help texts.
const PathPlaceholders = "{hostname} (lowercase), {build} (e.g. 20348), {ltsc} (e.g. ltsc2022) and {label:KEY} (--host-label KEY=VALUE)"

// ExpandPath fills a path template with the facts of host h named by f, so
// that every host of a fleet runs the same command line:
// "hosts/{hostname}" → "hosts/web-01", "builds/{ltsc}" →
// "builds/ltsc2022", "sites/{label:site}" → "sites/paris". {hostname} is
// lowercased (Windows names hosts in capitals; git paths are
// case-sensitive). Each value must be one path element: no separator, not
// "." or "..". Errors wrap ErrPathTemplate and name the placeholder.
func ExpandPath(tmpl string, f HostFacts, h Host) (string, error) {
	var b strings.Builder
	rest := tmpl
	for {
		open := strings.IndexByte(rest, '{')
		if close := strings.IndexByte(rest, '}'); close >= 0 && (open < 0 || close < open) {
			return "", fmt.Errorf("%w %q: a '}' without its '{'", ErrPathTemplate, tmpl)
		}
		if open < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:open])
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("%w %q: a '{' without its '}'", ErrPathTemplate, tmpl)
		}
		name := rest[open+1 : open+end]
		v, err := placeholder(name, f, h)
		if err != nil {
			return "", fmt.Errorf("%w %q: {%s}: %s", ErrPathTemplate, tmpl, name, err.Error())
		}
		if v == "" || v == "." || v == ".." || strings.ContainsAny(v, `/\`) {
			return "", fmt.Errorf("%w %q: {%s} is %q, which is not one path element", ErrPathTemplate, tmpl, name, v)
		}
		b.WriteString(v)
		rest = rest[open+end+1:]
	}
}

// placeholder is the value of one placeholder.
func placeholder(name string, f HostFacts, h Host) (string, error) {
	switch {
	case name == "hostname":
		if f.Hostname == "" {
			return "", errors.New("the host name is not known")
		}
		return strings.ToLower(f.Hostname), nil
	case name == "build":
		return strconv.FormatUint(uint64(h.Build), 10), nil
	case name == "ltsc":
		if r, ok := releaseByBuild(h.Build); ok && strings.HasPrefix(r.name, "ltsc") {
			return r.name, nil
		}
		return "", fmt.Errorf("build %d is not an LTSC release (ltsc2016, ltsc2019, ltsc2022, ltsc2025); use {build}", h.Build)
	case strings.HasPrefix(name, "label:"):
		key := strings.TrimPrefix(name, "label:")
		v, ok := f.Labels[key]
		if !ok {
			return "", fmt.Errorf("the host has no label %q; give it --host-label %s=VALUE", key, key)
		}
		return v, nil
	}
	return "", fmt.Errorf("unknown placeholder; valid: %s", PathPlaceholders)
}
