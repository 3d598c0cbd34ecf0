package automation_test

import (
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The JSON API refuses a body that is not UTF-8 (400) and one over its
// limit (413), instead of replacing bytes or cutting it short.
func TestAPIBodyUTF8AndSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org := e.newOrg("Acme")
	e.newAdmin(org.ID, "admin@example.com", "full")
	b := e.login("admin@example.com")
	_, page := b.get("/organizations")
	token := html.UnescapeString(csrfRE.FindStringSubmatch(page)[1])
	for _, tt := range []struct {
		body string
		want int
	}{
		{"{\"org_id\":\"" + org.ID + "\xff\",\"meraki\":true}", http.StatusBadRequest},
		{`{"org_id":"` + strings.Repeat("1", 70<<10) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/api/automation/tenants", strings.NewReader(tt.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", token)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("body of %d bytes: %d %s, want %d", len(tt.body), resp.StatusCode, body, tt.want)
		}
	}
}
