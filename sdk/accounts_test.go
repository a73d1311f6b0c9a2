package sdk_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/sdk"
)

func TestAuthAndAccounts(t *testing.T) {
	e := start(t)
	ctx := testContext(t)
	anon := e.client("")
	const pw = "correct horse battery staple"

	// Self-signup: the partner waits for approval.
	su, err := anon.Signup(ctx, sdk.SignupInput{Company: "Acme Logistics", Email: "Owner@Acme.example", Password: pw})
	if err != nil {
		t.Fatalf("Signup: %v", err)
	}
	if !strings.HasPrefix(su.Partner.ID, "ptn_") || su.Partner.Status != sdk.PartnerPending || su.Partner.Name != "Acme Logistics" ||
		su.User.Role != sdk.RolePartnerOwner || su.User.Email != "owner@acme.example" {
		t.Errorf("Signup answered %+v", su)
	}
	if _, err := anon.Signup(ctx, sdk.SignupInput{Company: "Again", Email: "owner@acme.example", Password: pw}); !errors.Is(err, sdk.ErrConflict) {
		t.Errorf("second signup with the same e-mail: %v, want ErrConflict", err)
	}
	_, err = anon.Signup(ctx, sdk.SignupInput{Company: "Weak", Email: "weak@acme.example", Password: "short"})
	var ae *sdk.APIError
	if !errors.Is(err, sdk.ErrValidation) || !errors.As(err, &ae) || len(ae.Errors) != 1 || ae.Errors[0].Field != "password" {
		t.Errorf("weak password: %v, want ErrValidation naming password", err)
	}
	if _, err := anon.Login(ctx, "owner@acme.example", "wrong password!"); !errors.Is(err, sdk.ErrInvalidCredentials) || !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("wrong password: %v, want ErrInvalidCredentials", err)
	}

	tok, err := anon.Login(ctx, "owner@acme.example", pw)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 || !tok.ExpiresAt.After(time.Now()) {
		t.Errorf("Login answered %+v", tok)
	}
	owner := anon.WithToken(tok.AccessToken)
	if me, err := owner.Me(ctx); err != nil || me.ID != su.Partner.ID || me.Status != sdk.PartnerPending {
		t.Errorf("Me while pending: %+v, %v", me, err)
	}
	if _, err := owner.ListEndpoints(ctx, sdk.ListParams{}); !errors.Is(err, sdk.ErrPendingApproval) || !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("ListEndpoints while pending: %v, want ErrPendingApproval", err)
	}
	if _, err := e.admin.AdminUpdatePartner(ctx, su.Partner.ID, sdk.PartnerUpdate{Status: sdk.Ptr(sdk.PartnerActive)}); err != nil {
		t.Fatal(err)
	}

	// Usage, against the quota.
	if _, err := owner.CreateEndpoint(ctx, sdk.EndpointInput{URL: "https://acme.example/hooks", EventTypes: []string{"*"}}); err != nil {
		t.Fatalf("CreateEndpoint as the owner: %v", err)
	}
	u, err := owner.Usage(ctx)
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if u.Period != time.Now().UTC().Format("2006-01") || u.Endpoints != 1 || u.Deliveries != 0 || u.HeldByReason == nil {
		t.Errorf("Usage: %+v", u)
	}

	// Members.
	member, err := owner.AddMember(ctx, sdk.MemberInput{Email: "dev@acme.example", Password: pw})
	if err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	if member.Role != sdk.RolePartnerMember || !strings.HasPrefix(member.ID, "usr_") {
		t.Errorf("AddMember answered %+v", member)
	}
	members, err := owner.ListMembers(ctx)
	if err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	var emails []string
	for _, m := range members {
		emails = append(emails, m.Email+"/"+m.Role)
	}
	slices.Sort(emails)
	if diff := cmp.Diff([]string{"dev@acme.example/partner_member", "owner@acme.example/partner_owner"}, emails); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	mtok, err := anon.Login(ctx, "dev@acme.example", pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.WithToken(mtok.AccessToken).ListMembers(ctx); !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("ListMembers as a member: %v, want ErrForbidden", err)
	}
	if err := owner.RemoveMember(ctx, su.User.ID); !errors.Is(err, sdk.ErrConflict) {
		t.Errorf("removing oneself: %v, want ErrConflict", err)
	}
	if err := owner.RemoveMember(ctx, member.ID); err != nil {
		t.Fatalf("RemoveMember: %v", err)
	}
	if _, err := anon.WithToken(mtok.AccessToken).Me(ctx); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("a removed member's session: %v, want ErrUnauthorized", err)
	}

	// API keys, the partner's own and through the admin.
	key, err := owner.CreateAPIKey(ctx, sdk.APIKeyInput{Name: "ci", Scopes: []string{sdk.ScopeDeliveriesRead}})
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	if !strings.HasPrefix(key.Key, "hg_") || key.PartnerID != su.Partner.ID {
		t.Errorf("CreateAPIKey answered %+v", key)
	}
	kc := e.client(key.Key)
	if _, err := kc.ListDeliveries(ctx, sdk.DeliveryListParams{}); err != nil {
		t.Errorf("the new key: %v", err)
	}
	if _, err := kc.CreateAPIKey(ctx, sdk.APIKeyInput{Name: "escalate", Scopes: []string{sdk.ScopeEndpointsWrite}}); err == nil {
		t.Error("a deliveries:read key minted a stronger key")
	}
	expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	adminKey, err := e.admin.AdminCreatePartnerAPIKey(ctx, su.Partner.ID, sdk.APIKeyInput{Name: "ops", ExpiresAt: &expires})
	if err != nil {
		t.Fatal(err)
	}
	if adminKey.ExpiresAt == nil || !adminKey.ExpiresAt.Equal(expires) {
		t.Errorf("expires_at %v, want %v", adminKey.ExpiresAt, expires)
	}
	keys, err := owner.ListAPIKeys(ctx)
	if err != nil {
		t.Fatalf("ListAPIKeys: %v", err)
	}
	adminView, err := e.admin.AdminListPartnerAPIKeys(ctx, su.Partner.ID)
	if err != nil {
		t.Fatalf("AdminListPartnerAPIKeys: %v", err)
	}
	ids := func(ks []sdk.APIKey) []string {
		var out []string
		for _, k := range ks {
			if k.Key != "" {
				t.Errorf("a listed key shows its secret: %+v", k)
			}
			out = append(out, k.ID)
		}
		slices.Sort(out)
		return out
	}
	want := []string{key.ID, adminKey.ID}
	slices.Sort(want)
	if diff := cmp.Diff(want, ids(keys)); diff != "" {
		t.Errorf("ListAPIKeys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, ids(adminView)); diff != "" {
		t.Errorf("AdminListPartnerAPIKeys (-want +got):\n%s", diff)
	}
	if err := owner.RevokeAPIKey(ctx, key.ID); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	if _, err := kc.ListDeliveries(ctx, sdk.DeliveryListParams{}); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("a revoked key: %v, want ErrUnauthorized", err)
	}
	if err := e.admin.AdminRevokePartnerAPIKey(ctx, su.Partner.ID, adminKey.ID); err != nil {
		t.Fatalf("AdminRevokePartnerAPIKey: %v", err)
	}
	if err := e.admin.AdminRevokePartnerAPIKey(ctx, su.Partner.ID, "key_missing"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("revoking an unknown key: %v, want ErrNotFound", err)
	}
	if _, err := e.admin.ListAPIKeys(ctx); !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("ListAPIKeys as admin: %v, want ErrForbidden", err)
	}

	// Refresh spends the refresh token; reusing it ends the session.
	next, err := anon.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if next.RefreshToken == tok.RefreshToken || next.AccessToken == "" {
		t.Errorf("Refresh answered %+v", next)
	}
	if _, err := anon.Refresh(ctx, tok.RefreshToken); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("reusing a refresh token: %v, want ErrUnauthorized", err)
	}
	if _, err := anon.WithToken(next.AccessToken).Me(ctx); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("after refresh-token reuse the session should be revoked: %v", err)
	}

	// Password change ends every session; logout ends one.
	tok, err = anon.Login(ctx, "owner@acme.example", pw)
	if err != nil {
		t.Fatal(err)
	}
	owner = anon.WithToken(tok.AccessToken)
	if err := owner.ChangePassword(ctx, "not it at all", pw+"!"); !errors.Is(err, sdk.ErrValidation) {
		t.Errorf("ChangePassword with a wrong current password: %v, want ErrValidation", err)
	}
	if err := owner.ChangePassword(ctx, pw, pw+"!"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if _, err := owner.Me(ctx); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("Me after a password change: %v, want ErrUnauthorized", err)
	}
	tok, err = anon.Login(ctx, "owner@acme.example", pw+"!")
	if err != nil {
		t.Fatalf("Login with the new password: %v", err)
	}
	owner = anon.WithToken(tok.AccessToken)
	if err := owner.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := owner.Me(ctx); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("Me after logout: %v, want ErrUnauthorized", err)
	}
	if err := e.admin.Logout(ctx); !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("Logout with an API token: %v, want ErrForbidden", err)
	}

	// The audit trail saw all of it.
	page, err := e.admin.AdminListAudit(ctx, sdk.AuditListParams{Limit: 3})
	if err != nil {
		t.Fatalf("AdminListAudit: %v", err)
	}
	if len(page.Data) != 3 || page.NextCursor == "" {
		t.Errorf("first audit page: %d entries, cursor %q", len(page.Data), page.NextCursor)
	}
	actions := map[string]bool{}
	for a, err := range e.admin.AdminAudit(ctx, sdk.AuditListParams{PartnerID: su.Partner.ID, Limit: 5}) {
		if err != nil {
			t.Fatalf("AdminAudit: %v", err)
		}
		if a.ID == "" || a.At.IsZero() || a.Actor == "" {
			t.Errorf("audit entry %+v", a)
		}
		actions[a.Action] = true
	}
	for _, want := range []string{"partner.signed_up", "partner.approved", "member.added", "member.removed", "password.changed"} {
		if !actions[want] {
			t.Errorf("the audit trail lacks %s (has %v)", want, actions)
		}
	}
	for a, err := range e.admin.AdminAudit(ctx, sdk.AuditListParams{Action: "login.*"}) {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(a.Action, "login.") {
			t.Errorf("action filter login.* let through %s", a.Action)
		}
	}
	if _, err := owner.AdminListAudit(ctx, sdk.AuditListParams{}); err == nil {
		t.Error("a partner read the audit trail")
	}
}
