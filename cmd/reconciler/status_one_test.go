package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/spec"
)

func TestStatusOfOneContainer(t *testing.T) {
	state := filepath.Join(t.TempDir(), "host.json")
	if _, err := runSim(t, state, "reconcile", "../../examples/manifests"); err != nil {
		t.Fatal(err)
	}
	if _, err := runSim(t, state, "sim", "create", "other", "--image", "mcr.microsoft.com/windows/nanoserver:ltsc2022", "--owner", "docker"); err != nil {
		t.Fatal(err)
	}
	text, err := runSim(t, state, "status", "orders-api")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name:      orders-api\n", "owner:     reconciler (this agent's)\n", "isolation: process\n", "state:     running\n",
		"spec hash: v1-", " on host 10.0.20348", "spec (as created; env values hidden):\n", "    ORDERS_DB: (hidden)\n", "    hostPort: 8081\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("status orders-api does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "sql01") {
		t.Errorf("status shows an environment value:\n%s", text)
	}
	js, err := runSim(t, state, "-o", "json", "status", "orders-api")
	if err != nil {
		t.Fatal(err)
	}
	var detail containerDetail
	if err := json.Unmarshal([]byte(js), &detail); err != nil || detail.Name != "orders-api" || !detail.Managed || detail.Spec == nil ||
		detail.Spec.Env["ORDERS_DB"] != spec.HiddenValue || strings.Contains(js, "sql01") {
		t.Errorf("status -o json = %s (%v)", js, err)
	}
	if text, err := runSim(t, state, "status", "other"); err != nil || !strings.Contains(text, "owner:     docker (not this agent's: never touched)") {
		t.Errorf("status other = %q, %v", text, err)
	}
	if _, err := runSim(t, state, "status", "nope"); err == nil || !strings.Contains(err.Error(), `no compute system named "nope"`) {
		t.Errorf("status nope = %v", err)
	}
}
