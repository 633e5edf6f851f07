package statusapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/internal/regularfile"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
)

// Options are what the API serves.
type Options struct {
	// Status answers GET /status; its git sources are what the webhook
	// triggers.
	Status *Status
	// Approver takes POST /removals/approve (the agent).
	Approver reconcile.RemovalApprover
	// WebhookSecret authenticates POST /hooks/git. Required when Status has
	// git sources; the webhook is not mounted when there are none.
	WebhookSecret []byte
	// Logger is named per endpoint ("api", "webhook"); zap.NewNop when nil.
	Logger *zap.Logger
}

// NewHandler returns the API's routes. A method an endpoint does not take
// is answered 405 with an Allow header; an unknown path 404.
func NewHandler(o Options) (http.Handler, error) {
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /status", o.Status)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle(reconcile.ApprovalPath, reconcile.NewApprovalHandler(o.Approver, log.Named("api")))
	if gits := o.Status.gits; len(gits) > 0 {
		if len(o.WebhookSecret) == 0 {
			return nil, errors.New("git sources need a webhook secret: the webhook only trusts signed requests")
		}
		mux.Handle(source.WebhookPath, source.NewWebhookHandler(o.WebhookSecret, func() {
			for _, g := range gits {
				g.Trigger()
			}
		}, log.Named("webhook")))
	}
	return mux, nil
}

// maxSecretFile bounds a secret file: anything larger is not one.
const maxSecretFile = 1 << 20

// ReadWebhookSecret reads the webhook secret from file, without its
// surrounding white space. An empty secret is an error: it would
// authenticate nothing. The secret never appears in an error.
func ReadWebhookSecret(file string) ([]byte, error) {
	secret, err := regularfile.Read(file, maxSecretFile)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	secret = bytes.TrimSpace(secret)
	if len(secret) == 0 {
		return nil, fmt.Errorf("webhook secret file %s is empty", file)
	}
	return secret, nil
}

// shutdownGrace bounds how long Close waits for requests in flight.
const shutdownGrace = 5 * time.Second

// Server serves the API on a listener until Close.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Listen listens on addr (host:port; port 0 picks one) and serves h in a
// goroutine that Close waits for. A failure of the listener after it
// started is logged.
func Listen(addr string, h http.Handler, log *zap.Logger) (*Server, error) {
	if log == nil {
		log = zap.NewNop()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	s := &Server{
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http listener failed", zap.Error(err))
		}
	}()
	log.Info("listening", zap.String("address", ln.Addr().String()))
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
