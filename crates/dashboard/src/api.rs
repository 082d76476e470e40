//! The dashboard's handlers: the page and its script, the tutorial's receiver routes, the
//! JSON API and the server-sent events. Errors are `{"error": "..."}` with a status, except on
//! the tutorial's routes, which answer as its Flask app does (`success` / `error`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use futures::Stream;

use super::pylist::{PyValue, parse_list};
use super::{DashboardState, TopList};

const PAGE: &str = include_str!("../../../dashboard/index.html");
const CHART_JS: &str = include_str!("../../../dashboard/vendor/chart.umd.min.js");

pub(super) fn routes(state: DashboardState) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/assets/chart.umd.min.js", get(chart_js))
        .route("/update_data", post(update_data))
        .route("/test", get(|| async { "success" }))
        .route("/api/top", get(top))
        .route("/api/queries", get(queries))
        .route("/api/queries/{id}", get(query))
        .route("/api/events", get(events))
        .with_state(state)
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn chart_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        CHART_JS,
    )
        .into_response()
}

/// The tutorial's receiver: `tag` and `tag_count` are Python list literals of equal length.
/// A malformed post is refused with 400 and the current data stays.
async fn update_data(
    State(state): State<DashboardState>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> (StatusCode, &'static str) {
    let fields = match form {
        Ok(Form(fields)) => fields,
        // Too large stays 413; anything else unreadable is the tutorial's 400.
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "error");
        }
        Err(_) => return (StatusCode::BAD_REQUEST, "error"),
    };
    let (Some(tags), Some(counts)) = (fields.get("tag"), fields.get("tag_count")) else {
        return (StatusCode::BAD_REQUEST, "error");
    };
    match to_top(tags, counts) {
        Ok(top) => {
            state.set_top(top);
            (StatusCode::CREATED, "success")
        }
        Err(e) => {
            tracing::warn!("dashboard: refused a POST /update_data: {e}");
            (StatusCode::BAD_REQUEST, "error")
        }
    }
}

fn to_top(tags: &str, counts: &str) -> Result<TopList, String> {
    let tags = parse_list(tags).map_err(|e| format!("tag: {e}"))?;
    let counts = parse_list(counts).map_err(|e| format!("tag_count: {e}"))?;
    if tags.len() != counts.len() {
        return Err(format!("{} tags but {} counts", tags.len(), counts.len()));
    }
    let counts = counts
        .iter()
        .map(|c| {
            c.number()
                .ok_or_else(|| format!("tag_count: {} is not a number", c.label()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TopList {
        tags: tags.iter().map(PyValue::label).collect(),
        counts,
    })
}

async fn top(State(state): State<DashboardState>) -> Json<TopList> {
    Json(state.top())
}

async fn queries(State(state): State<DashboardState>) -> Json<Vec<super::QueryView>> {
    Json(state.queries())
}

async fn query(State(state): State<DashboardState>, Path(id): Path<String>) -> Response {
    match state.query(&id) {
        Some(view) => Json(view).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({
                "error": format!("no query with id '{id}'; GET /api/queries lists them")
            })),
        )
            .into_response(),
    }
}

/// Server-sent events: `top` with the top list, `progress` with a query's status and recent
/// progress, each as JSON; the current top list and queries first, so a page opened late
/// shows everything at once.
async fn events(
    State(state): State<DashboardState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = state.subscribe();
    let closed = state.closed();
    let mut current = vec![Ok(SseEvent::default()
        .event("top")
        .data(serde_json::to_string(&state.top()).unwrap_or_default()))];
    current.extend(state.queries().iter().map(|q| {
        Ok(SseEvent::default()
            .event("progress")
            .data(serde_json::to_string(q).unwrap_or_default()))
    }));
    let updates = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    return Some((
                        Ok(SseEvent::default().event(event.name).data(event.data)),
                        rx,
                    ));
                }
                // A slow page missed some events: the next ones carry the full state.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    // The stream (and so the connection) ends when the dashboard closes, so that an open
    // page never holds up the server's shutdown.
    let stream = futures::StreamExt::take_until(
        futures::StreamExt::chain(futures::stream::iter(current), updates),
        closed,
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    async fn call(state: &DashboardState, request: Request<Body>) -> (StatusCode, String) {
        let response = super::super::router(state.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    fn post(body: &str) -> Request<Body> {
        Request::post("/update_data")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    #[tokio::test]
    async fn the_tutorials_post_updates_the_top_list() {
        let state = DashboardState::new();
        // Exactly what kindling's http hook (and the tutorial's PySpark function) sends.
        let body = "tag=%5B%27%23spark%27%2C+%22%23it%27s%22%5D&tag_count=%5B%273%27%2C+%271%27%5D";
        assert_eq!(
            call(&state, post(body)).await,
            (StatusCode::CREATED, "success".into())
        );
        let (status, json) = call(
            &state,
            Request::get("/api/top").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json, r##"{"tags":["#spark","#it's"],"counts":[3.0,1.0]}"##);
    }

    #[tokio::test]
    async fn malformed_posts_are_refused_and_the_data_stays() {
        let state = DashboardState::new();
        call(&state, post("tag=%5B%27%23a%27%5D&tag_count=%5B2%5D")).await;
        for bad in [
            "tag=%5B%27%23a%27%5D", // no tag_count
            "tag=%5B%27%23a%27%5D&tag_count=%5B__import__%28%27os%27%29%5D", // code
            "tag=%5B%27%23a%27%5D&tag_count=%5B%27x%27%5D", // not a number
            "tag=%5B%27%23a%27%2C%27b%27%5D&tag_count=%5B1%5D", // lengths differ
            "tag=%5B&tag_count=%5B1%5D", // not a list
            "",
        ] {
            assert_eq!(
                call(&state, post(bad)).await,
                (StatusCode::BAD_REQUEST, "error".into()),
                "{bad}"
            );
        }
        assert_eq!(state.top().tags, ["#a"]);
        let big = format!("tag={}", "x".repeat(100_000));
        assert_eq!(
            call(&state, post(&big)).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }

    #[tokio::test]
    async fn page_liveness_and_query_routes_answer() {
        let state = DashboardState::new();
        let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
        let (status, page) = call(&state, get("/")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("/assets/chart.umd.min.js") && page.contains("/api/events"));
        let (status, js) = call(&state, get("/assets/chart.umd.min.js")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(js.contains("Chart.js"));
        assert_eq!(
            call(&state, get("/test")).await,
            (StatusCode::OK, "success".into())
        );
        assert_eq!(
            call(&state, get("/api/queries")).await,
            (StatusCode::OK, "[]".into())
        );
        let (status, err) = call(&state, get("/api/queries/nope")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(err.contains("no query with id 'nope'"));
    }

    #[tokio::test]
    async fn events_start_with_the_current_top_list() {
        let state = DashboardState::new();
        state.set_top(TopList {
            tags: vec!["#a".into()],
            counts: vec![1.0],
        });
        let response = super::super::router(state.clone())
            .oneshot(Request::get("/api/events").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        let mut body = response.into_body().into_data_stream();
        let first = futures::StreamExt::next(&mut body).await.unwrap().unwrap();
        assert_eq!(
            String::from_utf8(first.to_vec()).unwrap(),
            "event: top\ndata: {\"tags\":[\"#a\"],\"counts\":[1.0]}\n\n"
        );
        state.set_top(TopList {
            tags: vec!["#b".into()],
            counts: vec![2.0],
        });
        let next = futures::StreamExt::next(&mut body).await.unwrap().unwrap();
        assert!(String::from_utf8(next.to_vec()).unwrap().contains("#b"));
    }
}
