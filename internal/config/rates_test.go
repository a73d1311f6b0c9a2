package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Rate
		bad  bool
	}{
		{in: "50", want: Rate{PerSecond: 50, Burst: 100}},
		{in: "50/s", want: Rate{PerSecond: 50, Burst: 100}},
		{in: "50:75", want: Rate{PerSecond: 50, Burst: 75}},
		{in: " 7 : 9 ", want: Rate{PerSecond: 7, Burst: 9}},
		{in: "0", want: Rate{}},
		{in: "-1", bad: true},
		{in: "fast", bad: true},
		{in: "5:0", bad: true},
		{in: "5:x", bad: true},
	} {
		got, err := ParseRate(c.in)
		if (err != nil) != c.bad {
			t.Errorf("ParseRate(%q) error %v, want error %v", c.in, err, c.bad)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseRate(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

func TestAccountSettings(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	c, err := Load(get)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Rate{PerSecond: 50, Burst: 100}, c.APIRatePerKey); diff != "" {
		t.Errorf("default per-key rate (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Rate{PerSecond: 100, Burst: 200}, c.APIRatePerAddress); diff != "" {
		t.Errorf("default per-address rate (-want +got):\n%s", diff)
	}
	env = map[string]string{
		"HOOKGATE_API_RATE_PER_KEY": "5:10", "HOOKGATE_API_RATE_PER_ADDRESS": "0",
		"HOOKGATE_TRUSTED_PROXIES": "10.0.0.0/8", "HOOKGATE_JWT_SECRET": "0123456789abcdef0123456789abcdef",
	}
	if c, err = Load(get); err != nil {
		t.Fatal(err)
	}
	if c.APIRatePerKey != (Rate{PerSecond: 5, Burst: 10}) || c.APIRatePerAddress != (Rate{}) || len(c.TrustedProxies) != 1 {
		t.Errorf("settings not read: %+v %+v %v", c.APIRatePerKey, c.APIRatePerAddress, c.TrustedProxies)
	}
	for k, v := range map[string]string{
		"HOOKGATE_API_RATE_PER_KEY": "lots", "HOOKGATE_JWT_SECRET": "short", "HOOKGATE_TRUSTED_PROXIES": "not-an-ip",
	} {
		env = map[string]string{k: v}
		if _, err := Load(get); err == nil {
			t.Errorf("%s=%q was accepted", k, v)
		}
	}
}
