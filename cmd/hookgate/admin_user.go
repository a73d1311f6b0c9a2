package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/domain"
)

// runAdminCreateUser creates an admin user, who logs in through
// POST /v1/auth/login like a partner's user. The password comes from
// --password or, better (it stays out of the process list and the shell
// history), from the first line of standard input with --password-stdin.
func runAdminCreateUser(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the admin's e-mail address (the login)")
	password := fs.String("password", "", "the password (at least 10 characters)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("usage: hookgate admin create-user --email EMAIL (--password PASSWORD | --password-stdin)")
	}
	pw := *password
	if *fromStdin {
		if pw != "" {
			return errors.New("give --password or --password-stdin, not both")
		}
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read the password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if pw == "" {
		return errors.New("a password is required: --password PASSWORD or --password-stdin")
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
	u, err := a.Service.CreateAdminUser(ctx, domain.Principal{Kind: domain.PrincipalAdmin, Actor: "cli"}, *email, pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "admin user %s created for %s; log in with POST /v1/auth/login\n", u.ID, u.Email)
	return nil
}
