package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookgate/hookgate/internal/catalog"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/odoo"
)

// IngestResult is the answer to an accepted (or ignored) event.
type IngestResult struct {
	ID        string
	Type      string
	Duplicate bool
	// Ignored is set when the body maps to no event type; Reason says why.
	Ignored bool
	Reason  string
}

// envelope is the body partners receive (DESIGN §5); ingest builds it so
// that the Odoo connector can rewrite an event's data with the same code.
type envelope = ingest.Envelope

type envelopeSource = ingest.EnvelopeSource

// typeCache caches catalogue versions for a few seconds (hot path).
type typeCache struct {
	mu      sync.Mutex
	at      time.Time
	version map[string]int
	schema  map[string]json.RawMessage
	// compiled holds compiled schemas by name and version.
	compiled map[string]*jsonschema.Schema
}

func (s *Service) typeVersion(ctx context.Context, name string) (int, bool, error) {
	c := &s.types
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version == nil || time.Since(c.at) > 5*time.Second {
		all, err := s.d.Store.ListEventTypes(ctx)
		if err != nil {
			return 0, false, err
		}
		c.version = make(map[string]int, len(all))
		c.schema = make(map[string]json.RawMessage, len(all))
		for _, t := range all {
			c.version[t.Name] = t.Version
			c.schema[t.Name] = t.Schema
		}
		if c.compiled == nil {
			c.compiled = map[string]*jsonschema.Schema{}
		}
		c.at = time.Now()
	}
	v, ok := c.version[name]
	return v, ok, nil
}

// checkData validates a canonical event's data against its type's JSON
// Schema in the catalogue (types without a schema accept any object).
func (s *Service) checkData(name string, version int, data []byte) error {
	c := &s.types
	c.mu.Lock()
	raw := c.schema[name]
	key := "https://hookgate.dev/schemas/" + name + "/v" + strconv.Itoa(version)
	sch, ok := c.compiled[key]
	c.mu.Unlock()
	if len(raw) == 0 {
		return nil
	}
	if !ok {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil // an unreadable catalogue schema does not block ingest
		}
		comp := jsonschema.NewCompiler()
		if comp.AddResource(key, doc) != nil {
			return nil
		}
		if sch, err = comp.Compile(key); err != nil {
			return nil
		}
		c.mu.Lock()
		if c.compiled != nil {
			c.compiled[key] = sch
		}
		c.mu.Unlock()
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return domain.Invalid("data", "is not valid JSON")
	}
	if err := sch.Validate(v); err != nil {
		var lines []string
		for _, l := range strings.Split(err.Error(), "\n") {
			l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "- "))
			if l != "" && !strings.HasPrefix(l, "jsonschema validation failed") {
				lines = append(lines, l)
			}
		}
		msg := strings.Join(lines, "; ")
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return domain.Invalid("data", "does not match the %s schema (version %d): %s", name, version, msg)
	}
	return nil
}

// InvalidateTypes forgets cached catalogue versions.
func (s *Service) InvalidateTypes() {
	s.types.mu.Lock()
	s.types.version = nil
	s.types.compiled = nil
	s.types.mu.Unlock()
}

// sourceCache resolves ingest tokens without a database read per request;
// entries live briefly so rotation and revocation take effect quickly.
type sourceEntry struct {
	src domain.Source
	// rules and uid are the source's Odoo mapping rules (the defaults when
	// none are set) and hookgate's own Odoo user (0: unknown).
	rules []odoo.Rule
	uid   int64
	at    time.Time
}

func (s *Service) sourceByToken(ctx context.Context, token string) (sourceEntry, error) {
	if v, ok := s.sources.Load(token); ok {
		e := v.(sourceEntry)
		if time.Since(e.at) < 2*time.Second {
			return e, nil
		}
	}
	p, err := s.Authenticate(ctx, token)
	if err != nil {
		return sourceEntry{}, err
	}
	if p.Kind != domain.PrincipalSource {
		return sourceEntry{}, domain.ErrUnauthorized
	}
	src, err := s.d.Store.Source(ctx, p.SourceID)
	if err != nil {
		return sourceEntry{}, err
	}
	e := sourceEntry{src: src, at: time.Now()}
	if src.Kind == domain.SourceOdoo {
		o, err := s.d.Store.SourceOdoo(ctx, src.ID)
		if err != nil {
			return sourceEntry{}, err
		}
		e.rules, e.uid = o.EffectiveRules(), o.UID
	}
	s.sources.Store(token, e)
	return e, nil
}

// IngestOdoo accepts one body exactly as Odoo's "Send Webhook Notification"
// action posts it. token is the secret in the ingest URL; typeOverride is
// the optional ?type= parameter.
func (s *Service) IngestOdoo(ctx context.Context, token string, body []byte, typeOverride string) (IngestResult, error) {
	entry, err := s.sourceByToken(ctx, token)
	if err != nil {
		if errors.Is(err, domain.ErrUnauthorized) {
			return IngestResult{}, domain.ErrNotFound // an unknown token is an unknown URL
		}
		return IngestResult{}, err
	}
	src := entry.src
	if src.Kind != domain.SourceOdoo {
		return IngestResult{}, domain.ErrNotFound
	}
	rec, err := odoo.ParseWebhook(body)
	if err != nil {
		return IngestResult{}, domain.Invalid("body", "%s", strings.TrimPrefix(err.Error(), odoo.ErrMalformed.Error()+": "))
	}
	// Loop prevention: a change hookgate's own Odoo user wrote is not news.
	if uid, ok := webhookID(rec.Fields["write_uid"]); ok && entry.uid > 0 && uid == entry.uid {
		if s.d.Counters != nil {
			s.d.Counters.Ignored(src.Name, "own_write")
		}
		return IngestResult{Ignored: true, Reason: "the change was written by hookgate's own Odoo user; nothing will be delivered"}, nil
	}
	eventType := typeOverride
	rule, matched := odoo.Rule{}, false
	if eventType == "" {
		rule, matched = odoo.MatchRule(entry.rules, rec)
		if !matched {
			if s.d.Counters != nil {
				s.d.Counters.Ignored(src.Name, "unmapped")
			}
			return IngestResult{Ignored: true, Reason: "no mapping rule matches model " + rec.Model + " with these field values; nothing will be delivered"}, nil
		}
		eventType = rule.EventType
	}
	version, known, err := s.typeVersion(ctx, eventType)
	if err != nil {
		return IngestResult{}, err
	}
	if !known {
		return IngestResult{}, domain.InvalidParam("type", "%q is not in the event catalogue", eventType)
	}
	data, err := json.Marshal(rec.Fields)
	if err != nil {
		return IngestResult{}, domain.Invalid("body", "cannot re-encode the record: %v", err)
	}
	now := s.now()
	occurred, ok := odoo.OccurredAt(rec)
	if !ok {
		occurred = now
	}
	// The key names the change (record, write_date to the second, type), so
	// a duplicate send and a reconciled read of the same change are one
	// event. A body without write_date falls back to its hash.
	changed, ok := odoo.ChangeTime(rule, rec)
	if !ok && matched && rule.Trigger() == odoo.TriggerCreate {
		changed, ok = odoo.ParseTime(rec.Fields["write_date"])
	}
	var key string
	if ok {
		key = odoo.ChangeKey(rec.Model, rec.ID, changed, eventType)
	} else {
		sum := sha256.Sum256(body)
		key = "odoo:" + hex.EncodeToString(sum[:])
		if typeOverride != "" {
			key += ":" + typeOverride
		}
	}
	ev := domain.Event{
		ID: ids.NewAt(ids.Event, now), Type: eventType, SourceID: src.ID, SourceKind: src.Kind, SourceName: src.Name,
		Model: rec.Model, RecordID: rec.ID, OccurredAt: occurred.UTC(), ReceivedAt: now, IdempotencyKey: key,
	}
	return s.accept(ctx, ev, version, data)
}

// webhookID reads a many2one id from a webhook body's normalised fields.
func webhookID(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	id, err := n.Int64()
	return id, err == nil && id > 0
}

// EventInput is a canonical event posted to /v1/events.
type EventInput struct {
	Type           string
	Data           json.RawMessage
	IdempotencyKey string
	OccurredAt     *time.Time
}

// IngestEvent accepts a canonical event from a source token or an admin.
func (s *Service) IngestEvent(ctx context.Context, p domain.Principal, in EventInput) (IngestResult, error) {
	var src domain.Source
	switch p.Kind {
	case domain.PrincipalAdmin:
		src = domain.Source{ID: "admin", Name: "admin", Kind: domain.SourceAPI}
	case domain.PrincipalSource:
		var err error
		if src, err = s.d.Store.Source(ctx, p.SourceID); err != nil {
			return IngestResult{}, err
		}
	default:
		return IngestResult{}, domain.ErrForbidden
	}
	if in.Type == "" {
		return IngestResult{}, domain.Invalid("type", "is required")
	}
	if catalog.Operational(in.Type) {
		return IngestResult{}, domain.Invalid("type", "%q is an operational event type that only hookgate emits", in.Type)
	}
	version, known, err := s.typeVersion(ctx, in.Type)
	if err != nil {
		return IngestResult{}, err
	}
	if !known {
		return IngestResult{}, domain.Invalid("type", "%q is not in the event catalogue", in.Type)
	}
	d := bytes.TrimSpace(in.Data)
	if len(d) == 0 || d[0] != '{' {
		return IngestResult{}, domain.Invalid("data", "is required and must be a JSON object")
	}
	if len(in.IdempotencyKey) > 200 {
		return IngestResult{}, domain.Invalid("idempotency_key", "must be at most 200 characters")
	}
	// Compact so the signed body is canonical whatever the client sent.
	var buf bytes.Buffer
	if err := json.Compact(&buf, d); err != nil {
		return IngestResult{}, domain.Invalid("data", "is not valid JSON")
	}
	if err := s.checkData(in.Type, version, buf.Bytes()); err != nil {
		return IngestResult{}, err
	}
	now := s.now()
	occurred := now
	if in.OccurredAt != nil {
		occurred = in.OccurredAt.UTC()
	}
	ev := domain.Event{
		ID: ids.NewAt(ids.Event, now), Type: in.Type, SourceID: src.ID, SourceKind: src.Kind, SourceName: src.Name,
		OccurredAt: occurred, ReceivedAt: now,
	}
	if in.IdempotencyKey != "" {
		ev.IdempotencyKey = "api:" + in.IdempotencyKey
		fp := sha256.Sum256(append([]byte(in.Type+"\x00"), buf.Bytes()...))
		ev.Fingerprint = hex.EncodeToString(fp[:])
	}
	return s.accept(ctx, ev, version, buf.Bytes())
}

// accept builds the envelope (the exact bytes that will be signed and
// sent) and group-commits the event.
func (s *Service) accept(ctx context.Context, ev domain.Event, version int, data []byte) (IngestResult, error) {
	payload, err := ingest.EncodeEnvelope(ev, version, data)
	if err != nil {
		return IngestResult{}, err
	}
	ev.Payload = payload
	res, err := s.d.Committer.Commit(ctx, ev)
	if err != nil {
		return IngestResult{}, errors.Join(domain.ErrUnavailable, err)
	}
	if res.Mismatch {
		return IngestResult{}, &domain.ConflictError{Reason: fmt.Sprintf("this idempotency key was already used for a different event (%s)", res.ID)}
	}
	if s.d.Counters != nil {
		if res.Duplicate {
			s.d.Counters.Duplicate(ev.SourceName)
		} else {
			s.d.Counters.Ingested(ev.SourceName, ev.Type)
		}
	}
	return IngestResult{ID: res.ID, Type: ev.Type, Duplicate: res.Duplicate}, nil
}
