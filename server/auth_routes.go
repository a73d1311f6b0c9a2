package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

// routesPublicAuth registers the routes that need no bearer token (partner
// self-signup, login, refresh).
func (s *Server) routesPublicAuth(public fiber.Router) {
	public.Post("/auth/signup", s.signup)
	public.Post("/auth/login", s.login)
	public.Post("/auth/refresh", s.refresh)
}

// routesAccounts registers the authenticated account routes: the caller's
// session and password, its partner's members, API keys and usage.
func (s *Server) routesAccounts(v1 fiber.Router) {
	v1.Post("/auth/logout", s.logout)
	v1.Post("/auth/password", s.changePassword)
	v1.Get("/usage", s.usage)
	v1.Get("/members", s.listMembers)
	v1.Post("/members", s.addMember)
	v1.Delete("/members/:id", s.removeMember)
	v1.Get("/api-keys", s.listAPIKeys)
	v1.Post("/api-keys", s.createAPIKey)
	v1.Delete("/api-keys/:id", s.revokeAPIKey)
}

// routesAdminAccounts registers the admin's credential and audit routes.
func (s *Server) routesAdminAccounts(ad fiber.Router) {
	ad.Get("/partners/:id/api-keys", s.listPartnerKeys)
	ad.Delete("/partners/:id/api-keys/:key_id", s.revokePartnerKey)
	ad.Get("/audit", s.listAudit)
}

// --- DTOs ---

// SignupPartnerDTO is the partner a signup created.
type SignupPartnerDTO struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// UserDTO is a user without its password hash.
type UserDTO struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

func userDTO(u domain.User) UserDTO {
	return UserDTO{ID: u.ID, Email: u.Email, Role: string(u.Role), CreatedAt: u.CreatedAt}
}

// SignupDTO answers a signup.
type SignupDTO struct {
	Partner SignupPartnerDTO `json:"partner"`
	User    UserDTO          `json:"user"`
}

// TokenDTO answers a login or a refresh; both tokens are shown once.
type TokenDTO struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	ExpiresAt    time.Time `json:"expires_at"`
	ExpiresIn    int       `json:"expires_in"`
	RefreshToken string    `json:"refresh_token"`
}

func tokenDTO(t service.TokenPair) TokenDTO {
	return TokenDTO{
		AccessToken: t.AccessToken, TokenType: "Bearer", ExpiresAt: t.ExpiresAt,
		ExpiresIn: max(0, int(time.Until(t.ExpiresAt).Round(time.Second)/time.Second)), RefreshToken: t.RefreshToken,
	}
}

// --- public handlers ---

type signupReq struct {
	Company  string `json:"company"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) signup(c *fiber.Ctx) error {
	var req signupReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.svc.Signup(c.UserContext(), service.SignupInput{
		Company: req.Company, Email: req.Email, Password: req.Password, Address: c.IP(),
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(SignupDTO{
		Partner: SignupPartnerDTO{ID: res.Partner.ID, Name: res.Partner.Name, Status: string(res.Partner.Status)},
		User:    userDTO(res.User),
	})
}

type loginReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) login(c *fiber.Ctx) error {
	var req loginReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	pair, err := s.svc.Login(c.UserContext(), service.LoginInput{Email: req.Email, Password: req.Password, Address: c.IP()})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(tokenDTO(pair))
}

type refreshReq struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *Server) refresh(c *fiber.Ctx) error {
	var req refreshReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.RefreshToken == "" {
		return invalidBody("refresh_token", "is required")
	}
	pair, err := s.svc.Refresh(c.UserContext(), req.RefreshToken, c.IP())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(tokenDTO(pair))
}

// --- session and password ---

func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.svc.Logout(c.UserContext(), principal(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type passwordReq struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (s *Server) changePassword(c *fiber.Ctx) error {
	var req passwordReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.svc.ChangePassword(c.UserContext(), principal(c), req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
