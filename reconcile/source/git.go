package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/internal/errclass"
	"github.com/reconciler/reconciler/spec"
)

// Error classes of the git source, checked with errors.Is.
var (
	// ErrGitConfig: the options can never work (bad URL, unreadable token,
	// key or keyring, unusable cache dir). Returned by NewGitSource and Run.
	ErrGitConfig = errors.New("git source configuration")
	// ErrGitRemote: the remote cannot be reached, refuses us, or no longer
	// has the ref. Passing: logged once and retried with backoff while the
	// last good commit stays in force.
	ErrGitRemote = errors.New("git remote")
	// ErrGitSignature: the head commit is unsigned or not signed by a key
	// of the keyring. The commit is not applied; it is reported.
	ErrGitSignature = errors.New("git commit signature")
)

// Environment variables read when the matching GitOptions field is empty.
// Their values are credentials or paths to them and are never logged.
const (
	// EnvGitToken holds an HTTPS access token (the value itself).
	EnvGitToken = "RECONCILER_GIT_TOKEN"
	// EnvGitSSHKey holds the path of an SSH private key.
	EnvGitSSHKey = "RECONCILER_GIT_SSH_KEY"
	// EnvGitKnownHosts holds the path of an OpenSSH known_hosts file.
	EnvGitKnownHosts = "RECONCILER_GIT_KNOWN_HOSTS"
)

// DefaultGitInterval is how often the remote is polled when
// GitOptions.Interval is zero.
const DefaultGitInterval = 30 * time.Second

// Bounds of single network operations. A remote that does not answer in
// time counts as unreachable (ErrGitRemote) and is retried.
const (
	gitListTimeout  = 30 * time.Second
	gitFetchTimeout = 5 * time.Minute
)

// GitOptions configures a GitSource.
type GitOptions struct {
	// URL of the repository: https://, http://, ssh://, scp-like
	// git@host:path, file:// or a local path. It must not carry a password
	// or a token: use TokenFile or RECONCILER_GIT_TOKEN. A user name is
	// accepted in an ssh URL, and in an http(s) URL together with a token
	// (it is then the basic-auth user name); it is never shown, logged nor
	// written to the cache dir. A file:// URL or a local path is served
	// as the process set up with InstallFileTransport (without it: by a
	// git binary on PATH only).
	URL string
	// Ref is a branch, a tag, a full ref name (refs/...) or a full 40-hex
	// commit id. Empty means the remote's default branch. A short name is
	// looked up as a branch first, then as a tag.
	Ref string
	// Path is the repository sub-folder holding the manifests ("" = root).
	Path string
	// Interval between polls of the remote (default 30s).
	Interval time.Duration
	// CacheDir holds the local bare clone, reused across restarts. Default:
	// os.UserCacheDir()/reconciler/git/<hash of URL, Ref and Path>, so two
	// sources never share one.
	CacheDir string
	// TokenFile holds an HTTPS access token (default: the value of
	// RECONCILER_GIT_TOKEN). It is sent as basic auth with the URL's user
	// name, or "x-access-token" when the URL has none.
	TokenFile string
	// AllowInsecureHTTP accepts sending the token to an http:// URL, where
	// it crosses the network unencrypted. Without it a token with an
	// http:// URL is an ErrGitConfig (loopback addresses included).
	AllowInsecureHTTP bool
	// SSHKeyFile is an unencrypted SSH private key (default: the path in
	// RECONCILER_GIT_SSH_KEY); KnownHostsFile the known_hosts checked
	// against (default: the path in RECONCILER_GIT_KNOWN_HOSTS, else
	// SSH_KNOWN_HOSTS or ~/.ssh/known_hosts). An unknown host is an error.
	SSHKeyFile     string
	KnownHostsFile string
	// Atomic applies a commit all or nothing: an invalid commit leaves the
	// last good commit in force. Otherwise a broken file keeps its
	// containers of the last good commit while the rest converges.
	Atomic bool
	// VerifySignaturesKeyring is a file of armored OpenPGP public keys; when
	// set, a head commit not signed by one of them is not applied.
	VerifySignaturesKeyring string
	// Logger receives the source's logs (default: no logs).
	Logger *zap.Logger
}

// GitStatus is what the source reports for status output and logs.
type GitStatus struct {
	// Commit is the commit in force (empty before the first good one).
	Commit string
	// Newest is the newest head commit seen on the remote.
	Newest string
	// HeldFiles maps a file whose containers are held at an older commit
	// (the file is invalid at Commit) to that older commit.
	HeldFiles map[string]string
	// LastError is the last failure (fetch, signature), empty once a later
	// attempt succeeded. It never contains a credential nor a URL's user
	// info.
	LastError string
	// LastFetch is when the remote last answered.
	LastFetch time.Time
}

// GitSource is a Source reading manifests from one ref of a git
// repository (DESIGN §5).
//
// Run clones once into the cache dir (a bare repository, reused across
// restarts together with a record of what was in force), then polls: it
// asks the remote for the ref's head and fetches only that ref, shallow
// (the head's objects, not the history's; the history between two heads
// is fetched only to tell a force-push), when the head moved. Manifests are read from the head
// commit's tree under Path, recursively (spec.IsManifest, spec.Ignored,
// spec.MaxFileSize), with no checkout; a file is parsed only when its blob
// changed. Container origins and problems name repository-relative files.
//
// Every commit is validated whole. Each problem of a commit keeps its File
// and Line and has its Message prefixed "commit <7-hex id>: ". By default a
// file that is invalid keeps the containers of its last valid version (see
// Status.HeldFiles) while the rest of the commit applies; its errors hold
// every removal. With Atomic an invalid commit applies nothing: the last
// good commit stays in force, with the new commit's errors. A head failing
// signature verification, a missing Path, a deleted branch or an
// unreachable remote never change what is in force; force-pushes are
// followed with a warning.
//
// Snapshot, Status, Trigger and String are safe to call from any goroutine
// at any time; Run runs once at a time.
type GitSource struct {
	opts    GitOptions
	ep      gitEndpoint
	creds   gitCredentials
	keyring string // armored keyring, empty when signatures are not checked
	log     *zap.Logger
	trigger chan struct{}
	running atomic.Bool

	// Counters of network operations, for tests and benchmarks.
	lists, fetches atomic.Int64
	noShallow      atomic.Bool // a server refused a shallow fetch

	// Owned by Run.
	repo     *git.Repository
	headSpec config.RefSpec // the refspec of the last head fetched, to deepen it
	view     gitView
	rejected error // why the newest head was not applied (signature)

	mu     sync.Mutex
	snap   spec.Set
	status GitStatus
}

// NewGitSource validates opts and returns a source. Errors are ErrGitConfig:
// a malformed URL, one carrying a password or token (see GitOptions.URL), a
// token bound for plain http:// without AllowInsecureHTTP, unreadable
// token, key, known_hosts or keyring files. No error repeats a credential
// or a URL's user info. It does not touch the network.
func NewGitSource(opts GitOptions) (*GitSource, error) {
	ep, err := parseGitEndpoint(opts.URL)
	if err != nil {
		return nil, err
	}
	if opts.Interval < 0 {
		return nil, fmt.Errorf("%w: negative interval %s", ErrGitConfig, opts.Interval)
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultGitInterval
	}
	if opts.Ref != "" && !plumbing.IsHash(opts.Ref) && plumbing.ReferenceName(opts.Ref).Validate() != nil && plumbing.ReferenceName("refs/heads/"+opts.Ref).Validate() != nil {
		return nil, fmt.Errorf("%w: invalid ref %q", ErrGitConfig, opts.Ref)
	}
	opts.Path = strings.Trim(path.Clean("/"+filepath.ToSlash(opts.Path)), "/")
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("%w: no cache dir given and no user cache dir: %v", ErrGitConfig, err)
		}
		sum := sha256.Sum256([]byte(ep.display + "\x00" + opts.Ref + "\x00" + opts.Path))
		opts.CacheDir = filepath.Join(base, "reconciler", "git", hex.EncodeToString(sum[:8]))
	}
	creds, err := loadGitCredentials(opts, ep)
	if err != nil {
		return nil, err
	}
	var keyring string
	if opts.VerifySignaturesKeyring != "" {
		if keyring, err = loadKeyring(opts.VerifySignaturesKeyring); err != nil {
			return nil, err
		}
	}
	g := &GitSource{
		opts:    opts,
		ep:      ep,
		creds:   creds,
		keyring: keyring,
		trigger: make(chan struct{}, 1),
		view:    newGitView(opts.Atomic),
	}
	g.log = opts.Logger.With(zap.Stringer("source", g))
	g.snap = spec.Set{HoldRemovals: true, HoldReason: "git: " + ep.display + " not fetched yet"}
	return g, nil
}

// String names the source: "git URL@ref:path", without credentials.
func (g *GitSource) String() string {
	ref := g.opts.Ref
	if ref == "" {
		ref = "HEAD"
	}
	s := "git " + g.ep.display + "@" + ref
	if g.opts.Path != "" {
		s += ":" + g.opts.Path
	}
	return s
}

// Trigger asks Run to poll the remote now (a webhook). It never blocks;
// triggers arriving while a poll runs coalesce into one more poll.
func (g *GitSource) Trigger() {
	select {
	case g.trigger <- struct{}{}:
	default:
	}
}

// Snapshot returns the desired set of the commit in force. It never blocks
// on the network and never fails; before the first commit it has no
// containers and holds removals.
func (g *GitSource) Snapshot(ctx context.Context) (spec.Set, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.snap
	s.Containers = append([]spec.Container(nil), s.Containers...)
	s.Errors = append([]spec.Problem(nil), s.Errors...)
	s.Warnings = append([]spec.Problem(nil), s.Warnings...)
	return s, nil
}

// Status reports the commit in force, the newest commit seen, files held at
// older commits, and the last failure.
func (g *GitSource) Status() GitStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.status
	s.HeldFiles = make(map[string]string, len(g.status.HeldFiles))
	for f, c := range g.status.HeldFiles {
		s.HeldFiles[f] = c
	}
	return s
}

// Run opens (or clones into) the cache dir, applies the commit already
// cached there, then polls the remote every Interval and on Trigger until
// ctx is done, calling notify whenever the snapshot changed. It returns nil
// when ctx is done, and an ErrGitConfig error when the cache dir cannot be
// used or Run is already running. Remote failures are logged when they
// start, when their class (ErrGitRemote, ErrGitSignature, ErrGitConfig)
// changes and when the remote answers again; they are retried with
// backoff, never returned.
func (g *GitSource) Run(ctx context.Context, notify func()) error {
	if !g.running.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: %s: already running", ErrGitConfig, g)
	}
	defer g.running.Store(false)
	unlock, err := g.openCache()
	if err != nil {
		return err
	}
	defer unlock()

	if g.applyCached(ctx) {
		notify()
	}
	retry := &backoff.ExponentialBackOff{
		InitialInterval:     min(time.Second, g.opts.Interval),
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          backoff.DefaultMultiplier,
		MaxInterval:         max(g.opts.Interval, 5*time.Minute),
	}
	retry.Reset()
	failing := "" // class of the failure in progress
	for {
		changed, err := g.poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if changed {
			notify()
		}
		wait := g.opts.Interval
		switch {
		case err != nil:
			// Logged when polls start failing and when the class of the
			// failure changes, not when only its wording does.
			class := errclass.Of(err, ErrGitRemote, ErrGitSignature, ErrGitConfig)
			if class != failing {
				g.log.Warn("git poll failed; the commit in force stays, retrying", zap.Error(err), zap.String("class", class))
			} else {
				g.log.Debug("git poll still failing", zap.Error(err))
			}
			failing = class
			wait = retry.NextBackOff()
		case failing != "":
			g.log.Info("git remote reachable again")
			failing = ""
			retry.Reset()
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-g.trigger:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// poll asks the remote for the ref's head, fetches it when it moved, and
// applies the head commit when it is new. It reports whether the snapshot
// changed.
func (g *GitSource) poll(ctx context.Context) (bool, error) {
	head, err := g.fetchHead(ctx)
	if err != nil {
		err = g.creds.redact(err) // logged and shown in Status
		g.setFailure(err)
		return false, err
	}
	g.mu.Lock()
	g.status.LastFetch = time.Now()
	g.status.Newest = head.String()
	g.mu.Unlock()
	if head == g.view.head {
		g.setFailure(nil)
		return false, nil
	}
	return g.applyCommit(ctx, head)
}

// setFailure records the last failure for Status. nil clears it, except
// that a rejected head stays reported while it is the newest commit.
func (g *GitSource) setFailure(err error) {
	if err == nil {
		err = g.rejected
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status.LastError = ""
	if err != nil {
		g.status.LastError = err.Error()
	}
}

// applyCached restores what was in force before a restart (see
// cacheStateFile) and applies the commit the cache dir holds, so that a
// restarted agent has its desired set before the remote answers. It
// reports whether there is a snapshot.
func (g *GitSource) applyCached(ctx context.Context) bool {
	head, ok := g.localHead()
	if !ok {
		return false
	}
	if err := g.view.restore(g.repo.Storer, g.loadState(), g.opts.Path); err != nil {
		g.log.Warn("commit in force before the restart not restored", zap.Error(err))
	}
	restored := g.view.head != plumbing.ZeroHash
	if restored {
		g.publish(gitResult{snap: g.view.current, held: g.view.held})
		g.log.Info("restored the commit in force before the restart", zap.String("commit", g.view.current.Revision))
	}
	g.mu.Lock()
	g.status.Newest = head.String()
	g.mu.Unlock()
	if head == g.view.head {
		return restored
	}
	changed, err := g.applyCommit(ctx, head)
	if err != nil {
		g.log.Warn("cached commit not applied", zap.Error(err))
	}
	return changed || restored
}

// applyCommit verifies and evaluates one head commit and publishes the
// resulting snapshot. A commit failing signature verification is not
// evaluated: the previous snapshot stays, with the failure as an error.
func (g *GitSource) applyCommit(ctx context.Context, head plumbing.Hash) (bool, error) {
	commit, err := g.repo.CommitObject(head)
	if err != nil {
		err = fmt.Errorf("%w: %s: commit %s: %v", ErrGitRemote, g, short(head), err)
		g.setFailure(err)
		return false, err
	}
	g.rejected = nil
	if g.keyring != "" {
		if err := verifyCommit(commit, g.keyring); err != nil {
			g.log.Error("head commit not applied", zap.String("commit", head.String()), zap.Error(err))
			g.rejected = err
			g.publish(g.view.rejected(head, err))
			g.setFailure(err)
			return true, nil
		}
	}
	prev := g.view.head
	if prev != plumbing.ZeroHash && !g.isAncestor(ctx, prev, commit) {
		g.log.Warn("history rewritten (force-push?): following the new head",
			zap.String("previous", prev.String()), zap.String("commit", head.String()))
	}
	res := g.view.apply(g.repo.Storer, commit, g.opts.Path)
	g.publish(res)
	g.setFailure(nil)
	fields := []zap.Field{zap.String("commit", head.String()), zap.String("inForce", res.snap.Revision),
		zap.Int("containers", len(res.snap.Containers)), zap.Int("errors", len(res.snap.Errors)),
		zap.Int("parsed", res.parsed)}
	if len(res.held) > 0 {
		fields = append(fields, zap.Any("heldFiles", res.held))
	}
	if len(res.snap.Errors) > 0 {
		g.log.Warn("commit has invalid manifests", append(fields, zap.String("firstError", res.snap.Errors[0].Error()))...)
	} else {
		g.log.Info("commit applied", fields...)
	}
	return true, nil
}

// publish makes an evaluation the current snapshot and status, and records
// it in the cache dir.
func (g *GitSource) publish(res gitResult) {
	g.mu.Lock()
	g.snap = res.snap
	g.status.Commit = res.snap.Revision
	g.status.HeldFiles = res.held
	g.mu.Unlock()
	g.saveState(res)
}

// short is the abbreviated commit id used in problems and logs.
func short(h plumbing.Hash) string {
	return h.String()[:7]
}
