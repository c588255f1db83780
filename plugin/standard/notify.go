package standard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/shopcall"
)

// Notifier delivers an action of any type as a signed Standard Webhooks
// message to an endpoint the merchant runs (a mail service, a helpdesk, an
// automation tool). It is the connector for shops whose platform cannot carry
// out an action itself.
//
// Params read: url (required; the dispatcher merges a shop-level notify URL
// into the params), secret (a Standard Webhooks secret, see DecodeSecret;
// default: the shop's notify_secret, else its current webhook secret).
// Neither is sent in the body.
//
// The webhook-id header is the action's idempotency key, the same on every
// retry, so the receiver can drop repeats: Standard Webhooks receivers
// deduplicate on it. A key that contains "." (which the spec forbids in ids),
// whitespace, commas or non-ASCII is sent as "act_" + 32 hex digits of its
// SHA-256 instead; the raw key is always in data.action.idempotency_key.
type Notifier struct {
	Client *http.Client
	Now    func() time.Time
}

var _ plugin.Connector = (*Notifier)(nil)

// NewNotifier returns a notifier that sends through client, which should be
// egress.NewClient's.
func NewNotifier(client *http.Client) *Notifier {
	return &Notifier{Client: client, Now: time.Now}
}

// Notification is the body of a notify delivery.
type Notification struct {
	Type      string           `json:"type"` // "action." + the action type
	Timestamp time.Time        `json:"timestamp"`
	Data      NotificationData `json:"data"`
}

// NotificationData is what the action is about.
type NotificationData struct {
	Action   NotifiedAction   `json:"action"`
	Customer NotifiedCustomer `json:"customer"`
	Shop     string           `json:"shop"`
}

// NotifiedAction is the action as the receiver sees it.
type NotifiedAction struct {
	ID             string            `json:"id"`
	Type           models.ActionType `json:"type"`
	RuleID         string            `json:"rule_id,omitempty"`
	DueAt          *time.Time        `json:"due_at,omitempty"`
	SKU            string            `json:"sku,omitempty"`
	Category       string            `json:"category,omitempty"`
	Order          string            `json:"order,omitempty"`
	Params         map[string]any    `json:"params,omitempty"`
	IdempotencyKey string            `json:"idempotency_key"`
}

// NotifiedCustomer is how the shop knows the customer.
type NotifiedCustomer struct {
	ID        string `json:"id,omitempty"`
	Number    string `json:"number,omitempty"`
	Email     string `json:"email,omitempty"`
	FirstName string `json:"first_name,omitempty"`
}

// Execute implements plugin.Connector.
func (n *Notifier) Execute(ctx context.Context, job plugin.Job) (plugin.Result, error) {
	if job.Shop == nil || job.Action == nil {
		return plugin.Result{}, plugin.Permanentf("notify: job without shop or action")
	}
	a := job.Action
	if a.IdempotencyKey == "" {
		return plugin.Result{}, plugin.Permanentf("notify: action has no idempotency key")
	}
	// The rule may name its own target; otherwise the shop's notify_url.
	target, _ := a.Params["url"].(string)
	if target == "" {
		target = job.Shop.Secrets.NotifyURL
	}
	u, err := url.Parse(strings.TrimSpace(target))
	if target == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return plugin.Result{}, plugin.Permanentf("notify: no target: set the shop's notify_url (or params.url), an http(s) URL without credentials")
	}
	secret, _ := a.Params["secret"].(string)
	from := "params.secret"
	if secret == "" {
		secret, from = job.Shop.Secrets.NotifySecret, "the shop's notify_secret"
	}
	if secret == "" && len(job.Shop.Secrets.Webhook) > 0 {
		secret, from = job.Shop.Secrets.Webhook[0], "the shop's webhook secret"
	}
	if secret == "" {
		return plugin.Result{}, plugin.Permanentf("notify: no signing secret (params.secret, the shop's notify_secret or its webhook secret)")
	}
	// DecodeSecret refuses an empty or short key whatever the store holds:
	// a webhook signed with one proves nothing to the receiver.
	key, err := DecodeSecret(secret)
	if err != nil {
		return plugin.Result{}, plugin.Permanentf("notify: signing secret %s %v", from, err)
	}

	now := time.Now()
	if n.Now != nil {
		now = n.Now()
	}
	now = now.UTC().Truncate(time.Second)
	body, err := json.Marshal(notification(job, now))
	if err != nil {
		return plugin.Result{}, plugin.Permanentf("notify: encode body: %v", err)
	}
	id := webhookID(a.IdempotencyKey)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return plugin.Result{}, plugin.Permanentf("notify: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Treue-Notify/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", SignatureHeader(key, id, now.Unix(), body))

	r, err := egress.Do(n.Client, req)
	if err != nil {
		return plugin.Result{}, shopcall.Failure(r, err, now, "")
	}
	if !r.OK() {
		// 410 Gone means the endpoint was retired: permanent, like other 4xx.
		return plugin.Result{}, shopcall.Failure(r, nil, now, egress.Truncate(string(r.Body), 200))
	}
	return plugin.Result{StatusCode: r.Status, Summary: r.Exchange.String() + " webhook-id " + id}, nil
}

// notification builds the body. url and secret are the delivery's own
// configuration, not the receiver's business, and never leave Treue.
func notification(job plugin.Job, now time.Time) Notification {
	a := job.Action
	params := map[string]any{}
	for k, v := range a.Params {
		if k != "url" && k != "secret" {
			params[k] = v
		}
	}
	id := a.PublicID
	if id == "" && a.ID != 0 {
		id = strconv.FormatInt(a.ID, 10)
	}
	var due *time.Time
	if !a.DueAt.IsZero() {
		d := a.DueAt.UTC()
		due = &d
	}
	c := job.Customer
	return Notification{
		Type:      "action." + string(a.Type),
		Timestamp: now,
		Data: NotificationData{
			Action: NotifiedAction{
				ID: id, Type: a.Type, RuleID: a.RuleID, DueAt: due, SKU: a.SKU, Category: a.Category,
				Order: a.OrderRef, Params: params, IdempotencyKey: a.IdempotencyKey,
			},
			Customer: NotifiedCustomer{ID: c.ShopCustomerID, Number: c.Number, Email: c.Email, FirstName: c.FirstName},
			Shop:     job.Shop.Key,
		},
	}
}

// webhookID is the idempotency key when it is a valid webhook-id: at most 200
// printable ASCII characters without ".", "," or spaces. Otherwise it is a
// digest of the key, just as stable.
func webhookID(key string) string {
	ok := len(key) <= 200
	for i := 0; ok && i < len(key); i++ {
		c := key[i]
		ok = c > ' ' && c < 0x7f && c != '.' && c != ','
	}
	if ok {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "act_" + hex.EncodeToString(sum[:16])
}
