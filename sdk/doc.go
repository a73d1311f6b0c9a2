// Package sdk is the Go SDK for hookgate: a client for the hookgate API and
// verification of the webhooks hookgate delivers.
//
// # Client
//
// [NewClient] returns a [Client] for every partner, admin and public
// operation of the API. Every method takes a context; error answers are
// [*APIError] values decoded from the RFC 9457 problem document, matched
// with errors.Is against [ErrNotFound], [ErrUnauthorized], [ErrForbidden],
// [ErrConflict], [ErrValidation], [ErrRateLimited] and the other sentinels.
// Idempotent calls are retried on 429, 502, 503, 504 and network errors with
// exponential backoff and jitter, honouring Retry-After; [Client.CreateEvent]
// is retried only when it carries an idempotency key. Lists come as one
// [Page] at a time (ListDeliveries, …) or as iterators over every page:
//
//	client := sdk.NewClient("https://hookgate.example.com", os.Getenv("HOOKGATE_API_KEY"))
//	for d, err := range client.Deliveries(ctx, sdk.DeliveryListParams{Status: sdk.DeliveryFailed}) {
//		if err != nil { return err }
//		if _, err := client.RetryDelivery(ctx, d.ID); err != nil { return err }
//	}
//
// # Webhooks
//
// Webhooks follow Standard Webhooks (https://www.standardwebhooks.com). A
// partner builds one [Verifier] from the endpoint's "whsec_" secrets (and/or
// "whpk_" ed25519 public keys) and either calls [Verifier.Verify] or
// [Verifier.VerifyEvent] on the raw request body, or wraps a handler with
// [Verifier.Middleware]:
//
//	v, err := sdk.NewVerifier([]string{os.Getenv("HOOKGATE_WEBHOOK_SECRET")})
//	if err != nil { ... }
//	http.Handle("/webhooks/hookgate", v.Middleware(http.HandlerFunc(
//		func(w http.ResponseWriter, r *http.Request) {
//			ev, _ := sdk.EventFromContext(r.Context())
//			// handle ev; use ev.ID as an idempotency key
//		})))
//
// During a secret rotation hookgate signs each delivery with both the new
// and the previous secret, so a Verifier holding either one keeps working;
// give NewVerifier both secrets to switch over at leisure.
//
// This package is imported by partners: it must use the standard library
// only (sdk/imports_test.go enforces this) and must not import any other
// hookgate package.
package sdk
