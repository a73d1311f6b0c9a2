package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/hookgate/hookgate/internal/domain"
)

type attemptRow struct {
	ID              string `gorm:"primaryKey"`
	DeliveryID      string
	EndpointID      string
	PartnerID       string
	Number          int
	TriggerKind     string
	StartedAt       int64
	DurationUs      int64
	RequestURL      string `gorm:"column:request_url"`
	RequestHeaders  string
	ResponseStatus  int
	ResponseHeaders *string
	ResponseBody    []byte
	ErrorClass      string
	Error           string
}

func (attemptRow) TableName() string { return "attempts" }

func (r attemptRow) domain() domain.Attempt {
	a := domain.Attempt{
		ID: r.ID, DeliveryID: r.DeliveryID, EndpointID: r.EndpointID, PartnerID: r.PartnerID,
		Number: r.Number, Trigger: domain.Trigger(r.TriggerKind), StartedAt: fromMicros(r.StartedAt),
		Duration: time.Duration(r.DurationUs) * time.Microsecond, RequestURL: r.RequestURL,
		ResponseStatus: r.ResponseStatus, ResponseBody: r.ResponseBody,
		ErrorClass: r.ErrorClass, Error: r.Error,
	}
	_ = json.Unmarshal([]byte(r.RequestHeaders), &a.RequestHeaders)
	if r.ResponseHeaders != nil {
		_ = json.Unmarshal([]byte(*r.ResponseHeaders), &a.ResponseHeaders)
	}
	return a
}

// Outcome is one finished attempt and the delivery state it leads to.
type Outcome struct {
	Attempt domain.Attempt
	// Status, Attempts, NextAttemptAt are the delivery's new state.
	Status        domain.DeliveryStatus
	Attempts      int
	NextAttemptAt *time.Time
}

// RecordOutcomes writes a batch of attempts and their deliveries' new state
// in one transaction (the attempt log's group commit).
func (s *Store) RecordOutcomes(ctx context.Context, outs []Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	now := micros(time.Now())
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		const cols = 15
		const chunk = 300
		for start := 0; start < len(outs); start += chunk {
			part := outs[start:min(start+chunk, len(outs))]
			args := make([]any, 0, len(part)*cols)
			for _, o := range part {
				a := o.Attempt
				var rh *string
				if a.ResponseHeaders != nil {
					v := mustJSON(a.ResponseHeaders)
					rh = &v
				}
				args = append(args, a.ID, a.DeliveryID, a.EndpointID, a.PartnerID, a.Number, string(a.Trigger),
					micros(a.StartedAt), a.Duration.Microseconds(), a.RequestURL, mustJSON(a.RequestHeaders),
					a.ResponseStatus, rh, a.ResponseBody, a.ErrorClass, a.Error)
			}
			q := `INSERT INTO attempts (id, delivery_id, endpoint_id, partner_id, number, trigger_kind, started_at, duration_us,
				request_url, request_headers, response_status, response_headers, response_body, error_class, error) VALUES ` +
				placeholders(len(part), cols)
			if err := tx.Exec(q, args...).Error; err != nil {
				return fmt.Errorf("store: insert attempts: %w", err)
			}
		}
		if s.postgres {
			return s.updateDeliveriesPG(tx, outs, now)
		}
		for _, o := range outs {
			if err := tx.Exec(`UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?, held_reason = '', updated_at = ? WHERE id = ?`,
				string(o.Status), o.Attempts, microsPtr(o.NextAttemptAt), o.Attempt.ResponseStatus, lastError(o.Attempt), now, o.Attempt.DeliveryID).Error; err != nil {
				return fmt.Errorf("store: update delivery: %w", err)
			}
		}
		return nil
	})
}

// Attempts lists a partner's delivery's attempts, oldest first.
func (s *Store) Attempts(ctx context.Context, partnerID, deliveryID string) ([]domain.Attempt, error) {
	if _, err := s.Delivery(ctx, partnerID, deliveryID); err != nil {
		return nil, err
	}
	var rows []attemptRow
	if err := s.db.WithContext(ctx).Where("delivery_id = ?", deliveryID).Order("id").Limit(1000).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: attempts: %w", err)
	}
	out := make([]domain.Attempt, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

func lastError(a domain.Attempt) string {
	if a.Error != "" {
		return a.Error
	}
	return a.ErrorClass
}

// updateDeliveriesPG writes every delivery's new state in one statement
// (UPDATE … FROM VALUES), instead of one round trip per delivery.
func (s *Store) updateDeliveriesPG(tx *gorm.DB, outs []Outcome, now int64) error {
	const chunk = 1000
	for start := 0; start < len(outs); start += chunk {
		part := outs[start:min(start+chunk, len(outs))]
		args := make([]any, 0, len(part)*6+1)
		args = append(args, now)
		for _, o := range part {
			args = append(args, o.Attempt.DeliveryID, string(o.Status), o.Attempts, microsPtr(o.NextAttemptAt),
				o.Attempt.ResponseStatus, lastError(o.Attempt))
		}
		row := "(?::text, ?::text, ?::integer, ?::bigint, ?::integer, ?::text)"
		q := `UPDATE deliveries AS d SET status = v.status, attempts = v.attempts,
				next_attempt_at = v.next_at, last_status = v.last_status, last_error = v.last_error,
				held_reason = '', updated_at = ?
			FROM (VALUES ` + strings.TrimSuffix(strings.Repeat(row+",", len(part)), ",") + `) AS v(id, status, attempts, next_at, last_status, last_error)
			WHERE d.id = v.id`
		if err := tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("store: update deliveries: %w", err)
		}
	}
	return nil
}
