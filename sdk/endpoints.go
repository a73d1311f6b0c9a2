package sdk

import (
	"context"
	"iter"
)

// ListEndpoints returns one page of the partner's endpoints.
func (c *Client) ListEndpoints(ctx context.Context, params ListParams) (Page[Endpoint], error) {
	var page Page[Endpoint]
	err := c.do(ctx, get("/v1/endpoints", params.values()), &page)
	return page, err
}

// Endpoints iterates over all the partner's endpoints, fetching pages of
// params.Limit as needed, starting at params.Cursor:
//
//	for ep, err := range client.Endpoints(ctx, sdk.ListParams{}) {
//		if err != nil { return err }
//		fmt.Println(ep.ID, ep.URL)
//	}
func (c *Client) Endpoints(ctx context.Context, params ListParams) iter.Seq2[Endpoint, error] {
	return all(ctx, params.Cursor, func(ctx context.Context, cursor string) (Page[Endpoint], error) {
		p := params
		p.Cursor = cursor
		return c.ListEndpoints(ctx, p)
	})
}

// CreateEndpoint subscribes a URL to event types. The answer's Secret is
// the endpoint's "whsec_" signing secret, returned only this once.
func (c *Client) CreateEndpoint(ctx context.Context, in EndpointInput) (Endpoint, error) {
	var ep Endpoint
	err := c.do(ctx, post("/v1/endpoints", in), &ep)
	return ep, err
}

// GetEndpoint returns one endpoint.
func (c *Client) GetEndpoint(ctx context.Context, id string) (Endpoint, error) {
	var ep Endpoint
	err := c.do(ctx, get(pathf("/v1/endpoints/%s", id), nil), &ep)
	return ep, err
}

// UpdateEndpoint changes the fields set in upd and returns the endpoint.
func (c *Client) UpdateEndpoint(ctx context.Context, id string, upd EndpointUpdate) (Endpoint, error) {
	var ep Endpoint
	err := c.do(ctx, patch(pathf("/v1/endpoints/%s", id), upd), &ep)
	return ep, err
}

// DeleteEndpoint deletes an endpoint; its pending deliveries are not sent.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	return c.do(ctx, del(pathf("/v1/endpoints/%s", id)), nil)
}

// GetEndpointSecret returns the endpoint's current signing secret (and its
// Ed25519 public key when that signing is on).
func (c *Client) GetEndpointSecret(ctx context.Context, id string) (EndpointSecret, error) {
	var s EndpointSecret
	err := c.do(ctx, get(pathf("/v1/endpoints/%s/secret", id), nil), &s)
	return s, err
}

// RotateEndpointSecret replaces the endpoint's signing secret. During the
// grace period (params.GracePeriod, default 24 hours) deliveries are signed
// with both the new and the previous secret, so receivers can switch over;
// a zero grace period retires the old secret at once. It answers the new
// secret.
func (c *Client) RotateEndpointSecret(ctx context.Context, id string, params RotateParams) (EndpointSecret, error) {
	var s EndpointSecret
	err := c.do(ctx, post(pathf("/v1/endpoints/%s/secret/rotate", id), params.body()), &s)
	return s, err
}

// EnableEndpoint re-enables an endpoint that was paused or disabled
// (automatically after failing, or by its owner) and releases its held
// deliveries.
func (c *Client) EnableEndpoint(ctx context.Context, id string) (Endpoint, error) {
	var ep Endpoint
	err := c.do(ctx, post(pathf("/v1/endpoints/%s/enable", id), nil), &ep)
	return ep, err
}
