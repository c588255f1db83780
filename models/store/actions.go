package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"

	"github.com/treue/treue/models"
)

// ActionRow is an action as stored.
type ActionRow struct {
	ShopID         int64
	ID             int64
	PublicID       string
	CustomerID     int64
	Type           string
	Status         string
	RuleID         string
	RulesVersion   string
	TriggerEventID *int64
	DueAt          time.Time
	NextAttemptAt  time.Time
	IdempotencyKey string
	Marketing      bool
	OrderRef       string
	SKU            string `gorm:"column:sku"`
	Category       string
	Params         string
	Reason         *string
	Attempts       int
	LeaseOwner     *string
	LeaseUntil     *time.Time
	SentAt         *time.Time
	ExternalRef    *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CostCents      int64
}

// TableName implements gorm's Tabler.
func (ActionRow) TableName() string { return "actions" }

// Action converts the row to the domain type.
func (r *ActionRow) Action() (models.Action, error) {
	a := models.Action{
		ID: r.ID, PublicID: r.PublicID, ShopID: r.ShopID, CustomerID: r.CustomerID,
		Type: models.ActionType(r.Type), Status: models.ActionStatus(r.Status), RuleID: r.RuleID,
		RulesVersion: r.RulesVersion, DueAt: r.DueAt, IdempotencyKey: r.IdempotencyKey,
		Marketing: r.Marketing, OrderRef: r.OrderRef, SKU: r.SKU, Category: r.Category,
		Attempts: r.Attempts, SentAt: r.SentAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		CostCents: r.CostCents,
	}
	if r.TriggerEventID != nil {
		a.TriggerEventID = *r.TriggerEventID
	}
	if r.Reason != nil {
		a.Reason = *r.Reason
	}
	if r.Params != "" {
		if err := json.Unmarshal([]byte(r.Params), &a.Params); err != nil {
			return a, fmt.Errorf("store: action %d params: %w", r.ID, err)
		}
	}
	return a, nil
}

func toActions(rows []ActionRow) ([]models.Action, error) {
	out := make([]models.Action, 0, len(rows))
	for i := range rows {
		a, err := rows[i].Action()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// InsertAction stores a planned action unless one with the same idempotency
// key exists; inserted reports which. a.ID and a.PublicID are set on insert.
func (s *Store) InsertAction(ctx context.Context, a *models.Action) (inserted bool, err error) {
	now := s.Now()
	r, err := newActionRow(a, now)
	if err != nil {
		return false, err
	}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(r)
	if res.Error != nil {
		return false, translate("insert action", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	a.ID, a.PublicID, a.CreatedAt, a.UpdatedAt = r.ID, r.PublicID, now, now
	return true, nil
}

// newActionRow is the row that stores a; a public id is made unless a has one.
func newActionRow(a *models.Action, now time.Time) (*ActionRow, error) {
	params := "{}"
	if len(a.Params) > 0 {
		b, err := json.Marshal(a.Params)
		if err != nil {
			return nil, fmt.Errorf("store: action params: %w", err)
		}
		params = string(b)
	}
	r := &ActionRow{
		ShopID: a.ShopID, PublicID: a.PublicID, CustomerID: a.CustomerID, Type: string(a.Type),
		Status: string(a.Status), RuleID: a.RuleID, RulesVersion: a.RulesVersion,
		DueAt: a.DueAt.UTC(), NextAttemptAt: a.DueAt.UTC(), IdempotencyKey: a.IdempotencyKey, Marketing: a.Marketing,
		OrderRef: a.OrderRef, SKU: a.SKU, Category: a.Category, Params: params, CreatedAt: now, UpdatedAt: now,
		CostCents: a.CostCents,
	}
	if r.PublicID == "" {
		r.PublicID = uuid.NewString()
	}
	if a.TriggerEventID != 0 {
		r.TriggerEventID = &a.TriggerEventID
	}
	if a.Reason != "" {
		r.Reason = &a.Reason
	}
	return r, nil
}

// PendingActions lists a customer's actions that are scheduled, not yet sent.
func (s *Store) PendingActions(ctx context.Context, customerID int64) ([]models.Action, error) {
	var rows []ActionRow
	err := s.scoped(ctx, "actions").Where("customer_id = ? AND status IN ?", customerID,
		pending).Order("due_at, id").Find(&rows).Error
	if err != nil {
		return nil, translate("pending actions", err)
	}
	return toActions(rows)
}

// ActionsDueSince returns a customer's actions due at or after since, for
// attributing an outcome to the last of them.
func (s *Store) ActionsDueSince(ctx context.Context, customerID int64, since time.Time) ([]models.Action, error) {
	var rows []ActionRow
	err := s.scoped(ctx, "actions").Omit("params").Where("customer_id = ? AND due_at >= ?", customerID, since).Order("due_at, id").Find(&rows).Error
	if err != nil {
		return nil, translate("actions due since", err)
	}
	return toActions(rows)
}

// RecentMarketing returns the due times of a customer's marketing actions that
// count against the frequency cap (not cancelled, suppressed or dead) in [from, to].
func (s *Store) RecentMarketing(ctx context.Context, customerID int64, from, to time.Time) ([]time.Time, error) {
	var due []time.Time
	err := s.scoped(ctx, "actions").Model(&ActionRow{}).Where("customer_id = ? AND marketing = ? AND due_at BETWEEN ? AND ? AND status IN ?",
		customerID, true, from, to, capped).
		Order("due_at").Pluck("due_at", &due).Error
	if err != nil {
		return nil, translate("recent marketing", err)
	}
	return due, nil
}

// The status sets of package models, as the database stores them.
var (
	pending     = models.Strings(models.PendingStatuses)
	cancellable = models.Strings(models.CancellableStatuses)
	capped      = models.Strings(models.CappedStatuses)
	replannable = models.Strings(models.ReplannableStatuses)
)

// CancelAction moves a not-yet-sent action to cancelled with a reason;
// cancelled is false when it had already left that state.
func (s *Store) CancelAction(ctx context.Context, id int64, reason string) (cancelled bool, err error) {
	n, err := s.CancelActions(ctx, []int64{id}, reason)
	return n == 1, err
}

// CustomerActions lists every action of a customer, newest due first.
func (s *Store) CustomerActions(ctx context.Context, customerID int64) ([]models.Action, error) {
	var rows []ActionRow
	if err := s.scoped(ctx, "actions").Where("customer_id = ?", customerID).Order("due_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, translate("customer actions", err)
	}
	return toActions(rows)
}

type pointsRow struct {
	ShopID     int64
	ID         int64
	CustomerID int64
	ActionID   int64
	Delta      int64
	Reason     string
	CreatedAt  time.Time
}

func (pointsRow) TableName() string { return "points_ledger" }

// AddPoints books points for an action, once per action.
func (s *Store) AddPoints(ctx context.Context, shopID, customerID, actionID, delta int64, reason string) error {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&pointsRow{
		ShopID: shopID, CustomerID: customerID, ActionID: actionID, Delta: delta, Reason: reason, CreatedAt: s.Now(),
	}).Error
	return translate("add points", err)
}

// PointsBalance sums a customer's ledger.
func (s *Store) PointsBalance(ctx context.Context, customerID int64) (int64, error) {
	var sum *int64
	if err := s.scoped(ctx, "points_ledger").Model(&pointsRow{}).Where("customer_id = ?", customerID).Select("SUM(delta)").Scan(&sum).Error; err != nil {
		return 0, translate("points balance", err)
	}
	if sum == nil {
		return 0, nil
	}
	return *sum, nil
}

// CustomerPublicIDs maps customer row ids to their public ids.
func (s *Store) CustomerPublicIDs(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []customerRow
	if err := s.scoped(ctx, "customers").Select("id, public_id").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, translate("customer public ids", err)
	}
	for _, r := range rows {
		out[r.ID] = r.PublicID
	}
	return out, nil
}

// ActionCounts counts actions by status (shopID 0: all shops).
func (s *Store) ActionCounts(ctx context.Context, shopID int64) (map[models.ActionStatus]int, error) {
	var rows []struct {
		Status string
		N      int
	}
	q := s.db.WithContext(ctx).Model(&ActionRow{}).Select("status, COUNT(*) AS n").Group("status")
	if shopID != 0 {
		q = q.Where("shop_id = ?", shopID)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, translate("action counts", err)
	}
	out := map[models.ActionStatus]int{}
	for _, r := range rows {
		out[models.ActionStatus(r.Status)] = r.N
	}
	return out, nil
}

// PointsBalanceAsOf sums the ledger entries booked for events that happened
// at or before at: the balance as the customer's journey stood then.
func (s *Store) PointsBalanceAsOf(ctx context.Context, customerID int64, at time.Time) (int64, error) {
	var sum *int64
	err := s.scoped(ctx, "points_ledger").Table("points_ledger").Select("SUM(points_ledger.delta)").
		Joins("JOIN actions ON actions.shop_id = points_ledger.shop_id AND actions.id = points_ledger.action_id").
		Joins("JOIN events ON events.shop_id = actions.shop_id AND events.id = actions.trigger_event_id").
		Where("points_ledger.customer_id = ? AND events.occurred_at <= ?", customerID, at).Scan(&sum).Error
	if err != nil {
		return 0, translate("points balance as of", err)
	}
	if sum == nil {
		return 0, nil
	}
	return *sum, nil
}

// ActionByKey finds a shop's action by its idempotency key.
func (s *Store) ActionByKey(ctx context.Context, shopID int64, key string) (models.Action, error) {
	var r ActionRow
	if err := s.db.WithContext(ctx).Where("shop_id = ? AND idempotency_key = ?", shopID, key).Take(&r).Error; err != nil {
		return models.Action{}, translate("action by key", err)
	}
	return r.Action()
}

// Replan moves an action between scheduled and suppressed, as a new
// evaluation decided; it applies only while the action is in one of those two
// states (never once it is being sent, sent, dead or cancelled).
func (s *Store) Replan(ctx context.Context, id int64, status models.ActionStatus, reason string, due time.Time) (bool, error) {
	upd := map[string]any{"status": string(status), "updated_at": s.Now(), "due_at": due.UTC(), "next_attempt_at": due.UTC(), "reason": nil}
	if reason != "" {
		upd["reason"] = reason
	}
	res := s.scoped(ctx, "actions").Model(&ActionRow{}).
		Where("id = ? AND status IN ?", id, replannable).Updates(upd)
	if res.Error != nil {
		return false, translate("replan action", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// RecentMarketingAsOf is RecentMarketing counting only actions planned for
// events that happened at or before asOf (and those of the periodic scan):
// the frequency budget as it stood at that moment of the journey. Actions of
// the event being evaluated (exceptEvent) are left out: the evaluation
// decides them afresh.
func (s *Store) RecentMarketingAsOf(ctx context.Context, customerID int64, from, to, asOf time.Time, exceptEvent int64) ([]time.Time, error) {
	var due []time.Time
	err := s.scoped(ctx, "actions").Table("actions").
		Joins("LEFT JOIN events ON events.shop_id = actions.shop_id AND events.id = actions.trigger_event_id").
		Where("actions.customer_id = ? AND actions.marketing = ? AND actions.due_at BETWEEN ? AND ? AND actions.status IN ?",
			customerID, true, from, to, capped).
		Where("events.id IS NULL OR (events.occurred_at <= ? AND events.id <> ?)", asOf, exceptEvent).
		Order("actions.due_at").Pluck("actions.due_at", &due).Error
	if err != nil {
		return nil, translate("recent marketing", err)
	}
	return due, nil
}
