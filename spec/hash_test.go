package spec

import (
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"
)

// The ContainerSpec fields Hash covers, and those it leaves out on
// purpose. TestHashFieldsDecided fails when a field is added to
// ContainerSpec without deciding which list it belongs to.
var (
	hashedFields   = []string{"Image", "Command", "WorkingDir", "Env", "Hostname", "Resources", "Mounts", "NamedPipes", "Ports", "Network", "Devices"}
	unhashedFields = []string{"Isolation", "OSVersion", "RestartPolicy", "RestartLimit", "Healthcheck", "DependsOn", "Update", "Placement"}
)

// webContainer is testdata/web.yaml, parsed and defaulted.
func webContainer(t *testing.T) Container {
	t.Helper()
	cs, ps := ParseFile(filepath.Join("testdata", "web.yaml"), "web.yaml")
	if len(ps) > 0 || len(cs) != 1 {
		t.Fatalf("testdata/web.yaml: %d containers, problems:\n%s", len(cs), renderProblems(ps))
	}
	return cs[0]
}

func TestHashPinned(t *testing.T) {
	// Changing this value means every running container is recreated on
	// upgrade: change the encoding only with a new hashVersion.
	const want = "v1-f1819e9cdd049f42"
	if got := webContainer(t).Spec.Hash(); got != want {
		t.Errorf("Hash() = %q, want %q", got, want)
	}
	if got := (ContainerSpec{}).Hash(); !regexp.MustCompile(`^v1-[0-9a-f]{16}$`).MatchString(got) {
		t.Errorf("Hash() of an empty spec = %q, want v1- and 16 hex digits", got)
	}
}

func TestHashFieldsDecided(t *testing.T) {
	var fields []string
	for f := range reflect.TypeFor[ContainerSpec]().Fields() {
		fields = append(fields, f.Name)
	}
	decided := slices.Concat(hashedFields, unhashedFields)
	slices.Sort(fields)
	slices.Sort(decided)
	if !slices.Equal(fields, decided) {
		t.Errorf("ContainerSpec fields %v; hashed or deliberately not: %v", fields, decided)
	}
}

func TestHashSensitivity(t *testing.T) {
	tests := []struct {
		name   string
		field  string // the ContainerSpec field changed, "" for metadata
		change func(c *Container)
		want   bool // whether the hash changes
	}{
		{"image", "Image", func(c *Container) { c.Spec.Image += "-amd64" }, true},
		{"command argument", "Command", func(c *Container) { c.Spec.Command[1] = "127.0.0.1" }, true},
		{"command order", "Command", func(c *Container) { slices.Reverse(c.Spec.Command) }, true},
		{"command split differently", "Command", func(c *Container) { c.Spec.Command = []string{"pinglocalhost", "-t"} }, true},
		{"command removed", "Command", func(c *Container) { c.Spec.Command = nil }, true},
		{"workingDir", "WorkingDir", func(c *Container) { c.Spec.WorkingDir = `C:\other` }, true},
		{"env value", "Env", func(c *Container) { c.Spec.Env["LOG_LEVEL"] = "debug" }, true},
		{"env name", "Env", func(c *Container) { c.Spec.Env = map[string]string{"LOGLEVEL": "info"} }, true},
		{"env added", "Env", func(c *Container) { c.Spec.Env["MORE"] = "" }, true},
		{"hostname", "Hostname", func(c *Container) { c.Spec.Hostname = "web2" }, true},
		{"cpuCount", "Resources", func(c *Container) { c.Spec.Resources.CPUCount = 4 }, true},
		{"cpuMaximumPercent", "Resources", func(c *Container) { c.Spec.Resources.CPUMaximumPercent = 60 }, true},
		{"memoryMB", "Resources", func(c *Container) { c.Spec.Resources.MemoryMB = 2048 }, true},
		{"mount hostPath", "Mounts", func(c *Container) { c.Spec.Mounts[0].HostPath = `D:\data` }, true},
		{"mount containerPath", "Mounts", func(c *Container) { c.Spec.Mounts[0].ContainerPath = `C:\in` }, true},
		{"mount readOnly", "Mounts", func(c *Container) { c.Spec.Mounts[0].ReadOnly = false }, true},
		{"named pipe on the host", "NamedPipes", func(c *Container) { c.Spec.NamedPipes[0].HostPipe = `\\.\pipe\other` }, true},
		{"named pipe in the container", "NamedPipes", func(c *Container) { c.Spec.NamedPipes[0].ContainerPipe = `\\.\pipe\other` }, true},
		{"host port", "Ports", func(c *Container) { c.Spec.Ports[0].HostPort = 8081 }, true},
		{"container port", "Ports", func(c *Container) { c.Spec.Ports[0].ContainerPort = 81 }, true},
		{"protocol", "Ports", func(c *Container) { c.Spec.Ports[0].Protocol = "udp" }, true},
		{"network mode", "Network", func(c *Container) { c.Spec.Network.Mode = "transparent" }, true},
		{"network namespace", "Network", func(c *Container) { c.Spec.Network.Namespace = "" }, true},
		{"device type", "Devices", func(c *Container) { c.Spec.Devices[0].IDType = "vpci-location-path" }, true},
		{"device id", "Devices", func(c *Container) { c.Spec.Devices[0].ID = "4D36E972-E325-11CE-BFC1-08002BE10318" }, true},

		{"name", "", func(c *Container) { c.Metadata.Name = "other" }, false},
		{"labels", "", func(c *Container) { c.Metadata.Labels = map[string]string{"tier": "front"} }, false},
		{"isolation hyperv", "Isolation", func(c *Container) { c.Spec.Isolation = IsolationHyperV }, false},
		{"isolation default", "Isolation", func(c *Container) { c.Spec.Isolation = IsolationDefault }, false},
		{"osVersion", "OSVersion", func(c *Container) { c.Spec.OSVersion = "" }, false},
		{"restartPolicy", "RestartPolicy", func(c *Container) { c.Spec.RestartPolicy = RestartNever }, false},
		{"protocol left to its default", "Ports", func(c *Container) { c.Spec.Ports[0].Protocol = "" }, false},
		{"network mode left to its default", "Network", func(c *Container) { c.Spec.Network.Mode = "" }, false},
	}
	base := webContainer(t).Spec.Hash()
	changing := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := webContainer(t)
			tt.change(&c)
			if got := c.Spec.Hash() != base; got != tt.want {
				t.Errorf("hash changed = %v, want %v", got, tt.want)
			}
		})
		if tt.want {
			changing[tt.field] = true
		} else if slices.Contains(hashedFields, tt.field) {
			continue
		} else if tt.field != "" && !slices.Contains(unhashedFields, tt.field) {
			t.Errorf("case %q changes %s, which is in neither list", tt.name, tt.field)
		}
	}
	for _, f := range hashedFields {
		if !changing[f] {
			t.Errorf("no case shows that %s changes the hash", f)
		}
	}
	for _, f := range unhashedFields {
		if changing[f] {
			t.Errorf("%s is not hashed, yet a case expects it to change the hash", f)
		}
	}
}

func TestHostAccess(t *testing.T) {
	tests := []struct {
		name string
		spec ContainerSpec
		want []string
	}{
		{name: "none", spec: ContainerSpec{Image: "x", Env: map[string]string{"A": "b"}, Network: Network{Mode: "nat"}}},
		{
			name: "every kind",
			spec: webContainer(t).Spec,
			want: []string{
				`mount C:\data → C:\data (read-only)`,
				`named pipe \\.\pipe\svc`,
				"port 8080/tcp → 80",
				"network namespace 5f0d1c5e-3a4b-4c2d-9e8f-0a1b2c3d4e5f",
				"device class/5B45201D-F2F2-4F3B-85BB-30FF1F953599",
			},
		},
		{
			name: "read-write mount, renamed pipe, undefaulted port",
			spec: ContainerSpec{
				Mounts:     []Mount{{HostPath: `\\srv\share`, ContainerPath: `C:\share`}},
				NamedPipes: []NamedPipe{{HostPipe: `\\.\pipe\a`, ContainerPipe: `\\.\pipe\b`}},
				Ports:      []Port{{HostPort: 53, ContainerPort: 5353}},
			},
			want: []string{`mount \\srv\share → C:\share (read-write)`, `named pipe \\.\pipe\a → \\.\pipe\b`, "port 53/tcp → 5353"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.spec.HostAccess(); !slices.Equal(got, tt.want) {
				t.Errorf("HostAccess() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnvNames(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "none"},
		{name: "sorted", env: map[string]string{"b": "1", "A": "2", "a": "3"}, want: []string{"A", "a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (ContainerSpec{Env: tt.env}).EnvNames(); !slices.Equal(got, tt.want) {
				t.Errorf("EnvNames() = %q, want %q", got, tt.want)
			}
		})
	}
}
