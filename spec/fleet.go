package spec

import (
	"fmt"
	"reflect"
	"strings"
)

// Fleet is a fleet file: the hosts one repository of manifests serves,
// for `validate --fleet`. It is decoded as strictly as a manifest.
//
//	hosts:
//	  - {name: paris-01, build: 17763, labels: {site: paris}}
//	  - {name: lyon-01, build: 10.0.20348.2340, sku: server}
type Fleet struct {
	Hosts []FleetHost `json:"hosts"`
}

// FleetHost is one host of a fleet file.
type FleetHost struct {
	// Name is the host name placement.hostnames matches.
	Name string `json:"name"`
	// Build is the host OS as ParseHostOS reads it: 20348,
	// 10.0.20348.2340, ltsc2022, server2022, win11-23H2.
	Build string `json:"build"`
	// SKU is server (the default) or client.
	SKU SKU `json:"sku,omitempty"`
	// HyperV says whether the host has Hyper-V; unset means it has.
	HyperV *bool `json:"hyperv,omitempty"`
	// Labels are the host's labels, as its agent's --host-label gives them.
	Labels map[string]string `json:"labels,omitempty"`

	// host is Build, SKU and HyperV as ParseFleet resolved them.
	host Host
}

// Host is the host the fleet file describes.
func (h FleetHost) Host() Host { return h.host }

// Facts are the host's name and labels.
func (h FleetHost) Facts() HostFacts { return HostFacts{Hostname: h.Name, Labels: h.Labels} }

// fleetStructs are the fleet file's struct types, for its decoder.
var fleetStructs = collectStructs(reflect.TypeFor[Fleet](), map[reflect.Type]*structInfo{})

// LoadFleet reads and parses the fleet file at path (a regular file, as a
// manifest must be).
func LoadFleet(path string) (Fleet, []Problem) {
	size, data, err := readManifestData(path)
	switch {
	case err != nil:
		return Fleet{}, []Problem{ReadProblem(path, err)}
	case size > MaxFileSize || len(data) > MaxFileSize:
		return Fleet{}, []Problem{tooLarge(path, max(size, int64(len(data))))}
	}
	return ParseFleet(data, path)
}

// ParseFleet decodes a fleet file strictly (unknown and repeated fields,
// ambiguous scalars and control characters are problems, each with its
// line and field path) and validates it: at least one host, unique names,
// a build ParseHostOS reads, a SKU of server or client.
func ParseFleet(data []byte, file string) (Fleet, []Problem) {
	var f Fleet
	docs := splitDocuments(data)
	if len(docs) != 1 {
		return f, []Problem{{File: file, Message: fmt.Sprintf("holds %d YAML documents; a fleet file is one document: hosts: [{name, build, sku, labels}]", len(docs))}}
	}
	d := docs[0]
	root, _, err := parseTree(d.data)
	if err != nil {
		is := syntaxIssue(err, d.data)
		return f, []Problem{{File: file, Line: d.fileLine(max(is.line, d.start)), Message: is.msg}}
	}
	budget := ExpandBudget
	dec := decoder{src: d.data, budget: &budget, path: make(fieldPath, 0, 8), infos: fleetStructs}
	dec.value(root, reflect.ValueOf(&f).Elem())
	issues := dec.issues
	if decodedEnough(issues) {
		issues = append(issues, notDecoded(f.validate(), issues)...)
	}
	issues = place(issues, root, d)
	out := make([]Problem, len(issues))
	for i, is := range issues {
		out[i] = Problem{File: file, Line: is.line, Field: is.path.String(), Message: is.msg}
	}
	return f, out
}

// validate checks the hosts and resolves each one's Host.
func (f *Fleet) validate() []issue {
	v := checker{}
	if len(f.Hosts) == 0 {
		v.add(field("hosts"), "is required: a list of {name, build, sku, labels}")
	}
	seen := map[string]int{}
	for i := range f.Hosts {
		h := &f.Hosts[i]
		p := field("hosts").at(i)
		switch first, dup := seen[strings.ToLower(h.Name)]; {
		case h.Name == "":
			v.add(p.dot("name"), "is required: the host's name, as placement.hostnames matches it")
		case dup:
			v.add(p.dot("name"), "%q is already hosts[%d]; each host is named once", h.Name, first)
		default:
			seen[strings.ToLower(h.Name)] = i
		}
		if h.SKU != "" {
			v.oneOf(p, "sku", string(h.SKU), string(SKUServer), string(SKUClient))
		}
		ver, sku, err := ParseHostOS(h.Build, h.SKU)
		switch {
		case h.Build == "":
			v.add(p.dot("build"), "is required: the host OS, e.g. 20348, 10.0.20348.2340 or ltsc2022")
		case err != nil:
			v.add(p.dot("build"), "%s", err.Error())
		}
		if sku == "" {
			sku = SKUServer
		}
		h.host = Host{Build: ver.Build, Revision: ver.Revision, SKU: sku, HyperV: h.HyperV == nil || *h.HyperV}
		for _, k := range sortedKeys(h.Labels) {
			if k == "" {
				v.add(p.dot("labels").key(k), "label keys must not be empty")
			}
		}
	}
	return v.issues
}
