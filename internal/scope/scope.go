// Package scope knows Meraki's OAuth 2.0 scopes: which names exist, how a
// scope parameter is parsed (RFC 6749 §3.3) and how each is described to
// the administrator on the consent page.
package scope

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// areas are Meraki's scope areas; each has a :read and a :write scope.
var areas = []struct{ name, words string }{
	{"dashboard:general:config", "organization and network configuration"},
	{"dashboard:general:telemetry", "organization and network monitoring data"},
	{"dashboard:iam:config", "administrators and access configuration"},
	{"dashboard:iam:telemetry", "administrator activity data"},
	{"dashboard:licensing:config", "licensing configuration"},
	{"dashboard:licensing:telemetry", "licensing data"},
	{"sdwan:config", "security appliance and SD-WAN configuration"},
	{"sdwan:telemetry", "security appliance and SD-WAN monitoring data"},
	{"switch:config", "switch configuration"},
	{"switch:telemetry", "switch monitoring data"},
	{"wireless:config", "wireless configuration"},
	{"wireless:telemetry", "wireless monitoring data"},
	{"camera:config", "camera configuration"},
	{"camera:telemetry", "camera monitoring data"},
	{"sensor:config", "sensor configuration"},
	{"sensor:telemetry", "sensor monitoring data"},
	{"sm:config", "Systems Manager configuration"},
	{"sm:telemetry", "Systems Manager monitoring data"},
}

var known = func() map[string]string {
	m := make(map[string]string, 2*len(areas))
	for _, a := range areas {
		m[a.name+":read"] = "Read " + a.words
		m[a.name+":write"] = "Change " + a.words
	}
	return m
}()

// All returns every known scope, sorted.
func All() []string {
	out := make([]string, 0, len(known))
	for s := range known {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Known reports whether s is one of Meraki's scopes.
func Known(s string) bool { _, ok := known[s]; return ok }

// Describe returns the plain-words description of a scope for the consent page.
func Describe(s string) string {
	if d, ok := known[s]; ok {
		return d
	}
	return s
}

// IsRead reports whether s is a read scope.
func IsRead(s string) bool { return strings.HasSuffix(s, ":read") }

// ErrMalformed is returned by Parse for a scope string that is not a
// space-separated list of scope tokens.
var ErrMalformed = errors.New("malformed scope")

// Parse splits a scope parameter (RFC 6749 §3.3: scope-tokens separated by
// single spaces, each made of %x21 / %x23-5B / %x5D-7E). It tolerates runs of
// spaces, drops duplicates and returns the scopes sorted. It does not check
// that the scopes are known; see [Unknown].
func Parse(s string) ([]string, error) {
	var out []string
	for _, tok := range strings.Split(s, " ") {
		if tok == "" {
			continue
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
				return nil, fmt.Errorf("%w: invalid character %q", ErrMalformed, c)
			}
		}
		out = append(out, tok)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Unknown returns the scopes in list that are not Meraki scopes.
func Unknown(list []string) []string {
	var out []string
	for _, s := range list {
		if !Known(s) {
			out = append(out, s)
		}
	}
	return out
}

// Subset reports whether every scope in sub is in set.
func Subset(sub, set []string) bool {
	for _, s := range sub {
		if !slices.Contains(set, s) {
			return false
		}
	}
	return true
}

// Missing returns the scopes of sub that are not in set, in sub's order.
func Missing(sub, set []string) []string {
	var out []string
	for _, s := range sub {
		if !slices.Contains(set, s) {
			out = append(out, s)
		}
	}
	return out
}

// Format joins scopes with single spaces, the wire form.
func Format(list []string) string { return strings.Join(list, " ") }

// ReadOnly returns the read scopes of list.
func ReadOnly(list []string) []string {
	var out []string
	for _, s := range list {
		if IsRead(s) {
			out = append(out, s)
		}
	}
	return out
}
