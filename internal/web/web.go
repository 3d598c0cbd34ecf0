// Package web holds what every page of grantflow shares: the page chrome
// (layout template and stylesheet), the renderer each domain package uses
// for its own templates, and small helpers for forms and JSON.
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var layoutFS embed.FS

//go:embed static
var staticFS embed.FS

// Static serves /static/ assets: files only, never a directory listing.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServer(http.FS(sub))
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if st, err := fs.Stat(sub, name); err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
}

// TimeFormat is how every page shows a time: in UTC, to the minute.
const TimeFormat = "2006-01-02 15:04 UTC"

// FormatTime formats t for a page; the zero time (something that never
// happened, such as a last use) is "never". Templates call it as "date".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(TimeFormat)
}

// Chrome is what the layout needs on every page.
type Chrome struct {
	Title string
	// User is the logged-in person's email, "" when nobody is logged in.
	User string
	// CSRF is the token every form on the page must carry in a hidden
	// "csrf_token" field.
	CSRF string
	// Flash is a one-line message shown above the content.
	Flash string
}

// Renderer renders one domain's templates inside the shared layout.
// Each content template must define "content"; the layout calls it with
// the data passed to Render.
type Renderer struct {
	pages map[string]*template.Template
	lg    *slog.Logger
}

// NewRenderer parses every pattern in fsys as a page. The page's name is its
// base file name (e.g. "consent.html"). A file whose base name starts with
// "_" is not a page but a set of shared definitions that every page of this
// renderer can call. funcs may be nil; every page has "date" ([FormatTime]).
func NewRenderer(fsys fs.FS, lg *slog.Logger, funcs template.FuncMap, patterns ...string) (*Renderer, error) {
	base := template.New("layout").Funcs(template.FuncMap{"chrome": func(c Chrome) Chrome { return c }, "date": FormatTime})
	if funcs != nil {
		base = base.Funcs(funcs)
	}
	base, err := base.ParseFS(layoutFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	var pages []string
	for _, p := range patterns {
		names, err := fs.Glob(fsys, p)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if !strings.HasPrefix(baseName(name), "_") {
				pages = append(pages, name)
				continue
			}
			if base, err = base.ParseFS(fsys, name); err != nil {
				return nil, fmt.Errorf("web: parse %s: %w", name, err)
			}
		}
	}
	r := &Renderer{pages: map[string]*template.Template{}, lg: lg}
	for _, name := range pages {
		t, err := template.Must(base.Clone()).ParseFS(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		r.pages[baseName(name)] = t
	}
	return r, nil
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// Render writes page with status. data must embed or be a value whose
// Chrome field (or method) the layout can read: pass a struct with an
// embedded [Chrome].
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, status int, page string, data any) {
	t, ok := r.pages[page]
	if !ok {
		r.lg.ErrorContext(req.Context(), "unknown page", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		r.lg.ErrorContext(req.Context(), "render failed", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// JSON writes v as a JSON response with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// JSONError writes {"error": msg} with status, the shape of grantflow's own
// JSON APIs (the Meraki sandbox uses Meraki's {"errors": [...]} instead).
func JSONError(w http.ResponseWriter, status int, msg string) {
	JSON(w, status, map[string]string{"error": msg})
}
