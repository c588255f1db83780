-- Category opt-outs: the customer's "not interested in this category".
CREATE TABLE opt_outs (
  shop_id     BIGINT       NOT NULL,
  customer_id BIGINT       NOT NULL,
  category    VARCHAR(191) NOT NULL,
  source      VARCHAR(32)  NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (customer_id, category),
  KEY ix_opt_outs_shop (shop_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Erasures: an audit record without personal data, and de-identified
-- aggregates kept for statistics.
CREATE TABLE erasures (
  shop_id           BIGINT       NOT NULL,
  id                BIGINT       NOT NULL AUTO_INCREMENT,
  erased_at         DATETIME(6)  NOT NULL,
  requested_by      VARCHAR(128) NOT NULL,
  stage             VARCHAR(32)  NOT NULL,
  order_count       INT          NOT NULL,
  total_spent_cents BIGINT       NOT NULL,
  events            INT          NOT NULL,
  actions           INT          NOT NULL,
  cancelled_actions INT          NOT NULL,
  PRIMARY KEY (id),
  KEY ix_erasures_shop (shop_id, erased_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
