package source

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// hunter2 is in every credential of the redaction tests: no output may
// hold it, raw or percent-decoded.
const hunter2 = "hunter2"

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{name: "https with a token as user", url: "https://ghp_hunter2tok@github.com/org/x.git", want: "https://***@github.com/org/x.git"},
		{name: "https with user and password", url: "https://deploy:hunter2@git.example.com/org/x.git", want: "https://***@git.example.com/org/x.git"},
		{name: "http with token and port", url: "http://hunter2@127.0.0.1:8080/x.git", want: "http://***@127.0.0.1:8080/x.git"},
		{name: "ssh with user and password", url: "ssh://git:hunter2@example.com:2222/org/x.git", want: "ssh://***@example.com:2222/org/x.git"},
		{name: "scp-like with password", url: "user:hunter2@example.com:org/x.git", want: "***@example.com:org/x.git"},
		{name: "scp-like with password, no folder", url: "user:hunter2@host:x.git", want: "***@host:x.git"},
		{name: "scp-like with a password holding @", url: "user:hun@hunter2@host:x.git", want: "***@host:x.git"},
		{name: "scp-like with a password holding /", url: "user:hun/hunter2@host:x.git", want: "***@host:x.git"},
		{name: "scp-like user without password", url: "git@example.com:org/x.git", want: "***@example.com:org/x.git"},
		{name: "percent-encoded password", url: "https://user:hunter2%2F%40%3A@example.com/x.git", want: "https://***@example.com/x.git"},
		{name: "password holding a raw @", url: "https://user:p@hunter2@example.com/x.git", want: "https://***@example.com/x.git"},
		{name: "unparsable: bad escape in the password", url: "https://user:hunter2%zz@example.com/x.git", want: "https://***@example.com/x.git"},
		{name: "unparsable: / in the password", url: "http://user:hun/hunter2@example.com/x.git", want: "http://***@example.com/x.git"},
		{name: "unparsable: # in the password", url: "https://user:hun#hunter2@example.com/x.git", want: "https://***@example.com/x.git"},
		{name: "unparsable: space in the password", url: "https://user:hun hunter2@example.com/x.git", want: "https://***@example.com/x.git"},
		{name: "no user info: https", url: "https://example.com/org/x.git", want: "https://example.com/org/x.git"},
		{name: "no user info: @ in the path", url: "https://example.com/org/x@v1.git", want: "https://example.com/org/x@v1.git"},
		{name: "no user info: @ in the query", url: "https://example.com/x.git?ref=a@b", want: "https://example.com/x.git?ref=a@b"},
		{name: "no user info: ssh", url: "ssh://example.com:2222/x.git", want: "ssh://example.com:2222/x.git"},
		{name: "no user info: file URL", url: "file:///srv/git/x.git", want: "file:///srv/git/x.git"},
		{name: "local path with @", url: "/srv/git/team@home/x.git", want: "/srv/git/team@home/x.git"},
		{name: "empty", url: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redactURL(tt.url)
			if got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestRedactError(t *testing.T) {
	class := errors.New("class")
	tests := []struct {
		name    string
		err     error
		secrets []string
		want    string
	}{
		{name: "net/http error quoting the URL",
			err:  fmt.Errorf("%w: list refs: Get \"http://hunter2@127.0.0.1:1/x.git/info/refs?service=git-upload-pack\": dial tcp 127.0.0.1:1: connect: connection refused", class),
			want: "class: list refs: Get \"http://***@127.0.0.1:1/x.git/info/refs?service=git-upload-pack\": dial tcp 127.0.0.1:1: connect: connection refused"},
		{name: "user and password, two URLs",
			err:  fmt.Errorf("%w: redirect from https://u:hunter2@a.example/x to ssh://git:hunter2@b.example/y failed", class),
			want: "class: redirect from https://***@a.example/x to ssh://***@b.example/y failed"},
		{name: "percent-encoded password", err: fmt.Errorf("%w: https://u:hunter2%%40x@a.example: 403", class),
			want: "class: https://***@a.example: 403"},
		{name: "a server echoing the token", err: fmt.Errorf("%w: unexpected status 403: denied for hunter2-token", class),
			secrets: []string{"hunter2-token"}, want: "class: unexpected status 403: denied for ***"},
		{name: "a server echoing the authorization header",
			err:  fmt.Errorf("%w: authorization failed: denied: Basic eC1hY2Nlc3MtdG9rZW46aHVudGVyMg== and bearer hunter2hunter2hunter2", class),
			want: "class: authorization failed: denied: Basic *** and bearer ***"},
		{name: "the encoded header given as a secret", err: fmt.Errorf("%w: got eC1hY2Nlc3MtdG9rZW46aHVudGVyMg==", class),
			secrets: []string{"hunter2", "eC1hY2Nlc3MtdG9rZW46aHVudGVyMg=="}, want: "class: got ***"},
		{name: "nothing to hide", err: fmt.Errorf("%w: https://example.com/x.git: repository not found; basic authentication failed, mail ops@example.com", class),
			secrets: []string{""}, want: "class: https://example.com/x.git: repository not found; basic authentication failed, mail ops@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redactError(tt.err, tt.secrets...)
			if got.Error() != tt.want {
				t.Errorf("redactError = %q, want %q", got, tt.want)
			}
			if !errors.Is(got, class) {
				t.Errorf("redactError(%v) lost its class", tt.err)
			}
			var unwrapped interface{ Unwrap() error }
			if got.Error() != tt.err.Error() && errors.As(got, &unwrapped) {
				t.Errorf("redacted error unwraps to the message holding the secret")
			}
		})
	}
	if redactError(nil, "x") != nil {
		t.Error("redactError(nil) is not nil")
	}
}

func TestParseGitEndpointNeverShowsUserInfo(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantErr string // "" = accepted; else a part of the message (the fix)
		// wantURL is what go-git is given for the network (accepted URLs).
		wantURL string
	}{
		{name: "password", url: "https://deploy:hunter2@example.com/x.git", wantErr: "--git-token-file"},
		{name: "ssh password", url: "ssh://git:hunter2@example.com/x.git", wantErr: "carries a password: ssh authenticates with a key: give its file with --git-ssh-key or $" + EnvGitSSHKey},
		{name: "scp-like password", url: "git:hunter2@example.com:x.git", wantErr: "repository URL ***@example.com:x.git carries a password: ssh authenticates with a key"},
		{name: "unparsable without password: the token hint", url: "https://deploy@exa mple.com/x.git", wantErr: "$" + EnvGitToken},
		{name: "percent-encoded password", url: "https://deploy:hun%74er2@example.com/x.git", wantErr: "carries a password"},
		{name: "unparsable with password", url: "https://deploy:hunter2%zz@example.com/x.git", wantErr: "https://***@example.com/x.git"},
		{name: "unparsable with / in password", url: "http://deploy:hun/hunter2@example.com:x/", wantErr: "--git-token-file"},
		{name: "git URL with user", url: "git://hunter2@example.com/x.git", wantErr: "takes no user info"},
		{name: "file URL with user", url: "file://hunter2@localhost/srv/x.git", wantErr: "takes no user info"},
		{name: "unparsable without user info: the reason is shown", url: "https://example.com:port/x.git", wantErr: "invalid port"},
		{name: "https user name leaves the network URL", url: "https://deploy@example.com/x.git", wantURL: "https://example.com/x.git"},
		{name: "ssh user name kept for the network", url: "ssh://deploy@example.com/x.git", wantURL: "ssh://deploy@example.com/x.git"},
		{name: "scp-like user kept for the network", url: "git@example.com:org/x.git", wantURL: "git@example.com:org/x.git"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, err := parseGitEndpoint(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("parseGitEndpoint(%q) = %v", tt.url, err)
				}
				if ep.url != tt.wantURL || strings.Contains(ep.display, "deploy") || strings.Contains(ep.display, "git@") {
					t.Errorf("network URL %q, display %q; want %q and no user", ep.url, ep.display, tt.wantURL)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrGitConfig) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseGitEndpoint(%q) = %v, want an ErrGitConfig saying %q", tt.url, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), hunter2) || strings.Contains(err.Error(), "deploy") {
				t.Errorf("error shows the user info: %v", err)
			}
		})
	}
}
