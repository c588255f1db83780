-- Shops (tenants). Secrets are sealed with security.secret_key.
CREATE TABLE shops (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  shop_key    TEXT     NOT NULL UNIQUE,
  platform    TEXT     NOT NULL,
  name        TEXT     NOT NULL DEFAULT '',
  timezone    TEXT     NOT NULL DEFAULT 'UTC',
  currency    TEXT     NOT NULL DEFAULT 'EUR',
  external_id TEXT     NULL,
  url         TEXT     NOT NULL DEFAULT '',
  source      TEXT     NOT NULL,
  secrets     TEXT     NOT NULL,
  created_at  DATETIME NOT NULL,
  updated_at  DATETIME NOT NULL,
  UNIQUE (platform, external_id)
);

-- Inbox: every verified delivery, committed before the sender gets its 2xx.
CREATE TABLE inbox (
  shop_id         INTEGER  NOT NULL,
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  platform        TEXT     NOT NULL,
  delivery_id     TEXT     NOT NULL,
  topic           TEXT     NOT NULL DEFAULT '',
  headers         TEXT     NOT NULL,
  body            BLOB     NULL,
  received_at     DATETIME NOT NULL,
  status          TEXT     NOT NULL,
  attempts        INTEGER  NOT NULL DEFAULT 0,
  next_attempt_at DATETIME NOT NULL,
  processed_at    DATETIME NULL,
  error           TEXT     NULL,
  UNIQUE (shop_id, delivery_id)
);
CREATE INDEX ix_inbox_due ON inbox (status, next_attempt_at, id);

-- Customers and their derived profile.
CREATE TABLE customers (
  shop_id              INTEGER  NOT NULL,
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,
  public_id            TEXT     NOT NULL UNIQUE,
  stage                TEXT     NOT NULL,
  order_count          INTEGER  NOT NULL DEFAULT 0,
  positive_order_count INTEGER  NOT NULL DEFAULT 0,
  total_spent_cents    INTEGER  NOT NULL DEFAULT 0,
  last_order_at        DATETIME NULL,
  marketing_consent    BOOLEAN  NOT NULL DEFAULT FALSE,
  profile              TEXT     NOT NULL,
  created_at           DATETIME NOT NULL,
  updated_at           DATETIME NOT NULL
);
CREATE INDEX ix_customers_shop_stage ON customers (shop_id, stage);

-- How shops name a customer: their customer id, customer number, normalized e-mail.
CREATE TABLE customer_identities (
  shop_id     INTEGER  NOT NULL,
  kind        TEXT     NOT NULL,
  value       TEXT     NOT NULL,
  customer_id INTEGER  NOT NULL,
  created_at  DATETIME NOT NULL,
  PRIMARY KEY (shop_id, kind, value)
);
CREATE INDEX ix_identities_customer ON customer_identities (customer_id);

-- Journey events: one row per business step (step_key), however often delivered.
CREATE TABLE events (
  shop_id     INTEGER  NOT NULL,
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id INTEGER  NOT NULL,
  type        TEXT     NOT NULL,
  step_key    TEXT     NOT NULL,
  occurred_at DATETIME NOT NULL,
  received_at DATETIME NOT NULL,
  platform    TEXT     NOT NULL,
  inbox_id    INTEGER  NOT NULL,
  delivery_id TEXT     NOT NULL,
  order_ref   TEXT     NOT NULL DEFAULT '',
  data        TEXT     NOT NULL,
  UNIQUE (shop_id, step_key)
);
CREATE INDEX ix_events_customer ON events (customer_id, occurred_at, id);
CREATE INDEX ix_events_order ON events (shop_id, order_ref);
