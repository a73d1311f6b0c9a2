package service

import (
	"context"
	"slices"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// Audit appends an entry to the audit trail (id and time are filled in
// when empty). The action it records has already happened, so a failure is
// logged, not returned. Detail must never hold a secret.
func (s *Service) Audit(ctx context.Context, e domain.AuditEntry) {
	if e.At.IsZero() {
		e.At = s.now()
	}
	if e.ID == "" {
		e.ID = ids.NewAt(ids.Audit, e.At)
	}
	if e.Actor == "" {
		e.Actor = "anonymous"
	}
	e.Target, e.Address = clip(e.Target, 300), clip(e.Address, 100)
	if err := s.d.Store.InsertAudit(context.WithoutCancel(ctx), e); err != nil {
		s.d.Log.ErrorContext(ctx, "audit entry not recorded", "action", e.Action, "actor", e.Actor, "target", e.Target, "error", err)
	}
}

// audit records what principal p did.
func (s *Service) audit(ctx context.Context, p domain.Principal, action, target, partnerID string, detail map[string]any) {
	actor := p.Actor
	if actor == "" {
		actor = string(p.Kind)
	}
	s.Audit(ctx, domain.AuditEntry{Actor: actor, Action: action, Target: target, PartnerID: partnerID, Address: p.Address, Detail: detail})
}

// AuditQuery filters the audit trail; Action may end in ".*" (partner.*).
type AuditQuery struct {
	Actor     string
	Action    string
	PartnerID string
	Cursor    string
	Limit     int
}

// ListAudit lists the audit trail newest first (admin).
func (s *Service) ListAudit(ctx context.Context, p domain.Principal, q AuditQuery) (domain.Page[domain.AuditEntry], error) {
	if err := requireAdmin(p); err != nil {
		return domain.Page[domain.AuditEntry]{}, err
	}
	if q.Cursor != "" && !ids.Valid(ids.Audit, q.Cursor) {
		return domain.Page[domain.AuditEntry]{}, domain.InvalidParam("cursor", "is not a cursor this API returned")
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{{"actor", q.Actor, 300}, {"action", q.Action, 100}, {"partner_id", q.PartnerID, 100}} {
		if len(f.value) > f.max {
			return domain.Page[domain.AuditEntry]{}, domain.InvalidParam(f.name, "must be at most %d characters", f.max)
		}
	}
	return s.d.Store.ListAudit(ctx, store.AuditFilter{Actor: q.Actor, Action: q.Action, PartnerID: q.PartnerID}, q.Cursor, q.Limit)
}

// auditPartnerChange records what an admin changed on a partner: one entry
// per kind of change, named after it (partner.approved, …).
func (s *Service) auditPartnerChange(ctx context.Context, p domain.Principal, before, after domain.Partner) {
	if before.Status != after.Status {
		action := "partner.status_changed"
		switch {
		case after.Status == domain.PartnerActive && before.Status == domain.PartnerPending:
			action = "partner.approved"
		case after.Status == domain.PartnerActive:
			action = "partner.reactivated"
		case after.Status == domain.PartnerSuspended:
			action = "partner.suspended"
		}
		s.audit(ctx, p, action, after.ID, after.ID, map[string]any{"from": string(before.Status), "to": string(after.Status)})
	}
	if before.Quota != after.Quota {
		s.audit(ctx, p, "partner.quota_changed", after.ID, after.ID, map[string]any{
			"from": quotaDetail(before.Quota), "to": quotaDetail(after.Quota)})
	}
	if !slices.Equal(before.Entitlements, after.Entitlements) {
		s.audit(ctx, p, "partner.entitlements_changed", after.ID, after.ID, map[string]any{
			"from": before.Entitlements, "to": after.Entitlements})
	}
	if before.Name != after.Name || before.Email != after.Email {
		s.audit(ctx, p, "partner.updated", after.ID, after.ID, map[string]any{"name": after.Name, "email": after.Email})
	}
}

func quotaDetail(q domain.Quota) map[string]any {
	return map[string]any{"monthly_deliveries": q.MonthlyDeliveries, "max_endpoints": q.MaxEndpoints,
		"max_rate_per_second": q.MaxRatePerSecond}
}
