package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/gofrs/flock"
	"go.uber.org/zap"
)

// Layout of the cache dir: a bare repository, a lock held while Run runs.
const (
	cacheRepoDir  = "repo.git"
	cacheLockFile = "reconciler.lock"
	remoteName    = "origin"
	// trackedRef is the local ref the fetched head is stored under,
	// whatever kind of remote ref it came from.
	trackedRef = plumbing.ReferenceName("refs/reconciler/head")
)

// openCache locks the cache dir and opens the bare repository in it, or
// initialises one (the clone then happens at the first fetch). It returns
// the function that closes the repository and unlocks. Errors are
// ErrGitConfig.
func (g *GitSource) openCache() (func(), error) {
	dir := g.opts.CacheDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: cache dir: %v", ErrGitConfig, err)
	}
	lock := flock.New(filepath.Join(dir, cacheLockFile))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("%w: lock cache dir: %v", ErrGitConfig, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: cache dir %s is in use by another process", ErrGitConfig, dir)
	}
	unlock := func() { _ = lock.Unlock() }
	// The object storage keeps a few pack files open: reading a commit's
	// blobs would otherwise reopen the pack for every object.
	st := filesystem.NewStorageWithOptions(osfs.New(filepath.Join(dir, cacheRepoDir)),
		cache.NewObjectLRUDefault(), filesystem.Options{MaxOpenDescriptors: 16})
	repo, err := git.Open(st, nil)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		g.log.Info("new cache dir: cloning", zap.String("cacheDir", dir))
		repo, err = git.Init(st, nil)
	}
	if err == nil {
		err = ensureRemote(repo, g.ep.display)
	}
	if err != nil {
		_ = st.Close()
		unlock()
		return nil, fmt.Errorf("%w: cache dir %s: %v (delete it to clone again)", ErrGitConfig, dir, err)
	}
	unlock = func() {
		_ = st.Close()
		_ = lock.Unlock()
	}
	g.repo = repo
	return unlock, nil
}

// ensureRemote points the remote of the cache's git config at url (the URL
// without user info), creating it if needed. The config is for people
// looking at the cache: network operations use g.remote. A config written
// by an older build with a token in its URL is rewritten here.
func ensureRemote(repo *git.Repository, url string) error {
	r, err := repo.Remote(remoteName)
	switch {
	case err == nil && len(r.Config().URLs) == 1 && r.Config().URLs[0] == url:
		return nil
	case err == nil:
		if err := repo.DeleteRemote(remoteName); err != nil {
			return err
		}
	case !errors.Is(err, git.ErrRemoteNotFound):
		return err
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{url}})
	return err
}

// remote is the cache's remote as network operations use it: with the URL
// that may hold an ssh user name, which is kept out of the git config on
// disk.
func (g *GitSource) remote() *git.Remote {
	return git.NewRemote(g.repo.Storer, &config.RemoteConfig{Name: remoteName, URLs: []string{g.ep.url}})
}

// localHead is the commit the cache holds for the ref, if any.
func (g *GitSource) localHead() (plumbing.Hash, bool) {
	ref, err := g.repo.Reference(trackedRef, true)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	c, err := g.peel(ref.Hash())
	if err != nil {
		return plumbing.ZeroHash, false
	}
	return c, true
}

// peel resolves an annotated tag to its commit; a commit is returned as is.
func (g *GitSource) peel(h plumbing.Hash) (plumbing.Hash, error) {
	for range 10 {
		tag, err := g.repo.TagObject(h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			_, err := g.repo.CommitObject(h)
			return h, err
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if tag.TargetType != plumbing.CommitObject && tag.TargetType != plumbing.TagObject {
			return plumbing.ZeroHash, fmt.Errorf("tag %s points to a %s, not a commit", h, tag.TargetType)
		}
		h = tag.Target
	}
	return plumbing.ZeroHash, fmt.Errorf("tag chain at %s too long", h)
}

// fetchHead makes the cache hold the ref's head and returns its commit. It
// asks the remote for the ref's head first and fetches only when the head
// moved; a pinned commit already cached needs no network at all. Errors are
// ErrGitRemote (or ErrGitConfig for credentials that became unreadable).
func (g *GitSource) fetchHead(ctx context.Context) (plumbing.Hash, error) {
	if plumbing.IsHash(g.opts.Ref) {
		return g.fetchPinned(ctx, plumbing.NewHash(g.opts.Ref))
	}
	name, remoteHash, err := g.lsRemote(ctx)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if local, err := g.repo.Reference(trackedRef, false); err == nil && local.Hash() == remoteHash {
		if c, err := g.peel(remoteHash); err == nil {
			g.log.Debug("remote head unchanged: fetch skipped", zap.String("ref", name.String()))
			return c, nil
		}
	}
	spec := config.RefSpec("+" + name.String() + ":" + trackedRef.String())
	g.headSpec = spec
	if err := g.fetch(ctx, spec); err != nil {
		return plumbing.ZeroHash, err
	}
	c, err := g.peel(remoteHash)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%w: %s: fetched %s but cannot read it: %v", ErrGitRemote, g, name, err)
	}
	return c, nil
}

// fetchPinned fetches a pinned commit unless it is cached already. Servers
// that refuse a want by commit id get the ref of every branch and tag
// fetched instead.
func (g *GitSource) fetchPinned(ctx context.Context, pin plumbing.Hash) (plumbing.Hash, error) {
	if _, err := g.repo.CommitObject(pin); err != nil {
		err := g.fetch(ctx, config.RefSpec("+"+pin.String()+":"+trackedRef.String()))
		if errors.Is(err, git.ErrExactSHA1NotSupported) {
			g.log.Debug("remote refuses fetch by commit id: fetching all branches and tags")
			err = g.fetch(ctx, "+refs/heads/*:refs/reconciler/branches/*", "+refs/tags/*:refs/reconciler/tags/*")
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if _, err := g.repo.CommitObject(pin); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%w: %s: commit %s not found on the remote", ErrGitRemote, g, pin)
		}
	}
	if err := g.repo.Storer.SetReference(plumbing.NewHashReference(trackedRef, pin)); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%w: cache dir: %v", ErrGitConfig, err)
	}
	return pin, nil
}

// lsRemote asks the remote for the ref the source follows and its head.
func (g *GitSource) lsRemote(ctx context.Context) (plumbing.ReferenceName, plumbing.Hash, error) {
	auth, err := g.creds.auth()
	if err != nil {
		return "", plumbing.ZeroHash, err
	}
	ctx, cancel := context.WithTimeout(ctx, gitListTimeout)
	defer cancel()
	g.lists.Add(1)
	refs, err := g.remote().ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		return "", plumbing.ZeroHash, fmt.Errorf("%w: %s: list refs: %v", ErrGitRemote, g, g.creds.redact(err))
	}
	byName := make(map[plumbing.ReferenceName]*plumbing.Reference, len(refs))
	for _, r := range refs {
		byName[r.Name()] = r
	}
	name, err := pickRef(g.opts.Ref, byName)
	if err != nil {
		return "", plumbing.ZeroHash, fmt.Errorf("%w: %s: %v", ErrGitRemote, g, err)
	}
	return name, byName[name].Hash(), nil
}

// pickRef chooses the remote ref for want: the default branch when want is
// empty, else a full ref name, a branch, then a tag.
func pickRef(want string, refs map[plumbing.ReferenceName]*plumbing.Reference) (plumbing.ReferenceName, error) {
	var candidates []plumbing.ReferenceName
	switch {
	case want == "":
		head, ok := refs[plumbing.HEAD]
		if !ok {
			return "", errors.New("remote has no default branch (empty repository?)")
		}
		if head.Type() == plumbing.SymbolicReference {
			candidates = []plumbing.ReferenceName{head.Target()}
			break
		}
		// No symref advertised: the branches at HEAD's commit, main first.
		var names []string
		for n, r := range refs {
			if n.IsBranch() && r.Type() == plumbing.HashReference && r.Hash() == head.Hash() {
				names = append(names, n.String())
			}
		}
		sort.Strings(names)
		candidates = append(candidates, plumbing.NewBranchReferenceName("main"), plumbing.NewBranchReferenceName("master"))
		for _, n := range names {
			candidates = append(candidates, plumbing.ReferenceName(n))
		}
	case strings.HasPrefix(want, "refs/"):
		candidates = []plumbing.ReferenceName{plumbing.ReferenceName(want)}
	default:
		candidates = []plumbing.ReferenceName{plumbing.NewBranchReferenceName(want), plumbing.NewTagReferenceName(want)}
	}
	for _, n := range candidates {
		if r, ok := refs[n]; ok && r.Type() == plumbing.HashReference {
			return n, nil
		}
	}
	if want == "" {
		return "", errors.New("default branch not found on the remote")
	}
	return "", fmt.Errorf("ref %q not found on the remote (deleted branch or tag?)", want)
}

// fetch fetches refspecs into the cache, shallow where the transport allows
// it (falling back to a full fetch once a server refuses). Already up to
// date is success.
func (g *GitSource) fetch(ctx context.Context, specs ...config.RefSpec) error {
	depth := 0
	if g.ep.shallow && !g.noShallow.Load() {
		depth = 1
	}
	return g.fetchDepth(ctx, depth, specs...)
}

// fetchDepth is fetch with a depth (0: full history); a refused shallow
// fetch is done again in full, and full from then on.
func (g *GitSource) fetchDepth(ctx context.Context, depth int, specs ...config.RefSpec) error {
	auth, err := g.creds.auth()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, gitFetchTimeout)
	defer cancel()
	opts := &git.FetchOptions{RemoteName: remoteName, RefSpecs: specs, Auth: auth, Tags: git.NoTags, Force: true, Depth: depth}
	g.fetches.Add(1)
	remote := g.remote()
	err = remote.FetchContext(ctx, opts)
	if err != nil && opts.Depth > 0 && ctx.Err() == nil && !errors.Is(err, git.NoErrAlreadyUpToDate) && !errors.Is(err, git.ErrExactSHA1NotSupported) {
		g.log.Debug("shallow fetch failed: fetching full history from now on", zap.Error(g.creds.redact(err)))
		g.noShallow.Store(true)
		opts.Depth = 0
		err = remote.FetchContext(ctx, opts)
	}
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case errors.Is(err, git.ErrExactSHA1NotSupported):
		return err
	}
	return fmt.Errorf("%w: %s: fetch: %v", ErrGitRemote, g, g.creds.redact(err))
}

// maxDeepen bounds how deep isAncestor deepens a shallow cache.
const maxDeepen = 4096

// isAncestor reports whether prev is in the history of c, walking the
// history from c. A cache fetched shallow may not hold the commits between
// them: the ref's history is then deepened on demand, doubling the depth
// until prev is found, the history ends without it (a rewrite) or
// maxDeepen is passed. An answer still unknown (a fetch failed, no ref
// fetched yet) counts as yes: only a proven rewrite is warned about.
func (g *GitSource) isAncestor(ctx context.Context, prev plumbing.Hash, c *object.Commit) bool {
	if prev == c.Hash {
		return true
	}
	if _, err := g.repo.CommitObject(prev); err != nil {
		return true
	}
	found := errors.New("found")
	for depth := 2; ; depth *= 2 {
		err := object.NewCommitPreorderIter(c, nil, nil).ForEach(func(x *object.Commit) error {
			if x.Hash == prev {
				return found
			}
			return nil
		})
		switch {
		case errors.Is(err, found):
			return true
		case err == nil:
			return false
		case !errors.Is(err, plumbing.ErrObjectNotFound) || g.headSpec == "" || depth > maxDeepen:
			return true
		}
		g.log.Debug("deepening the cached history to tell a force-push", zap.Int("depth", depth))
		if err := g.fetchDepth(ctx, depth, g.headSpec); err != nil {
			g.log.Debug("cannot deepen the cached history", zap.Error(g.creds.redact(err)))
			return true
		}
	}
}
