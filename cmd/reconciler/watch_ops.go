package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/winsvc"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/notify"
	"github.com/reconciler/reconciler/reconcile/statusapi"
)

// opsFlags are watch's flags of operations: the API token and the
// notification targets.
type opsFlags struct {
	apiTokenFile string
	notify       []string
}

func (f *opsFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.apiTokenFile, "api-token-file", "", "file holding the token that POST /suspend, /resume and /removals/approve need at a TCP --listen (the CLI's --token-file)")
	fl.StringArrayVar(&f.notify, "notify", nil, "send notifications to TYPE=URL, TYPE one of "+strings.Join(notify.Types, ", ")+" (repeatable)")
}

// targets are the --notify targets, or without any the config file's
// notify list.
func (f *opsFlags) targets(g *globals) ([]notify.Target, error) {
	var out []notify.Target
	if len(f.notify) == 0 { // a --notify on the command line replaces the config file's
		for _, t := range g.notifyTargets() {
			nt, err := notify.NewTarget(t.Type, t.URL)
			if err != nil {
				return nil, fmt.Errorf("%s: notify: %w", g.config.Path, err)
			}
			out = append(out, nt)
		}
	}
	for _, s := range f.notify {
		t, err := notify.ParseTarget(s)
		if err != nil {
			return nil, fmt.Errorf("--notify: %w", err)
		}
		out = append(out, t)
	}
	return out, nil
}

// ops is what watch runs beside the agent: the suspension, the metrics,
// the notifications and what GET /status shows.
type ops struct {
	status     *statusapi.Status
	suspension *statusapi.Suspension
	metrics    *statusapi.Metrics
	notifier   *notify.Notifier // nil without targets
	watcher    *notify.Watcher
	tracker    *winsvc.Tracker // nil unless the agent runs as a Windows service
}

// newOps sets up the operations of agent, whose Suspended and OnReport
// it sets. close stops the notifications.
func (f *opsFlags) newOps(g *globals, agent *reconcile.Agent, d driver.Driver, gits []statusapi.GitSource) (*ops, func(), error) {
	targets, err := f.targets(g)
	if err != nil {
		return nil, nil, err
	}
	path, err := g.agentFile(".suspended.json")
	if err != nil {
		return nil, nil, err
	}
	o := &ops{status: statusapi.NewStatus(gits, d, nil), tracker: g.tracker}
	if o.suspension, err = statusapi.LoadSuspension(path, nil, agent.Trigger); err != nil {
		return nil, nil, err
	}
	if st := o.suspension.State(); st.Suspended {
		g.log.Warn("agent suspended: passes plan and report, apply nothing, until `reconciler resume`",
			zap.Time("since", st.Since), zap.String("reason", st.Reason))
	}
	o.status.ShowSuspension(o.suspension)
	o.metrics = statusapi.NewMetrics(d, g.owner, o.suspension.Suspended)
	closeFn := func() {}
	if len(targets) > 0 {
		if o.notifier, err = notify.New(notify.Options{Targets: targets, Logger: g.log.Named("notify"), Registerer: o.metrics.Registerer()}); err != nil {
			return nil, nil, err
		}
		host, _ := os.Hostname()
		o.watcher = &notify.Watcher{Host: host, Owner: g.owner, Send: o.notifier.Send}
		closeFn = o.notifier.Close
		for _, t := range targets {
			g.log.Info("notifications on", zap.Stringer("target", t))
		}
	}
	agent.Suspended = o.suspension.Suspended
	agent.OnReport = o.observe
	return o, closeFn, nil
}

// observe is the agent's OnReport.
func (o *ops) observe(r reconcile.PassReport) {
	o.status.Report(r)
	o.metrics.Observe(r)
	if o.tracker != nil && r.Err == nil {
		o.tracker.Pass(r.Plan) // the Windows events of a service
	}
	if o.watcher != nil {
		o.watcher.Observe(r)
	}
}

// handler options of the API at --listen: the token, and whether the
// listener is owner-only. A TCP address without a token serves reads
// only, which is said once.
func (f *opsFlags) apiOptions(g *globals, listen string) (statusapi.Options, error) {
	ep, err := statusapi.ParseListen(listen)
	if err != nil {
		return statusapi.Options{}, fmt.Errorf("--listen: %w", err)
	}
	o := statusapi.Options{OwnerOnly: ep.OwnerOnly()}
	if f.apiTokenFile != "" {
		if o.Token, err = statusapi.ReadSecretFile("API token", f.apiTokenFile); err != nil {
			return statusapi.Options{}, err
		}
	}
	switch {
	case o.Token == nil && !ep.Loopback():
		g.log.Warn("the API listens beyond this host without --api-token-file: it serves reads only (status, health, metrics) and refuses suspend, resume and approvals",
			zap.String("listen", listen))
	case o.Token == nil && !o.OwnerOnly:
		g.log.Info("no --api-token-file: the API refuses suspend, resume and approvals over TCP (give a token, or --listen on a unix:// socket or npipe:// pipe)")
	}
	return o, nil
}
