package spec

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// foreignDocument recognises a document that is another tool's file, not
// a reconciler manifest — a Kubernetes object (its apiVersion is not
// reconciler's) or a docker-compose file (top-level services) — and
// returns the one problem that says so, with what to do, instead of a
// problem per field the two formats do not share. It reads the top-level
// keys only (no alias or merge key is followed).
func foreignDocument(root *yaml.Node, file string, d document) (Problem, bool) {
	if root.Kind != yaml.MappingNode {
		return Problem{}, false
	}
	top := make(map[string]*yaml.Node, len(root.Content)/2)
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Kind == yaml.ScalarNode {
			top[k.Value] = k
		}
	}
	scalar := func(key string) string {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if k, v := root.Content[i], root.Content[i+1]; k.Kind == yaml.ScalarNode && k.Value == key && v.Kind == yaml.ScalarNode {
				return v.Value
			}
		}
		return ""
	}
	apiVersion, kind := scalar("apiVersion"), scalar("kind")
	switch {
	case apiVersion != "" && kind != "" && !strings.HasPrefix(apiVersion, "reconciler/"):
		what := fmt.Sprintf("a %s of %s", kind, apiVersion)
		if group, _, grouped := strings.Cut(apiVersion, "/"); !grouped || !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io") {
			what = fmt.Sprintf("a Kubernetes %s (apiVersion %s)", kind, apiVersion) // core, apps/v1, *.k8s.io
		}
		return Problem{File: file, Line: d.fileLine(top["kind"].Line), Name: nameOf(root), Field: "kind",
			Message: fmt.Sprintf("this document is %s, not a reconciler manifest: reconciler reads apiVersion: reconciler/v1, kind: Container, with the image at spec.image "+
				"(see examples/manifests); convert it, or keep it out of the manifests", what)}, true
	case apiVersion == "" && kind == "" && top["services"] != nil:
		return Problem{File: file, Line: d.fileLine(top["services"].Line), Field: "services",
			Message: "this looks like a docker-compose file (top-level services:), not a reconciler manifest: write one document per service with apiVersion: reconciler/v1, kind: Container, " +
				"metadata.name and spec.image (see examples/manifests), or keep it out of the manifests"}, true
	}
	return Problem{}, false
}
