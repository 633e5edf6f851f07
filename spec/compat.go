package spec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// HCSOSMismatch is HCS's own words for a process-isolated image of the wrong build.
const HCSOSMismatch = "The operating system of the container does not match the operating system of the host. (0xc0370101)"

// ErrInvalidOSVersion classes a malformed OS version (spec.osVersion, a
// --host-os value); check with errors.Is.
var ErrInvalidOSVersion = errors.New("invalid OS version")

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

// imageRelease is a Windows release that has container images on MCR.
type imageRelease struct {
	build uint32
	// name is the release's tag on MCR, as ReleaseName returns it.
	name string
	// alias is another tag naming the same build ("1809" for ltsc2019).
	alias string
	// server is the Windows Server product of that build.
	server string
}

// imageReleases is the tag table of DESIGN §1, ascending by build.
var imageReleases = []imageRelease{
	{build: buildLTSC2016, name: "ltsc2016", alias: "1607", server: "Windows Server 2016"},
	{build: 16299, name: "1709", server: "Windows Server, version 1709"},
	{build: 17134, name: "1803", server: "Windows Server, version 1803"},
	{build: buildLTSC2019, name: "ltsc2019", alias: "1809", server: "Windows Server 2019"},
	{build: 18362, name: "1903", server: "Windows Server, version 1903"},
	{build: 18363, name: "1909", server: "Windows Server, version 1909"},
	{build: 19041, name: "2004", server: "Windows Server, version 2004"},
	{build: 19042, name: "20H2", server: "Windows Server, version 20H2"},
	{build: buildLTSC2022, name: "ltsc2022", server: "Windows Server 2022"},
	{build: buildLTSC2025, name: "ltsc2025", server: "Windows Server 2025"},
}

// serverOnlyNames names Windows Server builds that publish no images.
var serverOnlyNames = map[uint32]string{25398: "Windows Server, version 23H2"}

// validOSVersionForms is what ParseOSVersion accepts, for error messages.
var validOSVersionForms = func() string {
	names := make([]string, 0, 2*len(imageReleases))
	for _, r := range imageReleases {
		names = append(names, r.name)
		if r.alias != "" {
			names = append(names, r.alias)
		}
	}
	return "want 10.0.BUILD, 10.0.BUILD.REVISION, BUILD, BUILD.REVISION or a release name (" +
		strings.Join(names, ", ") + ")"
}()

// minBuild and maxBuild bound a plausible Windows 10+ build number: 10240
// is the first Windows 10 build; HCS carries builds as 16-bit numbers.
const (
	minBuild = 10240
	maxBuild = 1<<16 - 1
)

// ParseOSVersion accepts "10.0.17763", "10.0.17763.5329", "17763",
// "17763.5329" and release names ("ltsc2019", "1809", "20H2",
// case-insensitive). Errors wrap ErrInvalidOSVersion and say what forms are
// valid.
func ParseOSVersion(s string) (OSVersion, error) {
	if v, ok := parseOSVersion(strings.TrimSpace(s)); ok {
		return v, nil
	}
	return OSVersion{}, fmt.Errorf("%w %q: %s", ErrInvalidOSVersion, s, validOSVersionForms)
}

// parseOSVersion is ParseOSVersion without the error.
func parseOSVersion(s string) (OSVersion, bool) {
	if r, ok := releaseByName(s); ok {
		return OSVersion{Build: r.build}, true
	}
	parts := strings.Split(s, ".")
	if len(parts) >= 3 {
		if parts[0] != "10" || parts[1] != "0" {
			return OSVersion{}, false
		}
		parts = parts[2:]
	}
	if len(parts) > 2 {
		return OSVersion{}, false
	}
	build, err := parseDecimal(parts[0], 16)
	if err != nil || build < minBuild || build > maxBuild {
		return OSVersion{}, false
	}
	v := OSVersion{Build: build}
	if len(parts) == 2 {
		if v.Revision, err = parseDecimal(parts[1], 32); err != nil {
			return OSVersion{}, false
		}
	}
	return v, true
}

// parseDecimal parses digits only (no sign, no spaces).
func parseDecimal(s string, bits int) (uint32, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	n, err := strconv.ParseUint(s, 10, bits)
	return uint32(n), err
}

// releaseByName finds a release by its name or alias, case-insensitively.
func releaseByName(s string) (imageRelease, bool) {
	for _, r := range imageReleases {
		if strings.EqualFold(s, r.name) || (r.alias != "" && strings.EqualFold(s, r.alias)) {
			return r, true
		}
	}
	return imageRelease{}, false
}

// releaseByBuild finds the image release of a build.
func releaseByBuild(build uint32) (imageRelease, bool) {
	for _, r := range imageReleases {
		if r.build == build {
			return r, true
		}
	}
	return imageRelease{}, false
}

// String renders "10.0.17763.5329", or "10.0.17763" when Revision is 0.
func (v OSVersion) String() string {
	if v.Revision == 0 {
		return fmt.Sprintf("10.0.%d", v.Build)
	}
	return fmt.Sprintf("10.0.%d.%d", v.Build, v.Revision)
}

// ReleaseName names the image release of a build: "ltsc2016", "1709",
// "1803", "ltsc2019", "1903", "1909", "2004", "20H2", "ltsc2022",
// "ltsc2025"; "" when the build is not an image release.
func ReleaseName(build uint32) string {
	r, _ := releaseByBuild(build)
	return r.name
}

// ImageOSVersion resolves an image's OS version: osVersion (spec.osVersion)
// wins when set, else the image's tag: a release name (ltsc2019, 1809, …)
// or a full version (10.0.17763.5329), also as a token of a longer tag
// ("4.8-windowsservercore-ltsc2019", "ltsc2022-amd64"). A tag that reveals
// nothing, or contradicts itself, gives Known=false, which is not an error.
// The only error is a malformed osVersion; it wraps ErrInvalidOSVersion.
func ImageOSVersion(image, osVersion string) (ImageVersion, error) {
	if osVersion != "" {
		v, err := ParseOSVersion(osVersion)
		if err != nil {
			return ImageVersion{}, fmt.Errorf("spec.osVersion: %w", err)
		}
		return ImageVersion{OSVersion: v, Known: true, From: "spec.osVersion"}, nil
	}
	tag := imageTag(image)
	v, ok := tagOSVersion(tag)
	if !ok {
		return ImageVersion{}, nil
	}
	return ImageVersion{OSVersion: v, Known: true, From: fmt.Sprintf("tag %q", tag)}, nil
}

// imageTag returns the tag of an image reference, "" when it has none:
// the digest goes, and a colon counts only after the last slash (a colon
// before it is a registry port).
func imageTag(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	i := strings.LastIndexByte(image, ':')
	if i < 0 || i < strings.LastIndexByte(image, '/') {
		return ""
	}
	return image[i+1:]
}

// tagOSVersion reads the OS version out of a tag's tokens. Only release
// names and full 10.0.BUILD[.REVISION] versions count, so application
// versions such as "4.8" or "3.1.2" are never misread. Tokens naming
// different builds make the tag say nothing.
func tagOSVersion(tag string) (OSVersion, bool) {
	var found OSVersion
	tokens := strings.FieldsFunc(tag, func(r rune) bool { return r == '-' || r == '_' })
	for _, tok := range tokens {
		v, ok := tokenOSVersion(tok)
		switch {
		case !ok:
			continue
		case found.Build == 0:
			found = v
		case found.Build != v.Build:
			return OSVersion{}, false
		case v.Revision != 0:
			if found.Revision != 0 && found.Revision != v.Revision {
				return OSVersion{}, false
			}
			found.Revision = v.Revision
		}
	}
	return found, found.Build != 0
}

// tokenOSVersion reads one tag token: a release name or a full version.
func tokenOSVersion(tok string) (OSVersion, bool) {
	if r, ok := releaseByName(tok); ok {
		return OSVersion{Build: r.build}, true
	}
	if !strings.HasPrefix(tok, "10.0.") {
		return OSVersion{}, false
	}
	return parseOSVersion(tok)
}

// DefaultIsolation is the isolation a manifest's "default" means on this
// host: hyperv on a client SKU, process on a server.
func (h Host) DefaultIsolation() Isolation {
	if h.SKU == SKUClient {
		return IsolationHyperV
	}
	return IsolationProcess
}

// Effective resolves IsolationDefault (and "") to h.DefaultIsolation();
// other values are returned as is.
func (h Host) Effective(iso Isolation) Isolation {
	if iso == "" || iso == IsolationDefault {
		return h.DefaultIsolation()
	}
	return iso
}

// String names the host for messages: "Windows Server 2022 (10.0.20348.1)",
// "Windows 11 (10.0.22631)", "Windows 10 (10.0.19045)", "Windows Server,
// version 1903 (10.0.18362)".
func (h Host) String() string {
	return fmt.Sprintf("%s (%s)", h.productName(), OSVersion{Build: h.Build, Revision: h.Revision})
}

// productName is the Windows product of the host's SKU and build.
func (h Host) productName() string {
	if h.SKU == SKUClient {
		if h.Build >= buildWin11 {
			return "Windows 11"
		}
		return "Windows 10"
	}
	if r, ok := releaseByBuild(h.Build); ok {
		return r.server
	}
	if name, ok := serverOnlyNames[h.Build]; ok {
		return name
	}
	return "Windows Server"
}

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
