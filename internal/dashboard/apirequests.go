package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// orgUsage returns an organization's request counts since from, stored and
// not yet flushed, sorted newest minute first.
func (h *Handler) orgUsage(ctx context.Context, org string, from, to time.Time) ([]store.APIUsage, error) {
	stored, err := h.dash.ListAPIUsage(ctx, store.APIUsageFilter{OrgID: org, From: from, To: to})
	if err != nil {
		return nil, err
	}
	var pending []store.APIUsage
	for _, p := range h.usage.snapshot(org) {
		if !p.Minute.Before(from) && p.Minute.Before(to) {
			pending = append(pending, p)
		}
	}
	rows := mergeUsage(stored, pending)
	slices.SortFunc(rows, func(a, b store.APIUsage) int { return strings.Compare(usageCursor(a), usageCursor(b)) })
	return rows, nil
}

// usageInSpan is orgUsage for the request's timespan (t0/t1/timespan, up
// to 31 days, by default the last 31), widened so that the minutes at both
// ends, the unit usage is counted in, are included.
func (c *call) usageInSpan() ([]store.APIUsage, error) {
	from, to, err := c.timespan(31*24*time.Hour, 31*24*time.Hour)
	if err != nil {
		return nil, err
	}
	return c.h.orgUsage(c.r.Context(), c.orgID, from.Truncate(time.Minute), to.Add(time.Minute))
}

// usageCursor orders usage rows newest minute first with a stable,
// unique key that pagination cursors can carry.
func usageCursor(u store.APIUsage) string {
	return fmt.Sprintf("%011d.%s.%s.%s.%s.%d", int64(1)<<36-u.Minute.Unix(), u.OperationID, u.Method, u.ClientID, u.AccountID, u.Status)
}

type apiRequestClient struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// apiRequestView is one entry of getOrganizationApiRequests. The sandbox
// counts requests instead of logging each: an entry stands for Count
// requests of one kind in the minute at TS, described by the latest one
// (Count is the sandbox's addition; clients ignore unknown fields).
type apiRequestView struct {
	AdminID      string           `json:"adminId"`
	Method       string           `json:"method"`
	Host         string           `json:"host"`
	Path         string           `json:"path"`
	QueryString  string           `json:"queryString"`
	UserAgent    string           `json:"userAgent"`
	TS           string           `json:"ts"`
	ResponseCode int              `json:"responseCode"`
	SourceIP     string           `json:"sourceIp"`
	Version      int              `json:"version"`
	OperationID  string           `json:"operationId"`
	Client       apiRequestClient `json:"client"`
	Count        int64            `json:"count"`
}

func apiRequestViewOf(u store.APIUsage) apiRequestView {
	cl := apiRequestClient{ID: u.ClientID, Type: "oauth"}
	if u.ClientID == "" {
		cl = apiRequestClient{ID: u.AccountID, Type: "api_key"}
	}
	return apiRequestView{AdminID: u.AccountID, Method: u.Method, Host: u.Host, Path: u.Path, QueryString: u.Query,
		UserAgent: u.UserAgent, TS: fmtTime(u.LastAt), ResponseCode: u.Status, SourceIP: u.SourceIP, Version: 1,
		OperationID: u.OperationID, Client: cl, Count: u.Count}
}

func getOrganizationAPIRequests(c *call) (int, any, error) {
	pr, err := c.page()
	if err != nil {
		return 0, nil, err
	}
	rows, err := c.usageInSpan()
	if err != nil {
		return 0, nil, err
	}
	q := c.values()
	ops := c.queryList("operationIds")
	code, _ := strconv.Atoi(q.Get("responseCode"))
	rows = slices.DeleteFunc(rows, func(u store.APIUsage) bool {
		return q.Get("adminId") != "" && u.AccountID != q.Get("adminId") ||
			q.Get("path") != "" && u.Path != q.Get("path") ||
			q.Get("method") != "" && !strings.EqualFold(u.Method, q.Get("method")) ||
			code != 0 && u.Status != code ||
			q.Get("sourceIp") != "" && u.SourceIP != q.Get("sourceIp") ||
			q.Get("userAgent") != "" && u.UserAgent != q.Get("userAgent") ||
			len(ops) > 0 && !slices.Contains(ops, u.OperationID)
	})
	page, more := paginate(pr, rows, usageCursor)
	first, last := "", ""
	if len(page) > 0 {
		first, last = usageCursor(page[0]), usageCursor(page[len(page)-1])
	}
	c.link(pr, first, last, more)
	out := make([]apiRequestView, len(page))
	for i, u := range page {
		out[i] = apiRequestViewOf(u)
	}
	return http.StatusOK, out, nil
}

func getOrganizationAPIRequestsOverview(c *call) (int, any, error) {
	rows, err := c.usageInSpan()
	if err != nil {
		return 0, nil, err
	}
	counts := map[string]int64{}
	for _, u := range rows {
		counts[strconv.Itoa(u.Status)] += u.Count
	}
	return http.StatusOK, map[string]any{"responseCodeCounts": counts}, nil
}
