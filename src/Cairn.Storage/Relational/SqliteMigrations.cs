namespace Cairn.Storage.Relational;

/// <summary>The SQLite schema, one numbered script per change; never edit a shipped script, add a new one.</summary>
internal static class SqliteMigrations
{
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "tracking core", """
            CREATE TABLE workspaces (
                workspace_id TEXT NOT NULL PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                description TEXT,
                creation_time INTEGER NOT NULL
            );

            CREATE TABLE experiments (
                experiment_id INTEGER PRIMARY KEY AUTOINCREMENT,
                workspace_id TEXT NOT NULL REFERENCES workspaces (workspace_id),
                name TEXT NOT NULL,
                artifact_location TEXT NOT NULL,
                lifecycle_stage TEXT NOT NULL,
                creation_time INTEGER NOT NULL,
                last_update_time INTEGER NOT NULL,
                UNIQUE (workspace_id, name)
            );
            CREATE INDEX ix_experiments_workspace_creation ON experiments (workspace_id, creation_time);

            CREATE TABLE experiment_tags (
                seq INTEGER PRIMARY KEY,
                experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                UNIQUE (experiment_id, key)
            );
            CREATE INDEX ix_experiment_tags_key_value ON experiment_tags (key, value);

            CREATE TABLE runs (
                run_uuid TEXT NOT NULL PRIMARY KEY,
                experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
                name TEXT NOT NULL,
                user_id TEXT NOT NULL,
                status TEXT NOT NULL,
                start_time INTEGER NOT NULL,
                end_time INTEGER,
                deleted_time INTEGER,
                artifact_uri TEXT NOT NULL,
                lifecycle_stage TEXT NOT NULL
            );
            CREATE INDEX ix_runs_experiment_start ON runs (experiment_id, start_time);

            CREATE TABLE params (
                seq INTEGER PRIMARY KEY,
                run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                UNIQUE (run_uuid, key)
            );
            CREATE INDEX ix_params_key_value ON params (key, value, run_uuid);

            CREATE TABLE tags (
                seq INTEGER PRIMARY KEY,
                run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                UNIQUE (run_uuid, key)
            );
            CREATE INDEX ix_tags_key_value ON tags (key, value, run_uuid);

            -- Clustered on the history order: a run's series is one contiguous range, and identical entries are stored once.
            -- No foreign key to runs: writers lock the run row before inserting, runs are never hard-deleted, and a
            -- per-row check would double the cost of the hottest insert (hard deletes must remove metrics explicitly).
            CREATE TABLE metrics (
                run_uuid TEXT NOT NULL,
                key TEXT NOT NULL,
                value REAL NOT NULL,
                timestamp INTEGER NOT NULL,
                step INTEGER NOT NULL,
                is_nan BOOLEAN NOT NULL,
                model_id TEXT,
                dataset_name TEXT,
                dataset_digest TEXT,
                PRIMARY KEY (run_uuid, key, step, timestamp, value, is_nan)
            ) WITHOUT ROWID;
            CREATE INDEX ix_metrics_model ON metrics (model_id) WHERE model_id IS NOT NULL;

            CREATE TABLE latest_metrics (
                seq INTEGER PRIMARY KEY,
                run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
                key TEXT NOT NULL,
                value REAL NOT NULL,
                timestamp INTEGER NOT NULL,
                step INTEGER NOT NULL,
                is_nan BOOLEAN NOT NULL,
                UNIQUE (run_uuid, key)
            );
            CREATE INDEX ix_latest_metrics_key_value ON latest_metrics (key, is_nan, value, run_uuid);
            """),

        new(2, "run inputs and outputs", """
            CREATE TABLE datasets (
                dataset_uuid TEXT NOT NULL PRIMARY KEY,
                experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
                name TEXT NOT NULL,
                digest TEXT NOT NULL,
                dataset_source_type TEXT NOT NULL,
                dataset_source TEXT NOT NULL,
                dataset_schema TEXT,
                dataset_profile TEXT,
                UNIQUE (experiment_id, name, digest)
            );

            CREATE TABLE inputs (
                seq INTEGER PRIMARY KEY,
                input_uuid TEXT NOT NULL UNIQUE,
                source_type TEXT NOT NULL,
                source_id TEXT NOT NULL,
                destination_type TEXT NOT NULL,
                destination_id TEXT NOT NULL,
                step INTEGER NOT NULL DEFAULT 0,
                UNIQUE (source_type, source_id, destination_type, destination_id)
            );
            CREATE INDEX ix_inputs_destination ON inputs (destination_type, destination_id);

            CREATE TABLE input_tags (
                seq INTEGER PRIMARY KEY,
                input_uuid TEXT NOT NULL REFERENCES inputs (input_uuid),
                name TEXT NOT NULL,
                value TEXT NOT NULL,
                UNIQUE (input_uuid, name)
            );
            """),

        new(3, "logged models", """
            CREATE TABLE logged_models (
                model_id TEXT NOT NULL PRIMARY KEY,
                experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
                name TEXT NOT NULL,
                artifact_location TEXT NOT NULL,
                creation_timestamp_ms INTEGER NOT NULL,
                last_updated_timestamp_ms INTEGER NOT NULL,
                status TEXT NOT NULL,
                status_message TEXT,
                model_type TEXT NOT NULL,
                source_run_id TEXT,
                lifecycle_stage TEXT NOT NULL
            );
            CREATE INDEX ix_logged_models_experiment_creation ON logged_models (experiment_id, creation_timestamp_ms);

            CREATE TABLE logged_model_params (
                model_id TEXT NOT NULL REFERENCES logged_models (model_id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (model_id, key)
            );

            CREATE TABLE logged_model_tags (
                model_id TEXT NOT NULL REFERENCES logged_models (model_id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (model_id, key)
            );
            """),

        new(4, "model registry", """
            CREATE TABLE registered_models (
                registered_model_id INTEGER PRIMARY KEY AUTOINCREMENT,
                workspace_id TEXT NOT NULL REFERENCES workspaces (workspace_id),
                name TEXT NOT NULL,
                creation_time INTEGER NOT NULL,
                last_updated_time INTEGER NOT NULL,
                description TEXT,
                UNIQUE (workspace_id, name)
            );

            CREATE TABLE registered_model_tags (
                registered_model_id INTEGER NOT NULL REFERENCES registered_models (registered_model_id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (registered_model_id, key)
            );

            CREATE TABLE model_versions (
                registered_model_id INTEGER NOT NULL REFERENCES registered_models (registered_model_id),
                version INTEGER NOT NULL,
                creation_time INTEGER NOT NULL,
                last_updated_time INTEGER NOT NULL,
                description TEXT NOT NULL,
                user_id TEXT,
                current_stage TEXT NOT NULL,
                source TEXT NOT NULL,
                storage_location TEXT,
                run_id TEXT,
                run_link TEXT NOT NULL,
                model_id TEXT,
                status TEXT NOT NULL,
                status_message TEXT,
                PRIMARY KEY (registered_model_id, version)
            );
            CREATE INDEX ix_model_versions_run ON model_versions (run_id) WHERE run_id IS NOT NULL;
            CREATE INDEX ix_model_versions_model ON model_versions (model_id) WHERE model_id IS NOT NULL;

            CREATE TABLE model_version_tags (
                registered_model_id INTEGER NOT NULL,
                version INTEGER NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (registered_model_id, version, key),
                FOREIGN KEY (registered_model_id, version) REFERENCES model_versions (registered_model_id, version)
            );

            CREATE TABLE registered_model_aliases (
                registered_model_id INTEGER NOT NULL REFERENCES registered_models (registered_model_id),
                alias TEXT NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (registered_model_id, alias),
                FOREIGN KEY (registered_model_id, version) REFERENCES model_versions (registered_model_id, version)
            );
            """),
            new(5, "logged model metrics", """
            -- MLflow 3 keeps a logged model's metrics apart from the run's history: the same value logged once for the run and
            -- once for the model (as the MLflow client does) is one history entry and one model metric.
            CREATE TABLE logged_model_metrics (
                model_id TEXT NOT NULL,
                run_uuid TEXT NOT NULL,
                key TEXT NOT NULL,
                value REAL NOT NULL,
                timestamp INTEGER NOT NULL,
                step INTEGER NOT NULL,
                is_nan BOOLEAN NOT NULL,
                dataset_name TEXT,
                dataset_digest TEXT,
                PRIMARY KEY (model_id, run_uuid, key, step, timestamp, value, is_nan)
            );
            INSERT INTO logged_model_metrics (model_id, run_uuid, key, value, timestamp, step, is_nan, dataset_name, dataset_digest)
                SELECT model_id, run_uuid, key, value, timestamp, step, is_nan, dataset_name, dataset_digest FROM metrics WHERE model_id IS NOT NULL;
            """),
            new(6, "gateway request log", """
            -- The gateway's request log (issue #4): one row per request, written in batches off the request path.
            CREATE TABLE request_logs (
                request_id TEXT NOT NULL PRIMARY KEY,
                workspace_id TEXT NOT NULL,
                timestamp INTEGER NOT NULL,
                endpoint TEXT NOT NULL,
                key_id TEXT,
                requested_model TEXT,
                served_model TEXT,
                provider TEXT,
                route TEXT,
                attempts TEXT NOT NULL,
                outcome TEXT NOT NULL,
                status INTEGER NOT NULL,
                error TEXT,
                stream BOOLEAN NOT NULL,
                cache_hit BOOLEAN NOT NULL,
                latency_ms REAL NOT NULL,
                ttft_ms REAL,
                prompt_tokens INTEGER,
                completion_tokens INTEGER,
                cached_tokens INTEGER,
                cache_write_tokens INTEGER,
                reasoning_tokens INTEGER,
                tokens_estimated BOOLEAN NOT NULL,
                cost_usd REAL,
                request_body TEXT,
                response_body TEXT,
                body_truncated BOOLEAN NOT NULL,
                user_id TEXT,
                session_id TEXT,
                session_path TEXT,
                properties TEXT NOT NULL,
                traceparent TEXT
            );
            CREATE INDEX ix_request_logs_time ON request_logs (workspace_id, timestamp, request_id);
            -- Partial indexes: calls without a user, session or key cost no index write (the log's insert rate matters).
            CREATE INDEX ix_request_logs_user ON request_logs (workspace_id, user_id, timestamp) WHERE user_id IS NOT NULL;
            CREATE INDEX ix_request_logs_session ON request_logs (workspace_id, session_id, timestamp) WHERE session_id IS NOT NULL;
            CREATE INDEX ix_request_logs_model ON request_logs (workspace_id, requested_model, timestamp);
            CREATE INDEX ix_request_logs_key ON request_logs (workspace_id, key_id, timestamp) WHERE key_id IS NOT NULL;

            CREATE TABLE request_log_properties (
                request_id TEXT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (request_id, key)
            );
            CREATE INDEX ix_request_log_properties_key_value ON request_log_properties (key, value, request_id);

            -- Virtual API keys: only the SHA-256 of the secret is stored.
            CREATE TABLE gateway_keys (
                key_id TEXT NOT NULL PRIMARY KEY,
                workspace_id TEXT NOT NULL,
                name TEXT NOT NULL,
                prefix TEXT NOT NULL,
                key_hash TEXT NOT NULL UNIQUE,
                allowed_models TEXT NOT NULL,
                requests_per_minute INTEGER,
                tokens_per_minute INTEGER,
                budget_usd REAL,
                budget_period TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER
            );

            -- Providers and routes managed through the REST API; provider keys are stored encrypted (data protection).
            CREATE TABLE gateway_providers (
                workspace_id TEXT NOT NULL,
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                base_url TEXT,
                api_key_protected TEXT,
                api_version TEXT,
                models TEXT NOT NULL,
                headers TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (workspace_id, name)
            );

            CREATE TABLE gateway_routes (
                workspace_id TEXT NOT NULL,
                name TEXT NOT NULL,
                definition TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (workspace_id, name)
            );
            """),
            new(7, "traces", """
            -- Traces (issue #5): spans as received over OTLP with the GenAI fields read out, and per-trace totals rolled up
            -- as spans arrive (in any order, in any number of batches).
            CREATE TABLE spans (
                workspace_id TEXT NOT NULL,
                project TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                parent_span_id TEXT,
                name TEXT NOT NULL,
                kind INTEGER NOT NULL,
                start_ns INTEGER NOT NULL,
                end_ns INTEGER NOT NULL,
                status_code INTEGER NOT NULL,
                status_message TEXT,
                type TEXT NOT NULL,
                operation TEXT,
                provider TEXT,
                request_model TEXT,
                response_model TEXT,
                input_tokens INTEGER,
                output_tokens INTEGER,
                cached_tokens INTEGER,
                cache_write_tokens INTEGER,
                reasoning_tokens INTEGER,
                cost_usd REAL,
                input TEXT,
                output TEXT,
                user_id TEXT,
                session_id TEXT,
                service_name TEXT,
                scope_name TEXT,
                tags TEXT NOT NULL,
                attributes TEXT NOT NULL,
                resource TEXT NOT NULL,
                events TEXT,
                links TEXT,
                flags INTEGER NOT NULL,
                request_log_id TEXT
            );
            -- Trace ids are random, so (trace_id, span_id) identifies a span; the project is checked on every read.
            CREATE UNIQUE INDEX ux_spans_id ON spans (trace_id, span_id);
            CREATE INDEX ix_spans_children ON spans (trace_id, parent_span_id, start_ns);

            CREATE TABLE traces (
                workspace_id TEXT NOT NULL,
                project TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                name TEXT NOT NULL,
                root_span_id TEXT,
                start_ns INTEGER NOT NULL,
                end_ns INTEGER NOT NULL,
                duration_ms REAL NOT NULL,
                span_count INTEGER NOT NULL,
                error_count INTEGER NOT NULL,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                cached_tokens INTEGER NOT NULL,
                total_tokens INTEGER NOT NULL,
                cost_usd REAL NOT NULL,
                user_id TEXT,
                session_id TEXT,
                service_name TEXT,
                models TEXT NOT NULL,
                tags TEXT NOT NULL,
                input TEXT,
                output TEXT,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (trace_id)
            );
            CREATE INDEX ix_traces_start ON traces (workspace_id, project, start_ns, trace_id);
            CREATE INDEX ix_traces_user ON traces (workspace_id, project, user_id, start_ns) WHERE user_id IS NOT NULL;
            CREATE INDEX ix_traces_session ON traces (workspace_id, project, session_id, start_ns) WHERE session_id IS NOT NULL;

            CREATE TABLE trace_scores (
                score_id TEXT NOT NULL PRIMARY KEY,
                workspace_id TEXT NOT NULL,
                project TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT,
                name TEXT NOT NULL,
                data_type TEXT NOT NULL,
                value REAL,
                string_value TEXT,
                source TEXT NOT NULL,
                comment TEXT,
                author TEXT,
                timestamp INTEGER NOT NULL
            );
            CREATE INDEX ix_trace_scores_trace ON trace_scores (trace_id, timestamp);
            """),
            new(8, "project of a virtual key", """
            -- A virtual key can be bound to a trace project (issue #5): spans sent with it land there.
            ALTER TABLE gateway_keys ADD COLUMN project TEXT;
            """),
            new(9, "prompt versions on gateway requests", """
            -- Requests sent with Cairn-Prompt: name@version (issue #6): per-version usage for the prompt registry.
            ALTER TABLE request_logs ADD COLUMN prompt_name TEXT;
            ALTER TABLE request_logs ADD COLUMN prompt_version INTEGER;
            CREATE INDEX ix_request_logs_prompt ON request_logs (workspace_id, prompt_name, prompt_version, timestamp) WHERE prompt_name IS NOT NULL;
            -- Gateway spans point at their request record; feedback on their traces is the prompt version's feedback.
            CREATE INDEX ix_spans_request_log ON spans (request_log_id) WHERE request_log_id IS NOT NULL;
            """),
];
}
