package workflow

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A Spec says when a schedule is due. It is one of three kinds:
//
//   - every: a fixed interval from Start (absolute time: an "every 1h"
//     schedule runs every 60 minutes through daylight-saving changes);
//   - calendar: the product's model (FORMAT.md §8): on each day of a
//     calendar, at At and then every Interval, Times times that day, on the
//     wall clock of Zone;
//   - cron: a five-field cron expression on the wall clock of Zone.
//
// Wall-clock times follow Zone's daylight-saving rules: a time that does
// not exist that day (02:30 on a spring-forward day) is due once, at the
// first instant after the gap (03:00 in America/New_York); a time that
// exists twice (01:30 on a fall-back day) is due once, at its first
// occurrence. Due times never come before Start.
type Spec struct {
	Kind     string        `json:"kind"` // "every", "calendar" or "cron"
	Every    time.Duration `json:"every,omitempty"`
	Calendar string        `json:"calendar,omitempty"` // a system calendar name (Calendars)
	At       string        `json:"at,omitempty"`       // HH:MM, the first run of the day
	Interval time.Duration `json:"interval,omitempty"` // between the runs of one day
	Times    int           `json:"times_per_day,omitempty"`
	Cron     string        `json:"cron,omitempty"`
	Zone     string        `json:"timezone"` // IANA name; "" is UTC
	Start    time.Time     `json:"start"`
}

// Spec kinds.
const (
	SpecEvery    = "every"
	SpecCalendar = "calendar"
	SpecCron     = "cron"
)

// Calendars are the system calendars a schedule can name: which days it
// runs on, in its time zone.
var Calendars = map[string]func(time.Time) bool{
	"daily":    func(time.Time) bool { return true },
	"weekdays": func(d time.Time) bool { return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday },
	"weekends": func(d time.Time) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday },
	"mondays":  weekday(time.Monday), "tuesdays": weekday(time.Tuesday), "wednesdays": weekday(time.Wednesday),
	"thursdays": weekday(time.Thursday), "fridays": weekday(time.Friday), "saturdays": weekday(time.Saturday),
	"sundays":        weekday(time.Sunday),
	"first-of-month": func(d time.Time) bool { return d.Day() == 1 },
	"last-of-month":  func(d time.Time) bool { return d.AddDate(0, 0, 1).Day() == 1 },
	"first-weekday-of-month": func(d time.Time) bool {
		switch d.Weekday() {
		case time.Saturday, time.Sunday:
			return false
		case time.Monday:
			return d.Day() <= 3 // Sat 1st and Sun 2nd make Monday the 3rd the first
		}
		return d.Day() == 1
	},
}

// calendarIDs maps the system calendar ids exports carry to names. Every
// schedule in the corpus uses this one, and its "every 5 minutes, 288
// times" schedules only make sense if it is every day.
var calendarIDs = map[string]string{
	"calendar_recurring_1BMfMWvgiDhSjBQ7hTSyvz3NyVZ": "daily",
}

func weekday(w time.Weekday) func(time.Time) bool {
	return func(d time.Time) bool { return d.Weekday() == w }
}

// CalendarName resolves a calendar name or a system calendar id from an
// export to a name in Calendars.
func CalendarName(s string) (string, bool) {
	if n, ok := calendarIDs[s]; ok {
		return n, true
	}
	n := strings.ToLower(strings.TrimSpace(s))
	_, ok := Calendars[n]
	return n, ok
}

// CalendarNames lists the calendars, sorted.
func CalendarNames() []string {
	out := make([]string, 0, len(Calendars))
	for n := range Calendars {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// compiled is a checked Spec, ready to compute due times.
type compiled struct {
	spec Spec
	loc  *time.Location
	day  func(time.Time) bool // calendar
	at   int                  // calendar: minutes after midnight
	cron *cronExpr
}

// maxDays bounds the search for the next due time of a calendar or cron
// spec: "0 0 29 2 1" (a Monday 29 February) recurs only every 28 years.
const maxDays = 366 * 30

// compile checks sp; errors wrap ErrInvalid.
func compile(sp Spec) (*compiled, error) {
	c := &compiled{spec: sp}
	loc, err := time.LoadLocation(sp.Zone)
	if err != nil {
		return nil, fmt.Errorf("%w: unknown time zone %q", ErrInvalid, sp.Zone)
	}
	c.loc = loc
	switch sp.Kind {
	case SpecEvery:
		if sp.Every < time.Minute {
			return nil, fmt.Errorf("%w: the interval must be at least a minute (got %s)", ErrInvalid, sp.Every)
		}
	case SpecCalendar:
		name, ok := CalendarName(sp.Calendar)
		if !ok {
			return nil, fmt.Errorf("%w: unknown calendar %q (calendars: %s)", ErrInvalid, sp.Calendar, strings.Join(CalendarNames(), ", "))
		}
		c.spec.Calendar, c.day = name, Calendars[name]
		if c.at, err = parseHHMM(sp.At); err != nil {
			return nil, err
		}
		if c.spec.Times <= 0 {
			c.spec.Times = 1
		}
		if c.spec.Times > 1 && (sp.Interval < time.Minute || sp.Interval%time.Minute != 0) {
			return nil, fmt.Errorf("%w: %d runs a day need an interval of whole minutes, at least one", ErrInvalid, c.spec.Times)
		}
		if c.spec.Times > 1440 {
			return nil, fmt.Errorf("%w: at most 1440 runs a day", ErrInvalid)
		}
	case SpecCron:
		if c.cron, err = parseCron(sp.Cron); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: a schedule is every DURATION, a cron expression or a calendar with a time", ErrInvalid)
	}
	return c, nil
}

func parseHHMM(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		return 0, fmt.Errorf("%w: the time of day must be HH:MM (got %q)", ErrInvalid, s)
	}
	return hh*60 + mm, nil
}

// Next returns the first due time after t, and false when there is none.
func (c *compiled) Next(t time.Time) (time.Time, bool) {
	if t.Before(c.spec.Start) {
		// Start itself may be due.
		t = c.spec.Start.Add(-time.Nanosecond)
	}
	if c.spec.Kind == SpecEvery {
		start := c.spec.Start
		k := t.Sub(start)/c.spec.Every + 1
		if t.Before(start) {
			k = 0
		}
		return start.Add(k * c.spec.Every), true
	}
	lt := t.In(c.loc)
	// A day's earliest due time can be resolved into the day before only
	// by a gap, which moves times later, never earlier: start a day back.
	y, m, d := lt.Date()
	for i := -1; i < maxDays; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, c.loc)
		for _, due := range c.dayTimes(day) {
			if due.After(t) {
				return due, true
			}
		}
	}
	return time.Time{}, false
}

// dayTimes are the due times of the day of noon, sorted, without
// repeats (times in a gap can collapse onto one instant).
func (c *compiled) dayTimes(noon time.Time) []time.Time {
	var mins []int
	switch c.spec.Kind {
	case SpecCalendar:
		if !c.day(noon) {
			return nil
		}
		step := int(c.spec.Interval / time.Minute)
		for i := 0; i < c.spec.Times; i++ {
			at := c.at + i*step
			if at >= 1440 {
				break // a day's runs end at midnight
			}
			mins = append(mins, at)
		}
	case SpecCron:
		if !c.cron.matchDay(noon) {
			return nil
		}
		for h := 0; h < 24; h++ {
			if c.cron.hour&(1<<h) == 0 {
				continue
			}
			for mi := 0; mi < 60; mi++ {
				if c.cron.minute&(1<<mi) != 0 {
					mins = append(mins, h*60+mi)
				}
			}
		}
	}
	out := make([]time.Time, 0, len(mins))
	y, m, d := noon.Date()
	for _, mi := range mins {
		due := wallTime(y, m, d, mi/60, mi%60, c.loc)
		if n := len(out); n > 0 && !due.After(out[n-1]) {
			continue
		}
		out = append(out, due)
	}
	return out
}

// wallTime is the instant the wall clock of loc shows y-m-d h:mi: the
// first of two when the clock is turned back over it, and the first
// instant after the gap when it is turned forward over it. (time.Date
// leaves both cases unspecified.)
func wallTime(y int, m time.Month, d, h, mi int, loc *time.Location) time.Time {
	naive := time.Date(y, m, d, h, mi, 0, 0, time.UTC)
	// The offsets in force around that day; a transition needs two.
	_, before := naive.Add(-36 * time.Hour).In(loc).Zone()
	_, after := naive.Add(36 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range []int{before, after} {
		t := naive.Add(-time.Duration(off) * time.Second)
		if _, o := t.In(loc).Zone(); o == off && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if !best.IsZero() {
		return best
	}
	// In the gap: the clock jumped from before to after. The instant the
	// wall time would have had under the old offset lies past the jump;
	// the zone in force there began at the jump.
	t := naive.Add(-time.Duration(before) * time.Second)
	start, _ := t.In(loc).ZoneBounds()
	if start.IsZero() || start.After(t) {
		return t
	}
	return start
}

// cronExpr is a parsed five-field cron expression: minute, hour, day of
// month, month, day of week, as bit sets.
type cronExpr struct {
	minute, hour uint64
	dom          uint64 // 1..31
	month        uint64 // 1..12
	dow          uint64 // 0..6, Sunday 0 (7 is also Sunday)
	domStar      bool
	dowStar      bool
}

var (
	monthNames = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	dayNames   = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
	cronMacros = map[string]string{"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
		"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
)

// parseCron reads the standard five fields (as in crontab(5)): lists,
// ranges, steps, month and day names, and the @daily style macros. As in
// Vixie cron, when both day fields are restricted a day matching either
// is due.
func parseCron(s string) (*cronExpr, error) {
	expr := strings.TrimSpace(s)
	if m, ok := cronMacros[strings.ToLower(expr)]; ok {
		expr = m
	}
	f := strings.Fields(expr)
	if len(f) != 5 {
		return nil, fmt.Errorf("%w: a cron expression has five fields (minute hour day-of-month month day-of-week), %q has %d", ErrInvalid, s, len(f))
	}
	c := &cronExpr{}
	var err error
	bad := func(field string, err error) error {
		return fmt.Errorf("%w: cron %s field: %w", ErrInvalid, field, err)
	}
	if c.minute, _, err = cronField(f[0], 0, 59, nil); err != nil {
		return nil, bad("minute", err)
	}
	if c.hour, _, err = cronField(f[1], 0, 23, nil); err != nil {
		return nil, bad("hour", err)
	}
	if c.dom, c.domStar, err = cronField(f[2], 1, 31, nil); err != nil {
		return nil, bad("day-of-month", err)
	}
	if c.month, _, err = cronField(f[3], 1, 12, monthNames); err != nil {
		return nil, bad("month", err)
	}
	if c.dow, c.dowStar, err = cronField(f[4], 0, 7, dayNames); err != nil {
		return nil, bad("day-of-week", err)
	}
	if c.dow&(1<<7) != 0 {
		c.dow = c.dow&^(1<<7) | 1
	}
	return c, nil
}

func cronField(s string, lo, hi int, names map[string]int) (uint64, bool, error) {
	var bits uint64
	star := s == "*" || strings.HasPrefix(s, "*/")
	for _, part := range strings.Split(s, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 {
				return 0, false, fmt.Errorf("bad step %q", stepStr)
			}
			step = n
		}
		var from, to int
		if rng == "*" {
			from, to = lo, hi
		} else {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if from, err = cronValue(a, lo, hi, names); err != nil {
				return 0, false, err
			}
			to = from
			if isRange {
				if to, err = cronValue(b, lo, hi, names); err != nil {
					return 0, false, err
				}
			} else if hasStep {
				to = hi
			}
			if to < from {
				return 0, false, fmt.Errorf("range %q runs backwards", rng)
			}
		}
		for v := from; v <= to; v += step {
			bits |= 1 << v
		}
	}
	return bits, star, nil
}

func cronValue(s string, lo, hi int, names map[string]int) (int, error) {
	if v, ok := names[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%q is not a value from %d to %d", s, lo, hi)
	}
	return v, nil
}

func (c *cronExpr) matchDay(d time.Time) bool {
	if c.month&(1<<int(d.Month())) == 0 {
		return false
	}
	dom := c.dom&(1<<d.Day()) != 0
	dow := c.dow&(1<<int(d.Weekday())) != 0
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return dow
	case c.dowStar:
		return dom
	}
	return dom || dow
}
