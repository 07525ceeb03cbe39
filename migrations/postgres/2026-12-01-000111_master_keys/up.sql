-- The master keys as the database knows them (issue 11 item 4; the key material stays in
-- FORGEKEYS_KEY_FILE). `primary`: the one key every process seals new secrets with — a
-- process claims it in the transaction that writes the sealed value (see `app::keys`);
-- `retiring`: replaced by `keys rotate`, still referenced by rows until they are re-sealed,
-- never used to seal again. A key no row references is deleted here and dropped from the file.
CREATE TABLE master_keys (
    id TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);

CREATE UNIQUE INDEX master_keys_one_primary ON master_keys (state) WHERE state = 'primary';

-- "Does any row still use key K?" and the re-sealing pass.
CREATE INDEX git_tokens_key_id ON git_tokens (key_id);
