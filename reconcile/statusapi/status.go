package statusapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
)

// GitSource is what the API needs of a git source: its status for GET
// /status and a trigger for the webhook (*source.GitSource).
type GitSource interface {
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
	// health, if set, is shown.
	health HealthReporter
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
// is the zero time and plan is null; git and pulls are lists, never null.
type statusJSON struct {
	LastPass   time.Time             `json:"lastPass"`
	Plan       json.RawMessage       `json:"plan"`
	GitSources []source.GitStatus    `json:"git"`
	Pulls      []driver.PullProgress `json:"pulls"`
	// Health is the health of the running containers that declare a
	// healthcheck, by name; a list, never null.
	Health []reconcile.ContainerHealth `json:"health"`
}

// ServeHTTP answers GET /status with statusJSON, the plan in the JSON of
// reconcile.WriteJSON (DESIGN §6).
func (s *Status) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	plan, at, health := s.plan, s.at, s.health
	s.mu.Unlock()
	out := statusJSON{LastPass: at, Plan: json.RawMessage("null"),
		GitSources: make([]source.GitStatus, 0, len(s.gits)), Pulls: []driver.PullProgress{}}
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
