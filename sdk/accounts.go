package sdk

import (
	"context"
	"iter"
	"time"
)

// Usage is a partner's use of its quota in the current calendar month (UTC).
type Usage struct {
	// Period is the month, "2025-03".
	Period string `json:"period"`
	// Deliveries counts the deliveries charged to the monthly quota.
	Deliveries int64 `json:"deliveries"`
	// Held counts held deliveries.
	Held int64 `json:"held"`
	// HeldByReason counts held deliveries by reason.
	HeldByReason map[string]int64 `json:"held_by_reason"`
	// Quota is the partner's plan.
	Quota Quota `json:"quota"`
	// Endpoints counts the partner's endpoints.
	Endpoints int `json:"endpoints"`
}

// Usage returns the partner's usage of its quota this month.
func (c *Client) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	err := c.do(ctx, get("/v1/usage", nil), &u)
	return u, err
}

// MemberInput describes a user to add to the partner.
type MemberInput struct {
	// Email is the new user's login; required.
	Email string `json:"email"`
	// Password is the initial password; required.
	Password string `json:"password"`
	// Role is RolePartnerMember (the default) or RolePartnerOwner.
	Role string `json:"role,omitempty"`
}

// ListMembers returns the users of the caller's partner (owners only).
func (c *Client) ListMembers(ctx context.Context) ([]User, error) {
	var l list[User]
	err := c.do(ctx, get("/v1/members", nil), &l)
	return l.Data, err
}

// AddMember creates a user of the caller's partner (owners only).
func (c *Client) AddMember(ctx context.Context, in MemberInput) (User, error) {
	var u User
	err := c.do(ctx, post("/v1/members", in), &u)
	return u, err
}

// RemoveMember deletes a user of the caller's partner and ends its
// sessions (owners only; nobody removes themselves).
func (c *Client) RemoveMember(ctx context.Context, userID string) error {
	return c.do(ctx, del(pathf("/v1/members/%s", userID)), nil)
}

// ListAPIKeys returns the partner's API keys, without their secrets.
func (c *Client) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	var l list[APIKey]
	err := c.do(ctx, get("/v1/api-keys", nil), &l)
	return l.Data, err
}

// CreateAPIKey issues a key to the caller's partner, with at most the
// scopes the caller holds. The answer's Key is the secret, returned only
// this once.
func (c *Client) CreateAPIKey(ctx context.Context, in APIKeyInput) (APIKey, error) {
	var k APIKey
	err := c.do(ctx, post("/v1/api-keys", in), &k)
	return k, err
}

// RevokeAPIKey revokes one of the partner's keys; it stops working at once.
func (c *Client) RevokeAPIKey(ctx context.Context, id string) error {
	return c.do(ctx, del(pathf("/v1/api-keys/%s", id)), nil)
}

// AdminListPartnerAPIKeys returns a partner's API keys (admin).
func (c *Client) AdminListPartnerAPIKeys(ctx context.Context, partnerID string) ([]APIKey, error) {
	var l list[APIKey]
	err := c.do(ctx, get(pathf("/v1/admin/partners/%s/api-keys", partnerID), nil), &l)
	return l.Data, err
}

// AdminRevokePartnerAPIKey revokes a partner's key (admin).
func (c *Client) AdminRevokePartnerAPIKey(ctx context.Context, partnerID, keyID string) error {
	return c.do(ctx, del(pathf("/v1/admin/partners/%s/api-keys/%s", partnerID, keyID)), nil)
}

// AuditEntry is one entry of the audit trail: who did what to which
// resource, when, from where.
type AuditEntry struct {
	// ID is the entry's id.
	ID string `json:"id"`
	// At is when it happened.
	At time.Time `json:"at"`
	// Actor is who did it: a user id, a key id, "admin-token", "anonymous".
	Actor string `json:"actor"`
	// Action is what was done, such as "partner.approved".
	Action string `json:"action"`
	// Target is the resource acted on.
	Target string `json:"target"`
	// PartnerID is the partner concerned, if any.
	PartnerID string `json:"partner_id"`
	// Address is the client address.
	Address string `json:"address"`
	// Detail holds action-specific facts (never secrets).
	Detail map[string]any `json:"detail"`
}

// AuditListParams filters and pages the audit trail.
type AuditListParams struct {
	// Actor keeps one actor.
	Actor string
	// Action keeps one action, or a family with a ".*" suffix
	// ("partner.*").
	Action string
	// PartnerID keeps one partner's entries.
	PartnerID string
	// Limit is the page size (1–200).
	Limit int
	// Cursor continues from a previous page.
	Cursor string
}

// AdminListAudit returns one page of the audit trail, newest first (admin).
func (c *Client) AdminListAudit(ctx context.Context, params AuditListParams) (Page[AuditEntry], error) {
	q := ListParams{Limit: params.Limit, Cursor: params.Cursor}.values()
	for k, v := range map[string]string{"actor": params.Actor, "action": params.Action, "partner_id": params.PartnerID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var page Page[AuditEntry]
	err := c.do(ctx, get("/v1/admin/audit", q), &page)
	return page, err
}

// AdminAudit iterates over the audit trail matching params, newest first
// (admin).
func (c *Client) AdminAudit(ctx context.Context, params AuditListParams) iter.Seq2[AuditEntry, error] {
	return all(ctx, params.Cursor, func(ctx context.Context, cursor string) (Page[AuditEntry], error) {
		p := params
		p.Cursor = cursor
		return c.AdminListAudit(ctx, p)
	})
}
