package shopware

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/shopcall"
)

// accessToken is a cached Admin API bearer token.
type accessToken struct {
	value   string
	expires time.Time // already shortened by a safety margin
}

// callMode says how a request affects flows.
type callMode int

const (
	read callMode = iota
	// write marks Treue's own writes with sw-skip-trigger-flow, so that tagging
	// a customer or setting a custom field does not start the merchant's flows
	// (for example an "on customer changed" flow) as a side effect.
	write
	// trigger fires a flow on purpose: no skip header.
	trigger
)

// call sends one Admin API request and decodes a 2xx JSON answer into out
// (when not nil). A non-2xx answer comes back as *plugin.Error together with
// the response, so that callers can accept some answers (a duplicate id).
// On 401 the token is fetched anew and the request sent once more: tokens can
// expire early (a shop restored from backup, a shortened TTL, a secret rotation).
func (s *session) call(ctx context.Context, method, path string, body any, mode callMode, out any) (*egress.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, plugin.Permanentf("shopware: encode %s %s: %v", method, path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		tok, err := s.token(ctx)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, s.base+path, bytes.NewReader(payload))
		if err != nil {
			return nil, plugin.Permanentf("shopware: %s %s: %v", method, path, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if mode == write {
			req.Header.Set("sw-skip-trigger-flow", "1")
		}
		r, err := egress.Do(s.c.Client, req)
		s.record(r)
		if err != nil {
			return r, shopcall.Failure(r, err, s.c.now(), "")
		}
		if r.Status == http.StatusUnauthorized && attempt == 0 {
			s.c.forget(s.cacheKey, tok)
			continue
		}
		if !r.OK() {
			return r, shopcall.Failure(r, nil, s.c.now(), errorDetail(r.Body))
		}
		if out != nil && len(bytes.TrimSpace(r.Body)) > 0 {
			if err := json.Unmarshal(r.Body, out); err != nil {
				return r, plugin.Permanentf("shopware: %s: unexpected answer: %v", r.Exchange, err)
			}
		}
		return r, nil
	}
}

// token returns a valid access token for the session's shop, from the cache
// or from POST /api/oauth/token (client credentials grant).
func (s *session) token(ctx context.Context) (string, error) {
	c := s.c
	now := c.now()
	c.mu.Lock()
	t, ok := c.tokens[s.cacheKey]
	c.mu.Unlock()
	if ok && now.Before(t.expires) {
		return t.value, nil
	}

	sec := s.job.Shop.Secrets
	payload, _ := json.Marshal(map[string]string{
		"grant_type":    "client_credentials",
		"client_id":     sec.APIKey,
		"client_secret": sec.APISecret,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/oauth/token", bytes.NewReader(payload))
	if err != nil {
		return "", plugin.Permanentf("shopware: token request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	r, err := egress.Do(c.Client, req)
	s.record(r)
	if err != nil {
		return "", shopcall.Failure(r, err, now, "")
	}
	if r.Status == http.StatusBadRequest || r.Status == http.StatusUnauthorized {
		// invalid_client: the integration was deleted or its secret rotated
		// without a new registration reaching Treue. Retrying cannot help.
		return "", &plugin.Error{Kind: plugin.Permanent, StatusCode: r.Status,
			Err: fmt.Errorf("shopware: %s: Admin API credentials rejected: %s", r.Exchange, errorDetail(r.Body))}
	}
	if !r.OK() {
		return "", shopcall.Failure(r, nil, now, errorDetail(r.Body))
	}
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.AccessToken == "" {
		return "", plugin.Permanentf("shopware: %s: answer holds no access_token", r.Exchange)
	}
	life := time.Duration(body.ExpiresIn) * time.Second
	if life <= 0 {
		life = 10 * time.Minute // Shopware's default shopware.api.access_token_ttl
	}
	// Refresh a little early, so a token does not expire between check and use.
	margin := min(time.Minute, life/5)
	c.mu.Lock()
	if c.tokens == nil {
		c.tokens = map[string]accessToken{}
	}
	c.tokens[s.cacheKey] = accessToken{value: body.AccessToken, expires: now.Add(life - margin)}
	c.mu.Unlock()
	return body.AccessToken, nil
}

// forget drops a token the shop refused, unless another call replaced it already.
func (c *Connector) forget(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens[key].value == value {
		delete(c.tokens, key)
	}
}
