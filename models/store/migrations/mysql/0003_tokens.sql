-- API tokens for support staff and admins; only a SHA-256 of each token is kept.
CREATE TABLE api_tokens (
  id           BIGINT       NOT NULL AUTO_INCREMENT,
  name         VARCHAR(128) NOT NULL,
  role         VARCHAR(16)  NOT NULL,
  token_hash   CHAR(64)     NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  last_used_at DATETIME(6)  NULL,
  revoked_at   DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_tokens_hash (token_hash),
  UNIQUE KEY uq_tokens_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Who read which customer's data, when (data-protection accountability).
CREATE TABLE access_log (
  shop_id     BIGINT      NOT NULL,
  id          BIGINT      NOT NULL AUTO_INCREMENT,
  token_id    BIGINT      NOT NULL,
  customer_id BIGINT      NOT NULL,
  what        VARCHAR(32) NOT NULL,
  at          DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_access_customer (customer_id, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
