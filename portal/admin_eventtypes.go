package portal

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

// eventTypesView renders the event catalogue. v.D["Editing"] names the type
// whose edit form v.Form and v.Errors (keys "edit.*") belong to, if any.
func (p *Portal) eventTypesView(c *fiber.Ctx, s *session, v *view, status int) error {
	types, err := p.svc.EventTypes(ctx(c), s.P)
	if err != nil {
		return err
	}
	v.D["EventTypes"] = types
	if _, ok := v.D["Editing"]; !ok {
		v.D["Editing"] = ""
	}
	return p.render(c, s, status, "admin_event_types", v)
}

func (p *Portal) eventTypesPage(c *fiber.Ctx, s *session) error {
	return p.eventTypesView(c, s, newView("Event catalogue", "event-types"), fiber.StatusOK)
}

func (p *Portal) createEventType(c *fiber.Ctx, s *session) error {
	v := newView("Event catalogue", "event-types")
	for _, k := range []string{"name", "description", "schema"} {
		v.Form[k] = strings.TrimSpace(c.FormValue(k))
	}
	t, err := p.svc.CreateEventType(ctx(c), s.P, service.EventTypeInput{
		Name: v.Form["name"], Description: v.Form["description"], Schema: json.RawMessage(v.Form["schema"]),
	})
	if err != nil {
		if fe, ok := fieldErrors(err, "name", "description", "schema"); ok {
			v.Errors = fe
		} else if errors.Is(err, domain.ErrConflict) {
			v.Errors["name"] = "An event type with this name already exists; edit it below."
		} else {
			return err
		}
		return p.eventTypesView(c, s, v, fiber.StatusBadRequest)
	}
	return p.redirect(c, Prefix+"/admin/event-types#et-"+t.Name, "Event type "+t.Name+" added (version 1).")
}

func (p *Portal) updateEventType(c *fiber.Ctx, s *session) error {
	name := c.Params("name")
	v := newView("Event catalogue", "event-types")
	v.D["Editing"] = name
	desc := strings.TrimSpace(c.FormValue("description"))
	schema := json.RawMessage(strings.TrimSpace(c.FormValue("schema")))
	deprecated := c.FormValue("deprecated") != ""
	v.Form["edit.description"], v.Form["edit.schema"] = desc, string(schema)
	if deprecated {
		v.Form["edit.deprecated"] = "on"
	}
	types, err := p.svc.EventTypes(ctx(c), s.P)
	if err != nil {
		return err
	}
	var before domain.EventType
	for _, et := range types {
		if et.Name == name {
			before = et
		}
	}
	t, err := p.svc.UpdateEventType(ctx(c), s.P, name, service.EventTypePatch{
		Description: &desc, Schema: &schema, Deprecated: &deprecated,
	})
	if err != nil {
		fe, ok := fieldErrors(err, "description", "schema")
		if !ok {
			return err
		}
		for k, msg := range fe {
			if k != "_form" {
				k = "edit." + k
			}
			v.Errors[k] = msg
		}
		return p.eventTypesView(c, s, v, fiber.StatusBadRequest)
	}
	msg := "Event type " + t.Name + " saved"
	if t.Version != before.Version {
		msg += "; its schema changed, so it is now version " + strconv.Itoa(t.Version)
	}
	if t.Deprecated && !before.Deprecated {
		msg += "; it is deprecated: still delivered, flagged to partners"
	}
	return p.redirect(c, Prefix+"/admin/event-types#et-"+t.Name, msg+".")
}
