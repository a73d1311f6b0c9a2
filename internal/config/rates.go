package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Rate is a request rate per second with a burst; the zero Rate is
// unlimited.
type Rate struct {
	PerSecond int
	Burst     int
}

// ParseRate parses "RATE" or "RATE:BURST" (per second; the burst defaults
// to twice the rate); "0" means unlimited.
func ParseRate(s string) (Rate, error) {
	rs, bs, hasBurst := strings.Cut(strings.TrimSpace(s), ":")
	r, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(rs, "/s")))
	if err != nil || r < 0 || r > 1000000 {
		return Rate{}, fmt.Errorf("%q must be RATE or RATE:BURST, requests per second (0: unlimited)", s)
	}
	if r == 0 {
		return Rate{}, nil
	}
	b := 2 * r
	if hasBurst {
		b, err = strconv.Atoi(strings.TrimSpace(bs))
		if err != nil || b < 1 || b > 10000000 {
			return Rate{}, fmt.Errorf("%q: the burst must be a positive integer", s)
		}
	}
	return Rate{PerSecond: r, Burst: b}, nil
}
