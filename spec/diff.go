package spec

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// HiddenValue stands for an environment value wherever a spec is shown:
// values may be secrets, and plans and status end up in logs, tickets and
// CI summaries.
const HiddenValue = "(hidden)"

// Change is one field that differs between two specs: Field is its path
// below spec ("resources.memoryMB", "env.ORDERS_DB", "ports[0].hostPort"),
// From and To its values as JSON would print them, "" where the field is
// absent. Environment values are HiddenValue.
type Change struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// String renders the change for a plan: "resources.memoryMB 1536 → 2048",
// "env.ORDERS_DB changed (value hidden)", "env.DEBUG added",
// "workingDir added: C:\app", "mounts[1] removed (was {…})".
func (c Change) String() string {
	hidden := c.From == HiddenValue || c.To == HiddenValue
	switch {
	case c.From == "" && hidden:
		return c.Field + " added"
	case c.From == "":
		return c.Field + " added: " + c.To
	case c.To == "" && hidden:
		return c.Field + " removed"
	case c.To == "":
		return c.Field + " removed (was " + c.From + ")"
	case hidden:
		return c.Field + " changed (value hidden)"
	}
	return fmt.Sprintf("%s %s → %s", c.Field, c.From, c.To)
}

// Diff lists the fields in which to differs from from, sorted by path.
// Isolation is left out (a plan says which isolation each side resolves
// to); a list is compared entry by entry (an entry only one side has is
// one change), except command, which is one command line.
func Diff(from, to ContainerSpec) []Change {
	a, aEntries := flatten(from)
	b, bEntries := flatten(to)
	var out []Change
	whole := make(map[string]bool) // entries only one side has
	for _, p := range slices.Sorted(maps.Keys(union(aEntries, bEntries))) {
		if (aEntries[p] == "") != (bEntries[p] == "") {
			whole[p] = true
			out = append(out, Change{Field: p, From: aEntries[p], To: bEntries[p]})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(union(a, b))) {
		if a[k] == b[k] || whole[entryOf(k)] {
			continue
		}
		c := Change{Field: k, From: shown(a[k]), To: shown(b[k])}
		if strings.HasPrefix(k, "env.") {
			c.From, c.To = hide(a[k]), hide(b[k])
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(x, y Change) int { return strings.Compare(x.Field, y.Field) })
	return out
}

// compact renders a decoded JSON value as a plan shows a whole list entry:
// "{containerPath: C:\logs, hostPath: D:\logs, readOnly: true}", keys
// sorted, strings as written.
func compact(v any) string {
	switch x := v.(type) {
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, k+": "+compact(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = compact(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case string:
		return x
	default:
		text, _ := json.Marshal(x)
		return string(text)
	}
}

// entryOf is the list entry a leaf path is in ("ports[0]" of
// "ports[0].hostPort"), or "".
func entryOf(path string) string {
	if i := strings.Index(path, "]"); i >= 0 {
		return path[:i+1]
	}
	return ""
}

// shown is a flattened value as a plan shows it: a string without its
// quotes unless it is empty, anything else as JSON; "" when absent.
func shown(v string) string {
	if s, err := strconv.Unquote(v); err == nil && s != "" {
		return s
	}
	return v
}

func hide(v string) string {
	if v == "" {
		return ""
	}
	return HiddenValue
}

func union[V any](a, b map[string]V) map[string]bool {
	u := make(map[string]bool, len(a)+len(b))
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

// flatten maps each leaf of s to its value as JSON text (a string
// quoted, so that an empty one is not taken for an absent one), and each
// entry of a list (but command) to its JSON text.
func flatten(s ContainerSpec) (leaves, entries map[string]string) {
	s.Isolation = ""
	raw, err := json.Marshal(s)
	if err != nil { // a ContainerSpec always marshals
		panic(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		panic(err)
	}
	out, entries := make(map[string]string), make(map[string]string)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if path == "" {
					walk(k, e)
				} else {
					walk(path+"."+k, e)
				}
			}
		case []any:
			if path == "command" {
				text, _ := json.Marshal(x)
				out[path] = string(text)
				return
			}
			for i, e := range x {
				p := path + "[" + strconv.Itoa(i) + "]"
				entries[p] = compact(e)
				walk(p, e)
			}
		default:
			text, _ := json.Marshal(x)
			out[path] = string(text)
		}
	}
	walk("", v)
	return out, entries
}
