package test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/testfixture"
)

// heldLog matches the agent's log line of a hold of exactly names.
func heldLog(names ...string) func(map[string]any) bool {
	return func(line map[string]any) bool {
		if line["msg"] != "removals held" {
			return false
		}
		got, _ := line["names"].([]any)
		return slices.Equal(got, toAny(names))
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// runs holds when the host runs exactly names.
func runs(names ...string) func(map[string]driver.System) bool {
	return func(m map[string]driver.System) bool {
		return len(m) == len(names) && !slices.ContainsFunc(names, func(n string) bool { _, ok := m[n]; return !ok })
	}
}

func TestWatchHoldsOneByOneRemovalsUntilApproved(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	var names []string
	for i := range 12 {
		names = append(names, fmt.Sprintf("app-%02d", i))
		write(t, filepath.Join(dir, names[i]+".yaml"), testfixture.Manifest(names[i], ltsc2022, "process"))
	}
	token := filepath.Join(t.TempDir(), "api-token")
	write(t, token, "approve-token\n")
	a := e.start("--dir", dir, "--listen", "127.0.0.1:0", "--resync", "200ms", "--api-token-file", token)
	addr, _ := a.waitLog("listening")["address"].(string)
	e.eventually("all 12 run", runs(names...))

	// One file at a time, each removal seen before the next deletion: six
	// go (half of twelve), then removals are held.
	for i := range 6 {
		if err := os.Remove(filepath.Join(dir, names[i]+".yaml")); err != nil {
			t.Fatal(err)
		}
		e.eventually(names[i]+" is removed", runs(names[i+1:]...))
	}
	for _, n := range names[6:8] {
		if err := os.Remove(filepath.Join(dir, n+".yaml")); err != nil {
			t.Fatal(err)
		}
	}
	// Three resyncs after the hold: still held, and logged once.
	a.waitLogs("app-06 and app-07 are held, and three more passes ran", heldLog("app-06", "app-07"), isMsg("pass done"), isMsg("pass done"), isMsg("pass done"))
	if !runs(names[6:]...)(e.systems()) {
		t.Fatalf("a held removal was carried out: the host has %v", keys(e.systems()))
	}
	if n := len(slices.DeleteFunc(a.stderr.jsonLines(), func(l map[string]any) bool { return !heldLog("app-06", "app-07")(l) })); n != 1 {
		t.Errorf("the hold was logged %d times, want once", n)
	}
	hold := statusActions(t, addr)
	if len(hold) != 2 || hold[0]["status"] != "held" || !strings.Contains(fmt.Sprint(hold[1]["holdReason"]), "within 10m0s") {
		t.Errorf("GET /status actions %v, want app-06 and app-07 held", hold)
	}

	// A restart opens no new window: the removals stay held.
	if err := a.stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	a = e.start("--dir", dir, "--listen", "127.0.0.1:0", "--resync", "200ms", "--api-token-file", token)
	addr, _ = a.waitLog("listening")["address"].(string)
	a.waitLogs("the restarted agent holds app-06 and app-07", heldLog("app-06", "app-07"), isMsg("pass done"))
	if !runs(names[6:]...)(e.systems()) {
		t.Fatalf("a restart carried out a held removal: the host has %v", keys(e.systems()))
	}

	// Approve without a restart: exactly those two go.
	if _, err := e.run("removals", "approve", "--agent", addr); err == nil || !strings.Contains(err.Error(), "API token") {
		t.Errorf("an approval without the token: %v, want it refused", err)
	}
	out, err := e.run("removals", "approve", "--agent", addr, "--token-file", token)
	if err != nil {
		t.Fatal(err)
	}
	if want := "approved 2 removal(s): app-06, app-07"; !strings.Contains(out, want) {
		t.Errorf("approve printed %q, want %q", out, want)
	}
	e.eventually("the approved removals are carried out", runs(names[8:]...))
	a.waitLogs("the hold ends", isMsg("removals approved: the next pass carries them out"), isMsg("removals no longer held"))
	out, err = e.run("removals", "approve", "--agent", addr, "--token-file", token)
	if err != nil || !strings.Contains(out, "nothing approved") {
		t.Errorf("a second approval: %q, %v; want nothing approved", out, err)
	}
	if !runs(names[8:]...)(e.systems()) {
		t.Errorf("the host has %v, want %v", keys(e.systems()), names[8:])
	}
}

// statusActions returns the actions of the last plan in the agent's GET
// /status.
func statusActions(t *testing.T, addr string) []map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		Plan struct {
			Actions []map[string]any `json:"actions"`
		} `json:"plan"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s.Plan.Actions
}
