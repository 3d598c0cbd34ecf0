package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// WorkflowSample is the Cisco export the workflow workload runs: one
// Meraki request (GET /organizations/{id}/devices/statuses) and an if/else
// on its status code.
const WorkflowSample = "GetOrganizationDevicesStatuses.json"

// DefaultWorkflowFile is where the sample export lives for developers and
// CI: shared/workflows/cisco-samples beside the repository, found by
// walking up from the working directory to go.mod. "" when not in the
// repository.
func DefaultWorkflowFile() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared", "workflows", "cisco-samples", WorkflowSample)
		}
	}
	return ""
}

// WorkflowResult is the measured workflow workload.
type WorkflowResult struct {
	Runs      int            // runs asked for
	Started   int            // POSTs answered 201
	Succeeded int            // runs that ended succeeded with status code 200
	Failures  map[string]int // by error (start refused, run failed, not ended)
	Workers   int            // River task workers
	Wall      time.Duration  // first POST sent to last run ended
	Span      time.Duration  // first run created to last run ended
	Under     int            // runs whose total was under the goal
	Goal      time.Duration

	Post, Queued, Work, Total Dist

	HeapBefore, HeapPeak    uint64 // runtime.MemStats.HeapInuse
	Sys                     uint64 // runtime.MemStats.Sys at the end
	Alloc                   uint64 // TotalAlloc during the workload
	GCs                     uint32
	RSSBefore, RSSPeak, RSS uint64 // VmRSS before, VmHWM (reset before the workload when the kernel allows) and VmRSS after, bytes
	RSSPeakReset            bool
}

// RunsPerSecond is ended runs per second, first created to last ended.
func (r WorkflowResult) RunsPerSecond() float64 {
	if r.Span <= 0 {
		return 0
	}
	return float64(r.Succeeded+r.failedRuns()) / r.Span.Seconds()
}

func (r WorkflowResult) failedRuns() int {
	n := 0
	for k, v := range r.Failures {
		if strings.HasPrefix(k, "run ") {
			n += v
		}
	}
	return n
}

// Dist is a latency distribution.
type Dist struct {
	N                       int
	P50, P95, P99, Max, Min time.Duration
}

func dist(all []time.Duration) Dist {
	if len(all) == 0 {
		return Dist{}
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*p))] }
	return Dist{N: len(all), P50: pct(0.50), P95: pct(0.95), P99: pct(0.99), Max: all[len(all)-1], Min: all[0]}
}

func (d Dist) String() string {
	return fmt.Sprintf("p50 %-8s p95 %-8s p99 %-8s max %-8s", round(d.P50), round(d.P95), round(d.P99), round(d.Max))
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Report writes the result the way the README quotes it.
func (r WorkflowResult) Report(w io.Writer) {
	fmt.Fprintf(w, "  %-34s %s (%d answered)\n", "POST .../runs answered", r.Post, r.Post.N)
	fmt.Fprintf(w, "  %-34s %s\n", "queued -> started (store)", r.Queued)
	fmt.Fprintf(w, "  %-34s %s\n", "started -> ended (store)", r.Work)
	fmt.Fprintf(w, "  %-34s %s\n", "total, created -> ended (store)", r.Total)
	fmt.Fprintf(w, "  %d of %d runs succeeded; %d under %s; %.0f runs/s (first created to last ended, %s); %s from the first POST to the last end\n",
		r.Succeeded, r.Runs, r.Under, r.Goal, r.RunsPerSecond(), r.Span.Round(time.Millisecond), r.Wall.Round(time.Millisecond))
	if len(r.Failures) > 0 {
		keys := make([]string, 0, len(r.Failures))
		for k := range r.Failures {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return r.Failures[keys[i]] > r.Failures[keys[j]] })
		for _, k := range keys {
			fmt.Fprintf(w, "  failed %5d× %s\n", r.Failures[k], k)
		}
	}
	peak := "VmHWM since the process started"
	if r.RSSPeakReset {
		peak = "VmHWM, reset before the runs"
	}
	fmt.Fprintf(w, "  memory (whole process, load generator included): heap in use %s before, peak %s (sampled every 100 ms); Sys %s; %s allocated during the runs (%s a run), %d GCs; RSS %s before, peak %s (%s), %s at the end\n",
		mib(r.HeapBefore), mib(r.HeapPeak), mib(r.Sys), mib(r.Alloc), mib(r.Alloc/uint64(max(r.Runs, 1))), r.GCs, mib(r.RSSBefore), mib(r.RSSPeak), peak, mib(r.RSS))
}

// wfClient is a logged-in dashboard session.
type wfClient struct {
	c    *http.Client
	base string
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// login logs in through the login page and opens Automation once, which
// gets the person's User token silently (as a first visit does).
func login(ctx context.Context, base, email, password string, conns int) (*wfClient, error) {
	jar, _ := cookiejar.New(nil)
	hc := httpClient(conns)
	hc.Jar = jar
	wc := &wfClient{c: hc, base: base}
	page := func(method, path string, form url.Values) (string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return "", err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s %s: %d %s", method, resp.Request.URL.Path, resp.StatusCode, trim(string(b)))
		}
		return string(b), nil
	}
	p, err := page(http.MethodGet, "/login", nil)
	if err != nil {
		return nil, err
	}
	m := csrfField.FindStringSubmatch(p)
	if m == nil {
		return nil, errors.New("loadtest: no CSRF token on the login page")
	}
	if _, err := page(http.MethodPost, "/login", url.Values{"email": {email}, "password": {password}, "csrf_token": {html.UnescapeString(m[1])}}); err != nil {
		return nil, err
	}
	if _, err := page(http.MethodGet, "/automation", nil); err != nil {
		return nil, err
	}
	// The JSON APIs hand out the session's CSRF token on a GET.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/integrations", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if wc.csrf = resp.Header.Get("X-CSRF-Token"); wc.csrf == "" {
		return nil, fmt.Errorf("loadtest: GET /api/integrations (%d) gave no X-CSRF-Token", resp.StatusCode)
	}
	return wc, nil
}

// post sends a JSON API request with the session's CSRF token and decodes
// the answer into out.
func (wc *wfClient) post(ctx context.Context, path, contentType string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wc.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-CSRF-Token", wc.csrf)
	resp, err := wc.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%d %s", resp.StatusCode, e.Error)
		}
		return fmt.Errorf("%d %s", resp.StatusCode, trim(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// workflowEnv is what the workload needs: a tenant with the Meraki target,
// an admin with a User token, and the imported workflow.
type workflowEnv struct {
	orgID, tenantID, workflowID, name string
	client                            *wfClient
	varNames                          map[string]string // variable id -> display name (stored outputs are by id)
}

func (f *fixture) prepareWorkflows(ctx context.Context, p Params) (*workflowEnv, error) {
	if p.WorkflowFile == "" {
		return nil, errors.New("loadtest: no workflow file (give --workflow-file; the default is shared/workflows/cisco-samples/" + WorkflowSample + " beside the repository)")
	}
	data, err := os.ReadFile(p.WorkflowFile)
	if err != nil {
		return nil, fmt.Errorf("loadtest: the workflow export: %w", err)
	}
	file, err := export.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %s: %w", p.WorkflowFile, err)
	}
	varNames := map[string]string{}
	for _, v := range file.Workflow.Variables {
		varNames[v.ID] = v.Name
	}
	srv := f.srv
	if srv.Automation == nil || srv.Workflows == nil {
		return nil, errors.New("loadtest: the server has no workflow engine")
	}
	org, err := srv.Identity.CreateOrganization(ctx, fmt.Sprintf("Workflow load test %d", time.Now().Unix()))
	if err != nil {
		return nil, err
	}
	if err := srv.SeedEstate(ctx, org.ID); err != nil {
		return nil, err
	}
	email := fmt.Sprintf("wf-load-%d@example.com", time.Now().UnixNano())
	password := "load test password " + email
	admin, err := srv.Identity.CreateAdmin(ctx, org.ID, email, password, store.AccessFull)
	if err != nil {
		return nil, err
	}
	t, err := srv.Automation.EnsureTenant(ctx, org.ID, true, automation.TriggerTenantCreated, "")
	if err != nil {
		return nil, err
	}
	// Every run starts at once: one connection each.
	wc, err := login(ctx, f.base, email, password, p.WorkflowRuns+4)
	if err != nil {
		return nil, fmt.Errorf("loadtest: logging in and opening Automation: %w", err)
	}
	if _, err := srv.Automation.Keeper.AccessToken(ctx, keeper.Ref{TenantID: t.ID, Kind: store.TokenUser, AccountID: admin.Account.ID}); err != nil {
		return nil, fmt.Errorf("loadtest: opening Automation gave the admin no User token: %w", err)
	}
	var imp struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Runnable bool   `json:"runnable"`
	}
	if err := wc.post(ctx, "/api/automation/tenants/"+t.ID+"/workflows?file="+url.QueryEscape(filepath.Base(p.WorkflowFile)),
		"application/json", data, http.StatusCreated, &imp); err != nil {
		return nil, fmt.Errorf("loadtest: importing %s: %w", p.WorkflowFile, err)
	}
	if !imp.Runnable {
		return nil, fmt.Errorf("loadtest: %s imported but is not runnable", imp.Name)
	}
	return &workflowEnv{orgID: org.ID, tenantID: t.ID, workflowID: imp.ID, name: imp.Name, client: wc, varNames: varNames}, nil
}

// workflowLoad starts p.WorkflowRuns runs of the sample at once through
// the JSON API (as the Run button and the CLI do: StartRun, then River),
// waits for all to end, and reads their times from the store.
func (f *fixture) workflowLoad(ctx context.Context, p Params, out io.Writer) (WorkflowResult, error) {
	res := WorkflowResult{Runs: p.WorkflowRuns, Failures: map[string]int{}, Goal: p.WorkflowGoal, Workers: f.srv.Workflows.Task().Workers}
	if res.Goal <= 0 {
		res.Goal = 2 * time.Second
	}
	env, err := f.prepareWorkflows(ctx, p)
	if err != nil {
		return res, err
	}
	runStore := f.srv.Store().Runs()
	startBody, _ := json.Marshal(map[string]any{"inputs": map[string]any{"Input - Organization ID": env.orgID}})
	path := "/api/automation/workflows/" + env.workflowID + "/runs"

	// One run first, waited for: it proves the setup (and warms the
	// process's caches); it is not counted.
	var warm struct {
		ID string `json:"id"`
	}
	if err := env.client.post(ctx, path, "application/json", startBody, http.StatusCreated, &warm); err != nil {
		return res, fmt.Errorf("loadtest: starting the first run: %w", err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	r, err := f.srv.Workflows.Wait(wctx, warm.ID)
	wcancel()
	if err != nil {
		return res, fmt.Errorf("loadtest: the first run: %w", err)
	}
	if r.Status != store.RunSucceeded {
		return res, fmt.Errorf("loadtest: the first run %s: %s", r.Status, r.Error)
	}

	fmt.Fprintf(out, "workflow %q: %d runs started at once with POST %s (one connection each); Dashboard API rate limits off (--rate-limit-org 0 --rate-limit-ip 0); %d River task workers\n",
		env.name, p.WorkflowRuns, "/api/automation/workflows/{id}/runs", res.Workers)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	res.HeapBefore, res.RSSBefore = before.HeapInuse, procStatus("VmRSS")
	res.RSSPeakReset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	sampleCtx, stopSampling := context.WithCancel(ctx)
	peak := make(chan uint64, 1)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		top := before.HeapInuse
		var ms runtime.MemStats
		for {
			select {
			case <-sampleCtx.Done():
				runtime.ReadMemStats(&ms)
				peak <- max(top, ms.HeapInuse)
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				top = max(top, ms.HeapInuse)
			}
		}
	}()

	var (
		mu   sync.Mutex
		ids  = map[string]bool{}
		post []time.Duration
		wg   sync.WaitGroup
		gate = make(chan struct{})
	)
	for range p.WorkflowRuns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			t0 := time.Now()
			var v struct {
				ID string `json:"id"`
			}
			err := env.client.post(ctx, path, "application/json", startBody, http.StatusCreated, &v)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Failures["start: "+trim(err.Error())]++
				return
			}
			post = append(post, d)
			ids[v.ID] = true
		}()
	}
	first := time.Now()
	close(gate)
	wg.Wait()

	// Wait until none of them is queued or running.
	timeout := p.WorkflowTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	pending := []string{store.RunQueued, store.RunRunning, store.RunWaiting}
	for {
		n, err := runStore.CountRuns(ctx, store.RunFilter{WorkflowID: env.workflowID, Statuses: pending})
		if err != nil {
			stopSampling()
			return res, err
		}
		if n == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.Wall = time.Since(first)
	stopSampling()
	res.HeapPeak = <-peak
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	res.Sys, res.Alloc, res.GCs = after.Sys, after.TotalAlloc-before.TotalAlloc, after.NumGC-before.NumGC
	res.RSSPeak, res.RSS = procStatus("VmHWM"), procStatus("VmRSS")
	res.Started = len(ids)
	res.Post = dist(post)

	runs, err := runStore.ListRuns(ctx, store.RunFilter{WorkflowID: env.workflowID, Limit: p.WorkflowRuns + 10})
	if err != nil {
		return res, err
	}
	var queued, work, total []time.Duration
	var firstCreated, lastEnded time.Time
	for _, r := range runs {
		if !ids[r.ID] {
			continue
		}
		if firstCreated.IsZero() || r.CreatedAt.Before(firstCreated) {
			firstCreated = r.CreatedAt
		}
		if !store.RunEnded(r.Status) {
			res.Failures["not ended after "+timeout.String()+" (still "+r.Status+")"]++
			continue
		}
		if r.EndedAt.After(lastEnded) {
			lastEnded = r.EndedAt
		}
		if !r.StartedAt.IsZero() {
			queued = append(queued, r.StartedAt.Sub(r.CreatedAt))
			work = append(work, r.EndedAt.Sub(r.StartedAt))
		}
		tot := r.EndedAt.Sub(r.CreatedAt)
		total = append(total, tot)
		if tot < res.Goal {
			res.Under++
		}
		var byID map[string]any
		_ = json.Unmarshal(r.Outputs, &byID)
		outs := map[string]any{}
		for id, v := range byID {
			outs[env.varNames[id]] = v
		}
		code := fmt.Sprint(outs["Output - Status Code"])
		switch {
		case r.Status != store.RunSucceeded:
			res.Failures["run "+r.Status+": "+trim(r.Error)]++
		case code != "200":
			res.Failures["run succeeded with status code "+code+": "+trim(fmt.Sprint(outs["Output - Error Message"]))]++
		default:
			res.Succeeded++
		}
	}
	res.Span = lastEnded.Sub(firstCreated)
	res.Queued, res.Work, res.Total = dist(queued), dist(work), dist(total)
	return res, nil
}

// procStatus reads a kB field of /proc/self/status, in bytes (0 where
// there is none).
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}
