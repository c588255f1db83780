package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/models"
)

// ActionAdmin lists, retries and cancels actions.
type ActionAdmin interface {
	ListActions(ctx context.Context, shopID int64, status string, limit int, afterID int64) ([]models.Action, error)
	ActionAttempts(ctx context.Context, actionID int64) ([]models.Attempt, error)
	// CustomerPublicIDs names the shop, which routes it to the shop's shard
	// on Vitess (deploy/vitess).
	CustomerPublicIDs(ctx context.Context, shopID int64, ids []int64) (map[int64]string, error)
	Retry(ctx context.Context, publicID string) (models.Action, error)
	Cancel(ctx context.Context, publicID, reason string) (models.Action, error)
}

type actionResponse struct {
	ID           string         `json:"id"`
	Customer     string         `json:"customer"`
	Type         string         `json:"type"`
	Status       string         `json:"status"`
	RuleID       string         `json:"rule_id"`
	RulesVersion string         `json:"rules_version"`
	DueAt        time.Time      `json:"due_at"`
	SentAt       *time.Time     `json:"sent_at"`
	Attempts     int            `json:"attempts"`
	Reason       string         `json:"reason,omitempty"`
	OrderRef     string         `json:"order_ref,omitempty"`
	SKU          string         `json:"sku,omitempty"`
	Params       map[string]any `json:"params,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	// Waiting says why a scheduled or retrying action has not gone out.
	Waiting string `json:"waiting,omitempty"`
	Cursor  string `json:"-"`
}

// DispatchState tells why an unsent action waits (dispatch off, no
// connector, the shop's circuit open, a failed attempt, due later).
type DispatchState interface {
	Waiting(shop *models.Shop, a *models.Action) string
}

func (s *server) waiting(shop *models.Shop, a *models.Action) string {
	if s.Dispatch == nil {
		return ""
	}
	return s.Dispatch.Waiting(shop, a)
}

func toActionResponse(a models.Action, customer string) actionResponse {
	return actionResponse{ID: a.PublicID, Customer: customer, Type: string(a.Type), Status: string(a.Status), RuleID: a.RuleID,
		RulesVersion: a.RulesVersion, DueAt: a.DueAt, SentAt: a.SentAt, Attempts: a.Attempts, Reason: a.Reason,
		OrderRef: a.OrderRef, SKU: a.SKU, Params: a.Params, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

var actionStatuses = []models.ActionStatus{models.ActionScheduled, models.ActionSending, models.ActionSent, models.ActionRetrying,
	models.ActionDead, models.ActionCancelled, models.ActionSuppressed}

func (s *server) listActions(c *gin.Context) {
	status := c.Query("status")
	if status != "" {
		valid := false
		for _, st := range actionStatuses {
			valid = valid || string(st) == status
		}
		if !valid {
			writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
				Detail: "status must be one of scheduled, sending, sent, retrying, dead, cancelled, suppressed.", Errors: []models.FieldError{{Field: "status", Message: "unknown status"}}})
			return
		}
	}
	limit, after := 100, int64(0)
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
				Detail: "limit must be 1-1000.", Errors: []models.FieldError{{Field: "limit", Message: "must be 1-1000"}}})
			return
		}
		limit = n
	}
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
				Detail: "cursor is not one this API returned.", Errors: []models.FieldError{{Field: "cursor", Message: "is invalid"}}})
			return
		}
		after = n
	}
	shop, ok := s.shop(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	acts, err := s.Actions.ListActions(ctx, shop.ID, status, limit+1, after)
	if err != nil {
		s.writeError(c, err)
		return
	}
	more := len(acts) > limit
	if more {
		acts = acts[:limit]
	}
	ids := make([]int64, len(acts))
	for i, a := range acts {
		ids[i] = a.CustomerID
	}
	pub, err := s.Actions.CustomerPublicIDs(ctx, shop.ID, ids)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]actionResponse, len(acts))
	for i, a := range acts {
		out[i] = toActionResponse(a, pub[a.CustomerID])
		out[i].Waiting = s.waiting(shop, &acts[i])
	}
	resp := gin.H{"actions": out}
	if more && len(acts) > 0 {
		resp["next_cursor"] = strconv.FormatInt(acts[len(acts)-1].ID, 10)
	}
	c.JSON(http.StatusOK, resp)
}

func (s *server) retryAction(c *gin.Context) {
	a, err := s.Actions.Retry(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "action retried", "action_id", a.ID, "token", tokenOf(c).Name)
	c.JSON(http.StatusOK, toActionResponse(a, ""))
}

func (s *server) cancelAction(c *gin.Context) {
	a, err := s.Actions.Cancel(c.Request.Context(), c.Param("id"), "cancelled by "+tokenOf(c).Name)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "action cancelled", "action_id", a.ID, "token", tokenOf(c).Name)
	c.JSON(http.StatusOK, toActionResponse(a, ""))
}
