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

diesel::allow_tables_to_appear_in_same_query!(customers, events);
