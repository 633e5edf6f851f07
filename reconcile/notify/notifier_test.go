package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/internal/testfixture"
)

// receiver is a webhook endpoint that records what it receives and
// answers each request with the next of its statuses (200 once they run
// out).
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []Event
	at       []time.Time
	hold     chan struct{} // if set, each request waits for it
	entered  chan struct{} // if set, told when a request arrives
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rc.entered != nil {
		rc.entered <- struct{}{}
	}
	if rc.hold != nil {
		<-rc.hold
	}
	body, _ := io.ReadAll(r.Body)
	var e Event
	_ = json.Unmarshal(body, &e)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	if status == http.StatusOK {
		rc.got = append(rc.got, e)
		rc.at = append(rc.at, time.Now())
	}
	w.WriteHeader(status)
}

func (rc *receiver) events() []Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Event(nil), rc.got...)
}

// start starts a notifier of one webhook target at a receiver.
func start(t *testing.T, rc *receiver, o Options) (*Notifier, *prometheus.Registry) {
	t.Helper()
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	reg := prometheus.NewRegistry()
	o.Targets, o.Logger, o.Registerer = []Target{{TypeWebhook, srv.URL + "/hook"}}, zaptest.NewLogger(t), reg
	if o.NewBackOff == nil {
		o.NewBackOff = func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }
	}
	n, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n, reg
}

// counter is the value of a counter of reg with these label values.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !testfixture.Eventually(t, cond) {
		t.Fatalf("gave up waiting until %s", what)
	}
}

func TestNotifierRetriesTransientFailures(t *testing.T) {
	rc := &receiver{statuses: []int{503, 429, 500}}
	n, reg := start(t, rc, Options{})
	n.Send(sample)
	waitFor(t, "the message is delivered", func() bool { return len(rc.events()) == 1 })
	if got := rc.events()[0]; got.Event != Failed || got.Host != "web1" || len(got.Containers) != 1 {
		t.Errorf("received %+v, want the sample event", got)
	}
	waitFor(t, "it is counted sent", func() bool {
		return counter(t, reg, "reconciler_notifications_total", map[string]string{"type": "webhook", "result": "sent"}) == 1
	})
}

func TestNotifierGivesUpOnARefusal(t *testing.T) {
	rc := &receiver{statuses: []int{400}}
	n, reg := start(t, rc, Options{})
	n.Send(sample)
	n.Send(Event{Event: Recovered})
	waitFor(t, "the next message is delivered", func() bool { return len(rc.events()) == 1 })
	if rc.events()[0].Event != Recovered {
		t.Errorf("received %+v, want only the second message (the first was refused, not retried)", rc.events())
	}
	waitFor(t, "the refusal is counted", func() bool {
		return counter(t, reg, "reconciler_notifications_total", map[string]string{"type": "webhook", "result": "failed"}) == 1
	})
}

func TestNotifierDropsTheOldestWhenFull(t *testing.T) {
	rc := &receiver{hold: make(chan struct{}), entered: make(chan struct{}, 10)}
	n, reg := start(t, rc, Options{Queue: 2})
	n.Send(Event{Event: Failed, Host: "1"})
	<-rc.entered // the first is in flight, the receiver holds it
	for _, h := range []string{"2", "3", "4", "5"} {
		n.Send(Event{Event: Failed, Host: h}) // never blocks
	}
	if got := counter(t, reg, "reconciler_notifications_dropped_total", map[string]string{"type": "webhook"}); got != 2 {
		t.Errorf("dropped %v, want 2", got)
	}
	close(rc.hold)
	waitFor(t, "three messages arrive", func() bool { return len(rc.events()) == 3 })
	var hosts []string
	for _, e := range rc.events() {
		hosts = append(hosts, e.Host)
	}
	if want := []string{"1", "4", "5"}; !slices.Equal(hosts, want) {
		t.Errorf("received %v, want %v (the oldest queued dropped)", hosts, want)
	}
}

func TestNotifierRateLimits(t *testing.T) {
	const every = 200 * time.Millisecond
	rc := &receiver{}
	n, _ := start(t, rc, Options{Burst: 1, Every: every})
	n.Send(Event{Event: Failed})
	n.Send(Event{Event: Recovered})
	waitFor(t, "both arrive", func() bool { return len(rc.events()) == 2 })
	rc.mu.Lock()
	gap := rc.at[1].Sub(rc.at[0])
	rc.mu.Unlock()
	// A lower bound only: a loaded machine makes the gap longer, never
	// shorter than the limiter's interval less a request's latency.
	if gap < every/2 {
		t.Errorf("second message %v after the first, want about %v (rate limit)", gap, every)
	}
}

func TestNewRefusesABadTarget(t *testing.T) {
	if _, err := New(Options{Targets: []Target{{Type: "email", URL: "https://x.example"}}}); err == nil {
		t.Error("New with a bad target: nil error")
	}
}
