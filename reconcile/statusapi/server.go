package statusapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
)

// Paths of the API besides GET /status, the webhook
// (source.WebhookPath) and the approval (reconcile.ApprovalPath).
const (
	HealthPath  = "/healthz"
	ReadyPath   = "/readyz"
	MetricsPath = "/metrics"
	SuspendPath = "/suspend"
	ResumePath  = "/resume"
)

// Options are what the API serves.
type Options struct {
	// Status answers GET /status and /readyz; its git sources are what
	// the webhook triggers.
	Status *Status
	// Approver takes POST /removals/approve (the agent).
	Approver reconcile.RemovalApprover
	// Suspension takes POST /suspend and /resume; they are not mounted
	// when it is nil.
	Suspension *Suspension
	// Metrics answers GET /metrics; not mounted when nil.
	Metrics *Metrics
	// WebhookSecret authenticates POST /hooks/git. The webhook is mounted
	// only when Status has git sources and there is a secret.
	WebhookSecret []byte
	// Token authenticates the mutating endpoints (approve, suspend,
	// resume): "Authorization: Bearer TOKEN".
	Token []byte
	// OwnerOnly says the API is served on a Unix socket or a named pipe
	// only its owner can open: there the mutating endpoints need no
	// Token. Otherwise (TCP) they are refused without one.
	OwnerOnly bool
	// Logger is named per endpoint ("api", "webhook"); zap.NewNop when nil.
	Logger *zap.Logger
}

// NewHandler returns the API's routes. A method an endpoint does not take
// is answered 405 with an Allow header; an unknown path 404.
func NewHandler(o Options) (http.Handler, error) {
	if o.Status == nil {
		return nil, errors.New("statusapi: no Status")
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /status", o.Status)
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET "+ReadyPath, o.Status.serveReady)
	if o.Metrics != nil {
		mux.Handle("GET "+MetricsPath, o.Metrics)
	}
	g := guard{token: o.Token, ownerOnly: o.OwnerOnly, log: log.Named("api")}
	mux.Handle("POST "+reconcile.ApprovalPath, g.wrap(reconcile.NewApprovalHandler(o.Approver, log.Named("api"))))
	if o.Suspension != nil {
		mux.Handle("POST "+SuspendPath, g.wrap(suspendHandler(o.Suspension, log.Named("api"), true)))
		mux.Handle("POST "+ResumePath, g.wrap(suspendHandler(o.Suspension, log.Named("api"), false)))
	}
	if gits := o.Status.gits; len(gits) > 0 && len(o.WebhookSecret) > 0 {
		mux.Handle(source.WebhookPath, source.NewWebhookHandler(o.WebhookSecret, func() {
			for _, g := range gits {
				g.Trigger()
			}
		}, log.Named("webhook")))
	}
	return mux, nil
}

// shutdownGrace bounds how long Close waits for requests in flight.
const shutdownGrace = 5 * time.Second

// Server serves the API on a listener until Close.
type Server struct {
	srv       *http.Server
	ln        net.Listener
	ownerOnly bool
	done      chan struct{}
}

// Listen listens on addr (see ParseListen) and serves h in a goroutine
// that Close waits for. A failure of the listener after it started is
// logged.
func Listen(addr string, h http.Handler, log *zap.Logger) (*Server, error) {
	if log == nil {
		log = zap.NewNop()
	}
	ep, err := ParseListen(addr)
	if err != nil {
		return nil, err
	}
	ln, err := ep.listen()
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	s := &Server{
		srv:       &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second},
		ln:        ln,
		ownerOnly: ep.OwnerOnly(),
		done:      make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http listener failed", zap.Error(err))
		}
	}()
	log.Info("listening", zap.String("address", ep.display(ln.Addr())))
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops taking connections, waits up to shutdownGrace for requests
// in flight, and returns once the serving goroutine has ended.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}
