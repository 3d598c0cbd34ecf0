package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
)

// l3Rule is one appliance L3 firewall rule.
type l3Rule struct {
	Comment       string `json:"comment"`
	Policy        string `json:"policy"`
	Protocol      string `json:"protocol"`
	SrcPort       string `json:"srcPort"`
	SrcCidr       string `json:"srcCidr"`
	DestPort      string `json:"destPort"`
	DestCidr      string `json:"destCidr"`
	SyslogEnabled bool   `json:"syslogEnabled"`
}

// l3Rules is what is stored: the custom rules and the default rule's
// syslog setting. Meraki always appends the default "allow any" rule.
type l3Rules struct {
	Rules             []l3Rule `json:"rules"`
	SyslogDefaultRule bool     `json:"syslogDefaultRule"`
}

func (s l3Rules) view() map[string]any {
	rules := append(slices.Clone(s.Rules), l3Rule{Comment: "Default rule", Policy: "allow", Protocol: "Any", SrcPort: "Any",
		SrcCidr: "Any", DestPort: "Any", DestCidr: "Any", SyslogEnabled: s.SyslogDefaultRule})
	return map[string]any{"rules": rules}
}

func (c *call) firewallPath() string {
	return "/networks/" + c.network.ID + "/appliance/firewall/l3FirewallRules"
}

func getNetworkApplianceFirewallL3FirewallRules(c *call) (int, any, error) {
	if err := c.requireProduct("appliance"); err != nil {
		return 0, nil, err
	}
	var s l3Rules
	r, err := c.h.dash.GetResource(c.r.Context(), c.orgID, c.firewallPath())
	switch {
	case err == nil:
		if err := json.Unmarshal(r.Body, &s); err != nil {
			return 0, nil, err
		}
	case !errors.Is(err, store.ErrNotFound):
		return 0, nil, err
	}
	return http.StatusOK, s.view(), nil
}

func updateNetworkApplianceFirewallL3FirewallRules(c *call) (int, any, error) {
	if err := c.requireProduct("appliance"); err != nil {
		return 0, nil, err
	}
	var raw []map[string]json.RawMessage
	hasRules, err := c.decode("rules", &raw, "an array of rules")
	if err != nil {
		return 0, nil, err
	}
	syslog, hasSyslog, err := c.boolean("syslogDefaultRule")
	if err != nil {
		return 0, nil, err
	}
	var rules []l3Rule
	var msgs []string
	for i, fields := range raw {
		r, errs := parseL3Rule(fields)
		for _, e := range errs {
			msgs = append(msgs, "Rule "+strconv.Itoa(i+1)+": "+e)
		}
		rules = append(rules, r)
	}
	if len(msgs) > 0 {
		return 0, nil, errList(http.StatusBadRequest, msgs)
	}
	var out l3Rules
	_, err = c.h.dash.UpdateResource(c.r.Context(), c.orgID, c.firewallPath(), func(cur store.Resource, found bool) (store.Resource, error) {
		if found {
			_ = json.Unmarshal(cur.Body, &out)
		}
		if hasRules {
			out.Rules = nonNil(rules)
		}
		if hasSyslog {
			out.SyslogDefaultRule = syslog
		}
		b, err := json.Marshal(out)
		return store.Resource{Body: b, UpdatedAt: c.now}, err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out.view(), nil
}

// parseL3Rule validates one rule as Meraki does: policy, protocol and both
// CIDRs are required; ports are required for TCP and UDP only.
func parseL3Rule(fields map[string]json.RawMessage) (l3Rule, []string) {
	var r l3Rule
	var errs []string
	str := func(name string, required bool) string {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			if required {
				errs = append(errs, "'"+name+"' is required")
			}
			return ""
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			errs = append(errs, "'"+name+"' must be a string")
		}
		return s
	}
	known := []string{"comment", "policy", "protocol", "srcPort", "srcCidr", "destPort", "destCidr", "syslogEnabled"}
	for k := range fields {
		if !slices.Contains(known, k) {
			errs = append(errs, "Unrecognized parameter '"+k+"'")
		}
	}
	r.Comment = str("comment", false)
	r.Policy = strings.ToLower(str("policy", true))
	if r.Policy != "" && r.Policy != "allow" && r.Policy != "deny" {
		errs = append(errs, "'policy' must be 'allow' or 'deny'")
	}
	r.Protocol = strings.ToLower(str("protocol", true))
	switch r.Protocol {
	case "", "tcp", "udp", "icmp", "icmp6", "any":
	default:
		errs = append(errs, "'protocol' must be one of: 'tcp', 'udp', 'icmp', 'icmp6', 'any'")
	}
	if r.Protocol == "any" {
		r.Protocol = "Any"
	}
	ports := r.Protocol == "tcp" || r.Protocol == "udp"
	for _, p := range []struct {
		name string
		dst  *string
	}{{"srcPort", &r.SrcPort}, {"destPort", &r.DestPort}} {
		*p.dst = str(p.name, false)
		switch {
		case *p.dst == "" || !ports:
			*p.dst = "Any"
		case !validPorts(*p.dst):
			errs = append(errs, "'"+p.name+"' must be 'Any', a port, a range (e.g. 8000-8080) or a comma-separated list")
		}
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"srcCidr", &r.SrcCidr}, {"destCidr", &r.DestCidr}} {
		*p.dst = str(p.name, true)
		if *p.dst != "" && !validCidrs(*p.dst) {
			errs = append(errs, "'"+p.name+"' must be 'Any' or a comma-separated list of IP addresses or CIDR subnets")
		}
		if strings.EqualFold(*p.dst, "any") {
			*p.dst = "Any"
		}
	}
	if raw, ok := fields["syslogEnabled"]; ok && json.Unmarshal(raw, &r.SyslogEnabled) != nil {
		errs = append(errs, "'syslogEnabled' must be a boolean")
	}
	return r, errs
}

func validPorts(s string) bool {
	if strings.EqualFold(s, "any") {
		return true
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 1 || a > 65535 {
			return false
		}
		if isRange {
			b, err := strconv.Atoi(hi)
			if err != nil || b < a || b > 65535 {
				return false
			}
		}
	}
	return true
}

func validCidrs(s string) bool {
	if strings.EqualFold(s, "any") {
		return true
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if _, err := netip.ParsePrefix(part); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(part); err != nil {
			return false
		}
	}
	return true
}
