package portal_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookgate/hookgate/internal/apptest"
)

// chromiumPath is where CI installs Chromium (apt-get install -y chromium).
const chromiumPath = "/usr/bin/chromium"

// artifactsDir is where the browser test writes its screenshots:
// $HOOKGATE_ARTIFACTS, or testdata/artifacts next to this file.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HOOKGATE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	dir = filepath.Join(dir, "portal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserSession drives one browser context (its own cookie jar).
type browserSession struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
	who  string
	shot int
}

func (b *browserSession) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("failure-" + strings.ReplaceAll(what, " ", "-"))
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s (%s at %s): %v", what, b.who, loc, err)
	}
}

// value reads the value of the input matched by sel.
func (b *browserSession) value(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}

// screenshot writes a full-page PNG of the current page at desktop width,
// and one at phone width (375 px) when phone is set.
func (b *browserSession) screenshot(name string, phone ...bool) {
	b.t.Helper()
	b.shot++
	write := func(suffix string) {
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			b.t.Logf("screenshot %s: %v", name, err)
			return
		}
		file := filepath.Join(b.dir, fmt.Sprintf("%02d-%s-%s%s.png", b.shot, b.who, name, suffix))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			b.t.Logf("screenshot %s: %v", name, err)
		}
	}
	write("")
	if len(phone) > 0 && phone[0] {
		if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(1), chromedp.EmulateMobile)); err == nil {
			write("-phone")
			// Nothing may stick out at phone width (tables scroll inside
			// their own box).
			wide, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(function(){
				var out = [];
				if (document.documentElement.scrollWidth <= window.innerWidth) return out;
				document.querySelectorAll("body *").forEach(function (e) {
					var r = e.getBoundingClientRect();
					if (r.right > window.innerWidth + 1 && !(e.parentElement && e.parentElement.closest(".table-wrap, pre"))) {
						out.push(e.tagName + (e.id ? "#" + e.id : "") + "." + e.className + " right=" + Math.round(r.right));
					}
				});
				return out.slice(0, 8);
			})()`))
			if err != nil {
				b.t.Errorf("phone width check on %s: %v", name, err)
			} else if len(wide) > 0 {
				b.t.Errorf("%s is wider than 375 px; elements sticking out: %v", name, wide)
			}
		}
		_ = chromedp.Do(b.ctx, chromedp.EmulateReset(), chromedp.EmulateViewport(1280, 900))
	}
}

// waitJS waits until the JavaScript expression is true. It survives page
// loads in between (the delivery page reloads itself while it waits for
// an attempt), unlike a single Poll.
func waitJS(what, expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(25 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) {
				return chromedp.Void{}, fmt.Errorf("timed out waiting for %s (last error: %v)", what, err)
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// waitText waits until the element matched by sel (CSS) shows text.
func waitText(sel, text string) chromedp.Action[chromedp.Void] {
	return waitJS(sel+" = "+text, `(function(){var e=document.querySelector(`+jsString(sel)+`);return !!e && e.textContent.trim()===`+jsString(text)+`;})()`)
}

// waitBodyHas waits until the page's text contains text.
func waitBodyHas(text string) chromedp.Action[chromedp.Void] {
	return waitJS("page text "+text, `!!document.body && document.body.innerText.indexOf(`+jsString(text)+`) >= 0`)
}

// submit clicks the button matched by sel and waits for the page it leads
// to (after redirects) to load.
func submit(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
		return chromedp.Void{}, err
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

// TestPortalBrowserJourney drives the portal in headless Chromium: a new
// partner signs up; the admin approves it; the partner creates a key and an
// endpoint pointing at a test receiver, sends a test event and sees it
// succeed in the log, makes the receiver fail, sees the failure and the
// response body, and retries it successfully. Every page is screenshot
// (desktop, and phone width for the main ones).
func TestPortalBrowserJourney(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is missing at %s: install it with `apt-get install -y chromium` (the browser tests need it): %v", chromiumPath, err)
	}
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t)
	dir := artifactsDir(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	// The partner and the admin each get their own browser context
	// (cookies); the first run of each has no timeout (it owns the tab).
	partnerCtx, cancelPartner := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	defer cancelPartner()
	adminCtx, cancelAdmin := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	defer cancelAdmin()
	for _, c := range []context.Context{partnerCtx, adminCtx} {
		if err := chromedp.Do(c, chromedp.EmulateViewport(1280, 900)); err != nil {
			t.Fatalf("open a tab: %v", err)
		}
	}
	partner := &browserSession{t: t, ctx: partnerCtx, base: g.URL, dir: dir, who: "partner"}
	admin := &browserSession{t: t, ctx: adminCtx, base: g.URL, dir: dir, who: "admin"}
	admin.shot = 40

	// 1. A new partner signs up.
	partner.run("open signup", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(g.URL+"/portal/signup"), chromedp.WaitVisible(chromedp.CSS("#company")))
	partner.screenshot("signup", true)
	partner.run("fill signup",
		chromedp.SendKeys(chromedp.CSS("#company"), "Browser Freight"),
		chromedp.SendKeys(chromedp.CSS("#email"), "ops@browserfreight.example"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.SendKeys(chromedp.CSS("#password_confirm"), testPassword),
		submit(`form[action="/portal/signup"] button[type="submit"]`),
		waitBodyHas("Awaiting approval"),
	)
	partner.screenshot("pending", true)

	// 2. The admin logs in (admin token) and approves it.
	admin.run("admin login",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(g.URL+"/portal/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	)
	admin.screenshot("login", true)
	admin.run("admin token",
		chromedp.Click(chromedp.CSS("details > summary")),
		chromedp.WaitVisible(chromedp.CSS("#admin_token")),
		chromedp.SendKeys(chromedp.CSS("#admin_token"), apptest.AdminToken),
		submit(`form[action="/portal/login/token"] button[type="submit"]`),
		waitBodyHas("Browser Freight"),
	)
	admin.screenshot("partners", true)
	admin.run("approve",
		submit(`button[aria-label="Approve Browser Freight"]`),
		waitBodyHas("Browser Freight is active."),
	)
	admin.screenshot("partners-approved")

	// 3. The partner sees the dashboard, creates an API key.
	partner.run("dashboard", chromedp.Navigate(g.URL+"/portal/dashboard"), waitBodyHas("Deliveries in the last 24 hours"))
	partner.screenshot("dashboard-empty", true)
	partner.run("create key",
		chromedp.Navigate(g.URL+"/portal/keys"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "warehouse sync"),
		submit(`form[action="/portal/keys"] button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS("#new-key")),
		chromedp.Click(chromedp.CSS(`button[data-copy="#new-key"]`)),
		waitText(`button[data-copy="#new-key"]`, "Copied"),
	)
	key := partner.value("#new-key")
	if !strings.HasPrefix(key, "hg_") {
		t.Fatalf("new key %q", key)
	}
	partner.screenshot("key-created", true)
	// The key works against the API.
	g.Must(200, "GET", "/v1/me", key, nil)

	// 4. An endpoint pointing at the test receiver.
	partner.run("new endpoint",
		chromedp.Navigate(g.URL+"/portal/endpoints/new"),
		chromedp.WaitVisible(chromedp.CSS("#url")),
	)
	partner.screenshot("endpoint-new", true)
	partner.run("create endpoint",
		chromedp.SendKeys(chromedp.CSS("#url"), rc.URL+"/hooks"),
		chromedp.SendKeys(chromedp.CSS("#description"), "Test receiver"),
		chromedp.Click(chromedp.CSS(`input[name="event_types"][value="order.confirmed"]`)),
		chromedp.Click(chromedp.CSS(`input[name="event_types"][value="shipment.dispatched"]`)),
		submit(`form[action="/portal/endpoints"] button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS("#secret-value")),
	)
	secret := partner.value("#secret-value")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	partner.screenshot("endpoint-created", true)

	// 5. A test event; it succeeds and shows in the log.
	partner.run("send test event",
		chromedp.SetValue(chromedp.CSS("#event_type"), "order.confirmed"),
		submit(`form[action$="/test"] button[type="submit"]`),
		waitText("#delivery-status", "succeeded"),
		waitBodyHas("Attempt 1"),
	)
	partner.screenshot("test-event-succeeded", true)
	if rc.hits.Load() < 1 {
		t.Fatal("the receiver got nothing")
	}
	partner.run("log shows success",
		chromedp.Navigate(g.URL+"/portal/deliveries"),
		waitBodyHas("succeeded"),
	)
	partner.screenshot("log", true)

	// 6. The receiver fails: a new test event fails, with the response body.
	rc.status.Store(500)
	rc.body.Store(`{"error":"warehouse database is down"}`)
	partner.run("failing test event",
		chromedp.Navigate(g.URL+"/portal/endpoints"),
		submit(`a[href^="/portal/endpoints/ep_"]`),
		chromedp.WaitVisible(chromedp.CSS("#event_type")),
		chromedp.SetValue(chromedp.CSS("#event_type"), "shipment.dispatched"),
		submit(`form[action$="/test"] button[type="submit"]`),
		waitText("#delivery-status", "failed"),
		waitBodyHas("warehouse database is down"),
	)
	failedURL, err := chromedp.Run(partnerCtx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	partner.screenshot("delivery-failed", true)
	partner.run("log shows failure",
		chromedp.Navigate(g.URL+"/portal/deliveries?status=failed"),
		waitBodyHas("HTTP 500"),
	)
	partner.screenshot("log-failed", true)

	// 7. The receiver recovers; a retry succeeds.
	rc.status.Store(200)
	rc.body.Store(`{"ok":true}`)
	partner.run("retry",
		chromedp.Navigate(failedURL),
		chromedp.WaitVisible(chromedp.CSS("#retry")),
		submit("#retry"),
		waitText("#delivery-status", "succeeded"),
		waitBodyHas("trigger manual"),
	)
	partner.screenshot("delivery-retried", true)

	// The other pages, for the record.
	partner.run("verify page", chromedp.Navigate(g.URL+"/portal/verify"), waitBodyHas("standardwebhooks"))
	partner.screenshot("verify", true)
	partner.run("dashboard again", chromedp.Navigate(g.URL+"/portal/dashboard"), waitBodyHas("Usage this month"))
	partner.screenshot("dashboard", true)
	for _, pg := range []struct{ path, text, name string }{
		{"/portal/admin/credentials", "warehouse sync", "credentials"},
		{"/portal/admin/sources", "Add a source", "sources"},
		{"/portal/admin/event-types", "pos.order.paid", "event-types"},
		{"/portal/admin/replay", "Count (dry run)", "replay"},
		{"/portal/admin/audit", "partner.approved", "audit"},
		{"/portal/admin/health", "Queues", "health"},
	} {
		admin.run(pg.name, chromedp.Navigate(g.URL+pg.path), waitBodyHas(pg.text))
		admin.screenshot(pg.name, pg.name == "health" || pg.name == "event-types")
	}
	admin.run("create source",
		chromedp.Navigate(g.URL+"/portal/admin/sources"),
		chromedp.SendKeys(chromedp.CSS("#name"), "odoo-prod"),
		submit(`form[action^="/portal/admin/sources"] button[type="submit"]`),
		waitBodyHas("Send Webhook Notification"),
	)
	admin.screenshot("source-created", true)
	t.Logf("screenshots in %s", dir)
}
