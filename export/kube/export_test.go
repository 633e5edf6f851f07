package kube

import (
	"bytes"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/reconciler/reconciler/internal/golden"
	"github.com/reconciler/reconciler/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// manifestFiles are the example manifests and this package's own, each
// exported on its own.
func manifestFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../../examples/manifests/*.yaml", "testdata/manifests/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			// Named in slash form, as the golden files show them on
			// every OS.
			files = append(files, filepath.ToSlash(f))
		}
	}
	if len(files) < 4 {
		t.Fatalf("found only %d manifest files", len(files))
	}
	return files
}

func load(t *testing.T, path string) []spec.Container {
	t.Helper()
	set, err := spec.Load(path)
	if err != nil || len(set.Errors) > 0 {
		t.Fatalf("load %s: %v %v", path, err, set.Errors)
	}
	return set.Containers
}

// render is an export as its golden file shows it: the problems as
// comments, then the objects.
func render(t *testing.T, res Result) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range res.Errors {
		fmt.Fprintf(&b, "# error: %s\n", p.Error())
	}
	for _, p := range res.Warnings {
		fmt.Fprintf(&b, "# warning: %s\n", p.Error())
	}
	if err := WriteYAML(&b, res.Objects); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGolden pins the export of every example manifest, as a Deployment
// and as a Pod, problems included, and proves each output decodes
// strictly back into the k8s.io/api types it claims to be.
func TestGolden(t *testing.T) {
	for _, file := range manifestFiles(t) {
		for _, kind := range []Kind{KindDeployment, KindPod} {
			name := strings.TrimSuffix(filepath.Base(file), ".yaml") + "." + string(kind)
			t.Run(name, func(t *testing.T) {
				res := Export(load(t, file), Options{Kind: kind, RuntimeClasses: true})
				got := render(t, res)
				golden.Check(t, filepath.Join("testdata", "golden", name+".yaml"), got, *update)
				checkStrict(t, got, len(res.Objects))
			})
		}
	}
}

// checkStrict decodes every document of a YAML stream into the k8s.io/api
// type of its kind, refusing unknown and duplicate fields, and checks that
// encoding it again gives the same document: nothing was written that the
// API types do not carry.
func checkStrict(t *testing.T, stream []byte, want int) {
	t.Helper()
	docs := bytes.Split(stream, []byte("\n---\n"))
	if want == 0 {
		return
	}
	if len(docs) != want {
		t.Fatalf("%d documents, want %d", len(docs), want)
	}
	for i, doc := range docs {
		doc = append(bytes.TrimLeft(stripComments(doc), "\n"), '\n')
		var head struct{ Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj runtime.Object
		switch head.Kind {
		case "Deployment":
			obj = &appsv1.Deployment{}
		case "Pod":
			obj = &corev1.Pod{}
		case "RuntimeClass":
			obj = &nodev1.RuntimeClass{}
		default:
			t.Fatalf("document %d: unexpected kind %q", i, head.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("document %d (%s) does not decode strictly: %v", i, head.Kind, err)
		}
		again, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, doc) {
			t.Errorf("document %d (%s) changes through the API type:\n%s\nvs\n%s", i, head.Kind, doc, again)
		}
	}
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(l, []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.TrimRight(bytes.Join(out, []byte("\n")), "\n")
}

// TestStrictRefusesUnknown proves the strict check would catch a field
// the API types do not have.
func TestStrictRefusesUnknown(t *testing.T) {
	doc := []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  isolation: hyperv\n")
	if err := yaml.UnmarshalStrict(doc, &corev1.Pod{}); err == nil || !strings.Contains(err.Error(), "isolation") {
		t.Fatalf("unknown field accepted: %v", err)
	}
}

func container(name string, edit func(*spec.ContainerSpec)) spec.Container {
	c := spec.Container{APIVersion: spec.APIVersion, Kind: spec.Kind, Metadata: spec.Metadata{Name: name},
		Spec: spec.ContainerSpec{Image: "mcr.microsoft.com/windows/servercore:ltsc2022"}, Origin: spec.Origin{File: name + ".yaml", Line: 1}}
	if edit != nil {
		edit(&c.Spec)
	}
	return c
}

// decodeAs is what the k8s.io/api type T reads, strictly, of the object
// the export writes.
func decodeAs[T any](t *testing.T, o Object) *T {
	t.Helper()
	doc, err := Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := yaml.UnmarshalStrict(doc, &v); err != nil {
		t.Fatalf("%s %s as %T: %v", o.Kind, o.Name, v, err)
	}
	return &v
}

// podOf is the pod spec of a workload, as the k8s.io/api types read it.
func podOf(t *testing.T, o Object) corev1.PodSpec {
	t.Helper()
	switch o.Kind {
	case "Deployment":
		return decodeAs[appsv1.Deployment](t, o).Spec.Template.Spec
	case "Pod":
		return decodeAs[corev1.Pod](t, o).Spec
	}
	t.Fatalf("%s is not a workload", o.Kind)
	return corev1.PodSpec{}
}

// fieldsOf lists the fields problems name.
func fieldsOf(ps []spec.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Field
	}
	return out
}

// TestFields checks each mapping and each field with no equivalent, one
// manifest field at a time.
func TestFields(t *testing.T) {
	tests := []struct {
		name         string
		opt          Options
		edit         func(*spec.ContainerSpec)
		wantErrors   []string
		wantWarnings []string
		check        func(t *testing.T, pod corev1.PodSpec)
	}{
		{name: "process", edit: func(s *spec.ContainerSpec) { s.Isolation = spec.IsolationProcess },
			check: func(t *testing.T, pod corev1.PodSpec) {
				if *pod.RuntimeClassName != RuntimeClassProcess || pod.NodeSelector[labelWindowsBuild] != "10.0.20348" ||
					pod.OS.Name != corev1.Windows || pod.Tolerations[0] != (corev1.Toleration{Key: "os", Operator: corev1.TolerationOpEqual, Value: "windows", Effect: corev1.TaintEffectNoSchedule}) {
					t.Errorf("got %s %v %v %v", *pod.RuntimeClassName, pod.NodeSelector, pod.OS, pod.Tolerations)
				}
			}},
		{name: "hyperv warns", edit: func(s *spec.ContainerSpec) { s.Isolation = spec.IsolationHyperV },
			wantWarnings: []string{"spec.isolation"},
			check: func(t *testing.T, pod corev1.PodSpec) {
				if *pod.RuntimeClassName != RuntimeClassHyperV {
					t.Errorf("runtime class %s", *pod.RuntimeClassName)
				}
			}},
		{name: "default explains", wantWarnings: []string{"spec.isolation"},
			check: func(t *testing.T, pod corev1.PodSpec) {
				if pod.RuntimeClassName != nil {
					t.Errorf("runtime class %s", *pod.RuntimeClassName)
				}
			}},
		{name: "unknown build", edit: func(s *spec.ContainerSpec) { s.Image = "example.com/app:1.0"; s.Isolation = spec.IsolationProcess },
			wantErrors: []string{"spec.image"}},
		{name: "osVersion tells the build", edit: func(s *spec.ContainerSpec) {
			s.Image, s.OSVersion, s.Isolation = "example.com/app:1.0", "10.0.17763.5329", spec.IsolationProcess
		}, check: func(t *testing.T, pod corev1.PodSpec) {
			if pod.NodeSelector[labelWindowsBuild] != "10.0.17763" {
				t.Errorf("selector %v", pod.NodeSelector)
			}
		}},
		{name: "secret env", opt: Options{EnvSecrets: map[string]string{AllContainers: "app-env"}},
			edit: func(s *spec.ContainerSpec) {
				s.Isolation, s.Env = spec.IsolationProcess, map[string]string{"B": "2", "A": "1"}
			},
			check: func(t *testing.T, pod corev1.PodSpec) {
				env := pod.Containers[0].Env
				if len(env) != 2 || env[0].Name != "A" || env[0].Value != "" || env[0].ValueFrom.SecretKeyRef.Name != "app-env" || env[0].ValueFrom.SecretKeyRef.Key != "A" {
					t.Errorf("env %+v", env)
				}
			}},
		{name: "env value not a secret key", opt: Options{EnvSecrets: map[string]string{"w": "app-env"}},
			edit:       func(s *spec.ContainerSpec) { s.Isolation, s.Env = spec.IsolationProcess, map[string]string{"A B": "1"} },
			wantErrors: []string{"spec.env.A B"}},
		{name: "secret for an unknown container", opt: Options{EnvSecrets: map[string]string{"nope": "s"}},
			edit: func(s *spec.ContainerSpec) { s.Isolation = spec.IsolationProcess }, wantErrors: []string{""}},
		{name: "host port asked", opt: Options{HostPorts: true},
			edit: func(s *spec.ContainerSpec) {
				s.Isolation, s.Ports = spec.IsolationProcess, []spec.Port{{HostPort: 8080, ContainerPort: 80}}
			},
			check: func(t *testing.T, pod corev1.PodSpec) {
				if p := pod.Containers[0].Ports[0]; p.HostPort != 8080 || p.ContainerPort != 80 || p.Protocol != corev1.ProtocolTCP {
					t.Errorf("port %+v", p)
				}
			}},
		{name: "host port not asked",
			edit: func(s *spec.ContainerSpec) {
				s.Isolation, s.Ports = spec.IsolationProcess, []spec.Port{{HostPort: 8080, ContainerPort: 80}}
			},
			wantWarnings: []string{"spec.ports[0].hostPort"},
			check: func(t *testing.T, pod corev1.PodSpec) {
				if p := pod.Containers[0].Ports[0]; p.HostPort != 0 {
					t.Errorf("port %+v", p)
				}
			}},
		{name: "cpu of count and percent", edit: func(s *spec.ContainerSpec) {
			s.Isolation, s.Resources = spec.IsolationProcess, spec.Resources{CPUCount: 2, CPUMaximumPercent: 50, MemoryMB: 300}
		}, check: func(t *testing.T, pod corev1.PodSpec) {
			r := pod.Containers[0].Resources
			if r.Limits.Cpu().String() != "1" || r.Limits.Memory().String() != "300Mi" || r.Requests.Cpu().String() != "1" {
				t.Errorf("resources %v", r)
			}
		}},
		{name: "percent with node size", opt: Options{NodeCPUs: 8}, edit: func(s *spec.ContainerSpec) {
			s.Isolation, s.Resources = spec.IsolationProcess, spec.Resources{CPUMaximumPercent: 25}
		}, check: func(t *testing.T, pod corev1.PodSpec) {
			if c := pod.Containers[0].Resources.Limits.Cpu().String(); c != "2" {
				t.Errorf("cpu %s", c)
			}
		}},
		{name: "percent alone", edit: func(s *spec.ContainerSpec) {
			s.Isolation, s.Resources = spec.IsolationProcess, spec.Resources{CPUMaximumPercent: 25}
		}, wantWarnings: []string{"spec.resources.cpuMaximumPercent"}},
		{name: "mounts and pipes", edit: func(s *spec.ContainerSpec) {
			s.Isolation = spec.IsolationProcess
			s.Mounts = []spec.Mount{{HostPath: `C:\data`, ContainerPath: `C:\data`, ReadOnly: true}}
			s.NamedPipes = []spec.NamedPipe{{HostPipe: `\\.\pipe\a`, ContainerPipe: `\\.\pipe\b`}}
		}, check: func(t *testing.T, pod corev1.PodSpec) {
			m := pod.Containers[0].VolumeMounts
			if len(pod.Volumes) != 2 || pod.Volumes[0].HostPath.Path != `C:\data` || !m[0].ReadOnly ||
				pod.Volumes[1].HostPath.Path != `\\.\pipe\a` || m[1].MountPath != `\\.\pipe\b` || m[1].Name != pod.Volumes[1].Name {
				t.Errorf("volumes %+v mounts %+v", pod.Volumes, m)
			}
		}},
		{name: "never in a deployment", edit: func(s *spec.ContainerSpec) { s.Isolation, s.RestartPolicy = spec.IsolationProcess, spec.RestartNever },
			wantErrors: []string{"spec.restartPolicy"}},
		{name: "never in a pod", opt: Options{Kind: KindPod},
			edit: func(s *spec.ContainerSpec) { s.Isolation, s.RestartPolicy = spec.IsolationProcess, spec.RestartNever },
			check: func(t *testing.T, pod corev1.PodSpec) {
				if pod.RestartPolicy != corev1.RestartPolicyNever {
					t.Errorf("restart %s", pod.RestartPolicy)
				}
			}},
		{name: "on-failure in a deployment", edit: func(s *spec.ContainerSpec) {
			s.Isolation, s.RestartPolicy = spec.IsolationProcess, spec.RestartOnFailure
		},
			wantWarnings: []string{"spec.restartPolicy"}},
		{name: "no equivalents", edit: func(s *spec.ContainerSpec) {
			s.Isolation = spec.IsolationProcess
			s.Devices = []spec.Device{{IDType: "class", ID: "5B45201D-F2F2-4F3B-85BB-30FF1F953599"}}
			s.Network = spec.Network{Mode: "l2bridge", Namespace: "5B45201D-F2F2-4F3B-85BB-30FF1F953599"}
			s.DependsOn = []spec.Dependency{{Name: "db"}}
			s.RestartLimit = spec.RestartLimit{MaxRestarts: 2}
			s.Placement = spec.Placement{Hostnames: []string{"web-*"}}
		}, wantErrors: []string{"spec.devices", "spec.network.mode", "spec.network.namespace"},
			wantWarnings: []string{"spec.dependsOn[0]", "spec.placement", "spec.restartLimit"}},
		{name: "healthcheck", edit: func(s *spec.ContainerSpec) {
			s.Isolation = spec.IsolationProcess
			s.Healthcheck = spec.Healthcheck{TCP: 80, Interval: "5s", Timeout: "2s", Retries: 4, StartPeriod: "12s"}
		}, check: func(t *testing.T, pod corev1.PodSpec) {
			c := pod.Containers[0]
			if c.ReadinessProbe.TCPSocket.Port.IntValue() != 80 || c.ReadinessProbe.PeriodSeconds != 5 || c.ReadinessProbe.TimeoutSeconds != 2 ||
				c.ReadinessProbe.FailureThreshold != 4 || c.LivenessProbe == nil || c.StartupProbe.FailureThreshold != 3+4 {
				t.Errorf("probes %+v %+v %+v", c.ReadinessProbe, c.LivenessProbe, c.StartupProbe)
			}
		}},
		{name: "bad label", edit: func(s *spec.ContainerSpec) { s.Isolation = spec.IsolationProcess },
			wantErrors: []string{"metadata.labels.bad key!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := container("w", tt.edit)
			if tt.name == "bad label" {
				c.Metadata.Labels = map[string]string{"bad key!": "x", "ok": "y"}
			}
			res := Export([]spec.Container{c}, tt.opt)
			if got := fieldsOf(res.Errors); fmt.Sprint(got) != fmt.Sprint(tt.wantErrors) {
				t.Errorf("errors %q, want %q: %v", got, tt.wantErrors, res.Errors)
			}
			if got := fieldsOf(res.Warnings); fmt.Sprint(got) != fmt.Sprint(tt.wantWarnings) {
				t.Errorf("warnings %q, want %q: %v", got, tt.wantWarnings, res.Warnings)
			}
			if tt.check != nil {
				tt.check(t, podOf(t, res.Objects[0]))
			}
		})
	}
}

// TestSecretValuesNeverWritten proves that with the environment read from
// a Secret, no value of the manifest appears in the output.
func TestSecretValuesNeverWritten(t *testing.T) {
	c := container("w", func(s *spec.ContainerSpec) {
		s.Isolation, s.Env = spec.IsolationProcess, map[string]string{"PASSWORD": "s3cr3t-value", "DSN": "Server=db;Password=pw-value"}
	})
	for _, kind := range []Kind{KindDeployment, KindPod} {
		res := Export([]spec.Container{c}, Options{Kind: kind, EnvSecrets: map[string]string{"w": "w-env"}})
		var b bytes.Buffer
		if err := WriteYAML(&b, res.Objects); err != nil {
			t.Fatal(err)
		}
		for _, v := range c.Spec.Env {
			if strings.Contains(b.String(), v) {
				t.Errorf("%s: value %q written:\n%s", kind, v, b.String())
			}
		}
		if !strings.Contains(b.String(), "w-env") {
			t.Errorf("%s: no secret reference:\n%s", kind, b.String())
		}
	}
}

// TestDeploymentStrategy maps update.strategy.
func TestDeploymentStrategy(t *testing.T) {
	f := false
	for _, tt := range []struct {
		update spec.Update
		want   appsv1.DeploymentStrategyType
		warn   bool
	}{
		{spec.Update{}, appsv1.RecreateDeploymentStrategyType, false},
		{spec.Update{Strategy: spec.UpdateStartFirst, AutoRollback: &f}, appsv1.RollingUpdateDeploymentStrategyType, false},
		{spec.Update{Strategy: spec.UpdateRecreate}, appsv1.RecreateDeploymentStrategyType, true},
	} {
		c := container("w", func(s *spec.ContainerSpec) { s.Isolation, s.Update = spec.IsolationProcess, tt.update })
		res := Export([]spec.Container{c}, Options{})
		d := decodeAs[appsv1.Deployment](t, res.Objects[0])
		if d.Spec.Strategy.Type != tt.want || (len(res.Warnings) > 0) != tt.warn {
			t.Errorf("%+v: got %s, warnings %v", tt.update, d.Spec.Strategy.Type, res.Warnings)
		}
		if tt.want == appsv1.RollingUpdateDeploymentStrategyType &&
			(d.Spec.Strategy.RollingUpdate.MaxSurge.IntValue() != 1 || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0) {
			t.Errorf("rolling update %+v", d.Spec.Strategy.RollingUpdate)
		}
	}
}

func TestParseEnvSecret(t *testing.T) {
	m := map[string]string{}
	for _, v := range []string{"all", "web=web-env"} {
		if err := ParseEnvSecret(m, v); err != nil {
			t.Fatal(err)
		}
	}
	if m[AllContainers] != "all" || m["web"] != "web-env" {
		t.Fatalf("got %v", m)
	}
	for _, bad := range []string{"", "=x", "web=", "web=other"} {
		if err := ParseEnvSecret(m, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
