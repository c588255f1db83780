package rules

import (
	"sort"

	"github.com/treue/treue/models"
)

// cancels finds the customer's pending actions the event makes moot: the
// rule's own cancel conditions, plus three that always hold — consent revoked
// (marketing that needs consent), a category opt-out (actions about that
// category, except the points ledger) and an erasure request (everything).
// After the rule's own, a bad satisfaction signal withdraws gated marketing
// (unhappyCancel).
func (ev *evaluation) cancels() {
	e := &ev.in.Event
	for i := range ev.in.Pending {
		p := &ev.in.Pending[i]
		if ev.cancelled(p.ID) {
			continue
		}
		r := ev.s.byID[p.RuleID]
		reason := ""
		switch e.Type {
		case models.ConsentRevoked:
			if p.Marketing && (r == nil || r.RequireConsent) {
				reason = "consent_revoked"
			}
		case models.CategoryOptedOut:
			if c := ev.env.Event.OptOutCategory; c != "" && p.Category == c && !ledger(p.Type) {
				reason = "category_opt_out: " + c
			}
		case models.CustomerRedactRequested:
			reason = "customer_redact"
		case models.StockSoldOut:
			reason = soldOut(r, p, e, ev.env.Event.Stock.SKU)
		}
		if reason == "" && r != nil {
			reason = ev.ruleCancel(r, p)
		}
		if reason == "" {
			reason = ev.unhappyCancel(r, p)
		}
		if reason != "" {
			ev.res.Cancels = append(ev.res.Cancels, Cancel{ActionID: p.ID, RuleID: p.RuleID, Reason: reason})
		}
	}
	sort.Slice(ev.res.Cancels, func(i, j int) bool { return ev.res.Cancels[i].ActionID < ev.res.Cancels[j].ActionID })
}

func (ev *evaluation) cancelled(id int64) bool {
	for _, c := range ev.res.Cancels {
		if c.ActionID == id {
			return true
		}
	}
	return false
}

func (ev *evaluation) ruleCancel(r *Rule, p *Pending) string {
	t := ev.in.Event.Type
	o := ev.env.Order
	for _, c := range r.cancels {
		switch c.named {
		case "same_sku_ordered":
			if isOrderEvent(t) && o.ID != p.OrderRef && p.SKU != "" && contains(o.SKUs, p.SKU) {
				return c.reason
			}
		case "any_order":
			if isOrderEvent(t) && o.ID != "" && o.ID != p.OrderRef {
				return c.reason
			}
		case "order_returned":
			if (t == models.ReturnRequested || t == models.ReturnReceived || t == models.RefundIssued) &&
				o.ID != "" && o.ID == p.OrderRef && ev.returnCovers(p.SKU) {
				return c.reason
			}
		case "order_cancelled":
			if t == models.OrderCancelled && o.ID != "" && o.ID == p.OrderRef {
				return c.reason
			}
		case "complaint":
			if t == models.ComplaintOpened && (o.ID == "" || p.OrderRef == "" || o.ID == p.OrderRef) {
				return c.reason
			}
		case cartOrdered:
			if ev.cartCancel(p) {
				return c.reason
			}
		case "":
			if !containsType(c.triggers, t) {
				continue
			}
			if c.cond == nil {
				return c.reason
			}
			*ev.env.Pending = PendingEnv{
				ID: p.ID, RuleID: p.RuleID, Type: string(p.Type), DueAt: p.DueAt.UTC(), SKU: p.SKU,
				OrderRef: p.OrderRef, Category: p.Category, Marketing: p.Marketing,
			}
			ok, err := ev.vm.Run(c.cond, ev.env)
			*ev.env.Pending = PendingEnv{}
			if err != nil {
				ev.fail(r, "cancel if: %v", err)
				continue
			}
			if ok == true {
				return c.reason
			}
		}
	}
	return ""
}

// returnCovers reports whether the return or refund concerns sku: a return
// without lines covers the whole order, and an action without a SKU is about
// the whole order.
func (ev *evaluation) returnCovers(sku string) bool {
	items := ev.env.Event.Items
	d := &ev.in.Event.Data
	if sku == "" || (d.Return != nil && len(d.Return.Items) == 0) || (d.Refund != nil && len(d.Refund.Items) == 0) {
		return true
	}
	for i := range items {
		if items[i].SKU == sku {
			return true
		}
	}
	return false
}

func isOrderEvent(t models.EventType) bool { return t == models.OrderPlaced || t == models.OrderPaid }

func containsType(ts []models.EventType, t models.EventType) bool {
	for _, u := range ts {
		if u == t {
			return true
		}
	}
	return false
}
