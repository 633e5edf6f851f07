package notify

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Notifier defaults.
const (
	// DefaultQueue is how many messages wait per target; past it the
	// oldest is dropped.
	DefaultQueue = 64
	// DefaultBurst and DefaultEvery are the rate limit per target: a
	// burst of DefaultBurst messages, then one per DefaultEvery.
	DefaultBurst = 10
	DefaultEvery = time.Minute
	// DefaultMaxElapsed bounds the retries of one message.
	DefaultMaxElapsed = 10 * time.Minute
	// DefaultTimeout bounds one delivery attempt.
	DefaultTimeout = 30 * time.Second
)

// Options configure a Notifier.
type Options struct {
	Targets []Target
	Logger  *zap.Logger
	// Client sends the requests (one with DefaultTimeout if nil).
	Client *http.Client
	// Queue is the queue length per target (DefaultQueue if 0).
	Queue int
	// Burst and Every are the rate limit per target (DefaultBurst and
	// DefaultEvery if 0): a message over it waits, it is not lost.
	Burst int
	Every time.Duration
	// NewBackOff makes the wait between the retries of one message
	// (exponential from 1 s if nil); MaxElapsed bounds them
	// (DefaultMaxElapsed if 0).
	NewBackOff func() backoff.BackOff
	MaxElapsed time.Duration
	// Registerer, if set, takes the notifications' metrics:
	// reconciler_notifications_total{type,result} and
	// reconciler_notifications_dropped_total{type}.
	Registerer prometheus.Registerer
}

// Notifier delivers events to its targets. Send never blocks: each
// target has a goroutine, a bounded queue (the oldest message dropped and
// counted when it is full), a rate limit, and retries with backoff; a
// delivery that fails for good is logged. Close stops it.
type Notifier struct {
	targets []*worker
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// worker delivers to one target.
type worker struct {
	t       Target
	o       *Options
	log     *zap.Logger
	limiter *rate.Limiter

	mu      sync.Mutex
	queue   []Event
	wake    chan struct{}
	sent    prometheus.Counter
	failed  prometheus.Counter
	dropped prometheus.Counter
}

// New starts a notifier for o.Targets (checked with Target.Validate).
func New(o Options) (*Notifier, error) {
	for _, t := range o.Targets {
		if err := t.Validate(); err != nil {
			return nil, err
		}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: DefaultTimeout}
	}
	o.Queue = cmp.Or(o.Queue, DefaultQueue)
	o.Burst = cmp.Or(o.Burst, DefaultBurst)
	o.Every = cmp.Or(o.Every, DefaultEvery)
	o.MaxElapsed = cmp.Or(o.MaxElapsed, DefaultMaxElapsed)
	if o.NewBackOff == nil {
		o.NewBackOff = func() backoff.BackOff {
			b := backoff.NewExponentialBackOff()
			b.InitialInterval, b.MaxInterval = time.Second, 2*time.Minute
			return b
		}
	}
	total := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reconciler_notifications_total",
		Help: "Notifications by target type and result: sent, or failed after their retries."}, []string{"type", "result"})
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reconciler_notifications_dropped_total",
		Help: "Notifications dropped, oldest first, because a target's queue was full."}, []string{"type"})
	if o.Registerer != nil {
		if err := errors.Join(o.Registerer.Register(total), o.Registerer.Register(dropped)); err != nil {
			return nil, fmt.Errorf("notification metrics: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Notifier{cancel: cancel}
	for _, t := range o.Targets {
		w := &worker{t: t, o: &o, log: o.Logger.With(zap.Stringer("target", t)),
			limiter: rate.NewLimiter(rate.Every(o.Every), o.Burst), wake: make(chan struct{}, 1),
			sent: total.WithLabelValues(t.Type, "sent"), failed: total.WithLabelValues(t.Type, "failed"),
			dropped: dropped.WithLabelValues(t.Type)}
		n.targets = append(n.targets, w)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			w.run(ctx)
		}()
	}
	return n, nil
}

// Send queues e for every target and returns at once.
func (n *Notifier) Send(e Event) {
	for _, w := range n.targets {
		w.push(e)
	}
}

// Close stops the deliveries (one in flight is abandoned) and waits for
// the goroutines.
func (n *Notifier) Close() {
	n.cancel()
	n.wg.Wait()
}

func (w *worker) push(e Event) {
	w.mu.Lock()
	if len(w.queue) >= w.o.Queue {
		w.queue = w.queue[1:]
		w.dropped.Inc()
		w.log.Warn("notification queue full: the oldest message is dropped", zap.Int("queue", w.o.Queue))
	}
	w.queue = append(w.queue, e)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) pop() (Event, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		return Event{}, false
	}
	e := w.queue[0]
	w.queue = w.queue[1:]
	return e, true
}

func (w *worker) run(ctx context.Context) {
	for {
		e, ok := w.pop()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
				continue
			}
		}
		if err := w.limiter.Wait(ctx); err != nil {
			return
		}
		w.deliver(ctx, e)
	}
}

// deliver sends e, retrying transient failures (network errors, 429 and
// 5xx answers) with backoff; another answer is final.
func (w *worker) deliver(ctx context.Context, e Event) {
	body, err := encode(w.t.Type, e)
	if err != nil {
		w.failed.Inc()
		w.log.Error("notification not encoded", zap.Error(err))
		return
	}
	tries := 0
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		tries++
		return struct{}{}, w.post(ctx, body)
	}, backoff.WithBackOff(w.o.NewBackOff()), backoff.WithMaxElapsedTime(w.o.MaxElapsed),
		backoff.WithNotify(func(err error, next time.Duration) {
			w.log.Debug("notification not delivered yet; retrying", zap.Error(err), zap.Duration("in", next))
		}))
	switch {
	case err == nil:
		w.sent.Inc()
		w.log.Debug("notification sent", zap.String("event", string(e.Event)), zap.Int("tries", tries))
	case ctx.Err() != nil:
	default:
		w.failed.Inc()
		w.log.Error("notification not delivered", zap.String("event", string(e.Event)), zap.Int("tries", tries), zap.Error(err))
	}
}

// post makes one attempt. Its errors never carry the URL (net/http's
// do): the target names it redacted in the log.
func (w *worker) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.t.URL, bytes.NewReader(body))
	if err != nil {
		return backoff.Permanent(errors.New("bad request"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "reconciler")
	resp, err := w.o.Client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // the *url.Error names the URL
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests:
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			return backoff.RetryAfter(s)
		}
		return errors.New(resp.Status)
	case resp.StatusCode >= 500:
		return errors.New(resp.Status)
	}
	return backoff.Permanent(fmt.Errorf("refused: %s", resp.Status))
}
