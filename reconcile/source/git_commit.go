package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/reconciler/reconciler/spec"
)

// gitView turns head commits into snapshots. It remembers what it needs to
// hold broken files at their last good version (per-file mode) or the last
// good commit (atomic mode), and a parse cache keyed by file and blob hash
// so that a commit costs one parse per changed file only. It is owned by
// Run's goroutine.
type gitView struct {
	atomic bool
	// head is the last head commit handled (applied or rejected).
	head plumbing.Hash
	// current is the last snapshot published, held the files at older
	// commits (file → commit).
	current spec.Set
	held    map[string]string
	// Per-file mode: each file's last valid containers and their commit.
	lastGood LastGood
	goodAt   map[string]plumbing.Hash
	// cache maps file+"\x00"+blob hash to that file version's parse.
	cache map[string]gitFileParse
}

// gitFileParse is the parse of one version of one file. Its problems are
// not yet prefixed with a commit id.
type gitFileParse struct {
	containers []spec.Container
	errs       []spec.Problem
}

// gitResult is one evaluation: the snapshot to publish, the held files, and
// how many files were parsed (cache misses).
type gitResult struct {
	snap   spec.Set
	held   map[string]string
	parsed int
}

func newGitView(atomic bool) gitView {
	return gitView{
		atomic:  atomic,
		current: spec.Set{HoldRemovals: true, HoldReason: "git: no valid commit yet"},
		goodAt:  make(map[string]plumbing.Hash),
		cache:   make(map[string]gitFileParse),
	}
}

// rejected keeps what is in force and reports why head is not applied.
func (v *gitView) rejected(head plumbing.Hash, err error) gitResult {
	v.head = head
	return v.keep([]spec.Problem{{Message: fmt.Sprintf("commit %s: not applied: %v", short(head), err)}}, nil)
}

// keep publishes the snapshot in force again with the problems of a head
// commit that is not applied.
func (v *gitView) keep(errs, warns []spec.Problem) gitResult {
	s := v.current
	s.Errors, s.Warnings = errs, warns
	v.current = s
	return gitResult{snap: s, held: v.held}
}

// apply evaluates commit c (manifests under root) and returns the snapshot
// to publish: see GitOptions.Atomic for what an invalid commit does.
func (v *gitView) apply(st storer.EncodedObjectStorer, c *object.Commit, root string) gitResult {
	v.head = c.Hash
	id := short(c.Hash)
	files, err := v.readCommit(st, c, root)
	if err != nil {
		// The commit cannot be read as a whole (no such path): nothing of
		// it applies and nothing is removed on its account.
		return v.keep([]spec.Problem{{File: root, Message: fmt.Sprintf("commit %s: %v", id, err)}}, nil)
	}
	parsed := 0
	for _, f := range files {
		if f.miss {
			parsed++
		}
	}
	var res gitResult
	if v.atomic {
		res = v.applyAtomic(c.Hash, files)
	} else {
		res = v.applyPerFile(c.Hash, files)
	}
	res.parsed = parsed
	return res
}

// applyAtomic applies a commit whole or keeps the last good commit: any
// problem of a file, even a warning (a file that declares nothing), keeps
// it.
func (v *gitView) applyAtomic(commit plumbing.Hash, files []gitFile) gitResult {
	id := short(commit)
	all := make([]spec.Container, 0, len(files)) // most files declare one container
	var errs, warns []spec.Problem
	for _, f := range files {
		all = append(all, f.parse.containers...)
		e, w := spec.SplitProblems(atCommit(id, f.parse.errs))
		errs, warns = append(errs, e...), append(warns, w...)
	}
	all, dup := spec.CheckUnique(all)
	errs = append(errs, atCommit(id, dup)...)
	if len(errs)+len(warns) > 0 {
		return v.keep(errs, warns)
	}
	v.current = spec.Set{Containers: all, Revision: commit.String()}
	v.held = nil
	return gitResult{snap: v.current}
}

// applyPerFile applies the valid files of a commit and holds each file with
// a problem (an error, or a warning such as declaring nothing) at its last
// good version.
func (v *gitView) applyPerFile(commit plumbing.Hash, files []gitFile) gitResult {
	id := short(commit)
	all := make([]spec.Container, 0, len(files)) // most files declare one container
	var errs, warns []spec.Problem
	held := make(map[string]string)
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f.path] = true
		if len(f.parse.errs) == 0 {
			v.goodAt[f.path] = commit
		} else {
			e, w := spec.SplitProblems(atCommit(id, f.parse.errs))
			errs, warns = append(errs, e...), append(warns, w...)
		}
		cs := v.lastGood.Update(f.path, f.parse.containers, f.parse.errs)
		if len(f.parse.errs) > 0 && cs != nil {
			held[f.path] = v.goodAt[f.path].String()
		}
		all = append(all, cs...)
	}
	for _, f := range v.lastGood.Files() {
		if !seen[f] {
			v.lastGood.Forget(f)
			delete(v.goodAt, f)
		}
	}
	all, dup := spec.CheckUnique(all)
	errs = append(errs, atCommit(id, dup)...)
	v.current = spec.Set{Containers: all, Errors: errs, Warnings: warns, Revision: commit.String()}
	v.held = held
	return gitResult{snap: v.current, held: held}
}

// gitFile is one manifest file of a commit with its parse.
type gitFile struct {
	path  string
	parse gitFileParse
	miss  bool // parsed now, not found in the cache
}

// errNoPath is returned when the commit has no folder at the source's path.
var errNoPath = errors.New("no such folder in the commit")

// readCommit lists the manifest files under root in c's tree (skipping
// ignored files and folders) and parses each one whose blob is not in the
// cache. Files are sorted by path. The cache is left holding this commit's
// files only.
func (v *gitView) readCommit(st storer.EncodedObjectStorer, c *object.Commit, root string) ([]gitFile, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree: %w", err)
	}
	if root != "" {
		if tree, err = tree.Tree(root); err != nil {
			if errors.Is(err, object.ErrDirectoryNotFound) {
				return nil, fmt.Errorf("%q: %w", root, errNoPath)
			}
			return nil, fmt.Errorf("read %q: %w", root, err)
		}
	}
	var files []gitFile
	var misses []gitMiss
	parsed, unparsed := 0, 0 // misses parsed, bytes read and not parsed yet
	next := make(map[string]gitFileParse, len(v.cache))
	var walk func(t *object.Tree, dir string) error
	walk = func(t *object.Tree, dir string) error {
		for _, e := range t.Entries {
			p := path.Join(dir, e.Name)
			switch {
			case e.Mode == filemode.Dir:
				if spec.Ignored(e.Name) {
					continue
				}
				sub, err := object.GetTree(st, e.Hash)
				if err != nil {
					return fmt.Errorf("read %q: %w", p, err)
				}
				if err := walk(sub, p); err != nil {
					return err
				}
			case !spec.IsManifest(e.Name):
			case e.Mode == filemode.Symlink || e.Mode == filemode.Submodule:
				// Not followed; an error of that file, so that it holds
				// removals as an unreadable file does.
				what := map[filemode.FileMode]string{filemode.Symlink: "a symbolic link", filemode.Submodule: "a submodule"}[e.Mode]
				files = append(files, gitFile{path: p, parse: gitFileParse{errs: []spec.Problem{{File: p,
					Message: "not a regular file: it is " + what + ", which the git source does not follow; commit the manifest itself"}}}})
			case e.Mode.IsFile():
				key := p + "\x00" + e.Hash.String()
				fp, ok := v.cache[key]
				if !ok {
					m := gitMiss{at: len(files), key: key, blob: readBlob(st, p, e.Hash)}
					misses, unparsed = append(misses, m), unparsed+len(m.blob.content)
					if unparsed > gitParseBatch {
						parseMisses(misses[parsed:])
						parsed, unparsed = len(misses), 0
					}
				}
				next[key] = fp
				files = append(files, gitFile{path: p, parse: fp, miss: !ok})
			}
		}
		return nil
	}
	if err := walk(tree, root); err != nil {
		return nil, err
	}
	// The blobs were read in the walk (the object storage is for one
	// goroutine); they are parsed in parallel, gitParseBatch bytes at a
	// time.
	parseMisses(misses[parsed:])
	for _, m := range misses {
		files[m.at].parse = m.blob.parse
		next[m.key] = m.blob.parse
	}
	v.cache = next
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files, nil
}

// gitParseBatch bounds the bytes of file versions read and waiting to be
// parsed.
const gitParseBatch = 16 << 20

// gitMiss is a file of a commit whose parse is not in the cache: where it
// goes in the commit's files and the cache, and its content.
type gitMiss struct {
	at   int
	key  string
	blob gitBlob
}

// gitBlob is one file version read for parsing: its content, or the parse
// that says why it cannot be read (then done is set).
type gitBlob struct {
	file    string
	content []byte
	parse   gitFileParse
	done    bool
}

// parseBlob parses one file version; a file over spec.MaxFileSize or that
// cannot be read is one error of that file.
func parseBlob(st storer.EncodedObjectStorer, file string, h plumbing.Hash) gitFileParse {
	b := readBlob(st, file, h)
	b.parseContent()
	return b.parse
}

// readBlob reads one file version for parseContent; a file over
// spec.MaxFileSize or that cannot be read is one error of that file.
func readBlob(st storer.EncodedObjectStorer, file string, h plumbing.Hash) gitBlob {
	fail := func(msg string) gitBlob {
		return gitBlob{file: file, done: true, parse: gitFileParse{errs: []spec.Problem{{File: file, Message: msg}}}}
	}
	blob, err := object.GetBlob(st, h)
	if err != nil {
		return fail(fmt.Sprintf("cannot read: %v", err))
	}
	if blob.Size > spec.MaxFileSize {
		return fail(fmt.Sprintf("file is %d bytes, over the %d-byte limit", blob.Size, spec.MaxFileSize))
	}
	r, err := blob.Reader()
	if err != nil {
		return fail(fmt.Sprintf("cannot read: %v", err))
	}
	defer r.Close()
	content, err := io.ReadAll(r)
	if err != nil {
		return fail(fmt.Sprintf("cannot read: %v", err))
	}
	return gitBlob{file: file, content: content}
}

// parseContent parses the content read, once.
func (b *gitBlob) parseContent() {
	if b.done {
		return
	}
	cs, errs := spec.Parse(bytes.NewReader(b.content), b.file)
	b.parse, b.content, b.done = gitFileParse{containers: cs, errs: errs}, nil, true
}

// parseMisses parses the blobs of misses, one worker per CPU.
func parseMisses(misses []gitMiss) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(misses)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(misses); i = int(next.Add(1) - 1) {
				misses[i].blob.parseContent()
			}
		})
	}
	wg.Wait()
}

// atCommit prefixes each problem's message with "commit <short id>: ".
func atCommit(id string, ps []spec.Problem) []spec.Problem {
	if len(ps) == 0 {
		return nil
	}
	out := make([]spec.Problem, len(ps))
	for i, p := range ps {
		p.Message = "commit " + id + ": " + p.Message
		out[i] = p
	}
	return out
}
