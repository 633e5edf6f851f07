package source

import (
	"sort"

	"github.com/reconciler/reconciler/spec"
)

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

// moved replaces the containers kept for file, if any, by cs, a copy of
// them (the caller's, in a larger array), so that only one copy is kept.
func (l *LastGood) moved(file string, cs []spec.Container) {
	if _, ok := l.files[file]; ok {
		l.files[file] = cs
	}
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
