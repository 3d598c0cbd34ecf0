package server_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// childEnv makes the test binary serve grantflow instead of running tests,
// so a test can start a second, real server process.
const childEnv = "GRANTFLOW_TEST_CHILD_DATABASE_URL"

// childPollEnv, when set, is the child's --change-poll.
const childPollEnv = "GRANTFLOW_TEST_CHILD_CHANGE_POLL"

func TestMain(m *testing.M) {
	if dbURL := os.Getenv(childEnv); dbURL != "" {
		os.Exit(serveChild(dbURL))
	}
	os.Exit(m.Run())
}

// serveChild serves on a free port, prints "listening ADDR" and runs until
// its stdin closes (the parent test ended).
func serveChild(dbURL string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := sqlstore.OpenPostgres(ctx, dbURL, lg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 1
	}
	cfg := config.Default()
	cfg.Addr = ln.Addr().String()
	cfg.RateLimitOrg, cfg.RateLimitIP = 0, 0
	cfg.AutomationKey = testAutomationKey
	if p := os.Getenv(childPollEnv); p != "" {
		if cfg.ChangePoll, err = time.ParseDuration(p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	srv, err := server.New(ctx, cfg, st, lg, server.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// As `grantflow serve` does: the first process on an empty store
	// makes the demo.
	if _, err := srv.CreateDemo(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("listening %s\n", ln.Addr())
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		cancel()
	}()
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild starts a second grantflow process on dbURL and returns its URL.
// env is added to its environment (e.g. childPollEnv).
func startChild(t *testing.T, dbURL string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+dbURL), env...)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening ") {
		t.Fatalf("child server did not start: %q %v", line, err)
	}
	return "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening "))
}

// TestReplicasStartTogether: three server processes started at the same
// moment on an empty PostgreSQL database all come up (migrations, River's
// included, run under one lock) and one demo organization exists.
func TestReplicasStartTogether(t *testing.T) {
	t.Parallel()
	dbURL := storetest.NewPostgresDatabase(t)
	const n = 3
	type child struct {
		line   chan string   // the first line of its output
		exited chan struct{} // closed when it exits
		err    error         // why it exited, once exited is closed
	}
	children := make([]*child, n)
	for i := range children {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+dbURL)
		cmd.Stderr = t.Output()
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c := &child{line: make(chan string, 1), exited: make(chan struct{})}
		go func() {
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			c.line <- line
			c.err = cmd.Wait() // after the read: Wait closes the pipe
			close(c.exited)
		}()
		t.Cleanup(func() { _ = stdin.Close(); <-c.exited })
		children[i] = c
	}
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for i, c := range children {
		line := <-c.line
		if !strings.HasPrefix(line, "listening ") {
			<-c.exited
			t.Fatalf("replica %d did not start: %q, %v", i+1, line, c.err)
		}
		// Serve starts River (and its migrations) before it answers.
		u := "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening ")) + "/readyz"
		for ready := false; !ready; {
			select {
			case <-c.exited:
				t.Fatalf("replica %d exited: %v", i+1, c.err)
			default:
			}
			if resp, err := hc.Get(u); err == nil {
				resp.Body.Close()
				ready = resp.StatusCode == http.StatusOK
			}
			if !ready && time.Now().After(deadline) {
				t.Fatalf("replica %d not ready after 30 s", i+1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	st, err := sqlstore.OpenPostgres(context.Background(), dbURL, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if orgs, err := st.Organizations().CountOrganizations(context.Background()); err != nil || orgs != 1 {
		t.Errorf("%d organizations after %d replicas started (%v), want the one demo", orgs, n, err)
	}
}

// issueToken runs the grant flow against e and returns an access token.
func issueToken(t *testing.T, e *env, scopes ...string) (*oauth2.Config, *oauth2.Token, string) {
	t.Helper()
	ctx := context.Background()
	cl, secret, err := e.srv.Registry.Create(ctx, registry.CreateParams{Name: "Replica test",
		RedirectURIs: []string{"http://127.0.0.1:1/cb"}, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: "http://127.0.0.1:1/cb", Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.url + "/oauth/authorize", TokenURL: e.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	b := e.browser()
	e.login(b, e.email, e.passwd, "/")
	_, page := get(t, b, conf.AuthCodeURL("s"))
	tok, err := conf.Exchange(ctx, e.consent(b, page, "approve", e.orgID).Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	return conf, tok, cl.ID
}

// waitStatus polls u with the token until it answers want; it returns how
// long that took, or fails after limit.
func waitStatus(t *testing.T, u, token string, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == want {
			return time.Since(start)
		}
		if time.Since(start) >= limit {
			t.Fatalf("%s still answered %d after %s, want %d", u, resp.StatusCode, limit, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRevocationReachesOtherReplica: two server processes on one
// PostgreSQL; a token revoked at one is refused by the other within a second.
func TestRevocationReachesOtherReplica(t *testing.T) {
	t.Parallel()
	dbURL := storetest.NewPostgresDatabase(t)
	st, err := sqlstore.OpenPostgres(context.Background(), dbURL, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := startServer(t, st)
	other := startChild(t, dbURL)
	_, tok, _ := issueToken(t, e, "dashboard:general:config:read")

	path := "/api/v1/organizations/" + e.orgID + "/networks"
	// Both replicas accept (and cache) the token.
	waitStatus(t, e.url+path, tok.AccessToken, http.StatusOK, time.Second)
	waitStatus(t, other+path, tok.AccessToken, http.StatusOK, time.Second)

	removed := time.Now()
	removeIntegration(t, e) // logs in first: most of the time until it returns
	answered := time.Now()
	// The replica that revoked refuses on its very next request.
	waitStatus(t, e.url+path, tok.AccessToken, http.StatusUnauthorized, 0)
	waitStatus(t, other+path, tok.AccessToken, http.StatusUnauthorized, time.Second)
	t.Logf("other replica refused the revoked token %s after the removal was submitted, %s after it was answered",
		time.Since(removed), time.Since(answered))
}

// TestCLIChangeReachesServer: a CLI command (here: another store handle on
// the same SQLite file, as `grantflow app delete` opens) deletes an
// integration; the running server refuses its token within a second.
func TestCLIChangeReachesServer(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	e := startServer(t, st)
	_, tok, clientID := issueToken(t, e, "dashboard:general:config:read")
	path := e.url + "/api/v1/organizations/" + e.orgID + "/networks"
	waitStatus(t, path, tok.AccessToken, http.StatusOK, time.Second)

	cli, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(st.SQLiteDir(), "grantflow.db"), slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	lg := slog.New(slog.NewTextHandler(t.Output(), nil))
	if err := registry.NewService(cli.Clients(), audit.New(cli.Audit(), nil, lg), nil, lg).Delete(context.Background(), clientID); err != nil {
		t.Fatal(err)
	}
	d := waitStatus(t, path, tok.AccessToken, http.StatusUnauthorized, time.Second)
	t.Logf("server refused the token of the deleted integration after %s", d)
}

// removeIntegration has the admin remove the (only) integration on the
// Organization > Integrations page.
func removeIntegration(t *testing.T, e *env) {
	t.Helper()
	b := e.browser()
	e.login(b, e.email, e.passwd, "/")
	_, page := get(t, b, e.url+"/organizations/"+e.orgID+"/integrations")
	form := hiddenFields(page)
	ints, err := e.st.Grants().ListOrgIntegrations(context.Background(), e.orgID)
	if err != nil || len(ints) == 0 {
		t.Fatalf("integrations: %v %v", ints, err)
	}
	resp, body := postForm(t, b, e.url+"/organizations/"+e.orgID+"/integrations/"+ints[0].Client.ID+"/remove", form)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("remove: %d %s", resp.StatusCode, body)
	}
}
