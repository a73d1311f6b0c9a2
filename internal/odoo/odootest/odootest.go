// Package odootest is a fake Odoo for tests: an HTTP server on 127.0.0.1
// that speaks JSON-RPC (/jsonrpc, Odoo 17 and 18) and JSON-2
// (/json/2/<model>/<method>, Odoo 19) over a small in-memory record set of
// the retail models, and fires "Send Webhook Notification" bodies exactly as
// Odoo serialises them (json.dumps with sort_keys, ", " and ": "
// separators, ASCII escapes). A change can be lost (committed, no webhook)
// or rolled back (webhook sent, change not committed). Only tests import it.
package odootest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a fake Odoo.
type Options struct {
	// Version is the major version, 17, 18 or 19 (default 18). 19 answers
	// GET /web/version and JSON-2; all answer JSON-RPC.
	Version  int
	Database string // default "retail"
	Login    string // default "hookgate-bot"
	APIKey   string // default "fake-api-key-0123456789"
	// UID is the API user's id (default 7).
	UID int64
	// Clock, when set, gives write_date and create_date.
	Clock func() time.Time
}

// Server is a running fake Odoo.
type Server struct {
	*httptest.Server
	o Options

	mu      sync.Mutex
	models  map[string]*table
	autos   []Automation
	calls   map[string]int
	down    int // answer the next down API calls with 502
	hookCli *http.Client
	sent    []Sent
}

// table holds one model's records. Values are kept in Go form: string or
// nil (char, text, selection, date), int64 (integer), float64 (float,
// monetary), bool, int64 id or 0 (many2one), []int64 (x2many), time.Time
// (datetime; zero is empty).
type table struct {
	name   string
	fields map[string]FieldDef
	recs   map[int64]map[string]any
	next   int64
}

// Sent is one webhook the fake fired.
type Sent struct {
	Automation string
	Model      string
	ID         int64
	Body       []byte
	Status     int // the answer's status, 0 when the request failed
	Lost       bool
	RolledBack bool
}

// Start starts a fake Odoo; it stops at the end of the test.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Version == 0 {
		o.Version = 18
	}
	if o.Database == "" {
		o.Database = "retail"
	}
	if o.Login == "" {
		o.Login = "hookgate-bot"
	}
	if o.APIKey == "" {
		o.APIKey = "fake-api-key-0123456789"
	}
	if o.UID == 0 {
		o.UID = 7
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	s := &Server{o: o, models: map[string]*table{}, calls: map[string]int{},
		hookCli: &http.Client{Timeout: time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	for name := range schemas {
		f, _ := fieldsOf(name, o.Version)
		s.models[name] = &table{name: name, fields: f, recs: map[int64]map[string]any{}, next: 1}
	}
	s.mustCreate("res.users", 1, map[string]any{"name": "OdooBot", "login": "__system__"})
	s.mustCreate("res.users", 2, map[string]any{"name": "Mitchell Admin", "login": "admin"})
	s.mustCreate("res.users", o.UID, map[string]any{"name": "Hookgate Bot", "login": o.Login})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /web/version", s.webVersion)
	mux.HandleFunc("POST /jsonrpc", s.jsonrpc)
	mux.HandleFunc("POST /json/2/{model}/{method}", s.json2)
	s.Server = httptest.NewUnstartedServer(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("odootest: %v", err)
	}
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// Options returns the fake's settings (database, login, API key, uid).
func (s *Server) Options() Options { return s.o }

// Calls returns how many API calls of method (e.g. "search_read",
// "authenticate") the fake answered.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// FailNext makes the next n API calls answer HTTP 502, as a proxy in front
// of a stopped Odoo does.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	s.down = n
	s.mu.Unlock()
}

// Sent returns every webhook fired so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// --- records ---

// Create adds a record with vals (Go values as in table) and returns its
// id; id 0 picks the next free one. It fires no automation and sets
// create_date and write_date to now.
func (s *Server) Create(model string, id int64, vals map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustCreate(model, id, vals)
}

func (s *Server) mustCreate(model string, id int64, vals map[string]any) int64 {
	t := s.models[model]
	if t == nil {
		panic("odootest: unknown model " + model)
	}
	if id == 0 {
		id = t.next
	}
	if id >= t.next {
		t.next = id + 1
	}
	now := s.o.Clock().UTC()
	rec := map[string]any{"id": id, "create_date": now, "write_date": now, "create_uid": int64(2), "write_uid": int64(2)}
	for k, v := range vals {
		f, ok := t.fields[k]
		if !ok {
			continue // a field this version does not have
		}
		rec[k] = goValue(f, v)
	}
	t.recs[id] = rec
	return id
}

// Get returns a copy of a committed record in Go form, or nil.
func (s *Server) Get(model string, id int64) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.models[model]
	if t == nil || t.recs[id] == nil {
		return nil
	}
	return cloneRec(t.recs[id])
}

// IDs returns the ids of model's committed records, ascending.
func (s *Server) IDs(model string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	for id := range s.models[model].recs {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// goValue converts a test's value to the stored Go form of f.
func goValue(f FieldDef, v any) any {
	if v == nil || v == false {
		switch f.Type {
		case "boolean":
			return false
		case "many2one":
			return int64(0)
		case "one2many", "many2many":
			return []int64{}
		case "datetime":
			return time.Time{}
		case "integer":
			return int64(0)
		case "float", "monetary":
			return float64(0)
		}
		return nil
	}
	switch f.Type {
	case "integer", "many2one":
		return toInt(v)
	case "float", "monetary":
		switch x := v.(type) {
		case float64:
			return x
		case int:
			return float64(x)
		case int64:
			return float64(x)
		case json.Number:
			n, _ := x.Float64()
			return n
		}
	case "one2many", "many2many":
		switch x := v.(type) {
		case []int64:
			return append([]int64{}, x...)
		case []any:
			out := make([]int64, len(x))
			for i, e := range x {
				out[i] = toInt(e)
			}
			return out
		case []int:
			out := make([]int64, len(x))
			for i, e := range x {
				out[i] = int64(e)
			}
			return out
		}
	case "datetime":
		switch x := v.(type) {
		case time.Time:
			return x.UTC()
		case string:
			for _, layout := range []string{"2006-01-02 15:04:05.999999", time.DateTime} {
				if t, err := time.Parse(layout, x); err == nil {
					return t.UTC()
				}
			}
		}
	case "boolean":
		b, _ := v.(bool)
		return b
	}
	if s, ok := v.(string); ok {
		return s
	}
	return v
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	}
	return 0
}

func cloneRec(r map[string]any) map[string]any {
	out := make(map[string]any, len(r))
	for k, v := range r {
		if ids, ok := v.([]int64); ok {
			v = append([]int64{}, ids...)
		}
		out[k] = v
	}
	return out
}

// displayName is Odoo's display_name of a stored record.
func (s *Server) displayName(model string, id int64) string {
	t := s.models[model]
	if t == nil || t.recs[id] == nil {
		return fmt.Sprintf("%s,%d", model, id)
	}
	r := t.recs[id]
	name, _ := r["name"].(string)
	if model == "product.product" {
		if code, ok := r["default_code"].(string); ok && code != "" {
			return "[" + code + "] " + name
		}
	}
	if name == "" {
		return fmt.Sprintf("%s,%d", model, id)
	}
	return name
}

// --- changes and webhooks ---

// Automation is an automation rule whose action is "Send Webhook
// Notification": when a write sets one of Trigger (or, with OnCreate, a
// record is created) and the record then meets Match, the fake posts the
// record's Fields to URL.
type Automation struct {
	ID       int
	Name     string
	Model    string
	OnCreate bool
	Trigger  []string
	Match    func(rec map[string]any) bool
	Fields   []string
	URL      string
}

// AddAutomation installs an automation rule.
func (s *Server) AddAutomation(a Automation) {
	s.mu.Lock()
	s.autos = append(s.autos, a)
	s.mu.Unlock()
}

// WriteOptions say how a change ends.
type WriteOptions struct {
	// Lose commits the change but the webhook never reaches hookgate (the
	// 1 s timeout, a network blip: Odoo does not retry).
	Lose bool
	// RollBack sends the webhook but never commits the change (a failed
	// transaction in 17/18).
	RollBack bool
	// UID is the writing user (default 2, the admin).
	UID int64
}

// Write changes a record as one transaction does: write_date and
// write_uid are set, matching automations fire. Odoo 17 and 18 send the
// webhook inside the transaction, before COMMIT; 19 sends after COMMIT. It
// returns the webhooks the write fired.
func (s *Server) Write(model string, id int64, vals map[string]any, o WriteOptions) []Sent {
	return s.change(model, id, vals, o, false)
}

// CreateRecord creates a record as a user does (automations with OnCreate
// fire) and returns its id.
func (s *Server) CreateRecord(model string, vals map[string]any, o WriteOptions) int64 {
	s.mu.Lock()
	t := s.models[model]
	id := t.next
	t.next++
	s.mu.Unlock()
	s.change(model, id, vals, o, true)
	return id
}

func (s *Server) change(model string, id int64, vals map[string]any, o WriteOptions, create bool) []Sent {
	if o.UID == 0 {
		o.UID = 2
	}
	s.mu.Lock()
	t := s.models[model]
	var rec map[string]any
	now := s.o.Clock().UTC()
	if create {
		rec = map[string]any{"id": id, "create_date": now, "create_uid": o.UID}
	} else {
		if t.recs[id] == nil {
			s.mu.Unlock()
			panic(fmt.Sprintf("odootest: write to missing %s %d", model, id))
		}
		rec = cloneRec(t.recs[id])
	}
	for k, v := range vals {
		if f, ok := t.fields[k]; ok {
			rec[k] = goValue(f, v)
		}
	}
	rec["write_date"], rec["write_uid"] = now, o.UID
	var fire []Automation
	for _, a := range s.autos {
		if a.Model != model {
			continue
		}
		triggered := create && a.OnCreate
		if !create && !a.OnCreate {
			for _, f := range a.Trigger {
				if _, ok := vals[f]; ok {
					triggered = true
				}
			}
		}
		if triggered && (a.Match == nil || a.Match(rec)) {
			fire = append(fire, a)
		}
	}
	bodies := make([][]byte, len(fire))
	for i, a := range fire {
		bodies[i] = s.webhookBody(model, rec, a)
	}
	commit := func() {
		if !o.RollBack {
			t.recs[id] = rec
		}
	}
	afterCommit := s.o.Version >= 19
	if afterCommit {
		commit()
	}
	s.mu.Unlock()

	out := make([]Sent, len(fire))
	for i, a := range fire {
		out[i] = Sent{Automation: a.Name, Model: model, ID: id, Body: bodies[i], Lost: o.Lose, RolledBack: o.RollBack}
		if !o.Lose {
			out[i].Status = s.post(a.URL, bodies[i])
		}
	}
	s.mu.Lock()
	if !afterCommit {
		commit()
	}
	s.sent = append(s.sent, out...)
	s.mu.Unlock()
	return out
}

// post sends one webhook as Odoo's requests.post does.
func (s *Server) post(url string, body []byte) int {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "python-requests/2.31.0")
	resp, err := s.hookCli.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// WebhookBody is the body Odoo posts for a committed record with fields
// selected, exactly as ir_actions.py serialises it.
func (s *Server) WebhookBody(model string, id int64, a Automation) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookBody(model, s.models[model].recs[id], a)
}

// webhookBody builds vals = {_model, _id, _action} + read(fields,
// load=None) and dumps it with sort_keys. Caller holds s.mu.
func (s *Server) webhookBody(model string, rec map[string]any, a Automation) []byte {
	t := s.models[model]
	id := rec["id"].(int64)
	vals := map[string]any{
		"_model": model, "_id": id, "_action": fmt.Sprintf("%s(#%d)", a.Name, a.ID), "id": id,
	}
	for _, f := range a.Fields {
		def, ok := t.fields[f]
		if !ok {
			continue
		}
		vals[f] = webhookValue(def, f, rec[f])
	}
	return PyDumps(vals)
}

// webhookValue is read(load=None) followed by json.dumps(default=str).
func webhookValue(f FieldDef, name string, v any) any {
	switch f.Type {
	case "many2one":
		if id, _ := v.(int64); id > 0 {
			return id
		}
		return false
	case "one2many", "many2many":
		ids, _ := v.([]int64)
		out := make([]any, len(ids))
		for i, x := range ids {
			out[i] = x
		}
		return out
	case "datetime":
		t, _ := v.(time.Time)
		if t.IsZero() {
			return false
		}
		// str(datetime) shows microseconds only when there are some.
		s := t.Format(time.DateTime)
		if us := t.Nanosecond() / 1000; us != 0 {
			s += fmt.Sprintf(".%06d", us)
		}
		return s
	case "boolean":
		b, _ := v.(bool)
		return b
	case "float", "monetary":
		x, _ := v.(float64)
		return pyFloat(x)
	case "integer":
		n, _ := v.(int64)
		return n
	}
	if v == nil {
		return false
	}
	return v
}

// apiValue is a value as read() with the default load returns it.
func (s *Server) apiValue(f FieldDef, v any) any {
	switch f.Type {
	case "many2one":
		if id, _ := v.(int64); id > 0 {
			return []any{id, s.displayName(f.Relation, id)}
		}
		return false
	case "one2many", "many2many":
		ids, _ := v.([]int64)
		if ids == nil {
			ids = []int64{}
		}
		return ids
	case "datetime":
		t, _ := v.(time.Time)
		if t.IsZero() {
			return false
		}
		return t.Format(time.DateTime)
	case "boolean":
		b, _ := v.(bool)
		return b
	case "float", "monetary":
		x, _ := v.(float64)
		return x
	case "integer":
		n, _ := v.(int64)
		return n
	}
	if v == nil {
		return false
	}
	return v
}

// --- serialisation exactly as Python's json.dumps(sort_keys=True) ---

// pyFloat is a float that encodes as Python's repr does.
type pyFloat float64

// PyDumps encodes v as json.dumps(v, sort_keys=True) does: keys sorted,
// ", " and ": " separators, non-ASCII escaped as \uXXXX, floats as repr.
// v may hold maps with string keys, slices, strings, bools, nil, int64,
// int, float64 and pyFloat.
func PyDumps(v any) []byte {
	var b bytes.Buffer
	pyEncode(&b, v)
	return b.Bytes()
}

func pyEncode(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(pyRepr(x))
	case pyFloat:
		b.WriteString(pyRepr(float64(x)))
	case json.Number:
		b.WriteString(string(x))
	case string:
		pyString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyEncode(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // Python sorts str by code point, as Go does by bytes for UTF-8
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(b, k)
			b.WriteString(": ")
			pyEncode(b, x[k])
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("odootest: cannot dump %T", v))
	}
}

// pyRepr formats a float as Python's repr.
func pyRepr(f float64) string {
	abs := f
	if abs < 0 {
		abs = -abs
	}
	if f != f {
		return "NaN"
	}
	if abs != 0 && (abs >= 1e16 || abs < 1e-4) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// pyString writes s with json.dumps's ensure_ascii escaping.
func pyString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}
