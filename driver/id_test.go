package driver

import (
	"strings"
	"testing"
)

func TestParseSystemID(t *testing.T) {
	tests := []struct {
		name     string
		id       string
		wantName string
		wantHash string
		wantOK   bool
	}{
		{name: "managed", id: SystemID("web", "reconciler", "v1-0123456789abcdef"), wantName: "web", wantHash: "v1-0123456789abcdef", wantOK: true},
		{name: "owner with separators", id: SystemID("web", "team:web_ops/α b", "v1-0123456789abcdef"), wantName: "web", wantHash: "v1-0123456789abcdef", wantOK: true},
		{name: "before owners were in ids", id: "web_v1-0123456789abcdef", wantName: "web", wantHash: "v1-0123456789abcdef", wantOK: true},
		{name: "docker id", id: "1f8bf89026c8f66921a55e773bac1c60174bb6bab52ef427c6c8dbc8698f9d7a"},
		{name: "foreign id with a separator", id: "my_container"},
		{name: "foreign id with two separators", id: "a_0123456789ab_c"},
		{name: "owner token not hex", id: "web_0123456789xy_v1-00"},
		{name: "owner token upper case", id: "web_0123456789AB_v1-00"},
		{name: "owner token too short", id: "web_0123_v1-00"},
		{name: "four parts", id: "web_0123456789ab_v1-00_x"},
		{name: "empty name", id: "_v1-00"},
		{name: "empty hash", id: "web_"},
		{name: "hash without version", id: "web_v-00"},
		{name: "hash without digest", id: "web_v1-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, hash, ok := ParseSystemID(tt.id)
			if name != tt.wantName || hash != tt.wantHash || ok != tt.wantOK {
				t.Errorf("ParseSystemID(%q) = %q, %q, %v; want %q, %q, %v", tt.id, name, hash, ok, tt.wantName, tt.wantHash, tt.wantOK)
			}
		})
	}
}

// Two owners declaring one name with one spec get two IDs; one owner gets
// one ID whatever the call.
func TestSystemIDPerOwner(t *testing.T) {
	const hash = "v1-0123456789abcdef"
	owners := []string{"reconciler", "team:web", "team:web ", "Reconciler", "", "a_b"}
	seen := map[string]string{}
	for _, owner := range owners {
		id := SystemID("web", owner, hash)
		if other, dup := seen[id]; dup {
			t.Errorf("owners %q and %q share the id %s", owner, other, id)
		}
		seen[id] = owner
		if again := SystemID("web", owner, hash); again != id {
			t.Errorf("SystemID for %q is not stable: %s, then %s", owner, id, again)
		}
		if strings.Count(id, idSeparator) != 2 {
			t.Errorf("SystemID(web, %q) = %s: the owner leaked a separator into the id", owner, id)
		}
	}
}
