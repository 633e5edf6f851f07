package kube

import (
	"strconv"
)

// The Kubernetes objects the export writes, as the subset of the
// k8s.io/api types (apps/v1, core/v1, node/v1) it sets: same JSON field
// names, same omitempty. They are declared here rather than imported
// because linking k8s.io/api and k8s.io/apimachinery into the one
// reconciler binary made it 10 MB larger and cost every process of it,
// the agent included, some 3 MB of resident memory for code and data it
// never runs. The tests decode every object written strictly into the
// k8s.io/api types, so a field that drifts from them fails there.

// The values of the k8s.io/api enumerations the export writes.
const (
	// Deployment strategy types (appsv1).
	RecreateDeploymentStrategyType      = "Recreate"
	RollingUpdateDeploymentStrategyType = "RollingUpdate"
	// Pod restart policies (corev1).
	RestartPolicyAlways    = "Always"
	RestartPolicyOnFailure = "OnFailure"
	RestartPolicyNever     = "Never"
	// Port protocols (corev1).
	ProtocolTCP = "TCP"
	ProtocolUDP = "UDP"
	// Resource names (corev1).
	ResourceCPU    = "cpu"
	ResourceMemory = "memory"
)

// TypeMeta is metav1.TypeMeta.
type TypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// ObjectMeta is the part of metav1.ObjectMeta the export sets.
type ObjectMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// LabelSelector is the part of metav1.LabelSelector the export sets.
type LabelSelector struct {
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// Deployment is appsv1.Deployment.
type Deployment struct {
	TypeMeta   `json:",inline"`
	ObjectMeta ObjectMeta     `json:"metadata,omitempty"`
	Spec       DeploymentSpec `json:"spec,omitempty"`
	// Status is always empty: written as {}, as kubectl does.
	Status struct{} `json:"status,omitempty"`
}

// DeploymentSpec is the part of appsv1.DeploymentSpec the export sets.
type DeploymentSpec struct {
	Replicas                *int32             `json:"replicas,omitempty"`
	Selector                *LabelSelector     `json:"selector"`
	Template                PodTemplateSpec    `json:"template,omitempty"`
	Strategy                DeploymentStrategy `json:"strategy,omitempty"`
	ProgressDeadlineSeconds *int32             `json:"progressDeadlineSeconds,omitempty"`
}

// DeploymentStrategy is appsv1.DeploymentStrategy.
type DeploymentStrategy struct {
	Type          string                   `json:"type,omitempty"`
	RollingUpdate *RollingUpdateDeployment `json:"rollingUpdate,omitempty"`
}

// RollingUpdateDeployment is appsv1.RollingUpdateDeployment with integer
// values only (an intstr.IntOrString holding an int is written as a
// number).
type RollingUpdateDeployment struct {
	MaxUnavailable *int32 `json:"maxUnavailable,omitempty"`
	MaxSurge       *int32 `json:"maxSurge,omitempty"`
}

// Pod is corev1.Pod.
type Pod struct {
	TypeMeta   `json:",inline"`
	ObjectMeta ObjectMeta `json:"metadata,omitempty"`
	Spec       PodSpec    `json:"spec,omitempty"`
	// Status is always empty: written as {}, as kubectl does.
	Status struct{} `json:"status,omitempty"`
}

// PodTemplateSpec is corev1.PodTemplateSpec.
type PodTemplateSpec struct {
	ObjectMeta ObjectMeta `json:"metadata,omitempty"`
	Spec       PodSpec    `json:"spec,omitempty"`
}

// PodSpec is the part of corev1.PodSpec the export sets.
type PodSpec struct {
	Volumes          []Volume          `json:"volumes,omitempty"`
	Containers       []Container       `json:"containers"`
	RestartPolicy    string            `json:"restartPolicy,omitempty"`
	NodeSelector     map[string]string `json:"nodeSelector,omitempty"`
	Hostname         string            `json:"hostname,omitempty"`
	Tolerations      []Toleration      `json:"tolerations,omitempty"`
	RuntimeClassName *string           `json:"runtimeClassName,omitempty"`
	OS               *PodOS            `json:"os,omitempty"`
}

// PodOS is corev1.PodOS.
type PodOS struct {
	Name string `json:"name"`
}

// Toleration is corev1.Toleration without tolerationSeconds.
type Toleration struct {
	Key      string `json:"key,omitempty"`
	Operator string `json:"operator,omitempty"`
	Value    string `json:"value,omitempty"`
	Effect   string `json:"effect,omitempty"`
}

// Container is the part of corev1.Container the export sets.
type Container struct {
	Name           string               `json:"name"`
	Image          string               `json:"image,omitempty"`
	Command        []string             `json:"command,omitempty"`
	WorkingDir     string               `json:"workingDir,omitempty"`
	Ports          []ContainerPort      `json:"ports,omitempty"`
	Env            []EnvVar             `json:"env,omitempty"`
	Resources      ResourceRequirements `json:"resources,omitempty"`
	VolumeMounts   []VolumeMount        `json:"volumeMounts,omitempty"`
	LivenessProbe  *Probe               `json:"livenessProbe,omitempty"`
	ReadinessProbe *Probe               `json:"readinessProbe,omitempty"`
	StartupProbe   *Probe               `json:"startupProbe,omitempty"`
}

// ContainerPort is the part of corev1.ContainerPort the export sets.
type ContainerPort struct {
	HostPort      int32  `json:"hostPort,omitempty"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol,omitempty"`
}

// EnvVar is corev1.EnvVar.
type EnvVar struct {
	Name      string        `json:"name"`
	Value     string        `json:"value,omitempty"`
	ValueFrom *EnvVarSource `json:"valueFrom,omitempty"`
}

// EnvVarSource is the part of corev1.EnvVarSource the export sets.
type EnvVarSource struct {
	SecretKeyRef *SecretKeySelector `json:"secretKeyRef,omitempty"`
}

// SecretKeySelector is corev1.SecretKeySelector without optional.
type SecretKeySelector struct {
	LocalObjectReference `json:",inline"`
	Key                  string `json:"key"`
}

// LocalObjectReference is corev1.LocalObjectReference.
type LocalObjectReference struct {
	Name string `json:"name,omitempty"`
}

// ResourceList is corev1.ResourceList: quantities by resource name, each
// in Kubernetes' canonical form (see milliCPU, bytesQuantity).
type ResourceList map[string]string

// ResourceRequirements is the part of corev1.ResourceRequirements the
// export sets.
type ResourceRequirements struct {
	Limits   ResourceList `json:"limits,omitempty"`
	Requests ResourceList `json:"requests,omitempty"`
}

// Volume is corev1.Volume with a hostPath source only.
type Volume struct {
	Name         string `json:"name"`
	VolumeSource `json:",inline"`
}

// VolumeSource is the part of corev1.VolumeSource the export sets.
type VolumeSource struct {
	HostPath *HostPathVolumeSource `json:"hostPath,omitempty"`
}

// HostPathVolumeSource is corev1.HostPathVolumeSource without type.
type HostPathVolumeSource struct {
	Path string `json:"path"`
}

// VolumeMount is the part of corev1.VolumeMount the export sets.
type VolumeMount struct {
	Name      string `json:"name"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	MountPath string `json:"mountPath"`
}

// Probe is the part of corev1.Probe the export sets.
type Probe struct {
	ProbeHandler     `json:",inline"`
	TimeoutSeconds   int32 `json:"timeoutSeconds,omitempty"`
	PeriodSeconds    int32 `json:"periodSeconds,omitempty"`
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
}

// ProbeHandler is the part of corev1.ProbeHandler the export sets.
type ProbeHandler struct {
	Exec      *ExecAction      `json:"exec,omitempty"`
	HTTPGet   *HTTPGetAction   `json:"httpGet,omitempty"`
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
}

// ExecAction is corev1.ExecAction.
type ExecAction struct {
	Command []string `json:"command,omitempty"`
}

// HTTPGetAction is the part of corev1.HTTPGetAction the export sets, its
// port a number.
type HTTPGetAction struct {
	Path string `json:"path,omitempty"`
	Port int32  `json:"port"`
}

// TCPSocketAction is corev1.TCPSocketAction, its port a number.
type TCPSocketAction struct {
	Port int32 `json:"port"`
}

// RuntimeClass is nodev1.RuntimeClass without overhead.
type RuntimeClass struct {
	TypeMeta   `json:",inline"`
	ObjectMeta ObjectMeta  `json:"metadata,omitempty"`
	Handler    string      `json:"handler"`
	Scheduling *Scheduling `json:"scheduling,omitempty"`
}

// Scheduling is nodev1.Scheduling.
type Scheduling struct {
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	Tolerations  []Toleration      `json:"tolerations,omitempty"`
}

// milliCPU is a CPU quantity of m thousandths, written as
// resource.NewMilliQuantity(m, resource.DecimalSI).String() does: the
// largest power-of-1000 suffix that keeps it whole ("500m", "2", "1500m",
// "1k").
func milliCPU(m int64) string {
	return canonical(m, 1000, []string{"m", "", "k", "M", "G", "T", "P", "E"})
}

// bytesQuantity is a memory quantity of b bytes, written as
// resource.NewQuantity(b, resource.BinarySI).String() does for a
// multiple of 1024: the largest power-of-1024 suffix that keeps it whole
// ("512Mi", "1Gi").
func bytesQuantity(b int64) string {
	return canonical(b, 1024, []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"})
}

// canonical writes v with the largest of suffixes (each base times the
// one before) that keeps its number whole.
func canonical(v, base int64, suffixes []string) string {
	if v == 0 {
		return "0"
	}
	i := 0
	for v%base == 0 && i < len(suffixes)-1 {
		v /= base
		i++
	}
	return strconv.FormatInt(v, 10) + suffixes[i]
}
