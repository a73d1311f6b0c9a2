package odoo

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// ErrInvalidRule is wrapped by every Rule.Validate and ValidateRules error.
var ErrInvalidRule = errors.New("invalid odoo mapping rule")

// Op is the comparison a Condition makes.
type Op string

// The operators a Condition may use.
const (
	// OpEq holds when the field is present and equals Value.
	OpEq Op = "eq"
	// OpNe holds when the field is present and does not equal Value.
	OpNe Op = "ne"
	// OpIn holds when the field is present and equals one element of Value,
	// a list. A list field (one2many/many2many ids) holds when any of its
	// elements does, as in an Odoo domain.
	OpIn Op = "in"
	// OpSet holds when the field is present and not null, false or an empty list.
	OpSet Op = "set"
	// OpUnset holds when the field is absent, null, false or an empty list.
	OpUnset Op = "unset"
)

// Condition is one test on a normalised field of a Record.
//
// Values compare by value: a json.Number equals any Go number, or numeric
// string, of the same value ("125.0" equals 125), strings and booleans
// compare exactly, lists element by element, and null equals false (Odoo
// sends false for "empty"). Every operator but OpUnset needs the field to be
// present: a body whose action did not select the field does not match.
type Condition struct {
	Field string `json:"field"`
	Op    Op     `json:"op"`
	Value any    `json:"value,omitempty"`
}

// Trigger says which changes of a record a Rule reports. Webhooks report
// whatever the Odoo automation rule fired on; reconciliation, which only
// sees each record's latest state, uses the trigger to tell a change that
// deserves an event from one that does not.
type Trigger string

// The triggers a Rule may name.
const (
	// TriggerEnter reports a record when it comes to meet the rule's
	// conditions (a state transition, such as an order reaching "sale"); later
	// writes that leave it matching report nothing. The default.
	TriggerEnter Trigger = "enter"
	// TriggerWrite reports every change of a matching record (stock levels,
	// prices).
	TriggerWrite Trigger = "write"
	// TriggerCreate reports a matching record once, when it is created;
	// its create_date identifies the change.
	TriggerCreate Trigger = "create"
)

// Rule maps the webhooks of one Odoo model that meet all of its conditions
// to an event type. On tells reconciliation which changes to report (empty
// means TriggerEnter).
type Rule struct {
	Model     string      `json:"model"`
	When      []Condition `json:"when"`
	EventType string      `json:"event_type"`
	On        Trigger     `json:"on,omitempty"`
}

// Trigger returns r.On, or TriggerEnter when it is empty.
func (r Rule) Trigger() Trigger {
	if r.On == "" {
		return TriggerEnter
	}
	return r.On
}

// DefaultRules returns the mapping table of ODOO.md, in the order Match must
// try it. Each call returns a fresh slice the caller may change.
func DefaultRules() []Rule {
	eq := func(field string, value any) Condition { return Condition{Field: field, Op: OpEq, Value: value} }
	in := func(field string, values ...any) Condition { return Condition{Field: field, Op: OpIn, Value: values} }
	return []Rule{
		{Model: "sale.order", When: []Condition{eq("state", "sale")}, EventType: "order.confirmed"},
		{Model: "sale.order", When: []Condition{eq("state", "cancel")}, EventType: "order.cancelled"},
		{Model: "stock.picking", When: []Condition{
			eq("state", "done"), eq("picking_type_code", "incoming"), {Field: "return_id", Op: OpSet},
		}, EventType: "return.received"},
		{Model: "stock.picking", When: []Condition{
			eq("state", "done"), eq("picking_type_code", "outgoing"),
		}, EventType: "shipment.dispatched"},
		{Model: "stock.quant", EventType: "inventory.adjusted", On: TriggerWrite},
		{Model: "product.template", EventType: "product.updated", On: TriggerWrite},
		{Model: "product.product", EventType: "product.updated", On: TriggerWrite},
		{Model: "res.partner", EventType: "customer.created", On: TriggerCreate},
		// invoice.paid comes first: a paid invoice is still posted.
		{Model: "account.move", When: []Condition{
			eq("move_type", "out_invoice"), in("payment_state", "in_payment", "paid"),
		}, EventType: "invoice.paid"},
		{Model: "account.move", When: []Condition{
			eq("move_type", "out_invoice"), eq("state", "posted"),
		}, EventType: "invoice.posted"},
		{Model: "account.move", When: []Condition{
			eq("move_type", "out_refund"), eq("state", "posted"),
		}, EventType: "refund.issued"},
		// in_process/paid: 18 and 19; posted: 17, where the state comes from the move.
		{Model: "account.payment", When: []Condition{
			eq("payment_type", "inbound"), eq("partner_type", "customer"),
			in("state", "in_process", "paid", "posted"),
		}, EventType: "payment.received"},
		// invoiced and done: 17.
		{Model: "pos.order", When: []Condition{in("state", "paid", "invoiced", "done")}, EventType: "pos.order.paid"},
	}
}

// Match returns the event type of the first rule, in order, whose model is
// r.Model and whose conditions all hold for r.Fields. ok is false when no
// rule matches. Match does not validate rules: a condition with an unknown
// operator never holds.
func Match(rules []Rule, r Record) (eventType string, ok bool) {
	rule, ok := MatchRule(rules, r)
	return rule.EventType, ok
}

// MatchRule is Match returning the whole rule that matched.
func MatchRule(rules []Rule, r Record) (Rule, bool) {
	for i := range rules {
		rule := &rules[i]
		if rule.Model == r.Model && rule.holds(r.Fields) {
			return *rule, true
		}
	}
	return Rule{}, false
}

// Holds reports whether all of r's conditions hold for the normalised
// fields of one record (its model is not checked).
func (r Rule) Holds(fields map[string]any) bool { return r.holds(fields) }

// holds reports whether all conditions of r hold for fields.
func (r *Rule) holds(fields map[string]any) bool {
	for i := range r.When {
		if !r.When[i].Holds(fields) {
			return false
		}
	}
	return true
}

// Holds reports whether c holds for the normalised fields of one record.
func (c Condition) Holds(fields map[string]any) bool {
	v, present := fields[c.Field]
	switch c.Op {
	case OpEq:
		return present && equal(v, c.Value)
	case OpNe:
		return present && !equal(v, c.Value)
	case OpIn:
		return present && in(v, c.Value)
	case OpSet:
		return present && !empty(v)
	case OpUnset:
		return !present || empty(v)
	default:
		return false
	}
}

// Validate reports, wrapping ErrInvalidRule, what is wrong with r: an empty
// or impossible model, an empty event type or a bad condition.
func (r Rule) Validate() error {
	if r.Model == "" {
		return fmt.Errorf("%w: model is empty", ErrInvalidRule)
	}
	if !validModelName(r.Model) {
		return fmt.Errorf("%w: model %q is not an Odoo model name", ErrInvalidRule, clip(r.Model))
	}
	if r.EventType == "" {
		return fmt.Errorf("%w: %s: event_type is empty", ErrInvalidRule, r.Model)
	}
	switch r.On {
	case "", TriggerEnter, TriggerWrite, TriggerCreate:
	default:
		return fmt.Errorf("%w: %s -> %s: unknown on %q (want enter, write or create)", ErrInvalidRule, r.Model, r.EventType, clip(string(r.On)))
	}
	for i, c := range r.When {
		if p := c.problem(); p != "" {
			return fmt.Errorf("%w: %s -> %s: when[%d]: %s", ErrInvalidRule, r.Model, r.EventType, i, p)
		}
	}
	return nil
}

// Validate reports, wrapping ErrInvalidRule, what is wrong with c: an empty
// field, an unknown operator, a value on set/unset or an "in" value that is
// not a non-empty list.
func (c Condition) Validate() error {
	if p := c.problem(); p != "" {
		return fmt.Errorf("%w: %s", ErrInvalidRule, p)
	}
	return nil
}

// problem describes what is wrong with c, or returns "".
func (c Condition) problem() string {
	if c.Field == "" {
		return "field is empty"
	}
	switch c.Op {
	case OpEq, OpNe:
		return ""
	case OpIn:
		if list, ok := asList(c.Value); !ok || len(list) == 0 {
			return fmt.Sprintf("%s: op %q needs a non-empty list value", c.Field, c.Op)
		}
		return ""
	case OpSet, OpUnset:
		if c.Value != nil {
			return fmt.Sprintf("%s: op %q takes no value", c.Field, c.Op)
		}
		return ""
	default:
		return fmt.Sprintf("%s: unknown op %q (want eq, ne, in, set or unset)", c.Field, clip(string(c.Op)))
	}
}

// ValidateRules validates every rule and names the first bad one by index.
func ValidateRules(rules []Rule) error {
	for i, r := range rules {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("rule %d: %w", i, err)
		}
	}
	return nil
}

// empty reports whether v means "no value": null, false or an empty list.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case []any:
		return len(x) == 0
	}
	list, ok := asList(v)
	return ok && len(list) == 0
}

// nullish reports whether v is null or false, which Odoo does not tell apart.
func nullish(v any) bool {
	b, isBool := v.(bool)
	return v == nil || isBool && !b
}

// in reports whether v, or for a list any element of v, equals an element of
// the list want.
func in(v, want any) bool {
	wants, ok := asList(want)
	if !ok {
		return false
	}
	if vs, isList := asList(v); isList {
		for _, e := range vs {
			if in(e, wants) {
				return true
			}
		}
		return false
	}
	for _, w := range wants {
		if equal(v, w) {
			return true
		}
	}
	return false
}

// equal compares a field value with a condition value as Condition describes.
func equal(a, b any) bool {
	if nullish(a) || nullish(b) {
		return nullish(a) && nullish(b)
	}
	an, aNum := toNumber(a)
	bn, bNum := toNumber(b)
	if aNum || bNum {
		if !aNum {
			an, aNum = numericString(a)
		}
		if !bNum {
			bn, bNum = numericString(b)
		}
		return aNum && bNum && an.equal(bn)
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	al, aList := asList(a)
	bl, bList := asList(b)
	if !aList || !bList || len(al) != len(bl) {
		return false
	}
	for i := range al {
		if !equal(al[i], bl[i]) {
			return false
		}
	}
	return true
}

// number is a numeric value kept exact when it is an integer.
type number struct {
	i     int64
	f     float64
	isInt bool
}

// equal compares two numbers by value.
func (a number) equal(b number) bool {
	if a.isInt && b.isInt {
		return a.i == b.i
	}
	return a.float() == b.float()
}

// float returns a as a float64.
func (a number) float() float64 {
	if a.isInt {
		return float64(a.i)
	}
	return a.f
}

// toNumber converts json.Number and Go numeric types.
func toNumber(v any) (number, bool) {
	switch x := v.(type) {
	case json.Number:
		return parseNumber(string(x))
	case float64:
		return number{f: x}, true
	case float32:
		return number{f: float64(x)}, true
	case int:
		return number{i: int64(x), isInt: true}, true
	case int8:
		return number{i: int64(x), isInt: true}, true
	case int16:
		return number{i: int64(x), isInt: true}, true
	case int32:
		return number{i: int64(x), isInt: true}, true
	case int64:
		return number{i: x, isInt: true}, true
	case uint:
		return fromUint(uint64(x)), true
	case uint8:
		return fromUint(uint64(x)), true
	case uint16:
		return fromUint(uint64(x)), true
	case uint32:
		return fromUint(uint64(x)), true
	case uint64:
		return fromUint(x), true
	}
	return number{}, false
}

// fromUint converts an unsigned integer, exactly when it fits an int64.
func fromUint(u uint64) number {
	if u <= math.MaxInt64 {
		return number{i: int64(u), isInt: true}
	}
	return number{f: float64(u)}
}

// numericString converts a string holding a number.
func numericString(v any) (number, bool) {
	s, ok := v.(string)
	if !ok {
		return number{}, false
	}
	return parseNumber(s)
}

// parseNumber parses a decimal integer exactly, or else a float.
func parseNumber(s string) (number, bool) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return number{i: i, isInt: true}, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return number{}, false
	}
	return number{f: f}, true
}

// asList returns v's elements when v is a slice or an array.
func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case nil, string, bool, json.Number, float64, map[string]any:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if k := rv.Kind(); k != reflect.Slice && k != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}
