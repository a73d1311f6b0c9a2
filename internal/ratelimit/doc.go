// Package ratelimit is hookgate's shared limiter: GCRA buckets in Redis
// (go-redis/redis_rate), so every API process sees the same counts. It
// serves the API's per-key and per-address limits and the login and
// signup throttles. It must not import fiber, gorm, asynq or other hookgate
// packages.
package ratelimit
