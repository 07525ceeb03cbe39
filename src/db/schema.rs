//! Hand-kept schema with portable types only (one file for both backends).

diesel::table! {
    organizations (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        created_at -> Timestamp,
        tokens_version -> BigInt,
        require_2fa -> Bool,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        failed_logins -> BigInt,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        last_sign_in_at -> Nullable<Timestamp>,
        totp_secret -> Nullable<Binary>,
        totp_key_id -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        org_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        user_agent -> Nullable<Text>,
        client_ip -> Nullable<Text>,
    }
}

diesel::table! {
    recovery_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    pending_sign_ins (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        user_agent -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    git_tokens (id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        name_key -> Text,
        provider -> Text,
        hosting -> Text,
        url -> Nullable<Text>,
        workspace -> Nullable<Text>,
        description -> Nullable<Text>,
        secret -> Binary,
        key_id -> Text,
        hint -> Text,
        status -> Text,
        last_tested_at -> Nullable<Timestamp>,
        account -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        expiry_source -> Nullable<Text>,
        last_test -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_by -> Nullable<Text>,
        updated_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        username -> Nullable<Text>,
        identity_key -> Nullable<Text>,
        version -> BigInt,
        previous_hint -> Nullable<Text>,
        previous_kind -> Nullable<Text>,
    }
}

diesel::table! {
    services (id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        kind -> Text,
        provider -> Text,
        access -> Text,
        token_id -> Nullable<Text>,
        repository -> Text,
        branch -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        name_key -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        org_id -> Nullable<Text>,
        actor_user_id -> Nullable<Text>,
        actor_email -> Nullable<Text>,
        action -> Text,
        token_id -> Nullable<Text>,
        token_name -> Nullable<Text>,
        details -> Text,
        created_at -> Timestamp,
        client_ip -> Nullable<Text>,
    }
}

diesel::table! {
    token_status_history (id) {
        id -> Text,
        token_id -> Text,
        org_id -> Text,
        status -> Text,
        tested_at -> Timestamp,
        reason -> Nullable<Text>,
        source -> Text,
    }
}

diesel::table! {
    scheduler_leases (name) {
        name -> Text,
        holder -> Nullable<Text>,
        expires_at -> Timestamp,
        last_started_at -> Nullable<Timestamp>,
        last_finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_settings (org_id) {
        org_id -> Text,
        webhook_secret -> Nullable<Binary>,
        webhook_key_id -> Nullable<Text>,
        webhook_url_hint -> Text,
        legacy_webhook_url -> Nullable<Text>,
        updated_by -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    master_keys (id) {
        id -> Text,
        state -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_deliveries (id) {
        id -> Text,
        org_id -> Text,
        token_id -> Nullable<Text>,
        kind -> Text,
        dedup_key -> Text,
        message -> Text,
        state -> Text,
        attempts -> BigInt,
        last_error -> Nullable<Text>,
        next_attempt_at -> Timestamp,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invites (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        used_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        role -> Text,
        key_hash -> Text,
        hint -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttles (key) {
        key -> Text,
        attempts -> BigInt,
        window_start -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    known_devices (id_hash, user_id) {
        id_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
    }
}

diesel::table! {
    setup_lock (id) {
        id -> Text,
    }
}

diesel::joinable!(memberships -> organizations (org_id));
diesel::joinable!(invites -> organizations (org_id));
diesel::joinable!(api_keys -> organizations (org_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(git_tokens -> organizations (org_id));
diesel::joinable!(services -> git_tokens (token_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    users,
    memberships,
    sessions,
    git_tokens,
    services,
    audit_events,
    token_status_history,
    scheduler_leases,
    notification_settings,
    notification_deliveries,
    login_throttles,
    known_devices,
    master_keys,
    invites,
    api_keys,
    password_resets,
    recovery_codes,
    pending_sign_ins,
);
