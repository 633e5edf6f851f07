package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// Faults are the failures the emulated host injects, persisted in its state
// so that every process sharing the state file sees them.
type Faults struct {
	// Latency is added to every Create and Remove, slept without holding the
	// state lock so that parallel calls overlap as they do on real HCS.
	Latency time.Duration
	// TransientFailures is how many of the next Create/Remove calls fail
	// with driver.ErrTransient; each such call consumes one.
	TransientFailures int
	// FailNames are container names whose Create fails permanently (a
	// plain error, not one of driver's classes), except a Create of a
	// system that existed when the fault was set: a recreate's new spec
	// fails, and so does a new container, while the spec that ran before
	// can be restored.
	FailNames []string
	// FailImages are image references whose pull fails permanently, as
	// when the registry does not have them: PrepareImage and Create of
	// such an image fail with a plain error.
	FailImages []string
	// FailPorts are host ports another program holds: a Create that
	// publishes one fails permanently, as HNS refuses the port mapping.
	FailPorts []int
	// PullLatency is how long pulling an image the host does not have
	// takes: PrepareImage of it, and a Create of an image not prepared
	// before (pulled then, as a real host does), sleep it without holding
	// the state lock. An image pulled once is present from then on and is
	// not pulled again.
	PullLatency time.Duration

	// spared are the IDs of the systems of FailNames that existed when
	// SetFaults set them.
	spared []string
}

// Spared returns the IDs of the systems whose Create FailNames spares:
// those of these names that existed when the faults were set.
func (f Faults) Spared() []string { return slices.Clone(f.spared) }

// faultsJSON is Faults on disk: latencies as Go duration strings ("150ms")
// so a person can read and edit it.
type faultsJSON struct {
	Latency           string   `json:"latency"`
	TransientFailures int      `json:"transientFailures"`
	FailNames         []string `json:"failNames,omitempty"`
	FailImages        []string `json:"failImages,omitempty"`
	FailPorts         []int    `json:"failPorts,omitempty"`
	PullLatency       string   `json:"pullLatency,omitempty"`
	Spared            []string `json:"spared,omitempty"`
}

// MarshalJSON renders the latency as a duration string.
func (f Faults) MarshalJSON() ([]byte, error) {
	var pull string
	if f.PullLatency != 0 {
		pull = f.PullLatency.String()
	}
	return json.Marshal(faultsJSON{
		Latency:           f.Latency.String(),
		PullLatency:       pull,
		TransientFailures: f.TransientFailures,
		FailNames:         f.FailNames,
		FailImages:        f.FailImages,
		FailPorts:         f.FailPorts,
		Spared:            f.spared,
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	latency, err := parseLatency("latency", j.Latency)
	if err != nil {
		return err
	}
	pull, err := parseLatency("pullLatency", j.PullLatency)
	if err != nil {
		return err
	}
	*f = Faults{Latency: latency, TransientFailures: j.TransientFailures, FailNames: j.FailNames, FailImages: j.FailImages, FailPorts: j.FailPorts,
		PullLatency: pull, spared: j.Spared}
	return nil
}

// parseLatency reads the duration of the faults' field name; "" is 0.
func parseLatency(name, text string) (time.Duration, error) {
	if text == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, fmt.Errorf("faults %s: %w", name, err)
	}
	return d, nil
}

func (f Faults) validate() error {
	if f.Latency < 0 {
		return fmt.Errorf("faults: latency %s is negative", f.Latency)
	}
	if f.PullLatency < 0 {
		return fmt.Errorf("faults: pull latency %s is negative", f.PullLatency)
	}
	if f.TransientFailures < 0 {
		return fmt.Errorf("faults: transientFailures %d is negative", f.TransientFailures)
	}
	for _, p := range f.FailPorts {
		if p < 1 || p > 65535 {
			return fmt.Errorf("faults: port %d out of range 1-65535", p)
		}
	}
	return nil
}

// clone copies f's lists, so that what is kept never shares them.
func (f Faults) clone() Faults {
	f.FailNames = slices.Clone(f.FailNames)
	f.FailImages = slices.Clone(f.FailImages)
	f.FailPorts = slices.Clone(f.FailPorts)
	f.spared = slices.Clone(f.spared)
	return f
}

// failsCreate reports whether FailNames fails the create of system id
// named name.
func (f Faults) failsCreate(name, id string) bool {
	return slices.Contains(f.FailNames, name) && !slices.Contains(f.spared, id)
}

// pullError is the injected failure of a pull of image, or nil.
func (f Faults) pullError(image string) error {
	if !slices.Contains(f.FailImages, image) {
		return nil
	}
	return fmt.Errorf("pull %s: injected failure: manifest unknown", image)
}

// portError is the injected failure of a create that publishes ports, or
// nil: HNS's words when one of them is taken.
func (f Faults) portError(ports []spec.Port) error {
	for _, p := range ports {
		if slices.Contains(f.FailPorts, p.HostPort) {
			return fmt.Errorf("HNS failed with error : The object already exists. (injected: host port %d is taken)", p.HostPort)
		}
	}
	return nil
}

// systemRecord is one compute system in the state.
type systemRecord struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Owner     string         `json:"owner"`
	Isolation spec.Isolation `json:"isolation"`
	Image     string         `json:"image"`
	State     driver.State   `json:"state"`
	SpecHash  string         `json:"specHash,omitempty"`
	ExitCode  int            `json:"exitCode"`
	Created   time.Time      `json:"created"`
	// HostOS is the host's version when the system was created; zero in
	// states written before it was recorded.
	HostOS spec.OSVersion `json:"hostOS,omitzero"`
	// RecordDetail is the rest, in the same JSON object; nil while lazy
	// is set (a record read lazily stays small: its summary only).
	*RecordDetail

	// lazy, when not nil, is the record's JSON as read, whose Processes,
	// VMWorker and Spec are not decoded yet: full decodes them. The
	// summary fields above are set.
	lazy []byte
}

// RecordDetail is what a system's record holds beyond its summary (what
// List shows). It is exported only for encoding/json, which fills an
// embedded struct pointer of an exported type.
type RecordDetail struct {
	// Processes are the processes inside the container: host PIDs for
	// process isolation, utility VM PIDs for Hyper-V isolation.
	Processes []driver.Process `json:"processes"`
	// VMWorker is the host's vmwp.exe of a running Hyper-V-isolated system.
	VMWorker *driver.Process `json:"vmWorker,omitempty"`
	// Spec is the full requested spec, for status views and for
	// CreatedWith.
	Spec spec.ContainerSpec `json:"spec"`
}

// settle gives a record decoded in full without processes or spec its
// (empty) detail, so that every record has its detail or its lazy JSON.
func (r *systemRecord) settle() {
	if r.RecordDetail == nil && r.lazy == nil {
		r.RecordDetail = &RecordDetail{}
	}
}

func (r *systemRecord) system() driver.System {
	return driver.System{
		ID:        r.ID,
		Name:      r.Name,
		Owner:     r.Owner,
		Isolation: r.Isolation,
		Image:     r.Image,
		State:     r.State,
		SpecHash:  r.SpecHash,
		ExitCode:  r.ExitCode,
		Created:   r.Created,
		HostOS:    r.HostOS,
	}
}

// request is the create request r was made with, sharing nothing with r
// (the spec is copied as the state file holds it). Its ImageVersion is
// left unknown: Create resolves it from the spec as it did the first time.
func (r *systemRecord) request() (driver.CreateRequest, error) {
	raw, err := json.Marshal(r.Spec)
	if err != nil {
		return driver.CreateRequest{}, err
	}
	var s spec.ContainerSpec
	if err := json.Unmarshal(raw, &s); err != nil {
		return driver.CreateRequest{}, err
	}
	return driver.CreateRequest{Name: r.Name, Owner: r.Owner, SpecHash: r.SpecHash, Isolation: r.Isolation, Spec: s}, nil
}

// processView is what Processes reports: for process isolation the host
// sees the container's own processes with the same PIDs, for Hyper-V
// isolation only the utility VM's worker process.
func (r *systemRecord) processView() driver.ProcessView {
	view := driver.ProcessView{Container: slices.Clone(r.Processes), Host: []driver.Process{}}
	if view.Container == nil {
		view.Container = []driver.Process{}
	}
	switch {
	case r.Isolation == spec.IsolationProcess:
		view.Host = slices.Clone(view.Container)
	case r.VMWorker != nil:
		view.Host = []driver.Process{*r.VMWorker}
	}
	return view
}

// snapshot is the state file's content.
type snapshot struct {
	// HostID names the emulated host, made once when its state is created;
	// the journal's first line repeats it, so a journal of another host is
	// refused. Empty in the format before host ids.
	HostID string `json:"hostID,omitempty"`
	// Generation counts compactions; the journal's first line names the
	// generation it extends, so a journal left over from before a crash
	// mid-compaction is recognised as already folded in.
	Generation uint64 `json:"generation"`
	// Seq is the sequence number of the last journal entry folded into
	// this snapshot: the journal continues from Seq+1, and a journal of
	// the previous generation must end at Seq.
	Seq    uint64    `json:"seq"`
	Host   spec.Host `json:"host"`
	Faults Faults    `json:"faults"`
	// Health is what health checks report (reconciler sim health).
	Health HealthStates `json:"health,omitzero"`
	// Images are the images the host has pulled, sorted.
	Images []string `json:"images,omitempty"`
	// NextPID is the host-wide PID counter's next value.
	NextPID uint32 `json:"nextPID"`
	// Systems are sorted by ID.
	Systems []*systemRecord `json:"systems"`
}

// model is the state in memory.
type model struct {
	hostID     string
	generation uint64
	// seq is the sequence number of the last entry applied.
	seq    uint64
	host   spec.Host
	faults Faults
	health HealthStates
	// images are the images pulled (see Faults.PullLatency): those
	// PrepareImage pulled and those of every system created.
	images  map[string]bool
	nextPID uint32
	systems map[string]*systemRecord
	// order is the IDs of systems sorted, as of the last sortedSystems
	// (it may still name systems deleted since); added are the IDs put
	// since that were not in systems, unsorted; reorder is set when order
	// is out of date. So sortedSystems sorts only what changed, not every
	// system on every call. Only put and remove change systems.
	order   []string
	added   []string
	reorder bool
}

// firstHostPID is where a new state's host PID counter starts; PIDs are
// multiples of pidStep, as on Windows.
const (
	firstHostPID = 1000
	pidStep      = 4
)

// defaultHost is a new state's host: Windows Server 2022 with Hyper-V.
var defaultHost = spec.Host{Build: 20348, Revision: 1, SKU: spec.SKUServer, HyperV: true}

// newModel is a new state of the host hostID.
func newModel(hostID string) *model {
	return &model{hostID: hostID, generation: 1, host: defaultHost, nextPID: firstHostPID, images: map[string]bool{}, systems: map[string]*systemRecord{}}
}

func modelFromSnapshot(s snapshot) (*model, error) {
	if s.Generation == 0 {
		return nil, fmt.Errorf("generation is 0")
	}
	m := &model{hostID: s.HostID, generation: s.Generation, seq: s.Seq, host: s.Host, faults: s.Faults, health: s.Health, nextPID: s.NextPID,
		images: make(map[string]bool, len(s.Images)), systems: make(map[string]*systemRecord, len(s.Systems))}
	for _, img := range s.Images {
		m.images[img] = true
	}
	m.order = make([]string, 0, len(s.Systems))
	for _, r := range s.Systems {
		if r == nil || r.ID == "" {
			return nil, fmt.Errorf("a system without id")
		}
		if _, dup := m.systems[r.ID]; dup {
			return nil, fmt.Errorf("system %s listed twice", r.ID)
		}
		r.settle()
		m.systems[r.ID] = r
		m.order = append(m.order, r.ID)
		m.pulled(r.Image)
	}
	if !slices.IsSorted(m.order) { // a state file written by hand
		slices.Sort(m.order)
	}
	return m, nil
}

// put adds or replaces the system r.
func (m *model) put(r *systemRecord) {
	if _, ok := m.systems[r.ID]; !ok {
		m.added = append(m.added, r.ID)
		m.reorder = true
	}
	m.systems[r.ID] = r
}

// remove deletes the system with this ID, if any.
func (m *model) remove(id string) {
	if _, ok := m.systems[id]; ok {
		delete(m.systems, id)
		m.reorder = true
	}
}

// pulled records that the host has image: pulled by PrepareImage, or by
// the Create of a system that runs it.
func (m *model) pulled(image string) {
	if image == "" {
		return
	}
	if m.images == nil {
		m.images = map[string]bool{}
	}
	m.images[image] = true
}

func (m *model) snapshot() snapshot {
	s := snapshot{HostID: m.hostID, Generation: m.generation, Seq: m.seq, Host: m.host, Faults: m.faults, Health: m.health, NextPID: m.nextPID, Systems: m.sortedSystems()}
	for img := range m.images {
		s.Images = append(s.Images, img)
	}
	slices.Sort(s.Images)
	if s.Systems == nil {
		s.Systems = []*systemRecord{}
	}
	return s
}

// sortedSystems returns the systems sorted by ID, in a new slice. It
// brings the order up to date first: the IDs added since are sorted and
// merged into it, the deleted ones dropped.
func (m *model) sortedSystems() []*systemRecord {
	if m.reorder {
		m.order = m.mergeOrder()
		m.added, m.reorder = nil, false
	}
	out := make([]*systemRecord, len(m.order))
	for i, id := range m.order {
		out[i] = m.systems[id]
	}
	return out
}

// mergeOrder is order with added merged in: sorted, each ID once, only
// those of systems.
func (m *model) mergeOrder() []string {
	slices.Sort(m.added)
	merged := make([]string, 0, len(m.systems))
	keep := func(id string) {
		if _, ok := m.systems[id]; ok && (len(merged) == 0 || merged[len(merged)-1] != id) {
			merged = append(merged, id)
		}
	}
	i, j := 0, 0
	for i < len(m.order) || j < len(m.added) {
		if j == len(m.added) || i < len(m.order) && m.order[i] <= m.added[j] {
			keep(m.order[i])
			i++
		} else {
			keep(m.added[j])
			j++
		}
	}
	return merged
}

// lookup finds a system by ID, else by name. A name that several systems
// carry is ambiguous.
func (m *model) lookup(nameOrID string) (*systemRecord, error) {
	if r, ok := m.systems[nameOrID]; ok {
		return r, nil
	}
	var found []string
	var match *systemRecord
	for _, r := range m.systems {
		if r.Name == nameOrID {
			found = append(found, r.ID)
			match = r
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s: %w", nameOrID, driver.ErrNotFound)
	case 1:
		return match, nil
	default:
		slices.Sort(found)
		return nil, fmt.Errorf("%s: name is ambiguous, use one of the ids %s", nameOrID, strings.Join(found, ", "))
	}
}

// The journal operations. Each entry sets absolute values, so applying it
// twice is harmless.
const (
	opBegin  = "begin"  // first line: the snapshot this journal extends (see header)
	opPut    = "put"    // a system created or changed (and the PID counter)
	opDelete = "delete" // a system gone
	opHost   = "host"   // the host changed
	opFaults = "faults" // the faults changed
	opHealth = "health" // what the health checks of a name or image report
	opImage  = "image"  // an image pulled
)

// entry is one journal line after the first.
type entry struct {
	// Seq is the entry's sequence number: one more than the previous
	// entry's, or than the snapshot's Seq for the first. Zero in the
	// format before host ids.
	Seq     uint64         `json:"seq,omitempty"`
	Op      string         `json:"op"`
	System  *systemRecord  `json:"system,omitempty"`
	ID      string         `json:"id,omitempty"`
	NextPID uint32         `json:"nextPID,omitempty"`
	Host    *spec.Host     `json:"host,omitempty"`
	Faults  *Faults        `json:"faults,omitempty"`
	Health  *HealthSetting `json:"health,omitempty"`
	Image   string         `json:"image,omitempty"`
}

// validate reports what makes e malformed.
func (e entry) validate() error {
	switch {
	case e.Op == opPut && (e.System == nil || e.System.ID == ""):
		return fmt.Errorf("put without a system")
	case e.Op == opDelete && e.ID == "":
		return fmt.Errorf("delete without an id")
	case e.Op == opHost && e.Host == nil:
		return fmt.Errorf("host without a host")
	case e.Op == opFaults && e.Faults == nil:
		return fmt.Errorf("faults without faults")
	case e.Op == opHealth && e.Health == nil:
		return fmt.Errorf("health without a setting")
	case e.Op == opHealth:
		return e.Health.validate()
	case e.Op == opImage && e.Image == "":
		return fmt.Errorf("image without an image")
	case e.Op != opPut && e.Op != opDelete && e.Op != opHost && e.Op != opFaults && e.Op != opImage:
		return fmt.Errorf("unknown op %q", e.Op)
	}
	return nil
}

// apply changes m by e. It validates e first and changes nothing when e is
// malformed.
func (m *model) apply(e entry) error {
	if err := e.validate(); err != nil {
		return err
	}
	switch e.Op {
	case opPut:
		e.System.settle()
		m.put(e.System)
		m.pulled(e.System.Image)
		if e.NextPID != 0 {
			m.nextPID = e.NextPID
		}
	case opDelete:
		m.remove(e.ID)
	case opHost:
		m.host = *e.Host
	case opFaults:
		m.faults = *e.Faults
	case opHealth:
		m.health = m.health.with(*e.Health)
	case opImage:
		m.pulled(e.Image)
	}
	m.seq = e.Seq
	return nil
}
