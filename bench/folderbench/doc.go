//go:build linux

// Command folderbench measures the agent-level performance targets of
// `reconciler watch --dir` (issues 3 and 14) against the emulated host.
// From the repository root, on Linux (issue 14 is at 10,000 manifests):
//
//	go run ./bench/folderbench -n 10000 -runs 2
//
// Each run (about 3 minutes) builds the reconciler (or uses -binary),
// writes -n manifests in 10 subfolders with mtimes an hour old (a folder at
// rest), converges them with `reconciler reconcile`, starts `reconciler
// --log-format json --log-level debug watch --dir` (the folder source's
// debug line "folder scanned" tells a pass that walked the folder) with its
// default debounce, resync and rescan, and measures the process from
// outside, as an operator would:
//
//   - idle: CPU (utime+stime of /proc/PID/stat) and memory (VmRSS, VmHWM of
//     /proc/PID/status) over -idle after convergence, and the passes that
//     fall in that window (a resync every 30 s, a rescan every 60 s);
//   - single-file edits: which manifest files the agent opens for an
//     isolation change of one file, counted with inotify IN_OPEN on the
//     watched folders. The folder source reads a file only when an event
//     named it (or, at a rescan, when its stat changed) and parses only a
//     file it read whose hash changed, so
//     the files opened bound the files parsed from above; the agent's first
//     pass, which must open every file, is the control that the count works;
//   - latency: -edits new manifests renamed into the folder -spacing apart
//     (open loop), from just before each rename(2) to the create being
//     issued (the "action done" line's ts minus its duration): p50, p99, max.
//
// Each pass of the idle window is costed from 100 ms CPU samples and
// named a resync (no file read, no walk) or a rescan (the folder walked
// and every file stat'ed). The figures of issue 14 are printed as
// "figure: <name> = <value> <unit> (target <op> <value> <unit>)" lines:
// rename→create p50 and p99, steady RSS (at the end of the idle window),
// peak RSS (VmHWM at the end), and the CPU of a resync and of a rescan pass.
//
// It prints the figures, the load average and whether each target is met;
// it exits 1 only when a measurement could not be taken.
//
// It must not import the project's packages: it measures the built binary
// through its logs, /proc and inotify only.
package main
