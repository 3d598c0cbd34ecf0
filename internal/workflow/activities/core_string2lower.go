package activities

import (
	"context"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// core.string2lower ("String to Lowercase", FORMAT.md §3.20) publishes
// source in lower case (Unicode) as lowercase_text.
var string2Lower = engine.Type{Name: "core.string2lower", Compile: func(a *export.Activity) (engine.Activity, error) {
	source := textProp(a.Props, "source")
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		s := x.Text(source)
		x.Input("source", s)
		return engine.Output{"lowercase_text": strings.ToLower(s)}, nil
	}), nil
}}
