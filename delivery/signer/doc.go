// Package signer produces Standard Webhooks signatures
// (https://www.standardwebhooks.com) for outgoing deliveries.
//
// A delivery carries three headers: webhook-id, webhook-timestamp (unix
// seconds) and webhook-signature, a space-separated list of
// "version,base64-signature" entries over the content "id.timestamp.body".
// Symmetric entries ("v1") are HMAC-SHA256 with a "whsec_" secret; asymmetric
// entries ("v1a") are ed25519 signatures with a "whsk_" secret key whose
// "whpk_" public key partners use to verify. During a key rotation a [Signer]
// holds both the new and the previous keys and emits one entry per key, so a
// receiver holding either one keeps verifying.
//
// Signing sits on the delivery hot path: [Signer.AppendSign] reuses pooled
// scratch state and appends to a caller-supplied buffer, so a symmetric
// signature costs no heap allocation.
//
// The package is standard library only. It must not import net/http, storage,
// queues or any other hookgate package: it turns keys and bytes into header
// values and nothing else.
package signer
