package test

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The GitHub Action (action.yml) and the GitLab template
// (ci/gitlab/reconciler.gitlab-ci.yml) are run here as their runners would
// run them: their own shell lines, with the inputs set, the built binary
// in place of the release download (their `binary` input).

// ciCase is one use of the CI integration and what it must show.
type ciCase struct {
	name      string
	manifests map[string]string // file → content, in the repository checked out
	hostOS    string
	against   bool // plan against a snapshot of a host already running the manifests
	fleet     string
	wantFail  bool
	// wantChanges is the Action's `changes` output.
	wantChanges bool
	// wantSummary are lines of the Markdown plan.
	wantSummary []string
}

const ciWeb = `apiVersion: reconciler/v1
kind: Container
metadata: {name: web}
spec:
  image: mcr.microsoft.com/windows/servercore:ltsc2022
  isolation: process
`

var ciCases = []ciCase{
	{name: "changes pending", manifests: map[string]string{"hosts/web1/web.yaml": ciWeb}, hostOS: "ltsc2022", wantChanges: true,
		wantSummary: []string{"### reconciler: 1 to create, 0 to recreate, 0 to remove, 0 unchanged; 0 error(s), 0 warning(s)",
			"| + | web | create | process | `mcr.microsoft.com/windows/servercore:ltsc2022` | not running (web.yaml:1) | planned |"}},
	{name: "against a host that runs them already", manifests: map[string]string{"hosts/web1/web.yaml": ciWeb}, hostOS: "ltsc2022", against: true,
		wantSummary: []string{"### reconciler: 0 to create, 0 to recreate, 0 to remove, 1 unchanged; 0 error(s), 0 warning(s)", "Unchanged (1): web"}},
	{name: "an image the host cannot run fails", manifests: map[string]string{"hosts/web1/web.yaml": ciWeb}, hostOS: "ltsc2019", wantFail: true,
		wantSummary: []string{"### reconciler: 0 to create, 0 to recreate, 0 to remove, 0 unchanged; 1 error(s), 0 warning(s)",
			"- `web.yaml:1` web: image build 10.0.20348 (ltsc2022) is newer than the host Windows Server 2019 (10.0.17763)"}},
	{name: "an invalid manifest fails", hostOS: "ltsc2022", wantFail: true,
		manifests:   map[string]string{"hosts/web1/web.yaml": strings.Replace(ciWeb, "isolation: process", "isolation: hyper-v", 1)},
		wantSummary: []string{"- `web.yaml:6` web: spec.isolation: must be one of process, hyperv, default, auto, not \"hyper-v\""}},
	{name: "a client host needs no sku", manifests: map[string]string{"hosts/web1/web.yaml": ciWeb}, hostOS: "win11-24H2", wantChanges: true,
		wantSummary: []string{"Host: build 26100.0, client, default isolation hyperv"}},
	{name: "fleet", manifests: map[string]string{"hosts/web1/web.yaml": ciWeb}, hostOS: "ltsc2022", wantChanges: true,
		fleet:       "hosts:\n  - {name: web1, build: 20348, sku: server}\n",
		wantSummary: []string{"### reconciler: 1 to create"}},
}

// setUp lays out the case's repository in dir and returns the inputs
// every CI integration takes, by the Action's input names.
func (c ciCase) setUp(t *testing.T, dir string) map[string]string {
	t.Helper()
	for name, content := range c.manifests {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inputs := map[string]string{"path": "hosts/web1", "host-os": c.hostOS, "binary": binary}
	if c.fleet != "" {
		inputs["fleet"] = filepath.Join(dir, "fleet.yaml")
		if err := os.WriteFile(inputs["fleet"], []byte(c.fleet), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if c.against {
		// The snapshot of a host that runs the manifests: taken with
		// `status -o json` there, as the README says.
		state := filepath.Join(t.TempDir(), "host.json")
		for _, args := range [][]string{{"sim", "host", "--host-os", c.hostOS}, {"reconcile", "hosts/web1"}} {
			runReconciler(t, dir, state, args...)
		}
		inputs["against"] = filepath.Join(dir, "snapshot.json")
		if err := os.WriteFile(inputs["against"], runReconciler(t, dir, state, "status", "-o", "json"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return inputs
}

// check checks what a CI run showed: its failure, the Markdown plan, the
// JSON plan.
func (c ciCase) check(t *testing.T, failed bool, summary, planJSON string) {
	t.Helper()
	if failed != c.wantFail {
		t.Errorf("failed = %v, want %v\nsummary:\n%s", failed, c.wantFail, summary)
	}
	for _, want := range c.wantSummary {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
	}
	var plan struct {
		DryRun  *bool             `json:"dryRun"`
		Actions []json.RawMessage `json:"actions"`
	}
	if err := json.Unmarshal([]byte(planJSON), &plan); err != nil || plan.DryRun == nil || !*plan.DryRun {
		t.Errorf("the JSON plan is not a dry run's plan (%v):\n%s", err, planJSON)
	}
}

// ciSkip skips where the runners' shell is missing (the Windows build of
// these tests, under Wine).
func ciSkip(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the CI integration runs on Linux runners")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
}

// TestGitHubAction runs the steps of action.yml as a GitHub runner does:
// each run: script with `bash --noprofile --norc -eo pipefail`, its env:
// with the ${{ }} expressions evaluated, GITHUB_PATH, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files, a step's if: honoured after a failure; the
// upload step's paths must be the plan files.
func TestGitHubAction(t *testing.T) {
	ciSkip(t)
	var action struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Using string          `yaml:"using"`
			Steps []actionStepDef `yaml:"steps"`
		} `yaml:"runs"`
	}
	readYAML(t, "../action.yml", &action)
	if action.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", action.Runs.Using)
	}
	for _, c := range ciCases {
		t.Run(c.name, func(t *testing.T) {
			repo := t.TempDir()
			inputs := c.setUp(t, repo)
			for name, in := range action.Inputs {
				if _, ok := inputs[name]; !ok {
					inputs[name] = in.Default
				}
			}
			r := &actionRun{t: t, repo: repo, inputs: inputs, temp: t.TempDir(), outputs: map[string]map[string]string{}}
			r.summary = filepath.Join(r.temp, "summary.md")
			uploaded := false
			for _, step := range action.Runs.Steps {
				if !r.shouldRun(step.If) {
					continue
				}
				if step.Uses != "" {
					r.checkUpload(step)
					uploaded = true
					continue
				}
				r.runStep(step)
			}
			summary, _ := os.ReadFile(r.summary)
			planJSON, _ := os.ReadFile(r.outputs["plan"]["plan-json"])
			c.check(t, r.failed, string(summary), string(planJSON))
			if want := map[bool]string{true: "true", false: "false"}[c.wantChanges]; r.outputs["plan"]["changes"] != want {
				t.Errorf("output changes = %q, want %q", r.outputs["plan"]["changes"], want)
			}
			if !uploaded {
				t.Errorf("the plan was not uploaded")
			}
		})
	}
}

// actionStepDef is one step of a composite action.
type actionStepDef struct {
	Name  string            `yaml:"name"`
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Shell string            `yaml:"shell"`
	Env   map[string]string `yaml:"env"`
	Run   string            `yaml:"run"`
	Uses  string            `yaml:"uses"`
	With  map[string]string `yaml:"with"`
}

// actionRun is the state of one run of the action: the GitHub runner's
// part.
type actionRun struct {
	t                   *testing.T
	repo, temp, summary string
	inputs              map[string]string
	path                []string // GITHUB_PATH entries, newest first
	outputs             map[string]map[string]string
	failed              bool
}

var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// eval evaluates the ${{ }} expressions of s that the action uses: an
// `a || b` of inputs.*, github.*, runner.*, steps.*.outputs.* and 'text'.
func (r *actionRun) eval(s string) string {
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		for term := range strings.SplitSeq(expression.FindStringSubmatch(m)[1], "||") {
			if v := r.value(strings.TrimSpace(term)); v != "" {
				return v
			}
		}
		return ""
	})
}

// value is one term of an expression.
func (r *actionRun) value(term string) string {
	switch {
	case strings.HasPrefix(term, "'") && strings.HasSuffix(term, "'"):
		return strings.Trim(term, "'")
	case strings.HasPrefix(term, "inputs."):
		v, ok := r.inputs[strings.TrimPrefix(term, "inputs.")]
		if !ok {
			r.t.Fatalf("action.yml uses %s, which is not one of its inputs", term)
		}
		return v
	case term == "runner.temp":
		return r.temp
	case term == "runner.arch":
		return map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
	case term == "github.action_ref", term == "github.action_repository":
		return "" // a local action (uses: ./): the binary input is set
	case strings.HasPrefix(term, "steps."):
		parts := strings.Split(term, ".") // steps.ID.outputs.NAME
		if len(parts) != 4 || parts[2] != "outputs" {
			r.t.Fatalf("action.yml: unknown expression %q", term)
		}
		return r.outputs[parts[1]][parts[3]]
	}
	r.t.Fatalf("action.yml: unknown expression %q", term)
	return ""
}

// shouldRun evaluates a step's if: as the runner does: without one a step
// runs while nothing failed; with !cancelled() or always() it runs after a
// failure too, and its other conditions (X != ”) must hold.
func (r *actionRun) shouldRun(cond string) bool {
	cond = strings.TrimSpace(cond)
	if cond == "" {
		return !r.failed
	}
	cond = strings.TrimSuffix(strings.TrimPrefix(cond, "${{"), "}}")
	ok := !r.failed
	for c := range strings.SplitSeq(cond, "&&") {
		c = strings.TrimSpace(c)
		switch {
		case c == "!cancelled()", c == "always()":
			ok = true
		case strings.HasSuffix(c, "!= ''"):
			if r.value(strings.TrimSpace(strings.TrimSuffix(c, "!= ''"))) == "" {
				return false
			}
		default:
			r.t.Fatalf("action.yml: unknown condition %q", c)
		}
	}
	return ok
}

// runStep runs one run: step and reads back its GITHUB_OUTPUT and
// GITHUB_PATH.
func (r *actionRun) runStep(step actionStepDef) {
	t := r.t
	if step.Shell != "bash" {
		t.Fatalf("step %q: shell %q, want bash", step.Name, step.Shell)
	}
	script := filepath.Join(r.temp, "step.sh")
	outFile, pathFile := filepath.Join(r.temp, "output"), filepath.Join(r.temp, "path")
	for _, f := range []string{outFile, pathFile} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(script, []byte(step.Run), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir = r.repo
	cmd.Env = append(ciBaseEnv(strings.Join(append(r.path, os.Getenv("PATH")), string(os.PathListSeparator))),
		"GITHUB_STEP_SUMMARY="+r.summary, "GITHUB_OUTPUT="+outFile, "GITHUB_PATH="+pathFile,
		"RUNNER_TEMP="+r.temp, "GITHUB_WORKSPACE="+r.repo)
	for k, v := range step.Env {
		cmd.Env = append(cmd.Env, k+"="+r.eval(v))
	}
	out, err := cmd.CombinedOutput()
	t.Logf("step %q:\n%s", step.Name, out)
	if err != nil {
		if _, ok := errors.AsType[*exec.ExitError](err); !ok {
			t.Fatal(err)
		}
		r.failed = true
	}
	if step.ID != "" {
		r.outputs[step.ID] = readKeyValues(t, outFile)
	}
	for _, p := range readLines(t, pathFile) {
		r.path = append([]string{p}, r.path...)
	}
}

// checkUpload checks the one uses: step, the artifact upload: it uploads
// the plan files, and they are there.
func (r *actionRun) checkUpload(step actionStepDef) {
	t := r.t
	if !strings.HasPrefix(step.Uses, "actions/upload-artifact@") {
		t.Fatalf("step %q uses %s: only the artifact upload is expected", step.Name, step.Uses)
	}
	if r.eval(step.With["name"]) == "" {
		t.Errorf("the artifact has no name")
	}
	var files []string
	for line := range strings.SplitSeq(r.eval(step.With["path"]), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			files = append(files, filepath.Base(line))
			if _, err := os.Stat(line); err != nil {
				t.Errorf("the artifact's file: %v", err)
			}
		}
	}
	if strings.Join(files, " ") != "plan.json plan.md" {
		t.Errorf("the artifact holds %v, want plan.json and plan.md", files)
	}
}

// TestGitLabTemplate runs the job of ci/gitlab/reconciler.gitlab-ci.yml as
// a GitLab runner does: its variables (the case's set over the
// template's), before_script and script in one bash, in $CI_PROJECT_DIR.
func TestGitLabTemplate(t *testing.T) {
	ciSkip(t)
	var tmpl map[string]struct {
		Variables    map[string]string `yaml:"variables"`
		BeforeScript []string          `yaml:"before_script"`
		Script       []string          `yaml:"script"`
		Artifacts    struct {
			Paths []string `yaml:"paths"`
		} `yaml:"artifacts"`
	}
	readYAML(t, "../ci/gitlab/reconciler.gitlab-ci.yml", &tmpl)
	job, ok := tmpl["reconciler-plan"]
	if !ok {
		t.Fatal("the template has no reconciler-plan job")
	}
	for _, c := range ciCases {
		t.Run(c.name, func(t *testing.T) {
			repo := t.TempDir()
			inputs := c.setUp(t, repo)
			vars := map[string]string{}
			for k, v := range job.Variables {
				vars[k] = v
			}
			for input, v := range inputs {
				vars["RECONCILER_"+strings.ToUpper(strings.ReplaceAll(input, "-", "_"))] = v
			}
			cmd := exec.Command("bash", "-c", strings.Join(append(job.BeforeScript, job.Script...), "\n"))
			cmd.Dir = repo
			cmd.Env = append(ciBaseEnv(os.Getenv("PATH")), "CI_PROJECT_DIR="+repo)
			for k, v := range vars {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			t.Logf("job:\n%s", out)
			if _, ok := errors.AsType[*exec.ExitError](err); err != nil && !ok {
				t.Fatal(err)
			}
			for _, p := range job.Artifacts.Paths {
				if _, err := os.Stat(filepath.Join(repo, p)); err != nil {
					t.Errorf("artifact: %v", err)
				}
			}
			summary, _ := os.ReadFile(filepath.Join(repo, "plan.md"))
			if !strings.Contains(string(out), string(summary)) {
				t.Errorf("the job log lacks the Markdown plan")
			}
			planJSON, _ := os.ReadFile(filepath.Join(repo, "plan.json"))
			c.check(t, err != nil, string(summary), string(planJSON))
		})
	}
}

// ciBaseEnv is a runner's environment: PATH and HOME, and no RECONCILER_*
// variable of the test process.
func ciBaseEnv(path string) []string {
	env := []string{"PATH=" + path, "HOME=" + os.Getenv("HOME"), "NO_COLOR=1"}
	if v, ok := os.LookupEnv("GORACE"); ok {
		env = append(env, "GORACE="+v)
	}
	return env
}

// runReconciler runs the binary in dir on the emulated host of state and
// returns its stdout.
func runReconciler(t *testing.T, dir, state string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(ciBaseEnv(os.Getenv("PATH")), "RECONCILER_DRIVER=sim", "RECONCILER_SIM_STATE="+state)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reconciler %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// binaryHasFlag reports whether `reconciler CMD --help` lists flag.
func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// readKeyValues reads a GITHUB_OUTPUT file of name=value lines.
func readKeyValues(t *testing.T, path string) map[string]string {
	t.Helper()
	kv := map[string]string{}
	for _, l := range readLines(t, path) {
		if k, v, ok := strings.Cut(l, "="); ok {
			kv[k] = v
		}
	}
	return kv
}
