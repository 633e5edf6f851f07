package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// named is a document of a container named name, with extra under
// spec; its dependsOn entries, if any, start on the document's line 7.
func named(name, extra string) string {
	return strings.Replace(manifest(extra), "name: web", "name: "+name, 1)
}

// dependsOn is the spec lines of dependsOn entries, "name" or
// "name:condition".
func dependsOn(deps ...string) string {
	s := "  dependsOn:\n"
	for _, d := range deps {
		name, cond, _ := strings.Cut(d, ":")
		if cond == "" {
			s += fmt.Sprintf("    - name: %s\n", name)
		} else {
			s += fmt.Sprintf("    - {name: %s, condition: %s}\n", name, cond)
		}
	}
	return s
}

const tcpCheck = "  healthcheck: {tcp: 80}\n"

// TestCheckDependencies checks dependsOn across the set: each problem at
// the entry (file:line), the containers that cannot be created in order
// left out, and the rest kept.
func TestCheckDependencies(t *testing.T) {
	tests := []struct {
		name string
		// docs are the documents of one file, "---" separated; a
		// document of N lines starts N+1 lines after the previous one.
		docs []string
		keep []string
		errs []string
	}{
		{name: "no dependencies", docs: []string{named("a", ""), named("b", "")}, keep: []string{"a", "b"}},
		{
			name: "a chain, healthy where a check is declared",
			docs: []string{named("web", dependsOn("api")), named("api", dependsOn("db:healthy", "cache:started")), named("db", tcpCheck), named("cache", "")},
			keep: []string{"web", "api", "db", "cache"},
		},
		{
			name: "a name not in the set",
			docs: []string{named("web", dependsOn("cache", "databse:healthy")), named("database", tcpCheck), named("cache", "")},
			keep: []string{"database", "cache"},
			errs: []string{`m.yaml:9: web: spec.dependsOn[1].name: "databse" is not a container of the desired set (no valid manifest declares it); did you mean "database"? Else declare it, fix its manifest, or remove this entry`},
		},
		{
			name: "healthy without a healthcheck",
			docs: []string{named("web", dependsOn("db:healthy")), named("db", "")},
			keep: []string{"db"},
			errs: []string{"m.yaml:8: web: spec.dependsOn[0].condition: web waits for db to be healthy, but db (m.yaml:10) declares no healthcheck; add a healthcheck to db, or write condition: started"},
		},
		{
			name: "a cycle of two, and a container waiting for it",
			docs: []string{named("web", dependsOn("api")), named("api", dependsOn("web")), named("front", dependsOn("web")), named("db", "")},
			keep: []string{"db"},
			errs: []string{
				"m.yaml:17: api: spec.dependsOn[0].name: dependency cycle: api → web → api; no container of it could ever be created first: remove one of these dependsOn entries; the others are web (m.yaml:1)",
				"m.yaml:26: front: spec.dependsOn[0].name: web is left out of the desired set by the problem at m.yaml:17; front waits for it, so it is left out too until that is fixed",
			},
		},
		{
			name: "a cycle of three",
			docs: []string{named("a", dependsOn("b")), named("b", dependsOn("c")), named("c", dependsOn("x", "a")), named("x", "")},
			keep: []string{"x"},
			errs: []string{"m.yaml:27: c: spec.dependsOn[1].name: dependency cycle: c → a → b → c; no container of it could ever be created first: remove one of these dependsOn entries; the others are a (m.yaml:1), b (m.yaml:10)"},
		},
		{
			name: "a chain left out from its end",
			docs: []string{named("a", dependsOn("b")), named("b", dependsOn("c")), named("c", dependsOn("gone"))},
			keep: []string{},
			errs: []string{
				"m.yaml:8: a: spec.dependsOn[0].name: b is left out of the desired set by the problem at m.yaml:17; a waits for it, so it is left out too until that is fixed",
				"m.yaml:17: b: spec.dependsOn[0].name: c is left out of the desired set by the problem at m.yaml:26; b waits for it, so it is left out too until that is fixed",
				`m.yaml:26: c: spec.dependsOn[0].name: "gone" is not a container of the desired set (no valid manifest declares it); declare it, fix its manifest, or remove this entry`,
			},
		},
		{
			name: "a dependency declared twice",
			docs: []string{named("web", dependsOn("db")), named("db", ""), named("db", "")},
			keep: []string{},
			errs: []string{
				`m.yaml:10: db: metadata.name: name "db" is declared 2 times, in m.yaml:10, m.yaml:17; container names must be unique across the desired set`,
				"m.yaml:8: web: spec.dependsOn[0].name: db is left out of the desired set by a problem of its own (declared at m.yaml:10, m.yaml:17); this container waits for it, so it is left out too until that is fixed",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, ps := ParseData([]byte(strings.Join(tt.docs, "---\n")), "m.yaml")
			if len(ps) > 0 {
				t.Fatalf("documents do not parse:\n%s", renderProblems(ps))
			}
			kept, problems := CheckUnique(cs)
			names := []string{}
			for _, c := range kept {
				names = append(names, c.Metadata.Name)
			}
			if !slices.Equal(names, tt.keep) {
				t.Errorf("kept %q, want %q", names, tt.keep)
			}
			var errs []string
			for _, p := range problems {
				errs = append(errs, p.Error())
			}
			if !slices.Equal(errs, tt.errs) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(errs, "\n  "), strings.Join(tt.errs, "\n  "))
			}
		})
	}
}

// TestCheckDependenciesKeepsTheSet: a set without a dependency problem is
// returned as it came, not copied.
func TestCheckDependenciesKeepsTheSet(t *testing.T) {
	cs, ps := ParseData([]byte(named("web", dependsOn("db:healthy"))+"---\n"+named("db", tcpCheck)), "m.yaml")
	if len(ps) > 0 || len(cs) != 2 {
		t.Fatalf("Parse: %d containers, problems:\n%s", len(cs), renderProblems(ps))
	}
	kept, problems := CheckUnique(cs)
	if len(problems) > 0 || &kept[0] != &cs[0] {
		t.Errorf("CheckUnique copied the set or found %v", problems)
	}
}

// TestLoadDependencies: through Load, a dependsOn problem is an error of
// the set (every error holds removals) with the file and line of the entry,
// and the containers it leaves out are not in the set.
func TestLoadDependencies(t *testing.T) {
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"web.yaml":   named("web", dependsOn("api")),
		"api.yaml":   named("api", dependsOn("web")),
		"db.yaml":    named("db", tcpCheck),
		"cache.yaml": named("cache", dependsOn("db:healthy")),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := origins(set.Containers); !slices.Equal(got, []string{"cache@cache.yaml:1", "db@db.yaml:1"}) {
		t.Errorf("containers %q, want cache and db", got)
	}
	if len(set.Errors) != 1 || set.Errors[0].Error() != "web.yaml:8: web: spec.dependsOn[0].name: dependency cycle: web → api → web; no container of it could ever be created first: remove one of these dependsOn entries; the others are api (api.yaml:1)" {
		t.Errorf("errors:\n%s", renderProblems(set.Errors))
	}
}

// BenchmarkCheckDependencies10k checks a set of 10,000 containers (the
// product's target size), each waiting for the next: all met, and all
// left out because the last one waits for a name nobody declares (every
// container then has a problem: the worst case). The floor is the same
// set without dependsOn (names and host ports only).
func BenchmarkCheckDependencies10k(b *testing.B) {
	const n = 10000
	for _, tc := range []struct {
		name, last string
		kept       int
		none       bool
	}{{"floor: no dependsOn", "", n, true}, {"met", "", n, false}, {"chain broken at its end", "gone", 0, false}} {
		b.Run(tc.name, func(b *testing.B) {
			cs := make([]Container, n)
			for i := range cs {
				cs[i].Metadata.Name = "c" + strconv.Itoa(i)
				cs[i].Origin = Origin{File: cs[i].Metadata.Name + ".yaml", Line: 1, DependsOn: []int{8}}
				next := "c" + strconv.Itoa(i+1)
				if i == n-1 {
					next = tc.last
				}
				if next != "" && !tc.none {
					cs[i].Spec.DependsOn = []Dependency{{Name: next}}
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if kept, _ := CheckUnique(cs); len(kept) != tc.kept {
					b.Fatalf("kept %d, want %d", len(kept), tc.kept)
				}
			}
		})
	}
}
