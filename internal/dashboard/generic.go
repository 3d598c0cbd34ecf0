package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/grantflow/grantflow/internal/dashboard/catalog"
	"github.com/grantflow/grantflow/internal/store"
)

// genericOperation serves every catalogued operation without real
// semantics as a stateful resource, keyed by its path within the
// organization:
//
//   - GET returns what was stored at the path; for a collection, the items
//     created in it; before anything was stored, an object (or a list of
//     three items) shaped from the catalog's response fields. The same
//     path always gives the same answer.
//   - PUT merges the body's fields into the current object and stores it.
//   - POST to a collection (a path with an item operation below it)
//     creates an item with a new id; any other POST (an action) stores its
//     body at the path and answers it.
//   - DELETE leaves a tombstone: GET then answers 404.
//
// Bodies were already checked against the catalog's request field names.
func genericOperation(c *call) (int, any, error) {
	switch c.r.Method {
	case http.MethodGet:
		return c.genericGet()
	case http.MethodPut:
		return c.genericPut()
	case http.MethodPost:
		return c.genericPost()
	case http.MethodDelete:
		return c.genericDelete()
	}
	return 0, nil, errNotFound
}

// resourceOrg is the namespace of the call's generic resources: its
// organization or, for /administered operations, the caller's account.
func (c *call) resourceOrg() string {
	if c.orgID != "" && !strings.HasPrefix(c.op.Path, "/administered/") {
		return c.orgID
	}
	// /administered operations are the person's own, whatever the token.
	return "account/" + c.caller.accountID
}

// isItem reports whether the operation addresses one item of a collection
// (its template ends with a parameter); parent is then the collection path.
func (c *call) isItem() (parent string, ok bool) {
	p := c.op.Path
	if !strings.HasSuffix(p, "}") {
		return "", false
	}
	i := strings.LastIndexByte(c.path, '/')
	return c.path[:i], true
}

func (c *call) shaper() shaper { return shaper{c: c} }

// itemID is the last path parameter's value for item operations.
func (c *call) itemID() string {
	if _, ok := c.isItem(); ok && c.params.Len() > 0 {
		_, v := c.params.At(c.params.Len() - 1)
		return v
	}
	return ""
}

func (c *call) genericGet() (int, any, error) {
	ctx := c.r.Context()
	org := c.resourceOrg()
	r, err := c.h.dash.GetResource(ctx, org, c.path)
	switch {
	case err == nil && r.Deleted:
		return 0, nil, errNotFound
	case err == nil:
		return http.StatusOK, json.RawMessage(r.Body), nil
	case !errors.Is(err, store.ErrNotFound):
		return 0, nil, err
	}
	if c.op.ReturnsList() {
		return c.genericList()
	}
	if parent, ok := c.isItem(); ok {
		// Once items were created in the collection, an id that is not
		// among them is unknown.
		items, err := c.h.dash.ListResources(ctx, org, parent)
		if err != nil {
			return 0, nil, err
		}
		if len(items) > 0 {
			return 0, nil, errNotFound
		}
	}
	return http.StatusOK, c.shaper().object(c.op, c.path, c.itemID()), nil
}

// genericList answers a collection: its stored items or, when none was
// ever created, three sample items.
func (c *call) genericList() (int, any, error) {
	items, err := c.h.dash.ListResources(c.r.Context(), c.resourceOrg(), c.path)
	if err != nil {
		return 0, nil, err
	}
	idField := ""
	if child, name, ok := c.h.cat.Child(c.op, http.MethodGet); ok && slices.Contains(child.ResponseParams, name) {
		idField = name
	} else if slices.Contains(c.op.ResponseParams, "id") {
		idField = "id"
	}
	type entry struct {
		key  string
		body any
	}
	var list []entry
	if len(items) > 0 {
		for _, it := range items {
			if !it.Deleted {
				list = append(list, entry{it.Path[strings.LastIndexByte(it.Path, '/')+1:], json.RawMessage(it.Body)})
			}
		}
	} else {
		for i, s := range c.shaper().list(c.op, c.path, idField, 3) {
			key := string(rune('a' + i))
			if idField != "" {
				key, _ = s[idField].(string)
			}
			list = append(list, entry{key, s})
		}
	}
	if c.op.Paginated() {
		pr, err := c.page()
		if err != nil {
			return 0, nil, err
		}
		var more bool
		list, more = paginate(pr, list, func(e entry) string { return e.key })
		first, last := "", ""
		if len(list) > 0 {
			first, last = list[0].key, list[len(list)-1].key
		}
		c.link(pr, first, last, more)
	}
	out := make([]any, len(list))
	for i, e := range list {
		out[i] = e.body
	}
	return http.StatusOK, out, nil
}

// current returns the object stored at the call's path, or the sample
// shaped from the GET operation of the same path (or of op itself).
func (c *call) current(cur store.Resource, found bool) map[string]any {
	if found && !cur.Deleted {
		var m map[string]any
		if json.Unmarshal(cur.Body, &m) == nil && m != nil {
			return m
		}
	}
	shape := c.op
	if get, _, ok := c.h.cat.Match(http.MethodGet, c.path); ok {
		shape = get
	}
	return c.shaper().object(shape, c.path, c.itemID())
}

func (c *call) genericPut() (int, any, error) {
	parent, item := c.isItem()
	var out map[string]any
	_, err := c.h.dash.UpdateResource(c.r.Context(), c.resourceOrg(), c.path, func(cur store.Resource, found bool) (store.Resource, error) {
		if item && found && cur.Deleted {
			return cur, errNotFound
		}
		out = c.current(cur, found)
		for k, v := range c.body {
			out[k] = v
		}
		b, err := json.Marshal(out)
		return store.Resource{Parent: parent, Body: b, UpdatedAt: c.now}, err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

func (c *call) genericPost() (int, any, error) {
	status := http.StatusOK
	if strings.HasPrefix(c.op.ID, "create") {
		status = http.StatusCreated
	}
	path, parent := c.path, ""
	obj := c.shaper().object(c.op, c.path, "")
	if child, name, ok := c.collectionChild(); ok {
		// A new item of the collection, addressable by the child operations:
		// by the id the body names (VLANs, SSIDs are numbered by their
		// creator) or a fresh one.
		id := bodyID(c.body, name)
		if id == "" {
			id = newNumericID()
		}
		path, parent = c.path+"/"+id, c.path
		obj = c.shaper().object(child, path, id)
		for _, f := range c.op.ResponseParams {
			if _, ok := obj[f]; !ok {
				obj[f] = c.shaper().value(f, hash(path, f))
			}
		}
		obj[name] = id
		status = http.StatusCreated
	}
	for k, v := range c.body {
		obj[k] = v
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.h.dash.UpdateResource(c.r.Context(), c.resourceOrg(), path, func(store.Resource, bool) (store.Resource, error) {
		return store.Resource{Parent: parent, Body: b, UpdatedAt: c.now}, nil
	}); err != nil {
		return 0, nil, err
	}
	return status, obj, nil
}

// bodyID returns the item id a creation body carries in the field named
// like the item's path parameter or in "id", if it is a usable path
// segment.
func bodyID(body map[string]json.RawMessage, name string) string {
	for _, f := range []string{name, "id"} {
		raw, ok := body[f]
		if !ok {
			continue
		}
		var v any
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		}
		if s != "" && len(s) <= 64 && !strings.ContainsAny(s, "/?#% ") {
			return s
		}
	}
	return ""
}

// collectionChild finds the item operation below a POST's path.
func (c *call) collectionChild() (*catalog.Operation, string, bool) {
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		if child, name, ok := c.h.cat.Child(c.op, m); ok {
			return child, name, true
		}
	}
	return nil, "", false
}

func (c *call) genericDelete() (int, any, error) {
	parent, _ := c.isItem()
	_, err := c.h.dash.UpdateResource(c.r.Context(), c.resourceOrg(), c.path, func(cur store.Resource, found bool) (store.Resource, error) {
		if found && cur.Deleted {
			return cur, errNotFound
		}
		body := cur.Body
		if len(body) == 0 {
			body = []byte("{}")
		}
		return store.Resource{Parent: parent, Body: body, Deleted: true, UpdatedAt: c.now}, nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
