package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/auth"
	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/ratelimit"
)

// Throttle is the shared (Redis) limiter of login and signup attempts.
type Throttle interface {
	Peek(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Decision, error)
	Take(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Decision, error)
	Reset(ctx context.Context, key string) error
}

// Attempt limits of people's credentials.
var (
	// LoginFailuresPerAccount is how many failed logins one e-mail may
	// have per minute.
	LoginFailuresPerAccount = ratelimit.PerMinute(5)
	// LoginFailuresPerAddress is how many failed logins one client
	// address may have per minute.
	LoginFailuresPerAddress = ratelimit.PerMinute(20)
	// SignupsPerAddress is how many partners one client address may sign
	// up per hour.
	SignupsPerAddress = ratelimit.PerHour(20)
)

const idSession = "ses"

// SignupInput is a partner's self-signup.
type SignupInput struct {
	Company  string
	Email    string
	Password string
	Address  string // the client address
}

// SignupResult is the new partner and its owner.
type SignupResult struct {
	Partner domain.Partner
	User    domain.User
}

// TokenPair is what a login or a refresh returns: a short-lived access
// token (JWT) and the session's new refresh token, both shown once.
type TokenPair struct {
	AccessToken  string
	ExpiresAt    time.Time
	RefreshToken string
	SessionID    string
}

func validPassword(field, pw string) error {
	if err := auth.CheckPasswordRules(pw); err != nil {
		return domain.Invalid(field, "%s", strings.TrimPrefix(err.Error(), auth.ErrWeakPassword.Error()+": "))
	}
	return nil
}

// throttled turns a refused decision into a RateLimitError; a limiter
// failure lets the attempt through (logged): Redis trouble must not lock
// everyone out.
func (s *Service) throttled(ctx context.Context, d ratelimit.Decision, err error, what string) error {
	if err != nil {
		s.d.Log.WarnContext(ctx, "throttle unavailable; attempt allowed", "what", what, "error", err)
		return nil
	}
	if !d.Allowed {
		return &domain.RateLimitError{RetryAfter: d.RetryAfter, Reason: "too many " + what + "; try again later"}
	}
	return nil
}

// Signup creates a partner and its owner user: pending until an admin
// approves it, or active at once when auto-approval is on.
func (s *Service) Signup(ctx context.Context, in SignupInput) (SignupResult, error) {
	company, err := validName("company", in.Company)
	if err != nil {
		return SignupResult{}, err
	}
	email, err := validEmail(in.Email)
	if err != nil {
		return SignupResult{}, err
	}
	if err := validPassword("password", in.Password); err != nil {
		return SignupResult{}, err
	}
	if s.d.Throttle != nil {
		d, err := s.d.Throttle.Take(ctx, "signup:addr:"+in.Address, SignupsPerAddress)
		if err := s.throttled(ctx, d, err, "sign-ups from your address"); err != nil {
			return SignupResult{}, err
		}
	}
	hash, err := s.d.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return SignupResult{}, err
	}
	now := s.now()
	status := domain.PartnerPending
	if s.d.AutoApprove {
		status = domain.PartnerActive
	}
	partner := domain.Partner{
		ID: ids.New(ids.Partner), Name: company, Email: email, Status: status,
		Entitlements: []string{"*"}, CreatedAt: now, UpdatedAt: now,
	}
	owner := domain.User{ID: ids.New(ids.User), PartnerID: partner.ID, Email: email, Role: domain.RolePartnerOwner, CreatedAt: now, UpdatedAt: now}
	if err := s.d.Store.CreatePartnerWithOwner(ctx, partner, owner, hash); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return SignupResult{}, &domain.ConflictError{Reason: "an account with this e-mail address exists already; log in instead"}
		}
		return SignupResult{}, err
	}
	s.d.Routes.Invalidate(ctx)
	s.Audit(ctx, domain.AuditEntry{Actor: owner.ID, Action: "partner.signed_up", Target: partner.ID, PartnerID: partner.ID,
		Address: in.Address, Detail: map[string]any{"email": email, "status": string(status)}})
	return SignupResult{Partner: partner, User: owner}, nil
}

// LoginInput is an e-mail and password login.
type LoginInput struct {
	Email    string
	Password string
	Address  string // the client address
}

func loginKeys(email, address string) (account, addr string) {
	return "login:acct:" + crypto.HashToken(email)[:32], "login:addr:" + address
}

// Login checks an e-mail and password and opens a session. Wrong e-mail and
// wrong password get the same answer and take the same time; failures are
// throttled per account and per client address, and audited.
func (s *Service) Login(ctx context.Context, in LoginInput) (TokenPair, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if email == "" {
		return TokenPair{}, domain.Invalid("email", "is required")
	}
	if in.Password == "" {
		return TokenPair{}, domain.Invalid("password", "is required")
	}
	if len(email) > 254 || len(in.Password) > 4*auth.MaxPasswordLength {
		return TokenPair{}, domain.ErrInvalidCredentials
	}
	if s.d.Tokens == nil {
		return TokenPair{}, errorsJoinUnavailable(errors.New("service: logins are not configured"))
	}
	acctKey, addrKey := loginKeys(email, in.Address)
	if s.d.Throttle != nil {
		d, err := s.d.Throttle.Peek(ctx, addrKey, LoginFailuresPerAddress)
		if err := s.throttled(ctx, d, err, "failed logins from your address"); err != nil {
			return TokenPair{}, err
		}
		d, err = s.d.Throttle.Peek(ctx, acctKey, LoginFailuresPerAccount)
		if err := s.throttled(ctx, d, err, "failed logins for this account"); err != nil {
			return TokenPair{}, err
		}
	}
	u, hash, err := s.d.Store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return TokenPair{}, err
	}
	ok, verr := s.d.Hasher.Verify(ctx, in.Password, hash) // hash "" runs the dummy
	if verr != nil {
		return TokenPair{}, verr
	}
	if !ok {
		reason := "wrong_password"
		if hash == "" {
			reason = "unknown_email"
		}
		if s.d.Throttle != nil {
			for key, lim := range map[string]ratelimit.Limit{acctKey: LoginFailuresPerAccount, addrKey: LoginFailuresPerAddress} {
				if _, err := s.d.Throttle.Take(ctx, key, lim); err != nil {
					s.d.Log.WarnContext(ctx, "login throttle unavailable", "error", err)
				}
			}
		}
		s.Audit(ctx, domain.AuditEntry{Actor: "anonymous", Action: "login.failed", Target: clip(email, 254),
			PartnerID: u.PartnerID, Address: in.Address, Detail: map[string]any{"reason": reason}})
		return TokenPair{}, domain.ErrInvalidCredentials
	}
	if s.d.Throttle != nil {
		_ = s.d.Throttle.Reset(ctx, acctKey)
	}
	pair, err := s.openSession(ctx, u, in.Address)
	if err != nil {
		return TokenPair{}, err
	}
	s.Audit(ctx, domain.AuditEntry{Actor: u.ID, Action: "login.succeeded", Target: u.ID, PartnerID: u.PartnerID,
		Address: in.Address, Detail: map[string]any{"session_id": pair.SessionID}})
	return pair, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Service) openSession(ctx context.Context, u domain.User, address string) (TokenPair, error) {
	now := s.now()
	refresh := auth.NewRefreshToken()
	se := domain.Session{
		ID: ids.New(idSession), UserID: u.ID, CreatedAt: now, RefreshedAt: now,
		ExpiresAt: now.Add(auth.RefreshTokenTTL), Address: clip(address, 100),
	}
	if err := s.d.Store.CreateSession(ctx, se, crypto.HashToken(refresh)); err != nil {
		return TokenPair{}, err
	}
	access, exp, err := s.d.Tokens.Issue(auth.Claims{UserID: u.ID, SessionID: se.ID, Role: string(u.Role), PartnerID: u.PartnerID})
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, ExpiresAt: exp, RefreshToken: refresh, SessionID: se.ID}, nil
}

// Refresh exchanges a session's refresh token for a new access token and a
// new refresh token (the old one is spent). Presenting a spent refresh
// token revokes the session: it was copied.
func (s *Service) Refresh(ctx context.Context, refreshToken, address string) (TokenPair, error) {
	if !strings.HasPrefix(refreshToken, auth.RefreshPrefix) || len(refreshToken) > 200 {
		return TokenPair{}, domain.ErrUnauthorized
	}
	if s.d.Tokens == nil {
		return TokenPair{}, errorsJoinUnavailable(errors.New("service: logins are not configured"))
	}
	now := s.now()
	oldHash := crypto.HashToken(refreshToken)
	se, reused, err := s.d.Store.SessionByRefreshHash(ctx, oldHash)
	if errors.Is(err, domain.ErrNotFound) {
		return TokenPair{}, domain.ErrUnauthorized
	}
	if err != nil {
		return TokenPair{}, err
	}
	if reused {
		if se.RevokedAt == nil {
			if err := s.d.Store.RevokeSession(ctx, se.ID, now); err != nil {
				return TokenPair{}, err
			}
			s.Audit(ctx, domain.AuditEntry{Actor: "anonymous", Action: "session.refresh_reused", Target: se.UserID,
				Address: address, Detail: map[string]any{"session_id": se.ID, "outcome": "session revoked"}})
		}
		return TokenPair{}, domain.ErrUnauthorized
	}
	if se.RevokedAt != nil || !se.ExpiresAt.After(now) {
		return TokenPair{}, domain.ErrUnauthorized
	}
	sa, err := s.d.Store.SessionAuth(ctx, se.ID)
	if errors.Is(err, domain.ErrNotFound) {
		return TokenPair{}, domain.ErrUnauthorized
	}
	if err != nil {
		return TokenPair{}, err
	}
	refresh := auth.NewRefreshToken()
	err = s.d.Store.RotateSession(ctx, se.ID, oldHash, crypto.HashToken(refresh), now, now.Add(auth.RefreshTokenTTL))
	if errors.Is(err, domain.ErrConflict) {
		return TokenPair{}, domain.ErrUnauthorized // a concurrent refresh spent it
	}
	if err != nil {
		return TokenPair{}, err
	}
	u := sa.User
	access, exp, err := s.d.Tokens.Issue(auth.Claims{UserID: u.ID, SessionID: se.ID, Role: string(u.Role), PartnerID: u.PartnerID})
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, ExpiresAt: exp, RefreshToken: refresh, SessionID: se.ID}, nil
}

// authenticateSession checks an access token and, on every request, that
// its session is still live: logout and password changes take effect at
// once.
func (s *Service) authenticateSession(ctx context.Context, token string) (domain.Principal, error) {
	if s.d.Tokens == nil {
		return domain.Principal{}, domain.ErrUnauthorized
	}
	c, err := s.d.Tokens.Parse(token)
	if err != nil {
		return domain.Principal{}, domain.ErrUnauthorized
	}
	sa, err := s.d.Store.SessionAuth(ctx, c.SessionID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Principal{}, domain.ErrUnauthorized
	}
	if err != nil {
		return domain.Principal{}, err
	}
	if sa.Session.RevokedAt != nil || sa.Session.UserID != c.UserID || !sa.Session.ExpiresAt.After(s.now()) {
		return domain.Principal{}, domain.ErrUnauthorized
	}
	u := sa.User
	p := domain.Principal{UserID: u.ID, SessionID: sa.Session.ID, Role: string(u.Role), Scopes: domain.ScopesOf(u.Role), Actor: u.ID}
	switch {
	case u.Role == domain.RoleAdmin:
		p.Kind = domain.PrincipalAdmin
	case u.Role.PartnerRole() && u.PartnerID != "":
		p.Kind, p.PartnerID = domain.PrincipalPartner, u.PartnerID
		if sa.PartnerStatus == domain.PartnerPending {
			p.Pending, p.Scopes = true, nil
		}
	default:
		return domain.Principal{}, domain.ErrUnauthorized
	}
	return p, nil
}

// Logout ends the caller's session: its access and refresh tokens stop
// working at once.
func (s *Service) Logout(ctx context.Context, p domain.Principal) error {
	if p.SessionID == "" {
		return domain.ErrForbidden // API keys and tokens have no session
	}
	if err := s.d.Store.RevokeSession(ctx, p.SessionID, s.now()); err != nil {
		return err
	}
	s.audit(ctx, p, "session.logged_out", p.UserID, p.PartnerID, map[string]any{"session_id": p.SessionID})
	return nil
}

// ChangePassword replaces the caller's password after checking the current
// one, and ends every session of the user (this one too).
func (s *Service) ChangePassword(ctx context.Context, p domain.Principal, current, next string) error {
	if p.UserID == "" {
		return domain.ErrForbidden
	}
	if current == "" {
		return domain.Invalid("current_password", "is required")
	}
	if err := validPassword("new_password", next); err != nil {
		return err
	}
	if next == current {
		return domain.Invalid("new_password", "must differ from the current password")
	}
	u, hash, err := s.d.Store.User(ctx, "", p.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrUnauthorized
	}
	if err != nil {
		return err
	}
	acctKey, _ := loginKeys(u.Email, "")
	if s.d.Throttle != nil {
		d, err := s.d.Throttle.Peek(ctx, acctKey, LoginFailuresPerAccount)
		if err := s.throttled(ctx, d, err, "failed password checks for this account"); err != nil {
			return err
		}
	}
	ok, err := s.d.Hasher.Verify(ctx, current, hash)
	if err != nil {
		return err
	}
	if !ok {
		if s.d.Throttle != nil {
			_, _ = s.d.Throttle.Take(ctx, acctKey, LoginFailuresPerAccount)
		}
		s.audit(ctx, p, "password.change_failed", u.ID, u.PartnerID, map[string]any{"reason": "wrong_password"})
		return domain.Invalid("current_password", "is not your current password")
	}
	newHash, err := s.d.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	if err := s.d.Store.SetPassword(ctx, u.ID, newHash, s.now()); err != nil {
		return err
	}
	s.audit(ctx, p, "password.changed", u.ID, u.PartnerID, map[string]any{"sessions": "all revoked"})
	return nil
}

// MemberInput adds a user to the caller's partner.
type MemberInput struct {
	Email    string
	Password string
	Role     domain.Role // default partner_member
}

// ListMembers lists the users of the caller's partner.
func (s *Service) ListMembers(ctx context.Context, p domain.Principal) ([]domain.User, error) {
	pid, err := partnerOf(p, domain.ScopeMembersManage)
	if err != nil {
		return nil, err
	}
	return s.d.Store.ListUsers(ctx, pid)
}

// AddMember creates a user of the caller's partner with an initial
// password (owners only).
func (s *Service) AddMember(ctx context.Context, p domain.Principal, in MemberInput) (domain.User, error) {
	pid, err := partnerOf(p, domain.ScopeMembersManage)
	if err != nil {
		return domain.User{}, err
	}
	email, err := validEmail(in.Email)
	if err != nil {
		return domain.User{}, err
	}
	role := in.Role
	if role == "" {
		role = domain.RolePartnerMember
	}
	if !role.PartnerRole() {
		return domain.User{}, domain.Invalid("role", "must be partner_member or partner_owner")
	}
	if err := validPassword("password", in.Password); err != nil {
		return domain.User{}, err
	}
	hash, err := s.d.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return domain.User{}, err
	}
	now := s.now()
	u := domain.User{ID: ids.New(ids.User), PartnerID: pid, Email: email, Role: role, CreatedAt: now, UpdatedAt: now}
	if err := s.d.Store.CreateUser(ctx, u, hash); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return domain.User{}, &domain.ConflictError{Reason: "a user with this e-mail address exists already"}
		}
		return domain.User{}, err
	}
	s.audit(ctx, p, "member.added", u.ID, pid, map[string]any{"email": email, "role": string(role)})
	return u, nil
}

// RemoveMember deletes a user of the caller's partner and ends its
// sessions. Nobody removes themselves.
func (s *Service) RemoveMember(ctx context.Context, p domain.Principal, id string) error {
	pid, err := partnerOf(p, domain.ScopeMembersManage)
	if err != nil {
		return err
	}
	if id == p.UserID {
		return &domain.ConflictError{Reason: "you cannot remove yourself; ask another owner"}
	}
	u, _, err := s.d.Store.User(ctx, pid, id)
	if err != nil {
		return err
	}
	if err := s.d.Store.DeleteUser(ctx, pid, id); err != nil {
		return err
	}
	s.audit(ctx, p, "member.removed", id, pid, map[string]any{"email": u.Email, "role": string(u.Role)})
	return nil
}

// CreateAdminUser creates an admin user who logs in like anyone else
// (break-glass CLI, or an admin).
func (s *Service) CreateAdminUser(ctx context.Context, p domain.Principal, email, password string) (domain.User, error) {
	if err := requireAdmin(p); err != nil {
		return domain.User{}, err
	}
	email, err := validEmail(email)
	if err != nil {
		return domain.User{}, err
	}
	if err := validPassword("password", password); err != nil {
		return domain.User{}, err
	}
	hash, err := s.d.Hasher.Hash(ctx, password)
	if err != nil {
		return domain.User{}, err
	}
	now := s.now()
	u := domain.User{ID: ids.New(ids.User), Email: email, Role: domain.RoleAdmin, CreatedAt: now, UpdatedAt: now}
	if err := s.d.Store.CreateUser(ctx, u, hash); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return domain.User{}, &domain.ConflictError{Reason: fmt.Sprintf("a user with the e-mail address %s exists already", email)}
		}
		return domain.User{}, err
	}
	s.audit(ctx, p, "user.created", u.ID, "", map[string]any{"email": email, "role": string(domain.RoleAdmin)})
	return u, nil
}
