package source

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"golang.org/x/crypto/ssh"

	"github.com/reconciler/reconciler/internal/testfixture"
)

// writeFile writes content into a new file under t.TempDir().
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sshKeyFile writes a new unencrypted ed25519 private key (OpenSSH format).
func sshKeyFile(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "id_ed25519", string(pem.EncodeToMemory(block)))
}

func TestNewGitSourceValidatesOptions(t *testing.T) {
	const secret = "hunter2-secret"
	keyring := testfixture.ArmoredPublicKeys(t, testfixture.NewSigner(t, "trusted"))
	// A local path is shown absolute: /srv/repo.git, or C:\srv\repo.git.
	localRepo, err := filepath.Abs(filepath.FromSlash("/srv/repo.git"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    func(t *testing.T) GitOptions
		env     map[string]string
		wantErr bool
		// wantErrText is a part of the error (the fix it proposes).
		wantErrText string
		// wantString is String() when there is no error.
		wantString string
	}{
		{name: "https with ref and path", opts: func(*testing.T) GitOptions {
			return GitOptions{URL: "https://example.com/org/repo.git", Ref: "main", Path: "/hosts/a/"}
		}, wantString: "git https://example.com/org/repo.git@main:hosts/a"},
		{name: "user name with a token: stripped from String", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "https://deploy@example.com/org/repo.git", TokenFile: writeFile(t, "token", secret)}
		}, wantString: "git https://example.com/org/repo.git@HEAD"},
		{name: "user name without a token is taken for one", opts: func(*testing.T) GitOptions {
			return GitOptions{URL: "https://" + secret + "@example.com/org/repo.git"}
		}, wantErr: true, wantErrText: "a token never goes in the URL; put the token in a file (--git-token-file) or in $" + EnvGitToken},
		{name: "ssh user name: stripped from String", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "ssh://deploy@example.com/org/repo.git", SSHKeyFile: sshKeyFile(t), KnownHostsFile: writeFile(t, "known_hosts", "")}
		}, wantString: "git ssh://example.com/org/repo.git@HEAD"},
		{name: "token to plain http refused", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "http://example.com/r.git", TokenFile: writeFile(t, "token", secret)}
		}, wantErr: true, wantErrText: "the token (from --git-token-file) would cross the network unencrypted to http://example.com/r.git: use https://, or accept it with --allow-insecure-http"},
		{name: "token in env to plain http loopback refused", opts: func(*testing.T) GitOptions { return GitOptions{URL: "http://127.0.0.1:8080/r.git"} },
			env: map[string]string{EnvGitToken: secret}, wantErr: true, wantErrText: "(from $" + EnvGitToken + ")"},
		{name: "token to plain http allowed", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "http://example.com/r.git", TokenFile: writeFile(t, "token", secret), AllowInsecureHTTP: true}
		}, wantString: "git http://example.com/r.git@HEAD"},
		{name: "plain http without a token", opts: func(*testing.T) GitOptions { return GitOptions{URL: "http://example.com/r.git"} },
			wantString: "git http://example.com/r.git@HEAD"},
		{name: "scp-like ssh", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "git@example.com:org/repo.git", SSHKeyFile: sshKeyFile(t), KnownHostsFile: writeFile(t, "known_hosts", "")}
		}, wantString: "git ssh://example.com/org/repo.git@HEAD"},
		{name: "token from file", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "https://example.com/r.git", TokenFile: writeFile(t, "token", secret+"\n")}
		}, wantString: "git https://example.com/r.git@HEAD"},
		{name: "keyring", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: localRepo, VerifySignaturesKeyring: writeFile(t, "keys.asc", keyring)}
		}, wantString: "git " + localRepo + "@HEAD"},
		{name: "no URL", opts: func(*testing.T) GitOptions { return GitOptions{} }, wantErr: true},
		{name: "password in URL", opts: func(*testing.T) GitOptions {
			return GitOptions{URL: "https://user:" + secret + "@example.com/r.git"}
		}, wantErr: true, wantErrText: "repository URL https://***@example.com/r.git carries a password: put the token in a file (--git-token-file) or in $" + EnvGitToken},
		{name: "password in scp-like URL", opts: func(*testing.T) GitOptions {
			return GitOptions{URL: "user:" + secret + "@example.com:r.git"}
		}, wantErr: true, wantErrText: "repository URL ***@example.com:r.git carries a password"},
		{name: "unsupported scheme", opts: func(*testing.T) GitOptions { return GitOptions{URL: "ftp://example.com/r.git"} }, wantErr: true},
		{name: "invalid ref", opts: func(*testing.T) GitOptions { return GitOptions{URL: "/srv/r.git", Ref: "a..b"} }, wantErr: true},
		{name: "negative interval", opts: func(*testing.T) GitOptions { return GitOptions{URL: "/srv/r.git", Interval: -time.Second} }, wantErr: true},
		{name: "missing token file", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "https://example.com/r.git", TokenFile: filepath.Join(t.TempDir(), "nope")}
		}, wantErr: true},
		{name: "token file is a directory", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "https://example.com/r.git", TokenFile: t.TempDir()}
		}, wantErr: true, wantErrText: "not a regular file: it is a folder"},
		{name: "ssh key is a directory", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "ssh://git@example.com/r.git", SSHKeyFile: t.TempDir()}
		}, wantErr: true, wantErrText: "not a regular file: it is a folder"},
		{name: "empty token file", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "https://example.com/r.git", TokenFile: writeFile(t, "token", " \n")}
		}, wantErr: true},
		{name: "empty token in env is no token", opts: func(*testing.T) GitOptions { return GitOptions{URL: "https://example.com/r.git"} },
			env: map[string]string{EnvGitToken: ""}, wantString: "git https://example.com/r.git@HEAD"},
		{name: "token file for ssh URL", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "ssh://git@example.com/r.git", TokenFile: writeFile(t, "token", secret)}
		}, wantErr: true},
		{name: "unreadable ssh key", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "ssh://git@example.com/r.git", SSHKeyFile: writeFile(t, "key", "not a key")}
		}, wantErr: true},
		{name: "ssh key from env, missing known_hosts", opts: func(*testing.T) GitOptions { return GitOptions{URL: "ssh://git@example.com/r.git"} },
			env: map[string]string{EnvGitSSHKey: "", EnvGitKnownHosts: "/nonexistent/known_hosts"}, wantErr: true},
		{name: "missing keyring", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "/srv/r.git", VerifySignaturesKeyring: filepath.Join(t.TempDir(), "nope.asc")}
		}, wantErr: true},
		{name: "keyring without keys", opts: func(t *testing.T) GitOptions {
			return GitOptions{URL: "/srv/r.git", VerifySignaturesKeyring: writeFile(t, "keys.asc", "garbage")}
		}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				if k == EnvGitSSHKey {
					v = sshKeyFile(t)
				}
				t.Setenv(k, v)
			}
			opts := tt.opts(t)
			opts.CacheDir = t.TempDir()
			g, err := NewGitSource(opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewGitSource error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrGitConfig) {
					t.Errorf("error %v is not ErrGitConfig", err)
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "user:") {
					t.Errorf("error shows the credential: %v", err)
				}
				if !strings.Contains(err.Error(), tt.wantErrText) {
					t.Errorf("error %q does not say %q", err, tt.wantErrText)
				}
				return
			}
			if got := g.String(); got != tt.wantString {
				t.Errorf("String() = %q, want %q", got, tt.wantString)
			}
		})
	}
}

func TestGitCredentialNeverShown(t *testing.T) {
	const token = "ghp_TOPSECRET0123456789"
	tests := []struct {
		name string
		opts func(t *testing.T) GitOptions
		env  map[string]string
		// user is the URL's user name, wantUser the basic-auth user name.
		user, wantUser string
		// oldCache seeds the cache dir with a git config an older build
		// wrote, the token in its remote URL.
		oldCache bool
	}{
		{name: "token file", opts: func(t *testing.T) GitOptions {
			return GitOptions{TokenFile: writeFile(t, "token", token+"\n")}
		}, wantUser: "x-access-token"},
		{name: "token in env", opts: func(*testing.T) GitOptions { return GitOptions{} }, env: map[string]string{EnvGitToken: token},
			wantUser: "x-access-token", oldCache: true},
		{name: "user name in the URL, token file", opts: func(t *testing.T) GitOptions {
			return GitOptions{TokenFile: writeFile(t, "token", token+"\n")}
		}, user: "deploy-bot", wantUser: "deploy-bot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var sawToken, requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if user, pass, ok := r.BasicAuth(); ok && user == tt.wantUser && pass == token {
					sawToken.Add(1)
				}
				// A hostile or careless server echoing the credential.
				http.Error(w, "denied for "+r.Header.Get("Authorization")+" "+token, http.StatusForbidden)
			}))
			defer srv.Close()
			logger, logs := testLogs(t)
			opts := tt.opts(t)
			opts.URL, opts.CacheDir, opts.Logger, opts.Interval = srv.URL+"/org/repo.git", t.TempDir(), logger, 5*time.Millisecond
			if tt.user != "" {
				opts.URL = strings.Replace(opts.URL, "://", "://"+tt.user+"@", 1)
			}
			opts.AllowInsecureHTTP = true // httptest serves plain http
			if tt.oldCache {
				old, err := git.PlainInit(filepath.Join(opts.CacheDir, cacheRepoDir), true)
				if err != nil {
					t.Fatal(err)
				}
				leaky := strings.Replace(srv.URL, "://", "://"+token+"@", 1) + "/org/repo.git"
				if _, err := old.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{leaky}}); err != nil {
					t.Fatal(err)
				}
			}
			g, err := NewGitSource(opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- g.Run(ctx, func() {}) }()
			if !testfixture.Eventually(t, func() bool { return requests.Load() >= 3 }) {
				t.Errorf("%d requests to the server, want at least 3", requests.Load())
			}
			cancel()
			<-done
			if sawToken.Load() == 0 {
				t.Errorf("the server never received the token as basic auth for %q", tt.wantUser)
			}
			shown := []string{g.String(), fmt.Sprintf("%+v", g.Status())}
			snap, _ := g.Snapshot(context.Background())
			shown = append(shown, fmt.Sprintf("%+v", snap))
			for _, e := range logs.All() {
				shown = append(shown, e.Message, fmt.Sprint(e.ContextMap()))
			}
			if _, err := g.poll(context.Background()); err == nil {
				t.Error("poll of a refusing server succeeded")
			} else {
				shown = append(shown, err.Error())
			}
			if g.Status().LastError == "" {
				t.Error("status shows no failure")
			}
			shown = append(shown, filesUnder(t, opts.CacheDir)...)
			header := base64.StdEncoding.EncodeToString([]byte(tt.wantUser + ":" + token)) // as the server echoed it
			for _, s := range shown {
				if strings.Contains(s, token) || strings.Contains(s, header) || tt.user != "" && strings.Contains(s, tt.user) {
					t.Errorf("credential shown: %s", s)
				}
			}
			cfg, err := os.ReadFile(filepath.Join(opts.CacheDir, cacheRepoDir, "config"))
			if want := "url = " + srv.URL + "/org/repo.git\n"; err != nil || !strings.Contains(string(cfg), want) {
				t.Errorf("cache git config (%v):\n%s\nwant it to hold %q", err, cfg, want)
			}
		})
	}
}

// filesUnder returns the content of every regular file under dir.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		out = append(out, p+": "+string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGitSSHUnknownHostRefused(t *testing.T) {
	t.Parallel()
	// A local SSH server whose host key is not in known_hosts: the
	// handshake must fail, never prompt, never go on.
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{NoClientAuth: true}
	cfg.AddHostKey(hostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _, _, _ = ssh.NewServerConn(c, cfg)
			}()
		}
	}()
	otherPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.NewPublicKey(otherPub)
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	knownHosts := writeFile(t, "known_hosts", fmt.Sprintf("[127.0.0.1]:%d %s", port, ssh.MarshalAuthorizedKey(other)))
	g := newTestSource(t, GitOptions{URL: fmt.Sprintf("ssh://git@127.0.0.1:%d/org/repo.git", port), SSHKeyFile: sshKeyFile(t), KnownHostsFile: knownHosts})
	ctx, cancel := context.WithTimeout(context.Background(), testfixture.Patience(t))
	defer cancel()
	_, err = g.poll(ctx)
	if !errors.Is(err, ErrGitRemote) || !strings.Contains(err.Error(), "knownhosts") {
		t.Errorf("poll of an unknown host = %v, want an ErrGitRemote host key error", err)
	}
}
