//! Requests in flight, for a graceful stop: every request holds a [`Guard`] from the moment it
//! enters the outermost middleware until its response body has been written out (the guard
//! rides in the body), so a stop can wait for them before closing connections. actix-server's
//! own graceful stop was seen, under load, to close a connection whose request was still being
//! handled; counting ourselves does not depend on it.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::web::Bytes;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct InFlight {
    inner: Arc<(AtomicUsize, Notify)>,
}

/// One request in flight; dropping it ends it.
pub struct Guard(InFlight);

impl Drop for Guard {
    fn drop(&mut self) {
        let (n, notify) = &*self.0.inner;
        if n.fetch_sub(1, Ordering::SeqCst) == 1 {
            notify.notify_waiters();
        }
    }
}

impl InFlight {
    pub fn enter(&self) -> Guard {
        self.inner.0.fetch_add(1, Ordering::SeqCst);
        Guard(self.clone())
    }

    pub fn count(&self) -> usize {
        self.inner.0.load(Ordering::SeqCst)
    }

    /// Waits until no request is in flight, at most `grace`; false if some still were.
    pub async fn drained(&self, grace: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.inner.1.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.count() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(grace, wait).await.is_ok()
    }
}

/// A response body that keeps its request's [`Guard`] until it is written out or dropped.
pub struct Tracked {
    body: BoxBody,
    _guard: Option<Guard>,
}

impl Tracked {
    pub fn new(body: BoxBody, guard: Option<Guard>) -> Tracked {
        Tracked {
            body,
            _guard: guard,
        }
    }
}

impl MessageBody for Tracked {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}
