// Package kube exports manifests as Kubernetes objects for Windows nodes:
// per container a Deployment (or a bare Pod), pinned to Windows nodes of
// the image's OS build, with its isolation mode as a RuntimeClass. Every
// field of a manifest is either carried over or named in an error or a
// warning: nothing is dropped silently.
//
// It imports spec and the Kubernetes API types; only the command line
// imports it, so the agent itself never links k8s.io/api.
package kube
