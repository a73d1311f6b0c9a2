package domain

import (
	"time"

	"github.com/hookgate/hookgate/internal/odoo"
)

// OdooSettings are a source's Odoo connector settings and reconciliation
// progress.
type OdooSettings struct {
	SourceID string
	// Connection is how to call the source's Odoo API (API key included);
	// nil when no credentials are saved: no enrichment, no reconciliation.
	Connection *odoo.Connection
	// Rules are the source's mapping rules; nil means odoo.DefaultRules().
	Rules []odoo.Rule
	// UID is hookgate's own Odoo user, learnt from the API (0 until known):
	// its writes are ignored (loop prevention).
	UID int64
	// CredentialsSavedAt is when the current credentials were saved.
	CredentialsSavedAt *time.Time
	// ReconcileInterval overrides the global interval (0: the default).
	ReconcileInterval time.Duration
	// Watermark: changes written at or before it are reconciled.
	Watermark *time.Time
	// LastReconcileAt is when the last reconciliation run started, and
	// LastReconcileOKAt when the last successful one did.
	LastReconcileAt   *time.Time
	LastReconcileOKAt *time.Time
	// LastReconcileError is the last run's failure ("" after a success).
	LastReconcileError string
	// LastScanned and LastEmitted count the records read and the events
	// emitted by the last run; ReconciledTotal counts every event
	// reconciliation emitted.
	LastScanned, LastEmitted, ReconciledTotal int64
}

// EffectiveRules returns the source's rules, or the defaults when none are set.
func (o OdooSettings) EffectiveRules() []odoo.Rule {
	if o.Rules != nil {
		return o.Rules
	}
	return odoo.DefaultRules()
}

// OdooRecordState is the last mapped state seen for one Odoo record.
type OdooRecordState struct {
	RecordID int64
	// EventType is the type the record mapped to ("" when none).
	EventType string
	// WriteDate is the record's write_date then.
	WriteDate time.Time
}

// UpstreamError reports that a system hookgate called for the caller (a
// source's Odoo server) failed or answered something unusable. The HTTP
// layer answers 502.
type UpstreamError struct {
	// Service names the system, e.g. "odoo".
	Service string
	// Reason explains the failure to an admin.
	Reason string
}

// Error implements error.
func (e *UpstreamError) Error() string { return e.Service + ": " + e.Reason }

// WaitError asks a background job to run again after Delay without counting
// a failure: what it waits for (an Odoo transaction's commit) has not
// happened yet.
type WaitError struct {
	Delay  time.Duration
	Reason string
}

// Error implements error.
func (e *WaitError) Error() string { return e.Reason + "; again in " + e.Delay.String() }
