package activities_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// needPython skips a test when python3 is missing, unless CI=true or
// GRANTFLOW_REQUIRE_PYTHON=1 asks for it to fail instead.
func needPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("GRANTFLOW_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required here (CI or GRANTFLOW_REQUIRE_PYTHON) but not found: %v", err)
		}
		t.Skip("python3 is not installed; set GRANTFLOW_REQUIRE_PYTHON=1 to make this a failure")
	}
}

// pyRun runs one python3.script with script, arguments and queries
// ({script_query, script_query_name, script_query_type} triples).
func pyRun(t *testing.T, script string, args []string, queries [][3]string, props map[string]any) *engine.Record {
	t.Helper()
	p := map[string]any{"script": script}
	if args != nil {
		l := make([]any, len(args))
		for i, a := range args {
			l[i] = a
		}
		p["script_arguments"] = l
	}
	var qs []any
	for _, q := range queries {
		qs = append(qs, map[string]any{"script_query": q[0], "script_query_name": q[1], "script_query_type": q[2]})
	}
	p["script_queries"] = qs
	for k, v := range props {
		p[k] = v
	}
	vars := []ioVar{{"first", "input", "datatype.integer", 10}, {"second", "input", "datatype.integer", 20}, {"third", "input", "datatype.integer", 30},
		{"key", "input", "datatype.secure_string", "k3y"}}
	return ioOne(t, nil, "python3.script", p, vars...)
}

// samplePython is Cisco's "Python Script Activity Example" script with
// its variable references pointed at the test workflow's inputs.
const samplePython = `# Use the Workflows variable mapper to map variables
first_number = FIRST
second_number = SECOND
third_number = THIRD

def calculate_sum(a, b, c):
    """
    Returns the sum of three numbers.
    """
    return a + b + c

def calculate_average(a, b, c):
    """
    Returns the average of three numbers.
    """
    return int(float(a + b + c) / 3)

def calculate_product(a, b, c):
    """
    Returns the product of three numbers.
    """
    return a * b * c

average = calculate_average(first_number, second_number, third_number)
product = calculate_product(first_number, second_number, third_number)
total_sum = calculate_sum(first_number, second_number, third_number)

# The output of the print commands will be shown in the Response Body of the Activity
print("average: ", average)
print("product: ", product)
print("sum: ", total_sum)
`

var sampleQueries = [][3]string{{"average", "average", "integer"}, {"product", "product", "integer"}, {"total_sum", "total_sum", "integer"}}

func TestPythonScriptSamples(t *testing.T) {
	t.Parallel()
	needPython(t)
	inline := strings.NewReplacer("FIRST", ioRef("input", "first"), "SECOND", ioRef("input", "second"), "THIRD", ioRef("input", "third")).Replace(samplePython)
	withArgs := "import sys\n" + strings.NewReplacer("FIRST", "int(sys.argv[1])", "SECOND", "int(sys.argv[2])", "THIRD", ioRef("input", "third")).Replace(samplePython)
	for name, tc := range map[string]struct {
		script string
		args   []string
	}{
		"inline references": {inline, nil},
		"script arguments":  {withArgs, []string{ioRef("input", "first"), ioRef("input", "second")}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := pyRun(t, tc.script, tc.args, sampleQueries, nil)
			if r.Status != engine.StatusSucceeded {
				t.Fatalf("%s: %s", r.Status, r.Error)
			}
			q, _ := r.Output["script_queries"].(map[string]any)
			if q["average"] != int64(20) || q["product"] != int64(6000) || q["total_sum"] != int64(60) {
				t.Errorf("script_queries %v", q)
			}
			if r.Output["response_body"] != "average:  20\nproduct:  6000\nsum:  60\n" {
				t.Errorf("response_body %q", r.Output["response_body"])
			}
		})
	}
}

// The Learning Series exports themselves, unchanged, when they are at
// hand (WORKFLOW_SAMPLES or /work/shared/workflows/cisco-samples).
func TestPythonScriptSampleExports(t *testing.T) {
	t.Parallel()
	needPython(t)
	dir := os.Getenv("WORKFLOW_SAMPLES")
	if dir == "" {
		dir = "/work/shared/workflows/cisco-samples"
	}
	for _, name := range []string{"PythonScriptActivityExample.json", "PythonScriptActivityExampleWithScriptArguments.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Skipf("no sample exports in %s (set WORKFLOW_SAMPLES)", dir)
		}
		f, err := export.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := ioRun(t, f.Workflow, nil)
		if res.Status != engine.RunSucceeded {
			t.Fatalf("%s: %s %s", name, res.Status, res.Error)
		}
		got := map[string]any{}
		for _, v := range f.Workflow.Variables {
			if v.Scope == export.ScopeOutput {
				got[v.Name] = res.Outputs[v.ID]
			}
		}
		if got["Output - average"] != int64(20) || got["Output - product"] != int64(6000) || got["Output - sum"] != int64(60) {
			t.Errorf("%s: outputs %v", name, got)
		}
	}
}

func TestPythonScriptQueries(t *testing.T) {
	t.Parallel()
	needPython(t)
	script := `import datetime, sys
diffs = {"port": [1, 2]}
flag = True
ratio = 2.5
when = datetime.datetime(2024, 5, 1, 12, 30)
names = ["a", "b"]
names_json = '["x", "y"]'
count = "7"
none = None
print(sys.argv[1:])
sys.exit(0)
never = 1
`
	queries := [][3]string{
		{"diffs", "portDiffs", "string"}, {"flag", "flag", "boolean"}, {"ratio", "ratio", "number"}, {"when", "when", "date"},
		{"names", "names", "array"}, {"names_json", "fromJSON", "array"}, {"count", "rule_total ", "integer"},
		{"none", "none", "string"}, {"never", "never", "integer"}, {"flag", "flagText", "string"}, {"count", "secret", "secure_string"},
	}
	r := pyRun(t, script, []string{"plain", ioRef("input", "first"), ioRef("input", "key")}, queries, nil)
	if r.Status != engine.StatusSucceeded {
		t.Fatalf("%s: %s", r.Status, r.Error)
	}
	q, _ := r.Output["script_queries"].(map[string]any)
	want := map[string]any{"portDiffs": `{"port":[1,2]}`, "flag": true, "ratio": 2.5, "when": "2024-05-01T12:30:00",
		"rule_total ": int64(7), "none": "None", "never": int64(0), "flagText": "true", "secret": "7"}
	for k, w := range want {
		if q[k] != w {
			t.Errorf("%q = %#v, want %#v", k, q[k], w)
		}
	}
	if l, _ := q["names"].([]any); len(l) != 2 || l[1] != "b" {
		t.Errorf("names = %#v", q["names"])
	}
	if l, _ := q["fromJSON"].([]any); len(l) != 2 || l[0] != "x" {
		t.Errorf("fromJSON = %#v", q["fromJSON"])
	}
	if r.Output["response_body"] != "['plain', '10', 'k3y']\n" {
		t.Errorf("response_body %q: sys.argv[1:] are the rendered arguments", r.Output["response_body"])
	}
	if args, _ := r.Input["script_arguments"].([]string); len(args) != 3 || args[1] != "10" || args[2] != "*****" {
		t.Errorf("recorded arguments %v, want the secure string masked", r.Input["script_arguments"])
	}
}

func TestPythonScriptFailures(t *testing.T) {
	t.Parallel()
	needPython(t)
	tests := []struct {
		name, script string
		props        map[string]any
		want         []string
		within       time.Duration
	}{
		{name: "exception", script: "x = 1\nraise ValueError('boom')\n",
			want: []string{`File "script.py", line 2, in <module>`, "raise ValueError('boom')", "ValueError: boom"}},
		{name: "syntax error", script: "x = $workflow.nothing$\n", want: []string{"SyntaxError"}},
		{name: "exit status", script: "import sys\nprint('bye')\nsys.exit(3)\n", want: []string{"exit status 3"}},
		{name: "exit message", script: "import sys\nsys.exit('no devices found')\n", want: []string{"no devices found"}},
		{name: "memory limit", script: "x = bytearray(2 * 1024 ** 3)\n", want: []string{"MemoryError"}},
		{name: "timeout", script: "import subprocess, time\nsubprocess.Popen(['sleep', '30'])\ntime.sleep(30)\n",
			props: map[string]any{"action_timeout": 1}, want: []string{"timed out after 1s"}, within: 5 * time.Second},
		{name: "output limit", script: "print('x' * (1 << 20))\n", want: []string{"printed 1048577 bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := pyRun(t, tc.script, nil, nil, tc.props)
			msg := failed(r)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("failure %q, want it to hold %q", msg, w)
				}
			}
			if tc.within > 0 && time.Since(start) > tc.within {
				t.Errorf("took %s", time.Since(start))
			}
		})
	}
}

// The script sees nothing of grantflow: no environment variable, no
// working directory with files in it, no open file of the server's.
func TestPythonScriptSandbox(t *testing.T) {
	needPython(t)
	t.Setenv("GRANTFLOW_TEST_SECRET", "hunter2")
	secret, err := os.Create(filepath.Join(t.TempDir(), "grantflow-secret-file"))
	if err != nil {
		t.Fatal(err)
	}
	defer secret.Close()
	script := `import json, os, sys
fds = {}
for fd in os.listdir('/proc/self/fd'):
    try:
        fds[fd] = os.readlink('/proc/self/fd/' + fd)
    except OSError:
        pass
json.dump({"env": dict(os.environ), "cwd": os.getcwd(), "files": os.listdir('.'), "fds": fds, "path": sys.path, "flags": sys.flags.isolated}, sys.stdout)
open('left-behind.txt', 'w').write('x')
`
	r := pyRun(t, script, nil, nil, nil)
	if r.Status != engine.StatusSucceeded {
		t.Fatalf("%s: %s", r.Status, r.Error)
	}
	out := r.Output["response_body"].(string)
	var got struct {
		Env   map[string]string
		Cwd   string
		Files []string
		Fds   map[string]string
		Flags int
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for k, v := range got.Env {
		if strings.HasPrefix(k, "GRANTFLOW") || strings.Contains(v, "hunter2") {
			t.Errorf("the script sees %s=%s", k, v)
		}
	}
	if got.Env["PATH"] == "" || got.Env["LANG"] != "C.UTF-8" || got.Env["HOME"] != got.Cwd {
		t.Errorf("environment %v", got.Env)
	}
	if len(got.Files) != 0 {
		t.Errorf("working directory holds %v", got.Files)
	}
	if _, err := os.Stat(got.Cwd); !os.IsNotExist(err) {
		t.Errorf("working directory %s is still there (%v)", got.Cwd, err)
	}
	for fd, target := range got.Fds {
		if strings.Contains(target, "grantflow-secret-file") || (fd != "0" && fd != "1" && fd != "2" && fd != "3") {
			t.Errorf("the script has fd %s open on %s", fd, target)
		}
	}
	if got.Flags != 1 {
		t.Errorf("python3 does not run isolated (-I)")
	}
}

// A script's child processes die with it at the timeout.
func TestPythonScriptTimeoutKillsChildren(t *testing.T) {
	t.Parallel()
	needPython(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	script := "import subprocess, sys, time\np = subprocess.Popen(['sleep', '60'])\nopen(sys.argv[1], 'w').write(str(p.pid))\ntime.sleep(60)\n"
	r := pyRun(t, script, []string{pidFile}, nil, map[string]any{"action_timeout": 2})
	if !strings.Contains(failed(r), "timed out") {
		t.Fatalf("got %s %q", r.Status, failed(r))
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the script did not start its child: %v", err)
	}
	pid, _ := strconv.Atoi(string(b))
	deadline := time.Now().Add(3 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		// Gone, or a zombie nobody has reaped yet.
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d still runs: %s", pid, stat)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPythonScriptMissingInterpreter(t *testing.T) {
	t.Parallel()
	wf := ioExport(t, nil, ioAct{"a", "python3.script", map[string]any{"script": "print(1)"}})
	_, rec := ioRun(t, wf, nil, func(c *engine.Config, _ *engine.Run) { c.Python = filepath.Join(t.TempDir(), "python3") })
	if msg := failed(rec.of(t, "a")); !strings.Contains(msg, "cannot be run") || !strings.Contains(msg, "Python scripts cannot run") {
		t.Errorf("got %q", msg)
	}
}

func TestPythonScriptNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	wf := ioExport(t, nil, ioAct{"a", "python3.script", map[string]any{"script": "print(1)"}})
	_, rec := ioRun(t, wf, nil)
	if msg := failed(rec.of(t, "a")); msg != "python3 is not installed on this server, so Python scripts cannot run" {
		t.Errorf("got %q", msg)
	}
}

// A cancelled run stops the script at once.
func TestPythonScriptCancel(t *testing.T) {
	t.Parallel()
	needPython(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(500*time.Millisecond, func() { cancel(engine.ErrCancelled) })
	wf := ioExport(t, nil, ioAct{"a", "python3.script", map[string]any{"script": "import time\ntime.sleep(30)\n"}})
	start := time.Now()
	res, _ := ioRunCtx(ctx, t, wf, nil)
	if res.Status != engine.RunCancelled || time.Since(start) > 5*time.Second {
		t.Errorf("%s after %s", res.Status, time.Since(start))
	}
}

// TestPythonScriptNoneString: a string query of a variable the script set
// to None is "None", as in the product. SecureX exports build a result and
// an error variable that stays None on success, then branch on
// "Error ne None"; with "" every successful run would end failed.
func TestPythonScriptNoneString(t *testing.T) {
	t.Parallel()
	needPython(t)
	script := "import sys\nerror = None\nresult = ''\ntry:\n    result = {'a': 'x'}[sys.argv[1]]\nexcept KeyError as e:\n    error = e\n"
	py := func(arg string) string {
		return activity("py", "python3.script", jsonText(map[string]any{
			"script": script, "script_arguments": []any{arg},
			"script_queries": []any{
				map[string]any{"script_query": "result", "script_query_name": "Result", "script_query_type": "string"},
				map[string]any{"script_query": "error", "script_query_name": "Error", "script_query_type": "string"},
			},
		}))
	}
	branch := activity("check", "logic.if_else", `{}`)
	branch = strings.Replace(branch, `"properties": {}`, `"properties": {}, "blocks": [`+
		strings.Replace(activity("err", "logic.condition_block", jsonText(map[string]any{
			"condition": map[string]any{"left_operand": actRef("py", "script_queries.Error"), "operator": "ne", "right_operand": "None"},
		})), `"properties": {`, `"actions": [`+activity("fail", "logic.completed",
			`{"completion_type": "failed-completed", "result_message": "error: `+actRef("py", "script_queries.Error")+`"}`)+`], "properties": {`, 1)+`]`, 1)
	for _, c := range []struct{ arg, status, msg string }{
		{"a", engine.RunSucceeded, ""},
		{"b", engine.RunFailed, "error: 'b'"},
	} {
		res, rec := runExport(t, exportJSON(nil, py(c.arg), branch), nil)
		if res.Status != c.status || res.Message != c.msg {
			t.Errorf("argument %q: %s %q (%s), want %s %q", c.arg, res.Status, res.Message, res.Error, c.status, c.msg)
		}
		q, _ := rec.of(t, "py").Output["script_queries"].(map[string]any)
		if c.arg == "a" && (q["Error"] != "None" || q["Result"] != "x") {
			t.Errorf("script_queries = %#v, want Error None and Result x", q)
		}
	}
}
