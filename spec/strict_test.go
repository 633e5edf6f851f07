package spec

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecodeStrict(t *testing.T) {
	type target struct {
		Name  *string  `json:"name"`
		Count *int     `json:"count"`
		On    *bool    `json:"on"`
		List  []string `json:"list"`
	}
	tests := []struct {
		name    string
		in      string
		want    target
		wantErr []string
	}{
		{name: "good", in: "name: '0123'\ncount: 3\non: true\nlist: [a, b]\n",
			want: target{Name: ptr("0123"), Count: ptr(3), On: ptr(true), List: []string{"a", "b"}}},
		{name: "comments only", in: "# nothing\n"},
		{name: "unknown field, did you mean", in: "name: x\ncuont: 3\n",
			wantErr: []string{"f.yaml:2: cuont: unknown field \"cuont\"; did you mean \"count\"?"}},
		{name: "YAML 1.1 boolean", in: "on: yes\n", wantErr: []string{"f.yaml:1: on: \"yes\" is a boolean only to YAML 1.1 tools; write true"}},
		{name: "octal-looking number", in: "count: 010\n", wantErr: []string{"f.yaml:1: count: \"010\" has a leading zero"}},
		{name: "wrong type", in: "list: a\n", wantErr: []string{"f.yaml:1: list: must be a list"}},
		{name: "double-quoted Windows path", in: "name: \"C:\\app\"\n", wantErr: []string{"f.yaml:1: name: holds the control character BEL"}},
		{name: "two documents", in: "name: a\n---\nname: b\n", wantErr: []string{"f.yaml:3: a second YAML document"}},
		{name: "repeated key", in: "name: a\nname: b\n", wantErr: []string{"f.yaml:2: name: is set twice (first on line 1)"}},
		{name: "syntax error", in: "name: [a\n", wantErr: []string{"f.yaml:2: invalid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got target
			problems := DecodeStrict([]byte(tt.in), "f.yaml", &got)
			if len(problems) != len(tt.wantErr) {
				t.Fatalf("problems %v, want %d", problems, len(tt.wantErr))
			}
			for i, p := range problems {
				if !strings.HasPrefix(p.Error(), tt.wantErr[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, p.Error(), tt.wantErr[i])
				}
			}
			if tt.wantErr == nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded %+v, want %+v", got, tt.want)
			}
		})
	}
}
