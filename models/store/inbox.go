package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/treue/treue/models"
)

// Inbox statuses.
const (
	InboxPending = "pending"
	InboxDone    = "done"
	InboxFailed  = "failed"
	// InboxUnparsed: authentic, but the body could not be turned into
	// events (see Error). Kept for `treue inbox replay` after a fix.
	InboxUnparsed = "unparsed"
)

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
func (s *Store) InsertInbox(ctx context.Context, it *models.Delivery) (duplicate bool, err error) {
	now := s.Now()
	it.ReceivedAt, it.NextAttemptAt = now, now
	if it.Status == "" {
		it.Status = InboxPending
	}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(it)
	if res.Error != nil {
		return false, translate("insert inbox", res.Error)
	}
	return res.RowsAffected == 0, nil
}

// InsertInboxBatch stores several deliveries in one transaction with one
// multi-row INSERT; dup[i] reports whether items[i] was already there, or
// came earlier in items. Used by the group committer: the commit and the
// statement are shared, each row still counts once.
//
// The rows already present are read first, in one query; the INSERT then
// skips conflicts (ON DUPLICATE KEY UPDATE id = id / ON CONFLICT DO NOTHING).
// If it inserts fewer rows than expected, another writer inserted one of them
// in between: the transaction is rolled back and the batch written row by
// row, which reports each duplicate exactly. Items' ID fields are not set.
//
// On MySQL each shop's deliveries get a transaction of their own, so that on
// a keyspace sharded by shop (deploy/vitess) no transaction spans shards.
// They run concurrently: on one server their commits share InnoDB's group
// commit of the redo log rather than taking turns. Should one of them fail,
// the others may have committed; the error makes the senders retry, and
// their deliveries are then duplicates, acknowledged as such.
func (s *Store) InsertInboxBatch(ctx context.Context, items []*models.Delivery) (dup []bool, err error) {
	if s.driver == "mysql" {
		if shops := byShop(items); len(shops) > 1 {
			return s.insertInboxPerShop(ctx, items, shops)
		}
	}
	return s.insertInboxBatch(ctx, items)
}

// byShop groups the indexes of items by shop, in the order shops first occur.
func byShop(items []*models.Delivery) [][]int {
	at := map[int64]int{}
	var out [][]int
	for i, it := range items {
		j, ok := at[it.ShopID]
		if !ok {
			j = len(out)
			at[it.ShopID] = j
			out = append(out, nil)
		}
		out[j] = append(out[j], i)
	}
	return out
}

// insertInboxPerShop is InsertInboxBatch with one transaction per shop.
func (s *Store) insertInboxPerShop(ctx context.Context, items []*models.Delivery, shops [][]int) ([]bool, error) {
	dup := make([]bool, len(items))
	errs := make([]error, len(shops))
	var wg sync.WaitGroup
	for n, idx := range shops {
		wg.Go(func() {
			part := make([]*models.Delivery, len(idx))
			for k, i := range idx {
				part[k] = items[i]
			}
			d, err := s.insertInboxBatch(ctx, part)
			if err != nil {
				errs[n] = err
				return
			}
			for k, i := range idx {
				dup[i] = d[k] // each goroutine writes its own indexes
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return make([]bool, len(items)), err
	}
	return dup, nil
}

// insertInboxBatch is InsertInboxBatch in one transaction.
func (s *Store) insertInboxBatch(ctx context.Context, items []*models.Delivery) (dup []bool, err error) {
	dup = make([]bool, len(items))
	if len(items) == 0 {
		return dup, nil
	}
	now := s.Now()
	seen := make(map[inboxKey]bool, len(items))
	var fresh []int // first occurrences
	for i, it := range items {
		it.ReceivedAt, it.NextAttemptAt = now, now
		if it.Status == "" {
			it.Status = InboxPending
		}
		k := inboxKey{it.ShopID, it.DeliveryID}
		var h inboxKey
		if it.BodyHash != nil {
			h = inboxKey{it.ShopID, "body:" + *it.BodyHash}
		}
		if seen[k] || (it.BodyHash != nil && seen[h]) {
			dup[i] = true
			continue
		}
		seen[k] = true
		if it.BodyHash != nil {
			seen[h] = true
		}
		fresh = append(fresh, i)
	}
	raced := errors.New("inbox: concurrent insert")
	// The default isolation: the transaction only reads what it is about to
	// insert, and asking for another level costs a round trip of its own.
	err = s.inTx(ctx, false, func(tx *Store) error {
		stored, err := tx.storedInbox(ctx, items, fresh)
		if err != nil {
			return err
		}
		var rows []int
		for _, i := range fresh {
			it := items[i]
			if stored[inboxKey{it.ShopID, it.DeliveryID}] || (it.BodyHash != nil && stored[inboxKey{it.ShopID, "body:" + *it.BodyHash}]) {
				dup[i] = true
			} else {
				rows = append(rows, i)
			}
		}
		inserted, err := tx.insertInboxMulti(ctx, items, rows, now)
		if err != nil {
			return err
		}
		if inserted != len(rows) {
			return raced
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

// insertInboxMulti inserts items[rows] with multi-row INSERTs that skip the
// rows stored already, and counts the rows inserted.
func (s *Store) insertInboxMulti(ctx context.Context, items []*models.Delivery, rows []int, now time.Time) (inserted int, err error) {
	// One statement per few MB, under max_allowed_packet.
	for len(rows) > 0 {
		var sb strings.Builder
		var args []any
		n, size := 0, 0
		sb.WriteString("INSERT INTO inbox (shop_id, platform, delivery_id, topic, headers, body, received_at, status, attempts, next_attempt_at, error, body_hash) VALUES ")
		for n < len(rows) && (n == 0 || size < 4<<20) {
			it := items[rows[n]]
			if n > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?,?,?,?,?,0,?,?,?)")
			args = append(args, it.ShopID, it.Platform, it.DeliveryID, it.Topic, it.Headers, it.Body, now, it.Status, now, it.Error, it.BodyHash)
			size += len(it.Body) + len(it.Headers) + len(it.DeliveryID) + len(it.Topic) + 64
			n++
		}
		rows = rows[n:]
		if s.driver == "mysql" {
			sb.WriteString(" ON DUPLICATE KEY UPDATE id = id")
		} else {
			sb.WriteString(" ON CONFLICT DO NOTHING")
		}
		res := s.db.WithContext(ctx).Exec(sb.String(), args...)
		if res.Error != nil {
			return inserted, translate("insert inbox batch", res.Error)
		}
		inserted += int(res.RowsAffected)
	}
	return inserted, nil
}

type inboxKey struct {
	shop int64
	id   string
}

// storedInbox tells which of items[idx] are stored already. One query for
// all shops: the unique index (shop_id, delivery_id) answers both IN lists,
// and the pairs that only the cross product matches are left out here.
func (s *Store) storedInbox(ctx context.Context, items []*models.Delivery, idx []int) (map[inboxKey]bool, error) {
	if len(idx) == 0 {
		return map[inboxKey]bool{}, nil
	}
	var shops []int64
	ids := make([]string, 0, len(idx))
	var hashes []string
	for _, i := range idx {
		if !slices.Contains(shops, items[i].ShopID) {
			shops = append(shops, items[i].ShopID)
		}
		ids = append(ids, items[i].DeliveryID)
		if h := items[i].BodyHash; h != nil {
			hashes = append(hashes, *h)
		}
	}
	// Every grouped commit asks this, so it is built here: through GORM the
	// statement's building and the scan took a tenth of the server's CPU
	// under load.
	// One shop (always on MySQL): "=" names the shard to Vitess.
	shopIs := "shop_id = ?"
	if len(shops) > 1 {
		shopIs = "shop_id IN (" + placeholders(len(shops)) + ")"
	}
	cond := "delivery_id IN (" + placeholders(len(ids)) + ")"
	if len(hashes) > 0 {
		cond = "(" + cond + " OR body_hash IN (" + placeholders(len(hashes)) + "))"
	}
	args := appendArgs(appendArgs(appendArgs(nil, shops), ids), hashes)
	stored := map[inboxKey]bool{}
	err := s.each(ctx, "insert inbox batch", "SELECT shop_id, delivery_id, body_hash FROM inbox WHERE "+shopIs+" AND "+cond, args, func(rows *sql.Rows) error {
		var shopID int64
		var deliveryID string
		var bodyHash sql.NullString
		if err := rows.Scan(&shopID, &deliveryID, &bodyHash); err != nil {
			return err
		}
		stored[inboxKey{shopID, deliveryID}] = true
		if bodyHash.Valid {
			stored[inboxKey{shopID, "body:" + bodyHash.String}] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// insertInboxRows is InsertInboxBatch one row at a time, in one transaction.
func (s *Store) insertInboxRows(ctx context.Context, items []*models.Delivery) (dup []bool, err error) {
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
//
// On a store scoped to a shop (ForShop) it claims that shop's deliveries
// only, along the index (shop_id, status, next_attempt_at, id).
func (s *Store) ClaimInbox(ctx context.Context, limit int) ([]models.Delivery, error) {
	var items []models.Delivery
	args := []any{InboxPending, s.Now()}
	where := "status = ? AND next_attempt_at <= ?"
	if s.shop != 0 {
		where = "shop_id = ? AND " + where
		args = append([]any{s.shop}, args...)
	}
	q := "SELECT * FROM inbox WHERE " + where + " ORDER BY next_attempt_at, id LIMIT ?" + s.forUpdate(true)
	if err := s.db.WithContext(ctx).Raw(q, append(args, limit)...).Scan(&items).Error; err != nil {
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
	err := s.scoped(ctx, "inbox").Model(&models.Delivery{}).Where("id IN ?", ids).
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
	err := s.scoped(ctx, "inbox").Model(&models.Delivery{}).Where("id = ?", id).Updates(upd).Error
	return translate("fail inbox", err)
}

// DeleteInbox deletes deliveries, for those of a shop that was removed.
func (s *Store) DeleteInbox(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	return translate("delete inbox", s.scoped(ctx, "inbox").Where("id IN ?", ids).Delete(&models.Delivery{}).Error)
}

// MarkUnparsed records that a stored delivery cannot be turned into events:
// parsing is pure, so trying again only helps after a fix (InboxReplay).
func (s *Store) MarkUnparsed(ctx context.Context, id int64, reason string) error {
	err := s.scoped(ctx, "inbox").Model(&models.Delivery{}).Where("id = ?", id).
		Updates(map[string]any{"status": InboxUnparsed, "error": reason, "attempts": clause.Expr{SQL: "attempts + 1"}}).Error
	return translate("mark unparsed", err)
}

// InboxFilter selects deliveries for support: by shop (0: all), status
// ("": all) and ids (none: all).
type InboxFilter struct {
	ShopID int64
	Status string
	IDs    []int64
}

func (f InboxFilter) apply(db *gorm.DB) *gorm.DB {
	if f.ShopID != 0 {
		db = db.Where("shop_id = ?", f.ShopID)
	}
	if f.Status != "" {
		db = db.Where("status = ?", f.Status)
	}
	if len(f.IDs) > 0 {
		db = db.Where("id IN ?", f.IDs)
	}
	return db
}

// ListInbox lists deliveries, newest first, without their bodies.
func (s *Store) ListInbox(ctx context.Context, f InboxFilter, limit int) ([]models.Delivery, error) {
	var out []models.Delivery
	err := f.apply(s.db.WithContext(ctx).Model(&models.Delivery{})).
		Select("id, shop_id, platform, delivery_id, topic, received_at, status, attempts, next_attempt_at, processed_at, error").
		Order("id DESC").Limit(limit).Find(&out).Error
	return out, translate("list inbox", err)
}

// ReplayInbox puts the unparsed and failed deliveries f selects back into
// the queue, with their attempts reset; deliveries whose body the retention
// purge or an erasure has blanked cannot be replayed and are left alone
// (skipped counts them). Processed deliveries are never replayed: their
// events are recorded.
func (s *Store) ReplayInbox(ctx context.Context, f InboxFilter) (replayed, skipped int64, err error) {
	statuses := []string{InboxUnparsed, InboxFailed}
	if f.Status != "" {
		if !slices.Contains(statuses, f.Status) {
			return 0, 0, fmt.Errorf("store: replay: only %s deliveries can be replayed, not %q: %w", strings.Join(statuses, " and "), f.Status, models.ErrInvalid)
		}
		statuses = []string{f.Status}
	}
	f.Status = ""
	db := s.db.WithContext(ctx)
	res := f.apply(db.Model(&models.Delivery{})).Where("status IN ? AND body IS NOT NULL", statuses).
		Updates(map[string]any{"status": InboxPending, "attempts": 0, "next_attempt_at": s.Now(), "error": nil})
	if res.Error != nil {
		return 0, 0, translate("replay inbox", res.Error)
	}
	if err := f.apply(db.Model(&models.Delivery{})).Where("status IN ? AND body IS NULL", statuses).Count(&skipped).Error; err != nil {
		return res.RowsAffected, 0, translate("replay inbox", err)
	}
	return res.RowsAffected, skipped, nil
}

// InboxBacklog counts deliveries waiting and the age of the oldest.
func (s *Store) InboxBacklog(ctx context.Context) (pending int64, oldest time.Duration, err error) {
	db := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("status = ?", InboxPending)
	if err := db.Count(&pending).Error; err != nil {
		return 0, 0, translate("inbox backlog", err)
	}
	if pending == 0 {
		return 0, 0, nil
	}
	// Selecting the column (not MIN of it) keeps its type on SQLite.
	var first models.Delivery
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
func (s *Store) InboxByDelivery(ctx context.Context, shopID int64, deliveryID string) (*models.Delivery, error) {
	var it models.Delivery
	err := s.db.WithContext(ctx).Where("shop_id = ? AND delivery_id = ?", shopID, deliveryID).Take(&it).Error
	if err != nil {
		return nil, translate("inbox by delivery", err)
	}
	return &it, nil
}
