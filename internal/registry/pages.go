package registry

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

var pageFuncs = template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}

// flashes are the messages a redirect may ask for with ?done=; a code, not
// free text, so that a link cannot make the page say anything else.
var flashes = map[string]string{
	"saved":   "Changes saved.",
	"deleted": "Integration deleted. Every token it held has been revoked.",
}

type listPage struct {
	web.Chrome
	Integrations []store.Client
}

type formPage struct {
	web.Chrome
	Editing        bool
	Client         store.Client // the stored integration when editing
	Name           string
	RedirectURIs   string // one per line, as typed
	ResourceServer bool
	Groups         []scopeGroup
	Problems       []string
}

type scopeGroup struct {
	Label  string
	Scopes []scopeOption
}

type scopeOption struct {
	Name, Description string
	Checked           bool
}

type secretPage struct {
	web.Chrome
	Client  store.Client
	Secret  string
	Created bool // false after a rotation
}

type confirmPage struct {
	web.Chrome
	Client store.Client
	Delete bool // false: rotate the secret
}

type errorPage struct {
	web.Chrome
	Message string
}

// products label Meraki's scope areas by the product they belong to, in the
// order the form shows them.
var products = []struct{ prefix, label string }{
	{"dashboard", "Organization"},
	{"sdwan", "Security appliance and SD-WAN"},
	{"switch", "Switches"},
	{"wireless", "Wireless"},
	{"camera", "Cameras"},
	{"sensor", "Sensors"},
	{"sm", "Systems Manager"},
}

// scopeGroups lists every Meraki scope, grouped by product, with those in
// selected checked.
func scopeGroups(selected []string) []scopeGroup {
	checked := make(map[string]bool, len(selected))
	for _, s := range selected {
		checked[s] = true
	}
	groups := make([]scopeGroup, len(products), len(products)+1)
	index := make(map[string]int, len(products))
	for i, p := range products {
		groups[i].Label = p.label
		index[p.prefix] = i
	}
	var other scopeGroup
	for _, s := range scope.All() {
		opt := scopeOption{Name: s, Description: scope.Describe(s), Checked: checked[s]}
		prefix, _, _ := strings.Cut(s, ":")
		if i, ok := index[prefix]; ok {
			groups[i].Scopes = append(groups[i].Scopes, opt)
		} else {
			other.Scopes = append(other.Scopes, opt)
		}
	}
	if len(other.Scopes) > 0 {
		other.Label = "Other"
		groups = append(groups, other)
	}
	return groups
}

// pageAccount returns the logged-in account, or sends the visitor to the
// login page (303) and returns false. On POST it also checks the CSRF token
// and answers 403 when it is missing or wrong.
func (h *Handler) pageAccount(w http.ResponseWriter, r *http.Request) (store.Account, bool) {
	acct, ok := h.sessions.Current(r)
	if !ok || acct.ID == "" {
		http.Redirect(w, r, web.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return store.Account{}, false
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		if !h.sessions.VerifyCSRF(r) {
			h.renderError(w, r, acct, http.StatusForbidden, "This form has expired or did not come from grantflow. Go back, reload the page and try again.")
			return store.Account{}, false
		}
	}
	return acct, true
}

func (h *Handler) chrome(w http.ResponseWriter, r *http.Request, acct store.Account, title string) web.Chrome {
	return web.Chrome{Title: title, User: acct.Email, CSRF: h.sessions.CSRFToken(w, r)}
}

func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, acct store.Account, status int, msg string) {
	h.pages.Render(w, r, status, "error.html", errorPage{Chrome: h.chrome(w, r, acct, http.StatusText(status)), Message: msg})
}

// pageFail answers a service error that is not a validation problem.
// pageClient is pageAccount followed by the integration named in the path,
// among the account's own; it answers the page itself when either fails.
func (h *Handler) pageClient(w http.ResponseWriter, r *http.Request) (store.Account, store.Client, bool) {
	acct, ok := h.pageAccount(w, r)
	if !ok {
		return store.Account{}, store.Client{}, false
	}
	c, err := h.svc.GetAs(r.Context(), acct.ID, r.PathValue("id"))
	if err != nil {
		h.pageFail(w, r, acct, err)
		return store.Account{}, store.Client{}, false
	}
	return acct, c, true
}

func (h *Handler) pageFail(w http.ResponseWriter, r *http.Request, acct store.Account, err error) {
	if errors.Is(err, ErrNotFound) {
		h.renderError(w, r, acct, http.StatusNotFound, "There is no such integration among yours.")
		return
	}
	h.lg.ErrorContext(r.Context(), "integration page failed", "path", r.URL.Path, "err", err)
	h.renderError(w, r, acct, http.StatusInternalServerError, "Something went wrong. Please try again.")
}

func (h *Handler) pageList(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.pageAccount(w, r)
	if !ok {
		return
	}
	cs, err := h.svc.ListAs(r.Context(), acct.ID)
	if err != nil {
		h.pageFail(w, r, acct, err)
		return
	}
	data := listPage{Chrome: h.chrome(w, r, acct, "My integrations"), Integrations: cs}
	data.Flash = flashes[r.URL.Query().Get("done")]
	h.pages.Render(w, r, http.StatusOK, "list.html", data)
}

func (h *Handler) pageNew(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.pageAccount(w, r)
	if !ok {
		return
	}
	h.pages.Render(w, r, http.StatusOK, "form.html", formPage{
		Chrome: h.chrome(w, r, acct, "Register an integration"),
		Groups: scopeGroups(nil),
	})
}

// submitted is what the integration form posted.
type submitted struct {
	name           string
	redirectText   string
	redirectURIs   []string
	scopes         []string
	resourceServer bool
}

func readForm(r *http.Request) submitted {
	_ = r.ParseForm() // an unparsable body leaves the fields empty, which validation reports
	f := r.PostForm
	s := submitted{
		name:           f.Get("name"),
		redirectText:   f.Get("redirect_uris"),
		scopes:         f["scope"],
		resourceServer: f.Get("resource_server") != "",
	}
	// One URI per line; surrounding blanks cannot belong to a URI.
	for _, line := range strings.Split(s.redirectText, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			s.redirectURIs = append(s.redirectURIs, line)
		}
	}
	return s
}

// refused is the form again as it was posted (the redirect URIs as typed),
// with what validation found wrong, so that nothing has to be typed twice.
func (in submitted) refused(chrome web.Chrome, ve *ValidationError) formPage {
	return formPage{
		Chrome:         chrome,
		Name:           in.name,
		RedirectURIs:   in.redirectText,
		ResourceServer: in.resourceServer,
		Groups:         scopeGroups(in.scopes),
		Problems:       ve.Problems,
	}
}

func (h *Handler) pageCreate(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.pageAccount(w, r)
	if !ok {
		return
	}
	in := readForm(r)
	c, secret, err := h.svc.CreateAs(r.Context(), acct.ID, CreateParams{
		Name:           in.name,
		RedirectURIs:   in.redirectURIs,
		Scopes:         in.scopes,
		ResourceServer: in.resourceServer,
	})
	var ve *ValidationError
	if errors.As(err, &ve) {
		h.pages.Render(w, r, http.StatusBadRequest, "form.html", in.refused(h.chrome(w, r, acct, "Register an integration"), ve))
		return
	}
	if err != nil {
		h.pageFail(w, r, acct, err)
		return
	}
	// The secret is shown in this answer and nowhere else; Render sends
	// Cache-Control: no-store so that it does not linger in a cache.
	h.pages.Render(w, r, http.StatusCreated, "secret.html", secretPage{
		Chrome:  h.chrome(w, r, acct, "Integration registered"),
		Client:  c,
		Secret:  secret,
		Created: true,
	})
}

func (h *Handler) pageEdit(w http.ResponseWriter, r *http.Request) {
	acct, c, ok := h.pageClient(w, r)
	if !ok {
		return
	}
	data := formPage{
		Chrome:         h.chrome(w, r, acct, c.Name),
		Editing:        true,
		Client:         c,
		Name:           c.Name,
		RedirectURIs:   strings.Join(c.RedirectURIs, "\n"),
		ResourceServer: c.ResourceServer,
		Groups:         scopeGroups(c.Scopes),
	}
	data.Flash = flashes[r.URL.Query().Get("done")]
	h.pages.Render(w, r, http.StatusOK, "form.html", data)
}

func (h *Handler) pageUpdate(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.pageAccount(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	in := readForm(r)
	_, err := h.svc.UpdateAs(r.Context(), acct.ID, id, UpdateParams{
		Name:         &in.name,
		RedirectURIs: &in.redirectURIs,
		Scopes:       &in.scopes,
		// The page cannot change the resource-server flag (operator only).
	})
	var ve *ValidationError
	if errors.As(err, &ve) {
		// Validation runs before the owner check, so look the integration
		// up before showing anything about it.
		c, err := h.svc.GetAs(r.Context(), acct.ID, id)
		if err != nil {
			h.pageFail(w, r, acct, err)
			return
		}
		data := in.refused(h.chrome(w, r, acct, c.Name), ve)
		data.Editing, data.Client = true, c
		h.pages.Render(w, r, http.StatusBadRequest, "form.html", data)
		return
	}
	if err != nil {
		h.pageFail(w, r, acct, err)
		return
	}
	http.Redirect(w, r, "/integrations/"+id+"?done=saved", http.StatusSeeOther)
}

func (h *Handler) pageConfirmRotate(w http.ResponseWriter, r *http.Request) {
	h.pageConfirm(w, r, false)
}

func (h *Handler) pageConfirmDelete(w http.ResponseWriter, r *http.Request) {
	h.pageConfirm(w, r, true)
}

func (h *Handler) pageConfirm(w http.ResponseWriter, r *http.Request, del bool) {
	acct, c, ok := h.pageClient(w, r)
	if !ok {
		return
	}
	title := "Rotate the client secret of " + c.Name
	if del {
		title = "Delete " + c.Name
	}
	h.pages.Render(w, r, http.StatusOK, "confirm.html", confirmPage{Chrome: h.chrome(w, r, acct, title), Client: c, Delete: del})
}

func (h *Handler) pageRotate(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.pageAccount(w, r)
	if !ok {
		return
	}
	c, secret, err := h.svc.RotateSecretAs(r.Context(), acct.ID, r.PathValue("id"))
	if err != nil {
		h.pageFail(w, r, acct, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "secret.html", secretPage{
		Chrome: h.chrome(w, r, acct, "New client secret"),
		Client: c,
		Secret: secret,
	})
}

func (h *Handler) pageDelete(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.pageAccount(w, r)
	if !ok {
		return
	}
	if err := h.svc.DeleteAs(r.Context(), acct.ID, r.PathValue("id")); err != nil {
		h.pageFail(w, r, acct, err)
		return
	}
	http.Redirect(w, r, "/integrations?done=deleted", http.StatusSeeOther)
}
