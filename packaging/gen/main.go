// Command gen writes the winget manifests (multi-file, schema 1.6.0) and the
// Chocolatey package sources of a release from what GoReleaser left in
// dist/: metadata.json (the version and tag), checksums.txt (the MSI's
// SHA-256) and the MSI itself (its ProductCode and UpgradeCode, read with
// msitools' msiinfo).
//
//	go run ./packaging/gen -dist dist [-out dist/packages] [-repo reconciler/reconciler]
//
// It writes OUT/winget/manifests/r/reconciler/reconciler/VERSION/*.yaml and
// OUT/chocolatey/{reconciler.nuspec,tools/chocolateyinstall.ps1}; both
// install the MSI from the release's download URL, checked against its
// SHA-256.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
)

// release is what the manifests say about one release.
type release struct {
	Version     string // 1.2.3
	Tag         string // v1.2.3
	Repo        string // owner/name on GitHub
	MSIName     string
	MSIURL      string
	MSISHA256   string // lower-case hex
	ProductCode string // {GUID}
	UpgradeCode string // {GUID}
}

// PackageIdentifier is the winget package identifier.
const PackageIdentifier = "reconciler.reconciler"

func main() {
	dist := flag.String("dist", "dist", "GoReleaser's dist folder")
	out := flag.String("out", "", "where to write the manifests (default DIST/packages)")
	repo := flag.String("repo", "reconciler/reconciler", "the GitHub repository the release is published in")
	flag.Parse()
	if *out == "" {
		*out = filepath.Join(*dist, "packages")
	}
	if err := run(*dist, *out, *repo); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dist, out, repo string) error {
	r, err := readRelease(dist, repo)
	if err != nil {
		return err
	}
	wingetDir := filepath.Join(out, "winget", "manifests", "r", "reconciler", "reconciler", r.Version)
	files := map[string]string{
		filepath.Join(wingetDir, PackageIdentifier+".yaml"):                  wingetVersion,
		filepath.Join(wingetDir, PackageIdentifier+".locale.en-US.yaml"):     wingetLocale,
		filepath.Join(wingetDir, PackageIdentifier+".installer.yaml"):        wingetInstaller,
		filepath.Join(out, "chocolatey", "reconciler.nuspec"):                chocoNuspec,
		filepath.Join(out, "chocolatey", "tools", "chocolateyinstall.ps1"):   chocoInstall,
		filepath.Join(out, "chocolatey", "tools", "chocolateyuninstall.ps1"): chocoUninstall,
	}
	for path, text := range files {
		if err := writeTemplate(path, text, r); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	return nil
}

// readRelease gathers the release's facts from dist.
func readRelease(dist, repo string) (release, error) {
	var meta struct {
		Version string `json:"version"`
		Tag     string `json:"tag"`
	}
	data, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		return release{}, err
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return release{}, fmt.Errorf("metadata.json: %w", err)
	}
	r := release{Version: meta.Version, Tag: "v" + meta.Version, Repo: repo}
	if strings.HasPrefix(meta.Tag, "v") && strings.TrimPrefix(meta.Tag, "v") == meta.Version {
		r.Tag = meta.Tag
	}
	r.MSIName = fmt.Sprintf("reconciler_%s_windows_amd64.msi", r.Version)
	r.MSIURL = fmt.Sprintf("https://github.com/%s/releases/download/%s/%s", repo, r.Tag, r.MSIName)
	if r.MSISHA256, err = checksumOf(filepath.Join(dist, "checksums.txt"), r.MSIName); err != nil {
		return release{}, err
	}
	props, err := msiProperties(filepath.Join(dist, r.MSIName))
	if err != nil {
		return release{}, err
	}
	r.ProductCode, r.UpgradeCode = props["ProductCode"], props["UpgradeCode"]
	if r.ProductCode == "" || r.UpgradeCode == "" {
		return release{}, fmt.Errorf("%s has no ProductCode or UpgradeCode", r.MSIName)
	}
	return r, nil
}

// checksumOf is name's SHA-256 in a checksums.txt.
func checksumOf(path, name string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if sum, file, ok := strings.Cut(s.Text(), "  "); ok && file == name {
			return strings.ToLower(sum), nil
		}
	}
	if err := s.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no line for %s", path, name)
}

// msiProperties reads the Property table of an MSI with msiinfo.
func msiProperties(msi string) (map[string]string, error) {
	out, err := exec.Command("msiinfo", "export", msi, "Property").Output()
	if err != nil {
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("msiinfo export %s Property (apt-get install msitools): %w", msi, err)
	}
	props := map[string]string{}
	for line := range strings.SplitSeq(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), "\t"); ok {
			props[k] = v
		}
	}
	return props, nil
}

func writeTemplate(path, text string, r release) error {
	t, err := template.New(filepath.Base(path)).Funcs(template.FuncMap{"upper": strings.ToUpper}).Parse(text)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := t.Execute(f, r); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

const wingetVersion = `# yaml-language-server: $schema=https://aka.ms/winget-manifest.version.1.6.0.schema.json
PackageIdentifier: ` + PackageIdentifier + `
PackageVersion: '{{.Version}}'
DefaultLocale: en-US
ManifestType: version
ManifestVersion: 1.6.0
`

const wingetLocale = `# yaml-language-server: $schema=https://aka.ms/winget-manifest.defaultLocale.1.6.0.schema.json
PackageIdentifier: ` + PackageIdentifier + `
PackageVersion: '{{.Version}}'
PackageLocale: en-US
Publisher: reconciler
PublisherUrl: https://github.com/{{.Repo}}
PackageName: reconciler
PackageUrl: https://github.com/{{.Repo}}
License: See the repository
ShortDescription: GitOps agent for Windows containers, run as a Windows service
Description: reconciler makes the Windows containers of a host match YAML manifests (process or Hyper-V isolation), from a folder or a git repository. The MSI installs the service "reconciler".
Moniker: reconciler
Tags:
  - gitops
  - windows-containers
  - hcs
ReleaseNotesUrl: https://github.com/{{.Repo}}/releases/tag/{{.Tag}}
ManifestType: defaultLocale
ManifestVersion: 1.6.0
`

const wingetInstaller = `# yaml-language-server: $schema=https://aka.ms/winget-manifest.installer.1.6.0.schema.json
PackageIdentifier: ` + PackageIdentifier + `
PackageVersion: '{{.Version}}'
MinimumOSVersion: 10.0.17763.0
InstallerType: msi
Scope: machine
InstallModes:
  - silent
  - silentWithProgress
UpgradeBehavior: install
ElevationRequirement: elevatesSelf
Installers:
  - Architecture: x64
    InstallerUrl: {{.MSIURL}}
    InstallerSha256: {{upper .MSISHA256}}
    ProductCode: '{{.ProductCode}}'
    AppsAndFeaturesEntries:
      - ProductCode: '{{.ProductCode}}'
        UpgradeCode: '{{.UpgradeCode}}'
ManifestType: installer
ManifestVersion: 1.6.0
`

const chocoNuspec = `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2015/06/nuspec.xsd">
  <metadata>
    <id>reconciler</id>
    <version>{{.Version}}</version>
    <title>reconciler</title>
    <authors>reconciler</authors>
    <projectUrl>https://github.com/{{.Repo}}</projectUrl>
    <releaseNotes>https://github.com/{{.Repo}}/releases/tag/{{.Tag}}</releaseNotes>
    <tags>gitops windows-containers hcs service</tags>
    <summary>GitOps agent for Windows containers, run as a Windows service</summary>
    <description>reconciler makes the Windows containers of a host match YAML manifests (process or Hyper-V isolation), from a folder or a git repository. This package installs the reconciler MSI: the program, a default config in C:\ProgramData\reconciler and the service "reconciler".</description>
  </metadata>
  <files>
    <file src="tools\**" target="tools" />
  </files>
</package>
`

const chocoInstall = `$ErrorActionPreference = 'Stop'
# The reconciler MSI of release {{.Tag}}, checked against its SHA-256 before it runs.
$packageArgs = @{
  packageName    = $env:ChocolateyPackageName
  fileType       = 'msi'
  url64bit       = '{{.MSIURL}}'
  checksum64     = '{{.MSISHA256}}'
  checksumType64 = 'sha256'
  silentArgs     = "/qn /norestart /l*v ` + "`" + `"$($env:TEMP)\reconciler.install.log` + "`" + `""
  validExitCodes = @(0, 3010, 1641)
}
Install-ChocolateyPackage @packageArgs
`

const chocoUninstall = `$ErrorActionPreference = 'Stop'
# Removes the program and the service; C:\ProgramData\reconciler (config, state) stays.
$packageArgs = @{
  packageName    = $env:ChocolateyPackageName
  fileType       = 'msi'
  silentArgs     = '{{.ProductCode}} /qn /norestart'
  validExitCodes = @(0, 3010, 1605, 1614, 1641)
}
Uninstall-ChocolateyPackage @packageArgs
`
