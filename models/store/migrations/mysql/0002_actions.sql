-- Actions: the outbox. Planned in the same transaction as the event that
-- triggered them; one per (shop, idempotency_key), which encodes the rule's limit.
CREATE TABLE actions (
  shop_id          BIGINT       NOT NULL,
  id               BIGINT       NOT NULL AUTO_INCREMENT,
  public_id        CHAR(36)     NOT NULL,
  customer_id      BIGINT       NOT NULL,
  type             VARCHAR(32)  NOT NULL,
  status           VARCHAR(16)  NOT NULL,
  rule_id          VARCHAR(128) NOT NULL,
  rules_version    VARCHAR(64)  NOT NULL,
  trigger_event_id BIGINT       NULL,
  due_at           DATETIME(6)  NOT NULL,
  next_attempt_at  DATETIME(6)  NOT NULL,
  idempotency_key  VARCHAR(255) NOT NULL,
  marketing        BOOLEAN      NOT NULL DEFAULT FALSE,
  order_ref        VARCHAR(191) NOT NULL DEFAULT '',
  sku              VARCHAR(191) NOT NULL DEFAULT '',
  category         VARCHAR(191) NOT NULL DEFAULT '',
  params           TEXT         NOT NULL,
  reason           TEXT         NULL,
  attempts         INT          NOT NULL DEFAULT 0,
  lease_owner      VARCHAR(64)  NULL,
  lease_until      DATETIME(6)  NULL,
  sent_at          DATETIME(6)  NULL,
  external_ref     VARCHAR(255) NULL,
  created_at       DATETIME(6)  NOT NULL,
  updated_at       DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_actions_public (public_id),
  UNIQUE KEY uq_actions_key (shop_id, idempotency_key),
  KEY ix_actions_due (status, next_attempt_at, id),
  KEY ix_actions_customer (customer_id, status, due_at),
  KEY ix_actions_shop_status (shop_id, status, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Attempts: one row per call into the shop, never with credentials.
CREATE TABLE attempts (
  shop_id     BIGINT      NOT NULL,
  id          BIGINT      NOT NULL AUTO_INCREMENT,
  action_id   BIGINT      NOT NULL,
  attempt_no  INT         NOT NULL,
  started_at  DATETIME(6) NOT NULL,
  duration_ms INT         NOT NULL,
  status_code INT         NOT NULL DEFAULT 0,
  outcome     VARCHAR(16) NOT NULL,
  summary     TEXT        NULL,
  PRIMARY KEY (id),
  KEY ix_attempts_action (action_id, attempt_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Points ledger: the balance is the sum; one entry per points action.
CREATE TABLE points_ledger (
  shop_id     BIGINT       NOT NULL,
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  customer_id BIGINT       NOT NULL,
  action_id   BIGINT       NOT NULL,
  delta       BIGINT       NOT NULL,
  reason      VARCHAR(255) NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_points_action (action_id),
  KEY ix_points_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
