package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookgate/hookgate/internal/domain"
)

type eventTypeRow struct {
	Name        string `gorm:"primaryKey"`
	Description string
	Schema      *string
	Version     int
	Deprecated  bool
	CreatedAt   int64 `gorm:"autoCreateTime:false"`
	UpdatedAt   int64 `gorm:"autoUpdateTime:false"`
}

func (eventTypeRow) TableName() string { return "event_types" }

func (r eventTypeRow) domain() domain.EventType {
	t := domain.EventType{
		Name: r.Name, Description: r.Description, Version: r.Version, Deprecated: r.Deprecated,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
	if r.Schema != nil && *r.Schema != "" {
		t.Schema = []byte(*r.Schema)
	}
	return t
}

func eventTypeToRow(t domain.EventType) eventTypeRow {
	r := eventTypeRow{
		Name: t.Name, Description: t.Description, Version: t.Version, Deprecated: t.Deprecated,
		CreatedAt: micros(t.CreatedAt), UpdatedAt: micros(t.UpdatedAt),
	}
	if len(t.Schema) > 0 {
		s := string(t.Schema)
		r.Schema = &s
	}
	return r
}

// SeedEventTypes inserts catalogue entries that do not exist yet; existing
// ones (possibly edited by an admin) are left alone.
func (s *Store) SeedEventTypes(ctx context.Context, types []domain.EventType) error {
	if len(types) == 0 {
		return nil
	}
	rows := make([]eventTypeRow, len(types))
	for i, t := range types {
		rows[i] = eventTypeToRow(t)
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("store: seed event types: %w", err)
	}
	return nil
}

// ListEventTypes returns the whole catalogue by name.
func (s *Store) ListEventTypes(ctx context.Context) ([]domain.EventType, error) {
	var rows []eventTypeRow
	if err := s.db.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list event types: %w", err)
	}
	out := make([]domain.EventType, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// EventType returns one catalogue entry.
func (s *Store) EventType(ctx context.Context, name string) (domain.EventType, error) {
	var r eventTypeRow
	err := s.db.WithContext(ctx).Where("name = ?", name).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.EventType{}, notFound("event type", name)
	}
	if err != nil {
		return domain.EventType{}, fmt.Errorf("store: event type %s: %w", name, err)
	}
	return r.domain(), nil
}

// CreateEventType adds a catalogue entry; ErrConflict if the name exists.
func (s *Store) CreateEventType(ctx context.Context, t domain.EventType) error {
	r := eventTypeToRow(t)
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: event type %s: %w", t.Name, domain.ErrConflict)
		}
		return fmt.Errorf("store: create event type: %w", err)
	}
	return nil
}

// UpdateEventType writes description, schema, version and deprecated.
func (s *Store) UpdateEventType(ctx context.Context, t domain.EventType) error {
	r := eventTypeToRow(t)
	res := s.db.WithContext(ctx).Model(&eventTypeRow{}).Where("name = ?", t.Name).Updates(map[string]any{
		"description": r.Description, "schema": r.Schema, "version": r.Version,
		"deprecated": r.Deprecated, "updated_at": micros(time.Now()),
	})
	if res.Error != nil {
		return fmt.Errorf("store: update event type: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("event type", t.Name)
	}
	return nil
}
