// Package sdk is the Go SDK for hookgate: a client for the hookgate API and
// verification of the webhooks hookgate delivers.
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
