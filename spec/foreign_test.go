package spec

import (
	"strings"
	"testing"
)

func TestParseForeignFiles(t *testing.T) {
	tests := []struct {
		name, file, text string
		want             string // the one problem, as Error() renders it; "" for none of this kind
	}{
		{name: "kubernetes pod", file: "pod.yaml",
			text: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - {name: web, image: mcr.microsoft.com/windows/servercore:ltsc2022}\n",
			want: "pod.yaml:2: web: kind: this document is a Kubernetes Pod (apiVersion v1), not a reconciler manifest"},
		{name: "kubernetes deployment in a second document", file: "all.yaml",
			text: container("db") + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n",
			want: "all.yaml:7: api: kind: this document is a Kubernetes Deployment (apiVersion apps/v1)"},
		{name: "kustomization", file: "kustomization.yaml",
			text: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n",
			want: "kustomization.yaml:2: kind: this document is a Kubernetes Kustomization (apiVersion kustomize.config.k8s.io/v1beta1)"},
		{name: "another tool's object", file: "cert.yaml",
			text: "apiVersion: cert-manager.io/v1\nkind: Certificate\n",
			want: "cert.yaml:2: kind: this document is a Certificate of cert-manager.io/v1, not a reconciler manifest"},
		{name: "compose file", file: "docker-compose.yml",
			text: "# compose\nservices:\n  web:\n    image: mcr.microsoft.com/windows/servercore:ltsc2022\n",
			want: "docker-compose.yml:2: services: this looks like a docker-compose file (top-level services:)"},
		// Ours, even when wrong, gets the field-by-field problems.
		{name: "our apiVersion, another version", file: "v2.yaml",
			text: "apiVersion: reconciler/v2\nkind: Container\nmetadata: {name: x}\nspec: {image: a}\n"},
		{name: "a manifest with a services field is ours", file: "odd.yaml",
			text: "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: x}\nservices: {}\nspec: {image: a}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := Parse(strings.NewReader(tt.text), tt.file)
			var foreign []string
			for _, p := range problems {
				if strings.Contains(p.Message, "not a reconciler manifest") {
					foreign = append(foreign, p.Error())
				}
			}
			if tt.want == "" {
				if len(foreign) > 0 || len(problems) == 0 {
					t.Errorf("problems = %v, want field problems and no foreign-file one", problems)
				}
				return
			}
			if len(problems) != 1 || len(foreign) != 1 || !strings.HasPrefix(foreign[0], tt.want) {
				t.Errorf("problems = %v, want exactly one starting %q", problems, tt.want)
			}
			if !strings.Contains(foreign[0], "examples/manifests") {
				t.Errorf("%q does not point at the examples", foreign[0])
			}
		})
	}
}
