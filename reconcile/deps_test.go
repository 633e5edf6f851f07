package reconcile

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSourceImplementationDeps proves the planner and agent link none of
// the sources' dependencies: reconcile declares Source and cmd/reconciler
// wires the implementations in, so go-git and go-crypto stay out of it.
func TestNoSourceImplementationDeps(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go binary not on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	var bad []string
	for _, p := range deps {
		if p == "github.com/reconciler/reconciler/reconcile/source" ||
			strings.Contains(p, "go-git") || strings.Contains(p, "ProtonMail") {
			bad = append(bad, p)
		}
	}
	if len(bad) > 0 {
		t.Errorf("reconcile links %d forbidden packages:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
