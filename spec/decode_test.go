package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestParseScalarsAsWritten: a string field keeps its scalar exactly as
// typed, whatever YAML 1.1 would have made of it; numbers and booleans that
// tools read differently are refused with the fix.
func TestParseScalarsAsWritten(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		meta  string // replaces "name: web"
		check func(c Container) string
		errs  []want
	}{
		{name: "name with a leading zero", meta: "name: 0123",
			check: func(c Container) string { return c.Metadata.Name }},
		{name: "name no", meta: "name: no",
			check: func(c Container) string { return c.Metadata.Name }},
		{name: "env values as typed", extra: "  env: {PIN: 012345, VER: 1.10, DEBUG: yes, MODE: 0777, OFF: off, NUL: null-ish, E: 1e3, T: 2001-12-14}\n",
			check: func(c Container) string { return fmt.Sprint(c.Spec.Env) }},
		{name: "env keys as typed", extra: "  env: {yes: a, 010: b, 1.50: c}\n",
			check: func(c Container) string { return fmt.Sprint(c.Spec.Env) }},
		{name: "command as typed", extra: "  command: [0x1F90, 1.10, no, ~x]\n",
			check: func(c Container) string { return fmt.Sprint(c.Spec.Command) }},
		{name: "hostname as typed", extra: "  hostname: 0777\n",
			check: func(c Container) string { return c.Spec.Hostname }},
		{name: "label as typed", meta: "name: web\n  labels: {tier: 010, on: off}",
			check: func(c Container) string { return fmt.Sprint(c.Metadata.Labels) }},
		{name: "single-quoted Windows path", extra: "  workingDir: 'C:\\temp\\new'\n",
			check: func(c Container) string { return c.Spec.WorkingDir }},
		{name: "plain Windows path", extra: "  command: [C:\\app\\run.cmd]\n",
			check: func(c Container) string { return c.Spec.Command[0] }},
		{name: "double-quoted path with escaped backslashes", extra: "  command: [\"C:\\\\app\\\\run.cmd\"]\n",
			check: func(c Container) string { return c.Spec.Command[0] }},
		{name: "hex port", extra: "  ports: [{hostPort: 0x1F90, containerPort: 80}]\n",
			errs: []want{{"spec.ports[0].hostPort", 7, `"0x1F90" is not a decimal number, and YAML tools disagree on what it means; write 8080`}}},
		{name: "octal-looking port", extra: "  ports: [{hostPort: 0123, containerPort: 80}]\n",
			errs: []want{{"spec.ports[0].hostPort", 7, `"0123" has a leading zero, which YAML 1.1 tools read as an octal number; write 123`}}},
		{name: "port with underscores", extra: "  ports: [{hostPort: 8_080, containerPort: 80}]\n",
			errs: []want{{"spec.ports[0].hostPort", 7, "write 8080"}}},
		{name: "fractional count", extra: "  resources: {cpuCount: 1.5}\n",
			errs: []want{{"spec.resources.cpuCount", 7, `must be a whole number, not "1.5"`}}},
		{name: "huge number", extra: "  resources: {memoryMB: 99999999999999999999}\n",
			errs: []want{{"spec.resources.memoryMB", 7, "out of range"}}},
		{name: "boolean on", extra: "  mounts: [{hostPath: 'C:\\a', containerPath: 'C:\\a', readOnly: on}]\n",
			errs: []want{{"spec.mounts[0].readOnly", 7, `"on" is a boolean only to YAML 1.1 tools; write true`}}},
		{name: "boolean quoted", extra: "  mounts: [{hostPath: 'C:\\a', containerPath: 'C:\\a', readOnly: 'true'}]\n",
			errs: []want{{"spec.mounts[0].readOnly", 7, `not the string "true"; remove the quotes`}}},
		{name: "boolean True", extra: "  mounts: [{hostPath: 'C:\\a', containerPath: 'C:\\a', readOnly: True}]\n",
			check: func(c Container) string { return fmt.Sprint(c.Spec.Mounts[0].ReadOnly) }},
		{name: "explicit tag", extra: "  hostname: !!int 12\n",
			errs: []want{{"spec.hostname", 7, "explicit YAML tag !!int is not supported"}}},
		{name: "explicit str tag", extra: "  hostname: !!str web1\n",
			check: func(c Container) string { return c.Spec.Hostname }},
		{name: "null env value", extra: "  env: {A: ~}\n",
			errs: []want{{`spec.env["A"]`, 7, "has no value (null); write A: '' for an empty value, or '~' for the word"}}},
		{name: "null list entry", extra: "  command: [a, null]\n",
			errs: []want{{"spec.command[1]", 7, "is null"}}},
		{name: "null field is unset", extra: "  hostname: ~\n",
			check: func(c Container) string { return c.Spec.Hostname }},
	}
	wantValue := map[string]string{
		"name with a leading zero":                    "0123",
		"name no":                                     "no",
		"env values as typed":                         "map[DEBUG:yes E:1e3 MODE:0777 NUL:null-ish OFF:off PIN:012345 T:2001-12-14 VER:1.10]",
		"env keys as typed":                           "map[010:b 1.50:c yes:a]",
		"command as typed":                            "[0x1F90 1.10 no ~x]",
		"hostname as typed":                           "0777",
		"label as typed":                              "map[on:off tier:010]",
		"single-quoted Windows path":                  `C:\temp\new`,
		"plain Windows path":                          `C:\app\run.cmd`,
		"double-quoted path with escaped backslashes": `C:\app\run.cmd`,
		"boolean True":                                "true",
		"explicit str tag":                            "web1",
		"null field is unset":                         "",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, ps := Parse(strings.NewReader(withMeta(tt.extra, tt.meta)), "m.yaml")
			checkProblems(t, ps, tt.errs)
			if tt.check == nil {
				if len(cs) != 0 {
					t.Errorf("got %d containers, want the document refused", len(cs))
				}
				return
			}
			if len(cs) != 1 {
				t.Fatalf("got %d containers, want 1", len(cs))
			}
			if got, want := tt.check(cs[0]), wantValue[tt.name]; got != want {
				t.Errorf("value = %q, want %q as written", got, want)
			}
		})
	}
}

// TestParseControlCharacters: a control character in any string field is
// refused; one that came from a double-quoted escape is explained, with the
// line as written and the single-quoted fix. Environment values never
// appear.
func TestParseControlCharacters(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		meta  string
		want  want
		never string
	}{
		{name: "command path in double quotes", extra: "  command: [\"C:\\app\\run.cmd\"]\n",
			want: want{"spec.command[0]", 7, `BEL (U+0007): inside double quotes YAML reads a backslash as an escape`}},
		{name: "the fix is shown", extra: "  command: [\"C:\\app\\run.cmd\"]\n",
			want: want{"spec.command[0]", 7, `'C:\app\run.cmd' (line 7 reads: command: ["C:\app\run.cmd"])`}},
		{name: "working dir", extra: "  workingDir: \"C:\\temp\\new\"\n",
			want: want{"spec.workingDir", 7, `TAB (U+0009)`}},
		{name: "env value: no value, no line", extra: "  env: {TOOLS: \"C:\\tools\\bin\"}\n",
			want:  want{`spec.env["TOOLS"]`, 7, "write Windows paths in single quotes"},
			never: `tools\bin`},
		{name: "env name", extra: "  env: {\"A\\tB\": secret-ish}\n",
			want: want{`spec.env["A\tB"]`, 7, "TAB"}, never: "secret-ish"},
		{name: "image", extra: "", meta: "name: web\n  labels: {a: \"x\\ry\"}",
			want: want{`metadata.labels["a"]`, 5, "CR (U+000D)"}},
		{name: "block scalar line break", extra: "  hostname: |\n    web\n",
			want: want{"spec.hostname", 7, "holds a line break (from a | or > block)"}},
		{name: "field name", extra: "  \"host\\aname\": web\n",
			want: want{`spec."host\aname"`, 7, "BEL"}},
		{name: "a tab typed inside double quotes", extra: "  hostname: \"a\tb\"\n",
			want: want{"spec.hostname", 7, "TAB (U+0009); remove it"}},
		{name: "unknown escape", extra: "  mounts: [{hostPath: \"C:\\data\", containerPath: 'C:\\data'}]\n",
			want: want{"", 7, `invalid YAML: found unknown escape character; inside double quotes a backslash starts an escape: write Windows paths in single quotes`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, ps := Parse(strings.NewReader(withMeta(tt.extra, tt.meta)), "m.yaml")
			if len(cs) != 0 {
				t.Errorf("got %d containers, want the document refused", len(cs))
			}
			if !slices.ContainsFunc(ps, func(p Problem) bool {
				return p.Field == tt.want.field && p.Line == tt.want.line && strings.Contains(p.Message, tt.want.msg)
			}) {
				t.Errorf("no problem %+v in:\n%s", tt.want, renderProblems(ps))
			}
			for _, p := range ps {
				if tt.never != "" && strings.Contains(p.Error(), tt.never) {
					t.Errorf("problem shows %q: %s", tt.never, p.Error())
				}
				if strings.ContainsFunc(p.Error(), func(r rune) bool { return r < 0x20 && r != '\t' }) {
					t.Errorf("problem holds a control character itself: %q", p.Error())
				}
			}
		})
	}
}

// TestDecodeCoversTypes keeps the manifest types within what the decoder
// decodes: structs, slices, string maps, strings, ints, bools and pointers
// to them.
func TestDecodeCoversTypes(t *testing.T) {
	for typ, info := range structInfos {
		for name, f := range info.fields {
			k := f.typ.Kind()
			if k == reflect.Slice || k == reflect.Pointer {
				k = f.typ.Elem().Kind()
			}
			switch k {
			case reflect.Struct, reflect.String, reflect.Int, reflect.Bool:
			case reflect.Map:
				if f.typ.Key().Kind() != reflect.String || f.typ.Elem().Kind() != reflect.String {
					t.Errorf("%s.%s: only maps of strings to strings are decoded", typ, name)
				}
			default:
				t.Errorf("%s.%s: the decoder does not decode fields of kind %s", typ, name, k)
			}
		}
	}
}

// withMeta is manifest(extra) with its "name: web" line replaced by meta,
// if any.
func withMeta(extra, meta string) string {
	if meta == "" {
		return manifest(extra)
	}
	return strings.Replace(manifest(extra), "name: web", meta, 1)
}

// TestWithin: a validation issue is dropped for a field whose decoding
// failed, one below it, or one above it; not for a field whose name only
// starts the same.
func TestWithin(t *testing.T) {
	tests := []struct {
		valid string
		bad   fieldPath
		want  bool
	}{
		{valid: "spec.image", bad: field("spec", "image"), want: true},
		{valid: "spec.ports[0].hostPort", bad: field("spec", "ports"), want: true},
		{valid: "spec.ports", bad: field("spec", "ports").at(0).dot("hostPort"), want: true},
		{valid: "spec.image", bad: field("spec", "imageX")},
		{valid: "spec.imageX", bad: field("spec", "image")},
		{valid: "spec.image", bad: nil},
	}
	for _, tt := range tests {
		if got := within(tt.valid, tt.bad); got != tt.want {
			t.Errorf("within(%q, %q) = %v, want %v", tt.valid, tt.bad.String(), got, tt.want)
		}
	}
}

// TestKeySet: the keys of a mapping are found again, with their line,
// whether the set is still its small list or has moved to a map, and a
// key not put is not found.
func TestKeySet(t *testing.T) {
	for _, n := range []int{0, 1, smallKeys - 1, smallKeys, smallKeys + 1, 3 * smallKeys} {
		t.Run(fmt.Sprint(n, " keys"), func(t *testing.T) {
			var s keySet
			for i := range n {
				name := fmt.Sprint("K", i)
				if _, ok := s.get(name); ok {
					t.Fatalf("%s found before it was put", name)
				}
				s.put(name, 10+i)
			}
			for i := range n {
				if line, ok := s.get(fmt.Sprint("K", i)); !ok || line != 10+i {
					t.Errorf("get(K%d) = %d, %v; want %d, true", i, line, ok, 10+i)
				}
			}
			if _, ok := s.get("absent"); ok {
				t.Error("a key never put was found")
			}
		})
	}
}

// TestRepeatedKeyInALargeMapping: a variable set twice among more
// variables than keySet lists is reported at its second line, naming the
// first.
func TestRepeatedKeyInALargeMapping(t *testing.T) {
	var env strings.Builder
	env.WriteString("  env:\n")
	for i := range 2 * smallKeys {
		fmt.Fprintf(&env, "    V%d: x\n", i)
	}
	env.WriteString("    V3: again\n")
	_, ps := Parse(strings.NewReader(manifest(env.String())), "big.yaml")
	// manifest's own lines end at 6, "env:" is line 7, V0 is line 8.
	want := fmt.Sprintf("is set twice (first on line %d)", 8+3)
	if len(ps) != 1 || ps[0].Field != `spec.env["V3"]` || ps[0].Line != 8+2*smallKeys || ps[0].Message != want {
		t.Errorf("problems = %+v; want one at spec.env[\"V3\"], line %d: %s", ps, 8+2*smallKeys, want)
	}
}
