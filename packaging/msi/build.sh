#!/usr/bin/env bash
# Builds the reconciler MSI on Linux with msitools (apt-get install wixl msitools):
#
#   packaging/msi/build.sh BINARY OS ARCH VERSION OUT.msi
#
# GoReleaser runs it after each build (.goreleaser.yaml, builds[].hooks.post); it does
# nothing unless OS/ARCH is windows/amd64. VERSION is the release's (1.2.3, or
# 1.2.4-snapshot-abc1234: the MSI's ProductVersion is its leading 1.2.3).
# The default config is examples/config/reconciler.yaml
# ($RECONCILER_MSI_CONFIG chooses another).
#
# wixl writes the File, Component, ServiceInstall, ServiceControl, Registry, CreateFolder
# and Upgrade tables from reconciler.wxs; it has no element for delayed start or recovery
# actions, so msibuild then adds the Windows Installer 5 tables that set them on the
# service as `reconciler service install` does (MsiServiceConfig: delayed automatic start,
# and a stop with an error counts as a failure; MsiServiceConfigFailureActions: restart
# after 5 s, 30 s, then 60 s, the count reset after a day) and schedules
# MsiConfigureServices, the standard action that applies them.
set -euo pipefail
binary=$1 os=$2 arch=$3 version=$4 out=$5
[ "$os/$arch" = windows/amd64 ] || exit 0
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
config=${RECONCILER_MSI_CONFIG:-$repo/examples/config/reconciler.yaml}
msi_version=$(printf '%s\n' "$version" | grep -oE '^[0-9]+\.[0-9]+\.[0-9]+') ||
  { echo "build.sh: version $version does not start with MAJOR.MINOR.PATCH" >&2; exit 1; }
for tool in wixl msibuild; do
  command -v $tool >/dev/null || { echo "build.sh: $tool is missing: apt-get install wixl msitools" >&2; exit 1; }
done
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
# wixl takes sources relative to the folder it runs in.
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
cp "$binary" "$stage/reconciler.exe"; cp "$config" "$stage/reconciler.yaml"; cp "$here/reconciler.wxs" "$stage/"
(cd "$stage" && wixl -a x64 -D Version="$msi_version" -D Binary=reconciler.exe -D Config=reconciler.yaml -o "$out" reconciler.wxs)
# wixl 0.101 ignores a Component's Permanent and NeverOverwrite: the config is never
# overwritten nor removed (msidbComponentAttributesPermanent 0x10 | NeverOverwrite 0x80),
# the manifests folder never removed (0x10). The 0x100 bit (64-bit) stays.
msibuild "$out" -q "UPDATE \`Component\` SET \`Attributes\` = 400 WHERE \`Component\` = 'DefaultConfig'"
msibuild "$out" -q "UPDATE \`Component\` SET \`Attributes\` = 272 WHERE \`Component\` = 'ManifestsFolder'"
msibuild "$out" -q "CREATE TABLE \`MsiServiceConfig\` (\`MsiServiceConfig\` CHAR(72) NOT NULL, \`Name\` CHAR(255) NOT NULL LOCALIZABLE, \`Event\` SHORT NOT NULL, \`ConfigType\` LONG NOT NULL, \`Argument\` CHAR(0), \`Component_\` CHAR(72) NOT NULL PRIMARY KEY \`MsiServiceConfig\`)"
msibuild "$out" -q "CREATE TABLE \`MsiServiceConfigFailureActions\` (\`MsiServiceConfigFailureActions\` CHAR(72) NOT NULL, \`Name\` CHAR(255) NOT NULL LOCALIZABLE, \`Event\` SHORT NOT NULL, \`ResetPeriod\` LONG, \`RebootMessage\` CHAR(0) LOCALIZABLE, \`Command\` CHAR(0) LOCALIZABLE, \`Actions\` CHAR(0), \`DelayActions\` CHAR(0), \`Component_\` CHAR(72) NOT NULL PRIMARY KEY \`MsiServiceConfigFailureActions\`)"
# Event 1: on install (and on a major upgrade's install). ConfigType 3:
# SERVICE_CONFIG_DELAYED_AUTO_START_INFO, Argument 1 (delayed); ConfigType 4:
# SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, Argument 1 (a stop with an exit code is a failure).
for row in "'ReconcilerDelayedStart', 'reconciler', 1, 3, '1', 'ReconcilerExe'" \
           "'ReconcilerFailureFlag', 'reconciler', 1, 4, '1', 'ReconcilerExe'"; do
  msibuild "$out" -q "INSERT INTO \`MsiServiceConfig\` (\`MsiServiceConfig\`, \`Name\`, \`Event\`, \`ConfigType\`, \`Argument\`, \`Component_\`) VALUES ($row)"
done
# Actions 1 = SC_ACTION_RESTART: after 5 s, 30 s, then 60 s; ResetPeriod in seconds.
msibuild "$out" -q "INSERT INTO \`MsiServiceConfigFailureActions\` (\`MsiServiceConfigFailureActions\`, \`Name\`, \`Event\`, \`ResetPeriod\`, \`Actions\`, \`DelayActions\`, \`Component_\`) VALUES ('ReconcilerRestart', 'reconciler', 1, 86400, '1[~]1[~]1', '5000[~]30000[~]60000', 'ReconcilerExe')"
# wixl writes an expandable RegistryValue as a plain string: "#%" makes it REG_EXPAND_SZ.
msibuild "$out" -q "UPDATE \`Registry\` SET \`Value\` = '#%%SystemRoot%\\System32\\EventCreate.exe' WHERE \`Name\` = 'EventMessageFile'"
# Between InstallServices and StartServices (their sequence numbers, read back).
install=$(msiinfo export "$out" InstallExecuteSequence | tr -d '\r' | awk -F'\t' '$1 == "InstallServices" { print $3 }')
start=$(msiinfo export "$out" InstallExecuteSequence | tr -d '\r' | awk -F'\t' '$1 == "StartServices" { print $3 }')
[ -n "$install" ] && [ -n "$start" ] && [ $((start - install)) -ge 2 ] ||
  { echo "build.sh: InstallServices ($install) and StartServices ($start) leave no room for MsiConfigureServices" >&2; exit 1; }
msibuild "$out" -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Condition\`, \`Sequence\`) VALUES ('MsiConfigureServices', 'VersionNT >= 600', $(((install + start) / 2)))"
echo "built $out (ProductVersion $msi_version, config $(basename "$(dirname "$config")")/$(basename "$config"))"
