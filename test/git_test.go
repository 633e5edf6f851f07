package test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/testfixture"
	"github.com/reconciler/reconciler/reconcile/source"
)

// gitAgent is a `reconciler watch --git` process with its HTTP listener.
type gitAgent struct {
	*agent
	url    string // http://ADDR of --listen
	secret string // the webhook secret
}

// startGit starts an agent following r's remote: polled every 200ms, a
// cache dir of its own, and --listen on a free port with a webhook secret.
// args come last, so they may override those (e.g. --interval 1h). It
// returns once the agent listens.
func (e *env) startGit(r *testfixture.Remote, args ...string) *gitAgent {
	e.t.Helper()
	return e.startGitURL(r.Bare, filepath.Join(e.t.TempDir(), "cache"), args...)
}

// startGitURL is startGit for the repository at url, with its cache in
// cacheDir.
func (e *env) startGitURL(url, cacheDir string, args ...string) *gitAgent {
	e.t.Helper()
	dir := e.t.TempDir()
	secret := "hook-secret-" + filepath.Base(dir)
	secretFile := filepath.Join(dir, "webhook-secret")
	write(e.t, secretFile, secret+"\n")
	a := e.start(append([]string{"--git", url, "--interval", "200ms", "--cache-dir", cacheDir,
		"--listen", "127.0.0.1:0", "--webhook-secret-file", secretFile}, args...)...)
	listening := a.waitLogs("the agent listens", isMsg("listening"))
	addr, _ := listening[0]["address"].(string)
	return &gitAgent{agent: a, url: "http://" + addr, secret: secret}
}

// status returns the git source's part of GET /status.
func (g *gitAgent) status() source.GitStatus {
	g.t.Helper()
	resp, err := http.Get(g.url + "/status")
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		Git []source.GitStatus `json:"git"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusOK || len(s.Git) != 1 {
		g.t.Fatalf("GET /status: %s, %v, %d git sources; want 200 and one", resp.Status, err, len(s.Git))
	}
	return s.Git[0]
}

// waitPollAfter waits until the source has polled the remote twice after
// t, so that the second poll surely saw what the remote held at t.
func (g *gitAgent) waitPollAfter(t time.Time) {
	g.t.Helper()
	for range 2 {
		if !testfixture.Eventually(g.t, func() bool { return g.status().LastFetch.After(t) }) {
			g.t.Fatalf("no poll of the remote after %s", t.Format(time.RFC3339Nano))
		}
		t = g.status().LastFetch
	}
}

// postHook posts body to /hooks/git with header and returns the status
// code.
func (g *gitAgent) postHook(body []byte, header http.Header) int {
	g.t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.url+"/hooks/git", bytes.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// githubSignature is the X-Hub-Signature-256 value of body under secret.
func githubSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// waitLogs waits until the agent's log holds, in this order, a JSON line
// matching each of seq, and returns those lines (the first match of each).
// It fails the test when the agent exits first.
func (a *agent) waitLogs(what string, seq ...func(map[string]any) bool) []map[string]any {
	a.t.Helper()
	var got []map[string]any
	ok := testfixture.Eventually(a.t, func() bool {
		got = got[:0]
		for _, line := range a.stderr.jsonLines() {
			if len(got) < len(seq) && seq[len(got)](line) {
				got = append(got, line)
			}
		}
		if len(got) == len(seq) {
			return true
		}
		select {
		case err := <-a.done:
			a.done <- err // for stop and the cleanup
			a.t.Fatalf("the agent exited (%v) while waiting until %s", err, what)
		default:
		}
		return false
	})
	if !ok {
		a.t.Fatalf("gave up waiting until %s", what)
	}
	return got
}

// isMsg matches the log lines whose msg is msg.
func isMsg(msg string) func(map[string]any) bool {
	return func(line map[string]any) bool { return line["msg"] == msg }
}

// errorOf matches the agent's report of a desired-set error of commit.
func errorOf(commit string) func(map[string]any) bool {
	return func(line map[string]any) bool {
		msg, _ := line["message"].(string)
		return line["msg"] == "desired set error: kept as it was until fixed" && strings.HasPrefix(msg, "commit "+commit[:7]+": ")
	}
}

// hostIs holds when the host runs exactly want (name → isolation).
func hostIs(want map[string]string) func(map[string]driver.System) bool {
	return func(m map[string]driver.System) bool {
		if len(m) != len(want) {
			return false
		}
		for name, iso := range want {
			if s, ok := m[name]; !ok || string(s.Isolation) != iso || s.State != driver.StateRunning {
				return false
			}
		}
		return true
	}
}

// processIsolated is the host state where each of names runs with process
// isolation.
func processIsolated(names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[n] = "process"
	}
	return out
}

// with returns m with the given name → isolation pairs set.
func with(m map[string]string, kv ...string) map[string]string {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// brokenManifest is a manifest with an unknown isolation mode on line 7.
func brokenManifest(name string) string {
	return strings.Replace(testfixture.Manifest(name, ltsc2022, "hyperv"), "isolation: hyperv", "isolation: hyper-v", 1)
}

func TestWatchGitFollowsCommits(t *testing.T) {
	t.Parallel()
	// gitStep is one push and what the host and status must show after it.
	type gitStep struct {
		name string
		// rewrite resets the clone to the commit of step parent first and
		// force-pushes.
		rewrite bool
		parent  int
		files   map[string]string // committed; "" deletes
		want    map[string]string // the host: name → isolation
		// wantInForce is the step whose commit is in force; wantHeld maps
		// a file held at an older commit to that commit's step.
		wantInForce int
		wantHeld    map[string]int
		wantErr     string // "file:line" of the commit's reported error
		wantLog     string // text the agent's log must contain
	}
	steps := func(atomic bool) []gitStep {
		pick := func(perFile, whole map[string]string) map[string]string {
			if atomic {
				return whole
			}
			return perFile
		}
		anchors := processIsolated("a1", "a2", "a3")
		brokenInForce, brokenHeld := 3, map[string]int{"web.yaml": 2}
		if atomic {
			brokenInForce, brokenHeld = 2, nil
		}
		return []gitStep{
			{name: "first commit applied", files: testfixture.Manifests("a1", "a2", "a3", "web"),
				want: with(anchors, "web", "process"), wantInForce: 0},
			{name: "isolation flipped: recreated", files: map[string]string{"web.yaml": testfixture.Manifest("web", ltsc2022, "hyperv")},
				want: with(anchors, "web", "hyperv"), wantInForce: 1, wantLog: "isolation process → hyperv"},
			{name: "manifest deleted: removed", files: map[string]string{"a3.yaml": ""},
				want: with(processIsolated("a1", "a2"), "web", "hyperv"), wantInForce: 2},
			{name: "invalid file: its containers and every removal held",
				files: map[string]string{"web.yaml": brokenManifest("web"), "api.yaml": testfixture.Manifest("api", ltsc2022, "process"), "a2.yaml": ""},
				want: pick(
					with(processIsolated("a1", "a2", "api"), "web", "hyperv"),
					with(processIsolated("a1", "a2"), "web", "hyperv")),
				wantInForce: brokenInForce, wantHeld: brokenHeld, wantErr: "web.yaml:7"},
			{name: "fixing commit applied", files: map[string]string{"web.yaml": testfixture.Manifest("web", ltsc2022, "process")},
				want: processIsolated("a1", "api", "web"), wantInForce: 4},
			{name: "force-push followed", rewrite: true, parent: 0, files: testfixture.Manifests("db"),
				want: processIsolated("a1", "a2", "a3", "web", "db"), wantInForce: 5,
				wantLog: "history rewritten (force-push?): following the new head"},
		}
	}
	for _, mode := range []struct {
		name   string
		atomic bool
	}{{"per-file", false}, {"atomic", true}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			e, r := newEnv(t), testfixture.NewRemote(t)
			// These steps remove more than half of what runs within the
			// removal window; the removal guard has its own tests.
			args := []string{"--allow-mass-removal"}
			if mode.atomic {
				args = append(args, "--atomic")
			}
			var a *gitAgent
			var commits []string
			for _, st := range steps(mode.atomic) {
				push := []string{"main"}
				if st.rewrite {
					r.Git("reset", "-q", "--hard", commits[st.parent])
					push = []string{"--force", "main"}
				}
				head := r.Commit(st.files, nil)
				commits = append(commits, head)
				r.Push(push...)
				if a == nil {
					a = e.startGit(r, args...)
				}
				if st.wantErr != "" {
					// The pass that saw the commit logs its error, then ends.
					lines := a.waitLogs(st.name+": the error is reported with the commit", errorOf(head), isMsg("pass done"))
					if got := fmt.Sprintf("%v:%v", lines[0]["source"], lines[0]["line"]); got != st.wantErr {
						t.Errorf("%s: error reported at %s, want %s", st.name, got, st.wantErr)
					}
				}
				e.eventually(st.name, hostIs(st.want))
				if st.wantLog != "" { // the host shows a change a moment before the agent logs it
					a.waitOutput(fmt.Sprintf("%s: %q", st.name, st.wantLog), func(log string) bool { return strings.Contains(log, st.wantLog) })
				}
				s := a.status()
				if s.Commit != commits[st.wantInForce] || s.Newest != head {
					t.Errorf("%s: status in force %.7s newest %.7s, want %.7s and %.7s", st.name, s.Commit, s.Newest, commits[st.wantInForce], head)
				}
				wantHeld := map[string]string{}
				for f, i := range st.wantHeld {
					wantHeld[f] = commits[i]
				}
				if !maps.Equal(s.HeldFiles, wantHeld) {
					t.Errorf("%s: held files %v, want %v", st.name, s.HeldFiles, wantHeld)
				}
			}
		})
	}
}

func TestWatchGitPinsPathAndRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ref  func(first string) string
		// moveTag re-points the tag at the branch's head and expects the
		// agent to follow it.
		moveTag bool
	}{
		{name: "annotated tag", ref: func(string) string { return "v1" }, moveTag: true},
		{name: "full commit id", ref: func(first string) string { return first }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, r := newEnv(t), testfixture.NewRemote(t)
			first := r.Commit(map[string]string{
				"hosts/web1/a.yaml": testfixture.Manifest("a", ltsc2022, "process"),
				"hosts/web1/b.yaml": testfixture.Manifest("b", ltsc2022, "process"),
				"hosts/web2/c.yaml": testfixture.Manifest("c", ltsc2022, "process"),
				"README.md":         "# hosts\n",
			}, nil)
			r.Git("tag", "-a", "v1", "-m", "release 1")
			r.Push("main", "refs/tags/v1")
			a := e.startGit(r, "--ref", tt.ref(first), "--path", "hosts/web1")
			pinned := processIsolated("a", "b")
			e.eventually("the pinned commit's hosts/web1 runs", hostIs(pinned))

			// A commit on the branch after the pin is not applied.
			second := r.Commit(map[string]string{
				"hosts/web1/a.yaml": testfixture.Manifest("a", ltsc2022, "hyperv"),
				"hosts/web1/d.yaml": testfixture.Manifest("d", ltsc2022, "process"),
			}, nil)
			r.Push("main")
			a.waitPollAfter(time.Now())
			if s := a.status(); s.Commit != first || s.Newest != first {
				t.Errorf("after a commit on the branch: in force %.7s newest %.7s, want the pin %.7s", s.Commit, s.Newest, first)
			}
			if m := e.systems(); !hostIs(pinned)(m) {
				t.Errorf("a commit after the pin changed the host: %v", keys(m))
			}
			if !tt.moveTag {
				return
			}
			r.Git("tag", "-f", "-a", "v1", "-m", "release 2")
			r.Push("--force", "refs/tags/v1")
			e.eventually("the moved tag is followed", hostIs(with(pinned, "a", "hyperv", "d", "process")))
			if s := a.status(); s.Commit != second {
				t.Errorf("after the tag moved: in force %.7s, want %.7s", s.Commit, second)
			}
		})
	}
}

func TestWatchGitKeepsRunningWhenTheRemoteIsLost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ref     string
		lose    func(t testing.TB, r *testfixture.Remote)
		restore func(r *testfixture.Remote) // and push main
	}{
		{
			name: "remote deleted", ref: "main",
			lose: func(t testing.TB, r *testfixture.Remote) {
				if err := os.RemoveAll(r.Bare); err != nil {
					t.Fatal(err)
				}
			},
			restore: func(r *testfixture.Remote) { r.InitBare(); r.Push("main") },
		},
		{
			name: "branch deleted", ref: "deploy",
			lose:    func(t testing.TB, r *testfixture.Remote) { r.Push("--delete", "deploy") },
			restore: func(r *testfixture.Remote) { r.Push("main:deploy") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, r := newEnv(t), testfixture.NewRemote(t)
			first := r.Commit(testfixture.Manifests("a1", "a2", "a3"), nil)
			r.Push("main", "main:deploy")
			a := e.startGit(r, "--ref", tt.ref, "--resync", "300ms")
			anchors := processIsolated("a1", "a2", "a3")
			e.eventually("the first commit runs", hostIs(anchors))

			tt.lose(t, r)
			a.waitLogs("the lost remote is reported and a pass runs after",
				isMsg("git poll failed; the commit in force stays, retrying"), isMsg("pass done"))
			if m := e.systems(); !hostIs(anchors)(m) {
				t.Errorf("losing the remote changed the host: %v", keys(m))
			}
			if s := a.status(); s.Commit != first || s.LastError == "" {
				t.Errorf("while the remote is lost: in force %.7s, last error %q; want %.7s and the failure", s.Commit, s.LastError, first)
			}

			second := r.Commit(map[string]string{"a3.yaml": "", "b.yaml": testfixture.Manifest("b", ltsc2022, "process")}, nil)
			tt.restore(r)
			e.eventually("the restored remote's new commit runs", hostIs(processIsolated("a1", "a2", "b")))
			a.waitLogs("the agent says the remote is back", isMsg("git remote reachable again"))
			if s := a.status(); s.Commit != second || s.LastError != "" {
				t.Errorf("after the restore: in force %.7s, last error %q; want %.7s and none", s.Commit, s.LastError, second)
			}
		})
	}
}

func TestWatchGitVerifiesSignatures(t *testing.T) {
	t.Parallel()
	trusted, stranger := testfixture.NewSigner(t, "trusted"), testfixture.NewSigner(t, "stranger")
	keyring := filepath.Join(t.TempDir(), "keys.asc")
	write(t, keyring, testfixture.ArmoredPublicKeys(t, trusted))
	first := with(processIsolated("a1", "a2"), "web", "process")
	steps := []struct {
		name    string
		key     *openpgp.Entity
		files   map[string]string
		want    map[string]string
		wantErr string // in the rejection of the head; "" = applied
	}{
		{name: "signed by a trusted key: applied", key: trusted, files: testfixture.Manifests("a1", "a2", "web"), want: first},
		{name: "unsigned head: not applied", files: map[string]string{"web.yaml": testfixture.Manifest("web", ltsc2022, "hyperv")},
			want: first, wantErr: "is not signed"},
		{name: "head signed by an unknown key: not applied", key: stranger, files: testfixture.Manifests("a3"),
			want: first, wantErr: "not signed by a trusted key"},
		{name: "signed by a trusted key again: the whole head applied", key: trusted, files: map[string]string{"README.md": "signed\n"},
			want: with(processIsolated("a1", "a2", "a3"), "web", "hyperv")},
	}
	e, r := newEnv(t), testfixture.NewRemote(t)
	var a *gitAgent
	inForce := ""
	for _, st := range steps {
		head := r.Commit(st.files, st.key)
		r.Push("main")
		if a == nil {
			a = e.startGit(r, "--verify-signatures", keyring)
		}
		if st.wantErr != "" {
			lines := a.waitLogs(st.name+": the rejected head is reported", errorOf(head), isMsg("pass done"))
			if msg, _ := lines[0]["message"].(string); !strings.Contains(msg, st.wantErr) {
				t.Errorf("%s: reported %q, want it to say %q", st.name, msg, st.wantErr)
			}
			rejected := 0
			for _, l := range a.stderr.logLines("head commit not applied") {
				if l["commit"] == head {
					rejected++
				}
			}
			if rejected != 1 {
				t.Errorf("%s: %d log lines say the head is not applied, want 1", st.name, rejected)
			}
		} else {
			inForce = head
		}
		e.eventually(st.name, hostIs(st.want))
		s := a.status()
		errOK := s.LastError == ""
		if st.wantErr != "" {
			errOK = strings.Contains(s.LastError, st.wantErr)
		}
		if s.Commit != inForce || s.Newest != head || !errOK {
			t.Errorf("%s: status in force %.7s newest %.7s error %q; want %.7s, %.7s and an error saying %q",
				st.name, s.Commit, s.Newest, s.LastError, inForce, head, st.wantErr)
		}
	}
}

func TestWatchGitWebhook(t *testing.T) {
	t.Parallel()
	e, r := newEnv(t), testfixture.NewRemote(t)
	r.Commit(testfixture.Manifests("a1", "a2", "a3"), nil)
	r.Push("main")
	a := e.startGit(r, "--interval", "1h")
	want := processIsolated("a1", "a2", "a3")
	e.eventually("the first commit runs", hostIs(want))

	tests := []struct {
		name     string
		header   func(secret string, body []byte) http.Header
		wantCode int
	}{
		{name: "no signature", header: func(string, []byte) http.Header { return nil }, wantCode: http.StatusUnauthorized},
		{name: "GitHub signature with a wrong secret", wantCode: http.StatusUnauthorized,
			header: func(_ string, body []byte) http.Header {
				return http.Header{"X-Hub-Signature-256": {githubSignature("wrong", body)}}
			}},
		{name: "GitHub signature of another body", wantCode: http.StatusUnauthorized,
			header: func(secret string, _ []byte) http.Header {
				return http.Header{"X-Hub-Signature-256": {githubSignature(secret, []byte("{}"))}}
			}},
		{name: "wrong GitLab token", wantCode: http.StatusUnauthorized,
			header: func(string, []byte) http.Header { return http.Header{"X-Gitlab-Token": {"wrong"}} }},
		{name: "good GitHub signature", wantCode: http.StatusAccepted,
			header: func(secret string, body []byte) http.Header {
				return http.Header{"X-Hub-Signature-256": {githubSignature(secret, body)}}
			}},
		{name: "good GitLab token", wantCode: http.StatusAccepted,
			header: func(secret string, _ []byte) http.Header { return http.Header{"X-Gitlab-Token": {secret}} }},
	}
	for i, tt := range tests {
		name := fmt.Sprintf("hook%d", i)
		head := r.Commit(testfixture.Manifests(name), nil)
		r.Push("main")
		before := a.status()
		body := []byte(`{"ref":"refs/heads/main","after":"` + head + `"}`)
		if code := a.postHook(body, tt.header(a.secret, body)); code != tt.wantCode {
			t.Errorf("%s: POST /hooks/git = %d, want %d", tt.name, code, tt.wantCode)
		}
		want[name] = "process" // once the remote is fetched
		if tt.wantCode != http.StatusAccepted {
			// An absence window: a wrongly accepted hook would fetch within it.
			// A slow machine can only make it miss a fault, never fail.
			time.Sleep(400 * time.Millisecond)
			if s := a.status(); !s.LastFetch.Equal(before.LastFetch) || s.Newest == head {
				t.Errorf("%s: a rejected webhook fetched the remote (last fetch %s → %s)", tt.name, before.LastFetch, s.LastFetch)
			}
			if _, ok := e.systems()[name]; ok {
				t.Errorf("%s: a rejected webhook created %s", tt.name, name)
			}
			continue
		}
		e.eventually(tt.name+": the pushed commits run", hostIs(want))
		if s := a.status(); s.Commit != head || s.Newest != head {
			t.Errorf("%s: status in force %.7s newest %.7s, want %.7s", tt.name, s.Commit, s.Newest, head)
		}
	}
	if strings.Contains(a.stderr.String(), a.secret) {
		t.Error("the webhook secret appears in the agent's log")
	}
}
