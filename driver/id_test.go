package driver

import "testing"

func TestParseSystemID(t *testing.T) {
	tests := []struct {
		name     string
		id       string
		wantName string
		wantHash string
		wantOK   bool
	}{
		{name: "managed", id: SystemID("web", "v1-0123456789abcdef"), wantName: "web", wantHash: "v1-0123456789abcdef", wantOK: true},
		{name: "docker id", id: "1f8bf89026c8f66921a55e773bac1c60174bb6bab52ef427c6c8dbc8698f9d7a"},
		{name: "empty name", id: "_v1-00"},
		{name: "empty hash", id: "web_"},
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
