package spec

import (
	"reflect"
	"slices"

	"go.yaml.in/yaml/v3"
)

// unsetByZero are the fields whose zero value means "not set, use the
// default" (or "no check"), with what to write instead. Written out as 0,
// ” or an empty list or mapping, such a field would silently read as
// unset: `retries: 0` as 3 retries, `tcp: 0` as no health check at all. So
// a zero written in one of them is refused, as the JSON Schema refuses it.
var unsetByZero = []struct {
	path fieldPath
	msg  string
	// covers is a field whose rule this refusal makes moot.
	covers fieldPath
}{
	{inHealth, "declares no check; write one of exec (a command), tcp (a port) or http ({path, port}), or remove healthcheck", nil},
	{inExec, `is empty; write the command to run inside the container, such as [cmd, /c, "exit 0"], or remove exec`, nil},
	{inHealth.dot("tcp"), "0 is no port; write the container port to connect to (1 to 65535), or remove tcp", nil},
	{inHTTPCheck, "is empty; write the path and port to GET, such as {path: /healthz, port: 80}, or remove http", nil},
	{inHealth.dot("interval"), "is empty; write a duration such as 5s, or remove it for the default (10s)", nil},
	{inHealth.dot("timeout"), "is empty; write a duration such as 2s, or remove it for the default (5s)", nil},
	{inHealth.dot("startPeriod"), "is empty; write a duration such as 20s (0s for none), or remove it for the default (30s)", nil},
	{inHealth.dot("retries"), "0 would read as the default (3); write 1 or more, or remove it", nil},
	{inUpdate.dot("strategy"), "is empty; write recreate or startFirst, or remove it for the default (recreate)", nil},
	{inUpdate.dot("progressDeadline"), "is empty; write a duration such as 2m, or remove it for the default (5m)", nil},
	{inRestartLimit.dot("maxRestarts"), "0 would read as no limit; write 1 or more (to never restart, write restartPolicy: never instead)", inRestartLimit.dot("window")},
	{inRestartLimit.dot("window"), "is empty; write a duration such as 10m", inRestartLimit.dot("maxRestarts")},
}

// conditionUnset is unsetByZero's rule for spec.dependsOn[i].condition.
const conditionUnset = "is empty; write started or healthy, or remove it for the default (started)"

// writtenZeros returns an issue for each field of unsetByZero that the
// document root writes (not null) and that decoded into c as its zero
// value.
func writtenZeros(root *yaml.Node, c *Container) []issue {
	var out []issue
	check := func(p fieldPath, msg string, covers fieldPath) {
		if n := valueAt(root, p); n != nil && !isNull(n) && isEmpty(fieldAt(c, p)) {
			out = append(out, issue{path: p, line: n.Line, msg: msg, covers: covers})
		}
	}
	for _, r := range unsetByZero {
		check(r.path, r.msg, r.covers)
	}
	for i := range c.Spec.DependsOn {
		check(inDependsOn.at(i).dot("condition"), conditionUnset, nil)
	}
	// A zero inside says more than the empty field around it
	// (healthcheck: {tcp: 0}).
	return slices.DeleteFunc(out, func(outer issue) bool {
		return slices.ContainsFunc(out, func(inner issue) bool {
			return len(inner.path) > len(outer.path) && slices.Equal(inner.path[:len(outer.path)], outer.path)
		})
	})
}

// isEmpty reports whether v is its type's zero value or an empty list.
func isEmpty(v reflect.Value) bool {
	if v.Kind() == reflect.Slice {
		return v.Len() == 0
	}
	return v.IsZero()
}

// fieldAt returns the value at path p of c, a path of struct fields and
// list indexes that exists in c.
func fieldAt(c *Container, p fieldPath) reflect.Value {
	v := reflect.ValueOf(c).Elem()
	for _, e := range p {
		if e.kind == elemIndex {
			v = v.Index(e.index)
			continue
		}
		v = v.FieldByIndex(structInfos[v.Type()].fields[e.name].index)
	}
	return v
}
