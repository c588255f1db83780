package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/models"
)

// PrivacyService carries out data-protection requests.
type PrivacyService interface {
	OptOut(ctx context.Context, shopID, customerID int64, category, source string) (int64, error)
	UndoOptOut(ctx context.Context, shopID, customerID int64, category string) error
	Erase(ctx context.Context, shopID, customerID int64, requestedBy string) (*models.Erasure, error)
}

// erasureResponse is the audit record of an erasure.
type erasureResponse struct {
	ID               int64     `json:"id"`
	ErasedAt         time.Time `json:"erased_at"`
	RequestedBy      string    `json:"requested_by"`
	Stage            string    `json:"stage"`
	OrderCount       int       `json:"order_count"`
	TotalSpentCents  int64     `json:"total_spent_cents"`
	Events           int       `json:"events"`
	Actions          int       `json:"actions"`
	CancelledActions int       `json:"cancelled_actions"`
}

type optOutRequest struct {
	Category string `json:"category"`
}

// readJSON decodes a capped JSON body strictly into v; a body not declared
// JSON is answered 415.
func (s *server) readJSON(c *gin.Context, v any) bool {
	if !requireJSON(c) {
		return false
	}
	body, err := s.readBody(c)
	if err != nil {
		s.writeError(c, err)
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty body")
		}
		s.writeError(c, &models.MalformedError{Err: err})
		return false
	}
	return true
}

func (s *server) postOptOut(c *gin.Context) {
	var req optOutRequest
	if !s.readJSON(c, &req) {
		return
	}
	shop, p, ok := s.customer(c, "opt-out")
	if !ok {
		return
	}
	n, err := s.Privacy.OptOut(c.Request.Context(), shop.ID, p.CustomerID, req.Category, "api:"+tokenOf(c).Name)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"category": strings.TrimSpace(req.Category), "cancelled_actions": n})
}

func (s *server) deleteOptOut(c *gin.Context) {
	category := c.Query("category")
	if category == "" {
		var req optOutRequest
		if c.Request.ContentLength != 0 && !s.readJSON(c, &req) {
			return
		}
		category = req.Category
	}
	if category == "" {
		writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
			Detail: "Name the category: ?category=… or a JSON body {\"category\": …}.", Errors: []models.FieldError{{Field: "category", Message: "is required"}}})
		return
	}
	shop, p, ok := s.customer(c, "opt-out")
	if !ok {
		return
	}
	if err := s.Privacy.UndoOptOut(c.Request.Context(), shop.ID, p.CustomerID, category); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) getExport(c *gin.Context) {
	shop, p, ok := s.customer(c, "export")
	if !ok {
		return
	}
	x, err := s.Customers.Export(c.Request.Context(), shop, p.CustomerID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Disposition", "attachment; filename=\"treue-"+shop.Key+"-"+p.PublicID+".json\"")
	c.JSON(http.StatusOK, x)
}

func (s *server) deleteCustomer(c *gin.Context) {
	shop, p, ok := s.customer(c, "erase")
	if !ok {
		return
	}
	er, err := s.Privacy.Erase(c.Request.Context(), shop.ID, p.CustomerID, "api:"+tokenOf(c).Name)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"erased": true, "id": strconv.FormatInt(er.ID, 10), "erasure": erasureResponse{
		ID: er.ID, ErasedAt: er.ErasedAt, RequestedBy: er.RequestedBy, Stage: er.Stage, OrderCount: er.OrderCount,
		TotalSpentCents: er.TotalSpentCents, Events: er.Events, Actions: er.Actions, CancelledActions: er.CancelledActions,
	}})
}
