package activities

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// python3.script ("Execute Python Script") runs script in a separate
// python3 process (FORMAT.md §7). References in the source are
// substituted as text first; script_arguments, rendered, are
// sys.argv[1:]. Everything the script prints is output.response_body;
// after it ends (also by sys.exit(0)) each script_queries entry reads the
// module variable script_query, coerced to script_query_type, into
// output.script_queries.<script_query_name> (a variable the script never
// set gives the type's zero value; one set to None is "None" as a
// string). A non-zero exit or an uncaught
// exception fails the activity with the last lines of the traceback.
//
// The script runs as __main__ in a fresh module, under a runner
// (python3_script_runner.py) that takes the job on stdin and gives the
// queried variables back on fd 3, so prints never mix with them. The
// sandbox: python3 -I (no PYTHON* variables, no user site-packages), an
// environment of PATH, LANG, MALLOC_ARENA_MAX and a HOME and TMPDIR in
// the working directory (so that requests finds no ~/.netrc of
// grantflow's user),
// nothing of grantflow's environment and no open file of it, an empty
// temporary working directory removed afterwards, an address-space limit
// ([pythonMemory]) and a file-size limit, and its own process group,
// killed at action_timeout and when the script ends (its background
// children with it). Network access is left open: scripts call APIs with
// requests.
var pythonScript = engine.Type{Name: "python3.script", Effect: true, Compile: func(a *export.Activity) (engine.Activity, error) {
	src, _ := a.Props["script"].(string)
	c := &pyCall{script: expr.Parse(src)}
	switch v := a.Props["script_arguments"].(type) {
	case nil:
	case []any:
		for i, e := range v {
			switch s := e.(type) {
			case string:
				c.args = append(c.args, expr.Parse(s))
			case nil:
				c.args = append(c.args, expr.Parse(""))
			default:
				return nil, fmt.Errorf("script_arguments[%d] is not a string", i)
			}
		}
	default:
		return nil, errors.New("script_arguments is not a list")
	}
	if v, ok := a.Props["script_queries"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			return nil, errors.New("script_queries is not a list")
		}
		for i, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("script_queries[%d] is not an object", i)
			}
			q := pyQuery{}
			q.variable, _ = m["script_query"].(string)
			q.name, _ = m["script_query_name"].(string)
			q.typ, _ = m["script_query_type"].(string)
			q.variable = strings.TrimSpace(q.variable)
			if q.variable == "" {
				return nil, fmt.Errorf("script_queries[%d] names no Python variable (script_query)", i)
			}
			if q.name == "" {
				q.name = q.variable
			}
			c.queries = append(c.queries, q)
		}
	}
	return engine.ActivityFunc(c.run), nil
}}

// pythonMemory is the script's address-space limit (RLIMIT_AS), and
// pythonFileSize the largest file it may write.
const (
	pythonMemory   = 512 << 20
	pythonFileSize = 256 << 20
)

//go:embed python3_script_runner.py
var pythonRunner string

type pyCall struct {
	script  expr.Template
	args    []expr.Template
	queries []pyQuery
}

type pyQuery struct {
	variable, name, typ string
}

type pyJob struct {
	Script   string   `json:"script"`
	Argv     []string `json:"argv"`
	Queries  []string `json:"queries"`
	Memory   int64    `json:"memory"`
	FileSize int64    `json:"file_size"`
}

type pyResult struct {
	Exit    int                        `json:"exit"`
	Values  map[string]json.RawMessage `json:"values"`
	Missing []string                   `json:"missing"`
}

func (c *pyCall) run(ctx context.Context, x *engine.X) (engine.Output, error) {
	py, err := pythonPath(x.Python())
	if err != nil {
		return nil, err
	}
	job := pyJob{Script: x.Text(c.script), Argv: make([]string, len(c.args)), Queries: make([]string, 0, len(c.queries)), Memory: pythonMemory, FileSize: pythonFileSize}
	shown := make([]string, len(c.args))
	for i, t := range c.args {
		job.Argv[i] = x.Text(t)
		shown[i] = job.Argv[i]
		if secretRefs(x, t) {
			shown[i] = export.Mask
		}
	}
	for _, q := range c.queries {
		job.Queries = append(job.Queries, q.variable)
	}
	x.Input("script_arguments", shown)
	in, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp("", "grantflow-python-")
	if err != nil {
		return nil, fmt.Errorf("python3.script: %w", err)
	}
	defer removeTree(dir)
	// The results file has no name: the script cannot find it, only
	// inherit it as fd 3 (which the runner keeps from its children).
	res, err := os.CreateTemp("", "grantflow-python-result-")
	if err != nil {
		return nil, fmt.Errorf("python3.script: %w", err)
	}
	os.Remove(res.Name())
	defer res.Close()

	limit := x.Limits().VariableSize
	stdout := &cappedBuffer{limit: limit}
	stderr := &tailBuffer{max: 16 << 10}
	cmd := exec.CommandContext(ctx, py, "-I", "-B", "-X", "utf8", "-c", pythonRunner)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8", "HOME=" + dir, "TMPDIR=" + dir,
		// Under an address-space limit glibc's 64 MB arena per thread
		// would starve a script that starts a few threads.
		"MALLOC_ARENA_MAX=2"}
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.ExtraFiles = []*os.File{res}
	cmd.WaitDelay = 2 * time.Second
	ownGroup(cmd)
	runErr := cmd.Run()
	killGroup(cmd)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	out := engine.Output{"response_body": stdout.String()}
	if stdout.n > limit {
		return nil, &engine.Failure{Message: fmt.Sprintf("the script printed %d bytes; a variable holds at most %d", stdout.n, limit), Code: "variable_size"}
	}
	if runErr != nil {
		return out, scriptFailure(runErr, stderr.String())
	}

	var r pyResult
	if _, err := res.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("python3.script: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(res, int64(len(c.queries)+1)*int64(limit)+4096))
	if err != nil {
		return nil, fmt.Errorf("python3.script: %w", err)
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r); err != nil {
			return out, engine.Failf("the script's variables could not be read: %v", err)
		}
	}
	queries := make(map[string]any, len(c.queries))
	for _, q := range c.queries {
		v, err := q.value(r.Values[q.variable])
		if err != nil {
			return out, err
		}
		if s, ok := v.(string); ok && len(s) > limit {
			return out, &engine.Failure{Message: fmt.Sprintf("script query %s holds %d bytes; a variable holds at most %d", q.name, len(s), limit), Code: "variable_size"}
		}
		queries[q.name] = v
	}
	out["script_queries"] = queries
	return out, nil
}

// pythonPath finds the interpreter: the configured one, else python3 on PATH.
func pythonPath(configured string) (string, error) {
	name := configured
	if name == "" {
		name = "python3"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		msg := "python3 is not installed on this server, so Python scripts cannot run"
		if configured != "" {
			msg = fmt.Sprintf("the configured Python interpreter %s cannot be run (%v), so Python scripts cannot run", configured, err)
		}
		return "", &engine.Failure{Message: msg, Code: "python_missing"}
	}
	return p, nil
}

// secretRefs reports whether a template names a secure-string variable.
func secretRefs(x *engine.X, t expr.Template) bool {
	for _, r := range t.Refs() {
		if x.VariableType(r) == "datatype.secure_string" {
			return true
		}
	}
	return false
}

// scriptFailure words a failed script: the end of what it wrote to stderr
// (the traceback), else how it ended.
func scriptFailure(err error, stderr string) error {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, "\r"))
		}
	}
	if len(lines) > 6 {
		lines = lines[len(lines)-6:]
	}
	how := err.Error()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		how = "exit status " + strconv.Itoa(ee.ExitCode())
	}
	if len(lines) == 0 {
		return &engine.Failure{Message: "the script failed (" + how + ")", Code: "script"}
	}
	return &engine.Failure{Message: "the script failed (" + how + "): " + strings.Join(lines, "\n"), Code: "script"}
}

// value coerces a queried variable (JSON from the runner; nil when the
// script never set it) to the query's type.
func (q pyQuery) value(raw json.RawMessage) (any, error) {
	var v any
	if len(raw) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, engine.Failf("script query %s: %v", q.name, err)
		}
		v = export.Normalize(v)
	}
	bad := func(want string) error {
		return engine.Failf("script query %s: %s is not %s", q.name, strconv.Quote(expr.Text(v)), want)
	}
	switch strings.ToLower(strings.TrimSpace(q.typ)) {
	case "integer":
		switch n := v.(type) {
		case nil:
			return int64(0), nil
		case int64:
			return n, nil
		case float64:
			return int64(n), nil
		case bool:
			if n {
				return int64(1), nil
			}
			return int64(0), nil
		case string:
			s := strings.TrimSpace(n)
			if s == "" {
				return int64(0), nil
			}
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i, nil
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return int64(f), nil
			}
		}
		return nil, bad("an integer")
	case "number":
		switch n := v.(type) {
		case nil:
			return float64(0), nil
		case int64:
			return float64(n), nil
		case float64:
			return n, nil
		case string:
			s := strings.TrimSpace(n)
			if s == "" {
				return float64(0), nil
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f, nil
			}
		}
		return nil, bad("a number")
	case "boolean":
		switch b := v.(type) {
		case nil:
			return false, nil
		case bool:
			return b, nil
		case int64:
			return b != 0, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(b)) {
			case "true", "1", "yes":
				return true, nil
			case "false", "0", "no", "", "none":
				return false, nil
			}
		}
		return nil, bad("true or false")
	case "array":
		switch a := v.(type) {
		case nil:
			return []any{}, nil
		case []any:
			return a, nil
		case string:
			if strings.TrimSpace(a) == "" {
				return []any{}, nil
			}
			if l, err := elements(a); err == nil {
				return l, nil
			}
			return nil, bad("a JSON array")
		}
		return []any{v}, nil
	}
	// string, secure_string, date and types grantflow does not know.
	if v == nil && len(raw) > 0 {
		switch strings.ToLower(strings.TrimSpace(q.typ)) {
		case "string", "secure_string":
			// The script set the variable to None: the product passes
			// str(None), and real exports test for it (error = None …
			// condition "Error ne None"). A variable never set stays "".
			return "None", nil
		}
	}
	return expr.Text(v), nil
}

// cappedBuffer keeps the first limit+1 bytes written and counts the rest,
// so a chatty script is never blocked on its output.
type cappedBuffer struct {
	buf   bytes.Buffer
	limit int
	n     int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.limit + 1 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	b.n += len(p)
	return len(p), nil
}

func (b *cappedBuffer) String() string { return b.buf.String() }

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string { return string(b.buf) }

// removeTree removes the working directory even when the script took
// the permissions off what it made there.
func removeTree(dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	_ = os.RemoveAll(dir)
}
