package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"

	"github.com/hookgate/hookgate/internal/domain"
)

// jobParamsJSON is how JobParams are stored in jobs.params.
type jobParamsJSON struct {
	Since      int64    `json:"since,omitempty"`
	Until      int64    `json:"until,omitempty"`
	EventTypes []string `json:"event_types,omitempty"`
	PartnerID  string   `json:"partner_id,omitempty"`
	EndpointID string   `json:"endpoint_id,omitempty"`
	Days       int      `json:"days,omitempty"`
}

type jobRow struct {
	ID          string `gorm:"primaryKey"`
	Kind        string
	PartnerID   *string
	EndpointID  *string
	Params      string
	Status      string
	Total       int64
	Done        int64
	ResumeAfter string
	Error       string
	NextRunAt   int64
	CreatedAt   int64 `gorm:"autoCreateTime:false"`
	UpdatedAt   int64 `gorm:"autoUpdateTime:false"`
	StartedAt   *int64
	FinishedAt  *int64
}

func (jobRow) TableName() string { return "jobs" }

func (r jobRow) domain() domain.Job {
	j := domain.Job{
		ID: r.ID, Kind: domain.JobKind(r.Kind), Status: domain.JobStatus(r.Status),
		Total: r.Total, Done: r.Done, Cursor: r.ResumeAfter, Error: r.Error,
		NextRunAt: fromMicros(r.NextRunAt), CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
		StartedAt: fromMicrosPtr(r.StartedAt), FinishedAt: fromMicrosPtr(r.FinishedAt),
	}
	if r.PartnerID != nil {
		j.PartnerID = *r.PartnerID
	}
	var p jobParamsJSON
	_ = json.Unmarshal([]byte(r.Params), &p)
	j.Params = domain.JobParams{
		EventTypes: p.EventTypes, PartnerID: p.PartnerID, EndpointID: p.EndpointID, Days: p.Days,
	}
	if p.Since != 0 {
		j.Params.Since = fromMicros(p.Since)
	}
	if p.Until != 0 {
		j.Params.Until = fromMicros(p.Until)
	}
	return j
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateJob stores a new job.
func (s *Store) CreateJob(ctx context.Context, j domain.Job) error {
	p := jobParamsJSON{
		EventTypes: j.Params.EventTypes, PartnerID: j.Params.PartnerID, EndpointID: j.Params.EndpointID, Days: j.Params.Days,
	}
	if !j.Params.Since.IsZero() {
		p.Since = micros(j.Params.Since)
	}
	if !j.Params.Until.IsZero() {
		p.Until = micros(j.Params.Until)
	}
	r := jobRow{
		ID: j.ID, Kind: string(j.Kind), PartnerID: optString(j.PartnerID), EndpointID: optString(j.Params.EndpointID),
		Params: mustJSON(p), Status: string(j.Status), Total: j.Total, Done: j.Done, ResumeAfter: j.Cursor,
		NextRunAt: micros(j.NextRunAt), CreatedAt: micros(j.CreatedAt), UpdatedAt: micros(j.UpdatedAt),
	}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: create job: a %s job of endpoint %s is active: %w", j.Kind, j.Params.EndpointID, domain.ErrConflict)
		}
		return fmt.Errorf("store: create job: %w", err)
	}
	return nil
}

// Job returns a job with its progress. A non-empty partnerID restricts it
// to that partner's jobs; kinds, when given, to those kinds: anything else
// is not found.
func (s *Store) Job(ctx context.Context, partnerID, id string, kinds ...domain.JobKind) (domain.Job, error) {
	var r jobRow
	q := s.db.WithContext(ctx).Where("id = ?", id)
	if partnerID != "" {
		q = q.Where("partner_id = ?", partnerID)
	}
	if len(kinds) > 0 {
		ks := make([]string, len(kinds))
		for i, k := range kinds {
			ks[i] = string(k)
		}
		q = q.Where("kind IN ?", ks)
	}
	err := q.Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Job{}, notFound("job", id)
	}
	if err != nil {
		return domain.Job{}, fmt.Errorf("store: job %s: %w", id, err)
	}
	j := r.domain()
	if err := s.jobProgress(ctx, &j); err != nil {
		return domain.Job{}, err
	}
	return j, nil
}

// JobState returns a job without computing its progress (the runner's
// cheap read).
func (s *Store) JobState(ctx context.Context, id string) (domain.Job, error) {
	var r jobRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Job{}, notFound("job", id)
	}
	if err != nil {
		return domain.Job{}, fmt.Errorf("store: job %s: %w", id, err)
	}
	return r.domain(), nil
}

// jobProgress fills Succeeded and Failed from the attempt log: a delivery
// the job handed over has succeeded when an attempt with the job's trigger
// made after the hand-off succeeded, and failed when such attempts exist
// and none succeeded.
func (s *Store) jobProgress(ctx context.Context, j *domain.Job) error {
	var res struct {
		Succeeded int64
		Failed    int64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT
			COALESCE(SUM(CASE WHEN x.ok > 0 THEN 1 ELSE 0 END), 0) AS succeeded,
			COALESCE(SUM(CASE WHEN x.ok = 0 AND x.bad > 0 THEN 1 ELSE 0 END), 0) AS failed
		FROM (SELECT i.delivery_id,
				SUM(CASE WHEN a.error_class = '' THEN 1 ELSE 0 END) AS ok,
				SUM(CASE WHEN a.error_class <> '' THEN 1 ELSE 0 END) AS bad
			FROM job_items i JOIN attempts a
				ON a.delivery_id = i.delivery_id AND a.trigger_kind = ? AND a.started_at >= i.handed_at
			WHERE i.job_id = ?
			GROUP BY i.delivery_id) x`, string(j.Kind.Trigger()), j.ID).Scan(&res).Error
	if err != nil {
		return fmt.Errorf("store: job %s progress: %w", j.ID, err)
	}
	j.Succeeded, j.Failed = res.Succeeded, res.Failed
	return nil
}

// ActiveJob returns a queued or running job of kind for an endpoint.
func (s *Store) ActiveJob(ctx context.Context, kind domain.JobKind, endpointID string) (domain.Job, bool, error) {
	var rows []jobRow
	err := s.db.WithContext(ctx).Where("endpoint_id = ? AND status IN ? AND kind = ?", endpointID,
		[]string{string(domain.JobQueued), string(domain.JobRunning)}, string(kind)).Limit(1).Find(&rows).Error
	if err != nil {
		return domain.Job{}, false, fmt.Errorf("store: active jobs: %w", err)
	}
	if len(rows) == 0 {
		return domain.Job{}, false, nil
	}
	return rows[0].domain(), true, nil
}

// CancelJob stops a queued or running job. A job that has finished is a
// conflict.
func (s *Store) CancelJob(ctx context.Context, id string, now time.Time) error {
	res := s.db.WithContext(ctx).Model(&jobRow{}).
		Where("id = ? AND status IN ?", id, []string{string(domain.JobQueued), string(domain.JobRunning)}).
		Updates(map[string]any{"status": string(domain.JobCancelled), "updated_at": micros(now), "finished_at": micros(now)})
	if res.Error != nil {
		return fmt.Errorf("store: cancel job %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		j, err := s.Job(ctx, "", id)
		if err != nil {
			return err
		}
		return &domain.ConflictError{Reason: fmt.Sprintf("the job is already %s", j.Status)}
	}
	return nil
}

// HandedDeliveries returns which of ids the job has already handed to the
// queue.
func (s *Store) HandedDeliveries(ctx context.Context, jobID string, ids []string) (map[string]bool, error) {
	out := make(map[string]bool)
	for start := 0; start < len(ids); start += 500 {
		var got []string
		err := s.db.WithContext(ctx).Raw(`SELECT delivery_id FROM job_items WHERE job_id = ? AND delivery_id IN ?`,
			jobID, ids[start:min(start+500, len(ids))]).Scan(&got).Error
		if err != nil {
			return nil, fmt.Errorf("store: job items: %w", err)
		}
		for _, id := range got {
			out[id] = true
		}
	}
	return out, nil
}

// AdvanceJob records one chunk in one short transaction: the deliveries
// handed to the queue (at handedAt), the new resume position (cursor; ""
// keeps it) and when the next chunk is due. A queued job becomes running;
// a cancelled job keeps its status (what was handed over is still
// recorded).
func (s *Store) AdvanceJob(ctx context.Context, jobID string, handed []string, handedAt time.Time, cursor string, nextRun, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var added int64
		for start := 0; start < len(handed); start += 500 {
			part := handed[start:min(start+500, len(handed))]
			args := make([]any, 0, 3*len(part))
			for _, id := range part {
				args = append(args, jobID, id, micros(handedAt))
			}
			res := tx.Exec(`INSERT INTO job_items (job_id, delivery_id, handed_at) VALUES `+placeholders(len(part), 3)+
				` ON CONFLICT (job_id, delivery_id) DO NOTHING`, args...)
			if res.Error != nil {
				return fmt.Errorf("store: job items: %w", res.Error)
			}
			added += res.RowsAffected
		}
		set := map[string]any{
			"done":        gorm.Expr("done + ?", added),
			"next_run_at": micros(nextRun),
			"updated_at":  micros(now),
			"status": gorm.Expr("CASE WHEN status = ? THEN ? ELSE status END",
				string(domain.JobQueued), string(domain.JobRunning)),
			"started_at": gorm.Expr("COALESCE(started_at, ?)", micros(now)),
		}
		if cursor != "" {
			set["resume_after"] = cursor
		}
		if err := tx.Model(&jobRow{}).Where("id = ?", jobID).Updates(set).Error; err != nil {
			return fmt.Errorf("store: advance job %s: %w", jobID, err)
		}
		return nil
	})
}

// FinishJob ends a queued or running job as completed (its total becomes
// what it handed over) or failed (with errMsg). A job already finished or
// cancelled is left alone.
func (s *Store) FinishJob(ctx context.Context, id string, status domain.JobStatus, errMsg string, now time.Time) error {
	set := map[string]any{"status": string(status), "updated_at": micros(now), "finished_at": micros(now), "error": errMsg}
	if status == domain.JobCompleted {
		set["total"] = gorm.Expr("done")
	}
	err := s.db.WithContext(ctx).Model(&jobRow{}).
		Where("id = ? AND status IN ?", id, []string{string(domain.JobQueued), string(domain.JobRunning)}).
		Updates(set).Error
	if err != nil {
		return fmt.Errorf("store: finish job %s: %w", id, err)
	}
	return nil
}

// StaleJobs returns queued or running jobs whose next chunk was due before
// before: their queue task was lost, and they need a new one.
func (s *Store) StaleJobs(ctx context.Context, before time.Time, limit int) ([]domain.Job, error) {
	var rows []jobRow
	err := s.db.WithContext(ctx).Where("status IN ? AND next_run_at < ?",
		[]string{string(domain.JobQueued), string(domain.JobRunning)}, micros(before)).
		Order("next_run_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: stale jobs: %w", err)
	}
	out := make([]domain.Job, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// --- recover ---

// CountFailedDeliveries counts an endpoint's failed deliveries created in
// [since, until).
func (s *Store) CountFailedDeliveries(ctx context.Context, partnerID, endpointID string, since, until time.Time) (int64, error) {
	var n int64
	err := s.deliveryQuery(ctx, DeliveryFilter{
		PartnerID: partnerID, EndpointID: endpointID, Status: domain.DeliveryFailed, Since: since, Until: until,
	}).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("store: count failed deliveries: %w", err)
	}
	return n, nil
}

// FailedDeliveries returns up to limit of an endpoint's failed deliveries
// created in [since, until), oldest first, after the delivery id after.
func (s *Store) FailedDeliveries(ctx context.Context, partnerID, endpointID string, since, until time.Time, after string, limit int) ([]domain.Delivery, error) {
	q := s.deliveryQuery(ctx, DeliveryFilter{
		PartnerID: partnerID, EndpointID: endpointID, Status: domain.DeliveryFailed, Since: since, Until: until,
	})
	if after != "" {
		q = q.Where("id > ?", after)
	}
	var rows []deliveryRow
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: failed deliveries: %w", err)
	}
	out := make([]domain.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// --- replay and back-fill ---

// ReplaySelection says which (event, endpoint) pairs a replay or back-fill
// covers: events received in [Since, Until) that still have their payload,
// excluding operational and test events (which belong to one partner), of
// a type matching EventTypes (empty: any), times the endpoints that match
// them now — active endpoints of active partners whose patterns and
// entitlements match the type — narrowed to PartnerID and EndpointID.
type ReplaySelection struct {
	Since      time.Time
	Until      time.Time
	EventTypes []string
	PartnerID  string
	EndpointID string
	// MissingOnly keeps only events that have no delivery to EndpointID
	// yet (back-fill); it requires EndpointID.
	MissingOnly bool
}

// ReplayTarget is an endpoint a replay may send to.
type ReplayTarget struct {
	Endpoint     domain.Endpoint
	Entitlements []string
}

// wants reports whether the target receives events of type t under the
// selection's type filter.
func (t ReplayTarget) wants(eventType string, filter []string) bool {
	if len(filter) > 0 && !domain.MatchAny(filter, eventType) {
		return false
	}
	return domain.MatchAny(t.Endpoint.EventTypes, eventType) && domain.MatchAny(t.Entitlements, eventType)
}

// ReplayTargets returns the endpoints a replay sends to now: active
// endpoints of active partners, narrowed to partnerID and endpointID.
func (s *Store) ReplayTargets(ctx context.Context, partnerID, endpointID string) ([]ReplayTarget, error) {
	q := s.db.WithContext(ctx).Where("status = ?", string(domain.PartnerActive))
	if partnerID != "" {
		q = q.Where("id = ?", partnerID)
	}
	var partners []partnerRow
	if err := q.Find(&partners).Error; err != nil {
		return nil, fmt.Errorf("store: replay targets: %w", err)
	}
	if len(partners) == 0 {
		return nil, nil
	}
	ent := make(map[string][]string, len(partners))
	pids := make([]string, 0, len(partners))
	for _, p := range partners {
		ent[p.ID] = p.domain().Entitlements
		pids = append(pids, p.ID)
	}
	var out []ReplayTarget
	for start := 0; start < len(pids); start += 500 {
		eq := s.db.WithContext(ctx).Where("deleted_at IS NULL AND status = ? AND partner_id IN ?",
			string(domain.EndpointActive), pids[start:min(start+500, len(pids))])
		if endpointID != "" {
			eq = eq.Where("id = ?", endpointID)
		}
		var rows []endpointRow
		if err := eq.Order("id").Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: replay targets: %w", err)
		}
		for _, r := range rows {
			out = append(out, ReplayTarget{Endpoint: r.domain(), Entitlements: ent[r.PartnerID]})
		}
	}
	return out, nil
}

// idBound is the smallest id with prefix whose time part is t (to the
// millisecond): ids are ULIDs, so a time window is an id range the primary
// key and the (…, id) indexes serve.
func idBound(prefix string, t time.Time) string {
	var u ulid.ULID
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	_ = u.SetTime(uint64(ms))
	return prefix + "_" + u.String()
}

func (s *Store) replayEventQuery(ctx context.Context, sel ReplaySelection) *gorm.DB {
	q := s.db.WithContext(ctx).Table("events").
		Where("id >= ? AND id < ?", idBound("msg", sel.Since), idBound("msg", sel.Until.Add(time.Millisecond))).
		Where("received_at >= ? AND received_at < ?", micros(sel.Since), micros(sel.Until)).
		Where("payload IS NOT NULL AND partner_id IS NULL")
	if sel.MissingOnly {
		q = q.Where("NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.endpoint_id = ?)", sel.EndpointID)
	}
	return q
}

// CountReplay counts the (event, endpoint) pairs a selection covers now.
func (s *Store) CountReplay(ctx context.Context, sel ReplaySelection) (int64, error) {
	targets, err := s.ReplayTargets(ctx, sel.PartnerID, sel.EndpointID)
	if err != nil || len(targets) == 0 {
		return 0, err
	}
	var rows []struct {
		Type string
		N    int64
	}
	if err := s.replayEventQuery(ctx, sel).Select("type, COUNT(*) AS n").Group("type").Scan(&rows).Error; err != nil {
		return 0, fmt.Errorf("store: count replay: %w", err)
	}
	var n int64
	for _, r := range rows {
		for _, t := range targets {
			if t.wants(r.Type, sel.EventTypes) {
				n += r.N
			}
		}
	}
	return n, nil
}

// ReplayPair is one event to send to one endpoint.
type ReplayPair struct {
	EventID   string
	EventType string
	Endpoint  domain.Endpoint
}

// ReplayChunk returns the next pairs of a selection, in event order, after
// the event id after: whole events until at least maxPairs pairs (or a few
// thousand events without any). last is the last event looked at (the next
// chunk's after); more reports whether events remain.
func (s *Store) ReplayChunk(ctx context.Context, sel ReplaySelection, after string, maxPairs int) (pairs []ReplayPair, last string, more bool, err error) {
	targets, err := s.ReplayTargets(ctx, sel.PartnerID, sel.EndpointID)
	if err != nil {
		return nil, after, false, err
	}
	if len(targets) == 0 {
		return nil, after, false, nil
	}
	const page = 500
	last = after
	for scanned := 0; scanned < 10*page; {
		q := s.replayEventQuery(ctx, sel)
		if last != "" {
			q = q.Where("id > ?", last)
		}
		var evs []struct {
			ID   string
			Type string
		}
		if err := q.Select("id, type").Order("id").Limit(page).Scan(&evs).Error; err != nil {
			return nil, after, false, fmt.Errorf("store: replay events: %w", err)
		}
		for _, e := range evs {
			for _, t := range targets {
				if t.wants(e.Type, sel.EventTypes) {
					pairs = append(pairs, ReplayPair{EventID: e.ID, EventType: e.Type, Endpoint: t.Endpoint})
				}
			}
			last = e.ID
			if len(pairs) >= maxPairs {
				return pairs, last, true, nil
			}
		}
		if len(evs) < page {
			return pairs, last, false, nil
		}
		scanned += len(evs)
	}
	return pairs, last, true, nil
}

// EnsureDeliveries creates the deliveries that do not exist yet (same event
// and endpoint) and returns, in the order given, every delivery: the new
// one or the one that existed.
func (s *Store) EnsureDeliveries(ctx context.Context, ds []domain.Delivery) ([]domain.Delivery, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	type pair struct{ event, endpoint string }
	found := make(map[pair]domain.Delivery, len(ds))
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for start := 0; start < len(ds); start += 500 {
			part := ds[start:min(start+500, len(ds))]
			args := make([]any, 0, len(part)*deliveryCols)
			eventIDs := make([]string, 0, len(part))
			for _, d := range part {
				args = deliveryArgs(args, d)
				eventIDs = append(eventIDs, d.EventID)
			}
			q := `INSERT INTO deliveries (id, event_id, endpoint_id, partner_id, event_type, status, held_reason, next_attempt_at, created_at, updated_at) VALUES ` +
				placeholders(len(part), deliveryCols) + ` ON CONFLICT (event_id, endpoint_id) DO NOTHING`
			if err := tx.Exec(q, args...).Error; err != nil {
				return fmt.Errorf("insert deliveries: %w", err)
			}
			var rows []deliveryRow
			if err := tx.Where("event_id IN ?", eventIDs).Find(&rows).Error; err != nil {
				return fmt.Errorf("read deliveries: %w", err)
			}
			for _, r := range rows {
				found[pair{r.EventID, r.EndpointID}] = r.domain()
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: ensure deliveries: %w", err)
	}
	out := make([]domain.Delivery, 0, len(ds))
	for _, d := range ds {
		if got, ok := found[pair{d.EventID, d.EndpointID}]; ok {
			out = append(out, got)
		}
	}
	return out, nil
}

// InsertDirectEvent stores an event that is fanned out already, to the
// deliveries given (a test send: one event to one endpoint), in one
// transaction. The sweeper never fans it out again.
func (s *Store) InsertDirectEvent(ctx context.Context, e domain.Event, ds []domain.Delivery) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO events (id, type, source_id, model, record_id, occurred_at, received_at, payload, fanned_out, partner_id) VALUES `+
			placeholders(1, 10), e.ID, e.Type, e.SourceID, e.Model, e.RecordID, micros(e.OccurredAt), micros(e.ReceivedAt),
			e.Payload, true, optString(e.PartnerID)).Error; err != nil {
			return fmt.Errorf("store: insert event: %w", err)
		}
		for _, d := range ds {
			if err := tx.Exec(`INSERT INTO deliveries (id, event_id, endpoint_id, partner_id, event_type, status, held_reason, next_attempt_at, created_at, updated_at) VALUES `+
				placeholders(1, deliveryCols), deliveryArgs(nil, d)...).Error; err != nil {
				return fmt.Errorf("store: insert delivery: %w", err)
			}
		}
		return nil
	})
}
