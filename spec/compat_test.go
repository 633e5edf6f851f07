package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Hosts of the official compatibility matrix.
var (
	server2016 = Host{Build: 14393, SKU: SKUServer, HyperV: true}
	server2019 = Host{Build: 17763, SKU: SKUServer, HyperV: true}
	server2022 = Host{Build: 20348, SKU: SKUServer, HyperV: true}
	server2025 = Host{Build: 26100, SKU: SKUServer, HyperV: true}
	win10_1803 = Host{Build: 17134, SKU: SKUClient, HyperV: true}
	win10_22H2 = Host{Build: 19045, SKU: SKUClient, HyperV: true}
	win11_21H2 = Host{Build: 22000, SKU: SKUClient, HyperV: true}
	win11_23H2 = Host{Build: 22631, SKU: SKUClient, HyperV: true}
	win11_24H2 = Host{Build: 26100, SKU: SKUClient, HyperV: true}
)

// tagImage is the version ImageOSVersion gives for a bare release tag.
func tagImage(t *testing.T, tag string) ImageVersion {
	t.Helper()
	img, err := ImageOSVersion("mcr.microsoft.com/windows/servercore:"+tag, "")
	if err != nil || !img.Known {
		t.Fatalf("ImageOSVersion(%q) = %+v, %v; want a known version", tag, img, err)
	}
	return img
}

// matrixVerdict states the rules of DESIGN §1 independently of compat.go,
// for images whose revision is unknown (as a release tag gives them).
func matrixVerdict(h Host, image uint32, iso Isolation) Verdict {
	if iso == IsolationHyperV {
		if h.HyperV && image <= h.Build {
			return Compatible
		}
		return Incompatible
	}
	if h.SKU == SKUClient && h.Build < 17763 {
		return Incompatible
	}
	ok := image == h.Build
	if h.Build >= 20348 {
		// Stable ABI: the newest LTSC strictly below the host (or the
		// host's own 20348) up to the host.
		floor := uint32(20348)
		if h.Build > 26100 {
			floor = 26100
		}
		ok = image >= floor && image <= h.Build
	}
	switch {
	case !ok:
		return Incompatible
	case h.SKU == SKUClient, h.Build < 17763: // dev-only client; 2016 revision unknown
		return CompatibleWithWarning
	}
	return Compatible
}

// matrixAuto states isolation: auto independently of compat.go: process
// when the matrix says process is Compatible, else hyperv when it runs
// there, else process with its warnings when there is no Hyper-V, else
// Incompatible (and unresolved).
func matrixAuto(h Host, image uint32) (Verdict, Isolation) {
	p := matrixVerdict(h, image, IsolationProcess)
	if p == Compatible {
		return p, IsolationProcess
	}
	if v := matrixVerdict(h, image, IsolationHyperV); v != Incompatible {
		return v, IsolationHyperV
	}
	if p == CompatibleWithWarning {
		return p, IsolationProcess
	}
	return Incompatible, IsolationAuto
}

// matrixWant is the oracle's verdict and resolved isolation for iso.
func matrixWant(h Host, image uint32, iso Isolation) (Verdict, Isolation) {
	if iso == IsolationAuto {
		return matrixAuto(h, image)
	}
	return matrixVerdict(h, image, iso), iso
}

func TestCheckCompatibilityMatrix(t *testing.T) {
	hosts := []Host{server2016, server2019, server2022, server2025, win10_1803, win10_22H2, win11_21H2, win11_23H2, win11_24H2}
	for _, h := range hosts[:len(hosts):len(hosts)] {
		h.HyperV = false
		hosts = append(hosts, h)
	}
	tags := []string{"ltsc2016", "1709", "1803", "ltsc2019", "1903", "1909", "2004", "20H2", "ltsc2022", "ltsc2025"}
	for _, h := range hosts {
		for _, tag := range tags {
			for _, iso := range []Isolation{IsolationProcess, IsolationHyperV, IsolationAuto} {
				t.Run(fmt.Sprintf("%s/%d/hyperv=%t/%s/%s", h.SKU, h.Build, h.HyperV, tag, iso), func(t *testing.T) {
					img := tagImage(t, tag)
					want, wantIsolation := matrixWant(h, img.Build, iso)
					got := CheckCompatibility(h, img, iso)
					if got.Verdict != want || got.Isolation != wantIsolation {
						t.Fatalf("CheckCompatibility = %v %s (%q); want %v %s", got.Verdict, got.Isolation, got.Message, want, wantIsolation)
					}
					if wantReason := iso == IsolationAuto && want != Incompatible; (got.Reason != "") != wantReason {
						t.Errorf("Reason = %q; want one exactly when auto resolved", got.Reason)
					}
					if got.Reason != "" {
						assertContains(t, got.Reason, fmt.Sprintf("10.0.%d (%s)", img.Build, tag), h.String())
					}
					switch want {
					case Compatible:
						if got.Message != "" {
							t.Errorf("Message = %q; want none", got.Message)
						}
					case Incompatible:
						assertContains(t, got.Message, fmt.Sprintf("10.0.%d (%s)", img.Build, tag), h.String())
						if h.HyperV || h.processIsolationAllowed() {
							assertContains(t, got.Message, "use ")
						} else if iso != IsolationProcess {
							assertContains(t, got.Message, "enable the Hyper-V feature")
						}
					case CompatibleWithWarning:
						assertContains(t, got.Message, h.String())
					}
				})
			}
		}
	}
}

// TestCheckCompatibilityMatrixCount pins the matrix's notable counts so a
// wrong oracle cannot silently agree with a wrong implementation.
func TestCheckCompatibilityMatrixCount(t *testing.T) {
	tests := []struct {
		name string
		host Host
		want []string // release tags the host runs with process isolation
	}{
		{name: "server 2016", host: server2016, want: []string{"ltsc2016"}},
		{name: "server 2019", host: server2019, want: []string{"ltsc2019"}},
		{name: "server 2022", host: server2022, want: []string{"ltsc2022"}},
		{name: "server 2025", host: server2025, want: []string{"ltsc2022", "ltsc2025"}},
		{name: "windows 10 1803", host: win10_1803, want: nil},
		{name: "windows 10 22H2", host: win10_22H2, want: nil},
		{name: "windows 11 21H2", host: win11_21H2, want: []string{"ltsc2022"}},
		{name: "windows 11 23H2", host: win11_23H2, want: []string{"ltsc2022"}},
		{name: "windows 11 24H2", host: win11_24H2, want: []string{"ltsc2022", "ltsc2025"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range imageReleases {
				if CheckCompatibility(tt.host, tagImage(t, r.name), IsolationProcess).Verdict != Incompatible {
					got = append(got, r.name)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("process-compatible releases = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestCheckCompatibility(t *testing.T) {
	known := func(build, revision uint32) ImageVersion {
		return ImageVersion{OSVersion: OSVersion{Build: build, Revision: revision}, Known: true, From: "spec.osVersion"}
	}
	noHyperV := func(h Host) Host { h.HyperV = false; return h }
	withRevision := func(h Host, r uint32) Host { h.Revision = r; return h }
	tests := []struct {
		name          string
		host          Host
		image         ImageVersion
		iso           Isolation
		want          Verdict
		wantIsolation Isolation
		wantMessage   []string // fragments
		notMessage    []string
		wantReason    []string // fragments; none means no reason
	}{
		{
			name: "server 2025 runs ltsc2022 with process isolation (stable ABI)",
			host: server2025, image: known(20348, 2762), iso: IsolationProcess,
			want: Compatible, wantIsolation: IsolationProcess,
		},
		{
			name: "server 2025 runs ltsc2025 with process isolation",
			host: server2025, image: known(26100, 0), iso: IsolationProcess,
			want: Compatible, wantIsolation: IsolationProcess,
		},
		{
			name: "windows 11 runs ltsc2022 with process isolation, with the client warning",
			host: win11_23H2, image: known(20348, 0), iso: IsolationProcess,
			want: CompatibleWithWarning, wantIsolation: IsolationProcess,
			wantMessage: []string{"image build 10.0.20348 (ltsc2022)", "Windows 11 (10.0.22631)", "development/testing only", "use isolation: hyperv"},
		},
		{
			name: "a 20348 host refuses ltsc2019 with process isolation",
			host: server2022, image: known(17763, 0), iso: IsolationProcess,
			want: Incompatible, wantIsolation: IsolationProcess,
			wantMessage: []string{
				"image build 10.0.17763 (ltsc2019) cannot run with process isolation on Windows Server 2022 (10.0.20348): " +
					"process isolation needs the image build to match the host build; use isolation: hyperv, or an ltsc2022 image",
				HCSOSMismatch,
			},
		},
		{
			name: "server 2025 refuses ltsc2019 with process isolation and names the stable ABI range",
			host: server2025, image: known(17763, 0), iso: IsolationProcess,
			want: Incompatible, wantIsolation: IsolationProcess,
			wantMessage: []string{"10.0.17763 (ltsc2019)", "Windows Server 2025 (10.0.26100)", "from 10.0.20348 (ltsc2022) to 10.0.26100 (ltsc2025)", "an ltsc2022 or ltsc2025 image", HCSOSMismatch},
		},
		{
			name: "a 20348 host runs only 20348, not a later client build",
			host: server2022, image: known(22000, 0), iso: IsolationProcess,
			want: Incompatible, wantIsolation: IsolationProcess,
			wantMessage: []string{"image build 10.0.22000 is newer than the host Windows Server 2022 (10.0.20348)"},
		},
		{
			name: "a 14393 host refuses a revision mismatch",
			host: withRevision(server2016, 1770), image: known(14393, 1944), iso: IsolationProcess,
			want: Incompatible, wantIsolation: IsolationProcess,
			wantMessage: []string{"image build 10.0.14393.1944 (ltsc2016)", "Windows Server 2016 (10.0.14393.1770)", "revision 1770", "10.0.14393.1770", "isolation: hyperv", HCSOSMismatch},
		},
		{
			name: "a 14393 host runs the matching revision",
			host: withRevision(server2016, 1770), image: known(14393, 1770), iso: IsolationProcess,
			want: Compatible, wantIsolation: IsolationProcess,
		},
		{
			name: "a 14393 host warns when the image revision is unknown",
			host: withRevision(server2016, 1770), image: known(14393, 0), iso: IsolationProcess,
			want: CompatibleWithWarning, wantIsolation: IsolationProcess,
			wantMessage: []string{"revision of image build 10.0.14393 (ltsc2016) is unknown", "Windows Server 2016 (10.0.14393.1770)", "spec.osVersion: 10.0.14393.1770"},
		},
		{
			name: "a 14393 host ignores revisions under hyperv isolation",
			host: withRevision(server2016, 1770), image: known(14393, 1944), iso: IsolationHyperV,
			want: Compatible, wantIsolation: IsolationHyperV,
		},
		{
			name: "a 17763 host runs another revision",
			host: withRevision(server2019, 5329), image: known(17763, 1234), iso: IsolationProcess,
			want: Compatible, wantIsolation: IsolationProcess,
		},
		{
			name: "client process isolation is allowed from 17763 with a warning",
			host: Host{Build: 17763, SKU: SKUClient, HyperV: true}, image: known(17763, 0), iso: IsolationProcess,
			want: CompatibleWithWarning, wantIsolation: IsolationProcess,
			wantMessage: []string{"image build 10.0.17763 (ltsc2019)", "Windows 10 (10.0.17763)", "development/testing only"},
		},
		{
			name: "client process isolation below 17763 is refused",
			host: win10_1803, image: known(17134, 0), iso: IsolationProcess,
			want: Incompatible, wantIsolation: IsolationProcess,
			wantMessage: []string{"image build 10.0.17134 (1803)", "Windows 10 (10.0.17134)", "build 10.0.17763 (1809) or later", "use isolation: hyperv"},
		},
		{
			name: "client process isolation on a mismatched build is refused",
			host: win10_22H2, image: known(17763, 0), iso: IsolationProcess,
			want: Incompatible, wantIsolation: IsolationProcess,
			wantMessage: []string{"10.0.17763 (ltsc2019)", "Windows 10 (10.0.19045)", "use isolation: hyperv, or an image of build 10.0.19045"},
		},
		{
			name: "default isolation on a server host is process",
			host: server2019, image: known(17763, 0), iso: IsolationDefault,
			want: Compatible, wantIsolation: IsolationProcess,
		},
		{
			name: "empty isolation on a server host is process",
			host: server2022, image: known(17763, 0), iso: "",
			want: Incompatible, wantIsolation: IsolationProcess,
			wantMessage: []string{"process isolation"},
		},
		{
			name: "default isolation on a client host is hyperv",
			host: win10_22H2, image: known(17763, 0), iso: IsolationDefault,
			want: Compatible, wantIsolation: IsolationHyperV,
		},
		{
			name: "hyperv runs older images",
			host: server2022, image: known(14393, 0), iso: IsolationHyperV,
			want: Compatible, wantIsolation: IsolationHyperV,
		},
		{
			name: "a newer image is refused under hyperv",
			host: server2022, image: known(26100, 0), iso: IsolationHyperV,
			want: Incompatible, wantIsolation: IsolationHyperV,
			wantMessage: []string{"image build 10.0.26100 (ltsc2025) is newer than the host Windows Server 2022 (10.0.20348): " +
				"a host never runs newer images, in either isolation mode; use an image of build 10.0.20348 (ltsc2022) or older with isolation: hyperv"},
		},
		{
			name: "a newer image is refused under process isolation too",
			host: server2019, image: known(20348, 0), iso: IsolationProcess,
			want: Incompatible, wantIsolation: IsolationProcess,
			wantMessage: []string{"image build 10.0.20348 (ltsc2022) is newer than the host Windows Server 2019 (10.0.17763)", "10.0.17763 (ltsc2019) or older with isolation: hyperv", "an ltsc2019 image with isolation: process"},
		},
		{
			name: "no hyperv refuses hyperv isolation",
			host: noHyperV(server2022), image: known(17763, 0), iso: IsolationHyperV,
			want: Incompatible, wantIsolation: IsolationHyperV,
			wantMessage: []string{"image build 10.0.17763 (ltsc2019)", "Windows Server 2022 (10.0.20348)", "Hyper-V isolation is not available on this host", "enable the Hyper-V role", "isolation: process with an ltsc2022 image"},
		},
		{
			name: "no hyperv refuses default isolation on a client host",
			host: noHyperV(win11_23H2), image: known(20348, 0), iso: IsolationDefault,
			want: Incompatible, wantIsolation: IsolationHyperV,
			wantMessage: []string{"image build 10.0.20348 (ltsc2022)", "Windows 11 (10.0.22631)", "Hyper-V isolation is not available", "enable the Hyper-V feature", "isolation: process with an ltsc2022 image"},
		},
		{
			name: "no hyperv on an old client host offers no process isolation",
			host: noHyperV(win10_1803), image: known(17134, 0), iso: IsolationDefault,
			want: Incompatible, wantIsolation: IsolationHyperV,
			wantMessage: []string{"enable the Hyper-V feature"}, notMessage: []string{"isolation: process"},
		},
		{
			name: "no hyperv: a process mismatch does not suggest hyperv",
			host: noHyperV(server2022), image: known(17763, 0), iso: IsolationProcess,
			want: Incompatible, wantIsolation: IsolationProcess,
			wantMessage: []string{"use an ltsc2022 image", "Hyper-V isolation, which runs older images, is not available"}, notMessage: []string{"use isolation: hyperv"},
		},
		{
			name: "no hyperv does not matter to process isolation",
			host: noHyperV(server2022), image: known(20348, 0), iso: IsolationProcess,
			want: Compatible, wantIsolation: IsolationProcess,
		},
		{
			name: "unknown image version warns and asks for spec.osVersion",
			host: server2019, image: ImageVersion{}, iso: IsolationDefault,
			want: CompatibleWithWarning, wantIsolation: IsolationProcess,
			wantMessage: []string{"cannot be told from the image reference", "Windows Server 2019 (10.0.17763)", `set spec.osVersion (e.g. "osVersion: 10.0.17763")`, "ltsc2019"},
		},
		{
			name: "unknown image version on a client host warns twice",
			host: win11_23H2, image: ImageVersion{}, iso: IsolationProcess,
			want: CompatibleWithWarning, wantIsolation: IsolationProcess,
			wantMessage: []string{"cannot be told from the image reference", "development/testing only"},
		},
		{
			name: "unknown image version still needs hyperv on the host",
			host: noHyperV(server2022), image: ImageVersion{}, iso: IsolationHyperV,
			want: Incompatible, wantIsolation: IsolationHyperV,
			wantMessage: []string{"the image (build unknown)", "Hyper-V isolation is not available"},
		},
		{
			name: "an image of a newer revision warns under process isolation, naming both revisions and the fix",
			host: withRevision(server2019, 6893), image: known(17763, 7314), iso: IsolationProcess,
			want: CompatibleWithWarning, wantIsolation: IsolationProcess,
			wantMessage: []string{"image build 10.0.17763.7314 (ltsc2019) is of a newer revision than the host Windows Server 2019 (10.0.17763.6893)",
				HCSUnexpectedExit, "patch the host to revision 7314 or later, or use isolation: hyperv"},
		},
		{
			name: "an image of a newer revision on a host without hyperv: patch or an older image",
			host: noHyperV(withRevision(server2022, 2700)), image: known(20348, 2762), iso: IsolationProcess,
			want: CompatibleWithWarning, wantIsolation: IsolationProcess,
			wantMessage: []string{"10.0.20348.2762", "10.0.20348.2700", "patch the host to revision 2762 or later, or use an image of revision 2700 or older"},
			notMessage:  []string{"hyperv"},
		},
		{
			name: "an image of an older revision is fine",
			host: withRevision(server2019, 7314), image: known(17763, 6893), iso: IsolationProcess,
			want: Compatible, wantIsolation: IsolationProcess,
		},
		{
			name: "a newer revision is not compared when the host revision is unknown",
			host: server2019, image: known(17763, 7314), iso: IsolationProcess,
			want: Compatible, wantIsolation: IsolationProcess,
		},
		{
			name: "a newer revision of another build is not compared (stable ABI)",
			host: withRevision(server2025, 1000), image: known(20348, 2762), iso: IsolationProcess,
			want: Compatible, wantIsolation: IsolationProcess,
		},
		{
			name: "a newer revision does not matter to hyperv isolation",
			host: withRevision(server2019, 6893), image: known(17763, 7314), iso: IsolationHyperV,
			want: Compatible, wantIsolation: IsolationHyperV,
		},
		{
			name: "auto: process when the image matches",
			host: withRevision(server2019, 7314), image: known(17763, 6893), iso: IsolationAuto,
			want: Compatible, wantIsolation: IsolationProcess,
			wantReason: []string{"Windows Server 2019 (10.0.17763.7314) runs image build 10.0.17763.6893 (ltsc2019) with process isolation"},
		},
		{
			name: "auto: hyperv after a host upgrade, with the rule that rules process out",
			host: withRevision(server2022, 1), image: known(17763, 0), iso: IsolationAuto,
			want: Compatible, wantIsolation: IsolationHyperV,
			wantReason: []string{"image build 10.0.17763 (ltsc2019) cannot run with process isolation on Windows Server 2022 (10.0.20348.1): process isolation needs the image build to match the host build"},
		},
		{
			name: "auto: hyperv for an image of a newer revision than the host's",
			host: withRevision(server2019, 6893), image: known(17763, 7314), iso: IsolationAuto,
			want: Compatible, wantIsolation: IsolationHyperV,
			wantReason: []string{"image build 10.0.17763.7314 (ltsc2019) should not run with process isolation on Windows Server 2019 (10.0.17763.6893): the image revision 7314 is newer than the host revision 6893"},
		},
		{
			name: "auto: hyperv on a 2016 host whose revision moved",
			host: withRevision(server2016, 1944), image: known(14393, 1770), iso: IsolationAuto,
			want: Compatible, wantIsolation: IsolationHyperV,
			wantReason: []string{"cannot run with process isolation", "needs the image revision to match the host revision 1944"},
		},
		{
			name: "auto: hyperv on a client host, where process isolation is for development only",
			host: win11_23H2, image: known(20348, 0), iso: IsolationAuto,
			want: Compatible, wantIsolation: IsolationHyperV,
			wantReason: []string{"should not run with process isolation on Windows 11 (10.0.22631)", "development/testing only"},
		},
		{
			name: "auto: hyperv, with the warning, for an image whose build is unknown",
			host: server2022, image: ImageVersion{}, iso: IsolationAuto,
			want: CompatibleWithWarning, wantIsolation: IsolationHyperV,
			wantMessage: []string{"cannot be told from the image reference", "an image of build 10.0.20348 (ltsc2022) or older"},
			wantReason:  []string{"the image (build unknown) should not run with process isolation", "cannot be told"},
		},
		{
			name: "auto: process with its warning when there is no hyperv",
			host: noHyperV(withRevision(server2019, 6893)), image: known(17763, 7314), iso: IsolationAuto,
			want: CompatibleWithWarning, wantIsolation: IsolationProcess,
			wantMessage: []string{HCSUnexpectedExit, "patch the host to revision 7314 or later"},
			wantReason:  []string{"Hyper-V isolation is not available on this host, and process isolation may run image build 10.0.17763.7314 (ltsc2019) on Windows Server 2019 (10.0.17763.6893)"},
		},
		{
			name: "auto: neither mode without hyperv is an error that names both rules",
			host: noHyperV(server2022), image: known(17763, 0), iso: IsolationAuto,
			want: Incompatible, wantIsolation: IsolationAuto,
			wantMessage: []string{"isolation auto finds no isolation mode for image build 10.0.17763 (ltsc2019) on Windows Server 2022 (10.0.20348)",
				"process isolation needs the image build to match the host build", "Hyper-V isolation is not available", "enable the Hyper-V role, or use an ltsc2022 image"},
		},
		{
			name: "auto: a newer image runs in neither mode",
			host: server2019, image: known(20348, 0), iso: IsolationAuto,
			want: Incompatible, wantIsolation: IsolationAuto,
			wantMessage: []string{"image build 10.0.20348 (ltsc2022) is newer than the host Windows Server 2019 (10.0.17763)", "with isolation: hyperv, or an ltsc2019 image with isolation: process"},
		},
		{
			name: "auto: a newer image on an old client host without hyperv: only hyperv would ever run an older one",
			host: noHyperV(win10_1803), image: known(17763, 0), iso: IsolationAuto,
			want: Incompatible, wantIsolation: IsolationAuto,
			wantMessage: []string{"is newer than the host Windows 10 (10.0.17134)", "enable the Hyper-V feature and use an image of build 10.0.17134 (1803) or older with isolation: hyperv"},
			notMessage:  []string{"isolation: process"},
		},
		{
			name: "an unknown isolation is refused",
			host: server2022, image: known(20348, 0), iso: "vm",
			want: Incompatible, wantIsolation: "vm",
			wantMessage: []string{`unknown isolation "vm"`, "process, hyperv, default, auto"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckCompatibility(tt.host, tt.image, tt.iso)
			if got.Verdict != tt.want || got.Isolation != tt.wantIsolation {
				t.Fatalf("CheckCompatibility = %v %q (%q); want %v %q", got.Verdict, got.Isolation, got.Message, tt.want, tt.wantIsolation)
			}
			if tt.want == Compatible && got.Message != "" {
				t.Errorf("Message = %q; want none", got.Message)
			}
			if tt.want != Compatible && got.Message == "" {
				t.Errorf("Message is empty")
			}
			assertContains(t, got.Message, tt.wantMessage...)
			if (got.Reason != "") != (len(tt.wantReason) > 0) {
				t.Errorf("Reason = %q; want one with %q", got.Reason, tt.wantReason)
			}
			assertContains(t, got.Reason, tt.wantReason...)
			for _, frag := range tt.notMessage {
				if strings.Contains(got.Message, frag) {
					t.Errorf("Message %q contains %q", got.Message, frag)
				}
			}
		})
	}
}

func assertContains(t *testing.T, msg string, fragments ...string) {
	t.Helper()
	for _, frag := range fragments {
		if !strings.Contains(msg, frag) {
			t.Errorf("message %q\n  lacks %q", msg, frag)
		}
	}
}

func TestParseOSVersion(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    OSVersion
		wantErr bool
	}{
		{name: "full version", in: "10.0.17763", want: OSVersion{Build: 17763}},
		{name: "full version with revision", in: "10.0.17763.5329", want: OSVersion{Build: 17763, Revision: 5329}},
		{name: "build", in: "17763", want: OSVersion{Build: 17763}},
		{name: "build with revision", in: "17763.5329", want: OSVersion{Build: 17763, Revision: 5329}},
		{name: "client build", in: "22631", want: OSVersion{Build: 22631}},
		{name: "ltsc2016", in: "ltsc2016", want: OSVersion{Build: 14393}},
		{name: "1607", in: "1607", want: OSVersion{Build: 14393}},
		{name: "1709", in: "1709", want: OSVersion{Build: 16299}},
		{name: "1803", in: "1803", want: OSVersion{Build: 17134}},
		{name: "ltsc2019", in: "ltsc2019", want: OSVersion{Build: 17763}},
		{name: "1809", in: "1809", want: OSVersion{Build: 17763}},
		{name: "1903", in: "1903", want: OSVersion{Build: 18362}},
		{name: "1909", in: "1909", want: OSVersion{Build: 18363}},
		{name: "2004", in: "2004", want: OSVersion{Build: 19041}},
		{name: "20H2", in: "20H2", want: OSVersion{Build: 19042}},
		{name: "20h2 lower case", in: "20h2", want: OSVersion{Build: 19042}},
		{name: "LTSC2022 upper case", in: "LTSC2022", want: OSVersion{Build: 20348}},
		{name: "ltsc2025", in: "ltsc2025", want: OSVersion{Build: 26100}},
		{name: "surrounding space", in: " 10.0.20348.2762 ", want: OSVersion{Build: 20348, Revision: 2762}},
		{name: "empty", in: "", wantErr: true},
		{name: "not 10.0", in: "6.3.9600", wantErr: true},
		{name: "11.0 is not windows 11", in: "11.0.22000", wantErr: true},
		{name: "too many parts", in: "10.0.17763.5329.1", wantErr: true},
		{name: "trailing dot", in: "10.0.17763.", wantErr: true},
		{name: "app version", in: "4.8", wantErr: true},
		{name: "short number", in: "2019", wantErr: true},
		{name: "pre-windows-10 build", in: "9600", wantErr: true},
		{name: "build beyond 16 bits", in: "70000", wantErr: true},
		{name: "signed", in: "+17763", wantErr: true},
		{name: "unknown release", in: "ltsc2030", wantErr: true},
		{name: "words", in: "windows server 2019", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOSVersion(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseOSVersion(%q) = %v; want an error", tt.in, got)
				}
				if !errors.Is(err, ErrInvalidOSVersion) {
					t.Errorf("error %v is not ErrInvalidOSVersion", err)
				}
				assertContains(t, err.Error(), fmt.Sprintf("%q", tt.in), "10.0.BUILD", "ltsc2019", "20H2")
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseOSVersion(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestOSVersionString(t *testing.T) {
	tests := []struct {
		name string
		in   OSVersion
		want string
	}{
		{name: "with revision", in: OSVersion{Build: 17763, Revision: 5329}, want: "10.0.17763.5329"},
		{name: "without revision", in: OSVersion{Build: 17763}, want: "10.0.17763"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("String() = %q; want %q", got, tt.want)
			}
			if back, err := ParseOSVersion(tt.in.String()); err != nil || back != tt.in {
				t.Errorf("ParseOSVersion(String()) = %v, %v; want %v", back, err, tt.in)
			}
		})
	}
}

func TestReleaseName(t *testing.T) {
	tests := []struct {
		build uint32
		want  string
	}{
		{14393, "ltsc2016"}, {16299, "1709"}, {17134, "1803"}, {17763, "ltsc2019"},
		{18362, "1903"}, {18363, "1909"}, {19041, "2004"}, {19042, "20H2"},
		{20348, "ltsc2022"}, {26100, "ltsc2025"},
		{19045, ""}, {22631, ""}, {25398, ""}, {0, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.build), func(t *testing.T) {
			if got := ReleaseName(tt.build); got != tt.want {
				t.Errorf("ReleaseName(%d) = %q; want %q", tt.build, got, tt.want)
			}
			if tt.want == "" {
				return
			}
			if v, err := ParseOSVersion(tt.want); err != nil || v.Build != tt.build {
				t.Errorf("ParseOSVersion(%q) = %v, %v; want build %d", tt.want, v, err, tt.build)
			}
		})
	}
}

func TestImageOSVersion(t *testing.T) {
	tests := []struct {
		name      string
		image     string
		osVersion string
		want      ImageVersion
		wantErr   bool
	}{
		{
			name:  "servercore ltsc2019",
			image: "mcr.microsoft.com/windows/servercore:ltsc2019",
			want:  ImageVersion{OSVersion: OSVersion{Build: 17763}, Known: true, From: `tag "ltsc2019"`},
		},
		{
			name:  "aspnet framework on ltsc2019",
			image: "mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019",
			want:  ImageVersion{OSVersion: OSVersion{Build: 17763}, Known: true, From: `tag "4.8-windowsservercore-ltsc2019"`},
		},
		{
			name:  "sdk 4.8.1 on ltsc2022",
			image: "mcr.microsoft.com/dotnet/framework/sdk:4.8.1-windowsservercore-ltsc2022",
			want:  ImageVersion{OSVersion: OSVersion{Build: 20348}, Known: true, From: `tag "4.8.1-windowsservercore-ltsc2022"`},
		},
		{
			name:  "nanoserver 1809",
			image: "mcr.microsoft.com/windows/nanoserver:1809",
			want:  ImageVersion{OSVersion: OSVersion{Build: 17763}, Known: true, From: `tag "1809"`},
		},
		{
			name:  "dotnet runtime on nanoserver-1809",
			image: "mcr.microsoft.com/dotnet/runtime:3.1.2-nanoserver-1809",
			want:  ImageVersion{OSVersion: OSVersion{Build: 17763}, Known: true, From: `tag "3.1.2-nanoserver-1809"`},
		},
		{
			name:  "nanoserver with KB",
			image: "mcr.microsoft.com/windows/nanoserver:1809-KB4493509",
			want:  ImageVersion{OSVersion: OSVersion{Build: 17763}, Known: true, From: `tag "1809-KB4493509"`},
		},
		{
			name:  "full version tag",
			image: "mcr.microsoft.com/windows/servercore:10.0.17763.5329",
			want:  ImageVersion{OSVersion: OSVersion{Build: 17763, Revision: 5329}, Known: true, From: `tag "10.0.17763.5329"`},
		},
		{
			name:  "full version tag with arch",
			image: "mcr.microsoft.com/windows/servercore:10.0.20348.2762-amd64",
			want:  ImageVersion{OSVersion: OSVersion{Build: 20348, Revision: 2762}, Known: true, From: `tag "10.0.20348.2762-amd64"`},
		},
		{
			name:  "server ltsc2022-amd64",
			image: "mcr.microsoft.com/windows/server:ltsc2022-amd64",
			want:  ImageVersion{OSVersion: OSVersion{Build: 20348}, Known: true, From: `tag "ltsc2022-amd64"`},
		},
		{
			name:  "servercore ltsc2025",
			image: "mcr.microsoft.com/windows/servercore:ltsc2025",
			want:  ImageVersion{OSVersion: OSVersion{Build: 26100}, Known: true, From: `tag "ltsc2025"`},
		},
		{
			name:  "iis windowsservercore-ltsc2016",
			image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2016",
			want:  ImageVersion{OSVersion: OSVersion{Build: 14393}, Known: true, From: `tag "windowsservercore-ltsc2016"`},
		},
		{
			name:  "upper case tag",
			image: "example.com/app:1.0-LTSC2022",
			want:  ImageVersion{OSVersion: OSVersion{Build: 20348}, Known: true, From: `tag "1.0-LTSC2022"`},
		},
		{
			name:  "20H2",
			image: "mcr.microsoft.com/windows/servercore:20H2",
			want:  ImageVersion{OSVersion: OSVersion{Build: 19042}, Known: true, From: `tag "20H2"`},
		},
		{
			name:  "release name and full version agree",
			image: "example.com/app:ltsc2019-10.0.17763.5329",
			want:  ImageVersion{OSVersion: OSVersion{Build: 17763, Revision: 5329}, Known: true, From: `tag "ltsc2019-10.0.17763.5329"`},
		},
		{
			name:  "tag and digest",
			image: "mcr.microsoft.com/windows/servercore:ltsc2022@sha256:1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b",
			want:  ImageVersion{OSVersion: OSVersion{Build: 20348}, Known: true, From: `tag "ltsc2022"`},
		},
		{
			name:  "registry port",
			image: "localhost:5000/x:ltsc2019",
			want:  ImageVersion{OSVersion: OSVersion{Build: 17763}, Known: true, From: `tag "ltsc2019"`},
		},
		{
			name:      "osVersion overrides the tag",
			image:     "mcr.microsoft.com/windows/servercore:ltsc2019",
			osVersion: "10.0.20348.2762",
			want:      ImageVersion{OSVersion: OSVersion{Build: 20348, Revision: 2762}, Known: true, From: "spec.osVersion"},
		},
		{
			name:      "osVersion as a release name",
			image:     "example.com/app:v1",
			osVersion: "ltsc2022",
			want:      ImageVersion{OSVersion: OSVersion{Build: 20348}, Known: true, From: "spec.osVersion"},
		},
		{name: "registry port without tag", image: "localhost:5000/x"},
		{name: "no tag", image: "mcr.microsoft.com/windows/servercore"},
		{name: "latest", image: "mcr.microsoft.com/windows/servercore:latest"},
		{name: "digest only", image: "mcr.microsoft.com/windows/servercore@sha256:17631809201917763aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{name: "app version only", image: "example.com/app:4.8"},
		{name: "semver only", image: "example.com/app:3.1.2"},
		{name: "date tag", image: "example.com/app:20240109"},
		{name: "bare build number is not a release tag", image: "example.com/app:17763"},
		{name: "contradictory tokens", image: "example.com/app:ltsc2019-ltsc2022"},
		{name: "contradictory revisions", image: "example.com/app:10.0.17763.1-10.0.17763.2"},
		{name: "release name inside a word", image: "example.com/app:myltsc2019"},
		{name: "malformed osVersion", image: "mcr.microsoft.com/windows/servercore:ltsc2019", osVersion: "2019", wantErr: true},
		{name: "malformed osVersion without tag", image: "example.com/app", osVersion: "10.0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ImageOSVersion(tt.image, tt.osVersion)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ImageOSVersion(%q, %q) = %+v; want an error", tt.image, tt.osVersion, got)
				}
				if !errors.Is(err, ErrInvalidOSVersion) {
					t.Errorf("error %v is not ErrInvalidOSVersion", err)
				}
				assertContains(t, err.Error(), "spec.osVersion", fmt.Sprintf("%q", tt.osVersion), "10.0.BUILD")
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ImageOSVersion(%q, %q) = %+v, %v; want %+v", tt.image, tt.osVersion, got, err, tt.want)
			}
		})
	}
}

func TestHostIsolation(t *testing.T) {
	tests := []struct {
		name string
		host Host
		in   Isolation
		want Isolation
	}{
		{name: "server default", host: server2022, in: IsolationDefault, want: IsolationProcess},
		{name: "server empty", host: server2022, in: "", want: IsolationProcess},
		{name: "client default", host: win11_23H2, in: IsolationDefault, want: IsolationHyperV},
		{name: "client empty", host: win10_22H2, in: "", want: IsolationHyperV},
		{name: "client explicit process", host: win11_23H2, in: IsolationProcess, want: IsolationProcess},
		{name: "server explicit hyperv", host: server2022, in: IsolationHyperV, want: IsolationHyperV},
		{name: "unknown passes through", host: server2022, in: "vm", want: "vm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.host.Effective(tt.in); got != tt.want {
				t.Errorf("Effective(%q) = %q; want %q", tt.in, got, tt.want)
			}
			if tt.in == IsolationDefault {
				if got := tt.host.DefaultIsolation(); got != tt.want {
					t.Errorf("DefaultIsolation() = %q; want %q", got, tt.want)
				}
			}
		})
	}
}

func TestHostString(t *testing.T) {
	tests := []struct {
		name string
		host Host
		want string
	}{
		{name: "server 2022 with revision", host: Host{Build: 20348, Revision: 1, SKU: SKUServer}, want: "Windows Server 2022 (10.0.20348.1)"},
		{name: "server 2016", host: server2016, want: "Windows Server 2016 (10.0.14393)"},
		{name: "server 2019", host: server2019, want: "Windows Server 2019 (10.0.17763)"},
		{name: "server 2025", host: server2025, want: "Windows Server 2025 (10.0.26100)"},
		{name: "server 1903", host: Host{Build: 18362, SKU: SKUServer}, want: "Windows Server, version 1903 (10.0.18362)"},
		{name: "server 23H2", host: Host{Build: 25398, SKU: SKUServer}, want: "Windows Server, version 23H2 (10.0.25398)"},
		{name: "unknown server build", host: Host{Build: 27000, SKU: SKUServer}, want: "Windows Server (10.0.27000)"},
		{name: "windows 11", host: win11_23H2, want: "Windows 11 (10.0.22631)"},
		{name: "windows 11 24H2", host: win11_24H2, want: "Windows 11 (10.0.26100)"},
		{name: "windows 10", host: win10_22H2, want: "Windows 10 (10.0.19045)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.host.String(); got != tt.want {
				t.Errorf("String() = %q; want %q", got, tt.want)
			}
		})
	}
}
