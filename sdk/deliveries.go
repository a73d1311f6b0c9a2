package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// values encodes the filters and page parameters.
func (p DeliveryListParams) values() url.Values {
	q := ListParams{Limit: p.Limit, Cursor: p.Cursor}.values()
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("endpoint_id", p.EndpointID)
	set("event_id", p.EventID)
	set("event_type", p.EventType)
	set("status", p.Status)
	if !p.Since.IsZero() {
		q.Set("since", p.Since.UTC().Format(time.RFC3339Nano))
	}
	if !p.Until.IsZero() {
		q.Set("until", p.Until.UTC().Format(time.RFC3339Nano))
	}
	return q
}

// ListDeliveries returns one page of the delivery log, newest first,
// filtered by params.
func (c *Client) ListDeliveries(ctx context.Context, params DeliveryListParams) (Page[Delivery], error) {
	var page Page[Delivery]
	err := c.do(ctx, get("/v1/deliveries", params.values()), &page)
	return page, err
}

// Deliveries iterates over every delivery matching params, fetching pages
// as needed:
//
//	for d, err := range client.Deliveries(ctx, sdk.DeliveryListParams{Status: sdk.DeliveryFailed}) {
//		if err != nil { return err }
//		fmt.Println(d.ID, d.LastError)
//	}
func (c *Client) Deliveries(ctx context.Context, params DeliveryListParams) iter.Seq2[Delivery, error] {
	return all(ctx, params.Cursor, func(ctx context.Context, cursor string) (Page[Delivery], error) {
		p := params
		p.Cursor = cursor
		return c.ListDeliveries(ctx, p)
	})
}

// GetDelivery returns one delivery with the event envelope it delivers.
func (c *Client) GetDelivery(ctx context.Context, id string) (Delivery, error) {
	var d Delivery
	err := c.do(ctx, get(pathf("/v1/deliveries/%s", id), nil), &d)
	return d, err
}

// ListDeliveryAttempts returns every attempt of a delivery, oldest first.
func (c *Client) ListDeliveryAttempts(ctx context.Context, deliveryID string) ([]Attempt, error) {
	var l list[Attempt]
	err := c.do(ctx, get(pathf("/v1/deliveries/%s/attempts", deliveryID), nil), &l)
	return l.Data, err
}

// RetryDelivery re-sends a delivery now, whatever its status; the attempt
// is recorded with trigger "manual". It answers the delivery as queued.
func (c *Client) RetryDelivery(ctx context.Context, id string) (Delivery, error) {
	var d Delivery
	err := c.do(ctx, post(pathf("/v1/deliveries/%s/retry", id), nil), &d)
	return d, err
}

// ExportFormat is a delivery-log export format.
type ExportFormat string

// Export formats.
const (
	// ExportCSV is comma-separated values with a header line.
	ExportCSV ExportFormat = "text/csv"
	// ExportNDJSON is one Delivery JSON object per line.
	ExportNDJSON ExportFormat = "application/x-ndjson"
)

// ExportDeliveries streams the whole delivery log matching params (Limit
// and Cursor are ignored) in format. The caller must close the reader. The
// stream is read as it arrives, so an export of millions of deliveries
// needs little memory:
//
//	rc, err := client.ExportDeliveries(ctx, sdk.DeliveryListParams{Status: sdk.DeliveryFailed}, sdk.ExportCSV)
//	if err != nil { return err }
//	defer rc.Close()
//	_, err = io.Copy(file, rc)
func (c *Client) ExportDeliveries(ctx context.Context, params DeliveryListParams, format ExportFormat) (io.ReadCloser, error) {
	params.Limit, params.Cursor = 0, ""
	req := get("/v1/deliveries", params.values())
	req.header = http.Header{"Accept": {string(format)}}
	return c.stream(ctx, req)
}

// ExportedDeliveries iterates over an NDJSON export, decoding one Delivery
// per line; unlike Deliveries it makes a single request.
func (c *Client) ExportedDeliveries(ctx context.Context, params DeliveryListParams) iter.Seq2[Delivery, error] {
	return func(yield func(Delivery, error) bool) {
		rc, err := c.ExportDeliveries(ctx, params, ExportNDJSON)
		if err != nil {
			yield(Delivery{}, err)
			return
		}
		defer rc.Close()
		dec := json.NewDecoder(rc)
		for {
			var d Delivery
			err := dec.Decode(&d)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(Delivery{}, fmt.Errorf("sdk: export deliveries: %w", err))
				return
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}
