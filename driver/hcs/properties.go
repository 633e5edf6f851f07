package hcs

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// containerProperties mirrors the fields of hcsshim's
// schema1.ContainerProperties that observation needs, as HCS returns them
// from HcsEnumerateComputeSystems. RuntimeId is a string here: go-winio's
// GUID type refuses the empty string HCS may send for a silo.
type containerProperties struct {
	ID               string `json:"Id"`
	State            string
	Name             string
	SystemType       string
	Owner            string
	SiloGUID         string `json:"SiloGuid,omitempty"`
	RuntimeID        string `json:"RuntimeId,omitempty"`
	RuntimeImagePath string `json:",omitempty"`
	Stopped          bool   `json:",omitempty"`
	ExitType         string `json:",omitempty"`
}

// computeSystemQuery mirrors schema1.ComputeSystemQuery.
type computeSystemQuery struct {
	IDs    []string `json:"Ids,omitempty"`
	Types  []string `json:",omitempty"`
	Names  []string `json:",omitempty"`
	Owners []string `json:",omitempty"`
}

// zeroGUID is the runtime id of a compute system with no utility VM.
const zeroGUID = "00000000-0000-0000-0000-000000000000"

// parseComputeSystems decodes HCS's compute system list (a JSON array of
// ContainerProperties) into observed systems sorted by ID. Utility VMs and
// anything else that is not a container are dropped. recorded is the
// isolation each system was created with, by ID, from the driver's records
// (nil when there are none); see isolationOf.
func parseComputeSystems(raw []byte, recorded map[string]spec.Isolation) ([]driver.System, error) {
	props, err := decodeProperties(raw)
	if err != nil {
		return nil, err
	}
	out := make([]driver.System, 0, len(props))
	for _, p := range props {
		if s, ok := systemFromProperties(p, recorded[p.ID]); ok {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// decodeProperties decodes HCS's compute system list.
func decodeProperties(raw []byte) ([]containerProperties, error) {
	var props []containerProperties
	if err := json.Unmarshal(raw, &props); err != nil {
		return nil, fmt.Errorf("parse compute system properties: %w", err)
	}
	return props, nil
}

// systemFromProperties turns one compute system into a driver.System. ok is
// false for what is not a container (SystemType "VirtualMachine": the
// utility VMs of Hyper-V containers). The name and spec hash come from an
// ID made by driver.SystemID (or of its form before owners were part of
// IDs), whoever the owner; any other ID (docker's hex IDs) is its own name
// and carries no spec hash.
func systemFromProperties(p containerProperties, recorded spec.Isolation) (driver.System, bool) {
	if !strings.EqualFold(p.SystemType, "Container") || p.ID == "" {
		return driver.System{}, false
	}
	s := driver.System{
		ID:        p.ID,
		Name:      p.ID,
		Owner:     p.Owner,
		Isolation: isolationOf(p, recorded),
		State:     stateOf(p),
	}
	if name, hash, ok := driver.ParseSystemID(p.ID); ok {
		s.Name, s.SpecHash = name, hash
	}
	return s, true
}

// isolationOf reads the isolation mode: Hyper-V when the live entry shows
// a utility VM (a non-zero runtime id, or a runtime image path); otherwise
// the isolation recorded at create, when the driver made the system; else
// process. A zero or empty runtime id is not evidence of process
// isolation: nothing shows that a schema1 Hyper-V container's own entry
// carries its VM's RuntimeId (moby never reads it; hcsshim's schema1
// ContainerProperties only declares it), and reading its absence as
// "process" would report every such container as drifted and recreate it
// each pass.
func isolationOf(p containerProperties, recorded spec.Isolation) spec.Isolation {
	id := strings.Trim(strings.TrimSpace(p.RuntimeID), "{}")
	if (id != "" && id != zeroGUID) || p.RuntimeImagePath != "" {
		return spec.IsolationHyperV
	}
	if recorded == spec.IsolationProcess || recorded == spec.IsolationHyperV {
		return recorded
	}
	return spec.IsolationProcess
}

// stateOf maps HCS's state names. A system HCS flags as stopped is stopped
// whatever its state string; a paused one still exists with its processes
// and counts as running; a state this driver does not know is reported as
// created (it exists but is not known to be running).
func stateOf(p containerProperties) driver.State {
	if p.Stopped {
		return driver.StateStopped
	}
	switch strings.ToLower(p.State) {
	case "running", "paused", "pausing", "resuming":
		return driver.StateRunning
	case "stopped", "stopping":
		return driver.StateStopped
	default:
		return driver.StateCreated
	}
}

// systemStopped reports, from an HCS compute system list (raw, as
// HcsEnumerateComputeSystems returns it for a query of id), whether the
// compute system id is down: absent from the list, or listed as stopped.
// It is the confirmation a failed stop gets before it is reported.
func systemStopped(raw []byte, id string) (bool, error) {
	props, err := decodeProperties(raw)
	if err != nil {
		return false, err
	}
	for _, p := range props {
		if p.ID == id && strings.EqualFold(p.SystemType, "Container") {
			return stateOf(p) == driver.StateStopped, nil
		}
	}
	return true, nil
}
