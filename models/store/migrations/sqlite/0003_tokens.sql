-- API tokens for support staff and admins; only a SHA-256 of each token is kept.
CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  name         TEXT     NOT NULL UNIQUE,
  role         TEXT     NOT NULL,
  token_hash   TEXT     NOT NULL UNIQUE,
  created_at   DATETIME NOT NULL,
  last_used_at DATETIME NULL,
  revoked_at   DATETIME NULL
);

-- Who read which customer's data, when (data-protection accountability).
CREATE TABLE access_log (
  shop_id     INTEGER  NOT NULL,
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  token_id    INTEGER  NOT NULL,
  customer_id INTEGER  NOT NULL,
  what        TEXT     NOT NULL,
  at          DATETIME NOT NULL
);
CREATE INDEX ix_access_customer ON access_log (customer_id, at);
