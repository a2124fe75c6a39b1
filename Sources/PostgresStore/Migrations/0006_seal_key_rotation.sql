-- A key may sign again after another one did (a rotation back to it): each registration of a key is
-- (key, the first seal it signs), valid until the next registration's first seal.
ALTER TABLE seals DROP CONSTRAINT seals_key_id_fkey;
ALTER TABLE seal_keys DROP CONSTRAINT seal_keys_pkey;
ALTER TABLE seal_keys ADD PRIMARY KEY (key_id, valid_from_sequence);
