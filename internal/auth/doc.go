// Package auth holds hookgate's credential primitives for people: argon2id
// password hashing (bounded in concurrency, with a dummy hash so that an
// unknown e-mail costs as much as a wrong password), HS256 access tokens
// (JWT) that name a server-side session, and opaque refresh tokens. It
// knows nothing of storage or HTTP; internal/service decides what the
// tokens mean. It must not import fiber, gorm, asynq or other hookgate
// packages besides crypto.
package auth
