package workflow

import "net/http"

func (h *Handler) initPages() error { return nil }

func (h *Handler) pageRoutes(*http.ServeMux) {}
