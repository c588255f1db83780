-- Actions: the outbox. Planned in the same transaction as the event that
-- triggered them; one per (shop, idempotency_key), which encodes the rule's limit.
CREATE TABLE actions (
  shop_id          INTEGER  NOT NULL,
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  public_id        TEXT     NOT NULL UNIQUE,
  customer_id      INTEGER  NOT NULL,
  type             TEXT     NOT NULL,
  status           TEXT     NOT NULL,
  rule_id          TEXT     NOT NULL,
  rules_version    TEXT     NOT NULL,
  trigger_event_id INTEGER  NULL,
  due_at           DATETIME NOT NULL,
  next_attempt_at  DATETIME NOT NULL,
  idempotency_key  TEXT     NOT NULL,
  marketing        BOOLEAN  NOT NULL DEFAULT FALSE,
  order_ref        TEXT     NOT NULL DEFAULT '',
  sku              TEXT     NOT NULL DEFAULT '',
  category         TEXT     NOT NULL DEFAULT '',
  params           TEXT     NOT NULL,
  reason           TEXT     NULL,
  attempts         INTEGER  NOT NULL DEFAULT 0,
  lease_owner      TEXT     NULL,
  lease_until      DATETIME NULL,
  sent_at          DATETIME NULL,
  external_ref     TEXT     NULL,
  created_at       DATETIME NOT NULL,
  updated_at       DATETIME NOT NULL,
  UNIQUE (shop_id, idempotency_key)
);
CREATE INDEX ix_actions_due ON actions (status, next_attempt_at, id);
CREATE INDEX ix_actions_customer ON actions (customer_id, status, due_at);
CREATE INDEX ix_actions_shop_status ON actions (shop_id, status, id);

-- Attempts: one row per call into the shop, never with credentials.
CREATE TABLE attempts (
  shop_id     INTEGER  NOT NULL,
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  action_id   INTEGER  NOT NULL,
  attempt_no  INTEGER  NOT NULL,
  started_at  DATETIME NOT NULL,
  duration_ms INTEGER  NOT NULL,
  status_code INTEGER  NOT NULL DEFAULT 0,
  outcome     TEXT     NOT NULL,
  summary     TEXT     NULL
);
CREATE INDEX ix_attempts_action ON attempts (action_id, attempt_no);

-- Points ledger: the balance is the sum; one entry per points action.
CREATE TABLE points_ledger (
  shop_id     INTEGER  NOT NULL,
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id INTEGER  NOT NULL,
  action_id   INTEGER  NOT NULL UNIQUE,
  delta       INTEGER  NOT NULL,
  reason      TEXT     NOT NULL,
  created_at  DATETIME NOT NULL
);
CREATE INDEX ix_points_customer ON points_ledger (customer_id);
