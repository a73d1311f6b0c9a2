package service

import (
	"context"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
)

// SourceInput creates a source.
type SourceInput struct {
	Name string
	Kind domain.SourceKind
}

// CreatedSource is a new source with its ingest credentials, shown once.
type CreatedSource struct {
	Source    domain.Source
	Token     string
	IngestURL string
}

// CreateSource registers a producer and mints its ingest token (admin).
func (s *Service) CreateSource(ctx context.Context, p domain.Principal, in SourceInput) (CreatedSource, error) {
	if err := requireAdmin(p); err != nil {
		return CreatedSource{}, err
	}
	name, err := validName("name", in.Name)
	if err != nil {
		return CreatedSource{}, err
	}
	kind := in.Kind
	if kind == "" {
		kind = domain.SourceOdoo
	}
	if kind != domain.SourceOdoo && kind != domain.SourceAPI {
		return CreatedSource{}, domain.Invalid("kind", "must be odoo or api")
	}
	now := s.now()
	src := domain.Source{ID: ids.New(ids.Source), Name: name, Kind: kind, CreatedAt: now, UpdatedAt: now}
	token := "hgi_" + crypto.RandomToken(32)
	if err := s.d.Store.CreateSource(ctx, src, crypto.HashToken(token)); err != nil {
		return CreatedSource{}, err
	}
	s.audit(ctx, p, "source.created", src.ID, "", map[string]any{"name": name, "kind": string(kind)})
	return CreatedSource{Source: src, Token: token, IngestURL: s.ingestURL(kind, token)}, nil
}

func (s *Service) ingestURL(kind domain.SourceKind, token string) string {
	if kind == domain.SourceOdoo {
		return s.d.PublicURL + "/ingest/odoo/" + token
	}
	return s.d.PublicURL + "/v1/events"
}

// ListSources lists sources (admin).
func (s *Service) ListSources(ctx context.Context, p domain.Principal) ([]domain.Source, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	return s.d.Store.ListSources(ctx)
}

// GetSource returns one source (admin).
func (s *Service) GetSource(ctx context.Context, p domain.Principal, id string) (domain.Source, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Source{}, err
	}
	return s.d.Store.Source(ctx, id)
}

// RotateSourceToken mints a new ingest token; the old one keeps working for
// grace (default 24 h, at most 7 days) so Odoo rules can be updated (admin).
func (s *Service) RotateSourceToken(ctx context.Context, p domain.Principal, id string, grace time.Duration) (CreatedSource, error) {
	if err := requireAdmin(p); err != nil {
		return CreatedSource{}, err
	}
	if grace < 0 || grace > 7*24*time.Hour {
		return CreatedSource{}, domain.Invalid("grace_period_seconds", "must be from 0 to 604800")
	}
	src, err := s.d.Store.Source(ctx, id)
	if err != nil {
		return CreatedSource{}, err
	}
	token := "hgi_" + crypto.RandomToken(32)
	if err := s.d.Store.RotateSourceToken(ctx, id, crypto.HashToken(token), s.now().Add(grace)); err != nil {
		return CreatedSource{}, err
	}
	s.audit(ctx, p, "source.token_rotated", id, "", map[string]any{"grace": grace.String()})
	return CreatedSource{Source: src, Token: token, IngestURL: s.ingestURL(src.Kind, token)}, nil
}

// SetPublicURL changes the base of ingest URLs (used when the listen port
// is only known after binding). Call it before serving requests.
func (s *Service) SetPublicURL(u string) { s.d.PublicURL = strings.TrimRight(u, "/") }
