package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/grantflow/grantflow/internal/store"
)

type nameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// orgView is Meraki's Organization object.
type orgView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	API       orgAPI `json:"api"`
	Licensing struct {
		Model string `json:"model"`
	} `json:"licensing"`
	Cloud struct {
		Region struct {
			Name string `json:"name"`
			Host struct {
				Name string `json:"name"`
			} `json:"host"`
		} `json:"region"`
	} `json:"cloud"`
	Management orgManagement `json:"management"`
}

type orgAPI struct {
	Enabled bool `json:"enabled"`
}

type orgManagement struct {
	Details []nameValue `json:"details"`
}

// orgSettings are the organization fields kept beside its name, as the
// generic resource at /organizations/{id}.
type orgSettings struct {
	API        *orgAPI        `json:"api,omitempty"`
	Management *orgManagement `json:"management,omitempty"`
}

func (c *call) orgPath(id string) string { return "/organizations/" + id }

func (c *call) orgView(o store.Organization) (orgView, error) {
	v := orgView{ID: o.ID, Name: o.Name, URL: c.h.base() + "/organizations/" + o.ID}
	v.API.Enabled = true
	v.Licensing.Model = "co-term"
	v.Cloud.Region.Name = "North America"
	v.Cloud.Region.Host.Name = "United States"
	v.Management.Details = []nameValue{}
	r, err := c.h.dash.GetResource(c.r.Context(), o.ID, c.orgPath(o.ID))
	if errors.Is(err, store.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return v, err
	}
	var s orgSettings
	if err := json.Unmarshal(r.Body, &s); err != nil {
		return v, err
	}
	if s.API != nil {
		v.API = *s.API
	}
	if s.Management != nil && s.Management.Details != nil {
		v.Management = *s.Management
	}
	return v, nil
}

// getOrganizations lists the organizations the caller sees: the token's
// one, or every organization of the API key's administrator.
func getOrganizations(c *call) (int, any, error) {
	pr, err := c.page()
	if err != nil {
		return 0, nil, err
	}
	ids := c.caller.orgs()
	ids, more := paginate(pr, ids, func(s string) string { return s })
	out := make([]orgView, 0, len(ids))
	for _, id := range ids {
		o, err := c.h.st.Organizations().GetOrganization(c.r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		v, err := c.orgView(o)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, v)
	}
	first, last := "", ""
	if len(ids) > 0 {
		first, last = ids[0], ids[len(ids)-1]
	}
	c.link(pr, first, last, more)
	return http.StatusOK, out, nil
}

func getOrganization(c *call) (int, any, error) {
	o, err := c.h.st.Organizations().GetOrganization(c.r.Context(), c.orgID)
	if err != nil {
		return 0, nil, err
	}
	v, err := c.orgView(o)
	return http.StatusOK, v, err
}

func validOrgName(name string) error {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 255 || strings.ContainsFunc(name, unicode.IsControl) {
		return errorf(http.StatusBadRequest, "'name' must be between 1 and 255 printable characters")
	}
	return nil
}

// orgSettingsFromBody reads api and management from the body into s.
func (c *call) orgSettingsFromBody(s *orgSettings) error {
	var api orgAPI
	if ok, err := c.decode("api", &api, "an object with a boolean 'enabled'"); err != nil {
		return err
	} else if ok {
		s.API = &api
	}
	var m orgManagement
	if ok, err := c.decode("management", &m, "an object with 'details', a list of {name, value}"); err != nil {
		return err
	} else if ok {
		if m.Details == nil {
			m.Details = []nameValue{}
		}
		s.Management = &m
	}
	return nil
}

func (c *call) saveOrgSettings(orgID string, s orgSettings) error {
	_, err := c.h.dash.UpdateResource(c.r.Context(), orgID, c.orgPath(orgID), func(cur store.Resource, found bool) (store.Resource, error) {
		var old orgSettings
		if found {
			_ = json.Unmarshal(cur.Body, &old)
		}
		if s.API != nil {
			old.API = s.API
		}
		if s.Management != nil {
			old.Management = s.Management
		}
		b, err := json.Marshal(old)
		return store.Resource{Body: b, UpdatedAt: c.now}, err
	})
	return err
}

func updateOrganization(c *call) (int, any, error) {
	ctx := c.r.Context()
	name, hasName, err := c.str("name")
	if err != nil {
		return 0, nil, err
	}
	var s orgSettings
	if err := c.orgSettingsFromBody(&s); err != nil {
		return 0, nil, err
	}
	if hasName {
		if err := validOrgName(name); err != nil {
			return 0, nil, err
		}
		if err := c.h.dash.RenameOrganization(ctx, c.orgID, strings.TrimSpace(name)); err != nil {
			return 0, nil, err
		}
	}
	if err := c.saveOrgSettings(c.orgID, s); err != nil {
		return 0, nil, err
	}
	c.h.record(c, "org.updated", c.orgID, map[string]string{"name": name})
	return getOrganization(c)
}

// createOrganization makes a new organization with the caller (an API
// key's administrator; OAuth tokens cannot call it) as its full admin. As
// on Meraki, where only an organization's full administrators see "Create
// organization", a read-only administrator's key is refused: read-only
// keys never write.
func createOrganization(c *call) (int, any, error) {
	ctx := c.r.Context()
	if !slices.Contains(slices.Collect(maps.Values(c.caller.access)), store.AccessFull) {
		return 0, nil, errorf(http.StatusForbidden, "Read-only administrators cannot create organizations")
	}
	name, _, err := c.str("name")
	if err != nil {
		return 0, nil, err
	}
	if err := validOrgName(name); err != nil {
		return 0, nil, err
	}
	var s orgSettings
	if err := c.orgSettingsFromBody(&s); err != nil {
		return 0, nil, err
	}
	var org store.Organization
	for range 10 {
		org = store.Organization{ID: digits(randUint64(), 6+int(randUint64()%4)), Name: strings.TrimSpace(name), CreatedAt: store.Micro(c.now)}
		err = c.h.st.Organizations().CreateOrganization(ctx, org)
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return 0, nil, fmt.Errorf("create organization: %w", err)
	}
	if err := c.h.st.Accounts().PutMembership(ctx, store.Membership{OrgID: org.ID, AccountID: c.caller.accountID, Access: store.AccessFull, CreatedAt: store.Micro(c.now)}); err != nil {
		return 0, nil, err
	}
	c.h.members.drop(c.caller.accountID)
	if err := c.saveOrgSettings(org.ID, s); err != nil {
		return 0, nil, err
	}
	c.orgID = org.ID
	c.h.record(c, "org.created", org.ID, map[string]string{"name": org.Name})
	v, err := c.orgView(org)
	return http.StatusCreated, v, err
}

// deleteOrganization deletes an empty organization, as Meraki does: one
// with networks or devices in its inventory is refused. Every grant for it
// is revoked first, so its tokens stop working.
func deleteOrganization(c *call) (int, any, error) {
	ctx := c.r.Context()
	nets, err := c.h.dash.ListNetworks(ctx, store.NetworkFilter{OrgID: c.orgID, Page: store.Page{Limit: 1}})
	if err != nil {
		return 0, nil, err
	}
	devs, err := c.h.dash.ListDevices(ctx, store.DeviceFilter{OrgID: c.orgID, Page: store.Page{Limit: 1}})
	if err != nil {
		return 0, nil, err
	}
	if len(nets) > 0 || len(devs) > 0 {
		return 0, nil, errorf(http.StatusBadRequest, "This organization cannot be deleted: it still has networks or devices in its inventory")
	}
	integrations, err := c.h.st.Grants().ListOrgIntegrations(ctx, c.orgID)
	if err != nil {
		return 0, nil, err
	}
	for _, in := range integrations {
		if _, err := c.h.st.Grants().RevokeClientOrgGrants(ctx, in.Client.ID, c.orgID, "organization_deleted", c.now); err != nil {
			return 0, nil, err
		}
	}
	members, err := c.h.st.Accounts().ListOrgMembers(ctx, c.orgID)
	if err != nil {
		return 0, nil, err
	}
	if err := c.h.dash.DeleteOrganization(ctx, c.orgID, c.now); err != nil {
		return 0, nil, err
	}
	for _, m := range members {
		c.h.members.drop(m.AccountID)
	}
	c.h.nets.drop(c.orgID)
	c.h.record(c, "org.deleted", c.orgID, nil)
	return http.StatusNoContent, nil, nil
}

// record writes an audit event for an administrative change made through
// the API, naming the integration or API key that made it.
func (h *Handler) record(c *call, action, target string, details map[string]string) {
	d := map[string]string{"operation": c.op.ID}
	for k, v := range details {
		if v != "" {
			d[k] = v
		}
	}
	if c.caller.keyID != "" {
		d["api_key_id"] = c.caller.keyID
	}
	_ = h.audit.Record(c.r.Context(), store.AuditEvent{Action: action, ActorAccountID: c.caller.accountID,
		ActorClientID: c.caller.clientID, OrgID: c.orgID, Target: target, Details: d})
}

// getAdministeredIdentitiesMe returns the caller's own identity.
func getAdministeredIdentitiesMe(c *call) (int, any, error) {
	acc, err := c.h.st.Accounts().GetAccount(c.r.Context(), c.caller.accountID)
	if err != nil {
		return 0, nil, err
	}
	keys, err := c.h.keys.List(c.r.Context(), acc.ID)
	if err != nil {
		return 0, nil, err
	}
	type enabled struct {
		Enabled bool `json:"enabled"`
	}
	var v struct {
		Name                string `json:"name"`
		Email               string `json:"email"`
		LastUsedDashboardAt string `json:"lastUsedDashboardAt"`
		Authentication      struct {
			Mode string `json:"mode"`
			API  struct {
				Key struct {
					Created bool `json:"created"`
				} `json:"key"`
			} `json:"api"`
			TwoFactor enabled `json:"twoFactor"`
			SAML      enabled `json:"saml"`
		} `json:"authentication"`
	}
	v.Name, v.Email, v.LastUsedDashboardAt = acc.Name, acc.Email, fmtTime(acc.UpdatedAt)
	v.Authentication.Mode = "email"
	v.Authentication.API.Key.Created = len(keys) > 0
	return http.StatusOK, v, nil
}

// The caller's own API keys, by their last four characters ("suffix").

func getAdministeredIdentitiesMeAPIKeys(c *call) (int, any, error) {
	keys, err := c.h.keys.List(c.r.Context(), c.caller.accountID)
	if err != nil {
		return 0, nil, err
	}
	type keyView struct {
		Suffix    string `json:"suffix"`
		CreatedAt string `json:"createdAt"`
	}
	out := make([]keyView, len(keys))
	for i, k := range keys {
		out[i] = keyView{k.Last4, fmtTime(k.CreatedAt)}
	}
	return http.StatusOK, out, nil
}

func generateAdministeredIdentitiesMeAPIKeys(c *call) (int, any, error) {
	raw, _, err := c.h.keys.Create(c.r.Context(), c.caller.accountID)
	if errors.Is(err, ErrTooManyAPIKeys) {
		return 0, nil, errorf(http.StatusBadRequest, "An administrator can have at most %d API keys; revoke one first", MaxAPIKeys)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]string{"key": raw}, nil
}

func revokeAdministeredIdentitiesMeAPIKeys(c *call) (int, any, error) {
	ctx := c.r.Context()
	keys, err := c.h.keys.List(ctx, c.caller.accountID)
	if err != nil {
		return 0, nil, err
	}
	i := slices.IndexFunc(keys, func(k store.APIKey) bool { return k.Last4 == c.params.Get("suffix") })
	if i < 0 {
		return 0, nil, errNotFound
	}
	if err := c.h.keys.Revoke(ctx, c.caller.accountID, keys[i].ID); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
