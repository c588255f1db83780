package rules

import (
	"testing"
	"time"

	"github.com/treue/treue/models"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"48h", 48 * time.Hour, false},
		{"14d", 14 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"0s", 0, false},
		{"-3d", 0, true},
		{"1d-5h", 0, true},
		{"1.5d", 0, true},
		{"2 days", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestQuietAdjust(t *testing.T) {
	night := QuietHours{Start: 21 * 60, End: 8 * 60}
	lunch := QuietHours{Start: 12 * 60, End: 14 * 60}
	tests := []struct {
		name string
		q    QuietHours
		in   time.Time
		want time.Time
	}{
		{"Evening", night, at(5, 22, 40), at(6, 8, 0)},
		{"AfterMidnight", night, at(6, 3, 0), at(6, 8, 0)},
		{"AtStart", night, at(5, 21, 0), at(6, 8, 0)},
		{"AtEnd", night, at(6, 8, 0), at(6, 8, 0)},
		{"Day", night, at(6, 14, 0), at(6, 14, 0)},
		{"SameDayWindow", lunch, at(6, 12, 30), at(6, 14, 0)},
		{"SameDayOutside", lunch, at(6, 11, 59), at(6, 11, 59)},
		{"None", QuietHours{}, at(6, 3, 0), at(6, 3, 0)},
		// 2026-03-29: Berlin springs forward at 02:00; the window still ends at 08:00 local.
		{"DST", night, time.Date(2026, 3, 28, 23, 0, 0, 0, berlin), time.Date(2026, 3, 29, 8, 0, 0, 0, berlin)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quietAdjust(tt.in, tt.q, berlin); !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got.In(berlin), tt.want.In(berlin))
			}
		})
	}
}

func TestNextBirthday(t *testing.T) {
	tests := []struct {
		name     string
		birthday string
		now      time.Time
		want     time.Time
		ok       bool
	}{
		{"Today", "1988-11-20", at(20, 3, 0), at(20, 9, 0), true},
		{"Tomorrow", "1988-11-20", at(19, 23, 30), at(20, 9, 0), true},
		{"TwoDaysAhead", "1988-11-20", at(18, 12, 0), time.Time{}, false},
		{"Yesterday", "1988-11-20", at(21, 1, 0), time.Time{}, false},
		{"Leap", "2000-02-29", time.Date(2027, 2, 28, 6, 0, 0, 0, berlin), time.Date(2027, 2, 28, 9, 0, 0, 0, berlin), true},
		{"LeapYear", "2000-02-29", time.Date(2028, 2, 29, 6, 0, 0, 0, berlin), time.Date(2028, 2, 29, 9, 0, 0, 0, berlin), true},
		{"Unknown", "", at(20, 3, 0), time.Time{}, false},
		{"Garbage", "20.11.1988", at(20, 3, 0), time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, ok := nextBirthday(tt.birthday, tt.now, berlin, 9*60)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("got %v %v, want %v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestMaxInWindow(t *testing.T) {
	day := 24 * time.Hour
	t0 := at(10, 12, 0)
	tests := []struct {
		name  string
		times []time.Time
		want  int
	}{
		{"Empty", nil, 0},
		{"OneBefore", []time.Time{t0.Add(-6 * day)}, 1},
		{"OutsideWindow", []time.Time{t0.Add(-7 * day), t0.Add(7 * day)}, 0},
		// -6d and +6d never share a 7-day window with each other, only with t0.
		{"Spread", []time.Time{t0.Add(-6 * day), t0.Add(6 * day)}, 1},
		{"Cluster", []time.Time{t0.Add(-2 * day), t0.Add(1 * day)}, 2},
		{"Same", []time.Time{t0, t0}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maxInWindow(tt.times, t0, 7*day); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSet_InHoldout(t *testing.T) {
	s, err := Parse("h.yaml", []byte("defaults: {holdout_percent: 10}\n"))
	if err != nil {
		t.Fatal(err)
	}
	// A reload with other rules (another Set, another version) and the same
	// holdout_percent must keep every customer in the group they were in:
	// the group is measured against over months.
	reloaded, err := Parse("other.yaml", []byte("defaults: {holdout_percent: 10, currency: EUR}\n"+
		"rules:\n  - id: r\n    on: order.paid\n    kind: service\n    action: {type: tag_customer, params: {tag: x}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if reloaded.Version == s.Version {
		t.Fatal("the two rule sets must differ")
	}
	n := 0
	for i := 0; i < 10000; i++ {
		id := "cus_" + itoa(i)
		in := s.InHoldout(id)
		if in {
			n++
		}
		if reloaded.InHoldout(id) != in {
			t.Fatalf("%s: in the holdout %v, after a reload %v", id, in, !in)
		}
	}
	if n < 900 || n > 1100 {
		t.Errorf("%d of 10000 in a 10%% holdout", n)
	}
	// Replicas of different versions share the group during a rolling
	// deploy, so the hash must not change between releases either.
	for id, want := range map[string]bool{"cus_0": false, "cus_1": true, "cus_2": false, "cus_7": true, "cus_31": true} {
		if got := s.InHoldout(id); got != want {
			t.Errorf("InHoldout(%q) = %v, want %v: the holdout hash changed", id, got, want)
		}
	}
}

func TestCents(t *testing.T) {
	for _, m := range []models.Money{"", "0", "59.80", "14.9", "7", "-3.005", "1.004", "1.005", "12,50", "abc",
		"0.01", "999999999999999.99", "1234567890123456", ".5", "5.", "-0.50"} {
		want, _ := m.Cents()
		if got := cents(m); got != want {
			t.Errorf("cents(%q) = %d, want %d", m, got, want)
		}
	}
}
