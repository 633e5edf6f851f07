package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var sample = Event{Event: Failed, Host: "web1", Owner: "reconciler", Containers: []string{"web"},
	Reasons: []string{"web: create (not running): pull https://bob:hunter2@registry.example/app: denied\n  retry later"},
	Time:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}

func TestEncodeWebhook(t *testing.T) {
	body, err := encode(TypeWebhook, sample)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"event": "failed", "host": "web1", "owner": "reconciler", "containers": []any{"web"},
		"reasons": []any{"web: create (not running): pull https://registry.example/app: denied retry later"}, "time": "2026-01-02T03:04:05Z"}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("webhook body\n%s\nwant\n%s", g, w)
	}
	if body, _ := encode(TypeWebhook, Event{Event: Recovered}); !strings.Contains(string(body), `"containers":[]`) || !strings.Contains(string(body), `"reasons":[]`) {
		t.Errorf("empty lists encoded as %s, want []", body)
	}
}

func TestEncodeChat(t *testing.T) {
	for _, typ := range []string{TypeTeams, TypeSlack} {
		t.Run(typ, func(t *testing.T) {
			body, err := encode(typ, sample)
			if err != nil {
				t.Fatal(err)
			}
			s := string(body)
			for _, want := range []string{"reconciler on web1 (owner reconciler): actions failed", "Containers: web", "registry.example/app: denied"} {
				if !strings.Contains(s, want) {
					t.Errorf("%s message lacks %q: %s", typ, want, s)
				}
			}
			if strings.Contains(s, "hunter2") {
				t.Errorf("%s message carries a credential: %s", typ, s)
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			switch typ {
			case TypeTeams:
				att := m["attachments"].([]any)[0].(map[string]any)
				if m["type"] != "message" || att["contentType"] != "application/vnd.microsoft.card.adaptive" ||
					att["content"].(map[string]any)["type"] != "AdaptiveCard" {
					t.Errorf("not a Teams Adaptive Card message: %s", s)
				}
			case TypeSlack:
				if m["text"] == "" || len(m["blocks"].([]any)) != 3 {
					t.Errorf("not a Slack message with text and blocks: %s", s)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
