package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/treue/treue/models"
)

type tokenRow struct {
	ID         int64
	Name       string
	Role       string
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (tokenRow) TableName() string { return "api_tokens" }

func (r *tokenRow) token() *models.Token {
	return &models.Token{ID: r.ID, Name: r.Name, Role: models.Role(r.Role), CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt}
}

// hashToken: tokens carry 256 random bits, so a plain SHA-256 (no salt, no
// slow KDF) cannot be brute-forced and keeps the lookup a single index probe.
func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes a new token and returns it in clear, once.
func (s *Store) CreateToken(ctx context.Context, name string, role models.Role) (string, *models.Token, error) {
	if name == "" || len(name) > 128 {
		return "", nil, fmt.Errorf("store: create token: name must be 1-128 characters: %w", models.ErrInvalid)
	}
	if !role.Valid() {
		return "", nil, fmt.Errorf("store: create token: role must be support or admin: %w", models.ErrInvalid)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("store: create token: %w", err)
	}
	tok := "treue_" + base64.RawURLEncoding.EncodeToString(raw)
	r := &tokenRow{Name: name, Role: string(role), TokenHash: hashToken(tok), CreatedAt: s.Now()}
	if err := s.db.WithContext(ctx).Create(r).Error; err != nil {
		return "", nil, translate("create token "+name, err)
	}
	return tok, r.token(), nil
}

// Authenticate finds the live token tok, recording its use.
func (s *Store) Authenticate(ctx context.Context, tok string) (*models.Token, error) {
	var r tokenRow
	err := s.db.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", hashToken(tok)).Take(&r).Error
	if err != nil {
		return nil, translate("authenticate", err)
	}
	now := s.Now()
	// Minute resolution is enough for "last used" and saves a write per request.
	if r.LastUsedAt == nil || now.Sub(*r.LastUsedAt) > time.Minute {
		s.db.WithContext(ctx).Model(&tokenRow{}).Where("id = ?", r.ID).Update("last_used_at", now)
	}
	return r.token(), nil
}

// ListTokens lists every token, revoked ones included.
func (s *Store) ListTokens(ctx context.Context) ([]*models.Token, error) {
	var rows []tokenRow
	if err := s.db.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, translate("list tokens", err)
	}
	out := make([]*models.Token, len(rows))
	for i := range rows {
		out[i] = rows[i].token()
	}
	return out, nil
}

// RevokeToken revokes a token by name.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	res := s.db.WithContext(ctx).Model(&tokenRow{}).Where("name = ? AND revoked_at IS NULL", name).Update("revoked_at", s.Now())
	if res.Error != nil {
		return translate("revoke token", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: revoke token %q: %w", name, models.ErrNotFound)
	}
	return nil
}

type accessRow struct {
	ShopID     int64
	ID         int64
	TokenID    int64
	CustomerID int64
	What       string
	At         time.Time
}

func (accessRow) TableName() string { return "access_log" }

// LogAccess records that a token read a customer's data.
func (s *Store) LogAccess(ctx context.Context, shopID, tokenID, customerID int64, what string) error {
	err := s.db.WithContext(ctx).Create(&accessRow{ShopID: shopID, TokenID: tokenID, CustomerID: customerID, What: what, At: s.Now()}).Error
	return translate("log access", err)
}

// CustomerAccess lists who read a customer's data, newest first.
func (s *Store) CustomerAccess(ctx context.Context, customerID int64) ([]models.AccessEntry, error) {
	var out []models.AccessEntry
	err := s.db.WithContext(ctx).Table("access_log").Select("api_tokens.name AS token_name, access_log.what, access_log.at").
		Joins("JOIN api_tokens ON api_tokens.id = access_log.token_id").Where("access_log.customer_id = ?", customerID).
		Order("access_log.at DESC, access_log.id DESC").Scan(&out).Error
	return out, translate("customer access", err)
}

// LogAccessBatch records several reads in one transaction.
func (s *Store) LogAccessBatch(ctx context.Context, entries []models.Access) error {
	now := s.Now()
	rows := make([]accessRow, len(entries))
	for i, e := range entries {
		rows[i] = accessRow{ShopID: e.ShopID, TokenID: e.TokenID, CustomerID: e.CustomerID, What: e.What, At: now}
	}
	return translate("log access", s.db.WithContext(ctx).Create(&rows).Error)
}

// CountAccess counts the access-log entries about a customer.
func (s *Store) CountAccess(ctx context.Context, customerID int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&accessRow{}).Where("customer_id = ?", customerID).Count(&n).Error
	return n, translate("count access", err)
}
