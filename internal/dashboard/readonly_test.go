package dashboard

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

// A read-only administrator's API key cannot create organizations (it only
// reads, as the README says); a full administrator's can.
func TestReadOnlyKeyCannotCreateOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	if r := e.call("POST", "/organizations", e.keyReadA, map[string]any{"name": "Shadow Org"}); r.status != http.StatusForbidden {
		t.Fatalf("read-only key: %d %s", r.status, r.body)
	}
	if r := e.call("POST", "/organizations", e.keyFullA, map[string]any{"name": "New Org"}); r.status != http.StatusCreated {
		t.Fatalf("full key: %d %s", r.status, r.body)
	}
}

// The operations guide states the API key's real strength: 40 hex
// characters (Meraki's format) are 160 bits, not 256.
func TestAPIKeyStrengthDocumented(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	raw, _, err := e.h.keys.Create(t.Context(), e.fullA)
	must(t, err)
	b, err := os.ReadFile("../../docs/operations.md")
	must(t, err)
	doc := string(b)
	if bits := len(raw) * 4; !strings.Contains(doc, "API keys") || !strings.Contains(doc, "API keys are 160-bit") || bits != 160 {
		t.Errorf("key of %d bits; docs/operations.md must say \"API keys are 160-bit\"", bits)
	}
	if strings.Contains(doc, "session ids and API keys: 256-bit") {
		t.Error("docs/operations.md still says API keys have 256 bits")
	}
}
