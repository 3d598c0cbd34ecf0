package dashboard

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
)

// productTypes are the network product types Meraki accepts.
var productTypes = []string{"appliance", "switch", "wireless", "camera", "sensor", "cellularGateway", "systemsManager"}

func validProductType(p string) bool {
	for _, x := range productTypes {
		if x == p {
			return true
		}
	}
	return false
}

// model is one hardware model the sandbox knows: its product type, the
// serial prefix the sandbox gives it, and (switches) its port count.
type model struct {
	name        string
	productType string
	prefix      string // the first four characters of its serials
	ports       int
}

// models are the hardware the sandbox seeds and recognises by serial prefix.
var models = []model{
	{"MX68", "appliance", "Q2KY", 0},
	{"MX85", "appliance", "Q2MX", 0},
	{"MX250", "appliance", "Q2RN", 0},
	{"Z3", "appliance", "Q2ZZ", 0},
	{"MS120-8", "switch", "Q2BX", 10},
	{"MS120-24P", "switch", "Q2CX", 28},
	{"MS225-48FP", "switch", "Q2HP", 52},
	{"MS390-24", "switch", "Q2SW", 28},
	{"MR36", "wireless", "Q2QD", 0},
	{"MR46", "wireless", "Q2KD", 0},
	{"MR57", "wireless", "Q2FD", 0},
	{"CW9166", "wireless", "Q2WC", 0},
	{"MV12", "camera", "Q2EV", 0},
	{"MV22", "camera", "Q2FV", 0},
	{"MT10", "sensor", "Q2UD", 0},
	{"MT12", "sensor", "Q2TD", 0},
	{"MG41", "cellularGateway", "Q2ZG", 0},
}

func modelByName(name string) (model, bool) {
	for _, m := range models {
		if m.name == name {
			return m, true
		}
	}
	return model{}, false
}

// modelForSerial infers a model from a serial's prefix; unknown prefixes
// get an access point, the most common device.
func modelForSerial(serial string) model {
	for _, m := range models {
		if strings.HasPrefix(serial, m.prefix) {
			return m
		}
	}
	return models[8]
}

// serialAlphabet leaves out letters that read like digits, as Meraki does.
const serialAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// validSerial reports whether s looks like a Meraki serial: Q2XX-XXXX-XXXX
// (letters and digits in groups of four).
func validSerial(s string) bool {
	if len(s) != 14 || s[4] != '-' || s[9] != '-' || s[0] != 'Q' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 4 || i == 9 {
			continue
		}
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// serialFrom builds a serial with prefix from the bits of n.
func serialFrom(prefix string, n uint64) string {
	b := []byte(prefix + "-XXXX-XXXX")
	for _, i := range []int{5, 6, 7, 8, 10, 11, 12, 13} {
		b[i] = serialAlphabet[n%uint64(len(serialAlphabet))]
		n /= uint64(len(serialAlphabet))
	}
	return string(b)
}

func sampleSerial(h uint64) string { return serialFrom("Q2QD", h) }

// sampleMAC is a MAC in one of Meraki's OUIs.
func sampleMAC(h uint64) string {
	return fmt.Sprintf("e0:55:3d:%02x:%02x:%02x", byte(h>>16), byte(h>>8), byte(h))
}

func randUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// newNetworkID returns a Meraki-style network id: "N_" and 18 digits, or
// "L_" for a network combining several product types.
func newNetworkID(combined bool) string {
	prefix := "N_"
	if combined {
		prefix = "L_"
	}
	return prefix + fmt.Sprintf("%018d", 600000000000000000+randUint64()%300000000000000000)
}

// newNumericID returns an 18-digit id for generic resources and jobs.
func newNumericID() string {
	return fmt.Sprintf("%d", 100000000000000000+randUint64()%800000000000000000)
}
