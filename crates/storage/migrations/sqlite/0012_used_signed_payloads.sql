-- BigCommerce's signed payloads that signed a seller in, by the SHA-256 of their jti, so that
-- a load link (in a browser's history, a proxy's log) signs no one in a second time. Rows are
-- kept a little past the payloads' lifetime, then dropped.
CREATE TABLE used_signed_payloads (
    jti_hash   BLOB   NOT NULL PRIMARY KEY,
    used_at_ms BIGINT NOT NULL
);
CREATE INDEX used_signed_payloads_used_at ON used_signed_payloads (used_at_ms);
