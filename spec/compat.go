package spec

import (
	"fmt"
	"strings"
)

// HCSOSMismatch is HCS's own words for a process-isolated image of the wrong build.
const HCSOSMismatch = "The operating system of the container does not match the operating system of the host. (0xc0370101)"

// Windows builds the rules turn on. The names follow hcsshim's osversion
// package.
const (
	buildLTSC2016 = 14393
	// buildLTSC2019 (1809) is the first build whose client SKU may run
	// process isolation and from which the revision need not match.
	buildLTSC2019 = 17763
	// buildLTSC2022 is the first stable-ABI host build.
	buildLTSC2022 = 20348
	buildLTSC2025 = 26100
	// buildWin11 is the first Windows 11 client build.
	buildWin11 = 22000
)

// stableABIReleases are the LTSC builds a newer host keeps running with
// process isolation (hcsshim osversion.CheckHostAndContainerCompat),
// ascending.
var stableABIReleases = []uint32{buildLTSC2022, buildLTSC2025}

// processIsolationAllowed reports whether the host's SKU and build allow
// process isolation at all (a client needs build 17763 or later).
func (h Host) processIsolationAllowed() bool {
	return h.SKU != SKUClient || h.Build >= buildLTSC2019
}

// processBuildRange is the range of image builds the host runs with process
// isolation: its own build, and from 20348 on ("stable ABI") every build
// from the newest LTSC build strictly below its own up to its own, as
// hcsshim's osversion.CheckHostAndContainerCompat decides.
func (h Host) processBuildRange() (lo, hi uint32) {
	if h.Build < buildLTSC2022 {
		return h.Build, h.Build
	}
	lo = buildLTSC2022
	for _, b := range stableABIReleases {
		if b < h.Build {
			lo = b
		}
	}
	return lo, h.Build
}

// CheckCompatibility decides whether host h can run an image of version img
// in isolation iso. iso may be IsolationDefault or ""; it is resolved with
// h.Effective and the effective isolation is returned in the result. The
// rules are DESIGN §1: a newer image never runs; process isolation needs a
// matching build (stable ABI from 20348 on), a matching revision below
// 17763, and build 17763 or later on a client SKU, where it is for
// development only (warning); Hyper-V isolation needs Hyper-V on the host.
// An unknown image version is a warning. Pure and deterministic.
func CheckCompatibility(h Host, img ImageVersion, iso Isolation) Compatibility {
	iso = h.Effective(iso)
	refuse := func(msg string) Compatibility {
		return Compatibility{Verdict: Incompatible, Isolation: iso, Message: msg}
	}
	switch iso {
	case IsolationProcess:
		if !h.processIsolationAllowed() {
			return refuse(fmt.Sprintf("%s cannot run with process isolation on %s: a Windows client host needs build %s (1809) or later for process isolation; use isolation: hyperv",
				describeImage(img), h, OSVersion{Build: buildLTSC2019}))
		}
	case IsolationHyperV:
		if !h.HyperV {
			return refuse(noHyperVMessage(h, img))
		}
	default:
		return refuse(fmt.Sprintf("unknown isolation %q; valid: %s, %s, %s", iso, IsolationProcess, IsolationHyperV, IsolationDefault))
	}

	var warnings []string
	if iso == IsolationProcess && h.SKU == SKUClient {
		warnings = append(warnings, fmt.Sprintf("%s runs with process isolation on %s, but process isolation on a Windows client host is for development/testing only; use isolation: hyperv (the client default) or a Windows Server host for production",
			describeImage(img), h))
	}
	switch {
	case !img.Known:
		warnings = append([]string{unknownImageMessage(h, iso)}, warnings...)
	case img.Build > h.Build:
		return refuse(newerImageMessage(h, img, iso))
	case iso == IsolationProcess:
		if lo, hi := h.processBuildRange(); img.Build < lo || img.Build > hi {
			return refuse(processMismatchMessage(h, img))
		}
		if h.Build < buildLTSC2019 {
			msg, ok := revisionCheck(h, img)
			if !ok {
				return refuse(msg)
			}
			if msg != "" {
				warnings = append(warnings, msg)
			}
		}
	}
	if len(warnings) == 0 {
		return Compatibility{Verdict: Compatible, Isolation: iso}
	}
	return Compatibility{Verdict: CompatibleWithWarning, Isolation: iso, Message: strings.Join(warnings, "; also, ")}
}

// describeBuild renders a version with its release name:
// "10.0.17763 (ltsc2019)", or "10.0.22621" for a build without one.
func describeBuild(v OSVersion) string {
	if name := ReleaseName(v.Build); name != "" {
		return fmt.Sprintf("%s (%s)", v, name)
	}
	return v.String()
}

// describeImage renders "image build 10.0.17763 (ltsc2019)" or, when the
// version is unknown, "the image (build unknown)".
func describeImage(img ImageVersion) string {
	if !img.Known {
		return "the image (build unknown)"
	}
	return "image build " + describeBuild(img.OSVersion)
}

// processImages says which images the host runs with process isolation,
// for "use …": "an ltsc2022 image", "an ltsc2022 or ltsc2025 image", or
// "an image of build 10.0.19045" when no image release fits.
func processImages(h Host) string {
	lo, hi := h.processBuildRange()
	var names []string
	for _, r := range imageReleases {
		if r.build >= lo && r.build <= hi {
			names = append(names, r.name)
		}
	}
	if len(names) == 0 {
		return "an image of build " + OSVersion{Build: h.Build}.String()
	}
	return article(names[0]) + " " + strings.Join(names, " or ") + " image"
}

// article is the indefinite article for a release name read aloud
// ("an ltsc2022", "an 1803", "a 1909").
func article(name string) string {
	if strings.HasPrefix(name, "ltsc") || strings.HasPrefix(name, "18") {
		return "an"
	}
	return "a"
}

// hyperVImages says which images the host runs with Hyper-V isolation:
// "an image of build 10.0.20348 (ltsc2022) or older".
func hyperVImages(h Host) string {
	return "an image of build " + describeBuild(OSVersion{Build: h.Build}) + " or older"
}

// processMismatchMessage explains a process-isolation build mismatch.
func processMismatchMessage(h Host, img ImageVersion) string {
	lo, hi := h.processBuildRange()
	need := "process isolation needs the image build to match the host build"
	if lo != hi {
		need = fmt.Sprintf("process isolation on this host needs an image build from %s to %s",
			describeBuild(OSVersion{Build: lo}), describeBuild(OSVersion{Build: hi}))
	}
	fix := "use isolation: hyperv, or " + processImages(h)
	if !h.HyperV {
		fix = "use " + processImages(h) + " (Hyper-V isolation, which runs older images, is not available on this host)"
	}
	return fmt.Sprintf("%s cannot run with process isolation on %s: %s; %s (HCS refuses it: %q)",
		describeImage(img), h, need, fix, HCSOSMismatch)
}

// newerImageMessage explains an image newer than the host.
func newerImageMessage(h Host, img ImageVersion, iso Isolation) string {
	var fix string
	switch {
	case h.HyperV && iso == IsolationProcess:
		fix = fmt.Sprintf("use %s with isolation: hyperv, or %s with isolation: process", hyperVImages(h), processImages(h))
	case h.HyperV:
		fix = fmt.Sprintf("use %s with isolation: hyperv", hyperVImages(h))
	default:
		fix = fmt.Sprintf("use %s with isolation: process", processImages(h))
	}
	return fmt.Sprintf("%s is newer than the host %s: a host never runs newer images, in either isolation mode; %s",
		describeImage(img), h, fix)
}

// noHyperVMessage explains Hyper-V isolation asked of a host without it.
func noHyperVMessage(h Host, img ImageVersion) string {
	feature := "role"
	why := ""
	if h.SKU == SKUClient {
		feature = "feature"
		why = " (isolation: default means hyperv on a Windows client host)"
	}
	fix := fmt.Sprintf("enable the Hyper-V %s", feature)
	if h.processIsolationAllowed() {
		fix += fmt.Sprintf(", or use isolation: process with %s", processImages(h))
	}
	return fmt.Sprintf("%s cannot run with Hyper-V isolation on %s: Hyper-V isolation is not available on this host%s; %s",
		describeImage(img), h, why, fix)
}

// unknownImageMessage warns that the image build could not be checked.
func unknownImageMessage(h Host, iso Isolation) string {
	needs := processImages(h)
	if iso == IsolationHyperV {
		needs = hyperVImages(h)
	}
	return fmt.Sprintf("the image's OS build cannot be told from the image reference, so it cannot be checked against %s, where %s isolation needs %s; set spec.osVersion (e.g. \"osVersion: %s\") or use a tag that names the release",
		h, iso, needs, OSVersion{Build: h.Build})
}

// revisionCheck applies the revision rule of hosts before 17763, where the
// image revision must match the host's. ok is false on a mismatch; a
// non-empty msg with ok true is a warning that the revisions could not be
// compared.
func revisionCheck(h Host, img ImageVersion) (msg string, ok bool) {
	hostVersion := OSVersion{Build: h.Build, Revision: h.Revision}
	switch {
	case h.Revision != 0 && img.Revision != 0 && h.Revision != img.Revision:
		return fmt.Sprintf("%s cannot run with process isolation on %s: on this host process isolation needs the image revision to match the host revision %d; use an image of %s (tag %s), or isolation: hyperv (HCS refuses it: %q)",
			describeImage(img), h, h.Revision, hostVersion, hostVersion, HCSOSMismatch), false
	case h.Revision == 0:
		return fmt.Sprintf("the revision of %s is unknown, and on it process isolation needs the image revision to match the host's; check that %s has the host's revision",
			h, describeImage(img)), true
	case img.Revision == 0:
		return fmt.Sprintf("the revision of %s is unknown, and on %s process isolation needs it to match the host revision %d; use the tag %s or set spec.osVersion: %s",
			describeImage(img), h, h.Revision, hostVersion, hostVersion), true
	}
	return "", true
}

// Verdict is the outcome of a compatibility check.
type Verdict int

// The verdicts.
const (
	Compatible Verdict = iota
	CompatibleWithWarning
	Incompatible
)

// Compatibility is the outcome of CheckCompatibility.
type Compatibility struct {
	Verdict Verdict
	// Isolation is the effective isolation (never IsolationDefault).
	Isolation Isolation
	// Message explains a warning or a refusal in words an operator can act
	// on: it names both builds and what would work. Empty when Compatible.
	Message string
}
