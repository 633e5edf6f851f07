package sim

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// HealthState is what the emulated host's health checks of a container
// report.
type HealthState string

// The health states.
const (
	HealthOK   HealthState = "ok"
	HealthFail HealthState = "fail"
)

// HealthSetting sets what the health checks of the containers of one
// name, or of one image, report: exactly one of Name and Image is set.
type HealthSetting struct {
	Name  string      `json:"name,omitempty"`
	Image string      `json:"image,omitempty"`
	State HealthState `json:"state"`
}

func (s HealthSetting) validate() error {
	if (s.Name == "") == (s.Image == "") {
		return errors.New("set a container name or an image, not both")
	}
	if s.State != HealthOK && s.State != HealthFail {
		return fmt.Errorf("state %q: want %s or %s", s.State, HealthOK, HealthFail)
	}
	return nil
}

// HealthStates are the health settings of the emulated host, persisted in
// its state so that every process sharing the state file sees them: what
// the checks of the containers of a name report, else those of an image,
// else ok.
type HealthStates struct {
	Names  map[string]HealthState `json:"names,omitempty"`
	Images map[string]HealthState `json:"images,omitempty"`
}

// with sets s in h (in place) and returns h.
func (h HealthStates) with(s HealthSetting) HealthStates {
	key, states := s.Name, &h.Names
	if s.Image != "" {
		key, states = s.Image, &h.Images
	}
	if *states == nil {
		*states = map[string]HealthState{}
	}
	(*states)[key] = s.State
	return h
}

// clone copies h's maps.
func (h HealthStates) clone() HealthStates {
	return HealthStates{Names: maps.Clone(h.Names), Images: maps.Clone(h.Images)}
}

// of is what the checks of a container named name running image report,
// and the setting that says so ("" when none does: ok by default).
func (h HealthStates) of(name, image string) (HealthState, string) {
	if st, ok := h.Names[name]; ok {
		return st, "sim health " + name + " " + string(st)
	}
	if st, ok := h.Images[image]; ok {
		return st, "sim health --image " + image + " " + string(st)
	}
	return HealthOK, ""
}

// CheckHealth runs hc once against the system with this ID, as its health
// state says (see SetHealth): nil when it is ok; driver.ErrUnhealthy, with
// what the check kind would have seen (an exit code, a refused connection,
// an HTTP status), when it is fail or the system is not running;
// driver.ErrNotFound when there is no such system; a plain error when hc
// defines no check. It decodes nothing of the system but its summary, and
// reads the state again only when its files changed (see readUnchanged),
// so polling many containers stays cheap. See driver.HealthChecker.
func (h *EmulatedHost) CheckHealth(ctx context.Context, id string, hc spec.Healthcheck) error {
	check := driver.DescribeCheck(hc)
	if !hc.Defined() {
		return fmt.Errorf("check health of %s: no health check defined", id)
	}
	var (
		state    driver.State
		exitCode int
		health   HealthState
		by       string
	)
	look := func(m *model) error {
		r, ok := m.systems[id]
		if !ok {
			return driver.ErrNotFound
		}
		state, exitCode = r.State, r.ExitCode
		health, by = m.health.of(r.Name, r.Image)
		return nil
	}
	err := h.st.readCached(ctx, look)
	switch {
	case err != nil:
		return fmt.Errorf("check health of %s: %w", id, err)
	case state != driver.StateRunning:
		return fmt.Errorf("%s of %s: %w: container is not running (%s, exit code %d)", check, id, driver.ErrUnhealthy, state, exitCode)
	case health == HealthFail:
		return fmt.Errorf("%s of %s: %w: %s (emulated: %s)", check, id, driver.ErrUnhealthy, failure(hc), by)
	}
	return nil
}

// failure is what a failing check of this kind sees on a real host.
func failure(hc spec.Healthcheck) string {
	switch {
	case len(hc.Exec) > 0:
		return "exit code 1"
	case hc.TCP != 0:
		return "connection refused"
	}
	return "HTTP 503 Service Unavailable"
}

// SetHealth sets what the health checks of the containers of s.Name, or of
// s.Image, report from their next check on: those running now and those
// created later. A name's setting wins over its image's. Idempotent.
func (h *EmulatedHost) SetHealth(ctx context.Context, s HealthSetting) error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("set health: %w", err)
	}
	err := h.st.update(ctx, func(_ *model, commit func(entry) error) error {
		return commit(entry{Op: opHealth, Health: &s})
	})
	if err != nil {
		return fmt.Errorf("set health: %w", err)
	}
	h.log.Debug("set health", zap.String("name", s.Name), zap.String("image", s.Image), zap.String("state", string(s.State)))
	return nil
}

// Health reports the health settings.
func (h *EmulatedHost) Health(ctx context.Context) (HealthStates, error) {
	var hs HealthStates
	err := h.st.read(ctx, func(m *model) error {
		hs = m.health.clone()
		return nil
	})
	if err != nil {
		return HealthStates{}, fmt.Errorf("health: %w", err)
	}
	return hs, nil
}
