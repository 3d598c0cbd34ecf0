package dashboard

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/grantflow/grantflow/internal/dashboard/catalog"
)

// sampleEpoch anchors generated timestamps so that the same path always
// gives the same answer.
var sampleEpoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// shaper builds plausible JSON values from the catalog's flattened
// response field names, deterministically from a seed (the resource's
// path), and fills fields named like the path's parameters with their
// values.
type shaper struct {
	c *call
}

// object returns an object with every response field of op.
func (s shaper) object(op *catalog.Operation, seed, itemID string) map[string]any {
	out := make(map[string]any, len(op.ResponseParams))
	for _, f := range op.ResponseParams {
		out[f] = s.value(f, hash(seed, f))
	}
	// Path parameters answer with their own values; an item's id is the
	// last one.
	for i := 0; i < s.c.params.Len(); i++ {
		name, v := s.c.params.At(i)
		if _, ok := out[name]; ok {
			out[name] = v
		}
	}
	if itemID != "" {
		if _, ok := out["id"]; ok {
			out["id"] = itemID
		}
	}
	return out
}

// list returns n sample items of op whose ids are idField.
func (s shaper) list(op *catalog.Operation, seed, idField string, n int) []map[string]any {
	items := make([]map[string]any, n)
	for i := range items {
		id := digits(hash(seed, fmt.Sprint("item", i)), 12)
		obj := s.object(op, fmt.Sprintf("%s#%d", seed, i), id)
		if idField != "" {
			obj[idField] = id
		}
		items[i] = obj
	}
	slices.SortFunc(items, func(a, b map[string]any) int { return strings.Compare(fmt.Sprint(a[idField]), fmt.Sprint(b[idField])) })
	return items
}

func hash(seed, field string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(seed))
	h.Write([]byte{0})
	h.Write([]byte(field))
	return h.Sum64()
}

// digits returns n decimal digits derived from h, not starting with 0.
func digits(h uint64, n int) string {
	b := make([]byte, n)
	for i := range b {
		h = h*6364136223846793005 + 1442695040888963407
		b[i] = byte('0' + (h>>33)%10)
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

// pluralExceptions end in "s" but are not lists.
var pluralExceptions = map[string]bool{"status": true, "address": true, "alias": true, "class": true, "bps": true,
	"dns": true, "kbps": true, "mbps": true, "access": true, "success": true, "progress": true,
	"bytes": true, "analytics": true, "ms": true, "seconds": true, "minutes": true, "hours": true, "days": true,
	"process": true, "radius": true, "os": true, "gps": true, "https": true}

func (s shaper) value(field string, h uint64) any {
	lf := strings.ToLower(field)
	last := lastWord(field)
	switch {
	case field == "organizationId":
		return s.c.orgID
	case field == "networkId":
		if s.c.network != nil {
			return s.c.network.ID
		}
		return "N_" + digits(h, 18)
	case field == "serial" || lf == "deviceserial":
		if s.c.device != nil {
			return s.c.device.Serial
		}
		return sampleSerial(h)
	case lf == "mac" || last == "mac":
		return sampleMAC(h)
	case lf == "email" || last == "email":
		return "admin" + digits(h, 3) + "@example.com"
	case lf == "url" || last == "url":
		return "https://dashboard.meraki.com/o/" + digits(h, 6) + "/manage"
	case lf == "id" || last == "id":
		return digits(h, 12)
	case lf == "enabled" || last == "enabled" || strings.HasPrefix(field, "is") && len(field) > 2 && unicode.IsUpper(rune(field[2])) ||
		strings.HasPrefix(field, "has") && len(field) > 3 && unicode.IsUpper(rune(field[3])) || lf == "active":
		return h%3 != 0
	case lf == "tags":
		return []string{}
	case lf == "lat":
		return 37.4180951 + float64(h%1000)/10000
	case lf == "lng":
		return -122.098531 - float64(h%1000)/10000
	case lf == "ts" || last == "at" || last == "time" || last == "date" || last == "seen" || lf == "timestamp" || last == "since":
		return sampleEpoch.Add(-time.Duration(h%(30*24*60)) * time.Minute).Format(time.RFC3339)
	case lf == "ip" || last == "ip" || lf == "gateway" || last == "gateway" || strings.HasSuffix(lf, "dns"):
		return fmt.Sprintf("10.%d.%d.%d", h%200+1, (h>>8)%250, (h>>16)%250+2)
	case last == "cidr" || lf == "subnet" || last == "subnet":
		return fmt.Sprintf("192.168.%d.0/24", h%250)
	case last == "count" || last == "number" || last == "port" || last == "vlan" || last == "total" || last == "limit" ||
		last == "size" || last == "duration" || last == "interval" || last == "timespan" || last == "priority" ||
		last == "sent" || last == "recv" || last == "usage" || last == "index" || last == "channel" || last == "quantity" ||
		last == "mtu" || last == "kbps" || last == "mbps" || last == "bytes" || last == "seconds" || last == "minutes" ||
		last == "rssi" || last == "snr" || last == "weight" || last == "remaining" || last == "latency" || last == "jitter":
		return int(h % 100)
	case last == "percent" || last == "percentage" || last == "loss" || last == "score" || last == "utilization":
		return float64(h%10000) / 100
	case lf == "status":
		return []string{"online", "active", "complete", "enabled"}[h%4]
	case lf == "model":
		return []string{"MR36", "MS120-8", "MX68", "MV12", "MT10"}[h%5]
	case lf == "producttype":
		return productTypes[h%uint64(len(productTypes))]
	case lf == "producttypes":
		return []string{"appliance", "switch", "wireless"}
	case lf == "firmware":
		return "wireless-30-7"
	case lf == "timezone":
		return "America/Los_Angeles"
	case lf == "name" || last == "name":
		return "Sandbox " + words(field) + " " + digits(h, 2)
	case strings.HasSuffix(lf, "s") && !strings.HasSuffix(lf, "ss") && !pluralExceptions[last] && !pluralExceptions[lf]:
		return []any{}
	default:
		return words(field) + " " + digits(h, 3)
	}
}

// lastWord returns the last camelCase word of field, lower-cased:
// "lastReportedAt" -> "at", "lanIp" -> "ip".
func lastWord(field string) string {
	i := len(field) - 1
	for i > 0 && !unicode.IsUpper(rune(field[i])) {
		i--
	}
	// runs of capitals ("publicIP") form one word
	for i > 0 && unicode.IsUpper(rune(field[i-1])) && unicode.IsUpper(rune(field[i])) {
		i--
	}
	return strings.ToLower(field[i:])
}

// words turns "trafficShaping" into "traffic shaping".
func words(field string) string {
	var b strings.Builder
	for i, r := range field {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
