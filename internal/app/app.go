// Package app wires hookgate together: it builds every component from the
// configuration, runs the parts a process mode needs (serve, api, worker)
// and shuts them down in a written-down order. It is the only package that
// knows all the others.
package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/delivery/outbound"
	"github.com/hookgate/hookgate/internal/catalog"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/metrics"
	"github.com/hookgate/hookgate/internal/service"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/portal"
	"github.com/hookgate/hookgate/server"
)

// Mode selects what a process runs.
type Mode string

// Process modes.
const (
	ModeServe  Mode = "serve"  // HTTP API, portal, workers and scheduler
	ModeAPI    Mode = "api"    // HTTP side (ingest and fan-out included)
	ModeWorker Mode = "worker" // delivery side (and the sweeper)
)

// App is a built hookgate process.
type App struct {
	Config     config.Config
	Mode       Mode
	Log        *slog.Logger
	Store      *store.Store
	Redis      redis.UniversalClient
	Metrics    *metrics.Metrics
	Routes     *delivery.Routes
	Enqueuer   *delivery.Enqueuer
	Dispatcher *delivery.Dispatcher
	Committer  *ingest.Committer
	Writer     *delivery.Writer
	Worker     *delivery.Worker
	Sweeper    *delivery.Sweeper
	Breaker    *delivery.Breaker
	Jobs       *delivery.JobRunner
	Purger     *delivery.Purger
	Service    *service.Service
	Server     *server.Server
	Outbound   *outbound.Client

	// Quota releases quota-held deliveries (accounts.go).
	Quota *delivery.QuotaReleaser

	asynqClient *asynq.Client
	asynqServer *asynq.Server
	scheduler   *asynq.Scheduler
	local       *localRedis
	cancel      context.CancelFunc
	accounts    accounts
	bg          sync.WaitGroup // committer, dispatcher, routes, sweeper
	writerDone  sync.WaitGroup
	listener    net.Listener
	httpDone    chan error
	writerStop  context.CancelFunc
}

// Build creates every component for mode without starting anything.
func Build(ctx context.Context, cfg config.Config, mode Mode, log *slog.Logger) (*App, error) {
	a := &App{Config: cfg, Mode: mode, Log: log}
	redisLoggerOnce.Do(func() { redis.SetLogger(redisLogger{log}) }) // process-wide in go-redis
	ok := false
	defer func() {
		if !ok {
			a.closeResources()
		}
	}()

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil && !cfg.IsPostgres() {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	key, err := masterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	box, err := crypto.NewBox(key)
	if err != nil {
		return nil, err
	}
	a.Store, err = store.Open(ctx, store.Options{
		PostgresURL: pgURL(cfg), SQLitePath: cfg.SQLitePath(), Box: box, Logger: log, MaxOpenConns: cfg.DBMaxConns,
	})
	if err != nil {
		return nil, err
	}
	if err := a.Store.Migrate(ctx); err != nil {
		return nil, err
	}
	if err := a.Store.SeedEventTypes(ctx, catalog.Seed(time.Now().UTC())); err != nil {
		return nil, err
	}

	a.Redis, a.local, err = connectRedis(ctx, cfg.RedisURL, cfg.RedisURLSet || mode != ModeServe, cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	a.Metrics = metrics.New()
	a.Routes = delivery.NewRoutes(a.Store, a.Redis, log)
	if err := a.Routes.Reload(ctx); err != nil {
		return nil, err
	}
	a.asynqClient = asynq.NewClientFromRedisClient(a.Redis)
	a.Enqueuer = delivery.NewEnqueuer(a.asynqClient, cfg.DeliveryTimeout)
	a.Outbound = outbound.New(outbound.Options{AllowTargets: cfg.AllowTargets})
	if a.accounts, err = buildAccounts(cfg, key, a.Store, a.Redis, a.Enqueuer, log); err != nil {
		return nil, err
	}
	a.Quota = a.accounts.releaser
	creds := service.NewCredentialIndex(a.Store) // Odoo events to enrich before fan-out (odoo.go)
	a.Dispatcher = delivery.NewDispatcher(delivery.FanOutDeps{
		Store: a.Store, Routes: a.Routes, Enqueuer: a.Enqueuer, Log: log, Observe: a.Metrics.DeliveryCreated,
		Quota: a.accounts.quota, Enricher: creds,
	})
	a.Committer = ingest.NewCommitter(a.Store, a.Dispatcher, cfg.DedupWindow, log)
	a.Service, err = service.New(service.Deps{
		Store: a.Store, Committer: a.Committer, Routes: a.Routes, Enqueuer: a.Enqueuer, URLs: a.Outbound,
		Log: log, AdminToken: cfg.AdminToken, PublicURL: cfg.PublicURL, Counters: a.Metrics,
		Queues: delivery.NewInspector(a.Redis), Jobs: a.Enqueuer,
		Hasher: a.accounts.hasher, Tokens: a.accounts.tokens, Throttle: a.accounts.limiter, Quota: a.accounts.releaser,
		AutoApprove: cfg.AutoApprove, Odoo: odooDeps(cfg, creds, a.Metrics),
	})
	if err != nil {
		return nil, err
	}
	a.Sweeper = &delivery.Sweeper{
		Store: a.Store, Dispatcher: a.Dispatcher, Enqueuer: a.Enqueuer, Redis: a.Redis, Log: log,
		Interval: cfg.SweepInterval,
	}

	if mode == ModeServe || mode == ModeWorker {
		a.Writer = delivery.NewWriter(a.Store, log)
		a.Breaker = &delivery.Breaker{
			Store: a.Store, Redis: a.Redis, Log: log, Ops: a.Service, Enqueuer: a.Enqueuer,
			OnChange: a.Routes.Invalidate, Threshold: cfg.BreakerThreshold,
			FirstBackoff: cfg.BreakerProbeAfter, MaxBackoff: 15 * time.Minute,
			DisableAfter: cfg.DisableAfter, Now: time.Now,
		}
		a.Worker, err = delivery.NewWorker(delivery.WorkerDeps{
			Store: a.Store, Routes: a.Routes, Client: a.Outbound, Writer: a.Writer,
			Limits:  delivery.NewLimits(a.Redis, cfg.EndpointConcurrency, cfg.DeliveryTimeout+5*time.Second),
			Breaker: a.Breaker,
			Policy:  delivery.Policy{Schedule: cfg.RetrySchedule, Jitter: cfg.RetryJitter},
			Timeout: cfg.DeliveryTimeout, Log: log, Observe: a.Metrics.Attempt,
			EndpointConcurrency: cfg.EndpointConcurrency, Concurrency: cfg.WorkerConcurrency, Enqueuer: a.Enqueuer,
		})
		if err != nil {
			return nil, err
		}
		a.asynqServer = asynq.NewServerFromRedisClient(a.Redis, asynq.Config{
			// Handlers mostly wait for their endpoint's lane, so the pool is
			// far larger than the requests in flight (WorkerConcurrency).
			Concurrency:              cfg.QueueConcurrency,
			Queues:                   map[string]int{delivery.QueueDeliveries: 9, delivery.QueueOps: 1},
			TaskCheckInterval:        20 * time.Millisecond,
			DelayedTaskCheckInterval: 100 * time.Millisecond,
			RetryDelayFunc:           delivery.RetryDelay,
			IsFailure:                delivery.IsFailure,
			ShutdownTimeout:          cfg.DeliveryTimeout + 5*time.Second,
			Logger:                   asynqLogger{log.With("component", "asynq")},
			LogLevel:                 asynq.WarnLevel,
		})
		a.Jobs, err = delivery.NewJobRunner(delivery.JobRunnerDeps{
			Store: a.Store, Enqueuer: a.Enqueuer, Routes: a.Routes, Redis: a.Redis, Log: log,
		})
		if err != nil {
			return nil, err
		}
		a.Purger = &delivery.Purger{
			Store: a.Store, Redis: a.Redis, Log: log, Retention: cfg.Retention, Interval: cfg.RetentionInterval,
			Observe: func(table string, n int64) { a.Metrics.Purged.WithLabelValues(table).Add(float64(n)) },
		}
		a.scheduler = asynq.NewSchedulerFromRedisClient(a.Redis, &asynq.SchedulerOpts{
			Logger: schedulerLogger{asynqLogger{log.With("component", "asynq-scheduler")}}, LogLevel: asynq.WarnLevel,
		})
		if err := delivery.RegisterPeriodic(a.scheduler, cfg.RetentionInterval); err != nil {
			return nil, err
		}
	}
	if mode == ModeServe || mode == ModeAPI {
		// The portal (web UI) shares the API's fiber app and services.
		web, err := portal.New(portal.Deps{
			Service: a.Service, Log: log.With("component", "portal"), Key: key,
			Secure: strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://"),
		})
		if err != nil {
			return nil, err
		}
		a.Server, err = server.New(server.Deps{
			Service: a.Service, Log: log, MaxBodyBytes: cfg.MaxBodyBytes,
			Ready:   map[string]server.Checker{"database": a.Store, "redis": redisPinger{a.Redis}},
			Metrics: adaptor.HTTPHandler(a.Metrics.Handler()),
			Mount:   web.Mount,

			RateLimits: a.accounts.rateLimits(cfg), TrustedProxies: trustedProxies(cfg),
		})
		if err != nil {
			return nil, err
		}
	}
	ok = true
	return a, nil
}

type redisPinger struct{ c redis.UniversalClient }

func (r redisPinger) Ping(ctx context.Context) error { return r.c.Ping(ctx).Err() }

// Start runs the process's components in the background. Serving HTTP is
// part of it when the mode has an API; Addr reports where it listens.
func (a *App) Start(ctx context.Context) error {
	ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	a.goBG(func() { a.Routes.Run(ctx, 30*time.Second) })
	a.goBG(func() { a.Dispatcher.Run(ctx) })
	// The committer runs in every mode: workers record operational events.
	a.goBG(func() { a.Committer.Run(ctx) })
	a.goBG(func() { a.runGauges(ctx, 5*time.Second) })
	if a.asynqServer != nil {
		a.writerDone.Add(1)
		wctx, wcancel := context.WithCancel(context.Background())
		parallel := 1 // SQLite has one writer
		if a.Store.IsPostgres() {
			parallel = 2
		}
		go func() { defer a.writerDone.Done(); a.Writer.Run(wctx, parallel) }()
		a.writerStop = wcancel
		mux := asynq.NewServeMux()
		mux.Handle(delivery.TaskAttempt, a.Worker)
		mux.Handle(delivery.TaskJobRun, a.Jobs)
		mux.Handle(delivery.TaskJobResume, a.Jobs)
		mux.Handle(delivery.TaskRetention, a.Purger)
		mux.Handle(delivery.TaskEnrich, &delivery.EnrichWorker{Enricher: a.Service, Dispatcher: a.Dispatcher, Log: a.Log})
		if err := a.asynqServer.Start(mux); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		if err := a.scheduler.Start(); err != nil {
			return fmt.Errorf("start scheduler: %w", err)
		}
		a.goBG(func() { a.Sweeper.Run(ctx) })
		rl := &reconcileLoop{svc: a.Service, rdb: a.Redis, log: a.Log, tick: min(time.Second, a.Config.ReconcileInterval/4), maxRun: 10 * time.Minute}
		a.goBG(func() { rl.run(ctx) })
		a.goBG(func() { a.Quota.Run(ctx, a.Config.QuotaCheckInterval) })
		a.goBG(func() { a.pruneSessions(ctx, time.Hour) })
		a.goBG(func() { a.Breaker.Run(ctx, time.Second) })
		// One immediate sweep re-enqueues whatever a previous run left.
		a.goBG(func() {
			if _, err := a.Sweeper.Sweep(ctx); err != nil && ctx.Err() == nil {
				a.Log.Warn("start-up sweep failed", "error", err)
			}
		})
	}
	if a.Server != nil {
		ln, err := net.Listen("tcp", a.Config.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
		}
		a.listener = ln
		if a.Config.PublicURL == "http://"+a.Config.Addr {
			// The default public URL follows the address actually bound
			// (port 0 picks a free port).
			a.Config.PublicURL = "http://" + ln.Addr().String()
			a.Service.SetPublicURL(a.Config.PublicURL)
		}
		a.httpDone = make(chan error, 1)
		go func() { a.httpDone <- a.Server.App().Listener(ln) }()
		a.Log.Info("hookgate listening", "addr", ln.Addr().String(), "mode", string(a.Mode),
			"database", dbKind(a.Store), "public_url", a.Config.PublicURL)
	}
	return nil
}

// Addr is the HTTP listen address once started.
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// HTTPDone reports the HTTP server's exit.
func (a *App) HTTPDone() <-chan error { return a.httpDone }

func (a *App) goBG(f func()) {
	a.bg.Add(1)
	go func() { defer a.bg.Done(); f() }()
}

// Shutdown stops the process in this order: stop accepting HTTP (in-flight
// requests finish), flush the ingest committer, stop the workers (in-flight
// attempts finish or are returned to the queue), flush the attempt writer,
// stop background loops, close the queue client and Redis, close the
// database.
func (a *App) Shutdown(ctx context.Context) {
	if a.Server != nil && a.listener != nil {
		if err := a.Server.App().ShutdownWithContext(ctx); err != nil {
			a.Log.Warn("http shutdown", "error", err)
		}
	}
	if a.scheduler != nil {
		a.scheduler.Shutdown()
	}
	if a.asynqServer != nil {
		a.Worker.BeginStop() // waiting attempts return to the queue
		a.asynqServer.Shutdown()
		a.Worker.Wait(ctx)
	}
	if a.cancel != nil {
		a.cancel()
	}
	a.bg.Wait()
	if a.writerStop != nil {
		a.writerStop()
		a.writerDone.Wait()
	}
	a.closeResources()
}

func (a *App) closeResources() {
	if a.asynqClient != nil {
		_ = a.asynqClient.Close()
	}
	if a.Redis != nil {
		_ = a.Redis.Close()
	}
	a.local.Close()
	if a.Store != nil {
		_ = a.Store.Close()
	}
}

func dbKind(s *store.Store) string {
	if s.IsPostgres() {
		return "postgresql"
	}
	return "sqlite"
}

func pgURL(cfg config.Config) string {
	if cfg.IsPostgres() {
		return cfg.DatabaseURL
	}
	return ""
}

// masterKey returns the configured key or, with none set, the key kept in
// the data dir (generated on first start, with a warning).
func masterKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if len(cfg.MasterKey) == 32 {
		return cfg.MasterKey, nil
	}
	path := filepath.Join(cfg.DataDir, "master.key")
	if b, err := os.ReadFile(path); err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("%s does not hold a base64 32-byte key", path)
		}
		log.Warn("HOOKGATE_MASTER_KEY is not set; using the key in the data dir", "path", path)
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	k := crypto.GenerateKey()
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	log.Warn("HOOKGATE_MASTER_KEY is not set; generated one into the data dir. Back it up: without it, signing secrets cannot be decrypted. Set HOOKGATE_MASTER_KEY in production.", "path", path)
	return k, nil
}

// Mount lets callers add routes (the portal) before Start; kept for the
// portal package.
func (a *App) Mount(f func(app *fiber.App)) {
	if a.Server != nil {
		f(a.Server.App())
	}
}
