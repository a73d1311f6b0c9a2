package service

import (
	"context"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// DeliveryQuery filters the delivery log.
type DeliveryQuery struct {
	EndpointID string
	EventID    string
	EventType  string
	Status     string
	Since      time.Time
	Until      time.Time
	Cursor     string
	Limit      int
}

func (s *Service) deliveryFilter(p domain.Principal, q DeliveryQuery) (store.DeliveryFilter, error) {
	pid, err := partnerOf(p, domain.ScopeDeliveriesRead)
	if err != nil {
		return store.DeliveryFilter{}, err
	}
	st := domain.DeliveryStatus(q.Status)
	if q.Status != "" && !st.Valid() {
		return store.DeliveryFilter{}, domain.InvalidParam("status", "must be pending, succeeded, failed or held")
	}
	if q.Cursor != "" && !ids.Valid(ids.Delivery, q.Cursor) {
		return store.DeliveryFilter{}, domain.InvalidParam("cursor", "is not a cursor this API returned")
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return store.DeliveryFilter{}, domain.InvalidParam("until", "must be after since")
	}
	return store.DeliveryFilter{
		PartnerID: pid, EndpointID: q.EndpointID, EventID: q.EventID, EventType: q.EventType,
		Status: st, Since: q.Since, Until: q.Until,
	}, nil
}

// ListDeliveries lists the partner's delivery log, newest first.
func (s *Service) ListDeliveries(ctx context.Context, p domain.Principal, q DeliveryQuery) (domain.Page[domain.Delivery], error) {
	f, err := s.deliveryFilter(p, q)
	if err != nil {
		return domain.Page[domain.Delivery]{}, err
	}
	return s.d.Store.ListDeliveries(ctx, f, q.Cursor, q.Limit)
}

// DeliveryDetail is a delivery with its event.
type DeliveryDetail struct {
	Delivery domain.Delivery
	Event    domain.Event
}

// Delivery returns one of the partner's deliveries with the event payload.
func (s *Service) Delivery(ctx context.Context, p domain.Principal, id string) (DeliveryDetail, error) {
	pid, err := partnerOf(p, domain.ScopeDeliveriesRead)
	if err != nil {
		return DeliveryDetail{}, err
	}
	d, err := s.d.Store.Delivery(ctx, pid, id)
	if err != nil {
		return DeliveryDetail{}, err
	}
	ev, err := s.d.Store.Event(ctx, d.EventID)
	if err != nil {
		return DeliveryDetail{}, err
	}
	return DeliveryDetail{Delivery: d, Event: ev}, nil
}

// Attempts lists one delivery's attempts.
func (s *Service) Attempts(ctx context.Context, p domain.Principal, deliveryID string) ([]domain.Attempt, error) {
	pid, err := partnerOf(p, domain.ScopeDeliveriesRead)
	if err != nil {
		return nil, err
	}
	as, err := s.d.Store.Attempts(ctx, pid, deliveryID)
	if err != nil {
		return nil, err
	}
	// Attempts are recorded redacted; this also covers older rows.
	for i := range as {
		as[i].RequestHeaders = domain.RedactHeaders(as[i].RequestHeaders, nil)
		as[i].RequestURL = domain.RedactURL(as[i].RequestURL)
	}
	return as, nil
}

// RetryDelivery sends one delivery again now, whatever its status.
func (s *Service) RetryDelivery(ctx context.Context, p domain.Principal, id string) (domain.Delivery, error) {
	pid, err := partnerOf(p, domain.ScopeDeliveriesReplay)
	if err != nil {
		return domain.Delivery{}, err
	}
	d, err := s.d.Store.Delivery(ctx, pid, id)
	if err != nil {
		return domain.Delivery{}, err
	}
	if partner, err := s.d.Store.Partner(ctx, pid); err != nil {
		return domain.Delivery{}, err
	} else if partner.Status == domain.PartnerSuspended {
		return domain.Delivery{}, &domain.ConflictError{Reason: "your partner account is suspended: deliveries are held until an administrator reactivates it"}
	}
	ev, err := s.d.Store.Event(ctx, d.EventID)
	if err != nil {
		return domain.Delivery{}, err
	}
	if len(ev.Payload) == 0 {
		return domain.Delivery{}, &domain.ConflictError{Reason: "the event's payload was purged by retention; it can no longer be sent"}
	}
	if err := s.d.Enqueuer.EnqueueTriggered(ctx, d.ID, domain.TriggerManual); err != nil {
		return domain.Delivery{}, errorsJoinUnavailable(err)
	}
	return d, nil
}
