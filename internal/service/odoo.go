package service

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/odoo"
	"github.com/hookgate/hookgate/internal/store"
)

// Defaults of the Odoo connector.
const (
	// DefaultReconcileInterval is how often a source is reconciled unless
	// configured (HOOKGATE_RECONCILE_INTERVAL, or per source).
	DefaultReconcileInterval = 5 * time.Minute
	// DefaultConfirmWindow is how long enrichment waits for the change a
	// webhook reports to be committed before it drops the event as rolled
	// back (Odoo 17 and 18 send inside the transaction).
	DefaultConfirmWindow = 30 * time.Second
	// ReconcileSafety is how far behind the start of a run the watermark
	// stays: a transaction that started (and so stamped its write_date)
	// before the run but committed after it is still read next time. It
	// also absorbs clock skew between hookgate and Odoo.
	ReconcileSafety = 2 * time.Minute
)

// OdooDeps are the Odoo connector's settings and collaborators.
type OdooDeps struct {
	// HTTP dials the sources' Odoo servers. It must not be the
	// SSRF-guarded client used for partner webhooks: Odoo is the
	// retailer's own system, usually on a private address. Default: a
	// plain client with a 30 s timeout.
	HTTP *http.Client
	// ReconcileInterval is the default interval between reconciliation
	// runs (default DefaultReconcileInterval).
	ReconcileInterval time.Duration
	// ConfirmWindow bounds the wait for a webhook's change to commit
	// (default DefaultConfirmWindow).
	ConfirmWindow time.Duration
	// Credentials, when set, is told when a source's credentials change,
	// so fan-out learns at once which events to enrich.
	Credentials *CredentialIndex
	// Lag, when set, receives each source's reconciliation lag (metrics).
	Lag func(source string, seconds float64)
}

// withDefaults fills unset fields.
func (o OdooDeps) withDefaults() OdooDeps {
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if o.ReconcileInterval <= 0 {
		o.ReconcileInterval = DefaultReconcileInterval
	}
	if o.ConfirmWindow <= 0 {
		o.ConfirmWindow = DefaultConfirmWindow
	}
	return o
}

// odooState is the connector's per-process cache: one API client per
// source (it caches the version and uid) and the fields of each model.
type odooState struct {
	mu      sync.Mutex
	clients map[string]*odooClient
}

// odooClient is a cached client with the connection it was built for.
type odooClient struct {
	conn   odoo.Connection
	client *odoo.Client
	mu     sync.Mutex
	fields map[string]fieldsEntry
}

type fieldsEntry struct {
	fields map[string]odoo.Field
	at     time.Time
}

// odooClientFor returns the cached client of a source, rebuilt when its
// connection changed.
func (s *Service) odooClientFor(o domain.OdooSettings) (*odooClient, error) {
	if o.Connection == nil {
		return nil, domain.Invalid("odoo", "the source has no Odoo API credentials; set them with PATCH /v1/admin/sources/%s", o.SourceID)
	}
	st := &s.odoo
	st.mu.Lock()
	defer st.mu.Unlock()
	if c, ok := st.clients[o.SourceID]; ok && c.conn == *o.Connection {
		return c, nil
	}
	cl, err := odoo.NewClient(*o.Connection, s.d.Odoo.HTTP)
	if err != nil {
		return nil, err
	}
	if st.clients == nil {
		st.clients = map[string]*odooClient{}
	}
	c := &odooClient{conn: *o.Connection, client: cl, fields: map[string]fieldsEntry{}}
	st.clients[o.SourceID] = c
	return c, nil
}

// fieldsOf returns model's fields (fields_get), cached for ten minutes.
func (c *odooClient) fieldsOf(ctx context.Context, model string) (map[string]odoo.Field, error) {
	c.mu.Lock()
	e, ok := c.fields[model]
	c.mu.Unlock()
	if ok && time.Since(e.at) < 10*time.Minute {
		return e.fields, nil
	}
	f, err := c.client.FieldsGet(ctx, model)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.fields[model] = fieldsEntry{fields: f, at: time.Now()}
	c.mu.Unlock()
	return f, nil
}

// CredentialIndex knows which sources have Odoo API credentials: it is
// fan-out's Enricher (delivery.Enricher), answering from memory refreshed
// every two seconds and at once after this process changes credentials.
type CredentialIndex struct {
	store *store.Store
	mu    sync.Mutex
	at    time.Time
	ids   map[string]bool
}

// NewCredentialIndex returns an index over st.
func NewCredentialIndex(st *store.Store) *CredentialIndex {
	return &CredentialIndex{store: st}
}

// NeedsEnrichment reports whether e comes from an Odoo record of a source
// with API credentials and is not enriched yet. When the database cannot
// be read it answers from what it knew.
func (x *CredentialIndex) NeedsEnrichment(ctx context.Context, e domain.Event) bool {
	if e.Enriched || e.Model == "" || e.RecordID <= 0 {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ids == nil || time.Since(x.at) > 2*time.Second {
		srcs, err := x.store.CredentialedSources(ctx)
		if err == nil || x.ids == nil {
			ids := make(map[string]bool, len(srcs))
			for _, o := range srcs {
				ids[o.SourceID] = true
			}
			x.ids, x.at = ids, time.Now()
		}
	}
	return x.ids[e.SourceID]
}

// Invalidate makes the next NeedsEnrichment re-read the database.
func (x *CredentialIndex) Invalidate() {
	x.mu.Lock()
	x.ids = nil
	x.mu.Unlock()
}
