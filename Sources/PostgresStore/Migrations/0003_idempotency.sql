-- Idempotency keys of API requests: a retried POST with the same key returns the first reply and
-- never acts twice. `status` is NULL while the first request is still being handled.
CREATE TABLE idempotency_keys (
    scope       text        NOT NULL,  -- caller, method and path
    key         text        NOT NULL,
    fingerprint text        NOT NULL,  -- SHA-256 of the request body
    status      integer,
    body        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
