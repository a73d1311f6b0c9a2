package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Errors a Client wraps; test them with errors.Is.
var (
	// ErrAccessDenied: Odoo rejected the login or API key, or the user may
	// not read what was asked.
	ErrAccessDenied = errors.New("odoo: access denied")
	// ErrUnreachable: no HTTP answer (DNS, connection refused, timeout, TLS).
	ErrUnreachable = errors.New("odoo: unreachable")
	// ErrBadResponse: an answer that is not Odoo's API (a proxy page, the
	// wrong URL, a database selector).
	ErrBadResponse = errors.New("odoo: unexpected response")
	// ErrBadConnection: the connection settings themselves are unusable.
	ErrBadConnection = errors.New("odoo: bad connection settings")
)

// Protocol is the external API an Odoo version speaks.
type Protocol string

// The protocols a Client speaks.
const (
	// ProtocolJSONRPC is POST /jsonrpc with execute_kw, the API key as the
	// password and a uid from common.authenticate (Odoo 17 and 18; still
	// accepted, deprecated, by 19).
	ProtocolJSONRPC Protocol = "jsonrpc"
	// ProtocolJSON2 is POST /json/2/<model>/<method> with a bearer API key
	// (Odoo 19 and later).
	ProtocolJSON2 Protocol = "json2"
)

// ProtocolFor returns the protocol hookgate uses with an Odoo major version.
func ProtocolFor(major int) Protocol {
	if major >= 19 {
		return ProtocolJSON2
	}
	return ProtocolJSONRPC
}

// Connection is how to reach one Odoo database as one user.
type Connection struct {
	// URL is the base URL of the Odoo server, e.g. https://erp.example.com.
	URL string `json:"url"`
	// Database is the database name (X-Odoo-Database on JSON-2; required
	// by JSON-RPC).
	Database string `json:"database"`
	// Login is the user's login; JSON-RPC authenticates with it.
	Login string `json:"login"`
	// APIKey is the user's API key (Preferences → Account Security).
	APIKey string `json:"api_key"`
	// Version is the Odoo major version ("17", "18", "19"); empty means
	// detect it from the server.
	Version string `json:"version,omitempty"`
}

// MajorVersion parses Version ("17", "17.0", "saas~17.4"); 0 when empty.
func (c Connection) MajorVersion() (int, error) {
	v := strings.TrimSpace(c.Version)
	if v == "" {
		return 0, nil
	}
	v = strings.TrimPrefix(v, "saas~")
	if i := strings.IndexByte(v, '.'); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 8 || n > 99 {
		return 0, fmt.Errorf("%w: version %q is not an Odoo major version such as 17, 18 or 19", ErrBadConnection, clip(c.Version))
	}
	return n, nil
}

// Validate reports what is missing or malformed in c.
func (c Connection) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return fmt.Errorf("%w: url is required", ErrBadConnection)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%w: url %q must be an http:// or https:// URL", ErrBadConnection, clip(c.URL))
	case u.User != nil:
		return fmt.Errorf("%w: url must not carry credentials; use login and api_key", ErrBadConnection)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%w: url must be the server's base URL, without a query or fragment", ErrBadConnection)
	case strings.TrimSpace(c.Database) == "":
		return fmt.Errorf("%w: database is required", ErrBadConnection)
	case strings.TrimSpace(c.Login) == "":
		return fmt.Errorf("%w: login is required", ErrBadConnection)
	case strings.TrimSpace(c.APIKey) == "":
		return fmt.Errorf("%w: api_key is required", ErrBadConnection)
	}
	_, err = c.MajorVersion()
	return err
}

// Error is an error that Odoo itself reported: a JSON-RPC "error" member in
// an HTTP 200 answer, or a JSON-2 4xx/5xx answer with {"name","message"}.
type Error struct {
	Protocol Protocol
	// Status is the HTTP status (200 for JSON-RPC errors).
	Status int
	// Code is the JSON-RPC error code (200 server error, 100 session
	// expired, 404 not found); 0 on JSON-2.
	Code int
	// Name is the Python exception, e.g. odoo.exceptions.AccessDenied.
	Name string
	// Message is Odoo's message for humans.
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	name := e.Name
	if name == "" {
		name = "error"
	}
	if e.Protocol == ProtocolJSON2 {
		return fmt.Sprintf("odoo: HTTP %d %s: %s", e.Status, name, e.Message)
	}
	return fmt.Sprintf("odoo: %s: %s", name, e.Message)
}

// Is makes errors.Is(err, ErrAccessDenied) hold for authentication and
// permission errors.
func (e *Error) Is(target error) bool {
	if target != ErrAccessDenied {
		return false
	}
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden ||
		strings.HasSuffix(e.Name, "AccessDenied") || strings.HasSuffix(e.Name, "AccessError") ||
		strings.HasSuffix(e.Name, ".Unauthorized") || strings.HasSuffix(e.Name, ".Forbidden") ||
		e.Code == 100
}

// VersionInfo is what an Odoo server says about itself.
type VersionInfo struct {
	// Major is the major version, e.g. 19.
	Major int
	// Server is the full version string, e.g. "19.0" or "17.0+e".
	Server string
}

// User is the Odoo user a Client acts as.
type User struct {
	UID   int64
	Name  string
	Login string
}

// Field describes one field of a model, as fields_get reports it.
type Field struct {
	Type     string `json:"type"`
	Relation string `json:"relation,omitempty"`
}

// Client calls one Odoo database's external API, choosing JSON-RPC or
// JSON-2 by the connection's version or by asking the server.
//
// The Client dials through the *http.Client it is given. Do not pass the
// SSRF-guarded client used for partner webhooks: Odoo is the retailer's own
// internal system, configured by an admin, and usually lives on a private
// address that the guard exists to refuse. A Client is safe for concurrent
// use; it caches the detected version and the uid.
type Client struct {
	conn  Connection
	base  string
	http  *http.Client
	major atomic.Int64

	mu  sync.Mutex
	uid int64
	id  atomic.Int64
}

// maxResponse bounds one API answer; a page of records is far smaller.
const maxResponse = 64 << 20

// NewClient checks conn and returns a client that uses hc.
func NewClient(conn Connection, hc *http.Client) (*Client, error) {
	if hc == nil {
		return nil, errors.New("odoo: NewClient needs an *http.Client")
	}
	if err := conn.Validate(); err != nil {
		return nil, err
	}
	c := &Client{conn: conn, base: strings.TrimRight(conn.URL, "/"), http: hc}
	if m, _ := conn.MajorVersion(); m > 0 {
		c.major.Store(int64(m))
	}
	return c, nil
}

// Protocol returns the protocol the client uses, detecting the server's
// version first when the connection does not name one.
func (c *Client) Protocol(ctx context.Context) (Protocol, error) {
	if m := c.major.Load(); m > 0 {
		return ProtocolFor(int(m)), nil
	}
	v, err := c.Version(ctx)
	if err != nil {
		return "", err
	}
	return ProtocolFor(v.Major), nil
}

// Version asks the server for its version: GET /web/version (Odoo 19
// answers {"version_info":[19,…],"version":"19.0"}), falling back to
// JSON-RPC common.version (Odoo 17 and 18). Neither needs credentials.
func (c *Client) Version(ctx context.Context) (VersionInfo, error) {
	v, err := c.webVersion(ctx)
	if err != nil {
		if errors.Is(err, ErrUnreachable) {
			return VersionInfo{}, err
		}
		var raw struct {
			ServerVersion     string `json:"server_version"`
			ServerVersionInfo []any  `json:"server_version_info"`
		}
		if err := c.jsonrpc(ctx, "common", "version", []any{}, &raw); err != nil {
			return VersionInfo{}, err
		}
		v = VersionInfo{Server: raw.ServerVersion, Major: majorOf(raw.ServerVersionInfo, raw.ServerVersion)}
		if v.Major == 0 {
			return VersionInfo{}, fmt.Errorf("%w: common.version gave no version", ErrBadResponse)
		}
	}
	if c.major.Load() == 0 {
		c.major.Store(int64(v.Major))
	}
	return v, nil
}

// webVersion tries GET /web/version.
func (c *Client) webVersion(ctx context.Context) (VersionInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/web/version", nil)
	if err != nil {
		return VersionInfo{}, fmt.Errorf("%w: %v", ErrBadConnection, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return VersionInfo{}, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return VersionInfo{}, fmt.Errorf("%w: GET /web/version answered %d", ErrBadResponse, resp.StatusCode)
	}
	var raw struct {
		VersionInfo []any  `json:"version_info"`
		Version     string `json:"version"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return VersionInfo{}, fmt.Errorf("%w: GET /web/version is not JSON", ErrBadResponse)
	}
	v := VersionInfo{Server: raw.Version, Major: majorOf(raw.VersionInfo, raw.Version)}
	if v.Major == 0 {
		return VersionInfo{}, fmt.Errorf("%w: GET /web/version gave no version", ErrBadResponse)
	}
	return v, nil
}

// majorOf reads the major version from [19, 0, 0, "final", 0, ""] or "19.0".
func majorOf(info []any, s string) int {
	if len(info) > 0 {
		switch x := info[0].(type) {
		case float64:
			return int(x)
		case string:
			s = x
		}
	}
	s = strings.TrimPrefix(s, "saas~")
	if i := strings.IndexAny(s, ".+"); i >= 0 {
		s = s[:i]
	}
	n, _ := strconv.Atoi(s)
	return n
}

// Authenticate returns the uid of the connection's user. On JSON-RPC it
// calls common.authenticate(db, login, api_key, {}); on JSON-2 it asks
// res.users.context_get with the bearer key. A rejected key wraps
// ErrAccessDenied.
func (c *Client) Authenticate(ctx context.Context) (int64, error) {
	c.mu.Lock()
	uid := c.uid
	c.mu.Unlock()
	if uid > 0 {
		return uid, nil
	}
	p, err := c.Protocol(ctx)
	if err != nil {
		return 0, err
	}
	switch p {
	case ProtocolJSON2:
		var ctxv map[string]any
		if err := c.json2(ctx, "res.users", "context_get", map[string]any{}, &ctxv); err != nil {
			return 0, err
		}
		n, ok := ctxv["uid"].(json.Number)
		if !ok {
			return 0, fmt.Errorf("%w: res.users.context_get gave no uid", ErrBadResponse)
		}
		uid, err = n.Int64()
		if err != nil || uid <= 0 {
			return 0, fmt.Errorf("%w: res.users.context_get gave uid %s", ErrBadResponse, n)
		}
	default:
		var res any
		if err := c.jsonrpc(ctx, "common", "authenticate",
			[]any{c.conn.Database, c.conn.Login, c.conn.APIKey, map[string]any{}}, &res); err != nil {
			return 0, err
		}
		n, ok := res.(json.Number)
		if !ok {
			return 0, fmt.Errorf("%w: login %q with this API key was refused by database %q", ErrAccessDenied, clip(c.conn.Login), clip(c.conn.Database))
		}
		uid, err = n.Int64()
		if err != nil || uid <= 0 {
			return 0, fmt.Errorf("%w: common.authenticate gave uid %s", ErrBadResponse, n)
		}
	}
	c.mu.Lock()
	c.uid = uid
	c.mu.Unlock()
	return uid, nil
}

// WhoAmI authenticates and reads the user's name and login.
func (c *Client) WhoAmI(ctx context.Context) (User, error) {
	uid, err := c.Authenticate(ctx)
	if err != nil {
		return User{}, err
	}
	recs, err := c.Read(ctx, "res.users", []int64{uid}, []string{"name", "login"})
	if err != nil {
		return User{}, err
	}
	u := User{UID: uid}
	if len(recs) == 1 {
		u.Name, _ = recs[0]["name"].(string)
		u.Login, _ = recs[0]["login"].(string)
	}
	return u, nil
}

// SearchRead returns the records of model that match domain, with fields
// (nil: every field), sorted by order (e.g. "write_date, id"), at most
// limit (0: no limit) from offset. Values come as Odoo's API gives them:
// many2one as [id, "display name"] or false, datetimes without fractions.
func (c *Client) SearchRead(ctx context.Context, model string, domain []any, fields []string, order string, limit, offset int) ([]map[string]any, error) {
	if domain == nil {
		domain = []any{}
	}
	kw := map[string]any{}
	if fields != nil {
		kw["fields"] = fields
	}
	if order != "" {
		kw["order"] = order
	}
	if limit > 0 {
		kw["limit"] = limit
	}
	if offset > 0 {
		kw["offset"] = offset
	}
	var out []map[string]any
	err := c.Call(ctx, model, "search_read", []any{domain}, []string{"domain"}, kw, &out)
	return out, err
}

// Read returns the records of model with ids (those that exist), with
// fields (nil: every field).
func (c *Client) Read(ctx context.Context, model string, ids []int64, fields []string) ([]map[string]any, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	kw := map[string]any{}
	if fields != nil {
		kw["fields"] = fields
	}
	var out []map[string]any
	err := c.Call(ctx, model, "read", []any{ids}, []string{"ids"}, kw, &out)
	return out, err
}

// FieldsGet describes the fields of model (type and relation).
func (c *Client) FieldsGet(ctx context.Context, model string) (map[string]Field, error) {
	var out map[string]Field
	err := c.Call(ctx, model, "fields_get", nil, nil, map[string]any{"attributes": []string{"type", "relation"}}, &out)
	return out, err
}

// Call runs model.method. args are the positional arguments; on JSON-2,
// which takes only named arguments, argNames names them. kwargs are the
// keyword arguments. The result is decoded into out (numbers as
// json.Number when out holds interfaces).
func (c *Client) Call(ctx context.Context, model, method string, args []any, argNames []string, kwargs map[string]any, out any) error {
	if !validModelName(model) {
		return fmt.Errorf("%w: %q is not an Odoo model name", ErrBadConnection, clip(model))
	}
	p, err := c.Protocol(ctx)
	if err != nil {
		return err
	}
	if p == ProtocolJSON2 {
		if len(args) != len(argNames) {
			return fmt.Errorf("odoo: %s.%s: %d positional arguments but %d names", model, method, len(args), len(argNames))
		}
		body := make(map[string]any, len(args)+len(kwargs))
		for k, v := range kwargs {
			body[k] = v
		}
		for i, name := range argNames {
			body[name] = args[i]
		}
		return c.json2(ctx, model, method, body, out)
	}
	uid, err := c.Authenticate(ctx)
	if err != nil {
		return err
	}
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	return c.jsonrpc(ctx, "object", "execute_kw",
		[]any{c.conn.Database, uid, c.conn.APIKey, model, method, args, kwargs}, out)
}

// rpcError is the "error" member of a JSON-RPC answer.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"data"`
}

// jsonrpc posts one JSON-RPC 2.0 "call" to /jsonrpc.
func (c *Client) jsonrpc(ctx context.Context, service, method string, args []any, out any) error {
	body, err := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "method": "call", "id": c.id.Add(1),
		"params": map[string]any{"service": service, "method": method, "args": args},
	})
	if err != nil {
		return fmt.Errorf("odoo: encode %s.%s: %w", service, method, err)
	}
	status, resp, err := c.post(ctx, "/jsonrpc", body, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("%w: POST /jsonrpc answered HTTP %d", ErrBadResponse, status)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.Unmarshal(resp, &env); err != nil {
		return fmt.Errorf("%w: POST /jsonrpc is not JSON-RPC", ErrBadResponse)
	}
	if env.Error != nil {
		msg := env.Error.Data.Message
		if msg == "" {
			msg = env.Error.Message
		}
		return &Error{Protocol: ProtocolJSONRPC, Status: status, Code: env.Error.Code, Name: env.Error.Data.Name, Message: msg}
	}
	if env.Result == nil {
		return fmt.Errorf("%w: JSON-RPC answer without result", ErrBadResponse)
	}
	return decodeResult(env.Result, out)
}

// json2 posts named arguments to /json/2/<model>/<method>.
func (c *Client) json2(ctx context.Context, model, method string, args map[string]any, out any) error {
	body, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("odoo: encode %s.%s: %w", model, method, err)
	}
	h := http.Header{}
	h.Set("Authorization", "bearer "+c.conn.APIKey)
	if c.conn.Database != "" {
		h.Set("X-Odoo-Database", c.conn.Database)
	}
	status, resp, err := c.post(ctx, "/json/2/"+model+"/"+url.PathEscape(method), body, h)
	if err != nil {
		return err
	}
	if status >= 400 {
		var e struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		}
		if json.Unmarshal(resp, &e) != nil || (e.Name == "" && e.Message == "") {
			if status == http.StatusUnauthorized || status == http.StatusForbidden {
				return &Error{Protocol: ProtocolJSON2, Status: status, Message: http.StatusText(status)}
			}
			return fmt.Errorf("%w: POST /json/2/%s/%s answered HTTP %d", ErrBadResponse, model, method, status)
		}
		return &Error{Protocol: ProtocolJSON2, Status: status, Name: e.Name, Message: e.Message}
	}
	if status != http.StatusOK {
		return fmt.Errorf("%w: POST /json/2/%s/%s answered HTTP %d", ErrBadResponse, model, method, status)
	}
	return decodeResult(resp, out)
}

// post sends one JSON POST and returns the status and body.
func (c *Client) post(ctx context.Context, path string, body []byte, h http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %v", ErrBadConnection, err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, fmt.Errorf("%w: %w", ErrUnreachable, ctx.Err())
		}
		return 0, nil, fmt.Errorf("%w: %v", ErrUnreachable, redactURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: reading the answer: %v", ErrUnreachable, err)
	}
	if len(b) > maxResponse {
		return 0, nil, fmt.Errorf("%w: answer larger than %d bytes", ErrBadResponse, maxResponse)
	}
	return resp.StatusCode, b, nil
}

// redactURLError drops the request URL from a transport error (it holds no
// secret today, but keeps messages short).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// decodeResult decodes a result with numbers kept as json.Number.
func decodeResult(raw []byte, out any) error {
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%w: result does not have the expected shape: %v", ErrBadResponse, err)
	}
	return nil
}
