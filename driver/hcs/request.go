package hcs

import (
	"fmt"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// newSystemRecord is the record of a compute system with this ID that Create
// makes for req from img on host, before any resource exists.
func newSystemRecord(id string, req driver.CreateRequest, img pulledImage, host spec.Host, scratch string, created time.Time) systemRecord {
	s := req.Spec
	rec := systemRecord{
		ID: id, Name: req.Name, Owner: req.Owner, SpecHash: req.SpecHash,
		Image: req.Spec.Image, ImageDigest: img.Digest.String(), Isolation: req.Isolation,
		HostOS: spec.OSVersion{Build: host.Build, Revision: host.Revision}.String(),
		Spec:   &s, Scratch: scratch, Created: created,
	}
	if img.Version.Known {
		rec.OSVersion = img.Version.OSVersion.String()
	}
	return rec
}

// hostOS is the host version r records, zero when it records none (or
// one that does not parse).
func (r systemRecord) hostOS() spec.OSVersion {
	v, err := spec.ParseOSVersion(r.HostOS)
	if err != nil {
		return spec.OSVersion{}
	}
	return v
}

// request is the create request r was made with. Its ImageVersion is what
// the tag or spec.osVersion tell, as the planner gave it: Create reads the
// image's own os.version again. ok is false for a record written before
// the driver kept the spec.
func (r systemRecord) request() (req driver.CreateRequest, ok bool) {
	if r.Spec == nil {
		return driver.CreateRequest{}, false
	}
	guess, err := spec.ImageOSVersion(r.Spec.Image, r.Spec.OSVersion)
	if err != nil {
		guess = spec.ImageVersion{}
	}
	return driver.CreateRequest{
		Name: r.Name, Owner: r.Owner, SpecHash: r.SpecHash, Isolation: r.Isolation,
		ImageVersion: guess, Spec: *r.Spec,
	}, true
}

// createdWith returns the request of the system with this ID from its
// record (see driver.RequestReader): driver.ErrNotFound when the store has
// no record of it, or one without its spec.
func (s *layerStore) createdWith(id string) (driver.CreateRequest, error) {
	rec, ok, err := s.readRecord(id)
	if err != nil {
		return driver.CreateRequest{}, fmt.Errorf("created with %s: %w", id, err)
	}
	if !ok {
		return driver.CreateRequest{}, fmt.Errorf("created with %s: no record: %w", id, driver.ErrNotFound)
	}
	req, ok := rec.request()
	if !ok {
		return driver.CreateRequest{}, fmt.Errorf("created with %s: the record predates spec keeping: %w", id, driver.ErrNotFound)
	}
	return req, nil
}
