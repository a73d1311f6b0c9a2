// Package server is hookgate's HTTP API on fiber: routes, authentication
// middleware, request parsing, the API's own JSON types (DTOs) and the one
// place where errors become RFC 9457 problem documents. Handlers parse,
// call the service layer and render; they hold no business logic. It must
// not import gorm or asynq.
package server
