package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// listDeliveriesQuery is the one query behind a page of the delivery log:
// the filter, the cursor (ids below the previous page's last), newest
// first, one row more than the page to know whether another follows.
func (s *Store) listDeliveriesQuery(ctx context.Context, f DeliveryFilter, cursor string, limit int) *gorm.DB {
	q := s.deliveryQuery(ctx, f)
	if cursor != "" {
		q = q.Where("id < ?", cursor)
	}
	return q.Order("id DESC").Limit(limit + 1)
}

// ExplainListDeliveries runs the query ListDeliveries would run under the
// database's planner — EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN
// QUERY PLAN on SQLite — and returns the plan, one line per row. It is for
// checking that the log's filters are served by indexes (tests, operators).
func (s *Store) ExplainListDeliveries(ctx context.Context, f DeliveryFilter, cursor string, limit int) ([]string, error) {
	var rows []deliveryRow
	stmt := s.listDeliveriesQuery(ctx, f, cursor, limit).Session(&gorm.Session{DryRun: true}).Find(&rows).Statement
	prefix := "EXPLAIN QUERY PLAN "
	if s.postgres {
		prefix = "EXPLAIN (ANALYZE, BUFFERS) "
	}
	sqlRows, err := s.db.WithContext(ctx).Raw(prefix+stmt.SQL.String(), stmt.Vars...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: explain deliveries: %w", err)
	}
	defer sqlRows.Close()
	cols, err := sqlRows.Columns()
	if err != nil {
		return nil, fmt.Errorf("store: explain deliveries: %w", err)
	}
	var out []string
	for sqlRows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := sqlRows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("store: explain deliveries: %w", err)
		}
		parts := make([]string, 0, len(vals))
		for _, v := range vals {
			switch x := v.(type) {
			case []byte:
				parts = append(parts, string(x))
			default:
				parts = append(parts, fmt.Sprint(x))
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out, sqlRows.Err()
}
