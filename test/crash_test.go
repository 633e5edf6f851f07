package test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/reconciler/reconciler/internal/testfixture"
)

// The crash suite: the agent is killed (SIGKILL, no chance to clean up) at
// random points of its passes over an emulated host with latency on, then
// run again; after the recovery the host must be exactly what the
// manifests declare and nothing else may have changed. It is written
// against what the CLI shows (status -o json, ps -o json, dry-run plans,
// exit codes and the JSON log) and assumes neither the emulated host's
// file format nor its id format: the one file it looks at is the
// --sim-state path itself, to kill the agent as a snapshot lands there.
//
// Every random choice of a trial comes from its seed: the suite's seed
// (-crash.seed, else a new one, logged) and the trial's number. A failing
// trial logs the command that runs it again.

var (
	crashSeed = flag.Uint64("crash.seed", 0, "seed of the crash trials (0: a new one, logged)")
)

const (
	// crashDefaultTrials run in every go test; crashLongTrials more unless
	// -short.
	crashDefaultTrials = 6
	crashLongTrials    = 30
	// crashLatency is the emulated host's latency on every create and
	// remove while the agent is to be killed: long enough that a kill
	// right after an operation lands before the next one commits.
	crashLatency = "60ms"
	// crashOwner is the owner the agent runs as (the CLI's default).
	crashOwner = "reconciler"
)

// The log lines of the emulated host (logger "sim", debug level) that say
// it has committed an operation: the observable the kill points count.
var journaledOps = map[string]bool{"created system": true, "removed system": true}

// foreignSystems are started behind the agent's back before each trial and
// must come out of it byte for byte as they went in.
var foreignSystems = [][]string{
	{"fx-web", "--owner", "docker", "--image", "mcr.microsoft.com/windows/nanoserver:ltsc2022", "--isolation", "process"},
	{"fx-vm", "--owner", "docker", "--image", ltsc2022, "--isolation", "hyperv", "--command", "ping,-t,localhost"},
}

// TestCrashRecovery runs the crash trials of every go test.
func TestCrashRecovery(t *testing.T) {
	runCrashTrials(t, 0, crashDefaultTrials, "")
}

// TestCrashRecoveryLong runs more trials, unless -short.
func TestCrashRecoveryLong(t *testing.T) {
	if testing.Short() {
		t.Skipf("%d more crash trials are skipped under -short", crashLongTrials)
	}
	runCrashTrials(t, crashDefaultTrials, crashLongTrials, "")
}

// runCrashTrials runs trials first..first+n-1 of the suite's seed, in
// parallel subtests, and logs what they covered. flags are the extra flags
// of the command that reruns one.
func runCrashTrials(t *testing.T, first, n int, flags string) {
	seed := suiteSeed()
	t.Logf("crash seed %d (-crash.seed=%d reruns these trials)", seed, seed)
	var stats crashStats
	start := time.Now()
	t.Cleanup(func() {
		t.Logf("%d trials in %s: %s", n, time.Since(start).Round(time.Millisecond), stats.String())
	})
	parent := t.Name()
	for i := first; i < first+n; i++ {
		name := fmt.Sprintf("trial-%02d", i)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			t.Logf("rerun: go test ./test -run '^%s$/^%s$' -crash.seed=%d%s", parent, name, seed, flags)
			scenario := crashScenarios[(seed+uint64(i))%uint64(len(crashScenarios))] // any len(crashScenarios) trials cover them all
			tr := newCrashTrial(scenario, rand.New(rand.NewPCG(seed, uint64(i))))
			stats.add(tr.run(t))
		})
	}
}

// suiteSeed is -crash.seed, or one new seed for the whole test binary.
var suiteSeed = sync.OnceValue(func() uint64 {
	if *crashSeed != 0 {
		return *crashSeed
	}
	return rand.Uint64()
})

// crashDecl is one declared container.
type crashDecl struct {
	name, image, isolation string
	rev                    int // an env value: bumping it changes the spec only
}

func (d crashDecl) manifest() string {
	return testfixture.Manifest(d.name, d.image, d.isolation) + fmt.Sprintf("  env:\n    REV: 'r%d'\n", d.rev)
}

// crashRun is one run of the agent that is to be killed.
type crashRun struct {
	watch    bool // `watch --dir`, else a one-shot `reconcile`
	parallel int  // --parallel
	// The kill point: as soon as the state file given by --sim-state is
	// replaced (a snapshot written); else as soon as the process started;
	// else once this fraction (rounded up, at least one) of the pass's
	// operations is journaled.
	onReplace bool
	atStart   bool
	at        float64
}

func newCrashRun(r *rand.Rand) crashRun {
	return crashRun{watch: r.IntN(2) == 0, parallel: []int{1, 2, 4}[r.IntN(3)], atStart: r.IntN(8) == 0, at: r.Float64()}
}

// killPoint is the number of journaled operations after which the run is
// killed, out of the ops of its pass; -1 when that is not what kills it.
func (r crashRun) killPoint(ops int) int {
	switch {
	case r.onReplace:
		return -1
	case r.atStart || ops == 0:
		return 0
	}
	return 1 + min(int(r.at*float64(ops)), ops-1)
}

func (r crashRun) String() string {
	s := fmt.Sprintf("%s --parallel %d", runMode(r.watch), r.parallel)
	if r.onReplace {
		s += " (killed when the state file is replaced)"
	}
	return s
}

func runMode(watch bool) string {
	if watch {
		return "watch"
	}
	return "reconcile"
}

// crashTrial is everything a trial does, drawn from its seed up front.
type crashTrial struct {
	scenario      string
	latency       string // the emulated host's, from the killed runs on
	before, after []crashDecl
	crashes       []crashRun // the killed runs, in order
	recoverWatch  bool       // recover with `watch --dir`, else `reconcile`
}

// The scenarios: what the killed pass does. "compaction" recreates so many
// containers that the emulated host folds its journal into a new snapshot
// during the pass (driver/sim does so once 256 entries are journaled), and
// the kill comes as that snapshot lands: the widest window a crash can hit
// inside one of its writes.
var crashScenarios = []string{"create", "recreate", "remove", "mixed", "compaction"}

func newCrashTrial(scenario string, r *rand.Rand) crashTrial {
	tr := crashTrial{scenario: scenario, latency: crashLatency}
	images := []string{ltsc2022, "mcr.microsoft.com/windows/nanoserver:ltsc2022"}
	isolations := []string{"process", "hyperv"}
	decl := func(i int) crashDecl {
		return crashDecl{name: fmt.Sprintf("app%02d", i), image: images[r.IntN(2)], isolation: isolations[r.IntN(2)], rev: 1}
	}
	var owned, add, change, remove int
	switch tr.scenario {
	case "create":
		owned, add = 1+r.IntN(3), 3+r.IntN(4)
	case "recreate":
		owned = 4 + r.IntN(5)
		change = 2 + r.IntN(owned-2)
	case "remove":
		owned = 5 + r.IntN(5)
		remove = 1 + r.IntN((owned-1)/2) // below half: the mass-removal guard never holds them
	case "mixed":
		owned = 5 + r.IntN(4)
		remove = 1 + r.IntN((owned-1)/2)
		change = 1 + r.IntN(min(3, owned-remove))
		add = 1 + r.IntN(3)
	case "compaction":
		owned = 130 + r.IntN(20) // 260 operations or more
		change = owned
		tr.latency = "1ms" // the kill waits for a file, not for an operation
	}
	for i := range owned {
		tr.before = append(tr.before, decl(i))
	}
	perm := r.Perm(owned) // the first remove are removed, the next change are changed
	for _, i := range perm[remove : remove+change] {
		d := tr.before[i]
		switch r.IntN(3) {
		case 0:
			d.isolation = isolations[1-slices.Index(isolations, d.isolation)]
		case 1:
			d.image = images[1-slices.Index(images, d.image)]
		default:
			d.rev++
		}
		tr.after = append(tr.after, d)
	}
	for i, d := range tr.before {
		if !slices.Contains(perm[:remove+change], i) {
			tr.after = append(tr.after, d)
		}
	}
	for i := range add {
		tr.after = append(tr.after, decl(owned+i))
	}
	slices.SortFunc(tr.after, func(a, b crashDecl) int { return strings.Compare(a.name, b.name) })
	tr.crashes = []crashRun{newCrashRun(r)}
	if scenario == "compaction" {
		tr.crashes[0].onReplace = true
	} else if r.IntN(3) == 0 { // the recovery is killed too
		tr.crashes = append(tr.crashes, newCrashRun(r))
	}
	tr.recoverWatch = r.IntN(2) == 0
	return tr
}

// crashOutcome is what a trial covered.
type crashOutcome struct {
	scenario string
	kills    []crashKill
}

// crashKill is where one run died.
type crashKill struct {
	watch bool
	where string
}

// run carries the trial out and checks the host after each kill and after
// the recovery.
func (tr crashTrial) run(t *testing.T) crashOutcome {
	e := newEnv(t)
	dir := t.TempDir()
	out := crashOutcome{scenario: tr.scenario}
	t.Logf("%s: %d owned → %s; runs killed: %v; recovery by %s", tr.scenario, len(tr.before), tr.changes(), tr.crashes, runMode(tr.recoverWatch))

	for _, args := range foreignSystems {
		e.mustRun(append([]string{"sim", "create"}, args...)...)
	}
	writeDecls(t, dir, tr.before)
	e.mustRun("reconcile", dir)
	list := e.status()
	foreign, foreignPS := e.foreignView(list, false), e.foreignView(list, true)
	writeDecls(t, dir, tr.after)
	e.mustRun("sim", "fault", "--latency", tr.latency)

	for i, c := range tr.crashes {
		ops := tr.ops()
		if i > 0 {
			if ops = e.pendingOps(dir); ops == 0 {
				break // the first kill came after the last operation: nothing left to interrupt
			}
		}
		k := c.killPoint(ops)
		seen, killed := e.killAfter(dir, c, k)
		where := "killed mid-pass"
		switch {
		case !killed && c.onReplace:
			where = "not killed: the state file was never replaced"
		case !killed:
			where = "not killed: it ended on its own after the last operation"
		case c.onReplace:
			where = "killed as the state file was replaced"
		case seen == 0:
			where = "killed before any operation"
		case seen >= ops:
			where = "killed after the last operation"
		}
		out.kills = append(out.kills, crashKill{watch: c.watch, where: where})
		t.Logf("run %d (%s, kill point %d): %s, after %d of the pass's %d journaled operations", i+1, c, k, where, seen, ops)
		// A kill never leaves an unreadable host or a changed foreign system.
		if diff := diffForeign(foreign, e.foreignView(e.status(), false)); diff != "" {
			t.Fatalf("after the kill of run %d: %s", i+1, diff)
		}
	}

	if tr.recoverWatch { // with the latency still on, as after a real crash
		e.recoverWithWatch(dir)
	} else {
		e.mustRun("reconcile", dir)
	}
	e.checkConverged(dir, tr.after, foreignPS)
	return out
}

// diff calls fn for each container the trial creates (was zero), changes
// or removes (now zero).
func (tr crashTrial) diff(fn func(was, now crashDecl)) {
	left := map[string]crashDecl{}
	for _, d := range tr.before {
		left[d.name] = d
	}
	for _, d := range tr.after {
		if was := left[d.name]; was != d {
			fn(was, d)
		}
		delete(left, d.name)
	}
	for _, name := range slices.Sorted(maps.Keys(left)) {
		fn(left[name], crashDecl{})
	}
}

// ops is how many operations the host commits to go from before to after:
// one per create or remove, two per recreate.
func (tr crashTrial) ops() int {
	n := 0
	tr.diff(func(was, now crashDecl) {
		n++
		if was.name != "" && now.name != "" {
			n++
		}
	})
	return n
}

// changes says what the trial changes, for its log.
func (tr crashTrial) changes() string {
	var out []string
	tr.diff(func(was, now crashDecl) {
		switch {
		case was.name == "":
			out = append(out, "+"+now.name)
		case now.name == "":
			out = append(out, "-"+was.name)
		default:
			out = append(out, fmt.Sprintf("~%s %s/%s/r%d → %s/%s/r%d", now.name, was.isolation, path.Base(was.image), was.rev,
				now.isolation, path.Base(now.image), now.rev))
		}
	})
	if len(out) > 8 {
		out = append(out[:8], fmt.Sprintf("and %d more", len(out)-8))
	}
	return strings.Join(out, ", ")
}

func writeDecls(t *testing.T, dir string, decls []crashDecl) {
	t.Helper()
	old, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range decls {
		write(t, filepath.Join(dir, d.name+".yaml"), d.manifest())
	}
}

// command is the binary on e's host with args (TestMain spares a
// race-enabled binary its pause at exit).
func (e *env) command(args ...string) *exec.Cmd {
	return exec.Command(binary, append([]string{"--sim-state", e.state}, args...)...)
}

// mustRun runs the binary to completion and returns its stdout; any exit
// but 0 fails the test.
func (e *env) mustRun(args ...string) []byte {
	e.t.Helper()
	cmd := e.command(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		e.t.Fatalf("reconciler %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

// crashPlan is the part of the JSON plan the suite reads.
type crashPlan struct {
	Actions []struct {
		Action string `json:"action"`
		Name   string `json:"name"`
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"actions"`
	Unchanged []string          `json:"unchanged"`
	Errors    []json.RawMessage `json:"errors"`
	Warnings  []json.RawMessage `json:"warnings"`
}

func (e *env) plan(args ...string) crashPlan {
	e.t.Helper()
	var p crashPlan
	if err := json.Unmarshal(e.mustRun(append([]string{"-o", "json", "reconcile"}, args...)...), &p); err != nil {
		e.t.Fatalf("reconcile -o json: %v", err)
	}
	return p
}

// pendingOps is how many operations the host must commit to carry out the
// plan of dir as it stands: one per create or remove, two per recreate.
func (e *env) pendingOps(dir string) int {
	e.t.Helper()
	n := 0
	for _, a := range e.plan("--dry-run", dir).Actions {
		n++
		if a.Action == "recreate" {
			n++
		}
	}
	return n
}

// killSwitch reads the agent's JSON log as it is written: it counts the
// operations the emulated host reports committed and kills the process as
// soon as their number reaches at, and it notes the end of a pass.
type killSwitch struct {
	mu       sync.Mutex
	log      bytes.Buffer
	partial  []byte
	at       int // -1: never
	ops      int
	kill     func()
	killed   bool
	passDone chan map[string]any // each "pass done" line
}

func (w *killSwitch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		var m map[string]any
		if json.Unmarshal(w.partial[:i], &m) == nil {
			w.line(m)
		}
		w.partial = w.partial[i+1:]
	}
}

func (w *killSwitch) line(m map[string]any) {
	switch {
	case m["logger"] == "sim" && journaledOps[fmt.Sprint(m["msg"])]:
		w.ops++
		w.fire()
	case m["msg"] == "pass done":
		select {
		case w.passDone <- m:
		default:
		}
	}
}

// fire kills the process once the count is reached. Called with mu held.
func (w *killSwitch) fire() {
	if !w.killed && w.at >= 0 && w.ops >= w.at {
		w.killed = true
		w.kill()
	}
}

// killNow kills the process unless it was already.
func (w *killSwitch) killNow() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.killed {
		w.killed = true
		w.kill()
	}
}

func (w *killSwitch) state() (ops int, killed bool, log string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ops, w.killed, w.log.String()
}

// agentRun is a started agent whose log is watched.
type agentRun struct {
	cmd    *exec.Cmd
	sw     *killSwitch
	exited chan struct{} // closed once the process is gone; err is then set
	err    error
}

// launch starts the agent on dir (watch or a one-shot reconcile) with the
// emulated host's operations in its log, to be killed once at of them are
// committed (at = 0: at once; -1: never).
func (e *env) launch(dir string, watch bool, parallel, at int) *agentRun {
	e.t.Helper()
	args := []string{"--log-format", "json", "--log-level", "debug"}
	if watch {
		args = append(args, "watch", "--dir", dir)
	} else {
		args = append(args, "reconcile", dir)
	}
	cmd := e.command(append(args, "--parallel", fmt.Sprint(parallel))...)
	a := &agentRun{cmd: cmd, exited: make(chan struct{})}
	a.sw = &killSwitch{at: at, passDone: make(chan map[string]any, 16), kill: func() { _ = cmd.Process.Kill() }}
	cmd.Stderr = a.sw
	a.sw.mu.Lock() // no kill before Start has set cmd.Process
	if err := cmd.Start(); err != nil {
		a.sw.mu.Unlock()
		e.t.Fatal(err)
	}
	a.sw.fire()
	a.sw.mu.Unlock()
	go func() {
		a.err = cmd.Wait()
		close(a.exited)
	}()
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-a.exited
	})
	return a
}

// waitPass waits for the process to exit or, first, to log the end of a
// pass (nil if it exited).
func (a *agentRun) waitPass(t testing.TB) (pass map[string]any) {
	t.Helper()
	select {
	case <-a.exited:
		return nil
	case p := <-a.sw.passDone:
		return p
	case <-testfixture.Within(t):
		_, _, log := a.sw.state()
		t.Fatalf("the agent neither exited nor ended a pass; log:\n%s", log)
		return nil
	}
}

// waitExit waits for the process to exit and returns how.
func (a *agentRun) waitExit(t testing.TB) error {
	t.Helper()
	select {
	case <-a.exited:
		return a.err
	case <-testfixture.Within(t):
		_, _, log := a.sw.state()
		t.Fatalf("the agent did not exit; log:\n%s", log)
		return nil
	}
}

// checkRaces fails the test if the race detector spoke in the agent's log.
func (a *agentRun) checkRaces(t testing.TB) {
	t.Helper()
	if _, _, log := a.sw.state(); strings.Contains(log, "DATA RACE") {
		t.Fatalf("the race detector reported a data race in the agent:\n%s", log)
	}
}

// killAfter runs the agent on dir and SIGKILLs it once the emulated host
// has committed k operations of its pass (k = 0: as soon as it started;
// k = -1: never), or, for c.onReplace, as soon as the state file is
// replaced. It returns
// how many operations were committed when it died, and whether it was
// killed (an onReplace run whose state file was never replaced is not: a
// watch agent is then stopped at the end of its pass).
func (e *env) killAfter(dir string, c crashRun, k int) (ops int, killed bool) {
	e.t.Helper()
	var replaced <-chan struct{}
	if c.onReplace {
		replaced = e.watchReplace()
	}
	a := e.launch(dir, c.watch, c.parallel, k)
	if replaced != nil {
		go func() {
			select {
			case <-replaced:
				a.sw.killNow()
			case <-a.exited:
			}
		}()
	}
	pass := a.waitPass(e.t)
	ops, killed, log := a.sw.state()
	switch {
	case !killed && c.onReplace:
		if pass == nil && a.err != nil {
			e.t.Fatalf("%s: exited: %v; log:\n%s", c, a.err, log)
		}
	case !killed && pass != nil:
		e.t.Fatalf("%s: the pass ended after %d journaled operations, the kill was due after %d (did the emulated host's log lines %v change?); log:\n%s",
			c, ops, k, slices.Sorted(maps.Keys(journaledOps)), log)
	case !killed:
		// A one-shot run may end on its own between its last operation
		// and the kill; then it must have succeeded.
		if a.err != nil || ops < k {
			e.t.Fatalf("%s: exited (%v) after %d journaled operations, before the kill due after %d; log:\n%s", c, a.err, ops, k, log)
		}
	}
	a.sw.killNow() // a watch agent whose pass ended
	_ = a.waitExit(e.t)
	a.checkRaces(e.t)
	return ops, killed
}

// watchReplace returns a channel closed once e's state file is created or
// renamed over: whatever the emulated host's format, a snapshot of its state
// lands there.
func (e *env) watchReplace() <-chan struct{} {
	e.t.Helper()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := w.Add(filepath.Dir(e.state)); err != nil {
		e.t.Fatal(err)
	}
	replaced := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.Events {
			if filepath.Clean(ev.Name) == filepath.Clean(e.state) && ev.Has(fsnotify.Create) {
				close(replaced)
				return
			}
		}
	}()
	e.t.Cleanup(func() {
		_ = w.Close()
		<-done
	})
	return replaced
}

// recoverWithWatch starts the agent on dir, waits for its first pass, which
// must fail nothing, and stops it with an interrupt.
func (e *env) recoverWithWatch(dir string) {
	e.t.Helper()
	a := e.launch(dir, true, 4, -1)
	pass := a.waitPass(e.t)
	_, _, log := a.sw.state()
	if pass == nil {
		e.t.Fatalf("the recovering agent exited: %v; log:\n%s", a.err, log)
	}
	if pass["failed"] != float64(0) || pass["errors"] != float64(0) {
		e.t.Fatalf("the recovering agent's first pass: %v; log:\n%s", pass, log)
	}
	if runtime.GOOS == "windows" { // no interrupt to send: its pass is over, end it
		a.sw.killNow()
		_ = a.waitExit(e.t)
		return
	}
	if err := a.cmd.Process.Signal(os.Interrupt); err != nil {
		e.t.Fatal(err)
	}
	if err := a.waitExit(e.t); err != nil {
		e.t.Fatalf("the recovering agent after an interrupt: %v, want exit 0", err)
	}
	a.checkRaces(e.t)
}

// crashStatus is one container of `status -o json`, with its JSON as
// printed.
type crashStatus struct {
	Name      string `json:"name"`
	ID        string `json:"id"`
	Owner     string `json:"owner"`
	Isolation string `json:"isolation"`
	Image     string `json:"image"`
	State     string `json:"state"`
	raw       string
	// spec is raw without when the system was created: what a host where
	// the manifests were applied without a crash must show the same.
	spec string
}

// status lists the host's containers; a host whose state cannot be read
// fails the test.
func (e *env) status() []crashStatus {
	e.t.Helper()
	var doc struct {
		Containers []json.RawMessage `json:"containers"`
	}
	if err := json.Unmarshal(e.mustRun("-o", "json", "status"), &doc); err != nil {
		e.t.Fatalf("status -o json: %v", err)
	}
	out := make([]crashStatus, len(doc.Containers))
	for i, raw := range doc.Containers {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			e.t.Fatalf("status -o json: %v", err)
		}
		out[i].raw = string(raw)
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			e.t.Fatalf("status -o json: %v", err)
		}
		delete(fields, "created")
		spec, _ := json.Marshal(fields) // keys sorted
		out[i].spec = string(spec)
	}
	return out
}

// foreignView is every system of list of another owner, by id: its JSON as
// status printed it and, withPS, as ps prints it (its processes, from
// inside and from the host).
func (e *env) foreignView(list []crashStatus, withPS bool) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, s := range list {
		if s.Owner != crashOwner {
			out[s.ID] = s.raw
			if withPS {
				out[s.ID] += "\n" + string(e.mustRun("-o", "json", "ps", s.ID))
			}
		}
	}
	return out
}

func diffForeign(before, after map[string]string) string {
	var b strings.Builder
	for id, was := range before {
		if now, ok := after[id]; !ok {
			fmt.Fprintf(&b, "foreign system %s is gone (was %s)\n", id, was)
		} else if now != was {
			fmt.Fprintf(&b, "foreign system %s changed:\nwas %s\nnow %s\n", id, was, now)
		}
	}
	for id, now := range after {
		if _, ok := before[id]; !ok {
			fmt.Fprintf(&b, "a new system of another owner appeared: %s\n", now)
		}
	}
	return b.String()
}

// checkConverged checks the host after the recovery: readable, one system
// per name, every declared container running as declared, nothing
// undeclared of this owner, foreign systems as they were; and every spec
// hash right, seen two ways: a plan with nothing to do, and each managed
// system shown by status exactly as on a host where dir was applied
// without a crash (a compute system's id is made from what it runs).
func (e *env) checkConverged(dir string, want []crashDecl, foreign map[string]string) {
	e.t.Helper()
	var problems []string
	list := e.status()
	byName := map[string][]crashStatus{}
	for _, s := range list {
		byName[s.Name] = append(byName[s.Name], s)
	}
	for name, ss := range byName {
		if len(ss) > 1 {
			problems = append(problems, fmt.Sprintf("%d systems named %s: %v", len(ss), name, ss))
		}
	}
	declared := map[string]bool{}
	for _, d := range want {
		declared[d.name] = true
		ss := byName[d.name]
		if len(ss) != 1 {
			problems = append(problems, fmt.Sprintf("%s is declared; the host has %d systems of that name", d.name, len(ss)))
			continue
		}
		s := ss[0]
		if s.Owner != crashOwner || s.State != "running" || s.Isolation != d.isolation || s.Image != d.image {
			problems = append(problems, fmt.Sprintf("%s: want owner %s, running, %s, %s; host has %s", d.name, crashOwner, d.isolation, d.image, s.raw))
		}
	}
	for name, ss := range byName {
		for _, s := range ss {
			if s.Owner == crashOwner && !declared[name] {
				problems = append(problems, fmt.Sprintf("%s is not declared but runs: %s", name, s.raw))
			}
		}
	}
	p := e.plan("--dry-run", dir)
	if len(p.Actions) > 0 || len(p.Errors) > 0 || len(p.Warnings) > 0 {
		problems = append(problems, fmt.Sprintf("the plan after recovery is not empty: %+v", p))
	}
	if names := slices.Sorted(maps.Keys(declared)); !slices.Equal(slices.Sorted(slices.Values(p.Unchanged)), names) {
		problems = append(problems, fmt.Sprintf("unchanged after recovery: %v, want %v", p.Unchanged, names))
	}
	ref := newEnv(e.t)
	ref.mustRun("reconcile", dir)
	for _, r := range ref.status() {
		if ss := byName[r.Name]; len(ss) == 1 && ss[0].spec != r.spec {
			problems = append(problems, fmt.Sprintf("%s differs from a host where the manifests were applied without a crash:\nwant %s\nhave %s", r.Name, r.spec, ss[0].spec))
		}
	}
	if diff := diffForeign(foreign, e.foreignView(list, true)); diff != "" {
		problems = append(problems, diff)
	}
	if len(problems) > 0 {
		e.t.Fatalf("after recovery:\n%s", strings.Join(problems, "\n"))
	}
}

// crashStats sums up what the trials covered.
type crashStats struct {
	mu        sync.Mutex
	scenarios map[string]int
	kills     map[string]int // by run mode and where in the pass
}

func (s *crashStats) add(o crashOutcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scenarios == nil {
		s.scenarios, s.kills = map[string]int{}, map[string]int{}
	}
	s.scenarios[o.scenario]++
	for _, k := range o.kills {
		s.kills[runMode(k.watch)+" "+k.where]++
	}
}

func (s *crashStats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("scenarios %v; kills %v", s.scenarios, s.kills)
}
