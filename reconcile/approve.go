package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"go.uber.org/zap"
)

// ApprovalPath is where the agent's local API takes approvals of held
// removals (POST).
const ApprovalPath = "/removals/approve"

// maxApprovalBody bounds an approval request.
const maxApprovalBody = 64 << 10

// The approval request and answer.
type (
	approvalRequest struct {
		// Names are the held removals to approve; empty approves all.
		Names []string `json:"names"`
	}
	approvalAnswer struct {
		Approved []string `json:"approved"`
		Error    string   `json:"error,omitempty"`
	}
)

// RemovalApprover approves held removals; *Agent is one.
type RemovalApprover interface {
	ApproveRemovals(names []string) ([]string, error)
}

// NewApprovalHandler serves POST ApprovalPath: it approves the removals
// the agent holds for their number (those the JSON body's "names" lists,
// or all of them) and answers {"approved": [...]}. Because an approval
// lets a held removal through, it is taken only from a client on this
// host (a loopback address), never from a browser (a request with an
// Origin header, which a web page on this host could send), and only as
// a JSON POST (which a plain HTML form cannot send). A name not held is
// 409 Conflict.
func NewApprovalHandler(a RemovalApprover, log *zap.Logger) http.Handler {
	if log == nil {
		log = zap.NewNop()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, ans := approve(a, r)
		if status != http.StatusOK {
			log.Warn("removal approval refused", zap.String("remote", r.RemoteAddr), zap.Int("status", status), zap.String("error", ans.Error))
		}
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(ans)
	})
}

// approve checks an approval request and passes it on.
func approve(a RemovalApprover, r *http.Request) (int, approvalAnswer) {
	refuse := func(status int, format string, args ...any) (int, approvalAnswer) {
		return status, approvalAnswer{Approved: []string{}, Error: fmt.Sprintf(format, args...)}
	}
	if r.Method != http.MethodPost {
		return refuse(http.StatusMethodNotAllowed, "approvals are POST requests")
	}
	if !FromLoopback(r.RemoteAddr) {
		return refuse(http.StatusForbidden, "approvals are taken from this host only (a loopback address), not from %s", r.RemoteAddr)
	}
	if r.Header.Get("Origin") != "" {
		return refuse(http.StatusForbidden, "approvals are not taken from web pages (the request has an Origin header)")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return refuse(http.StatusUnsupportedMediaType, "an approval is a JSON body: Content-Type: application/json")
	}
	var req approvalRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxApprovalBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		return refuse(http.StatusBadRequest, "approval body: %v (want {\"names\": [...]})", err)
	}
	names, err := a.ApproveRemovals(req.Names)
	switch {
	case errors.Is(err, ErrNotHeld):
		return refuse(http.StatusConflict, "%v", err)
	case err != nil:
		return refuse(http.StatusInternalServerError, "%v", err)
	}
	if names == nil {
		names = []string{}
	}
	return http.StatusOK, approvalAnswer{Approved: names}
}

// FromLoopback reports whether a request's remote address is this host's (a
// loopback address).
func FromLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RequestApproval asks the agent listening at addr ("127.0.0.1:9440" or
// "http://127.0.0.1:9440") to approve the removals it holds: names, or
// all of them if names is empty. It returns the names approved (none
// when nothing is held).
func RequestApproval(ctx context.Context, client *http.Client, addr string, names []string) ([]string, error) {
	base := strings.TrimSuffix(addr, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	body, err := json.Marshal(approvalRequest{Names: names})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+ApprovalPath, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("agent address %q: %w", addr, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask the agent: %w", err)
	}
	defer resp.Body.Close()
	var ans approvalAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxApprovalBody)).Decode(&ans); err != nil {
		return nil, fmt.Errorf("the agent at %s answered %s, not an approval: %w", base, resp.Status, err)
	}
	switch {
	case resp.StatusCode == http.StatusConflict:
		return nil, fmt.Errorf("%w: %s", ErrNotHeld, strings.TrimPrefix(ans.Error, ErrNotHeld.Error()+": "))
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("the agent refused (%s): %s", resp.Status, ans.Error)
	}
	return ans.Approved, nil
}
