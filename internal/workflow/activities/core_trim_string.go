package activities

import (
	"context"
	"strings"
	"unicode"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// core.trim_string ("Trim String", FORMAT.md §3.20) publishes source as
// trimmed, with the characters of characters_to_trim (any of them, in any
// number; white space when empty; \t and \n written in the property are
// the characters) removed from its start when trim_leading and its end
// when trim_trailing. Both flags absent trims both ends.
var trimString = engine.Type{Name: "core.trim_string", Compile: func(a *export.Activity) (engine.Activity, error) {
	source := textProp(a.Props, "source")
	chars := textProp(a.Props, "characters_to_trim")
	_, hasLead := a.Props["trim_leading"]
	_, hasTrail := a.Props["trim_trailing"]
	both := !hasLead && !hasTrail
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		s := x.Text(source)
		set := literalText(x, chars)
		lead, err := flagProp(x, a.Props, "trim_leading", both)
		if err != nil {
			return nil, engine.Failf("%v", err)
		}
		trail, err := flagProp(x, a.Props, "trim_trailing", both)
		if err != nil {
			return nil, engine.Failf("%v", err)
		}
		x.Input("source", s)
		x.Input("characters_to_trim", set)
		x.Input("trim_leading", lead)
		x.Input("trim_trailing", trail)
		cut := func(r rune) bool { return strings.ContainsRune(set, r) }
		if set == "" {
			cut = unicode.IsSpace
		}
		if lead {
			s = strings.TrimLeftFunc(s, cut)
		}
		if trail {
			s = strings.TrimRightFunc(s, cut)
		}
		return engine.Output{"trimmed": s}, nil
	}), nil
}}
