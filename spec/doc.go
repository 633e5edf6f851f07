// Package spec owns the manifest format of reconciler: the Container types,
// strict loading of YAML files and folders, validation that reports every
// problem with its file, line and field path, defaults, the versioned spec
// hash, image OS version resolution, and the Windows host/image/isolation
// compatibility rules shared by the planner and the emulated host.
//
// spec imports nothing of the project.
package spec
