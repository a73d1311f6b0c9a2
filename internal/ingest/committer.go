package ingest

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/store"
)

// ErrStopped is returned after the committer has stopped.
var ErrStopped = errors.New("ingest: committer stopped")

type commitReq struct {
	ev   domain.Event
	done chan commitRes
}

type commitRes struct {
	res store.InsertResult
	err error
}

// Sink receives events once they are committed (the fan-out dispatcher).
type Sink interface {
	Submit(events []domain.Event)
}

// Committer group-commits events: callers of Commit wait while it gathers
// whatever arrives within Window (or MaxBatch events) and inserts them in
// one transaction. One commit per batch instead of per event is what keeps
// ingest latency flat under load.
type Committer struct {
	store    *store.Store
	sink     Sink
	log      *slog.Logger
	in       chan commitReq
	window   time.Duration
	maxBatch int
	dedup    time.Duration
	stopped  chan struct{}
}

// NewCommitter returns a committer; Run must be started.
func NewCommitter(st *store.Store, sink Sink, dedupWindow time.Duration, log *slog.Logger) *Committer {
	return &Committer{
		store: st, sink: sink, log: log, in: make(chan commitReq, 8192),
		window: time.Millisecond, maxBatch: 256, dedup: dedupWindow, stopped: make(chan struct{}),
	}
}

// Commit stores ev durably (or finds its duplicate) and returns the result.
func (c *Committer) Commit(ctx context.Context, ev domain.Event) (store.InsertResult, error) {
	req := commitReq{ev: ev, done: make(chan commitRes, 1)}
	select {
	case c.in <- req:
	case <-c.stopped:
		return store.InsertResult{}, ErrStopped
	case <-ctx.Done():
		return store.InsertResult{}, ctx.Err()
	}
	// Once handed over, the outcome is waited for: the batch is written
	// whatever happens to this request.
	r := <-req.done
	return r.res, r.err
}

// Run commits batches until ctx ends, then flushes what was handed over.
func (c *Committer) Run(ctx context.Context) {
	defer close(c.stopped)
	batch := make([]commitReq, 0, c.maxBatch)
	for {
		var first commitReq
		select {
		case first = <-c.in:
		case <-ctx.Done():
			for {
				select {
				case r := <-c.in:
					batch = append(batch, r)
				default:
					c.flush(batch)
					return
				}
			}
		}
		batch = append(batch[:0], first)
		// Gather what is already waiting, then give stragglers one window.
		deadline := time.NewTimer(c.window)
	gather:
		for len(batch) < c.maxBatch {
			select {
			case r := <-c.in:
				batch = append(batch, r)
			case <-deadline.C:
				break gather
			}
		}
		deadline.Stop()
		c.flush(batch)
		batch = batch[:0]
	}
}

func (c *Committer) flush(batch []commitReq) {
	if len(batch) == 0 {
		return
	}
	evs := make([]domain.Event, len(batch))
	for i, r := range batch {
		evs[i] = r.ev
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	res, err := c.store.InsertEvents(ctx, evs, c.dedup, time.Now())
	cancel()
	if err != nil {
		c.log.Error("event batch not stored", "count", len(batch), "error", err)
		for _, r := range batch {
			r.done <- commitRes{err: err}
		}
		return
	}
	fresh := evs[:0:0]
	for i, r := range batch {
		r.done <- commitRes{res: res[i]}
		if !res[i].Duplicate {
			fresh = append(fresh, evs[i])
		}
	}
	if len(fresh) > 0 && c.sink != nil {
		c.sink.Submit(fresh)
	}
}
