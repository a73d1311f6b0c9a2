package server

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// --- ingest ---

func (s *Server) ingestOdoo(c *fiber.Ctx) error {
	typ := c.Query("type")
	if typ != "" && !domain.ValidEventTypeName(typ) {
		return badParam("type", "must be an event type name such as order.confirmed")
	}
	body := c.Body()
	if len(body) == 0 {
		return badRequest("the body is empty; Odoo sends the record as a JSON object")
	}
	res, err := s.svc.IngestOdoo(c.UserContext(), c.Params("token"), body, typ)
	if err != nil {
		var ve *domain.ValidationError
		if errorsAs(err, &ve) && ve.Field == "body" {
			return badRequest(ve.Reason)
		}
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(ingestDTO(res))
}

// IngestResponseDTO answers an ingest request.
type IngestResponseDTO struct {
	ID        string `json:"id,omitempty"`
	Type      string `json:"type,omitempty"`
	Status    string `json:"status"`
	Duplicate bool   `json:"duplicate"`
	Reason    string `json:"reason,omitempty"`
}

func ingestDTO(r service.IngestResult) IngestResponseDTO {
	switch {
	case r.Ignored:
		return IngestResponseDTO{Status: "ignored", Reason: r.Reason}
	case r.Duplicate:
		return IngestResponseDTO{ID: r.ID, Type: r.Type, Status: "duplicate", Duplicate: true}
	}
	return IngestResponseDTO{ID: r.ID, Type: r.Type, Status: "accepted"}
}

type createEventReq struct {
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey string          `json:"idempotency_key"`
	OccurredAt     *occurredAt     `json:"occurred_at"`
}

func (s *Server) createEvent(c *fiber.Ctx) error {
	var req createEventReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	key := req.IdempotencyKey
	if h := c.Get("Idempotency-Key"); h != "" {
		if key != "" && key != h {
			return invalidBody("idempotency_key", "differs from the Idempotency-Key header")
		}
		key = h
	}
	in := service.EventInput{Type: req.Type, Data: req.Data, IdempotencyKey: key}
	if req.OccurredAt != nil {
		in.OccurredAt = &req.OccurredAt.Time
	}
	res, err := s.svc.IngestEvent(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(ingestDTO(res))
}

// --- partner self ---

func (s *Server) me(c *fiber.Ctx) error {
	p := principal(c)
	if p.Kind != domain.PrincipalPartner {
		return domain.ErrForbidden
	}
	partner, err := s.svc.Partner(c.UserContext(), p, p.PartnerID)
	if err != nil {
		return err
	}
	return c.JSON(partnerDTO(partner))
}

func (s *Server) listEventTypes(c *fiber.Ctx) error {
	ts, err := s.svc.EventTypes(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := mapAll(ts, eventTypeDTO)
	return list(c, out, "")
}

// --- endpoints ---

type endpointReq struct {
	URL                *string            `json:"url"`
	Description        *string            `json:"description"`
	EventTypes         *[]string          `json:"event_types"`
	Status             *string            `json:"status"`
	RateLimitPerSecond *int               `json:"rate_limit_per_second"`
	RetrySchedule      *durations         `json:"retry_schedule"`
	TimeoutSeconds     *int               `json:"timeout_seconds"`
	Headers            *map[string]string `json:"headers"`
	Ed25519Signing     *bool              `json:"ed25519_signing"`
}

func (s *Server) createEndpoint(c *fiber.Ctx) error {
	var req endpointReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.URL == nil {
		return invalidBody("url", "is required")
	}
	if req.EventTypes == nil {
		return invalidBody("event_types", "is required")
	}
	if req.Status != nil {
		return invalidBody("status", "is set with PATCH after creation")
	}
	if req.Ed25519Signing != nil {
		return invalidBody("ed25519_signing", "is set with PATCH after creation")
	}
	in := service.EndpointInput{URL: *req.URL, EventTypes: *req.EventTypes}
	if req.Description != nil {
		in.Description = *req.Description
	}
	if req.RateLimitPerSecond != nil {
		in.RateLimitPerSecond = *req.RateLimitPerSecond
	}
	if req.RetrySchedule != nil {
		in.RetrySchedule = *req.RetrySchedule
	}
	if req.TimeoutSeconds != nil {
		in.TimeoutSeconds = *req.TimeoutSeconds
	}
	if req.Headers != nil {
		in.Headers = *req.Headers
	}
	e, secret, err := s.svc.CreateEndpoint(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	dto := endpointDTO(e)
	dto.Secret = secret
	return c.Status(fiber.StatusCreated).JSON(dto)
}

func (s *Server) listEndpoints(c *fiber.Ctx) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	page, err := s.svc.ListEndpoints(c.UserContext(), principal(c), c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	out := mapAll(page.Items, endpointDTO)
	return list(c, out, page.NextCursor)
}

func (s *Server) getEndpoint(c *fiber.Ctx) error {
	e, err := s.svc.Endpoint(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(endpointDTO(e))
}

func (s *Server) updateEndpoint(c *fiber.Ctx) error {
	var req endpointReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := service.EndpointPatch{
		URL: req.URL, Description: req.Description, EventTypes: req.EventTypes,
		RateLimitPerSecond: req.RateLimitPerSecond, TimeoutSeconds: req.TimeoutSeconds, Headers: req.Headers,
		Ed25519: req.Ed25519Signing,
	}
	if req.Status != nil {
		st := domain.EndpointStatus(*req.Status)
		in.Status = &st
	}
	if req.RetrySchedule != nil {
		ds := []time.Duration(*req.RetrySchedule)
		in.RetrySchedule = &ds
	}
	e, err := s.svc.UpdateEndpoint(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(endpointDTO(e))
}

func (s *Server) deleteEndpoint(c *fiber.Ctx) error {
	if err := s.svc.DeleteEndpoint(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// --- deliveries ---

func (s *Server) listDeliveries(c *fiber.Ctx) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	since, err := queryTime(c, "since")
	if err != nil {
		return err
	}
	until, err := queryTime(c, "until")
	if err != nil {
		return err
	}
	q := service.DeliveryQuery{
		EndpointID: c.Query("endpoint_id"), EventID: c.Query("event_id"), EventType: c.Query("event_type"),
		Status: c.Query("status"), Since: since, Until: until, Cursor: c.Query("cursor"), Limit: limit,
	}
	if format := exportFormat(c); format != "" {
		return s.exportDeliveries(c, q, format)
	}
	page, err := s.svc.ListDeliveries(c.UserContext(), principal(c), q)
	if err != nil {
		return err
	}
	out := mapAll(page.Items, deliveryDTO)
	return list(c, out, page.NextCursor)
}

func (s *Server) getDelivery(c *fiber.Ctx) error {
	d, err := s.svc.Delivery(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	dto := deliveryDTO(d.Delivery)
	dto.Event = d.Event.Payload
	if len(dto.Event) == 0 {
		dto.Event = json.RawMessage("null") // purged by retention
	}
	return c.JSON(dto)
}

func (s *Server) listAttempts(c *fiber.Ctx) error {
	p := principal(c)
	d, err := s.svc.Delivery(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	as, err := s.svc.Attempts(c.UserContext(), p, d.Delivery.ID)
	if err != nil {
		return err
	}
	out := make([]AttemptDTO, len(as))
	for i, a := range as {
		out[i] = attemptDTO(a, d.Event.Payload)
	}
	return list(c, out, "")
}

func (s *Server) retryDelivery(c *fiber.Ctx) error {
	d, err := s.svc.RetryDelivery(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(deliveryDTO(d))
}

// --- admin ---

type partnerReq struct {
	Name         *string   `json:"name"`
	Email        *string   `json:"email"`
	Status       *string   `json:"status"`
	Entitlements *[]string `json:"entitlements"`
	Quota        *QuotaDTO `json:"quota"`
}

func (s *Server) createPartner(c *fiber.Ctx) error {
	var req partnerReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := service.PartnerInput{}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.Email != nil {
		in.Email = *req.Email
	}
	if req.Status != nil {
		in.Status = domain.PartnerStatus(*req.Status)
	}
	if req.Entitlements != nil {
		in.Entitlements = *req.Entitlements
	}
	if req.Quota != nil {
		q := domain.Quota(*req.Quota)
		in.Quota = &q
	}
	p, err := s.svc.CreatePartner(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(partnerDTO(p))
}

func (s *Server) listPartners(c *fiber.Ctx) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	page, err := s.svc.ListPartners(c.UserContext(), principal(c), c.Query("status"), c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	out := mapAll(page.Items, partnerDTO)
	return list(c, out, page.NextCursor)
}

func (s *Server) getPartner(c *fiber.Ctx) error {
	p := principal(c)
	if !p.IsAdmin() {
		return domain.ErrForbidden
	}
	partner, err := s.svc.Partner(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(partnerDTO(partner))
}

func (s *Server) updatePartner(c *fiber.Ctx) error {
	var req partnerReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := service.PartnerPatch{Name: req.Name, Email: req.Email, Entitlements: req.Entitlements}
	if req.Status != nil {
		st := domain.PartnerStatus(*req.Status)
		in.Status = &st
	}
	if req.Quota != nil {
		q := domain.Quota(*req.Quota)
		in.Quota = &q
	}
	p, err := s.svc.UpdatePartner(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(partnerDTO(p))
}

type apiKeyReq struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *expiresAt `json:"expires_at"`
}

func (s *Server) createPartnerKey(c *fiber.Ctx) error {
	p := principal(c)
	if !p.IsAdmin() {
		return domain.ErrForbidden
	}
	var req apiKeyReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := service.APIKeyInput{Name: req.Name, Scopes: req.Scopes}
	if req.ExpiresAt != nil {
		in.ExpiresAt = &req.ExpiresAt.Time
	}
	k, secret, err := s.svc.IssueAPIKey(c.UserContext(), p, c.Params("id"), in)
	if err != nil {
		return err
	}
	dto := apiKeyDTO(k)
	dto.Key = secret
	return c.Status(fiber.StatusCreated).JSON(dto)
}

type sourceReq struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

func (s *Server) createSource(c *fiber.Ctx) error {
	var req sourceReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cs, err := s.svc.CreateSource(c.UserContext(), principal(c), service.SourceInput{
		Name: req.Name, Kind: domain.SourceKind(strings.TrimSpace(req.Kind)),
	})
	if err != nil {
		return err
	}
	dto := sourceDTO(cs.Source)
	dto.IngestURL, dto.Token = cs.IngestURL, cs.Token
	return c.Status(fiber.StatusCreated).JSON(dto)
}

func (s *Server) listSources(c *fiber.Ctx) error {
	views, err := s.svc.SourceViews(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := mapAll(views, sourceDetailDTO)
	return list(c, out, "")
}

func (s *Server) getSource(c *fiber.Ctx) error {
	v, err := s.svc.SourceView(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(sourceDetailDTO(v))
}

type rotateReq struct {
	GracePeriodSeconds *int `json:"grace_period_seconds"`
}

// gracePeriod reads the optional {"grace_period_seconds"} body of a
// rotation: default 24 h, at most 7 days.
func gracePeriod(c *fiber.Ctx) (time.Duration, error) {
	var req rotateReq
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return 0, err
		}
	}
	if req.GracePeriodSeconds == nil {
		return 24 * time.Hour, nil
	}
	if g := *req.GracePeriodSeconds; g < 0 || g > 7*24*3600 {
		return 0, invalidBody("grace_period_seconds", "must be from 0 to 604800 (7 days)")
	}
	return time.Duration(*req.GracePeriodSeconds) * time.Second, nil
}

func (s *Server) rotateSourceToken(c *fiber.Ctx) error {
	grace, err := gracePeriod(c)
	if err != nil {
		return err
	}
	cs, err := s.svc.RotateSourceToken(c.UserContext(), principal(c), c.Params("id"), grace)
	if err != nil {
		return err
	}
	dto := sourceDTO(cs.Source)
	dto.IngestURL, dto.Token = cs.IngestURL, cs.Token
	return c.JSON(dto)
}
