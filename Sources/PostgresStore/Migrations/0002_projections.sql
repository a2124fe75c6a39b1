-- Query tables folded from the event log by the projectors (TritonProjections), and the projectors'
-- checkpoints. Everything here is derived: `triton projections rebuild` truncates these tables and
-- re-projects them from the log. A projector writes its rows and advances its checkpoint in the
-- same transaction, so each event takes effect exactly once.

-- How far each projector got in the global log: the last (tx, position) it handled.
CREATE TABLE projection_checkpoints (
    projector  text   PRIMARY KEY CHECK (length(projector) BETWEEN 1 AND 200),
    tx         xid8   NOT NULL,
    position   bigint NOT NULL,
    -- Events handled so far (every event of the log counts, projected or skipped).
    events     bigint NOT NULL DEFAULT 0 CHECK (events >= 0)
);

-- One row per DeployFlow, in the status shape of the open-source Triton (see FlowStatus).
CREATE TABLE flows (
    id                      text        PRIMARY KEY,
    namespace               text        NOT NULL,
    instance                text        NOT NULL,
    action                  text        NOT NULL,
    phase                   text        NOT NULL,
    paused                  boolean     NOT NULL,
    finished                boolean     NOT NULL,
    mode                    text        NOT NULL,
    batches                 int         NOT NULL,
    batch_size              int         NOT NULL,
    canary                  int         NOT NULL,
    batch_interval_seconds  int         NOT NULL,
    startup_timeout_seconds int         NOT NULL,
    pull_out_wait_seconds   int         NOT NULL,
    no_pull_in              boolean     NOT NULL,
    current_batch           int         NOT NULL,
    finished_batches        int         NOT NULL,
    finished_replicas       int         NOT NULL,
    failed_replicas         int         NOT NULL,
    -- From the latest observation of the CloneSet.
    replicas                int         NOT NULL,
    available_replicas      int         NOT NULL,
    updated_replicas        int         NOT NULL,
    updated_ready_replicas  int         NOT NULL,
    update_revision         text        NOT NULL,
    -- From the flow's creation.
    current_replicas        int         NOT NULL,
    target_replicas         int         NOT NULL,
    app_id                  int         NOT NULL,
    group_id                int         NOT NULL,
    app_name                text        NOT NULL,
    image                   text        NOT NULL,
    rollback_to             text,
    failure_reason          text,
    created_at              timestamptz,
    started_at              timestamptz,
    updated_at              timestamptz,
    finished_at             timestamptz,
    -- The stream version folded into this row.
    version                 bigint      NOT NULL CHECK (version >= 1)
);

CREATE INDEX flows_namespace_created ON flows (namespace, created_at DESC, id);
CREATE INDEX flows_instance_created ON flows (namespace, instance, created_at DESC, id);
CREATE INDEX flows_active ON flows (phase) WHERE NOT finished;

-- One row per planned batch of a flow (started or not).
CREATE TABLE flow_batches (
    flow_id          text        NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    batch            int         NOT NULL CHECK (batch >= 1),
    size             int         NOT NULL,
    canary           boolean     NOT NULL,
    -- New pods the batch brings up (0 for scaleIn).
    surge            int         NOT NULL,
    phase            text        NOT NULL,
    -- none | notStarted | pullingOut | waiting | deleting | done
    removal          text        NOT NULL,
    failed_replicas  int         NOT NULL,
    failure_reason   text,
    started_at       timestamptz,
    pulled_in_at     timestamptz,
    baked_at         timestamptz,
    pulled_out_at    timestamptz,
    finished_at      timestamptz,
    PRIMARY KEY (flow_id, batch)
);

-- The pods of each batch: the new pods it brought up and the pods it removes.
CREATE TABLE flow_pods (
    flow_id           text    NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    batch             int     NOT NULL,
    pod_name          text    NOT NULL,
    -- Order of the pod within its batch.
    ordinal           int     NOT NULL,
    -- added | removed
    role              text    NOT NULL,
    -- As Triton shows it: Pending, Running, ContainersReady, Ready, Failed, Deleted, Unknown.
    phase             text    NOT NULL,
    -- "", PullingIn, PullInSucceeded, PullingOut, PullOutSucceeded.
    pull_in_status    text    NOT NULL,
    ip                text    NOT NULL,
    port              int     NOT NULL,
    -- The raw observation: Kubernetes pod phase (NULL until observed), readiness, gate.
    pod_phase         text,
    containers_ready  boolean NOT NULL,
    ready             boolean NOT NULL,
    gate              text    NOT NULL,
    failure_reason    text,
    gone              boolean NOT NULL,
    pulled_in         boolean NOT NULL,
    pulled_out        boolean NOT NULL,
    PRIMARY KEY (flow_id, batch, pod_name)
);

CREATE INDEX flow_pods_name ON flow_pods (pod_name);

-- One row per application instance (CloneSet).
CREATE TABLE instances (
    namespace                text        NOT NULL,
    name                     text        NOT NULL,
    active_flow_id           text,
    active_action            text,
    last_flow_id             text,
    last_successful_flow_id  text,
    -- From the latest successful create / update / rollback: what the instance runs.
    current_image            text,
    app_id                   int,
    group_id                 int,
    app_name                 text,
    flows                    int         NOT NULL DEFAULT 0,
    -- The instance stream version folded into this row (0 = only observations so far).
    version                  bigint      NOT NULL DEFAULT 0,
    -- From the latest observation of the CloneSet by any of its flows.
    replicas                 int,
    available_replicas       int,
    update_revision          text,
    observed_at              timestamptz,
    PRIMARY KEY (namespace, name)
);
