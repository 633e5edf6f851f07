package statusapi

import (
	"encoding/json"
	"time"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// appliedJSON is the "applied" part of GET /status: what this host last
// applied, in a few numbers, so that a fleet's state can be gathered from
// each agent's /status. Null before the first pass.
type appliedJSON struct {
	// Host names the host as placement sees it.
	Host spec.HostFacts `json:"host"`
	// At is when the pass ended.
	At time.Time `json:"at"`
	// Commits are the commits in force of the git sources, in order
	// ("" for one without a good commit yet).
	Commits   []string `json:"commits"`
	DryRun    bool     `json:"dryRun"`
	Create    int      `json:"create"`
	Recreate  int      `json:"recreate"`
	Remove    int      `json:"remove"`
	Held      int      `json:"held"`
	Unchanged int      `json:"unchanged"`
	Failed    int      `json:"failed"`
	Errors    int      `json:"errors"`
	Warnings  int      `json:"warnings"`
	// Published is what the agent last pushed to its status branch
	// (watch --status-branch); absent without one.
	Published *source.PublishState `json:"published,omitempty"`
}

// ShowPublished has GET /status show, in applied.published, what state
// (StatusPublisher.State) says was last pushed to the status branch.
func (s *Status) ShowPublished(state func() source.PublishState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = state
}

// AppliedFile is the file of this host on a status branch: GET /status's
// applied (without published) and the agent's owner, as indented JSON.
// key is the same without its time, to tell a changed summary; ok is false
// before the first pass.
func (s *Status) AppliedFile(owner string) (doc, key []byte, ok bool) {
	s.mu.Lock()
	a := s.applied(s.plan, s.at, s.facts)
	s.mu.Unlock()
	if a == nil {
		return nil, nil, false
	}
	type file struct {
		Owner string `json:"owner"`
		*appliedJSON
	}
	doc, err := json.MarshalIndent(file{Owner: owner, appliedJSON: a}, "", "  ")
	if err != nil {
		return nil, nil, false
	}
	a.At = time.Time{}
	key, err = json.Marshal(file{Owner: owner, appliedJSON: a})
	if err != nil {
		return nil, nil, false
	}
	return append(doc, '\n'), key, true
}

// SetFacts names the host in what GET /status says it applied. Call it
// before serving.
func (s *Status) SetFacts(f spec.HostFacts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.facts = f
}

// applied summarises plan, which ended at at.
func (s *Status) applied(plan *reconcile.Plan, at time.Time, facts spec.HostFacts) *appliedJSON {
	if plan == nil {
		return nil
	}
	c := plan.Counts()
	out := &appliedJSON{Host: facts, At: at, Commits: make([]string, 0, len(s.gits)), DryRun: plan.DryRun,
		Create: c.Create, Recreate: c.Recreate, Remove: c.Remove, Held: c.Held, Unchanged: c.Unchanged,
		Failed: c.Failed, Errors: c.Errors, Warnings: c.Warnings}
	for _, g := range s.gits {
		out.Commits = append(out.Commits, g.Status().Commit)
	}
	return out
}
