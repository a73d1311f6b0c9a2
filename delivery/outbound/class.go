package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// Class is an error class recorded on delivery attempts.
type Class string

// Error classes.
const (
	// ClassNone: no error.
	ClassNone Class = ""
	// ClassTimeout: the attempt's total timeout (or a connect or TLS
	// handshake timeout) expired before a status arrived.
	ClassTimeout Class = "timeout"
	// ClassConnectionRefused: nothing listens on the target port.
	ClassConnectionRefused Class = "connection_refused"
	// ClassConnectionReset: the peer reset or closed the connection before
	// sending a status.
	ClassConnectionReset Class = "connection_reset"
	// ClassTLS: the TLS handshake failed (certificate, protocol, or a plain
	// HTTP server behind an https URL).
	ClassTLS Class = "tls"
	// ClassDNS: the host name did not resolve.
	ClassDNS Class = "dns"
	// ClassBlockedTarget: the SSRF guard refused the address.
	ClassBlockedTarget Class = "blocked_target"
	// ClassHTTPStatus: a status was obtained but counts as a failure; set by
	// callers, never returned by ClassOf.
	ClassHTTPStatus Class = "http_status"
	// ClassInvalidURL: the target URL is malformed or unsupported.
	ClassInvalidURL Class = "invalid_url"
	// ClassNetwork: any other transport failure.
	ClassNetwork Class = "network"
)

// ClassOf classifies an error returned by [Client.Do]. It returns ClassNone
// for nil and ClassNetwork for anything it does not recognise (including a
// cancelled context, which callers can detect with errors.Is).
func ClassOf(err error) Class {
	if err == nil {
		return ClassNone
	}
	switch {
	case errors.Is(err, ErrBlockedTarget):
		return ClassBlockedTarget
	case errors.Is(err, ErrInvalidURL):
		return ClassInvalidURL
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return ClassTimeout
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return ClassDNS
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return ClassTimeout
	}
	if isTLS(err) {
		return ClassTLS
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// The peer dropped the connection before a status line.
		return ClassConnectionReset
	}
	return ClassNetwork
}

func isTLS(err error) bool {
	var (
		verr  *tls.CertificateVerificationError
		rerr  tls.RecordHeaderError
		aerr  tls.AlertError
		ech   *tls.ECHRejectionError
		uaerr x509.UnknownAuthorityError
		herr  x509.HostnameError
		cierr x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &verr), errors.As(err, &rerr), errors.As(err, &aerr), errors.As(err, &ech),
		errors.As(err, &uaerr), errors.As(err, &herr), errors.As(err, &cierr):
		return true
	}
	// crypto/tls reports most handshake failures as plain errors.New("tls: …"),
	// and net/http spots a plain-HTTP server behind an https URL.
	msg := err.Error()
	return strings.Contains(msg, "tls: ") || strings.Contains(msg, "server gave HTTP response to HTTPS client")
}
