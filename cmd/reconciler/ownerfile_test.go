package main

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOwnerFileName(t *testing.T) {
	tests := []struct{ owner, want string }{
		{owner: "reconciler", want: "reconciler"},
		{owner: "team-a_1.2", want: "team-a_1.2"},
		{owner: "team:web", want: "team%3Aweb"},
		{owner: "Web", want: "%57eb"},
		{owner: `a/b\c`, want: "a%2Fb%5Cc"},
		{owner: `*?"<>|`, want: "%2A%3F%22%3C%3E%7C"},
		{owner: "50%", want: "50%25"},
		{owner: "tab\there space", want: "tab%09here%20space"},
		{owner: "équipe", want: "%C3%A9quipe"},
	}
	for _, tt := range tests {
		t.Run(tt.owner, func(t *testing.T) {
			got := ownerFileName(tt.owner)
			if got != tt.want {
				t.Errorf("ownerFileName(%q) = %q, want %q", tt.owner, got, tt.want)
			}
			if back, err := url.PathUnescape(got); err != nil || back != tt.owner {
				t.Errorf("url.PathUnescape(%q) = %q, %v; want %q", got, back, err, tt.owner)
			}
			if i := strings.IndexAny(got, "<>:\"/\\|?* \x00\t"); i >= 0 {
				t.Errorf("%q holds %q, which NTFS refuses or reads as a stream", got, got[i])
			}
		})
	}
	// Owners differing only in case, or in how a character is written, get
	// names that differ even on a case-insensitive file system.
	owners := []string{"web", "Web", "WEB", "team:web", "team%3Aweb", "team%3aweb", "Team:Web"}
	seen := map[string]string{}
	for _, o := range owners {
		name := strings.ToLower(ownerFileName(o))
		if prev, ok := seen[name]; ok {
			t.Errorf("owners %q and %q share the file name %q on a case-insensitive file system", prev, o, name)
		}
		seen[name] = o
	}
}

// TestLockAgentOwnersApart: owners that NTFS would mix up (a colon, a
// capital) each hold their own lock at once, and each lock is a plain
// file in the state's folder.
func TestLockAgentOwnersApart(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "host.json")
	owners := []string{"team", "team:web", "Team:web", "TEAM:WEB"}
	for _, owner := range owners {
		l, err := (&globals{driver: "sim", simState: state, owner: owner}).lockAgent()
		if err != nil {
			t.Fatalf("agent of %q: %v", owner, err)
		}
		defer l.Unlock()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := []string{"host.json.agent-%54%45%41%4D%3A%57%45%42.lock", "host.json.agent-%54eam%3Aweb.lock",
		"host.json.agent-team%3Aweb.lock", "host.json.agent-team.lock"}
	if !slices.Equal(got, want) {
		t.Errorf("files in the state's folder = %q, want %q", got, want)
	}
}
