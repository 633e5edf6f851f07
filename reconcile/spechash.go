package reconcile

import (
	"reflect"

	"github.com/reconciler/reconciler/spec"
)

// SpecHashes remembers the spec hash of each desired container from one
// pass to the next, so that a pass hashes only the specs that changed:
// hashing is most of a plan's cost at 10,000 containers, and a source
// hands out the containers of unchanged files as the same values pass
// after pass. The zero value is ready; a nil *SpecHashes hashes every
// time. It is not safe for concurrent use.
type SpecHashes struct {
	byName map[string]hashedSpec
	sweeps uint64
	// computed counts the hashes computed (tests).
	computed int
}

// hashedSpec is a spec as last hashed: the spec of the container Hash was
// given, not a copy of it (a copy would cost a ContainerSpec, some 600
// bytes, per desired container). Holding it keeps its slices and maps
// alive, so their addresses, which identical compares, are never reused by
// other values while the entry exists. A hit repoints the entry to the
// spec just given, so the entries keep alive only the containers of the
// last pass, which its source holds anyway.
type hashedSpec struct {
	spec  *spec.ContainerSpec
	hash  string
	sweep uint64
}

// Hash returns c.Spec.Hash(), from memory when c's spec is identical to
// the one last hashed for its name: equal strings and numbers, and the
// very same slices and maps. It keeps a pointer to c.Spec: c, its slices
// and its maps must never be modified once hashed (sources hand out
// containers that nobody changes).
func (h *SpecHashes) Hash(c *spec.Container) string {
	if h == nil {
		return c.Spec.Hash()
	}
	name := c.Metadata.Name
	if e, ok := h.byName[name]; ok && identical(reflect.ValueOf(e.spec).Elem(), reflect.ValueOf(&c.Spec).Elem()) {
		e.spec, e.sweep = &c.Spec, h.sweeps
		h.byName[name] = e
		return e.hash
	}
	if h.byName == nil {
		h.byName = make(map[string]hashedSpec)
	}
	h.computed++
	e := hashedSpec{spec: &c.Spec, hash: c.Spec.Hash(), sweep: h.sweeps}
	h.byName[name] = e
	return e.hash
}

// Sweep forgets the specs not hashed since the previous Sweep: the
// containers no longer desired.
func (h *SpecHashes) Sweep() {
	for name, e := range h.byName {
		if e.sweep != h.sweeps {
			delete(h.byName, name)
		}
	}
	h.sweeps++
}

// identical reports whether a and b, of one type, are the same value:
// equal booleans, numbers and strings, the same slice or map (or both
// empty), fields identical one by one. Anything else (pointers,
// interfaces) is not known to be identical.
func identical(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if !identical(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Map:
		return a.Len() == b.Len() && (a.Len() == 0 || a.UnsafePointer() == b.UnsafePointer())
	case reflect.Pointer:
		return a.UnsafePointer() == b.UnsafePointer()
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	}
	return false
}
