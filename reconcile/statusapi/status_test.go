package statusapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// fakeGit is a git source with a fixed status that counts its triggers.
type fakeGit struct {
	status   source.GitStatus
	triggers int
}

func (g *fakeGit) String() string           { return "git fake" }
func (g *fakeGit) Status() source.GitStatus { return g.status }
func (g *fakeGit) Trigger()                 { g.triggers++ }

// fakeDriver is a driver that does not pull images; its Driver methods
// are never called by the API (a call would panic on the nil interface).
type fakeDriver struct{ driver.Driver }

// listDriver is a driver whose List answers systems (or err).
type listDriver struct {
	driver.Driver
	systems []driver.System
	err     error
}

func (d listDriver) List(context.Context) ([]driver.System, error) { return d.systems, d.err }

// fakePuller is a driver reporting fixed pulls in progress.
type fakePuller struct {
	driver.Driver
	pulls []driver.PullProgress
}

func (p fakePuller) Pulls() []driver.PullProgress { return p.pulls }

var _ driver.PullReporter = fakePuller{}

// gotStatus is GET /status decoded, the plan kept raw.
type gotStatus struct {
	LastPass time.Time             `json:"lastPass"`
	Plan     json.RawMessage       `json:"plan"`
	Git      []source.GitStatus    `json:"git"`
	Pulls    []driver.PullProgress `json:"pulls"`
}

// getStatus serves GET /status from s and decodes it, checking the parts
// of the shape that hold whatever the state: 200, JSON, the four keys and
// lists that are never null.
func getStatus(t *testing.T, s *Status) gotStatus {
	t.Helper()
	rec := httptest.NewRecorder()
	h, err := NewHandler(Options{Status: s, WebhookSecret: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /status: %d %q, want 200 application/json", rec.Code, rec.Header().Get("Content-Type"))
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &keys); err != nil {
		t.Fatalf("GET /status is not a JSON object: %v\n%s", err, rec.Body)
	}
	for _, k := range []string{"lastPass", "plan", "git", "pulls"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("GET /status has no %q: %s", k, rec.Body)
		}
	}
	for _, k := range []string{"git", "pulls"} {
		if string(keys[k]) == "null" {
			t.Errorf("GET /status: %q is null, want a list", k)
		}
	}
	var got gotStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestStatusBeforeFirstPass(t *testing.T) {
	git := &fakeGit{status: source.GitStatus{Newest: "abc", LastError: "remote unreachable"}}
	got := getStatus(t, NewStatus([]GitSource{git}, fakeDriver{}, nil))
	if !got.LastPass.IsZero() {
		t.Errorf("lastPass = %v before any pass, want the zero time", got.LastPass)
	}
	if string(got.Plan) != "null" {
		t.Errorf("plan = %s before any pass, want null", got.Plan)
	}
	if want := []source.GitStatus{git.status}; !reflect.DeepEqual(got.Git, want) {
		t.Errorf("git = %+v, want %+v (shown before the first pass)", got.Git, want)
	}
	if len(got.Pulls) != 0 {
		t.Errorf("pulls = %+v from a driver that does not pull, want none", got.Pulls)
	}
}

func TestStatusAfterPass(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	started := at.Add(-time.Minute)
	pulls := []driver.PullProgress{{Image: "mcr.microsoft.com/windows/servercore:ltsc2022", Layer: 2, Layers: 3, Bytes: 1 << 20, Started: started}}
	git := &fakeGit{status: source.GitStatus{Commit: "c1", Newest: "c2", HeldFiles: map[string]string{"web.yaml": "c0"}}}
	s := NewStatus([]GitSource{git}, fakePuller{pulls: pulls}, func() time.Time { return at })
	plan := reconcile.Plan{
		DryRun:    true,
		Host:      spec.Host{Build: 20348, SKU: spec.SKUServer},
		Actions:   []reconcile.Action{{Kind: reconcile.ActionRemove, Name: "old", Status: reconcile.StatusHeld, HoldReason: "mass removal"}},
		Unchanged: []string{"db"},
	}
	s.SetPlan(plan)

	got := getStatus(t, s)
	if !got.LastPass.Equal(at) {
		t.Errorf("lastPass = %v, want the clock's %v", got.LastPass, at)
	}
	var want strings.Builder
	if err := reconcile.WriteJSON(&want, plan); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, got.Plan, []byte(want.String())) {
		t.Errorf("plan = %s\nwant the plan's JSON (reconcile.WriteJSON) %s", got.Plan, want.String())
	}
	if !reflect.DeepEqual(got.Git, []source.GitStatus{git.status}) {
		t.Errorf("git = %+v, want %+v", got.Git, git.status)
	}
	if len(got.Pulls) != 1 || got.Pulls[0].Image != pulls[0].Image || got.Pulls[0].Layer != 2 || got.Pulls[0].Layers != 3 ||
		got.Pulls[0].Bytes != 1<<20 || !got.Pulls[0].Started.Equal(started) {
		t.Errorf("pulls = %+v, want %+v", got.Pulls, pulls)
	}
}

func TestStatusPullReporterWithNoPulls(t *testing.T) {
	for _, d := range []driver.Driver{fakePuller{}, fakePuller{pulls: []driver.PullProgress{}}} {
		if got := getStatus(t, NewStatus(nil, d, nil)); len(got.Pulls) != 0 || len(got.Git) != 0 {
			t.Errorf("status = %+v, want no pulls and no git sources", got)
		}
	}
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := errors.Join(json.Unmarshal(a, &va), json.Unmarshal(b, &vb)); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

// fixedHealth reports a fixed health list.
type fixedHealth []reconcile.ContainerHealth

func (h fixedHealth) Health() []reconcile.ContainerHealth { return h }

func TestStatusShowsHealth(t *testing.T) {
	s := NewStatus(nil, fakeDriver{}, nil)
	rec := httptest.NewRecorder()
	h, err := NewHandler(Options{Status: s, WebhookSecret: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	get := func() map[string]json.RawMessage {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &keys); err != nil {
			t.Fatal(err)
		}
		return keys
	}
	if got := string(get()["health"]); got != "[]" {
		t.Errorf("health = %s without a monitor, want []", got)
	}
	since := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	s.ShowHealth(fixedHealth{{Name: "web", ID: "web_1", Health: reconcile.HealthUnhealthy, LastFailure: "HTTP 503", Failures: 3, Since: since}})
	var got []reconcile.ContainerHealth
	if err := json.Unmarshal(get()["health"], &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "web" || got[0].Health != reconcile.HealthUnhealthy || got[0].LastFailure != "HTTP 503" || !got[0].Since.Equal(since) {
		t.Errorf("health = %+v", got)
	}
}
