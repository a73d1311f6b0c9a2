package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

// UsageDTO is a partner's use of its quota this calendar month (UTC).
type UsageDTO struct {
	Period       string           `json:"period"`
	Deliveries   int64            `json:"deliveries"`
	Held         int64            `json:"held"`
	HeldByReason map[string]int64 `json:"held_by_reason"`
	Quota        QuotaDTO         `json:"quota"`
	Endpoints    int              `json:"endpoints"`
}

// AuditEntryDTO is one audit trail entry.
type AuditEntryDTO struct {
	ID        string         `json:"id"`
	At        time.Time      `json:"at"`
	Actor     string         `json:"actor"`
	Action    string         `json:"action"`
	Target    string         `json:"target"`
	PartnerID *string        `json:"partner_id"`
	Address   string         `json:"address"`
	Detail    map[string]any `json:"detail"`
}

func auditEntryDTO(e domain.AuditEntry) AuditEntryDTO {
	d := AuditEntryDTO{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, Address: e.Address, Detail: e.Detail}
	if e.PartnerID != "" {
		d.PartnerID = &e.PartnerID
	}
	if d.Detail == nil {
		d.Detail = map[string]any{}
	}
	return d
}

func (s *Server) usage(c *fiber.Ctx) error {
	u, err := s.svc.Usage(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	held := u.HeldBy
	if held == nil {
		held = map[string]int64{}
	}
	return c.JSON(UsageDTO{
		Period: u.Period, Deliveries: u.Deliveries, Held: u.Held, HeldByReason: held,
		Quota: QuotaDTO(u.Quota), Endpoints: u.Endpoints,
	})
}

// --- members ---

type memberReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

func (s *Server) listMembers(c *fiber.Ctx) error {
	us, err := s.svc.ListMembers(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := mapAll(us, userDTO)
	return list(c, out, "")
}

func (s *Server) addMember(c *fiber.Ctx) error {
	var req memberReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.svc.AddMember(c.UserContext(), principal(c), service.MemberInput{
		Email: req.Email, Password: req.Password, Role: domain.Role(req.Role),
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(userDTO(u))
}

func (s *Server) removeMember(c *fiber.Ctx) error {
	if err := s.svc.RemoveMember(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// --- API keys ---

func (s *Server) renderKeys(c *fiber.Ctx, partnerID string) error {
	ks, err := s.svc.ListAPIKeys(c.UserContext(), principal(c), partnerID)
	if err != nil {
		return err
	}
	out := mapAll(ks, apiKeyDTO)
	return list(c, out, "")
}

func (s *Server) listAPIKeys(c *fiber.Ctx) error {
	if principal(c).IsAdmin() {
		return domain.ErrForbidden // admins use /v1/admin/partners/{id}/api-keys
	}
	return s.renderKeys(c, "")
}

func (s *Server) createAPIKey(c *fiber.Ctx) error {
	p := principal(c)
	if p.IsAdmin() {
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
	k, secret, err := s.svc.IssueAPIKey(c.UserContext(), p, "", in)
	if err != nil {
		return err
	}
	dto := apiKeyDTO(k)
	dto.Key = secret
	return c.Status(fiber.StatusCreated).JSON(dto)
}

func (s *Server) revokeAPIKey(c *fiber.Ctx) error {
	p := principal(c)
	if p.IsAdmin() {
		return domain.ErrForbidden
	}
	if err := s.svc.RevokeAPIKey(c.UserContext(), p, "", c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listPartnerKeys(c *fiber.Ctx) error {
	if !principal(c).IsAdmin() {
		return domain.ErrForbidden
	}
	return s.renderKeys(c, c.Params("id"))
}

func (s *Server) revokePartnerKey(c *fiber.Ctx) error {
	p := principal(c)
	if !p.IsAdmin() {
		return domain.ErrForbidden
	}
	if err := s.svc.RevokeAPIKey(c.UserContext(), p, c.Params("id"), c.Params("key_id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// --- audit ---

func (s *Server) listAudit(c *fiber.Ctx) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	page, err := s.svc.ListAudit(c.UserContext(), principal(c), service.AuditQuery{
		Actor: c.Query("actor"), Action: c.Query("action"), PartnerID: c.Query("partner_id"),
		Cursor: c.Query("cursor"), Limit: limit,
	})
	if err != nil {
		return err
	}
	out := mapAll(page.Items, auditEntryDTO)
	return list(c, out, page.NextCursor)
}
