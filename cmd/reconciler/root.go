package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/gofrs/flock"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/yaml"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/hcs"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/internal/config"
	"github.com/reconciler/reconciler/internal/winsvc"
)

// globals are the flags every command takes.
type globals struct {
	driver    string
	simState  string
	dataDir   string
	registry  string
	owner     string
	output    string
	logLevel  string
	logFormat string

	stdout, stderr io.Writer
	log            *zap.Logger
	// console, when set, is the process's voice outside commands (main's).
	console *console
	// config is the file --config named, once read.
	config *config.File
	// tracker, set when the process runs as a Windows service, takes the
	// agent's plans and log lines and writes its events (see
	// runService); logs are then JSON lines whatever --log-format says.
	tracker *winsvc.Tracker
}

// defaultDriver is --driver's default: $RECONCILER_DRIVER, else hcs on
// Windows and sim elsewhere.
func defaultDriver() string {
	if d := os.Getenv("RECONCILER_DRIVER"); d != "" {
		return d
	}
	if runtime.GOOS == "windows" {
		return "hcs"
	}
	return "sim"
}

func defaultDataDir() string {
	if pd := os.Getenv("ProgramData"); pd != "" {
		return filepath.Join(pd, "reconciler")
	}
	return filepath.Join(os.TempDir(), "reconciler")
}

// run is the whole command line; main only maps its error to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, stdout, &console{w: stderr})
}

// runWith is run speaking through con outside commands.
func runWith(ctx context.Context, args []string, stdout io.Writer, con *console) error {
	return execute(ctx, &globals{stdout: stdout, stderr: con.w, console: con}, args)
}

// execute runs the command line args with g.
func execute(ctx context.Context, g *globals, args []string) error {
	root := newRootCommand(g)
	root.SetContext(ctx)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && g.log == nil {
		// The command line failed before any command ran (an unknown
		// flag): --log-format, if it was read, still decides the format.
		_ = g.buildLogger()
	}
	return err
}

// newRootCommand is the command tree, writing to g's stdout and stderr.
func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "reconciler",
		Short: "GitOps agent for Windows containers: makes a host's containers match YAML manifests",
		Long: `reconciler makes the Windows containers of a host match the containers declared in
YAML manifests, in process or Hyper-V isolation: it creates what is missing, recreates
a container whose isolation mode or spec changed, removes what is no longer declared,
and never touches containers it does not own. Before it acts it checks that the host
can run each image in the chosen isolation mode.

Off Windows it drives an emulated HCS host kept in a state file (--driver sim), so
every command works anywhere; "reconciler sim" changes that host behind its back.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.loadConfig(cmd); err != nil {
				return err
			}
			if err := g.setup(); err != nil {
				return err
			}
			return g.checkOutput(cmd)
		},
		PersistentPostRun: func(*cobra.Command, []string) {
			if g.log != nil {
				_ = g.log.Sync()
			}
		},
	}
	root.Version = currentVersion().String()
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.driver, "driver", defaultDriver(), "container host driver: hcs (Windows HCS) or sim (emulated host); $RECONCILER_DRIVER sets the default")
	pf.StringVar(&g.simState, "sim-state", os.Getenv("RECONCILER_SIM_STATE"), "state file of the emulated host (default: $RECONCILER_SIM_STATE, else under the user's state directory)")
	pf.StringVar(&g.dataDir, "data-dir", defaultDataDir(), "hcs driver: where images, layers and container scratch space live")
	pf.StringVar(&g.registry, "registry-config", "", "hcs driver: docker-style config.json with registry credentials (never logged)")
	pf.StringVar(&g.owner, "owner", "reconciler", "HCS owner name of the containers this agent manages; others are never touched")
	pf.StringVarP(&g.output, "output", "o", "text", "output format: text, json or yaml (the same data as json); reconcile also markdown (the JSON plan as Markdown, for CI job summaries)")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	pf.StringVar(&g.logFormat, "log-format", "console", "log format on stderr: console or json")

	root.AddCommand(
		newReconcileCommand(g),
		newValidateCommand(g),
		newWatchCommand(g),
		newStatusCommand(g),
		newPsCommand(g),
		newSimCommand(g),
		newRemovalsCommand(g),
		newSuspendCommand(g),
		newResumeCommand(g),
		newVersionCommand(g),
		newSchemaCommand(g),
		newExportCommand(g),
		newServiceCommand(g),
	)
	return root
}

// dataCommands are the commands that print data with -o json or -o yaml.
// Every other command refuses those rather than ignore them.
var dataCommands = map[string]bool{
	"reconciler reconcile":        true,
	"reconciler validate":         true,
	"reconciler status":           true,
	"reconciler ps":               true,
	"reconciler removals approve": true,
	"reconciler suspend":          true,
	"reconciler resume":           true,
	"reconciler sim host":         true,
	"reconciler sim health":       true,
	"reconciler version":          true,
	"reconciler schema":           true,
}

// checkOutput refuses -o json or yaml for a command that has no data
// output.
func (g *globals) checkOutput(cmd *cobra.Command) error {
	if g.output == "markdown" {
		if cmd.CommandPath() == "reconciler reconcile" {
			return nil
		}
		return fmt.Errorf("--output markdown: only \"reconciler reconcile\" prints Markdown (its plan)")
	}
	if !g.data() || dataCommands[cmd.CommandPath()] {
		return nil
	}
	hint := ""
	if cmd.Name() == "watch" {
		hint = "; for JSON logs use --log-format json, for its state GET /status at --listen"
	}
	return fmt.Errorf("--output %s: %q prints no JSON or YAML%s", g.output, cmd.CommandPath(), hint)
}

// data reports whether -o asks for data (json or yaml) rather than text.
func (g *globals) data() bool { return g.output == "json" || g.output == "yaml" }

// setup builds the logger, then checks the other global flags: an error
// in them is said in the format --log-format asks for.
func (g *globals) setup() error {
	if err := g.buildLogger(); err != nil {
		return err
	}
	switch g.output {
	case "text", "json", "yaml", "markdown":
	default:
		return fmt.Errorf("--output %q: must be text, json or yaml (markdown for reconcile)", g.output)
	}
	switch g.driver {
	case "hcs", "sim":
	default:
		return fmt.Errorf("--driver %q: must be hcs or sim", g.driver)
	}
	if g.owner == "" {
		return fmt.Errorf("--owner must not be empty")
	}
	return nil
}

// buildLogger makes g.log from --log-format and --log-level, and with
// --log-format json has the console speak through it. A bad --log-level
// is an error said by a logger at info level.
func (g *globals) buildLogger() error {
	var enc zapcore.Encoder
	format := g.logFormat
	if g.tracker != nil {
		format = "json" // a service's log file holds JSON lines
	}
	switch format {
	case "json":
		enc = jsonEncoder()
	case "console":
		cfg := zap.NewDevelopmentEncoderConfig()
		cfg.EncodeTime = encodeTime
		enc = zapcore.NewConsoleEncoder(cfg)
	default:
		return fmt.Errorf("--log-format %q: must be console or json", g.logFormat)
	}
	level, err := zapcore.ParseLevel(g.logLevel)
	badLevel := err != nil || level > zapcore.ErrorLevel // dpanic, panic, fatal would hide errors
	if badLevel {
		level = zapcore.InfoLevel
	}
	g.log = zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(g.stderr)), level))
	if g.tracker != nil {
		g.log = g.log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, winsvc.NewObserver(g.tracker)) }))
	}
	if format == "json" && g.console != nil {
		g.console.speakJSON(g.log)
	}
	if badLevel {
		return fmt.Errorf("--log-level %q: must be debug, info, warn or error", g.logLevel)
	}
	return nil
}

// jsonEncoder is the encoder of --log-format json: JSON lines with ISO
// 8601 UTC times.
func jsonEncoder() zapcore.Encoder {
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeTime = encodeTime
	return zapcore.NewJSONEncoder(cfg)
}

// simStatePath is the emulated host's state file.
func (g *globals) simStatePath() (string, error) {
	if g.simState != "" {
		return g.simState, nil
	}
	return sim.DefaultStatePath()
}

// openSim opens the emulated host, whatever --driver says (for `sim`).
func (g *globals) openSim() (*sim.EmulatedHost, error) {
	path, err := g.simStatePath()
	if err != nil {
		return nil, err
	}
	return sim.Open(path, g.log.Named("sim"))
}

// openDriver opens the driver --driver names. close releases it.
func (g *globals) openDriver(ctx context.Context) (d driver.Driver, closeFn func() error, err error) {
	if g.driver == "sim" {
		h, err := g.openSim()
		if err != nil {
			return nil, nil, err
		}
		return h, h.Close, nil
	}
	return openHCS(ctx, hcs.Options{Owner: g.owner, DataDir: g.dataDir, RegistryConfig: g.registry, Logger: g.log.Named("hcs")})
}

// agentFile is the path of one of the files the agent of this owner keeps
// on this host (its lock, its removal ledger), named by its suffix: next
// to the emulated host's state, or in --data-dir. Its folder exists.
func (g *globals) agentFile(suffix string) (string, error) {
	owner := ownerFileName(g.owner) // any owner string makes one file name, on NTFS too
	var path string
	if g.driver == "sim" {
		state, err := g.simStatePath()
		if err != nil {
			return "", err
		}
		// Keyed on the state file itself: two paths to one state (a
		// symlink) are one host and take one lock.
		if state, err = sim.ResolveStatePath(state); err != nil {
			return "", err
		}
		path = state + ".agent-" + owner + suffix
	} else {
		path = filepath.Join(g.dataDir, "agent-"+owner+suffix)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, nil
}

// lockAgent takes the one-agent-per-owner lock of this host, or says who
// holds it.
func (g *globals) lockAgent() (*flock.Flock, error) {
	path, err := g.agentFile(".lock")
	if err != nil {
		return nil, err
	}
	l := flock.New(path)
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("another reconciler already manages the containers of owner %q on this host (lock %s is held); stop it first or use another --owner", g.owner, path)
	}
	return l, nil
}

// isTerminal reports whether w is a terminal that wants colour.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writeData prints v on stdout as indented JSON for -o json, or as YAML
// for -o yaml.
func (g *globals) writeData(v any) error {
	return g.writeEncoded(func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// writeEncoded runs writeJSON on stdout for -o json; for -o yaml it prints
// the same document as YAML (sigs.k8s.io/yaml: the JSON tags decide the
// names, so both outputs hold the same fields).
func (g *globals) writeEncoded(writeJSON func(io.Writer) error) error {
	if g.output != "yaml" {
		return writeJSON(g.stdout)
	}
	var doc bytes.Buffer
	if err := writeJSON(&doc); err != nil {
		return err
	}
	out, err := yaml.JSONToYAML(doc.Bytes())
	if err != nil {
		return err
	}
	_, err = g.stdout.Write(out)
	return err
}
