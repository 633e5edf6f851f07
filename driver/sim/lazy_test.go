package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// The check of the values a record is not decoded from agrees with
// json.Valid.
func FuzzLineValue(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `{"a":[1,-2,3.5e+7,0,-0.25E-3],"b":{"c":null,"d":true,"e":false}}`,
		`"plain"`, `"esc \" \\ \/ \b \f \n \r \t \u00e9 \uD83D"`, `"bad \x"`, `"bad \u12"`, "\"ctl \x01\"", "\"utf8 \xff\"", `"é"`,
		`01`, `-`, `1.`, `1e`, `.5`, `+1`, `-01`, `tru`, `nul`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{1:2}`, `[1 2]`,
		` [ 1 , { "a" : "b" } ] `, `{"a":1}}`, `"unterminated`, `[[[[]]]]`, `{"a":[{"b":[{"c":"d"}]}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := lineParser{data: data}
		p.ws()
		p.value(0)
		p.ws()
		if got, want := !p.bad && p.at == len(data), json.Valid(data); got != want {
			t.Errorf("value(%q) valid = %v, json.Valid = %v", data, got, want)
		}
	})
}

// A host read from its files answers as the host that wrote them: records
// read lazily (their spec and processes decoded when first needed) and
// records read in full (a name with characters JSON escapes) alike. A
// spec edited into something that is not a spec is refused, as
// ErrStateDamaged, by the first call that needs it.
func TestLazyRecords(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "host.json")
	writer := openTestHost(t, path)
	web := createReq("web", spec.IsolationHyperV, "mcr.microsoft.com/windows/servercore:ltsc2019")
	web.Spec.Env = map[string]string{"PATH": `C:\app;C:\Windows`}
	web.Spec.Command = []string{`C:\app\web.exe`, "--port", "80"}
	odd := createReq("a<b>&c", spec.IsolationProcess, "nanoserver:ltsc2022")
	api := createReq("api", spec.IsolationProcess, "nanoserver:ltsc2022")
	for _, req := range []driver.CreateRequest{web, odd} {
		mustCreate(t, ctx, writer, req)
	}
	compactNow(t, writer)
	mustCreate(t, ctx, writer, api) // in the journal

	reader := openTestHost(t, path)
	lazy := 0
	for _, r := range reader.st.m.systems {
		if r.lazy != nil {
			lazy++
		}
	}
	if lazy != 2 {
		t.Errorf("%d records read lazily, want 2 (web from the state file, api from the journal)", lazy)
	}
	same := func(who string) {
		t.Helper()
		want, err := writer.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := reader.List(ctx)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: List = %+v, %v; want %+v", who, got, err, want)
		}
		for _, s := range want {
			wantView, err := writer.Processes(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if view, err := reader.Processes(ctx, s.ID); err != nil || !reflect.DeepEqual(view, wantView) {
				t.Errorf("%s: Processes(%s) = %+v, %v; want %+v", who, s.Name, view, err, wantView)
			}
			wantReq, err := writer.CreatedWith(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if req, err := reader.CreatedWith(ctx, s.ID); err != nil || !reflect.DeepEqual(req, wantReq) {
				t.Errorf("%s: CreatedWith(%s) = %+v, %v; want %+v", who, s.Name, req, err, wantReq)
			}
		}
	}
	same("reader")

	// A change through the reader, then a compaction, keep every record
	// whole, whether it was decoded in full or not.
	if err := reader.Kill(ctx, "web", 3); err != nil {
		t.Fatal(err)
	}
	if err := reader.Delete(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, ctx, reader, api)
	compactNow(t, reader)
	same("after a kill and a compaction")

	// An edit inside a spec that keeps the line valid JSON.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		if bytes.Contains(line, []byte(`{"id":"`+managedID("api")+`"`)) {
			lines[i] = bytes.Replace(line, []byte(`"spec":{`), []byte(`"spec":{"color":"blue",`), 1)
		}
	}
	writeFile(t, path, bytes.Join(lines, []byte("\n")))
	edited := openTestHost(t, path)
	if _, err := edited.List(ctx); err != nil {
		t.Fatalf("List of a state whose spec was edited: %v", err)
	}
	if _, err := edited.CreatedWith(ctx, managedID("api")); !errors.Is(err, ErrStateDamaged) || !strings.Contains(err.Error(), "color") {
		t.Errorf("CreatedWith of an edited spec = %v, want ErrStateDamaged naming the unknown field", err)
	}
}

// The numbers of a record's summary read as strconv reads them: the same
// value, and the same refusal of what is out of range or not an integer
// (and of what is not a JSON number, as a leading zero).
func FuzzLineNumbers(f *testing.F) {
	for _, seed := range []string{`0`, `-0`, `7`, `-12`, `4294967295`, `4294967296`, `18446744073709551615`, `18446744073709551616`,
		`9223372036854775807`, `9223372036854775808`, `-9223372036854775808`, `-9223372036854775809`, `1.5`, `1e3`, `01`, `-`, ``, `x`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, bits := range []int{32, 64} {
			p := lineParser{data: data}
			got := p.uint(bits)
			want, err := strconv.ParseUint(string(data), 10, bits)
			if ok := !p.bad && p.at == len(data); ok != (err == nil && json.Valid(data)) || ok && got != want {
				t.Errorf("uint(%q, %d) = %d ok %v; strconv: %d, %v", data, bits, got, ok, want, err)
			}
		}
		p := lineParser{data: data}
		got := p.int()
		want, err := strconv.Atoi(string(data))
		if ok := !p.bad && p.at == len(data); ok != (err == nil && json.Valid(data)) || ok && got != want {
			t.Errorf("int(%q) = %d ok %v; strconv: %d, %v", data, got, ok, want, err)
		}
	})
}

// A record read lazily holds its summary's strings in its line, not in a
// copy: reading it allocates the record only.
func TestLazySummaryInLine(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "host.json")
	writer := openTestHost(t, path)
	mustCreate(t, ctx, writer, createReq("web", spec.IsolationProcess, "mcr.microsoft.com/windows/servercore:ltsc2022"))
	compactNow(t, writer)
	r := openTestHost(t, path).st.m.systems[managedID("web")]
	if r == nil || r.lazy == nil {
		t.Fatalf("web not read lazily: %+v", r)
	}
	line := uintptr(unsafe.Pointer(unsafe.SliceData(r.lazy)))
	for _, s := range []string{r.ID, r.Name, r.Owner, string(r.Isolation), r.Image, string(r.State), r.SpecHash} {
		if at := uintptr(unsafe.Pointer(unsafe.StringData(s))); at < line || at >= line+uintptr(len(r.lazy)) {
			t.Errorf("%q is not in the record's line", s)
		}
	}
	if n := testing.AllocsPerRun(10, func() { parseRecord(r.lazy) }); n != 1 {
		t.Errorf("parseRecord allocates %v times, want once (the record)", n)
	}
}
