package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// ErrRedisUnreachable is returned when an explicitly configured Redis does
// not answer.
var ErrRedisUnreachable = errors.New("redis unreachable")

// NewRedisClient opens redis://, rediss://, redis-sentinel:// and
// redis-cluster:// URLs as a go-redis UniversalClient (asynq accepts all
// three).
//
//	redis-sentinel://[:password@]host1:26379,host2:26379/0?master=mymaster
//	redis-cluster://[:password@]host1:6379,host2:6379
func NewRedisClient(raw string) (redis.UniversalClient, error) {
	switch {
	case strings.HasPrefix(raw, "redis://"), strings.HasPrefix(raw, "rediss://"), strings.HasPrefix(raw, "unix://"):
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		o.PoolSize = max(o.PoolSize, 64)
		return redis.NewClient(o), nil
	case strings.HasPrefix(raw, "redis-sentinel://"), strings.HasPrefix(raw, "redis-cluster://"):
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		addrs := strings.Split(u.Host, ",")
		pass, _ := u.User.Password()
		if u.Scheme == "redis-cluster" {
			return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: pass, PoolSize: 64}), nil
		}
		master := u.Query().Get("master")
		if master == "" {
			return nil, errors.New("REDIS_URL: redis-sentinel:// needs ?master=<name>")
		}
		db := 0
		if p := strings.Trim(u.Path, "/"); p != "" {
			if db, err = strconv.Atoi(p); err != nil {
				return nil, fmt.Errorf("REDIS_URL: database %q is not a number", p)
			}
		}
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: master, SentinelAddrs: addrs, Password: pass, DB: db, PoolSize: 64,
		}), nil
	}
	return nil, fmt.Errorf("REDIS_URL: %q must start with redis://, rediss://, redis-sentinel:// or redis-cluster://", raw)
}

// localRedis is the Redis that `serve` runs itself when none is configured.
type localRedis struct {
	cmd  *exec.Cmd
	mini *miniredis.Miniredis
	stop chan struct{}
}

// Close stops the private Redis.
func (l *localRedis) Close() {
	if l == nil {
		return
	}
	if l.stop != nil {
		close(l.stop)
	}
	if l.mini != nil {
		l.mini.Close()
	}
	if l.cmd != nil && l.cmd.Process != nil {
		_ = l.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = l.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = l.cmd.Process.Kill()
		}
	}
}

// connectRedis connects to the configured Redis. With REDIS_URL unset and
// nothing on the default address it starts a private redis-server child
// (data under dataDir) or, failing that, an embedded miniredis.
func connectRedis(ctx context.Context, raw string, explicit bool, dataDir string, log *slog.Logger) (redis.UniversalClient, *localRedis, error) {
	rdb, err := NewRedisClient(raw)
	if err != nil {
		return nil, nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	err = rdb.Ping(pctx).Err()
	cancel()
	if err == nil {
		return rdb, nil, nil
	}
	rdb.Close()
	if explicit {
		return nil, nil, fmt.Errorf("%w: nothing answers at %s (%v)", ErrRedisUnreachable, redactRedis(raw), err)
	}
	if path, lookErr := exec.LookPath("redis-server"); lookErr == nil {
		l, addr, err := startRedisServer(ctx, path, dataDir)
		if err == nil {
			log.Info("no Redis at the default address; started a private redis-server", "addr", addr, "dir", filepath.Join(dataDir, "redis"))
			return redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64}), l, nil
		}
		log.Warn("could not start redis-server", "error", err)
	}
	mini := miniredis.NewMiniRedis()
	if err := mini.StartAddr("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("embedded redis: %w", err)
	}
	l := &localRedis{mini: mini, stop: make(chan struct{})}
	// miniredis has no clock of its own: advance it so TTLs (asynq leases,
	// locks) expire.
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				mini.FastForward(250 * time.Millisecond)
			}
		}
	}()
	log.Warn("no Redis found and redis-server is not installed: running an EMBEDDED in-process Redis. " +
		"This mode is for trying hookgate, not for production: set REDIS_URL. " +
		"Nothing is lost on restart (the database is the system of record), but queues restart empty and are rebuilt from it.")
	return redis.NewClient(&redis.Options{Addr: mini.Addr(), PoolSize: 64}), l, nil
}

func startRedisServer(ctx context.Context, path, dataDir string) (*localRedis, string, error) {
	dir := filepath.Join(dataDir, "redis")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	abs, _ := filepath.Abs(dir)
	cmd := exec.Command(path, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", abs,
		"--appendonly", "yes", "--save", "", "--daemonize", "no", "--logfile", filepath.Join(abs, "redis.log"))
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for i := 0; i < 50; i++ {
		if c.Ping(ctx).Err() == nil {
			return &localRedis{cmd: cmd}, addr, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, "", errors.New("redis-server did not answer within 5s")
}

func redactRedis(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User("…")
	return u.String()
}
