package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
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

// envelope is the body partners receive (DESIGN §5).
type envelope struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Version    int             `json:"version"`
	OccurredAt string          `json:"occurred_at"`
	Source     envelopeSource  `json:"source"`
	Data       json.RawMessage `json:"data"`
}

type envelopeSource struct {
	Kind     domain.SourceKind `json:"kind"`
	Name     string            `json:"name"`
	Model    string            `json:"model,omitempty"`
	RecordID int64             `json:"record_id,omitempty"`
}

// typeCache caches catalogue versions for a few seconds (hot path).
type typeCache struct {
	mu      sync.Mutex
	at      time.Time
	version map[string]int
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
		for _, t := range all {
			c.version[t.Name] = t.Version
		}
		c.at = time.Now()
	}
	v, ok := c.version[name]
	return v, ok, nil
}

// InvalidateTypes forgets cached catalogue versions.
func (s *Service) InvalidateTypes() {
	s.types.mu.Lock()
	s.types.version = nil
	s.types.mu.Unlock()
}

// sourceCache resolves ingest tokens without a database read per request;
// entries live briefly so rotation and revocation take effect quickly.
type sourceEntry struct {
	src domain.Source
	at  time.Time
}

func (s *Service) sourceByToken(ctx context.Context, token string) (domain.Source, error) {
	if v, ok := s.sources.Load(token); ok {
		e := v.(sourceEntry)
		if time.Since(e.at) < 2*time.Second {
			return e.src, nil
		}
	}
	p, err := s.Authenticate(ctx, token)
	if err != nil {
		return domain.Source{}, err
	}
	if p.Kind != domain.PrincipalSource {
		return domain.Source{}, domain.ErrUnauthorized
	}
	src, err := s.d.Store.Source(ctx, p.SourceID)
	if err != nil {
		return domain.Source{}, err
	}
	s.sources.Store(token, sourceEntry{src: src, at: time.Now()})
	return src, nil
}

// IngestOdoo accepts one body exactly as Odoo's "Send Webhook Notification"
// action posts it. token is the secret in the ingest URL; typeOverride is
// the optional ?type= parameter.
func (s *Service) IngestOdoo(ctx context.Context, token string, body []byte, typeOverride string) (IngestResult, error) {
	src, err := s.sourceByToken(ctx, token)
	if err != nil {
		if errors.Is(err, domain.ErrUnauthorized) {
			return IngestResult{}, domain.ErrNotFound // an unknown token is an unknown URL
		}
		return IngestResult{}, err
	}
	if src.Kind != domain.SourceOdoo {
		return IngestResult{}, domain.ErrNotFound
	}
	rec, err := odoo.ParseWebhook(body)
	if err != nil {
		return IngestResult{}, domain.Invalid("body", "%s", strings.TrimPrefix(err.Error(), odoo.ErrMalformed.Error()+": "))
	}
	eventType := typeOverride
	if eventType == "" {
		t, ok := odoo.Match(odoo.DefaultRules(), rec)
		if !ok {
			if s.d.Counters != nil {
				s.d.Counters.Ignored(src.Name, "unmapped")
			}
			return IngestResult{Ignored: true, Reason: "no mapping rule matches model " + rec.Model + " with these field values; nothing will be delivered"}, nil
		}
		eventType = t
	}
	version, known, err := s.typeVersion(ctx, eventType)
	if err != nil {
		return IngestResult{}, err
	}
	if !known {
		return IngestResult{}, domain.Invalid("type", "%q is not in the event catalogue", eventType)
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
	sum := sha256.Sum256(body)
	key := "odoo:" + hex.EncodeToString(sum[:])
	if typeOverride != "" {
		key += ":" + typeOverride
	}
	ev := domain.Event{
		ID: ids.NewAt(ids.Event, now), Type: eventType, SourceID: src.ID, SourceKind: src.Kind, SourceName: src.Name,
		Model: rec.Model, RecordID: rec.ID, OccurredAt: occurred.UTC(), ReceivedAt: now, IdempotencyKey: key,
	}
	return s.accept(ctx, ev, version, data)
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
	}
	return s.accept(ctx, ev, version, buf.Bytes())
}

// accept builds the envelope (the exact bytes that will be signed and
// sent) and group-commits the event.
func (s *Service) accept(ctx context.Context, ev domain.Event, version int, data []byte) (IngestResult, error) {
	payload, err := json.Marshal(envelope{
		ID: ev.ID, Type: ev.Type, Version: version, OccurredAt: ev.OccurredAt.Format(time.RFC3339Nano),
		Source: envelopeSource{Kind: ev.SourceKind, Name: ev.SourceName, Model: ev.Model, RecordID: ev.RecordID},
		Data:   data,
	})
	if err != nil {
		return IngestResult{}, err
	}
	ev.Payload = payload
	res, err := s.d.Committer.Commit(ctx, ev)
	if err != nil {
		return IngestResult{}, errors.Join(domain.ErrUnavailable, err)
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
