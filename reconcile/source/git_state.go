package source

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

// cacheStateFile, in the cache dir, records what was in force, so that a
// restarted agent restores it even when the cached head is invalid or was
// rejected: the commit in force and the files held at older commits.
const cacheStateFile = "state.json"

// gitState is the content of cacheStateFile.
type gitState struct {
	Commit string            `json:"commit"`
	Held   map[string]string `json:"held,omitempty"`
}

// saveState records the snapshot in force. A failure is logged: it only
// costs the restore after a restart.
func (g *GitSource) saveState(res gitResult) {
	b, err := json.Marshal(gitState{Commit: res.snap.Revision, Held: res.held})
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(g.opts.CacheDir, cacheStateFile), b, 0o600)
	}
	if err != nil {
		g.log.Warn("cannot record the commit in force in the cache dir", zap.Error(err))
	}
}

// loadState reads the recorded state; missing or unreadable is the zero
// state (logged when unreadable).
func (g *GitSource) loadState() gitState {
	var s gitState
	b, err := os.ReadFile(filepath.Join(g.opts.CacheDir, cacheStateFile))
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil && !os.IsNotExist(err) {
		g.log.Warn("recorded commit in force unreadable: ignored", zap.Error(err))
	}
	return s
}

// restore rebuilds the view of a recorded state: the files held at older
// commits are parsed at those commits, then the commit in force is
// applied. It needs no network; what the cache no longer holds is skipped.
func (v *gitView) restore(st storer.EncodedObjectStorer, s gitState, root string) error {
	if !plumbing.IsHash(s.Commit) {
		return nil
	}
	for file, id := range s.Held {
		if !plumbing.IsHash(id) {
			continue
		}
		c, err := object.GetCommit(st, plumbing.NewHash(id))
		if err != nil {
			return fmt.Errorf("held file %s: commit %s: %w", file, id, err)
		}
		tree, err := c.Tree()
		if err != nil {
			return fmt.Errorf("held file %s: commit %s: %w", file, id, err)
		}
		entry, err := tree.FindEntry(file)
		if err != nil {
			return fmt.Errorf("held file %s: commit %s: %w", file, id, err)
		}
		if fp := parseBlob(st, file, entry.Hash); len(fp.errs) == 0 {
			v.lastGood.Update(file, fp.containers, nil)
			v.goodAt[file] = c.Hash
		}
	}
	c, err := object.GetCommit(st, plumbing.NewHash(s.Commit))
	if err != nil {
		return fmt.Errorf("commit %s: %w", s.Commit, err)
	}
	v.apply(st, c, root)
	return nil
}
