-- An instance's CloneSet can be deleted through Triton: when it was asked for and when the executor
-- carried it out (both NULL again once a flow begins on the instance).
ALTER TABLE instances
    ADD COLUMN deletion_requested_at timestamptz,
    ADD COLUMN deleted_at            timestamptz;
