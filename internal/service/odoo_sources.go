package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/odoo"
	"github.com/hookgate/hookgate/internal/store"
)

// SourceView is a source with its Odoo connector settings (the API key
// among them: render it as "has_api_key" only) and reconciliation progress.
type SourceView struct {
	Source domain.Source
	Odoo   domain.OdooSettings
	// Rules are the rules in force (the defaults when none are set) and
	// RulesDefault says whether they are the defaults.
	Rules        []odoo.Rule
	RulesDefault bool
	// ReconcileInterval is the interval in force.
	ReconcileInterval time.Duration
	// Lag is how far the watermark is behind now (0 without one).
	Lag time.Duration
}

// sourceView assembles the view of src.
func (s *Service) sourceView(src domain.Source, o domain.OdooSettings) SourceView {
	v := SourceView{Source: src, Odoo: o, Rules: o.EffectiveRules(), RulesDefault: o.Rules == nil,
		ReconcileInterval: o.ReconcileInterval}
	if v.ReconcileInterval == 0 {
		v.ReconcileInterval = s.d.Odoo.ReconcileInterval
	}
	if o.Watermark != nil {
		v.Lag = max(0, s.now().Sub(*o.Watermark))
	}
	return v
}

// SourceView returns one source with its connector settings (admin).
func (s *Service) SourceView(ctx context.Context, p domain.Principal, id string) (SourceView, error) {
	src, err := s.GetSource(ctx, p, id)
	if err != nil {
		return SourceView{}, err
	}
	o, err := s.d.Store.SourceOdoo(ctx, id)
	if err != nil {
		return SourceView{}, err
	}
	return s.sourceView(src, o), nil
}

// SourceViews lists every source with its connector settings (admin).
func (s *Service) SourceViews(ctx context.Context, p domain.Principal) ([]SourceView, error) {
	srcs, err := s.ListSources(ctx, p)
	if err != nil {
		return nil, err
	}
	all, err := s.d.Store.ListSourceOdoo(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SourceView, len(srcs))
	for i, src := range srcs {
		o := all[src.ID]
		o.SourceID = src.ID
		out[i] = s.sourceView(src, o)
	}
	return out, nil
}

// OdooInput is the "odoo" member of a source update. A nil APIKey keeps
// the saved key (so the URL or login can change without re-entering it).
type OdooInput struct {
	URL      string
	Database string
	Login    string
	APIKey   *string
	Version  string
}

// SourceUpdate changes a source (admin). Nil or unset members stay.
type SourceUpdate struct {
	Name *string
	// SetOdoo with Odoo nil removes the API credentials.
	SetOdoo bool
	Odoo    *OdooInput
	// SetRules with Rules nil restores the default rules.
	SetRules bool
	Rules    []odoo.Rule
	// ReconcileIntervalSeconds: 0 restores the global default.
	ReconcileIntervalSeconds *int
}

// UpdateSource changes a source's name, Odoo API credentials, mapping
// rules or reconciliation interval (admin). Saving credentials for the
// first time sets the reconciliation watermark to now.
func (s *Service) UpdateSource(ctx context.Context, p domain.Principal, id string, in SourceUpdate) (SourceView, error) {
	if err := requireAdmin(p); err != nil {
		return SourceView{}, err
	}
	src, err := s.d.Store.Source(ctx, id)
	if err != nil {
		return SourceView{}, err
	}
	cur, err := s.d.Store.SourceOdoo(ctx, id)
	if err != nil {
		return SourceView{}, err
	}
	u := store.SourceOdooUpdate{}
	detail := map[string]any{}
	if in.Name != nil {
		name, err := validName("name", *in.Name)
		if err != nil {
			return SourceView{}, err
		}
		u.Name = &name
		detail["name"] = name
	}
	if (in.SetOdoo || in.SetRules || in.ReconcileIntervalSeconds != nil) && src.Kind != domain.SourceOdoo {
		return SourceView{}, domain.Invalid("odoo", "only odoo sources have Odoo settings; this source is %s", src.Kind)
	}
	if in.SetOdoo {
		u.SetConnection = true
		if in.Odoo != nil {
			conn, err := odooConnection(*in.Odoo, cur.Connection)
			if err != nil {
				return SourceView{}, err
			}
			u.Connection = &conn
			detail["odoo"] = map[string]any{"url": conn.URL, "database": conn.Database, "login": conn.Login,
				"version": conn.Version, "api_key_changed": in.Odoo.APIKey != nil}
		} else {
			detail["odoo"] = "removed"
		}
	}
	if in.SetRules {
		if in.Rules != nil {
			if err := s.validateRules(ctx, in.Rules); err != nil {
				return SourceView{}, err
			}
		}
		u.SetRules, u.Rules = true, in.Rules
		detail["rules"] = len(in.Rules)
	}
	if in.ReconcileIntervalSeconds != nil {
		n := *in.ReconcileIntervalSeconds
		if n != 0 && (n < 5 || n > 86400) {
			return SourceView{}, domain.Invalid("reconcile_interval_seconds", "must be 0 (the default) or from 5 to 86400")
		}
		d := time.Duration(n) * time.Second
		u.ReconcileInterval = &d
		detail["reconcile_interval_seconds"] = n
	}
	if err := s.d.Store.UpdateSourceOdoo(ctx, id, u, s.now()); err != nil {
		return SourceView{}, err
	}
	if in.SetOdoo && s.d.Odoo.Credentials != nil {
		s.d.Odoo.Credentials.Invalidate()
	}
	s.forgetSourceCache(id)
	s.audit(ctx, p, "source.updated", id, "", detail)
	return s.SourceView(ctx, p, id)
}

// odooConnection validates an "odoo" input, keeping the saved key when
// none is given.
func odooConnection(in OdooInput, saved *odoo.Connection) (odoo.Connection, error) {
	c := odoo.Connection{
		URL: strings.TrimRight(strings.TrimSpace(in.URL), "/"), Database: strings.TrimSpace(in.Database),
		Login: strings.TrimSpace(in.Login), Version: strings.TrimSpace(in.Version),
	}
	switch {
	case in.APIKey != nil:
		c.APIKey = strings.TrimSpace(*in.APIKey)
	case saved != nil:
		c.APIKey = saved.APIKey
	default:
		return c, domain.Invalid("odoo.api_key", "is required the first time credentials are saved")
	}
	if len(c.URL) > 2000 || len(c.Database) > 200 || len(c.Login) > 200 || len(c.APIKey) > 500 || len(c.Version) > 20 {
		return c, domain.Invalid("odoo", "a value is too long")
	}
	if err := c.Validate(); err != nil {
		msg := strings.TrimPrefix(err.Error(), odoo.ErrBadConnection.Error()+": ")
		field := "odoo"
		if name, _, ok := strings.Cut(msg, " "); ok {
			switch name {
			case "url", "database", "login", "api_key", "version":
				field = "odoo." + name
			}
		}
		return c, domain.Invalid(field, "%s", msg)
	}
	return c, nil
}

// validateRules checks rules and that every event type is in the catalogue.
func (s *Service) validateRules(ctx context.Context, rules []odoo.Rule) error {
	if len(rules) > 200 {
		return domain.Invalid("rules", "at most 200 rules")
	}
	if err := odoo.ValidateRules(rules); err != nil {
		return domain.Invalid("rules", "%s", strings.Replace(err.Error(), odoo.ErrInvalidRule.Error()+": ", "", 1))
	}
	for i, r := range rules {
		_, known, err := s.typeVersion(ctx, r.EventType)
		if err != nil {
			return err
		}
		if !known {
			return domain.Invalid("rules", "rule %d: event type %q is not in the event catalogue", i, r.EventType)
		}
	}
	return nil
}

// forgetSourceCache drops cached ingest lookups of a source.
func (s *Service) forgetSourceCache(id string) {
	s.sources.Range(func(k, v any) bool {
		if e, ok := v.(sourceEntry); ok && e.src.ID == id {
			s.sources.Delete(k)
		}
		return true
	})
}

// CheckResult is the answer of a successful connection check.
type CheckResult struct {
	Version string
	Major   int
	User    string
	Login   string
	UID     int64
}

// CheckSource tests a source's Odoo connection: version, authentication,
// the user's name (admin). A rejected key is a validation error; an
// unreachable or misbehaving server is a *domain.UpstreamError.
func (s *Service) CheckSource(ctx context.Context, p domain.Principal, id string) (CheckResult, error) {
	if err := requireAdmin(p); err != nil {
		return CheckResult{}, err
	}
	if _, err := s.d.Store.Source(ctx, id); err != nil {
		return CheckResult{}, err
	}
	o, err := s.d.Store.SourceOdoo(ctx, id)
	if err != nil {
		return CheckResult{}, err
	}
	c, err := s.odooClientFor(o)
	if err != nil {
		return CheckResult{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := c.client.Version(cctx)
	if err != nil {
		s.audit(ctx, p, "source.checked", id, "", map[string]any{"ok": false, "error": err.Error()})
		return CheckResult{}, odooProblem(err)
	}
	u, err := c.client.WhoAmI(cctx)
	if err != nil {
		s.audit(ctx, p, "source.checked", id, "", map[string]any{"ok": false, "error": err.Error()})
		return CheckResult{}, odooProblem(err)
	}
	if u.UID != o.UID {
		if err := s.d.Store.SetOdooUID(ctx, id, u.UID); err != nil {
			return CheckResult{}, err
		}
		s.forgetSourceCache(id)
	}
	s.audit(ctx, p, "source.checked", id, "", map[string]any{"ok": true, "version": v.Server, "uid": u.UID})
	return CheckResult{Version: v.Server, Major: v.Major, User: u.Name, Login: u.Login, UID: u.UID}, nil
}

// odooProblem turns an Odoo client error into what the API reports: a
// rejected key is the admin's input (422), anything else the server's
// fault (502).
func odooProblem(err error) error {
	var oe *odoo.Error
	switch {
	case errors.Is(err, odoo.ErrAccessDenied):
		return domain.Invalid("odoo.api_key", "Odoo rejected the login and API key (%v); create an API key for the gateway user under Preferences → Account Security and save it with PATCH", err)
	case errors.Is(err, odoo.ErrBadConnection):
		return domain.Invalid("odoo", "%v", err)
	case errors.Is(err, odoo.ErrUnreachable):
		return &domain.UpstreamError{Service: "odoo", Reason: fmt.Sprintf("the Odoo server did not answer: %v", err)}
	case errors.Is(err, odoo.ErrBadResponse):
		return &domain.UpstreamError{Service: "odoo", Reason: fmt.Sprintf("the URL does not answer like Odoo's API (check url and database): %v", err)}
	case errors.As(err, &oe):
		return &domain.UpstreamError{Service: "odoo", Reason: fmt.Sprintf("Odoo refused the call: %v", err)}
	}
	return err
}

// Backfill moves a source's watermark back to since, so that the next
// reconciliation run, due at once, emits what changed from then on and
// never arrived (admin).
func (s *Service) Backfill(ctx context.Context, p domain.Principal, id string, since time.Time) (SourceView, error) {
	if err := requireAdmin(p); err != nil {
		return SourceView{}, err
	}
	if _, err := s.d.Store.Source(ctx, id); err != nil {
		return SourceView{}, err
	}
	o, err := s.d.Store.SourceOdoo(ctx, id)
	if err != nil {
		return SourceView{}, err
	}
	if o.Connection == nil {
		return SourceView{}, domain.Invalid("odoo", "the source has no Odoo API credentials; a backfill reads Odoo's API, so save them first")
	}
	now := s.now()
	switch {
	case since.IsZero():
		return SourceView{}, domain.Invalid("since", "is required (an RFC 3339 time)")
	case since.After(now):
		return SourceView{}, domain.Invalid("since", "must not be in the future")
	case since.Before(now.AddDate(-1, 0, 0)):
		return SourceView{}, domain.Invalid("since", "must be within the last 365 days")
	}
	if err := s.d.Store.SetWatermark(ctx, id, since.UTC()); err != nil {
		return SourceView{}, err
	}
	s.audit(ctx, p, "source.backfill", id, "", map[string]any{"since": since.UTC().Format(time.RFC3339)})
	return s.SourceView(ctx, p, id)
}
