package portal_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/apptest"
)

// client is a browser-like HTTP client of the portal: it keeps cookies,
// follows redirects and remembers the CSRF token of the last page.
type client struct {
	t    testing.TB
	g    *apptest.Gateway
	http *http.Client
	csrf string
}

func newClient(t testing.TB, g *apptest.Gateway) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, g: g, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// page is an answer after redirects.
type page struct {
	Status int
	URL    string // the final URL's path and query
	Body   string
	Header http.Header
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{Status: resp.StatusCode, URL: resp.Request.URL.RequestURI(), Body: string(b), Header: resp.Header}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		c.csrf = m[1]
	}
	return p
}

func (c *client) get(path string) page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.g.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post submits a form; the CSRF token of the last page is added unless
// form sets "csrf" itself (set it to "" to send none).
func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	} else if form.Get("csrf") == "" {
		form.Del("csrf")
	}
	req, err := http.NewRequest(http.MethodPost, c.g.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// must fails the test unless the page has status want and contains every
// text.
func (c *client) must(p page, want int, texts ...string) page {
	c.t.Helper()
	if p.Status != want {
		c.t.Fatalf("%s: status %d, want %d\n%s", p.URL, p.Status, want, excerpt(p.Body))
	}
	for _, s := range texts {
		if !strings.Contains(p.Body, s) {
			c.t.Fatalf("%s: page lacks %q\n%s", p.URL, s, excerpt(p.Body))
		}
	}
	return p
}

func excerpt(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000] + "…"
	}
	return body
}

const testPassword = "correct horse battery"

// signup signs a partner up through the portal; the client is then logged
// in as its owner.
func (c *client) signup(company, email string) {
	c.t.Helper()
	c.must(c.get("/portal/signup"), 200, "Company name")
	p := c.post("/portal/signup", url.Values{"company": {company}, "email": {email},
		"password": {testPassword}, "password_confirm": {testPassword}})
	c.must(p, 200, "Awaiting approval")
}

// adminLogin signs in with the bootstrap admin token.
func (c *client) adminLogin() {
	c.t.Helper()
	c.must(c.get("/portal/login"), 200)
	c.must(c.post("/portal/login/token", url.Values{"admin_token": {apptest.AdminToken}}), 200, "Pending")
}

var partnerIDRE = regexp.MustCompile(`/portal/admin/partners/(ptn_[0-9A-Za-z]+)`)

// approve approves the partner named company from the admin's partner list
// and returns its id.
func (c *client) approve(company string) string {
	c.t.Helper()
	p := c.must(c.get("/portal/admin/partners"), 200, company)
	i := strings.Index(p.Body, ">"+company+"<")
	if i < 0 {
		c.t.Fatalf("partner %s not listed", company)
	}
	ms := partnerIDRE.FindAllStringSubmatchIndex(p.Body[:i], -1)
	if len(ms) == 0 {
		c.t.Fatalf("no partner link before %s", company)
	}
	last := ms[len(ms)-1]
	id := p.Body[last[2]:last[3]]
	c.must(c.post("/portal/admin/partners/"+id+"/status", url.Values{"status": {"active"}}), 200, company+" is active")
	return id
}

var endpointIDRE = regexp.MustCompile(`/portal/endpoints/(ep_[0-9A-Za-z]+)/`)
var deliveryIDRE = regexp.MustCompile(`/portal/deliveries/(dlv_[0-9A-Za-z]+)`)
