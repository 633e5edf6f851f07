package reconcile

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// ActionKind is what an action does to a container.
type ActionKind string

// The action kinds.
const (
	ActionCreate   ActionKind = "create"
	ActionRecreate ActionKind = "recreate"
	ActionRemove   ActionKind = "remove"
)

// Status is an action's outcome.
type Status string

// The action statuses.
const (
	StatusPlanned Status = "planned"
	StatusDone    Status = "done"
	StatusFailed  Status = "failed"
	// StatusHeld is a removal a safety rule holds: it is shown, counts as
	// a pending change, and is never carried out.
	StatusHeld Status = "held"
)

// Action is one change the plan makes to the host.
type Action struct {
	Kind      ActionKind
	Name      string
	Isolation spec.Isolation
	Image     string
	// Reason says why, in words: "isolation process → hyperv".
	Reason string
	// Source is the manifest (file:line) that asks for the container;
	// empty for removals.
	Source string
	Status Status
	Err    error
	// Duration is how long applying the action took.
	Duration time.Duration
	// HoldReason says, for a held removal, which safety rule holds it and
	// how to release it.
	HoldReason string
	// Changes are the fields of the spec a recreate changes, when the
	// driver kept the spec the running system was created with
	// (driver.RequestReader); environment values are hidden.
	Changes []spec.Change
	// Strategy is how a recreate replaces the running container:
	// spec.UpdateRecreate or spec.UpdateStartFirst; empty for creates and
	// removals.
	Strategy spec.UpdateStrategy
	// StrategyNote says why a recreate the manifest asks to start first
	// falls back to recreate: "startFirst falls back to recreate: both
	// publish host port 8080".
	StrategyNote string
	// Downtime is, for a recreate carried out (DowntimeMeasured), how long
	// no container of its name ran: from the old one's stop to the new one
	// running; 0 for startFirst.
	Downtime         time.Duration
	DowntimeMeasured bool
	// RolledBack is set on a rollout whose new spec was not healthy within
	// its progress deadline and was rolled back.
	RolledBack *RollbackRecord

	// existing is, on a resumed startFirst, the new system already there.
	existing *driver.System

	// request is what create and recreate ask of the driver.
	request *driver.CreateRequest
	// remove lists the systems that remove and recreate take down first.
	remove []driver.System
	// undeclared marks a removal of a container no longer declared (not a
	// duplicate): what the removal limit counts.
	undeclared bool
	// approved marks a removal the operator approved.
	approved bool
	// approvable marks a removal held by the removal limit, which an
	// approval releases (a partial view is released by fixing it).
	approvable bool
	// byPlacement marks the removal of a container still declared, whose
	// placement does not admit this host.
	byPlacement bool
}

// String renders the action for logs: "recreate web (isolation process →
// hyperv)".
func (a Action) String() string {
	return fmt.Sprintf("%s %s (%s)", a.Kind, a.Name, a.Reason)
}

// Plan is what one pass will do, or did. It is a value: the text and JSON
// renderings and dry run are views of it.
type Plan struct {
	DryRun    bool
	Host      spec.Host
	Actions   []Action
	Unchanged []string
	Errors    []spec.Problem
	Warnings  []spec.Problem
	// Auto is what isolation: auto resolved to on this host, and why, for
	// every declared container that asks for it and can run here, by name.
	Auto []AutoIsolation
	// Elsewhere are the declared containers whose placement does not
	// admit this host, by name: they are not desired here.
	Elsewhere []PlacedElsewhere

	// owned is how many containers this owner had when the plan was made.
	owned int
	// limited are the restarts the flap limit left out (see
	// limitRestarts).
	limited []limitedRestart
	// observed are the live systems the plan was made from, while the
	// agent's pass needs them (see healthTargets).
	observed []driver.System
	// rolledBack names the containers whose record in Policy.RolledBack
	// is still in force.
	rolledBack []string
}

// RolledBackNames names the containers whose rolled-back spec the plan
// still holds (or could not decide on) or whose rollout it rolled back:
// the records to keep (see Rollbacks.Keep).
func (p *Plan) RolledBackNames() []string {
	names := slices.Clone(p.rolledBack)
	for _, a := range p.Actions {
		if a.RolledBack != nil {
			names = append(names, a.Name)
		}
	}
	return names
}

// AutoIsolation is the isolation a container declared with isolation: auto
// resolves to on the plan's host, decided again on every pass.
type AutoIsolation struct {
	Name string
	// Isolation is process or hyperv.
	Isolation spec.Isolation
	// Reason says why, naming the image and host versions.
	Reason string
}

// PlacedElsewhere is a declared container whose placement does not admit
// the plan's host.
type PlacedElsewhere struct {
	Name, Source string
	// Reason says which criterion of the placement refused the host.
	Reason string
}

// Counts summarises a plan.
type Counts struct {
	// Remove counts the removals carried out or planned; Held those held.
	Create, Recreate, Remove, Held, Unchanged, Errors, Warnings, Failed int
}

// Counts counts the plan's actions by kind, its problems and its failed
// actions.
func (p *Plan) Counts() Counts {
	c := Counts{Unchanged: len(p.Unchanged), Errors: len(p.Errors), Warnings: len(p.Warnings)}
	for _, a := range p.Actions {
		switch {
		case a.Status == StatusHeld:
			c.Held++
		case a.Kind == ActionCreate:
			c.Create++
		case a.Kind == ActionRecreate:
			c.Recreate++
		case a.Kind == ActionRemove:
			c.Remove++
		}
		if a.Status == StatusFailed {
			c.Failed++
		}
	}
	return c
}

// Failed reports whether the plan has an error or a failed action: the
// one-shot command exits 1 then.
func (p *Plan) Failed() bool {
	c := p.Counts()
	return c.Errors > 0 || c.Failed > 0
}

// Policy is the operator's choices that shape a plan.
type Policy struct {
	// Owner is the HCS owner of the containers this agent manages.
	Owner string
	// AllowMassRemoval lifts the removal limit: no removal is held for
	// their number.
	AllowMassRemoval bool
	// MaxRemovals is the removal limit per window (more than half of the
	// owned containers is held if zero).
	MaxRemovals RemovalLimit
	// Removals is the removal window before this pass, with the
	// operator's approvals (see RemovalLedger); the zero value counts
	// this pass alone.
	Removals RemovalWindow
	// Strict turns warnings about unknown image OS versions into errors.
	Strict bool
	// DenyHostAccess refuses manifests that pierce the isolation boundary.
	DenyHostAccess bool
	// Deferred are the recreates not to plan yet, by container name (see
	// RetryBackoff): while the running container is the one a failed
	// recreate restored, its new spec waits.
	Deferred map[string]Deferral
	// Hashes, if set, remembers spec hashes across plans (see
	// SpecHashes); nil hashes every spec.
	Hashes *SpecHashes
	// Restarts are the restarts of exited containers done within their
	// windows (see RestartLedger): past a container's restartLimit it is
	// left stopped. The zero value counts none.
	Restarts RestartCounts
	// RolledBack are the specs rolled back, by container name (see
	// Rollbacks): a recreate to one of them is held until the manifest's
	// spec changes.
	RolledBack map[string]RollbackRecord
	// Facts name this host for spec.placement: a container whose
	// placement does not admit it is not desired here, and the removal
	// of one running here is held until approved.
	Facts spec.HostFacts
}

// placedElsewhere finds name among the containers placed on other hosts
// (sorted by name), and says why this host is not one of them.
func placedElsewhere(elsewhere []spec.Elsewhere, name string) (string, bool) {
	i, ok := slices.BinarySearchFunc(elsewhere, name, func(e spec.Elsewhere, n string) int { return cmp.Compare(e.Container.Metadata.Name, n) })
	if !ok {
		return "", false
	}
	return elsewhere[i].Why, true
}

// problemAt builds a problem about container c.
func problemAt(c *spec.Container, msg string) spec.Problem {
	return spec.Problem{File: c.Origin.File, Line: c.Origin.Line, Name: c.Metadata.Name, Message: msg}
}

// ComputePlan is the planner: a pure function from the desired set, the
// live compute systems, the host and the policy to a plan. Decisions come
// from live state only.
//
// Safety rules: a compute system of another owner is never touched (a
// desired name held by a system no agent made is an error for that
// container only; another agent's system of the name is no conflict, as
// IDs include the owner); no removal while any manifest of the set has a
// problem (an error, or a warning such as a file that declares nothing)
// or a source holds removals; the removals of a window beyond MaxRemovals
// (counted with those done earlier in p.Removals) are held unless
// approved or AllowMassRemoval; a new spec that the host cannot run never
// tears down the running old one; a container whose manifest is still
// there but whose placement (p.Facts, host) does not admit this host is not
// desired here, and its removal is held until approved, as a mistyped
// placement must never remove it. A held removal is an action with
// StatusHeld.
//
// Isolation "default" and "auto" are resolved on host (spec.CheckCompatibility)
// and compared, resolved, with the live system's: auto's choice and its
// reason are in Plan.Auto and in the reason of the action they cause. A
// process-isolated system created on another host version (System.HostOS)
// that host can no longer run so is named in that container's problems and
// reasons; it decides nothing.
//
// It walks the desired containers and the observed systems sorted by name
// side by side, so a plan costs O(n log n) and no map.
func ComputePlan(d spec.Set, observed []driver.System, host spec.Host, p Policy) Plan {
	plan := Plan{
		Host: host,
		// Not sized for every desired container: an Action is some 280
		// bytes, and the plan lives on after its pass (the API shows it)
		// while most passes change nothing.
		Actions: []Action{},
		// Most passes leave nearly every container unchanged: sized for
		// them (16 bytes each), not grown by doubling.
		Unchanged: make([]string, 0, len(d.Containers)),
		Errors:    append([]spec.Problem{}, d.Errors...),
		Warnings:  append([]spec.Problem{}, d.Warnings...),
	}
	desired, elsewhere, placing := spec.PlaceOn(d.Containers, p.Facts, host)
	if len(placing) > 0 {
		// A placement that cannot be decided here holds removals, as
		// any problem of the set does.
		plan.Warnings = append(plan.Warnings, placing...)
		d.Warnings = slices.Concat(d.Warnings, placing)
	}
	slices.SortFunc(desired, func(a, b *spec.Container) int { return cmp.Compare(a.Metadata.Name, b.Metadata.Name) })
	slices.SortFunc(elsewhere, func(a, b spec.Elsewhere) int {
		return cmp.Compare(a.Container.Metadata.Name, b.Container.Metadata.Name)
	})
	for _, e := range elsewhere {
		plan.Elsewhere = append(plan.Elsewhere, PlacedElsewhere{Name: e.Container.Metadata.Name, Source: e.Container.Origin.String(), Reason: e.Why})
	}
	// Read as it is when already in name order (a driver's List usually
	// is): a copy would be 150 bytes a system of garbage each pass.
	byName := func(a, b driver.System) int { return cmp.Compare(a.Name, b.Name) }
	live := observed
	if !slices.IsSortedFunc(live, byName) {
		live = slices.Clone(observed)
		slices.SortFunc(live, byName)
	}

	checks := imageChecks{host: host, policy: p}
	var removals []Action
	owned := 0
	for i, j := 0, 0; i < len(desired) || j < len(live); {
		// The next name, and the desired container and live systems that carry it.
		var c *spec.Container
		name := ""
		switch {
		case j == len(live) || (i < len(desired) && desired[i].Metadata.Name <= live[j].Name):
			c, name = desired[i], desired[i].Metadata.Name
			i++
		default:
			name = live[j].Name
		}
		k := j
		for k < len(live) && live[k].Name == name {
			k++
		}
		mine, foreign := splitByOwner(live[j:k], p.Owner)
		j = k
		owned += len(mine)
		if c == nil {
			why, placed := placedElsewhere(elsewhere, name)
			for _, s := range mine {
				a := removeAction(s, "no longer declared")
				if placed {
					a = removeAction(s, "declared, but not for this host: "+why)
					a.byPlacement = true
				}
				a.undeclared = true
				removals = append(removals, a)
			}
			continue
		}
		removals = plan.planContainer(c, mine, foreign, &checks, removals)
	}
	plan.owned = owned
	plan.limitRestarts(desired, p.Restarts)
	plan.holdRemovals(d, removals, p)
	sortActions(plan.Actions)
	return plan
}

// splitByOwner splits the systems of one name into this owner's and the
// others'. It allocates only when both are there.
func splitByOwner(systems []driver.System, owner string) (mine, foreign []driver.System) {
	n := 0
	for _, s := range systems {
		if s.Owner == owner {
			n++
		}
	}
	switch n {
	case len(systems):
		return systems, nil
	case 0:
		return nil, systems
	}
	for _, s := range systems {
		if s.Owner == owner {
			mine = append(mine, s)
		} else {
			foreign = append(foreign, s)
		}
	}
	return mine, foreign
}

// planContainer plans one desired container against the live systems of
// its name, and returns removals with its duplicates added.
func (plan *Plan) planContainer(c *spec.Container, mine, foreign []driver.System, checks *imageChecks, removals []Action) []Action {
	name := c.Metadata.Name
	if taken := nameTakenBy(foreign); taken != nil {
		plan.Errors = append(plan.Errors, problemAt(c, fmt.Sprintf(
			"the name %q is taken by compute system %s owned by %q; this agent never touches it: rename the container or remove that system",
			name, taken.ID, taken.Owner)))
		return removals
	}
	req, autoReason, problems, ok := checks.request(c)
	moved := checks.hostMoved(c, mine)
	for _, pr := range problems {
		msg := pr.message
		if moved != "" && pr.compat {
			msg = moved + ": " + msg
		}
		if pr.isError {
			plan.Errors = append(plan.Errors, problemAt(c, msg))
		} else {
			plan.Warnings = append(plan.Warnings, problemAt(c, msg))
		}
	}
	if !ok {
		if _, recorded := checks.policy.RolledBack[name]; recorded {
			plan.rolledBack = append(plan.rolledBack, name) // undecided: kept
		}
		return removals
	}
	why := isolationWhy{moved: moved}
	if c.Spec.Isolation == spec.IsolationAuto {
		why.auto = autoReason
		plan.Auto = append(plan.Auto, AutoIsolation{Name: name, Isolation: req.Isolation, Reason: autoReason})
	}
	var rec *RollbackRecord
	if r, ok := checks.policy.RolledBack[name]; ok && r.SpecHash == req.SpecHash {
		plan.rolledBack = append(plan.rolledBack, name)
		rec = &r
	}
	keeper, dups, held, resume := planRollout(mine, &req, rec)
	for _, s := range dups {
		removals = append(removals, removeAction(s, "duplicate of "+name+" (id "+keeper.ID+")"))
	}
	a := Action{
		Name:      name,
		Isolation: req.Isolation,
		Image:     c.Spec.Image,
		Status:    StatusPlanned,
	}
	// a.Source (file:line) is rendered only when a is kept: not for the
	// unchanged containers, most of them.
	switch {
	case resume != nil:
		a.Kind, a.Strategy, a.remove, a.existing = ActionRecreate, spec.UpdateStartFirst, []driver.System{*resume}, keeper
		a.Reason = fmt.Sprintf("startFirst interrupted: the new spec %s runs beside %s until it is healthy", req.SpecHash, orNone(resume.SpecHash))
	case keeper == nil:
		a.Kind, a.Reason = ActionCreate, "not running"
		if why.auto != "" {
			a.Reason += fmt.Sprintf("; isolation auto → %s: %s", req.Isolation, why.auto)
		}
	default:
		a.Reason = recreateReason(*keeper, &req, c.Spec.RestartPolicy, why)
		if a.Reason == "" {
			plan.Unchanged = append(plan.Unchanged, name)
			return removals
		}
		if held {
			a.Kind, a.Status, a.HoldReason, a.Source = ActionRecreate, StatusHeld, rollbackHold(*rec), c.Origin.String()
			plan.Actions = append(plan.Actions, a)
			return removals
		}
		if d, ok := checks.policy.Deferred[name]; ok && d.SpecHash == req.SpecHash && keeper.State == driver.StateRunning {
			plan.Unchanged = append(plan.Unchanged, name)
			plan.Warnings = append(plan.Warnings, problemAt(c, fmt.Sprintf(
				"recreate (%s) deferred until %s: it failed %d time(s), last with: %s; the previous spec keeps running (fix the manifest to retry now)",
				a.Reason, d.Until.Format(time.TimeOnly), d.Failures, d.Err)))
			return removals
		}
		a.Kind, a.remove = ActionRecreate, []driver.System{*keeper}
		a.Strategy, a.StrategyNote = strategyFor(*keeper, nil, &req)
	}
	queued := req // only actions keep a request on the heap
	a.request, a.Source = &queued, c.Origin.String()
	plan.Actions = append(plan.Actions, a)
	return removals
}

// nameTakenBy returns the first of the foreign systems of one name that
// takes the name from this agent: one not made by an agent of another
// owner (docker's, or `reconciler sim create`'s). Agents' IDs include
// their owner (driver.SystemID), so two owners may run one name side by
// side; IDs of the form before owners were in them are agents' too.
func nameTakenBy(foreign []driver.System) *driver.System {
	for i, s := range foreign {
		if _, _, agents := driver.ParseSystemID(s.ID); !agents {
			return &foreign[i]
		}
	}
	return nil
}

// holdRemovals adds the removals to the plan, held (StatusHeld) where a
// safety rule says so. A partial view holds them all. Otherwise approved
// removals and duplicates go ahead, and the undeclared others go ahead
// together or are held together: held when, with those done and approved
// in the window, they would go beyond the removal limit.
func (p *Plan) holdRemovals(d spec.Set, removals []Action, policy Policy) {
	switch {
	case len(removals) == 0:
		return
	case d.HoldRemovals:
		p.hold(removals, d.HoldReason, false)
		return
	case len(d.Errors) > 0 || len(d.Warnings) > 0:
		p.hold(removals, fmt.Sprintf("%d manifest problem(s) in the desired set: a partial view never deletes; fix them first", len(d.Errors)+len(d.Warnings)), false)
		return
	}
	w := policy.Removals
	var limited, placed []Action
	defer func() {
		p.hold(placed, "its manifest is still there, but its placement does not admit this host, and a placement may be mistyped: "+
			"approve the removal with `reconciler removals approve NAME` (running agent) or pass --allow-mass-removal", true)
	}()
	approved := 0
	for _, a := range removals {
		switch {
		case !a.undeclared:
			p.Actions = append(p.Actions, a)
		case slices.Contains(w.Approved, a.Name):
			a.approved, a.Reason = true, a.Reason+"; removal approved"
			p.Actions = append(p.Actions, a)
			approved++
		case a.byPlacement && !policy.AllowMassRemoval:
			placed = append(placed, a)
		default:
			limited = append(limited, a)
		}
	}
	owned := max(w.Owned, p.owned)
	n := w.Removed + approved + len(limited)
	if len(limited) == 0 || policy.AllowMassRemoval || !policy.MaxRemovals.Exceeded(n, owned) {
		p.Actions = append(p.Actions, limited...)
		return
	}
	within := "in one pass"
	if w.Length > 0 {
		within = "within " + w.Length.String()
	}
	p.hold(limited, fmt.Sprintf(
		"removing %d more would make %d removal(s) %s, beyond --max-removals %s of the %d containers owned in that window; approve them with `reconciler removals approve` (running agent) or pass --allow-mass-removal",
		approved+len(limited), n, within, policy.MaxRemovals, owned), true)
}

// hold adds the removals to the plan as held, for the reason why.
func (p *Plan) hold(removals []Action, why string, approvable bool) {
	for _, a := range removals {
		a.Status, a.HoldReason, a.approvable = StatusHeld, why, approvable
		p.Actions = append(p.Actions, a)
	}
}

type problem struct {
	message string
	isError bool
	// compat marks a problem of the image's compatibility with the host.
	compat bool
}

// isolationWhy is what a recreate whose isolation changes says of why.
type isolationWhy struct {
	// auto is why isolation: auto resolved as it did; "" when the
	// manifest does not say auto.
	auto string
	// moved says the host changed since the system was created (see
	// hostMoved); "" when it did not, or it does not matter.
	moved string
}

// hostMoved says, when one of the owned systems of c was created with
// process isolation on another host version (a Patch Tuesday reboot, an
// in-place upgrade) and the host now cannot run c's image with process
// isolation, or only with a warning, what changed: "the host changed from
// 10.0.17763.5329 to 10.0.20348.1 since web was created with process
// isolation"; "" otherwise. It only enriches what the plan says (DESIGN §4:
// records may enrich reasons, never decide).
func (ic *imageChecks) hostMoved(c *spec.Container, mine []driver.System) string {
	now := spec.OSVersion{Build: ic.host.Build, Revision: ic.host.Revision}
	for _, s := range mine {
		if s.Isolation != spec.IsolationProcess || s.HostOS.Build == 0 || s.HostOS == now {
			continue
		}
		if r := ic.check(c.Spec.Image, c.Spec.OSVersion, spec.IsolationProcess); !r.ok || r.compat.Verdict != spec.Compatible {
			return fmt.Sprintf("the host changed from %s to %s since %s was created with process isolation", s.HostOS, now, s.Name)
		}
		return ""
	}
	return ""
}

// imageChecks resolves image OS versions and their compatibility with the
// host once per (image, osVersion, isolation) within one plan: most
// containers of a host share a handful of images.
type imageChecks struct {
	host   spec.Host
	policy Policy
	memo   map[imageKey]imageCheck
}

type imageKey struct {
	image, osVersion string
	isolation        spec.Isolation
}

type imageCheck struct {
	version  spec.ImageVersion
	compat   spec.Compatibility
	problems []problem
	ok       bool
}

func (ic *imageChecks) check(image, osVersion string, iso spec.Isolation) imageCheck {
	key := imageKey{image, osVersion, iso}
	if r, ok := ic.memo[key]; ok {
		return r
	}
	r := imageCheck{ok: true}
	img, err := spec.ImageOSVersion(image, osVersion)
	if err != nil {
		r.problems, r.ok = []problem{{isError: true, message: err.Error()}}, false
	} else {
		r.version = img
		r.compat = spec.CheckCompatibility(ic.host, img, iso)
		switch {
		case r.compat.Verdict == spec.Incompatible:
			r.problems, r.ok = []problem{{isError: true, compat: true, message: r.compat.Message}}, false
		case r.compat.Verdict == spec.CompatibleWithWarning && ic.policy.Strict && !img.Known:
			r.problems, r.ok = []problem{{isError: true, compat: true, message: r.compat.Message + " (an error under --strict)"}}, false
		case r.compat.Verdict == spec.CompatibleWithWarning:
			r.problems = []problem{{compat: true, message: r.compat.Message}}
		}
	}
	if ic.memo == nil {
		ic.memo = make(map[imageKey]imageCheck)
	}
	ic.memo[key] = r
	return r
}

// request resolves what the driver would be asked for c on this host, and
// checks it against the host and the policy. autoReason says why
// isolation: auto resolved as it did ("" for the other modes). ok is
// false when c must not be created (its running system, if any, is kept).
func (ic *imageChecks) request(c *spec.Container) (req driver.CreateRequest, autoReason string, problems []problem, ok bool) {
	r := ic.check(c.Spec.Image, c.Spec.OSVersion, c.Spec.Isolation)
	problems, ok = r.problems, r.ok
	if ic.policy.DenyHostAccess {
		if access := c.Spec.HostAccess(); len(access) > 0 {
			problems = append(slices.Clip(problems), problem{isError: true, message: fmt.Sprintf(
				"pierces the isolation boundary (%s), which this agent's policy denies (--deny-host-access)", strings.Join(access, "; "))})
			ok = false
		}
	}
	if !ok {
		return driver.CreateRequest{}, "", problems, false
	}
	return driver.CreateRequest{
		Name:         c.Metadata.Name,
		Owner:        ic.policy.Owner,
		SpecHash:     ic.policy.Hashes.Hash(c),
		Isolation:    r.compat.Isolation,
		ImageVersion: r.version,
		Spec:         c.Spec,
	}, r.compat.Reason, problems, true
}

// pickKeeper chooses, among the owned systems of one name, the one to keep:
// a running system that matches the request, else the newest. The others
// are duplicates.
func pickKeeper(owned []driver.System, req *driver.CreateRequest) (*driver.System, []driver.System) {
	switch len(owned) {
	case 0:
		return nil, nil
	case 1:
		return &owned[0], nil
	}
	best := 0
	for i := 1; i < len(owned); i++ {
		if better(owned[i], owned[best], req) {
			best = i
		}
	}
	dups := make([]driver.System, 0, len(owned)-1)
	for i, s := range owned {
		if i != best {
			dups = append(dups, s)
		}
	}
	return &owned[best], dups
}

// better reports whether a is a better system to keep than b.
func better(a, b driver.System, req *driver.CreateRequest) bool {
	score := func(s driver.System) int {
		n := 0
		if s.SpecHash == req.SpecHash && s.Isolation == req.Isolation {
			n += 2
		}
		if s.State == driver.StateRunning {
			n++
		}
		return n
	}
	if sa, sb := score(a), score(b); sa != sb {
		return sa > sb
	}
	if !a.Created.Equal(b.Created) {
		return a.Created.After(b.Created)
	}
	return a.ID < b.ID
}

// recreateReason says why the running system s must be recreated for req,
// or "" when it matches. An isolation change says why, as why tells.
func recreateReason(s driver.System, req *driver.CreateRequest, restart spec.RestartPolicy, why isolationWhy) string {
	var reasons []string
	if s.Isolation != req.Isolation {
		r := fmt.Sprintf("isolation %s → %s", s.Isolation, req.Isolation)
		if why.auto != "" {
			r += " by isolation auto: " + why.auto
		}
		reasons = append(reasons, r)
		if why.moved != "" {
			reasons = append(reasons, why.moved)
		}
	}
	if s.SpecHash != req.SpecHash {
		reasons = append(reasons, specChangeReason(s, req))
	}
	if len(reasons) > 0 {
		return strings.Join(reasons, "; ")
	}
	switch s.State {
	case driver.StateRunning:
		return ""
	case driver.StateStopped:
		switch {
		case restart == spec.RestartNever:
			return ""
		case restart == spec.RestartOnFailure && s.ExitCode == 0:
			return ""
		}
		return fmt.Sprintf("exited with code %d (restartPolicy %s)", s.ExitCode, orDefault(restart))
	default:
		return fmt.Sprintf("%s, not running", s.State)
	}
}

// specChangeReason says how the spec of s differs from req's when all that
// is known is the two hashes (and images): describeChanges replaces it with
// the fields that changed when the driver kept the spec s was created with.
func specChangeReason(s driver.System, req *driver.CreateRequest) string {
	if s.Image != "" && s.Image != req.Spec.Image {
		return fmt.Sprintf("image %s → %s", s.Image, req.Spec.Image)
	}
	return fmt.Sprintf("spec changed (%s → %s)", orNone(s.SpecHash), req.SpecHash)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func orDefault(r spec.RestartPolicy) spec.RestartPolicy {
	if r == "" {
		return spec.RestartAlways
	}
	return r
}

func removeAction(s driver.System, reason string) Action {
	return Action{
		Kind:      ActionRemove,
		Name:      s.Name,
		Isolation: s.Isolation,
		Image:     s.Image,
		Reason:    reason,
		Status:    StatusPlanned,
		remove:    []driver.System{s},
	}
}
