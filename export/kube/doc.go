// Package kube exports manifests as Kubernetes objects for Windows nodes:
// per container a Deployment (or a bare Pod), pinned to Windows nodes of
// the image's OS build, with its isolation mode as a RuntimeClass. Every
// field of a manifest is either carried over or named in an error or a
// warning: nothing is dropped silently.
//
// It imports spec, not the Kubernetes API types: it declares the subset
// of them it writes (objects.go), checked against k8s.io/api by its tests,
// so that the one reconciler binary, the agent included, does not carry
// k8s.io/api and k8s.io/apimachinery (10 MB of binary, some 3 MB of
// resident memory in every process).
package kube
