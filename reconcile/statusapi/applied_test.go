package statusapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// appliedOf is the "applied" part of GET /status, raw.
func appliedOf(t *testing.T, s *Status) json.RawMessage {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &keys); err != nil {
		t.Fatal(err)
	}
	raw, ok := keys["applied"]
	if !ok {
		t.Fatalf("GET /status has no applied: %s", rec.Body)
	}
	return raw
}

// GET /status says what the host last applied, named by its facts, with
// the commit in force of each git source and the plan's counts.
func TestStatusApplied(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	git := &fakeGit{status: source.GitStatus{Commit: "c1", Newest: "c2"}}
	s := NewStatus([]GitSource{git}, fakeDriver{}, func() time.Time { return at })
	s.SetFacts(spec.HostFacts{Hostname: "web-01", Labels: map[string]string{"site": "paris"}})
	if raw := appliedOf(t, s); string(raw) != "null" {
		t.Errorf("applied = %s before any pass, want null", raw)
	}
	s.SetPlan(reconcile.Plan{
		Actions: []reconcile.Action{
			{Kind: reconcile.ActionCreate, Name: "web", Status: reconcile.StatusDone},
			{Kind: reconcile.ActionRemove, Name: "old", Status: reconcile.StatusHeld},
		},
		Unchanged: []string{"db"},
		Errors:    []spec.Problem{{File: "bad.yaml", Message: "bad"}},
	})
	var got appliedJSON
	if err := json.Unmarshal(appliedOf(t, s), &got); err != nil {
		t.Fatal(err)
	}
	if got.Host.Hostname != "web-01" || got.Host.Labels["site"] != "paris" || !got.At.Equal(at) || len(got.Commits) != 1 || got.Commits[0] != "c1" ||
		got.Create != 1 || got.Held != 1 || got.Unchanged != 1 || got.Errors != 1 || got.DryRun {
		t.Errorf("applied = %+v", got)
	}
}
