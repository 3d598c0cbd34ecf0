package catalog

import (
	"fmt"
	"net/url"
	"strings"
)

// Router matches a method and path to a catalogued operation.
//
// It is a trie over path segments rather than an http.ServeMux because
// Meraki's catalog has sibling templates that ServeMux rejects as
// conflicting: the same position holds a literal in one template and a
// parameter in another (".../devices/statuses" beside ".../devices/{serial}"
// patterns elsewhere), and parameters at one position carry different names
// in different templates. Literal segments win over parameters, and the
// matcher backtracks when a literal branch dead-ends, so every template is
// reachable.
type Router struct {
	root *node
}

type node struct {
	literal map[string]*node
	param   *node
	ops     map[string]*Operation // by method
}

func newNode() *node { return &node{} }

func newRouter() *Router { return &Router{root: newNode()} }

func (r *Router) add(op *Operation) error {
	n := r.root
	for _, seg := range op.segments {
		if _, ok := paramName(seg); ok {
			if n.param == nil {
				n.param = newNode()
			}
			n = n.param
			continue
		}
		if n.literal == nil {
			n.literal = map[string]*node{}
		}
		next, ok := n.literal[seg]
		if !ok {
			next = newNode()
			n.literal[seg] = next
		}
		n = next
	}
	if n.ops == nil {
		n.ops = map[string]*Operation{}
	}
	if prev, dup := n.ops[op.Method]; dup {
		return fmt.Errorf("catalog: %s %s is both %s and %s", op.Method, op.Path, prev.ID, op.ID)
	}
	n.ops[op.Method] = op
	return nil
}

// Params are the path parameters of a matched request, in template order.
type Params struct {
	names  []string
	values []string
}

// Get returns the value of the named path parameter, "" if absent.
func (p Params) Get(name string) string {
	for i, n := range p.names {
		if n == name {
			return p.values[i]
		}
	}
	return ""
}

// Len returns the number of parameters.
func (p Params) Len() int { return len(p.names) }

// At returns the i-th parameter's name and value.
func (p Params) At(i int) (name, value string) { return p.names[i], p.values[i] }

// maxSegments bounds the work on hostile paths; the longest template has 9.
const maxSegments = 16

// Match finds the operation for method and path (relative to /api/v1, in
// escaped form). Parameter values are unescaped.
func (r *Router) Match(method, path string) (*Operation, Params, bool) {
	if len(path) < 2 || path[0] != '/' {
		return nil, Params{}, false
	}
	var buf [maxSegments]string
	segs := buf[:0]
	rest := path[1:]
	for {
		if len(segs) == maxSegments {
			return nil, Params{}, false
		}
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			segs = append(segs, rest)
			break
		}
		segs = append(segs, rest[:i])
		rest = rest[i+1:]
	}
	op := r.root.find(segs, method)
	if op == nil {
		return nil, Params{}, false
	}
	p := Params{names: op.PathParams}
	if len(op.PathParams) > 0 {
		p.values = make([]string, 0, len(op.PathParams))
		for i, s := range op.segments {
			if s[0] != '{' {
				continue
			}
			v := segs[i]
			if strings.IndexByte(v, '%') >= 0 {
				u, err := url.PathUnescape(v)
				if err != nil {
					return nil, Params{}, false
				}
				v = u
			}
			p.values = append(p.values, v)
		}
	}
	return op, p, true
}

// find walks the trie, preferring literals and backtracking to the
// parameter branch when the literal branch has no operation for method.
func (n *node) find(segs []string, method string) *Operation {
	if len(segs) == 0 {
		return n.ops[method]
	}
	seg := segs[0]
	if next := n.literal[seg]; next != nil {
		if op := next.find(segs[1:], method); op != nil {
			return op
		}
	}
	if n.param != nil && seg != "" {
		return n.param.find(segs[1:], method)
	}
	return nil
}

// child finds the operation (with method) whose template is op's plus one
// trailing parameter, e.g. POST /x/items -> GET /x/items/{itemId}.
func (r *Router) child(op *Operation, method string) (*Operation, string, bool) {
	n := r.root
	for _, seg := range op.segments {
		if _, ok := paramName(seg); ok {
			n = n.param
		} else {
			n = n.literal[seg]
		}
		if n == nil {
			return nil, "", false
		}
	}
	if n.param == nil {
		return nil, "", false
	}
	c := n.param.ops[method]
	if c == nil {
		return nil, "", false
	}
	return c, c.PathParams[len(c.PathParams)-1], true
}
