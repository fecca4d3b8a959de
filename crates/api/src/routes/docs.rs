//! `/docs`: the API reference rendered by a vendored Swagger UI, so it works offline.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

const BUNDLE_JS_GZ: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js.gz");
const CSS_GZ: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css.gz");

const INDEX: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Clientele API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
  </script>
</body>
</html>
"##;

async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(INDEX)
}

/// The assets are stored gzip-compressed; every browser accepts that encoding.
fn gzipped(content_type: &'static str, body: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_ENCODING, "gzip"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body)
}

async fn bundle() -> HttpResponse {
    gzipped("application/javascript; charset=utf-8", BUNDLE_JS_GZ)
}

async fn css() -> HttpResponse {
    gzipped("text/css; charset=utf-8", CSS_GZ)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/docs", web::get().to(index))
        .route("/docs/", web::get().to(index))
        .route("/docs/swagger-ui-bundle.js", web::get().to(bundle))
        .route("/docs/swagger-ui.css", web::get().to(css));
}
