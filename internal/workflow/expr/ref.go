package expr

import (
	"strconv"
	"strings"
)

// StepKind says what one [Step] of a reference path does.
type StepKind int

const (
	// StepField selects a field of an object (or a column of a table row).
	StepField StepKind = iota
	// StepIndex selects an element of an array or a row of a table.
	StepIndex
	// StepCurrent is [@], the current item of a for-each loop (FORMAT.md §3.9).
	StepCurrent
)

// Step is one element of a reference path.
type Step struct {
	Kind  StepKind
	Field string // StepField: the field name, spaces (also trailing ones) kept
	Index int    // StepIndex: 0-based; negative counts from the end, -1 is the last element
}

// Ref is one parsed reference such as $workflow.<wf>.local.<var>$ or
// $activity.<act>.output.jsonpath_queries.Site Id$.
type Ref struct {
	Raw   string // the whole token including both $ signs
	Root  string // workflow, activity, global, env, trigger, targetgroup, output
	ID    string // definition_workflow_…, definition_activity_…, variable_…, trigger id; targetgroup: the text after "targetgroup."
	Scope string // the segment after ID: input, output, local, static, global, env, common, …; "" for $output.x$
	Path  []Step // the rest: variable id or field names, indexes, [@]
}

// Reference roots (FORMAT.md §4.2).
const (
	RootWorkflow    = "workflow"
	RootActivity    = "activity"
	RootGlobal      = "global"
	RootEnv         = "env"
	RootTrigger     = "trigger"
	RootTargetGroup = "targetgroup"
	RootOutput      = "output"
)

// WellFormed reports whether r has the shape FORMAT.md §4.2 describes: the ID
// carries the prefix its root expects, the scope is one the root allows and
// there is a path. The malformed references of real exports (§4.6), such as
// $activity.For Each Security EVENT.input.Source Array[@].canonicalName$,
// are not well formed.
func (r Ref) WellFormed() bool {
	if len(r.Path) == 0 {
		return false
	}
	switch r.Root {
	case RootWorkflow:
		return hasIDPrefix(r.ID, "definition_workflow_") &&
			(r.Scope == "input" || r.Scope == "output" || r.Scope == "local" || r.Scope == "static")
	case RootActivity:
		return hasIDPrefix(r.ID, "definition_activity_") && (r.Scope == "input" || r.Scope == "output")
	case RootGlobal, RootEnv:
		// $global.variable_X.global.variable_X$: the id is written twice.
		return hasIDPrefix(r.ID, "variable_") && r.Scope == r.Root && r.Path[0].Kind == StepField
	case RootTrigger:
		return hasIDPrefix(r.ID, "trigger") && r.Scope == "output"
	case RootTargetGroup:
		return r.ID != "" && (r.Scope == "input" || r.Scope == "common")
	case RootOutput:
		return r.ID == "" && r.Scope == "" && r.Path[0].Kind == StepField && r.Path[0].Field != ""
	}
	return false
}

// hasIDPrefix reports whether id is prefix followed by a non-empty id with
// no spaces (display names are not ids).
func hasIDPrefix(id, prefix string) bool {
	return len(id) > len(prefix) && strings.HasPrefix(id, prefix) && !strings.ContainsAny(id, " \t[]")
}

// String writes r as a reference token. For a parsed reference it is Raw,
// except that indexes are written in their canonical form.
func (r Ref) String() string {
	var b strings.Builder
	b.Grow(len(r.Raw) + 8)
	b.WriteByte('$')
	b.WriteString(r.Root)
	if r.Root != RootOutput {
		b.WriteByte('.')
		b.WriteString(r.ID)
		if r.Scope != "" || len(r.Path) > 0 {
			b.WriteByte('.')
			b.WriteString(r.Scope)
		}
	}
	for i, s := range r.Path {
		switch s.Kind {
		case StepField:
			b.WriteByte('.')
			b.WriteString(s.Field)
		case StepIndex, StepCurrent:
			if i == 0 {
				b.WriteByte('.')
			}
			b.WriteByte('[')
			if s.Kind == StepCurrent {
				b.WriteByte('@')
			} else {
				b.WriteString(strconv.Itoa(s.Index))
			}
			b.WriteByte(']')
		}
	}
	b.WriteByte('$')
	return b.String()
}

// Current reports where [@] is in r.Path, or -1. A resolver answers the
// steps before it with the loop's current item and applies the rest with
// [Walk].
func (r Ref) Current() int {
	for i, s := range r.Path {
		if s.Kind == StepCurrent {
			return i
		}
	}
	return -1
}

// parseRef parses the text between the $ signs of a token whose root is
// known; body is the text after "<root>.".
func parseRef(raw, root, body string) Ref {
	r := Ref{Raw: raw, Root: root}
	if root == RootOutput {
		r.Path = parsePath(body)
		return r
	}
	i := strings.IndexByte(body, '.')
	if i < 0 {
		r.ID = body
		return r
	}
	r.ID = body[:i]
	rest := body[i+1:]
	j := strings.IndexByte(rest, '.')
	if j < 0 {
		r.Scope = rest
		return r
	}
	r.Scope = rest[:j]
	r.Path = parsePath(rest[j+1:])
	return r
}

// parsePath splits a.b[0].c[@] into steps. Brackets that are not an index
// or [@] stay part of the field name.
func parsePath(s string) []Step {
	n := 1 + strings.Count(s, ".") + strings.Count(s, "[")
	steps := make([]Step, 0, n)
	for {
		seg := s
		i := strings.IndexByte(s, '.')
		if i >= 0 {
			seg = s[:i]
		}
		steps = appendSegment(steps, seg)
		if i < 0 {
			return steps
		}
		s = s[i+1:]
	}
}

// appendSegment appends one dot-separated segment: a name followed by any
// number of [N], [-N] or [@].
func appendSegment(steps []Step, seg string) []Step {
	name := seg
	first := len(seg) // start of the trailing brackets
	for strings.HasSuffix(name, "]") {
		open := strings.LastIndexByte(name, '[')
		if open < 0 {
			break
		}
		if _, ok := parseBracket(name[open+1 : len(name)-1]); !ok {
			break
		}
		name = name[:open]
		first = open
	}
	if name != "" || first == len(seg) {
		steps = append(steps, Step{Kind: StepField, Field: name})
	}
	for rest := seg[first:]; rest != ""; {
		end := strings.IndexByte(rest, ']')
		st, _ := parseBracket(rest[1:end])
		steps = append(steps, st)
		rest = rest[end+1:]
	}
	return steps
}

// parseBracket parses the inside of [..]: @, a non-negative integer or a
// negative one.
func parseBracket(in string) (Step, bool) {
	if in == "@" {
		return Step{Kind: StepCurrent}, true
	}
	digits := strings.TrimPrefix(in, "-")
	if digits == "" || len(digits) > 9 {
		return Step{}, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return Step{}, false
		}
	}
	n, _ := strconv.Atoi(in)
	return Step{Kind: StepIndex, Index: n}, true
}
