package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// networkView is Meraki's Network object.
type networkView struct {
	ID                      string   `json:"id"`
	OrganizationID          string   `json:"organizationId"`
	Name                    string   `json:"name"`
	ProductTypes            []string `json:"productTypes"`
	TimeZone                string   `json:"timeZone"`
	Tags                    []string `json:"tags"`
	EnrollmentString        *string  `json:"enrollmentString"`
	URL                     string   `json:"url"`
	Notes                   string   `json:"notes"`
	IsBoundToConfigTemplate bool     `json:"isBoundToConfigTemplate"`
}

func (c *call) networkView(n store.Network) networkView {
	v := networkView{ID: n.ID, OrganizationID: n.OrgID, Name: n.Name, ProductTypes: n.ProductTypes, TimeZone: n.TimeZone,
		Tags: n.Tags, Notes: n.Notes, URL: c.h.base() + "/organizations/" + n.OrgID + "/networks/" + n.ID}
	if n.EnrollmentString != "" {
		v.EnrollmentString = &n.EnrollmentString
	}
	return v
}

func getOrganizationNetworks(c *call) (int, any, error) {
	pr, err := c.page()
	if err != nil {
		return 0, nil, err
	}
	tags, all, err := c.tagsFilter()
	if err != nil {
		return 0, nil, err
	}
	f := store.NetworkFilter{OrgID: c.orgID, ProductTypes: c.queryList("productTypes"), Tags: tags, TagsAll: all, Page: pr.storePage()}
	// No network of the sandbox is bound to a configuration template.
	bound, _, err := c.queryBool("isBoundToConfigTemplate")
	if err != nil {
		return 0, nil, err
	}
	var nets []store.Network
	var cached *orgNetworks
	if !bound && c.query("configTemplateId") == "" {
		if nets, cached, err = c.h.nets.list(c.r.Context(), f); err != nil {
			return 0, nil, err
		}
	}
	nets, more := trim(pr, nets)
	first, last := "", ""
	if len(nets) > 0 {
		first, last = nets[0].ID, nets[len(nets)-1].ID
	}
	c.link(pr, first, last, more)
	if cached == nil {
		out := make([]networkView, len(nets))
		for i, n := range nets {
			out[i] = c.networkView(n)
		}
		return http.StatusOK, out, nil
	}
	// The common case, answered from JSON encoded once per network.
	base := c.h.base()
	encode := func(n store.Network) ([]byte, error) { return json.Marshal(c.networkView(n)) }
	buf := make([]byte, 0, 64+len(nets)*400)
	buf = append(buf, '[')
	for i, n := range nets {
		if i > 0 {
			buf = append(buf, ',')
		}
		b, err := cached.encoded(cached.index[n.ID], base, encode)
		if err != nil {
			return 0, nil, err
		}
		buf = append(buf, b...)
	}
	buf = append(buf, ']')
	return http.StatusOK, rawJSON(buf), nil
}

// networkFields reads the writable network fields of the body into n.
func (c *call) networkFields(n *store.Network) error {
	if name, ok, err := c.str("name"); err != nil {
		return err
	} else if ok {
		name = strings.TrimSpace(name)
		if name == "" || len(name) > 255 {
			return errorf(http.StatusBadRequest, "'name' must be between 1 and 255 characters")
		}
		n.Name = name
	}
	if tz, ok, err := c.str("timeZone"); err != nil {
		return err
	} else if ok {
		if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
			return errorf(http.StatusBadRequest, "'timeZone' must be a valid time zone, e.g. 'America/Los_Angeles'")
		}
		n.TimeZone = tz
	}
	if tags, ok, err := c.strList("tags"); err != nil {
		return err
	} else if ok {
		if n.Tags, err = cleanTags(tags); err != nil {
			return err
		}
	}
	if notes, ok, err := c.str("notes"); err != nil {
		return err
	} else if ok {
		n.Notes = notes
	}
	if es, ok, err := c.str("enrollmentString"); err != nil {
		return err
	} else if ok {
		n.EnrollmentString = es
	}
	return nil
}

func createOrganizationNetwork(c *call) (int, any, error) {
	ctx := c.r.Context()
	if !c.has("name") {
		return 0, nil, errorf(http.StatusBadRequest, "'name' is required")
	}
	n := store.Network{OrgID: c.orgID, TimeZone: "America/Los_Angeles", Tags: []string{}, CreatedAt: store.Micro(c.now), UpdatedAt: store.Micro(c.now)}
	if from, ok, err := c.str("copyFromNetworkId"); err != nil {
		return 0, nil, err
	} else if ok {
		src, err := c.h.nets.get(ctx, from)
		if errors.Is(err, store.ErrNotFound) || err == nil && src.OrgID != c.orgID {
			return 0, nil, errorf(http.StatusBadRequest, "'copyFromNetworkId' must be a network of this organization")
		}
		if err != nil {
			return 0, nil, err
		}
		n.ProductTypes, n.TimeZone, n.Tags = src.ProductTypes, src.TimeZone, src.Tags
	}
	pts, ok, err := c.strList("productTypes")
	if err != nil {
		return 0, nil, err
	}
	if ok {
		n.ProductTypes = pts
	}
	if len(n.ProductTypes) == 0 {
		return 0, nil, errorf(http.StatusBadRequest, "'productTypes' is required")
	}
	for _, p := range n.ProductTypes {
		if !validProductType(p) {
			return 0, nil, errorf(http.StatusBadRequest, "'productTypes' must contain only: %s", strings.Join(productTypes, ", "))
		}
	}
	n.ProductTypes = sortedStrings(n.ProductTypes)
	n.ProductTypes = slices.Compact(n.ProductTypes)
	if err := c.networkFields(&n); err != nil {
		return 0, nil, err
	}
	for range 5 {
		n.ID = newNetworkID(len(n.ProductTypes) > 1)
		err = c.h.dash.CreateNetwork(ctx, n)
		if !errors.Is(err, store.ErrConflict) {
			break
		}
		if _, gerr := c.h.dash.GetNetwork(ctx, n.ID); gerr != nil {
			// Not the id: the name is taken.
			return 0, nil, errorf(http.StatusBadRequest, "Name has already been taken")
		}
	}
	if err != nil {
		return 0, nil, err
	}
	c.h.nets.drop(c.orgID)
	return http.StatusCreated, c.networkView(n), nil
}

func getNetwork(c *call) (int, any, error) { return http.StatusOK, c.networkView(*c.network), nil }

func updateNetwork(c *call) (int, any, error) {
	n, err := c.h.dash.UpdateNetwork(c.r.Context(), c.network.ID, func(n *store.Network) error {
		n.UpdatedAt = store.Micro(c.now)
		return c.networkFields(n)
	})
	if errors.Is(err, store.ErrConflict) {
		return 0, nil, errorf(http.StatusBadRequest, "Name has already been taken")
	}
	if err != nil {
		return 0, nil, err
	}
	c.h.nets.drop(c.orgID)
	return http.StatusOK, c.networkView(n), nil
}

func deleteNetwork(c *call) (int, any, error) {
	if err := c.h.dash.DeleteNetwork(c.r.Context(), c.network.ID); err != nil {
		return 0, nil, err
	}
	c.h.nets.drop(c.orgID)
	return http.StatusNoContent, nil, nil
}

// requireProduct refuses operations on a network without productType, as
// Meraki does for, e.g., appliance settings of a wireless-only network.
func (c *call) requireProduct(productType string) error {
	if !slices.Contains(c.network.ProductTypes, productType) {
		return errorf(http.StatusBadRequest, "This endpoint only supports networks with product type '%s'", productType)
	}
	return nil
}
