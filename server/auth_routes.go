package server

import "github.com/gofiber/fiber/v2"

// routesPublicAuth registers the routes that need no bearer token (partner
// self-signup and login).
func (s *Server) routesPublicAuth(public fiber.Router) {}
