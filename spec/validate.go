package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Limits of the validation rules.
const (
	maxDNSLabel     = 63
	maxCPUCount     = 256
	minMemoryMB     = 64
	maxMemoryMB     = 1 << 20
	maxPort         = 65535
	maxCPUPercent   = 100
	namedPipePrefix = `\\.\pipe\`
	// maxCommandLine is the longest command line CreateProcess takes, in
	// characters, and one more than the longest environment variable.
	maxCommandLine = 32767
)

// The messages that say what a valid value looks like.
const (
	dnsLabelRule      = "must be a DNS label: lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit"
	containerPathRule = `must be an absolute Windows path such as C:\data`
	hostPathRule      = `must be an absolute Windows path (C:\data) or a UNC path (\\server\share)`
	namedPipeRule     = `must be a named pipe path \\.\pipe\NAME (NAME without '\')`
	guidRule          = "must be a GUID such as 4d36e972-e325-11ce-bfc1-08002be10318"
)

// Validate returns every problem of one defaulted document (see
// ApplyDefaults): each names the field path ("spec.ports[1].hostPort"),
// says what would be valid, and carries c.Origin's file and line and
// metadata.name. It never includes an environment variable's value. Nil
// when the document is valid.
func Validate(c *Container) []Problem {
	return c.problems(validate(c))
}

// issue is one problem found inside a document, before it is placed in a
// file.
type issue struct {
	path fieldPath
	// line is the 1-based line inside the document, 0 to look path up.
	line int
	msg  string
	// covers is a path whose validation issues this issue makes moot.
	covers fieldPath
}

// checker collects the issues of one document.
type checker struct {
	issues []issue
}

func (v *checker) add(p fieldPath, format string, args ...any) {
	v.issues = append(v.issues, issue{path: p, msg: fmt.Sprintf(format, args...)})
}

// validate applies every value rule to a defaulted document.
func validate(c *Container) []issue {
	var v checker
	v.exact(nil, "apiVersion", c.APIVersion, APIVersion)
	v.exact(nil, "kind", c.Kind, Kind)
	v.metadata(&c.Metadata)
	v.spec(&c.Spec)
	v.rollout(c.Metadata.Name, &c.Spec)
	return v.issues
}

// The paths the rules name, built once: a rule builds the path of the
// field it checks (in.dot(name)) only when the field is wrong.
var (
	inMetadata  = field("metadata")
	inSpec      = field("spec")
	inResources = field("spec", "resources")
	inNetwork   = field("spec", "network")
	inCommand   = field("spec", "command")
	inEnv       = field("spec", "env")
	inMounts    = field("spec", "mounts")
	inPipes     = field("spec", "namedPipes")
	inPorts     = field("spec", "ports")
	inDevices   = field("spec", "devices")
)

// exact checks field name of in, which has a single valid value.
func (v *checker) exact(in fieldPath, name, got, want string) {
	switch got {
	case want:
	case "":
		v.add(in.dot(name), "is required and must be %q", want)
	default:
		v.add(in.dot(name), "must be %q, not %q", want, got)
	}
}

// oneOf checks field name of in, whose value comes from a fixed list.
func (v *checker) oneOf(in fieldPath, name, got string, valid ...string) {
	if slices.Contains(valid, got) {
		return
	}
	p := in.dot(name)
	if i := slices.IndexFunc(valid, func(s string) bool { return strings.EqualFold(s, got) }); i >= 0 {
		v.add(p, "must be one of %s, not %q; did you mean %q?", strings.Join(valid, ", "), got, valid[i])
		return
	}
	v.add(p, "must be one of %s, not %q", strings.Join(valid, ", "), got)
}

// between checks the integer range of field name of in.
func (v *checker) between(in fieldPath, name string, got, lo, hi int, note string) {
	if got < lo || got > hi {
		v.add(in.dot(name), "must be between %d and %d%s, not %d", lo, hi, note, got)
	}
}

// matches checks the required value of field name of in against a rule;
// ok is the verdict on a non-empty s.
func (v *checker) matches(in fieldPath, name, s string, ok bool, rule string) {
	switch {
	case s == "":
		v.add(in.dot(name), "is required and %s", rule)
	case !ok:
		v.add(in.dot(name), "%q %s", s, rule)
	}
}

// dnsLabel checks field name of in, a required or optional DNS label.
func (v *checker) dnsLabel(in fieldPath, name, s string, required bool) {
	switch {
	case s == "" && required:
		v.add(in.dot(name), "is required and %s", dnsLabelRule)
	case s != "" && !isDNSLabel(s):
		v.add(in.dot(name), "%q %s", s, dnsLabelRule)
	}
}

func (v *checker) metadata(m *Metadata) {
	v.dnsLabel(inMetadata, "name", m.Name, true)
	if _, ok := m.Labels[""]; ok {
		v.add(field("metadata", "labels").key(""), "label keys must not be empty")
	}
}

func (v *checker) spec(s *ContainerSpec) {
	switch {
	case s.Image == "":
		v.add(field("spec", "image"), "is required: an image reference such as mcr.microsoft.com/windows/servercore:ltsc2022")
	case !isImageReference(s.Image):
		v.add(field("spec", "image"), "%q is not a valid image reference: want [registry/]repository[:tag][@sha256:digest] with a lowercase repository", s.Image)
	}
	v.oneOf(inSpec, "isolation", string(s.Isolation), string(IsolationProcess), string(IsolationHyperV), string(IsolationDefault), string(IsolationAuto))
	if s.OSVersion != "" {
		if _, err := ParseOSVersion(s.OSVersion); err != nil {
			v.add(field("spec", "osVersion"), "%s", err.Error())
		}
	}
	v.commandLine(inCommand, "command", s.Command)
	if s.WorkingDir != "" && !isDrivePath(s.WorkingDir) {
		v.add(field("spec", "workingDir"), "%q %s", s.WorkingDir, containerPathRule)
	}
	v.env(s.Env)
	v.dnsLabel(inSpec, "hostname", s.Hostname, false)
	v.oneOf(inSpec, "restartPolicy", string(s.RestartPolicy), string(RestartAlways), string(RestartOnFailure), string(RestartNever))
	v.resources(s.Resources)
	v.mounts(s.Mounts)
	v.namedPipes(s.NamedPipes)
	v.ports(s.Ports, s.Network.Mode)
	v.network(s.Network)
	v.devices(s.Devices)
	v.placement(s.Placement)
}

// commandLine checks the entries of a command at path in, named what in
// messages: none empty, and a command line Windows takes.
func (v *checker) commandLine(in fieldPath, what string, args []string) {
	line := 0
	for i, arg := range args {
		if arg == "" {
			v.add(in.at(i), "%s entries must not be empty", what)
		}
		line += len(arg) + 3 // a separator and the quotes it may need
	}
	if line > maxCommandLine {
		v.add(in, "makes a command line of about %d characters; Windows limits a command line to %d", line, maxCommandLine)
	}
}

// env checks variable names in a stable order. Values are never looked at
// or quoted.
func (v *checker) env(env map[string]string) {
	clean := true
	for k, val := range env {
		if envProblem(k, val) != "" {
			clean = false
			break
		}
	}
	if clean {
		// The names are sorted only to report their problems in order.
		return
	}
	for _, k := range sortedKeys(env) {
		if msg := envProblem(k, env[k]); msg != "" {
			v.add(inEnv.key(k), "%s", msg)
		}
	}
}

// envProblem says what is wrong with variable name k of value val, or "".
func envProblem(k, val string) string {
	switch {
	case k == "":
		return "variable names must not be empty"
	case strings.ContainsRune(k, '='):
		return "variable names must not contain '='"
	case len(k)+len(val) >= maxCommandLine:
		return fmt.Sprintf("is over %d characters with its value; Windows limits a variable to %d", maxCommandLine-1, maxCommandLine-1)
	}
	return ""
}

func (v *checker) resources(r Resources) {
	p := inResources
	v.between(p, "cpuCount", r.CPUCount, 0, maxCPUCount, " (0: no limit)")
	v.between(p, "cpuMaximumPercent", r.CPUMaximumPercent, 0, maxCPUPercent, " (0: no limit)")
	if r.MemoryMB != 0 && (r.MemoryMB < minMemoryMB || r.MemoryMB > maxMemoryMB) {
		v.add(p.dot("memoryMB"), "must be 0 (no limit) or between %d and %d, not %d", minMemoryMB, maxMemoryMB, r.MemoryMB)
	}
}

func (v *checker) mounts(ms []Mount) {
	seen := make(map[string]int, len(ms))
	for i, m := range ms {
		p := inMounts.at(i)
		v.matches(p, "hostPath", m.HostPath, isDrivePath(m.HostPath) || isUNCPath(m.HostPath), hostPathRule)
		if !isDrivePath(m.ContainerPath) {
			v.matches(p, "containerPath", m.ContainerPath, false, containerPathRule)
			continue
		}
		key := windowsPathKey(m.ContainerPath)
		if first, dup := seen[key]; dup {
			v.add(p.dot("containerPath"), "%q is already mounted by spec.mounts[%d]; each containerPath may be mounted once", m.ContainerPath, first)
			continue
		}
		seen[key] = i
	}
}

func (v *checker) namedPipes(ps []NamedPipe) {
	for i, np := range ps {
		p := inPipes.at(i)
		v.matches(p, "hostPipe", np.HostPipe, isNamedPipe(np.HostPipe), namedPipeRule)
		v.matches(p, "containerPipe", np.ContainerPipe, isNamedPipe(np.ContainerPipe), namedPipeRule)
	}
}

func (v *checker) ports(ps []Port, mode string) {
	type hostPort struct {
		port     int
		protocol string
	}
	seen := make(map[hostPort]int, len(ps))
	for i, pt := range ps {
		p := inPorts.at(i)
		v.between(p, "hostPort", pt.HostPort, 1, maxPort, "")
		v.between(p, "containerPort", pt.ContainerPort, 1, maxPort, "")
		v.oneOf(p, "protocol", pt.Protocol, "tcp", "udp")
		key := hostPort{pt.HostPort, pt.Protocol}
		if first, dup := seen[key]; dup {
			v.add(p.dot("hostPort"), "host port %d/%s is already published by spec.ports[%d]", pt.HostPort, pt.Protocol, first)
			continue
		}
		seen[key] = i
	}
	if len(ps) > 0 && mode == "none" {
		v.add(inNetwork.dot("mode"), `"none" has no network to publish spec.ports on; use nat, transparent or l2bridge, or remove the ports`)
	}
}

func (v *checker) network(n Network) {
	p := inNetwork
	v.oneOf(p, "mode", n.Mode, "nat", "transparent", "l2bridge", "none")
	if n.Namespace != "" && !isGUID(n.Namespace) {
		v.add(p.dot("namespace"), "%q %s", n.Namespace, guidRule)
	}
}

func (v *checker) devices(ds []Device) {
	for i, d := range ds {
		p := inDevices.at(i)
		v.oneOf(p, "idType", d.IDType, "class", "vpci-location-path")
		if d.IDType == "class" {
			v.matches(p, "id", d.ID, isGUID(d.ID), guidRule+" (a device interface class)")
		} else {
			v.matches(p, "id", d.ID, true, "must be the device's location path")
		}
	}
}

// problems places issues in c's file: an issue without a line is at the
// document's start.
func (c *Container) problems(issues []issue) []Problem {
	if len(issues) == 0 {
		return nil
	}
	out := make([]Problem, len(issues))
	for i, is := range issues {
		line := is.line
		if line == 0 {
			line = c.Origin.Line
		}
		out[i] = Problem{File: c.Origin.File, Line: line, Name: c.Metadata.Name, Field: is.path.String(), Message: is.msg}
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
