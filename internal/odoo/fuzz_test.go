package odoo

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzParseWebhook checks that ParseWebhook never panics, that it fails only
// with ErrMalformed, and that what it accepts is valid, normalised and
// marshals back to valid JSON.
func FuzzParseWebhook(f *testing.F) {
	for _, name := range fixtureNames(f) {
		f.Add(fixture(f, name))
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"_model":"a","_id":1}`, `{"_model":"a","_id":1}x`,
		`{"_model":"a","_id":1,"x":[[[[{"y":[false,true]}]]]]}`,
		`{"_model":"a","_id":-1}`, `{"_model":"a","_id":1.5}`, `{"_model":"A","_id":1}`,
		`{"_model":"a","_id":1,"d":"2024-02-29 23:59:59.123456","e":"2025-02-29 00:00:00"}`,
		`{"_model":"a","_id":1,"s":"\ud800\"[{","n":-1.5e-300}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if !validModelName(r.Model) || r.ID <= 0 || r.Fields == nil {
			t.Fatalf("accepted bad record %+v", r)
		}
		for _, k := range []string{keyModel, keyID, keyAction} {
			if _, ok := r.Fields[k]; ok {
				t.Fatalf("Fields still holds %q", k)
			}
		}
		out, err := json.Marshal(r.Fields)
		if err != nil {
			t.Fatalf("Fields do not marshal: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("Fields marshal to invalid JSON %q", out)
		}
		// reflect.DeepEqual, not cmp.Diff: cmp's slice diff is exponential in
		// the nesting depth, which the fuzzer soon finds.
		if again := Normalize(r.Model, r.Fields); !reflect.DeepEqual(r.Fields, again) {
			t.Fatalf("Normalize is not idempotent:\nparsed %#v\nagain  %#v", r.Fields, again)
		}
		OccurredAt(r)
		Match(DefaultRules(), r)
	})
}
