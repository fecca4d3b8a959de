//! Reusable OpenAPI descriptions of problem responses.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

use crate::problem::PROBLEM_JSON;

fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

macro_rules! problem_set {
    ($(#[$doc:meta])* $name:ident { $($code:literal => $desc:literal),* $(,)? }) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                let mut map = BTreeMap::new();
                $( map.insert($code.to_string(), problem($desc)); )*
                map
            }
        }
    };
}

problem_set!(
    /// Errors of a read by id.
    ReadErrors {
        "400" => "A path or query parameter is malformed",
        "404" => "No such object (or it belongs to another tenant)",
        "503" => "The database is unavailable",
    }
);

problem_set!(
    /// Errors of a list.
    ListErrors {
        "422" => "A query parameter is invalid; the field is named",
        "503" => "The database is unavailable",
    }
);

problem_set!(
    /// Errors of a create.
    CreateErrors {
        "400" => "The body is not valid JSON",
        "409" => "Conflicts with existing data (for example a taken email)",
        "413" => "The body is too large",
        "415" => "The body is not JSON",
        "422" => "A field is invalid; every invalid field is named",
        "503" => "The database is unavailable",
    }
);

problem_set!(
    /// Errors of an update of an existing object.
    UpdateErrors {
        "400" => "The body is not valid JSON, or a path id or If-Match is malformed",
        "404" => "No such object (or it belongs to another tenant)",
        "409" => "Conflicts with existing data",
        "412" => "If-Match names a version that is no longer current",
        "413" => "The body is too large",
        "415" => "The body is not JSON",
        "422" => "A field is invalid; every invalid field is named",
        "503" => "The database is unavailable",
    }
);

problem_set!(
    /// Errors of a lifecycle action.
    TransitionErrors {
        "400" => "The body is not valid JSON, or the path id is malformed",
        "404" => "No such object (or it belongs to another tenant)",
        "409" => "The current status does not allow this action; the allowed actions are named",
        "415" => "The body is not JSON",
        "422" => "A field is invalid",
        "503" => "The database is unavailable",
    }
);

problem_set!(
    /// Errors of any authenticated route.
    AuthErrors {
        "401" => "Missing, expired, malformed or revoked credentials",
        "403" => "Not allowed: role too weak, or the tenant is suspended or closed",
        "503" => "The database is unavailable",
    }
);

problem_set!(
    /// Errors of signing in.
    LoginErrors {
        "400" => "The body is not valid JSON",
        "401" => "Wrong credentials (the same answer for unknown accounts)",
        "403" => "The customer account is suspended or closed",
        "415" => "The body is not JSON",
        "422" => "A field is invalid",
        "429" => "Too many failed attempts; see Retry-After",
        "503" => "The database is unavailable",
    }
);
