package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Typed access to request body fields and query parameters. A present
// field of the wrong type is a 400 naming it, as Meraki answers.

func badType(name, want string) error {
	return errorf(http.StatusBadRequest, "'%s' must be %s", name, want)
}

func (c *call) has(name string) bool {
	_, ok := c.body[name]
	return ok
}

func (c *call) str(name string) (string, bool, error) {
	raw, ok := c.body[name]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", true, badType(name, "a string")
	}
	return s, true, nil
}

func (c *call) strList(name string) ([]string, bool, error) {
	raw, ok := c.body[name]
	if !ok || string(raw) == "null" {
		return nil, false, nil
	}
	var l []string
	if json.Unmarshal(raw, &l) != nil {
		return nil, true, badType(name, "an array of strings")
	}
	if l == nil {
		l = []string{}
	}
	return l, true, nil
}

func (c *call) boolean(name string) (bool, bool, error) {
	raw, ok := c.body[name]
	if !ok || string(raw) == "null" {
		return false, false, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) != nil {
		return false, true, badType(name, "a boolean")
	}
	return b, true, nil
}

func (c *call) integer(name string) (int, bool, error) {
	raw, ok := c.body[name]
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	var n int
	if json.Unmarshal(raw, &n) != nil {
		return 0, true, badType(name, "an integer")
	}
	return n, true, nil
}

func (c *call) number(name string) (float64, bool, error) {
	raw, ok := c.body[name]
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil {
		return 0, true, badType(name, "a number")
	}
	return f, true, nil
}

// decode unmarshals a structured field into v.
func (c *call) decode(name string, v any, want string) (bool, error) {
	raw, ok := c.body[name]
	if !ok || string(raw) == "null" {
		return false, nil
	}
	if json.Unmarshal(raw, v) != nil {
		return true, badType(name, want)
	}
	return true, nil
}

// values returns the request's query, parsed once.
func (c *call) values() url.Values {
	if c.qv == nil {
		c.qv = c.r.URL.Query()
	}
	return c.qv
}

// query returns a query parameter.
func (c *call) query(name string) string { return c.values().Get(name) }

// queryList returns an array query parameter, sent as name[]=a&name[]=b
// (Meraki's SDKs) or name=a&name=b.
func (c *call) queryList(name string) []string {
	q := c.values()
	out := append(append([]string(nil), q[name+"[]"]...), q[name]...)
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	return out
}

func (c *call) queryBool(name string) (bool, bool, error) {
	s := c.query(name)
	if s == "" {
		return false, false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, true, badType(name, "a boolean")
	}
	return b, true, nil
}

// tagsFilter reads tags and tagsFilterType (withAnyTags, the default, or
// withAllTags).
func (c *call) tagsFilter() ([]string, bool, error) {
	tags := c.queryList("tags")
	switch c.query("tagsFilterType") {
	case "", "withAnyTags":
		return tags, false, nil
	case "withAllTags":
		return tags, true, nil
	}
	return nil, false, errorf(http.StatusBadRequest, "'tagsFilterType' must be one of: 'withAnyTags', 'withAllTags'")
}

// timespan reads t0, t1 and timespan (seconds) as Meraki's telemetry
// operations do, defaulting to the last def and refusing more than max.
func (c *call) timespan(def, max time.Duration) (from, to time.Time, err error) {
	to = c.now
	if s := c.query("t1"); s != "" {
		if to, err = time.Parse(time.RFC3339, s); err != nil {
			return from, to, badType("t1", "an ISO 8601 timestamp")
		}
	}
	if s := c.query("timespan"); s != "" {
		f, perr := strconv.ParseFloat(s, 64)
		if perr != nil || f <= 0 {
			return from, to, badType("timespan", "a positive number of seconds")
		}
		from = to.Add(-time.Duration(f * float64(time.Second)))
	} else if s := c.query("t0"); s != "" {
		if from, err = time.Parse(time.RFC3339, s); err != nil {
			return from, to, badType("t0", "an ISO 8601 timestamp")
		}
	} else {
		from = to.Add(-def)
	}
	if to.Sub(from) > max+time.Second {
		return from, to, errorf(http.StatusBadRequest, "'timespan' must be at most %d seconds", int(max.Seconds()))
	}
	return from, to, nil
}

// cleanTags validates and normalises tags: Meraki tags have no spaces.
func cleanTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if strings.ContainsAny(t, " \t\n") || len(t) > 255 {
			return nil, errorf(http.StatusBadRequest, "Tags cannot contain spaces: '%s'", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func sortedStrings(l []string) []string {
	out := slices.Clone(l)
	slices.Sort(out)
	return out
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// parseTime reads a time as Meraki's clients send it: RFC 3339, or without
// a zone (then UTC).
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("bad time")
}
