package hcs

import (
	"io"
	"sort"
	"sync"
	"time"

	"github.com/reconciler/reconciler/driver"
)

// pullTracker keeps the pulls in progress. Safe for concurrent use.
type pullTracker struct {
	mu    sync.Mutex
	pulls map[string]*driver.PullProgress
}

func newPullTracker() *pullTracker {
	return &pullTracker{pulls: make(map[string]*driver.PullProgress)}
}

// update records the progress of the pull of image (started at start).
func (t *pullTracker) update(image string, start time.Time, layer, layers int, bytes int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pulls[image] = &driver.PullProgress{Image: image, Layer: layer, Layers: layers, Bytes: bytes, Started: start}
}

// done forgets the pull of image.
func (t *pullTracker) done(image string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pulls, image)
}

// snapshot returns the pulls in progress, by image (driver.PullReporter).
func (t *pullTracker) snapshot() []driver.PullProgress {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]driver.PullProgress, 0, len(t.pulls))
	for _, p := range t.pulls {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Image < out[j].Image })
	return out
}

// progressReader counts what is read through it and reports the running
// total at most once per interval, and once more at EOF.
type progressReader struct {
	r      io.Reader
	n      int64
	every  time.Duration
	now    func() time.Time
	last   time.Time
	report func(n int64, final bool)
}

func newProgressReader(r io.Reader, every time.Duration, now func() time.Time, report func(n int64, final bool)) *progressReader {
	return &progressReader{r: r, every: every, now: now, last: now(), report: report}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if err == io.EOF {
		p.report(p.n, true)
		return n, err
	}
	if t := p.now(); t.Sub(p.last) >= p.every {
		p.last = t
		p.report(p.n, false)
	}
	return n, err
}
