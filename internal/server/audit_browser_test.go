package server_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/store"
)

// TestBrowserAuditPageRows opens a busy audit log in headless Chromium at
// a laptop's width and measures it: rows stay one or two lines high and no
// column is squeezed to a few characters (as the Client and Details
// columns once were, making each row 250 px tall).
func TestBrowserAuditPageRows(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	e := startServer(t, nil)
	ctx := context.Background()
	cl, _, err := e.srv.Registry.Create(ctx, registry.CreateParams{Name: "Inventory Sync",
		RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"dashboard:general:config:read"}})
	if err != nil {
		t.Fatal(err)
	}
	var evs []store.AuditEvent
	for i := range 30 {
		grant := strings.Repeat("9f3c2a7e", 4) + strconv.Itoa(i)
		evs = append(evs, store.AuditEvent{At: time.Now(), Action: "token.refreshed", ActorClientID: cl.ID, OrgID: e.orgID, Target: grant,
			Details: map[string]string{"grant_id": grant, "scope": "dashboard:general:config:read dashboard:general:config:write"}})
	}
	if err := e.st.Audit().AppendAudit(ctx, evs...); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true),
	)
	actx, cancel := chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	err = chromedp.Do(bctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(e.url+"/organizations/"+e.orgID+"/audit"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.passwd),
		chromedp.Submit(css(`input[name=password]`)),
		chromedp.WaitVisible(css(`table.audit`)),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	tallest, err := chromedp.Run(bctx, chromedp.Evaluate[float64](
		`Math.max(...[...document.querySelectorAll('table.audit tbody tr')].map(r => r.getBoundingClientRect().height))`))
	if err != nil {
		t.Fatal(err)
	}
	narrowest, err := chromedp.Run(bctx, chromedp.Evaluate[float64](
		`Math.min(...[...document.querySelectorAll('table.audit tbody tr:first-child td')].map(td => td.getBoundingClientRect().width))`))
	if err != nil {
		t.Fatal(err)
	}
	integration, err := chromedp.Run(bctx, chromedp.Evaluate[string](
		`document.querySelector('table.audit tbody tr:first-child td:nth-child(4)').innerText`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tallest row %.0f px, narrowest cell %.0f px", tallest, narrowest)
	if tallest > 90 {
		t.Errorf("the tallest audit row is %.0f px high, want at most 90", tallest)
	}
	if narrowest < 70 {
		t.Errorf("the narrowest audit cell is %.0f px wide, want at least 70", narrowest)
	}
	if integration != "Inventory Sync" {
		t.Errorf("integration cell = %q, want the integration's name", integration)
	}
}
