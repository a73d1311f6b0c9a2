package sdk_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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
