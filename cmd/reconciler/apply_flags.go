package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/reconcile"
)

// applyFlags are the planning and execution flags shared by reconcile and
// watch.
type applyFlags struct {
	dryRun           bool
	allowMassRemoval bool
	strict           bool
	denyHostAccess   bool
	parallel         int
	timeout          time.Duration
	stopTimeout      time.Duration
}

func (f *applyFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.dryRun, "dry-run", false, "plan only: never create, recreate or remove anything")
	fs.BoolVar(&f.allowMassRemoval, "allow-mass-removal", false, "allow a pass to remove more than half of the owned containers")
	fs.BoolVar(&f.strict, "strict", false, "treat an image whose OS version cannot be told as an error, not a warning")
	fs.BoolVar(&f.denyHostAccess, "deny-host-access", false, "refuse manifests that pierce the isolation boundary (mounts, named pipes, ports, network namespaces, devices)")
	fs.IntVar(&f.parallel, "parallel", reconcile.DefaultParallel, "how many actions run at once")
	fs.DurationVar(&f.timeout, "timeout", reconcile.DefaultTimeout, "time limit of each create or remove, retries included")
	fs.DurationVar(&f.stopTimeout, "stop-timeout", reconcile.DefaultStopGrace, "how long a removed container gets to shut down before it is terminated")
}

func (f *applyFlags) policy(owner string) reconcile.Policy {
	return reconcile.Policy{Owner: owner, AllowMassRemoval: f.allowMassRemoval, Strict: f.strict, DenyHostAccess: f.denyHostAccess}
}

func (f *applyFlags) executor(d driver.Driver, g *globals) *reconcile.Executor {
	return &reconcile.Executor{Driver: d, Parallel: f.parallel, Timeout: f.timeout, StopGrace: f.stopTimeout, Logger: g.log.Named("apply")}
}
