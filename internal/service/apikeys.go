package service

import (
	"context"
	"slices"

	"github.com/hookgate/hookgate/internal/domain"
)

// keyScopesFor checks requested scopes for a new partner key issued by p
// and fills the default: a partner principal may only hand out scopes it
// holds itself, so a key can never mint a stronger key.
func keyScopesFor(p domain.Principal, requested []string) ([]string, error) {
	if requested == nil {
		out := []string{}
		for _, sc := range domain.PartnerScopes {
			if p.Has(sc) {
				out = append(out, sc)
			}
		}
		return out, nil
	}
	if len(requested) == 0 {
		return nil, domain.Invalid("scopes", "must list at least one scope (omit it for the default)")
	}
	out := make([]string, 0, len(requested))
	for _, sc := range requested {
		if !slices.Contains(domain.KeyScopes, sc) {
			return nil, domain.Invalid("scopes", "%q is not a scope this key can hold", sc)
		}
		if !p.Has(sc) {
			return nil, domain.Invalid("scopes", "%q is a scope you do not hold yourself", sc)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// keysPartner resolves whose keys p manages: an admin names the partner
// (which must exist), a partner principal needs keys:manage and manages its
// own.
func (s *Service) keysPartner(ctx context.Context, p domain.Principal, partnerID string) (string, error) {
	if p.IsAdmin() {
		if _, err := s.d.Store.Partner(ctx, partnerID); err != nil {
			return "", err
		}
		return partnerID, nil
	}
	return partnerOf(p, domain.ScopeKeysManage)
}

// ListAPIKeys lists a partner's keys, revoked ones included, newest first.
func (s *Service) ListAPIKeys(ctx context.Context, p domain.Principal, partnerID string) ([]domain.APIKey, error) {
	pid, err := s.keysPartner(ctx, p, partnerID)
	if err != nil {
		return nil, err
	}
	return s.d.Store.ListAPIKeys(ctx, pid)
}

// RevokeAPIKey revokes one of a partner's keys; it stops authenticating at
// once (keys are looked up on every request, never cached).
func (s *Service) RevokeAPIKey(ctx context.Context, p domain.Principal, partnerID, id string) error {
	pid, err := s.keysPartner(ctx, p, partnerID)
	if err != nil {
		return err
	}
	if err := s.d.Store.RevokeAPIKey(ctx, pid, id, s.now()); err != nil {
		return err
	}
	s.audit(ctx, p, "api_key.revoked", id, pid, nil)
	return nil
}
