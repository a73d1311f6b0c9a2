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
	grace, err := gracePeriod(c)
	if err != nil {
		return err
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
