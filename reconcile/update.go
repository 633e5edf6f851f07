package reconcile

import (
	"fmt"
	"strings"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// strategyFor decides how a recreate replaces the live system old with
// req: startFirst when the manifest asks for it, old runs and the two can
// run side by side; otherwise recreate, with a note saying why startFirst
// falls back. oldSpec is the spec old was created with when the driver
// kept it (describeChanges); when it is nil, old is taken to hold the
// same host resources as req (the usual case: an image changed).
func strategyFor(old driver.System, oldSpec *spec.ContainerSpec, req *driver.CreateRequest) (spec.UpdateStrategy, string) {
	if req.Spec.Update.StrategyOrDefault() != spec.UpdateStartFirst || old.State != driver.StateRunning {
		return spec.UpdateRecreate, ""
	}
	if why := clash(old, oldSpec, req); why != "" {
		return spec.UpdateRecreate, "startFirst falls back to recreate: " + why
	}
	return spec.UpdateStartFirst, ""
}

// clash says why the live system old and a new system for req cannot run
// side by side, or "" when they can: one compute system ID (only the
// isolation changes), a host port both publish, a host path both mount
// writable, a host named pipe both map.
func clash(old driver.System, oldSpec *spec.ContainerSpec, req *driver.CreateRequest) string {
	if driver.SystemID(req.Name, req.Owner, req.SpecHash) == old.ID {
		return "the new container would have the same compute system ID (only its isolation changes)"
	}
	assumed := ""
	if oldSpec == nil {
		oldSpec, assumed = &req.Spec, " (the old container's spec is unknown: taken to be the same)"
	}
	var why []string
	for _, p := range req.Spec.Ports {
		for _, q := range oldSpec.Ports {
			if p.HostPort != 0 && p.HostPort == q.HostPort && protocol(p) == protocol(q) {
				w := fmt.Sprintf("both publish host port %d", p.HostPort)
				if protocol(p) != "tcp" {
					w += "/" + protocol(p)
				}
				why = append(why, w)
			}
		}
	}
	for _, m := range req.Spec.Mounts {
		for _, n := range oldSpec.Mounts {
			if !m.ReadOnly && !n.ReadOnly && sameHostPath(m.HostPath, n.HostPath) {
				why = append(why, fmt.Sprintf("both mount host path %s writable", m.HostPath))
			}
		}
	}
	for _, p := range req.Spec.NamedPipes {
		for _, q := range oldSpec.NamedPipes {
			if sameHostPath(p.HostPipe, q.HostPipe) {
				why = append(why, fmt.Sprintf("both map host named pipe %s", p.HostPipe))
			}
		}
	}
	if len(why) == 0 {
		return ""
	}
	return strings.Join(why, ", ") + assumed
}

func protocol(p spec.Port) string {
	if p.Protocol == "" {
		return "tcp"
	}
	return strings.ToLower(p.Protocol)
}

// sameHostPath compares two Windows host paths (or pipe names) as NTFS
// does: case-insensitive, either slash, a trailing separator ignored.
func sameHostPath(a, b string) bool {
	norm := func(s string) string {
		return strings.TrimRight(strings.ReplaceAll(s, "/", `\`), `\`)
	}
	return strings.EqualFold(norm(a), norm(b))
}

// interrupted finds, when the keeper of a name is a system of req's spec
// and another of its systems of another spec still runs beside it, that
// other one: a startFirst stopped (a crash, SIGTERM) between "new created"
// and "old removed". The pass resumes it: the new system must prove
// healthy before the old one goes, and is rolled back if it does not.
// A running keeper without a health check is healthy already: the other
// is a plain duplicate then. It returns the index in dups of the newest
// such system, or -1.
func interrupted(keeper *driver.System, dups []driver.System, req *driver.CreateRequest) int {
	if keeper == nil || keeper.SpecHash != req.SpecHash || keeper.Isolation != req.Isolation ||
		keeper.State == driver.StateRunning && !req.Spec.Healthcheck.Defined() {
		return -1
	}
	found := -1
	for i, s := range dups {
		if s.State == driver.StateRunning && s.SpecHash != req.SpecHash && (found < 0 || s.Created.After(dups[found].Created)) {
			found = i
		}
	}
	return found
}

// keeperAvoiding is pickKeeper when req's spec was rolled back (failed):
// the keeper is chosen among the systems of other specs, and the systems
// of the failed spec are duplicates. ok is false when every system is of
// the failed spec (then nothing is protected by holding it).
func keeperAvoiding(owned []driver.System, req *driver.CreateRequest, failed string) (keeper *driver.System, dups []driver.System, ok bool) {
	var others, bad []driver.System
	for _, s := range owned {
		if s.SpecHash == failed {
			bad = append(bad, s)
		} else {
			others = append(others, s)
		}
	}
	if len(others) == 0 {
		return nil, nil, false
	}
	keeper, dups = pickKeeper(others, req)
	return keeper, append(dups, bad...), true
}

// planRollout plans the systems of one desired container: which one is
// kept and which are duplicates, and, when they say a rollout is under
// way or was rolled back, the action that says so (nil otherwise). A
// recreate to a spec recorded as rolled back (rec) is held while a system
// of another spec is there; a startFirst interrupted between "new created"
// and "old removed" is resumed.
func planRollout(mine []driver.System, req *driver.CreateRequest, rec *RollbackRecord) (keeper *driver.System, dups []driver.System, held bool, resume *driver.System) {
	if rec != nil {
		if k, d, ok := keeperAvoiding(mine, req, rec.SpecHash); ok {
			return k, d, true, nil
		}
	}
	keeper, dups = pickKeeper(mine, req)
	if i := interrupted(keeper, dups, req); i >= 0 {
		old := dups[i]
		dups = append(dups[:i:i], dups[i+1:]...)
		return keeper, dups, false, &old
	}
	return keeper, dups, false, nil
}
