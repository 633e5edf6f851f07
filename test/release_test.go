package test

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The release checks run on what `goreleaser release --snapshot --clean`
// left in $RECONCILER_DIST (.ci/release sets it); without it they skip.
// With $RECONCILER_RELEASE_WINE=1 the Windows binary runs under Wine too,
// and with $RECONCILER_MSI_WINEPREFIX (a Wine prefix they may change) the
// MSI is installed, upgraded and removed under Wine.

// releaseDist is the dist folder under test, or a skip.
func releaseDist(t *testing.T) (dist string, meta releaseMeta) {
	t.Helper()
	dist = os.Getenv("RECONCILER_DIST")
	if dist == "" || runtime.GOOS == "windows" {
		t.Skip("no $RECONCILER_DIST: run goreleaser release --snapshot --clean first (.ci/release)")
	}
	data, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatalf("metadata.json: %v", err)
	}
	if meta.Version == "" || !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(meta.Commit) {
		t.Fatalf("metadata.json has no version or commit: %s", data)
	}
	return dist, meta
}

type releaseMeta struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// releaseArtifact is an entry of GoReleaser's artifacts.json.
type releaseArtifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
}

func releaseArtifacts(t *testing.T, dist, typ string) []releaseArtifact {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dist, "artifacts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all []releaseArtifact
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatalf("artifacts.json: %v", err)
	}
	var out []releaseArtifact
	for _, a := range all {
		if a.Type == typ {
			if !filepath.IsAbs(a.Path) {
				a.Path = filepath.Join(dist, "..", a.Path) // relative to the project
			}
			out = append(out, a)
		}
	}
	return out
}

// TestReleaseBinaries: the four targets are built, each an executable of its
// OS and machine, and the Linux one of this machine prints the stamped
// version and commit.
func TestReleaseBinaries(t *testing.T) {
	dist, meta := releaseDist(t)
	peMachine := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}
	elfMachine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	var targets []string
	for _, b := range releaseArtifacts(t, dist, "Binary") {
		targets = append(targets, b.Goos+"/"+b.Goarch)
		switch b.Goos {
		case "windows":
			if b.Name != "reconciler.exe" {
				t.Errorf("%s: named %s, want reconciler.exe", b.Path, b.Name)
			}
			f, err := pe.Open(b.Path)
			if err != nil {
				t.Fatalf("%s is not a PE file: %v", b.Path, err)
			}
			if f.Machine != peMachine[b.Goarch] {
				t.Errorf("%s: PE machine %#x, want %#x (%s)", b.Path, f.Machine, peMachine[b.Goarch], b.Goarch)
			}
			f.Close()
		case "linux":
			f, err := elf.Open(b.Path)
			if err != nil {
				t.Fatalf("%s is not an ELF file: %v", b.Path, err)
			}
			if f.Machine != elfMachine[b.Goarch] {
				t.Errorf("%s: ELF machine %v, want %v", b.Path, f.Machine, elfMachine[b.Goarch])
			}
			f.Close()
			if b.Goarch == runtime.GOARCH {
				checkStampedVersion(t, meta, exec.Command(b.Path, "version", "-o", "json"))
			}
		}
	}
	slices.Sort(targets)
	if want := []string{"linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}; !slices.Equal(targets, want) {
		t.Errorf("built %v, want %v", targets, want)
	}
	if os.Getenv("RECONCILER_RELEASE_WINE") == "1" {
		for _, b := range releaseArtifacts(t, dist, "Binary") {
			if b.Goos == "windows" && b.Goarch == "amd64" {
				out, err := exec.Command("wine", b.Path, "version").CombinedOutput()
				if err != nil {
					t.Fatalf("wine reconciler.exe version: %v\n%s", err, out)
				}
				want := fmt.Sprintf("reconciler v%s (commit %s, ", meta.Version, meta.Commit[:12])
				if !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), " windows/amd64") {
					t.Errorf("wine reconciler.exe version = %q, want %q… windows/amd64", out, want)
				}
			}
		}
	}
}

// checkStampedVersion runs `version -o json` and checks the stamp.
func checkStampedVersion(t *testing.T, meta releaseMeta, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	var v struct{ Version, Commit, Date string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	if v.Version != "v"+meta.Version || v.Commit != meta.Commit || v.Date == "" {
		t.Errorf("%s = %s, want version v%s, commit %s and a date", cmd, out, meta.Version, meta.Commit)
	}
}

// TestReleaseChecksumsAndSBOMs: checksums.txt lists every archive and the
// MSI with their true SHA-256, and each archive has a CycloneDX SBOM of
// the modules built into it.
func TestReleaseChecksumsAndSBOMs(t *testing.T) {
	dist, meta := releaseDist(t)
	data, err := os.ReadFile(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("checksums.txt: bad line %q", line)
		}
		content, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatalf("checksums.txt lists %s: %v", name, err)
		}
		if got := sha256.Sum256(content); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: SHA-256 %x, checksums.txt says %s", name, got, sum)
		}
		listed[name] = true
	}
	archives := releaseArtifacts(t, dist, "Archive")
	if len(archives) != 4 {
		t.Errorf("%d archives, want 4", len(archives))
	}
	for _, a := range archives {
		wantExt := map[string]string{"windows": ".zip", "linux": ".tar.gz"}[a.Goos]
		if !strings.HasSuffix(a.Name, wantExt) {
			t.Errorf("%s: want a %s archive for %s", a.Name, wantExt, a.Goos)
		}
		if !listed[a.Name] {
			t.Errorf("checksums.txt does not list %s", a.Name)
		}
		checkSBOM(t, filepath.Join(dist, a.Name+".cdx.json"), a.Goos)
	}
	if msi := fmt.Sprintf("reconciler_%s_windows_amd64.msi", meta.Version); !listed[msi] {
		t.Errorf("checksums.txt does not list the MSI %s", msi)
	}
	if n := len(releaseArtifacts(t, dist, "SBOM")); n != len(archives) {
		t.Errorf("%d SBOMs for %d archives", n, len(archives))
	}
}

// checkSBOM: a CycloneDX JSON document of the reconciler application
// listing the modules it is built from.
func checkSBOM(t *testing.T, path, goos string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("no SBOM: %v", err)
		return
	}
	var bom struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Metadata    struct {
			Component struct{ Name, Type string } `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Name, Version, PURL string
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion == "" || bom.Metadata.Component.Name != "github.com/reconciler/reconciler" {
		t.Errorf("%s: bomFormat %q, specVersion %q, component %q: not a CycloneDX SBOM of reconciler", path, bom.BOMFormat, bom.SpecVersion, bom.Metadata.Component.Name)
	}
	names := map[string]bool{}
	for _, c := range bom.Components {
		names[c.Name] = true
	}
	want := []string{"github.com/spf13/cobra", "go.uber.org/zap"}
	if goos == "windows" {
		want = append(want, "github.com/Microsoft/hcsshim") // only the Windows build imports it
	}
	for _, m := range want {
		if !names[m] {
			t.Errorf("%s lists no %s among its %d components", path, m, len(bom.Components))
		}
	}
}

// msiTable is the rows of one table of an MSI (msiinfo export), each a
// map of column to value.
func msiTable(t *testing.T, msi, table string) []map[string]string {
	t.Helper()
	out, err := exec.Command("msiinfo", "export", msi, table).Output()
	if err != nil {
		t.Fatalf("msiinfo export %s %s: %v", msi, table, err)
	}
	lines := strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n")
	cols := strings.Split(lines[0], "\t")
	var rows []map[string]string
	for _, l := range lines[3:] { // names, types, table name and keys
		if l == "" {
			continue
		}
		row := map[string]string{}
		for i, v := range strings.Split(l, "\t") {
			row[cols[i]] = v
		}
		rows = append(rows, row)
	}
	return rows
}

// TestReleaseMSI checks the MSI's tables: the files where they belong, the
// service (automatic, delayed, restarted on failure, the contract's command
// line), its control on install and uninstall, the upgrade, the event
// source, the config never overwritten nor removed.
func TestReleaseMSI(t *testing.T) {
	dist, meta := releaseDist(t)
	msi := filepath.Join(dist, fmt.Sprintf("reconciler_%s_windows_amd64.msi", meta.Version))
	has := func(table string, want map[string]string) {
		t.Helper()
		for _, row := range msiTable(t, msi, table) {
			if matches(row, want) {
				return
			}
		}
		t.Errorf("%s: no row with %v", table, want)
	}
	has("File", map[string]string{"Component_": "ReconcilerExe", "FileName": "reconcil.exe|reconciler.exe"})
	has("File", map[string]string{"Component_": "DefaultConfig", "FileName": "reconcil.yam|reconciler.yaml"})
	has("Directory", map[string]string{"Directory": "INSTALLFOLDER", "Directory_Parent": "ProgramFiles64Folder", "DefaultDir": "reconcil|reconciler"})
	has("Directory", map[string]string{"Directory": "DATAFOLDER", "Directory_Parent": "CommonAppDataFolder", "DefaultDir": "reconcil|reconciler"})
	has("ServiceInstall", map[string]string{"Name": "reconciler", "ServiceType": "16", "StartType": "2", "StartName": "LocalSystem",
		"Arguments": `watch --config "[CommonAppDataFolder]reconciler\reconciler.yaml"`, "Component_": "ReconcilerExe"})
	has("ServiceControl", map[string]string{"Name": "reconciler", "Event": "162", "Wait": "1"}) // stop on install and uninstall, delete on uninstall
	has("ServiceControl", map[string]string{"Name": "reconciler", "Event": "1", "Wait": "0"})   // start on install
	has("MsiServiceConfig", map[string]string{"Name": "reconciler", "ConfigType": "3", "Argument": "1"})
	has("MsiServiceConfig", map[string]string{"Name": "reconciler", "ConfigType": "4", "Argument": "1"})
	has("MsiServiceConfigFailureActions", map[string]string{"Name": "reconciler", "ResetPeriod": "86400", "Actions": "1[~]1[~]1", "DelayActions": "5000[~]30000[~]60000"})
	has("InstallExecuteSequence", map[string]string{"Action": "MsiConfigureServices"})
	has("Registry", map[string]string{"Root": "2", "Key": `SYSTEM\CurrentControlSet\Services\EventLog\Application\reconciler\`, "Name": "EventMessageFile", "Value": `#%%SystemRoot%\System32\EventCreate.exe`})
	has("Component", map[string]string{"Component": "DefaultConfig", "Attributes": "400"}) // 64-bit, permanent, never overwritten
	has("Component", map[string]string{"Component": "ManifestsFolder", "Attributes": "272"})
	props := map[string]string{}
	for _, row := range msiTable(t, msi, "Property") {
		props[row["Property"]] = row["Value"]
	}
	has("Upgrade", map[string]string{"UpgradeCode": "{9D89FE99-7B2C-4B96-A765-4D7DD0B119C2}", "ActionProperty": "WIX_UPGRADE_DETECTED"})
	if props["UpgradeCode"] != "{9D89FE99-7B2C-4B96-A765-4D7DD0B119C2}" || !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(props["ProductVersion"]) {
		t.Errorf("UpgradeCode %s, ProductVersion %s", props["UpgradeCode"], props["ProductVersion"])
	}
	checkPackageManifests(t, dist, meta, msi, props)
}

// matches: every column of want has its value in row; a value a|b is
// either.
func matches(row, want map[string]string) bool {
	for k, v := range want {
		if !slices.Contains(strings.Split(v, "|"), row[k]) && row[k] != v {
			return false
		}
	}
	return true
}

// checkPackageManifests runs packaging/gen on dist and checks the shape of
// what it writes: the winget manifests (1.6.0, the MSI's SHA-256 and
// ProductCode) and the Chocolatey package.
func checkPackageManifests(t *testing.T, dist string, meta releaseMeta, msi string, props map[string]string) {
	out := t.TempDir()
	cmd := exec.Command("go", "run", "../packaging/gen", "-dist", dist, "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("packaging/gen: %v\n%s", err, b)
	}
	content, err := os.ReadFile(msi)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	dir := filepath.Join(out, "winget", "manifests", "r", "reconciler", "reconciler", meta.Version)
	for file, want := range map[string]map[string]any{
		"reconciler.reconciler.yaml":              {"ManifestType": "version", "DefaultLocale": "en-US"},
		"reconciler.reconciler.locale.en-US.yaml": {"ManifestType": "defaultLocale", "PackageLocale": "en-US", "PackageName": "reconciler", "Publisher": "reconciler"},
		"reconciler.reconciler.installer.yaml":    {"ManifestType": "installer", "InstallerType": "msi", "Scope": "machine"},
	} {
		var m map[string]any
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		want["PackageIdentifier"], want["PackageVersion"], want["ManifestVersion"] = "reconciler.reconciler", meta.Version, "1.6.0"
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s: %s = %v, want %v", file, k, m[k], v)
			}
		}
		if m["ManifestType"] == "installer" {
			inst := m["Installers"].([]any)[0].(map[string]any)
			if inst["InstallerSha256"] != strings.ToUpper(hex.EncodeToString(sum[:])) || inst["ProductCode"] != props["ProductCode"] ||
				inst["Architecture"] != "x64" || !strings.HasSuffix(inst["InstallerUrl"].(string), "/"+filepath.Base(msi)) {
				t.Errorf("%s: installer %v, want the MSI's SHA-256 %x and ProductCode %s", file, inst, sum, props["ProductCode"])
			}
		}
	}
	var nuspec struct {
		Metadata struct {
			ID          string `xml:"id"`
			Version     string `xml:"version"`
			Description string `xml:"description"`
		} `xml:"metadata"`
	}
	data, err := os.ReadFile(filepath.Join(out, "chocolatey", "reconciler.nuspec"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(data, &nuspec); err != nil || nuspec.Metadata.ID != "reconciler" || nuspec.Metadata.Version != meta.Version || nuspec.Metadata.Description == "" {
		t.Errorf("reconciler.nuspec: %v, %+v", err, nuspec.Metadata)
	}
	install, err := os.ReadFile(filepath.Join(out, "chocolatey", "tools", "chocolateyinstall.ps1"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(install, []byte("checksum64     = '"+hex.EncodeToString(sum[:])+"'")) || !bytes.Contains(install, []byte("Install-ChocolateyPackage")) {
		t.Errorf("chocolateyinstall.ps1 does not install the MSI by its SHA-256 %x:\n%s", sum, install)
	}
}

// TestReleaseMSIUnderWine installs the MSI under Wine in
// $RECONCILER_MSI_WINEPREFIX, edits the config and leaves a state file,
// upgrades to a newer build of the same MSI, then uninstalls: the program
// lands in Program Files and goes, the service and the event source are
// registered and removed, the config and the state stay throughout.
// Wine's msi cannot start the service (its SCM runs no Go service of this
// build, and StartServices then rolls the install back), and it does not
// implement MsiConfigureServices: the MSIs installed here are copies
// without the ServiceControl row that starts the service; delayed start
// and recovery are checked in the tables only (TestReleaseMSI).
func TestReleaseMSIUnderWine(t *testing.T) {
	dist, _ := releaseDist(t)
	prefix := os.Getenv("RECONCILER_MSI_WINEPREFIX")
	if prefix == "" {
		t.Skip("no $RECONCILER_MSI_WINEPREFIX")
	}
	exe := ""
	for _, b := range releaseArtifacts(t, dist, "Binary") {
		if b.Goos == "windows" && b.Goarch == "amd64" {
			exe = b.Path
		}
	}
	work := t.TempDir()
	msis := map[string]string{}
	for _, version := range []string{"1.0.0", "1.0.1"} {
		msi := filepath.Join(work, "reconciler-"+version+".msi")
		build := exec.Command("../packaging/msi/build.sh", exe, "windows", "amd64", version, msi)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build.sh %s: %v\n%s", version, err, out)
		}
		if out, err := exec.Command("msibuild", msi, "-q", "DELETE FROM `ServiceControl` WHERE `ServiceControl` = 'ReconcilerServiceStart'").CombinedOutput(); err != nil {
			t.Fatalf("msibuild: %v\n%s", err, out)
		}
		msis[version] = msi
	}
	wine := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("wine", args...)
		cmd.Env = append(os.Environ(), "WINEPREFIX="+prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
		out, err := cmd.CombinedOutput()
		if err != nil && args[0] == "msiexec" {
			t.Fatalf("wine %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	drive := filepath.Join(prefix, "drive_c")
	exePath := filepath.Join(drive, "Program Files", "reconciler", "reconciler.exe")
	config := filepath.Join(drive, "ProgramData", "reconciler", "reconciler.yaml")
	state := filepath.Join(drive, "ProgramData", "reconciler", "agent-reconciler.removals.json")
	exists := func(path string, want bool) {
		t.Helper()
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", path, err == nil, want)
		}
	}
	service := func(want bool) {
		t.Helper()
		out := wine("reg", "query", `HKLM\SYSTEM\CurrentControlSet\Services\reconciler`)
		if got := strings.Contains(out, `watch --config "C:\ProgramData\reconciler\reconciler.yaml"`) && strings.Contains(out, `C:\Program Files\reconciler\reconciler.exe`); got != want {
			t.Errorf("service reconciler registered with the contract's command line: %v, want %v\n%s", got, want, out)
		}
		out = wine("reg", "query", `HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\reconciler`)
		if got := strings.Contains(out, "EventCreate.exe"); got != want {
			t.Errorf("event source reconciler registered: %v, want %v\n%s", got, want, out)
		}
	}

	wine("msiexec", "/i", msis["1.0.0"], "/qn")
	exists(exePath, true)
	exists(config, true)
	exists(filepath.Join(drive, "ProgramData", "reconciler", "manifests"), true)
	service(true)
	edited := []byte("# edited by the operator\ndir: ['C:\\manifests']\n")
	if err := os.WriteFile(config, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dataKept := func(after string) {
		t.Helper()
		if got, _ := os.ReadFile(config); !bytes.Equal(got, edited) {
			t.Errorf("the %s changed or removed the config: %q", after, got)
		}
		exists(state, true)
	}

	wine("msiexec", "/i", msis["1.0.1"], "/qn")
	exists(exePath, true)
	service(true)
	dataKept("upgrade")
	if out := wine("reg", "query", `HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall`, "/s"); strings.Count(out, "DisplayVersion") > 0 &&
		(!strings.Contains(out, "1.0.1") || strings.Contains(out, "1.0.0")) {
		t.Errorf("after the upgrade, want 1.0.1 installed and 1.0.0 gone:\n%s", out)
	}

	wine("msiexec", "/x", msis["1.0.1"], "/qn")
	exists(exePath, false)
	service(false)
	dataKept("uninstall")
}
