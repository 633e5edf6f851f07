package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"
)

// approverFunc is a RemovalApprover the test scripts.
type approverFunc func([]string) ([]string, error)

func (f approverFunc) ApproveRemovals(names []string) ([]string, error) { return f(names) }

func TestApprovalHandler(t *testing.T) {
	held := []string{"a", "b"}
	var calls [][]string
	approver := approverFunc(func(names []string) ([]string, error) {
		calls = append(calls, names)
		if len(names) == 0 {
			return held, nil
		}
		for _, n := range names {
			if !slices.Contains(held, n) {
				return nil, fmt.Errorf("%w: %s", ErrNotHeld, n)
			}
		}
		return names, nil
	})
	tests := []struct {
		name         string
		method       string
		remote       string
		header       map[string]string
		body         string
		wantStatus   int
		wantApproved []string
		wantError    string
		wantCalled   bool
	}{
		{name: "approve all held", body: `{}`, wantStatus: http.StatusOK, wantApproved: []string{"a", "b"}, wantCalled: true},
		{name: "an empty body approves all held", body: ``, wantStatus: http.StatusOK, wantApproved: []string{"a", "b"}, wantCalled: true},
		{name: "approve some", body: `{"names": ["b"]}`, wantStatus: http.StatusOK, wantApproved: []string{"b"}, wantCalled: true},
		{name: "IPv6 loopback", remote: "[::1]:5000", body: `{}`, wantStatus: http.StatusOK, wantApproved: []string{"a", "b"}, wantCalled: true},
		{name: "GET is refused", method: http.MethodGet, wantStatus: http.StatusMethodNotAllowed, wantError: "POST"},
		{name: "another host is refused", remote: "192.0.2.7:5000", body: `{}`, wantStatus: http.StatusForbidden, wantError: "from this host only"},
		{name: "a web page is refused", header: map[string]string{"Origin": "http://evil.example"}, body: `{}`, wantStatus: http.StatusForbidden, wantError: "web pages"},
		{name: "a form post is refused", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: `names=a`, wantStatus: http.StatusUnsupportedMediaType, wantError: "application/json"},
		{name: "unknown fields are refused", body: `{"all": true}`, wantStatus: http.StatusBadRequest, wantError: "unknown field"},
		{name: "a name not held is a conflict", body: `{"names": ["c"]}`, wantStatus: http.StatusConflict, wantError: "removal not held: c", wantCalled: true},
	}
	h := NewApprovalHandler(approver, zaptest.NewLogger(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = nil
			held = []string{"a", "b"}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, ApprovalPath, strings.NewReader(tt.body))
			r.RemoteAddr = "127.0.0.1:5000"
			if tt.remote != "" {
				r.RemoteAddr = tt.remote
			}
			r.Header.Set("Content-Type", "application/json")
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			var ans approvalAnswer
			if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
				t.Fatalf("answer %q: %v", w.Body.String(), err)
			}
			if w.Code != tt.wantStatus || !slices.Equal(ans.Approved, tt.wantApproved) || !strings.Contains(ans.Error, tt.wantError) {
				t.Errorf("= %d %+v, want %d approved %v error %q", w.Code, ans, tt.wantStatus, tt.wantApproved, tt.wantError)
			}
			if (len(calls) > 0) != tt.wantCalled {
				t.Errorf("approver called %v, want called %v", calls, tt.wantCalled)
			}
		})
	}
}

func TestRequestApproval(t *testing.T) {
	notHeld := approverFunc(func(names []string) ([]string, error) {
		return nil, errors.Join(ErrNotHeld, errors.New("x"))
	})
	srv := httptest.NewServer(NewApprovalHandler(notHeld, zaptest.NewLogger(t)))
	defer srv.Close()
	_, err := RequestApproval(context.Background(), srv.Client(), strings.TrimPrefix(srv.URL, "http://"), []string{"x"})
	if !errors.Is(err, ErrNotHeld) {
		t.Errorf("a conflict: %v, want ErrNotHeld", err)
	}
	status := httptest.NewServer(http.NotFoundHandler())
	defer status.Close()
	if _, err := RequestApproval(context.Background(), status.Client(), status.URL, nil); err == nil || !strings.Contains(err.Error(), "not an approval") {
		t.Errorf("an address that is not an agent: %v, want an error that says so", err)
	}
}
