package server

import (
	"context"
	"net/http"
)

// mountParts mounts the OAuth server and the Dashboard API.
func (s *Server) mountParts(ctx context.Context, mux *http.ServeMux) error {
	return nil
}

// seedDemo fills the demo organization with an estate.
func (s *Server) seedDemo(ctx context.Context, orgID string) error {
	return nil
}
