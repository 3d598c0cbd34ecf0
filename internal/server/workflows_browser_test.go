package server_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/grantflow/grantflow/internal/jobs"
)

// ciRequires fails the test when CI=true, else skips it, for something
// the test needs that this machine lacks.
func ciRequires(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// ciscoSample is a file of the Cisco Workflows samples beside the
// repository (../shared/workflows/cisco-samples from the directory with
// go.mod).
func ciscoSample(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = up
	}
	p := filepath.Join(dir, "..", "shared", "workflows", "cisco-samples", name)
	if _, err := os.Stat(p); err != nil {
		ciRequires(t, "the Cisco Workflows samples are not here ("+p+"): skipping")
	}
	return p
}

// laterQueue enqueues runs a while after they are started, as a busy queue
// would: the run page then surely opens before the run has ended, and what
// the test sees change is the page's own polling.
type laterQueue struct {
	r     *jobs.Runner
	delay time.Duration
}

func (q laterQueue) Enqueue(ctx context.Context, kind, key string) error {
	go func() {
		time.Sleep(q.delay)
		_ = q.r.Enqueue(context.WithoutCancel(ctx), kind, key)
	}()
	return nil
}

// TestBrowserWorkflowRun is the workflow pages as a person uses them in
// headless Chromium: log in, open Automation (tokens issued silently),
// import Cisco's Python script sample through the upload form, open it, run
// it with the defaults, and watch the run page turn to succeeded with the
// script's outputs, without a reload. GRANTFLOW_SCREENSHOTS=DIR keeps
// screenshots of the workflow and run pages there.
func TestBrowserWorkflowRun(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	if _, err := exec.LookPath("python3"); err != nil {
		ciRequires(t, "no python3: skipping (the sample runs a Python script)")
	}
	sample := ciscoSample(t, "PythonScriptActivityExample.json")
	e := startServer(t, nil)
	ctx := context.Background()
	ins, err := jobs.Start(ctx, e.st, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ins.Stop(context.Background()) })
	e.srv.Workflows.SetQueue(laterQueue{r: ins, delay: 1500 * time.Millisecond}, false)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1000),
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
	bctx, cancel = context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	shots := os.Getenv("GRANTFLOW_SCREENSHOTS")
	screenshot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(shots, name), png, 0o644)
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
	}

	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	err = chromedp.Do(bctx,
		chromedp.Navigate(e.url+"/login?return_to="+url.QueryEscape("/automation")),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.passwd),
		chromedp.Submit(css(`input[name=password]`)),
		// The Automation page, after the silent token flow.
		chromedp.WaitVisible(css(`main a[href^="/automation/workflows"]`)),
		chromedp.Click(css(`main a[href^="/automation/workflows"]`)),
		chromedp.WaitVisible(css(`input[type=file]`)),
		chromedp.SetUploadFiles(css(`input[type=file]`), []string{sample}),
		chromedp.Click(css(`form[enctype="multipart/form-data"] button[type=submit]`)),
		chromedp.WaitVisible(css(`main a[href^="/automation/workflows/wf_"]`)),
	)
	if err != nil {
		t.Fatalf("browser: log in and import: %v", err)
	}
	imported, err := chromedp.Run(bctx, chromedp.Text(css(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(imported, "Python Script Activity Example") || !strings.Contains(imported, "runnable") || strings.Contains(imported, "not runnable") {
		t.Fatalf("import result:\n%s", imported)
	}
	err = chromedp.Do(bctx,
		chromedp.Click(css(`main a[href^="/automation/workflows/wf_"]`)),
		chromedp.WaitVisible(css(`#run-button`)),
	)
	if err != nil {
		t.Fatalf("browser: open the workflow: %v", err)
	}
	workflowText, err := chromedp.Run(bctx, chromedp.Text(css(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	screenshot("workflow.png")
	for _, want := range []string{"Input - first number", "Output - average", "Execute Python Script", "python3.script", "None: the workflow runs without a target."} {
		if !strings.Contains(workflowText, want) {
			t.Errorf("workflow page lacks %q:\n%s", want, workflowText)
		}
	}
	if err := chromedp.Do(bctx, chromedp.Click(css(`#run-button`)), chromedp.WaitVisible(css(`#run-status`))); err != nil {
		t.Fatalf("browser: run: %v", err)
	}
	// Anything set on window is gone if the page reloads.
	live, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.stillTheSamePage = true; document.getElementById('run').dataset.live`))
	if err != nil {
		t.Fatal(err)
	}
	if live != "1" {
		t.Fatalf("the run page opened on an ended run (data-live=%q): nothing to watch", live)
	}
	_, err = chromedp.Run(bctx, chromedp.Poll[bool](`!['queued', 'running'].includes(document.getElementById('run-status').textContent) && document.getElementById('run-live').hidden`,
		chromedp.WithPollingTimeout(60*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		t.Fatalf("browser: waiting for the run: %v", err)
	}
	same, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.stillTheSamePage === true`))
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll('#run-outputs tr[data-name]')].map(r => [r.dataset.name, r.querySelector('td.value').textContent]))`))
	if err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(bctx, chromedp.Text(css(`#run-status`)))
	if err != nil {
		t.Fatal(err)
	}
	runText, err := chromedp.Run(bctx, chromedp.Text(css(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	screenshot("run.png")
	if status != "succeeded" || !same {
		t.Fatalf("run status %q, same page %v:\n%s", status, same, runText)
	}
	want := map[string]string{"Output - sum": "60", "Output - product": "6000", "Output - average": "20"}
	for k, v := range want {
		if outputs[k] != v {
			t.Errorf("output %q = %q, want %q (all: %v)", k, outputs[k], v, outputs)
		}
	}
	if !strings.Contains(runText, "Execute Python Script") || !strings.Contains(runText, e.email) {
		t.Errorf("run page:\n%s", runText)
	}
}
