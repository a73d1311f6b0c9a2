package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/odoo"
)

// Reasons an Odoo event is dropped before fan-out (events.dropped_reason,
// and the reason label of hookgate_events_ignored_total).
const (
	// DropRolledBack: the change the webhook reported was never committed
	// (Odoo 17/18 send inside the transaction).
	DropRolledBack = "rolled_back"
	// DropStateChanged: the record no longer meets the rule that mapped
	// the event (it moved on before hookgate could confirm it).
	DropStateChanged = "state_changed"
	// DropOwnWrite: the change was written by hookgate's own Odoo user.
	DropOwnWrite = "own_write"
)

// EnrichEvent confirms one stored Odoo event against Odoo's API and
// expands its data (delivery.EventEnricher): it re-reads the record, drops
// the event when the change was rolled back or the record no longer meets
// the rule that mapped it, and otherwise adds the customer, currency,
// lines, carrier… to the webhook's fields and rewrites the payload. A
// change not yet committed answers *domain.WaitError until the confirm
// window has passed. On the final try an Odoo failure gives up enriching:
// the event is fanned out as the webhook sent it.
func (s *Service) EnrichEvent(ctx context.Context, id string, final bool) (domain.Event, bool, error) {
	state, err := s.d.Store.OdooEventState(ctx, id)
	if err != nil {
		return domain.Event{}, false, err
	}
	if state.FannedOut {
		return domain.Event{}, false, nil
	}
	ev, err := s.d.Store.Event(ctx, id)
	if err != nil {
		return domain.Event{}, false, err
	}
	if ev.Enriched {
		return ev, true, nil
	}
	env, err := ingest.DecodeEnvelope(ev.Payload)
	if err != nil {
		return s.giveUpEnrich(ctx, ev, err)
	}
	o, err := s.d.Store.SourceOdoo(ctx, ev.SourceID)
	if err != nil {
		return domain.Event{}, false, err
	}
	if o.Connection == nil {
		// Credentials removed meanwhile: nothing to confirm against.
		return s.giveUpEnrich(ctx, ev, nil)
	}
	var data map[string]any
	dec := json.NewDecoder(bytes.NewReader(env.Data))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil || data == nil {
		return s.giveUpEnrich(ctx, ev, fmt.Errorf("event data is not an object: %v", err))
	}
	out, err := s.confirm(ctx, o, ev, data)
	if err != nil {
		if final {
			return s.giveUpEnrich(ctx, ev, err)
		}
		return domain.Event{}, false, err
	}
	switch {
	case out.wait:
		if time.Since(ev.ReceivedAt) < s.d.Odoo.ConfirmWindow {
			return domain.Event{}, false, &domain.WaitError{Delay: waitDelay(ev.ReceivedAt), Reason: "the Odoo change is not committed yet"}
		}
		out.drop = DropRolledBack
		fallthrough
	case out.drop != "":
		if err := s.d.Store.DropEvent(ctx, ev.ID, out.drop); err != nil {
			return domain.Event{}, false, err
		}
		if s.d.Counters != nil {
			s.d.Counters.Ignored(env.Source.Name, out.drop)
		}
		s.d.Log.InfoContext(ctx, "odoo event dropped", "event_id", ev.ID, "type", ev.Type, "model", ev.Model,
			"record_id", ev.RecordID, "reason", out.drop)
		return domain.Event{}, false, nil
	}
	for k, v := range out.expanded {
		if _, taken := data[k]; !taken {
			data[k] = v
		}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return s.giveUpEnrich(ctx, ev, err)
	}
	payload, err := ingest.ReplaceData(ev.Payload, raw)
	if err != nil {
		return s.giveUpEnrich(ctx, ev, err)
	}
	if err := s.d.Store.MarkEventEnriched(ctx, ev.ID, payload, s.now()); err != nil {
		return domain.Event{}, false, err
	}
	if err := s.d.Store.SaveOdooRecordStates(ctx, ev.SourceID, ev.Model, []domain.OdooRecordState{
		{RecordID: ev.RecordID, EventType: ev.Type, WriteDate: out.writeDate},
	}, s.now()); err != nil {
		s.d.Log.WarnContext(ctx, "odoo record state not saved", "event_id", ev.ID, "error", err)
	}
	ev.Payload, ev.Enriched = payload, true
	return ev, true, nil
}

// waitDelay spaces the re-reads of an uncommitted change: quick at first,
// then every few seconds.
func waitDelay(received time.Time) time.Duration {
	age := time.Since(received)
	switch {
	case age < 2*time.Second:
		return 250 * time.Millisecond
	case age < 10*time.Second:
		return time.Second
	}
	return 3 * time.Second
}

// giveUpEnrich marks ev enriched with its payload unchanged and lets it
// be fanned out: better the webhook's data than no event.
func (s *Service) giveUpEnrich(ctx context.Context, ev domain.Event, cause error) (domain.Event, bool, error) {
	if cause != nil {
		s.d.Log.WarnContext(ctx, "odoo enrichment given up; the event goes out as the webhook sent it",
			"event_id", ev.ID, "type", ev.Type, "error", cause)
	}
	if err := s.d.Store.MarkEventEnriched(ctx, ev.ID, nil, s.now()); err != nil {
		return domain.Event{}, false, err
	}
	ev.Enriched = true
	return ev, true, nil
}

// confirmation is what re-reading a record showed.
type confirmation struct {
	wait      bool   // the change is not committed (yet)
	drop      string // a reason to drop the event
	expanded  map[string]any
	writeDate time.Time
}

// confirm re-reads the record of ev and checks it against the rule that
// mapped it; data is the event's normalised data.
func (s *Service) confirm(ctx context.Context, o domain.OdooSettings, ev domain.Event, data map[string]any) (confirmation, error) {
	c, err := s.odooClientFor(o)
	if err != nil {
		return confirmation{}, err
	}
	fields, err := c.fieldsOf(ctx, ev.Model)
	if err != nil {
		return confirmation{}, err
	}
	rules := o.EffectiveRules()
	var mapping []odoo.Rule // the rules that give this event's type
	for _, r := range rules {
		if r.Model == ev.Model && r.EventType == ev.Type {
			mapping = append(mapping, r)
		}
	}
	want := map[string]bool{"write_date": true, "write_uid": true}
	for k := range data {
		want[k] = true
	}
	for _, r := range mapping {
		for _, cond := range r.When {
			want[cond.Field] = true
		}
	}
	for _, f := range odoo.ExpandFields(ev.Model) {
		want[f] = true
	}
	read := make([]string, 0, len(want))
	for f := range want {
		if _, ok := fields[f]; ok {
			read = append(read, f)
		}
	}
	sort.Strings(read)
	recs, err := c.client.Read(ctx, ev.Model, []int64{ev.RecordID}, read)
	if err != nil {
		return confirmation{}, err
	}
	if len(recs) == 0 {
		return confirmation{wait: true}, nil // created in a transaction not committed (yet)
	}
	cur := odoo.FromAPI(ev.Model, recs[0], fields)
	curWD, _ := odoo.ParseTime(cur["write_date"])
	hookWD, hasWD := odoo.ParseTime(data["write_date"])
	if hasWD && curWD.Before(hookWD.Truncate(time.Second)) {
		return confirmation{wait: true}, nil
	}
	sameWrite := hasWD && curWD.Equal(hookWD.Truncate(time.Second))
	if uid, ok := webhookID(cur["write_uid"]); ok && o.UID > 0 && uid == o.UID && sameWrite {
		return confirmation{drop: DropOwnWrite}, nil
	}
	if len(mapping) > 0 {
		holds := false
		for _, r := range mapping {
			if r.Holds(cur) {
				holds = true
				break
			}
		}
		if !holds {
			if sameWrite || !hasWD {
				// The write the webhook reported is there but not its
				// state (another transaction in the same second), or the
				// body has no write_date to tell: the reported change may
				// still commit. Give it its window.
				return confirmation{wait: true}, nil
			}
			return confirmation{drop: DropStateChanged}, nil
		}
	}
	expanded, err := odoo.Expand(ctx, c.client, ev.Model, recs[0])
	if err != nil {
		var oe *odoo.Error
		if errors.As(err, &oe) && !errors.Is(err, odoo.ErrAccessDenied) {
			// A field or model this database lacks (another version, a
			// module not installed): deliver what could be confirmed.
			s.d.Log.WarnContext(ctx, "odoo expansion incomplete", "event_id", ev.ID, "error", err)
			expanded = nil
		} else {
			return confirmation{}, err
		}
	}
	return confirmation{expanded: expanded, writeDate: curWD}, nil
}
