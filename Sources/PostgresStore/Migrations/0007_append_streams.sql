-- Appends to several streams atomically in one round trip (an intent that writes its instance and
-- its flow, a step's observations): stream i is at p_expected[i] (0 = empty) and gets the next
-- p_counts[i] entries of the flat p_types / p_data / p_metadata arrays, hashed and chained exactly as
-- append_events does it. A stale expected version raises SQLSTATE TR001 (naming the stream) or 23505;
-- nothing of the call is written. Before, such an append took BEGIN, one statement per stream and
-- COMMIT: four round trips for two streams.
CREATE FUNCTION append_streams(
    p_streams  text[],
    p_expected bigint[],
    p_counts   int[],
    p_types    text[],
    p_data     text[],
    p_metadata text[],
    p_notify   boolean DEFAULT false
) RETURNS TABLE (out_stream int, out_position bigint, out_tx xid8, out_version bigint)
LANGUAGE plpgsql AS $$
DECLARE
    streams int := coalesce(array_length(p_streams, 1), 0);
    total   int := 0;
    k       int := 0;
    r       record;
BEGIN
    IF streams = 0 THEN
        RAISE EXCEPTION 'append_streams: no streams' USING ERRCODE = '22023';
    END IF;
    IF array_length(p_expected, 1) IS DISTINCT FROM streams OR array_length(p_counts, 1) IS DISTINCT FROM streams THEN
        RAISE EXCEPTION 'append_streams: streams, expected versions and counts differ in length' USING ERRCODE = '22023';
    END IF;
    FOR s IN 1..streams LOOP
        IF p_counts[s] IS NULL OR p_counts[s] < 1 THEN
            RAISE EXCEPTION 'append to % has no events', p_streams[s] USING ERRCODE = '22023';
        END IF;
        total := total + p_counts[s];
    END LOOP;
    IF array_length(p_types, 1) IS DISTINCT FROM total OR array_length(p_data, 1) IS DISTINCT FROM total
        OR array_length(p_metadata, 1) IS DISTINCT FROM total THEN
        RAISE EXCEPTION 'append_streams: the counts do not add up to the events given' USING ERRCODE = '22023';
    END IF;
    FOR s IN 1..streams LOOP
        FOR r IN SELECT a.out_position, a.out_tx, a.out_version FROM append_events(
                p_streams[s], p_expected[s], p_types[k + 1:k + p_counts[s]], p_data[k + 1:k + p_counts[s]],
                p_metadata[k + 1:k + p_counts[s]], false) a
        LOOP
            out_stream := s;
            out_position := r.out_position;
            out_tx := r.out_tx;
            out_version := r.out_version;
            RETURN NEXT;
        END LOOP;
        k := k + p_counts[s];
    END LOOP;
    IF p_notify THEN
        PERFORM pg_notify('triton_events', '');
    END IF;
END
$$;
