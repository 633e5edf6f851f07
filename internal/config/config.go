// Package config reads the agent's config file: one YAML document whose
// keys are the long flags of the command that reads it ("dir", "git",
// "owner", "resync", …) plus "notify", the notification targets.
//
// The file is the command line written down, so it can hold nothing a
// flag cannot: every value goes through its flag's own parsing, and a flag
// added to the command is a key of the file at once. It is decoded as
// strictly as a manifest (spec.DecodeStrict): an unknown key is an error
// with its file:line and a did-you-mean, YAML 1.1 readings (yes, 0123)
// are refused. A flag given on the command line wins over the file.
// Secrets are never in the file: it names the files that hold them
// (git-token-file, webhook-secret-file, …).
//
// It imports spec for its decoder and nothing else of the project.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/reconciler/reconciler/internal/regularfile"
	"github.com/reconciler/reconciler/spec"
)

// NotifyKey is the key of the notification targets.
const NotifyKey = "notify"

// NotifyTarget is where notifications go: a generic JSON webhook, a
// Microsoft Teams or a Slack incoming webhook.
type NotifyTarget struct {
	// Type is webhook, teams or slack.
	Type string `json:"type"`
	// URL is the absolute http or https URL messages are posted to.
	URL string `json:"url"`
}

// NotifyTypes are the valid NotifyTarget types.
var NotifyTypes = []string{"webhook", "teams", "slack"}

// Excluded are flags that are not keys of a config file: the file itself,
// help, and the output format of one-shot commands.
var Excluded = []string{"config", "help", "output", "version"}

// File is a config file read and checked against a command's flags.
type File struct {
	// Path is the file as named on the command line.
	Path string
	// Notify are the notification targets, validated.
	Notify []NotifyTarget

	values reflect.Value
	keys   []key
	lines  map[string]int
}

// key is one flag the file may set, and the field of values that holds it.
type key struct {
	flag  *pflag.Flag
	field int
}

// Load reads the config file at path and checks it against the flags of
// fs (keys are their long names, less Excluded, plus NotifyKey): each
// problem is an error "file:line: key: message", all of them joined.
func Load(path string, fs *pflag.FlagSet) (*File, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path, fs)
}

// readFile reads a config file: a regular file (a named pipe would block
// the read) of at most spec.MaxFileSize bytes.
func readFile(path string) ([]byte, error) {
	data, err := regularfile.Read(path, spec.MaxFileSize)
	if errors.Is(err, regularfile.ErrTooLarge) {
		return nil, fmt.Errorf("config file %s: over the 1 MiB limit", path)
	}
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return data, nil
}

// Parse is Load of a file's content; name is how problems name the file.
func Parse(data []byte, name string, fs *pflag.FlagSet) (*File, error) {
	f := &File{Path: name}
	typ := f.layout(fs)
	ptr := reflect.New(typ)
	problems := spec.DecodeStrict(data, name, ptr.Interface())
	f.values = ptr.Elem()
	f.lines = keyLines(data)
	for i := range problems {
		explainSecret(&problems[i], f.keys)
	}
	f.Notify = f.values.Field(0).Interface().([]NotifyTarget)
	if len(problems) == 0 {
		problems = f.checkNotify()
	}
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	return f, nil
}

// layout is the struct the file decodes into: Notify first, then one
// field per flag, tagged with its name and typed by its kind (a list for
// repeatable flags, a bool, an int, else the text the flag parses).
func (f *File) layout(fs *pflag.FlagSet) reflect.Type {
	fields := []reflect.StructField{{Name: "Notify", Type: reflect.TypeFor[[]NotifyTarget](), Tag: `json:"notify"`}}
	fs.VisitAll(func(fl *pflag.Flag) {
		if slices.Contains(Excluded, fl.Name) || fl.Name == NotifyKey {
			// A --notify flag, if the command has one, is the command
			// line's way to name targets; the file's is the list.
			return
		}
		var t reflect.Type
		switch fl.Value.Type() {
		case "stringArray", "stringSlice":
			t = reflect.TypeFor[[]string]()
		case "bool":
			t = reflect.TypeFor[*bool]()
		case "int":
			t = reflect.TypeFor[*int]()
		default:
			t = reflect.TypeFor[*string]()
		}
		f.keys = append(f.keys, key{flag: fl, field: len(fields)})
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", len(fields)), Type: t, Tag: reflect.StructTag(fmt.Sprintf("json:%q", fl.Name))})
	})
	return reflect.StructOf(fields)
}

// Keys are the keys the file may hold, in the order of the flag set
// (sorted), then NotifyKey.
func (f *File) Keys() []string {
	out := make([]string, 0, len(f.keys)+1)
	for _, k := range f.keys {
		out = append(out, k.flag.Name)
	}
	return append(out, NotifyKey)
}

// Apply sets each flag the file sets and the command line did not (fs.Changed),
// through the flag's own parsing: command line, then file, then the flag's
// default. A value the flag refuses is an error at its line.
func (f *File) Apply(fs *pflag.FlagSet) error {
	var problems []spec.Problem
	for _, k := range f.keys {
		texts := f.texts(k)
		if texts == nil || fs.Changed(k.flag.Name) {
			continue
		}
		for _, s := range texts {
			if err := fs.Set(k.flag.Name, s); err != nil {
				problems = append(problems, spec.Problem{File: f.Path, Line: f.lines[k.flag.Name], Field: k.flag.Name, Message: setError(err, k.flag.Name)})
				break
			}
		}
	}
	if len(problems) > 0 {
		return joinProblems(problems)
	}
	return nil
}

// texts returns the values the file gives flag k, as the flag's Set
// takes them; nil when the file does not set it.
func (f *File) texts(k key) []string {
	v := f.values.Field(k.field)
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		return v.Interface().([]string)
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return []string{fmt.Sprint(v.Elem().Interface())}
	}
	return nil
}

// setError is the message of a value fs.Set refused, without pflag's
// wrapping (which repeats the value: it might be a path or a URL the
// operator did not mean to show).
func setError(err error, name string) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "\" for \"--"+name+"\" flag: "); ok {
		return after
	}
	return msg
}

// checkNotify validates the notification targets.
func (f *File) checkNotify() []spec.Problem {
	var problems []spec.Problem
	for i, n := range f.Notify {
		at := func(field, format string, args ...any) {
			path := fmt.Sprintf("%s[%d].%s", NotifyKey, i, field)
			problems = append(problems, spec.Problem{File: f.Path, Line: f.lines[path], Field: path, Message: fmt.Sprintf(format, args...)})
		}
		if !slices.Contains(NotifyTypes, n.Type) {
			if n.Type == "" {
				at("type", "is required: one of %s", strings.Join(NotifyTypes, ", "))
			} else {
				at("type", "%q is not a notification type: use one of %s", n.Type, strings.Join(NotifyTypes, ", "))
			}
		}
		if err := CheckURL(n.URL); err != nil {
			at("url", "%v", err)
		}
	}
	return problems
}

// CheckURL checks a notification URL: absolute, http or https, with a
// host. The URL itself is never part of the error: a Teams or Slack
// webhook URL is a credential.
func CheckURL(s string) error {
	if s == "" {
		return errors.New("is required: the absolute http or https URL to post to")
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must be an absolute http or https URL")
	case u.Host == "":
		return errors.New("has no host")
	case u.User != nil:
		return errors.New("must not carry a user or password")
	}
	return nil
}

// secretWords are parts of unknown keys that ask to put a secret in the
// file.
var secretWords = []string{"token", "secret", "password", "passwd", "credential", "apikey", "api-key"}

// explainSecret rewrites the problem of an unknown key that looks like a
// secret: secrets live in files the config names.
func explainSecret(p *spec.Problem, keys []key) {
	if strings.ContainsAny(p.Field, ".[") || !strings.HasPrefix(p.Message, "unknown field") {
		return
	}
	lower := strings.ToLower(p.Field)
	if !slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(lower, w) }) {
		return
	}
	var files []string
	for _, k := range keys {
		if strings.HasSuffix(k.flag.Name, "-file") || strings.HasSuffix(k.flag.Name, "-key") || k.flag.Name == "registry-config" {
			files = append(files, k.flag.Name)
		}
	}
	p.Message = fmt.Sprintf("unknown field %q: secrets are never kept in the config file; put it in a file only the agent can read and name that file with one of %s",
		p.Field, strings.Join(files, ", "))
}

// keyLines maps the top-level keys of a config file, and the fields of
// the notify entries ("notify[0].url"), to their lines. The file decoded
// cleanly, so the lookup is only for messages.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return lines
	}
	top := doc.Content[0].Content
	for i := 0; i+1 < len(top); i += 2 {
		lines[top[i].Value] = top[i].Line
		if top[i].Value != NotifyKey || top[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for j, item := range top[i+1].Content {
			lines[fmt.Sprintf("%s[%d]", NotifyKey, j)] = item.Line
			for k := 0; item.Kind == yaml.MappingNode && k+1 < len(item.Content); k += 2 {
				lines[fmt.Sprintf("%s[%d].%s", NotifyKey, j, item.Content[k].Value)] = item.Content[k].Line
			}
		}
	}
	return lines
}

// joinProblems is every problem as one error, one per line.
func joinProblems(problems []spec.Problem) error {
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}
