package outbound

import (
	"context"
	"io"
	"net/http"
	"testing"
)

func benchServer(b *testing.B) string {
	ts, _ := startServerOn(b, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	return ts.URL + "/hook"
}

var benchRequest = Request{
	Headers: http.Header{
		"Content-Type":      {"application/json"},
		"Webhook-Id":        {"msg_2m9QkKqY1vZ7"},
		"Webhook-Timestamp": {"1767225600"},
		"Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
	},
	Body: []byte(`{"type":"sale.order.confirmed","data":{"id":42,"name":"S00042","amount_total":1250.0}}`),
}

// BenchmarkDo measures one delivery over a pooled keep-alive connection.
func BenchmarkDo(b *testing.B) {
	r := benchRequest
	r.URL = benchServer(b)
	c := newTestClient(b, "127.0.0.1/32")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Do(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDoParallel measures deliveries from concurrent workers sharing
// one Client.
func BenchmarkDoParallel(b *testing.B) {
	r := benchRequest
	r.URL = benchServer(b)
	c := newTestClient(b, "127.0.0.1/32")
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Do(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
