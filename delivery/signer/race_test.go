//go:build race

package signer

// raceEnabled reports whether the race detector is on (it perturbs sync.Pool).
const raceEnabled = true
