package bench

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// receiver is a local webhook receiver that records when each message id
// first arrived. delay makes it slow (the "slow partner").
type receiver struct {
	srv   *http.Server
	url   string
	delay time.Duration

	mu    sync.Mutex
	first map[pair]time.Time // first arrival of each (message, endpoint)
	ids   map[string]struct{}
	ch    chan struct{} // signalled on every arrival
}

// pair is one message at one endpoint (the endpoint is told apart by the
// URL's query string).
type pair struct{ id, query string }

func newReceiver(delay time.Duration) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{delay: delay, ch: make(chan struct{}, 1)}
	r.reset()
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	r.url = "http://" + ln.Addr().String() + "/hook"
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	_, _ = io.Copy(io.Discard, req.Body)
	id := req.Header.Get("Webhook-Id")
	if id == "" {
		id = req.Header.Get("X-Bench-Id")
	}
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	k := pair{id, req.URL.RawQuery}
	r.mu.Lock()
	if _, ok := r.first[k]; !ok {
		r.first[k] = now
	}
	r.ids[id] = struct{}{}
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

// count is the number of distinct messages received.
func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids)
}

// totalCount is the number of distinct (message, endpoint) pairs received.
func (r *receiver) totalCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.first)
}

func (r *receiver) arrivals() map[pair]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[pair]time.Time, len(r.first))
	for k, v := range r.first {
		out[k] = v
	}
	return out
}

func (r *receiver) reset() {
	r.mu.Lock()
	r.first = make(map[pair]time.Time)
	r.ids = make(map[string]struct{})
	r.mu.Unlock()
}

// waitFor blocks until n distinct messages arrived or the deadline passes.
func (r *receiver) waitFor(n int, deadline time.Time) bool {
	return r.wait(r.count, n, deadline)
}

// waitForTotal blocks until n (message, endpoint) pairs arrived.
func (r *receiver) waitForTotal(n int, deadline time.Time) bool {
	return r.wait(r.totalCount, n, deadline)
}

func (r *receiver) wait(count func() int, n int, deadline time.Time) bool {
	for count() < n {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-r.ch:
		case <-time.After(10 * time.Millisecond):
		}
	}
	return true
}

func (r *receiver) close() { _ = r.srv.Close() }
