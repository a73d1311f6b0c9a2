// Package testenv gives tests real services of their own: a fresh
// PostgreSQL database per call and a Redis database index held exclusively
// for the test. A missing service fails the test with a message saying what
// is missing; nothing is skipped. Only tests import this package.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for creating test databases
	"github.com/redis/go-redis/v9"
)

// PostgresAdminURL is where test databases are created
// (HOOKGATE_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres).
func PostgresAdminURL() string {
	if v := os.Getenv("HOOKGATE_TEST_POSTGRES_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisBaseURL is the Redis server tests use (HOOKGATE_TEST_REDIS_URL,
// default redis://127.0.0.1:6379); the database index is chosen per test.
func RedisBaseURL() string {
	if v := os.Getenv("HOOKGATE_TEST_REDIS_URL"); v != "" {
		return strings.TrimRight(v, "/")
	}
	return "redis://127.0.0.1:6379"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Postgres creates an empty database for this test and drops it at the
// end. It returns the database's URL.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminURL()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL URL %s: %v", admin, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		t.Fatalf("testenv: PostgreSQL is required and not reachable at %s: %v\n"+
			"start it (see README: .ci/run starts it) or set HOOKGATE_TEST_POSTGRES_URL", admin, err)
	}
	name := "hookgate_test_" + randomHex(6)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
		}
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// lockTTL bounds how long a crashed test run holds a Redis index.
const lockTTL = 2 * time.Minute

// Redis claims a Redis database index (1–15) for this test alone, flushes
// it, and returns its URL. The claim is a key in database 0 that is
// refreshed while the test runs and deleted at the end; concurrent test
// processes wait for a free index.
func Redis(t testing.TB) string {
	t.Helper()
	base := RedisBaseURL()
	opt, err := redis.ParseURL(base + "/0")
	if err != nil {
		t.Fatalf("testenv: Redis URL %s: %v", base, err)
	}
	ctl := redis.NewClient(opt)
	ctx := context.Background()
	if err := ctl.Ping(ctx).Err(); err != nil {
		ctl.Close()
		t.Fatalf("testenv: Redis is required and not reachable at %s: %v\n"+
			"start it (see README: .ci/run starts it) or set HOOKGATE_TEST_REDIS_URL", base, err)
	}
	owner := randomHex(8)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		for i := 1; i <= 15; i++ {
			key := "hookgate:testenv:db:" + strconv.Itoa(i)
			ok, err := ctl.SetNX(ctx, key, owner, lockTTL).Result()
			if err != nil {
				ctl.Close()
				t.Fatalf("testenv: Redis: %v", err)
			}
			if !ok {
				continue
			}
			u := fmt.Sprintf("%s/%d", base, i)
			o, _ := redis.ParseURL(u)
			c := redis.NewClient(o)
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatalf("testenv: flush Redis db %d: %v", i, err)
			}
			c.Close()
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				tk := time.NewTicker(lockTTL / 4)
				defer tk.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tk.C:
						ctl.Expire(ctx, key, lockTTL)
					}
				}
			}()
			t.Cleanup(func() {
				close(stop)
				<-done
				c := redis.NewClient(o)
				c.FlushDB(ctx)
				c.Close()
				// Release only our own claim.
				if v, _ := ctl.Get(ctx, key).Result(); v == owner {
					ctl.Del(ctx, key)
				}
				ctl.Close()
			})
			return u
		}
		if time.Now().After(deadline) {
			ctl.Close()
			t.Fatalf("testenv: no free Redis database index (1–15) after 3 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Backend names a database backend for conformance tests.
type Backend struct {
	Name string
	// URL is DATABASE_URL for the backend ("" for SQLite: a file in a temp dir).
	URL func(t testing.TB) string
}

// Backends are the databases every storage test runs on.
var Backends = []Backend{
	{Name: "sqlite", URL: func(t testing.TB) string { return "sqlite:" + t.TempDir() + "/hookgate.db" }},
	{Name: "postgres", URL: Postgres},
}
