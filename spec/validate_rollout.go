package spec

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The rules of the fields that say how a container is checked, replaced and
// restarted (healthcheck, update, restartLimit, dependsOn): each refusal
// names the field and the fix. What needs the rest of the desired set (a
// dependency's existence, its health check, cycles) is checkDependencies'.

// durationPattern is what a manifest duration looks like: one or more
// decimal numbers, each with a unit, as Go's time.ParseDuration reads them
// ("500ms", "5s", "1m30s"), without a sign. The JSON Schema uses it too.
const durationPattern = `^([0-9]+(\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+$`

// durationRule says what a valid duration looks like.
const durationRule = "write a number and a unit (ms, s, m or h), such as 500ms, 5s, 2m or 1m30s"

var (
	durationSyntax = regexp.MustCompile(durationPattern)
	// bareNumber is a duration written without its unit: "5", "1.5".
	bareNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
)

var (
	inHealth       = field("spec", "healthcheck")
	inHTTPCheck    = field("spec", "healthcheck", "http")
	inExec         = field("spec", "healthcheck", "exec")
	inUpdate       = field("spec", "update")
	inRestartLimit = field("spec", "restartLimit")
	inDependsOn    = field("spec", "dependsOn")
)

// duration checks field name of in, a duration that is unset ("") or
// parses; zero is refused unless zeroOK.
func (v *checker) duration(in fieldPath, name string, d Duration, zeroOK bool) {
	s := string(d)
	if s == "" {
		return
	}
	switch {
	case bareNumber.MatchString(s):
		v.add(in.dot(name), "%q has no unit; write %ss (or another unit: ms, m, h)", s, s)
		return
	case strings.HasPrefix(s, "-") && durationSyntax.MatchString(s[1:]):
		v.add(in.dot(name), "%q is negative; a duration must be more than 0", s)
		return
	case !durationSyntax.MatchString(s):
		v.add(in.dot(name), "%q is not a duration: %s", s, durationRule)
		return
	}
	got, err := time.ParseDuration(s)
	switch {
	case err != nil:
		v.add(in.dot(name), "%q is too long (over %dh); write a shorter duration", s, math.MaxInt64/int64(time.Hour))
	case got == 0 && !zeroOK:
		v.add(in.dot(name), "%q is no time at all; a duration here must be more than 0, such as 5s", s)
	}
}

// healthcheck checks a health check: exactly one kind, and sound timing.
func (v *checker) healthcheck(h *Healthcheck) {
	var kinds []string
	if len(h.Exec) > 0 {
		kinds = append(kinds, "exec")
	}
	if h.TCP != 0 {
		kinds = append(kinds, "tcp")
	}
	if h.HTTP != (HTTPCheck{}) {
		kinds = append(kinds, "http")
	}
	for _, k := range kinds[min(1, len(kinds)):] {
		v.add(inHealth.dot(k), "%s is already the check; a healthcheck is exactly one of exec, tcp or http: keep one", kinds[0])
	}
	if len(kinds) == 0 {
		if timing := h.timingFields(); len(timing) > 0 {
			v.add(inHealth, "sets %s but no check; add one of exec (a command), tcp (a port) or http ({path, port}), or remove healthcheck", strings.Join(timing, ", "))
		}
	}
	v.commandLine(inExec, "exec", h.Exec)
	if h.TCP != 0 {
		v.between(inHealth, "tcp", h.TCP, 1, maxPort, " (the container port to connect to)")
	}
	if h.HTTP != (HTTPCheck{}) {
		switch {
		case h.HTTP.Path == "":
			v.add(inHTTPCheck.dot("path"), "is required: the path to GET, such as /healthz")
		case !strings.HasPrefix(h.HTTP.Path, "/"):
			v.add(inHTTPCheck.dot("path"), "%q must start with '/', such as /%s", h.HTTP.Path, h.HTTP.Path)
		}
		v.between(inHTTPCheck, "port", h.HTTP.Port, 1, maxPort, " (the container port to GET from)")
	}
	v.duration(inHealth, "interval", h.Interval, false)
	v.duration(inHealth, "timeout", h.Timeout, false)
	v.duration(inHealth, "startPeriod", h.StartPeriod, true)
	if h.Retries < 0 {
		v.add(inHealth.dot("retries"), "must be 1 or more (failed checks in a row that make the container unhealthy), not %d", h.Retries)
	}
}

// timingFields names the timing fields h sets.
func (h *Healthcheck) timingFields() []string {
	var set []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"interval", h.Interval != ""},
		{"timeout", h.Timeout != ""},
		{"retries", h.Retries != 0},
		{"startPeriod", h.StartPeriod != ""},
	} {
		if f.set {
			set = append(set, f.name)
		}
	}
	return set
}

// update checks how a change is rolled out.
func (v *checker) update(u *Update) {
	if u.Strategy != "" {
		v.oneOf(inUpdate, "strategy", string(u.Strategy), string(UpdateRecreate), string(UpdateStartFirst))
	}
	v.duration(inUpdate, "progressDeadline", u.ProgressDeadline, false)
}

// restartLimit checks the flap limit against the restart policy.
func (v *checker) restartLimit(r RestartLimit, policy RestartPolicy) {
	switch {
	case r.MaxRestarts < 0:
		v.add(inRestartLimit.dot("maxRestarts"), "must be 1 or more (restarts allowed within window), not %d", r.MaxRestarts)
	case r.MaxRestarts > 0 && r.Window == "":
		v.add(inRestartLimit.dot("maxRestarts"), "needs a window: add the time in which at most %d restarts are allowed, such as window: 10m", r.MaxRestarts)
	case r.MaxRestarts == 0 && r.Window != "":
		v.add(inRestartLimit.dot("window"), "needs maxRestarts: add how many restarts are allowed within %s, such as maxRestarts: 5", r.Window)
	}
	v.duration(inRestartLimit, "window", r.Window, false)
	if r != (RestartLimit{}) && policy == RestartNever {
		v.add(inRestartLimit, "would never apply: restartPolicy is never, so the agent never restarts this container; remove restartLimit, or set restartPolicy to always or on-failure")
	}
}

// dependsOn checks each dependency on its own: what it names and waits for.
// Whether the names exist in the desired set is checkDependencies'.
func (v *checker) dependsOn(self string, deps []Dependency) {
	for i, d := range deps {
		p := inDependsOn.at(i)
		switch {
		case d.Name == "":
			v.add(p.dot("name"), "is required: the name of a container of the same desired set")
		case !isDNSLabel(d.Name):
			v.add(p.dot("name"), "%q is not a container name: a name %s", d.Name, dnsLabelRule)
		case d.Name == self:
			v.add(p.dot("name"), "%s cannot depend on itself; remove this entry", self)
		default:
			if first := slices.IndexFunc(deps[:i], func(o Dependency) bool { return o.Name == d.Name }); first >= 0 {
				v.add(p.dot("name"), "%s is already listed at spec.dependsOn[%d]; list each container once", d.Name, first)
			}
		}
		if d.Condition != "" {
			v.oneOf(p, "condition", string(d.Condition), string(ConditionStarted), string(ConditionHealthy))
		}
	}
}

// rollout checks the fields of s that say how the container is checked,
// replaced and restarted.
func (v *checker) rollout(name string, s *ContainerSpec) {
	v.healthcheck(&s.Healthcheck)
	v.update(&s.Update)
	v.restartLimit(s.RestartLimit, s.RestartPolicy)
	v.dependsOn(name, s.DependsOn)
}
