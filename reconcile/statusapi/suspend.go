package statusapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

// SuspensionState is whether the agent is suspended, since when, and why
// (the file the suspension persists in, and the answer of POST /suspend and
// /resume).
type SuspensionState struct {
	Suspended bool `json:"suspended"`
	// Since is when the agent was suspended; zero when it is not.
	Since time.Time `json:"since,omitzero"`
	// Reason is what the operator said when suspending.
	Reason string `json:"reason,omitempty"`
}

// Suspension is the agent's suspended state, persisted in a file so that
// a restart keeps it: a suspended agent plans and reports but applies
// nothing (reconcile.Agent.Suspended). Safe for concurrent use.
type Suspension struct {
	path     string
	now      func() time.Time
	onChange func()

	mu    sync.Mutex
	state SuspensionState
}

// LoadSuspension reads the suspension persisted at path (none: not
// suspended). onChange, if set, is called after each change (the agent's
// Trigger: a pass shows the new state at once); now stamps Since
// (time.Now when nil).
func LoadSuspension(path string, now func() time.Time, onChange func()) (*Suspension, error) {
	if now == nil {
		now = time.Now
	}
	s := &Suspension{path: path, now: now, onChange: onChange}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read suspension: %w", err)
	}
	if err := json.Unmarshal(data, &s.state); err != nil {
		return nil, fmt.Errorf("suspension file %s: %w (delete it to resume)", path, err)
	}
	return s, nil
}

// Suspended reports whether the agent is suspended (reconcile.Agent's
// Suspended).
func (s *Suspension) Suspended() bool { return s.State().Suspended }

// State is the suspension as it is now.
func (s *Suspension) State() SuspensionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Suspend suspends the agent, for reason, and persists it; suspending a
// suspended agent keeps its first Since and Reason. It returns the state
// in force: on an error, the one before.
func (s *Suspension) Suspend(reason string) (SuspensionState, error) {
	return s.set(func(st SuspensionState) SuspensionState {
		if st.Suspended {
			return st
		}
		return SuspensionState{Suspended: true, Since: s.now().UTC(), Reason: reason}
	})
}

// Resume ends a suspension and persists it.
func (s *Suspension) Resume() (SuspensionState, error) {
	return s.set(func(SuspensionState) SuspensionState { return SuspensionState{} })
}

// set changes the state as change says, writes it (atomically, readable
// by its owner only) and calls onChange.
func (s *Suspension) set(change func(SuspensionState) SuspensionState) (SuspensionState, error) {
	s.mu.Lock()
	next := change(s.state)
	if next == s.state {
		s.mu.Unlock()
		return next, nil
	}
	data, err := json.Marshal(next)
	if err == nil {
		err = atomicfile.WriteFile(s.path, append(data, '\n'), 0o600)
	}
	if err != nil {
		defer s.mu.Unlock()
		return s.state, fmt.Errorf("persist suspension: %w", err)
	}
	s.state = next
	s.mu.Unlock()
	if s.onChange != nil {
		s.onChange()
	}
	return next, nil
}
