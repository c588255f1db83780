-- Shops (tenants). Secrets are sealed with security.secret_key.
CREATE TABLE shops (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  shop_key    VARCHAR(64)  NOT NULL,
  platform    VARCHAR(16)  NOT NULL,
  name        VARCHAR(255) NOT NULL DEFAULT '',
  timezone    VARCHAR(64)  NOT NULL DEFAULT 'UTC',
  currency    CHAR(3)      NOT NULL DEFAULT 'EUR',
  external_id VARCHAR(255) NULL,
  url         VARCHAR(1024) NOT NULL DEFAULT '',
  source      VARCHAR(16)  NOT NULL,
  secrets     TEXT         NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  updated_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_shops_key (shop_key),
  UNIQUE KEY uq_shops_external (platform, external_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Inbox: every verified delivery, committed before the sender gets its 2xx.
CREATE TABLE inbox (
  shop_id         BIGINT       NOT NULL,
  id              BIGINT       NOT NULL AUTO_INCREMENT,
  platform        VARCHAR(16)  NOT NULL,
  delivery_id     VARCHAR(191) NOT NULL,
  topic           VARCHAR(191) NOT NULL DEFAULT '',
  headers         TEXT         NOT NULL,
  body            MEDIUMBLOB   NULL,
  received_at     DATETIME(6)  NOT NULL,
  status          VARCHAR(16)  NOT NULL,
  attempts        INT          NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6)  NOT NULL,
  processed_at    DATETIME(6)  NULL,
  error           TEXT         NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_inbox_delivery (shop_id, delivery_id),
  KEY ix_inbox_due (status, next_attempt_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Customers and their derived profile.
CREATE TABLE customers (
  shop_id              BIGINT      NOT NULL,
  id                   BIGINT      NOT NULL AUTO_INCREMENT,
  public_id            CHAR(36)    NOT NULL,
  stage                VARCHAR(32) NOT NULL,
  order_count          INT         NOT NULL DEFAULT 0,
  positive_order_count INT         NOT NULL DEFAULT 0,
  total_spent_cents    BIGINT      NOT NULL DEFAULT 0,
  last_order_at        DATETIME(6) NULL,
  marketing_consent    BOOLEAN     NOT NULL DEFAULT FALSE,
  profile              TEXT        NOT NULL,
  created_at           DATETIME(6) NOT NULL,
  updated_at           DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_customers_public (public_id),
  KEY ix_customers_shop_stage (shop_id, stage)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- How shops name a customer: their customer id, customer number, normalized e-mail.
CREATE TABLE customer_identities (
  shop_id     BIGINT       NOT NULL,
  kind        VARCHAR(8)   NOT NULL,
  value       VARCHAR(191) NOT NULL,
  customer_id BIGINT       NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (shop_id, kind, value),
  KEY ix_identities_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Journey events: one row per business step (step_key), however often delivered.
CREATE TABLE events (
  shop_id     BIGINT       NOT NULL,
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  customer_id BIGINT       NOT NULL,
  type        VARCHAR(40)  NOT NULL,
  step_key    VARCHAR(255) NOT NULL,
  occurred_at DATETIME(6)  NOT NULL,
  received_at DATETIME(6)  NOT NULL,
  platform    VARCHAR(16)  NOT NULL,
  inbox_id    BIGINT       NOT NULL,
  delivery_id VARCHAR(191) NOT NULL,
  order_ref   VARCHAR(191) NOT NULL DEFAULT '',
  data        TEXT         NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_events_step (shop_id, step_key),
  KEY ix_events_customer (customer_id, occurred_at, id),
  KEY ix_events_order (shop_id, order_ref)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
