package domain

// PrincipalKind says who is calling.
type PrincipalKind string

// Principal kinds.
const (
	PrincipalAdmin   PrincipalKind = "admin"
	PrincipalPartner PrincipalKind = "partner"
	PrincipalSource  PrincipalKind = "source"
)

// API key scopes.
const (
	ScopeEndpointsRead    = "endpoints:read"
	ScopeEndpointsWrite   = "endpoints:write"
	ScopeDeliveriesRead   = "deliveries:read"
	ScopeDeliveriesReplay = "deliveries:replay"
	ScopeAdmin            = "admin"
	// ScopeKeysManage lets a partner principal list, create and revoke
	// its own API keys (owners hold it; a key may be given it).
	ScopeKeysManage = "keys:manage"
	// ScopeMembersManage lets a partner principal manage its users
	// (owners only).
	ScopeMembersManage = "members:manage"
)

// PartnerScopes are every scope a partner key may hold.
var PartnerScopes = []string{ScopeEndpointsRead, ScopeEndpointsWrite, ScopeDeliveriesRead, ScopeDeliveriesReplay}

// Principal is an authenticated caller.
type Principal struct {
	Kind      PrincipalKind
	PartnerID string // partner principals
	SourceID  string // source principals
	KeyID     string // when authenticated by an API key
	UserID    string // when authenticated by a user session
	Role      string // admin, partner_owner, partner_member (users)
	SessionID string // when authenticated by a user session (access token)
	Scopes    []string
	// Pending is set for users of a partner that awaits approval: they may
	// see their own account and nothing else.
	Pending bool
	// Address is the client address the request came from (audit).
	Address string
	// Actor is how the audit log names the caller.
	Actor string
}

// IsAdmin reports whether p acts as an administrator.
func (p Principal) IsAdmin() bool { return p.Kind == PrincipalAdmin }

// Has reports whether p holds scope (admins hold every scope).
func (p Principal) Has(scope string) bool {
	if p.Kind == PrincipalAdmin {
		return true
	}
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}
