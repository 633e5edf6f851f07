package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// SchemaDraft is the JSON Schema dialect of JSONSchema: draft-07, the one
// yaml-language-server (VS Code's YAML extension) and most editors read.
const SchemaDraft = "http://json-schema.org/draft-07/schema#"

// JSONSchema returns the JSON Schema of one manifest document, indented,
// with a final newline: what `reconciler schema` prints and what
// spec/schema/container.schema.json holds, so that an editor flags a
// mistake while it is typed.
//
// It is generated from the manifest types by reflection, with the field
// names the decoder uses (one walk of the same struct tags), so it cannot
// name a field the decoder does not know; the constraints and
// descriptions come from schemaFields. It is as strict as the schema
// language lets it be: unknown fields, wrong types, values outside an
// enum or a range, durations without a unit, two health check kinds, a
// zero that would read as unset. What needs more than one field or the
// rest of the desired set (a mount path's syntax, an image's build, a
// cycle of dependsOn) only `reconciler validate` finds.
func JSONSchema() ([]byte, error) {
	root := schemaOf(containerType, "")
	root.Schema = SchemaDraft
	root.Title = "reconciler manifest (" + APIVersion + " " + Kind + ")"
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode the manifest schema: %w", err)
	}
	return b.Bytes(), nil
}

// schemaNode is one JSON Schema (draft-07) node. Properties keep the
// order of the struct's fields.
type schemaNode struct {
	Schema               string              `json:"$schema,omitempty"`
	Title                string              `json:"title,omitempty"`
	Description          string              `json:"description,omitempty"`
	Type                 any                 `json:"type,omitempty"`
	Const                string              `json:"const,omitempty"`
	Enum                 []string            `json:"enum,omitempty"`
	Pattern              string              `json:"pattern,omitempty"`
	MinLength            *int                `json:"minLength,omitempty"`
	Minimum              *int                `json:"minimum,omitempty"`
	Maximum              *int                `json:"maximum,omitempty"`
	MinItems             *int                `json:"minItems,omitempty"`
	Items                *schemaNode         `json:"items,omitempty"`
	Properties           properties          `json:"properties,omitempty"`
	Required             []string            `json:"required,omitempty"`
	AdditionalProperties any                 `json:"additionalProperties,omitempty"`
	Dependencies         map[string][]string `json:"dependencies,omitempty"`
	OneOf                []*schemaNode       `json:"oneOf,omitempty"`
	Not                  *schemaNode         `json:"not,omitempty"`
	If                   *schemaNode         `json:"if,omitempty"`
	Then                 *schemaNode         `json:"then,omitempty"`
}

// property is one named property of an object schema.
type property struct {
	name   string
	schema *schemaNode
}

// properties are an object's properties, in order.
type properties []property

// MarshalJSON writes the properties as one JSON object, in order.
func (ps properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(p.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(p.schema)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// scalarTypes are what a free-text string field takes: the decoder keeps
// any scalar as its text (`hostname: 1`, `LOG: true`), so an editor must
// not flag a number or a boolean there.
var scalarTypes = []string{"string", "number", "boolean"}

// schemaEnums are the values of the manifest's enumerated types, by type
// (reflection cannot enumerate constants).
var schemaEnums = map[reflect.Type][]string{
	reflect.TypeFor[Isolation]():           {string(IsolationProcess), string(IsolationHyperV), string(IsolationDefault), string(IsolationAuto)},
	reflect.TypeFor[RestartPolicy]():       {string(RestartAlways), string(RestartOnFailure), string(RestartNever)},
	reflect.TypeFor[UpdateStrategy]():      {string(UpdateRecreate), string(UpdateStartFirst)},
	reflect.TypeFor[DependencyCondition](): {string(ConditionStarted), string(ConditionHealthy)},
}

// schemaOf is the schema of type t at path (schemaFields' key), with the
// constraints and description schemaFields gives there.
func schemaOf(t reflect.Type, path string) *schemaNode {
	n := &schemaNode{}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), path)
	case reflect.Struct:
		n.Type = "object"
		n.AdditionalProperties = false
		info := structInfos[t]
		for _, name := range info.names {
			f := info.fields[name]
			n.Properties = append(n.Properties, property{name, schemaOf(f.typ, joinPath(path, name))})
			if tag := t.FieldByIndex(f.index).Tag.Get("json"); !strings.Contains(tag, ",omit") {
				n.Required = append(n.Required, name)
			}
		}
	case reflect.Slice:
		n.Type = "array"
		n.Items = schemaOf(t.Elem(), path+"[]")
	case reflect.Map:
		n.Type = "object"
		n.AdditionalProperties = schemaOf(t.Elem(), path+"{}")
	case reflect.String:
		switch {
		case t == reflect.TypeFor[Duration]():
			n.Type, n.Pattern = "string", durationPattern
		case schemaEnums[t] != nil:
			n.Type, n.Enum = "string", schemaEnums[t]
		default:
			n.Type = scalarTypes
		}
	case reflect.Int:
		n.Type = "integer"
	case reflect.Bool:
		n.Type = "boolean"
	}
	if f, ok := schemaFields[path]; ok {
		f.constrain(n)
	}
	return n
}

// joinPath is path extended by field name.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// constrain copies what f sets into n.
func (f *schemaNode) constrain(n *schemaNode) {
	n.Description = f.Description
	if f.Const != "" {
		n.Const = f.Const
	}
	if f.Enum != nil {
		n.Type, n.Enum = "string", f.Enum
	}
	if f.Pattern != "" {
		n.Pattern = f.Pattern
	}
	n.MinLength = cmpOr(f.MinLength, n.MinLength)
	n.Minimum = cmpOr(f.Minimum, n.Minimum)
	n.Maximum = cmpOr(f.Maximum, n.Maximum)
	n.MinItems = cmpOr(f.MinItems, n.MinItems)
	if f.Required != nil {
		n.Required = f.Required
	}
	n.Dependencies = f.Dependencies
	n.OneOf = f.OneOf
	n.Not = f.Not
	n.If, n.Then = f.If, f.Then
}

// cmpOr is a, or b when a is nil.
func cmpOr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// Patterns and bounds of the schema.
const (
	dnsLabelPattern = `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`
	// namedPipePattern is \\.\pipe\NAME, the prefix in any case.
	namedPipePattern = `^\\\\\.\\[pP][iI][pP][eE]\\[^\\]+$`
	// guid is 8-4-4-4-12 hex digits; guidPattern takes it in braces too.
	guid        = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
	guidPattern = `^(` + guid + `|\{` + guid + `\})$`
	// zeroDuration is a duration of no time ("0s", "0.0m"): with
	// durationPattern, not matching it means more than 0.
	zeroDuration = `^([0.]+(ns|us|µs|μs|ms|s|m|h))+$`
)

func ptr[T any](v T) *T { return &v }

// portRange and durationAbove0 are constraints used at several paths.
func portRange(desc string) *schemaNode {
	return &schemaNode{Description: desc, Minimum: ptr(1), Maximum: ptr(maxPort)}
}

func durationAbove0(desc string) *schemaNode {
	return &schemaNode{Description: desc + " A duration with its unit (500ms, 5s, 2m, 1h30m), more than 0.", Not: &schemaNode{Pattern: zeroDuration}}
}

// healthKinds says that a health check is exactly one of its kinds.
var healthKinds = []*schemaNode{{Required: []string{"exec"}}, {Required: []string{"tcp"}}, {Required: []string{"http"}}}

// schemaFields are the description and the constraints of each field, by
// path: "spec.ports[].hostPort" (a list's items are "[]", a map's values
// "{}"). TestSchemaDescribesEveryField keeps it complete.
var schemaFields = map[string]*schemaNode{
	"apiVersion":      {Description: "Always " + APIVersion + ".", Const: APIVersion},
	"kind":            {Description: "Always " + Kind + ".", Const: Kind},
	"metadata":        {Description: "The container's name and labels."},
	"metadata.name":   {Description: "The container's name, unique across every source the agent reads: a DNS label (a-z, 0-9, '-'), at most 63 characters.", Pattern: dnsLabelPattern},
	"metadata.labels": {Description: "Free labels; not part of the spec: changing them recreates nothing."},
	"spec": {Description: "Everything that shapes the running container, and how the agent checks, replaces and restarts it.",
		// restartLimit would never apply with restartPolicy: never.
		If:   &schemaNode{Properties: properties{{"restartPolicy", &schemaNode{Const: string(RestartNever)}}}, Required: []string{"restartPolicy"}},
		Then: &schemaNode{Not: &schemaNode{Required: []string{"restartLimit"}}}},
	"spec.image":                       {Description: "The image reference, [registry/]repository[:tag][@sha256:digest], such as mcr.microsoft.com/windows/servercore:ltsc2022."},
	"spec.isolation":                   {Description: "process, hyperv, default (process on Windows Server, hyperv on Windows 10/11) or auto (process when the image fits the host, else hyperv, decided on every pass). Default: default."},
	"spec.osVersion":                   {Description: "The image's OS build (10.0.17763, ltsc2019), only when its tag does not say it."},
	"spec.command":                     {Description: "The command line of the main process, one entry per argument."},
	"spec.command[]":                   {MinLength: ptr(1)},
	"spec.workingDir":                  {Description: `The working directory, an absolute Windows path such as 'C:\app' (single quotes: in double quotes a backslash is an escape).`},
	"spec.env":                         {Description: "Environment variables; plans and logs name them, never print their values."},
	"spec.hostname":                    {Description: "The container's host name, a DNS label.", Pattern: `^$|` + dnsLabelPattern},
	"spec.restartPolicy":               {Description: "What the agent does when the main process exits: always (the default), on-failure or never."},
	"spec.resources":                   {Description: "Limits; 0 or absent means no limit."},
	"spec.resources.cpuCount":          {Description: "Processors, 0 (no limit) to 256.", Minimum: ptr(0), Maximum: ptr(maxCPUCount)},
	"spec.resources.cpuMaximumPercent": {Description: "Share of the processors, 0 (no limit) to 100.", Minimum: ptr(0), Maximum: ptr(maxCPUPercent)},
	"spec.resources.memoryMB":          {Description: "Memory in MB: 0 (no limit) or 64 to 1048576.", Minimum: ptr(0), Maximum: ptr(maxMemoryMB), Not: &schemaNode{Minimum: ptr(1), Maximum: ptr(minMemoryMB - 1)}},
	"spec.mounts":                      {Description: "Host folders mapped into the container (pierces isolation; refused under --deny-host-access)."},
	"spec.mounts[].hostPath":           {Description: `An absolute Windows path ('C:\data') or a UNC path ('\\server\share').`},
	"spec.mounts[].containerPath":      {Description: `An absolute Windows path inside the container ('C:\data'), mounted once.`},
	"spec.mounts[].readOnly":           {Description: "Mount read-only. Default: false."},
	"spec.namedPipes":                  {Description: "Host named pipes mapped into the container (pierces isolation)."},
	"spec.namedPipes[].hostPipe":       {Description: `A named pipe path, '\\.\pipe\NAME'.`, Pattern: namedPipePattern},
	"spec.namedPipes[].containerPipe":  {Description: `A named pipe path, '\\.\pipe\NAME'.`, Pattern: namedPipePattern},
	"spec.ports":                       {Description: "Container ports published on the host (pierces isolation); a host port is published by one container only."},
	"spec.ports[].hostPort":            portRange("The port on the host, 1 to 65535."),
	"spec.ports[].containerPort":       portRange("The port in the container, 1 to 65535."),
	"spec.ports[].protocol":            {Description: "tcp (the default) or udp.", Enum: []string{"tcp", "udp"}},
	"spec.network":                     {Description: "The container's network."},
	"spec.network.mode":                {Description: "nat (the default), transparent, l2bridge or none.", Enum: []string{"nat", "transparent", "l2bridge", "none"}},
	"spec.network.namespace":           {Description: "An existing HNS network namespace to join, a GUID (pierces isolation); '' for none.", Pattern: `^$|` + guidPattern},
	"spec.devices":                     {Description: "Host devices assigned to the container (pierces isolation)."},
	"spec.devices[]": {
		// A class is named by its GUID.
		If:   &schemaNode{Properties: properties{{"idType", &schemaNode{Const: "class"}}}, Required: []string{"idType"}},
		Then: &schemaNode{Properties: properties{{"id", &schemaNode{Pattern: guidPattern}}}}},
	"spec.devices[].idType":    {Description: "class (a device interface class GUID) or vpci-location-path.", Enum: []string{"class", "vpci-location-path"}},
	"spec.devices[].id":        {Description: "The device interface class GUID, or the device's location path."},
	"spec.placement":           {Description: "Which hosts of a fleet run it: every list given must admit the host (any entry of a list). Outside the spec hash; a host it does not admit never has a running container of it removed without approval."},
	"spec.placement.hostnames": {Description: "Globs (*, ?, [a-z]) of host names, matched case-insensitively against the agent's --hostname."},
	"spec.placement.labels":    {Description: "Globs of the host's labels (the agent's --host-label KEY=VALUE), by key."},
	"spec.placement.osBuilds":  {Description: "Host OS versions: ltsc2022, 20348 or 10.0.20348 (a revision given must match too)."},
	"spec.restartLimit": {Description: "A flap limit: past maxRestarts restarts within window, the container is left stopped and reported. Outside the spec hash. Refused with restartPolicy: never.",
		Dependencies: map[string][]string{"maxRestarts": {"window"}, "window": {"maxRestarts"}}},
	"spec.restartLimit.maxRestarts": {Description: "Restarts allowed within window, 1 or more.", Minimum: ptr(1)},
	"spec.restartLimit.window":      durationAbove0("The time in which at most maxRestarts restarts are allowed."),
	"spec.healthcheck": {Description: "How the agent finds the container healthy: exactly one of exec, tcp or http, with its timing. Outside the spec hash.",
		OneOf: healthKinds},
	"spec.healthcheck.exec":        {Description: `A command run inside the container; healthy when it exits 0. Such as [cmd, /c, "exit 0"].`, MinItems: ptr(1)},
	"spec.healthcheck.exec[]":      {MinLength: ptr(1)},
	"spec.healthcheck.tcp":         portRange("A container port; healthy when it accepts a connection."),
	"spec.healthcheck.http":        {Description: "A GET of path on a container port; healthy on 2xx or 3xx.", Required: []string{"path", "port"}},
	"spec.healthcheck.http.path":   {Description: "The path to GET, starting with '/', such as /healthz.", Pattern: "^/"},
	"spec.healthcheck.http.port":   portRange("The container port to GET from."),
	"spec.healthcheck.interval":    durationAbove0("The time between two checks. Default: 10s."),
	"spec.healthcheck.timeout":     durationAbove0("The longest one check may take. Default: 5s."),
	"spec.healthcheck.retries":     {Description: "Failed checks in a row that make the container unhealthy, 1 or more. Default: 3.", Minimum: ptr(1)},
	"spec.healthcheck.startPeriod": {Description: "The time after a start during which failures do not count (Hyper-V containers of servercore take 15-20 s to start). A duration with its unit, such as 20s; 0s for none. Default: 30s."},
	"spec.dependsOn":               {Description: "Containers of the same desired set that must be started (or healthy) before this one is created; removals go in reverse. Outside the spec hash."},
	"spec.dependsOn[].name":        {Description: "The name of a container of the desired set, not this one.", Pattern: dnsLabelPattern},
	"spec.dependsOn[].condition":   {Description: "started (the default): it runs; healthy: its healthcheck passes (it must declare one)."},
	"spec.update":                  {Description: "How a change to the container is rolled out. Outside the spec hash."},
	"spec.update.strategy":         {Description: "recreate (the default): remove the old container, then create the new one; startFirst: create the new one beside the old one, and remove the old one once the new one is healthy (falls back to recreate when the two cannot run side by side)."},
	"spec.update.progressDeadline": durationAbove0("How long a new container has to become healthy. Default: 5m."),
	"spec.update.autoRollback":     {Description: "Restore the previous spec when the new container is not healthy within progressDeadline. Default: true."},
}
