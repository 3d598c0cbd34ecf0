package server

import (
	"context"

	"github.com/grantflow/grantflow/internal/identity"
	"github.com/grantflow/grantflow/internal/store"
)

// Demo is what first start created: a demo organization with a full-access
// administrator whose password is random.
type Demo struct {
	OrgID, OrgName  string
	Email, Password string
}

// DemoEmail is the demo administrator's login.
const DemoEmail = "admin@example.com"

// CreateDemo fills an empty store with the demo organization, its
// administrator and its estate. It returns nil when the store already has
// organizations or another process (a replica starting at the same moment)
// is making the demo.
func (s *Server) CreateDemo(ctx context.Context) (*Demo, error) {
	n, err := s.store.Organizations().CountOrganizations(ctx)
	if err != nil || n > 0 {
		return nil, err
	}
	if first, err := s.store.Markers().Mark(ctx, "demo_data", s.now()); err != nil || !first {
		return nil, err
	}
	org, err := s.Identity.CreateOrganization(ctx, "Demo Organization")
	if err != nil {
		return nil, err
	}
	pw := identity.GeneratePassword()
	if _, err := s.Identity.CreateAdmin(ctx, org.ID, DemoEmail, pw, store.AccessFull); err != nil {
		return nil, err
	}
	if err := s.SeedEstate(ctx, org.ID); err != nil {
		return nil, err
	}
	return &Demo{OrgID: org.ID, OrgName: org.Name, Email: DemoEmail, Password: pw}, nil
}
