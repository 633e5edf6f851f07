package statusapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
)

func TestReady(t *testing.T) {
	okSources := []reconcile.SourceReport{{Name: "dir /m"}}
	tests := []struct {
		name       string
		report     *reconcile.PassReport
		gitErr     string
		wantReady  bool
		wantReason string
	}{
		{name: "before the first pass", wantReason: "no pass has ended yet"},
		{name: "after a good pass", report: &reconcile.PassReport{Sources: okSources}, wantReady: true},
		{name: "a failed action is still ready", report: &reconcile.PassReport{Sources: okSources,
			Plan: reconcile.Plan{Actions: []reconcile.Action{{Status: reconcile.StatusFailed}}}}, wantReady: true},
		{name: "host unreadable", report: &reconcile.PassReport{Err: errors.New("timeout")}, wantReason: "could not read the host: timeout"},
		{name: "source unreadable", report: &reconcile.PassReport{Sources: []reconcile.SourceReport{{Name: "dir /m", Err: errors.New("gone")}}},
			wantReason: "source dir /m could not be read: gone"},
		{name: "git remote failing", report: &reconcile.PassReport{Sources: okSources}, gitErr: "remote unreachable",
			wantReason: "source git fake: remote unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStatus([]GitSource{&fakeGit{status: source.GitStatus{LastError: tt.gitErr}}}, fakeDriver{}, nil)
			if tt.report != nil {
				s.Report(*tt.report)
			}
			ready, reason := s.Ready()
			if ready != tt.wantReady || !strings.Contains(reason, tt.wantReason) {
				t.Errorf("Ready = %v %q, want %v %q", ready, reason, tt.wantReady, tt.wantReason)
			}
			rec := httptest.NewRecorder()
			s.serveReady(rec, httptest.NewRequest(http.MethodGet, ReadyPath, nil))
			if wantCode := map[bool]int{true: 200, false: 503}[tt.wantReady]; rec.Code != wantCode || !strings.Contains(rec.Body.String(), tt.wantReason) {
				t.Errorf("GET /readyz: %d %q, want %d with the reason", rec.Code, rec.Body, wantCode)
			}
		})
	}
}

func TestStatusShowsSourcesAndSuspension(t *testing.T) {
	s := NewStatus(nil, fakeDriver{}, nil)
	sp, err := LoadSuspension(filepath.Join(t.TempDir(), "s.json"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.ShowSuspension(sp)
	if _, err := sp.Suspend("patching"); err != nil {
		t.Fatal(err)
	}
	s.Report(reconcile.PassReport{Suspended: true, Sources: []reconcile.SourceReport{{Name: "git https://h/r@main", Revision: "c1"}, {Name: "dir /m", Err: errors.New("gone")}},
		Plan: reconcile.Plan{DryRun: true, Actions: []reconcile.Action{{Kind: reconcile.ActionCreate, Name: "web", Status: reconcile.StatusPlanned}}}})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	body := rec.Body.String()
	for _, want := range []string{`"suspended": true`, `"reason": "patching"`, `"name": "git https://h/r@main"`, `"revision": "c1"`,
		`"error": "gone"`, `"ready": false`, `"notReady": "source dir /m could not be read: gone"`, `"status": "planned"`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /status lacks %s:\n%s", want, body)
		}
	}
}
