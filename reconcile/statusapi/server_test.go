package statusapi

import (
	"cmp"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/reconcile"
)

// fakeApprover approves every removal it is asked for and records them.
type fakeApprover struct{ asked [][]string }

func (a *fakeApprover) ApproveRemovals(names []string) ([]string, error) {
	a.asked = append(a.asked, names)
	return names, nil
}

func TestRoutes(t *testing.T) {
	const secret, token = "s3cret", "t0ken"
	// The webhook's authentication is source's (tested there): the
	// GitLab-style token is enough to see the mount.
	signed := map[string]string{"X-Gitlab-Token": secret}
	jsonBody := map[string]string{"Content-Type": "application/json"}
	withToken := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}
	wrongToken := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer guess"}
	fromPage := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token, "Origin": "http://evil.example"}
	tests := []struct {
		name        string
		noGit       bool
		noSecret    bool
		noToken     bool
		ownerOnly   bool
		remote      string // 127.0.0.1:50000 unless set
		method      string
		path        string
		body        string
		header      map[string]string
		wantCode    int
		wantAllow   string // in the Allow header of a 405
		wantBody    string // contained in the answer
		wantTrigger int    // git triggers
		wantApprove bool
		wantSuspend bool
	}{
		{name: "status", method: "GET", path: "/status", wantCode: 200, wantBody: `"lastPass"`},
		{name: "status HEAD", method: "HEAD", path: "/status", wantCode: 200},
		{name: "status POST", method: "POST", path: "/status", wantCode: 405, wantAllow: "GET"},
		{name: "status DELETE", method: "DELETE", path: "/status", wantCode: 405, wantAllow: "GET"},
		{name: "status from anywhere", remote: "192.0.2.1:4000", method: "GET", path: "/status", wantCode: 200},
		{name: "healthz", method: "GET", path: "/healthz", wantCode: 200, wantBody: "ok\n"},
		{name: "healthz PUT", method: "PUT", path: "/healthz", wantCode: 405, wantAllow: "GET"},
		{name: "readyz before a pass", method: "GET", path: "/readyz", wantCode: 503, wantBody: "no pass has ended yet"},
		{name: "metrics", method: "GET", path: "/metrics", wantCode: 200, wantBody: "reconciler_passes_total"},
		{name: "approve", method: "POST", path: reconcile.ApprovalPath, body: `{"names":["a"]}`,
			header: withToken, wantCode: 200, wantBody: `"approved":["a"]`, wantApprove: true},
		{name: "approve without token", method: "POST", path: reconcile.ApprovalPath, body: `{"names":["a"]}`,
			header: jsonBody, wantCode: 401, wantBody: "API token"},
		{name: "approve wrong token", method: "POST", path: reconcile.ApprovalPath, body: `{"names":["a"]}`,
			header: wrongToken, wantCode: 401},
		{name: "approve from a web page", method: "POST", path: reconcile.ApprovalPath, body: `{}`,
			header: fromPage, wantCode: 403, wantBody: "Origin"},
		{name: "approve from afar", remote: "192.0.2.1:4000", method: "POST", path: reconcile.ApprovalPath, body: `{}`,
			header: withToken, wantCode: 403, wantBody: "this host only"},
		{name: "approve on TCP with no token configured", noToken: true, method: "POST", path: reconcile.ApprovalPath,
			body: `{}`, header: jsonBody, wantCode: 403, wantBody: "--api-token-file"},
		{name: "approve on an owner-only socket", noToken: true, ownerOnly: true, remote: "@", method: "POST",
			path: reconcile.ApprovalPath, body: `{"names":["a"]}`, header: jsonBody, wantCode: 200, wantApprove: true},
		{name: "approve on a socket checks a token it has", ownerOnly: true, remote: "@", method: "POST",
			path: reconcile.ApprovalPath, body: `{}`, header: jsonBody, wantCode: 401},
		{name: "approve GET", method: "GET", path: reconcile.ApprovalPath, wantCode: 405, wantAllow: "POST"},
		{name: "suspend", method: "POST", path: "/suspend", body: `{"reason":"maintenance"}`, header: withToken,
			wantCode: 200, wantBody: `"suspended":true`, wantSuspend: true},
		{name: "suspend without token", method: "POST", path: "/suspend", body: `{}`, header: jsonBody, wantCode: 401},
		{name: "suspend not JSON", method: "POST", path: "/suspend", body: `reason=x`,
			header: map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/x-www-form-urlencoded"}, wantCode: 415},
		{name: "suspend unknown field", method: "POST", path: "/suspend", body: `{"why":"x"}`, header: withToken, wantCode: 400},
		{name: "suspend GET", method: "GET", path: "/suspend", wantCode: 405, wantAllow: "POST"},
		{name: "resume", method: "POST", path: "/resume", body: `{}`, header: withToken, wantCode: 200, wantBody: `"suspended":false`},
		{name: "resume without token", method: "POST", path: "/resume", body: `{}`, header: jsonBody, wantCode: 401},
		{name: "webhook signed", method: "POST", path: "/hooks/git", body: "{}",
			header: signed, wantCode: 202, wantTrigger: 1},
		{name: "webhook unsigned", method: "POST", path: "/hooks/git", body: "{}", wantCode: 401},
		{name: "webhook wrong token", method: "POST", path: "/hooks/git", body: "{}",
			header: map[string]string{"X-Gitlab-Token": "guess"}, wantCode: 401},
		{name: "webhook GET", method: "GET", path: "/hooks/git", wantCode: 405, wantAllow: "POST"},
		{name: "webhook without git sources", noGit: true, method: "POST", path: "/hooks/git", body: "{}",
			header: signed, wantCode: 404},
		{name: "webhook off without a secret", noSecret: true, method: "POST", path: "/hooks/git", body: "{}",
			header: signed, wantCode: 404},
		{name: "status with git sources and no webhook secret", noSecret: true, method: "GET", path: "/status",
			wantCode: 200, wantBody: `"git"`},
		{name: "unknown path", method: "GET", path: "/nothing", wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gits := []*fakeGit{{}, {}}
			var sources []GitSource
			if !tt.noGit {
				sources = []GitSource{gits[0], gits[1]}
			}
			o := Options{Status: NewStatus(sources, fakeDriver{}, nil), Approver: &fakeApprover{},
				Metrics: NewMetrics(listDriver{}, "reconciler", nil), OwnerOnly: tt.ownerOnly, Logger: zaptest.NewLogger(t)}
			approver := o.Approver.(*fakeApprover)
			sp, err := LoadSuspension(filepath.Join(t.TempDir(), "suspended.json"), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			o.Suspension = sp
			if !tt.noSecret {
				o.WebhookSecret = []byte(secret)
			}
			if !tt.noToken {
				o.Token = []byte(token)
			}
			h, err := NewHandler(o)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			req.RemoteAddr = cmp.Or(tt.remote, "127.0.0.1:50000")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Errorf("%s %s: %d, want %d (%s)", tt.method, tt.path, rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantAllow != "" && !strings.Contains(rec.Header().Get("Allow"), tt.wantAllow) {
				t.Errorf("Allow = %q, want it to name %s", rec.Header().Get("Allow"), tt.wantAllow)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("answer %q, want it to contain %q", rec.Body, tt.wantBody)
			}
			for i, g := range gits {
				if g.triggers != tt.wantTrigger {
					t.Errorf("git source %d triggered %d times, want %d", i, g.triggers, tt.wantTrigger)
				}
			}
			if got := len(approver.asked) > 0; got != tt.wantApprove {
				t.Errorf("approver asked %v, want asked: %v", approver.asked, tt.wantApprove)
			}
			if got := sp.Suspended(); got != tt.wantSuspend {
				t.Errorf("suspended = %v after the request, want %v", got, tt.wantSuspend)
			}
		})
	}
}

func TestReadWebhookSecret(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content *string // nil: no file
		want    string
		wantErr string
	}{
		{name: "trimmed", content: ptr("  hunter2\r\n"), want: "hunter2"},
		{name: "inner space kept", content: ptr("a b\n"), want: "a b"},
		{name: "empty", content: ptr(""), wantErr: "is empty"},
		{name: "only space", content: ptr(" \n\t"), wantErr: "is empty"},
		{name: "missing", wantErr: "webhook secret:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if tt.content != nil {
				if err := os.WriteFile(file, []byte(*tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReadWebhookSecret(file)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if tt.content == nil && !errors.Is(err, os.ErrNotExist) {
					t.Errorf("err = %v, want it to wrap os.ErrNotExist", err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestListenServesUntilClose(t *testing.T) {
	h, err := NewHandler(Options{Status: NewStatus(nil, fakeDriver{}, nil), Approver: &fakeApprover{}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen("127.0.0.1:0", h, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + srv.Addr().String() + "/healthz"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("GET /healthz: %d %q, want 200 ok", resp.StatusCode, body)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := http.Get(url); err == nil {
		t.Error("GET after Close succeeded, want the connection refused")
	}
	if _, err := Listen("127.0.0.1:-1", h, nil); err == nil || !slices.Contains(strings.Fields(err.Error()), "--listen:") {
		t.Errorf("Listen on a bad address: %v, want a --listen error", err)
	}
}
