// Package portal is hookgate's server-rendered web UI: partners sign up,
// log in, manage API keys and endpoints, read the delivery log and verify
// their receiver; admins approve partners, manage credentials, sources, the
// event catalogue and replays, and watch the gateway's health.
//
// Pages are html/template files and static assets embedded with embed.FS
// (no JavaScript build step; a little vanilla JavaScript adds copy buttons,
// progress polling and auto-refresh). The portal is mounted on the API's
// fiber app under /portal and calls internal/service directly, never the
// HTTP API. Sessions are the service's user sessions: an HttpOnly cookie
// holds the short-lived access token (JWT), a second one the refresh token;
// every form carries a CSRF token bound to the session.
//
// The portal must not import gorm, asynq or the store's row types: it
// renders what the service returns.
package portal
