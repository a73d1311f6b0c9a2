package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/odoo"
	"github.com/hookgate/hookgate/internal/service"
)

// routesSourcesOdoo registers the Odoo connector's admin routes.
func (s *Server) routesSourcesOdoo(ad fiber.Router) {
	ad.Patch("/sources/:id", s.updateSource)
	ad.Post("/sources/:id/check", s.checkSource)
	ad.Post("/sources/:id/backfill", s.backfillSource)
}

// SourceDetailDTO is a source as GET and PATCH show it: for odoo sources
// with the connector's settings (never the API key) and reconciliation
// progress.
type SourceDetailDTO struct {
	SourceDTO
	// Odoo is the API connection; null when no credentials are saved.
	// Present on odoo sources only, as are the other members.
	Odoo *SourceOdooDTO `json:"odoo,omitempty"`
	// Rules are the mapping rules in force; RulesDefault says they are the
	// built-in defaults.
	Rules        []RuleDTO     `json:"rules,omitempty"`
	RulesDefault *bool         `json:"rules_default,omitempty"`
	Reconcile    *ReconcileDTO `json:"reconcile,omitempty"`
	odooSource   bool
}

// MarshalJSON renders "odoo": null for odoo sources without credentials.
func (d SourceDetailDTO) MarshalJSON() ([]byte, error) {
	type plain SourceDetailDTO
	b, err := json.Marshal(plain(d))
	if err != nil || !d.odooSource || d.Odoo != nil {
		return b, err
	}
	return append(b[:len(b)-1], []byte(`,"odoo":null}`)...), nil
}

// SourceOdooDTO is the Odoo API connection without the key.
type SourceOdooDTO struct {
	URL       string `json:"url"`
	Database  string `json:"database"`
	Login     string `json:"login"`
	Version   string `json:"version"`
	HasAPIKey bool   `json:"has_api_key"`
	// UserID is hookgate's own Odoo user once known (its writes are ignored).
	UserID             *int64     `json:"user_id"`
	CredentialsSavedAt *time.Time `json:"credentials_saved_at"`
}

// ReconcileDTO is a source's reconciliation progress.
type ReconcileDTO struct {
	IntervalSeconds int        `json:"interval_seconds"`
	Watermark       *time.Time `json:"watermark"`
	LagSeconds      *float64   `json:"lag_seconds"`
	LastRunAt       *time.Time `json:"last_run_at"`
	LastSuccessAt   *time.Time `json:"last_success_at"`
	LastError       string     `json:"last_error"`
	LastScanned     int64      `json:"last_scanned"`
	LastEmitted     int64      `json:"last_emitted"`
	ReconciledTotal int64      `json:"reconciled_total"`
}

// RuleDTO is one mapping rule.
type RuleDTO struct {
	Model     string         `json:"model"`
	When      []ConditionDTO `json:"when"`
	EventType string         `json:"event_type"`
	On        string         `json:"on"`
}

// ConditionDTO is one condition of a rule.
type ConditionDTO struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value any    `json:"value,omitempty"`
}

func ruleDTOs(rules []odoo.Rule) []RuleDTO {
	out := make([]RuleDTO, len(rules))
	for i, r := range rules {
		when := make([]ConditionDTO, len(r.When))
		for j, c := range r.When {
			when[j] = ConditionDTO{Field: c.Field, Op: string(c.Op), Value: c.Value}
		}
		out[i] = RuleDTO{Model: r.Model, When: when, EventType: r.EventType, On: string(r.Trigger())}
	}
	return out
}

func rulesFromDTO(in []RuleDTO) []odoo.Rule {
	out := make([]odoo.Rule, len(in))
	for i, r := range in {
		when := make([]odoo.Condition, len(r.When))
		for j, c := range r.When {
			when[j] = odoo.Condition{Field: c.Field, Op: odoo.Op(c.Op), Value: c.Value}
		}
		out[i] = odoo.Rule{Model: r.Model, When: when, EventType: r.EventType, On: odoo.Trigger(r.On)}
	}
	return out
}

func sourceDetailDTO(v service.SourceView) SourceDetailDTO {
	d := SourceDetailDTO{SourceDTO: sourceDTO(v.Source)}
	if v.Source.Kind != "odoo" {
		return d
	}
	d.odooSource = true
	o := v.Odoo
	if o.Connection != nil {
		d.Odoo = &SourceOdooDTO{
			URL: o.Connection.URL, Database: o.Connection.Database, Login: o.Connection.Login,
			Version: o.Connection.Version, HasAPIKey: o.Connection.APIKey != "", CredentialsSavedAt: o.CredentialsSavedAt,
		}
		if o.UID > 0 {
			uid := o.UID
			d.Odoo.UserID = &uid
		}
	}
	d.Rules = ruleDTOs(v.Rules)
	def := v.RulesDefault
	d.RulesDefault = &def
	r := &ReconcileDTO{
		IntervalSeconds: int(v.ReconcileInterval / time.Second), Watermark: o.Watermark,
		LastRunAt: o.LastReconcileAt, LastSuccessAt: o.LastReconcileOKAt, LastError: o.LastReconcileError,
		LastScanned: o.LastScanned, LastEmitted: o.LastEmitted, ReconciledTotal: o.ReconciledTotal,
	}
	if o.Watermark != nil {
		lag := v.Lag.Seconds()
		r.LagSeconds = &lag
	}
	d.Reconcile = r
	return d
}

// sourcePatchReq is PATCH /v1/admin/sources/{id}. odoo and rules are kept
// raw to tell "absent" from null.
type sourcePatchReq struct {
	Name                     *string         `json:"name"`
	Odoo                     json.RawMessage `json:"odoo"`
	Rules                    json.RawMessage `json:"rules"`
	ReconcileIntervalSeconds *int            `json:"reconcile_interval_seconds"`
}

type odooReq struct {
	URL      string  `json:"url"`
	Database string  `json:"database"`
	Login    string  `json:"login"`
	APIKey   *string `json:"api_key"`
	Version  string  `json:"version"`
}

// decodeMember strictly decodes one member of a request body.
func decodeMember(raw json.RawMessage, field string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return invalidBody(field+"."+typ.Field, "must be "+jsonKind(typ.Type.Kind().String()))
		}
		const unknown = "json: unknown field "
		if msg := err.Error(); len(msg) > len(unknown) && msg[:len(unknown)] == unknown {
			return invalidBody(field, "has an unknown member "+msg[len(unknown):])
		}
		return invalidBody(field, "has the wrong shape")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidBody(field, "has the wrong shape")
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func (s *Server) updateSource(c *fiber.Ctx) error {
	var req sourcePatchReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := service.SourceUpdate{Name: req.Name, ReconcileIntervalSeconds: req.ReconcileIntervalSeconds}
	if req.Odoo != nil {
		in.SetOdoo = true
		if !isNull(req.Odoo) {
			var o odooReq
			if err := decodeMember(req.Odoo, "odoo", &o); err != nil {
				return err
			}
			in.Odoo = &service.OdooInput{URL: o.URL, Database: o.Database, Login: o.Login, APIKey: o.APIKey, Version: o.Version}
		}
	}
	if req.Rules != nil {
		in.SetRules = true
		if !isNull(req.Rules) {
			var rules []RuleDTO
			if err := decodeMember(req.Rules, "rules", &rules); err != nil {
				return err
			}
			in.Rules = rulesFromDTO(rules)
		}
	}
	v, err := s.svc.UpdateSource(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(sourceDetailDTO(v))
}

// SourceCheckDTO answers a successful connection check.
type SourceCheckDTO struct {
	OK      bool   `json:"ok"`
	Version string `json:"version"`
	User    string `json:"user"`
	Login   string `json:"login"`
	UID     int64  `json:"uid"`
}

func (s *Server) checkSource(c *fiber.Ctx) error {
	r, err := s.svc.CheckSource(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(SourceCheckDTO{OK: true, Version: r.Version, User: r.User, Login: r.Login, UID: r.UID})
}

type sourceBackfillReq struct {
	Since *time.Time `json:"since"`
}

func (s *Server) backfillSource(c *fiber.Ctx) error {
	var req sourceBackfillReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Since == nil {
		return invalidBody("since", "is required (an RFC 3339 time such as 2025-03-14T00:00:00Z)")
	}
	v, err := s.svc.Backfill(c.UserContext(), principal(c), c.Params("id"), *req.Since)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(sourceDetailDTO(v))
}
