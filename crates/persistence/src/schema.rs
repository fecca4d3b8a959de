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

diesel::table! {
    companies (id) {
        id -> Text,
        customer_id -> Text,
        project_id -> Text,
        name -> Text,
        name_key -> Text,
        domain -> Nullable<Text>,
        tax_id -> Nullable<Text>,
        industry -> Nullable<Text>,
        size -> Nullable<Text>,
        parent_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        /// SQLite only (migration 000012): the table's key, the id folded by
        /// `contacts::row_key`. PostgreSQL has no such column; no statement of its uses it.
        row_key -> Nullable<BigInt>,
        customer_id -> Text,
        project_id -> Text,
        kind -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        display_name -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        first_name_key -> Text,
        last_name_key -> Text,
        phone_digits -> Text,
        stage -> Text,
        status -> Text,
        tier -> Text,
        customer_type -> Text,
        source -> Nullable<Text>,
        assigned_to -> Nullable<Text>,
        tags -> Text,
        marketing_opt_in -> Bool,
        company_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        custom_attributes -> Text,
        total_orders -> BigInt,
        total_spent -> BigInt,
        average_order_value -> BigInt,
        lifetime_value -> BigInt,
        currency -> Nullable<Text>,
        first_order_at -> Nullable<Timestamp>,
        last_order_at -> Nullable<Timestamp>,
        last_order_key -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        churned_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    contact_tags (project_id, tag, contact_id) {
        project_id -> Text,
        tag -> Text,
        contact_id -> Text,
    }
}

diesel::table! {
    contact_addresses (id) {
        id -> Text,
        customer_id -> Text,
        project_id -> Text,
        contact_id -> Text,
        address_type -> Text,
        is_default -> Bool,
        is_verified -> Bool,
        address_line1 -> Text,
        address_line2 -> Nullable<Text>,
        city -> Text,
        state -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        country -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    contact_notes (id) {
        id -> Text,
        customer_id -> Text,
        project_id -> Text,
        contact_id -> Text,
        note -> Text,
        author -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    contact_interactions (id) {
        id -> Text,
        customer_id -> Text,
        project_id -> Text,
        contact_id -> Text,
        channel -> Text,
        direction -> Text,
        subject -> Nullable<Text>,
        body -> Nullable<Text>,
        occurred_at -> Timestamp,
        author -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contact_payment_methods (id) {
        id -> Text,
        customer_id -> Text,
        project_id -> Text,
        contact_id -> Text,
        provider -> Text,
        token -> Text,
        brand -> Nullable<Text>,
        last4 -> Nullable<Text>,
        exp_month -> Nullable<Integer>,
        exp_year -> Nullable<Integer>,
        is_default -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contact_orders (project_id, order_id) {
        project_id -> Text,
        order_id -> Text,
        customer_id -> Text,
        contact_id -> Text,
        amount -> BigInt,
        currency -> Text,
        ordered_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (customer_id, idempotency_key) {
        customer_id -> Text,
        idempotency_key -> Text,
        request_path -> Text,
        fingerprint -> Text,
        resource_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    companies,
    contacts,
    contact_tags,
    contact_addresses,
    contact_notes,
    contact_interactions,
    contact_payment_methods,
    contact_orders,
);

// A contact read joins its project: the gate and the row in one query.
diesel::allow_tables_to_appear_in_same_query!(projects, contacts);
