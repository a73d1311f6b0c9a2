package sdk_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/sdk"
	"github.com/hookgate/hookgate/server"
)

// jsonFields lists the JSON member names of a struct type, embedded
// structs flattened.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		out = append(out, tag)
	}
	slices.Sort(out)
	return out
}

// TestTypesMatchServer keeps every SDK response type in step with the
// server's API type it decodes: the same JSON members, no more, no fewer.
// (The SDK never imports the server; this test does, to compare.)
func TestTypesMatchServer(t *testing.T) {
	for _, tc := range []struct{ server, sdk any }{
		{server.PartnerDTO{}, sdk.Partner{}},
		{server.QuotaDTO{}, sdk.Quota{}},
		{server.APIKeyDTO{}, sdk.APIKey{}},
		{server.SourceDetailDTO{}, sdk.Source{}},
		{server.SourceOdooDTO{}, sdk.OdooConnection{}},
		{server.RuleDTO{}, sdk.MappingRule{}},
		{server.ConditionDTO{}, sdk.RuleCondition{}},
		{server.ReconcileDTO{}, sdk.Reconcile{}},
		{server.SourceCheckDTO{}, sdk.SourceCheck{}},
		{server.EventTypeDTO{}, sdk.EventType{}},
		{server.EndpointDTO{}, sdk.Endpoint{}},
		{server.SecretDTO{}, sdk.EndpointSecret{}},
		{server.DeliveryDTO{}, sdk.Delivery{}},
		{server.AttemptDTO{}, sdk.Attempt{}},
		{server.AttemptRequestDTO{}, sdk.AttemptRequest{}},
		{server.AttemptResponseDTO{}, sdk.AttemptResponse{}},
		{server.IngestResponseDTO{}, sdk.IngestResult{}},
		{server.StatsDTO{}, sdk.Stats{}},
		{server.QueueStatsDTO{}, sdk.QueueStats{}},
		{server.PartnerRateDTO{}, sdk.PartnerRate{}},
		{server.RetentionRunDTO{}, sdk.RetentionRun{}},
		{server.SignupDTO{}, sdk.SignupResult{}},
		{server.SignupPartnerDTO{}, sdk.SignupPartner{}},
		{server.UserDTO{}, sdk.User{}},
		{server.TokenDTO{}, sdk.Token{}},
		{server.UsageDTO{}, sdk.Usage{}},
		{server.AuditEntryDTO{}, sdk.AuditEntry{}},
		{server.JobDTO{}, sdk.Job{}},
	} {
		st, kt := reflect.TypeOf(tc.server), reflect.TypeOf(tc.sdk)
		t.Run(kt.Name(), func(t *testing.T) {
			if diff := cmp.Diff(jsonFields(st), jsonFields(kt)); diff != "" {
				t.Errorf("JSON members of server.%s (-) and sdk.%s (+) differ:\n%s", st.Name(), kt.Name(), diff)
			}
		})
	}
}

// TestRequestsMatchSpec keeps every request body the SDK sends in step with
// the body openapi.yaml documents (which the server's strict decoder
// enforces): the same members, save the ones listed as deliberately unsent.
func TestRequestsMatchSpec(t *testing.T) {
	doc, err := apptest.LoadSpec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fields := func(v any) []string { return jsonFields(reflect.TypeOf(v)) }
	for _, tc := range []struct {
		route  string
		sdk    []string
		unsent []string // documented members the SDK sets another way
	}{
		{"POST /v1/auth/signup", fields(sdk.SignupInput{}), nil},
		{"POST /v1/auth/login", []string{"email", "password"}, nil},
		{"POST /v1/auth/refresh", []string{"refresh_token"}, nil},
		{"POST /v1/auth/password", []string{"current_password", "new_password"}, nil},
		// The idempotency key travels in the Idempotency-Key header.
		{"POST /v1/events", []string{"data", "occurred_at", "type"}, []string{"idempotency_key"}},
		{"POST /v1/members", fields(sdk.MemberInput{}), nil},
		{"POST /v1/api-keys", fields(sdk.APIKeyInput{}), nil},
		{"POST /v1/admin/partners/{id}/api-keys", fields(sdk.APIKeyInput{}), nil},
		{"POST /v1/endpoints", fields(sdk.EndpointInput{}), nil},
		{"PATCH /v1/endpoints/{id}", fields(sdk.EndpointUpdate{}), nil},
		{"POST /v1/endpoints/{id}/secret/rotate", []string{"grace_period_seconds"}, nil},
		{"POST /v1/admin/sources/{id}/rotate-token", []string{"grace_period_seconds"}, nil},
		{"POST /v1/endpoints/{id}/recover", []string{"since", "until"}, nil},
		{"POST /v1/endpoints/{id}/backfill", []string{"days"}, nil},
		{"POST /v1/endpoints/{id}/test", []string{"event_type"}, nil},
		{"POST /v1/admin/replay", append(fields(sdk.ReplayInput{}), "dry_run"), nil},
		{"POST /v1/admin/partners", fields(sdk.PartnerInput{}), nil},
		{"PATCH /v1/admin/partners/{id}", fields(sdk.PartnerUpdate{}), nil},
		{"POST /v1/admin/sources", fields(sdk.SourceInput{}), nil},
		{"PATCH /v1/admin/sources/{id}", []string{"name", "odoo", "reconcile_interval_seconds", "rules"}, nil},
		{"POST /v1/admin/sources/{id}/backfill", []string{"since"}, nil},
		{"POST /v1/admin/event-types", fields(sdk.EventTypeInput{}), nil},
		{"PATCH /v1/admin/event-types/{name}", fields(sdk.EventTypeUpdate{}), nil},
	} {
		t.Run(tc.route, func(t *testing.T) {
			method, path, _ := strings.Cut(tc.route, " ")
			item := doc.Paths.Find(path)
			if item == nil || item.GetOperation(method) == nil {
				t.Fatalf("openapi.yaml does not document %s", tc.route)
			}
			op := item.GetOperation(method)
			if op.RequestBody == nil || op.RequestBody.Value == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
				t.Fatalf("%s documents no JSON request body", tc.route)
			}
			var documented []string
			var collect func(s *openapi3.SchemaRef)
			collect = func(s *openapi3.SchemaRef) {
				if s == nil || s.Value == nil {
					return
				}
				for name := range s.Value.Properties {
					if !slices.Contains(documented, name) && !slices.Contains(tc.unsent, name) {
						documented = append(documented, name)
					}
				}
				for _, sub := range s.Value.AllOf {
					collect(sub)
				}
			}
			collect(op.RequestBody.Value.Content.Get("application/json").Schema)
			slices.Sort(documented)
			got := slices.Clone(tc.sdk)
			slices.Sort(got)
			if diff := cmp.Diff(documented, got); diff != "" {
				t.Errorf("request members: openapi.yaml (-) and the SDK (+) differ:\n%s", diff)
			}
		})
	}
}
