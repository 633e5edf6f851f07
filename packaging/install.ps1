<#
.SYNOPSIS
Installs reconciler from a release zip, verified against the release's checksums.txt, and
registers it as the Windows service "reconciler". For hosts where the MSI is not wanted.

.DESCRIPTION
From an elevated PowerShell (5.1 or 7):

  .\install.ps1 -Archive .\reconciler_1.2.3_windows_amd64.zip     # checksums.txt next to it
  .\install.ps1 -Url https://github.com/reconciler/reconciler/releases/download/v1.2.3/reconciler_1.2.3_windows_amd64.zip
  .\install.ps1 -Uninstall

Given -Archive, nothing is downloaded. The archive's SHA-256 must match its line in
checksums.txt (-Checksums, default: next to the archive, or next to the URL), else nothing is
changed. Then reconciler.exe goes to -InstallDir (default C:\Program Files\reconciler, added to
the machine PATH), the commented default config to C:\ProgramData\reconciler\reconciler.yaml
when there is none (an existing config is never overwritten), and the service is registered
with "reconciler.exe service install" (delayed automatic start, restart on failure, event
source "reconciler") and started. Run it again with the same archive: nothing changes; with a
newer one: the service is stopped, the binary replaced, the service started (config and state
kept). -Uninstall stops and removes the service and the program, and keeps
C:\ProgramData\reconciler (config, manifests, state, logs).
#>
[CmdletBinding(DefaultParameterSetName = 'Archive')]
param(
    # A local release zip (reconciler_VERSION_windows_ARCH.zip).
    [Parameter(ParameterSetName = 'Archive', Mandatory = $true, Position = 0)]
    [string]$Archive,

    # The URL of a release zip, downloaded with its checksums.txt.
    [Parameter(ParameterSetName = 'Url', Mandatory = $true)]
    [string]$Url,

    # checksums.txt: a path or a URL. Default: next to the archive or the URL.
    [Parameter(ParameterSetName = 'Archive')]
    [Parameter(ParameterSetName = 'Url')]
    [string]$Checksums,

    # Where reconciler.exe goes.
    [string]$InstallDir = (Join-Path $env:ProgramFiles 'reconciler'),

    # Install the program only: no service.
    [Parameter(ParameterSetName = 'Archive')]
    [Parameter(ParameterSetName = 'Url')]
    [switch]$NoService,

    # Remove the service and the program; keep the data.
    [Parameter(ParameterSetName = 'Uninstall', Mandatory = $true)]
    [switch]$Uninstall
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$ServiceName = 'reconciler'
$DataDir = Join-Path $env:ProgramData 'reconciler'
$ConfigPath = Join-Path $DataDir 'reconciler.yaml'
$Exe = Join-Path $InstallDir 'reconciler.exe'

function Assert-Administrator {
    $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
    if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
        throw 'install.ps1 needs an elevated PowerShell (Run as administrator).'
    }
}

# Get-Source returns a local path for a path or a URL, downloading a URL into $Work.
function Get-Source([string]$PathOrUrl, [string]$Work) {
    if ($PathOrUrl -match '^https?://') {
        $name = [IO.Path]::GetFileName(([Uri]$PathOrUrl).AbsolutePath)
        $dest = Join-Path $Work $name
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
        Write-Host "downloading $PathOrUrl"
        Invoke-WebRequest -UseBasicParsing -Uri $PathOrUrl -OutFile $dest
        return $dest
    }
    return (Resolve-Path -LiteralPath $PathOrUrl).Path
}

# Assert-Checksum fails unless the file's SHA-256 is the one checksums.txt gives its name.
function Assert-Checksum([string]$File, [string]$ChecksumFile) {
    $name = [IO.Path]::GetFileName($File)
    $want = $null
    foreach ($line in Get-Content -LiteralPath $ChecksumFile) {
        $fields = $line.Trim() -split '\s+', 2
        if ($fields.Count -eq 2 -and $fields[1].TrimStart('*') -eq $name) { $want = $fields[0].ToLowerInvariant() }
    }
    if (-not $want) { throw "$name is not listed in $ChecksumFile" }
    $got = (Get-FileHash -Algorithm SHA256 -LiteralPath $File).Hash.ToLowerInvariant()
    if ($got -ne $want) { throw "${name}: SHA-256 ${got}, but checksums.txt says ${want}: not installed" }
    Write-Host "${name}: SHA-256 verified"
}

function Get-ReconcilerService {
    return Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
}

function Stop-ReconcilerService {
    $svc = Get-ReconcilerService
    if ($svc -and $svc.Status -ne 'Stopped') {
        Write-Host "stopping service $ServiceName"
        Stop-Service -Name $ServiceName
        $svc.WaitForStatus('Stopped', [TimeSpan]::FromMinutes(2))
    }
}

# Set-MachinePath adds or removes $InstallDir in the machine PATH.
function Set-MachinePath([bool]$Present) {
    $parts = @([Environment]::GetEnvironmentVariable('Path', 'Machine') -split ';' | Where-Object { $_ -and $_.TrimEnd('\') -ne $InstallDir.TrimEnd('\') })
    if ($Present) { $parts += $InstallDir }
    $new = $parts -join ';'
    if ($new -ne [Environment]::GetEnvironmentVariable('Path', 'Machine')) {
        [Environment]::SetEnvironmentVariable('Path', $new, 'Machine')
    }
}

function Install-Reconciler {
    $work = Join-Path ([IO.Path]::GetTempPath()) ("reconciler-install-" + [Guid]::NewGuid())
    New-Item -ItemType Directory -Path $work | Out-Null
    try {
        if ($PSCmdlet.ParameterSetName -eq 'Url') {
            $zip = Get-Source $Url $work
            if (-not $Checksums) { $Checksums = $Url.Substring(0, $Url.LastIndexOf('/') + 1) + 'checksums.txt' }
        } else {
            $zip = Get-Source $Archive $work
            if (-not $Checksums) { $Checksums = Join-Path (Split-Path -Parent $zip) 'checksums.txt' }
        }
        Assert-Checksum $zip (Get-Source $Checksums $work)

        $unpacked = Join-Path $work 'unpacked'
        Expand-Archive -LiteralPath $zip -DestinationPath $unpacked
        $newExe = Join-Path $unpacked 'reconciler.exe'
        if (-not (Test-Path -LiteralPath $newExe)) { throw "$zip holds no reconciler.exe" }
        & $newExe version
        if ($LASTEXITCODE -ne 0) { throw "$newExe does not run on this host" }

        $same = (Test-Path -LiteralPath $Exe) -and
            ((Get-FileHash -Algorithm SHA256 -LiteralPath $Exe).Hash -eq (Get-FileHash -Algorithm SHA256 -LiteralPath $newExe).Hash)
        if ($same) {
            Write-Host "$Exe is already this version"
        } else {
            Stop-ReconcilerService
            New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
            Copy-Item -LiteralPath $newExe -Destination $Exe -Force
            Write-Host "installed $Exe"
        }
        Set-MachinePath $true

        New-Item -ItemType Directory -Force -Path (Join-Path $DataDir 'manifests') | Out-Null
        $defaultConfig = Join-Path $unpacked 'reconciler.yaml'
        if (-not (Test-Path -LiteralPath $ConfigPath) -and (Test-Path -LiteralPath $defaultConfig)) {
            Copy-Item -LiteralPath $defaultConfig -Destination $ConfigPath
            Write-Host "wrote the default config $ConfigPath"
        }

        if ($NoService) { return }
        if (-not (Get-ReconcilerService)) {
            & $Exe service install --config $ConfigPath
            if ($LASTEXITCODE -ne 0) { throw "reconciler service install failed (exit $LASTEXITCODE)" }
        }
        if ((Get-ReconcilerService).Status -ne 'Running') {
            & $Exe service start
            if ($LASTEXITCODE -ne 0) { throw "reconciler service start failed (exit $LASTEXITCODE): see the Application event log, source reconciler" }
        }
        & $Exe service status
    } finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function Uninstall-Reconciler {
    if (Get-ReconcilerService) {
        if (Test-Path -LiteralPath $Exe) {
            & $Exe service uninstall
            if ($LASTEXITCODE -ne 0) { throw "reconciler service uninstall failed (exit $LASTEXITCODE)" }
        } else {
            Stop-ReconcilerService
            & sc.exe delete $ServiceName | Out-Null
        }
    }
    Set-MachinePath $false
    if (Test-Path -LiteralPath $InstallDir) {
        Remove-Item -LiteralPath $InstallDir -Recurse -Force
        Write-Host "removed $InstallDir"
    }
    Write-Host "kept $DataDir (config, manifests, state, logs)"
}

Assert-Administrator
if ($Uninstall) { Uninstall-Reconciler } else { Install-Reconciler }
