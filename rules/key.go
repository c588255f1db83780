package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/treue/treue/models"
)

// key builds the idempotency key of a planned action. It encodes the rule's
// limit scope, so that a UNIQUE (shop, key) turns "once per customer / order /
// line / sku / event / period" into a database guarantee:
//
//	<rule>|c:<customer>                       once_per customer
//	<rule>|c:<customer>|o:<order>             once_per order
//	<rule>|c:<customer>|o:<order>|s:<sku>     once_per item
//	<rule>|c:<customer>|s:<sku>               once_per sku
//	<rule>|c:<customer>|e:<step>[|l:<line>]   once_per event (step = hash of eventKey)
//	<rule>|c:<customer>|cart:<cart>           once_per cart
//
// followed by the schedule's anchor (|y:<year> for birthdays, |since:<last
// order> for inactivity), |p:<bucket> with a period and |k:<value> with by.
// Nothing in it depends on Now or on the event's delivery, only on the
// business facts, so a replay or a duplicate delivery yields the same key.
func (ev *evaluation) key(r *Rule, item *ItemEnv, p *Planned, anchor string) (string, error) {
	var b strings.Builder
	b.Grow(96)
	b.WriteString(r.ID)
	b.WriteString("|c:")
	b.WriteString(ev.in.Profile.PublicID)
	switch r.Limit.OncePer {
	case PerOrder, PerItem:
		if p.OrderRef == "" {
			return "", errors.New("once_per " + string(r.Limit.OncePer) + ": the event has no order")
		}
		b.WriteString("|o:")
		b.WriteString(p.OrderRef)
		if r.Limit.OncePer == PerItem {
			b.WriteString("|s:")
			b.WriteString(p.SKU)
		}
	case PerSKU:
		if p.SKU == "" {
			return "", errors.New("once_per sku: no SKU")
		}
		b.WriteString("|s:")
		b.WriteString(p.SKU)
	case PerEvent:
		if ev.eventHash == "" {
			sum := sha256.Sum256([]byte(eventKey(&ev.in.Event)))
			ev.eventHash = hex.EncodeToString(sum[:8])
		}
		b.WriteString("|e:")
		b.WriteString(ev.eventHash)
		if item != nil {
			b.WriteString("|l:")
			b.WriteString(strconv.Itoa(item.Index))
		}
	case PerCart:
		k, ok := ev.cartKey()
		if !ok {
			return "", errors.New("once_per cart: the event has no cart")
		}
		b.WriteString(k)
	}
	b.WriteString(anchor)
	if r.Limit.Period > 0 {
		at := ev.env.Event.At
		b.WriteString("|p:")
		b.WriteString(strconv.FormatInt(at.Unix()/int64(r.Limit.Period.Seconds()), 10))
	}
	if r.limitBy != nil {
		v, err := ev.vm.Run(r.limitBy, ev.env)
		if err != nil {
			return "", fmt.Errorf("limit by: %w", err)
		}
		b.WriteString("|k:")
		fmt.Fprint(&b, v)
	}
	return b.String(), nil
}

// eventKey identifies the business event for once_per event: the event's
// StepKey, except where the payload has an id of its own that StepKey does
// not use (complaints, reviews), so a redelivery with another envelope
// timestamp is still the same event.
func eventKey(e *models.Event) string {
	d := &e.Data
	switch {
	case e.Type == models.ComplaintOpened && d.Complaint != nil && d.Complaint.ID != "":
		return string(e.Type) + "|" + d.Complaint.ID
	case e.Type == models.ReviewSubmitted && d.Review != nil && d.Review.ID != "":
		return string(e.Type) + "|" + d.Review.ID
	}
	return e.StepKey()
}
