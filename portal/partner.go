package portal

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

// pageSize is how many rows a list page shows.
const pageSize = 50

func (p *Portal) partnerRoutes(g fiber.Router) {
	g.Get("/dashboard", p.partner(p.dashboard))
	g.Get("/keys", p.partner(p.keysPage))
	g.Post("/keys", p.partner(p.createKey))
	g.Post("/keys/:id/revoke", p.partner(p.revokeKey))
	g.Get("/endpoints", p.partner(p.endpointsPage))
	g.Get("/endpoints/new", p.partner(p.newEndpointPage))
	g.Post("/endpoints", p.partner(p.createEndpoint))
	g.Get("/endpoints/:id", p.partner(p.endpointPage))
	g.Post("/endpoints/:id", p.partner(p.updateEndpoint))
	g.Post("/endpoints/:id/pause", p.partner(p.pauseEndpoint))
	g.Post("/endpoints/:id/enable", p.partner(p.enableEndpoint))
	g.Post("/endpoints/:id/delete", p.partner(p.deleteEndpoint))
	g.Post("/endpoints/:id/secret", p.partner(p.revealSecret))
	g.Post("/endpoints/:id/rotate", p.partner(p.rotateSecret))
	g.Post("/endpoints/:id/test", p.partner(p.testEndpoint))
	g.Post("/endpoints/:id/recover", p.partner(p.recoverEndpoint))
	g.Post("/endpoints/:id/backfill", p.partner(p.backfillEndpoint))
	g.Get("/recoveries/:id", p.partner(p.recoveryPage))
	g.Get("/recoveries/:id/state", p.partner(p.recoveryState))
	g.Get("/deliveries", p.partner(p.deliveriesPage))
	g.Get("/deliveries/:id", p.partner(p.deliveryPage))
	g.Get("/deliveries/:id/state", p.partner(p.deliveryState))
	g.Post("/deliveries/:id/retry", p.partner(p.retryDelivery))
	g.Get("/verify", p.partner(p.verifyPage))
}

// --- dashboard ---

func (p *Portal) dashboard(c *fiber.Ctx, s *session) error {
	v := newView("Dashboard", "dashboard")
	if s.Pending() {
		return p.render(c, s, fiber.StatusOK, "dashboard", v)
	}
	eps, err := p.svc.ListEndpoints(ctx(c), s.P, "", 100)
	if err != nil {
		return err
	}
	v.D["Endpoints"] = eps.Items
	v.D["MoreEndpoints"] = eps.NextCursor != ""
	act, err := p.svc.DeliveryActivity(ctx(c), s.P, 24, time.Hour)
	if err != nil {
		return err
	}
	var tot service.ActivityBucket
	for _, b := range act {
		tot.Succeeded += b.Succeeded
		tot.Failed += b.Failed
		tot.Held += b.Held
		tot.Pending += b.Pending
	}
	v.D["Chart"] = activityChart(act)
	v.D["Totals"] = tot
	u, err := p.svc.Usage(ctx(c), s.P)
	if err != nil {
		return err
	}
	v.D["Usage"] = u
	return p.render(c, s, fiber.StatusOK, "dashboard", v)
}

// --- API keys ---

func (p *Portal) keysView(c *fiber.Ctx, s *session, v *view, status int) error {
	if s.Owner() {
		keys, err := p.svc.ListAPIKeys(ctx(c), s.P, "")
		if err != nil {
			return err
		}
		v.D["Keys"] = keys
	}
	var scopes []string
	for _, sc := range domain.KeyScopes {
		if s.P.Has(sc) {
			scopes = append(scopes, sc)
		}
	}
	v.D["Scopes"] = scopes
	v.D["DefaultScopes"] = domain.PartnerScopes
	return p.render(c, s, status, "keys", v)
}

func (p *Portal) keysPage(c *fiber.Ctx, s *session) error {
	return p.keysView(c, s, newView("API keys", "keys"), fiber.StatusOK)
}

func (p *Portal) createKey(c *fiber.Ctx, s *session) error {
	v := newView("API keys", "keys")
	v.Form["name"] = strings.TrimSpace(c.FormValue("name"))
	in := service.APIKeyInput{Name: v.Form["name"], Scopes: formValues(c, "scopes")}
	if len(in.Scopes) == 0 {
		in.Scopes = nil // the default scopes
	}
	if d := strings.TrimSpace(c.FormValue("expires_days")); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 3650 {
			v.Errors["expires_days"] = "Enter a number of days from 1 to 3650, or leave it empty for a key that does not expire."
			return p.keysView(c, s, v, fiber.StatusBadRequest)
		}
		t := p.d.Now().UTC().Add(time.Duration(n) * 24 * time.Hour)
		in.ExpiresAt = &t
		v.Form["expires_days"] = d
	}
	k, secret, err := p.svc.IssueAPIKey(ctx(c), s.P, "", in)
	if err != nil {
		if fe, ok := fieldErrors(err, "name", "scopes", "expires_at"); ok {
			v.Errors = fe
			return p.keysView(c, s, v, fiber.StatusBadRequest)
		}
		return err
	}
	v.D["NewKey"] = k
	v.D["NewSecret"] = secret
	v.Form = map[string]string{}
	return p.keysView(c, s, v, fiber.StatusCreated)
}

func (p *Portal) revokeKey(c *fiber.Ctx, s *session) error {
	if err := p.svc.RevokeAPIKey(ctx(c), s.P, "", c.Params("id")); err != nil {
		return err
	}
	return p.redirect(c, Prefix+"/keys", "The key was revoked; it stops working at once.")
}

// --- endpoints ---

func (p *Portal) endpointsPage(c *fiber.Ctx, s *session) error {
	v := newView("Endpoints", "endpoints")
	page, err := p.svc.ListEndpoints(ctx(c), s.P, c.Query("cursor"), pageSize)
	if err != nil {
		return err
	}
	v.D["Endpoints"] = page.Items
	v.D["Next"] = page.NextCursor
	return p.render(c, s, fiber.StatusOK, "endpoints", v)
}

// eventTypePicker loads the catalogue within the partner's entitlements and
// splits patterns into picked catalogue names and other patterns.
func (p *Portal) eventTypePicker(c *fiber.Ctx, s *session, v *view, patterns []string) error {
	types, err := p.svc.EventTypes(ctx(c), s.P)
	if err != nil {
		return err
	}
	v.D["EventTypes"] = types
	picked := map[string]bool{}
	var other []string
	for _, pt := range patterns {
		if slices.ContainsFunc(types, func(t domain.EventType) bool { return t.Name == pt }) {
			picked[pt] = true
		} else {
			other = append(other, pt)
		}
	}
	v.D["Picked"] = picked
	if _, ok := v.Form["patterns"]; !ok {
		v.Form["patterns"] = strings.Join(other, ", ")
	}
	v.D["Entitlements"] = strings.Join(s.Partner.Entitlements, ", ")
	return nil
}

func (p *Portal) newEndpointPage(c *fiber.Ctx, s *session) error {
	v := newView("New endpoint", "endpoints")
	if err := p.eventTypePicker(c, s, v, nil); err != nil {
		return err
	}
	return p.render(c, s, fiber.StatusOK, "endpoint_new", v)
}

// endpointForm reads the endpoint form: URL, description, the picked event
// types plus free patterns, rate limit.
func endpointForm(c *fiber.Ctx, v *view) (url, desc string, patterns []string, rate int, ok bool) {
	url = strings.TrimSpace(c.FormValue("url"))
	desc = strings.TrimSpace(c.FormValue("description"))
	v.Form["url"], v.Form["description"] = url, desc
	patterns = formValues(c, "event_types")
	v.Form["patterns"] = strings.TrimSpace(c.FormValue("patterns"))
	for _, f := range strings.FieldsFunc(v.Form["patterns"], func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		patterns = append(patterns, f)
	}
	v.Form["rate_limit"] = strings.TrimSpace(c.FormValue("rate_limit"))
	ok = true
	if v.Form["rate_limit"] != "" {
		n, err := strconv.Atoi(v.Form["rate_limit"])
		if err != nil {
			v.Errors["rate_limit_per_second"] = "Enter a whole number of deliveries per second (0 or empty: no limit)."
			ok = false
		}
		rate = n
	}
	return url, desc, patterns, rate, ok
}

var endpointFields = []string{"url", "description", "event_types", "rate_limit_per_second"}

func (p *Portal) createEndpoint(c *fiber.Ctx, s *session) error {
	v := newView("New endpoint", "endpoints")
	url, desc, patterns, rate, ok := endpointForm(c, v)
	var err error
	if ok {
		var e domain.Endpoint
		var secret string
		e, secret, err = p.svc.CreateEndpoint(ctx(c), s.P, service.EndpointInput{URL: url, Description: desc, EventTypes: patterns, RateLimitPerSecond: rate})
		if err == nil {
			ev := newView("Endpoint "+e.URL, "endpoints")
			ev.D["NewSecret"] = secret
			ev.Flash = "The endpoint was created. Copy its signing secret now: you can reveal it again later on this page."
			return p.endpointView(c, s, e.ID, ev, fiber.StatusCreated)
		}
		fe, isField := fieldErrors(err, endpointFields...)
		if !isField {
			var qe *domain.QuotaError
			if !errors.As(err, &qe) {
				return err
			}
			fe = map[string]string{"_form": qe.Reason}
		}
		v.Errors = fe
	}
	if perr := p.eventTypePicker(c, s, v, patterns); perr != nil {
		return perr
	}
	return p.render(c, s, fiber.StatusBadRequest, "endpoint_new", v)
}

// endpointView renders an endpoint's page: settings form, secret, test
// event, recovery and its latest deliveries.
func (p *Portal) endpointView(c *fiber.Ctx, s *session, id string, v *view, status int) error {
	e, err := p.svc.Endpoint(ctx(c), s.P, id)
	if err != nil {
		return err
	}
	if v.Title == "" {
		v.Title = "Endpoint " + e.URL
	}
	v.D["Endpoint"] = e
	if _, ok := v.Form["url"]; !ok {
		v.Form["url"], v.Form["description"] = e.URL, e.Description
		if e.RateLimitPerSecond > 0 {
			v.Form["rate_limit"] = strconv.Itoa(e.RateLimitPerSecond)
		}
	}
	patterns := e.EventTypes
	if ps, ok := v.D["FormPatterns"].([]string); ok {
		patterns = ps
	}
	if err := p.eventTypePicker(c, s, v, patterns); err != nil {
		return err
	}
	recent, err := p.svc.ListDeliveries(ctx(c), s.P, service.DeliveryQuery{EndpointID: id, Limit: 10})
	if err != nil {
		return err
	}
	v.D["Recent"] = recent.Items
	if _, ok := v.Form["since"]; !ok {
		v.Form["since"] = p.d.Now().UTC().Add(-24 * time.Hour).Format(timeInput)
	}
	return p.render(c, s, status, "endpoint", v)
}

func (p *Portal) endpointPage(c *fiber.Ctx, s *session) error {
	return p.endpointView(c, s, c.Params("id"), newView("", "endpoints"), fiber.StatusOK)
}

func (p *Portal) updateEndpoint(c *fiber.Ctx, s *session) error {
	v := newView("", "endpoints")
	url, desc, patterns, rate, ok := endpointForm(c, v)
	if ok {
		_, err := p.svc.UpdateEndpoint(ctx(c), s.P, c.Params("id"), service.EndpointPatch{
			URL: &url, Description: &desc, EventTypes: &patterns, RateLimitPerSecond: &rate,
		})
		if err == nil {
			return p.redirect(c, Prefix+"/endpoints/"+c.Params("id"), "The endpoint was saved.")
		}
		fe, isField := fieldErrors(err, endpointFields...)
		if !isField {
			return err
		}
		v.Errors = fe
	}
	v.D["FormPatterns"] = patterns
	return p.endpointView(c, s, c.Params("id"), v, fiber.StatusBadRequest)
}

func (p *Portal) pauseEndpoint(c *fiber.Ctx, s *session) error {
	paused := domain.EndpointPaused
	if _, err := p.svc.UpdateEndpoint(ctx(c), s.P, c.Params("id"), service.EndpointPatch{Status: &paused}); err != nil {
		return err
	}
	return p.redirect(c, Prefix+"/endpoints/"+c.Params("id"), "The endpoint is paused: new deliveries are held until you enable it.")
}

func (p *Portal) enableEndpoint(c *fiber.Ctx, s *session) error {
	if _, err := p.svc.EnableEndpoint(ctx(c), s.P, c.Params("id")); err != nil {
		return err
	}
	return p.redirect(c, Prefix+"/endpoints/"+c.Params("id"), "The endpoint is enabled; held deliveries are being sent.")
}

func (p *Portal) deleteEndpoint(c *fiber.Ctx, s *session) error {
	if err := p.svc.DeleteEndpoint(ctx(c), s.P, c.Params("id")); err != nil {
		return err
	}
	return p.redirect(c, Prefix+"/endpoints", "The endpoint was deleted.")
}

// revealSecret shows the signing secret (a POST, so the secret is never in
// a URL, the history or a cache).
func (p *Portal) revealSecret(c *fiber.Ctx, s *session) error {
	sec, err := p.svc.Secret(ctx(c), s.P, c.Params("id"))
	if err != nil {
		return err
	}
	v := newView("", "endpoints")
	v.D["Secret"] = sec
	return p.endpointView(c, s, c.Params("id"), v, fiber.StatusOK)
}

func (p *Portal) rotateSecret(c *fiber.Ctx, s *session) error {
	hours, err := strconv.Atoi(c.FormValue("grace_hours", "24"))
	if err != nil {
		hours = -1
	}
	sec, err := p.svc.RotateSecret(ctx(c), s.P, c.Params("id"), time.Duration(hours)*time.Hour)
	v := newView("", "endpoints")
	if err != nil {
		if fe, ok := fieldErrors(err); ok {
			v.Errors["grace_hours"] = strings.TrimPrefix(fe["_form"], "grace_period_seconds: ")
			return p.endpointView(c, s, c.Params("id"), v, fiber.StatusBadRequest)
		}
		return err
	}
	v.D["Secret"] = sec
	v.Flash = "The secret was rotated. The previous one keeps signing until the grace period ends."
	return p.endpointView(c, s, c.Params("id"), v, fiber.StatusOK)
}

func (p *Portal) testEndpoint(c *fiber.Ctx, s *session) error {
	d, err := p.svc.SendTestEvent(ctx(c), s.P, c.Params("id"), strings.TrimSpace(c.FormValue("event_type")))
	if err != nil {
		if fe, ok := fieldErrors(err, "event_type"); ok {
			v := newView("", "endpoints")
			v.Errors = fe
			return p.endpointView(c, s, c.Params("id"), v, fiber.StatusBadRequest)
		}
		return err
	}
	return p.redirect(c, Prefix+"/deliveries/"+d.ID, "A test "+d.EventType+" event is on its way.")
}

// timeInput is the format of <input type="datetime-local"> (times are UTC).
const timeInput = "2006-01-02T15:04"

func parseTimeInput(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{timeInput, "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func (p *Portal) recoverEndpoint(c *fiber.Ctx, s *session) error {
	v := newView("", "endpoints")
	v.Form["since"] = c.FormValue("since")
	since, ok := parseTimeInput(v.Form["since"])
	if !ok {
		v.Errors["since"] = "Enter a date and time (UTC)."
		return p.endpointView(c, s, c.Params("id"), v, fiber.StatusBadRequest)
	}
	job, err := p.svc.RecoverEndpoint(ctx(c), s.P, c.Params("id"), service.RecoverInput{Since: since})
	if err != nil {
		var ce *domain.ConflictError
		if fe, ok := fieldErrors(err, "since", "until"); ok {
			if m, ok := fe["until"]; ok {
				fe = map[string]string{"since": m}
			}
			v.Errors = fe
		} else if errors.As(err, &ce) {
			v.Errors["since"] = ce.Reason
		} else {
			return err
		}
		return p.endpointView(c, s, c.Params("id"), v, fiber.StatusBadRequest)
	}
	return c.Redirect(Prefix+"/recoveries/"+job.ID, fiber.StatusSeeOther)
}

func (p *Portal) recoveryPage(c *fiber.Ctx, s *session) error {
	job, err := p.svc.Recovery(ctx(c), s.P, c.Params("id"))
	if err != nil {
		return err
	}
	v := newView("Recovery", "endpoints")
	if job.Kind == domain.JobBackfill {
		v.Title = "Back-fill"
	}
	v.D["Job"] = job
	return p.render(c, s, fiber.StatusOK, "recovery", v)
}

// jobState is what the progress poller reads.
type jobState struct {
	Status    string `json:"status"`
	Total     int64  `json:"total"`
	Done      int64  `json:"done"`
	Succeeded int64  `json:"succeeded"`
	Failed    int64  `json:"failed"`
	Finished  bool   `json:"finished"`
	Error     string `json:"error,omitempty"`
}

func jobStateOf(j domain.Job) jobState {
	return jobState{Status: string(j.Status), Total: j.Total, Done: j.Done, Succeeded: j.Succeeded, Failed: j.Failed,
		Finished: j.Status.Terminal(), Error: j.Error}
}

func (p *Portal) recoveryState(c *fiber.Ctx, s *session) error {
	job, err := p.svc.Recovery(ctx(c), s.P, c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(jobStateOf(job))
}

// --- delivery log ---

func (p *Portal) deliveriesPage(c *fiber.Ctx, s *session) error {
	v := newView("Delivery log", "deliveries")
	q := service.DeliveryQuery{
		EndpointID: c.Query("endpoint"), Status: c.Query("status"), EventType: c.Query("event_type"),
		Cursor: c.Query("cursor"), Limit: pageSize,
	}
	for _, k := range []string{"endpoint", "status", "event_type", "since", "until"} {
		v.Form[k] = c.Query(k)
	}
	valid := true
	if v.Form["since"] != "" {
		if q.Since, valid = parseTimeInput(v.Form["since"]); !valid {
			v.Errors["since"] = "Enter a date and time (UTC)."
		}
	}
	if v.Form["until"] != "" {
		t, ok := parseTimeInput(v.Form["until"])
		if !ok {
			v.Errors["until"], valid = "Enter a date and time (UTC).", false
		}
		q.Until = t
	}
	eps, err := p.svc.ListEndpoints(ctx(c), s.P, "", 200)
	if err != nil {
		return err
	}
	v.D["Endpoints"] = eps.Items
	urls := map[string]string{}
	for _, e := range eps.Items {
		urls[e.ID] = e.URL
	}
	v.D["URLs"] = urls
	types, err := p.svc.EventTypes(ctx(c), s.P)
	if err != nil {
		return err
	}
	v.D["EventTypes"] = types
	v.D["Statuses"] = []string{"pending", "succeeded", "failed", "held"}
	status := fiber.StatusOK
	if valid {
		page, err := p.svc.ListDeliveries(ctx(c), s.P, q)
		if err != nil {
			fe, ok := fieldErrors(err, "status", "since", "until", "cursor")
			if !ok {
				return err
			}
			v.Errors, status = fe, fiber.StatusBadRequest
		} else {
			v.D["Deliveries"] = page.Items
			if page.NextCursor != "" {
				v.D["NextURL"] = deliveriesURL(v.Form, page.NextCursor)
			}
			if q.Cursor != "" {
				v.D["FirstURL"] = deliveriesURL(v.Form, "")
			}
		}
	} else {
		status = fiber.StatusBadRequest
	}
	return p.render(c, s, status, "deliveries", v)
}

func deliveriesURL(form map[string]string, cursor string) string {
	var b strings.Builder
	b.WriteString(Prefix + "/deliveries?")
	first := true
	add := func(k, val string) {
		if val == "" {
			return
		}
		if !first {
			b.WriteByte('&')
		}
		first = false
		b.WriteString(k + "=" + urlQueryEscape(val))
	}
	for _, k := range []string{"endpoint", "status", "event_type", "since", "until"} {
		add(k, form[k])
	}
	add("cursor", cursor)
	return b.String()
}

func (p *Portal) deliveryPage(c *fiber.Ctx, s *session) error {
	det, err := p.svc.Delivery(ctx(c), s.P, c.Params("id"))
	if err != nil {
		return err
	}
	atts, err := p.svc.Attempts(ctx(c), s.P, det.Delivery.ID)
	if err != nil {
		return err
	}
	// Newest attempt first.
	slices.Reverse(atts)
	v := newView("Delivery "+det.Delivery.ID, "deliveries")
	v.D["Delivery"] = det.Delivery
	v.D["Event"] = det.Event
	v.D["Attempts"] = atts
	// Right after a retry the page watches the delivery until the new
	// attempt is recorded.
	v.D["Watch"] = det.Delivery.Status == domain.DeliveryPending ||
		(c.Query("retried") == "1" && det.Delivery.Status != domain.DeliverySucceeded)
	if e, err := p.svc.Endpoint(ctx(c), s.P, det.Delivery.EndpointID); err == nil {
		v.D["Endpoint"] = e
	} else if !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	return p.render(c, s, fiber.StatusOK, "delivery", v)
}

// deliveryState is what the delivery page polls while an attempt is due.
func (p *Portal) deliveryState(c *fiber.Ctx, s *session) error {
	det, err := p.svc.Delivery(ctx(c), s.P, c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	d := det.Delivery
	return c.JSON(fiber.Map{"status": string(d.Status), "attempts": d.Attempts, "last_status": d.LastStatus})
}

func (p *Portal) retryDelivery(c *fiber.Ctx, s *session) error {
	d, err := p.svc.RetryDelivery(ctx(c), s.P, c.Params("id"))
	if err != nil {
		return err
	}
	return p.redirect(c, Prefix+"/deliveries/"+d.ID+"?retried=1", "The delivery is being sent again.")
}

// --- verify your receiver ---

func (p *Portal) verifyPage(c *fiber.Ctx, s *session) error {
	v := newView("Verify your receiver", "verify")
	eps, err := p.svc.ListEndpoints(ctx(c), s.P, "", 100)
	if err != nil {
		return err
	}
	v.D["Endpoints"] = eps.Items
	return p.render(c, s, fiber.StatusOK, "verify", v)
}

// formValues returns every value of a repeated form field (checkboxes).
func formValues(c *fiber.Ctx, key string) []string {
	var out []string
	for _, b := range c.Request().PostArgs().PeekMulti(key) {
		if v := strings.TrimSpace(string(b)); v != "" {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		if mf, err := c.MultipartForm(); err == nil && mf != nil {
			for _, v := range mf.Value[key] {
				if v = strings.TrimSpace(v); v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}
