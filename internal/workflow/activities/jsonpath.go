package activities

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ohler55/ojg/jp"

	"github.com/grantflow/grantflow/internal/workflow/export"
)

// The JSONPath dialect of corejava.jsonpathquery and
// corejava.read_table_from_json is Jayway's (FORMAT.md §3.7): Cisco's docs
// say "SecureX orchestration uses the Jayway implementation". Paths are
// evaluated by github.com/ohler55/ojg/jp after the rewrites Jayway's own
// compiler makes, so the paths of real exports mean what they mean there:
//
//   - A path that starts with neither $ nor @ gets "$." in front
//     (['weather'][0] reads $.['weather'][0]; .products.x reads
//     $..products.x, a deep scan, as in Jayway). A leading @ is the root.
//   - $.[…] is $[…] (Jayway accepts a dot before a bracket; ojg does not).
//   - A trailing function call (.length(), .size(), .min(), .max(),
//     .avg(), .stddev(), .sum(), .keys(), .first(), .last()) is applied by
//     grantflow to what the rest of the path selects.
//   - A path is definite when it has only names and single indexes (no
//     wildcard, deep scan, filter, slice or union). A definite path that
//     selects nothing is Jayway's PathNotFoundException; an indefinite one
//     selects a list, empty when nothing matched, and is not an error.
//   - Object members keep their document order (Jayway reads JSON into
//     LinkedHashMaps): wildcards and deep scans visit them in that order.
//     A value that is already decoded (a table, a typed activity's body)
//     has no document order; its members are visited sorted by name.
//
// Where ojg differs from Jayway, grantflow follows ojg:
//
//   - A filter on an object filters the object's members (RFC 9535); Jayway
//     tests the object itself ($[?(@.x)] on {"x":1} is [] here, [{"x":1}]
//     there).
//   - ojg also accepts RFC 9535 filters without parentheses
//     ($..cli[?@.username=="u"], which one real export uses), where Jayway
//     reports a syntax error.
//   - Jayway's filter operators in, nin, =~ and empty exist in ojg with
//     the same meaning; subsetof, anyof, noneof and size do not, and a path
//     that uses them is reported as invalid.
//   - Comparisons follow ojg: a number never equals a string ('1' != 1),
//     as in Jayway.

// jsonPath is a compiled Jayway path.
type jsonPath struct {
	src      string
	expr     jp.Expr
	definite bool
	fn       string // trailing function, "" for none
}

// trailingFunc is a Jayway function call at the end of a path.
var trailingFunc = regexp.MustCompile(`\.(length|size|min|max|avg|stddev|sum|keys|first|last)\(\)\s*$`)

// compileJSONPath compiles a path written for Jayway.
func compileJSONPath(src string) (*jsonPath, error) {
	s := strings.TrimSpace(src)
	if s == "" {
		return nil, errors.New("the JSONPath is empty")
	}
	p := &jsonPath{src: src}
	if m := trailingFunc.FindStringSubmatchIndex(s); m != nil {
		p.fn = s[m[2]:m[3]]
		s = s[:m[0]]
	}
	switch {
	case s == "" || s == "@":
		s = "$"
	case s[0] == '@':
		s = "$" + s[1:]
	case s[0] != '$':
		s = "$." + s
	}
	s = dotBracket(s)
	if strings.HasSuffix(s, ".") {
		return nil, fmt.Errorf("JSONPath %q must not end with a '.' or '..'", src)
	}
	x, err := jp.ParseString(s)
	if err != nil {
		return nil, fmt.Errorf("JSONPath %q is not valid: %w", src, err)
	}
	p.expr = x
	p.definite = true
	for _, f := range x {
		switch f.(type) {
		case jp.Root, jp.At, jp.Child, jp.Nth, jp.Bracket:
		default:
			p.definite = false
		}
	}
	return p, nil
}

// dotBracket drops the dot of ".[" (not of "..["), outside quoted text.
func dotBracket(s string) string {
	if !strings.Contains(s, ".[") {
		return s
	}
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && i+1 < len(s) {
				b.WriteByte(c)
				i++
				c = s[i]
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '.' && i+1 < len(s) && s[i+1] == '[' && (i == 0 || s[i-1] != '.'):
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// pathResult is what a path selected. Objects in Value are *object (see
// [plain] and [orderedText]).
type pathResult struct {
	Value    any  // the value (definite path or function) or the []any of matches
	Found    bool // false: a definite path selected nothing (PathNotFound)
	Definite bool // Value is one value, not a list of matches
}

// eval applies the path to a document made by [jsonDoc].
func (p *jsonPath) eval(doc any) (pathResult, error) {
	got := p.expr.Get(doc)
	var r pathResult
	if p.definite {
		r = pathResult{Definite: true, Found: len(got) > 0}
		if r.Found {
			r.Value = got[0]
		}
	} else {
		r = pathResult{Value: got, Found: true}
	}
	if p.fn == "" || !r.Found {
		return r, nil
	}
	v, err := applyFunc(p.fn, r.Value)
	if err != nil {
		return r, fmt.Errorf("%s(): %w", p.fn, err)
	}
	return pathResult{Value: v, Found: true, Definite: true}, nil
}

func applyFunc(fn string, v any) (any, error) {
	switch fn {
	case "length", "size":
		switch x := v.(type) {
		case []any:
			return int64(len(x)), nil
		case *object:
			return int64(len(x.keys)), nil
		case string:
			return int64(utf8.RuneCountInString(x)), nil
		}
		return nil, fmt.Errorf("%s has no length", kindName(v))
	case "keys":
		o, ok := v.(*object)
		if !ok {
			return nil, fmt.Errorf("%s has no keys", kindName(v))
		}
		out := make([]any, len(o.keys))
		for i, k := range o.keys {
			out[i] = k
		}
		return out, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("needs an array, not %s", kindName(v))
	}
	if fn == "first" || fn == "last" {
		if len(list) == 0 {
			return nil, errors.New("the array is empty")
		}
		if fn == "first" {
			return list[0], nil
		}
		return list[len(list)-1], nil
	}
	nums := make([]float64, 0, len(list))
	for _, e := range list {
		switch n := e.(type) {
		case int64:
			nums = append(nums, float64(n))
		case float64:
			nums = append(nums, n)
		}
	}
	if len(nums) == 0 {
		return nil, errors.New("the array holds no numbers")
	}
	var sum float64
	for _, n := range nums {
		sum += n
	}
	switch fn {
	case "min":
		return slices.Min(nums), nil
	case "max":
		return slices.Max(nums), nil
	case "sum":
		return sum, nil
	case "avg":
		return sum / float64(len(nums)), nil
	}
	mean := sum / float64(len(nums)) // stddev, the population's, as Jayway
	var sq float64
	for _, n := range nums {
		sq += (n - mean) * (n - mean)
	}
	return math.Sqrt(sq / float64(len(nums))), nil
}

// object is a JSON object that keeps its members' order, for ojg's
// wildcards and deep scans ([jp.Keyed]).
type object struct {
	keys []string
	m    map[string]any
}

func (o *object) ValueForKey(k string) (any, bool) { v, ok := o.m[k]; return v, ok }

func (o *object) SetValueForKey(k string, v any) {
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

func (o *object) RemoveValueForKey(k string) {
	if _, ok := o.m[k]; ok {
		delete(o.m, k)
		o.keys = slices.DeleteFunc(o.keys, func(s string) bool { return s == k })
	}
}

func (o *object) Keys() []string { return slices.Clone(o.keys) }

// errEmptyJSON: the input holds no JSON at all.
var errEmptyJSON = errors.New("the input JSON is empty")

// jsonDoc makes the document a path runs on from an input_json value:
// JSON text is decoded keeping member order; a decoded value (a table, a
// typed body) is used as it is, its members sorted by name.
func jsonDoc(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, errEmptyJSON
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, errEmptyJSON
		}
		return decodeOrdered(x)
	}
	return ordered(v), nil
}

// decodeOrdered decodes one JSON value, objects as *object.
func decodeOrdered(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, jsonErr(s, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the input is not JSON: more than one JSON value")
	}
	return v, nil
}

func jsonErr(s string, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + strings.Count(s[:min(int(se.Offset), len(s))], "\n")
		return fmt.Errorf("the input is not JSON: %w (line %d)", se, line)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the input is not JSON: it ends too early")
	}
	return fmt.Errorf("the input is not JSON: %w", err)
}

func decodeValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch d := t.(type) {
	case json.Delim:
		switch d {
		case '{':
			o := &object{m: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.SetValueForKey(kt.(string), v)
			}
			_, err := dec.Token()
			return o, err
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token()
			return list, err
		}
		return nil, fmt.Errorf("unexpected %v", d)
	case json.Number:
		return export.Normalize(d), nil
	}
	return t, nil
}

// ordered turns decoded maps into *object, members sorted by name.
func ordered(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := &object{keys: make([]string, 0, len(x)), m: make(map[string]any, len(x))}
		for k, e := range x {
			o.keys = append(o.keys, k)
			o.m[k] = ordered(e)
		}
		slices.Sort(o.keys)
		return o
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ordered(e)
		}
		return out
	}
	return v
}

// plain turns *object back into map[string]any, the engine's value.
func plain(v any) any {
	switch x := v.(type) {
	case *object:
		m := make(map[string]any, len(x.m))
		for k, e := range x.m {
			m[k] = plain(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// orderedText writes a value as compact JSON keeping *object member order
// (map keys sorted), without HTML escaping.
func orderedText(v any) string {
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.String()
}

func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case *object:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, k)
			b.WriteByte(':')
			writeJSON(b, x.m[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		writeJSON(b, ordered(x))
	default:
		enc := json.NewEncoder(b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			b.WriteString("null")
			return
		}
		b.Truncate(b.Len() - 1) // Encode's newline
	}
}
