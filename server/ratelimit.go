package server

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ratelimit"
)

// APILimiter takes requests from buckets shared by every API process
// (internal/ratelimit on Redis).
type APILimiter interface {
	Take(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Decision, error)
}

// RateLimits configures the API rate limits of /v1: per client address
// (before authentication) and per credential (API key, session, source
// token). Admin and source credentials get PrivilegedFactor times the
// per-key limit; the bootstrap admin token is exempt. A zero Limit turns
// that limit off.
type RateLimits struct {
	Limiter          APILimiter
	PerKey           ratelimit.Limit
	PerAddress       ratelimit.Limit
	PrivilegedFactor int // default 10
}

const rateDecisionKey = "ratelimit.decision"

// bearerToken returns the request's bearer token, if any.
func bearerToken(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(h, "bearer ")
	}
	if !ok {
		return ""
	}
	return strings.TrimSpace(token)
}

// limitAddress applies the per-address limit to every /v1 request, before
// authentication, so failed attempts count too.
func (s *Server) limitAddress(c *fiber.Ctx) error {
	rl := s.d.RateLimits
	if rl.Limiter == nil || rl.PerAddress.IsZero() {
		return c.Next()
	}
	if tok := bearerToken(c); tok != "" && s.svc.IsBootstrapAdmin(tok) {
		return c.Next()
	}
	d, err := rl.Limiter.Take(c.UserContext(), "addr:"+c.IP(), rl.PerAddress)
	if err != nil {
		s.limiterDown(c.UserContext(), err)
		return c.Next()
	}
	s.setRateHeaders(c, d)
	if !d.Allowed {
		return &domain.RateLimitError{RetryAfter: d.RetryAfter, Reason: "too many requests from your address (" +
			perSecond(rl.PerAddress) + "); slow down and retry after the Retry-After delay"}
	}
	return c.Next()
}

// limitCaller applies the per-credential limit after authentication.
func (s *Server) limitCaller(c *fiber.Ctx) error {
	rl := s.d.RateLimits
	if rl.Limiter == nil || rl.PerKey.IsZero() {
		return c.Next()
	}
	p := principal(c)
	var key string
	lim := rl.PerKey
	switch {
	case p.Kind == domain.PrincipalAdmin && p.KeyID == "" && p.UserID == "":
		return c.Next() // the bootstrap admin token
	case p.SessionID != "":
		key = "ses:" + p.SessionID
	case p.KeyID != "":
		key = "key:" + p.KeyID
	case p.SourceID != "":
		key = "src:" + p.SourceID
	default:
		return c.Next()
	}
	if p.Kind == domain.PrincipalAdmin || p.Kind == domain.PrincipalSource {
		f := rl.PrivilegedFactor
		if f <= 0 {
			f = 10
		}
		lim.Rate, lim.Burst = lim.Rate*f, lim.Burst*f
	}
	d, err := rl.Limiter.Take(c.UserContext(), key, lim)
	if err != nil {
		s.limiterDown(c.UserContext(), err)
		return c.Next()
	}
	s.setRateHeaders(c, d)
	if !d.Allowed {
		return &domain.RateLimitError{RetryAfter: d.RetryAfter, Reason: "too many requests with this credential (" +
			perSecond(lim) + "); slow down and retry after the Retry-After delay"}
	}
	return c.Next()
}

func perSecond(l ratelimit.Limit) string {
	per := "second"
	switch l.Period {
	case time.Minute:
		per = "minute"
	case time.Hour:
		per = "hour"
	}
	return strconv.Itoa(l.Rate) + " per " + per + ", bursts of " + strconv.Itoa(l.Burst)
}

// setRateHeaders sends the IETF RateLimit-* headers of the most
// restrictive bucket the request went through.
func (s *Server) setRateHeaders(c *fiber.Ctx, d ratelimit.Decision) {
	if prev, ok := c.Locals(rateDecisionKey).(ratelimit.Decision); ok && prev.Allowed && prev.Remaining <= d.Remaining && d.Allowed {
		return
	}
	c.Locals(rateDecisionKey, d)
	c.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	c.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	c.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.ResetAfter, 0)))
}

// ceilSeconds rounds d up to whole seconds, at least floor.
func ceilSeconds(d time.Duration, floor int) int {
	n := int((d + time.Second - 1) / time.Second)
	return max(n, floor)
}

var limiterWarned atomic.Int64

// limiterDown lets requests through when Redis cannot be asked (an API
// that stops answering because its limiter is down helps nobody), warning
// at most once a minute.
func (s *Server) limiterDown(ctx context.Context, err error) {
	now := time.Now().Unix()
	last := limiterWarned.Load()
	if now-last >= 60 && limiterWarned.CompareAndSwap(last, now) {
		s.d.Log.WarnContext(ctx, "API rate limiter unavailable; requests pass unlimited", "error", err)
	}
}

func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}
