// Package spec owns the manifest format of reconciler: the Container types,
// strict loading of YAML files and folders, validation that reports every
// problem with its file, line and field path, defaults, the versioned spec
// hash, image OS version resolution, the Windows host/image/isolation
// compatibility rules shared by the planner and the emulated host, the
// checks across a desired set (unique names and host ports, dependsOn) and
// the manifest's JSON Schema (JSONSchema, checked in under schema/).
//
// spec imports nothing of the project.
package spec
