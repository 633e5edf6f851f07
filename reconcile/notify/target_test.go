package notify

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    Target
		wantErr string
	}{
		{in: "slack=https://hooks.slack.com/services/T0/B0/XYZ", want: Target{TypeSlack, "https://hooks.slack.com/services/T0/B0/XYZ"}},
		{in: "teams=https://example.webhook.office.com/webhookb2/abc?sig=1", want: Target{TypeTeams, "https://example.webhook.office.com/webhookb2/abc?sig=1"}},
		{in: "webhook=http://127.0.0.1:8080/hook", want: Target{TypeWebhook, "http://127.0.0.1:8080/hook"}},
		{in: "webhook=https://h.example/a=b", want: Target{TypeWebhook, "https://h.example/a=b"}},
		{in: "https://hooks.slack.com/services/T0/B0/XYZ", wantErr: "want TYPE=URL"},
		{in: "email=https://h.example/x", wantErr: `type "email"`},
		{in: "slack=hooks.slack.com/x", wantErr: "absolute https://"},
		{in: "slack=ftp://h.example/x", wantErr: "absolute https://"},
		{in: "webhook=http://h.example/s3cr3t", wantErr: "plain http:// only to this host"},
		{in: "webhook=https://user:pw@h.example/x", wantErr: "user info"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrTarget) {
					t.Fatalf("err = %v, want an ErrTarget containing %q", err, tt.wantErr)
				}
				for _, secret := range []string{"XYZ", "s3cr3t", "pw"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows the URL's secret %q", err, secret)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"https://hooks.slack.com/services/T0/B0/XYZ":  "https://hooks.slack.com/…",
		"https://x.example/webhook?sig=abc":           "https://x.example/…",
		"https://x.example":                           "https://x.example",
		"https://user:pw@x.example/":                  "https://x.example",
		"not a url":                                   "(unreadable URL)",
		"webhook=https://x.example/hook/with/a/token": "(unreadable URL)",
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	if s := (Target{TypeSlack, "https://hooks.slack.com/services/T0/B0/XYZ"}).String(); s != "slack https://hooks.slack.com/…" {
		t.Errorf("String = %q", s)
	}
}
