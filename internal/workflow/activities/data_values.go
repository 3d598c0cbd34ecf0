package activities

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// What the data activities share: reading properties leniently, the
// column types of tables, and turning values into tables.

// textProp parses a property as a template; a number or boolean stands
// for its text, anything else (absent, null) for "".
func textProp(props map[string]any, key string) expr.Template {
	switch v := props[key].(type) {
	case string:
		return expr.Parse(v)
	case int64, float64, bool:
		return expr.Parse(expr.Text(v))
	}
	return expr.Parse("")
}

// literalText is a template's text with the escapes \n, \t, \r and \\
// written in the property turned into the characters, when the template is
// literal; a template with references is rendered as it is, so that
// substituted values are never unescaped. The UI writes a newline boundary
// as the two characters \n ("\\n" in the JSON).
func literalText(x *engine.X, t expr.Template) string {
	if t.Literal() {
		return unescape(t.String())
	}
	return x.Text(t)
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t", `\r`, "\r").Replace(s)
}

// flagProp reads a checkbox property: a JSON boolean, "true"/"false", or
// a reference to one. Absent or empty is def.
func flagProp(x *engine.X, props map[string]any, key string, def bool) (bool, error) {
	raw, ok := props[key]
	if !ok || raw == nil {
		return def, nil
	}
	v := x.Prop(raw)
	if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
		return def, nil
	}
	b, err := toBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: %w", key, err)
	}
	return b, nil
}

func kindName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the text %q", ellipsis(x, 40))
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any, *object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func ellipsis(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// toInt converts leniently: integral numbers, numeric text, nil as 0;
// a fraction is cut toward zero.
func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) >= 1<<63 {
			return 0, fmt.Errorf("%v is out of the integer range", x)
		}
		return int64(x), nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return toInt(f)
		}
	}
	return 0, fmt.Errorf("%s is not an integer", kindName(v))
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%s is not a number", kindName(v))
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	case float64:
		return x != 0, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1", "yes":
			return true, nil
		case "false", "0", "no", "":
			return false, nil
		}
	}
	return false, fmt.Errorf("%s is not true or false", kindName(v))
}

// toText is how a cell or output of type string holds a value: text as
// it is, arrays and objects as compact JSON, null as "".
func toText(v any) string {
	switch x := v.(type) {
	case *object:
		return orderedText(x)
	case []any:
		return orderedText(x)
	}
	return expr.Text(v)
}

// column is one declared column of a table (table_columns, columns).
type column struct {
	Name string
	Type string // string, integer, boolean, number, date
}

// columnsProp reads a list of {column_name, column_type}.
func columnsProp(props map[string]any, key string) ([]column, error) {
	list, _ := props[key].([]any)
	out := make([]column, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is not an object", key, i)
		}
		name := expr.Text(m["column_name"])
		if name == "" {
			return nil, fmt.Errorf("%s[%d] has no column_name", key, i)
		}
		out = append(out, column{Name: name, Type: strings.ToLower(expr.Text(m["column_type"]))})
	}
	return out, nil
}

// cell converts a value for a column of type typ. Null stays null.
func cell(typ string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "integer":
		return toInt(v)
	case "number":
		return toFloat(v)
	case "boolean":
		return toBool(v)
	}
	// string, date (kept as its text) and unknown types
	return toText(v), nil
}

// zeroCell is the value of a column that was given no value.
func zeroCell(typ string) any {
	switch typ {
	case "integer":
		return int64(0)
	case "number":
		return float64(0)
	case "boolean":
		return false
	}
	return ""
}

// lookup finds a row's column: by exact name, then ignoring case.
func lookup(row map[string]any, name string) (any, bool) {
	if v, ok := row[name]; ok {
		return v, true
	}
	for k, v := range row {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// tableOf turns an input_table value into its rows: a table or array as
// it is, JSON text decoded, nothing as no rows. Rows that are not objects
// are an error.
func tableOf(v any) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
		doc, err := decodeOrdered(x)
		if err != nil {
			return nil, err
		}
		list, ok := doc.([]any)
		if !ok {
			return nil, fmt.Errorf("the table is %s, not an array of rows", kindName(plain(doc)))
		}
		v = plain(list)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("the table is %s, not an array of rows", kindName(v))
	}
	for i, r := range list {
		if _, ok := r.(map[string]any); !ok {
			return nil, fmt.Errorf("row %d is %s, not an object", i, kindName(r))
		}
	}
	return list, nil
}

// errNoColumns: a table activity was given no columns to read.
var errNoColumns = errors.New("no columns to read: declare table_columns or set populate_columns")

// dateText reads a date leniently and writes it as RFC 3339; text that is
// not a date known here is an error.
func dateText(v any, javaFormat string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case int64: // Java's epoch milliseconds
		return time.UnixMilli(x).UTC().Format(time.RFC3339Nano), nil
	case float64:
		return time.UnixMilli(int64(x)).UTC().Format(time.RFC3339Nano), nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return "", nil
		}
		layouts := []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.999999999Z0700",
			"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", time.RFC1123Z, time.RFC1123}
		if l := goLayout(javaFormat); l != "" {
			layouts = append([]string{l}, layouts...)
		}
		for _, l := range layouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.Format(time.RFC3339Nano), nil
			}
		}
		return "", fmt.Errorf("%q is not a date (format %s)", s, javaFormat)
	}
	return "", fmt.Errorf("%s is not a date", kindName(v))
}

// goLayout translates the common letters of a Java SimpleDateFormat
// (zdate_type_format) into a Go layout; "" when it has others.
func goLayout(f string) string {
	if f == "" {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		n := 1
		for i+n < len(f) && f[i+n] == c {
			n++
		}
		if c == '\'' {
			end := strings.IndexByte(f[i+1:], '\'')
			if end < 0 {
				return ""
			}
			b.WriteString(f[i+1 : i+1+end])
			i += end + 2
			continue
		}
		tok, ok := javaTokens[strings.Repeat(string(c), n)]
		switch {
		case ok:
			b.WriteString(tok)
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			return ""
		default:
			b.WriteString(f[i : i+n])
		}
		i += n
	}
	return b.String()
}

var javaTokens = map[string]string{
	"yyyy": "2006", "yy": "06", "MM": "01", "M": "1", "MMM": "Jan", "MMMM": "January", "dd": "02", "d": "2",
	"HH": "15", "hh": "03", "h": "3", "mm": "04", "ss": "05", "SSS": "000", "a": "PM",
	"Z": "-0700", "X": "Z07", "XX": "Z0700", "XXX": "Z07:00", "z": "MST", "EEE": "Mon", "EEEE": "Monday",
}
