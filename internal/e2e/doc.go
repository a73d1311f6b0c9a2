// Package e2e holds end-to-end tests: a whole gateway in-process against
// real PostgreSQL and Redis, driven over HTTP, delivering to local
// receivers. It has no non-test code beyond this comment.
package e2e
