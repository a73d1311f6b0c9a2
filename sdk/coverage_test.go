package sdk_test

import (
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/sdk"
)

// sdkRoutes maps every route of the server to the Client method that calls
// it. TestEveryRouteHasAnSDKMethod keeps it equal to the server's routes, so
// a route added without an SDK method fails the build's tests.
var sdkRoutes = map[string]string{
	"GET /healthz":              "Health",
	"GET /readyz":               "Ready",
	"GET /metrics":              "Metrics",
	"POST /ingest/odoo/{token}": "IngestOdoo",

	"POST /v1/auth/signup":   "Signup",
	"POST /v1/auth/login":    "Login",
	"POST /v1/auth/refresh":  "Refresh",
	"POST /v1/auth/logout":   "Logout",
	"POST /v1/auth/password": "ChangePassword",

	"POST /v1/events":          "CreateEvent",
	"GET /v1/me":               "Me",
	"GET /v1/usage":            "Usage",
	"GET /v1/event-types":      "ListEventTypes",
	"GET /v1/members":          "ListMembers",
	"POST /v1/members":         "AddMember",
	"DELETE /v1/members/{id}":  "RemoveMember",
	"GET /v1/api-keys":         "ListAPIKeys",
	"POST /v1/api-keys":        "CreateAPIKey",
	"DELETE /v1/api-keys/{id}": "RevokeAPIKey",

	"GET /v1/endpoints":                     "ListEndpoints",
	"POST /v1/endpoints":                    "CreateEndpoint",
	"GET /v1/endpoints/{id}":                "GetEndpoint",
	"PATCH /v1/endpoints/{id}":              "UpdateEndpoint",
	"DELETE /v1/endpoints/{id}":             "DeleteEndpoint",
	"GET /v1/endpoints/{id}/secret":         "GetEndpointSecret",
	"POST /v1/endpoints/{id}/secret/rotate": "RotateEndpointSecret",
	"POST /v1/endpoints/{id}/enable":        "EnableEndpoint",
	"POST /v1/endpoints/{id}/test":          "SendTestEvent",
	"POST /v1/endpoints/{id}/recover":       "RecoverEndpoint",
	"POST /v1/endpoints/{id}/backfill":      "BackfillEndpoint",
	"GET /v1/recoveries/{id}":               "GetRecovery",

	"GET /v1/deliveries":               "ListDeliveries", // and Deliveries, ExportDeliveries
	"GET /v1/deliveries/{id}":          "GetDelivery",
	"GET /v1/deliveries/{id}/attempts": "ListDeliveryAttempts",
	"POST /v1/deliveries/{id}/retry":   "RetryDelivery",

	"GET /v1/admin/partners":                           "AdminListPartners",
	"POST /v1/admin/partners":                          "AdminCreatePartner",
	"GET /v1/admin/partners/{id}":                      "AdminGetPartner",
	"PATCH /v1/admin/partners/{id}":                    "AdminUpdatePartner",
	"GET /v1/admin/partners/{id}/api-keys":             "AdminListPartnerAPIKeys",
	"POST /v1/admin/partners/{id}/api-keys":            "AdminCreatePartnerAPIKey",
	"DELETE /v1/admin/partners/{id}/api-keys/{key_id}": "AdminRevokePartnerAPIKey",
	"GET /v1/admin/sources":                            "AdminListSources",
	"POST /v1/admin/sources":                           "AdminCreateSource",
	"GET /v1/admin/sources/{id}":                       "AdminGetSource",
	"PATCH /v1/admin/sources/{id}":                     "AdminUpdateSource",
	"POST /v1/admin/sources/{id}/rotate-token":         "AdminRotateSourceToken",
	"POST /v1/admin/sources/{id}/check":                "AdminCheckSource",
	"POST /v1/admin/sources/{id}/backfill":             "AdminBackfillSource",
	"POST /v1/admin/replay":                            "AdminReplay", // and AdminReplayCount
	"GET /v1/admin/replays/{id}":                       "AdminGetReplay",
	"POST /v1/admin/replays/{id}/cancel":               "AdminCancelReplay",
	"GET /v1/admin/audit":                              "AdminListAudit",
	"GET /v1/admin/stats":                              "AdminStats",
	"GET /v1/admin/event-types":                        "AdminListEventTypes",
	"POST /v1/admin/event-types":                       "AdminCreateEventType",
	"PATCH /v1/admin/event-types/{name}":               "AdminUpdateEventType",
}

var fiberParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// TestEveryRouteHasAnSDKMethod compares the server's routes with sdkRoutes
// and checks that each named method exists.
func TestEveryRouteHasAnSDKMethod(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true, Mode: app.ModeAPI})
	seen := map[string]bool{}
	var registered []string
	for _, r := range g.App.Server.Routes() {
		k := r.Method + " " + fiberParam.ReplaceAllString(r.Path, "{$1}")
		if !seen[k] {
			seen[k] = true
			registered = append(registered, k)
		}
	}
	var covered []string
	client := reflect.TypeOf(&sdk.Client{})
	for route, method := range sdkRoutes {
		covered = append(covered, route)
		if _, ok := client.MethodByName(method); !ok {
			t.Errorf("%s: sdk.Client has no method %s", route, method)
		}
	}
	slices.Sort(registered)
	slices.Sort(covered)
	if diff := cmp.Diff(covered, registered); diff != "" {
		t.Errorf("routes: the SDK (-) and the server (+) differ; add the SDK method and its test:\n%s", diff)
	}
}
