package portal

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
)

// backfillEndpoint starts a back-fill of the last N days for one endpoint
// and shows its progress on the recovery page.
func (p *Portal) backfillEndpoint(c *fiber.Ctx, s *session) error {
	v := newView("", "endpoints")
	v.Form["days"] = strings.TrimSpace(c.FormValue("days"))
	days, err := strconv.Atoi(v.Form["days"])
	if err != nil {
		v.Errors["days"] = "Enter a whole number of days."
		return p.endpointView(c, s, c.Params("id"), v, fiber.StatusBadRequest)
	}
	job, err := p.svc.BackfillEndpoint(ctx(c), s.P, c.Params("id"), days)
	if err != nil {
		var ce *domain.ConflictError
		if fe, ok := fieldErrors(err, "days"); ok {
			v.Errors = fe
		} else if errors.As(err, &ce) {
			v.Errors["days"] = ce.Reason
		} else {
			return err
		}
		return p.endpointView(c, s, c.Params("id"), v, fiber.StatusBadRequest)
	}
	return c.Redirect(Prefix+"/recoveries/"+job.ID, fiber.StatusSeeOther)
}
