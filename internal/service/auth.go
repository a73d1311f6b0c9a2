package service

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/auth"
	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
)

// IsBootstrapAdmin reports whether token is the bootstrap admin token
// (exempt from API rate limits: operators and the benchmark use it).
func (s *Service) IsBootstrapAdmin(token string) bool {
	return s.adminHash != "" && subtle.ConstantTimeCompare([]byte(crypto.HashToken(token)), []byte(s.adminHash)) == 1
}

// Authenticate resolves a bearer token: the bootstrap admin token, an API
// key (hg_…), a user's access token (a JWT, whose session must still be
// live), or a source ingest token. Unknown, revoked and expired credentials
// are ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (domain.Principal, error) {
	if token == "" {
		return domain.Principal{}, domain.ErrUnauthorized
	}
	h := crypto.HashToken(token)
	if s.adminHash != "" && subtle.ConstantTimeCompare([]byte(h), []byte(s.adminHash)) == 1 {
		return domain.Principal{Kind: domain.PrincipalAdmin, Actor: "admin-token", Scopes: []string{domain.ScopeAdmin}}, nil
	}
	if strings.HasPrefix(token, "hg_") {
		k, err := s.d.Store.APIKeyByHash(ctx, h)
		if errors.Is(err, domain.ErrNotFound) {
			return domain.Principal{}, domain.ErrUnauthorized
		}
		if err != nil {
			return domain.Principal{}, err
		}
		now := s.now()
		if k.RevokedAt != nil || (k.ExpiresAt != nil && !k.ExpiresAt.After(now)) {
			return domain.Principal{}, domain.ErrUnauthorized
		}
		if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > time.Minute {
			// Coarse last-used tracking keeps authentication read-only
			// on the hot path.
			_ = s.d.Store.TouchAPIKey(ctx, k.ID, now)
		}
		p := domain.Principal{KeyID: k.ID, Scopes: k.Scopes, Actor: k.ID}
		if k.PartnerID == "" {
			p.Kind = domain.PrincipalAdmin
			return p, nil
		}
		partner, err := s.d.Store.Partner(ctx, k.PartnerID)
		if err != nil {
			return domain.Principal{}, err
		}
		if partner.Status == domain.PartnerPending {
			return domain.Principal{}, domain.ErrUnauthorized
		}
		p.Kind, p.PartnerID = domain.PrincipalPartner, k.PartnerID
		return p, nil
	}
	if auth.LooksLikeJWT(token) {
		return s.authenticateSession(ctx, token)
	}
	src, err := s.d.Store.SourceByTokenHash(ctx, h, s.now())
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Principal{}, domain.ErrUnauthorized
	}
	if err != nil {
		return domain.Principal{}, err
	}
	return domain.Principal{Kind: domain.PrincipalSource, SourceID: src.ID, Actor: src.ID}, nil
}
