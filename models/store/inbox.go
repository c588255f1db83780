package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Inbox statuses.
const (
	InboxPending = "pending"
	InboxDone    = "done"
	InboxFailed  = "failed"
)

// InboxItem is one verified delivery waiting to be (or already) processed.
type InboxItem struct {
	ID            int64
	ShopID        int64
	Platform      string
	DeliveryID    string
	Topic         string
	Headers       string // JSON of the headers the parser needs again
	Body          []byte
	ReceivedAt    time.Time
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	ProcessedAt   *time.Time
	Error         *string
}

func (InboxItem) TableName() string { return "inbox" }

// EncodeHeaders keeps the request headers a parser may read again, as JSON.
func EncodeHeaders(h http.Header) string {
	b, _ := json.Marshal(h) // a map of string slices always marshals
	return string(b)
}

// DecodeHeaders reverses EncodeHeaders.
func DecodeHeaders(s string) (http.Header, error) {
	h := http.Header{}
	if s == "" {
		return h, nil
	}
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return nil, fmt.Errorf("store: inbox headers: %w", err)
	}
	return h, nil
}

// InsertInbox stores a delivery once per (shop, delivery id). duplicate is true
// when it was already there; then nothing changes.
func (s *Store) InsertInbox(ctx context.Context, it *InboxItem) (duplicate bool, err error) {
	now := s.Now()
	it.ReceivedAt, it.NextAttemptAt, it.Status = now, now, InboxPending
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(it)
	if res.Error != nil {
		return false, translate("insert inbox", res.Error)
	}
	return res.RowsAffected == 0, nil
}

// InsertInboxBatch stores several deliveries in one transaction with one
// multi-row INSERT per shop; dup[i] reports whether items[i] was already
// there, or came earlier in items. Used by the group committer: the commit
// and the statement are shared, each row still counts once.
//
// The rows already present are read first; the INSERT then skips conflicts
// (ON DUPLICATE KEY UPDATE id = id / ON CONFLICT DO NOTHING). If it inserts
// fewer rows than expected, another writer inserted one of them in between:
// the transaction is rolled back and the batch written row by row, which
// reports each duplicate exactly. Items' ID fields are not set.
func (s *Store) InsertInboxBatch(ctx context.Context, items []*InboxItem) (dup []bool, err error) {
	dup = make([]bool, len(items))
	if len(items) == 0 {
		return dup, nil
	}
	now := s.Now()
	type key struct {
		shop int64
		id   string
	}
	first := map[key]int{}
	byShop := map[int64][]int{} // first occurrences, per shop
	var shops []int64
	for i, it := range items {
		it.ReceivedAt, it.NextAttemptAt, it.Status = now, now, InboxPending
		k := key{it.ShopID, it.DeliveryID}
		if _, seen := first[k]; seen {
			dup[i] = true
			continue
		}
		first[k] = i
		if _, ok := byShop[it.ShopID]; !ok {
			shops = append(shops, it.ShopID)
		}
		byShop[it.ShopID] = append(byShop[it.ShopID], i)
	}
	raced := errors.New("inbox: concurrent insert")
	err = s.InTx(ctx, func(tx *Store) error {
		for _, shop := range shops {
			idx := byShop[shop]
			ids := make([]string, len(idx))
			for j, i := range idx {
				ids[j] = items[i].DeliveryID
			}
			var existing []string
			if err := tx.db.WithContext(ctx).Model(&InboxItem{}).Where("shop_id = ? AND delivery_id IN ?", shop, ids).
				Pluck("delivery_id", &existing).Error; err != nil {
				return translate("insert inbox batch", err)
			}
			have := make(map[string]bool, len(existing))
			for _, id := range existing {
				have[id] = true
			}
			var rows []int
			for _, i := range idx {
				if have[items[i].DeliveryID] {
					dup[i] = true
				} else {
					rows = append(rows, i)
				}
			}
			// One statement per few MB, under max_allowed_packet.
			for len(rows) > 0 {
				var sb strings.Builder
				var args []any
				n, size := 0, 0
				sb.WriteString("INSERT INTO inbox (shop_id, platform, delivery_id, topic, headers, body, received_at, status, attempts, next_attempt_at) VALUES ")
				for n < len(rows) && (n == 0 || size < 4<<20) {
					it := items[rows[n]]
					if n > 0 {
						sb.WriteByte(',')
					}
					sb.WriteString("(?,?,?,?,?,?,?,?,0,?)")
					args = append(args, it.ShopID, it.Platform, it.DeliveryID, it.Topic, it.Headers, it.Body, now, InboxPending, now)
					size += len(it.Body) + len(it.Headers) + len(it.DeliveryID) + len(it.Topic) + 64
					n++
				}
				rows = rows[n:]
				if s.driver == "mysql" {
					sb.WriteString(" ON DUPLICATE KEY UPDATE id = id")
				} else {
					sb.WriteString(" ON CONFLICT DO NOTHING")
				}
				res := tx.db.WithContext(ctx).Exec(sb.String(), args...)
				if res.Error != nil {
					return translate("insert inbox batch", res.Error)
				}
				if res.RowsAffected != int64(n) {
					return raced
				}
			}
		}
		return nil
	})
	if errors.Is(err, raced) {
		return s.insertInboxRows(ctx, items)
	}
	if err != nil {
		for i := range dup {
			dup[i] = false
		}
		return dup, err
	}
	return dup, nil
}

// insertInboxRows is InsertInboxBatch one row at a time, in one transaction.
func (s *Store) insertInboxRows(ctx context.Context, items []*InboxItem) (dup []bool, err error) {
	dup = make([]bool, len(items))
	err = s.InTx(ctx, func(tx *Store) error {
		for i, it := range items {
			d, err := tx.InsertInbox(ctx, it)
			if err != nil {
				return err
			}
			dup[i] = d
		}
		return nil
	})
	return dup, err
}

// ClaimInbox locks up to limit due deliveries for the caller's transaction,
// skipping rows another processor holds (MySQL). Call it inside InTx.
//
// The order follows the due index (status, next_attempt_at, id), so InnoDB
// reads and locks only the rows it returns; ordering by id alone would sort
// the whole backlog and lock all of it, and concurrent processors would then
// find nothing to claim.
func (s *Store) ClaimInbox(ctx context.Context, limit int) ([]InboxItem, error) {
	var items []InboxItem
	q := "SELECT * FROM inbox WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?" + s.forUpdate(true)
	if err := s.db.WithContext(ctx).Raw(q, InboxPending, s.Now(), limit).Scan(&items).Error; err != nil {
		return nil, translate("claim inbox", err)
	}
	return items, nil
}

// FinishInbox marks deliveries processed.
func (s *Store) FinishInbox(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	now := s.Now()
	err := s.db.WithContext(ctx).Model(&InboxItem{}).Where("id IN ?", ids).
		Updates(map[string]any{"status": InboxDone, "processed_at": now, "error": nil}).Error
	return translate("finish inbox", err)
}

// FailInbox records a processing failure: retried at retryAt, or failed for
// good when retryAt is zero.
func (s *Store) FailInbox(ctx context.Context, id int64, reason string, retryAt time.Time) error {
	upd := map[string]any{"attempts": clause.Expr{SQL: "attempts + 1"}, "error": reason}
	if retryAt.IsZero() {
		upd["status"] = InboxFailed
	} else {
		upd["next_attempt_at"] = retryAt
	}
	err := s.db.WithContext(ctx).Model(&InboxItem{}).Where("id = ?", id).Updates(upd).Error
	return translate("fail inbox", err)
}

// InboxBacklog counts deliveries waiting and the age of the oldest.
func (s *Store) InboxBacklog(ctx context.Context) (pending int64, oldest time.Duration, err error) {
	db := s.db.WithContext(ctx).Model(&InboxItem{}).Where("status = ?", InboxPending)
	if err := db.Count(&pending).Error; err != nil {
		return 0, 0, translate("inbox backlog", err)
	}
	if pending == 0 {
		return 0, 0, nil
	}
	// Selecting the column (not MIN of it) keeps its type on SQLite.
	var first InboxItem
	err = s.db.WithContext(ctx).Select("received_at").Where("status = ?", InboxPending).Order("id").Take(&first).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, 0, nil // processed between the two reads
	}
	if err != nil {
		return 0, 0, translate("inbox backlog", err)
	}
	return pending, s.Now().Sub(first.ReceivedAt), nil
}

// InboxByDelivery finds one delivery, for tests and support.
func (s *Store) InboxByDelivery(ctx context.Context, shopID int64, deliveryID string) (*InboxItem, error) {
	var it InboxItem
	err := s.db.WithContext(ctx).Where("shop_id = ? AND delivery_id = ?", shopID, deliveryID).Take(&it).Error
	if err != nil {
		return nil, translate("inbox by delivery", err)
	}
	return &it, nil
}
