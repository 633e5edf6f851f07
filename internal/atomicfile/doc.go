// Package atomicfile replaces a file's content all at once: a reader, or a
// crash, sees the old content or the new, never a mix. It is the one
// crash-safe writer of the project: the emulated host's state, the agent's
// removal ledger, the HCS driver's layer-store records and the git
// source's record of the commit in force. It imports nothing of the
// project.
package atomicfile
