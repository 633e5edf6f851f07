package spec

import (
	"fmt"
	"strings"
)

// hostRelease is a Windows release a container host runs, by the name
// operators call it: the releases of the README's table of which images a
// host runs, Windows Server's and Windows 10/11's.
type hostRelease struct {
	name    string // e.g. "win11-23H2"
	version string // the feature version, e.g. "23H2"
	build   uint32
	sku     SKU
	title   string
}

// hostReleases are the host releases known by name. A feature version
// alone ("23H2") names the release of that version for the host's SKU.
var hostReleases = []hostRelease{
	{name: "server2016", version: "1607", build: buildLTSC2016, sku: SKUServer, title: "Windows Server 2016"},
	{name: "server2019", version: "1809", build: buildLTSC2019, sku: SKUServer, title: "Windows Server 2019"},
	{name: "server2022", version: "21H2", build: buildLTSC2022, sku: SKUServer, title: "Windows Server 2022"},
	{name: "server-23H2", version: "23H2", build: 25398, sku: SKUServer, title: "Windows Server, version 23H2"},
	{name: "server2025", version: "24H2", build: buildLTSC2025, sku: SKUServer, title: "Windows Server 2025"},
	{name: "win10-21H2", version: "21H2", build: 19044, sku: SKUClient, title: "Windows 10 21H2"},
	{name: "win10-22H2", version: "22H2", build: 19045, sku: SKUClient, title: "Windows 10 22H2"},
	{name: "win11-21H2", version: "21H2", build: 22000, sku: SKUClient, title: "Windows 11 21H2"},
	{name: "win11-22H2", version: "22H2", build: 22621, sku: SKUClient, title: "Windows 11 22H2"},
	{name: "win11-23H2", version: "23H2", build: 22631, sku: SKUClient, title: "Windows 11 23H2"},
	{name: "win11-24H2", version: "24H2", build: 26100, sku: SKUClient, title: "Windows 11 24H2"},
	{name: "win11-25H2", version: "25H2", build: 26200, sku: SKUClient, title: "Windows 11 25H2"},
}

// ParseHostOS reads the OS of a container host as an operator names it:
// everything ParseOSVersion reads (ltsc2022, 20348, 10.0.20348.2340), a
// host release (server2022, win10-22H2, win11-24H2), or a feature version
// (21H2, 22H2, 23H2, 24H2, 25H2), which names the release of that version
// for sku. sku is the SKU given with it ("" when none was): a host release
// of the other SKU is an error, and the SKU returned is the one the name
// implies, else sku. A feature version that more than one release of sku
// had (22H2: Windows 10 and 11) is an error naming each, so that nothing is
// guessed.
func ParseHostOS(s string, sku SKU) (OSVersion, SKU, error) {
	s = strings.TrimSpace(s)
	for _, r := range hostReleases {
		if !strings.EqualFold(s, r.name) {
			continue
		}
		if sku != "" && sku != r.sku {
			return OSVersion{}, "", fmt.Errorf("%w %q: %s is a %s release, not %s; drop the SKU or name a %s release",
				ErrInvalidOSVersion, s, r.title, r.sku, sku, sku)
		}
		return OSVersion{Build: r.build}, r.sku, nil
	}
	var matches []hostRelease
	for _, r := range hostReleases {
		if strings.EqualFold(s, r.version) && (r.sku == sku || (sku == "" && r.sku == SKUServer)) {
			matches = append(matches, r)
		}
	}
	switch len(matches) {
	case 1:
		return OSVersion{Build: matches[0].build}, matches[0].sku, nil
	case 0:
		if v, err := ParseOSVersion(s); err == nil {
			return v, sku, nil
		}
		if known := releasesOfVersion(s); len(known) > 0 {
			return OSVersion{}, "", fmt.Errorf("%w %q: no %s release has that version; %s", ErrInvalidOSVersion, s, orServer(sku), nameEach(known))
		}
		return OSVersion{}, "", fmt.Errorf("%w %q: %s, or a host release (%s)", ErrInvalidOSVersion, s,
			strings.TrimPrefix(validOSVersionForms, "want "), hostReleaseNames())
	default:
		return OSVersion{}, "", fmt.Errorf("%w %q: more than one %s release is %s; %s", ErrInvalidOSVersion, s, orServer(sku), s, nameEach(matches))
	}
}

// releasesOfVersion are the host releases of feature version v, any SKU.
func releasesOfVersion(v string) []hostRelease {
	var out []hostRelease
	for _, r := range hostReleases {
		if strings.EqualFold(v, r.version) {
			out = append(out, r)
		}
	}
	return out
}

// nameEach says how to name each of rs: "name win10-22H2 (Windows 10 22H2,
// build 19045) or win11-22H2 (…)".
func nameEach(rs []hostRelease) string {
	each := make([]string, len(rs))
	for i, r := range rs {
		each[i] = fmt.Sprintf("%s (%s, build %d)", r.name, r.title, r.build)
	}
	return "name " + strings.Join(each, " or ")
}

// hostReleaseNames lists the names of hostReleases.
func hostReleaseNames() string {
	names := make([]string, len(hostReleases))
	for i, r := range hostReleases {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

// orServer is sku, or server when none was given.
func orServer(sku SKU) SKU {
	if sku == "" {
		return SKUServer
	}
	return sku
}
