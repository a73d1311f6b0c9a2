package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/store"
)

// QuotaGate admits a partner's new deliveries against its monthly quota
// (calendar month, UTC). Fan-out asks it before recording deliveries and
// holds, with reason "quota", what it does not admit.
type QuotaGate interface {
	// Admit reserves up to n deliveries of partnerID in at's month
	// against limit and returns how many it reserved (0..n).
	Admit(ctx context.Context, partnerID string, limit int64, n int, at time.Time) (int, error)
	// Refund gives back n reservations that were not used (the
	// deliveries existed already, or were not recorded).
	Refund(ctx context.Context, partnerID string, n int, at time.Time) error
	// Reset forgets the month's count so the next Admit recounts from the
	// database (after an admin changes the quota).
	Reset(ctx context.Context, partnerID string, at time.Time) error
}

// RedisQuota is the QuotaGate shared by every process: one Redis counter
// per partner and month, taken with an atomic check-and-increment, and
// reconciled from the database (the system of record: store.QuotaUsage)
// when the month's counter does not exist yet — on first use each month,
// after Reset, or after Redis lost it.
//
// Why a counter and not a database count per fan-out: fan-out is the hot
// path (one statement per batch for all partners), and counting a month of
// deliveries per batch would cost a scan per quota'd partner per batch.
// The counter costs one Redis round trip per partner with a quota per
// batch, and nothing for partners without one. It errs on the safe side:
// a reservation whose deliveries are not recorded (a crash between the two)
// stays counted until the next reconciliation, so a partner may receive
// slightly fewer than its quota, never more — except if Redis loses the
// counter while reservations are in flight.
type RedisQuota struct {
	rdb   redis.UniversalClient
	store *store.Store
}

// NewRedisQuota returns the Redis-backed gate.
func NewRedisQuota(rdb redis.UniversalClient, st *store.Store) *RedisQuota {
	return &RedisQuota{rdb: rdb, store: st}
}

var _ QuotaGate = (*RedisQuota)(nil)

func quotaKey(partnerID string, at time.Time) string {
	return "hookgate:quota:" + partnerID + ":" + domain.Period(at)
}

// admitScript: -1 when the counter does not exist (reconcile first), else
// reserve min(n, limit - used) and return it.
var admitScript = redis.NewScript(`
local used = redis.call('GET', KEYS[1])
if not used then return -1 end
local free = tonumber(ARGV[2]) - tonumber(used)
local n = tonumber(ARGV[1])
if free < n then n = free end
if n <= 0 then return 0 end
redis.call('INCRBY', KEYS[1], n)
return n`)

// Admit implements QuotaGate.
func (q *RedisQuota) Admit(ctx context.Context, partnerID string, limit int64, n int, at time.Time) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	if limit <= 0 {
		return n, nil
	}
	key := quotaKey(partnerID, at)
	for range 3 {
		got, err := admitScript.Run(ctx, q.rdb, []string{key}, n, limit).Int()
		if err != nil {
			return 0, fmt.Errorf("delivery: quota of %s: %w", partnerID, err)
		}
		if got >= 0 {
			return got, nil
		}
		used, err := q.store.QuotaUsage(ctx, partnerID, at)
		if err != nil {
			return 0, err
		}
		// The counter lives a little longer than its month, so late
		// refunds find it; SETNX lets one reconciler win.
		_, end := domain.PeriodBounds(at)
		ttl := time.Until(end) + 7*24*time.Hour
		if ttl < time.Hour {
			ttl = time.Hour
		}
		if err := q.rdb.SetNX(ctx, key, used, ttl).Err(); err != nil {
			return 0, fmt.Errorf("delivery: quota of %s: %w", partnerID, err)
		}
	}
	return 0, fmt.Errorf("delivery: quota of %s: the counter keeps vanishing", partnerID)
}

// refundScript decrements an existing counter, never below zero.
var refundScript = redis.NewScript(`
local used = redis.call('GET', KEYS[1])
if not used then return 0 end
local n = tonumber(ARGV[1])
if tonumber(used) < n then n = tonumber(used) end
redis.call('DECRBY', KEYS[1], n)
return n`)

// Refund implements QuotaGate.
func (q *RedisQuota) Refund(ctx context.Context, partnerID string, n int, at time.Time) error {
	if n <= 0 {
		return nil
	}
	if err := refundScript.Run(ctx, q.rdb, []string{quotaKey(partnerID, at)}, n).Err(); err != nil {
		return fmt.Errorf("delivery: quota refund of %s: %w", partnerID, err)
	}
	return nil
}

// Reset implements QuotaGate.
func (q *RedisQuota) Reset(ctx context.Context, partnerID string, at time.Time) error {
	if err := q.rdb.Del(ctx, quotaKey(partnerID, at)).Err(); err != nil {
		return fmt.Errorf("delivery: quota reset of %s: %w", partnerID, err)
	}
	return nil
}

// quotaBatch is what one fan-out reserved, per partner, to settle once the
// deliveries are recorded.
type quotaBatch struct {
	gate     QuotaGate
	at       time.Time
	reserved map[string]int
}

// admitQuota holds, with reason "quota", the deliveries in ds (oldest
// first) that exceed their partner's monthly quota. Every delivery counts,
// also those held for another reason (a suspended partner, a paused
// endpoint): they are counted when created, and released later without
// being counted again.
func (f *Dispatcher) admitQuota(ctx context.Context, ds []domain.Delivery, at time.Time) (*quotaBatch, error) {
	b := &quotaBatch{gate: f.d.Quota, at: at}
	if f.d.Quota == nil {
		return b, nil
	}
	want := map[string]int{}
	limits := map[string]int64{}
	for _, d := range ds {
		rt, ok := f.d.Routes.Get(d.EndpointID)
		if !ok || rt.Quota.MonthlyDeliveries <= 0 {
			continue
		}
		want[d.PartnerID]++
		limits[d.PartnerID] = rt.Quota.MonthlyDeliveries
	}
	if len(want) == 0 {
		return b, nil
	}
	b.reserved = make(map[string]int, len(want))
	for pid, n := range want {
		got, err := f.d.Quota.Admit(ctx, pid, limits[pid], n, at)
		if err != nil {
			b.settle(ctx, nil, err)
			return nil, err
		}
		b.reserved[pid] = got
	}
	left := make(map[string]int, len(b.reserved))
	for pid, n := range b.reserved {
		left[pid] = n
	}
	for i := range ds {
		d := &ds[i]
		if _, counted := want[d.PartnerID]; !counted {
			continue
		}
		if left[d.PartnerID] > 0 {
			left[d.PartnerID]--
			continue
		}
		d.Status, d.HeldReason, d.NextAttemptAt = domain.DeliveryHeld, domain.HeldQuota, nil
	}
	return b, nil
}

// settle refunds the reservations of deliveries that were not created
// (they existed already, or recording failed: err).
func (b *quotaBatch) settle(ctx context.Context, created []domain.Delivery, err error) {
	if b == nil || len(b.reserved) == 0 {
		return
	}
	used := map[string]int{}
	if err == nil {
		for _, d := range created {
			if d.HeldReason != domain.HeldQuota {
				used[d.PartnerID]++
			}
		}
	}
	for pid, n := range b.reserved {
		if extra := n - used[pid]; extra > 0 {
			// A failed refund only makes the count conservative until the
			// next reconciliation.
			_ = b.gate.Refund(context.WithoutCancel(ctx), pid, extra, b.at)
		}
	}
}

// QuotaReleaser releases deliveries held for quota as the quota allows,
// oldest first: at once when an admin raises a partner's quota (Release),
// and every interval (Run), which also releases at the turn of the month.
// Only deliveries to live, active endpoints of active partners are
// released; they become pending, count against the current month and are
// enqueued.
type QuotaReleaser struct {
	Store    *store.Store
	Quota    QuotaGate
	Enqueuer interface {
		Enqueue(ctx context.Context, deliveryID string, at time.Time) error
	}
	Redis redis.UniversalClient // for the cross-process lock of Run; nil: no lock
	Log   *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

const releaseBatch = 500

func (r *QuotaReleaser) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Release releases up to maxBatches×500 of the partner's quota-held
// deliveries (maxBatches ≤ 0: all that fit) and reports how many.
func (r *QuotaReleaser) Release(ctx context.Context, partnerID string, maxBatches int) (int, error) {
	partner, err := r.Store.Partner(ctx, partnerID)
	if errors.Is(err, domain.ErrNotFound) {
		return 0, nil
	}
	if err != nil || partner.Status != domain.PartnerActive {
		return 0, err
	}
	eps, err := r.Store.ActiveEndpointIDs(ctx, partnerID)
	if err != nil || len(eps) == 0 {
		return 0, err
	}
	limit := partner.Quota.MonthlyDeliveries
	total := 0
	for batch := 0; maxBatches <= 0 || batch < maxBatches; batch++ {
		held, err := r.Store.HeldDeliveries(ctx, partnerID, []string{domain.HeldQuota}, eps, releaseBatch)
		if err != nil || len(held) == 0 {
			return total, err
		}
		at := r.now()
		n := len(held)
		if limit > 0 && r.Quota != nil {
			if n, err = r.Quota.Admit(ctx, partnerID, limit, len(held), at); err != nil || n == 0 {
				return total, err
			}
		}
		want := make([]string, n)
		for i := range n {
			want[i] = held[i].ID
		}
		released, err := r.Store.ReleaseDeliveries(ctx, want, at)
		if err != nil {
			if limit > 0 && r.Quota != nil {
				_ = r.Quota.Refund(context.WithoutCancel(ctx), partnerID, n, at)
			}
			return total, err
		}
		if extra := n - len(released); extra > 0 && limit > 0 && r.Quota != nil {
			_ = r.Quota.Refund(ctx, partnerID, extra, at) // another process released them
		}
		for _, id := range released {
			if err := r.Enqueuer.Enqueue(ctx, id, time.Time{}); err != nil {
				// Pending in the database: the sweeper enqueues it.
				r.Log.WarnContext(ctx, "enqueue of a released delivery failed", "delivery_id", id, "error", err)
				break
			}
		}
		total += len(released)
		if n < len(held) || len(held) < releaseBatch {
			break
		}
	}
	return total, nil
}

// ReleaseAll runs Release for every partner with quota-held deliveries.
func (r *QuotaReleaser) ReleaseAll(ctx context.Context) (int, error) {
	partners, err := r.Store.PartnersWithHeld(ctx, []string{domain.HeldQuota})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, pid := range partners {
		n, err := r.Release(ctx, pid, 0)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Run calls ReleaseAll every interval until ctx ends; with several worker
// processes a short Redis lock lets one of them do it per interval.
func (r *QuotaReleaser) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if r.Redis != nil {
			ok, err := r.Redis.SetNX(ctx, "hookgate:quota:release:lock", "1", every/2).Result()
			if err == nil && !ok {
				continue
			}
		}
		n, err := r.ReleaseAll(ctx)
		if err != nil && ctx.Err() == nil {
			r.Log.WarnContext(ctx, "releasing quota-held deliveries failed", "error", err)
		}
		if n > 0 {
			r.Log.InfoContext(ctx, "quota-held deliveries released", "count", n)
		}
	}
}

// ResetUsage forgets the partner's count for this month, so the next
// admission recounts from the database (after an admin changed its quota).
func (r *QuotaReleaser) ResetUsage(ctx context.Context, partnerID string) error {
	if r.Quota == nil {
		return nil
	}
	return r.Quota.Reset(ctx, partnerID, r.now())
}
