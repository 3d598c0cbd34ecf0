package expr

import "strings"

// Walk applies path to v: a field of a map[string]any, [N] or [-N] of an
// array or table. It reports false when a step does not apply: a missing
// field, an index out of range, a step on a scalar, and [@], which the
// resolver answers because only it knows the loop's current item. A string
// that holds JSON is not navigated: exports always parse such strings with
// a JSONPath Query or Python first (FORMAT.md §4.3).
//
// A field name may itself contain dots (a JSONPath Query output named
// "a.b"): when a field is missing, Walk tries it joined with the following
// field steps.
func Walk(v any, path []Step) (any, bool) {
	for i := 0; i < len(path); i++ {
		s := path[i]
		switch s.Kind {
		case StepField:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if x, ok := m[s.Field]; ok {
				v = x
				continue
			}
			x, n, ok := dottedField(m, path[i:])
			if !ok {
				return nil, false
			}
			v = x
			i += n - 1
		case StepIndex:
			x, ok := index(v, s.Index)
			if !ok {
				return nil, false
			}
			v = x
		default:
			return nil, false
		}
	}
	return v, true
}

// dottedField looks up path[0].path[1]… (field steps only) in m and reports
// how many steps the match used.
func dottedField(m map[string]any, path []Step) (any, int, bool) {
	var b strings.Builder
	b.WriteString(path[0].Field)
	for n := 1; n < len(path) && path[n].Kind == StepField; n++ {
		b.WriteByte('.')
		b.WriteString(path[n].Field)
		if x, ok := m[b.String()]; ok {
			return x, n + 1, true
		}
	}
	return nil, 0, false
}

func index(v any, i int) (any, bool) {
	switch a := v.(type) {
	case []any:
		if i < 0 {
			i += len(a)
		}
		if i < 0 || i >= len(a) {
			return nil, false
		}
		return a[i], true
	case []map[string]any:
		if i < 0 {
			i += len(a)
		}
		if i < 0 || i >= len(a) {
			return nil, false
		}
		return a[i], true
	}
	return nil, false
}
