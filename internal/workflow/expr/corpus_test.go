package expr

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// samplesDir holds real Cisco Workflows exports; EXPR_SAMPLES overrides it.
// The test skips when the directory is not there.
func samplesDir(t *testing.T) string {
	dir := os.Getenv("EXPR_SAMPLES")
	if dir == "" {
		dir = "/work/shared/workflows/cisco-samples"
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no sample exports at %s (set EXPR_SAMPLES)", dir)
	}
	return dir
}

// TestCorpus parses every string, condition and where clause of the sample
// exports: no reference is malformed, rendering with nothing known gives the
// string back, every condition compiles, and every where clause parses once
// its references are filled in.
func TestCorpus(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join(samplesDir(t), "*.json"))
	if len(files) == 0 {
		t.Skip("no exports")
	}
	unknown := ResolverFunc(func(Ref) (any, bool) { return nil, false })
	filler := ResolverFunc(func(Ref) (any, bool) { return "x", true })
	var nStrings, nRefs, nConds, nWhere int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := filepath.Base(f)
		walkJSON(doc, "", func(path string, v any) {
			switch x := v.(type) {
			case string:
				nStrings++
				tmpl := Parse(x)
				if got := tmpl.Render(unknown); got != x {
					t.Errorf("%s %s: Render with nothing known changed the string", name, path)
				}
				for _, r := range tmpl.refs {
					nRefs++
					if !r.WellFormed() {
						t.Errorf("%s %s: malformed reference %q", name, path, r.Raw)
					}
				}
				if strings.HasSuffix(path, ".where_clause") {
					nWhere++
					if _, err := ParseWhere(tmpl.Render(filler)); err != nil {
						t.Errorf("%s %s: %v", name, path, err)
					}
				}
			case map[string]any:
				if _, ok := x["operator"]; ok && strings.HasSuffix(path, ".condition") {
					nConds++
					if p := CheckCondition(x); len(p) != 0 {
						t.Errorf("%s %s: %v", name, path, p)
					}
				}
			}
		})
	}
	t.Logf("%d files, %d strings, %d references, %d conditions, %d where clauses", len(files), nStrings, nRefs, nConds, nWhere)
	if nRefs == 0 || nConds == 0 || nWhere == 0 {
		t.Errorf("the samples held no references, conditions or where clauses")
	}
}

func walkJSON(v any, path string, visit func(string, any)) {
	visit(path, v)
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walkJSON(e, path+"."+k, visit)
		}
	case []any:
		for _, e := range x {
			walkJSON(e, path+"[]", visit)
		}
	}
}
