package sdk

import (
	"context"
	"iter"
	"time"
)

// PartnerListParams filters and pages the partner list.
type PartnerListParams struct {
	// Status keeps one status (PartnerPending, …); "" keeps all.
	Status string
	// Limit is the page size (1–200).
	Limit int
	// Cursor continues from a previous page.
	Cursor string
}

// PartnerInput describes a partner an admin creates.
type PartnerInput struct {
	// Name is the company name; required.
	Name string `json:"name"`
	// Email is the contact address; required.
	Email string `json:"email"`
	// Status is the initial status (default PartnerPending).
	Status string `json:"status,omitempty"`
	// Entitlements are the event-type patterns it may subscribe to.
	Entitlements []string `json:"entitlements,omitempty"`
	// Quota is the plan; nil uses the default.
	Quota *Quota `json:"quota,omitempty"`
}

// PartnerUpdate changes a partner; nil fields stay as they are. Approve a
// partner with Status: sdk.Ptr(sdk.PartnerActive).
type PartnerUpdate struct {
	// Name is the new company name.
	Name *string `json:"name,omitempty"`
	// Email is the new contact address.
	Email *string `json:"email,omitempty"`
	// Status approves, suspends or reinstates the partner.
	Status *string `json:"status,omitempty"`
	// Entitlements replaces the entitlements.
	Entitlements *[]string `json:"entitlements,omitempty"`
	// Quota replaces the plan.
	Quota *Quota `json:"quota,omitempty"`
}

// AdminListPartners returns one page of partners (admin).
func (c *Client) AdminListPartners(ctx context.Context, params PartnerListParams) (Page[Partner], error) {
	q := ListParams{Limit: params.Limit, Cursor: params.Cursor}.values()
	if params.Status != "" {
		q.Set("status", params.Status)
	}
	var page Page[Partner]
	err := c.do(ctx, get("/v1/admin/partners", q), &page)
	return page, err
}

// AdminPartners iterates over every partner matching params (admin).
func (c *Client) AdminPartners(ctx context.Context, params PartnerListParams) iter.Seq2[Partner, error] {
	return all(ctx, params.Cursor, func(ctx context.Context, cursor string) (Page[Partner], error) {
		p := params
		p.Cursor = cursor
		return c.AdminListPartners(ctx, p)
	})
}

// AdminCreatePartner creates a partner (admin).
func (c *Client) AdminCreatePartner(ctx context.Context, in PartnerInput) (Partner, error) {
	var p Partner
	err := c.do(ctx, post("/v1/admin/partners", in), &p)
	return p, err
}

// AdminGetPartner returns one partner (admin).
func (c *Client) AdminGetPartner(ctx context.Context, id string) (Partner, error) {
	var p Partner
	err := c.do(ctx, get(pathf("/v1/admin/partners/%s", id), nil), &p)
	return p, err
}

// AdminUpdatePartner approves, suspends or edits a partner (admin).
func (c *Client) AdminUpdatePartner(ctx context.Context, id string, upd PartnerUpdate) (Partner, error) {
	var p Partner
	err := c.do(ctx, patch(pathf("/v1/admin/partners/%s", id), upd), &p)
	return p, err
}

// AdminCreatePartnerAPIKey issues an API key to a partner (admin). The
// answer's Key is the secret, returned only this once.
func (c *Client) AdminCreatePartnerAPIKey(ctx context.Context, partnerID string, in APIKeyInput) (APIKey, error) {
	var k APIKey
	err := c.do(ctx, post(pathf("/v1/admin/partners/%s/api-keys", partnerID), in), &k)
	return k, err
}

// AdminListSources returns every source (admin).
func (c *Client) AdminListSources(ctx context.Context) ([]Source, error) {
	var l list[Source]
	err := c.do(ctx, get("/v1/admin/sources", nil), &l)
	return l.Data, err
}

// AdminCreateSource creates a source (admin). The answer's IngestURL and
// Token are returned only this once.
func (c *Client) AdminCreateSource(ctx context.Context, in SourceInput) (Source, error) {
	var s Source
	err := c.do(ctx, post("/v1/admin/sources", in), &s)
	return s, err
}

// AdminGetSource returns one source (admin).
func (c *Client) AdminGetSource(ctx context.Context, id string) (Source, error) {
	var s Source
	err := c.do(ctx, get(pathf("/v1/admin/sources/%s", id), nil), &s)
	return s, err
}

// RotateParams tunes a credential rotation.
type RotateParams struct {
	// GracePeriod keeps the old credential working this long; nil uses the
	// server's default (24 hours), 0 revokes it at once.
	GracePeriod *time.Duration
}

// rotateBody is the wire form of RotateParams.
type rotateBody struct {
	GracePeriodSeconds *int `json:"grace_period_seconds,omitempty"`
}

func (p RotateParams) body() rotateBody {
	if p.GracePeriod == nil {
		return rotateBody{}
	}
	s := int(*p.GracePeriod / time.Second)
	return rotateBody{GracePeriodSeconds: &s}
}

// AdminRotateSourceToken issues a new ingest token for a source (admin);
// the old one keeps working for the grace period. The answer's IngestURL
// and Token are returned only this once.
func (c *Client) AdminRotateSourceToken(ctx context.Context, id string, params RotateParams) (Source, error) {
	var s Source
	err := c.do(ctx, post(pathf("/v1/admin/sources/%s/rotate-token", id), params.body()), &s)
	return s, err
}
