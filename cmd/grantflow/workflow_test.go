package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/workflow"
)

// samplesDir is shared/workflows/cisco-samples beside the repository (as
// laid out for developers and CI). Tests skip without it, except in CI.
func samplesDir(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
	}
	s := filepath.Join(filepath.Dir(dir), "shared", "workflows", "cisco-samples")
	if _, err := os.Stat(s); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the sample exports are missing at %s (CI must have shared/ beside the repository)", s)
		}
		t.Skipf("the sample exports are not at %s; skipping", s)
	}
	return s
}

func needPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("GRANTFLOW_REQUIRE_PYTHON") == "1" {
			t.Fatal("python3 is not on PATH, and CI needs it for the python3.script samples")
		}
		t.Skip("python3 is not on PATH; skipping the workflow runs that need it")
	}
}

// wfEnvT is a data directory with a seeded organization, its admin, a
// running server and the admin's Automation tokens: what a customer has
// after `grantflow serve` and a first visit.
type wfEnvT struct {
	t        *testing.T
	dir      string
	issuer   string
	store    []string // --data-dir
	with     []string // --issuer and --data-dir
	org      string
	tenant   string
	email    string
	apiKey   string
	ids      map[string]string // workflow name -> id
	imported []workflow.ImportResult
}

const testPassword = "correct horse battery staple 42"

func newWorkflowEnv(t *testing.T) *wfEnvT {
	t.Helper()
	e := &wfEnvT{t: t, dir: t.TempDir(), email: "a@example.com", ids: map[string]string{}}
	ts := httptest.NewUnstartedServer(nil)
	e.issuer = "http://" + ts.Listener.Addr().String()
	e.store = []string{"--data-dir", e.dir}
	e.with = append([]string{"--issuer", e.issuer}, e.store...)

	var org struct{ ID string }
	e.json(&org, "org", "create", "--name", "Acme", "--json")
	e.org = org.ID
	// Enough devices that the Site Handoff network has switches and an
	// appliance whatever the seed draws.
	e.ok("seed", "--org", e.org, "--networks", "6", "--devices", "90")
	e.ok("admin", "create", "--org", e.org, "--email", e.email, "--password", testPassword, "--access", "full")
	var key struct {
		APIKey string `json:"api_key"`
	}
	e.json(&key, "apikey", "create", "--admin", e.email, "--json")
	e.apiKey = key.APIKey

	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(e.dir, "grantflow.db"), lg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := config.Default()
	cfg.DataDir, cfg.Issuer = e.dir, e.issuer
	cfg.RateLimitOrg, cfg.RateLimitIP = 0, 0
	srv, err := server.New(context.Background(), cfg, st, lg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)

	var tenant struct{ ID string }
	e.json(&tenant, "tenant", "create", "--org", e.org, "--meraki", "--json")
	e.tenant = tenant.ID
	visitAutomation(t, e.issuer, e.email)
	return e
}

// cli runs one command with the environment's issuer and data directory.
func (e *wfEnvT) cli(args ...string) (int, string, string) {
	e.t.Helper()
	// Flags come before file names, as everywhere in the CLI.
	full := append([]string{}, args...)
	i := len(full)
	for j, a := range full {
		if strings.HasSuffix(a, ".json") && !strings.HasPrefix(a, "-") {
			i = j
			break
		}
	}
	withStore := e.store
	if needsIssuer(args) {
		withStore = e.with
	}
	full = append(append(append([]string{}, full[:i]...), withStore...), full[i:]...)
	return grantflow(e.t, full...)
}

func needsIssuer(args []string) bool {
	switch args[0] {
	case "workflow", "run", "target", "tenant":
		return true
	}
	return false
}

func (e *wfEnvT) ok(args ...string) string {
	e.t.Helper()
	code, out, errs := e.cli(args...)
	if code != 0 {
		e.t.Fatalf("grantflow %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func (e *wfEnvT) json(v any, args ...string) {
	e.t.Helper()
	out := e.ok(args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("grantflow %s printed %q: %v", strings.Join(args, " "), out, err)
	}
}

// importAll imports every sample file in one command.
func (e *wfEnvT) importAll(dir string) {
	e.t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	slices.Sort(files)
	args := append([]string{"workflow", "import", "--tenant", e.tenant, "--as", e.email, "--json"}, files...)
	e.json(&e.imported, args...)
	for _, r := range e.imported {
		e.ids[r.Name] = r.ID
	}
}

// run starts a workflow by name as the admin and waits for it.
func (e *wfEnvT) run(name string, inputs ...string) workflow.RunView {
	e.t.Helper()
	id, ok := e.ids[name]
	if !ok {
		e.t.Fatalf("no imported workflow %q", name)
	}
	args := []string{"workflow", "run", "--id", id, "--as", e.email, "--wait", "--json"}
	for _, in := range inputs {
		args = append(args, "--input", in)
	}
	code, out, errs := e.cli(args...)
	var v workflow.RunView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		e.t.Fatalf("workflow run %s: exit %d %q %s", name, code, out, errs)
	}
	return v
}

func mustSucceed(t *testing.T, v workflow.RunView) {
	t.Helper()
	if v.Status != "succeeded" {
		var failed []string
		for _, a := range v.Activities {
			if a.Status == "failed" || v.Status == "waiting" {
				failed = append(failed, a.Title+" ("+a.Type+") "+a.Status+": "+a.Error)
			}
		}
		t.Fatalf("run of %q: %s (attempt %d): %s\nfailed activities:\n%s", v.WorkflowName, v.Status, v.Attempt, v.Error, strings.Join(failed, "\n"))
	}
}

// activities are a run's recorded activity executions, read from the store
// the server uses.
func (e *wfEnvT) activities(runID string) []store.RunActivity {
	e.t.Helper()
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(e.dir, "grantflow.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		e.t.Fatal(err)
	}
	defer st.Close()
	acts, err := st.Runs().ListActivities(context.Background(), runID)
	if err != nil {
		e.t.Fatal(err)
	}
	return acts
}

// api reads the sandbox with the admin's API key.
func (e *wfEnvT) api(path string, v any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
}

type device struct {
	Serial, Name, ProductType, NetworkID, Model string
}

type network struct {
	ID, Name     string
	Tags         []string
	ProductTypes []string
}

// The 28 real exports imported unchanged, and the runs
// shared/workflows/README.md lists, checked by what they did in the
// sandbox.
func TestWorkflowSamples(t *testing.T) {
	samples := samplesDir(t)
	needPython(t)
	e := newWorkflowEnv(t)
	e.importAll(samples)

	if len(e.imported) != 28 {
		t.Fatalf("imported %d files, want 28", len(e.imported))
	}
	for _, r := range e.imported {
		if len(r.Problems) > 0 {
			t.Errorf("%s: structural problems: %v", r.File, r.Problems)
		}
		catalyst := strings.Contains(r.File, "CatalystCenter-")
		unsupportedCatalyst := false
		for _, u := range r.Unsupported {
			if strings.HasPrefix(u.Type, "catalystcenter.") {
				unsupportedCatalyst = true
			} else {
				t.Errorf("%s: unsupported %s at %s", r.File, u.Type, u.Path)
			}
		}
		switch {
		case !catalyst && !r.Runnable:
			t.Errorf("%s is not runnable: broken %v missing %v unsupported %v", r.File, r.Broken, r.Missing, r.Unsupported)
		case catalyst && r.Runnable && unsupportedCatalyst:
			t.Errorf("%s lists Catalyst Center activities as unsupported and yet is runnable", r.File)
		}
		if len(r.Broken) > 0 {
			t.Errorf("%s: broken references: %v", r.File, r.Broken)
		}
	}
	// A call of a workflow another file of the same batch brought is not
	// missing in the answer (Catalyst Center's Get Task ID and Wait For …).
	batch := map[string]bool{}
	for _, r := range e.imported {
		batch[r.UniqueName] = true
	}
	for _, r := range e.imported {
		for _, m := range r.Missing {
			if batch[m.WorkflowID] {
				t.Errorf("%s: %q is listed as missing, yet the same import brought it", r.File, m.Name)
			}
		}
	}

	var devices []device
	var networks []network
	// The seed draws device types at random: add devices until a network
	// has the switches and the appliance the Site Handoff run needs.
	for tries := 0; ; tries++ {
		devices, networks = nil, nil
		e.api("/organizations/"+e.org+"/devices", &devices)
		e.api("/organizations/"+e.org+"/networks", &networks)
		if _, ok := findSite(networks, devices, "switch", "appliance"); ok || tries == 5 {
			break
		}
		e.ok("seed", "--org", e.org, "--devices", "30")
	}

	t.Run("PythonScriptActivityExample", func(t *testing.T) {
		for _, name := range []string{"Python Script Activity Example", "Python Script Activity Example with Script Arguments"} {
			v := e.run(name)
			mustSucceed(t, v)
			want := map[string]any{"Output - sum": 60.0, "Output - product": 6000.0, "Output - average": 20.0}
			for k, w := range want {
				if got := v.Outputs[k]; fmt.Sprint(got) != fmt.Sprint(w) {
					t.Errorf("%s: %s = %v, want %v (outputs %v)", name, k, got, w, v.Outputs)
				}
			}
		}
	})

	t.Run("GetOrganizationDevicesStatuses", func(t *testing.T) {
		v := e.run("Get Organization Devices Statuses", "Input - Organization ID="+e.org)
		mustSucceed(t, v)
		if v.Token == nil || v.Token.Kind != "user" || v.Token.Owner == nil || *v.Token.Owner != e.email {
			t.Errorf("token %+v, want the runner's user token", v.Token)
		}
		if fmt.Sprint(v.Outputs["Output - Status Code"]) != "200" {
			t.Errorf("status code %v", v.Outputs["Output - Status Code"])
		}
		var statuses []struct{ Serial, Status string }
		if err := json.Unmarshal([]byte(fmt.Sprint(v.Outputs["Output - Result"])), &statuses); err != nil {
			t.Fatalf("result is not the statuses: %v", err)
		}
		got := map[string]string{}
		for _, s := range statuses {
			got[s.Serial] = s.Status
		}
		if len(got) != len(devices) {
			t.Errorf("%d statuses for %d devices", len(got), len(devices))
		}
		for _, d := range devices {
			if got[d.Serial] == "" {
				t.Errorf("no status for %s", d.Serial)
			}
		}
	})

	t.Run("BlinkMerakiDeviceLEDs", func(t *testing.T) {
		v := e.run("Blink Meraki Device LEDs", "Meraki Device Serial Number="+devices[0].Serial)
		mustSucceed(t, v)
		// The export's own success branch tests for 201, the answer of
		// createDeviceLiveToolsLedsBlink (the deprecated blinkDeviceLeds
		// answered 202).
		if fmt.Sprint(v.Outputs["Output - Status Code"]) != "201" {
			t.Errorf("status code %v, outputs %v", v.Outputs["Output - Status Code"], v.Outputs)
		}
		// The sandbox holds the blink job the workflow enqueued, with the
		// export's 30-second duration: read its id from the request's
		// recorded answer, then the job from the sandbox.
		var answer struct {
			ResponseBody string `json:"response_body"`
		}
		for _, a := range e.activities(v.ID) {
			if a.Type == "meraki.api_request" {
				_ = json.Unmarshal(a.Output, &answer)
			}
		}
		var created struct {
			LedsBlinkID string `json:"ledsBlinkId"`
		}
		if err := json.Unmarshal([]byte(answer.ResponseBody), &created); err != nil || created.LedsBlinkID == "" {
			t.Fatalf("the blink request answered %q", answer.ResponseBody)
		}
		var job struct {
			Status  string
			Request struct {
				Serial   string
				Duration int
			}
		}
		e.api("/devices/"+devices[0].Serial+"/liveTools/leds/blink/"+created.LedsBlinkID, &job)
		if job.Request.Serial != devices[0].Serial || job.Request.Duration != 30 || job.Status != "complete" {
			t.Errorf("the sandbox's blink job: %+v", job)
		}
		bad := e.run("Blink Meraki Device LEDs", "Meraki Device Serial Number=Q2XX-0000-0000")
		if code := fmt.Sprint(bad.Outputs["Output - Status Code"]); code != "404" {
			t.Errorf("an unknown serial: status code %s, outputs %v", code, bad.Outputs)
		}
	})

	t.Run("FindTaggedNetworksAcrossMultipleOrgs", func(t *testing.T) {
		tag := networks[0].Tags[len(networks[0].Tags)-1] // a region tag several networks share
		var want []string
		for _, n := range networks {
			if slices.Contains(n.Tags, tag) {
				want = append(want, n.Name)
			}
		}
		v := e.run("Find Tagged Networks across Multiple Orgs", `Network Search Tags=["`+tag+`"]`)
		mustSucceed(t, v)
		out := fmt.Sprint(v.Outputs["Output - Found Matching Networks"])
		for _, n := range networks {
			// One match is the name itself; several are a JSON list.
			if listed := strings.Contains(out, n.Name); listed != slices.Contains(want, n.Name) {
				t.Errorf("network %q (tags %v): listed=%v, want %v\n%s", n.Name, n.Tags, listed, !listed, out)
			}
		}
	})

	var hq network // the network with every product the firmware workflows look at
	for _, n := range networks {
		if strings.HasPrefix(n.Name, "Headquarters") {
			hq = n
		}
	}
	t.Run("CheckAvailableFirmwareForNetwork", func(t *testing.T) {
		var fw struct {
			Products map[string]struct {
				CurrentVersion struct {
					ID        int64
					ShortName string
				}
				AvailableVersions []struct{ ID int64 }
			}
		}
		e.api("/networks/"+hq.ID+"/firmwareUpgrades", &fw)
		v := e.run("Check Available Firmware for Network", "Input - Organization ID or Name=Acme", "Input - Network Name="+hq.Name)
		mustSucceed(t, v)
		// The switch output's name is spelled as in the export.
		for product, out := range map[string]string{"appliance": "Output - Appliance - Current Version", "switch": "Ouput - Switch - Current Version", "wireless": "Output - Wireless - Current Version"} { //nolint:misspell // the export's name
			cur := fw.Products[product].CurrentVersion
			if got := fmt.Sprint(v.Outputs[out]); !strings.Contains(got, cur.ShortName) || !strings.Contains(got, fmt.Sprint(cur.ID)) {
				t.Errorf("%s = %q, want the sandbox's current version %s (%d)", out, got, cur.ShortName, cur.ID)
			}
		}
		avail := fmt.Sprint(v.Outputs["Output - Appliance - Available Firmware Versions"])
		for _, a := range fw.Products["appliance"].AvailableVersions {
			if a.ID != fw.Products["appliance"].CurrentVersion.ID && !strings.Contains(avail, fmt.Sprint(a.ID)) {
				t.Errorf("appliance version %d is not listed as available: %s", a.ID, avail)
			}
		}
	})

	t.Run("ScheduleFirmwareUpgradeForNetwork", func(t *testing.T) {
		var fw struct {
			Products map[string]struct {
				AvailableVersions []struct{ ID int64 }
				NextUpgrade       struct {
					Time      string
					ToVersion struct{ ID int64 }
				}
			}
		}
		e.api("/networks/"+hq.ID+"/firmwareUpgrades", &fw)
		at := time.Now().UTC().Add(7 * 24 * time.Hour).Truncate(time.Hour)
		ids := map[string]int64{}
		for _, p := range []string{"appliance", "switch", "wireless"} {
			ids[p] = fw.Products[p].AvailableVersions[len(fw.Products[p].AvailableVersions)-1].ID
		}
		v := e.run("Schedule Firmware Upgrade for Network", "Input - Organization ID or Name="+e.org, "Input - Network Name="+hq.Name,
			"Input - Upgrade Date Time="+at.Format("2006-01-02 15:04:05"),
			fmt.Sprintf("Input - Appliance Version ID to Upgrade=%d", ids["appliance"]),
			fmt.Sprintf("Input - Wireless Version ID to Upgrade=%d", ids["wireless"]),
			fmt.Sprintf("Input - Switch Version ID to Upgrade=%d", ids["switch"]))
		mustSucceed(t, v)
		e.api("/networks/"+hq.ID+"/firmwareUpgrades", &fw)
		for p, id := range ids {
			next := fw.Products[p].NextUpgrade
			if next.ToVersion.ID != id {
				t.Errorf("%s: next upgrade to %d, want %d", p, next.ToVersion.ID, id)
			}
			if when, err := time.Parse(time.RFC3339, next.Time); err != nil || !when.Equal(at) {
				t.Errorf("%s: next upgrade at %q, want %s", p, next.Time, at.Format(time.RFC3339))
			}
		}
	})

	t.Run("CopyMerakiSwitchPortConfigurations", func(t *testing.T) {
		var switches []device
		for _, d := range devices {
			if d.ProductType == "switch" {
				switches = append(switches, d)
			}
		}
		src, dst := switches[0], switches[1]
		// Make the source port distinctive first.
		put(t, e, "/devices/"+src.Serial+"/switch/ports/2", `{"name":"uplink to core","vlan":42,"type":"trunk","allowedVlans":"1,42,100","poeEnabled":false,"tags":["core"]}`)
		v := e.run("Copy Meraki Switch Port Configurations", "Input - Source Switch Serial Number="+src.Serial,
			"Input - Target Switch Serial Number="+dst.Serial, "Input - Source Port ID=2", "Input - Target Port ID=3")
		mustSucceed(t, v)
		var a, b map[string]any
		e.api("/devices/"+src.Serial+"/switch/ports/2", &a)
		e.api("/devices/"+dst.Serial+"/switch/ports/3", &b)
		for _, k := range []string{"name", "vlan", "type", "allowedVlans", "poeEnabled", "enabled", "stpGuard", "tags"} {
			if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
				t.Errorf("port 3 %s = %v, source port 2 has %v", k, b[k], a[k])
			}
		}

		all := e.run("Copy Meraki Switch Port Configurations", "Input - Source Switch Serial Number="+src.Serial,
			"Input - Target Switch Serial Number="+switches[2].Serial, "Input - Copy All Ports boolean=true")
		mustSucceed(t, all)
		var sp, tp []map[string]any
		e.api("/devices/"+src.Serial+"/switch/ports", &sp)
		e.api("/devices/"+switches[2].Serial+"/switch/ports", &tp)
		for i := range min(len(sp), len(tp)) {
			for _, k := range []string{"name", "vlan", "type", "allowedVlans", "poeEnabled"} {
				if fmt.Sprint(sp[i][k]) != fmt.Sprint(tp[i][k]) {
					t.Errorf("copy all: port %v %s = %v, source has %v", tp[i]["portId"], k, tp[i][k], sp[i][k])
				}
			}
		}
	})

	t.Run("SiteHandoffChecklist", func(t *testing.T) {
		site := siteWith(t, networks, devices, "switch", "appliance")
		v := e.run("Site Handoff Checklist", "Organization ID or Name=Acme", "Network Name="+site.Name)
		mustSucceed(t, v)
		res := fmt.Sprint(v.Outputs["Result"])
		for _, d := range devices {
			if d.NetworkID == site.ID && !strings.Contains(res, d.Serial) && !strings.Contains(res, d.Name) {
				t.Errorf("the checklist does not name device %s (%s):\n%s", d.Name, d.Serial, res)
			}
		}
		if !strings.Contains(res, "Port Results for Device") || !strings.Contains(res, "Appliance Device Type Results") {
			t.Errorf("the checklist has no switch port or appliance results:\n%s", res)
		}
		// The checks read the network's VLANs and the appliances' uplinks
		// through Cisco's atomics, and the sandbox answered them.
		for _, call := range []string{"Meraki - Get Network Appliance VLANs", "Meraki - Get Organization Appliance Uplink Statuses", "Meraki - Get Device Switch Ports"} {
			ran := false
			for _, a := range v.Activities {
				if a.Type == "meraki.api_request" && a.Title == call {
					ran = true
					if a.Status != "succeeded" {
						t.Errorf("%s: %s %s", call, a.Status, a.Error)
					}
				}
			}
			if !ran {
				t.Errorf("the checklist never called %s", call)
			}
		}
	})

	t.Run("WebServices", func(t *testing.T) { webServiceSamples(t, e) })

	t.Run("NestedLoopExample", func(t *testing.T) {
		v := e.run("Nested Loop Example")
		mustSucceed(t, v)
		// The outer loop runs while Network Counter < 2000, the inner one
		// while Loop Iterator < 500, each inner pass adding 1 to both and
		// each outer pass resetting the iterator: 4 outer passes, 2,000
		// inner ones.
		runs := map[string]int{}
		for _, a := range v.Activities {
			runs[a.Title]++
		}
		if runs["Nested Inner While Loop"] != 4 || runs["Set Variables"] != 2000 || runs["Reset Loop Iterator"] != 4 || runs["Outer While Loop"] != 1 {
			t.Errorf("loop executions %v, want 1 outer, 4 inner loops, 2000 increments, 4 resets", runs)
		}
	})
}

func put(t *testing.T, e *wfEnvT, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, e.issuer+"/api/v1"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, b)
	}
}

// fakeWeb answers like jsonplaceholder.typicode.com and
// api.openweathermap.org for the Learning Series and weather samples.
func fakeWeb(t *testing.T) (*httptest.Server, *[]string) {
	var seen []string
	users := `[{"id":1,"name":"Leanne Graham","username":"Bret","email":"Sincere@april.biz"},
		{"id":2,"name":"Ervin Howell","username":"Antonette","email":"Shanna@melissa.tv"},
		{"id":3,"name":"Clementine Bauch","username":"Samantha","email":"Nathan@yesenia.net"}]`
	posts := `[{"userId":1,"id":1,"title":"sunt aut facere"},{"userId":1,"id":2,"title":"qui est esse"}]`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.RequestURI())
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Path {
		case "/users":
			_, _ = io.WriteString(w, users)
		case "/posts":
			_, _ = io.WriteString(w, posts)
		case "/data/2.5/weather":
			if r.URL.Query().Get("zip") != "90210,us" || r.URL.Query().Get("units") != "imperial" {
				http.Error(w, `{"cod":"404","message":"city not found"}`, http.StatusNotFound)
				return
			}
			_, _ = io.WriteString(w, `{"weather":[{"id":800,"main":"Clear","description":"clear sky"}],"main":{"temp":72.3},"name":"Beverly Hills","cod":200}`)
		default:
			http.Error(w, "{}", http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func webServiceSamples(t *testing.T, e *wfEnvT) {
	srv, seen := fakeWeb(t)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	var targets []workflow.TargetView
	e.json(&targets, "target", "list", "--tenant", e.tenant, "--as", e.email, "--json")
	edited := 0
	for _, tg := range targets {
		if tg.Type != "web-service.endpoint" {
			continue
		}
		if tg.Host != "jsonplaceholder.typicode.com" && tg.Host != "api.openweathermap.org" {
			t.Errorf("imported target %+v", tg)
		}
		e.ok("target", "update", "--id", tg.ID, "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--protocol", "http", "--as", e.email)
		edited++
	}
	if edited != 2 {
		t.Fatalf("%d web-service targets, want JSON Placeholder and OpenWeatherMap: %+v", edited, targets)
	}

	v := e.run("JSON Placeholder Web Service")
	mustSucceed(t, v)
	if !slices.Contains(*seen, "GET /users") {
		t.Errorf("the fake service saw %v", *seen)
	}

	v = e.run("JSON Placeholder Web Service - Find it")
	mustSucceed(t, v)
	if got := v.Outputs["Output - Matching Result"]; got != "Sincere@april.biz" {
		t.Errorf("Find it: matching result %v, want Leanne Graham's email (outputs %v)", got, v.Outputs)
	}
	v = e.run("JSON Placeholder Web Service - Find it", "operation=posts", "Matching Field=2")
	mustSucceed(t, v)
	if got := v.Outputs["Output - Matching Result"]; got != "qui est esse" {
		t.Errorf("Find it (posts): matching result %v, want post 2's title", got)
	}
	v = e.run("JSON Placeholder Web Service - Find it", "operation=comments")
	if !strings.Contains(v.ResultMessage+v.Error+fmt.Sprint(v.Outputs), "Invalid Operation Passed to Workflow : comments") {
		t.Errorf("Find it (unknown operation): %s %q %q %v", v.Status, v.ResultMessage, v.Error, v.Outputs)
	}

	v = e.run("JSON Placeholder Web Service++ ")
	mustSucceed(t, v)
	if res := fmt.Sprint(v.Outputs["Output - Results"]); !strings.Contains(res, "Clementine Bauch") {
		t.Errorf("++: results %q", res)
	}

	// The prompt: the run waits, the answer comes through `run answer`.
	v = e.run("JSON Placeholder Web Service - User Prompt")
	if v.Status != "waiting" || v.Prompt == nil || len(v.Prompt.Fields) != 1 || v.Prompt.Fields[0].Label != "Usernames" {
		t.Fatalf("user prompt: %s %+v", v.Status, v.Prompt)
	}
	if opts := v.Prompt.Fields[0].Options; !slices.Contains(opts, "Ervin Howell") || len(opts) != 3 {
		t.Errorf("prompt options %v, want the three user names", opts)
	}
	code, _, errs := e.cli("run", "answer", "--id", v.ID, "--as", e.email, "--field", "Usernames=Nobody")
	if code != 1 || !strings.Contains(errs, "not one of the choices") {
		t.Errorf("an answer outside the choices: exit %d %s", code, errs)
	}
	var answered workflow.RunView
	e.json(&answered, "run", "answer", "--id", v.ID, "--as", e.email, "--field", "Usernames=Ervin Howell", "--wait", "--json")
	mustSucceed(t, answered)
	if got := answered.Outputs["Output - Matching Result"]; got != "Shanna@melissa.tv" {
		t.Errorf("after the answer: matching result %v, want Ervin Howell's email (outputs %v)", got, answered.Outputs)
	}
	calls := 0
	for _, s := range *seen {
		if s == "GET /users" {
			calls++
		}
	}
	if calls != 4 { // the first sample, Find it, ++, and the prompt run once: the resumed run did not call again
		t.Errorf("GET /users was called %d times, want 4 (a resumed run replays its request): %v", calls, *seen)
	}

	v = e.run("Get Weather", "zip=90210")
	mustSucceed(t, v)
	if v.Outputs["City"] != "Beverly Hills" || v.Outputs["Current Conditions"] != "clear sky" {
		t.Errorf("weather: outputs %v", v.Outputs)
	}
}

// siteWith is a network that has devices of every given product type.
func siteWith(t *testing.T, networks []network, devices []device, types ...string) network {
	t.Helper()
	n, ok := findSite(networks, devices, types...)
	if !ok {
		t.Fatalf("no seeded network has devices of types %v", types)
	}
	return n
}

func findSite(networks []network, devices []device, types ...string) (network, bool) {
	for _, n := range networks {
		has := map[string]bool{}
		for _, d := range devices {
			if d.NetworkID == n.ID {
				has[d.ProductType] = true
			}
		}
		all := true
		for _, ty := range types {
			all = all && has[ty]
		}
		if all {
			return n, true
		}
	}
	return network{}, false
}

// Roles at the command line: tenant role sets one (tenant_admin needs
// full access), and a refused command exits with status 3.
func TestWorkflowRoleCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := []string{"--data-dir", dir}
	run := func(args ...string) (int, string, string) { return grantflow(t, append(args, st...)...) }
	code, out, errs := run("org", "create", "--name", "Acme", "--json")
	var org struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(out), &org) != nil {
		t.Fatalf("org create: %s %s", out, errs)
	}
	for _, a := range []struct{ email, access string }{{"boss@example.com", "full"}, {"ro@example.com", "read-only"}, {"op@example.com", "full"}} {
		if code, _, errs := run("admin", "create", "--org", org.ID, "--email", a.email, "--password", testPassword, "--access", a.access); code != 0 {
			t.Fatalf("admin create: %s", errs)
		}
	}
	code, out, errs = run("tenant", "create", "--org", org.ID, "--json")
	var tenant struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(out), &tenant) != nil {
		t.Fatalf("tenant create: %s %s", out, errs)
	}
	if code, _, errs := run("tenant", "role", "--tenant", tenant.ID, "--email", "ro@example.com", "--role", "tenant_admin"); code != 1 || !strings.Contains(errs, "full organization access") {
		t.Errorf("tenant_admin for a read-only admin: exit %d %s", code, errs)
	}
	if code, _, errs := run("tenant", "role", "--tenant", tenant.ID, "--email", "op@example.com", "--role", "operator"); code != 0 {
		t.Fatalf("tenant role: %s", errs)
	}
	if code, _, errs := run("tenant", "role", "--tenant", tenant.ID, "--email", "boss@example.com", "--role", "viewer", "--as", "op@example.com"); code != 3 {
		t.Errorf("an operator changing roles: exit %d %s", code, errs)
	}
	file := filepath.Join(dir, "wf.json")
	if err := os.WriteFile(file, []byte(`{"workflow": {"unique_name": "definition_workflow_x", "name": "X", "actions": []}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"op@example.com", "ro@example.com"} {
		code, _, errs := grantflow(t, append(append([]string{"workflow", "import", "--tenant", tenant.ID, "--as", who}, st...), file)...)
		if code != 3 || !strings.Contains(errs, "may not import workflows") {
			t.Errorf("import as %s: exit %d %s", who, code, errs)
		}
	}
	code, out, errs = grantflow(t, append(append([]string{"workflow", "import", "--tenant", tenant.ID, "--as", "boss@example.com", "--json"}, st...), file)...)
	if code != 0 || !strings.Contains(out, `"runnable": true`) {
		t.Errorf("import as the tenant_admin: exit %d %s %s", code, out, errs)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"workflow": []}`), 0o600)
	code, out, _ = grantflow(t, append(append([]string{"workflow", "import", "--tenant", tenant.ID, "--json"}, st...), bad)...)
	if code != 1 || !strings.Contains(out, `"path": "workflow"`) {
		t.Errorf("a file that is not an export: exit %d %s", code, out)
	}
}
