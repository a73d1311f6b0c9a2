// Package ingest accepts events durably and fast: it builds the signed
// envelope once, group-commits concurrent events into one multi-row insert,
// answers as soon as they are in the database, and hands them to fan-out.
// It must not import fiber, asynq or the server.
package ingest
