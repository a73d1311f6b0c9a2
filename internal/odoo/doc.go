// Package odoo understands the bodies that Odoo 17, 18 and 19 POST from a
// "Send Webhook Notification" server action, and maps them to hookgate's
// canonical event types.
//
// It does three things, all pure and free of I/O:
//
//   - ParseWebhook checks one request body and returns a Record whose Fields
//     are normalised (naive UTC datetimes become RFC 3339, Odoo's "empty"
//     false becomes null except on boolean fields, numbers stay exact
//     json.Number values).
//   - Match runs an ordered list of Rules (DefaultRules is the table from
//     ODOO.md) against a Record and names the event type.
//   - ExampleData and ExampleModel give realistic normalised payloads for
//     every catalogue event type, built from the fixtures in examples/.
//
// ParseWebhook sits on the ingest hot path: it uses no regular expressions
// and decodes each body once. It does not limit the body size; the HTTP
// layer must do that before calling it.
//
// This package is a leaf: it imports only the standard library and must not
// import any other hookgate package, a database driver, a queue or an HTTP
// framework.
package odoo
