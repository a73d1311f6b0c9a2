package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// decodeJSON strictly decodes the request body into v: one JSON object, no
// unknown fields, no trailing data. Errors are 400 (not JSON) or 422 (wrong
// shape), never a partial decode.
func decodeJSON(c *fiber.Ctx, v any) error {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.Contains(ct, "+json") {
		return &httpError{status: 415, slug: "unsupported-media-type", title: "Unsupported media type",
			detail: "send the body as application/json"}
	}
	body := bytes.TrimSpace(c.Body())
	if len(body) == 0 {
		return badRequest("a JSON object body is required")
	}
	if body[0] != '{' {
		if json.Valid(body) {
			return invalidBody("body", "must be a JSON object")
		}
		return badRequest("the body is not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("the body has data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return badRequest(fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the body is not valid JSON (it ends too early)")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return invalidBody(field, "must be "+jsonKind(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalidBody(name, "is not a known field")
	}
	var fe *fieldErr
	if errors.As(err, &fe) {
		return invalidBody(fe.field, fe.msg)
	}
	return invalidBody("body", err.Error())
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "of another type"
}

// fieldErr is returned by custom JSON decoders to name the bad field.
type fieldErr struct{ field, msg string }

func (e *fieldErr) Error() string { return e.field + ": " + e.msg }

// queryLimit parses ?limit= (default 50, 1–200).
func queryLimit(c *fiber.Ctx) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 200 {
		return 0, badParam("limit", "must be an integer from 1 to 200")
	}
	return n, nil
}

// queryTime parses an RFC 3339 query parameter.
func queryTime(c *fiber.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badParam(name, "must be an RFC 3339 time such as 2025-03-14T09:41:07Z")
	}
	return t, nil
}

// list renders a page.
func list[T any](c *fiber.Ctx, items []T, next string) error {
	if items == nil {
		items = []T{}
	}
	var cursor any
	if next != "" {
		cursor = next
	}
	return c.JSON(fiber.Map{"data": items, "next_cursor": cursor})
}

// durations parse retry schedules given as ["5s","5m"] or [5, 300] (seconds).
type durations []time.Duration

func (d *durations) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return &fieldErr{"retry_schedule", `must be an array of durations such as ["5s","5m"]`}
	}
	out := make([]time.Duration, 0, len(raw))
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			v, err := time.ParseDuration(s)
			if err != nil {
				return &fieldErr{"retry_schedule", fmt.Sprintf("%q is not a duration such as 30s or 5m", s)}
			}
			out = append(out, v)
			continue
		}
		var secs float64
		if json.Unmarshal(r, &secs) == nil {
			out = append(out, time.Duration(secs*float64(time.Second)))
			continue
		}
		return &fieldErr{"retry_schedule", "each entry must be a duration string or a number of seconds"}
	}
	*d = out
	return nil
}

func formatDurations(ds []time.Duration) []string {
	if ds == nil {
		return nil
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

// timestamp is an RFC 3339 time in a request body whose parse error names
// its field (encoding/json's own time error does not).
type timestamp struct {
	time.Time
	field string
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &fieldErr{t.field, "must be an RFC 3339 time string such as 2025-03-14T09:41:07Z"}
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return &fieldErr{t.field, fmt.Sprintf("%q is not an RFC 3339 time such as 2025-03-14T09:41:07Z", s)}
	}
	t.Time = v
	return nil
}

// occurredAt and expiresAt name their field in errors.
type occurredAt struct{ timestamp }

// UnmarshalJSON implements json.Unmarshaler.
func (t *occurredAt) UnmarshalJSON(b []byte) error {
	t.field = "occurred_at"
	return t.timestamp.UnmarshalJSON(b)
}

type expiresAt struct{ timestamp }

// UnmarshalJSON implements json.Unmarshaler.
func (t *expiresAt) UnmarshalJSON(b []byte) error {
	t.field = "expires_at"
	return t.timestamp.UnmarshalJSON(b)
}

// mapAll converts every item of a domain list to its API type.
func mapAll[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
