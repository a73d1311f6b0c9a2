// Command receiver is a minimal hookgate webhook receiver: it verifies each
// delivery with the SDK's Verifier and logs the event.
//
//	HOOKGATE_WEBHOOK_SECRET=whsec_… go run ./sdk/examples/receiver -addr 127.0.0.1:8080
//
// Point an endpoint at http://<addr>/webhooks (hookgate accepts private
// addresses only when HOOKGATE_ALLOW_TARGETS lists them). Flags override the
// environment:
//
//	-addr        listen address (HOOKGATE_RECEIVER_ADDR, default 127.0.0.1:8080)
//	-path        webhook path (default /webhooks)
//	-secret      comma-separated whsec_ secrets; give two during a rotation
//	             (HOOKGATE_WEBHOOK_SECRET)
//	-public-key  comma-separated whpk_ Ed25519 public keys
//	             (HOOKGATE_WEBHOOK_PUBLIC_KEY)
//	-tolerance   allowed clock difference (default 5m)
//
// It answers 204 to a verified event, 401 to a bad signature or stale
// timestamp, and 400 to a body that is not an event. The event id is the
// same on every retry of a delivery, so a real receiver deduplicates on it;
// this one remembers the ids it saw and logs repeats.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hookgate/hookgate/sdk"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}

// run parses the flags, serves until SIGINT or SIGTERM and shuts down.
func run(args []string, getenv func(string) string, log *slog.Logger) error {
	fs := flag.NewFlagSet("receiver", flag.ContinueOnError)
	addr := fs.String("addr", envOr(getenv, "HOOKGATE_RECEIVER_ADDR", "127.0.0.1:8080"), "listen address")
	path := fs.String("path", "/webhooks", "webhook path")
	secrets := fs.String("secret", getenv("HOOKGATE_WEBHOOK_SECRET"), "comma-separated whsec_ secrets")
	publicKeys := fs.String("public-key", getenv("HOOKGATE_WEBHOOK_PUBLIC_KEY"), "comma-separated whpk_ public keys")
	tolerance := fs.Duration("tolerance", sdk.DefaultTolerance, "allowed clock difference")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h, err := newHandler(split(*secrets), split(*publicKeys), *tolerance, log)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+*path, h)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("receiving hookgate webhooks", "addr", *addr, "path", *path)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHandler returns the verifying webhook handler.
func newHandler(secrets, publicKeys []string, tolerance time.Duration, log *slog.Logger) (http.Handler, error) {
	if len(secrets) == 0 && len(publicKeys) == 0 {
		return nil, errors.New("set -secret or HOOKGATE_WEBHOOK_SECRET to the endpoint's whsec_ secret")
	}
	v, err := sdk.NewVerifier(secrets, sdk.WithPublicKeys(publicKeys...), sdk.WithTolerance(tolerance))
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	events := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, _ := sdk.EventFromContext(r.Context())
		mu.Lock()
		repeat := seen[ev.ID]
		seen[ev.ID] = true
		mu.Unlock()
		log.InfoContext(r.Context(), "event", "id", ev.ID, "type", ev.Type, "version", ev.Version,
			"occurred_at", ev.OccurredAt, "source", ev.Source.Kind+"/"+ev.Source.Name,
			"record_id", ev.Source.RecordID, "repeat", repeat, "data", string(ev.Data))
		w.WriteHeader(http.StatusNoContent)
	})
	verified := v.Middleware(events)
	// Log rejections too: the middleware answers them before events runs.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		verified.ServeHTTP(rec, r)
		if rec.status >= 400 {
			log.WarnContext(r.Context(), "rejected webhook", "status", rec.status,
				"webhook_id", r.Header.Get(sdk.HeaderWebhookID), "remote", r.RemoteAddr)
		}
	}), nil
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records status and passes it on.
func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// split turns a comma-separated list into its non-empty, trimmed entries.
func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
