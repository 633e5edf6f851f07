// Package atomicfile replaces a file's content all at once: a reader, or a
// crash, sees the old content or the new, never a mix. It is shared by the
// emulated host's state and the agent's removal ledger, and imports
// nothing of the project.
package atomicfile
