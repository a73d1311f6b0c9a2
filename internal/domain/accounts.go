package domain

import (
	"fmt"
	"time"
)

// Role is a user's role.
type Role string

// User roles.
const (
	RoleAdmin         Role = "admin"
	RolePartnerOwner  Role = "partner_owner"
	RolePartnerMember Role = "partner_member"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RolePartnerOwner || r == RolePartnerMember
}

// PartnerRole reports whether r is a role of a partner's user.
func (r Role) PartnerRole() bool { return r == RolePartnerOwner || r == RolePartnerMember }

// KeyScopes are every scope a partner API key may hold: the partner scopes
// plus keys:manage (never given by default).
var KeyScopes = []string{ScopeEndpointsRead, ScopeEndpointsWrite, ScopeDeliveriesRead, ScopeDeliveriesReplay, ScopeKeysManage}

// OwnerScopes are what a partner owner's session may do.
var OwnerScopes = []string{ScopeEndpointsRead, ScopeEndpointsWrite, ScopeDeliveriesRead, ScopeDeliveriesReplay,
	ScopeKeysManage, ScopeMembersManage}

// MemberScopes are what a partner member's session may do: read the
// endpoints and the delivery log, and replay.
var MemberScopes = []string{ScopeEndpointsRead, ScopeDeliveriesRead, ScopeDeliveriesReplay}

// ScopesOf returns the scopes a user of role r holds.
func ScopesOf(r Role) []string {
	switch r {
	case RoleAdmin:
		return []string{ScopeAdmin}
	case RolePartnerOwner:
		return append([]string(nil), OwnerScopes...)
	case RolePartnerMember:
		return append([]string(nil), MemberScopes...)
	}
	return nil
}

// User is a person who logs in: an admin, or an owner or member of a partner.
type User struct {
	ID        string
	PartnerID string // empty for admins
	Email     string
	Role      Role
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Session is a user's login: the refresh token's server-side record. Access
// tokens name it, and stop working when it is revoked.
type Session struct {
	ID          string
	UserID      string
	CreatedAt   time.Time
	RefreshedAt time.Time
	ExpiresAt   time.Time // the refresh token's expiry
	RevokedAt   *time.Time
	Address     string
}

// SessionAuth is what authenticating an access token needs to know about its
// session, read fresh on every request.
type SessionAuth struct {
	Session       Session
	User          User
	PartnerStatus PartnerStatus // "" for admins
}

// AuditEntry is one line of the audit trail: who did what to which
// resource, when, from where. Detail never holds secrets.
type AuditEntry struct {
	ID        string
	Actor     string // user id, key id, "admin-token", "cli", or "anonymous"
	Action    string // e.g. partner.approved, api_key.revoked, login.failed
	Target    string // the resource acted on (an id, or an e-mail for logins)
	PartnerID string
	Address   string
	Detail    map[string]any
	At        time.Time
}

// Usage is a partner's use of its quota in one calendar month (UTC).
type Usage struct {
	Period     string // YYYY-MM
	Deliveries int64  // deliveries counted against the monthly quota
	Held       int64  // deliveries currently held, every reason
	HeldBy     map[string]int64
	Endpoints  int
	Quota      Quota
}

// Period returns the calendar month (UTC) of t as YYYY-MM.
func Period(t time.Time) string { return t.UTC().Format("2006-01") }

// PeriodBounds returns the first instant of t's month (UTC) and of the next.
func PeriodBounds(t time.Time) (time.Time, time.Time) {
	t = t.UTC()
	start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// Held reasons.
const (
	HeldQuota            = "quota"
	HeldPartnerSuspended = "partner_suspended"
	HeldEndpointPaused   = "endpoint_paused"
)

// ErrPendingApproval is returned to users of a partner that is not yet
// approved, for everything but their own account. It is an ErrForbidden.
var ErrPendingApproval = fmt.Errorf("%w: the partner account awaits approval by an administrator", ErrForbidden)

// ErrInvalidCredentials is returned for a wrong e-mail or password, alike.
// It is an ErrUnauthorized.
var ErrInvalidCredentials = fmt.Errorf("%w: invalid email or password", ErrUnauthorized)

// RateLimitError reports that a caller must slow down.
type RateLimitError struct {
	RetryAfter time.Duration
	Reason     string
}

// Error implements error.
func (e *RateLimitError) Error() string { return e.Reason }
