package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

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

// InsertInboxBatch stores several deliveries in one statement; dup[i] reports
// whether items[i] was already there. Used by the group committer.
func (s *Store) InsertInboxBatch(ctx context.Context, items []*InboxItem) (dup []bool, err error) {
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
func (s *Store) ClaimInbox(ctx context.Context, limit int) ([]InboxItem, error) {
	var items []InboxItem
	q := "SELECT * FROM inbox WHERE status = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?" + s.forUpdate(true)
	if err := s.db.WithContext(ctx).Raw(q, InboxPending, s.Now(), limit).Scan(&items).Error; err != nil {
		return nil, translate("claim inbox", err)
	}
	return items, nil
}

// FinishInbox marks a delivery processed.
func (s *Store) FinishInbox(ctx context.Context, id int64) error {
	now := s.Now()
	err := s.db.WithContext(ctx).Model(&InboxItem{}).Where("id = ?", id).
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
