package hcs

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// fromImageOSVersion is the ImageVersion.From of a version read from the
// image itself.
const fromImageOSVersion = "image os.version"

// isWindowsAMD64 reports whether a platform is one this driver runs.
func isWindowsAMD64(p *v1.Platform) bool {
	return p != nil && strings.EqualFold(p.OS, "windows") && strings.EqualFold(p.Architecture, "amd64")
}

// selectManifest chooses the entry of an image index (OCI index or docker
// manifest list) to run on host with isolation iso (IsolationDefault is
// resolved by the host). Only windows/amd64 entries count. Among those
// whose os.version spec.CheckCompatibility accepts, it prefers the host's
// own build (process isolation: the exact build before a stable-ABI one),
// then the newest build, then the newest revision; for Hyper-V that is the
// newest image not newer than the host. Entries without an os.version are a
// last resort and come back with Known=false.
//
// go-containerregistry's own platform matcher compares os.version exactly,
// and registries list full versions (10.0.20348.2762), so the choice is made
// here. No suitable entry wraps driver.ErrIncompatible and lists what the
// index offers.
func selectManifest(entries []v1.Descriptor, host spec.Host, iso spec.Isolation) (v1.Descriptor, spec.ImageVersion, error) {
	iso = host.Effective(iso)
	var (
		best        v1.Descriptor
		bestVersion spec.OSVersion
		found       bool
		unversioned []v1.Descriptor
		offered     []string
		lastRefusal string
	)
	for _, e := range entries {
		if e.Platform == nil {
			continue
		}
		offered = append(offered, platformString(e.Platform))
		if !isWindowsAMD64(e.Platform) {
			continue
		}
		if e.Platform.OSVersion == "" {
			unversioned = append(unversioned, e)
			continue
		}
		v, err := spec.ParseOSVersion(e.Platform.OSVersion)
		if err != nil {
			continue
		}
		c := spec.CheckCompatibility(host, spec.ImageVersion{OSVersion: v, Known: true, From: fromImageOSVersion}, iso)
		if c.Verdict == spec.Incompatible {
			lastRefusal = c.Message
			continue
		}
		if !found || betterVersion(v, bestVersion, host.Build) {
			best, bestVersion, found = e, v, true
		}
	}
	switch {
	case found:
		return best, spec.ImageVersion{OSVersion: bestVersion, Known: true, From: fromImageOSVersion}, nil
	case len(unversioned) > 0:
		return unversioned[0], spec.ImageVersion{}, nil
	}
	msg := fmt.Sprintf("no windows/amd64 entry of the image suits %s with %s isolation; the image offers %s",
		host, iso, strings.Join(offered, ", "))
	if len(offered) == 0 {
		msg = "the image index lists no platforms"
	}
	if lastRefusal != "" {
		msg += " (" + lastRefusal + ")"
	}
	return v1.Descriptor{}, spec.ImageVersion{}, fmt.Errorf("%s: %w", msg, driver.ErrIncompatible)
}

// betterVersion orders candidate image versions: the host's own build
// first, then the newer build, then the newer revision.
func betterVersion(a, b spec.OSVersion, hostBuild uint32) bool {
	if aExact, bExact := a.Build == hostBuild, b.Build == hostBuild; aExact != bExact {
		return aExact
	}
	if a.Build != b.Build {
		return a.Build > b.Build
	}
	return a.Revision > b.Revision
}

// platformString renders os/arch[:os.version].
func platformString(p *v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.OSVersion != "" {
		s += ":" + p.OSVersion
	}
	return s
}
