package handlers

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/rules"
)

// RulesStatus is the active rule set and how it got there.
type RulesStatus struct {
	File      string
	Set       *rules.Set // nil when no rules are loaded
	LoadedAt  time.Time
	LastError string // the last reload's problem; the active set is older then
}

// RulesSource reports the active rules.
type RulesSource interface {
	RulesStatus() RulesStatus
}

type rulesResponse struct {
	File      string              `json:"file"`
	Version   string              `json:"version,omitempty"`
	LoadedAt  *time.Time          `json:"loaded_at,omitempty"`
	LastError string              `json:"last_error,omitempty"`
	Defaults  *rules.Defaults     `json:"defaults,omitempty"`
	Rules     []rules.RuleSummary `json:"rules"`
}

func (s *server) getRules(c *gin.Context) {
	st := s.Rules.RulesStatus()
	resp := rulesResponse{File: st.File, LastError: st.LastError, Rules: []rules.RuleSummary{}}
	if st.Set != nil {
		resp.Version, resp.Defaults, resp.Rules = st.Set.Version, &st.Set.Defaults, st.Set.Summary()
		resp.LoadedAt = &st.LoadedAt
	}
	c.JSON(http.StatusOK, resp)
}
