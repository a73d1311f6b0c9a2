package portal

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the portal is mounted.
const Prefix = "/portal"

// Deps are what the portal needs.
type Deps struct {
	// Service runs every use case; the portal never calls the HTTP API.
	Service *service.Service
	Log     *slog.Logger
	// Secure marks cookies Secure (set it when the portal is served over
	// HTTPS, i.e. HOOKGATE_PUBLIC_URL is https://…).
	Secure bool
	// Key (at least 32 bytes, e.g. the master key) derives the CSRF key and
	// the key sealing admin-token sessions.
	Key []byte
	// Now replaces the clock in tests (default time.Now).
	Now func() time.Time
}

// Portal serves the web UI.
type Portal struct {
	d       Deps
	svc     *service.Service
	pages   map[string]*template.Template
	csrfKey []byte
	box     *crypto.Box
	static  fs.FS
}

// New parses the templates and derives the portal's keys.
func New(d Deps) (*Portal, error) {
	switch {
	case d.Service == nil:
		return nil, errors.New("portal: Service is required")
	case d.Log == nil:
		return nil, errors.New("portal: Log is required")
	case len(d.Key) < 32:
		return nil, errors.New("portal: Key must be at least 32 bytes")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	p := &Portal{d: d, svc: d.Service, csrfKey: derive(d.Key, "hookgate-portal-csrf")}
	var err error
	if p.box, err = crypto.NewBox(derive(d.Key, "hookgate-portal-admin")); err != nil {
		return nil, err
	}
	if p.static, err = fs.Sub(staticFS, "static"); err != nil {
		return nil, err
	}
	if p.pages, err = parsePages(); err != nil {
		return nil, err
	}
	return p, nil
}

func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// parsePages parses each page with the layout and the shared partials
// (files named _*.html).
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("portal: parse %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// Mount registers the portal's routes on app (server.Deps.Mount), and the
// redirect from / to the portal.
func (p *Portal) Mount(app *fiber.App) {
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect(Prefix+"/", fiber.StatusFound) })
	g := app.Group(Prefix, p.headers)
	g.Get("/static/:file", p.serveStatic)
	g.Get("/", p.home)

	g.Get("/login", p.anon(p.loginPage))
	g.Post("/login", p.anon(p.login))
	g.Post("/login/token", p.anon(p.loginToken))
	g.Get("/signup", p.anon(p.signupPage))
	g.Post("/signup", p.anon(p.signup))
	g.Post("/logout", p.any(p.logout))
	g.Get("/account", p.any(p.accountPage))
	g.Post("/account/password", p.any(p.changePassword))

	p.partnerRoutes(g)
	p.adminRoutes(g.Group("/admin"))
	g.Use(func(c *fiber.Ctx) error {
		s, _ := p.loadSession(c)
		return p.fail(c, s, domain.ErrNotFound)
	})
}

// headers sets the security headers of every portal answer.
func (p *Portal) headers(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Frame-Options", "DENY")
	return c.Next()
}

func (p *Portal) serveStatic(c *fiber.Ctx) error {
	name := path.Base(c.Params("file"))
	b, err := fs.ReadFile(p.static, name)
	if err != nil {
		return c.Status(fiber.StatusNotFound).SendString("not found")
	}
	c.Set(fiber.HeaderContentType, mime.TypeByExtension(path.Ext(name)))
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(b)
}

// home sends visitors where they belong.
func (p *Portal) home(c *fiber.Ctx) error {
	s, err := p.loadSession(c)
	if err != nil {
		return p.fail(c, nil, err)
	}
	switch {
	case s == nil:
		return c.Redirect(Prefix+"/login", fiber.StatusFound)
	case s.P.IsAdmin():
		return c.Redirect(Prefix+"/admin/partners", fiber.StatusFound)
	default:
		return c.Redirect(Prefix+"/dashboard", fiber.StatusFound)
	}
}

// view is what every page template receives.
type view struct {
	Title  string
	Nav    string
	S      *session
	CSRF   string
	Flash  string
	Errors map[string]string
	Form   map[string]string
	D      map[string]any
}

func newView(title, nav string) *view {
	return &view{Title: title, Nav: nav, Errors: map[string]string{}, Form: map[string]string{}, D: map[string]any{}}
}

// render executes a page (the layout around it, or the page's "fragment"
// template alone when fragment is set) with status.
func (p *Portal) render(c *fiber.Ctx, s *session, status int, page string, v *view) error {
	t, ok := p.pages[page]
	if !ok {
		return fmt.Errorf("portal: no page %q", page)
	}
	v.S = s
	if s != nil {
		v.CSRF = s.CSRF
	} else {
		v.CSRF = p.preToken(c)
	}
	if v.Flash == "" {
		v.Flash = p.takeFlash(c)
	}
	name := "layout"
	if c.Query("fragment") == "1" && t.Lookup("fragment") != nil {
		name = "fragment"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		return fmt.Errorf("portal: render %s: %w", page, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(buf.Bytes())
}

// fail renders an error page for err (or redirects to the login page when
// the session is gone). It is the portal's one error → HTTP mapping.
func (p *Portal) fail(c *fiber.Ctx, s *session, err error) error {
	status, title, msg := fiber.StatusInternalServerError, "Something went wrong", "The server could not complete this request. Please try again."
	var ve *domain.ValidationError
	var qe *domain.QuotaError
	var rl *domain.RateLimitError
	var ce *domain.ConflictError
	switch {
	case errors.Is(err, domain.ErrUnauthorized):
		p.clearSession(c)
		return c.Redirect(Prefix+"/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
	case errors.Is(err, errCSRF):
		status, title, msg = fiber.StatusForbidden, "Form expired", "This form was missing its security token or it did not match your session. Go back, reload the page and try again."
	case errors.Is(err, domain.ErrPendingApproval):
		status, title, msg = fiber.StatusForbidden, "Awaiting approval", "Your partner account awaits approval by an administrator."
	case errors.Is(err, domain.ErrForbidden):
		status, title, msg = fiber.StatusForbidden, "Not allowed", "Your account may not do this."
	case errors.Is(err, domain.ErrNotFound):
		status, title, msg = fiber.StatusNotFound, "Not found", "There is nothing here, or it belongs to another account."
	case errors.As(err, &ve):
		status, title, msg = fiber.StatusBadRequest, "Check your input", ve.Error()
	case errors.As(err, &ce):
		status, title, msg = fiber.StatusConflict, "Conflict", ce.Reason
	case errors.Is(err, domain.ErrConflict):
		status, title, msg = fiber.StatusConflict, "Conflict", "This conflicts with the current state; reload and try again."
	case errors.As(err, &qe):
		status, title, msg = fiber.StatusForbidden, "Quota reached", qe.Reason
	case errors.As(err, &rl):
		status, title, msg = fiber.StatusTooManyRequests, "Slow down", rl.Reason
		c.Set(fiber.HeaderRetryAfter, fmt.Sprint(max(1, int(rl.RetryAfter.Seconds()))))
	case errors.Is(err, domain.ErrUnavailable):
		status, title, msg = fiber.StatusServiceUnavailable, "Temporarily unavailable", "A backing service is unavailable. Please try again in a moment."
	case errors.Is(err, context.DeadlineExceeded):
		status, title, msg = fiber.StatusServiceUnavailable, "Timed out", "The request took too long. Please try again."
	default:
		p.d.Log.ErrorContext(c.UserContext(), "portal request failed", "path", c.Path(), "method", c.Method(), "error", err)
	}
	v := newView(title, "")
	v.D["Message"] = msg
	v.D["Status"] = status
	if rerr := p.render(c, s, status, "error", v); rerr != nil {
		p.d.Log.ErrorContext(c.UserContext(), "portal error page failed", "error", rerr)
		return c.Status(status).SendString(title + ": " + msg)
	}
	return nil
}

// fieldErrors turns a validation error into the errors shown next to the
// form's fields (fields the form does not show go to "_form"); ok is false
// for any other error.
func fieldErrors(err error, known ...string) (map[string]string, bool) {
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		return nil, false
	}
	field := ve.Field
	found := false
	for _, k := range known {
		if k == field {
			found = true
		}
	}
	if !found {
		return map[string]string{"_form": ve.Error()}, true
	}
	return map[string]string{field: ve.Reason}, true
}

// redirect answers a successful POST with a redirect to a GET page and an
// optional flash message.
func (p *Portal) redirect(c *fiber.Ctx, to, flash string) error {
	if flash != "" {
		p.setFlash(c, flash)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

const cookieFlash = "hg_flash"

func (p *Portal) setFlash(c *fiber.Ctx, msg string) {
	c.Cookie(&fiber.Cookie{Name: cookieFlash, Value: url.QueryEscape(msg), Path: Prefix, HTTPOnly: true,
		Secure: p.d.Secure, SameSite: fiber.CookieSameSiteLaxMode, MaxAge: 60})
}

func (p *Portal) takeFlash(c *fiber.Ctx) string {
	v := c.Cookies(cookieFlash)
	if v == "" || c.Method() != fiber.MethodGet {
		return ""
	}
	p.expire(c, cookieFlash)
	msg, err := url.QueryUnescape(v)
	if err != nil || len(msg) > 300 {
		return ""
	}
	return msg
}

func (p *Portal) expire(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: Prefix, HTTPOnly: true, Secure: p.d.Secure,
		SameSite: fiber.CookieSameSiteLaxMode, MaxAge: -1, Expires: time.Unix(1, 0)})
}

// ctx is the request's context (with the server's deadline).
func ctx(c *fiber.Ctx) context.Context { return c.UserContext() }
