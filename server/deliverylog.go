package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

// routesDeliveryLog registers recovery, back-fill, test sends and the
// admin bulk replay (the delivery log itself is in routesDeliveries).
func (s *Server) routesDeliveryLog(v1, ad fiber.Router) {
	v1.Post("/endpoints/:id/recover", s.recoverEndpoint)
	v1.Post("/endpoints/:id/backfill", s.backfillEndpoint)
	v1.Post("/endpoints/:id/test", s.testEndpoint)
	v1.Get("/recoveries/:id", s.getRecovery)
	ad.Post("/replay", s.startReplay)
	ad.Get("/replays/:id", s.getReplay)
	ad.Post("/replays/:id/cancel", s.cancelReplay)
}

// JobDTO is a background job (recovery, back-fill, replay) and its
// progress.
type JobDTO struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Status     string     `json:"status"`
	PartnerID  *string    `json:"partner_id"`
	EndpointID *string    `json:"endpoint_id"`
	Since      time.Time  `json:"since"`
	Until      time.Time  `json:"until"`
	EventTypes []string   `json:"event_types"`
	Days       *int       `json:"days"`
	Total      int64      `json:"total"`
	Done       int64      `json:"done"`
	Succeeded  int64      `json:"succeeded"`
	Failed     int64      `json:"failed"`
	Error      string     `json:"error"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func jobDTO(j domain.Job) JobDTO {
	d := JobDTO{
		ID: j.ID, Kind: string(j.Kind), Status: string(j.Status),
		PartnerID: optStr(j.Params.PartnerID), EndpointID: optStr(j.Params.EndpointID),
		Since: j.Params.Since, Until: j.Params.Until, EventTypes: j.Params.EventTypes,
		Total: j.Total, Done: j.Done, Succeeded: j.Succeeded, Failed: j.Failed, Error: j.Error,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt,
	}
	if d.PartnerID == nil {
		d.PartnerID = optStr(j.PartnerID)
	}
	if d.EventTypes == nil {
		d.EventTypes = []string{}
	}
	if j.Kind == domain.JobBackfill {
		days := j.Params.Days
		d.Days = &days
	}
	return d
}

// bodyTime parses an optional RFC 3339 field of a JSON body.
func bodyTime(field string, v *string) (*time.Time, error) {
	if v == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		return nil, invalidBody(field, "must be an RFC 3339 time such as 2025-03-14T09:41:07Z")
	}
	return &t, nil
}

type recoverReq struct {
	Since *string `json:"since"`
	Until *string `json:"until"`
}

func (s *Server) recoverEndpoint(c *fiber.Ctx) error {
	var req recoverReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Since == nil {
		return invalidBody("since", "is required: an RFC 3339 time such as 2025-03-14T00:00:00Z")
	}
	since, err := bodyTime("since", req.Since)
	if err != nil {
		return err
	}
	until, err := bodyTime("until", req.Until)
	if err != nil {
		return err
	}
	j, err := s.svc.RecoverEndpoint(c.UserContext(), principal(c), c.Params("id"), service.RecoverInput{Since: *since, Until: until})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/v1/recoveries/"+j.ID)
	return c.Status(fiber.StatusAccepted).JSON(jobDTO(j))
}

type backfillReq struct {
	Days *int `json:"days"`
}

func (s *Server) backfillEndpoint(c *fiber.Ctx) error {
	var req backfillReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Days == nil {
		return invalidBody("days", "is required: the number of days (1–30) to look back")
	}
	j, err := s.svc.BackfillEndpoint(c.UserContext(), principal(c), c.Params("id"), *req.Days)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/v1/recoveries/"+j.ID)
	return c.Status(fiber.StatusAccepted).JSON(jobDTO(j))
}

func (s *Server) getRecovery(c *fiber.Ctx) error {
	j, err := s.svc.Recovery(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(jobDTO(j))
}

type testReq struct {
	EventType *string `json:"event_type"`
}

func (s *Server) testEndpoint(c *fiber.Ctx) error {
	var req testReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.EventType == nil {
		return invalidBody("event_type", "is required")
	}
	d, err := s.svc.SendTestEvent(c.UserContext(), principal(c), c.Params("id"), *req.EventType)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/v1/deliveries/"+d.ID)
	return c.Status(fiber.StatusAccepted).JSON(deliveryDTO(d))
}

type replayReq struct {
	Since      *string  `json:"since"`
	Until      *string  `json:"until"`
	EventTypes []string `json:"event_types"`
	PartnerID  string   `json:"partner_id"`
	EndpointID string   `json:"endpoint_id"`
	DryRun     bool     `json:"dry_run"`
}

// ReplayCountDTO answers a dry-run replay.
type ReplayCountDTO struct {
	Count  int64 `json:"count"`
	DryRun bool  `json:"dry_run"`
}

func (s *Server) startReplay(c *fiber.Ctx) error {
	if !principal(c).IsAdmin() {
		return domain.ErrForbidden
	}
	var req replayReq
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Since == nil {
		return invalidBody("since", "is required: an RFC 3339 time")
	}
	if req.Until == nil {
		return invalidBody("until", "is required: an RFC 3339 time")
	}
	since, err := bodyTime("since", req.Since)
	if err != nil {
		return err
	}
	until, err := bodyTime("until", req.Until)
	if err != nil {
		return err
	}
	res, err := s.svc.Replay(c.UserContext(), principal(c), service.ReplayInput{
		Since: *since, Until: *until, EventTypes: req.EventTypes, PartnerID: req.PartnerID, EndpointID: req.EndpointID,
		DryRun: req.DryRun,
	})
	if err != nil {
		return err
	}
	if res.Job == nil {
		return c.JSON(ReplayCountDTO{Count: res.Count, DryRun: true})
	}
	c.Set(fiber.HeaderLocation, "/v1/admin/replays/"+res.Job.ID)
	return c.Status(fiber.StatusAccepted).JSON(jobDTO(*res.Job))
}

func (s *Server) getReplay(c *fiber.Ctx) error {
	j, err := s.svc.ReplayJob(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(jobDTO(j))
}

func (s *Server) cancelReplay(c *fiber.Ctx) error {
	j, err := s.svc.CancelReplay(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(jobDTO(j))
}

// RetentionRunDTO is the last retention purge (admin stats).
type RetentionRunDTO struct {
	StartedAt  time.Time        `json:"started_at"`
	FinishedAt time.Time        `json:"finished_at"`
	Cutoff     time.Time        `json:"cutoff"`
	Purged     map[string]int64 `json:"purged"`
	Error      string           `json:"error"`
}

func retentionRunDTO(r *domain.RetentionRun) *RetentionRunDTO {
	if r == nil {
		return nil
	}
	p := r.Purged
	if p == nil {
		p = map[string]int64{}
	}
	return &RetentionRunDTO{StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Cutoff: r.Cutoff, Purged: p, Error: r.Error}
}

// --- export ---

// Export formats of GET /v1/deliveries.
const (
	mimeCSV    = "text/csv"
	mimeNDJSON = "application/x-ndjson"
)

// exportFormat is the export the Accept header asks for, or "" for the
// JSON page.
func exportFormat(c *fiber.Ctx) string {
	if c.Get(fiber.HeaderAccept) == "" {
		return ""
	}
	switch c.Accepts(fiber.MIMEApplicationJSON, mimeCSV, mimeNDJSON) {
	case mimeCSV:
		return mimeCSV
	case mimeNDJSON:
		return mimeNDJSON
	}
	return ""
}

// exportColumns are the CSV export's columns.
var exportColumns = []string{"id", "event_id", "endpoint_id", "event_type", "status", "held_reason", "attempts",
	"next_attempt_at", "last_response_status", "last_error", "created_at", "updated_at"}

// exportDeliveries streams the whole filtered log, a page at a time, as CSV
// or NDJSON. The first page is read before answering, so bad filters and a
// database that is down still get a problem document; a failure later ends
// the stream early (and is logged).
func (s *Server) exportDeliveries(c *fiber.Ctx, q service.DeliveryQuery, format string) error {
	exp, err := s.svc.ExportDeliveries(c.UserContext(), principal(c), q)
	if err != nil {
		return err
	}
	first, err := exp.Next(c.UserContext())
	if err != nil {
		return err
	}
	ext := "csv"
	if format == mimeCSV {
		c.Set(fiber.HeaderContentType, mimeCSV+"; charset=utf-8")
	} else {
		ext = "ndjson"
		c.Set(fiber.HeaderContentType, mimeNDJSON)
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="deliveries.`+ext+`"`)
	log := s.d.Log.With("request_id", requestID(c))
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		// The request's context ends when the handler returns; the stream
		// has its own.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		write := exportWriter(w, format)
		page := first
		for len(page) > 0 {
			for _, d := range page {
				if err := write(d); err != nil {
					return
				}
			}
			if err := w.Flush(); err != nil {
				return // the client went away
			}
			if page, err = exp.Next(ctx); err != nil {
				log.Error("delivery export stopped early", "error", err)
				return
			}
		}
		_ = w.Flush()
	})
	return nil
}

// exportWriter returns a function that writes one delivery in format (the
// CSV header first).
func exportWriter(w *bufio.Writer, format string) func(domain.Delivery) error {
	if format == mimeNDJSON {
		enc := json.NewEncoder(w)
		return func(d domain.Delivery) error { return enc.Encode(deliveryDTO(d)) }
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(exportColumns)
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	return func(d domain.Delivery) error {
		next := ""
		if d.NextAttemptAt != nil {
			next = ts(*d.NextAttemptAt)
		}
		err := cw.Write([]string{d.ID, d.EventID, d.EndpointID, d.EventType, string(d.Status), d.HeldReason,
			strconv.Itoa(d.Attempts), next, strconv.Itoa(d.LastStatus), d.LastError, ts(d.CreatedAt), ts(d.UpdatedAt)})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		return err
	}
}
