package server

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// QueueStatsDTO is one queue's depth.
type QueueStatsDTO struct {
	Queue             string  `json:"queue"`
	Pending           int     `json:"pending"`
	Active            int     `json:"active"`
	Scheduled         int     `json:"scheduled"`
	Retry             int     `json:"retry"`
	Archived          int     `json:"archived"`
	OldestPendingSecs float64 `json:"oldest_pending_seconds"`
	ProcessedToday    int     `json:"processed_today"`
	FailedToday       int     `json:"failed_today"`
}

// PartnerRateDTO is one partner's recent delivery outcomes.
type PartnerRateDTO struct {
	PartnerID   string  `json:"partner_id"`
	Succeeded   int64   `json:"succeeded"`
	Failed      int64   `json:"failed"`
	Pending     int64   `json:"pending"`
	Held        int64   `json:"held"`
	FailureRate float64 `json:"failure_rate"`
}

// StatsDTO is the admin health view.
type StatsDTO struct {
	At               time.Time        `json:"at"`
	Queues           []QueueStatsDTO  `json:"queues"`
	HeldByReason     map[string]int64 `json:"held_by_reason"`
	IngestLagSeconds float64          `json:"ingest_lag_seconds"`
	EventsLastHour   int64            `json:"events_last_hour"`
	PartnersLast5m   []PartnerRateDTO `json:"partners_last_5m"`
	PartnersLast24h  []PartnerRateDTO `json:"partners_last_24h"`
	Retention        *RetentionRunDTO `json:"retention"`
}

func (s *Server) stats(c *fiber.Ctx) error {
	st, err := s.svc.Stats(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := StatsDTO{
		At: st.At, HeldByReason: st.Held, IngestLagSeconds: st.IngestLag.Seconds(), EventsLastHour: st.Events1h,
		Queues: []QueueStatsDTO{}, PartnersLast5m: []PartnerRateDTO{}, PartnersLast24h: []PartnerRateDTO{},
	}
	if out.HeldByReason == nil {
		out.HeldByReason = map[string]int64{}
	}
	for _, q := range st.Queues {
		out.Queues = append(out.Queues, QueueStatsDTO{
			Queue: q.Queue, Pending: q.Pending, Active: q.Active, Scheduled: q.Scheduled, Retry: q.Retry,
			Archived: q.Archived, OldestPendingSecs: q.OldestPending.Seconds(), ProcessedToday: q.Processed, FailedToday: q.Failed,
		})
	}
	for _, p := range st.Partners5m {
		out.PartnersLast5m = append(out.PartnersLast5m, PartnerRateDTO(p))
	}
	for _, p := range st.Partners24h {
		out.PartnersLast24h = append(out.PartnersLast24h, PartnerRateDTO(p))
	}
	out.Retention = retentionRunDTO(st.Retention)
	return c.JSON(out)
}
