package dashboard

import (
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/grantflow/grantflow/internal/dashboard/catalog"
	"github.com/grantflow/grantflow/internal/store"
)

// perPageLimit is an operation's accepted perPage range and default.
type perPageLimit struct{ min, max, def int }

// perPageLimits are Meraki's documented ranges for the paginated
// operations the sandbox implements for real; the rest use
// defaultPerPage.
var perPageLimits = map[string]perPageLimit{
	"getOrganizations":                     {3, 9000, 9000},
	"getOrganizationNetworks":              {3, 100000, 1000},
	"getOrganizationDevices":               {3, 1000, 1000},
	"getOrganizationDevicesStatuses":       {3, 1000, 1000},
	"getOrganizationDevicesAvailabilities": {3, 1000, 1000},
	"getOrganizationInventoryDevices":      {3, 1000, 1000},
	"getOrganizationFirmwareUpgrades":      {3, 1000, 1000},
	"getOrganizationApiRequests":           {3, 1000, 50},
	"getNetworkClients":                    {3, 5000, 10},
}

var defaultPerPage = perPageLimit{3, 1000, 1000}

func limitsFor(op *catalog.Operation) perPageLimit {
	if l, ok := perPageLimits[op.ID]; ok {
		return l
	}
	return defaultPerPage
}

// Cursors of the first and last pages in Link headers, as Meraki writes
// them: every key sorts after the first and before the last.
const (
	firstCursor = "0000000000"
	lastCursor  = "zzzzzzzzzz"
)

// pageRequest is a request's perPage, startingAfter and endingBefore.
type pageRequest struct {
	perPage       int
	startingAfter string
	endingBefore  string
}

func parsePage(op *catalog.Operation, q url.Values) (pageRequest, error) {
	l := limitsFor(op)
	pr := pageRequest{perPage: l.def, startingAfter: q.Get("startingAfter"), endingBefore: q.Get("endingBefore")}
	if s := q.Get("perPage"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < l.min || n > l.max {
			return pr, errorf(http.StatusBadRequest, "'perPage' must be an integer between %d and %d", l.min, l.max)
		}
		pr.perPage = n
	}
	return pr, nil
}

// storePage asks the store for one row more than a page, to learn whether
// there are more.
func (pr pageRequest) storePage() store.Page {
	return store.Page{StartingAfter: pr.startingAfter, EndingBefore: pr.endingBefore, Limit: pr.perPage + 1}
}

// trim cuts the extra row fetched by storePage (rows in key order) and
// reports whether it was there. Paging backward, the extra row is the
// earliest.
func trim[T any](pr pageRequest, rows []T) ([]T, bool) {
	if len(rows) <= pr.perPage {
		return rows, false
	}
	if pr.endingBefore != "" {
		return rows[len(rows)-pr.perPage:], true
	}
	return rows[:pr.perPage], true
}

// paginate pages a list already in memory; items must be sorted by key.
func paginate[T any](pr pageRequest, items []T, key func(T) string) (page []T, more bool) {
	lo, hi := 0, len(items)
	if pr.startingAfter != "" {
		for lo < hi && key(items[lo]) <= pr.startingAfter {
			lo++
		}
	}
	if pr.endingBefore != "" {
		for hi > lo && key(items[hi-1]) >= pr.endingBefore {
			hi--
		}
		if hi-lo > pr.perPage {
			return items[hi-pr.perPage : hi], true
		}
		return items[lo:hi], false
	}
	if hi-lo > pr.perPage {
		return items[lo : lo+pr.perPage], true
	}
	return items[lo:hi], false
}

// page reads the call's pagination parameters.
func (c *call) page() (pageRequest, error) { return parsePage(c.op, c.values()) }

// link writes the call's Link header; see setLink.
func (c *call) link(pr pageRequest, firstKey, lastKey string, more bool) {
	setLink(c.w, c.r, c.h.base(), c.values(), pr, firstKey, lastKey, more)
}

// setLink writes the RFC 8288 Link header with Meraki's first, prev, next
// and last relations, on baseURL (the public URL, not the request's Host). firstKey and lastKey are
// the keys of the page's first and last rows ("" for an empty page); more
// is what trim or paginate reported.
func setLink(w http.ResponseWriter, r *http.Request, baseURL string, query url.Values, pr pageRequest, firstKey, lastKey string, more bool) {
	backward := pr.endingBefore != ""
	hasPrev := (backward && more) || (!backward && pr.startingAfter != "" && pr.startingAfter != firstCursor)
	hasNext := (!backward && more) || (backward && pr.endingBefore != lastCursor)

	// The other parameters (perPage, filters) are kept; the cursor goes last.
	q := maps.Clone(query)
	q.Del("startingAfter")
	q.Del("endingBefore")
	base := baseURL + r.URL.EscapedPath() + "?"
	if enc := q.Encode(); enc != "" {
		base += enc + "&"
	}
	var b strings.Builder
	link := func(param, cursor, rel string) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString("<" + base + param + "=" + url.QueryEscape(cursor) + ">; rel=" + rel)
	}
	link("startingAfter", firstCursor, "first")
	if hasPrev && firstKey != "" {
		link("endingBefore", firstKey, "prev")
	}
	if hasNext && lastKey != "" {
		link("startingAfter", lastKey, "next")
	}
	link("endingBefore", lastCursor, "last")
	w.Header().Set("Link", b.String())
}
