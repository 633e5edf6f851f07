package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
	"go.uber.org/zap"
)

// ErrStatusPublish: the status file could not be pushed to the status
// branch. Passing: the agent goes on, the file is pushed again later.
var ErrStatusPublish = errors.New("status branch publish")

// DefaultStatusInterval is the least time between two pushes of a
// StatusPublisher when StatusBranchOptions.Interval is zero.
const DefaultStatusInterval = time.Minute

// statusDir is the folder of the status branch holding one file per host.
const statusDir = "hosts"

// StatusBranchOptions configures a StatusPublisher.
type StatusBranchOptions struct {
	// URL of the tracked repository, as GitOptions.URL.
	URL string
	// TrackedRef is the ref the agent applies (GitOptions.Ref): Branch
	// must differ from it (and from the default branch when it is empty).
	TrackedRef string
	// Branch receives hosts/<Host>.json; created as an orphan branch when
	// missing.
	Branch string
	// Host names the file.
	Host string
	// Interval is the least time between two pushes (default 1m).
	Interval time.Duration
	// The publisher's own credentials: none by default (the fetch
	// token is never reused), as GitOptions's; no environment variable
	// is read for them. KnownHostsFile may be the fetch's.
	TokenFile, SSHKeyFile, KnownHostsFile string
	AllowInsecureHTTP                     bool
	// Logger receives the publisher's logs (default: none).
	Logger *zap.Logger
}

// PublishState is what the publisher last did, for GET /status.
type PublishState struct {
	// Branch is where the file goes.
	Branch string `json:"branch"`
	// Commit is the last commit pushed ("" before the first).
	Commit string `json:"commit,omitempty"`
	// At is when it was pushed.
	At *time.Time `json:"at,omitempty"`
	// Error is why the last attempt failed, "" once one succeeded. It
	// never holds a credential.
	Error string `json:"error,omitempty"`
	// Pending says a summary waits to be pushed.
	Pending bool `json:"pending"`
}

// StatusPublisher commits what the agent applied as hosts/<host>.json on
// a status branch of the tracked repository and pushes it, in the
// background: Offer never blocks and Run retries. Hosts pushing to the
// same branch race; a refused push is retried on top of the branch's new
// head, so no host's file is lost.
type StatusPublisher struct {
	opts  StatusBranchOptions
	ep    gitEndpoint
	creds gitCredentials
	log   *zap.Logger
	wake  chan struct{}
	// tries bounds the attempts of one publication (tests lower it).
	tries uint
	// attempts counts publishOnce calls, for tests.
	attempts atomic.Int64
	// beforePush, if set, runs between the fetch and the push (tests).
	beforePush func()

	mu       sync.Mutex
	lastKey  string // the summary last offered, without its time
	pending  []byte // the file to push, nil when pushed
	state    PublishState
	loggedAs string // the error last logged
}

// NewStatusPublisher validates opts. Errors are ErrGitConfig: a bad URL,
// unreadable credential files, or a Branch that is the tracked ref. It
// does not touch the network.
func NewStatusPublisher(opts StatusBranchOptions) (*StatusPublisher, error) {
	ep, err := parseGitEndpoint(opts.URL)
	if err != nil {
		return nil, err
	}
	branch := strings.TrimPrefix(opts.Branch, "refs/heads/")
	if branch == "" || plumbing.NewBranchReferenceName(branch).Validate() != nil {
		return nil, fmt.Errorf("%w: invalid status branch %q", ErrGitConfig, opts.Branch)
	}
	if branch == strings.TrimPrefix(opts.TrackedRef, "refs/heads/") {
		return nil, fmt.Errorf("%w: the status branch %q is the tracked ref: give another branch", ErrGitConfig, branch)
	}
	if opts.Host == "" || strings.ContainsAny(opts.Host, `/\`) || opts.Host == "." || opts.Host == ".." {
		return nil, fmt.Errorf("%w: invalid host name %q for the status file", ErrGitConfig, opts.Host)
	}
	opts.Branch = branch
	if opts.Interval <= 0 {
		opts.Interval = DefaultStatusInterval
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	creds := gitCredentials{kind: ep.kind, user: ep.user, tokenFile: opts.TokenFile,
		sshKeyFile: opts.SSHKeyFile, knownHostsFile: opts.KnownHostsFile}
	switch {
	case opts.TokenFile != "" && ep.kind != "http":
		return nil, fmt.Errorf("%w: a status token file is for https URLs, not %s", ErrGitConfig, ep.display)
	case opts.SSHKeyFile != "" && ep.kind != "ssh":
		return nil, fmt.Errorf("%w: a status SSH key is for ssh URLs, not %s", ErrGitConfig, ep.display)
	}
	if ep.kind == "http" {
		if err := checkHTTPToken(GitOptions{URL: opts.URL, TokenFile: opts.TokenFile, AllowInsecureHTTP: opts.AllowInsecureHTTP}, ep, opts.TokenFile != ""); err != nil {
			return nil, err
		}
	}
	if _, err := creds.auth(); err != nil {
		return nil, err
	}
	return &StatusPublisher{opts: opts, ep: ep, creds: creds, log: opts.Logger, wake: make(chan struct{}, 1), tries: 5,
		state: PublishState{Branch: branch}}, nil
}

// String names the publisher's branch and repository (no user info).
func (p *StatusPublisher) String() string { return p.opts.Branch + " of " + p.ep.display }

// Offer hands the publisher the file to push: doc, whose content without
// its time is key. It returns false, and pushes nothing, when key is the
// one last offered. It never blocks.
func (p *StatusPublisher) Offer(doc, key []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if string(key) == p.lastKey {
		return false
	}
	p.lastKey, p.pending, p.state.Pending = string(key), doc, true
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

// State is what the publisher last did.
func (p *StatusPublisher) State() PublishState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Run pushes what Offer gave, at most once per interval, until ctx ends.
// A failed push is retried after the interval.
func (p *StatusPublisher) Run(ctx context.Context) {
	var next time.Time // earliest next push
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-retry:
		}
		retry = nil
		if wait := time.Until(next); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		p.mu.Lock()
		doc := p.pending
		p.mu.Unlock()
		if doc == nil {
			continue
		}
		commit, err := p.publish(ctx, doc)
		next = time.Now().Add(p.opts.Interval)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			retry = time.After(p.opts.Interval)
		}
		p.record(doc, commit, err)
	}
}

// record keeps the outcome of a publication and logs its changes.
func (p *StatusPublisher) record(doc []byte, commit plumbing.Hash, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.state.Error = err.Error()
		if p.loggedAs != p.state.Error {
			p.loggedAs = p.state.Error
			p.log.Warn("status branch: push failed, retrying later", zap.String("branch", p.opts.Branch), zap.Error(err))
		}
		return
	}
	if p.loggedAs != "" {
		p.log.Info("status branch: pushed again", zap.String("branch", p.opts.Branch))
	} else if p.state.Commit == "" {
		p.log.Info("status branch: first push", zap.String("branch", p.opts.Branch), zap.String("commit", commit.String()))
	}
	now := time.Now()
	p.loggedAs, p.state.Error, p.state.Commit, p.state.At = "", "", commit.String(), &now
	if bytes.Equal(p.pending, doc) {
		p.pending, p.state.Pending = nil, false
	}
}

// publish commits doc on top of the branch's head and pushes it, again
// on top of the new head when the push is refused (another host pushed
// first), a bounded number of times.
func (p *StatusPublisher) publish(ctx context.Context, doc []byte) (plumbing.Hash, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 200 * time.Millisecond
	b.MaxInterval = 5 * time.Second
	h, err := backoff.Retry(ctx, func() (plumbing.Hash, error) {
		h, err := p.publishOnce(ctx, doc)
		if errors.Is(err, ErrGitConfig) {
			return h, backoff.Permanent(err)
		}
		return h, err
	}, backoff.WithBackOff(b), backoff.WithMaxTries(p.tries))
	if err != nil && !errors.Is(err, ErrGitConfig) && !errors.Is(err, ErrStatusPublish) {
		err = fmt.Errorf("%w: %v", ErrStatusPublish, err)
	}
	return h, err
}

// publishOnce fetches the branch's head (if any), commits doc on it as
// hosts/<host>.json and pushes without force.
func (p *StatusPublisher) publishOnce(ctx context.Context, doc []byte) (plumbing.Hash, error) {
	p.attempts.Add(1)
	auth, err := p.creds.auth()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	ctx, cancel := context.WithTimeout(ctx, gitFetchTimeout)
	defer cancel()
	repo, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	remote := git.NewRemote(repo.Storer, &config.RemoteConfig{Name: remoteName, URLs: []string{p.ep.url}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return plumbing.ZeroHash, fmt.Errorf("%w: %s: list refs: %v", ErrStatusPublish, p, p.creds.redact(err))
	}
	byName := make(map[plumbing.ReferenceName]*plumbing.Reference, len(refs))
	for _, r := range refs {
		byName[r.Name()] = r
	}
	branch := plumbing.NewBranchReferenceName(p.opts.Branch)
	if p.opts.TrackedRef == "" {
		if def, err := pickRef("", byName); err == nil && def == branch {
			return plumbing.ZeroHash, fmt.Errorf("%w: the status branch %q is the remote's default branch, which the agent tracks: give another branch", ErrGitConfig, p.opts.Branch)
		}
	}
	local := plumbing.NewRemoteReferenceName(remoteName, p.opts.Branch)
	var parent *object.Commit
	if _, ok := byName[branch]; ok {
		depth := 0
		if p.ep.shallow {
			depth = 1
		}
		spec := config.RefSpec("+" + branch.String() + ":" + local.String())
		opts := &git.FetchOptions{RemoteName: remoteName, RefSpecs: []config.RefSpec{spec}, Auth: auth, Tags: git.NoTags, Depth: depth}
		err := remote.FetchContext(ctx, opts)
		if err != nil && depth > 0 && ctx.Err() == nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			opts.Depth = 0 // a server refusing shallow fetches
			err = remote.FetchContext(ctx, opts)
		}
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return plumbing.ZeroHash, fmt.Errorf("%w: %s: fetch: %v", ErrStatusPublish, p, p.creds.redact(err))
		}
		ref, err := repo.Reference(local, true)
		if err == nil {
			parent, err = repo.CommitObject(ref.Hash())
		}
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%w: %s: %v", ErrStatusPublish, p, err)
		}
	}
	commit, err := p.commit(repo, parent, doc)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%w: %s: commit: %v", ErrStatusPublish, p, err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(branch, commit)); err != nil {
		return plumbing.ZeroHash, err
	}
	if p.beforePush != nil {
		p.beforePush()
	}
	err = remote.PushContext(ctx, &git.PushOptions{RemoteName: remoteName, Auth: auth,
		RefSpecs: []config.RefSpec{config.RefSpec(branch.String() + ":" + branch.String())}})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return plumbing.ZeroHash, fmt.Errorf("%w: %s: push: %v", ErrStatusPublish, p, p.creds.redact(err))
	}
	return commit, nil
}

// commit writes the tree of parent (empty when nil) with hosts/<host>.json
// set to doc, and a commit of it, into repo.
func (p *StatusPublisher) commit(repo *git.Repository, parent *object.Commit, doc []byte) (plumbing.Hash, error) {
	st := repo.Storer
	blob, err := writeBlob(st, doc)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	var root, hosts []object.TreeEntry
	if parent != nil {
		t, err := parent.Tree()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		root = t.Entries
		if sub, err := t.Tree(statusDir); err == nil {
			hosts = sub.Entries
		}
	}
	hosts = setEntry(hosts, object.TreeEntry{Name: p.opts.Host + ".json", Mode: filemode.Regular, Hash: blob})
	hostsTree, err := writeTree(st, hosts)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	rootTree, err := writeTree(st, setEntry(root, object.TreeEntry{Name: statusDir, Mode: filemode.Dir, Hash: hostsTree}))
	if err != nil {
		return plumbing.ZeroHash, err
	}
	sig := object.Signature{Name: "reconciler", Email: "reconciler@" + p.opts.Host, When: time.Now()}
	c := &object.Commit{Author: sig, Committer: sig, TreeHash: rootTree,
		Message: "status of " + p.opts.Host + "\n"}
	if parent != nil {
		if parent.TreeHash == rootTree {
			return parent.Hash, nil // the branch already says so
		}
		c.ParentHashes = []plumbing.Hash{parent.Hash}
	}
	obj := st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// setEntry returns entries with e in place of the entry of the same name,
// in git's tree order.
func setEntry(entries []object.TreeEntry, e object.TreeEntry) []object.TreeEntry {
	out := make([]object.TreeEntry, 0, len(entries)+1)
	for _, x := range entries {
		if x.Name != e.Name {
			out = append(out, x)
		}
	}
	out = append(out, e)
	// git orders a folder's entry as if its name ended with "/".
	key := func(x object.TreeEntry) string {
		if x.Mode == filemode.Dir {
			return x.Name + "/"
		}
		return x.Name
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// writeBlob stores b as a blob.
func writeBlob(st storer.EncodedObjectStorer, b []byte) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(b); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// writeTree stores a tree of entries.
func writeTree(st storer.EncodedObjectStorer, entries []object.TreeEntry) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// StatusFile is the path of a host's file on the status branch.
func StatusFile(host string) string { return path.Join(statusDir, host+".json") }
