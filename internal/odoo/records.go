package odoo

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// FromAPI converts one record as the API reads it (search_read, read) into
// the shape ParseWebhook gives a webhook body's fields, so that events made
// from either share field names and types: many2one [id, "name"] becomes
// the bare id, false becomes null except on boolean fields, datetimes
// become RFC 3339 UTC. fields, from FieldsGet, says which fields are
// many2one and boolean; without it a two-element [integer, string] list is
// taken for a many2one. rec is not modified.
func FromAPI(model string, rec map[string]any, fields map[string]Field) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		f, known := fields[k]
		switch {
		case known && f.Type == "many2one":
			if id, _, ok := Many2one(v); ok {
				v = json.Number(strconv.FormatInt(id, 10))
			}
		case known && f.Type == "boolean":
			if b, ok := v.(bool); ok {
				out[k] = b
				continue
			}
		case !known:
			if id, _, ok := Many2one(v); ok {
				v = json.Number(strconv.FormatInt(id, 10))
			}
		}
		out[k] = v
	}
	bools := knownBoolean[model]
	n := normalizer{model: model, bools: bools}
	for k, v := range out {
		if f, known := fields[k]; known && f.Type == "boolean" {
			continue
		}
		out[k] = n.value(v, n.isBoolean(k))
	}
	return out
}

// Many2one reads a many2one value as the API gives it, [id, "display
// name"]. ok is false for false/null and anything else.
func Many2one(v any) (id int64, name string, ok bool) {
	list, isList := v.([]any)
	if !isList || len(list) != 2 {
		return 0, "", false
	}
	id, isInt := intOf(list[0])
	name, isStr := list[1].(string)
	if !isInt || !isStr || id <= 0 {
		return 0, "", false
	}
	return id, name, true
}

// intOf reads an integer from a decoded JSON number.
func intOf(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	case int64:
		return x, true
	case int:
		return int64(x), true
	}
	return 0, false
}

// ParseTime reads a datetime in either form hookgate meets: Odoo's naive
// UTC "YYYY-MM-DD HH:MM:SS[.ffffff]" or the normalised RFC 3339. ok is
// false for anything else (null, a date, a number).
func ParseTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	if conv, isOdoo := odooDatetimeToRFC3339(s); isOdoo {
		s = conv
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// FormatTime writes t as Odoo's naive UTC datetime, without fraction, as
// domains compare it ("2025-03-14 09:41:06").
func FormatTime(t time.Time) string { return t.UTC().Format(time.DateTime) }

// ChangeKey is the idempotency key of one change of one record mapped to
// one event type. changedAt is when the change was written (write_date, or
// create_date for TriggerCreate rules) and is cut to whole seconds: webhook
// bodies carry microseconds but API reads do not, and the same change must
// give the same key whichever way hookgate learnt of it.
func ChangeKey(model string, id int64, changedAt time.Time, eventType string) string {
	var b strings.Builder
	b.Grow(len(model) + len(eventType) + 40)
	b.WriteString("odoo:")
	b.WriteString(model)
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(id, 10))
	b.WriteByte(':')
	b.WriteString(changedAt.UTC().Truncate(time.Second).Format("20060102T150405Z"))
	b.WriteByte(':')
	b.WriteString(eventType)
	return b.String()
}

// ChangeTime returns the time that identifies the change r reports for
// rule: create_date for TriggerCreate rules, write_date otherwise. ok is
// false when r does not carry that field.
func ChangeTime(rule Rule, r Record) (time.Time, bool) {
	field := "write_date"
	if rule.Trigger() == TriggerCreate {
		field = "create_date"
	}
	return ParseTime(r.Fields[field])
}
