package web

import (
	"embed"
	"log/slog"
	"net/http"
)

//go:embed pages/*.html
var pagesFS embed.FS

type notFoundPage struct {
	Chrome
	Path string
}

// WithNotFoundPage answers requests that match none of mux's patterns with
// the application's own 404 page instead of Go's plain "404 page not found".
// Handlers that answer 404 themselves (JSON APIs, the Dashboard API's
// Meraki errors) and 405s for a known path are left alone.
func WithNotFoundPage(mux *http.ServeMux, sessions Sessions, lg *slog.Logger) (http.Handler, error) {
	rd, err := NewRenderer(pagesFS, lg, nil, "pages/*.html")
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		nf := &notFoundWriter{ResponseWriter: w}
		h.ServeHTTP(nf, r)
		if !nf.notFound {
			return
		}
		p := notFoundPage{Chrome: Chrome{Title: "Page not found"}, Path: r.URL.Path}
		if sessions != nil {
			if acct, ok := sessions.Current(r); ok {
				p.User, p.CSRF = acct.Email, sessions.CSRFToken(w, r)
			}
		}
		rd.Render(w, r, http.StatusNotFound, "notfound.html", p)
	}), nil
}

// notFoundWriter swallows a 404 and its plain-text body, so the page can be
// written instead; any other answer (a redirect, a 405) goes through.
type notFoundWriter struct {
	http.ResponseWriter
	notFound, wrote bool
}

func (w *notFoundWriter) WriteHeader(code int) {
	if !w.wrote && code == http.StatusNotFound {
		w.notFound = true
		return
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *notFoundWriter) Write(b []byte) (int, error) {
	if w.notFound {
		return len(b), nil
	}
	w.wrote = true
	return w.ResponseWriter.Write(b)
}
