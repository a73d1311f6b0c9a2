package sdk

import "context"

// Me returns the partner the client's key or token belongs to.
func (c *Client) Me(ctx context.Context) (Partner, error) {
	var p Partner
	err := c.do(ctx, get("/v1/me", nil), &p)
	return p, err
}

// ListEventTypes returns the event catalogue; a partner sees the types its
// entitlements allow.
func (c *Client) ListEventTypes(ctx context.Context) ([]EventType, error) {
	var l list[EventType]
	err := c.do(ctx, get("/v1/event-types", nil), &l)
	return l.Data, err
}
