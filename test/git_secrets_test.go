package test

import (
	"encoding/base64"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testfixture"
)

// Sentinels of the secret tests: the token, and the value of an environment
// variable the manifests declare. Neither may appear in anything the agent
// prints, serves or writes.
const (
	sentinelToken = "tok-sentinel-5f3a9c"
	sentinelEnv   = "sentinel-env-value"
)

// sentinelHeader is the token as the basic-auth header carries it.
var sentinelHeader = base64.StdEncoding.EncodeToString([]byte("x-access-token:" + sentinelToken))

// tokenServer serves the bare repositories of a folder over plain http
// (git http-backend through CGI) to requests carrying the token as basic
// auth. An echoing server refuses every request instead, with a body that
// repeats the credentials it got, as a careless server might.
type tokenServer struct {
	*httptest.Server
	authorized atomic.Int32 // requests that carried the token
}

func newTokenServer(t *testing.T, root string, echo bool) *tokenServer {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("the git binary is needed to serve the test remote over http")
	}
	backend := &cgi.Handler{Path: gitBin, Args: []string{"http-backend"},
		Env: append([]string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}, testfixture.GitEnv...)}
	s := &tokenServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if pass == sentinelToken && user == "x-access-token" {
			s.authorized.Add(1)
		}
		switch {
		case echo:
			http.Error(w, "denied: "+r.Header.Get("Authorization")+" "+user+":"+pass+" for "+r.URL.String(), http.StatusForbidden)
		case pass != sentinelToken:
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "token required", http.StatusUnauthorized)
		default:
			backend.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// envManifest is a manifest whose container declares SECRET=value.
func envManifest(name, value string) string {
	return testfixture.Manifest(name, ltsc2022, "process") + "  env:\n    SECRET: " + value + "\n"
}

// leaks returns the places where needle shows: among texts (what → text)
// and in the regular files under dirs.
func leaks(t *testing.T, needle string, texts map[string]string, dirs ...string) []string {
	t.Helper()
	var out []string
	for what, text := range texts {
		if strings.Contains(text, needle) {
			out = append(out, what)
		}
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if os.IsNotExist(err) {
				return nil
			}
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if strings.Contains(string(b), needle) {
				out = append(out, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// closedPort is an http:// base URL where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// refused waits until the agent exits with an error and returns what it
// wrote on stderr. It fails the test when the agent starts instead.
func (a *agent) refused() string {
	a.t.Helper()
	for {
		select {
		case err := <-a.done:
			a.done <- err // for the cleanup
			if err == nil {
				a.t.Fatal("the agent exited 0, want a refusal")
			}
			return a.stderr.String()
		default:
		}
		if len(a.stderr.logLines("agent started")) > 0 {
			a.t.Fatalf("the agent started, want a refusal:\n%s", a.stderr.String())
		}
		time.Sleep(20 * time.Millisecond) // polls the process and its log; the test's deadline bounds it
	}
}

func TestWatchGitRefusesCredentialsInTheURL(t *testing.T) {
	t.Parallel()
	tokenFile := filepath.Join(t.TempDir(), "token")
	write(t, tokenFile, sentinelToken+"\n")
	tests := []struct {
		name string
		args []string
		want string // in the error: the fix
	}{
		{name: "token as the user of an http URL", args: []string{"--git", "http://" + sentinelToken + "@127.0.0.1:1/x.git"},
			want: "a token never goes in the URL; put the token in a file (--git-token-file) or in $RECONCILER_GIT_TOKEN"},
		{name: "token as the user of an https URL, no token given", args: []string{"--git", "https://" + sentinelToken + "@example.com/x.git"},
			want: "repository URL https://***@example.com/x.git carries user info but no token is given"},
		{name: "password in an https URL", args: []string{"--git", "https://deploy:" + sentinelToken + "@example.com/x.git"},
			want: "carries a password: put the token in a file (--git-token-file)"},
		{name: "password in an ssh URL", args: []string{"--git", "ssh://git:" + sentinelToken + "@example.com/x.git"},
			want: "repository URL ssh://***@example.com/x.git carries a password"},
		{name: "password in an scp-like URL", args: []string{"--git", "user:" + sentinelToken + "@example.com:x.git"},
			want: "repository URL ***@example.com:x.git carries a password"},
		{name: "password in a URL that does not parse", args: []string{"--git", "https://user:" + sentinelToken + "%zz@example.com/x.git"},
			want: "invalid repository URL https://***@example.com/x.git"},
		{name: "token file with a plain http URL", args: []string{"--git", "http://127.0.0.1:1/x.git", "--git-token-file", tokenFile},
			want: "would cross the network unencrypted to http://127.0.0.1:1/x.git: use https://, or accept it with --allow-insecure-http"},
		{name: "URL given without --git", args: []string{"--dir", t.TempDir(), "https://" + sentinelToken + "@example.com/x.git"},
			want: "watch takes no arguments (1 given)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cache := filepath.Join(t.TempDir(), "cache")
			a := e.start(append([]string{"--log-level", "debug", "--cache-dir", cache}, tt.args...)...)
			stderr := a.refused()
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("refusal %q does not say %q", stderr, tt.want)
			}
			if where := leaks(t, sentinelToken, map[string]string{"stderr": stderr}, cache, filepath.Dir(e.state)); len(where) > 0 {
				t.Errorf("the token shows in %v", where)
			}
		})
	}
}

func TestWatchGitNeverShowsTheToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// echo makes the server refuse and repeat the credentials;
		// unreachable points the agent at a closed port.
		echo, unreachable bool
	}{
		{name: "working remote"},
		{name: "remote refusing and echoing the credentials", echo: true},
		{name: "unreachable remote", unreachable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, r := newEnv(t), testfixture.NewRemote(t)
			r.Commit(map[string]string{"app.yaml": envManifest("app", sentinelEnv)}, nil)
			r.Push("main")
			srv := newTokenServer(t, filepath.Dir(r.Bare), tt.echo)
			url := srv.URL + "/" + filepath.Base(r.Bare)
			if tt.unreachable {
				url = closedPort(t) + "/" + filepath.Base(r.Bare)
			}
			tokenFile := filepath.Join(t.TempDir(), "token")
			write(t, tokenFile, sentinelToken+"\n")
			cache := filepath.Join(t.TempDir(), "cache")
			a := e.startGitURL(url, cache, "--git-token-file", tokenFile, "--allow-insecure-http", "--log-level", "debug")

			if tt.echo || tt.unreachable {
				a.waitLogs("the failure is logged, then the retries",
					isMsg("git poll failed; the commit in force stays, retrying"), isMsg("git poll still failing"))
				if s := a.status(); s.LastError == "" || s.Commit != "" {
					t.Errorf("status: in force %q, last error %q; want nothing in force and the failure", s.Commit, s.LastError)
				}
			} else {
				e.eventually("the commit runs", hostIs(processIsolated("app")))
				// A changed env value recreates: the plan and its logs
				// name the change, never the values.
				second := r.Commit(map[string]string{"app.yaml": envManifest("app", sentinelEnv+"-2")}, nil)
				r.Push("main")
				a.waitLogs("the changed env value recreates app", func(l map[string]any) bool {
					return l["msg"] == "pass done" && l["recreated"] == float64(1)
				})
				if s := a.status(); s.Commit != second || s.LastError != "" {
					t.Errorf("status: in force %.7s, last error %q; want %.7s and none", s.Commit, s.LastError, second)
				}
			}
			if srv.authorized.Load() == 0 && !tt.unreachable {
				t.Error("the server never received the token: the test proves nothing")
			}
			resp, err := http.Get(a.url + "/status")
			if err != nil {
				t.Fatal(err)
			}
			status, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if err := a.stop(); err != nil {
				t.Errorf("the agent exited with %v", err)
			}
			shown := map[string]string{"the agent's log (debug)": a.stderr.String(), "GET /status": string(status)}
			for _, secret := range []string{sentinelToken, sentinelHeader} {
				if where := leaks(t, secret, shown, cache, filepath.Dir(e.state)); len(where) > 0 {
					t.Errorf("the token (%s) shows in %v", secret, where)
				}
			}
			if where := leaks(t, sentinelEnv, shown, cache); len(where) > 0 {
				t.Errorf("the env value shows in %v", where)
			}
		})
	}
}
