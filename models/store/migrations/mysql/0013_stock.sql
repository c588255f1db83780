-- Back-in-stock notices. product_stock is the last stock level the shop
-- reported per SKU, by source time (a level older than changed_at changes
-- nothing), and the restock whose notices are being recorded.
CREATE TABLE product_stock (
  shop_id       BIGINT       NOT NULL,
  sku           VARCHAR(191) NOT NULL,
  quantity      BIGINT       NOT NULL,
  changed_at    DATETIME(6)  NOT NULL,
  restock_at    DATETIME(6)  NULL,
  restock_done  BOOLEAN      NOT NULL DEFAULT TRUE,
  updated_at    DATETIME(6)  NOT NULL,
  PRIMARY KEY (shop_id, sku),
  KEY ix_product_stock_pending (restock_done, shop_id, sku)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- A customer's subscription to a SKU, one row per customer and SKU: its
-- latest state by source time, and the notice a restock recorded for it.
CREATE TABLE stock_subscriptions (
  shop_id             BIGINT       NOT NULL,
  id                  BIGINT       NOT NULL AUTO_INCREMENT,
  customer_id         BIGINT       NOT NULL,
  sku                 VARCHAR(191) NOT NULL,
  active              BOOLEAN      NOT NULL,
  subscribed_at       DATETIME(6)  NOT NULL,
  changed_at          DATETIME(6)  NOT NULL,
  notified_restock_at DATETIME(6)  NULL,
  notice_event_id     BIGINT       NULL,
  notice_at           DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_stock_subscriptions (shop_id, customer_id, sku),
  KEY ix_stock_subscriptions_queue (shop_id, sku, subscribed_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
