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

// HCSUnexpectedExit is HCS's own words when a container exits as it starts,
// as process-isolated images of a newer revision than the host's do at
// times (microsoft/Windows-Containers#591, docker/for-win#14287).
const HCSUnexpectedExit = "The virtual machine or container exited unexpectedly. (0xc0370106)"

// CheckCompatibility decides whether host h can run an image of version img
// in isolation iso. iso may be IsolationDefault or ""; it is resolved with
// h.Effective and the effective isolation is returned in the result. The
// rules are DESIGN §1: a newer image never runs; process isolation needs a
// matching build (stable ABI from 20348 on), a matching revision below
// 17763, and build 17763 or later on a client SKU, where it is for
// development only (warning); an image of a newer revision than the host's
// is a warning for process isolation; Hyper-V isolation needs Hyper-V on
// the host. An unknown image version is a warning.
//
// IsolationAuto resolves to process isolation when that is Compatible,
// else to Hyper-V isolation when the host has it, else to process
// isolation when that has only warnings; the result's Reason says why.
// When neither mode runs the image, the result is Incompatible with
// Isolation IsolationAuto. Pure and deterministic.
func CheckCompatibility(h Host, img ImageVersion, iso Isolation) Compatibility {
	iso = h.Effective(iso)
	switch iso {
	case IsolationProcess:
		return verdict(iso, processFindings(h, img))
	case IsolationHyperV:
		return verdict(iso, hyperVFindings(h, img))
	case IsolationAuto:
		return resolveAuto(h, img)
	}
	return Compatibility{Verdict: Incompatible, Isolation: iso,
		Message: fmt.Sprintf("unknown isolation %q; valid: %s, %s, %s, %s", iso, IsolationProcess, IsolationHyperV, IsolationDefault, IsolationAuto)}
}

// finding is one thing a check found against running an image in one
// isolation mode: a refusal or a warning.
type finding struct {
	refuse bool
	// why is the rule in a few words, for the reason isolation: auto gives.
	why string
	// message is the whole story for the operator: both versions and what
	// would work.
	message string
}

// verdict turns the findings of isolation iso into a Compatibility: the
// first refusal, else the warnings joined.
func verdict(iso Isolation, fs []finding) Compatibility {
	var warnings []string
	for _, f := range fs {
		if f.refuse {
			return Compatibility{Verdict: Incompatible, Isolation: iso, Message: f.message}
		}
		warnings = append(warnings, f.message)
	}
	if len(warnings) == 0 {
		return Compatibility{Verdict: Compatible, Isolation: iso}
	}
	return Compatibility{Verdict: CompatibleWithWarning, Isolation: iso, Message: strings.Join(warnings, "; also, ")}
}

// whys joins the short rules of findings.
func whys(fs []finding) string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.refuse {
			return f.why
		}
		out = append(out, f.why)
	}
	return strings.Join(out, "; ")
}

// processFindings are what stands against running img on h with process
// isolation: refusals first.
func processFindings(h Host, img ImageVersion) []finding {
	if !h.processIsolationAllowed() {
		why := fmt.Sprintf("a Windows client host needs build %s (1809) or later for process isolation", OSVersion{Build: buildLTSC2019})
		return []finding{{refuse: true, why: why, message: fmt.Sprintf("%s cannot run with process isolation on %s: %s; use isolation: hyperv",
			describeImage(img), h, why)}}
	}
	var fs []finding
	switch {
	case !img.Known:
		fs = append(fs, unknownImageFinding(h, IsolationProcess))
	case img.Build > h.Build:
		return []finding{newerImageFinding(h, img, IsolationProcess)}
	default:
		if lo, hi := h.processBuildRange(); img.Build < lo || img.Build > hi {
			return []finding{processMismatchFinding(h, img)}
		}
	}
	if h.SKU == SKUClient {
		fs = append(fs, finding{why: "process isolation on a Windows client host is for development/testing only",
			message: fmt.Sprintf("%s runs with process isolation on %s, but process isolation on a Windows client host is for development/testing only; use isolation: hyperv (the client default) or a Windows Server host for production",
				describeImage(img), h)})
	}
	if !img.Known {
		return fs
	}
	if h.Build < buildLTSC2019 {
		f, ok := revisionFinding(h, img)
		if ok && f.refuse {
			return []finding{f}
		}
		if ok {
			fs = append(fs, f)
		}
	} else if f, ok := newerRevisionFinding(h, img); ok {
		fs = append(fs, f)
	}
	return fs
}

// hyperVFindings are what stands against running img on h with Hyper-V
// isolation.
func hyperVFindings(h Host, img ImageVersion) []finding {
	switch {
	case !h.HyperV:
		return []finding{noHyperVFinding(h, img)}
	case !img.Known:
		return []finding{unknownImageFinding(h, IsolationHyperV)}
	case img.Build > h.Build:
		return []finding{newerImageFinding(h, img, IsolationHyperV)}
	}
	return nil
}

// resolveAuto is CheckCompatibility of IsolationAuto.
func resolveAuto(h Host, img ImageVersion) Compatibility {
	pf := processFindings(h, img)
	p := verdict(IsolationProcess, pf)
	if p.Verdict == Compatible {
		p.Reason = fmt.Sprintf("%s runs %s with process isolation", h, describeImage(img))
		return p
	}
	hf := hyperVFindings(h, img)
	v := verdict(IsolationHyperV, hf)
	if v.Verdict != Incompatible {
		how := "should not run"
		if p.Verdict == Incompatible {
			how = "cannot run"
		}
		v.Reason = fmt.Sprintf("%s %s with process isolation on %s: %s", describeImage(img), how, h, whys(pf))
		return v
	}
	if p.Verdict == CompatibleWithWarning {
		p.Reason = fmt.Sprintf("%s, and process isolation may run %s on %s: %s", whys(hf), describeImage(img), h, whys(pf))
		return p
	}
	msg := ""
	if img.Known && img.Build > h.Build {
		msg = newerImageFinding(h, img, IsolationAuto).message
	} else {
		fix := "enable the Hyper-V role"
		if h.SKU == SKUClient {
			fix = "enable the Hyper-V feature"
		}
		if h.processIsolationAllowed() {
			fix += ", or use " + processImages(h)
		}
		msg = fmt.Sprintf("isolation auto finds no isolation mode for %s on %s: not process, as %s; not hyperv, as %s; %s",
			describeImage(img), h, whys(pf), whys(hf), fix)
	}
	return Compatibility{Verdict: Incompatible, Isolation: IsolationAuto, Message: msg}
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

// processMismatchFinding refuses a process-isolation build mismatch.
func processMismatchFinding(h Host, img ImageVersion) finding {
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
	return finding{refuse: true, why: need, message: fmt.Sprintf("%s cannot run with process isolation on %s: %s; %s (HCS refuses it: %q)",
		describeImage(img), h, need, fix, HCSOSMismatch)}
}

// newerImageFinding refuses an image newer than the host in isolation iso
// (IsolationAuto: in either).
func newerImageFinding(h Host, img ImageVersion, iso Isolation) finding {
	var fixes []string
	if h.HyperV {
		fixes = append(fixes, fmt.Sprintf("%s with isolation: hyperv", hyperVImages(h)))
	}
	if h.processIsolationAllowed() && (iso != IsolationHyperV || !h.HyperV) {
		fixes = append(fixes, fmt.Sprintf("%s with isolation: process", processImages(h)))
	}
	fix := "use " + strings.Join(fixes, ", or ")
	if len(fixes) == 0 {
		fix = fmt.Sprintf("enable the Hyper-V feature and use %s with isolation: hyperv", hyperVImages(h))
	}
	why := "a host never runs newer images, in either isolation mode"
	return finding{refuse: true, why: why, message: fmt.Sprintf("%s is newer than the host %s: %s; %s",
		describeImage(img), h, why, fix)}
}

// noHyperVFinding refuses Hyper-V isolation asked of a host without it.
func noHyperVFinding(h Host, img ImageVersion) finding {
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
	return finding{refuse: true, why: "Hyper-V isolation is not available on this host",
		message: fmt.Sprintf("%s cannot run with Hyper-V isolation on %s: Hyper-V isolation is not available on this host%s; %s",
			describeImage(img), h, why, fix)}
}

// unknownImageFinding warns that the image build could not be checked.
func unknownImageFinding(h Host, iso Isolation) finding {
	needs := processImages(h)
	if iso == IsolationHyperV {
		needs = hyperVImages(h)
	}
	return finding{why: "the image's OS build cannot be told from the image reference",
		message: fmt.Sprintf("the image's OS build cannot be told from the image reference, so it cannot be checked against %s, where %s isolation needs %s; set spec.osVersion (e.g. \"osVersion: %s\") or use a tag that names the release",
			h, iso, needs, OSVersion{Build: h.Build})}
}

// revisionFinding applies the revision rule of hosts before 17763, where
// the image revision must match the host's: a refusal on a mismatch, a
// warning when a revision is unknown; ok is false when they match.
func revisionFinding(h Host, img ImageVersion) (f finding, ok bool) {
	hostVersion := OSVersion{Build: h.Build, Revision: h.Revision}
	switch {
	case h.Revision != 0 && img.Revision != 0 && h.Revision != img.Revision:
		why := fmt.Sprintf("on this host process isolation needs the image revision to match the host revision %d", h.Revision)
		return finding{refuse: true, why: why, message: fmt.Sprintf("%s cannot run with process isolation on %s: %s; use an image of %s (tag %s), or isolation: hyperv (HCS refuses it: %q)",
			describeImage(img), h, why, hostVersion, hostVersion, HCSOSMismatch)}, true
	case h.Revision == 0:
		return finding{why: "the host revision is unknown, and on it process isolation needs the image revision to match",
			message: fmt.Sprintf("the revision of %s is unknown, and on it process isolation needs the image revision to match the host's; check that %s has the host's revision",
				h, describeImage(img))}, true
	case img.Revision == 0:
		return finding{why: "the image revision is unknown, and on this host process isolation needs it to match the host's",
			message: fmt.Sprintf("the revision of %s is unknown, and on %s process isolation needs it to match the host revision %d; use the tag %s or set spec.osVersion: %s",
				describeImage(img), h, h.Revision, hostVersion, hostVersion)}, true
	}
	return finding{}, false
}

// newerRevisionFinding warns, from 17763 on, of an image of the host's
// build and a newer revision (UBR) than the host's: HCS starts some of
// them and refuses others as they start, with 0xc0370106, until the host
// has the update (microsoft/Windows-Containers#591). ok is false when the
// revisions are not both known or the image's is not newer.
func newerRevisionFinding(h Host, img ImageVersion) (f finding, ok bool) {
	if img.Build != h.Build || h.Revision == 0 || img.Revision <= h.Revision {
		return finding{}, false
	}
	why := fmt.Sprintf("the image revision %d is newer than the host revision %d, which HCS refuses at times (0xc0370106)", img.Revision, h.Revision)
	fix := fmt.Sprintf("patch the host to revision %d or later, or use isolation: hyperv (isolation: auto does that by itself)", img.Revision)
	if !h.HyperV {
		fix = fmt.Sprintf("patch the host to revision %d or later, or use an image of revision %d or older", img.Revision, h.Revision)
	}
	return finding{why: why, message: fmt.Sprintf("%s is of a newer revision than the host %s: HCS refuses some such images with process isolation as they start (%q); %s",
		describeImage(img), h, HCSUnexpectedExit, fix)}, true
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
	// Isolation is the effective isolation: never IsolationDefault, and
	// IsolationAuto only when Incompatible.
	Isolation Isolation
	// Message explains a warning or a refusal in words an operator can act
	// on: it names both builds and what would work. Empty when Compatible.
	Message string
	// Reason says, for IsolationAuto, why it resolved to Isolation:
	// "Windows Server 2019 (10.0.17763) runs image build 10.0.17763
	// (ltsc2019) with process isolation". Empty for the other modes and
	// when Incompatible.
	Reason string
}
