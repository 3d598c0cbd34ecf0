package expr

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Template is a parsed string property: literal text and references, in
// order. The zero Template is the empty literal. A Template is immutable and
// safe for concurrent use.
type Template struct {
	src   string
	parts []part // nil when the template is literal
	refs  []Ref
}

// part is literal text (ref < 0) or the index of a reference in refs.
type part struct {
	lit string
	ref int
}

// Options changes what [ParseWith] recognises.
type Options struct {
	// EventOutput also recognises $output.<field>$, which only event
	// definitions use (FORMAT.md §4.2 R9).
	EventOutput bool
}

// roots are the token starts of FORMAT.md §4.5, without the leading $.
var roots = [...]string{RootWorkflow, RootActivity, RootGlobal, RootEnv, RootTrigger, RootTargetGroup, RootOutput}

// Parse parses s with the default [Options].
func Parse(s string) Template { return ParseWith(s, Options{}) }

// ParseWith splits s into literal text and references. A reference starts
// with $ and a known root followed by a dot, and ends at the next $; every
// other $ is literal (FORMAT.md §4.5). A would-be reference with no closing
// $, or with a line break before it, is literal text too. Parse never fails.
func ParseWith(s string, o Options) Template {
	t := Template{src: s}
	lit := 0 // start of pending literal text
	for i := 0; i < len(s); {
		d := strings.IndexByte(s[i:], '$')
		if d < 0 {
			break
		}
		start := i + d
		root := matchRoot(s[start+1:], o)
		if root == "" {
			i = start + 1
			continue
		}
		bodyStart := start + 1 + len(root) + 1
		e := strings.IndexByte(s[bodyStart:], '$')
		if e < 0 {
			break
		}
		end := bodyStart + e // index of the closing $
		body := s[bodyStart:end]
		if strings.IndexByte(body, '\n') >= 0 || strings.IndexByte(body, '\r') >= 0 {
			i = start + 1
			continue
		}
		if t.refs == nil {
			// Each reference takes two $; size both slices once.
			n := strings.Count(s[start:], "$") / 2
			t.refs = make([]Ref, 0, n)
			t.parts = make([]part, 0, 2*n+1)
		}
		if start > lit {
			t.parts = append(t.parts, part{lit: s[lit:start], ref: -1})
		}
		t.parts = append(t.parts, part{ref: len(t.refs)})
		t.refs = append(t.refs, parseRef(s[start:end+1], root, body))
		i = end + 1
		lit = i
	}
	if len(t.refs) == 0 {
		t.parts = nil
		return t
	}
	if lit < len(s) {
		t.parts = append(t.parts, part{lit: s[lit:], ref: -1})
	}
	return t
}

// matchRoot returns the root that s starts with, followed by a dot.
func matchRoot(s string, o Options) string {
	if len(s) < 4 {
		return ""
	}
	switch s[0] {
	case 'w', 'a', 'g', 'e', 't', 'o':
	default:
		return ""
	}
	for _, r := range roots {
		if len(s) > len(r) && s[len(r)] == '.' && s[:len(r)] == r {
			if r == RootOutput && !o.EventOutput {
				return ""
			}
			return r
		}
	}
	return ""
}

// String returns the text the template was parsed from.
func (t Template) String() string { return t.src }

// Refs returns the references in order of appearance.
func (t Template) Refs() []Ref {
	if len(t.refs) == 0 {
		return nil
	}
	return append([]Ref(nil), t.refs...)
}

// Single returns the reference when the whole string is exactly one
// reference.
func (t Template) Single() (Ref, bool) {
	if len(t.parts) == 1 && t.parts[0].ref >= 0 {
		return t.refs[0], true
	}
	return Ref{}, false
}

// Literal reports whether the template has no references.
func (t Template) Literal() bool { return len(t.refs) == 0 }

// Resolver looks a reference up. ok=false means "leave the reference's text
// as it is" (a malformed or unknown reference); a well-formed reference to
// something that has no value yet resolves to (nil, true).
type Resolver interface {
	Resolve(r Ref) (v any, ok bool)
}

// ResolverFunc adapts a function to [Resolver].
type ResolverFunc func(Ref) (any, bool)

// Resolve calls f(r).
func (f ResolverFunc) Resolve(r Ref) (any, bool) { return f(r) }

// Render substitutes every reference with [Text] of its value, with no
// escaping (FORMAT.md §4.4). A reference the resolver does not know keeps
// its text. A nil resolver leaves every reference as it is.
func (t Template) Render(res Resolver) string {
	if len(t.refs) == 0 || res == nil {
		return t.src
	}
	var b strings.Builder
	b.Grow(len(t.src))
	for _, p := range t.parts {
		if p.ref < 0 {
			b.WriteString(p.lit)
			continue
		}
		r := &t.refs[p.ref]
		v, ok := res.Resolve(*r)
		if !ok {
			b.WriteString(r.Raw)
			continue
		}
		writeText(&b, v)
	}
	return b.String()
}

// Value is the typed value of a template that is exactly one reference (a
// table for source_array, an int for sleep_interval; FORMAT.md §4.4), the
// reference's own text when the resolver does not know it, and [Render]
// otherwise.
func (t Template) Value(res Resolver) any {
	if r, ok := t.Single(); ok && res != nil {
		v, ok := res.Resolve(r)
		if !ok {
			return r.Raw
		}
		return v
	}
	return t.Render(res)
}

// Text is how a value is written into a string: a string as is, integers in
// decimal, float64 in the shortest form that reads back the same (no
// exponent for integral values: 6.5, 20), bool as true/false, nil as "",
// and arrays and objects as compact JSON with map keys sorted and no HTML
// escaping.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return formatFloat(x)
	case json.Number:
		return string(x)
	}
	return jsonText(v)
}

func writeText(b *strings.Builder, v any) {
	var buf [32]byte
	switch x := v.(type) {
	case nil:
	case string:
		b.WriteString(x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.Write(strconv.AppendInt(buf[:0], x, 10))
	case int:
		b.Write(strconv.AppendInt(buf[:0], int64(x), 10))
	case float64:
		b.WriteString(formatFloat(x))
	default:
		b.WriteString(Text(v))
	}
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// jsonText encodes v as compact JSON without HTML escaping; encoding/json
// sorts map keys. A value JSON cannot encode is written as "".
func jsonText(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}))
}
