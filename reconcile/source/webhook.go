package source

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"
)

// WebhookPath is where NewWebhookHandler is meant to be mounted.
const WebhookPath = "/hooks/git"

// MaxWebhookBody bounds a webhook request body; a larger one gets 413.
const MaxWebhookBody = 1 << 20

// NewWebhookHandler returns the handler of POST /hooks/git (the caller
// mounts it). A request is accepted when it carries either a GitHub-style
// "X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>" or a
// GitLab-style "X-Gitlab-Token: <secret>" matching secret (constant-time
// compares). Accepted → 202 and trigger() (which must not block, e.g.
// GitSource.Trigger); a bad or missing signature → 401; not POST → 405; a
// body over MaxWebhookBody → 413. Nothing but a valid request triggers. The
// payload is not interpreted: the source polls its ref, whatever was pushed.
func NewWebhookHandler(secret []byte, trigger func(), logger *zap.Logger) http.Handler {
	if logger == nil {
		logger = zap.NewNop()
	}
	key := append([]byte(nil), secret...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				logger.Warn("webhook body too large", zap.String("remote", r.RemoteAddr))
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if !webhookAuthentic(key, r.Header, body) {
			logger.Warn("webhook rejected: bad or missing signature", zap.String("remote", r.RemoteAddr))
			http.Error(w, "bad or missing signature", http.StatusUnauthorized)
			return
		}
		logger.Info("webhook accepted: fetching now", zap.String("remote", r.RemoteAddr))
		trigger()
		w.WriteHeader(http.StatusAccepted)
	})
}

// webhookAuthentic checks the GitHub HMAC or the GitLab token. An empty
// secret authenticates nothing.
func webhookAuthentic(secret []byte, h http.Header, body []byte) bool {
	if len(secret) == 0 {
		return false
	}
	if sig := h.Get("X-Hub-Signature-256"); sig != "" {
		got, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
		if err != nil || !strings.HasPrefix(sig, "sha256=") {
			return false
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		return hmac.Equal(got, mac.Sum(nil))
	}
	if tok := h.Get("X-Gitlab-Token"); tok != "" {
		return subtle.ConstantTimeCompare([]byte(tok), secret) == 1
	}
	return false
}
