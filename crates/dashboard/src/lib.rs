//! The live dashboard (axum): the page (`dashboard/index.html` and the vendored Chart.js,
//! embedded at build time), the tutorial's `POST /update_data` receiver, and JSON + server-sent
//! events for the top list and the queries' progress. [`router`] is the whole HTTP surface;
//! [`DashboardState`] is what queries and receivers write to; [`DashboardServer`] binds, runs
//! and stops it.

mod api;
pub mod hook;
pub mod pylist;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use kindling_core::error::{Error, Result};
use kindling_engine::{QueryProgress, QueryStatus, QueryWatch};

/// The default address: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8050";

/// The largest request body accepted (the tutorial's top-10 form is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;

/// How long a stopping server waits for its requests in flight before it drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// The current top list, as the page draws it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TopList {
    /// Labels, largest first.
    pub tags: Vec<String>,
    /// Bar lengths, one per label.
    pub counts: Vec<f64>,
}

/// One query the dashboard shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryView {
    /// The query id.
    pub id: String,
    /// The query name.
    pub name: String,
    /// Its status; `message` says `Terminated with exception: ...` when it failed.
    pub status: QueryStatus,
    /// Its recent progress, oldest first.
    pub recent_progress: Vec<QueryProgress>,
}

/// What the dashboard shows, shared by the server, the receivers and the queries it watches.
#[derive(Clone)]
pub struct DashboardState {
    inner: Arc<Inner>,
}

struct Inner {
    top: RwLock<TopList>,
    queries: RwLock<BTreeMap<String, QueryWatch>>,
    events: broadcast::Sender<Event>,
    /// True once the dashboard is closing: event streams and query watchers end.
    closed: watch::Sender<bool>,
}

/// One server-sent event: its name (`top`, `progress`) and JSON data.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub name: &'static str,
    pub data: String,
}

impl Default for DashboardState {
    fn default() -> Self {
        Self::new()
    }
}

impl DashboardState {
    /// An empty dashboard.
    pub fn new() -> Self {
        DashboardState {
            inner: Arc::new(Inner {
                top: RwLock::new(TopList::default()),
                queries: RwLock::new(BTreeMap::new()),
                events: broadcast::channel(256).0,
                closed: watch::Sender::new(false),
            }),
        }
    }

    /// The current top list.
    pub fn top(&self) -> TopList {
        self.inner.top.read().map(|t| t.clone()).unwrap_or_default()
    }

    /// Replaces the top list and pushes it to every open page.
    pub fn set_top(&self, top: TopList) {
        let data = serde_json::to_string(&top).unwrap_or_default();
        if let Ok(mut t) = self.inner.top.write() {
            *t = top;
        }
        let _ = self.inner.events.send(Event { name: "top", data });
    }

    /// Shows `query` on the page: its status and progress are pushed after every batch, and
    /// once more when it ends.
    pub fn watch_query(&self, query: QueryWatch) -> tokio::task::JoinHandle<()> {
        if let Ok(mut q) = self.inner.queries.write() {
            q.insert(query.id().to_string(), query.clone());
        }
        let state = self.clone();
        // The watcher ends when the query ends or the dashboard closes.
        #[expect(clippy::disallowed_methods)]
        tokio::spawn(async move {
            // After each batch, and every second for status changes between batches.
            let closed = state.closed();
            tokio::pin!(closed);
            loop {
                let seen = query.batches_committed();
                let next =
                    tokio::time::timeout(Duration::from_secs(1), query.wait_for_batches(seen + 1));
                tokio::select! {
                    _ = next => {}
                    _ = &mut closed => return,
                }
                state.push_query(&query);
                if !query.is_active() {
                    return;
                }
            }
        })
    }

    /// Ends every event stream and query watcher (the server is shutting down).
    pub fn close(&self) {
        self.inner.closed.send_replace(true);
    }

    /// Resolves once [`DashboardState::close`] has been called.
    fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static + use<> {
        let mut rx = self.inner.closed.subscribe();
        async move {
            let _ = rx.wait_for(|closed| *closed).await;
        }
    }

    fn push_query(&self, query: &QueryWatch) {
        let view = view(query);
        if let Ok(data) = serde_json::to_string(&view) {
            let _ = self.inner.events.send(Event {
                name: "progress",
                data,
            });
        }
    }

    fn queries(&self) -> Vec<QueryView> {
        self.inner
            .queries
            .read()
            .map(|q| q.values().map(view).collect())
            .unwrap_or_default()
    }

    fn query(&self, id: &str) -> Option<QueryView> {
        self.inner
            .queries
            .read()
            .ok()
            .and_then(|q| q.get(id).map(view))
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }
}

fn view(query: &QueryWatch) -> QueryView {
    QueryView {
        id: query.id().to_string(),
        name: query.name().to_string(),
        status: query.status(),
        recent_progress: query.recent_progress(),
    }
}

/// The dashboard's routes: `GET /` (the page), `GET /assets/chart.umd.min.js`,
/// `POST /update_data` and `GET /test` (the tutorial's app), `GET /api/top`,
/// `GET /api/queries`, `GET /api/queries/{id}` and `GET /api/events` (server-sent events).
pub fn router(state: DashboardState) -> Router {
    api::routes(state).layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
}

/// A running dashboard server. [`DashboardServer::stop`] closes the page's event streams and
/// waits a bounded time for requests in flight; dropping it closes the streams too.
#[derive(Debug)]
pub struct DashboardServer {
    addr: SocketAddr,
    state: DashboardState,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for DashboardState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardState").finish_non_exhaustive()
    }
}

impl DashboardServer {
    /// Binds `addr` (port 0 picks a free one) and serves `state` until stopped.
    pub async fn start(addr: &str, state: DashboardState) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            Error::Usage(format!(
                "cannot listen on '{addr}': {e}; pick another address with --bind (e.g. 127.0.0.1:8051)"
            ))
        })?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io(format!("reading the address of '{addr}'"), e))?;
        let app = router(state.clone());
        let shutdown = state.closed();
        // The server ends when the state closes, which `stop` and `drop` do.
        #[expect(clippy::disallowed_methods)]
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!("dashboard server failed: {e}");
            }
        });
        Ok(DashboardServer {
            addr: local,
            state,
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving: open pages' event streams end at once; requests in flight get
    /// [`SHUTDOWN_GRACE`] to finish, then are dropped.
    pub async fn stop(mut self) {
        self.state.close();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            tracing::warn!(
                "the dashboard's requests in flight did not end within {} ms; dropping them",
                SHUTDOWN_GRACE.as_millis()
            );
            task.abort();
        }
    }
}

impl Drop for DashboardServer {
    fn drop(&mut self) {
        self.state.close();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
