package kube

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"

	"github.com/reconciler/reconciler/spec"
)

// The node labels and taint Windows nodes carry.
const (
	labelOS           = "kubernetes.io/os"
	labelArch         = "kubernetes.io/arch"
	labelWindowsBuild = "node.kubernetes.io/windows-build"
	// LabelName is the label a workload's pods are selected by.
	LabelName = "app.kubernetes.io/name"
	// annotationSource names the manifest a workload was exported from.
	annotationSource = "reconciler/source"
)

// Object is one exported Kubernetes object.
type Object struct {
	// Kind and Name name it: "Deployment", "web".
	Kind, Name string
	// Object is the object, with its TypeMeta set: a *Deployment, *Pod
	// or *RuntimeClass of this package, which encode as the k8s.io/api
	// types of their kind do.
	Object any
}

// Result is what an export made: the objects, and every problem found.
// Any error means the objects must not be applied.
type Result struct {
	Objects  []Object
	Errors   []spec.Problem
	Warnings []spec.Problem
}

// Export turns containers into Kubernetes objects for Windows nodes, in
// the containers' order, followed by the RuntimeClass objects they name
// when opt.RuntimeClasses is set. Pure: it reads nothing but its
// arguments.
func Export(containers []spec.Container, opt Options) Result {
	if opt.Kind == "" {
		opt.Kind = KindDeployment
	}
	var (
		res     Result
		classes []string
	)
	for i := range containers {
		c := &containers[i]
		e := exporter{c: c, opt: opt}
		obj, class := e.workload()
		res.Errors = append(res.Errors, e.errors...)
		res.Warnings = append(res.Warnings, e.warnings...)
		if obj.Object != nil {
			res.Objects = append(res.Objects, obj)
		}
		if class != "" && !slices.Contains(classes, class) {
			classes = append(classes, class)
		}
	}
	res.Errors = append(res.Errors, unknownSecretTargets(containers, opt)...)
	if opt.RuntimeClasses {
		slices.Sort(classes)
		for _, name := range classes {
			res.Objects = append(res.Objects, Object{Kind: "RuntimeClass", Name: name, Object: runtimeClass(name)})
		}
	}
	return res
}

// exporter exports one container and collects its problems.
type exporter struct {
	c                *spec.Container
	opt              Options
	errors, warnings []spec.Problem
}

func (e *exporter) problem(warning bool, field, format string, args ...any) {
	p := spec.Problem{File: e.c.Origin.File, Line: e.c.Origin.Line, Name: e.c.Metadata.Name,
		Field: field, Message: fmt.Sprintf(format, args...), Warning: warning}
	if warning {
		e.warnings = append(e.warnings, p)
	} else {
		e.errors = append(e.errors, p)
	}
}

func (e *exporter) fail(field, format string, args ...any) { e.problem(false, field, format, args...) }
func (e *exporter) warn(field, format string, args ...any) { e.problem(true, field, format, args...) }

// workload is the Deployment or Pod of e's container, and the RuntimeClass
// it names ("" for none).
func (e *exporter) workload() (Object, string) {
	c := e.c
	labels := e.labels()
	pod, class := e.podSpec()
	meta := ObjectMeta{
		Name:      c.Metadata.Name,
		Namespace: e.opt.Namespace,
		Labels:    labels,
		// In slash form: the same export from a Windows host and from CI.
		Annotations: map[string]string{annotationSource: filepath.ToSlash(c.Origin.File)},
	}
	if c.Origin.File == "" {
		meta.Annotations = nil
	}
	if e.opt.Kind == KindPod {
		e.podOnly()
		return Object{Kind: "Pod", Name: c.Metadata.Name, Object: &Pod{
			TypeMeta:   TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: meta,
			Spec:       pod,
		}}, class
	}
	replicas := int32(1)
	d := &Deployment{
		TypeMeta:   TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta,
		Spec: DeploymentSpec{
			Replicas: &replicas,
			Selector: &LabelSelector{MatchLabels: map[string]string{LabelName: c.Metadata.Name}},
			Template: PodTemplateSpec{
				ObjectMeta: ObjectMeta{Labels: labels},
				Spec:       pod,
			},
			Strategy: e.strategy(),
		},
	}
	if dl := c.Spec.Update.ProgressDeadline; dl != "" {
		d.Spec.ProgressDeadlineSeconds = ptr(e.seconds("spec.update.progressDeadline", dl.Std()))
	}
	return Object{Kind: "Deployment", Name: c.Metadata.Name, Object: d}, class
}

// labels are the manifest's labels, which Kubernetes must accept, and the
// selector label.
func (e *exporter) labels() map[string]string {
	out := map[string]string{LabelName: e.c.Metadata.Name}
	for _, k := range sortedKeys(e.c.Metadata.Labels) {
		v := e.c.Metadata.Labels[k]
		field := "metadata.labels." + k
		if errs := content.IsLabelKey(k); len(errs) > 0 {
			e.fail(field, "is not a Kubernetes label key: %s", strings.Join(errs, "; "))
			continue
		}
		if errs := content.IsLabelValue(v); len(errs) > 0 {
			e.fail(field, "%q is not a Kubernetes label value: %s", v, strings.Join(errs, "; "))
			continue
		}
		if k == LabelName && v != e.c.Metadata.Name {
			e.fail(field, "%q: the export selects the pods by %s=%s; drop the label or give it the container's name", v, LabelName, e.c.Metadata.Name)
			continue
		}
		out[k] = v
	}
	return out
}

// podSpec is the pod of e's container and the RuntimeClass it names.
func (e *exporter) podSpec() (PodSpec, string) {
	s := &e.c.Spec
	ctr := Container{
		Name:       e.c.Metadata.Name,
		Image:      s.Image,
		Command:    s.Command,
		WorkingDir: s.WorkingDir,
		Env:        e.env(),
		Ports:      e.ports(),
		Resources:  e.resources(),
	}
	volumes, mounts := e.volumes()
	ctr.VolumeMounts = mounts
	e.probes(&ctr)
	class := e.runtimeClass()
	pod := PodSpec{
		OS:            &PodOS{Name: "windows"},
		NodeSelector:  e.nodeSelector(),
		Tolerations:   []Toleration{windowsToleration()},
		Hostname:      s.Hostname,
		RestartPolicy: e.restartPolicy(),
		Containers:    []Container{ctr},
		Volumes:       volumes,
	}
	if class != "" {
		pod.RuntimeClassName = ptr(class)
	}
	e.unmapped()
	return pod, class
}

// windowsToleration tolerates the taint Windows nodes usually carry so
// that Linux pods stay off them.
func windowsToleration() Toleration {
	return Toleration{Key: "os", Operator: "Equal", Value: "windows", Effect: "NoSchedule"}
}

// nodeSelector pins the pod to Windows amd64 nodes of the image's build,
// the only nodes sure to run it (Kubernetes' own advice for Windows
// images). An image whose build cannot be told is an error: the pod could
// land on any Windows node and fail there with HCS's 0xc0370101.
func (e *exporter) nodeSelector() map[string]string {
	sel := map[string]string{labelOS: "windows", labelArch: "amd64"}
	img, err := spec.ImageOSVersion(e.c.Spec.Image, e.c.Spec.OSVersion)
	switch {
	case err != nil:
		e.fail("spec.osVersion", "%v", err)
	case !img.Known:
		e.fail("spec.image", "the image's Windows build cannot be told from its tag, and %s needs it; state spec.osVersion (e.g. 10.0.20348)", labelWindowsBuild)
	default:
		sel[labelWindowsBuild] = fmt.Sprintf("10.0.%d", img.Build)
	}
	return sel
}

// runtimeClass is the RuntimeClass of the container's isolation mode.
func (e *exporter) runtimeClass() string {
	switch e.c.Spec.Isolation {
	case spec.IsolationProcess:
		return RuntimeClassProcess
	case spec.IsolationHyperV:
		e.warn("spec.isolation", "hyperv runs with RuntimeClass %s (containerd 1.7 or later with a runtime whose SandboxIsolation is 1); Kubernetes does not officially support Hyper-V isolation yet", RuntimeClassHyperV)
		return RuntimeClassHyperV
	case spec.IsolationAuto:
		e.warn("spec.isolation", "auto becomes process isolation (RuntimeClass %s): the pod is pinned to nodes of the image's build, where process isolation runs it; Kubernetes does not decide isolation per node", RuntimeClassProcess)
		return RuntimeClassProcess
	}
	e.warn("spec.isolation", "default sets no runtimeClassName: the pod gets the node's default runtime, process isolation on Windows Server nodes, as this agent's default on a server; say process or hyperv to pin it")
	return ""
}

// restartPolicy maps the manifest's restart policy; a Deployment's pods
// always restart.
func (e *exporter) restartPolicy() string {
	switch e.c.Spec.RestartPolicy {
	case spec.RestartOnFailure:
		if e.opt.Kind == KindDeployment {
			e.warn("spec.restartPolicy", "on-failure: a Deployment's pods always restart, after a clean exit too; export with --kind pod to keep on-failure")
			return RestartPolicyAlways
		}
		return RestartPolicyOnFailure
	case spec.RestartNever:
		if e.opt.Kind == KindDeployment {
			e.fail("spec.restartPolicy", "never: a Deployment's pods always restart; export with --kind pod, or use always")
			return RestartPolicyAlways
		}
		return RestartPolicyNever
	}
	return RestartPolicyAlways
}

// ptr is a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// sortedKeys are m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// runtimeClass is the RuntimeClass object of handler name, scheduled on
// Windows nodes.
func runtimeClass(name string) *RuntimeClass {
	return &RuntimeClass{
		TypeMeta:   TypeMeta{APIVersion: "node.k8s.io/v1", Kind: "RuntimeClass"},
		ObjectMeta: ObjectMeta{Name: name},
		Handler:    name,
		Scheduling: &Scheduling{
			NodeSelector: map[string]string{labelOS: "windows"},
			Tolerations:  []Toleration{windowsToleration()},
		},
	}
}

// unknownSecretTargets are the EnvSecrets entries naming a container no
// manifest declares: a typo there would leave values in the output.
func unknownSecretTargets(containers []spec.Container, opt Options) []spec.Problem {
	var out []spec.Problem
	for _, name := range sortedKeys(opt.EnvSecrets) {
		if name == AllContainers || slices.ContainsFunc(containers, func(c spec.Container) bool { return c.Metadata.Name == name }) {
			continue
		}
		out = append(out, spec.Problem{Name: name, Message: fmt.Sprintf("no manifest declares container %q, whose environment was to come from secret %q", name, opt.EnvSecrets[name])})
	}
	return out
}
