package activities

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// core.find_string ("Find String", FORMAT.md §3.20) reports in has_match
// whether source contains searched_string (case-sensitive), and in index
// where it starts, in characters (-1 when it does not). An empty
// searched_string is found at 0.
var findString = engine.Type{Name: "core.find_string", Compile: func(a *export.Activity) (engine.Activity, error) {
	source := textProp(a.Props, "source")
	searched := textProp(a.Props, "searched_string")
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		s, sub := x.Text(source), x.Text(searched)
		x.Input("source", s)
		x.Input("searched_string", sub)
		i := strings.Index(s, sub)
		if i > 0 {
			i = utf8.RuneCountInString(s[:i])
		}
		return engine.Output{"has_match": i >= 0, "index": int64(i)}, nil
	}), nil
}}
