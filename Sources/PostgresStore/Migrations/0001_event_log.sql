-- The append-only event log: the source of truth for everything Triton knows.
-- Applied by `triton migrate` (and at server start) with search_path set to Triton's schema.

CREATE TABLE events (
    -- Global position: unique and increasing, but NOT in commit order across transactions.
    position     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction. Readers of the global log read only below the oldest transaction
    -- still running (pg_snapshot_xmin), ordered by (tx, position), so no late commit is skipped.
    tx           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id    text        NOT NULL CHECK (length(stream_id) BETWEEN 1 AND 512),
    version      bigint      NOT NULL CHECK (version >= 1),
    event_type   text        NOT NULL CHECK (length(event_type) BETWEEN 1 AND 200),
    data         jsonb       NOT NULL,
    metadata     jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- SHA-256 chain per stream: hash = sha256(prev_hash || stream \n version \n type \n data \n metadata),
    -- data and metadata as their canonical jsonb text.
    prev_hash    bytea       NOT NULL,
    hash         bytea       NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);

CREATE INDEX events_tx_position ON events (tx, position);

-- The database itself refuses to change or remove events.
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'TR002';
END
$$;

CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Appends events to one stream in one round trip, if the stream is at p_expected (0 = empty).
-- A stale expected version raises SQLSTATE TR001 or 23505 (another writer took the version):
-- nothing of the call is written.
CREATE FUNCTION append_events(
    p_stream   text,
    p_expected bigint,
    p_types    text[],
    p_data     text[],
    p_metadata text[],
    p_notify   boolean DEFAULT false
) RETURNS TABLE (out_position bigint, out_tx xid8, out_version bigint, out_hash bytea)
LANGUAGE plpgsql AS $$
DECLARE
    prev  bytea;
    d     jsonb;
    m     jsonb;
    h     bytea;
    n     int := coalesce(array_length(p_types, 1), 0);
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'append to % has no events', p_stream USING ERRCODE = '22023';
    END IF;
    IF array_length(p_data, 1) IS DISTINCT FROM n OR array_length(p_metadata, 1) IS DISTINCT FROM n THEN
        RAISE EXCEPTION 'append to %: types, data and metadata differ in length', p_stream USING ERRCODE = '22023';
    END IF;
    IF p_expected = 0 THEN
        prev := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    ELSE
        SELECT e.hash INTO prev FROM events e WHERE e.stream_id = p_stream AND e.version = p_expected;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'stream % is not at version %', p_stream, p_expected USING ERRCODE = 'TR001';
        END IF;
    END IF;
    FOR i IN 1..n LOOP
        d := p_data[i]::jsonb;
        m := p_metadata[i]::jsonb;
        h := sha256(prev || convert_to(
                p_stream || E'\n' || (p_expected + i)::text || E'\n' || p_types[i] || E'\n' || d::text || E'\n' || m::text,
                'UTF8'));
        INSERT INTO events (stream_id, version, event_type, data, metadata, prev_hash, hash)
            VALUES (p_stream, p_expected + i, p_types[i], d, m, prev, h)
            RETURNING events.position, events.tx, events.version, events.hash
            INTO out_position, out_tx, out_version, out_hash;
        RETURN NEXT;
        prev := h;
    END LOOP;
    IF p_notify THEN
        PERFORM pg_notify('triton_events', p_stream);
    END IF;
END
$$;
