// Package domain holds hookgate's domain types, their rules and the errors
// callers branch on. It must not import fiber, gorm, asynq or any storage or
// transport package: storage, HTTP and queue layers translate to and from it.
package domain
