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

// The file of a status branch is applied plus the owner; its key changes
// with the summary, never with the time alone; GET /status shows what was
// last published.
func TestStatusAppliedFile(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := NewStatus(nil, fakeDriver{}, func() time.Time { return now })
	s.SetFacts(spec.HostFacts{Hostname: "web-01"})
	if _, _, ok := s.AppliedFile("ops"); ok {
		t.Error("a file before the first pass")
	}
	plan := func(creates int) reconcile.Plan {
		var p reconcile.Plan
		for range creates {
			p.Actions = append(p.Actions, reconcile.Action{Kind: reconcile.ActionCreate, Name: "web", Status: reconcile.StatusDone})
		}
		return p
	}
	s.SetPlan(plan(1))
	doc1, key1, ok := s.AppliedFile("ops")
	if !ok {
		t.Fatal("no file after a pass")
	}
	var got struct {
		Owner     string          `json:"owner"`
		Host      spec.HostFacts  `json:"host"`
		At        time.Time       `json:"at"`
		Create    int             `json:"create"`
		Published json.RawMessage `json:"published"`
	}
	if err := json.Unmarshal(doc1, &got); err != nil {
		t.Fatal(err)
	}
	if got.Owner != "ops" || got.Host.Hostname != "web-01" || !got.At.Equal(now) || got.Create != 1 || got.Published != nil {
		t.Errorf("file = %s", doc1)
	}
	now = now.Add(time.Minute)
	s.SetPlan(plan(1))
	doc2, key2, _ := s.AppliedFile("ops")
	if string(key2) != string(key1) || string(doc2) == string(doc1) {
		t.Errorf("a later pass with the same summary: key %s -> %s, doc changed %t", key1, key2, string(doc2) != string(doc1))
	}
	s.SetPlan(plan(2))
	if _, key3, _ := s.AppliedFile("ops"); string(key3) == string(key2) {
		t.Errorf("a changed summary kept its key %s", key3)
	}
	s.ShowPublished(func() source.PublishState { return source.PublishState{Branch: "status", Commit: "abc"} })
	var shown appliedJSON
	if err := json.Unmarshal(appliedOf(t, s), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Published == nil || shown.Published.Commit != "abc" || shown.Published.Branch != "status" {
		t.Errorf("applied.published = %+v", shown.Published)
	}
}
