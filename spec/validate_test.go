package spec

import (
	"fmt"
	"strings"
	"testing"
)

// manifest is a valid document of six lines; extra is appended under spec,
// from line 7.
func manifest(extra string) string {
	return "apiVersion: reconciler/v1\n" + // 1
		"kind: Container\n" + // 2
		"metadata:\n" + // 3
		"  name: web\n" + // 4
		"spec:\n" + // 5
		"  image: mcr.microsoft.com/windows/servercore:ltsc2022\n" + // 6
		extra
}

// want is one expected problem: its field path, line and a fragment of its
// message.
type want struct {
	field string
	line  int
	msg   string
}

// checkProblems asserts that got are exactly the wanted problems, in order.
func checkProblems(t *testing.T, got []Problem, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(wants), renderProblems(got))
	}
	for i, w := range wants {
		p := got[i]
		if p.Field != w.field || p.Line != w.line || !strings.Contains(p.Message, w.msg) {
			t.Errorf("problem %d = %q (field %q, line %d), want field %q, line %d, message containing %q",
				i, p.Error(), p.Field, p.Line, w.field, w.line, w.msg)
		}
		if p.Message == "" {
			t.Errorf("problem %d has no message", i)
		}
	}
}

func renderProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s\n", p.Error())
	}
	return b.String()
}

func TestParseValidation(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []struct {
		name string
		yaml string
		want []want
	}{
		{name: "isolation in another case", yaml: manifest("  isolation: Process\n"),
			want: []want{{"spec.isolation", 7, `must be one of process, hyperv, default, auto, not "Process"; did you mean "process"?`}}},
		{name: "minimal manifest", yaml: manifest("")},

		// apiVersion and kind.
		{name: "wrong apiVersion", yaml: strings.Replace(manifest(""), "reconciler/v1", "reconciler/v2", 1),
			want: []want{{"apiVersion", 1, `must be "reconciler/v1", not "reconciler/v2"`}}},
		{name: "missing kind", yaml: strings.Replace(manifest(""), "kind: Container\n", "", 1),
			want: []want{{"kind", 1, `is required and must be "Container"`}}},
		{name: "wrong kind", yaml: strings.Replace(manifest(""), "kind: Container", "kind: Pod", 1),
			want: []want{{"kind", 2, `must be "Container", not "Pod"`}}},

		// metadata.
		{name: "name of 63 characters", yaml: strings.Replace(manifest(""), "name: web", "name: "+long, 1)},
		{name: "name of 64 characters", yaml: strings.Replace(manifest(""), "name: web", "name: "+long+"a", 1),
			want: []want{{"metadata.name", 4, "must be a DNS label: lowercase letters, digits and '-', at most 63 characters"}}},
		{name: "name in uppercase", yaml: strings.Replace(manifest(""), "name: web", "name: Web", 1),
			want: []want{{"metadata.name", 4, `"Web" must be a DNS label`}}},
		{name: "name ending in a dash", yaml: strings.Replace(manifest(""), "name: web", "name: web-", 1),
			want: []want{{"metadata.name", 4, "must be a DNS label"}}},
		{name: "missing name", yaml: strings.Replace(manifest(""), "  name: web\n", "  labels: {app: web}\n", 1),
			want: []want{{"metadata.name", 3, "is required and must be a DNS label"}}},
		{name: "labels", yaml: strings.Replace(manifest(""), "  name: web\n", "  name: web\n  labels: {app: web, tier: front}\n", 1)},
		{name: "empty label key", yaml: strings.Replace(manifest(""), "  name: web\n", "  name: web\n  labels: {'': x}\n", 1),
			want: []want{{`metadata.labels[""]`, 5, "label keys must not be empty"}}},

		// image.
		{name: "image with digest", yaml: strings.Replace(manifest(""), "servercore:ltsc2022", "servercore@sha256:"+strings.Repeat("ab", 32), 1)},
		{name: "missing image", yaml: strings.Replace(manifest("  isolation: process\n"), "  image: mcr.microsoft.com/windows/servercore:ltsc2022\n", "", 1),
			want: []want{{"spec.image", 5, "is required: an image reference"}}},
		{name: "invalid image", yaml: strings.Replace(manifest(""), "mcr.microsoft.com/windows/servercore:ltsc2022", "MCR/Bad Image:1", 1),
			want: []want{{"spec.image", 6, `"MCR/Bad Image:1" is not a valid image reference`}}},

		// isolation and osVersion.
		{name: "isolation hyperv", yaml: manifest("  isolation: hyperv\n")},
		{name: "isolation default", yaml: manifest("  isolation: default\n")},
		{name: "isolation auto", yaml: manifest("  isolation: auto\n")},
		{name: "isolation auto in another case", yaml: manifest("  isolation: Auto\n"),
			want: []want{{"spec.isolation", 7, `not "Auto"; did you mean "auto"?`}}},
		{name: "unknown isolation", yaml: manifest("  isolation: vm\n"),
			want: []want{{"spec.isolation", 7, `must be one of process, hyperv, default, auto, not "vm"`}}},
		{name: "osVersion", yaml: manifest("  osVersion: 10.0.17763.5329\n")},
		{name: "osVersion release name", yaml: manifest("  osVersion: ltsc2019\n")},
		{name: "invalid osVersion", yaml: manifest("  osVersion: banana\n"),
			want: []want{{"spec.osVersion", 7, `invalid OS version "banana"`}}},

		// command and workingDir.
		{name: "command", yaml: manifest("  command: [cmd, /c, echo hi]\n")},
		{name: "empty command entry", yaml: manifest("  command:\n    - cmd\n    - ''\n"),
			want: []want{{"spec.command[1]", 9, "command entries must not be empty"}}},
		{name: "workingDir", yaml: manifest("  workingDir: 'C:\\app'\n")},
		{name: "workingDir with forward slashes", yaml: manifest("  workingDir: C:/app\n")},
		{name: "relative workingDir", yaml: manifest("  workingDir: app\n"),
			want: []want{{"spec.workingDir", 7, `"app" must be an absolute Windows path such as C:\data`}}},
		{name: "workingDir with a forbidden character", yaml: manifest("  workingDir: 'C:\\a|b'\n"),
			want: []want{{"spec.workingDir", 7, "must be an absolute Windows path"}}},

		// env.
		{name: "env", yaml: manifest("  env:\n    LOG_LEVEL: info\n    COUNT: 3\n")},
		{name: "env name with =", yaml: manifest("  env:\n    OK: x\n    'A=B': s3cret-value\n"),
			want: []want{{`spec.env["A=B"]`, 9, "variable names must not contain '='"}}},
		{name: "bad env names among good ones, in name order", yaml: manifest("  env: {OK: x, 'Z=1': a, '': b, 'A=1': c, ALSO_OK: y}\n"),
			want: []want{{`spec.env[""]`, 7, "must not be empty"}, {`spec.env["A=1"]`, 7, "must not contain '='"}, {`spec.env["Z=1"]`, 7, "must not contain '='"}}},
		{name: "empty env name", yaml: manifest("  env: {'': s3cret-value}\n"),
			want: []want{{`spec.env[""]`, 7, "variable names must not be empty"}}},
		{name: "env name with NUL", yaml: manifest("  env: {\"A\\0B\": s3cret-value}\n"),
			want: []want{{`spec.env["A\x00B"]`, 7, "NUL"}}},

		// hostname and restartPolicy.
		{name: "hostname", yaml: manifest("  hostname: web-1\n")},
		{name: "hostname not a DNS label", yaml: manifest("  hostname: Web_1\n"),
			want: []want{{"spec.hostname", 7, `"Web_1" must be a DNS label`}}},
		{name: "hostname of 64 characters", yaml: manifest("  hostname: " + long + "b\n"),
			want: []want{{"spec.hostname", 7, "at most 63 characters"}}},
		{name: "restartPolicy on-failure", yaml: manifest("  restartPolicy: on-failure\n")},
		{name: "restartPolicy never", yaml: manifest("  restartPolicy: never\n")},
		{name: "unknown restartPolicy", yaml: manifest("  restartPolicy: sometimes\n"),
			want: []want{{"spec.restartPolicy", 7, "must be one of always, on-failure, never"}}},

		// resources.
		{name: "resources at their limits", yaml: manifest("  resources: {cpuCount: 256, cpuMaximumPercent: 100, memoryMB: 1048576}\n")},
		{name: "smallest memory", yaml: manifest("  resources: {memoryMB: 64}\n")},
		{name: "too many CPUs", yaml: manifest("  resources:\n    cpuCount: 257\n"),
			want: []want{{"spec.resources.cpuCount", 8, "must be between 0 and 256 (0: no limit), not 257"}}},
		{name: "negative CPU count", yaml: manifest("  resources:\n    cpuCount: -1\n"),
			want: []want{{"spec.resources.cpuCount", 8, "not -1"}}},
		{name: "CPU percent over 100", yaml: manifest("  resources:\n    cpuMaximumPercent: 101\n"),
			want: []want{{"spec.resources.cpuMaximumPercent", 8, "must be between 0 and 100"}}},
		{name: "too little memory", yaml: manifest("  resources:\n    memoryMB: 32\n"),
			want: []want{{"spec.resources.memoryMB", 8, "must be 0 (no limit) or between 64 and 1048576, not 32"}}},
		{name: "too much memory", yaml: manifest("  resources:\n    memoryMB: 1048577\n"),
			want: []want{{"spec.resources.memoryMB", 8, "not 1048577"}}},

		// mounts.
		{name: "mounts", yaml: manifest("  mounts:\n    - {hostPath: 'C:\\data', containerPath: 'C:\\data', readOnly: true}\n    - {hostPath: '\\\\server\\share\\logs', containerPath: 'D:\\logs'}\n")},
		{name: "relative hostPath", yaml: manifest("  mounts:\n    - {hostPath: data, containerPath: 'C:\\data'}\n"),
			want: []want{{"spec.mounts[0].hostPath", 8, `"data" must be an absolute Windows path (C:\data) or a UNC path (\\server\share)`}}},
		{name: "UNC path without a share", yaml: manifest("  mounts:\n    - {hostPath: '\\\\server', containerPath: 'C:\\data'}\n"),
			want: []want{{"spec.mounts[0].hostPath", 8, "or a UNC path"}}},
		{name: "device path as hostPath", yaml: manifest("  mounts:\n    - {hostPath: '\\\\.\\pipe\\x', containerPath: 'C:\\data'}\n"),
			want: []want{{"spec.mounts[0].hostPath", 8, "or a UNC path"}}},
		{name: "mount without a hostPath", yaml: manifest("  mounts:\n    - {containerPath: 'C:\\data'}\n"),
			want: []want{{"spec.mounts[0].hostPath", 8, "is required and must be an absolute Windows path"}}},
		{name: "UNC containerPath", yaml: manifest("  mounts:\n    - hostPath: 'C:\\data'\n      containerPath: '\\\\server\\share'\n"),
			want: []want{{"spec.mounts[0].containerPath", 9, `must be an absolute Windows path such as C:\data`}}},
		{name: "duplicate containerPath", yaml: manifest("  mounts:\n    - {hostPath: 'C:\\a', containerPath: 'C:\\data'}\n    - {hostPath: 'C:\\b', containerPath: 'c:\\DATA\\'}\n"),
			want: []want{{"spec.mounts[1].containerPath", 9, "is already mounted by spec.mounts[0]"}}},

		// named pipes.
		{name: "named pipes", yaml: manifest("  namedPipes:\n    - {hostPipe: '\\\\.\\pipe\\docker_engine', containerPipe: '\\\\.\\PIPE\\engine'}\n")},
		{name: "host pipe not a pipe path", yaml: manifest("  namedPipes:\n    - {hostPipe: svc, containerPipe: '\\\\.\\pipe\\svc'}\n"),
			want: []want{{"spec.namedPipes[0].hostPipe", 8, `"svc" must be a named pipe path \\.\pipe\NAME`}}},
		{name: "container pipe without a name", yaml: manifest("  namedPipes:\n    - {hostPipe: '\\\\.\\pipe\\svc', containerPipe: '\\\\.\\pipe\\'}\n"),
			want: []want{{"spec.namedPipes[0].containerPipe", 8, "must be a named pipe path"}}},

		// ports.
		{name: "same port on tcp and udp", yaml: manifest("  ports:\n    - {hostPort: 53, containerPort: 53}\n    - {hostPort: 53, containerPort: 53, protocol: udp}\n")},
		{name: "host port 0", yaml: manifest("  ports:\n    - {hostPort: 8080, containerPort: 80}\n    - hostPort: 0\n      containerPort: 80\n"),
			want: []want{{"spec.ports[1].hostPort", 9, "must be between 1 and 65535, not 0"}}},
		{name: "container port over 65535", yaml: manifest("  ports:\n    - {hostPort: 8080, containerPort: 70000}\n"),
			want: []want{{"spec.ports[0].containerPort", 8, "must be between 1 and 65535, not 70000"}}},
		{name: "unknown protocol", yaml: manifest("  ports:\n    - {hostPort: 8080, containerPort: 80, protocol: sctp}\n"),
			want: []want{{"spec.ports[0].protocol", 8, `must be one of tcp, udp, not "sctp"`}}},
		{name: "duplicate host port", yaml: manifest("  ports:\n    - {hostPort: 8080, containerPort: 80}\n    - {hostPort: 8080, containerPort: 81, protocol: tcp}\n"),
			want: []want{{"spec.ports[1].hostPort", 9, "host port 8080/tcp is already published by spec.ports[0]"}}},
		{name: "ports without a network", yaml: manifest("  ports: [{hostPort: 8080, containerPort: 80}]\n  network: {mode: none}\n"),
			want: []want{{"spec.network.mode", 8, `"none" has no network to publish spec.ports on`}}},

		// network.
		{name: "transparent network in a namespace", yaml: manifest("  network: {mode: transparent, namespace: '{5F0D1C5E-3A4B-4C2D-9E8F-0A1B2C3D4E5F}'}\n")},
		{name: "unknown network mode", yaml: manifest("  network:\n    mode: bridge\n"),
			want: []want{{"spec.network.mode", 8, "must be one of nat, transparent, l2bridge, none"}}},
		{name: "namespace not a GUID", yaml: manifest("  network:\n    namespace: default\n"),
			want: []want{{"spec.network.namespace", 8, `"default" must be a GUID`}}},

		// devices.
		{name: "devices", yaml: manifest("  devices:\n    - {idType: class, id: 5B45201D-F2F2-4F3B-85BB-30FF1F953599}\n    - {idType: vpci-location-path, id: 'PCIROOT(0)#PCI(0100)'}\n")},
		{name: "unknown idType", yaml: manifest("  devices:\n    - {idType: usb, id: x}\n"),
			want: []want{{"spec.devices[0].idType", 8, "must be one of class, vpci-location-path"}}},
		{name: "missing device id", yaml: manifest("  devices:\n    - idType: vpci-location-path\n"),
			want: []want{{"spec.devices[0].id", 8, "is required and must be the device's location path"}}},
		{name: "class id not a GUID", yaml: manifest("  devices:\n    - idType: class\n      id: GPU\n"),
			want: []want{{"spec.devices[0].id", 9, `"GPU" must be a GUID`}}},

		// Several problems at once.
		{name: "every problem is reported", yaml: strings.Replace(manifest("  isolation: vm\n  ports:\n    - {hostPort: 0, containerPort: 80}\n"), "name: web", "name: Web", 1),
			want: []want{{"metadata.name", 4, "DNS label"}, {"spec.isolation", 7, "must be one of"}, {"spec.ports[0].hostPort", 9, "between 1 and 65535"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, ps := Parse(strings.NewReader(tt.yaml), "m.yaml")
			checkProblems(t, ps, tt.want)
			if wantValid := len(tt.want) == 0; wantValid != (len(cs) == 1) {
				t.Fatalf("got %d containers; want the document returned only when valid", len(cs))
			}
			for _, p := range ps {
				if p.File != "m.yaml" {
					t.Errorf("problem file = %q, want m.yaml", p.File)
				}
				if strings.Contains(p.Error(), "s3cret-value") {
					t.Errorf("problem %q shows an environment variable's value", p.Error())
				}
			}
		})
	}
}

func TestParseStructure(t *testing.T) {
	tests := []parseCase{
		{name: "unknown top-level field", yaml: manifest("") + "status: running\n",
			want: []want{{"status", 7, `unknown field "status"; valid fields: apiVersion, kind, metadata, spec`}}},
		{name: "two unknown fields give two problems", yaml: manifest("  imgae: x\n  workdir: 'C:\\app'\n"),
			want: []want{
				{"spec.imgae", 7, `unknown field "imgae"; did you mean "image"?`},
				{"spec.workdir", 8, `unknown field "workdir"; valid fields: image, isolation, osVersion`},
			}},
		{name: "a field in the wrong case", yaml: strings.Replace(manifest(""), "kind:", "Kind:", 1),
			want: []want{{"Kind", 2, `unknown field "Kind"; did you mean "kind"?`}}},
		{name: "a field both ways", yaml: manifest("  Image: other\n"),
			want: []want{{"spec.Image", 7, `did you mean "image"?`}}},
		{name: "unknown nested field", yaml: manifest("  ports:\n    - {hostPort: 80, containerPort: 80}\n    - {hostPort: 81, containerPort: 81, hostIP: 0.0.0.0}\n"),
			want: []want{{"spec.ports[1].hostIP", 9, `unknown field "hostIP"; valid fields: hostPort, containerPort, protocol`}}},
		{name: "unknown field and an invalid value", yaml: manifest("  isolation: vm\n  extra: 1\n"),
			want: []want{{"spec.isolation", 7, "must be one of process, hyperv, default"}, {"spec.extra", 8, `unknown field "extra"`}}},
		{name: "field set twice", yaml: manifest("  image: other\n"),
			want: []want{{"spec.image", 7, "is set twice (first on line 6)"}}},
		{name: "env name set twice", yaml: manifest("  env:\n    A: x\n    A: y\n"),
			want: []want{{`spec.env["A"]`, 9, "is set twice"}}},
		{name: "string where a list belongs", yaml: manifest("  command: ping localhost\n"),
			want: []want{{"spec.command", 7, "must be a list"}}},
		{name: "text where a number belongs", yaml: manifest("  ports:\n    - {hostPort: http, containerPort: 80}\n"),
			want: []want{{"spec.ports[0].hostPort", 8, `must be a whole number, not "http"`}}},
		{name: "quoted number", yaml: manifest("  resources: {cpuCount: '2'}\n"),
			want: []want{{"spec.resources.cpuCount", 7, `must be a number, not the string "2"; remove the quotes`}}},
		{name: "not a boolean", yaml: manifest("  mounts:\n    - {hostPath: 'C:\\a', containerPath: 'C:\\a', readOnly: maybe}\n"),
			want: []want{{"spec.mounts[0].readOnly", 8, "must be true or false"}}},
		{name: "YAML 1.1 boolean", yaml: manifest("  mounts:\n    - {hostPath: 'C:\\a', containerPath: 'C:\\a', readOnly: yes}\n"),
			want: []want{{"spec.mounts[0].readOnly", 8, `"yes" is a boolean only to YAML 1.1 tools; write true`}}},
		{name: "list where a mapping belongs", yaml: manifest("  env: [A=1]\n"),
			want: []want{{"spec.env", 7, "must be a mapping of names to strings"}}},
		{name: "mapping where a string belongs", yaml: manifest("  hostname: {name: web}\n"),
			want: []want{{"spec.hostname", 7, "must be a string"}}},
		{name: "spec not a mapping", yaml: "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: web}\nspec: [image]\n",
			want: []want{{"spec", 4, "must be a mapping with the fields image, isolation"}}},
		{name: "document not a mapping", yaml: "- apiVersion: reconciler/v1\n",
			want: []want{{"", 1, "a manifest document must be a mapping with the fields apiVersion, kind, metadata, spec"}}},
		{name: "number as a string value", yaml: strings.Replace(manifest("  env: {N: 3}\n"), "name: web", "name: 123", 1)},
		{name: "anchors and merge keys", yaml: "x-defaults: &d {image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022'}\n" + manifest(""),
			want: []want{{"x-defaults", 1, `unknown field "x-defaults"`}}},
		{name: "merge key", yaml: "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: web}\nspec:\n  <<: {image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022', isolation: vm}\n  hostname: web\n",
			want: []want{{"spec.isolation", 5, "must be one of process, hyperv, default"}}},
		{name: "syntax error", yaml: manifest("  command: [ping\n  hostname: web\n"),
			want: []want{{"", 7, "invalid YAML: did not find expected ',' or ']'"}}},
		{name: "tab indentation", yaml: manifest("\tisolation: process\n"),
			want: []want{{"", 7, "invalid YAML: found a tab character"}}},
	}
	checkParseCases(t, tests)
}

// parseCase is a one-document manifest and the problems Parse must find.
type parseCase struct {
	name string
	yaml string
	want []want
}

// checkParseCases parses each case's document: exactly the wanted
// problems, and the container returned only when there are none.
func checkParseCases(t *testing.T, tests []parseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, ps := Parse(strings.NewReader(tt.yaml), "m.yaml")
			checkProblems(t, ps, tt.want)
			if wantValid := len(tt.want) == 0; wantValid != (len(cs) == 1) {
				t.Fatalf("got %d containers; want the document returned only when valid", len(cs))
			}
		})
	}
}

func TestParseUnsupportedSharing(t *testing.T) {
	tests := []struct {
		field string
		value string
		want  string
	}{
		{"ipc", "host", "do not support shared memory"},
		{"hostIPC", "true", "do not support shared memory"},
		{"sharedMemory", "true", "do not support shared memory"},
		{"shmSize", "64Mi", "do not support shared memory"},
		{"synchronizationObjects", "[Global\\x]", "do not support sharing synchronization objects"},
		{"sharedSyncObjects", "true", "do not support sharing synchronization objects"},
		{"pid", "host", "do not support shared process namespaces"},
		{"hostPID", "true", "do not support shared process namespaces"},
		{"processNamespace", "shared", "do not support shared process namespaces"},
		{"shareProcessNamespace", "true", "do not support shared process namespaces"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			cs, ps := Parse(strings.NewReader(manifest("  "+tt.field+": "+tt.value+"\n")), "m.yaml")
			if len(cs) != 0 {
				t.Fatalf("got %d containers, want the document refused", len(cs))
			}
			checkProblems(t, ps, []want{{"spec." + tt.field, 7, "Windows containers " + tt.want}})
			if strings.Contains(ps[0].Message, "unknown field") {
				t.Errorf("message %q is a generic unknown-field error", ps[0].Message)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	c := Container{
		APIVersion: APIVersion, Kind: Kind,
		Metadata: Metadata{Name: "web"},
		Spec:     ContainerSpec{Image: "mcr.microsoft.com/windows/nanoserver:ltsc2022", Env: map[string]string{"A=B": "s3cret-value"}},
		Origin:   Origin{File: "dir/web.yaml", Line: 12},
	}
	t.Run("undefaulted", func(t *testing.T) {
		got := Validate(&c)
		checkProblems(t, got, []want{
			{"spec.isolation", 12, "must be one of process, hyperv, default"},
			{`spec.env["A=B"]`, 12, "must not contain '='"},
			{"spec.restartPolicy", 12, "must be one of always, on-failure, never"},
			{"spec.network.mode", 12, "must be one of nat, transparent, l2bridge, none"},
		})
		for _, p := range got {
			if p.File != "dir/web.yaml" || p.Name != "web" {
				t.Errorf("problem %q: file %q, name %q; want dir/web.yaml, web", p.Error(), p.File, p.Name)
			}
		}
	})
	t.Run("defaulted", func(t *testing.T) {
		c.ApplyDefaults()
		checkProblems(t, Validate(&c), []want{{`spec.env["A=B"]`, 12, "must not contain '='"}})
	})
}

func TestFieldPath(t *testing.T) {
	tests := []struct {
		name string
		path fieldPath
		want string
	}{
		{name: "empty", path: nil, want: ""},
		{name: "fields", path: field("spec", "resources", "memoryMB"), want: "spec.resources.memoryMB"},
		{name: "index", path: field("spec", "ports").at(1).dot("hostPort"), want: "spec.ports[1].hostPort"},
		{name: "map key", path: field("spec", "env").key(`A"B`), want: `spec.env["A\"B"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.path.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("extending never aliases", func(t *testing.T) {
		base := field("spec", "ports")
		a, b := base.at(0), base.at(1)
		if a.String() != "spec.ports[0]" || b.String() != "spec.ports[1]" {
			t.Errorf("got %q and %q, want spec.ports[0] and spec.ports[1]", a, b)
		}
	})
}

func TestClosest(t *testing.T) {
	names := structInfos[specType].names
	tests := []struct {
		in   string
		want string
	}{
		{in: "imgae", want: "image"},
		{in: "IMAGE", want: "image"},
		{in: "comand", want: "command"},
		{in: "restartpolicy", want: "restartPolicy"},
		{in: "port", want: "ports"},
		{in: "xyz", want: ""},
		{in: "workdir", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := closest(tt.in, names); got != tt.want {
				t.Errorf("closest(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
