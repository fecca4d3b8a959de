//! Table definitions shared by both backends (the migrations must match).

diesel::table! {
    customers (id) {
        id -> Text,
        name -> Text,
        email -> Text,
        status -> Text,
        settings -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        status_changed_at -> Timestamp,
        version -> BigInt,
        settings_locks -> Text,
    }
}

diesel::table! {
    events (seq) {
        seq -> BigInt,
        id -> Text,
        tx_id -> BigInt,
        event_type -> Text,
        customer_id -> Text,
        project_id -> Nullable<Text>,
        subject_id -> Text,
        payload -> Text,
        actor -> Nullable<Text>,
        request_id -> Nullable<Text>,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    billing_accounts (id) {
        id -> Text,
        customer_id -> Text,
        name -> Text,
        billing_email -> Text,
        currency -> Text,
        billing_cycle -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    projects (id) {
        id -> Text,
        customer_id -> Text,
        billing_account_id -> Text,
        slug -> Text,
        name -> Text,
        status -> Text,
        settings -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        customer_id -> Nullable<Text>,
        email -> Text,
        name -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        token_version -> BigInt,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    project_members (project_id, user_id) {
        project_id -> Text,
        user_id -> Text,
        customer_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        customer_id -> Nullable<Text>,
        project_id -> Nullable<Text>,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        scopes -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    channels (id) {
        id -> Text,
        customer_id -> Text,
        project_id -> Text,
        kind -> Text,
        name -> Text,
        settings -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(users -> customers (customer_id));
diesel::allow_tables_to_appear_in_same_query!(
    customers,
    events,
    billing_accounts,
    projects,
    users,
    project_members,
    refresh_tokens,
    api_keys,
    channels,
);

diesel::table! {
    webhooks (id) {
        id -> Text,
        customer_id -> Text,
        url -> Text,
        event_types -> Text,
        secret -> Text,
        description -> Nullable<Text>,
        enabled -> Bool,
        cursor_tx -> BigInt,
        cursor_seq -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        customer_id -> Text,
        event_id -> Text,
        event_tx -> BigInt,
        event_seq -> BigInt,
        event_type -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhooks -> customers (customer_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries);
diesel::allow_tables_to_appear_in_same_query!(webhooks, customers);
