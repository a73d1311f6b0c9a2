package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/odoo"
	"github.com/hookgate/hookgate/internal/store"
)

// JobQueue queues a chunk of a background job; key names the chunk so the
// same one is queued once.
type JobQueue interface {
	EnqueueJob(ctx context.Context, jobID, key string, at time.Time) error
}

// Limits of the delivery log's bulk operations.
const (
	// MaxRecoverWindow is the longest window one recovery covers.
	MaxRecoverWindow = 14 * 24 * time.Hour
	// MaxBackfillDays is the longest back-fill.
	MaxBackfillDays = 30
	// testSourceID marks events sent by POST /v1/endpoints/{id}/test.
	testSourceID = "test"
)

// RecoverInput is a recovery's window; Until nil means now.
type RecoverInput struct {
	Since time.Time
	Until *time.Time
}

// RecoverEndpoint starts a job that re-sends every failed delivery of one
// of the partner's endpoints created in the window (at most 14 days), with
// trigger recover, through the normal delivery queue.
func (s *Service) RecoverEndpoint(ctx context.Context, p domain.Principal, endpointID string, in RecoverInput) (domain.Job, error) {
	pid, err := partnerOf(p, domain.ScopeDeliveriesReplay)
	if err != nil {
		return domain.Job{}, err
	}
	if _, err := s.d.Store.Endpoint(ctx, pid, endpointID); err != nil {
		return domain.Job{}, err
	}
	now := s.now()
	if in.Since.IsZero() {
		return domain.Job{}, domain.Invalid("since", "is required: an RFC 3339 time such as 2025-03-14T00:00:00Z")
	}
	since := in.Since.UTC()
	until := now
	if in.Until != nil {
		until = in.Until.UTC()
	}
	switch {
	case !since.Before(now):
		return domain.Job{}, domain.Invalid("since", "must be in the past")
	case !until.After(since):
		return domain.Job{}, domain.Invalid("until", "must be after since")
	case until.Sub(since) > MaxRecoverWindow:
		return domain.Job{}, domain.Invalid("until", "the window from since to until may span at most 14 days")
	}
	total, err := s.d.Store.CountFailedDeliveries(ctx, pid, endpointID, since, until)
	if err != nil {
		return domain.Job{}, err
	}
	return s.startJob(ctx, domain.Job{
		Kind: domain.JobRecover, PartnerID: pid, Total: total,
		Params: domain.JobParams{Since: since, Until: until, EndpointID: endpointID},
	})
}

// BackfillEndpoint starts a job that sends one of the partner's endpoints
// the events of the last days (1–30) it matches now and has not received:
// a delivery is created for each and sent with trigger replay.
func (s *Service) BackfillEndpoint(ctx context.Context, p domain.Principal, endpointID string, days int) (domain.Job, error) {
	pid, err := partnerOf(p, domain.ScopeDeliveriesReplay)
	if err != nil {
		return domain.Job{}, err
	}
	ep, err := s.d.Store.Endpoint(ctx, pid, endpointID)
	if err != nil {
		return domain.Job{}, err
	}
	if days < 1 || days > MaxBackfillDays {
		return domain.Job{}, domain.Invalid("days", "must be from 1 to %d", MaxBackfillDays)
	}
	if ep.Status != domain.EndpointActive {
		return domain.Job{}, &domain.ConflictError{Reason: fmt.Sprintf("the endpoint is %s; enable it before back-filling", ep.Status)}
	}
	now := s.now()
	sel := store.ReplaySelection{
		Since: now.Add(-time.Duration(days) * 24 * time.Hour), Until: now, PartnerID: pid, EndpointID: endpointID, MissingOnly: true,
	}
	total, err := s.d.Store.CountReplay(ctx, sel)
	if err != nil {
		return domain.Job{}, err
	}
	return s.startJob(ctx, domain.Job{
		Kind: domain.JobBackfill, PartnerID: pid, Total: total,
		Params: domain.JobParams{Since: sel.Since, Until: sel.Until, PartnerID: pid, EndpointID: endpointID, Days: days},
	})
}

// Recovery returns one of the partner's recoveries or back-fills with its
// progress.
func (s *Service) Recovery(ctx context.Context, p domain.Principal, id string) (domain.Job, error) {
	pid, err := partnerOf(p, domain.ScopeDeliveriesRead)
	if err != nil {
		return domain.Job{}, err
	}
	return s.d.Store.Job(ctx, pid, id, domain.JobRecover, domain.JobBackfill)
}

// ReplayInput is an admin bulk replay: events received in [Since, Until),
// narrowed to EventTypes (patterns), a partner and an endpoint.
type ReplayInput struct {
	Since      time.Time
	Until      time.Time
	EventTypes []string
	PartnerID  string
	EndpointID string
	DryRun     bool
}

// ReplayResult is a replay's answer: the number of (event, endpoint) pairs
// it covers, and the job unless it was a dry run.
type ReplayResult struct {
	Count int64
	Job   *domain.Job
}

// Replay re-sends the events of a time range to the endpoints that match
// them now (active endpoints of active partners whose patterns and
// entitlements match), creating the deliveries that do not exist, with
// trigger replay (admin). A dry run only counts.
func (s *Service) Replay(ctx context.Context, p domain.Principal, in ReplayInput) (ReplayResult, error) {
	if err := requireAdmin(p); err != nil {
		return ReplayResult{}, err
	}
	switch {
	case in.Since.IsZero():
		return ReplayResult{}, domain.Invalid("since", "is required: an RFC 3339 time")
	case in.Until.IsZero():
		return ReplayResult{}, domain.Invalid("until", "is required: an RFC 3339 time")
	case !in.Until.After(in.Since):
		return ReplayResult{}, domain.Invalid("until", "must be after since")
	}
	if len(in.EventTypes) > 100 {
		return ReplayResult{}, domain.Invalid("event_types", "at most 100 patterns")
	}
	for _, t := range in.EventTypes {
		if !domain.ValidPattern(t) {
			return ReplayResult{}, domain.Invalid("event_types", "%q is not an event type or pattern such as order.* or order.confirmed", t)
		}
	}
	if in.PartnerID != "" {
		if _, err := s.d.Store.Partner(ctx, in.PartnerID); errors.Is(err, domain.ErrNotFound) {
			return ReplayResult{}, domain.Invalid("partner_id", "no such partner")
		} else if err != nil {
			return ReplayResult{}, err
		}
	}
	if in.EndpointID != "" {
		ep, err := s.d.Store.Endpoint(ctx, "", in.EndpointID)
		if errors.Is(err, domain.ErrNotFound) {
			return ReplayResult{}, domain.Invalid("endpoint_id", "no such endpoint")
		} else if err != nil {
			return ReplayResult{}, err
		}
		if in.PartnerID != "" && ep.PartnerID != in.PartnerID {
			return ReplayResult{}, domain.Invalid("endpoint_id", "belongs to another partner than partner_id")
		}
	}
	sel := store.ReplaySelection{
		Since: in.Since.UTC(), Until: in.Until.UTC(), EventTypes: in.EventTypes, PartnerID: in.PartnerID, EndpointID: in.EndpointID,
	}
	n, err := s.d.Store.CountReplay(ctx, sel)
	if err != nil {
		return ReplayResult{}, err
	}
	if in.DryRun {
		return ReplayResult{Count: n}, nil
	}
	job, err := s.startJob(ctx, domain.Job{
		Kind: domain.JobReplay, Total: n,
		Params: domain.JobParams{Since: sel.Since, Until: sel.Until, EventTypes: in.EventTypes, PartnerID: in.PartnerID, EndpointID: in.EndpointID},
	})
	if err != nil {
		return ReplayResult{}, err
	}
	s.auditJob(ctx, p, "replay.started", job, map[string]any{
		"since": sel.Since, "until": sel.Until, "event_types": in.EventTypes, "partner_id": in.PartnerID,
		"endpoint_id": in.EndpointID, "count": n,
	})
	return ReplayResult{Count: n, Job: &job}, nil
}

// ReplayJob returns an admin replay with its progress.
func (s *Service) ReplayJob(ctx context.Context, p domain.Principal, id string) (domain.Job, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Job{}, err
	}
	return s.d.Store.Job(ctx, "", id, domain.JobReplay)
}

// CancelReplay stops an admin replay: no further chunk is handed to the
// queue (deliveries already handed over are still sent). A replay that has
// finished is a conflict.
func (s *Service) CancelReplay(ctx context.Context, p domain.Principal, id string) (domain.Job, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Job{}, err
	}
	if _, err := s.d.Store.Job(ctx, "", id, domain.JobReplay); err != nil {
		return domain.Job{}, err
	}
	if err := s.d.Store.CancelJob(ctx, id, s.now()); err != nil {
		return domain.Job{}, err
	}
	job, err := s.d.Store.Job(ctx, "", id, domain.JobReplay)
	if err != nil {
		return domain.Job{}, err
	}
	s.auditJob(ctx, p, "replay.cancelled", job, nil)
	return job, nil
}

// startJob stores a queued job and queues its first chunk. When the queue
// cannot take it the job is marked failed and the caller told to retry.
func (s *Service) startJob(ctx context.Context, j domain.Job) (domain.Job, error) {
	if s.d.Jobs == nil {
		return domain.Job{}, errors.Join(domain.ErrUnavailable, errors.New("service: no job queue configured"))
	}
	now := s.now()
	j.ID = ids.NewAt(ids.Job, now)
	j.Status = domain.JobQueued
	j.NextRunAt, j.CreatedAt, j.UpdatedAt = now, now, now
	if err := s.d.Store.CreateJob(ctx, j); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			if active, ok, aerr := s.d.Store.ActiveJob(ctx, j.Kind, j.Params.EndpointID); aerr == nil && ok {
				return domain.Job{}, &domain.ConflictError{Reason: fmt.Sprintf(
					"a %s of this endpoint is already running (%s); follow it at GET /v1/recoveries/%s", j.Kind, active.ID, active.ID)}
			}
			return domain.Job{}, &domain.ConflictError{Reason: fmt.Sprintf("a %s of this endpoint is already running", j.Kind)}
		}
		return domain.Job{}, err
	}
	if err := s.d.Jobs.EnqueueJob(ctx, j.ID, "start", time.Time{}); err != nil {
		if ferr := s.d.Store.FinishJob(context.WithoutCancel(ctx), j.ID, domain.JobFailed, "could not be queued", s.now()); ferr != nil {
			s.d.Log.ErrorContext(ctx, "cannot mark unqueued job failed", "job_id", j.ID, "error", ferr)
		}
		return domain.Job{}, errorsJoinUnavailable(err)
	}
	s.d.Log.InfoContext(ctx, "job started", "job_id", j.ID, "kind", string(j.Kind), "total", j.Total,
		"partner_id", j.PartnerID, "endpoint_id", j.Params.EndpointID)
	return j, nil
}

// auditJob records an admin action on a job; a failure is logged, the
// action stands.
func (s *Service) auditJob(ctx context.Context, p domain.Principal, action string, j domain.Job, detail map[string]any) {
	err := s.d.Store.InsertAudit(ctx, domain.AuditEntry{
		ID: ids.New(ids.Audit), Actor: p.Actor, Action: action, Target: j.ID, PartnerID: j.Params.PartnerID,
		Address: p.Address, Detail: detail, At: s.now(),
	})
	if err != nil {
		s.d.Log.WarnContext(ctx, "audit entry not recorded", "action", action, "target", j.ID, "error", err)
	}
}

// SendTestEvent sends one of the partner's endpoints a realistic example
// event of eventType (any type the partner is entitled to, subscribed or
// not): the event (source api/test, scoped to the partner, never fanned
// out nor replayed) and its one delivery are stored, and the delivery's
// attempt is queued with trigger manual. The answer is the delivery, to
// poll.
func (s *Service) SendTestEvent(ctx context.Context, p domain.Principal, endpointID, eventType string) (domain.Delivery, error) {
	pid, err := partnerOf(p, domain.ScopeEndpointsWrite)
	if err != nil {
		return domain.Delivery{}, err
	}
	if _, err := s.d.Store.Endpoint(ctx, pid, endpointID); err != nil {
		return domain.Delivery{}, err
	}
	if eventType == "" {
		return domain.Delivery{}, domain.Invalid("event_type", "is required")
	}
	if !domain.ValidEventTypeName(eventType) {
		return domain.Delivery{}, domain.Invalid("event_type", "must be an event type name such as order.confirmed")
	}
	et, err := s.d.Store.EventType(ctx, eventType)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Delivery{}, domain.Invalid("event_type", "%q is not in the event catalogue", eventType)
	} else if err != nil {
		return domain.Delivery{}, err
	}
	partner, err := s.d.Store.Partner(ctx, pid)
	if err != nil {
		return domain.Delivery{}, err
	}
	if !domain.MatchAny(partner.Entitlements, eventType) {
		return domain.Delivery{}, domain.Invalid("event_type", "%q is beyond what your partner account is entitled to", eventType)
	}
	data, ok := odoo.ExampleData(eventType)
	if !ok {
		data = map[string]any{}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return domain.Delivery{}, fmt.Errorf("service: test event data: %w", err)
	}
	now := s.now()
	ev := domain.Event{
		ID: ids.NewAt(ids.Event, now), Type: eventType, SourceID: testSourceID, SourceKind: domain.SourceAPI,
		SourceName: testSourceID, Model: odoo.ExampleModel(eventType), OccurredAt: now, ReceivedAt: now, PartnerID: pid,
	}
	if id, ok := data["id"].(float64); ok {
		ev.RecordID = int64(id)
	}
	ev.Payload, err = json.Marshal(envelope{
		ID: ev.ID, Type: ev.Type, Version: et.Version, OccurredAt: ev.OccurredAt.Format(time.RFC3339Nano),
		Source: envelopeSource{Kind: ev.SourceKind, Name: ev.SourceName, Model: ev.Model, RecordID: ev.RecordID},
		Data:   raw,
	})
	if err != nil {
		return domain.Delivery{}, fmt.Errorf("service: test event: %w", err)
	}
	d := domain.Delivery{
		ID: ids.NewAt(ids.Delivery, now), EventID: ev.ID, EndpointID: endpointID, PartnerID: pid, EventType: eventType,
		Status: domain.DeliveryPending, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.d.Store.InsertDirectEvent(ctx, ev, []domain.Delivery{d}); err != nil {
		return domain.Delivery{}, err
	}
	if err := s.d.Enqueuer.EnqueueTriggered(ctx, d.ID, domain.TriggerManual); err != nil {
		// Not sent: say so in the log rather than leave it pending.
		if serr := s.d.Store.SetDeliveryState(context.WithoutCancel(ctx), d.ID, domain.DeliveryFailed, "", nil); serr != nil {
			s.d.Log.ErrorContext(ctx, "cannot mark unsent test delivery failed", "delivery_id", d.ID, "error", serr)
		}
		return domain.Delivery{}, errorsJoinUnavailable(err)
	}
	return d, nil
}

// RetentionStatus returns the last retention pass (admin); ok is false
// before the first one.
func (s *Service) RetentionStatus(ctx context.Context, p domain.Principal) (run domain.RetentionRun, ok bool, err error) {
	if err := requireAdmin(p); err != nil {
		return domain.RetentionRun{}, false, err
	}
	return s.d.Store.LastRetentionRun(ctx)
}

// DeliveryExport walks the whole filtered delivery log a page at a time,
// newest first, for streaming exports (bounded memory).
type DeliveryExport struct {
	store  *store.Store
	filter store.DeliveryFilter
	cursor string
	done   bool
}

// exportPage is how many deliveries an export reads per query.
const exportPage = 500

// ExportDeliveries validates the query (as ListDeliveries does) and
// returns an export starting after q.Cursor; q.Limit is ignored.
func (s *Service) ExportDeliveries(ctx context.Context, p domain.Principal, q DeliveryQuery) (*DeliveryExport, error) {
	f, err := s.deliveryFilter(p, q)
	if err != nil {
		return nil, err
	}
	return &DeliveryExport{store: s.d.Store, filter: f, cursor: q.Cursor}, nil
}

// Next returns the next page; an empty page means the export is complete.
func (e *DeliveryExport) Next(ctx context.Context) ([]domain.Delivery, error) {
	if e.done {
		return nil, nil
	}
	page, err := e.store.ListDeliveries(ctx, e.filter, e.cursor, exportPage)
	if err != nil {
		return nil, err
	}
	if page.NextCursor == "" {
		e.done = true
	}
	e.cursor = page.NextCursor
	return page.Items, nil
}
