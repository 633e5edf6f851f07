package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
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
	v.exact(field("apiVersion"), c.APIVersion, APIVersion)
	v.exact(field("kind"), c.Kind, Kind)
	v.metadata(&c.Metadata)
	v.spec(&c.Spec)
	return v.issues
}

// exact checks a field that has a single valid value.
func (v *checker) exact(p fieldPath, got, want string) {
	switch got {
	case want:
	case "":
		v.add(p, "is required and must be %q", want)
	default:
		v.add(p, "must be %q, not %q", want, got)
	}
}

// oneOf checks a field whose value comes from a fixed list.
func (v *checker) oneOf(p fieldPath, got string, valid ...string) {
	if slices.Contains(valid, got) {
		return
	}
	if i := slices.IndexFunc(valid, func(s string) bool { return strings.EqualFold(s, got) }); i >= 0 {
		v.add(p, "must be one of %s, not %q; did you mean %q?", strings.Join(valid, ", "), got, valid[i])
		return
	}
	v.add(p, "must be one of %s, not %q", strings.Join(valid, ", "), got)
}

// between checks an integer range.
func (v *checker) between(p fieldPath, got, lo, hi int, note string) {
	if got < lo || got > hi {
		v.add(p, "must be between %d and %d%s, not %d", lo, hi, note, got)
	}
}

// matches checks a required value against a rule; ok is the verdict on a
// non-empty s.
func (v *checker) matches(p fieldPath, s string, ok bool, rule string) {
	switch {
	case s == "":
		v.add(p, "is required and %s", rule)
	case !ok:
		v.add(p, "%q %s", s, rule)
	}
}

// dnsLabel checks a required or optional DNS label.
func (v *checker) dnsLabel(p fieldPath, s string, required bool) {
	switch {
	case s == "" && required:
		v.add(p, "is required and %s", dnsLabelRule)
	case s != "" && !isDNSLabel(s):
		v.add(p, "%q %s", s, dnsLabelRule)
	}
}

func (v *checker) metadata(m *Metadata) {
	v.dnsLabel(field("metadata", "name"), m.Name, true)
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
	v.oneOf(field("spec", "isolation"), string(s.Isolation), string(IsolationProcess), string(IsolationHyperV), string(IsolationDefault))
	if s.OSVersion != "" {
		if _, err := ParseOSVersion(s.OSVersion); err != nil {
			v.add(field("spec", "osVersion"), "%s", err.Error())
		}
	}
	line := 0
	for i, arg := range s.Command {
		if arg == "" {
			v.add(field("spec", "command").at(i), "command entries must not be empty")
		}
		line += len(arg) + 3 // a separator and the quotes it may need
	}
	if line > maxCommandLine {
		v.add(field("spec", "command"), "makes a command line of about %d characters; Windows limits a command line to %d", line, maxCommandLine)
	}
	if s.WorkingDir != "" && !isDrivePath(s.WorkingDir) {
		v.add(field("spec", "workingDir"), "%q %s", s.WorkingDir, containerPathRule)
	}
	v.env(s.Env)
	v.dnsLabel(field("spec", "hostname"), s.Hostname, false)
	v.oneOf(field("spec", "restartPolicy"), string(s.RestartPolicy), string(RestartAlways), string(RestartOnFailure), string(RestartNever))
	v.resources(s.Resources)
	v.mounts(s.Mounts)
	v.namedPipes(s.NamedPipes)
	v.ports(s.Ports, s.Network.Mode)
	v.network(s.Network)
	v.devices(s.Devices)
}

// env checks variable names in a stable order. Values are never looked at
// or quoted.
func (v *checker) env(env map[string]string) {
	for _, k := range sortedKeys(env) {
		p := field("spec", "env").key(k)
		switch {
		case k == "":
			v.add(p, "variable names must not be empty")
		case strings.ContainsRune(k, '='):
			v.add(p, "variable names must not contain '='")
		case len(k)+len(env[k]) >= maxCommandLine:
			v.add(p, "is over %d characters with its value; Windows limits a variable to %d", maxCommandLine-1, maxCommandLine-1)
		}
	}
}

func (v *checker) resources(r Resources) {
	p := field("spec", "resources")
	v.between(p.dot("cpuCount"), r.CPUCount, 0, maxCPUCount, " (0: no limit)")
	v.between(p.dot("cpuMaximumPercent"), r.CPUMaximumPercent, 0, maxCPUPercent, " (0: no limit)")
	if r.MemoryMB != 0 && (r.MemoryMB < minMemoryMB || r.MemoryMB > maxMemoryMB) {
		v.add(p.dot("memoryMB"), "must be 0 (no limit) or between %d and %d, not %d", minMemoryMB, maxMemoryMB, r.MemoryMB)
	}
}

func (v *checker) mounts(ms []Mount) {
	seen := make(map[string]int, len(ms))
	for i, m := range ms {
		p := field("spec", "mounts").at(i)
		v.matches(p.dot("hostPath"), m.HostPath, isDrivePath(m.HostPath) || isUNCPath(m.HostPath), hostPathRule)
		if !isDrivePath(m.ContainerPath) {
			v.matches(p.dot("containerPath"), m.ContainerPath, false, containerPathRule)
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
		p := field("spec", "namedPipes").at(i)
		v.matches(p.dot("hostPipe"), np.HostPipe, isNamedPipe(np.HostPipe), namedPipeRule)
		v.matches(p.dot("containerPipe"), np.ContainerPipe, isNamedPipe(np.ContainerPipe), namedPipeRule)
	}
}

func (v *checker) ports(ps []Port, mode string) {
	type hostPort struct {
		port     int
		protocol string
	}
	seen := make(map[hostPort]int, len(ps))
	for i, pt := range ps {
		p := field("spec", "ports").at(i)
		v.between(p.dot("hostPort"), pt.HostPort, 1, maxPort, "")
		v.between(p.dot("containerPort"), pt.ContainerPort, 1, maxPort, "")
		v.oneOf(p.dot("protocol"), pt.Protocol, "tcp", "udp")
		key := hostPort{pt.HostPort, pt.Protocol}
		if first, dup := seen[key]; dup {
			v.add(p.dot("hostPort"), "host port %d/%s is already published by spec.ports[%d]", pt.HostPort, pt.Protocol, first)
			continue
		}
		seen[key] = i
	}
	if len(ps) > 0 && mode == "none" {
		v.add(field("spec", "network", "mode"), `"none" has no network to publish spec.ports on; use nat, transparent or l2bridge, or remove the ports`)
	}
}

func (v *checker) network(n Network) {
	p := field("spec", "network")
	v.oneOf(p.dot("mode"), n.Mode, "nat", "transparent", "l2bridge", "none")
	if n.Namespace != "" && !isGUID(n.Namespace) {
		v.add(p.dot("namespace"), "%q %s", n.Namespace, guidRule)
	}
}

func (v *checker) devices(ds []Device) {
	for i, d := range ds {
		p := field("spec", "devices").at(i)
		v.oneOf(p.dot("idType"), d.IDType, "class", "vpci-location-path")
		if d.IDType == "class" {
			v.matches(p.dot("id"), d.ID, isGUID(d.ID), guidRule+" (a device interface class)")
		} else {
			v.matches(p.dot("id"), d.ID, true, "must be the device's location path")
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

// isDNSLabel reports whether s is an RFC 1123 label in lowercase.
func isDNSLabel(s string) bool {
	if s == "" || len(s) > maxDNSLabel || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// isGUID accepts 8-4-4-4-12 hex digits, optionally in braces.
func isGUID(s string) bool {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// isImageReference reports whether go-containerregistry parses s as an
// image reference (tag or digest).
func isImageReference(s string) bool {
	_, err := name.ParseReference(s)
	return err == nil
}

// isDrivePath accepts an absolute Windows path on a drive: a letter, ':',
// a separator ('\' or '/'), and no character Windows forbids in names.
func isDrivePath(s string) bool {
	if len(s) < 3 || s[1] != ':' || !isSeparator(s[2]) {
		return false
	}
	if c := s[0] | 0x20; c < 'a' || c > 'z' {
		return false
	}
	return validPathChars(s[3:])
}

// isUNCPath accepts \\server\share[\path] (either separator), not the
// device namespaces \\.\ and \\?\.
func isUNCPath(s string) bool {
	if len(s) < 5 || !isSeparator(s[0]) || !isSeparator(s[1]) {
		return false
	}
	server, rest, ok := cutSeparator(s[2:])
	if !ok || server == "" || server == "." || server == "?" {
		return false
	}
	share, _, _ := cutSeparator(rest)
	return share != "" && validPathChars(s[2:])
}

// isNamedPipe accepts \\.\pipe\NAME, the prefix in any case.
func isNamedPipe(s string) bool {
	if len(s) <= len(namedPipePrefix) || !strings.EqualFold(s[:len(namedPipePrefix)], namedPipePrefix) {
		return false
	}
	pipe := s[len(namedPipePrefix):]
	return !strings.ContainsRune(pipe, '\\') && validPathChars(pipe)
}

func isSeparator(c byte) bool { return c == '\\' || c == '/' }

func cutSeparator(s string) (before, after string, found bool) {
	if i := strings.IndexAny(s, `\/`); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// validPathChars rejects control characters and the characters Windows
// forbids in file names (<>:"|?*).
func validPathChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || strings.IndexByte(`<>:"|?*`, c) >= 0 {
			return false
		}
	}
	return true
}

// windowsPathKey folds what Windows treats as the same path: case,
// separators and a trailing separator.
func windowsPathKey(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "/", `\`))
	if len(s) > 3 {
		s = strings.TrimRight(s, `\`)
	}
	return s
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

// fieldPath is where a value sits in a document, rendered as
// spec.ports[1].hostPort or spec.env["NAME"].
type fieldPath []pathElem

type pathElem struct {
	// name is a field name or, for a key element, a map key.
	name  string
	index int
	kind  elemKind
}

type elemKind uint8

const (
	elemField elemKind = iota
	elemIndex
	elemKey
)

// field builds a path of struct fields.
func field(names ...string) fieldPath {
	p := make(fieldPath, len(names))
	for i, n := range names {
		p[i] = pathElem{name: n}
	}
	return p
}

// dot, at and key return p extended by a field, a list index or a map key;
// p itself is never modified.
func (p fieldPath) dot(name string) fieldPath { return p.with(pathElem{name: name}) }
func (p fieldPath) at(i int) fieldPath        { return p.with(pathElem{index: i, kind: elemIndex}) }
func (p fieldPath) key(k string) fieldPath    { return p.with(pathElem{name: k, kind: elemKey}) }

func (p fieldPath) with(e pathElem) fieldPath {
	return append(p[:len(p):len(p)], e)
}

func (p fieldPath) String() string {
	var b strings.Builder
	for i, e := range p {
		switch e.kind {
		case elemIndex:
			fmt.Fprintf(&b, "[%d]", e.index)
		case elemKey:
			fmt.Fprintf(&b, "[%s]", strconv.Quote(e.name))
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			if strings.ContainsFunc(e.name, unicode.IsControl) {
				// Never print a control character a key held.
				b.WriteString(strconv.QuoteToASCII(e.name))
				continue
			}
			b.WriteString(e.name)
		}
	}
	return b.String()
}

// The sharing Windows containers never support (DESIGN §1), by the field a
// manifest might use to ask for it.
const (
	noSharedMemory = "Windows containers do not support shared memory with the host or other containers (there is no IPC namespace to share); remove this field"
	noSharedSync   = "Windows containers do not support sharing synchronization objects (events, mutexes, semaphores) with the host or other containers; remove this field"
	noSharedPIDs   = "Windows containers do not support shared process namespaces; remove this field"
)

var unsupportedSharing = map[string]string{
	"ipc":                    noSharedMemory,
	"hostIPC":                noSharedMemory,
	"sharedMemory":           noSharedMemory,
	"shmSize":                noSharedMemory,
	"synchronizationObjects": noSharedSync,
	"sharedSyncObjects":      noSharedSync,
	"pid":                    noSharedPIDs,
	"hostPID":                noSharedPIDs,
	"processNamespace":       noSharedPIDs,
	"shareProcessNamespace":  noSharedPIDs,
}

// unknownField explains a field that t does not have.
func unknownField(t reflect.Type, info *structInfo, name string) string {
	if t == specType {
		if msg, ok := unsupportedSharing[name]; ok {
			return msg
		}
	}
	if s := closest(name, info.names); s != "" {
		return fmt.Sprintf("unknown field %q; did you mean %q?", name, s)
	}
	return fmt.Sprintf("unknown field %q; valid fields: %s", name, strings.Join(info.names, ", "))
}

// closest returns the candidate name is most likely a typo of: equal but
// for case, or within two edits (a swap of neighbours is one) and less
// than half the candidate's length. "" when none is.
func closest(name string, candidates []string) string {
	best, bestD := "", 3
	lower := []rune(strings.ToLower(name))
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
		if d := editDistance(lower, []rune(strings.ToLower(c))); d < bestD && 2*d < len(c) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of adjacent runes each cost one.
func editDistance(a, b []rune) int {
	// rows i-2, i-1 and i of the dynamic programme.
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
