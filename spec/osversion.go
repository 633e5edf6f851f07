package spec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// OSVersion is a Windows NT 10.0 version: 10.0.Build.Revision. Revision is
// the update build revision (UBR); 0 means unknown/any.
type OSVersion struct {
	Build    uint32 `json:"build"`
	Revision uint32 `json:"revision"`
}

// ErrInvalidOSVersion classes a malformed OS version (spec.osVersion, a
// --host-os value); check with errors.Is.
var ErrInvalidOSVersion = errors.New("invalid OS version")

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
