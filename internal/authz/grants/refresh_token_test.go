package grants

import (
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// The grace window's edges; the endpoint tests in package authz cover the
// behaviour around it.
func TestInGrace(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fresh := &store.RefreshToken{Hash: "child"}
	used := &store.RefreshToken{Hash: "child", RotatedAt: now.Add(-time.Second)}
	cases := []struct {
		name    string
		grace   time.Duration
		rotated time.Duration // before now
		child   *store.RefreshToken
		want    bool
	}{
		{"no grace (Meraki)", 0, 0, fresh, false},
		{"inside", 30 * time.Second, 10 * time.Second, fresh, true},
		{"on the edge", 30 * time.Second, 30 * time.Second, fresh, true},
		{"past", 30 * time.Second, 30*time.Second + time.Microsecond, fresh, false},
		{"child already used", 30 * time.Second, time.Second, used, false},
		{"child missing", 30 * time.Second, time.Second, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := Request{Client: store.Client{RefreshGrace: c.grace}, Now: now}
			s := store.RefreshState{Token: store.RefreshToken{RotatedAt: now.Add(-c.rotated)}, Child: c.child}
			if got := inGrace(req, s); got != c.want {
				t.Fatalf("inGrace = %v, want %v", got, c.want)
			}
		})
	}
}
