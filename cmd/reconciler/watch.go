package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/reconcile/statusapi"
	"github.com/reconciler/reconciler/spec"
)

// watchFlags are the flags of the watch command.
type watchFlags struct {
	apply    applyFlags
	dirs     []string
	debounce time.Duration
	rescan   time.Duration
	resync   time.Duration

	gitURLs, gitRefs, gitPaths []string
	interval                   time.Duration
	cacheDir                   string
	tokenFile                  string
	allowInsecureHTTP          bool
	sshKey, knownHosts         string
	atomic                     bool
	keyring                    string

	listen            string
	webhookSecretFile string
	ops               opsFlags

	statusBranch                  string
	statusInterval                time.Duration
	statusTokenFile, statusSSHKey string
}

func newWatchCommand(g *globals) *cobra.Command {
	var f watchFlags
	cmd := &cobra.Command{
		Use:   "watch --dir PATH | --git URL [--ref R] [--path P]",
		Short: "Run the agent: keep the host converged to watched folders and git repositories",
		Long: `watch runs the agent. Every pass compares the full desired set of all sources with the
live compute systems and converges; a pass runs when a source changes, when a
container exits, and every --resync interval, so what happens behind the agent's back
is undone. Triggers during a pass coalesce into one more pass.

Sources (repeatable; names must be unique across all of them):
  --dir PATH   a folder of manifests, watched recursively (debounced, rescanned
               every --rescan in case events were lost)
  --git URL    a git repository (https, ssh or file), polled every --interval and on
               POST /hooks/git at --listen; --ref and --path are given once for all
               repositories or once per --git, in order

One repository for a fleet: --dir and --path may be templates of this host's facts,
{hostname} (lowercase), {build}, {ltsc} and {label:KEY} (from --host-label KEY=VALUE),
so that every host runs the same command line; a manifest's placement (host name
globs, label matchers, OS builds) keeps it to the hosts it admits.

A git token goes in --git-token-file or $RECONCILER_GIT_TOKEN, never in the URL: a URL
with a password or token in it is refused, and a token is not sent over plain http://
without --allow-insecure-http. URL user info is never logged, shown or cached.

A file that turns invalid keeps its containers as they were and holds every removal
until it is fixed; a folder that vanishes or a remote that cannot be reached never
removes anything. Removals are counted over --removal-window (10m) whatever their
pace, one file at a time or all at once: beyond --max-removals (more than half of the
owned containers) they are held, logged once, and shown in GET /status, until
approved with "reconciler removals approve --agent ADDR" (POST /removals/approve at
--listen; taken only from this host, never from a web page), which starts a pass
that carries out exactly the removals held then.

The API at --listen (a port alone is loopback only; unix:///path and, on Windows,
npipe:////./pipe/NAME are created owner-only) serves GET /status, /healthz, /readyz
and /metrics (Prometheus). Its changes (approve, "reconciler suspend" and "resume")
need the token of --api-token-file over TCP; on the socket or pipe they need none.
A suspended agent plans and reports but applies nothing, across restarts, until
resumed. --notify TYPE=URL (webhook, teams, slack) reports failed actions, held
removals, rollbacks, sources that keep failing and the recovery, once per change.

Every flag can be kept in a config file instead (--config FILE): its keys are the long
flags ("dir", "git", "owner", "resync", …) plus "notify", it is checked as strictly as
a manifest, and a flag on the command line wins over it. The Windows service runs
"watch --config" (see "reconciler service").

Seeing the fleet from the repository (opt-in): with --status-branch BRANCH, the agent
commits what it applied (GET /status's "applied" plus the owner) as hosts/<hostname>.json
on BRANCH of the first --git repository and pushes it, when the summary changed and at
most once per --status-interval, in the background (a pass never waits on it). BRANCH
is created as an orphan branch and is never the tracked ref. Pushing uses its own
credentials, --status-token-file or --status-ssh-key: the fetch token or key is never
reused, and without them the URL is used with no credentials.

One agent per --owner per host. SIGINT/SIGTERM stops taking triggers, lets
operations in flight finish or time out, and exits 0; a second signal exits at once.`,
		Example: `  reconciler watch --dir C:\manifests
  reconciler watch --git https://git.example.com/ops/host1.git --ref main --path hosts/web1 \
      --git-token-file C:\secrets\token --listen 127.0.0.1:9440 --webhook-secret-file C:\secrets\hook \
      --api-token-file C:\secrets\api-token --notify teams=https://example.webhook.office.com/...
  reconciler watch --git https://git.example.com/ops/fleet.git --path 'hosts/{hostname}' --host-label site=paris`,
		Args: noWatchArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.apply.check(); err != nil {
				return err
			}
			return runWatch(cmd.Context(), g, &f)
		},
	}
	fl := cmd.Flags()
	registerConfigFlag(cmd)
	f.apply.register(fl)
	fl.StringArrayVar(&f.dirs, "dir", nil, "folder of manifests to watch (repeatable)")
	_ = cmd.MarkFlagDirname("dir")
	fl.DurationVar(&f.debounce, "debounce", 150*time.Millisecond, "wait this long after the last file event before a pass (a file renamed in alone waits a fifth of it)")
	fl.DurationVar(&f.rescan, "rescan", 60*time.Second, "full rescan of watched folders, in case file events were lost")
	fl.DurationVar(&f.resync, "resync", reconcile.DefaultResync, "compare with the live host at least this often")
	fl.StringArrayVar(&f.gitURLs, "git", nil, "git repository URL to track (repeatable)")
	fl.StringArrayVar(&f.gitRefs, "ref", nil, "branch, tag or full commit id to track (default: the remote's default branch)")
	fl.StringArrayVar(&f.gitPaths, "path", nil, "sub-folder of the repository that holds the manifests")
	fl.DurationVar(&f.interval, "interval", 30*time.Second, "how often to ask the git remote for its head")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "where clones are kept across restarts (default: under the user's cache directory)")
	fl.StringVar(&f.tokenFile, "git-token-file", "", "file holding an HTTPS token (or the token itself in $RECONCILER_GIT_TOKEN)")
	fl.BoolVar(&f.allowInsecureHTTP, "allow-insecure-http", false, "allow sending the git token to http:// URLs, unencrypted (refused by default, loopback included)")
	fl.StringVar(&f.sshKey, "git-ssh-key", "", "SSH private key file (or $RECONCILER_GIT_SSH_KEY)")
	fl.StringVar(&f.knownHosts, "git-known-hosts", "", "known_hosts file checked for SSH remotes (or $RECONCILER_GIT_KNOWN_HOSTS)")
	fl.BoolVar(&f.atomic, "atomic", false, "apply each commit all or nothing: an invalid commit leaves the last good one in force")
	fl.StringVar(&f.keyring, "verify-signatures", "", "armored OpenPGP public keys: a head commit not signed by one of them is not applied")
	fl.StringVar(&f.listen, "listen", "", "address of the agent's API: 127.0.0.1:9440 (a port alone is loopback), unix:///run/reconciler.sock or npipe:////./pipe/reconciler; GET /status, /healthz, /readyz, /metrics, the webhook (POST /hooks/git), POST /suspend, /resume and /removals/approve")
	fl.StringVar(&f.webhookSecretFile, "webhook-secret-file", "", "file holding the webhook secret (GitHub HMAC or GitLab token); the webhook is on at --listen with --git only with it")
	fl.StringVar(&f.statusBranch, "status-branch", "", "push what this host applied as hosts/<hostname>.json to this branch of the (first) --git repository; never the tracked ref")
	fl.DurationVar(&f.statusInterval, "status-interval", source.DefaultStatusInterval, "push to --status-branch at most this often")
	fl.StringVar(&f.statusTokenFile, "status-token-file", "", "HTTPS token for pushing to --status-branch (the fetch token is never reused; default: none)")
	fl.StringVar(&f.statusSSHKey, "status-ssh-key", "", "SSH private key for pushing to --status-branch (the fetch key is never reused; default: none)")
	f.ops.register(fl)
	return cmd
}

func runWatch(ctx context.Context, g *globals, f *watchFlags) error {
	if len(f.dirs) == 0 && len(f.gitURLs) == 0 {
		return errors.New("nothing to watch: give at least one --dir or --git")
	}
	lock, err := g.lockAgent()
	if err != nil {
		return err
	}
	defer lock.Unlock()
	d, closeDriver, err := g.openDriver(ctx)
	if err != nil {
		return err
	}
	defer closeDriver()
	// --dir and --path may be templates of this host's facts: every host
	// of a fleet runs the same command line.
	host := func() (spec.Host, error) { return d.Host(ctx) }
	if f.dirs, err = g.expandPaths(f.dirs, f.apply.hostFacts, host); err != nil {
		return err
	}
	if f.gitPaths, err = g.expandPaths(f.gitPaths, f.apply.hostFacts, host); err != nil {
		return err
	}
	sources, gits, err := f.sources(g)
	if err != nil {
		return err
	}
	st, err := g.agentState()
	if err != nil {
		return err
	}
	agent := &reconcile.Agent{
		Sources:    sources,
		Driver:     d,
		Executor:   f.apply.executor(d, g),
		Policy:     f.apply.policy(g.owner),
		Resync:     f.resync,
		DryRun:     f.apply.dryRun,
		TrimMemory: true,
		Logger:     g.log.Named("agent"),

		RemovalWindow: f.apply.removalWindow,
		Ledger:        st.ledger,
		LedgerPath:    st.ledgerPath,
		Restarts:      st.restarts,
		RestartsPath:  st.restartsPath,
		Rollbacks:     st.rollbacks,
	}
	ops, closeOps, err := f.ops.newOps(g, agent, d, gits)
	if err != nil {
		return err
	}
	defer closeOps()
	ops.status.SetFacts(f.apply.hostFacts)
	if err := f.publishStatus(ctx, g, agent, ops.status); err != nil {
		return err
	}
	if agent.Health = reconcile.NewHealthMonitor(d, g.log.Named("health"), nil); agent.Health != nil {
		ops.status.ShowHealth(agent.Health)
	}
	if f.listen != "" {
		stop, err := f.serve(g, ops, len(gits) > 0, agent)
		if err != nil {
			return err
		}
		defer stop()
	}
	if g.config != nil {
		g.log.Info("config file read", zap.String("path", g.config.Path), zap.Int("notifyTargets", len(g.notifyTargets())))
	}
	g.log.Info("agent started", zap.String("owner", g.owner), zap.String("driver", g.driver), zap.Int("sources", len(sources)))
	return agent.Run(ctx)
}

// The sources of reconcile/source are the agent's: reconcile declares the
// interface and does not import them.
var (
	_ reconcile.Source = (*source.FolderSource)(nil)
	_ reconcile.Source = (*source.GitSource)(nil)
)

// sources builds the sources the flags name.
func (f *watchFlags) sources(g *globals) ([]reconcile.Source, []statusapi.GitSource, error) {
	var out []reconcile.Source
	for _, dir := range f.dirs {
		s, err := source.NewFolderSource(source.FolderOptions{Dir: dir, Debounce: f.debounce, Rescan: f.rescan, Logger: g.log.Named("dir")})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
	}
	refs, err := perRepo("--ref", f.gitRefs, len(f.gitURLs))
	if err != nil {
		return nil, nil, err
	}
	paths, err := perRepo("--path", f.gitPaths, len(f.gitURLs))
	if err != nil {
		return nil, nil, err
	}
	var gits []statusapi.GitSource
	for i, url := range f.gitURLs {
		s, err := source.NewGitSource(source.GitOptions{
			URL: url, Ref: refs[i], Path: paths[i], Interval: f.interval, CacheDir: f.cacheDir,
			TokenFile: f.tokenFile, AllowInsecureHTTP: f.allowInsecureHTTP, SSHKeyFile: f.sshKey, KnownHostsFile: f.knownHosts,
			Atomic: f.atomic, VerifySignaturesKeyring: f.keyring, Logger: g.log.Named("git"),
		})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
		gits = append(gits, s)
	}
	return out, gits, nil
}

// publishStatus starts the publication of what the agent applied on
// --status-branch, if given: after each pass whose summary changed, in the
// background until ctx ends.
func (f *watchFlags) publishStatus(ctx context.Context, g *globals, agent *reconcile.Agent, status *statusapi.Status) error {
	if f.statusBranch == "" {
		if f.statusTokenFile != "" || f.statusSSHKey != "" {
			return errors.New("--status-token-file and --status-ssh-key need --status-branch")
		}
		return nil
	}
	if len(f.gitURLs) == 0 {
		return errors.New("--status-branch needs a --git repository to publish to")
	}
	refs, err := perRepo("--ref", f.gitRefs, len(f.gitURLs))
	if err != nil {
		return err
	}
	p, err := source.NewStatusPublisher(source.StatusBranchOptions{
		URL: f.gitURLs[0], TrackedRef: refs[0], Branch: f.statusBranch, Host: strings.ToLower(f.apply.hostFacts.Hostname),
		Interval: f.statusInterval, TokenFile: f.statusTokenFile, SSHKeyFile: f.statusSSHKey, KnownHostsFile: f.knownHosts,
		AllowInsecureHTTP: f.allowInsecureHTTP, Logger: g.log.Named("status-branch"),
	})
	if err != nil {
		return fmt.Errorf("--status-branch: %w", err)
	}
	status.ShowPublished(p.State)
	observe := agent.OnReport
	agent.OnReport = func(r reconcile.PassReport) {
		observe(r)
		if doc, key, ok := status.AppliedFile(g.owner); ok {
			p.Offer(doc, key)
		}
	}
	go p.Run(ctx)
	g.log.Info("publishing status", zap.Stringer("to", p), zap.String("file", source.StatusFile(strings.ToLower(f.apply.hostFacts.Hostname))))
	return nil
}

// noWatchArgs refuses positional arguments without repeating them (cobra's
// NoArgs would): a repository URL given without --git may carry a token.
func noWatchArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("watch takes no arguments (%d given): give folders with --dir and repositories with --git", len(args))
	}
	return nil
}

// perRepo spreads a per-repository flag over n repositories: given once,
// it applies to all; given n times, one each.
func perRepo(flag string, values []string, n int) ([]string, error) {
	switch len(values) {
	case 0:
		return make([]string, n), nil
	case n:
		return values, nil
	case 1:
		out := make([]string, n)
		for i := range out {
			out[i] = values[0]
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is given %d times for %d --git repositories: give it once for all, or once per --git", flag, len(values), n)
}

// serve starts the agent's API on --listen.
func (f *watchFlags) serve(g *globals, ops *ops, withGit bool, approver reconcile.RemovalApprover) (stop func(), err error) {
	o, err := f.ops.apiOptions(g, f.listen)
	if err != nil {
		return nil, err
	}
	switch {
	case withGit && f.webhookSecretFile == "":
		g.log.Info("the git webhook is off: it needs --webhook-secret-file (it only trusts signed requests); sources are polled")
	case f.webhookSecretFile != "":
		if o.WebhookSecret, err = statusapi.ReadWebhookSecret(f.webhookSecretFile); err != nil {
			return nil, err
		}
	}
	o.Status, o.Approver, o.Suspension, o.Metrics, o.Logger = ops.status, approver, ops.suspension, ops.metrics, g.log
	h, err := statusapi.NewHandler(o)
	if err != nil {
		return nil, err
	}
	srv, err := statusapi.Listen(f.listen, h, g.log)
	if err != nil {
		return nil, err
	}
	return func() { _ = srv.Close() }, nil
}
