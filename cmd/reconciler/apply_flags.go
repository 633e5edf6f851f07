package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

// applyFlags are the planning and execution flags shared by reconcile and
// watch.
type applyFlags struct {
	dryRun           bool
	allowMassRemoval bool
	maxRemovals      reconcile.RemovalLimit
	removalWindow    time.Duration
	strict           bool
	denyHostAccess   bool
	parallel         int
	timeout          time.Duration
	readTimeout      time.Duration
	stopTimeout      time.Duration
	// facts are --hostname and --host-label; hostFacts what check read.
	facts     factsFlags
	hostFacts spec.HostFacts
}

func (f *applyFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.dryRun, "dry-run", false, "plan only: never create, recreate or remove anything")
	fs.Var(removalLimitValue{&f.maxRemovals}, "max-removals", "removals allowed within --removal-window before the rest are held for approval: a count (5) or a percentage of the owned containers (50%: more than half is held)")
	fs.DurationVar(&f.removalWindow, "removal-window", reconcile.DefaultRemovalWindow, "how far back removals count against --max-removals (kept across passes and restarts)")
	fs.BoolVar(&f.allowMassRemoval, "allow-mass-removal", false, "lift --max-removals: never hold a removal for their number")
	fs.BoolVar(&f.strict, "strict", false, "treat an image whose OS version cannot be told as an error, not a warning")
	fs.BoolVar(&f.denyHostAccess, "deny-host-access", false, "refuse manifests that pierce the isolation boundary (mounts, named pipes, ports, network namespaces, devices)")
	fs.IntVar(&f.parallel, "parallel", reconcile.DefaultParallel, "how many actions run at once")
	fs.DurationVar(&f.timeout, "timeout", reconcile.DefaultTimeout, "time limit of each create or remove, retries included")
	fs.DurationVar(&f.readTimeout, "read-timeout", reconcile.DefaultReadTimeout, "time limit of each read of the host (its build, its compute systems): a host that does not answer fails the pass, which is retried")
	fs.DurationVar(&f.stopTimeout, "stop-timeout", reconcile.DefaultStopGrace, "how long a removed container gets to shut down before it is terminated")
	f.facts.register(fs)
}

// check refuses flag values no pass could use.
func (f *applyFlags) check() error {
	if f.removalWindow <= 0 {
		return fmt.Errorf("--removal-window %s: must be positive", f.removalWindow)
	}
	if f.readTimeout <= 0 {
		return fmt.Errorf("--read-timeout %s: must be positive", f.readTimeout)
	}
	var err error
	f.hostFacts, err = f.facts.facts()
	return err
}

func (f *applyFlags) policy(owner string) reconcile.Policy {
	return reconcile.Policy{Owner: owner, AllowMassRemoval: f.allowMassRemoval, MaxRemovals: f.maxRemovals, Strict: f.strict, DenyHostAccess: f.denyHostAccess, Facts: f.hostFacts}
}

func (f *applyFlags) executor(d driver.Driver, g *globals) *reconcile.Executor {
	return &reconcile.Executor{Driver: d, Parallel: f.parallel, Timeout: f.timeout, ReadTimeout: f.readTimeout, StopGrace: f.stopTimeout, Logger: g.log.Named("apply")}
}

// removalLimitValue is --max-removals as a flag value.
type removalLimitValue struct{ l *reconcile.RemovalLimit }

func (v removalLimitValue) String() string {
	if v.l == nil {
		return reconcile.RemovalLimit{}.String()
	}
	return v.l.String()
}

func (v removalLimitValue) Set(s string) error {
	l, err := reconcile.ParseRemovalLimit(s)
	if err != nil {
		return err
	}
	*v.l = l
	return nil
}

func (removalLimitValue) Type() string { return "count|percent" }
