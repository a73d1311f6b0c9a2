package domain

import (
	"errors"
	"fmt"
)

// Sentinel errors that the HTTP layer maps to status codes in one place.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrUnavailable  = errors.New("temporarily unavailable")
)

// ValidationError reports bad input; Field names the offending field.
// Param marks a query parameter rather than a body field (HTTP answers 400
// instead of 422).
type ValidationError struct {
	Field  string
	Reason string
	Param  bool
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// Invalid returns a *ValidationError.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// InvalidParam returns a *ValidationError for a query parameter.
func InvalidParam(param, format string, args ...any) error {
	return &ValidationError{Field: param, Reason: fmt.Sprintf(format, args...), Param: true}
}

// QuotaError reports that a partner quota forbids the action.
type QuotaError struct{ Reason string }

// Error implements error.
func (e *QuotaError) Error() string { return e.Reason }
