package source

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	secret := []byte("webhook-secret")
	body := `{"ref":"refs/heads/main"}`
	sign := func(key []byte, b string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(b))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	tests := []struct {
		name        string
		method      string
		body        string
		header      map[string]string
		want        int
		wantTrigger bool
	}{
		{name: "github good signature", method: "POST", body: body, header: map[string]string{"X-Hub-Signature-256": sign(secret, body)}, want: 202, wantTrigger: true},
		{name: "github signature of another body", method: "POST", body: body, header: map[string]string{"X-Hub-Signature-256": sign(secret, body+" ")}, want: 401},
		{name: "github wrong secret", method: "POST", body: body, header: map[string]string{"X-Hub-Signature-256": sign([]byte("other"), body)}, want: 401},
		{name: "github malformed", method: "POST", body: body, header: map[string]string{"X-Hub-Signature-256": "sha1=abc"}, want: 401},
		{name: "github not hex", method: "POST", body: body, header: map[string]string{"X-Hub-Signature-256": "sha256=zz"}, want: 401},
		{name: "gitlab good token", method: "POST", body: body, header: map[string]string{"X-Gitlab-Token": string(secret)}, want: 202, wantTrigger: true},
		{name: "gitlab bad token", method: "POST", body: body, header: map[string]string{"X-Gitlab-Token": "webhook-secreT"}, want: 401},
		{name: "missing signature", method: "POST", body: body, want: 401},
		{name: "wrong method", method: "GET", header: map[string]string{"X-Gitlab-Token": string(secret)}, want: 405},
		{name: "oversized body", method: "POST", body: strings.Repeat("x", MaxWebhookBody+1), header: map[string]string{"X-Gitlab-Token": string(secret)}, want: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			triggered := 0
			logger, _ := testLogs(t)
			h := NewWebhookHandler(secret, func() { triggered++ }, logger)
			req := httptest.NewRequest(tt.method, WebhookPath, strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d", rec.Code, tt.want)
			}
			if (triggered > 0) != tt.wantTrigger {
				t.Errorf("triggered %d times, want trigger %v", triggered, tt.wantTrigger)
			}
		})
	}
}

func TestWebhookEmptySecretAcceptsNothing(t *testing.T) {
	t.Parallel()
	triggered := false
	h := NewWebhookHandler(nil, func() { triggered = true }, nil)
	req := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader("{}"))
	req.Header.Set("X-Gitlab-Token", "")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || triggered {
		t.Errorf("empty secret: status %d, triggered %v; want 401 and no trigger", rec.Code, triggered)
	}
}
