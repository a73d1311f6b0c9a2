// Command hookgate is the webhook gateway: one binary with subcommands.
//
//	hookgate [serve]        everything in one process (default)
//	hookgate api            the HTTP side alone
//	hookgate worker         the delivery side alone
//	hookgate migrate        apply database migrations and exit
//	hookgate admin create-key --name NAME   mint an admin API key
//	hookgate admin create-user --email E    create an admin user (logs in at /v1/auth/login)
//	hookgate bench [flags]  the end-to-end benchmark
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hookgate:", err)
		os.Exit(1)
	}
}

const usage = `usage: hookgate <command>

commands:
  serve     run everything in one process (default)
  api       run the HTTP API alone (scale out behind a load balancer)
  worker    run the delivery workers alone
  migrate   apply database migrations and exit
  admin     create-key --name NAME: mint an admin API key (printed once)
            create-user --email EMAIL (--password P | --password-stdin): create an admin user
  bench     run the end-to-end benchmark (hookgate bench -h)

configuration comes from the environment; see README.md.`

func run(args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "api", "worker":
		return runProcess(app.Mode(cmd), stderr)
	case "migrate":
		return runMigrate(stderr, stdout)
	case "admin":
		return runAdmin(args, stdout, stderr)
	case "bench":
		return runBench(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

func loadConfig() (config.Config, error) {
	cfg, err := config.Load(nil)
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}

func runProcess(mode app.Mode, stderr io.Writer) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := app.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.Build(ctx, cfg, mode, log)
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		a.Shutdown(context.Background())
		return err
	}
	var httpErr error
	select {
	case <-ctx.Done():
	case httpErr = <-a.HTTPDone():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.DeliveryTimeout+15*time.Second)
	defer cancel()
	a.Shutdown(sctx)
	return httpErr
}

func runMigrate(stderr, stdout io.Writer) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := app.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	v, err := app.Migrate(context.Background(), cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database schema at version %d\n", v)
	return nil
}

func runAdmin(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "create-user" {
		return runAdminCreateUser(args[1:], os.Stdin, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "create-key" {
		return errors.New("usage: hookgate admin create-key --name NAME\n       hookgate admin create-user --email EMAIL (--password PASSWORD | --password-stdin)")
	}
	fs := flag.NewFlagSet("admin create-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "admin", "a name for the key")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := app.NewLogger(stderr, "warn", cfg.LogFormat)
	ctx := context.Background()
	a, err := app.Build(ctx, cfg, app.ModeAPI, log)
	if err != nil {
		return err
	}
	defer a.Shutdown(ctx)
	k, secret, err := a.Service.IssueAPIKey(ctx, domain.Principal{Kind: domain.PrincipalAdmin, Actor: "cli"}, "",
		service.APIKeyInput{Name: *name})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "admin key %s (shown once):\n%s\n", k.ID, secret)
	return nil
}
