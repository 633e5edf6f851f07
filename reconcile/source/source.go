package source

import (
	"context"
	"sort"

	"github.com/reconciler/reconciler/spec"
)

// Source is one place that declares containers.
type Source interface {
	// String names the source in logs: "dir /etc/manifests",
	// "git https://host/repo@main:path".
	String() string

	// Run watches the source until ctx is done and calls notify (which
	// must not block for long) whenever the desired set may have changed,
	// including once when it is first ready. It returns nil when ctx is
	// done and an error only when it can never work (bad configuration);
	// passing failures (an unreachable remote, a vanished folder) are
	// logged and retried, never returned.
	Run(ctx context.Context, notify func()) error

	// Snapshot returns the source's full desired set as of now. It is
	// cheap to call repeatedly: unchanged inputs are not parsed again.
	Snapshot(ctx context.Context) (Snapshot, error)
}

// Snapshot is a source's full desired set.
type Snapshot struct {
	// Containers is every container the source declares, including those
	// held at their last good version because their file is now invalid.
	Containers []spec.Container
	// Errors and Warnings are the problems of the current input (a file
	// that declares nothing is a warning). Any of them holds every
	// removal.
	Errors   []spec.Problem
	Warnings []spec.Problem
	// Revision names what is in force: a git commit id, empty for folders.
	Revision string
	// HoldRemovals is set when the source cannot see its whole input (a
	// vanished folder, a repository not yet cloned): no container may be
	// removed on its account. HoldReason says why.
	HoldRemovals bool
	HoldReason   string
}

// LastGood keeps, per file, the containers of that file's last valid
// version, so that a file that turns invalid keeps its containers as they
// were while its error is reported. It is not safe for concurrent use.
type LastGood struct {
	files map[string][]spec.Container
}

// Update records the parse of one file and returns the containers to use
// for it: the parsed ones when the file has no problems, else (an error,
// or a warning such as declaring nothing) the ones of its last valid
// version (nil if it never had one).
func (l *LastGood) Update(file string, parsed []spec.Container, errs []spec.Problem) []spec.Container {
	if l.files == nil {
		l.files = make(map[string][]spec.Container)
	}
	if len(errs) == 0 {
		l.files[file] = parsed
		return parsed
	}
	return l.files[file]
}

// Forget drops a file that no longer exists.
func (l *LastGood) Forget(file string) {
	delete(l.files, file)
}

// Files returns the files that have a last good version, sorted.
func (l *LastGood) Files() []string {
	out := make([]string, 0, len(l.files))
	for f := range l.files {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}
