package sdk

import (
	"context"
	"time"
)

// User roles.
const (
	// RoleAdmin is a gateway administrator.
	RoleAdmin = "admin"
	// RolePartnerOwner manages a partner: members, keys, endpoints.
	RolePartnerOwner = "partner_owner"
	// RolePartnerMember works with a partner's endpoints and deliveries.
	RolePartnerMember = "partner_member"
)

// SignupInput is a partner's self-signup.
type SignupInput struct {
	// Company is the partner's name; required.
	Company string `json:"company"`
	// Email is the owner's login and the partner's contact; required.
	Email string `json:"email"`
	// Password is the owner's password; required.
	Password string `json:"password"`
}

// SignupResult is the partner and owner a signup created.
type SignupResult struct {
	// Partner is the new partner, pending until an admin approves it
	// (unless the gateway approves sign-ups automatically).
	Partner SignupPartner `json:"partner"`
	// User is the partner's owner.
	User User `json:"user"`
}

// SignupPartner is the partner a signup created.
type SignupPartner struct {
	// ID is the partner's id ("ptn_…").
	ID string `json:"id"`
	// Name is the company name.
	Name string `json:"name"`
	// Status is PartnerPending or PartnerActive.
	Status string `json:"status"`
}

// User is a person who logs in.
type User struct {
	// ID is the user's id ("usr_…").
	ID string `json:"id"`
	// Email is the login.
	Email string `json:"email"`
	// Role is RoleAdmin, RolePartnerOwner or RolePartnerMember.
	Role string `json:"role"`
	// CreatedAt is when the user was created.
	CreatedAt time.Time `json:"created_at"`
}

// Token is what Login and Refresh return. Use AccessToken as the client's
// token (Client.WithToken) until ExpiresAt, then Refresh with RefreshToken,
// which works once.
type Token struct {
	// AccessToken is a short-lived bearer token.
	AccessToken string `json:"access_token"`
	// TokenType is "Bearer".
	TokenType string `json:"token_type"`
	// ExpiresAt is when AccessToken stops working.
	ExpiresAt time.Time `json:"expires_at"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int `json:"expires_in"`
	// RefreshToken gets the next token pair; it can be used once.
	RefreshToken string `json:"refresh_token"`
}

// Signup registers a partner and its owner user (public, no token needed).
// Not retried: a repeat would be a conflicting second sign-up.
func (c *Client) Signup(ctx context.Context, in SignupInput) (SignupResult, error) {
	req := post("/v1/auth/signup", in)
	req.public = true
	var out SignupResult
	err := c.do(ctx, req, &out)
	return out, err
}

// Login exchanges an e-mail and password for a token pair (public). Wrong
// credentials are ErrUnauthorized; too many failures are ErrRateLimited.
//
//	tok, err := sdk.NewClient(base, "").Login(ctx, email, password)
//	client := sdk.NewClient(base, tok.AccessToken)
func (c *Client) Login(ctx context.Context, email, password string) (Token, error) {
	req := post("/v1/auth/login", map[string]string{"email": email, "password": password})
	req.public = true
	var out Token
	err := c.do(ctx, req, &out)
	return out, err
}

// Refresh exchanges a refresh token for a new token pair (public); the old
// refresh token is spent, and presenting a spent one ends the session.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (Token, error) {
	req := post("/v1/auth/refresh", map[string]string{"refresh_token": refreshToken})
	req.public = true
	var out Token
	err := c.do(ctx, req, &out)
	return out, err
}

// Logout ends the session of the client's access token: it and the
// session's refresh token stop working at once. API keys have no session
// (ErrForbidden).
func (c *Client) Logout(ctx context.Context) error {
	return c.do(ctx, post("/v1/auth/logout", nil), nil)
}

// ChangePassword replaces the logged-in user's password and ends all of
// the user's sessions, this one included: log in again afterwards.
func (c *Client) ChangePassword(ctx context.Context, currentPassword, newPassword string) error {
	return c.do(ctx, post("/v1/auth/password", map[string]string{
		"current_password": currentPassword, "new_password": newPassword,
	}), nil)
}
