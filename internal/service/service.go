// Package service is hookgate's application layer: every use case (admin
// management, partner self-service, ingest, delivery log) as a method that
// takes a context, the calling principal and plain input, authorises,
// validates and calls the store. HTTP handlers and the portal both call it;
// it must not import fiber, gorm or asynq.
package service

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hookgate/hookgate/internal/auth"
	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/store"
)

// RouteInvalidator is told when endpoints or partners change.
type RouteInvalidator interface {
	Invalidate(ctx context.Context)
}

// Enqueuer schedules delivery attempts.
type Enqueuer interface {
	Enqueue(ctx context.Context, deliveryID string, at time.Time) error
	EnqueueTriggered(ctx context.Context, deliveryID string, trigger domain.Trigger) error
}

// URLChecker validates endpoint URLs against the SSRF policy.
type URLChecker interface {
	CheckURL(raw string) error
}

// Deps are the service's collaborators.
type Deps struct {
	Store      *store.Store
	Committer  *ingest.Committer
	Routes     RouteInvalidator
	Enqueuer   Enqueuer
	URLs       URLChecker
	Log        *slog.Logger
	AdminToken string
	PublicURL  string
	// Jobs queues background jobs (recover, replay, back-fill); without it
	// those answer 503.
	Jobs JobQueue
	// Queues, when set, reports queue depths for admin stats.
	Queues QueueInspector
	// Counters, when set, is told about ingest outcomes (metrics).
	Counters IngestCounters
	Now      func() time.Time
	// Accounts (accounts.go): Hasher hashes passwords (default: argon2id
	// with auth.DefaultParams); Tokens signs access tokens (nil: logins
	// are off); Throttle limits login and signup attempts (nil: none);
	// Quota releases quota-held deliveries (nil: none); AutoApprove
	// activates self-signed-up partners at once.
	Hasher      *auth.Hasher
	Tokens      *auth.Tokens
	Throttle    Throttle
	Quota       QuotaControl
	AutoApprove bool
	// Odoo configures the Odoo connector (odoo*.go): the HTTP client for
	// Odoo's API, intervals, metrics.
	Odoo OdooDeps
}

// IngestCounters records ingest outcomes.
type IngestCounters interface {
	Ingested(source, eventType string)
	Ignored(source, reason string)
	Duplicate(source string)
}

// Service implements the use cases.
type Service struct {
	d         Deps
	adminHash string
	types     typeCache
	sources   sync.Map // ingest token → sourceEntry
	odoo      odooState
}

// New checks its dependencies.
func New(d Deps) (*Service, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("service: Store is required")
	case d.Committer == nil:
		return nil, errors.New("service: Committer is required")
	case d.Routes == nil:
		return nil, errors.New("service: Routes is required")
	case d.Enqueuer == nil:
		return nil, errors.New("service: Enqueuer is required")
	case d.URLs == nil:
		return nil, errors.New("service: URLs is required")
	case d.Log == nil:
		return nil, errors.New("service: Log is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	d.Odoo = d.Odoo.withDefaults()
	if d.Hasher == nil {
		h, err := auth.NewHasher(nil, 4)
		if err != nil {
			return nil, err
		}
		d.Hasher = h
	}
	s := &Service{d: d}
	if d.AdminToken != "" {
		s.adminHash = crypto.HashToken(d.AdminToken)
	}
	return s, nil
}

// Store exposes the store to the portal's read-only views.
func (s *Service) Store() *store.Store { return s.d.Store }

// now is the service clock at the precision the store keeps (microseconds),
// so a created or changed resource reads back exactly as it was answered.
func (s *Service) now() time.Time { return s.d.Now().UTC().Truncate(time.Microsecond) }

func requireAdmin(p domain.Principal) error {
	if !p.IsAdmin() {
		return domain.ErrForbidden
	}
	return nil
}

// partnerOf returns the partner a principal acts for, or ErrForbidden.
func partnerOf(p domain.Principal, scope string) (string, error) {
	if p.Kind != domain.PrincipalPartner || p.PartnerID == "" {
		return "", domain.ErrForbidden
	}
	if p.Pending {
		return "", domain.ErrPendingApproval
	}
	if scope != "" && !p.Has(scope) {
		return "", domain.ErrForbidden
	}
	return p.PartnerID, nil
}

func errorsJoinUnavailable(err error) error {
	return errors.Join(domain.ErrUnavailable, err)
}
