package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/testfixture"
)

// get fetches http://addr+path and returns its status and body.
func get(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// scrape reads the agent's /metrics as Prometheus does.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, addr, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("GET /metrics is not the Prometheus text format: %v", err)
	}
	return fams
}

// value is the value of the series of family name whose labels include
// labels; ok is false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
series:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, want := range labels {
			if have[k] != want {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

// kill kills the agent (no Ctrl+Break needed, which Wine lacks) and
// waits for its end.
func (a *agent) kill() {
	a.t.Helper()
	if err := a.cmd.Process.Kill(); err != nil {
		a.t.Fatal(err)
	}
	a.done <- <-a.done // waited for; kept for the cleanup
}

// passes counts the passes the agent has logged as done.
func (a *agent) passes() int { return len(a.stderr.logLines("pass done")) }

// waitPasses waits until n more passes than before are done.
func (a *agent) waitPasses(what string, before, n int) {
	a.t.Helper()
	a.waitOutput(fmt.Sprintf("%d passes %s", n, what), func(string) bool { return a.passes() >= before+n })
}

func TestAPIMetricsAfterPasses(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	for _, n := range []string{"web", "db"} {
		write(t, filepath.Join(dir, n+".yaml"), testfixture.Manifest(n, ltsc2022, "process"))
	}
	a := e.start("--dir", dir, "--listen", "127.0.0.1:0", "--resync", "200ms")
	addr, _ := a.waitLog("listening")["address"].(string)
	e.eventually("web and db run", runs("web", "db"))
	a.waitPasses("after both run", 0, 2)

	if code, body := get(t, addr, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("GET /healthz: %d %q", code, body)
	}
	if code, body := get(t, addr, "/readyz"); code != 200 {
		t.Errorf("GET /readyz after passes: %d %q, want 200", code, body)
	}
	fams := scrape(t, addr)
	for _, name := range []string{"reconciler_passes_total", "reconciler_pass_duration_seconds", "reconciler_actions_total",
		"reconciler_drift_total", "reconciler_containers", "reconciler_source_info", "reconciler_source_up",
		"reconciler_last_success_timestamp_seconds", "reconciler_removals_held", "reconciler_suspended",
		"reconciler_manifest_problems", "go_goroutines", "process_start_time_seconds"} {
		if fams[name] == nil {
			t.Errorf("GET /metrics has no %s", name)
		}
	}
	want := []struct {
		name   string
		labels map[string]string
		check  func(float64) bool
		says   string
	}{
		{"reconciler_actions_total", map[string]string{"kind": "create", "outcome": "done"}, eq(2), "2 creates done"},
		{"reconciler_actions_total", map[string]string{"kind": "create", "outcome": "failed"}, eq(0), "no create failed"},
		{"reconciler_containers", map[string]string{"isolation": "process", "state": "running"}, eq(2), "2 running process-isolated"},
		{"reconciler_source_info", map[string]string{"source": "dir " + dir, "revision": ""}, eq(1), "the folder source"},
		{"reconciler_source_up", map[string]string{"source": "dir " + dir}, eq(1), "the folder source read"},
		{"reconciler_removals_held", nil, eq(0), "nothing held"},
		{"reconciler_suspended", nil, eq(0), "not suspended"},
		{"reconciler_drift_total", map[string]string{"kind": "stopped"}, eq(0), "no drift yet"},
		{"reconciler_passes_total", map[string]string{"result": "success"}, atLeast(2), "2 passes or more succeeded"},
		{"reconciler_passes_total", map[string]string{"result": "error"}, eq(0), "no pass failed to read the host"},
		{"reconciler_pass_duration_seconds", nil, atLeast(2), "2 passes or more timed"},
		{"reconciler_last_success_timestamp_seconds", nil, atLeast(1.7e9), "a last success time"},
	}
	for _, w := range want {
		if v, ok := value(fams, w.name, w.labels); !ok || !w.check(v) {
			t.Errorf("%s%v = %v (present: %v), want %s", w.name, w.labels, v, ok, w.says)
		}
	}

	// Behind the agent's back: db exits, web vanishes. Each is drift,
	// counted once, whatever the resyncs after.
	if _, err := e.run("sim", "kill", "db"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.run("sim", "rm", "web"); err != nil {
		t.Fatal(err)
	}
	e.eventually("db and web restored", func(m map[string]driver.System) bool {
		return m["db"].State == driver.StateRunning && m["web"].State == driver.StateRunning
	})
	a.waitPasses("after the restore", a.passes(), 3)
	fams = scrape(t, addr)
	for kind, n := range map[string]float64{"stopped": 1, "vanished": 1, "duplicate": 0} {
		if v, _ := value(fams, "reconciler_drift_total", map[string]string{"kind": kind}); v != n {
			t.Errorf("reconciler_drift_total{kind=%q} = %v, want %v", kind, v, n)
		}
	}
}

func eq(want float64) func(float64) bool      { return func(v float64) bool { return v == want } }
func atLeast(want float64) func(float64) bool { return func(v float64) bool { return v >= want } }

// hookReceiver is a generic notification webhook in the test.
type hookReceiver struct {
	mu     sync.Mutex
	events []map[string]any
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var e map[string]any
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.events = append(h.events, e)
	h.mu.Unlock()
}

func (h *hookReceiver) kinds() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		out = append(out, fmt.Sprint(e["event"]))
	}
	return out
}

func TestNotificationsOnFailureAndRecoveryNotPerResync(t *testing.T) {
	rec := &hookReceiver{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	e := newEnv(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "db.yaml"), testfixture.Manifest("db", ltsc2022, "process"))
	write(t, filepath.Join(dir, "web.yaml"), testfixture.Manifest("web", ltsc2022, "process")+"  env: {DB_PASSWORD: hunter2}\n")
	if _, err := e.run("sim", "fault", "--fail", "web"); err != nil {
		t.Fatal(err)
	}
	a := e.start("--dir", dir, "--resync", "200ms", "--notify", "webhook="+srv.URL+"/hook?token=s3cret")
	e.eventually("db runs", runs("db"))
	// Several resyncs, each failing to create web.
	a.waitOutput("5 passes with web failing", func(string) bool {
		n := 0
		for _, p := range a.stderr.logLines("pass done") {
			if p["failed"] == 1.0 {
				n++
			}
		}
		return n >= 5
	})
	if !testfixture.Eventually(t, func() bool { return len(rec.kinds()) >= 1 }) {
		t.Fatal("no notification of the failure")
	}
	if _, err := e.run("sim", "fault", "--clear"); err != nil {
		t.Fatal(err)
	}
	e.eventually("web runs", runs("db", "web"))
	if !testfixture.Eventually(t, func() bool { return len(rec.kinds()) >= 2 }) {
		t.Fatalf("no notification of the recovery: %v", rec.kinds())
	}
	a.waitPasses("after the recovery", a.passes(), 3)
	if got := rec.kinds(); len(got) != 2 || got[0] != "failed" || got[1] != "recovered" {
		t.Fatalf("notifications %v, want one failed and one recovered over every resync", got)
	}
	rec.mu.Lock()
	failed := rec.events[0]
	rec.mu.Unlock()
	if c, _ := failed["containers"].([]any); len(c) != 1 || c[0] != "web" || failed["owner"] != "reconciler" || failed["host"] == "" || failed["time"] == "" {
		t.Errorf("failure notification %v, want web, the owner, the host and the time", failed)
	}
	if reasons := fmt.Sprint(failed["reasons"]); !strings.Contains(reasons, "web") {
		t.Errorf("failure reasons %s, want web's", reasons)
	}
	log := a.stderr.String()
	for _, secret := range []string{"hunter2", "s3cret"} {
		if strings.Contains(log, secret) || strings.Contains(fmt.Sprint(rec.events), secret) {
			t.Errorf("%q appears in the agent's log or a notification", secret)
		}
	}
}

func TestSuspendPlansWithoutApplyingUntilResumed(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	token := filepath.Join(t.TempDir(), "api-token")
	write(t, token, "t0ken-for-tests\n")
	write(t, filepath.Join(dir, "web.yaml"), testfixture.Manifest("web", ltsc2022, "process"))
	args := []string{"--dir", dir, "--listen", "127.0.0.1:0", "--api-token-file", token}
	a := e.start(args...)
	addr, _ := a.waitLog("listening")["address"].(string)
	e.eventually("web runs", hostIs(map[string]string{"web": "process"}))

	// Without the token, or with a wrong one: refused, nothing changes.
	wrong := filepath.Join(t.TempDir(), "wrong")
	write(t, wrong, "guess\n")
	for _, extra := range [][]string{nil, {"--token-file", wrong}} {
		_, err := e.run(append([]string{"suspend", "--agent", addr}, extra...)...)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("suspend %v: %v, want a 401 refusal", extra, err)
		}
	}
	if code, body := get(t, addr, "/status"); code != 200 || strings.Contains(body, `"suspended": true`) {
		t.Fatalf("GET /status after refused suspends: %d %s", code, body)
	}

	out, err := e.run("suspend", "--agent", addr, "--token-file", token, "--reason", "patching")
	if err != nil || !strings.Contains(out, "suspended since") {
		t.Fatalf("suspend: %q, %v", out, err)
	}
	write(t, filepath.Join(dir, "web.yaml"), testfixture.Manifest("web", ltsc2022, "hyperv"))
	a.waitLogs("a suspended pass plans web's recreate", isMsg("agent suspended: passes plan and report, apply nothing, until resumed"),
		func(l map[string]any) bool {
			return l["msg"] == "pass done" && l["suspended"] == true && l["recreated"] == 1.0
		})
	var st struct {
		Suspension struct {
			Suspended bool   `json:"suspended"`
			Reason    string `json:"reason"`
		} `json:"suspension"`
		Plan struct {
			Actions []map[string]any `json:"actions"`
		} `json:"plan"`
	}
	_, body := get(t, addr, "/status")
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Suspension.Suspended || st.Suspension.Reason != "patching" || len(st.Plan.Actions) != 1 ||
		st.Plan.Actions[0]["action"] != "recreate" || st.Plan.Actions[0]["status"] != "planned" {
		t.Errorf("GET /status while suspended: %s\nwant suspended (patching) and web's recreate planned", body)
	}
	if m := e.systems(); m["web"].Isolation != "process" {
		t.Fatalf("a suspended agent applied: web is %s", m["web"].Isolation)
	}
	if fams := scrape(t, addr); fams["reconciler_suspended"].GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Errorf("reconciler_suspended is not 1 while suspended")
	}

	// The suspension outlives the agent, even killed.
	a.kill()
	a = e.start(args...)
	addr, _ = a.waitLog("listening")["address"].(string)
	a.waitLogs("the restarted agent is suspended and plans only", isMsg("agent suspended: passes plan and report, apply nothing, until `reconciler resume`"),
		func(l map[string]any) bool { return l["msg"] == "pass done" && l["suspended"] == true })
	if m := e.systems(); m["web"].Isolation != "process" {
		t.Fatalf("a restarted suspended agent applied: web is %s", m["web"].Isolation)
	}

	out, err = e.run("resume", "--agent", addr, "--token-file", token)
	if err != nil || !strings.Contains(out, "not suspended") {
		t.Fatalf("resume: %q, %v", out, err)
	}
	e.eventually("web is recreated with hyperv", hostIs(map[string]string{"web": "hyperv"}))
	if _, err := os.Stat(token); err != nil {
		t.Fatal(err)
	}
}
