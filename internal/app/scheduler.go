package app

import (
	"fmt"
	"strings"

	"github.com/hibiken/asynq"
)

// schedulerLogger is asynqLogger for the periodic-task scheduler, without
// the error asynq's scheduler always logs at shutdown when it shares the
// process's Redis client (which the app closes itself, last).
type schedulerLogger struct{ asynqLogger }

var _ asynq.Logger = schedulerLogger{}

// Error logs, except the shared-connection notice.
func (s schedulerLogger) Error(args ...any) {
	msg := fmt.Sprint(args...)
	if strings.Contains(msg, "connection is shared") {
		return
	}
	s.l.Error(msg)
}
