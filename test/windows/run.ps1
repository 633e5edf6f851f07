<#
.SYNOPSIS
  Runs reconciler's Windows-only tests against the real Host Compute Service:
  the driver conformance suite (driver/hcs) and the end-to-end test of the
  built binary (test, TestHCSLifecycle).

.DESCRIPTION
  Run it from a clone of the repository, in an elevated PowerShell (as
  Administrator), on Windows Server 2022 or later with the Containers
  feature (and Microsoft-Hyper-V for the Hyper-V half), with Go installed.
  It checks each of these first and says what is missing.

  With -Record, the driver also keeps what the host answered (every distinct
  compute system list as HCS returned it, every HCS failure's operation,
  code and text, the host build and the date) in
  driver/hcs/testdata/recorded/<build>-<date>/, ready to replace the
  reconstructed fixtures of driver/hcs/testdata in one pull request.
  Nothing recorded holds an environment value or a credential.

.PARAMETER Image
  An image matching the host build, e.g.
  mcr.microsoft.com/windows/nanoserver:ltsc2022 on Windows Server 2022.

.PARAMETER OldImage
  An image of an older build, which only Hyper-V isolation runs, e.g.
  mcr.microsoft.com/windows/nanoserver:ltsc2019. Optional: without it the
  Hyper-V-only cases are skipped.

.PARAMETER DataDir
  The layer store kept across runs, so images are pulled once. Default:
  $env:TEMP\reconciler-hcs-test.

.PARAMETER Record
  Keep the host's answers under driver/hcs/testdata/recorded/.

.EXAMPLE
  .\test\windows\run.ps1 -Image mcr.microsoft.com/windows/nanoserver:ltsc2022 -OldImage mcr.microsoft.com/windows/nanoserver:ltsc2019 -Record
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Image,
    [string]$OldImage = "",
    [string]$DataDir = (Join-Path $env:TEMP "reconciler-hcs-test"),
    [switch]$Record
)
$ErrorActionPreference = "Stop"
$repo = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path

function Fail([string]$why) {
    Write-Error $why
    exit 2
}

# What the tests need, checked before anything runs.
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Fail "run this from an elevated PowerShell (Run as Administrator): HCS refuses everyone else"
}
if (-not (Test-Path (Join-Path $env:SystemRoot "System32\vmcompute.dll"))) {
    Fail "no Host Compute Service: Enable-WindowsOptionalFeature -Online -FeatureName Containers (and Microsoft-Hyper-V for Hyper-V isolation), then reboot"
}
if (-not (Get-Command go -ErrorAction SilentlyContinue)) {
    Fail "go is not on PATH: install Go (the version in go.mod) from https://go.dev/dl/"
}
$cv = Get-ItemProperty "HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
$build = "10.0.$($cv.CurrentBuildNumber).$($cv.UBR)"
Write-Host "host $build ($($cv.InstallationType)); image $Image; old image $(if ($OldImage) { $OldImage } else { '(none)' })"

$env:RECONCILER_HCS_TEST_IMAGE = $Image
$env:RECONCILER_HCS_TEST_OLD_IMAGE = $OldImage
$env:RECONCILER_HCS_TEST_DATA = $DataDir
$env:RECONCILER_HCS_RECORD = ""
if ($Record) {
    $env:RECONCILER_HCS_RECORD = Join-Path $repo ("driver\hcs\testdata\recorded\{0}-{1}" -f $build, (Get-Date -Format "yyyy-MM-dd"))
    Write-Host "recording into $env:RECONCILER_HCS_RECORD"
}

Push-Location $repo
try {
    $failed = @()
    # Pulls of multi-gigabyte images and Hyper-V boots are slow: a long timeout.
    go test -count=1 -timeout 60m -v -run TestConformance ./driver/hcs/
    if ($LASTEXITCODE -ne 0) { $failed += "conformance (driver/hcs)" }
    go test -count=1 -timeout 60m -v -run TestHCSLifecycle ./test/
    if ($LASTEXITCODE -ne 0) { $failed += "end to end (test)" }
}
finally {
    Pop-Location
}
if ($Record) {
    Write-Host "recorded: $env:RECONCILER_HCS_RECORD (host.json, lists\, errors.json); see driver/hcs/testdata/README.md"
}
if ($failed.Count -gt 0) {
    Fail ("failed: " + ($failed -join ", "))
}
Write-Host "all Windows tests passed on $build"
