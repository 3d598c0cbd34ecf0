package expr

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "$", "$$", "$.data", localX, siteID, itemMac, localX + "+1",
		"?$select=" + inputY + ",id", "$activity.For Each Security EVENT.input.Source Array[@].canonicalName$",
		"$workflow.", "$workflow.x.y.z[", "$workflow.x.y.z[-1][@]]$", "$output.task_id$", "${id}", "$global.a.global.a[99999999999]$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, o := range []Options{{}, {EventOutput: true}} {
			tmpl := ParseWith(s, o)
			unknown := ResolverFunc(func(Ref) (any, bool) { return nil, false })
			if got := tmpl.Render(unknown); got != s {
				t.Fatalf("Render with nothing known = %q, want %q", got, s)
			}
			if tmpl.Literal() {
				if got := tmpl.Render(values{}); got != s {
					t.Fatalf("literal Render = %q, want %q", got, s)
				}
				continue
			}
			for _, r := range tmpl.Refs() {
				if !strings.HasPrefix(r.Raw, "$"+r.Root+".") || !strings.HasSuffix(r.Raw, "$") {
					t.Fatalf("ref %+v has a bad Raw", r)
				}
				_ = r.WellFormed()
				_ = r.String()
				_, _ = Walk(map[string]any{}, r.Path)
			}
		}
	})
}

func FuzzWhere(f *testing.F) {
	for _, s := range []string{"", "a == 'b'", "id == 3 AND (x > 2 OR y <= '2024-01-01T00:00:00Z')", "a == [b", "(((", "a = b c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWhere(s)
		if err == nil {
			w.Match(map[string]any{"a": "b", "id": int64(3)})
		}
	})
}

func FuzzArith(f *testing.F) {
	for _, s := range []string{"5", "-(3600 * 2)", "1/0", "((1)", "9223372036854775807+1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Arith(s)
	})
}
