package odoo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// ErrMalformed is wrapped by every ParseWebhook error caused by the body.
var ErrMalformed = errors.New("malformed odoo webhook body")

// MaxDepth is the deepest nesting of JSON objects and arrays that
// ParseWebhook accepts; the top-level object is depth 1. Odoo's own bodies
// never go beyond 2.
const MaxDepth = 32

// maxModelLen bounds the length of "_model". PostgreSQL limits table names
// to 63 bytes, so real model names are far shorter.
const maxModelLen = 128

// Keys that Odoo's webhook action adds in front of the record's fields.
const (
	keyModel  = "_model"
	keyID     = "_id"
	keyAction = "_action"
)

// Record is one parsed webhook body.
type Record struct {
	Model  string         // "_model"
	ID     int64          // "_id"
	Action string         // "_action"
	Fields map[string]any // every other key (including "id"), values NORMALISED (see below)
}

// ParseWebhook checks and parses one body sent by Odoo's "Send Webhook
// Notification" action.
//
// The body must hold exactly one JSON object, nested at most MaxDepth
// levels, with "_model" a valid Odoo model name (lowercase letters, digits,
// "." and "_", as Odoo itself enforces), "_id" a positive integer and, if
// present, "_action" a string. Any other key is accepted and ends up in
// Fields, normalised as Normalize describes; numbers are kept as exact
// json.Number values. Every error is caused by the body, wraps ErrMalformed
// and has a message fit to show to the API client.
func ParseWebhook(body []byte) (Record, error) {
	if skipSpace(body) == len(body) {
		return Record{}, malformed("body is empty")
	}
	if !withinDepth(body, MaxDepth) {
		return Record{}, malformed("JSON nesting is deeper than %d levels", MaxDepth)
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Record{}, malformed("not valid JSON: %s", describeJSONError(err))
	}
	end := dec.InputOffset()
	if rest := body[end:]; skipSpace(rest) != len(rest) {
		return Record{}, malformed("unexpected data after the JSON value at byte %d", end+int64(skipSpace(rest)))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return Record{}, malformed("body must be a JSON object, got %s", jsonKind(v))
	}

	model, err := parseModel(obj)
	if err != nil {
		return Record{}, err
	}
	id, err := parseID(obj)
	if err != nil {
		return Record{}, err
	}
	var action string
	if av, ok := obj[keyAction]; ok {
		if action, ok = av.(string); !ok {
			return Record{}, malformed("%s must be a string, got %s", keyAction, jsonKind(av))
		}
	}

	delete(obj, keyModel)
	delete(obj, keyID)
	delete(obj, keyAction)
	n := normalizer{model: model, bools: knownBoolean[model]}
	return Record{Model: model, ID: id, Action: action, Fields: n.object(obj)}, nil
}

// parseModel returns the checked "_model" of a decoded body.
func parseModel(obj map[string]any) (string, error) {
	v, ok := obj[keyModel]
	if !ok {
		return "", malformed("%s is missing", keyModel)
	}
	model, ok := v.(string)
	if !ok {
		return "", malformed("%s must be a string, got %s", keyModel, jsonKind(v))
	}
	if model == "" {
		return "", malformed("%s is empty", keyModel)
	}
	if !validModelName(model) {
		return "", malformed("%s %q is not an Odoo model name (lowercase letters, digits, '.' and '_', at most %d bytes)",
			keyModel, clip(model), maxModelLen)
	}
	return model, nil
}

// parseID returns the checked "_id" of a decoded body.
func parseID(obj map[string]any) (int64, error) {
	v, ok := obj[keyID]
	if !ok {
		return 0, malformed("%s is missing", keyID)
	}
	num, ok := v.(json.Number)
	if !ok {
		return 0, malformed("%s must be a number, got %s", keyID, jsonKind(v))
	}
	s := string(num)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			return 0, malformed("%s must be an integer, got %s", keyID, clip(s))
		}
	}
	if s[0] == '-' {
		return 0, malformed("%s must be positive, got %s", keyID, clip(s))
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, malformed("%s is out of range, got %s", keyID, clip(s))
	}
	if id == 0 {
		return 0, malformed("%s must be positive, got 0", keyID)
	}
	return id, nil
}

// validModelName reports whether s matches Odoo's check_object_name,
// ^[a-z0-9_.]+$, and is not absurdly long.
func validModelName(s string) bool {
	if s == "" || len(s) > maxModelLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// occurredAtFields are the timestamps OccurredAt looks at, best first.
var occurredAtFields = [...]string{"write_date", "date_done", "date_order", "create_date"}

// OccurredAt returns the best available time of the change that r reports:
// the first of write_date, date_done, date_order and create_date that holds
// a datetime, in UTC. It accepts both the normalised RFC 3339 form and
// Odoo's raw "YYYY-MM-DD HH:MM:SS[.ffffff]" form. ok is false when r carries
// none of them.
//
// Odoo sets write_date to the start of the writing transaction, so it can
// be a little earlier than other timestamps written by the same change.
func OccurredAt(r Record) (t time.Time, ok bool) {
	for _, name := range occurredAtFields {
		s, isString := r.Fields[name].(string)
		if !isString {
			continue
		}
		if conv, isOdoo := odooDatetimeToRFC3339(s); isOdoo {
			s = conv
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// describeJSONError turns a decoding error into a short message.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%s (at byte %d)", syn.Error(), syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected end of input"
	default:
		return err.Error()
	}
}

// jsonKind names the JSON type of a value decoded with UseNumber.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// clip shortens a client-supplied string before it goes into an error message.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// skipSpace returns the index of the first byte of b that is not JSON
// whitespace, or len(b).
func skipSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return len(b)
}

// withinDepth reports whether no object or array in b is nested deeper than
// max. It only counts brackets outside strings; syntax is checked later by
// the decoder, so it may be fooled by invalid JSON, which is rejected anyway.
func withinDepth(b []byte, max int) bool {
	depth := 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}
