package statusapi

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"
)

func TestParseListen(t *testing.T) {
	tests := []struct {
		in        string
		want      Endpoint
		ownerOnly bool
		loopback  bool
		wantErr   bool
	}{
		{in: "127.0.0.1:9440", want: Endpoint{"tcp", "127.0.0.1:9440"}, loopback: true},
		{in: "http://127.0.0.1:9440/", want: Endpoint{"tcp", "127.0.0.1:9440"}, loopback: true},
		{in: ":9440", want: Endpoint{"tcp", "127.0.0.1:9440"}, loopback: true},
		{in: "9440", want: Endpoint{"tcp", "127.0.0.1:9440"}, loopback: true},
		{in: "localhost:9440", want: Endpoint{"tcp", "localhost:9440"}, loopback: true},
		{in: "[::1]:9440", want: Endpoint{"tcp", "[::1]:9440"}, loopback: true},
		{in: "0.0.0.0:9440", want: Endpoint{"tcp", "0.0.0.0:9440"}},
		{in: "10.0.0.5:9440", want: Endpoint{"tcp", "10.0.0.5:9440"}},
		{in: "unix:///run/reconciler.sock", want: Endpoint{"unix", "/run/reconciler.sock"}, ownerOnly: true, loopback: true},
		{in: "npipe:////./pipe/reconciler", want: Endpoint{"npipe", `\\.\pipe\reconciler`}, ownerOnly: true, loopback: true},
		{in: "npipe://./pipe/reconciler", want: Endpoint{"npipe", `\\.\pipe\reconciler`}, ownerOnly: true, loopback: true},
		{in: `\\.\pipe\reconciler`, want: Endpoint{"npipe", `\\.\pipe\reconciler`}, ownerOnly: true, loopback: true},
		{in: "unix://", wantErr: true},
		{in: "npipe:////./pipe/", wantErr: true},
		{in: "https://127.0.0.1:9440", wantErr: true},
		{in: "127.0.0.1:", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseListen(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrListen) {
					t.Errorf("ParseListen(%q) = %+v, %v; want ErrListen", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want || got.OwnerOnly() != tt.ownerOnly || got.Loopback() != tt.loopback {
				t.Errorf("ParseListen(%q) = %+v (owner-only %v, loopback %v), %v; want %+v (%v, %v)",
					tt.in, got, got.OwnerOnly(), got.Loopback(), err, tt.want, tt.ownerOnly, tt.loopback)
			}
		})
	}
}

// TestClientSendsTheToken: NewClient's client carries the token to a TCP
// API that needs it; without it, or with another, the call is refused.
func TestClientSendsTheToken(t *testing.T) {
	sp, err := LoadSuspension(filepath.Join(t.TempDir(), "s.json"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Options{Status: NewStatus(nil, fakeDriver{}, nil), Approver: &fakeApprover{}, Suspension: sp, Token: []byte("right")})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen("127.0.0.1:0", h, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tt := range []struct {
		token   []byte
		wantErr string
	}{{nil, "401"}, {[]byte("wrong"), "401"}, {[]byte("right"), ""}} {
		client, base, err := NewClient(srv.Addr().String(), tt.token, 0)
		if err != nil {
			t.Fatal(err)
		}
		st, err := RequestSuspension(context.Background(), client, base, true, "")
		switch {
		case tt.wantErr == "" && (err != nil || !st.Suspended):
			t.Errorf("token %q: %+v, %v; want suspended", tt.token, st, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "right")):
			t.Errorf("token %q: %v, want a %s refusal that does not show the token", tt.token, err, tt.wantErr)
		}
	}
}
