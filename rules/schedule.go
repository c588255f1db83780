package rules

import (
	"strconv"
	"time"
)

// due computes when r's action is due, and the key anchor of scan schedules.
// ok is false when the schedule says "not now" (no birthday today, not
// inactive long enough, no consumption cycle).
//
// Delays count from the event's own time (models.Event.OccurredAt), not from
// processing time, so a late or replayed event plans the same moment; a due
// time already past becomes now. Quiet hours then move it out of the window.
func (ev *evaluation) due(r *Rule) (due time.Time, anchor string, ok bool) {
	base := ev.env.Event.At
	switch r.Schedule.Kind {
	case Immediately:
		due = ev.now
		if slot := ev.env.Event.Stock.SlotAt; slot.After(due) {
			due = slot // a back-in-stock notice waits for its slot (stock.go)
		}
	case After:
		due = base.Add(r.Schedule.After)
	case AfterDays:
		v, err := ev.vm.Run(r.afterDays, ev.env)
		if err != nil {
			ev.fail(r, "after_days: %v", err)
			return time.Time{}, "", false
		}
		days, _ := v.(float64)
		if days <= 0 {
			return time.Time{}, "", false
		}
		due = base.Add(time.Duration(days*float64(24*time.Hour)) - r.Schedule.Lead)
		if due.Before(base) {
			due = base
		}
	case AtBirthday:
		var year int
		due, year, ok = nextBirthday(ev.in.Profile.Birthday, ev.now, ev.loc, r.Schedule.At)
		if !ok {
			return time.Time{}, "", false
		}
		anchor = "|y:" + strconv.Itoa(year)
	case Inactivity:
		last := ev.env.Customer.LastOrderAt
		if last.IsZero() || ev.now.Sub(last) < r.Schedule.InactiveFor {
			return time.Time{}, "", false
		}
		due = ev.now
		anchor = "|since:" + last.Format("20060102T150405Z")
	}
	if due.Before(ev.now) {
		due = ev.now
	}
	return quietAdjust(due, r.QuietHours, ev.loc), anchor, true
}

// nextBirthday finds a birthday today or tomorrow (local), so that a scan that
// runs late in the day, or skips a day, still catches it. Feb 29 birthdays
// are celebrated on Feb 28 in common years.
func nextBirthday(birthday string, now time.Time, loc *time.Location, at int) (time.Time, int, bool) {
	b, err := time.Parse(time.DateOnly, birthday)
	if err != nil {
		return time.Time{}, 0, false
	}
	local := now.In(loc)
	for off := 0; off <= 1; off++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+off, 12, 0, 0, 0, loc)
		bm, bd := b.Month(), b.Day()
		if bm == time.February && bd == 29 && !isLeap(day.Year()) {
			bd = 28
		}
		if day.Month() == bm && day.Day() == bd {
			return time.Date(day.Year(), day.Month(), day.Day(), at/60, at%60, 0, 0, loc).UTC(), day.Year(), true
		}
	}
	return time.Time{}, 0, false
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// quietAdjust moves t out of the quiet window q (local time of loc) to the
// window's end.
func quietAdjust(t time.Time, q QuietHours, loc *time.Location) time.Time {
	if !q.Enabled() {
		return t
	}
	local := t.In(loc)
	m := local.Hour()*60 + local.Minute()
	day := local.Day()
	switch {
	case q.Start < q.End: // e.g. 13:00-15:00
		if m < q.Start || m >= q.End {
			return t
		}
	default: // wraps midnight, e.g. 21:00-08:00
		if m >= q.End && m < q.Start {
			return t
		}
		if m >= q.Start {
			day++ // evening: the window ends tomorrow morning
		}
	}
	return time.Date(local.Year(), local.Month(), day, q.End/60, q.End%60, 0, 0, loc).UTC()
}
