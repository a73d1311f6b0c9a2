package sdk

import (
	"context"
	"encoding/json"
	"time"
)

// OdooConnectionInput sets an Odoo source's API credentials.
type OdooConnectionInput struct {
	// URL is the Odoo base URL, such as "https://erp.example.com".
	URL string `json:"url"`
	// Database is the Odoo database.
	Database string `json:"database"`
	// Login is the Odoo user to log in as.
	Login string `json:"login"`
	// APIKey is the user's API key; nil keeps the saved one.
	APIKey *string `json:"api_key,omitempty"`
	// Version is the Odoo major version ("17", "18", "19").
	Version string `json:"version"`
}

// SourceUpdate changes a source (admin); zero members stay as they are.
type SourceUpdate struct {
	// Name renames the source.
	Name *string
	// Odoo saves the Odoo API credentials.
	Odoo *OdooConnectionInput
	// RemoveOdoo deletes the saved credentials (Odoo must be nil).
	RemoveOdoo bool
	// Rules replaces the mapping rules.
	Rules []MappingRule
	// DefaultRules restores the built-in mapping rules (Rules must be nil).
	DefaultRules bool
	// ReconcileInterval sets how often reconciliation runs; 0 restores the
	// gateway's default.
	ReconcileInterval *time.Duration
}

// MarshalJSON encodes the update, telling "leave as is" (absent) from
// "remove" (null).
func (u SourceUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.Name != nil {
		m["name"] = *u.Name
	}
	switch {
	case u.Odoo != nil:
		m["odoo"] = u.Odoo
	case u.RemoveOdoo:
		m["odoo"] = nil
	}
	switch {
	case u.Rules != nil:
		m["rules"] = u.Rules
	case u.DefaultRules:
		m["rules"] = nil
	}
	if u.ReconcileInterval != nil {
		m["reconcile_interval_seconds"] = int(*u.ReconcileInterval / time.Second)
	}
	return json.Marshal(m)
}

// AdminUpdateSource renames a source or changes its Odoo credentials,
// mapping rules or reconciliation interval (admin).
func (c *Client) AdminUpdateSource(ctx context.Context, id string, upd SourceUpdate) (Source, error) {
	var s Source
	err := c.do(ctx, patch(pathf("/v1/admin/sources/%s", id), upd), &s)
	return s, err
}

// SourceCheck is the answer of a successful connection check.
type SourceCheck struct {
	// OK is true.
	OK bool `json:"ok"`
	// Version is the Odoo server version.
	Version string `json:"version"`
	// User is the Odoo user's name.
	User string `json:"user"`
	// Login is the Odoo user's login.
	Login string `json:"login"`
	// UID is the Odoo user's id.
	UID int64 `json:"uid"`
}

// AdminCheckSource logs in to the source's Odoo with the saved credentials
// and reports who it is (admin). A failure is an *APIError saying why.
func (c *Client) AdminCheckSource(ctx context.Context, id string) (SourceCheck, error) {
	var r SourceCheck
	err := c.do(ctx, post(pathf("/v1/admin/sources/%s/check", id), nil), &r)
	return r, err
}

// AdminBackfillSource moves the source's reconciliation watermark back to
// since, so the next run emits the events of every record changed since
// then that hookgate never received (admin).
func (c *Client) AdminBackfillSource(ctx context.Context, id string, since time.Time) (Source, error) {
	var s Source
	err := c.do(ctx, post(pathf("/v1/admin/sources/%s/backfill", id), map[string]time.Time{"since": since.UTC()}), &s)
	return s, err
}
