package activities

import (
	"context"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// core.string2upper ("String to Uppercase", FORMAT.md §3.20) publishes
// source in upper case (Unicode) as uppercase_text.
var string2Upper = engine.Type{Name: "core.string2upper", Compile: func(a *export.Activity) (engine.Activity, error) {
	source := textProp(a.Props, "source")
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		s := x.Text(source)
		x.Input("source", s)
		return engine.Output{"uppercase_text": strings.ToUpper(s)}, nil
	}), nil
}}
