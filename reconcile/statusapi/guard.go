package statusapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/reconcile"
)

// guard admits the requests of the mutating endpoints: never from a web
// page (a request with an Origin header), on TCP only from this host (a
// loopback address) and with the API token; on an owner-only socket or
// pipe, with the token if there is one.
type guard struct {
	token     []byte
	ownerOnly bool
	log       *zap.Logger
}

// socketPeer is the remote address the handlers see for a client of an
// owner-only socket or pipe: a loopback address, which it is in effect
// (only a process of this host, run by the owner, can open it).
const socketPeer = "127.0.0.1:0"

func (g guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, msg := g.admit(r)
		if status != http.StatusOK {
			g.log.Warn("request refused", zap.String("path", r.URL.Path), zap.String("remote", r.RemoteAddr), zap.Int("status", status), zap.String("reason", msg))
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="reconciler"`)
			}
			writeJSON(w, status, errorAnswer{Error: msg})
			return
		}
		if g.ownerOnly {
			r = r.Clone(r.Context())
			r.RemoteAddr = socketPeer
		}
		next.ServeHTTP(w, r)
	})
}

// admit returns 200 for a request the guard lets through, else the
// status and the reason of its refusal.
func (g guard) admit(r *http.Request) (int, string) {
	switch {
	case r.Header.Get("Origin") != "":
		return http.StatusForbidden, "not taken from web pages (the request has an Origin header)"
	case !g.ownerOnly && !reconcile.FromLoopback(r.RemoteAddr):
		return http.StatusForbidden, fmt.Sprintf("taken from this host only (a loopback address), not from %s", r.RemoteAddr)
	case g.token != nil && !tokenMatches(r, g.token):
		return http.StatusUnauthorized, "missing or wrong API token (Authorization: Bearer, the content of --api-token-file)"
	case g.token == nil && !g.ownerOnly:
		return http.StatusForbidden, "this agent takes no changes over TCP without a token: start it with --api-token-file, or --listen on a unix:// socket or npipe:// pipe"
	}
	return http.StatusOK, ""
}

// errorAnswer is the body of a refusal.
type errorAnswer struct {
	Error string `json:"error"`
}

// suspendRequest is the body of POST /suspend.
type suspendRequest struct {
	Reason string `json:"reason"`
}

// maxSuspendBody bounds a suspend or resume request.
const maxSuspendBody = 16 << 10

// suspendHandler serves POST /suspend (suspend true) or /resume: a JSON
// body ({"reason": "…"} for suspend, {} for resume), the state in force
// as the answer.
func suspendHandler(sp *Suspension, log *zap.Logger, suspend bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeJSON(w, http.StatusUnsupportedMediaType, errorAnswer{Error: "a JSON body: Content-Type: application/json"})
			return
		}
		var req suspendRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, maxSuspendBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			writeJSON(w, http.StatusBadRequest, errorAnswer{Error: fmt.Sprintf("body: %v", err)})
			return
		}
		was := sp.State()
		var st SuspensionState
		var err error
		if suspend {
			st, err = sp.Suspend(req.Reason)
		} else {
			st, err = sp.Resume()
		}
		if err != nil {
			log.Error("suspension not changed", zap.Bool("suspend", suspend), zap.Error(err))
			writeJSON(w, http.StatusInternalServerError, errorAnswer{Error: err.Error()})
			return
		}
		switch {
		case st.Suspended && !was.Suspended:
			log.Warn("agent suspended: passes plan and report, apply nothing, until resumed", zap.String("reason", st.Reason))
		case !st.Suspended && was.Suspended:
			log.Info("agent resumed: the next pass applies")
		}
		writeJSON(w, http.StatusOK, st)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
