// Package catalog is Meraki's Dashboard API v1 operation catalog, embedded
// from api-index.csv (see README.md for its origin), parsed into operations
// and indexed by a router that matches a request's method and path to its
// operation and path parameters.
//
// Meraki's conventions (not an RFC) define the catalog's meaning: paths
// relative to /api/v1, {name} path parameters, flattened request and
// response field names, and one OAuth scope per operation.
package catalog

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
)

//go:embed api-index.csv
var indexCSV []byte

// Release stages as written in the catalog.
const (
	StageGA         = "GA"
	StageBeta       = "beta"
	StageDeprecated = "deprecated"
)

// Operation is one catalogued Dashboard API operation.
type Operation struct {
	ID      string // operationId, e.g. "getOrganizationNetworks"
	Summary string
	DocsURL string
	Stage   string // StageGA, StageBeta or StageDeprecated
	// Method is the upper-case HTTP method.
	Method string
	// Path is the template relative to /api/v1, e.g.
	// "/organizations/{organizationId}/networks".
	Path string
	// PathParams are the {name} parameters of Path, in order.
	PathParams []string
	// QueryParams are the documented query parameters.
	QueryParams []string
	// BodyParams are the request body's field names, flattened.
	BodyParams []string
	// ResponseParams are the response's field names, flattened.
	ResponseParams []string
	Tags           []string
	// SDKName is the official Python SDK's "section.method".
	SDKName string
	// Scopes lists the OAuth scopes that allow the operation: any one of
	// them suffices. Empty means the operation needs none that an OAuth
	// token can hold (the real service refuses it to OAuth tokens).
	Scopes []string

	segments []string // Path split on "/", without the leading ""
	body     map[string]bool
}

// Beta reports whether the operation is in early access.
func (o *Operation) Beta() bool { return o.Stage == StageBeta }

// Read reports whether the operation only reads (a GET).
func (o *Operation) Read() bool { return o.Method == http.MethodGet }

// Paginated reports whether the operation takes Meraki's perPage parameter.
func (o *Operation) Paginated() bool { return slices.Contains(o.QueryParams, "perPage") }

// ReturnsList reports whether the operation's response is a JSON array:
// paginated operations and reads Meraki documents as "List ...".
func (o *Operation) ReturnsList() bool {
	if o.Method != http.MethodGet {
		return false
	}
	if o.Paginated() {
		return true
	}
	s := strings.ToLower(o.Summary)
	return strings.HasPrefix(s, "list ") || strings.HasPrefix(s, "lists ")
}

// AcceptsBodyField reports whether name is one of the request body's
// documented field names.
func (o *Operation) AcceptsBodyField(name string) bool { return o.body[name] }

// Catalog is the parsed operation catalog with its router.
type Catalog struct {
	ops     []*Operation
	byID    map[string]*Operation
	router  *Router
	version string
}

var embedded = sync.OnceValues(func() (*Catalog, error) { return Parse(bytes.NewReader(indexCSV)) })

// Load returns the embedded catalog, parsed once per process.
func Load() (*Catalog, error) { return embedded() }

// Must returns the embedded catalog and panics if it does not parse, which
// a test of this package rules out.
func Must() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Version returns the lowercase hex SHA-256 of the embedded catalog file.
func Version() string {
	sum := sha256.Sum256(indexCSV)
	return hex.EncodeToString(sum[:])
}

// columns the parser needs, by header name.
var columns = []string{"releaseStage", "operationId", "summary", "apiDocsUrl", "method", "path",
	"pathParams", "requestBodyParams", "responseParams", "tags", "pythonOperation", "oauthScopes"}

// Parse reads a catalog in api-index.csv form.
func Parse(r io.Reader) (*Catalog, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("catalog: read: %w", err)
	}
	cr := csv.NewReader(bytes.NewReader(raw))
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("catalog: parse: %w", err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("catalog: no operations")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, name := range columns {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("catalog: missing column %q", name)
		}
	}
	sum := sha256.Sum256(raw)
	c := &Catalog{byID: map[string]*Operation{}, router: newRouter(), version: hex.EncodeToString(sum[:])}
	for n, row := range rows[1:] {
		get := func(name string) string { return strings.TrimSpace(row[col[name]]) }
		op := &Operation{
			ID:             get("operationId"),
			Summary:        get("summary"),
			DocsURL:        get("apiDocsUrl"),
			Stage:          get("releaseStage"),
			Method:         strings.ToUpper(get("method")),
			Path:           get("path"),
			BodyParams:     list(get("requestBodyParams")),
			ResponseParams: list(get("responseParams")),
			Tags:           list(get("tags")),
			SDKName:        get("pythonOperation"),
			Scopes:         list(get("oauthScopes")),
		}
		if op.ID == "" || !strings.HasPrefix(op.Path, "/") {
			return nil, fmt.Errorf("catalog: line %d: bad operation %q path %q", n+2, op.ID, op.Path)
		}
		if _, dup := c.byID[op.ID]; dup {
			return nil, fmt.Errorf("catalog: line %d: duplicate operation %q", n+2, op.ID)
		}
		op.segments = strings.Split(op.Path[1:], "/")
		for _, s := range op.segments {
			if name, ok := paramName(s); ok {
				op.PathParams = append(op.PathParams, name)
			} else if strings.ContainsAny(s, "{}") {
				return nil, fmt.Errorf("catalog: %s: segment %q mixes text and a parameter", op.ID, s)
			}
		}
		for _, p := range list(get("pathParams")) {
			if !slices.Contains(op.PathParams, p) {
				op.QueryParams = append(op.QueryParams, p)
			}
		}
		op.body = make(map[string]bool, len(op.BodyParams))
		for _, f := range op.BodyParams {
			op.body[f] = true
		}
		if err := c.router.add(op); err != nil {
			return nil, err
		}
		c.ops = append(c.ops, op)
		c.byID[op.ID] = op
	}
	return c, nil
}

func paramName(seg string) (string, bool) {
	if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

// list splits a catalog cell such as "a, b, c".
func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Version returns the hex SHA-256 of the catalog file this was parsed from.
func (c *Catalog) Version() string { return c.version }

// Operations returns every operation in catalog order. Callers must not
// modify them.
func (c *Catalog) Operations() []*Operation { return c.ops }

// Operation returns the operation with the given operationId.
func (c *Catalog) Operation(id string) (*Operation, bool) {
	op, ok := c.byID[id]
	return op, ok
}

// Match finds the operation for method and a path relative to /api/v1
// (escaped form, as in URL.EscapedPath). ok is false when no operation
// has that path and method.
func (c *Catalog) Match(method, path string) (*Operation, Params, bool) {
	return c.router.Match(method, path)
}

// Child returns the operation that addresses one item of the collection op
// reads or creates: the operation with op's method replaced by method whose
// path is op's path plus one parameter segment, and that parameter's name.
func (c *Catalog) Child(op *Operation, method string) (*Operation, string, bool) {
	return c.router.child(op, method)
}
