package activities

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// core.splitstring ("Split String", FORMAT.md §3.20) splits input_string
// at every occurrence of any of boundaries ({"boundary": ","}) and
// publishes the pieces as parts (parts[0], parts[-1]). A boundary is
// plain text in which \n, \t and \\ are the characters (the UI writes a
// newline boundary as "\\n" in the JSON), or with use_regexp a Go regular
// expression. remove_empty drops empty pieces. No boundary leaves the
// string whole.
var splitString = engine.Type{Name: "core.splitstring", Compile: func(a *export.Activity) (engine.Activity, error) {
	input := textProp(a.Props, "input_string")
	list, _ := a.Props["boundaries"].([]any)
	bounds := make([]expr.Template, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("boundaries[%d] is not an object", i)
		}
		bounds = append(bounds, textProp(m, "boundary"))
	}
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		s := x.Text(input)
		useRE, err := flagProp(x, a.Props, "use_regexp", false)
		if err != nil {
			return nil, engine.Failf("%v", err)
		}
		removeEmpty, err := flagProp(x, a.Props, "remove_empty", false)
		if err != nil {
			return nil, engine.Failf("%v", err)
		}
		alts := make([]string, 0, len(bounds))
		shown := make([]any, 0, len(bounds))
		for _, b := range bounds {
			var t string
			if useRE {
				t = x.Text(b)
			} else {
				t = literalText(x, b)
			}
			if t == "" {
				continue
			}
			shown = append(shown, t)
			if useRE {
				alts = append(alts, "(?:"+t+")")
			} else {
				alts = append(alts, regexp.QuoteMeta(t))
			}
		}
		x.Input("input_string", s)
		x.Input("boundaries", shown)
		x.Input("use_regexp", useRE)
		x.Input("remove_empty", removeEmpty)
		pieces := []string{s}
		if len(alts) > 0 {
			re, err := regexp.Compile(strings.Join(alts, "|"))
			if err != nil {
				return nil, engine.Failf("boundary is not a valid regular expression: %v", err)
			}
			pieces = re.Split(s, -1)
		}
		parts := make([]any, 0, len(pieces))
		for _, p := range pieces {
			if p == "" && removeEmpty {
				continue
			}
			parts = append(parts, p)
		}
		return engine.Output{"parts": parts}, nil
	}), nil
}}
