package domain

import (
	"net/http"
	"net/url"
	"strings"
)

// Redacted replaces a secret value in the delivery log.
const Redacted = "[redacted]"

// sensitiveWords mark header names that usually carry credentials.
var sensitiveWords = []string{"auth", "token", "secret", "key", "password", "passwd", "cookie", "session", "credential", "signature", "jwt", "csrf"}

// SensitiveHeader reports whether a header's value must not be shown in the
// delivery log: credentials and cookies. The Standard Webhooks headers
// (webhook-id, webhook-timestamp, webhook-signature) are not secrets: the
// signature proves the body and is shown.
func SensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	if strings.HasPrefix(n, "webhook-") {
		return false
	}
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// RedactHeaders returns a copy of the headers of a request as sent in
// which every custom endpoint header (custom: the endpoint's configured
// headers, which may carry the partner's own credentials) and every
// credential-like header has its value replaced by Redacted.
func RedactHeaders(h map[string]string, custom map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	mine := make(map[string]bool, len(custom))
	for k := range custom {
		mine[http.CanonicalHeaderKey(k)] = true
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if mine[http.CanonicalHeaderKey(k)] || SensitiveHeader(k) {
			v = Redacted
		}
		out[k] = v
	}
	return out
}

// RedactURL hides the password of a URL's user information
// (https://user:pass@host → https://user:[redacted]@host).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); !has {
		return raw
	}
	u.User = url.UserPassword(u.User.Username(), "xxxxx")
	return strings.Replace(u.String(), ":xxxxx@", ":"+Redacted+"@", 1)
}
