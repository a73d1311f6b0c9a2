// Package config loads hookgate's configuration from the environment into one
// typed, validated struct. It must not import any other hookgate package.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultRetrySchedule is the delay before each retry after the immediate
// first attempt: 8 attempts in all (DESIGN §6).
var DefaultRetrySchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Config is every setting hookgate reads. Each field names its environment
// variable; Load fills and validates it.
type Config struct {
	// Addr is the HTTP listen address (HOOKGATE_ADDR, default 127.0.0.1:8080).
	Addr string
	// PublicURL is the externally visible base URL used in ingest URLs
	// (HOOKGATE_PUBLIC_URL, default http://<Addr>).
	PublicURL string
	// DataDir holds the SQLite database, a generated master key and the
	// private Redis files (HOOKGATE_DATA_DIR, default ./data).
	DataDir string
	// DatabaseURL selects PostgreSQL (postgres://…) or SQLite (sqlite:path or
	// unset: <DataDir>/hookgate.db) (DATABASE_URL).
	DatabaseURL string
	// RedisURL is redis://, rediss://, redis-sentinel:// or redis-cluster://
	// (REDIS_URL). Unset: 127.0.0.1:6379 db 0, with a private or embedded
	// fallback when nothing answers there.
	RedisURL string
	// RedisURLSet reports whether REDIS_URL was given explicitly.
	RedisURLSet bool
	// AdminToken is the bootstrap admin API token (HOOKGATE_ADMIN_TOKEN).
	AdminToken string
	// MasterKey is the 32-byte key that encrypts secrets at rest
	// (HOOKGATE_MASTER_KEY, base64). Empty means "generate into DataDir".
	MasterKey []byte
	// AllowTargets are CIDRs exempt from the SSRF guard (HOOKGATE_ALLOW_TARGETS).
	AllowTargets []netip.Prefix
	// RetrySchedule is the delay before each retry (HOOKGATE_RETRY_SCHEDULE).
	RetrySchedule []time.Duration
	// RetryJitter is the ± fraction applied to each retry delay
	// (HOOKGATE_RETRY_JITTER, default 0.2).
	RetryJitter float64
	// DeliveryTimeout bounds one HTTP attempt (HOOKGATE_DELIVERY_TIMEOUT, default 15s).
	DeliveryTimeout time.Duration
	// WorkerConcurrency is the number of concurrent delivery attempts per
	// worker process (HOOKGATE_WORKER_CONCURRENCY, default 200).
	WorkerConcurrency int
	// QueueConcurrency is how many queue tasks a worker process holds at
	// once, most of them waiting in their endpoint's lane
	// (HOOKGATE_QUEUE_CONCURRENCY, default 4000).
	QueueConcurrency int
	// EndpointConcurrency caps in-flight attempts per endpoint across all
	// workers (HOOKGATE_ENDPOINT_CONCURRENCY, default 10).
	EndpointConcurrency int
	// SweepInterval is how often pending work is re-enqueued from the
	// database (HOOKGATE_SWEEP_INTERVAL, default 30s).
	SweepInterval time.Duration
	// DBMaxConns bounds the PostgreSQL connection pool of one process
	// (HOOKGATE_DB_MAX_CONNS, default 16). Mind PostgreSQL's max_connections
	// when running many processes.
	DBMaxConns int
	// MaxBodyBytes bounds request bodies (HOOKGATE_MAX_BODY, default 1 MiB).
	MaxBodyBytes int
	// DedupWindow is how long the same Odoo body from the same source is
	// treated as a duplicate (HOOKGATE_DEDUP_WINDOW, default 24h).
	DedupWindow time.Duration
	// ReconcileInterval is how often each Odoo source with API credentials
	// is reconciled against Odoo (HOOKGATE_RECONCILE_INTERVAL, default 5m;
	// a source may override it).
	ReconcileInterval time.Duration
	// OdooConfirmWindow is how long enrichment waits for the change an
	// Odoo webhook reports to be committed before dropping the event as
	// rolled back (HOOKGATE_ODOO_CONFIRM_WINDOW, default 30s).
	OdooConfirmWindow time.Duration
	// Retention is how long attempts and event payloads are kept
	// (HOOKGATE_RETENTION, default 720h).
	Retention time.Duration
	// RetentionInterval is how often the retention job purges what is older
	// than Retention; 0 turns the purge off (HOOKGATE_RETENTION_INTERVAL,
	// default 1h).
	RetentionInterval time.Duration
	// DisableAfter is how long an endpoint may keep failing before it is
	// disabled (HOOKGATE_DISABLE_AFTER, default 120h).
	DisableAfter time.Duration
	// BreakerThreshold is how many consecutive failed attempts open an
	// endpoint's circuit (HOOKGATE_BREAKER_THRESHOLD, default 20).
	BreakerThreshold int
	// BreakerProbeAfter is the first wait before a circuit-open endpoint is
	// probed; it doubles up to 15 minutes (HOOKGATE_BREAKER_PROBE_AFTER, default 30s).
	BreakerProbeAfter time.Duration
	// AutoApprove activates self-signed-up partners at once (HOOKGATE_AUTO_APPROVE).
	AutoApprove bool
	// APIRatePerKey limits /v1 requests per API key, session or source
	// token (HOOKGATE_API_RATE_PER_KEY, "RATE[:BURST]" per second, default
	// 50:100; admin and source credentials get 10×; 0 turns it off).
	APIRatePerKey Rate
	// APIRatePerAddress limits /v1 requests per client address
	// (HOOKGATE_API_RATE_PER_ADDRESS, default 100:200; 0 turns it off).
	APIRatePerAddress Rate
	// TrustedProxies are reverse proxies whose X-Forwarded-For names the
	// client (HOOKGATE_TRUSTED_PROXIES, CIDRs; default none).
	TrustedProxies []netip.Prefix
	// QuotaCheckInterval is how often workers release quota-held
	// deliveries the quota allows again, e.g. at the turn of the month
	// (HOOKGATE_QUOTA_CHECK_INTERVAL, default 1m).
	QuotaCheckInterval time.Duration
	// JWTSecret signs access tokens (HOOKGATE_JWT_SECRET; default derived
	// from the master key).
	JWTSecret []byte
	// LogLevel is debug, info, warn or error (HOOKGATE_LOG_LEVEL, default info).
	LogLevel string
	// LogFormat is text or json (HOOKGATE_LOG_FORMAT, default text).
	LogFormat string
}

// Load reads the environment through getenv (os.Getenv when nil) and
// validates the result.
func Load(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var errs []error
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	rate := func(k string, def Rate) Rate {
		v := get(k, "")
		if v == "" {
			return def
		}
		r, err := ParseRate(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
			return def
		}
		return r
	}
	dur := func(k string, def time.Duration) time.Duration {
		v := get(k, "")
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration (e.g. 30s, 5m)", k, v))
			return def
		}
		return d
	}
	num := func(k string, def, lo, hi int) int {
		v := get(k, "")
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s: %q must be an integer from %d to %d", k, v, lo, hi))
			return def
		}
		return n
	}

	c := Config{
		Addr:                get("HOOKGATE_ADDR", "127.0.0.1:8080"),
		DataDir:             get("HOOKGATE_DATA_DIR", "./data"),
		DatabaseURL:         get("DATABASE_URL", ""),
		RedisURL:            get("REDIS_URL", ""),
		AdminToken:          get("HOOKGATE_ADMIN_TOKEN", ""),
		RetryJitter:         0.2,
		DeliveryTimeout:     dur("HOOKGATE_DELIVERY_TIMEOUT", 15*time.Second),
		WorkerConcurrency:   num("HOOKGATE_WORKER_CONCURRENCY", 200, 1, 10000),
		EndpointConcurrency: num("HOOKGATE_ENDPOINT_CONCURRENCY", 10, 1, 1000),
		QueueConcurrency:    num("HOOKGATE_QUEUE_CONCURRENCY", 4000, 10, 100000),
		SweepInterval:       dur("HOOKGATE_SWEEP_INTERVAL", 30*time.Second),
		MaxBodyBytes:        num("HOOKGATE_MAX_BODY", 1<<20, 1024, 64<<20),
		DBMaxConns:          num("HOOKGATE_DB_MAX_CONNS", 16, 2, 1000),
		DedupWindow:         dur("HOOKGATE_DEDUP_WINDOW", 24*time.Hour),
		ReconcileInterval:   dur("HOOKGATE_RECONCILE_INTERVAL", 5*time.Minute),
		OdooConfirmWindow:   dur("HOOKGATE_ODOO_CONFIRM_WINDOW", 30*time.Second),
		Retention:           dur("HOOKGATE_RETENTION", 30*24*time.Hour),
		RetentionInterval:   dur("HOOKGATE_RETENTION_INTERVAL", time.Hour),
		DisableAfter:        dur("HOOKGATE_DISABLE_AFTER", 5*24*time.Hour),
		BreakerThreshold:    num("HOOKGATE_BREAKER_THRESHOLD", 20, 1, 100000),
		BreakerProbeAfter:   dur("HOOKGATE_BREAKER_PROBE_AFTER", 30*time.Second),
		LogLevel:            strings.ToLower(get("HOOKGATE_LOG_LEVEL", "info")),
		LogFormat:           strings.ToLower(get("HOOKGATE_LOG_FORMAT", "text")),
	}
	c.RedisURLSet = c.RedisURL != ""
	if !c.RedisURLSet {
		c.RedisURL = "redis://127.0.0.1:6379/0"
	}
	c.PublicURL = strings.TrimRight(get("HOOKGATE_PUBLIC_URL", "http://"+c.Addr), "/")

	if v := get("HOOKGATE_MASTER_KEY", ""); v != "" {
		k, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(k) != 32 {
			errs = append(errs, errors.New("HOOKGATE_MASTER_KEY: must be the base64 of exactly 32 bytes (openssl rand -base64 32)"))
		}
		c.MasterKey = k
	}
	if v := get("HOOKGATE_JWT_SECRET", ""); v != "" {
		c.JWTSecret = []byte(v)
		if len(v) < 32 {
			errs = append(errs, errors.New("HOOKGATE_JWT_SECRET: must be at least 32 characters (openssl rand -base64 32)"))
		}
	}
	c.APIRatePerKey = rate("HOOKGATE_API_RATE_PER_KEY", Rate{PerSecond: 50, Burst: 100})
	c.APIRatePerAddress = rate("HOOKGATE_API_RATE_PER_ADDRESS", Rate{PerSecond: 100, Burst: 200})
	c.QuotaCheckInterval = dur("HOOKGATE_QUOTA_CHECK_INTERVAL", time.Minute)
	if c.QuotaCheckInterval < time.Second {
		errs = append(errs, errors.New("HOOKGATE_QUOTA_CHECK_INTERVAL: must be at least 1s"))
	}
	if v := get("HOOKGATE_TRUSTED_PROXIES", ""); v != "" {
		p, err := ParsePrefixes(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HOOKGATE_TRUSTED_PROXIES: %w", err))
		}
		c.TrustedProxies = p
	}
	if v := get("HOOKGATE_ALLOW_TARGETS", ""); v != "" {
		p, err := ParsePrefixes(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HOOKGATE_ALLOW_TARGETS: %w", err))
		}
		c.AllowTargets = p
	}
	c.RetrySchedule = DefaultRetrySchedule
	if v := get("HOOKGATE_RETRY_SCHEDULE", ""); v != "" {
		s, err := ParseSchedule(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HOOKGATE_RETRY_SCHEDULE: %w", err))
		}
		c.RetrySchedule = s
	}
	if v := get("HOOKGATE_RETRY_JITTER", ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 0.5 {
			errs = append(errs, fmt.Errorf("HOOKGATE_RETRY_JITTER: %q must be a fraction from 0 to 0.5", v))
		}
		c.RetryJitter = f
	}
	if v := get("HOOKGATE_AUTO_APPROVE", ""); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HOOKGATE_AUTO_APPROVE: %q is not true or false", v))
		}
		c.AutoApprove = b
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("HOOKGATE_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("HOOKGATE_LOG_FORMAT: %q is not text or json", c.LogFormat))
	}
	if c.DatabaseURL != "" && !c.IsPostgres() && !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "file:") {
		errs = append(errs, fmt.Errorf("DATABASE_URL: %q must start with postgres://, postgresql://, sqlite: or file:", redactURL(c.DatabaseURL)))
	}
	if c.ReconcileInterval < time.Second {
		errs = append(errs, errors.New("HOOKGATE_RECONCILE_INTERVAL: must be at least 1s"))
	}
	if c.OdooConfirmWindow < time.Second || c.OdooConfirmWindow > time.Hour {
		errs = append(errs, errors.New("HOOKGATE_ODOO_CONFIRM_WINDOW: must be from 1s to 1h"))
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		errs = append(errs, errors.New("HOOKGATE_ADMIN_TOKEN: must be at least 16 characters"))
	}
	return c, errors.Join(errs...)
}

// IsPostgres reports whether DatabaseURL names PostgreSQL.
func (c Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// SQLitePath is the SQLite file to open when DatabaseURL is not PostgreSQL.
func (c Config) SQLitePath() string {
	switch {
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		return strings.TrimPrefix(strings.TrimPrefix(c.DatabaseURL, "sqlite:"), "//")
	case strings.HasPrefix(c.DatabaseURL, "file:"):
		return strings.TrimPrefix(c.DatabaseURL, "file:")
	}
	return filepath.Join(c.DataDir, "hookgate.db")
}

// ParseSchedule parses "5s,5m,30m" into delays.
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%q is not a duration", part)
		}
		out = append(out, d)
	}
	if len(out) > 50 {
		return nil, errors.New("at most 50 retries")
	}
	return out, nil
}

// ParsePrefixes parses a comma-separated list of CIDRs or bare addresses.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR", part)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR", part)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func redactURL(s string) string {
	if i := strings.Index(s, "@"); i > 0 {
		if j := strings.Index(s, "://"); j > 0 && j < i {
			return s[:j+3] + "…" + s[i:]
		}
	}
	return s
}
