package spec

import (
	"errors"
	"strings"
	"testing"
)

func TestPlacementAdmits(t *testing.T) {
	ws2022 := Host{Build: 20348, Revision: 2340, SKU: SKUServer}
	paris := HostFacts{Hostname: "WEB-01", Labels: map[string]string{"site": "paris", "tier": "front"}}
	tests := []struct {
		name        string
		p           Placement
		f           HostFacts
		want        bool
		wantWhy     string
		wantMissing string
	}{
		{name: "empty admits all", f: paris, want: true},
		{name: "hostname glob, any case", p: Placement{Hostnames: []string{"db-*", "web-*"}}, f: paris, want: true},
		{name: "hostname refused", p: Placement{Hostnames: []string{"db-*"}}, f: paris, wantWhy: `host name "WEB-01" matches none`},
		{name: "label glob", p: Placement{Labels: map[string]string{"site": "par*"}}, f: paris, want: true},
		{name: "label refused", p: Placement{Labels: map[string]string{"site": "lyon"}}, f: paris, wantWhy: `host label site="paris"`},
		{name: "label missing", p: Placement{Labels: map[string]string{"sit": "paris"}}, f: paris, wantWhy: "no label sit", wantMissing: "sit"},
		{name: "all criteria", p: Placement{Hostnames: []string{"web-0?"}, Labels: map[string]string{"tier": "front"}, OSBuilds: []string{"ltsc2022"}}, f: paris, want: true},
		{name: "build by number", p: Placement{OSBuilds: []string{"17763", "20348"}}, f: paris, want: true},
		{name: "build refused", p: Placement{OSBuilds: []string{"ltsc2019"}}, f: paris, wantWhy: "host OS 10.0.20348.2340 matches none"},
		{name: "revision must match when given", p: Placement{OSBuilds: []string{"10.0.20348.1"}}, f: paris, wantWhy: "matches none"},
		{name: "revision matches", p: Placement{OSBuilds: []string{"10.0.20348.2340"}}, f: paris, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, why, missing := tt.p.Admits(tt.f, ws2022)
			if ok != tt.want || !strings.Contains(why, tt.wantWhy) || strings.Join(missing, ",") != tt.wantMissing {
				t.Errorf("Admits = %v, %q, %v; want %v, %q, %q", ok, why, missing, tt.want, tt.wantWhy, tt.wantMissing)
			}
		})
	}
}

func TestPlaceOn(t *testing.T) {
	cs, ps := ParseData([]byte(`apiVersion: reconciler/v1
kind: Container
metadata: {name: everywhere}
spec: {image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022'}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: paris-only}
spec:
  image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022'
  placement: {labels: {site: paris}}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: gpu}
spec:
  image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022'
  placement: {labels: {gpu: 'yes'}}
`), "set.yaml")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	here, elsewhere, problems := PlaceOn(cs, HostFacts{Hostname: "lyon-01", Labels: map[string]string{"site": "lyon"}}, Host{Build: 20348})
	if len(here) != 1 || here[0].Metadata.Name != "everywhere" {
		t.Errorf("here = %v", here)
	}
	if len(elsewhere) != 2 || elsewhere[0].Container.Metadata.Name != "paris-only" || elsewhere[1].Container.Metadata.Name != "gpu" {
		t.Errorf("elsewhere = %v", elsewhere)
	}
	// A label the host lacks may be a typo: a warning, which holds removals.
	if len(problems) != 1 || !problems[0].Warning || problems[0].Name != "gpu" || !strings.Contains(problems[0].Message, "--host-label gpu=VALUE") {
		t.Errorf("problems = %v", problems)
	}
}

func TestPlacementValidated(t *testing.T) {
	_, ps := ParseData([]byte(`apiVersion: reconciler/v1
kind: Container
metadata: {name: web}
spec:
  image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022'
  placement:
    hostnames: ['web-[']
    labels: {site: '[x', '': a}
    osBuilds: [ltsc2033]
`), "web.yaml")
	got := renderProblems(ps)
	for _, want := range []string{
		`web.yaml:7: web: spec.placement.hostnames[0]: "web-[" is not a glob`,
		`spec.placement.labels["site"]: "[x" is not a glob`,
		`spec.placement.labels[""]: label keys must not be empty`,
		`web.yaml:9: web: spec.placement.osBuilds[0]: invalid OS version "ltsc2033"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestExpandPath(t *testing.T) {
	f := HostFacts{Hostname: "WEB-01", Labels: map[string]string{"site": "paris", "bad": "../x"}}
	h := Host{Build: 20348}
	tests := []struct{ tmpl, want, wantErr string }{
		{tmpl: "hosts/{hostname}", want: "hosts/web-01"},
		{tmpl: "b/{build}/{ltsc}/{label:site}", want: "b/20348/ltsc2022/paris"},
		{tmpl: "plain", want: "plain"},
		{tmpl: "hosts/{host}", wantErr: "{host}: unknown placeholder"},
		{tmpl: "sites/{label:zone}", wantErr: `no label "zone"; give it --host-label zone=VALUE`},
		{tmpl: "sites/{label:bad}", wantErr: "not one path element"},
		{tmpl: "hosts/{hostname", wantErr: "without its '}'"},
		{tmpl: "hosts/hostname}", wantErr: "without its '{'"},
	}
	for _, tt := range tests {
		got, err := ExpandPath(tt.tmpl, f, h)
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%s: %q, %v; want %q", tt.tmpl, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrPathTemplate)):
			t.Errorf("%s: error %v, want %q", tt.tmpl, err, tt.wantErr)
		}
	}
	if _, err := ExpandPath("{ltsc}", f, Host{Build: 22631, SKU: SKUClient}); err == nil || !strings.Contains(err.Error(), "not an LTSC release") {
		t.Errorf("{ltsc} on Windows 11: %v", err)
	}
}

func TestParseFleet(t *testing.T) {
	f, ps := ParseFleet([]byte(`hosts:
  - {name: paris-01, build: 17763, labels: {site: paris}}
  - {name: lyon-01, build: 10.0.20348.2340, sku: server}
  - {name: dev-01, build: win11-23H2, hyperv: false}
`), "fleet.yaml")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	want := []Host{{Build: 17763, SKU: SKUServer, HyperV: true}, {Build: 20348, Revision: 2340, SKU: SKUServer, HyperV: true}, {Build: 22631, SKU: SKUClient}}
	for i, h := range f.Hosts {
		if h.Host() != want[i] {
			t.Errorf("hosts[%d] = %+v, want %+v", i, h.Host(), want[i])
		}
	}
	if f.Hosts[0].Facts().Labels["site"] != "paris" {
		t.Errorf("facts %+v", f.Hosts[0].Facts())
	}

	_, ps = ParseFleet([]byte(`hosts:
  - {name: a, build: 20348}
  - {name: A, build: 99}
  - {name: b, build: 20348, sku: Server, labels: {'': x}}
  - {build: 20348, zone: x}
`), "fleet.yaml")
	got := renderProblems(ps)
	for _, want := range []string{
		`fleet.yaml:3: hosts[1].name: "A" is already hosts[0]`,
		`fleet.yaml:3: hosts[1].build: invalid OS version "99"`,
		`fleet.yaml:4: hosts[2].sku: must be one of server, client, not "Server"; did you mean "server"?`,
		`hosts[2].labels[""]: label keys must not be empty`,
		`fleet.yaml:5: hosts[3].zone: unknown field`,
		`fleet.yaml:5: hosts[3].name: is required`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if _, ps := ParseFleet([]byte("hosts: []\n"), "f.yaml"); len(ps) != 1 || ps[0].Field != "hosts" {
		t.Errorf("empty fleet: %v", ps)
	}
}
