package workflow

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// dues lists the first n due times of sp after from, as RFC 3339 in the
// spec's zone.
func dues(t *testing.T, sp Spec, from time.Time, n int) []string {
	t.Helper()
	c, err := compile(sp)
	if err != nil {
		t.Fatalf("compile %+v: %v", sp, err)
	}
	var out []string
	for range n {
		next, ok := c.Next(from)
		if !ok {
			out = append(out, "none")
			break
		}
		if !next.After(from) {
			t.Fatalf("Next(%s) = %s, not after", from, next)
		}
		out = append(out, next.In(c.loc).Format(time.RFC3339))
		from = next
	}
	return out
}

func TestNextDue(t *testing.T) {
	t.Parallel()
	ny := mustZone(t, "America/New_York")
	be := mustZone(t, "Europe/Berlin")
	tests := []struct {
		name string
		spec Spec
		from time.Time
		want []string
	}{
		{"daily 02:30 New York over spring forward: once, just after the gap",
			Spec{Kind: SpecCalendar, Calendar: "daily", At: "02:30", Zone: "America/New_York"},
			time.Date(2025, 3, 8, 12, 0, 0, 0, ny),
			[]string{"2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00"}},
		{"daily 01:30 New York over fall back: once, the first occurrence",
			Spec{Kind: SpecCalendar, Calendar: "daily", At: "01:30", Zone: "America/New_York"},
			time.Date(2025, 11, 1, 12, 0, 0, 0, ny),
			[]string{"2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"}},
		{"daily 02:30 Berlin over spring forward",
			Spec{Kind: SpecCalendar, Calendar: "daily", At: "02:30", Zone: "Europe/Berlin"},
			time.Date(2025, 3, 29, 12, 0, 0, 0, be),
			[]string{"2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00"}},
		{"daily 02:30 Berlin over fall back",
			Spec{Kind: SpecCalendar, Calendar: "daily", At: "02:30", Zone: "Europe/Berlin"},
			time.Date(2025, 10, 25, 12, 0, 0, 0, be),
			[]string{"2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"}},
		{"hourly from 00:00, 24 a day, New York spring forward: 23 runs that day",
			Spec{Kind: SpecCalendar, Calendar: "daily", At: "00:00", Interval: time.Hour, Times: 24, Zone: "America/New_York"},
			time.Date(2025, 3, 9, 0, 30, 0, 0, ny),
			[]string{"2025-03-09T01:00:00-05:00", "2025-03-09T03:00:00-04:00", "2025-03-09T04:00:00-04:00"}},
		{"hourly, New York fall back: 01:00 once, then 02:00 EST",
			Spec{Kind: SpecCalendar, Calendar: "daily", At: "00:00", Interval: time.Hour, Times: 24, Zone: "America/New_York"},
			time.Date(2025, 11, 2, 0, 30, 0, 0, ny),
			[]string{"2025-11-02T01:00:00-04:00", "2025-11-02T02:00:00-05:00", "2025-11-02T03:00:00-05:00"}},
		{"every 5 minutes across the gap collapses onto 03:00",
			Spec{Kind: SpecCalendar, Calendar: "daily", At: "00:00", Interval: 5 * time.Minute, Times: 288, Zone: "America/New_York"},
			time.Date(2025, 3, 9, 1, 54, 0, 0, ny),
			[]string{"2025-03-09T01:55:00-05:00", "2025-03-09T03:00:00-04:00", "2025-03-09T03:05:00-04:00"}},
		{"12h, twice a day, runs end at midnight",
			Spec{Kind: SpecCalendar, Calendar: "daily", At: "06:00", Interval: 12 * time.Hour, Times: 3, Zone: "UTC"},
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2025-01-01T06:00:00Z", "2025-01-01T18:00:00Z", "2025-01-02T06:00:00Z"}},
		{"weekdays skip the weekend",
			Spec{Kind: SpecCalendar, Calendar: "weekdays", At: "09:00", Zone: "Europe/Berlin"},
			time.Date(2025, 1, 3, 10, 0, 0, 0, be), // a Friday after 09:00
			[]string{"2025-01-06T09:00:00+01:00", "2025-01-07T09:00:00+01:00"}},
		{"weekends",
			Spec{Kind: SpecCalendar, Calendar: "weekends", At: "09:00", Zone: "UTC"},
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), // a Wednesday
			[]string{"2025-01-04T09:00:00Z", "2025-01-05T09:00:00Z", "2025-01-11T09:00:00Z"}},
		{"first weekday of the month",
			Spec{Kind: SpecCalendar, Calendar: "first-weekday-of-month", At: "08:00", Zone: "UTC"},
			time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), // Saturday 1 Feb, Saturday 1 Mar
			[]string{"2025-02-03T08:00:00Z", "2025-03-03T08:00:00Z", "2025-04-01T08:00:00Z"}},
		{"the export's calendar id is daily",
			Spec{Kind: SpecCalendar, Calendar: "calendar_recurring_1BMfMWvgiDhSjBQ7hTSyvz3NyVZ", At: "00:00", Zone: "Etc/GMT+0"},
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2025-01-02T00:00:00Z", "2025-01-03T00:00:00Z"}},
		{"a start in the future holds the first run back",
			Spec{Kind: SpecCalendar, Calendar: "daily", At: "00:00", Zone: "UTC", Start: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)},
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z"}},
		{"every 90m from start, absolute across the gap",
			Spec{Kind: SpecEvery, Every: 90 * time.Minute, Zone: "America/New_York", Start: time.Date(2025, 3, 9, 0, 0, 0, 0, ny)},
			time.Date(2025, 3, 8, 0, 0, 0, 0, ny),
			[]string{"2025-03-09T00:00:00-05:00", "2025-03-09T01:30:00-05:00", "2025-03-09T04:00:00-04:00"}},
		{"every from a past start lands on the grid",
			Spec{Kind: SpecEvery, Every: time.Hour, Zone: "UTC", Start: time.Date(2025, 1, 1, 0, 7, 0, 0, time.UTC)},
			time.Date(2025, 1, 1, 10, 7, 0, 0, time.UTC),
			[]string{"2025-01-01T11:07:00Z", "2025-01-01T12:07:00Z"}},
		{"cron 30 2 * * * over New York spring forward",
			Spec{Kind: SpecCron, Cron: "30 2 * * *", Zone: "America/New_York"},
			time.Date(2025, 3, 8, 12, 0, 0, 0, ny),
			[]string{"2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00"}},
		{"cron every 15 minutes of the fall-back hour: first occurrence only",
			Spec{Kind: SpecCron, Cron: "*/15 1 * * *", Zone: "America/New_York"},
			time.Date(2025, 11, 2, 0, 0, 0, 0, ny),
			[]string{"2025-11-02T01:00:00-04:00", "2025-11-02T01:15:00-04:00", "2025-11-02T01:30:00-04:00", "2025-11-02T01:45:00-04:00", "2025-11-03T01:00:00-05:00"}},
		{"cron weekdays by name, a range and a list",
			Spec{Kind: SpecCron, Cron: "0 9,17 * * mon-fri", Zone: "Europe/Berlin"},
			time.Date(2025, 1, 3, 10, 0, 0, 0, be),
			[]string{"2025-01-03T17:00:00+01:00", "2025-01-06T09:00:00+01:00", "2025-01-06T17:00:00+01:00"}},
		{"cron day of month or day of week (Vixie)",
			Spec{Kind: SpecCron, Cron: "0 0 13 * fri", Zone: "UTC"},
			time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2025-06-06T00:00:00Z", "2025-06-13T00:00:00Z", "2025-06-20T00:00:00Z"}},
		{"cron 29 February",
			Spec{Kind: SpecCron, Cron: "0 12 29 feb *", Zone: "UTC"},
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"}},
		{"cron @hourly, Sunday as 7",
			Spec{Kind: SpecCron, Cron: "0 0 * * 7", Zone: "UTC"},
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2025-01-05T00:00:00Z"}},
		{"cron 31 February never comes",
			Spec{Kind: SpecCron, Cron: "0 0 31 2 *", Zone: "UTC"},
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"none"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := dues(t, tc.spec, tc.from, len(tc.want))
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("due times\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestSpecInvalid(t *testing.T) {
	t.Parallel()
	for _, sp := range []Spec{
		{Kind: SpecEvery, Every: time.Second},
		{Kind: SpecCalendar, Calendar: "fortnightly", At: "00:00"},
		{Kind: SpecCalendar, Calendar: "daily", At: "24:00"},
		{Kind: SpecCalendar, Calendar: "daily", At: "9:5"},
		{Kind: SpecCalendar, Calendar: "daily", At: "09:00", Times: 3},
		{Kind: SpecCron, Cron: "* * * *"},
		{Kind: SpecCron, Cron: "60 * * * *"},
		{Kind: SpecCron, Cron: "5-1 * * * *"},
		{Kind: SpecCron, Cron: "*/0 * * * *"},
		{Kind: SpecEvery, Every: time.Hour, Zone: "Mars/Olympus"},
		{Kind: "weekly"},
	} {
		if _, err := compile(sp); !errors.Is(err, ErrInvalid) {
			t.Errorf("compile(%+v) = %v, want ErrInvalid", sp, err)
		}
	}
}

// TestHundredDays walks 100 days through both of each zone's
// daylight-saving changes and checks every due time against what a person
// reading the wall clock expects: the calendar's times each day (none
// lost, none doubled), the cron times, and the interval's fixed spacing.
func TestHundredDays(t *testing.T) {
	t.Parallel()
	for _, zone := range []string{"America/New_York", "Europe/Berlin"} {
		loc := mustZone(t, zone)
		for _, start := range []time.Time{time.Date(2025, 2, 1, 0, 0, 0, 0, loc), time.Date(2025, 9, 1, 0, 0, 0, 0, loc)} {
			end := start.AddDate(0, 0, 100)
			check := func(name string, sp Spec, want func(day time.Time) []time.Time) {
				c, err := compile(sp)
				if err != nil {
					t.Fatal(err)
				}
				var got, exp []time.Time
				for at := start.Add(-time.Nanosecond); ; {
					next, ok := c.Next(at)
					if !ok || !next.Before(end) {
						break
					}
					got = append(got, next)
					at = next
				}
				for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
					exp = append(exp, want(d)...)
				}
				if len(got) != len(exp) {
					t.Fatalf("%s %s from %s: %d due times, want %d", zone, name, start.Format(time.DateOnly), len(got), len(exp))
				}
				for i := range got {
					if !got[i].Equal(exp[i]) {
						t.Fatalf("%s %s: due time %d = %s, want %s", zone, name, i, got[i].In(loc), exp[i].In(loc))
					}
				}
			}
			// Twice a day, 02:30 and 14:30: the 02:30 of the spring day
			// moves to the end of the gap; nothing else moves.
			check("calendar", Spec{Kind: SpecCalendar, Calendar: "daily", At: "02:30", Interval: 12 * time.Hour, Times: 2, Zone: zone},
				func(d time.Time) []time.Time {
					y, m, dd := d.Date()
					return []time.Time{wallTime(y, m, dd, 2, 30, loc), time.Date(y, m, dd, 14, 30, 0, 0, loc)}
				})
			check("weekdays cron", Spec{Kind: SpecCron, Cron: "0 8 * * 1-5", Zone: zone},
				func(d time.Time) []time.Time {
					if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
						return nil
					}
					y, m, dd := d.Date()
					return []time.Time{time.Date(y, m, dd, 8, 0, 0, 0, loc)}
				})
			check("every 7h", Spec{Kind: SpecEvery, Every: 7 * time.Hour, Zone: zone, Start: start},
				func(d time.Time) []time.Time {
					var out []time.Time
					for at := start; at.Before(end); at = at.Add(7 * time.Hour) {
						if !at.Before(d) && at.Before(d.AddDate(0, 0, 1)) {
							out = append(out, at)
						}
					}
					return out
				})
		}
	}
}
