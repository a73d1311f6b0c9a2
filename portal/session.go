package portal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/auth"
	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
)

// Cookies. All are HttpOnly, SameSite=Lax, scoped to /portal, and Secure
// when the portal is served over HTTPS.
const (
	cookieAccess  = "hg_access"  // the access token (JWT) of a user session
	cookieRefresh = "hg_refresh" // the session's refresh token
	cookieAdmin   = "hg_admin"   // a sealed admin-token session
	cookiePre     = "hg_pre"     // random value binding the CSRF token of the login and signup forms
)

// adminTokenTTL is how long a sign-in with the bootstrap admin token lasts.
const adminTokenTTL = 8 * time.Hour

var errCSRF = errors.New("portal: missing or wrong CSRF token")

// session is the signed-in caller of one request.
type session struct {
	P domain.Principal
	// ID binds the CSRF token: the user session id, or the admin-token
	// session's random id.
	ID   string
	CSRF string
	// Partner is the caller's partner (partner sessions).
	Partner domain.Partner
	// AdminToken is set for sessions opened with the bootstrap admin token.
	AdminToken bool
}

// Pending reports a partner that awaits approval.
func (s *session) Pending() bool { return s != nil && s.P.Pending }

// Owner reports a partner owner (who manages keys and endpoints).
func (s *session) Owner() bool { return s != nil && s.P.Has(domain.ScopeKeysManage) }

// CanWrite reports whether the caller may change endpoints.
func (s *session) CanWrite() bool { return s != nil && s.P.Has(domain.ScopeEndpointsWrite) }

type adminCookie struct {
	Token string    `json:"t"`
	SID   string    `json:"s"`
	Exp   time.Time `json:"e"`
}

// loadSession authenticates the request's cookies: nil without a live
// session. An expired access token is refreshed transparently with the
// refresh cookie.
func (p *Portal) loadSession(c *fiber.Ctx) (*session, error) {
	if v := c.Cookies(cookieAdmin); v != "" {
		return p.adminSession(c, v)
	}
	access, refresh := c.Cookies(cookieAccess), c.Cookies(cookieRefresh)
	if access == "" && refresh == "" {
		return nil, nil
	}
	var pr domain.Principal
	var err error
	if access != "" && auth.LooksLikeJWT(access) {
		pr, err = p.svc.Authenticate(ctx(c), access)
	} else {
		err = domain.ErrUnauthorized
	}
	if errors.Is(err, domain.ErrUnauthorized) && refresh != "" {
		pair, rerr := p.svc.Refresh(ctx(c), refresh, c.IP())
		if errors.Is(rerr, domain.ErrUnauthorized) {
			p.clearSession(c)
			return nil, nil
		}
		if rerr != nil {
			return nil, rerr
		}
		p.setSessionCookies(c, pair.AccessToken, pair.RefreshToken)
		pr, err = p.svc.Authenticate(ctx(c), pair.AccessToken)
	}
	if errors.Is(err, domain.ErrUnauthorized) || (err == nil && pr.SessionID == "") {
		p.clearSession(c)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pr.Address = c.IP()
	s := &session{P: pr, ID: pr.SessionID}
	s.CSRF = p.csrfFor("ses|" + s.ID)
	if pr.Kind == domain.PrincipalPartner {
		if s.Partner, err = p.svc.Partner(ctx(c), pr, pr.PartnerID); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *Portal) adminSession(c *fiber.Ctx, v string) (*session, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		p.clearSession(c)
		return nil, nil
	}
	plain, err := p.box.Open(raw, []byte(cookieAdmin))
	if err != nil {
		p.clearSession(c)
		return nil, nil
	}
	var ac adminCookie
	if json.Unmarshal(plain, &ac) != nil || !ac.Exp.After(p.d.Now()) {
		p.clearSession(c)
		return nil, nil
	}
	pr, err := p.svc.Authenticate(ctx(c), ac.Token)
	if errors.Is(err, domain.ErrUnauthorized) || (err == nil && !pr.IsAdmin()) {
		p.clearSession(c)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pr.Address = c.IP()
	pr.Actor = "admin-token"
	return &session{P: pr, ID: ac.SID, CSRF: p.csrfFor("adm|" + ac.SID), AdminToken: true}, nil
}

func (p *Portal) cookie(name, value string, maxAge time.Duration) *fiber.Cookie {
	ck := &fiber.Cookie{Name: name, Value: value, Path: Prefix, HTTPOnly: true, Secure: p.d.Secure,
		SameSite: fiber.CookieSameSiteLaxMode}
	if maxAge > 0 {
		ck.MaxAge = int(maxAge.Seconds())
		ck.Expires = p.d.Now().Add(maxAge)
	}
	return ck
}

func (p *Portal) setSessionCookies(c *fiber.Ctx, access, refresh string) {
	c.Cookie(p.cookie(cookieAccess, access, 0))
	c.Cookie(p.cookie(cookieRefresh, refresh, auth.RefreshTokenTTL))
}

func (p *Portal) clearSession(c *fiber.Ctx) {
	for _, n := range []string{cookieAccess, cookieRefresh, cookieAdmin} {
		if c.Cookies(n) != "" {
			p.expire(c, n)
		}
	}
}

// csrfFor is the CSRF token of a binding (a session, or a pre-session
// cookie): an HMAC under the portal's CSRF key.
func (p *Portal) csrfFor(binding string) string {
	m := hmac.New(sha256.New, p.csrfKey)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// preToken is the CSRF token of the signed-out forms (login, signup),
// bound to a random cookie it sets when missing (double submit with an
// HMAC binding).
func (p *Portal) preToken(c *fiber.Ctx) string {
	v := c.Cookies(cookiePre)
	if len(v) < 16 {
		v = crypto.RandomToken(18)
		c.Cookie(p.cookie(cookiePre, v, 24*time.Hour))
		// The request's own value must match what the page embeds.
		c.Request().Header.SetCookie(cookiePre, v)
	}
	return p.csrfFor("pre|" + v)
}

// checkCSRF verifies the token of a state-changing request.
func checkCSRF(c *fiber.Ctx, want string) error {
	got := c.FormValue("csrf")
	if got == "" {
		got = c.Get("X-CSRF-Token")
	}
	if want == "" || got == "" || !hmac.Equal([]byte(got), []byte(want)) {
		return errCSRF
	}
	return nil
}

type pageFunc func(c *fiber.Ctx, s *session) error

// anon wraps the signed-out pages: the session, when there is one, is
// passed along; POSTs need the pre-session CSRF token.
func (p *Portal) anon(h pageFunc) fiber.Handler {
	return func(c *fiber.Ctx) error {
		s, err := p.loadSession(c)
		if err != nil {
			return p.fail(c, nil, err)
		}
		if c.Method() == fiber.MethodPost {
			pre := c.Cookies(cookiePre)
			want := ""
			if len(pre) >= 16 {
				want = p.csrfFor("pre|" + pre)
			}
			if err := checkCSRF(c, want); err != nil {
				return p.fail(c, s, err)
			}
		}
		if err := h(c, s); err != nil {
			return p.fail(c, s, err)
		}
		return nil
	}
}

// guard wraps the signed-in pages: no session redirects to the login page;
// allow decides whether this kind of caller may see the page; every POST
// must carry the session's CSRF token.
func (p *Portal) guard(allow func(c *fiber.Ctx, s *session) string, h pageFunc) fiber.Handler {
	return func(c *fiber.Ctx) error {
		s, err := p.loadSession(c)
		if err != nil {
			return p.fail(c, nil, err)
		}
		if s == nil {
			return p.fail(c, nil, domain.ErrUnauthorized)
		}
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			if err := checkCSRF(c, s.CSRF); err != nil {
				return p.fail(c, s, err)
			}
		}
		if to := allow(c, s); to != "" {
			if to == "403" {
				return p.fail(c, s, domain.ErrForbidden)
			}
			return c.Redirect(to, fiber.StatusSeeOther)
		}
		if err := h(c, s); err != nil {
			return p.fail(c, s, err)
		}
		return nil
	}
}

func (p *Portal) any(h pageFunc) fiber.Handler {
	return p.guard(func(*fiber.Ctx, *session) string { return "" }, h)
}

// partner pages: admins go to their own pages; pending partners see the
// dashboard's approval notice only.
func (p *Portal) partner(h pageFunc) fiber.Handler {
	return p.guard(func(c *fiber.Ctx, s *session) string {
		switch {
		case s.P.IsAdmin():
			return Prefix + "/admin/partners"
		case s.P.Kind != domain.PrincipalPartner:
			return "403"
		case s.Pending() && c.Path() != Prefix+"/dashboard":
			return Prefix + "/dashboard"
		}
		return ""
	}, h)
}

func (p *Portal) admin(h pageFunc) fiber.Handler {
	return p.guard(func(_ *fiber.Ctx, s *session) string {
		if !s.P.IsAdmin() {
			return "403"
		}
		return ""
	}, h)
}
