// Package store is hookgate's persistence: the only package that imports
// gorm. It maps database rows to domain types and back, runs the versioned
// migrations, and holds the hot-path batch statements (group-committed event
// inserts, multi-row delivery inserts, batched attempt writes). It must not
// import fiber, asynq or any HTTP package.
package store
