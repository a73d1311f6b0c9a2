package domain_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/domain"
)

func TestRedactHeaders(t *testing.T) {
	sent := map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "hookgate/1 (+webhooks)",
		"Webhook-Id":        "msg_1",
		"Webhook-Timestamp": "1741945512",
		"Webhook-Signature": "v1,abc=",
		"Authorization":     "Bearer partner-secret",
		"X-Tenant":          "eu-1",
		"X-Api-Key":         "k",
		"Cookie":            "s=1",
	}
	for _, c := range []struct {
		name   string
		custom map[string]string
		want   map[string]string
	}{
		{"custom headers and credentials", map[string]string{"authorization": "x", "x-tenant": "y"}, map[string]string{
			"Content-Type": "application/json", "User-Agent": "hookgate/1 (+webhooks)", "Webhook-Id": "msg_1",
			"Webhook-Timestamp": "1741945512", "Webhook-Signature": "v1,abc=",
			"Authorization": domain.Redacted, "X-Tenant": domain.Redacted, "X-Api-Key": domain.Redacted, "Cookie": domain.Redacted,
		}},
		{"credentials by name only (older rows)", nil, map[string]string{
			"Content-Type": "application/json", "User-Agent": "hookgate/1 (+webhooks)", "Webhook-Id": "msg_1",
			"Webhook-Timestamp": "1741945512", "Webhook-Signature": "v1,abc=",
			"Authorization": domain.Redacted, "X-Tenant": "eu-1", "X-Api-Key": domain.Redacted, "Cookie": domain.Redacted,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, domain.RedactHeaders(sent, c.custom)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if sent["Authorization"] != "Bearer partner-secret" {
		t.Error("RedactHeaders changed its input")
	}
	if domain.RedactHeaders(nil, nil) != nil {
		t.Error("nil headers")
	}
}

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://acme.example/hooks?x=1", "https://acme.example/hooks?x=1"},
		{"https://user:pw@acme.example/hooks", "https://user:[redacted]@acme.example/hooks"},
		{"https://user@acme.example/hooks", "https://user@acme.example/hooks"},
		{"", ""},
	} {
		if got := domain.RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
