package reconcile

import (
	"strings"
	"testing"

	"github.com/reconciler/reconciler/spec"
)

func TestWriteValidation(t *testing.T) {
	host := spec.Host{Build: 17763, SKU: spec.SKUServer, HyperV: true}
	bad := spec.Problem{File: "web.yaml", Line: 3, Name: "web", Field: "spec.image", Message: "built for 10.0.20348"}
	vague := spec.Problem{File: "db.yaml", Name: "db", Message: "the image's OS version cannot be told", Warning: true}
	tests := []struct {
		name    string
		plan    Plan
		checked int
		color   bool
		want    string
	}{
		{
			name: "valid", plan: Plan{Host: host,
				// Actions are not shown: validate has no live state.
				Actions: []Action{{Kind: ActionCreate, Name: "web"}}},
			checked: 1,
			want:    "1 container(s) checked against Windows Server 2019 (10.0.17763): 0 error(s), 0 warning(s)\n",
		},
		{
			name: "errors then warnings", plan: Plan{Host: host, Errors: []spec.Problem{bad}, Warnings: []spec.Problem{vague}},
			checked: 2,
			want: "! web.yaml:3: web: spec.image: built for 10.0.20348\n" +
				"warning: db.yaml: db: the image's OS version cannot be told\n" +
				"2 container(s) checked against Windows Server 2019 (10.0.17763): 1 error(s), 1 warning(s)\n",
		},
		{
			name: "auto decisions first, grouped by isolation and reason, then problems",
			plan: Plan{Host: host, Warnings: []spec.Problem{vague}, Auto: []AutoIsolation{
				{Name: "api", Isolation: spec.IsolationHyperV, Reason: "image build 10.0.14393 (ltsc2016) cannot run with process isolation"},
				{Name: "db", Isolation: spec.IsolationProcess, Reason: "the host runs it"},
				{Name: "web", Isolation: spec.IsolationHyperV, Reason: "image build 10.0.14393 (ltsc2016) cannot run with process isolation"},
			}},
			checked: 3,
			want: "= isolation auto → hyperv for api, web: image build 10.0.14393 (ltsc2016) cannot run with process isolation\n" +
				"= isolation auto → process for db: the host runs it\n" +
				"warning: db.yaml: db: the image's OS version cannot be told\n" +
				"3 container(s) checked against Windows Server 2019 (10.0.17763): 0 error(s), 1 warning(s)\n",
		},
		{
			name: "colour", plan: Plan{Host: host, Errors: []spec.Problem{bad}, Warnings: []spec.Problem{vague}},
			checked: 2, color: true,
			want: colorRed + "! web.yaml:3: web: spec.image: built for 10.0.20348" + colorReset + "\n" +
				colorYellow + "warning: db.yaml: db: the image's OS version cannot be told" + colorReset + "\n" +
				"2 container(s) checked against Windows Server 2019 (10.0.17763): 1 error(s), 1 warning(s)\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteValidation(&b, tt.plan, tt.checked, tt.color); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

// TestWriteValidationProblemsAsWriteText: validate and reconcile show a
// plan's problems in the same words.
func TestWriteValidationProblemsAsWriteText(t *testing.T) {
	p := Plan{Host: spec.Host{Build: 20348, SKU: spec.SKUServer},
		Errors:   []spec.Problem{{File: "a.yaml", Line: 1, Message: "bad"}},
		Warnings: []spec.Problem{{File: "b.yaml", Message: "declares nothing", Warning: true}}}
	var text, validation strings.Builder
	if err := WriteText(&text, p, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteValidation(&validation, p, 0, false); err != nil {
		t.Fatal(err)
	}
	problems := 0
	for _, line := range strings.SplitAfter(validation.String(), "\n") {
		if strings.HasPrefix(line, "! ") || strings.HasPrefix(line, "warning: ") {
			problems++
			if !strings.Contains(text.String(), line) {
				t.Errorf("validate shows %q, reconcile does not:\n%s", line, text.String())
			}
		}
	}
	if problems != 2 {
		t.Errorf("validate shows %d problem lines, want 2:\n%s", problems, validation.String())
	}
}
