package workflow

import (
	"fmt"
	"net/http"
	"time"

	"github.com/grantflow/grantflow/internal/web"
)

// scheduleRoutes mounts the schedules' JSON API (docs/api.md).
func (h *Handler) scheduleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/automation/tenants/{id}/schedules", h.apiSchedules)
	mux.HandleFunc("POST /api/automation/workflows/{id}/schedules", h.apiCreateSchedule)
	mux.HandleFunc("GET /api/automation/schedules/{id}", h.apiSchedule)
	mux.HandleFunc("POST /api/automation/schedules/{id}/enable", h.apiEnableSchedule(true))
	mux.HandleFunc("POST /api/automation/schedules/{id}/disable", h.apiEnableSchedule(false))
	mux.HandleFunc("PATCH /api/automation/schedules/{id}", h.apiUpdateSchedule)
	mux.HandleFunc("DELETE /api/automation/schedules/{id}", h.apiDeleteSchedule)
}

// ScheduleRequest is the body of POST /api/automation/workflows/{id}/schedules:
// one of Every, Cron, or Calendar with At.
type ScheduleRequest struct {
	Name        string         `json:"name"`
	Every       string         `json:"every"` // a Go duration: "15m", "24h"
	Cron        string         `json:"cron"`
	Calendar    string         `json:"calendar"`
	At          string         `json:"at"`
	Interval    string         `json:"interval"`
	TimesPerDay int            `json:"times_per_day"`
	Start       *time.Time     `json:"start"`
	Timezone    string         `json:"timezone"`
	Times       int            `json:"times"`
	Misfire     string         `json:"misfire"`
	Inputs      map[string]any `json:"inputs"`
}

// Spec turns the request into a Spec; errors wrap ErrInvalid.
func (q ScheduleRequest) Spec() (Spec, error) {
	sp := Spec{Zone: q.Timezone, Cron: q.Cron, Calendar: q.Calendar, At: q.At, Times: q.TimesPerDay}
	if q.Start != nil {
		sp.Start = *q.Start
	}
	n := 0
	if q.Every != "" {
		d, err := time.ParseDuration(q.Every)
		if err != nil {
			return sp, fmt.Errorf("%w: every: %q is not a duration such as 15m or 24h", ErrInvalid, q.Every)
		}
		sp.Kind, sp.Every = SpecEvery, d
		n++
	}
	if q.Cron != "" {
		sp.Kind = SpecCron
		n++
	}
	if q.Calendar != "" || q.At != "" {
		sp.Kind = SpecCalendar
		if sp.Calendar == "" {
			sp.Calendar = "daily"
		}
		n++
	}
	if n != 1 {
		return sp, fmt.Errorf("%w: give exactly one of every, cron, or calendar with at", ErrInvalid)
	}
	if q.Interval != "" {
		d, err := time.ParseDuration(q.Interval)
		if err != nil {
			return sp, fmt.Errorf("%w: interval: %q is not a duration such as 5m or 1h", ErrInvalid, q.Interval)
		}
		sp.Interval = d
	}
	return sp, nil
}

func (h *Handler) apiSchedules(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	list, err := h.svc.Schedules(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, list)
}

func (h *Handler) apiCreateSchedule(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	var q ScheduleRequest
	if !decodeBody(w, r, &q) {
		return
	}
	sp, err := q.Spec()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.svc.CreateSchedule(r.Context(), ScheduleParams{WorkflowID: r.PathValue("id"), Actor: a, Name: q.Name, Spec: sp,
		MaxRuns: q.Times, Misfire: q.Misfire, Inputs: q.Inputs})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, v)
}

func (h *Handler) apiSchedule(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	v, err := h.svc.Schedule(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, v)
}

func (h *Handler) apiUpdateSchedule(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	var q ScheduleUpdateRequest
	if !decodeBody(w, r, &q) {
		return
	}
	p, err := q.Update()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.svc.UpdateSchedule(r.Context(), r.PathValue("id"), a, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, v)
}

func (h *Handler) apiEnableSchedule(enable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.actor(w, r)
		if !ok {
			return
		}
		v, err := h.svc.EnableSchedule(r.Context(), r.PathValue("id"), a, enable)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		web.JSON(w, http.StatusOK, v)
	}
}

func (h *Handler) apiDeleteSchedule(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	if err := h.svc.DeleteSchedule(r.Context(), r.PathValue("id"), a); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
