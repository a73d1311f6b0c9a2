package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/hibiken/asynq"
)

// NewLogger builds the process logger from the config's level and format.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// asynqLogger adapts asynq's logger interface to slog.
type asynqLogger struct{ l *slog.Logger }

var _ asynq.Logger = asynqLogger{}

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)); os.Exit(1) }

// redisLoggerOnce sets go-redis's process-wide logger once.
var redisLoggerOnce sync.Once

// redisLogger sends go-redis's own messages (pool dial failures, which
// repeat while Redis is down) to slog at debug level; hookgate reports
// Redis trouble itself, once, with context.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
