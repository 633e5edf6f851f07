package statusapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// GitSource is what the API needs of a git source: its status for GET
// /status and GET /readyz, and a trigger for the webhook
// (*source.GitSource).
type GitSource interface {
	// String names the source as the agent's pass reports do.
	String() string
	// Status is the source's commit in force, newest head and last error.
	Status() source.GitStatus
	// Trigger asks for a fetch now; it must not block.
	Trigger()
}

// Status is what GET /status shows: the last pass's plan and when it ended,
// the git sources' status and the image pulls in progress. Safe for
// concurrent use: SetPlan is called by the agent, ServeHTTP by the server.
type Status struct {
	gits  []GitSource
	pulls driver.PullReporter // nil when the driver does not pull images
	now   func() time.Time

	mu   sync.Mutex
	plan *reconcile.Plan
	at   time.Time
	// report is the last pass's (Report); nil before the first.
	report *reconcile.PassReport
	// suspension, if set, is shown.
	suspension *Suspension
	// facts name the host in GET /status (applied).
	facts spec.HostFacts
	// health, if set, is shown.
	health HealthReporter
	// published, if set, is shown in applied.
	published func() source.PublishState
}

// ShowSuspension has GET /status show s.
func (s *Status) ShowSuspension(sp *Suspension) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suspension = sp
}

// Report records what the pass that just ended did (reconcile.Agent's
// OnReport), for GET /status and /readyz: the plan (as SetPlan), each
// source's revision and error, or why the host could not be read.
func (s *Status) Report(r reconcile.PassReport) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.report = &r
	if r.Err == nil {
		s.plan, s.at = &r.Plan, s.now()
	}
}

// Ready says whether the agent does its job: its first pass is done, it
// read the host and every source in its last pass, and no git remote is
// failing. Otherwise reason says why not.
func (s *Status) Ready() (ready bool, reason string) {
	s.mu.Lock()
	r := s.report
	s.mu.Unlock()
	switch {
	case r == nil:
		return false, "no pass has ended yet"
	case r.Err != nil:
		return false, "the last pass could not read the host: " + r.Err.Error()
	}
	for _, src := range r.Sources {
		if src.Err != nil {
			return false, fmt.Sprintf("source %s could not be read: %v", src.Name, src.Err)
		}
	}
	for _, g := range s.gits {
		if st := g.Status(); st.LastError != "" {
			return false, fmt.Sprintf("source %s: %s", g, st.LastError)
		}
	}
	return true, ""
}

// serveReady answers GET /readyz: 200 "ok", or 503 with the reason.
func (s *Status) serveReady(w http.ResponseWriter, _ *http.Request) {
	ready, reason := s.Ready()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, reason)
		return
	}
	fmt.Fprintln(w, "ok")
}

// NewStatus returns the status of an agent with these git sources. d is
// the agent's driver: its pulls are shown when it is a
// driver.PullReporter. now is the clock that stamps passes (time.Now when
// nil).
func NewStatus(gits []GitSource, d driver.Driver, now func() time.Time) *Status {
	if now == nil {
		now = time.Now
	}
	pulls, _ := d.(driver.PullReporter)
	return &Status{gits: gits, pulls: pulls, now: now}
}

// SetPlan records the plan of the pass that just ended (reconcile.Agent's
// OnPass).
func (s *Status) SetPlan(p reconcile.Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plan, s.at = &p, s.now()
}

// statusJSON is the answer of GET /status. Before the first pass, lastPass
// is the zero time and plan is null; sources, git and pulls are lists,
// never null. The plan of a suspended agent is planned, not applied.
type statusJSON struct {
	LastPass   time.Time             `json:"lastPass"`
	Plan       json.RawMessage       `json:"plan"`
	Sources    []sourceJSON          `json:"sources"`
	GitSources []source.GitStatus    `json:"git"`
	Pulls      []driver.PullProgress `json:"pulls"`
	Suspension *SuspensionState      `json:"suspension,omitempty"`
	Ready      bool                  `json:"ready"`
	NotReady   string                `json:"notReady,omitempty"`
	Applied    *appliedJSON          `json:"applied"`
	// Health is the health of the running containers that declare a
	// healthcheck, by name; a list, never null.
	Health []reconcile.ContainerHealth `json:"health"`
}

// sourceJSON is a source of any kind as the last pass read it.
type sourceJSON struct {
	Name     string `json:"name"`
	Revision string `json:"revision,omitempty"`
	Error    string `json:"error,omitempty"`
}

// ServeHTTP answers GET /status with statusJSON, the plan in the JSON of
// reconcile.WriteJSON (DESIGN §6).
func (s *Status) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	plan, at, report, sp, facts, health, published := s.plan, s.at, s.report, s.suspension, s.facts, s.health, s.published
	s.mu.Unlock()
	out := statusJSON{LastPass: at, Plan: json.RawMessage("null"), Sources: []sourceJSON{},
		GitSources: make([]source.GitStatus, 0, len(s.gits)), Pulls: []driver.PullProgress{}}
	out.Ready, out.NotReady = s.Ready()
	if sp != nil {
		st := sp.State()
		out.Suspension = &st
	}
	if report != nil {
		for _, src := range report.Sources {
			j := sourceJSON{Name: src.Name, Revision: src.Revision}
			if src.Err != nil {
				j.Error = src.Err.Error()
			}
			out.Sources = append(out.Sources, j)
		}
	}
	if plan != nil {
		var b bytes.Buffer
		if err := reconcile.WriteJSON(&b, *plan); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out.Plan = b.Bytes()
	}
	for _, g := range s.gits {
		out.GitSources = append(out.GitSources, g.Status())
	}
	if s.pulls != nil {
		if p := s.pulls.Pulls(); p != nil {
			out.Pulls = p
		}
	}
	out.Applied = s.applied(plan, at, facts)
	if out.Applied != nil && published != nil {
		st := published()
		out.Applied.Published = &st
	}
	out.Health = []reconcile.ContainerHealth{}
	if health != nil {
		out.Health = health.Health()
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// HealthReporter is what GET /status shows of the containers' health
// (*reconcile.HealthMonitor).
type HealthReporter interface {
	// Health returns each watched container's health, by name; it must
	// not block on the host.
	Health() []reconcile.ContainerHealth
}

// ShowHealth has GET /status show the health h keeps.
func (s *Status) ShowHealth(h HealthReporter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = h
}
