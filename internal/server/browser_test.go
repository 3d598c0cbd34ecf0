package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/grantflow/grantflow/internal/registry"
)

// chromium finds Debian's chromium (GRANTFLOW_CHROMIUM, else PATH). Without
// one the test is skipped, unless GRANTFLOW_REQUIRE_BROWSER is set (as
// .ci/run does), which makes a missing browser a failure.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("GRANTFLOW_CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		if os.Getenv("GRANTFLOW_REQUIRE_BROWSER") != "" {
			t.Fatal("GRANTFLOW_REQUIRE_BROWSER is set but no chromium was found (apt-get install chromium)")
		}
		t.Skip("no chromium: skipping browser test (install Debian's chromium or set GRANTFLOW_CHROMIUM; .ci/run does)")
	}
	return path
}

// TestBrowserLoginAndConsent logs in and approves a consent the way a
// person does, in headless Chromium: typing, choosing the organization,
// clicking Approve, landing on the integration with a code that works.
func TestBrowserLoginAndConsent(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	e := startServer(t, nil)
	ctx := context.Background()

	codes := make(chan string, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := r.URL.Query().Get("code"); c != "" {
			select {
			case codes <- c:
			default:
			}
		}
		_, _ = w.Write([]byte("<!doctype html><title>Connected</title><p id=done>Connected to Meraki</p>"))
	}))
	defer app.Close()
	cl, secret, err := e.srv.Registry.Create(ctx, registry.CreateParams{Name: "Browser App",
		RedirectURIs: []string{app.URL + "/cb"}, Scopes: []string{"dashboard:general:config:read"}})
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: app.URL + "/cb", Scopes: []string{"dashboard:general:config:read"},
		Endpoint: oauth2.Endpoint{AuthURL: e.url + "/oauth/authorize", TokenURL: e.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancel := chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	err = chromedp.Do(bctx,
		chromedp.Navigate(conf.AuthCodeURL("browser-state")),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.passwd),
		chromedp.Submit(css(`input[name=password]`)),
		chromedp.WaitVisible(css(`select[name=organization_id]`)),
	)
	if err != nil {
		t.Fatalf("browser: login: %v", err)
	}
	consentText, err := chromedp.Run(bctx, chromedp.Text(css(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(bctx,
		chromedp.SetValue(css(`select[name=organization_id]`), e.orgID),
		chromedp.Click(css(`button[name=decision][value=approve]`)),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if err != nil {
		t.Fatalf("browser: consent: %v", err)
	}
	if !strings.Contains(consentText, "Browser App") || !strings.Contains(consentText, "Acme") {
		t.Fatalf("consent page text: %q", consentText)
	}
	var code string
	select {
	case code = <-codes:
	case <-time.After(5 * time.Second):
		t.Fatal("the integration never received a code")
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Extra("organization_id") != e.orgID {
		t.Fatalf("organization_id = %v", tok.Extra("organization_id"))
	}
}
