package portal

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

// safeNext keeps a post-login redirect inside the portal.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix + "/"
	}
	return next
}

func (p *Portal) loginPage(c *fiber.Ctx, s *session) error {
	if s != nil {
		return c.Redirect(Prefix+"/", fiber.StatusFound)
	}
	v := newView("Log in", "login")
	v.Form["next"] = safeNext(c.Query("next"))
	return p.render(c, nil, fiber.StatusOK, "login", v)
}

func (p *Portal) login(c *fiber.Ctx, _ *session) error {
	v := newView("Log in", "login")
	v.Form["email"] = strings.TrimSpace(c.FormValue("email"))
	v.Form["next"] = safeNext(c.FormValue("next"))
	pair, err := p.svc.Login(ctx(c), service.LoginInput{Email: v.Form["email"], Password: c.FormValue("password"), Address: c.IP()})
	if err != nil {
		if fe, ok := fieldErrors(err, "email", "password"); ok {
			v.Errors = fe
			return p.render(c, nil, fiber.StatusBadRequest, "login", v)
		}
		if errors.Is(err, domain.ErrUnauthorized) {
			v.Errors["password"] = "Wrong e-mail address or password."
			return p.render(c, nil, fiber.StatusUnauthorized, "login", v)
		}
		return err
	}
	p.expire(c, cookieAdmin)
	p.setSessionCookies(c, pair.AccessToken, pair.RefreshToken)
	return c.Redirect(v.Form["next"], fiber.StatusSeeOther)
}

// loginToken signs in with the bootstrap admin token (first setup, before
// any admin user exists). The token is sealed into the cookie, never
// stored in the browser in the clear.
func (p *Portal) loginToken(c *fiber.Ctx, _ *session) error {
	v := newView("Log in", "login")
	v.Form["next"] = safeNext(c.FormValue("next"))
	token := strings.TrimSpace(c.FormValue("admin_token"))
	if token == "" {
		v.Errors["admin_token"] = "Enter the admin token (HOOKGATE_ADMIN_TOKEN)."
		return p.render(c, nil, fiber.StatusBadRequest, "login", v)
	}
	if !p.svc.IsBootstrapAdmin(token) {
		p.svc.Audit(ctx(c), domain.AuditEntry{Actor: "anonymous", Action: "login.failed", Target: "admin-token",
			Address: c.IP(), Detail: map[string]any{"reason": "wrong_admin_token", "via": "portal"}})
		v.Errors["admin_token"] = "This is not the admin token."
		return p.render(c, nil, fiber.StatusUnauthorized, "login", v)
	}
	ac := adminCookie{Token: token, SID: crypto.RandomToken(18), Exp: p.d.Now().Add(adminTokenTTL)}
	plain, err := json.Marshal(ac)
	if err != nil {
		return err
	}
	p.clearSession(c)
	c.Cookie(p.cookie(cookieAdmin, base64.RawURLEncoding.EncodeToString(p.box.Seal(plain, []byte(cookieAdmin))), adminTokenTTL))
	p.svc.Audit(ctx(c), domain.AuditEntry{Actor: "admin-token", Action: "login.succeeded", Target: "admin-token",
		Address: c.IP(), Detail: map[string]any{"via": "portal"}})
	next := v.Form["next"]
	if next == Prefix+"/" {
		next = Prefix + "/admin/partners"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (p *Portal) signupPage(c *fiber.Ctx, s *session) error {
	if s != nil {
		return c.Redirect(Prefix+"/", fiber.StatusFound)
	}
	return p.render(c, nil, fiber.StatusOK, "signup", newView("Sign up", "signup"))
}

// signup creates the partner and its owner, then logs the owner in.
func (p *Portal) signup(c *fiber.Ctx, _ *session) error {
	v := newView("Sign up", "signup")
	v.Form["company"] = strings.TrimSpace(c.FormValue("company"))
	v.Form["email"] = strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	if password != c.FormValue("password_confirm") {
		v.Errors["password_confirm"] = "The two passwords differ."
		return p.render(c, nil, fiber.StatusBadRequest, "signup", v)
	}
	_, err := p.svc.Signup(ctx(c), service.SignupInput{Company: v.Form["company"], Email: v.Form["email"], Password: password, Address: c.IP()})
	if err != nil {
		if fe, ok := fieldErrors(err, "company", "email", "password"); ok {
			v.Errors = fe
			return p.render(c, nil, fiber.StatusBadRequest, "signup", v)
		}
		var ce *domain.ConflictError
		if errors.As(err, &ce) {
			v.Errors["email"] = ce.Reason
			return p.render(c, nil, fiber.StatusConflict, "signup", v)
		}
		return err
	}
	pair, err := p.svc.Login(ctx(c), service.LoginInput{Email: v.Form["email"], Password: password, Address: c.IP()})
	if err != nil {
		return p.redirect(c, Prefix+"/login", "Your account was created; log in to continue.")
	}
	p.expire(c, cookieAdmin)
	p.setSessionCookies(c, pair.AccessToken, pair.RefreshToken)
	return p.redirect(c, Prefix+"/dashboard", "Welcome! Your account was created.")
}

// logout ends the session on the server (the cookies stop working at once,
// wherever they were copied) and clears them.
func (p *Portal) logout(c *fiber.Ctx, s *session) error {
	if !s.AdminToken {
		if err := p.svc.Logout(ctx(c), s.P); err != nil && !errors.Is(err, domain.ErrUnauthorized) {
			return err
		}
	} else {
		p.svc.Audit(ctx(c), domain.AuditEntry{Actor: "admin-token", Action: "session.logged_out", Target: "admin-token",
			Address: c.IP(), Detail: map[string]any{"via": "portal"}})
	}
	p.clearSession(c)
	return p.redirect(c, Prefix+"/login", "You are logged out.")
}

func (p *Portal) accountPage(c *fiber.Ctx, s *session) error {
	return p.render(c, s, fiber.StatusOK, "account", newView("Account", "account"))
}

// changePassword changes the caller's password; the service ends every
// session, this one too, so the user logs in again.
func (p *Portal) changePassword(c *fiber.Ctx, s *session) error {
	v := newView("Account", "account")
	if s.AdminToken {
		return domain.ErrForbidden
	}
	next := c.FormValue("new_password")
	if next != c.FormValue("new_password_confirm") {
		v.Errors["new_password_confirm"] = "The two passwords differ."
		return p.render(c, s, fiber.StatusBadRequest, "account", v)
	}
	if err := p.svc.ChangePassword(ctx(c), s.P, c.FormValue("current_password"), next); err != nil {
		if fe, ok := fieldErrors(err, "current_password", "new_password"); ok {
			v.Errors = fe
			return p.render(c, s, fiber.StatusBadRequest, "account", v)
		}
		return err
	}
	p.clearSession(c)
	return p.redirect(c, Prefix+"/login", "Your password was changed; log in with the new one.")
}
