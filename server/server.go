package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

// Checker reports whether a backing service is reachable (readiness).
type Checker interface {
	Ping(ctx context.Context) error
}

// Deps are what the HTTP server needs.
type Deps struct {
	Service      *service.Service
	Log          *slog.Logger
	MaxBodyBytes int
	// Ready lists the backing services /readyz checks, by name.
	Ready map[string]Checker
	// Metrics, when set, serves GET /metrics.
	Metrics fiber.Handler
	// Mount, when set, adds more routes (the portal) to the app.
	Mount func(app *fiber.App)
	// RequestTimeout bounds one request's work (default 30s).
	RequestTimeout time.Duration
	// RateLimits are the /v1 API rate limits (ratelimit.go); a nil
	// Limiter turns them off.
	RateLimits RateLimits
	// TrustedProxies are the reverse proxies (CIDRs or addresses) whose
	// X-Forwarded-For names the client; empty: the peer is the client.
	TrustedProxies []string
}

// Server is the HTTP API.
type Server struct {
	d   Deps
	app *fiber.App
	svc *service.Service
}

// New builds the fiber app with every route.
func New(d Deps) (*Server, error) {
	if d.Service == nil {
		return nil, errors.New("server: Service is required")
	}
	if d.Log == nil {
		return nil, errors.New("server: Log is required")
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.RequestTimeout <= 0 {
		d.RequestTimeout = 30 * time.Second
	}
	s := &Server{d: d, svc: d.Service}
	s.app = fiber.New(fiber.Config{
		AppName:               "hookgate",
		DisableStartupMessage: true,
		// Immutable: request strings are copied, so nothing a handler keeps
		// aliases fasthttp's reused buffers.
		Immutable: true,
		// fasthttp cuts a connection whose body exceeds BodyLimit, which
		// clients see as a reset rather than an answer; so it is set well
		// above the real limit, which limitBody enforces with a 413 problem.
		BodyLimit:    max(8<<20, 4*d.MaxBodyBytes),
		ErrorHandler: s.ErrorHandler,
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  120 * time.Second,
		// The client address (rate limits, audit) is the peer's unless it
		// is a trusted proxy.
		EnableTrustedProxyCheck: len(d.TrustedProxies) > 0,
		TrustedProxies:          d.TrustedProxies,
		ProxyHeader:             proxyHeader(d.TrustedProxies),
		EnableIPValidation:      true,
	})
	s.app.Use(s.recoverer, s.requestContext, s.limitBody)
	s.routes()
	if d.Mount != nil {
		d.Mount(s.app)
	}
	s.app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return s, nil
}

// App returns the fiber app (for Listen, Test and Shutdown).
func (s *Server) App() *fiber.App { return s.app }

// Route is one registered method and path, for the contract tests.
type Route struct{ Method, Path string }

// Routes lists the API routes (not the portal).
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.app.GetRoutes(true) {
		if r.Method == fiber.MethodHead || strings.HasPrefix(r.Path, "/portal") || r.Path == "/" {
			continue
		}
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	return out
}

// routes registers every route. Each resource's routes live in the file
// that handles them; this is the one list of groups.
func (s *Server) routes() {
	a := s.app
	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)
	if s.d.Metrics != nil {
		a.Get("/metrics", s.d.Metrics)
	}
	a.Post("/ingest/odoo/:token", s.ingestOdoo)

	a.Use("/v1", s.limitAddress) // per client address, before authentication
	public := a.Group("/v1")
	s.routesPublicAuth(public) // signup, login, refresh: no bearer token

	v1 := a.Group("/v1", s.authenticate, s.limitCaller)
	s.routesEvents(v1)
	s.routesPartnerSelf(v1)
	s.routesEndpoints(v1)
	s.routesDeliveries(v1)

	s.routesAccounts(v1)

	ad := v1.Group("/admin")
	s.routesAdmin(ad)
	s.routesSourcesOdoo(ad)
	s.routesAdminAccounts(ad)
	s.routesDeliveryLog(v1, ad)
}

func (s *Server) routesEvents(v1 fiber.Router) {
	v1.Post("/events", s.createEvent)
}

func (s *Server) routesPartnerSelf(v1 fiber.Router) {
	v1.Get("/me", s.me)
	v1.Get("/event-types", s.listEventTypes)
}

func (s *Server) routesEndpoints(v1 fiber.Router) {
	v1.Get("/endpoints", s.listEndpoints)
	v1.Post("/endpoints", s.createEndpoint)
	v1.Get("/endpoints/:id", s.getEndpoint)
	v1.Patch("/endpoints/:id", s.updateEndpoint)
	v1.Delete("/endpoints/:id", s.deleteEndpoint)
	v1.Get("/endpoints/:id/secret", s.getEndpointSecret)
	v1.Post("/endpoints/:id/secret/rotate", s.rotateEndpointSecret)
	v1.Post("/endpoints/:id/enable", s.enableEndpoint)
}

func (s *Server) routesDeliveries(v1 fiber.Router) {
	v1.Get("/deliveries", s.listDeliveries)
	v1.Get("/deliveries/:id", s.getDelivery)
	v1.Get("/deliveries/:id/attempts", s.listAttempts)
	v1.Post("/deliveries/:id/retry", s.retryDelivery)
}

func (s *Server) routesAdmin(ad fiber.Router) {
	ad.Get("/partners", s.listPartners)
	ad.Post("/partners", s.createPartner)
	ad.Get("/partners/:id", s.getPartner)
	ad.Patch("/partners/:id", s.updatePartner)
	ad.Post("/partners/:id/api-keys", s.createPartnerKey)
	ad.Get("/sources", s.listSources)
	ad.Post("/sources", s.createSource)
	ad.Get("/sources/:id", s.getSource)
	ad.Post("/sources/:id/rotate-token", s.rotateSourceToken)
	ad.Get("/stats", s.stats)
	s.routesAdminEventTypes(ad)
}

// --- middleware ---

type ctxKey int

const principalKey ctxKey = 1

func (s *Server) recoverer(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.d.Log.Error("panic in handler", "panic", r, "path", c.Path())
			err = errors.New("internal panic")
		}
	}()
	return c.Next()
}

func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals("request_id").(string); ok {
		return v
	}
	return ""
}

func (s *Server) requestContext(c *fiber.Ctx) error {
	rid := c.Get("X-Request-Id")
	if rid == "" || len(rid) > 100 || strings.ContainsAny(rid, " \r\n\t") {
		rid = crypto.RandomToken(12)
	}
	c.Locals("request_id", rid)
	c.Set("X-Request-Id", rid)
	ctx, cancel := context.WithTimeout(context.Background(), s.d.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

func (s *Server) limitBody(c *fiber.Ctx) error {
	if len(c.Body()) > s.d.MaxBodyBytes {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}

func (s *Server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(h, "bearer ")
	}
	if !ok || strings.TrimSpace(token) == "" {
		return domain.ErrUnauthorized
	}
	p, err := s.svc.Authenticate(c.UserContext(), strings.TrimSpace(token))
	if err != nil {
		return err
	}
	p.Address = c.IP()
	c.Locals(principalKey, p)
	return c.Next()
}

func principal(c *fiber.Ctx) domain.Principal {
	p, _ := c.Locals(principalKey).(domain.Principal)
	return p
}

// --- health ---

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	ok := true
	for name, ch := range s.d.Ready {
		if err := ch.Ping(ctx); err != nil {
			// Details go to the log, not to anonymous callers.
			s.d.Log.WarnContext(ctx, "readiness check failed", "check", name, "error", err)
			checks[name] = "unavailable"
			ok = false
			continue
		}
		checks[name] = "ok"
	}
	status := "ok"
	if !ok {
		status = "unavailable"
		c.Status(fiber.StatusServiceUnavailable)
	}
	return c.JSON(fiber.Map{"status": status, "checks": checks})
}
