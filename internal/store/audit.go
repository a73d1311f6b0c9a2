package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hookgate/hookgate/internal/domain"
)

type auditRow struct {
	ID        string `gorm:"primaryKey"`
	Actor     string
	Action    string
	Target    string
	PartnerID *string
	Address   string
	Detail    *string
	At        int64
}

func (auditRow) TableName() string { return "audit_log" }

func (r auditRow) domain() domain.AuditEntry {
	e := domain.AuditEntry{ID: r.ID, Actor: r.Actor, Action: r.Action, Target: r.Target, Address: r.Address, At: fromMicros(r.At)}
	if r.PartnerID != nil {
		e.PartnerID = *r.PartnerID
	}
	if r.Detail != nil {
		_ = json.Unmarshal([]byte(*r.Detail), &e.Detail)
	}
	return e
}

// InsertAudit appends an entry to the audit trail.
func (s *Store) InsertAudit(ctx context.Context, e domain.AuditEntry) error {
	r := auditRow{ID: e.ID, Actor: e.Actor, Action: e.Action, Target: e.Target, Address: e.Address, At: micros(e.At)}
	if e.PartnerID != "" {
		pid := e.PartnerID
		r.PartnerID = &pid
	}
	if len(e.Detail) > 0 {
		d := mustJSON(e.Detail)
		r.Detail = &d
	}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("store: insert audit entry: %w", err)
	}
	return nil
}

// AuditFilter narrows ListAudit. Action may end in ".*" to match a family
// (partner.*).
type AuditFilter struct {
	Actor     string
	Action    string
	PartnerID string
}

// ListAudit lists audit entries newest first; the cursor is the last id of
// the previous page.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter, cursor string, limit int) (domain.Page[domain.AuditEntry], error) {
	q := s.db.WithContext(ctx).Model(&auditRow{})
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if prefix, ok := strings.CutSuffix(f.Action, ".*"); ok {
		esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(prefix)
		q = q.Where(`action LIKE ? ESCAPE '\'`, esc+".%")
	} else if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.PartnerID != "" {
		q = q.Where("partner_id = ?", f.PartnerID)
	}
	if cursor != "" {
		q = q.Where("id < ?", cursor)
	}
	var rows []auditRow
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return domain.Page[domain.AuditEntry]{}, fmt.Errorf("store: list audit: %w", err)
	}
	return pageOf(rows, limit, func(r auditRow) string { return r.ID }, auditRow.domain), nil
}
