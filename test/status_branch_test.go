package test

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"testing"

	"github.com/reconciler/reconciler/internal/testfixture"
)

// statusFile reads hosts/<host>.json on the branch of the bare repository
// with the git binary; ok is false while it is not there.
func statusFile(t *testing.T, bare, branch, host string) (file map[string]any, ok bool) {
	t.Helper()
	cmd := exec.Command("git", "--git-dir", bare, "show", branch+":hosts/"+host+".json")
	out, err := cmd.Output()
	if err != nil {
		return nil, false
	}
	if err := json.Unmarshal(out, &file); err != nil {
		t.Fatalf("hosts/%s.json on %s: %v\n%s", host, branch, err, out)
	}
	return file, true
}

// An agent with --status-branch publishes what it applied on that branch
// of the repository it tracks, and again after a change, without touching
// the tracked branch; GET /status shows the commit it pushed.
func TestWatchGitPublishesStatusBranch(t *testing.T) {
	t.Parallel()
	e, r := newEnv(t), testfixture.NewRemote(t)
	first := r.Publish(testfixture.Manifests("web"), nil)
	a := e.startGit(r, "--status-branch", "fleet-status", "--status-interval", "1ms", "--hostname", "Web1")

	// published waits until the file says commit is in force, and returns it.
	published := func(commit string) map[string]any {
		t.Helper()
		var file map[string]any
		if !testfixture.Eventually(t, func() bool {
			var ok bool
			file, ok = statusFile(t, r.Bare, "fleet-status", "web1")
			cs, _ := file["commits"].([]any)
			return ok && len(cs) == 1 && cs[0] == commit
		}) {
			t.Fatalf("hosts/web1.json on fleet-status never showed commit %.7s: %v\n%s", commit, file, a.stderr)
		}
		return file
	}
	file := published(first)
	host, _ := file["host"].(map[string]any)
	if file["owner"] == "" || file["owner"] == nil || host["hostname"] != "Web1" || file["create"] != 1.0 || file["errors"] != 0.0 {
		t.Errorf("hosts/web1.json = %v", file)
	}
	second := r.Publish(map[string]string{"api.yaml": testfixture.Manifest("api", ltsc2022, "process")}, nil)
	published(second)

	if got := testfixture.RunGit(t, r.Bare, "rev-parse", "main"); got != second {
		t.Errorf("main is at %.7s, want %.7s: the agent moved the tracked branch", got, second)
	}
	if n := testfixture.RunGit(t, r.Bare, "rev-list", "--count", "fleet-status", "^main"); n != testfixture.RunGit(t, r.Bare, "rev-list", "--count", "fleet-status") {
		t.Errorf("fleet-status shares history with main: %s commits of its own", n)
	}
	var st struct {
		Applied struct {
			Published struct {
				Branch, Commit, Error string
			} `json:"published"`
		} `json:"applied"`
	}
	head := testfixture.RunGit(t, r.Bare, "rev-parse", "fleet-status")
	if !testfixture.Eventually(t, func() bool {
		resp, err := http.Get(a.url + "/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st.Applied.Published.Commit == head
	}) {
		t.Errorf("GET /status applied.published = %+v, want commit %.7s on fleet-status", st.Applied.Published, head)
	}
}
