package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// errWriterStopped is returned to callers after Stop.
var errWriterStopped = errors.New("delivery: attempt writer stopped")

type outcomeReq struct {
	out  store.Outcome
	done chan error
}

// Writer group-commits attempt outcomes: concurrent workers hand it their
// results and wait; it writes whatever has gathered (up to MaxBatch, or
// after Window) in one transaction. Waiting keeps the guarantee that an
// attempt is in the database before its task is acknowledged.
type Writer struct {
	store    *store.Store
	log      *slog.Logger
	in       chan outcomeReq
	window   time.Duration
	maxBatch int
	stopped  chan struct{}
}

// NewWriter returns a writer; Run must be started.
func NewWriter(st *store.Store, log *slog.Logger) *Writer {
	return &Writer{
		store: st, log: log, in: make(chan outcomeReq, 4096),
		window: 2 * time.Millisecond, maxBatch: 500, stopped: make(chan struct{}),
	}
}

// Record hands an outcome to the writer and waits until it is committed.
func (w *Writer) Record(ctx context.Context, o store.Outcome) error {
	req := outcomeReq{out: o, done: make(chan error, 1)}
	select {
	case w.in <- req:
	case <-w.stopped:
		return errWriterStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run commits batches from `parallel` loops until ctx ends, then flushes
// what is queued. Two loops let one batch commit while the next gathers.
func (w *Writer) Run(ctx context.Context, parallel int) {
	defer close(w.stopped)
	var wg sync.WaitGroup
	for range max(parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx)
		}()
	}
	wg.Wait()
}

func (w *Writer) loop(ctx context.Context) {
	batch := make([]outcomeReq, 0, w.maxBatch)
	for {
		var first outcomeReq
		select {
		case first = <-w.in:
		case <-ctx.Done():
			// Drain what workers already handed over.
			for {
				select {
				case r := <-w.in:
					batch = append(batch, r)
				default:
					w.flush(batch)
					return
				}
			}
		}
		batch = append(batch[:0], first)
		timer := time.NewTimer(w.window)
	gather:
		for len(batch) < w.maxBatch {
			select {
			case r := <-w.in:
				batch = append(batch, r)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		w.flush(batch)
		batch = batch[:0]
	}
}

func (w *Writer) flush(batch []outcomeReq) {
	if len(batch) == 0 {
		return
	}
	outs := make([]store.Outcome, len(batch))
	for i, r := range batch {
		outs[i] = r.out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := w.store.RecordOutcomes(ctx, outs)
	cancel()
	if err != nil {
		w.log.Error("attempt log write failed; tasks will be retried", "count", len(batch), "error", err)
	}
	for _, r := range batch {
		r.done <- err
	}
}
