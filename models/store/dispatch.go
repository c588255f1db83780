package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/treue/treue/models"
)

// Attempt outcomes, as stored in attempts.outcome.
const (
	AttemptOK        = "ok"
	AttemptTransient = "transient"
	AttemptPermanent = "permanent"
)

// Claiming and its lease.
//
// A claim moves a due action to sending and leases it to one owner until
// lease_until. While it is sending, next_attempt_at is set to lease_until too,
// so that due work and expired leases are one range of ix_actions_due
// (status, next_attempt_at, id): each claim reads at most a few rows per
// status in index order instead of sorting every due row (which on MySQL
// would also lock them all until commit). attempts counts claims, so an
// action whose call crashes the process every time still runs out of attempts;
// releasing an unstarted claim gives its attempt back.

// ClaimActions leases up to limit due actions to owner for lease, in one short
// transaction, and returns them as sending with Attempts counting this one.
// Due are scheduled and retrying actions whose next_attempt_at has come, and
// sending actions whose lease expired (their process died). Actions of the
// shops in skipShops are left alone. A store scoped to a shop (ForShop)
// claims that shop's actions only. On MySQL rows another claimer holds are
// skipped (FOR UPDATE SKIP LOCKED); on SQLite the immediate transaction makes
// claimers take turns.
func (s *Store) ClaimActions(ctx context.Context, owner string, limit int, lease time.Duration, skipShops []int64) ([]models.Action, error) {
	if limit <= 0 {
		return nil, nil
	}
	if owner == "" || len(owner) > 64 {
		return nil, fmt.Errorf("store: claim actions: owner must be 1-64 bytes: %w", models.ErrInvalid)
	}
	var out []models.Action
	claim := func(tx *Store) error {
		out = nil
		now := tx.Now().UTC()
		db := tx.db.WithContext(ctx)
		var rows []ActionRow
		for _, st := range []models.ActionStatus{models.ActionScheduled, models.ActionRetrying, models.ActionSending} {
			q := "SELECT * FROM actions WHERE status = ? AND next_attempt_at <= ?"
			args := []any{string(st), now}
			if tx.shop != 0 {
				// One shop's (ForShop), along ix_actions_shop_next.
				q = "SELECT * FROM actions WHERE shop_id = ? AND status = ? AND next_attempt_at <= ?"
				args = append([]any{tx.shop}, args...)
			}
			if st == models.ActionSending {
				q += " AND lease_until <= ?"
				args = append(args, now)
			}
			if len(skipShops) > 0 {
				q += " AND shop_id NOT IN ?"
				args = append(args, skipShops)
			}
			q += " ORDER BY next_attempt_at, id LIMIT ?" + tx.forUpdate(true)
			args = append(args, limit)
			var part []ActionRow
			if err := db.Raw(q, args...).Scan(&part).Error; err != nil {
				return translate("claim actions", err)
			}
			rows = append(rows, part...)
		}
		if len(rows) == 0 {
			return nil
		}
		// The oldest due first across the three statuses. Rows read but not
		// taken stay locked only until this transaction commits.
		slices.SortFunc(rows, func(a, b ActionRow) int {
			if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
				return c
			}
			return compareInt64(a.ID, b.ID)
		})
		rows = rows[:min(limit, len(rows))]
		ids := make([]int64, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
		}
		until := now.Add(lease)
		res := tx.scoped(ctx, "actions").Model(&ActionRow{}).Where("id IN ?", ids).Updates(map[string]any{
			"status": string(models.ActionSending), "lease_owner": owner, "lease_until": until,
			"next_attempt_at": until, "attempts": clause.Expr{SQL: "attempts + 1"}, "updated_at": now,
		})
		if res.Error != nil {
			return translate("claim actions", res.Error)
		}
		if res.RowsAffected != int64(len(ids)) {
			// The rows are locked by this transaction; anything else is a bug
			// worth retrying rather than leasing half a batch.
			return fmt.Errorf("store: claim actions: leased %d of %d rows: %w", res.RowsAffected, len(ids), ErrRetry)
		}
		acts, err := toActions(rows)
		if err != nil {
			return err
		}
		for i := range acts {
			acts[i].Status = models.ActionSending
			acts[i].Attempts++
			acts[i].UpdatedAt = now
		}
		out = acts
		return nil
	}
	// A claim and another claimer's settling of an action it sent change
	// the same index pages; InnoDB now and then refuses one of the two. The
	// refused claim changed nothing and is simply run again.
	var err error
	for try := 0; try < 3; try++ {
		if err = s.InTx(ctx, claim); !errors.Is(err, ErrDeadlock) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// leased restricts an update to an action still leased by owner, so a worker
// whose lease expired (and was taken over) cannot overwrite the result. The
// shop routes the statement to its shard on Vitess (deploy/vitess).
func (s *Store) leased(ctx context.Context, shopID, id int64, owner string) *gorm.DB {
	return s.db.WithContext(ctx).Model(&ActionRow{}).
		Where("shop_id = ? AND id = ? AND status = ? AND lease_owner = ?", shopID, id, string(models.ActionSending), owner)
}

// CompleteAction marks an action leased by owner as sent, with what the shop
// created (externalRef, may be empty). applied is false when owner no longer
// holds the lease.
func (s *Store) CompleteAction(ctx context.Context, shopID, id int64, owner, externalRef string) (applied bool, err error) {
	now := s.Now()
	var ref any
	if externalRef != "" {
		ref = truncateBytes(externalRef, 255)
	}
	res := s.leased(ctx, shopID, id, owner).Updates(map[string]any{
		"status": string(models.ActionSent), "sent_at": now, "external_ref": ref, "reason": nil,
		"lease_owner": nil, "lease_until": nil, "next_attempt_at": now, "updated_at": now,
	})
	if res.Error != nil {
		return false, translate("complete action", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// RetryAction schedules another attempt of an action leased by owner at at,
// keeping reason (the last failure). applied is false when owner no longer
// holds the lease.
func (s *Store) RetryAction(ctx context.Context, shopID, id int64, owner string, at time.Time, reason string) (applied bool, err error) {
	res := s.leased(ctx, shopID, id, owner).Updates(map[string]any{
		"status": string(models.ActionRetrying), "next_attempt_at": at.UTC(), "reason": reason,
		"lease_owner": nil, "lease_until": nil, "updated_at": s.Now(),
	})
	if res.Error != nil {
		return false, translate("retry action", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// KillAction ends an action leased by owner as dead with reason. applied is
// false when owner no longer holds the lease.
func (s *Store) KillAction(ctx context.Context, shopID, id int64, owner, reason string) (applied bool, err error) {
	res := s.leased(ctx, shopID, id, owner).Updates(map[string]any{
		"status": string(models.ActionDead), "reason": reason,
		"lease_owner": nil, "lease_until": nil, "updated_at": s.Now(),
	})
	if res.Error != nil {
		return false, translate("kill action", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// releaseSQL hands claims back unattempted: scheduled when no attempt is left,
// retrying otherwise. status is assigned before attempts because MySQL
// evaluates SET assignments left to right with the new values (SQLite uses the
// old ones); in this order both read the old attempts.
const releaseSQL = "UPDATE actions SET status = CASE WHEN attempts <= 1 THEN ? ELSE ? END, " +
	"attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, " +
	"lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, updated_at = ? " +
	"WHERE status = ? AND lease_owner = ?"

// ReleaseAction gives back one claim of owner that was not attempted (its
// shop's breaker is open, its rate limit is spent, the process is stopping),
// due again at at. applied is false when owner no longer holds the lease.
func (s *Store) ReleaseAction(ctx context.Context, shopID, id int64, owner string, at time.Time) (applied bool, err error) {
	res := s.db.WithContext(ctx).Exec(releaseSQL+" AND shop_id = ? AND id = ?", string(models.ActionScheduled), string(models.ActionRetrying),
		at.UTC(), s.Now(), string(models.ActionSending), owner, shopID, id)
	if res.Error != nil {
		return false, translate("release action", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReleaseActions gives back every claim owner still holds, due at once, and
// returns how many. A stopping dispatcher calls it after its in-flight
// attempts have finished, so what is left was never started.
//
// A store scoped to a shop (ForShop) releases that shop's claims only.
func (s *Store) ReleaseActions(ctx context.Context, owner string) (int64, error) {
	now := s.Now()
	cond, shop := s.shopCond("actions")
	res := s.db.WithContext(ctx).Exec(releaseSQL+cond, append([]any{string(models.ActionScheduled), string(models.ActionRetrying),
		now, now, string(models.ActionSending), owner}, shop...)...)
	if res.Error != nil {
		return 0, translate("release actions", res.Error)
	}
	return res.RowsAffected, nil
}

// RecordAttempt appends one call into the shop to the attempt log and sets a.ID.
func (s *Store) RecordAttempt(ctx context.Context, a *models.Attempt) error {
	a.StartedAt = a.StartedAt.UTC()
	if a.Outcome == "" {
		return fmt.Errorf("store: record attempt: outcome is required: %w", models.ErrInvalid)
	}
	a.Summary = truncateBytes(a.Summary, 2000)
	return translate("record attempt", s.db.WithContext(ctx).Create(a).Error)
}

// ActionAttempts lists the calls made for an action, first first.
func (s *Store) ActionAttempts(ctx context.Context, actionID int64) ([]models.Attempt, error) {
	var out []models.Attempt
	if err := s.db.WithContext(ctx).Where("action_id = ?", actionID).Order("attempt_no, id").Find(&out).Error; err != nil {
		return nil, translate("action attempts", err)
	}
	return out, nil
}

// ActionCustomer returns how the shop names a customer and the customer's
// profile, for a connector to address them. Both reads name the shop, so
// that on Vitess they go to its shard alone.
func (s *Store) ActionCustomer(ctx context.Context, shopID, customerID int64) ([]models.Identity, *models.Profile, error) {
	db := s.db.WithContext(ctx)
	var rows []identityRow
	if err := db.Where("shop_id = ? AND customer_id = ?", shopID, customerID).Order("kind, value").Find(&rows).Error; err != nil {
		return nil, nil, translate("customer identities", err)
	}
	ids := make([]models.Identity, len(rows))
	for i, r := range rows {
		ids[i] = models.Identity{Kind: r.Kind, Value: r.Value}
	}
	var c customerRow
	if err := db.Where("shop_id = ? AND id = ?", shopID, customerID).Take(&c).Error; err != nil {
		return nil, nil, translate("profile", err)
	}
	p, err := decodeProfile(&c)
	if err != nil {
		return nil, nil, err
	}
	return ids, p, nil
}

// ListActions pages through actions by id: those of shopID (0: every shop)
// with status (empty: any), after afterID, at most limit (default 100, at
// most 1000).
func (s *Store) ListActions(ctx context.Context, shopID int64, status string, limit int, afterID int64) ([]models.Action, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := s.db.WithContext(ctx).Where("id > ?", afterID)
	if shopID != 0 {
		q = q.Where("shop_id = ?", shopID)
	}
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var rows []ActionRow
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate("list actions", err)
	}
	return toActions(rows)
}

// RetryDeadAction gives a dead action a fresh set of attempts, due now.
// retried is false when the action is not dead.
func (s *Store) RetryDeadAction(ctx context.Context, id int64) (retried bool, err error) {
	now := s.Now()
	res := s.db.WithContext(ctx).Model(&ActionRow{}).Where("id = ? AND status = ?", id, string(models.ActionDead)).
		Updates(map[string]any{
			"status": string(models.ActionScheduled), "next_attempt_at": now, "attempts": 0, "reason": nil,
			"lease_owner": nil, "lease_until": nil, "updated_at": now,
		})
	if res.Error != nil {
		return false, translate("retry dead action", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ActionByPublicID finds an action by its public id (models.ErrNotFound).
func (s *Store) ActionByPublicID(ctx context.Context, publicID string) (models.Action, error) {
	var r ActionRow
	if err := s.db.WithContext(ctx).Where("public_id = ?", publicID).Take(&r).Error; err != nil {
		return models.Action{}, translate("action by public id", err)
	}
	return r.Action()
}

// ActionByID finds an action by its row id (models.ErrNotFound).
func (s *Store) ActionByID(ctx context.Context, id int64) (models.Action, error) {
	var r ActionRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return models.Action{}, translate("action by id", err)
	}
	return r.Action()
}

// truncateBytes cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
