-- TEXT holds 64 KiB. An order with a few hundred line items, or a profile
-- that lists thousands of SKUs, is larger: MySQL refused the row (Error 1406)
-- after the delivery had been acknowledged. MEDIUMTEXT holds 16 MiB, more
-- than http.max_body_bytes allows a delivery. MODIFY is safe to run again;
-- on a large table it copies the table (plan the upgrade for a quiet hour).
ALTER TABLE events MODIFY data MEDIUMTEXT NOT NULL;
ALTER TABLE customers MODIFY profile MEDIUMTEXT NOT NULL;
ALTER TABLE inbox MODIFY headers MEDIUMTEXT NOT NULL;
ALTER TABLE actions MODIFY params MEDIUMTEXT NOT NULL;
