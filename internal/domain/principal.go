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
	Scopes    []string
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
