package automation_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
)

// The helper process: this test binary run again as a second grantflow
// process with its own store handle and token keeper, talking to the
// parent test's authorization server over HTTP. It does nothing in a
// normal test run.
//
//	GF_HELPER=use:   print READY, wait for "go" on stdin, make GF_N
//	                 concurrent AccessToken calls, print one RESULT line.
//	GF_HELPER=fault: one AccessToken call that stops at GF_POINT (prints
//	                 "AT <point>" and waits to be killed).
func TestHelperKeeperProcess(t *testing.T) {
	mode := os.Getenv("GF_HELPER")
	if mode == "" {
		return
	}
	ctx := context.Background()
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...); out.Flush() }
	now, err := time.Parse(time.RFC3339Nano, os.Getenv("GF_NOW"))
	if err != nil {
		say("ERROR now: %v", err)
		return
	}
	lg := testLogger(t)
	var st *sqlstore.Store
	if db := os.Getenv("GF_DB"); strings.HasPrefix(db, "postgres") {
		st, err = sqlstore.OpenPostgres(ctx, db, lg)
	} else {
		st, err = sqlstore.OpenSQLite(ctx, db, lg)
	}
	if err != nil {
		say("ERROR store: %v", err)
		return
	}
	defer st.Close()
	masters, _ := automation.MasterKeys(os.Getenv("GF_KEY"), "")
	lease, _ := time.ParseDuration(os.Getenv("GF_LEASE"))
	svc, err := automation.New(ctx, automation.Config{Issuer: os.Getenv("GF_AS"), Now: func() time.Time { return now },
		Keeper: keeper.Config{LeaseTTL: lease}},
		automation.Deps{Store: st, Audit: audit.New(st.Audit(), func() time.Time { return now }, lg), Log: lg, Masters: masters})
	if err != nil {
		say("ERROR automation: %v", err)
		return
	}
	ref := keeper.Ref{TenantID: os.Getenv("GF_TENANT"), Kind: store.TokenKind(os.Getenv("GF_KIND")), AccountID: os.Getenv("GF_ACCOUNT")}
	switch mode {
	case "fault":
		point := os.Getenv("GF_POINT")
		svc.Keeper.Faults = func(p string) {
			if p == point {
				say("AT %s", p)
				select {} // until SIGKILL
			}
		}
		_, err := svc.Keeper.AccessToken(ctx, ref)
		say("RESULT passed %s without stopping: %v", point, err)
	case "use":
		n, _ := strconv.Atoi(os.Getenv("GF_N"))
		say("READY")
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if strings.TrimSpace(line) != "go" {
			return
		}
		ok, fails, distinct, firstErr := useConcurrently(ctx, svc.Keeper, ref, n)
		say("RESULT ok=%d fail=%d distinct=%s err=%v", ok, fails, strings.Join(distinct, ","), firstErr)
	}
}

// useConcurrently makes n simultaneous AccessToken calls and returns how
// many succeeded and failed, and the distinct tokens' hashes.
func useConcurrently(ctx context.Context, k *keeper.Keeper, ref keeper.Ref, n int) (ok, fails int, distinct []string, firstErr error) {
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			a, err := k.AccessToken(ctx, ref)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fails++
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			ok++
			seen[oauth.Hash(a.Token)[:12]] = true
		})
	}
	close(start)
	wg.Wait()
	for h := range seen {
		distinct = append(distinct, h)
	}
	return ok, fails, distinct, firstErr
}

// child is a running helper process.
type child struct {
	t     testing.TB
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

// dbURL returns what a second process opens to reach e's store.
func dbURL(e *env, pgURL string) string {
	if pgURL != "" {
		return pgURL
	}
	return filepath.Join(e.st.SQLiteDir(), "grantflow.db")
}

func startChild(t testing.TB, e *env, db string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKeeperProcess$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), "GF_DB="+db, "GF_KEY="+e.key, "GF_AS="+e.url)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = &logWriter{t: t}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return c
}

// expect waits for a line starting with prefix (ignoring test framework
// chatter) and returns it.
func (c *child) expect(prefix string) string {
	c.t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("helper process ended before %q", prefix)
			}
			if strings.HasPrefix(l, "ERROR") {
				c.t.Fatalf("helper process: %s", l)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			c.t.Fatalf("helper process: no %q within a minute", prefix)
		}
	}
}

// kill stops the child with SIGKILL: no deferred function, no cleanup.
func (c *child) kill() {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

type logWriter struct{ t testing.TB }

func (w *logWriter) Write(p []byte) (int, error) {
	w.t.Logf("helper: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}

func refEnv(ref keeper.Ref) []string {
	return []string{"GF_TENANT=" + ref.TenantID, "GF_KIND=" + string(ref.Kind), "GF_ACCOUNT=" + ref.AccountID}
}

func nowEnv(t time.Time) string { return "GF_NOW=" + t.UTC().Format(time.RFC3339Nano) }

// parseResult reads "RESULT ok=.. fail=.. distinct=.. err=..".
func parseResult(t testing.TB, line string) (ok, fail int, distinct []string, errText string) {
	t.Helper()
	f := strings.SplitN(strings.TrimPrefix(line, "RESULT "), " ", 4)
	if len(f) != 4 {
		t.Fatalf("bad result line %q", line)
	}
	ok, _ = strconv.Atoi(strings.TrimPrefix(f[0], "ok="))
	fail, _ = strconv.Atoi(strings.TrimPrefix(f[1], "fail="))
	if d := strings.TrimPrefix(f[2], "distinct="); d != "" {
		distinct = strings.Split(d, ",")
	}
	return ok, fail, distinct, strings.TrimPrefix(f[3], "err=")
}
