package spec

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Set is a full desired set: what Load returns, what a source's snapshot
// is, and what the planner takes for one pass. It holds the valid
// containers with unique names and every problem found: errors, and
// warnings such as a file that declares nothing. Any problem of a desired
// set, error or warning, means it may be incomplete: it holds removals, as
// HoldRemovals does.
type Set struct {
	// Containers is every container declared, including those a source
	// holds at their last good version because their file is now invalid.
	Containers []Container
	// Errors and Warnings are the problems of the current input; any of
	// them holds every removal.
	Errors   []Problem
	Warnings []Problem
	// Revision names what is in force: a git commit id, empty for folders
	// and for files loaded by Load.
	Revision string
	// HoldRemovals is set when the whole input cannot be seen (a vanished
	// folder, a repository not yet cloned, a source that could not be
	// read): no container may be removed on its account. HoldReason says
	// why.
	HoldRemovals bool
	HoldReason   string
}

// Load loads each path (a manifest file or a folder of them) and checks
// that names are unique across all of them. Problems and Origins name a
// file found in a folder relative to that folder, with '/' separators
// (with several paths, prefixed by the folder as given, so that names stay
// unambiguous); a file named explicitly is named as given. A folder below
// a root that cannot be listed is a problem.
//
// The error is only for a path that cannot be read at all; it unwraps to
// the fs error. Files are parsed in parallel, one worker per CPU; the
// result does not depend on it. Load only reads.
func Load(paths ...string) (Set, error) {
	var (
		files []namedFile
		set   Set
	)
	for _, root := range paths {
		w, err := walkManifests(root)
		if err != nil {
			return Set{}, err
		}
		name := func(path string) string {
			if !w.dir {
				return path
			}
			rel, err := filepath.Rel(root, path)
			if err != nil || len(paths) > 1 {
				return filepath.ToSlash(path)
			}
			return filepath.ToSlash(rel)
		}
		files = slices.Grow(files, len(w.files))
		for _, f := range w.files {
			files = append(files, namedFile{path: f, name: name(f)})
		}
		for _, e := range w.unreadable {
			set.Errors = append(set.Errors, Problem{File: name(e.path), Message: "cannot read folder: " + describeFSError(e.err)})
		}
	}
	results, all := parseFiles(files)
	for _, r := range results {
		errs, warns := SplitProblems(r.problems)
		set.Errors = append(set.Errors, errs...)
		set.Warnings = append(set.Warnings, warns...)
	}
	var dups []Problem
	set.Containers, dups = CheckUnique(all)
	set.Errors = append(set.Errors, dups...)
	return set, nil
}

// SplitProblems splits problems into errors and warnings, each in order.
func SplitProblems(ps []Problem) (errs, warns []Problem) {
	for _, p := range ps {
		if p.Warning {
			warns = append(warns, p)
		} else {
			errs = append(errs, p)
		}
	}
	return errs, warns
}

// namedFile is a file to parse and how problems name it.
type namedFile struct {
	path, name string
}

// parsed is what ParseFile returned for one file.
type parsed struct {
	containers []Container
	problems   []Problem
}

// parseFiles parses files with one worker per CPU; the results are in the
// order of files, and all is every container, in that order. Each file
// decodes its first container into its own slot of one array: when every
// file declares one container, that array is all, copied nowhere.
func parseFiles(files []namedFile) (results []parsed, all []Container) {
	results = make([]parsed, len(files))
	slots := make([]Container, len(files))
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(files) {
					return
				}
				results[i].containers, results[i].problems = parseFileInto(slots[i:i:i+1], files[i].path, files[i].name)
			}
		})
	}
	wg.Wait()
	n, inPlace := 0, true
	for i, r := range results {
		n += len(r.containers)
		inPlace = inPlace && len(r.containers) == 1 && &r.containers[0] == &slots[i]
	}
	if inPlace {
		return results, slots
	}
	all = make([]Container, 0, n)
	for _, r := range results {
		all = append(all, r.containers...)
	}
	return results, all
}

// CheckUnique returns, in order, the containers whose names are unique,
// whose host ports no other container publishes and whose dependencies
// the set can meet (see checkDependencies), and one problem per duplicated
// name or host port that names every place (file:line) declaring it,
// placed at the first, and one per dependsOn entry that cannot be met,
// placed at that entry. Every container of a duplicate is dropped: which
// one was meant is unknown; so is every container whose dependencies
// cannot be met. When nothing is dropped, the containers returned are cs
// itself.
func CheckUnique(cs []Container) ([]Container, []Problem) {
	unique, problems := uniqueNames(cs)
	unique, conflicts := checkHostPorts(unique)
	unique, deps := checkDependencies(unique, cs)
	return unique, append(append(problems, conflicts...), deps...)
}

// uniqueNames returns the containers of cs whose names are unique (cs
// itself when all are) and a problem per repeated name.
func uniqueNames(cs []Container) ([]Container, []Problem) {
	first := make(map[string]int, len(cs))
	for i := range cs {
		if _, dup := first[cs[i].Metadata.Name]; dup {
			return dropDuplicates(cs)
		}
		first[cs[i].Metadata.Name] = i
	}
	return cs, nil
}

// dropDuplicates is uniqueNames of containers of which some share a name.
func dropDuplicates(cs []Container) ([]Container, []Problem) {
	byName := make(map[string][]int, len(cs))
	for i, c := range cs {
		byName[c.Metadata.Name] = append(byName[c.Metadata.Name], i)
	}
	unique := make([]Container, 0, len(cs))
	var problems []Problem
	for i, c := range cs {
		same := byName[c.Metadata.Name]
		if len(same) == 1 {
			unique = append(unique, c)
			continue
		}
		if same[0] != i {
			continue
		}
		where := make([]string, len(same))
		for j, k := range same {
			where[j] = cs[k].Origin.String()
		}
		problems = append(problems, Problem{
			File: c.Origin.File, Line: c.Origin.Line, Name: c.Metadata.Name, Field: "metadata.name",
			Message: fmt.Sprintf("name %q is declared %d times, in %s; container names must be unique across the desired set", c.Metadata.Name, len(same), strings.Join(where, ", ")),
		})
	}
	return unique, problems
}
