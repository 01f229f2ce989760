//! The actix app in process (`actix_web::test`), for routes that need no model: the public log
//! routes, verify, errors as JSON, and the token wall. Fast, and no port or binary involved.

use actix_web::{test, web, App};
use liveproof::server::{routes, Config, State};
use liveproof_verify::note::{self, Note};
use serde_json::Value;

fn app_state(dir: &std::path::Path) -> web::Data<State> {
    liveproof::store::Store::open(dir).unwrap();
    web::Data::new(State::new(Config::new(dir)))
}

#[actix_web::test]
async fn public_routes_answer_in_process_and_errors_are_json() {
    let d = tempfile::tempdir().unwrap();
    let state = app_state(d.path());
    let app = test::init_service(
        App::new()
            .app_data(state.clone())
            .configure(routes::configure),
    )
    .await;

    let get = |uri: &str| test::TestRequest::get().uri(uri).to_request();
    let r = test::call_service(&app, get("/api/health")).await;
    assert_eq!(r.status(), 200);

    // The empty log's checkpoint: size 0, the empty tree's root, signed by the archive key.
    let body = test::call_and_read_body(&app, get("/api/log/checkpoint")).await;
    let n = Note::parse(std::str::from_utf8(&body).unwrap()).unwrap();
    let (origin, size, root) = n.checkpoint().unwrap();
    assert_eq!(size, 0);
    assert_eq!(root, liveproof::seal::merkle::root(&[]));
    let key = liveproof::seal::keys::load_or_create(d.path()).unwrap();
    let pk = key.verifying_key().to_bytes();
    assert_eq!(origin, note::origin(&pk));
    assert!(n.signed_by(&origin, &pk));

    // No such heads: 404, as JSON.
    let r = test::call_service(&app, get("/api/log/consistency?old=1&new=2")).await;
    assert_eq!(r.status(), 404);
    let v: Value = test::read_body_json(r).await;
    assert_eq!(v["error"]["status"], 404);
    // Not a note: 400, naming the problem.
    let r = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/log/cosignatures")
            .set_payload("hello")
            .to_request(),
    )
    .await;
    assert_eq!(r.status(), 400);
    let v: Value = test::read_body_json(r).await;
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("signed note"),
        "{v}"
    );
    // A cosignature of a head this log does not have is refused too.
    let w = ed25519_dalek::SigningKey::from_bytes(&[2u8; 32]);
    let mut forged = n.clone();
    forged
        .signatures
        .push(note::cosign(&n.body, "w.example/1", &w, 1));
    let r = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/log/cosignatures")
            .set_payload(forged.text())
            .to_request(),
    )
    .await;
    assert_eq!(r.status(), 400);

    // Verify is public: garbage is a verdict, not an error.
    let r = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/verify")
            .set_payload("not a zip")
            .to_request(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = test::read_body_json(r).await;
    assert_eq!(
        (v["ok"].as_bool(), v["status"].as_str()),
        (Some(false), Some("not_verified"))
    );
    // A key to pin that is not a key is a 400.
    let r = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/verify?key=nope")
            .set_payload("PK")
            .to_request(),
    )
    .await;
    assert_eq!(r.status(), 400);

    // Everything else needs a token.
    let r = test::call_service(&app, get("/api/sessions")).await;
    assert_eq!(r.status(), 401);
    let v: Value = test::read_body_json(r).await;
    assert_eq!(v["error"]["status"], 401);
}

/// Search and the token routes in process: one request type for the query string (repeated
/// keys included), its refusals as JSON 400s, and every route in the table registered.
#[actix_web::test]
async fn search_parameters_and_the_route_table_in_process() {
    let d = tempfile::tempdir().unwrap();
    let state = app_state(d.path());
    let store = liveproof::store::Store::open(d.path()).unwrap();
    let token = liveproof::access::create(
        &store,
        liveproof::access::Role::Auditor,
        None,
        "2026-11-26T00:00:00Z",
        None,
    )
    .unwrap()
    .token;
    let app = test::init_service(
        App::new()
            .app_data(state.clone())
            .configure(liveproof::server::configure),
    )
    .await;
    let get = |uri: &str| {
        test::TestRequest::get()
            .uri(uri)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request()
    };

    let r = test::call_service(
        &app,
        get("/api/search?q=%E6%9C%80%E5%A5%BD&flag=absolute_terms&flag=pressure&tag=x&sort=time"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = test::read_body_json(r).await;
    assert_eq!(v["total"], 0);

    for (uri, says) in [
        ("/api/search?q=x&since=last-tuesday", "last-tuesday"),
        ("/api/search?q=x&offset=99999999999", "offset"),
        ("/api/search?q=x&limit=0", "limit"),
        ("/api/search?limit=3", "q"),
        ("/api/search?q=%22unclosed", "bad query"),
    ] {
        let r = test::call_service(&app, get(uri)).await;
        assert_eq!(r.status(), 400, "{uri}");
        let v: Value = test::read_body_json(r).await;
        let msg = v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(msg.to_lowercase().contains(says), "{uri}: {msg}");
    }

    // Every route of the table is registered: never the fallback's "no route" 404.
    for (method, path) in routes::ROUTES.iter().chain(routes::PAGES.iter()) {
        let uri = path.replace("{id}", "1");
        let req = if *method == "get" {
            get(&uri)
        } else {
            test::TestRequest::post()
                .uri(&uri)
                .insert_header(("Authorization", format!("Bearer {token}")))
                .to_request()
        };
        let r = test::call_service(&app, req).await;
        if r.status() == 404 {
            let v: Value = test::read_body_json(r).await;
            let msg = v["error"]["message"].as_str().unwrap_or_default();
            assert!(
                !msg.contains("such path"),
                "{method} {path} is not registered: {msg}"
            );
        }
    }
    // A path the table does not have: 404; a known path with another method: 405.
    let r = test::call_service(&app, get("/api/nothing")).await;
    assert_eq!(r.status(), 404);
    let r = test::call_service(
        &app,
        test::TestRequest::delete().uri("/api/search").to_request(),
    )
    .await;
    assert_eq!(r.status(), 405);
}
