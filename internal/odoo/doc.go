// Package odoo is hookgate's Odoo connector: it understands the bodies that
// Odoo 17, 18 and 19 POST from a "Send Webhook Notification" server action,
// maps them to hookgate's canonical event types, and calls Odoo's external
// API to confirm and enrich events and to reconcile lost ones.
//
// The pure part does no I/O:
//
//   - ParseWebhook checks one request body and returns a Record whose Fields
//     are normalised (naive UTC datetimes become RFC 3339, Odoo's "empty"
//     false becomes null except on boolean fields, numbers stay exact
//     json.Number values). FromAPI gives records read through the API the
//     same shape.
//   - Match and MatchRule run an ordered list of Rules (DefaultRules is the
//     table from ODOO.md) against a Record and name the event type;
//     ChangeKey derives the idempotency key that makes a webhook and a
//     reconciled read of the same change one event.
//   - ExampleData and ExampleModel give realistic normalised payloads for
//     every catalogue event type, built from the fixtures in examples/.
//
// Client speaks JSON-RPC (/jsonrpc, Odoo 17 and 18) and JSON-2
// (/json/2/<model>/<method>, Odoo 19) through an *http.Client it is given;
// Expand uses it to add customers, currencies, lines and carriers to an
// event's data. odootest holds a fake Odoo for tests.
//
// ParseWebhook sits on the ingest hot path: it uses no regular expressions
// and decodes each body once. It does not limit the body size; the HTTP
// layer must do that before calling it.
//
// This package imports only the standard library and must not import any
// other hookgate package, a database driver, a queue or an HTTP framework.
package odoo
