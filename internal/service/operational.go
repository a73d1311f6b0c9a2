package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// EmitOperational records an operational event (endpoint.failing, …) for
// one partner; it is delivered only to that partner's endpoints that
// subscribe to it explicitly.
func (s *Service) EmitOperational(ctx context.Context, partnerID, eventType string, data map[string]any) error {
	version, known, err := s.typeVersion(ctx, eventType)
	if err != nil {
		return err
	}
	if !known {
		version = 1
	}
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("service: operational event: %w", err)
	}
	now := s.now()
	ev := domain.Event{
		ID: ids.NewAt(ids.Event, now), Type: eventType, SourceID: "hookgate", SourceKind: domain.SourceAPI,
		SourceName: "hookgate", OccurredAt: now, ReceivedAt: now, PartnerID: partnerID,
	}
	_, err = s.accept(ctx, ev, version, b)
	return err
}

var _ delivery.OpsEmitter = (*Service)(nil)

// releaseHeld releases held deliveries and logs (not fails) on trouble:
// what stays held in the database is released by a later change or sweep.
func (s *Service) releaseHeld(ctx context.Context, f store.HeldFilter) {
	n, err := delivery.ReleaseHeld(ctx, s.d.Store, s.d.Enqueuer, f)
	if err != nil {
		s.d.Log.WarnContext(ctx, "releasing held deliveries failed", "endpoint_id", f.EndpointID, "partner_id", f.PartnerID, "error", err)
		return
	}
	if n > 0 {
		s.d.Log.InfoContext(ctx, "held deliveries released", "endpoint_id", f.EndpointID, "partner_id", f.PartnerID, "count", n)
	}
}
