// Package ingest accepts events durably and fast: it builds the signed
// envelope once, group-commits concurrent events into one multi-row insert,
// answers as soon as they are in the database, and hands them to fan-out.
// Envelope is the one builder of the delivered body, shared with the Odoo
// connector, which rewrites an event's data after enrichment.
// It must not import fiber, asynq or the server.
package ingest
