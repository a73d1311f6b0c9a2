package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/service"
)

// SecretDTO is an endpoint's signing material as a partner may see it.
type SecretDTO struct {
	// Secret is the current whsec_ signing secret.
	Secret string `json:"secret"`
	// PreviousExpiresAt is set while the previous secret still signs.
	PreviousExpiresAt *time.Time `json:"previous_secret_expires_at"`
	// PublicKey is the whpk_ Ed25519 public key when v1a signing is on.
	PublicKey *string `json:"public_key"`
}

func secretDTO(s service.EndpointSecret) SecretDTO {
	d := SecretDTO{Secret: s.Secret, PreviousExpiresAt: s.PreviousExpires}
	if s.PublicKey != "" {
		d.PublicKey = &s.PublicKey
	}
	return d
}

func (s *Server) getEndpointSecret(c *fiber.Ctx) error {
	sec, err := s.svc.Secret(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(secretDTO(sec))
}

func (s *Server) rotateEndpointSecret(c *fiber.Ctx) error {
	var req rotateReq
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	grace := 24 * time.Hour
	if req.GracePeriodSeconds != nil {
		if g := *req.GracePeriodSeconds; g < 0 || g > 7*24*3600 {
			return invalidBody("grace_period_seconds", "must be from 0 to 604800 (7 days)")
		}
		grace = time.Duration(*req.GracePeriodSeconds) * time.Second
	}
	sec, err := s.svc.RotateSecret(c.UserContext(), principal(c), c.Params("id"), grace)
	if err != nil {
		return err
	}
	return c.JSON(secretDTO(sec))
}

func (s *Server) enableEndpoint(c *fiber.Ctx) error {
	e, err := s.svc.EnableEndpoint(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(endpointDTO(e))
}
