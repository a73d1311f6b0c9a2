package server

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

func (s *Server) routesAdminEventTypes(ad fiber.Router) {
	ad.Get("/event-types", s.adminListEventTypes)
	ad.Post("/event-types", s.createEventType)
	ad.Patch("/event-types/:name", s.updateEventType)
}

func (s *Server) adminListEventTypes(c *fiber.Ctx) error {
	if !principal(c).IsAdmin() {
		return domain.ErrForbidden
	}
	return s.listEventTypes(c)
}

type eventTypeReq struct {
	Name        *string          `json:"name"`
	Description *string          `json:"description"`
	Schema      *json.RawMessage `json:"schema"`
	Deprecated  *bool            `json:"deprecated"`
}

func (s *Server) createEventType(c *fiber.Ctx) error {
	var req eventTypeReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return invalidBody("name", "is required")
	}
	in := service.EventTypeInput{Name: *req.Name}
	if req.Description != nil {
		in.Description = *req.Description
	}
	if req.Schema != nil {
		in.Schema = *req.Schema
	}
	if req.Deprecated != nil {
		in.Deprecated = *req.Deprecated
	}
	t, err := s.svc.CreateEventType(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(eventTypeDTO(t))
}

func (s *Server) updateEventType(c *fiber.Ctx) error {
	var req eventTypeReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Name != nil {
		return invalidBody("name", "cannot be changed; create a new type instead")
	}
	t, err := s.svc.UpdateEventType(c.UserContext(), principal(c), c.Params("name"), service.EventTypePatch{
		Description: req.Description, Schema: req.Schema, Deprecated: req.Deprecated,
	})
	if err != nil {
		return err
	}
	return c.JSON(eventTypeDTO(t))
}
