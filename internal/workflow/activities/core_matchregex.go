package activities

import (
	"context"
	"fmt"
	"regexp"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// core.matchregex ("Match Regex", FORMAT.md §3.20) matches input_string
// against input_regex, Go RE2 syntax as in the product (its docs cite
// regexp/syntax and its 1000-repeat limit). match_case unchecked or
// absent matches ignoring case. Outputs: has_match; matching_strings,
// every match in order; match_groups, for each match the list of its
// capture groups ("" for a group that did not take part).
var matchRegex = engine.Type{Name: "core.matchregex", Compile: func(a *export.Activity) (engine.Activity, error) {
	input := textProp(a.Props, "input_string")
	pattern := textProp(a.Props, "input_regex")
	caseRaw, hasCase := a.Props["match_case"]
	var fixed *regexp.Regexp
	if pattern.Literal() && (!hasCase || isLiteralFlag(caseRaw)) {
		re, err := compileRegex(pattern.String(), flagLiteral(caseRaw))
		if err != nil {
			return nil, err
		}
		fixed = re
	}
	return engine.ActivityFunc(func(_ context.Context, x *engine.X) (engine.Output, error) {
		s := x.Text(input)
		matchCase, err := flagProp(x, a.Props, "match_case", false)
		if err != nil {
			return nil, engine.Failf("%v", err)
		}
		src := x.Text(pattern)
		x.Input("input_string", s)
		x.Input("input_regex", src)
		x.Input("match_case", matchCase)
		re := fixed
		if re == nil {
			if re, err = compileRegex(src, matchCase); err != nil {
				return nil, engine.Failf("%v", err)
			}
		}
		found := re.FindAllStringSubmatch(s, -1)
		strs := make([]any, len(found))
		groups := make([]any, len(found))
		for i, m := range found {
			strs[i] = m[0]
			g := make([]any, len(m)-1)
			for j, v := range m[1:] {
				g[j] = v
			}
			groups[i] = g
		}
		return engine.Output{"has_match": len(found) > 0, "matching_strings": strs, "match_groups": groups}, nil
	}), nil
}}

func compileRegex(src string, matchCase bool) (*regexp.Regexp, error) {
	if !matchCase {
		src = "(?i)" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("input_regex is not a valid regular expression: %w", err)
	}
	return re, nil
}

// isLiteralFlag reports whether a checkbox property is fixed in the
// definition (not a reference).
func isLiteralFlag(v any) bool {
	switch x := v.(type) {
	case nil, bool:
		return true
	case string:
		return textProp(map[string]any{"v": x}, "v").Literal()
	}
	return false
}

// flagLiteral is a fixed checkbox property's value (false when it is not
// true or "true").
func flagLiteral(v any) bool {
	b, _ := toBool(v)
	return b
}
