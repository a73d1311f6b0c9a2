package odootest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// apiError is an Odoo exception: name and message.
type apiError struct {
	status  int // JSON-2 HTTP status
	name    string
	message string
}

func (e *apiError) Error() string { return e.name + ": " + e.message }

func accessDenied() *apiError {
	return &apiError{status: 401, name: "odoo.exceptions.AccessDenied", message: "Access Denied"}
}

func valueError(format string, args ...any) *apiError {
	return &apiError{status: 422, name: "builtins.ValueError", message: fmt.Sprintf(format, args...)}
}

// failing reports whether this call must answer 502 (FailNext).
func (s *Server) failing(w http.ResponseWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down > 0 {
		s.down--
		http.Error(w, "<html><body><h1>502 Bad Gateway</h1></body></html>", http.StatusBadGateway)
		return true
	}
	return false
}

func (s *Server) count(method string) {
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
}

// webVersion answers GET /web/version, which Odoo 19 has.
func (s *Server) webVersion(w http.ResponseWriter, r *http.Request) {
	if s.failing(w) {
		return
	}
	if s.o.Version < 19 {
		http.NotFound(w, r)
		return
	}
	s.count("web_version")
	writeJSON(w, 200, map[string]any{
		"version_info": []any{s.o.Version, 0, 0, "final", 0, ""},
		"version":      fmt.Sprintf("%d.0", s.o.Version),
	})
}

// jsonrpc answers POST /jsonrpc.
func (s *Server) jsonrpc(w http.ResponseWriter, r *http.Request) {
	if s.failing(w) {
		return
	}
	var req struct {
		ID     any `json:"id"`
		Params struct {
			Service string            `json:"service"`
			Method  string            `json:"method"`
			Args    []json.RawMessage `json:"args"`
		} `json:"params"`
	}
	body, _ := io.ReadAll(r.Body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, 200, map[string]any{"jsonrpc": "2.0", "id": nil,
			"error": map[string]any{"code": -32700, "message": "Parse error"}})
		return
	}
	result, err := s.rpc(req.Params.Service, req.Params.Method, req.Params.Args)
	if err != nil {
		e, ok := err.(*apiError)
		if !ok {
			e = &apiError{name: "builtins.Exception", message: err.Error()}
		}
		writeJSON(w, 200, map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{
			"code": 200, "message": "Odoo Server Error",
			"data": map[string]any{"name": e.name, "message": e.message, "debug": "Traceback (most recent call last): …",
				"arguments": []any{e.message}, "context": map[string]any{}},
		}})
		return
	}
	writeJSON(w, 200, map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
}

func (s *Server) rpc(service, method string, args []json.RawMessage) (any, error) {
	arg := func(i int, v any) error {
		if i >= len(args) {
			return valueError("missing argument %d", i)
		}
		d := json.NewDecoder(bytes.NewReader(args[i]))
		d.UseNumber()
		return d.Decode(v)
	}
	switch service + "." + method {
	case "common.version":
		s.count("version")
		return map[string]any{
			"server_version": fmt.Sprintf("%d.0", s.o.Version), "server_serie": fmt.Sprintf("%d.0", s.o.Version),
			"server_version_info": []any{s.o.Version, 0, 0, "final", 0, ""}, "protocol_version": 1,
		}, nil
	case "common.authenticate", "common.login":
		s.count("authenticate")
		var db, login, key string
		if arg(0, &db) != nil || arg(1, &login) != nil || arg(2, &key) != nil {
			return nil, valueError("authenticate(db, login, password, user_agent_env)")
		}
		if db != s.o.Database {
			return nil, &apiError{name: "psycopg2.OperationalError", message: fmt.Sprintf("FATAL:  database %q does not exist", db)}
		}
		if login != s.o.Login || key != s.o.APIKey {
			return false, nil
		}
		return s.o.UID, nil
	case "object.execute_kw", "object.execute":
		var db, key, model, meth string
		var uid json.Number
		if arg(0, &db) != nil || arg(1, &uid) != nil || arg(2, &key) != nil || arg(3, &model) != nil || arg(4, &meth) != nil {
			return nil, valueError("execute_kw(db, uid, password, model, method, args, kwargs)")
		}
		if db != s.o.Database || uid.String() != fmt.Sprint(s.o.UID) || key != s.o.APIKey {
			return nil, accessDenied()
		}
		var pos []any
		kw := map[string]any{}
		if len(args) > 5 {
			if err := arg(5, &pos); err != nil {
				return nil, valueError("args must be a list")
			}
		}
		if len(args) > 6 {
			if err := arg(6, &kw); err != nil {
				return nil, valueError("kwargs must be a dict")
			}
		}
		named, err := positional(meth, pos)
		if err != nil {
			return nil, err
		}
		for k, v := range kw {
			named[k] = v
		}
		return s.call(model, meth, named)
	}
	return nil, &apiError{name: "builtins.NameError", message: fmt.Sprintf("unknown method %s.%s", service, method)}
}

// positional names execute_kw's positional arguments per method.
func positional(method string, pos []any) (map[string]any, error) {
	names := map[string][]string{
		"search_read":  {"domain", "fields", "offset", "limit", "order"},
		"read":         {"ids", "fields"},
		"fields_get":   {"allfields", "attributes"},
		"context_get":  {},
		"search_count": {"domain"},
		"write":        {"ids", "vals"},
	}[method]
	if len(pos) > len(names) {
		return nil, valueError("%s() takes %d positional arguments but %d were given", method, len(names), len(pos))
	}
	out := map[string]any{}
	for i, v := range pos {
		out[names[i]] = v
	}
	return out, nil
}

// json2 answers POST /json/2/<model>/<method> (Odoo 19).
func (s *Server) json2(w http.ResponseWriter, r *http.Request) {
	if s.o.Version < 19 {
		http.NotFound(w, r)
		return
	}
	if s.failing(w) {
		return
	}
	fail := func(e *apiError) {
		writeJSON(w, e.status, map[string]any{"name": e.name, "message": e.message, "arguments": []any{e.message}, "context": map[string]any{}, "debug": ""})
	}
	auth := r.Header.Get("Authorization")
	scheme, key, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "bearer") || key != s.o.APIKey {
		fail(&apiError{status: 401, name: "werkzeug.exceptions.Unauthorized", message: "Invalid apikey"})
		return
	}
	if db := r.Header.Get("X-Odoo-Database"); db != "" && db != s.o.Database {
		fail(&apiError{status: 404, name: "werkzeug.exceptions.NotFound", message: fmt.Sprintf("database %q not found", db)})
		return
	}
	named := map[string]any{}
	body, _ := io.ReadAll(r.Body)
	if len(bytes.TrimSpace(body)) > 0 {
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&named); err != nil {
			fail(&apiError{status: 400, name: "werkzeug.exceptions.BadRequest", message: "the body must be a JSON object"})
			return
		}
	}
	res, err := s.call(r.PathValue("model"), r.PathValue("method"), named)
	if err != nil {
		e := err.(*apiError)
		if e.status == 0 {
			e.status = 500
		}
		fail(e)
		return
	}
	writeJSON(w, 200, res)
}

// call runs model.method with named arguments.
func (s *Server) call(model, method string, named map[string]any) (any, error) {
	s.count(method)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.models[model]
	if t == nil {
		return nil, &apiError{status: 404, name: "werkzeug.exceptions.NotFound", message: fmt.Sprintf("Object %s doesn't exist", model)}
	}
	switch method {
	case "context_get":
		if model != "res.users" {
			break
		}
		return map[string]any{"lang": "en_US", "tz": "Europe/Berlin", "uid": s.o.UID}, nil
	case "fields_get":
		out := map[string]any{}
		for name, f := range t.fields {
			d := map[string]any{"type": f.Type, "string": name}
			if f.Relation != "" {
				d["relation"] = f.Relation
			}
			out[name] = d
		}
		return out, nil
	case "read":
		ids, err := idList(named["ids"])
		if err != nil {
			return nil, err
		}
		fields, err := s.fieldList(t, named["fields"])
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, id := range ids {
			if rec := t.recs[id]; rec != nil {
				out = append(out, s.readRec(t, rec, fields))
			}
		}
		return out, nil
	case "search_read", "search_count":
		dom, _ := named["domain"].([]any)
		recs, err := s.search(t, dom)
		if err != nil {
			return nil, err
		}
		if method == "search_count" {
			return len(recs), nil
		}
		order, _ := named["order"].(string)
		if err := sortRecs(t, recs, order); err != nil {
			return nil, err
		}
		offset, limit := int(toInt(named["offset"])), int(toInt(named["limit"]))
		if offset > len(recs) {
			offset = len(recs)
		}
		recs = recs[offset:]
		if limit > 0 && limit < len(recs) {
			recs = recs[:limit]
		}
		fields, err := s.fieldList(t, named["fields"])
		if err != nil {
			return nil, err
		}
		out := make([]any, len(recs))
		for i, rec := range recs {
			out[i] = s.readRec(t, rec, fields)
		}
		return out, nil
	}
	return nil, &apiError{status: 404, name: "werkzeug.exceptions.NotFound", message: fmt.Sprintf("The method %s.%s does not exist", model, method)}
}

// fieldList checks requested fields; nil means every field.
func (s *Server) fieldList(t *table, v any) ([]string, error) {
	list, _ := v.([]any)
	if len(list) == 0 {
		out := make([]string, 0, len(t.fields))
		for name := range t.fields {
			out = append(out, name)
		}
		sort.Strings(out)
		return out, nil
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		name, _ := e.(string)
		if _, ok := t.fields[name]; !ok {
			return nil, valueError("Invalid field %q on model %q", name, t.name)
		}
		out = append(out, name)
	}
	return out, nil
}

// readRec renders one record as read() does; id always comes along.
func (s *Server) readRec(t *table, rec map[string]any, fields []string) map[string]any {
	out := map[string]any{"id": rec["id"]}
	for _, f := range fields {
		if f == "display_name" {
			out[f] = s.displayName(t.name, rec["id"].(int64))
			continue
		}
		out[f] = s.apiValue(t.fields[f], rec[f])
	}
	return out
}

func idList(v any) ([]int64, error) {
	switch x := v.(type) {
	case []any:
		out := make([]int64, len(x))
		for i, e := range x {
			out[i] = toInt(e)
		}
		return out, nil
	case json.Number:
		return []int64{toInt(x)}, nil
	}
	return nil, valueError("ids must be a list of integers")
}

// search evaluates an Odoo domain (prefix notation with &, | and !).
func (s *Server) search(t *table, dom []any) ([]map[string]any, error) {
	var out []map[string]any
	// Odoo checks the domain whether or not any record exists.
	for rest := dom; len(rest) > 0; {
		var err error
		if _, rest, err = s.eval(t, map[string]any{}, rest); err != nil {
			return nil, err
		}
	}
	for _, rec := range t.recs {
		ok, rest, err := s.eval(t, rec, dom)
		if err != nil {
			return nil, err
		}
		// Implicit AND of the remaining top-level terms.
		for ok && len(rest) > 0 {
			ok, rest, err = s.eval(t, rec, rest)
			if err != nil {
				return nil, err
			}
		}
		if ok {
			out = append(out, rec)
		}
	}
	return out, nil
}

// eval evaluates the first term of dom and returns the rest.
func (s *Server) eval(t *table, rec map[string]any, dom []any) (bool, []any, error) {
	if len(dom) == 0 {
		return true, nil, nil
	}
	switch op := dom[0].(type) {
	case string:
		switch op {
		case "!":
			v, rest, err := s.eval(t, rec, dom[1:])
			return !v, rest, err
		case "&", "|":
			a, rest, err := s.eval(t, rec, dom[1:])
			if err != nil {
				return false, nil, err
			}
			b, rest, err := s.eval(t, rec, rest)
			if op == "&" {
				return a && b, rest, err
			}
			return a || b, rest, err
		}
		return false, nil, valueError("Invalid domain term %q", op)
	case []any:
		if len(op) != 3 {
			return false, nil, valueError("Invalid leaf %v", op)
		}
		field, _ := op[0].(string)
		cmp, _ := op[1].(string)
		f, ok := t.fields[field]
		if !ok {
			return false, nil, valueError("Invalid field %s.%s in leaf %v", t.name, field, op)
		}
		v, err := leaf(f, rec[field], cmp, op[2])
		return v, dom[1:], err
	}
	return false, nil, valueError("Invalid domain %v", dom)
}

// leaf compares one stored value with a domain value.
func leaf(f FieldDef, have any, op string, want any) (bool, error) {
	if op == "in" || op == "not in" {
		list, ok := want.([]any)
		if !ok {
			return false, valueError("%q needs a list", op)
		}
		found := false
		for _, w := range list {
			if c, ok := compare(f, have, w); ok && c == 0 {
				found = true
			}
		}
		return found == (op == "in"), nil
	}
	c, comparable := compare(f, have, want)
	switch op {
	case "=":
		return comparable && c == 0, nil
	case "!=":
		return !comparable || c != 0, nil
	case ">":
		return comparable && c > 0, nil
	case ">=":
		return comparable && c >= 0, nil
	case "<":
		return comparable && c < 0, nil
	case "<=":
		return comparable && c <= 0, nil
	}
	return false, valueError("unsupported operator %q", op)
}

// compare orders a stored value against a domain value; ok is false when
// either is empty (SQL NULL) and they cannot be ordered.
func compare(f FieldDef, have, want any) (int, bool) {
	if want == false || want == nil {
		if isEmpty(f, have) {
			return 0, true
		}
		return 1, true
	}
	switch f.Type {
	case "datetime":
		h, _ := have.(time.Time)
		if h.IsZero() {
			return 0, false
		}
		ws, _ := want.(string)
		w, err := time.Parse("2006-01-02 15:04:05.999999", ws)
		if err != nil {
			return 0, false
		}
		return h.Compare(w), true
	case "integer", "many2one":
		h, w := toInt(have), toInt(want)
		if f.Type == "many2one" && h == 0 {
			return 0, false
		}
		return cmpInt(h, w), true
	case "float", "monetary":
		h, _ := have.(float64)
		var w float64
		if n, ok := want.(json.Number); ok {
			w, _ = n.Float64()
		}
		switch {
		case h < w:
			return -1, true
		case h > w:
			return 1, true
		}
		return 0, true
	case "boolean":
		h, _ := have.(bool)
		w, _ := want.(bool)
		if h == w {
			return 0, true
		}
		return 1, true
	case "one2many", "many2many":
		ids, _ := have.([]int64)
		w := toInt(want)
		for _, id := range ids {
			if id == w {
				return 0, true
			}
		}
		return 1, true
	}
	h, hok := have.(string)
	w, wok := want.(string)
	if !hok || !wok {
		return 0, false
	}
	return strings.Compare(h, w), true
}

// isEmpty reports whether a stored value is SQL NULL / Odoo's false.
func isEmpty(f FieldDef, have any) bool {
	switch x := have.(type) {
	case nil:
		return true
	case bool:
		return !x && f.Type != "boolean"
	case int64:
		return x == 0 && f.Type == "many2one"
	case time.Time:
		return x.IsZero()
	case []int64:
		return len(x) == 0
	}
	return false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sortRecs orders records by "field [asc|desc], …" (default id).
func sortRecs(t *table, recs []map[string]any, order string) error {
	type key struct {
		field string
		desc  bool
	}
	var keys []key
	for _, part := range strings.Split(order, ",") {
		fs := strings.Fields(part)
		if len(fs) == 0 {
			continue
		}
		if _, ok := t.fields[fs[0]]; !ok {
			return valueError("Invalid field %q in order %q", fs[0], order)
		}
		keys = append(keys, key{fs[0], len(fs) > 1 && strings.EqualFold(fs[1], "desc")})
	}
	keys = append(keys, key{field: "id"})
	sort.SliceStable(recs, func(i, j int) bool {
		for _, k := range keys {
			a, b := recs[i][k.field], recs[j][k.field]
			c := 0
			switch x := a.(type) {
			case time.Time:
				y, _ := b.(time.Time)
				c = x.Compare(y)
			case int64:
				c = cmpInt(x, toInt(b))
			case float64:
				y, _ := b.(float64)
				if x < y {
					c = -1
				} else if x > y {
					c = 1
				}
			case string:
				y, _ := b.(string)
				c = strings.Compare(x, y)
			}
			if c != 0 {
				return (c < 0) != k.desc
			}
		}
		return false
	})
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
