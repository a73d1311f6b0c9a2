package e2e

// Helpers that run real processes for the fault and scale-out tests: the
// hookgate binary (built once per test run), a private redis-server and a
// private PostgreSQL cluster that a test may kill and restart without
// touching the machine's shared services.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/internal/testenv"
)

// testMasterKey is the HOOKGATE_MASTER_KEY shared by every process of one
// multi-process test (base64 of 32 bytes).
const testMasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
	buildTook time.Duration
)

// processTests are the tests that run hookgate as child processes.
var processTests = []string{"TestFaultWorkerSIGKILL", "TestFaultWorkerSIGTERM", "TestScaleOut"}

// TestMain starts building the hookgate binary in the background when the
// run includes a process test (so the build overlaps the tests before it
// and counts against none), and removes the binary at the end.
func TestMain(m *testing.M) {
	flag.Parse()
	if wantsProcessTests() {
		go buildOnce.Do(buildHookgate)
	}
	code := m.Run()
	buildOnce.Do(func() {}) // wait for a build still running
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// wantsProcessTests reports whether -test.run may select a process test.
func wantsProcessTests() bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	top, _, _ := strings.Cut(f.Value.String(), "/")
	re, err := regexp.Compile(top)
	if err != nil {
		return true
	}
	for _, name := range processTests {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

func buildHookgate() {
	root, err := apptest.RepoRoot()
	if err != nil {
		buildErr = err
		return
	}
	buildDir, err = os.MkdirTemp("", "hookgate-e2e-bin-")
	if err != nil {
		buildErr = err
		return
	}
	buildBin = filepath.Join(buildDir, "hookgate")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/hookgate")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		buildErr = fmt.Errorf("go build ./cmd/hookgate: %v\n%s", err, out)
		return
	}
	buildTook = time.Since(start)
}

// hookgateBinary returns the path of the hookgate binary built for this
// run (cmd/hookgate, built once), waiting for the build if it is running.
func hookgateBinary(t testing.TB) string {
	t.Helper()
	start := time.Now()
	buildOnce.Do(buildHookgate)
	if buildErr != nil {
		t.Fatalf("build hookgate: %v", buildErr)
	}
	if w := time.Since(start); w > time.Second {
		t.Logf("waited %s for the hookgate build (%s in all)", w.Round(time.Millisecond), buildTook.Round(time.Millisecond))
	}
	return buildBin
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuf is a goroutine-safe output buffer for child processes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// child is a process started by a test. It is stopped (SIGTERM, then
// SIGKILL) at the end of the test unless it exited before.
type child struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuf
	done chan struct{}
	err  error
}

func startChild(t testing.TB, name string, env []string, bin string, args ...string) *child {
	t.Helper()
	c := &child{name: name, out: &syncBuf{}, done: make(chan struct{})}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Env = env
	c.cmd.Stdout = c.out
	c.cmd.Stderr = c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.stop(20 * time.Second)
		if t.Failed() {
			out := c.out.String()
			if len(out) > 12000 {
				out = "…" + out[len(out)-12000:]
			}
			t.Logf("%s (pid %d) output:\n%s", c.name, c.cmd.Process.Pid, out)
		}
	})
	return c
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// logSummary counts the child's log lines by level and sums the count= of
// the sweeper's "re-queued work" lines, for the test's report.
func (c *child) logSummary() string {
	warn, errs, swept := 0, 0, 0
	var firstWarn string
	for _, line := range strings.Split(c.out.String(), "\n") {
		switch {
		case strings.Contains(line, "level=WARN"):
			warn++
			if firstWarn == "" {
				firstWarn = line
			}
		case strings.Contains(line, "level=ERROR"):
			errs++
			if firstWarn == "" {
				firstWarn = line
			}
		}
		if strings.Contains(line, "sweeper re-queued work") {
			if _, v, ok := strings.Cut(line, " count="); ok {
				n, _ := strconv.Atoi(strings.Fields(v)[0])
				swept += n
			}
		}
	}
	s := fmt.Sprintf("%s: %d warnings, %d errors, sweeper re-queued %d", c.name, warn, errs, swept)
	if firstWarn != "" {
		if len(firstWarn) > 300 {
			firstWarn = firstWarn[:300] + "…"
		}
		s += "; first: " + firstWarn
	}
	return s
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// signal sends sig to this child only (by pid).
func (c *child) signal(sig syscall.Signal) {
	if !c.exited() {
		_ = syscall.Kill(c.pid(), sig)
	}
}

// wait reports whether the child exited within timeout.
func (c *child) wait(timeout time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// stop ends the child gracefully, or by SIGKILL after grace.
func (c *child) stop(grace time.Duration) {
	if c.exited() {
		return
	}
	c.signal(syscall.SIGTERM)
	if !c.wait(grace) {
		c.signal(syscall.SIGKILL)
		c.wait(5 * time.Second)
	}
}

// procEnv is the environment of a hookgate child process: the parent's
// environment without HOOKGATE_* and service URLs, plus vars.
func procEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "HOOKGATE_") || k == "DATABASE_URL" || k == "REDIS_URL" {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// cluster is a set of hookgate processes (api and worker) sharing one
// PostgreSQL database and one Redis database.
type cluster struct {
	t     *testing.T
	bin   string
	base  map[string]string
	n     int
	apis  []*apiProc
	inspc *asynq.Inspector
}

// apiProc is a running `hookgate api` with a client for it.
type apiProc struct {
	*child
	URL string
	API *apiClient
}

// newCluster migrates a fresh database and returns a cluster whose
// processes share env (on top of the common test settings).
func newCluster(t *testing.T, env map[string]string) *cluster {
	t.Helper()
	c := &cluster{t: t, bin: hookgateBinary(t)}
	c.base = map[string]string{
		"DATABASE_URL":            testenv.Postgres(t),
		"REDIS_URL":               testenv.Redis(t),
		"HOOKGATE_ADMIN_TOKEN":    apptest.AdminToken,
		"HOOKGATE_MASTER_KEY":     testMasterKey,
		"HOOKGATE_ALLOW_TARGETS":  "127.0.0.1/32",
		"HOOKGATE_SWEEP_INTERVAL": "1s",
		"HOOKGATE_RETRY_SCHEDULE": "200ms,500ms,1s,2s",
		"HOOKGATE_LOG_LEVEL":      "info",
		// Bulk log reads and producers exceed the default API rate limits.
		"HOOKGATE_API_RATE_PER_KEY":     "100000",
		"HOOKGATE_API_RATE_PER_ADDRESS": "100000",
	}
	for k, v := range env {
		c.base[k] = v
	}
	mig := startChild(t, "migrate", c.env(nil), c.bin, "migrate")
	if !mig.wait(60 * time.Second) {
		t.Fatalf("hookgate migrate did not finish in 60s:\n%s", mig.out.String())
	}
	if mig.err != nil {
		t.Fatalf("hookgate migrate: %v\n%s", mig.err, mig.out.String())
	}
	opt, err := redis.ParseURL(c.base["REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	c.inspc = asynq.NewInspectorFromRedisClient(rdb)
	t.Cleanup(func() { _ = rdb.Close() })
	return c
}

func (c *cluster) env(extra map[string]string) []string {
	vars := map[string]string{"HOOKGATE_DATA_DIR": c.t.TempDir()}
	for k, v := range c.base {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	return procEnv(vars)
}

// startAPI runs `hookgate api` on a free port and waits until /readyz
// answers 200.
func (c *cluster) startAPI() *apiProc {
	c.t.Helper()
	c.n++
	addr := "127.0.0.1:" + strconv.Itoa(freePort(c.t))
	p := &apiProc{URL: "http://" + addr}
	p.child = startChild(c.t, fmt.Sprintf("api-%d", c.n), c.env(map[string]string{"HOOKGATE_ADDR": addr}), c.bin, "api")
	p.API = newAPIClient(c.t, p.URL)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if p.exited() || time.Now().After(deadline) {
			c.t.Fatalf("%s not ready (exited %v):\n%s", p.name, p.exited(), p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.apis = append(c.apis, p)
	return p
}

// startWorker runs `hookgate worker` and waits until its asynq server has
// registered itself in Redis (it then takes tasks).
func (c *cluster) startWorker(extra map[string]string) *child {
	c.t.Helper()
	c.n++
	w := startChild(c.t, fmt.Sprintf("worker-%d", c.n), c.env(extra), c.bin, "worker")
	apptest.Eventually(c.t, 30*time.Second, w.name+" to register with asynq", func() bool {
		if w.exited() {
			c.t.Fatalf("%s exited: %v\n%s", w.name, w.err, w.out.String())
		}
		return c.workerInfo(w) != nil
	})
	return w
}

// workerInfo is the asynq server record of worker w, or nil.
func (c *cluster) workerInfo(w *child) *asynq.ServerInfo {
	servers, err := c.inspc.Servers()
	if err != nil {
		return nil
	}
	for _, s := range servers {
		if s.PID == w.pid() {
			return s
		}
	}
	return nil
}

// cpuTicks is the user+system CPU time a process used, in clock ticks.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	// Fields after the command name (which is in parentheses).
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}

// privateRedis is a redis-server of the test's own, on its own port, that
// the test may kill and restart. Without persistence a restart empties it:
// every queued task is lost, the case the sweeper must repair.
type privateRedis struct {
	t    testing.TB
	port int
	dir  string
	URL  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func startPrivateRedis(t testing.TB) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		bin = "/usr/bin/redis-server"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("redis-server is required for the Redis restart test: %v", err)
	}
	r := &privateRedis{t: t, port: freePort(t), dir: t.TempDir()}
	r.URL = fmt.Sprintf("redis://127.0.0.1:%d/0", r.port)
	r.start(bin)
	t.Cleanup(r.kill)
	return r
}

func (r *privateRedis) start(bin string) {
	r.t.Helper()
	cmd := exec.Command(bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--protected-mode", "no", "--daemonize", "no")
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port)})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			r.t.Fatalf("private redis-server on port %d did not answer:\n%s", r.port, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the redis-server with SIGKILL (no shutdown save).
func (r *privateRedis) kill() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// restart starts the server again on the same port.
func (r *privateRedis) restart() {
	r.t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		bin = "/usr/bin/redis-server"
	}
	r.start(bin)
}

// privatePostgres is a PostgreSQL cluster of the test's own (initdb in a
// temporary directory, trust authentication, its own port and socket
// directory), which the test may stop and start.
type privatePostgres struct {
	t    testing.TB
	dir  string
	data string
	port int
	opts string
	bin  string
	URL  string
}

func postgresBinDir(t testing.TB) string {
	t.Helper()
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
		t.Fatalf("PostgreSQL server binaries (initdb, pg_ctl) are required for the PostgreSQL restart test; none under /usr/lib/postgresql")
	}
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi > vj
	})
	return filepath.Dir(matches[0])
}

func startPrivatePostgres(t testing.TB) *privatePostgres {
	t.Helper()
	p := &privatePostgres{t: t, bin: postgresBinDir(t), port: freePort(t)}
	var err error
	// Not t.TempDir: the directory must be reachable by the postgres user.
	p.dir, err = os.MkdirTemp("", "hookgate-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(p.dir) })
	p.data = filepath.Join(p.dir, "data")
	sock := filepath.Join(p.dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("initdb refuses to run as root and there is no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, d := range []string{p.dir, sock} {
			if err := os.Chown(d, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
		p.port, sock)
	if err := p.run(60*time.Second, "initdb", "-D", p.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatal(err)
	}
	p.start()
	t.Cleanup(func() {
		if err := p.pgctl(60*time.Second, "stop", "-m", "immediate"); err != nil {
			t.Logf("stop private PostgreSQL: %v", err)
		}
	})
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	return p
}

// run runs a PostgreSQL program as the postgres user (initdb and pg_ctl
// refuse root).
func (p *privatePostgres) run(timeout time.Duration, prog string, args ...string) error {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	path := filepath.Join(p.bin, prog)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = p.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return nil
}

func (p *privatePostgres) pgctl(timeout time.Duration, args ...string) error {
	return p.run(timeout, "pg_ctl", append([]string{"-D", p.data, "-w"}, args...)...)
}

func (p *privatePostgres) start() {
	p.t.Helper()
	if err := p.pgctl(60*time.Second, "-l", filepath.Join(p.dir, "server.log"), "-o", p.opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		p.t.Fatalf("%v\nserver log:\n%s", err, log)
	}
}

// stopFast stops the server with pg_ctl's fast mode: sessions are cut.
func (p *privatePostgres) stopFast() {
	p.t.Helper()
	if err := p.pgctl(60*time.Second, "stop", "-m", "fast"); err != nil {
		p.t.Fatal(err)
	}
}
