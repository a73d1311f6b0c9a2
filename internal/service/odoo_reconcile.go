package service

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/odoo"
	"github.com/hookgate/hookgate/internal/store"
)

// reconcilePage is how many records one search_read asks for, and
// reconcileOverlap how many of the previous page each next page reads
// again, to notice records shifting while paging by offset.
const (
	reconcilePage    = 200
	reconcileOverlap = 20
)

// DueReconciles returns the ids of the sources with Odoo credentials whose
// reconciliation is due: never run since the watermark was set, or whose
// last run started an interval ago.
func (s *Service) DueReconciles(ctx context.Context) ([]string, error) {
	srcs, err := s.d.Store.CredentialedSources(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []string
	for _, o := range srcs {
		if s.reconcileDue(o, now) {
			out = append(out, o.SourceID)
		}
		if o.Watermark != nil && s.d.Odoo.Lag != nil {
			s.reportLag(ctx, o, now)
		}
	}
	return out, nil
}

// reconcileDue reports whether source o should be reconciled at now.
func (s *Service) reconcileDue(o domain.OdooSettings, now time.Time) bool {
	if o.Connection == nil {
		return false
	}
	if o.LastReconcileAt == nil {
		return true
	}
	interval := o.ReconcileInterval
	if interval <= 0 {
		interval = s.d.Odoo.ReconcileInterval
	}
	return now.Sub(*o.LastReconcileAt) >= interval
}

// reportLag publishes how far a source's watermark is behind.
func (s *Service) reportLag(ctx context.Context, o domain.OdooSettings, now time.Time) {
	src, err := s.d.Store.Source(ctx, o.SourceID)
	if err != nil {
		return
	}
	s.d.Odoo.Lag(src.Name, max(0, now.Sub(*o.Watermark)).Seconds())
}

// ReconcileResult is what one run did.
type ReconcileResult struct {
	Scanned, Emitted int64
	Watermark        time.Time
}

// ReconcileSource runs one reconciliation of a source if it is still due:
// it asks Odoo for the records of every mapped model written after the
// watermark (write_date > watermark, not by hookgate's own user, ordered by
// write_date and id, paged), maps each through the source's rules and
// emits the changes that never arrived as webhooks. Events get the same
// idempotency key a webhook of the same change gets, so the two dedupe. The
// caller holds the source's lock (one run per source at a time).
func (s *Service) ReconcileSource(ctx context.Context, sourceID string) (ReconcileResult, error) {
	o, err := s.d.Store.SourceOdoo(ctx, sourceID)
	if err != nil {
		return ReconcileResult{}, err
	}
	start := s.now()
	if !s.reconcileDue(o, start) {
		return ReconcileResult{}, nil
	}
	src, err := s.d.Store.Source(ctx, sourceID)
	if err != nil {
		return ReconcileResult{}, err
	}
	since := start
	switch {
	case o.Watermark != nil:
		since = *o.Watermark
	case o.CredentialsSavedAt != nil:
		since = *o.CredentialsSavedAt
	}
	r := reconciler{s: s, src: src, o: o, since: since}
	res, runErr := r.run(ctx)
	// The run is stamped with its start, so runs begin an interval apart
	// however long each takes.
	run := store.ReconcileRun{At: start, Scanned: res.Scanned, Emitted: res.Emitted, Since: since}
	if runErr != nil {
		run.Err = runErr.Error()
		if len(run.Err) > 1000 {
			run.Err = run.Err[:1000]
		}
		if r.progress.After(since) {
			run.Watermark = &r.progress
		}
	} else {
		w := laterOf(since, start.Add(-ReconcileSafety))
		run.Watermark = &w
	}
	if run.Watermark != nil {
		res.Watermark = *run.Watermark
	} else {
		res.Watermark = since
	}
	if err := s.d.Store.RecordReconcile(context.WithoutCancel(ctx), sourceID, run); err != nil {
		return res, err
	}
	if s.d.Odoo.Lag != nil {
		s.d.Odoo.Lag(src.Name, max(0, s.now().Sub(res.Watermark)).Seconds())
	}
	if runErr != nil {
		return res, fmt.Errorf("service: reconcile %s: %w", sourceID, runErr)
	}
	if res.Emitted > 0 {
		s.d.Log.InfoContext(ctx, "odoo reconciliation emitted missing events", "source", src.Name,
			"emitted", res.Emitted, "scanned", res.Scanned, "took", s.now().Sub(start).Round(time.Millisecond))
	}
	return res, nil
}

// reconciler is one run over one source.
type reconciler struct {
	s     *Service
	src   domain.Source
	o     domain.OdooSettings
	c     *odooClient
	uid   int64
	since time.Time
	// progress: every change written before it has been handled (for a
	// watermark that survives a run that failed half-way).
	progress time.Time
	res      ReconcileResult
}

func (r *reconciler) run(ctx context.Context) (ReconcileResult, error) {
	c, err := r.s.odooClientFor(r.o)
	if err != nil {
		return r.res, err
	}
	r.c = c
	r.uid = r.o.UID
	if r.uid == 0 {
		if r.uid, err = c.client.Authenticate(ctx); err != nil {
			return r.res, err
		}
		if err := r.s.d.Store.SetOdooUID(ctx, r.src.ID, r.uid); err != nil {
			return r.res, err
		}
		r.s.forgetSourceCache(r.src.ID)
	}
	rules := r.o.EffectiveRules()
	var models []string
	seen := map[string]bool{}
	for _, rule := range rules {
		if !seen[rule.Model] {
			seen[rule.Model] = true
			models = append(models, rule.Model)
		}
	}
	progress := time.Time{}
	for _, model := range models {
		p, err := r.model(ctx, model, rules)
		if err != nil {
			return r.res, err
		}
		if progress.IsZero() || p.Before(progress) {
			progress = p
		}
	}
	r.progress = progress
	return r.res, nil
}

// model reconciles one model and returns how far it got.
func (r *reconciler) model(ctx context.Context, model string, rules []odoo.Rule) (time.Time, error) {
	fields, err := r.c.fieldsOf(ctx, model)
	if err != nil {
		return time.Time{}, err
	}
	if _, ok := fields["write_date"]; !ok {
		return time.Time{}, fmt.Errorf("model %s has no write_date", model)
	}
	read, keep := reconcileFields(model, rules, fields)
	domainExpr := []any{[]any{"write_date", ">", odoo.FormatTime(r.since)}}
	if r.uid > 0 {
		domainExpr = append(domainExpr, []any{"write_uid", "!=", r.uid})
	}
	tracksState := false
	for _, rule := range rules {
		if rule.Model == model && rule.Trigger() != odoo.TriggerWrite {
			tracksState = true
		}
	}
	seen := map[int64]bool{}
	next, restarts := 0, 0
	progress := r.since
	for {
		offset := max(0, next-reconcileOverlap)
		recs, err := r.c.client.SearchRead(ctx, model, domainExpr, read, "write_date, id", reconcilePage, offset)
		if err != nil {
			return progress, err
		}
		if offset > 0 && len(recs) > 0 {
			if id, _ := recordID(recs[0]); !seen[id] && restarts < 3 {
				// Records moved by more than the overlap while paging:
				// read again from the start (emitted ones dedupe).
				restarts++
				next = 0
				continue
			}
		}
		var fresh []map[string]any
		for _, rec := range recs {
			id, ok := recordID(rec)
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			fresh = append(fresh, rec)
		}
		last, err := r.page(ctx, model, rules, fields, keep, fresh, tracksState)
		if err != nil {
			return progress, err
		}
		if last.After(progress) {
			// Everything written before the last second of the page is in.
			progress = laterOf(progress, last.Add(-time.Second))
		}
		next = offset + len(recs)
		if len(recs) < reconcilePage {
			return progress, nil
		}
	}
}

// page handles one page of records: maps them, decides which changes are
// new and emits them. It returns the latest write_date of the page.
func (r *reconciler) page(ctx context.Context, model string, rules []odoo.Rule, fields map[string]odoo.Field,
	keep map[string]bool, recs []map[string]any, tracksState bool) (time.Time, error) {
	if len(recs) == 0 {
		return time.Time{}, nil
	}
	r.res.Scanned += int64(len(recs))
	type change struct {
		rec   map[string]any
		data  map[string]any
		id    int64
		wd    time.Time
		at    time.Time
		typ   string
		key   string
		rule  odoo.Rule
		state domain.OdooRecordState
	}
	var last time.Time
	var idList []int64
	changes := make([]change, 0, len(recs))
	for _, rec := range recs {
		id, _ := recordID(rec)
		cur := odoo.FromAPI(model, rec, fields)
		wd, ok := odoo.ParseTime(cur["write_date"])
		if !ok {
			continue
		}
		last = laterOf(last, wd)
		idList = append(idList, id)
		ch := change{rec: rec, id: id, wd: wd, state: domain.OdooRecordState{RecordID: id, WriteDate: wd}}
		rule, matched := odoo.MatchRule(rules, odoo.Record{Model: model, ID: id, Fields: cur})
		if matched {
			ch.typ, ch.rule, ch.state.EventType = rule.EventType, rule, rule.EventType
			ch.at = wd
			if rule.Trigger() == odoo.TriggerCreate {
				ct, ok := odoo.ParseTime(cur["create_date"])
				if !ok || !ct.After(r.since) {
					ch.typ = "" // created before the watermark: not news
				}
				ch.at = ct
			}
			data := make(map[string]any, len(keep))
			for k, v := range cur {
				if keep[k] {
					data[k] = v
				}
			}
			ch.data = data
			if ch.typ != "" {
				ch.key = odoo.ChangeKey(model, id, ch.at, ch.typ)
			}
		}
		changes = append(changes, ch)
	}
	var states map[int64]domain.OdooRecordState
	if tracksState {
		var err error
		if states, err = r.s.d.Store.OdooRecordStates(ctx, r.src.ID, model, idList); err != nil {
			return last, err
		}
	}
	var keys []string
	for _, ch := range changes {
		if ch.key != "" {
			keys = append(keys, ch.key)
		}
	}
	claimed, err := r.s.d.Store.ClaimedIdempotencyKeys(ctx, r.src.ID, keys, r.s.now())
	if err != nil {
		return last, err
	}
	var emit []change
	for _, ch := range changes {
		if ch.key == "" || claimed[ch.key] {
			continue
		}
		if prev, known := states[ch.id]; known && ch.rule.Trigger() != odoo.TriggerWrite {
			if prev.EventType == ch.typ {
				continue // no transition: the record was already in this state
			}
			if prev.WriteDate.After(ch.wd) {
				continue // we have seen a later state already
			}
		}
		emit = append(emit, ch)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	var emitted = make([]bool, len(emit))
	for i, ch := range emit {
		g.Go(func() error {
			dup, err := r.emit(gctx, model, ch.id, ch.typ, ch.key, ch.at, ch.data)
			emitted[i] = err == nil && !dup
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return last, err
	}
	for _, ok := range emitted {
		if ok {
			r.res.Emitted++
		}
	}
	if tracksState {
		st := make([]domain.OdooRecordState, 0, len(changes))
		for _, ch := range changes {
			st = append(st, ch.state)
		}
		if err := r.s.d.Store.SaveOdooRecordStates(ctx, r.src.ID, model, st, r.s.now()); err != nil {
			return last, err
		}
	}
	return last, nil
}

// emit accepts one reconciled change as an event. It goes through the
// enrichment task like a webhook's event (which confirms it and adds the
// expanded objects). dup reports that the change had arrived meanwhile.
func (r *reconciler) emit(ctx context.Context, model string, id int64, typ, key string, at time.Time, data map[string]any) (dup bool, err error) {
	version, known, err := r.s.typeVersion(ctx, typ)
	if err != nil {
		return false, err
	}
	if !known {
		return false, nil // a rule names a type removed from the catalogue since
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return false, err
	}
	now := r.s.now()
	ev := domain.Event{
		ID: ids.NewAt(ids.Event, now), Type: typ, SourceID: r.src.ID, SourceKind: r.src.Kind, SourceName: r.src.Name,
		Model: model, RecordID: id, OccurredAt: at.UTC(), ReceivedAt: now, IdempotencyKey: key,
	}
	res, err := r.s.accept(ctx, ev, version, raw)
	if err != nil {
		return false, err
	}
	return res.Duplicate, nil
}

// reconcileFields returns the fields to read for model and those to keep
// in events' data: the fields its catalogue examples carry (what a webhook
// of the README's automation rules sends), the rules' condition fields,
// write_date, create_date and write_uid, as far as the database has them.
func reconcileFields(model string, rules []odoo.Rule, fields map[string]odoo.Field) (read []string, keep map[string]bool) {
	keep = map[string]bool{"write_date": true}
	for _, rule := range rules {
		if rule.Model != model {
			continue
		}
		for _, c := range rule.When {
			keep[c.Field] = true
		}
		if rule.Trigger() == odoo.TriggerCreate {
			keep["create_date"] = true
		}
		if ex, ok := odoo.ExampleData(rule.EventType); ok && (odoo.ExampleModel(rule.EventType) == model ||
			model == "product.product" && rule.EventType == "product.updated") {
			for k := range ex {
				keep[k] = true
			}
		}
	}
	if len(keep) < 3 {
		keep["name"] = true
		keep["display_name"] = true
	}
	want := map[string]bool{"create_date": true, "write_uid": true}
	for k := range keep {
		want[k] = true
	}
	for k := range keep {
		if _, ok := fields[k]; !ok {
			delete(keep, k)
		}
	}
	for k := range want {
		if _, ok := fields[k]; ok {
			read = append(read, k)
		}
	}
	sort.Strings(read)
	return read, keep
}

// laterOf returns the later of two times.
func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// recordID reads a record's id.
func recordID(rec map[string]any) (int64, bool) {
	n, ok := rec["id"].(json.Number)
	if !ok {
		return 0, false
	}
	id, err := n.Int64()
	return id, err == nil
}
