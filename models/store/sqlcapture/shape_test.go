package sqlcapture

import "testing"

func TestShape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT * FROM t WHERE id IN (?,?,?,?)", "SELECT * FROM t WHERE id IN (?,?)"},
		{"SELECT * FROM t WHERE id IN (?)", "SELECT * FROM t WHERE id IN (?)"},
		{"INSERT INTO t (a,b,c) VALUES (?,?,?),(?,?,?),(?,?,?) ON DUPLICATE KEY UPDATE id = id", "INSERT INTO t (a,b,c) VALUES (?,?,?) ON DUPLICATE KEY UPDATE id = id"},
		{"SELECT * FROM t WHERE (a = ? AND b = ?) OR (a = ? AND b = ?) OR (a = ? AND b = ?)", "SELECT * FROM t WHERE (a = ? AND b = ?) OR (a = ? AND b = ?)"},
		{"UPDATE t SET x = CASE id WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? END", "UPDATE t SET x = CASE id WHEN ? THEN ? WHEN ? THEN ? END"},
		{"SAVEPOINT d17", "SAVEPOINT d0"},
		{"SELECT\n  a\tFROM t", "SELECT a FROM t"},
	} {
		if got := Shape(c.in); got != c.want {
			t.Errorf("Shape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestInsertShops(t *testing.T) {
	q := "INSERT INTO inbox (shop_id, platform, attempts, body) VALUES (?,?,0,?),(?,?,0,?)"
	if n := insertShops(q, []any{int64(1), "a", "b", int64(1), "c", "d"}); n != 1 {
		t.Errorf("one shop: %d", n)
	}
	if n := insertShops(q, []any{int64(1), "a", "b", int64(2), "c", "d"}); n != 2 {
		t.Errorf("two shops: %d", n)
	}
	if n := insertShops("INSERT INTO `x` (`a`,`shop_id`) VALUES (?,?)", []any{"a", int64(7)}); n != 1 {
		t.Errorf("quoted column: %d", n)
	}
	if n := insertShops("INSERT INTO shops (name) VALUES (?)", []any{"a"}); n != 0 {
		t.Errorf("no shop_id: %d", n)
	}
}
