package portal

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

func (p *Portal) adminRoutes(g fiber.Router) {
	g.Get("/", func(c *fiber.Ctx) error { return c.Redirect(Prefix+"/admin/partners", fiber.StatusFound) })
	g.Get("/partners", p.admin(p.partnersPage))
	g.Get("/partners/:id", p.admin(p.partnerPage))
	g.Post("/partners/:id/status", p.admin(p.setPartnerStatus))
	g.Post("/partners/:id/entitlements", p.admin(p.setEntitlements))
	g.Post("/partners/:id/quota", p.admin(p.setQuota))
	g.Post("/partners/:id/keys", p.admin(p.issuePartnerKey))
	g.Post("/partners/:id/keys/:key/revoke", p.admin(p.revokePartnerKey))
	g.Get("/credentials", p.admin(p.credentialsPage))
	g.Post("/users", p.admin(p.createAdminUser))
	g.Get("/sources", p.admin(p.sourcesPage))
	g.Post("/sources", p.admin(p.createSource))
	g.Post("/sources/:id/rotate", p.admin(p.rotateSource))
	g.Get("/event-types", p.admin(p.eventTypesPage))
	g.Post("/event-types", p.admin(p.createEventType))
	g.Post("/event-types/:name", p.admin(p.updateEventType))
	g.Get("/replay", p.admin(p.replayPage))
	g.Post("/replay", p.admin(p.replay))
	g.Get("/replays/:id", p.admin(p.replayJobPage))
	g.Get("/replays/:id/state", p.admin(p.replayJobState))
	g.Post("/replays/:id/cancel", p.admin(p.cancelReplay))
	g.Get("/audit", p.admin(p.auditPage))
	g.Get("/health", p.admin(p.healthPage))
}

// --- partners ---

func (p *Portal) partnersPage(c *fiber.Ctx, s *session) error {
	v := newView("Partners", "partners")
	type group struct {
		Status   string
		Partners []domain.Partner
		More     bool
	}
	var groups []group
	for _, st := range []domain.PartnerStatus{domain.PartnerPending, domain.PartnerActive, domain.PartnerSuspended} {
		page, err := p.svc.ListPartners(ctx(c), s.P, string(st), "", 100)
		if err != nil {
			return err
		}
		groups = append(groups, group{Status: string(st), Partners: page.Items, More: page.NextCursor != ""})
	}
	v.D["Groups"] = groups
	return p.render(c, s, fiber.StatusOK, "admin_partners", v)
}

func (p *Portal) partnerView(c *fiber.Ctx, s *session, id string, v *view, status int) error {
	pt, err := p.svc.Partner(ctx(c), s.P, id)
	if err != nil {
		return err
	}
	v.Title = "Partner " + pt.Name
	v.D["Partner"] = pt
	keys, err := p.svc.ListAPIKeys(ctx(c), s.P, id)
	if err != nil {
		return err
	}
	v.D["Keys"] = keys
	types, err := p.svc.EventTypes(ctx(c), s.P)
	if err != nil {
		return err
	}
	v.D["EventTypes"] = types
	for k, val := range map[string]string{
		"entitlements":        strings.Join(pt.Entitlements, ", "),
		"monthly_deliveries":  strconv.FormatInt(pt.Quota.MonthlyDeliveries, 10),
		"max_endpoints":       strconv.Itoa(pt.Quota.MaxEndpoints),
		"max_rate_per_second": strconv.Itoa(pt.Quota.MaxRatePerSecond),
	} {
		if _, ok := v.Form[k]; !ok {
			v.Form[k] = val
		}
	}
	return p.render(c, s, status, "admin_partner", v)
}

func (p *Portal) partnerPage(c *fiber.Ctx, s *session) error {
	return p.partnerView(c, s, c.Params("id"), newView("", "partners"), fiber.StatusOK)
}

func (p *Portal) setPartnerStatus(c *fiber.Ctx, s *session) error {
	st := domain.PartnerStatus(c.FormValue("status"))
	if !st.Valid() {
		return domain.Invalid("status", "must be pending, active or suspended")
	}
	pt, err := p.svc.UpdatePartner(ctx(c), s.P, c.Params("id"), service.PartnerPatch{Status: &st})
	if err != nil {
		return err
	}
	msg := map[domain.PartnerStatus]string{
		domain.PartnerActive:    pt.Name + " is active.",
		domain.PartnerSuspended: pt.Name + " is suspended: its deliveries are held and its keys stop working.",
		domain.PartnerPending:   pt.Name + " is pending.",
	}[st]
	back := c.FormValue("back")
	if back != Prefix+"/admin/partners" {
		back = Prefix + "/admin/partners/" + pt.ID
	}
	return p.redirect(c, back, msg)
}

func splitPatterns(v string) []string {
	out := []string{}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		out = append(out, f)
	}
	return out
}

func (p *Portal) setEntitlements(c *fiber.Ctx, s *session) error {
	v := newView("", "partners")
	v.Form["entitlements"] = c.FormValue("entitlements")
	ent := splitPatterns(v.Form["entitlements"])
	_, err := p.svc.UpdatePartner(ctx(c), s.P, c.Params("id"), service.PartnerPatch{Entitlements: &ent})
	if err != nil {
		if fe, ok := fieldErrors(err, "entitlements"); ok {
			v.Errors = fe
			return p.partnerView(c, s, c.Params("id"), v, fiber.StatusBadRequest)
		}
		return err
	}
	return p.redirect(c, Prefix+"/admin/partners/"+c.Params("id"), "Entitlements saved.")
}

func (p *Portal) setQuota(c *fiber.Ctx, s *session) error {
	v := newView("", "partners")
	var q domain.Quota
	bad := false
	num := func(field string) int64 {
		raw := strings.TrimSpace(c.FormValue(field))
		v.Form[field] = raw
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			v.Errors["quota."+field] = "Enter a whole number (0: unlimited)."
			bad = true
		}
		return n
	}
	q.MonthlyDeliveries = num("monthly_deliveries")
	q.MaxEndpoints = int(num("max_endpoints"))
	q.MaxRatePerSecond = int(num("max_rate_per_second"))
	if !bad {
		_, err := p.svc.UpdatePartner(ctx(c), s.P, c.Params("id"), service.PartnerPatch{Quota: &q})
		if err == nil {
			return p.redirect(c, Prefix+"/admin/partners/"+c.Params("id"), "Quota saved.")
		}
		fe, ok := fieldErrors(err, "quota.monthly_deliveries", "quota.max_endpoints", "quota.max_rate_per_second")
		if !ok {
			return err
		}
		v.Errors = fe
	}
	return p.partnerView(c, s, c.Params("id"), v, fiber.StatusBadRequest)
}

func (p *Portal) issuePartnerKey(c *fiber.Ctx, s *session) error {
	v := newView("", "partners")
	name := strings.TrimSpace(c.FormValue("name"))
	k, secret, err := p.svc.IssueAPIKey(ctx(c), s.P, c.Params("id"), service.APIKeyInput{Name: name})
	if err != nil {
		if fe, ok := fieldErrors(err, "name"); ok {
			v.Errors = fe
			v.Form["key_name"] = name
			return p.partnerView(c, s, c.Params("id"), v, fiber.StatusBadRequest)
		}
		return err
	}
	v.D["NewKey"] = k
	v.D["NewSecret"] = secret
	return p.partnerView(c, s, c.Params("id"), v, fiber.StatusCreated)
}

func (p *Portal) revokePartnerKey(c *fiber.Ctx, s *session) error {
	if err := p.svc.RevokeAPIKey(ctx(c), s.P, c.Params("id"), c.Params("key")); err != nil {
		return err
	}
	back := Prefix + "/admin/partners/" + c.Params("id")
	if c.FormValue("back") == "credentials" {
		back = Prefix + "/admin/credentials"
	}
	return p.redirect(c, back, "The key was revoked.")
}

// --- credentials ---

func (p *Portal) credentialsView(c *fiber.Ctx, s *session, v *view, status int) error {
	page, err := p.svc.ListPartners(ctx(c), s.P, "", c.Query("cursor"), 25)
	if err != nil {
		return err
	}
	type row struct {
		Partner domain.Partner
		Keys    []domain.APIKey
	}
	rows := make([]row, 0, len(page.Items))
	for _, pt := range page.Items {
		keys, err := p.svc.ListAPIKeys(ctx(c), s.P, pt.ID)
		if err != nil {
			return err
		}
		rows = append(rows, row{Partner: pt, Keys: keys})
	}
	v.D["Rows"] = rows
	v.D["Next"] = page.NextCursor
	return p.render(c, s, status, "admin_credentials", v)
}

func (p *Portal) credentialsPage(c *fiber.Ctx, s *session) error {
	return p.credentialsView(c, s, newView("Credentials", "credentials"), fiber.StatusOK)
}

func (p *Portal) createAdminUser(c *fiber.Ctx, s *session) error {
	v := newView("Credentials", "credentials")
	v.Form["email"] = strings.TrimSpace(c.FormValue("email"))
	u, err := p.svc.CreateAdminUser(ctx(c), s.P, v.Form["email"], c.FormValue("password"))
	if err != nil {
		var ce *domain.ConflictError
		if fe, ok := fieldErrors(err, "email", "password"); ok {
			v.Errors = fe
		} else if errors.As(err, &ce) {
			v.Errors["email"] = ce.Reason
		} else {
			return err
		}
		return p.credentialsView(c, s, v, fiber.StatusBadRequest)
	}
	return p.redirect(c, Prefix+"/admin/credentials", "Admin user "+u.Email+" created; they can log in now.")
}

// --- sources ---

func (p *Portal) sourcesView(c *fiber.Ctx, s *session, v *view, status int) error {
	srcs, err := p.svc.SourceViews(ctx(c), s.P)
	if err != nil {
		return err
	}
	v.D["Sources"] = srcs
	v.D["Steps"] = odooSteps
	return p.render(c, s, status, "admin_sources", v)
}

func (p *Portal) sourcesPage(c *fiber.Ctx, s *session) error {
	return p.sourcesView(c, s, newView("Sources", "sources"), fiber.StatusOK)
}

func (p *Portal) createSource(c *fiber.Ctx, s *session) error {
	v := newView("Sources", "sources")
	v.Form["name"] = strings.TrimSpace(c.FormValue("name"))
	v.Form["kind"] = c.FormValue("kind", "odoo")
	cs, err := p.svc.CreateSource(ctx(c), s.P, service.SourceInput{Name: v.Form["name"], Kind: domain.SourceKind(v.Form["kind"])})
	if err != nil {
		if fe, ok := fieldErrors(err, "name", "kind"); ok {
			v.Errors = fe
			return p.sourcesView(c, s, v, fiber.StatusBadRequest)
		}
		return err
	}
	v.D["Created"] = cs
	v.Form = map[string]string{}
	return p.sourcesView(c, s, v, fiber.StatusCreated)
}

func (p *Portal) rotateSource(c *fiber.Ctx, s *session) error {
	hours, err := strconv.Atoi(c.FormValue("grace_hours", "24"))
	if err != nil {
		hours = -1
	}
	cs, err := p.svc.RotateSourceToken(ctx(c), s.P, c.Params("id"), time.Duration(hours)*time.Hour)
	v := newView("Sources", "sources")
	if err != nil {
		if _, ok := fieldErrors(err); ok {
			v.Errors["grace_hours"] = "Choose a grace period from 0 to 168 hours (7 days)."
			return p.sourcesView(c, s, v, fiber.StatusBadRequest)
		}
		return err
	}
	v.D["Created"] = cs
	v.D["Rotated"] = true
	return p.sourcesView(c, s, v, fiber.StatusOK)
}

// --- event catalogue ---

// The catalogue's handlers are in admin_eventtypes.go.

// --- replay ---

func (p *Portal) replayView(c *fiber.Ctx, s *session, v *view, status int) error {
	page, err := p.svc.ListPartners(ctx(c), s.P, "", "", 200)
	if err != nil {
		return err
	}
	v.D["Partners"] = page.Items
	if _, ok := v.Form["since"]; !ok {
		now := p.d.Now().UTC()
		v.Form["since"] = now.Add(-time.Hour).Format(timeInput)
		v.Form["until"] = now.Add(time.Minute).Format(timeInput)
	}
	return p.render(c, s, status, "admin_replay", v)
}

func (p *Portal) replayPage(c *fiber.Ctx, s *session) error {
	return p.replayView(c, s, newView("Bulk replay", "replay"), fiber.StatusOK)
}

func (p *Portal) replay(c *fiber.Ctx, s *session) error {
	v := newView("Bulk replay", "replay")
	for _, k := range []string{"since", "until", "event_types", "partner_id", "endpoint_id"} {
		v.Form[k] = strings.TrimSpace(c.FormValue(k))
	}
	in := service.ReplayInput{
		EventTypes: splitPatterns(v.Form["event_types"]), PartnerID: v.Form["partner_id"], EndpointID: v.Form["endpoint_id"],
		DryRun: c.FormValue("action") != "start",
	}
	var ok bool
	if in.Since, ok = parseTimeInput(v.Form["since"]); !ok {
		v.Errors["since"] = "Enter a date and time (UTC)."
	}
	if in.Until, ok = parseTimeInput(v.Form["until"]); !ok {
		v.Errors["until"] = "Enter a date and time (UTC)."
	}
	if len(v.Errors) > 0 {
		return p.replayView(c, s, v, fiber.StatusBadRequest)
	}
	res, err := p.svc.Replay(ctx(c), s.P, in)
	if err != nil {
		if fe, ok := fieldErrors(err, "since", "until", "event_types", "partner_id", "endpoint_id"); ok {
			v.Errors = fe
			return p.replayView(c, s, v, fiber.StatusBadRequest)
		}
		return err
	}
	if res.Job == nil {
		v.D["DryRun"] = true
		v.D["Count"] = res.Count
		return p.replayView(c, s, v, fiber.StatusOK)
	}
	return c.Redirect(Prefix+"/admin/replays/"+res.Job.ID, fiber.StatusSeeOther)
}

func (p *Portal) replayJobPage(c *fiber.Ctx, s *session) error {
	job, err := p.svc.ReplayJob(ctx(c), s.P, c.Params("id"))
	if err != nil {
		return err
	}
	v := newView("Replay "+job.ID, "replay")
	v.D["Job"] = job
	return p.render(c, s, fiber.StatusOK, "admin_replay_job", v)
}

func (p *Portal) replayJobState(c *fiber.Ctx, s *session) error {
	job, err := p.svc.ReplayJob(ctx(c), s.P, c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(jobStateOf(job))
}

func (p *Portal) cancelReplay(c *fiber.Ctx, s *session) error {
	if _, err := p.svc.CancelReplay(ctx(c), s.P, c.Params("id")); err != nil {
		return err
	}
	return p.redirect(c, Prefix+"/admin/replays/"+c.Params("id"), "The replay was cancelled.")
}

// --- audit ---

func (p *Portal) auditPage(c *fiber.Ctx, s *session) error {
	v := newView("Audit trail", "audit")
	q := service.AuditQuery{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action")),
		PartnerID: strings.TrimSpace(c.Query("partner")), Cursor: c.Query("cursor"), Limit: pageSize}
	v.Form["actor"], v.Form["action"], v.Form["partner"] = q.Actor, q.Action, q.PartnerID
	page, err := p.svc.ListAudit(ctx(c), s.P, q)
	status := fiber.StatusOK
	if err != nil {
		fe, ok := fieldErrors(err, "actor", "action", "partner", "cursor")
		if !ok {
			return err
		}
		v.Errors, status = fe, fiber.StatusBadRequest
	} else {
		v.D["Entries"] = page.Items
		if page.NextCursor != "" {
			v.D["NextURL"] = Prefix + "/admin/audit?actor=" + urlQueryEscape(q.Actor) + "&action=" + urlQueryEscape(q.Action) +
				"&partner=" + urlQueryEscape(q.PartnerID) + "&cursor=" + urlQueryEscape(page.NextCursor)
		}
	}
	return p.render(c, s, status, "admin_audit", v)
}

// --- health ---

// partnerHealth is one partner's row of the health page.
type partnerHealth struct {
	ID, Name string
	Last5m   service.PartnerRate
	Last24h  service.PartnerRate
	// PerMinute is the delivery rate over the last 5 minutes.
	PerMinute float64
}

func (p *Portal) healthPage(c *fiber.Ctx, s *session) error {
	v := newView("Live health", "health")
	st, err := p.svc.Stats(ctx(c), s.P)
	if err != nil {
		return err
	}
	v.D["Stats"] = st
	names := map[string]string{}
	page, err := p.svc.ListPartners(ctx(c), s.P, "", "", 200)
	if err != nil {
		return err
	}
	for _, pt := range page.Items {
		names[pt.ID] = pt.Name
	}
	rows := map[string]*partnerHealth{}
	var order []string
	get := func(id string) *partnerHealth {
		if r, ok := rows[id]; ok {
			return r
		}
		r := &partnerHealth{ID: id, Name: names[id]}
		if r.Name == "" {
			r.Name = id
		}
		rows[id] = r
		order = append(order, id)
		return r
	}
	for _, r := range st.Partners24h {
		get(r.PartnerID).Last24h = r
	}
	for _, r := range st.Partners5m {
		h := get(r.PartnerID)
		h.Last5m = r
		h.PerMinute = float64(r.Succeeded+r.Failed) / 5
	}
	out := make([]partnerHealth, 0, len(order))
	for _, id := range order {
		out = append(out, *rows[id])
	}
	v.D["Partners"] = out
	return p.render(c, s, fiber.StatusOK, "admin_health", v)
}
