// Package delivery moves accepted events to partner endpoints: fan-out
// (events → deliveries), the asynq task that makes one signed HTTP attempt,
// the retry policy, per-endpoint limits, the batched attempt log, and the
// sweeper that re-enqueues whatever the database says is pending. Events an
// Enricher names (the Odoo connector) pass through the TaskEnrich task
// before fan-out. It depends
// on the store and domain packages; it must not import fiber or the server.
//
// Subpackages: signer (Standard Webhooks signatures) and outbound (the
// SSRF-safe HTTP client).
package delivery
