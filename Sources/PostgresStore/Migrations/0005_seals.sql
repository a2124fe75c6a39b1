-- Seals: signed checkpoints of the whole log (see TritonSeals). Append-only like the events: the keys
-- that signed them (a key signs from its valid_from_sequence until the next key's), and the seals, each
-- with the frontier of the Merkle tree it sealed so a sealer resumes without reading the log again.
CREATE TABLE seal_keys (
    key_id              text        PRIMARY KEY,
    public_key          text        NOT NULL,   -- raw Ed25519 public key, base64
    valid_from_sequence bigint      NOT NULL UNIQUE,
    added_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE seals (
    sequence      bigint      PRIMARY KEY,
    tree_size     bigint      NOT NULL,
    root          text        NOT NULL,
    time_millis   bigint      NOT NULL,
    previous      text        NOT NULL,
    key_id        text        NOT NULL REFERENCES seal_keys (key_id),
    signature     text        NOT NULL,
    frontier      text        NOT NULL,         -- hex hashes of the tree's right edge, comma-separated
    last_tx       xid8,                         -- the last sealed event's log position
    last_position bigint,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER seal_keys_no_update_delete BEFORE UPDATE OR DELETE ON seal_keys
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER seal_keys_no_truncate BEFORE TRUNCATE ON seal_keys
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER seals_no_update_delete BEFORE UPDATE OR DELETE ON seals
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER seals_no_truncate BEFORE TRUNCATE ON seals
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
